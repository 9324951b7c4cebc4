"""The Django adapter with real Django, on PostgreSQL and MariaDB (through PyMySQL).

The fixture project ``django_shop`` has two apps: ``orders.0002`` adds ``priority`` again (the
column exists since ``orders.0001``), ``orders.0003`` references a table no migration creates.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect as sa_inspect

from dbmedic.connect import Database
from dbmedic.errors import ConfigError, FrameworkError
from dbmedic.frameworks import detect_framework
from dbmedic.frameworks.django import Django
from dbmedic.frameworks.process import parse_traceback
from dbmedic.model import MigrationState

pytestmark = pytest.mark.backend("postgresql", "mariadb")

BEFORE = (
    "catalog.0001_initial",
    "catalog.0002_product_sku",
    "contenttypes.0001_initial",
    "contenttypes.0002_remove_content_type_name",
    "orders.0001_initial",
)
DUPLICATE = "orders.0002_order_note_priority"
MISSING_TABLE = "orders.0003_shipment"
LAST = "orders.0004_order_status"
ERRORS = {
    "mariadb": ("Duplicate column name 'priority'", "Foreign key constraint is incorrectly formed"),
    "postgresql": (
        'column "priority" of relation "orders_order" already exists',
        'relation "legacy_warehouse" does not exist',
    ),
}


@pytest.fixture
def project(copy_fixture: Callable[[str], Path]) -> Path:
    return copy_fixture("django_shop")


def order_columns(db: Database) -> set[str]:
    with db.connect() as conn:
        return {c["name"] for c in sa_inspect(conn).get_columns("orders_order")}


def test_two_failures_mid_run_match_showmigrations(
    backend: str, project: Path, secret_db: Database, no_secret: Callable[..., None]
) -> None:
    db = secret_db
    fw = detect_framework(project)
    assert isinstance(fw, Django)
    seen: list[str] = []

    first = fw.migrate(db, project, progress=lambda done, total, mid: seen.append(mid))

    assert (first.ok, first.applied, first.failed) == (False, BEFORE, DUPLICATE)
    assert first.error is not None and ERRORS[backend][0] in first.error
    assert seen == list(BEFORE)
    expected = dict.fromkeys(BEFORE, True) | dict.fromkeys((DUPLICATE, MISSING_TABLE, LAST), False)
    read = fw.read(db, project)
    assert [m.id for m in read] == list(expected)
    assert {m.id: m.state is MigrationState.APPLIED for m in read} == expected
    assert fw.framework_status(db, project) == expected
    assert read[0].file == "catalog/migrations/0001_initial.py" and read[0].applied_at
    # MariaDB commits each ALTER: 0002's first column stayed; PostgreSQL rolled 0002 back.
    assert ("note" in order_columns(db)) == (backend == "mariadb")

    sql = fw.pending_sql(db, project)
    assert list(sql) == [DUPLICATE, MISSING_TABLE, LAST]
    assert any("priority" in s and "ADD COLUMN" in s for s in sql[DUPLICATE])
    assert any("legacy_warehouse" in s for s in sql[MISSING_TABLE])

    # "Fix" 0002 (its effect exists, or is made to exist) and go on: 0003 fails next.
    if backend == "postgresql":
        with db.engine.begin() as conn:
            conn.exec_driver_sql("ALTER TABLE orders_order ADD COLUMN note text NULL")
    fw.mark_applied(db, project, [DUPLICATE])
    second = fw.migrate(db, project)
    assert (second.ok, second.applied, second.failed) == (False, (), MISSING_TABLE)
    assert second.error is not None and ERRORS[backend][1] in second.error
    expected[DUPLICATE] = True
    assert {m.id: m.state is MigrationState.APPLIED for m in fw.read(db, project)} == expected
    assert fw.framework_status(db, project) == expected

    no_secret(first.output, first.error, second.output, second.error)


def test_squashed_and_missing_files(
    project: Path, db_url: str, open_db: Callable[[str], Database], backend: str
) -> None:
    db = open_db(db_url)
    fw = Django()
    (project / "orders/migrations/0002_order_note_priority.py").write_text(
        "from django.db import migrations, models\n\n\nclass Migration(migrations.Migration):\n"
        "    dependencies = [('orders', '0001_initial')]\n"
        "    operations = [migrations.AddField('order', 'note', models.TextField(null=True))]\n"
    )
    (project / "orders/migrations/0003_shipment.py").write_text(
        "from django.db import migrations\n\n\nclass Migration(migrations.Migration):\n"
        "    dependencies = [('orders', '0002_order_note_priority')]\n    operations = []\n"
    )
    assert fw.migrate(db, project).ok
    fw.mark_applied(db, project, ["catalog.0002_product_sku"])  # recorded already: no-op
    # squash catalog 0001+0002, and record a migration whose file is gone
    (project / "catalog/migrations/0001_squashed_0002_product_sku.py").write_text(
        "from django.db import migrations\n\n\nclass Migration(migrations.Migration):\n"
        "    replaces = [('catalog', '0001_initial'), ('catalog', '0002_product_sku')]\n"
        "    operations = []\n"
    )
    with db.engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO django_migrations (app, name, applied) VALUES ('orders', '0009_gone', CURRENT_TIMESTAMP)"
        )
    states = {m.id: m.state for m in fw.read(db, project)}
    assert states["catalog.0001_squashed_0002_product_sku"] is MigrationState.APPLIED
    assert "catalog.0001_initial" not in states
    assert states["orders.0009_gone"] is MigrationState.MISSING_FILE
    assert set(states.values()) == {MigrationState.APPLIED, MigrationState.MISSING_FILE}


@pytest.mark.backend("postgresql")
def test_python_error_in_a_migration_names_file_and_line(
    project: Path, db_url: str, open_db: Callable[[str], Database]
) -> None:
    path = project / "catalog/migrations/0002_product_sku.py"
    path.write_text(path.read_text().replace("operations = [", "operations = [[", 1))
    with pytest.raises(FrameworkError) as info:
        Django().read(open_db(db_url), project)
    err = info.value
    assert (err.file, err.line) == ("catalog/migrations/0002_product_sku.py", 6)
    assert str(err).startswith(
        "Django (graph) failed in catalog/migrations/0002_product_sku.py line 6: SyntaxError"
    )
    assert "\n" not in str(err)


@pytest.mark.backend("postgresql")
def test_settings_error_is_one_sentence(
    project: Path, db_url: str, open_db: Callable[[str], Database]
) -> None:
    (project / "shop/settings.py").write_text(
        "INSTALLED_APPS = ['no_such_app']\nSECRET_KEY = 'x'\n"
    )
    db = open_db(db_url)
    with pytest.raises(FrameworkError, match=r"ModuleNotFoundError: No module named 'no_such_app'"):
        Django().migrate(db, project)
    (project / "manage.py").write_text("print('no settings here')\n")
    with pytest.raises(ConfigError, match="cannot find DJANGO_SETTINGS_MODULE"):
        Django().read(db, project)


def test_parse_traceback(tmp_path: Path, backend: Any) -> None:
    text = f"""Traceback (most recent call last):
  File "{tmp_path}/manage.py", line 12, in main
  File "/usr/lib/python3/site-packages/django/db/backends/utils.py", line 103, in _execute
  File "{tmp_path}/orders/migrations/0002_x.py", line 9, in forwards
    raise ValueError("bad")
django.db.utils.ProgrammingError: relation "x" does not exist
"""
    trace = parse_traceback(text, tmp_path)
    assert trace.error == 'ProgrammingError: relation "x" does not exist'
    assert (trace.file, trace.line) == ("orders/migrations/0002_x.py", 9)
