"""``dbmedic status`` through the real entry point, after a real framework failed mid-run.

Each test runs the framework until it fails, then ``dbmedic status --json`` in a subprocess (the
database user has a password, given through ``DBMEDIC_PASSWORD``), and compares every
migration's state with what the framework's own status command says (``php artisan
migrate:status``, ``manage.py showmigrations``, ``alembic current`` with the revision graph).
These frameworks record successes only, so the failed migration reads as pending, first in line:
``first_pending`` and the note say so.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from dbmedic.connect import Database
from dbmedic.frameworks.alembic import Alembic
from dbmedic.frameworks.base import Framework
from dbmedic.frameworks.django import Django
from dbmedic.frameworks.laravel import Laravel
from frameworks.conftest import TEST_PASSWORD
from migration_helpers import run_cli


def _status(app: Path, secret_url: str, *extra: str) -> tuple[int, str, str]:
    """``dbmedic status --app APP --db URL`` with the password in the environment, not argv."""
    url = make_url(secret_url)
    out = run_cli(
        "status",
        "--app",
        str(app),
        "--db",
        url.set(password=None).render_as_string(hide_password=False),
        *extra,
        env={"DBMEDIC_PASSWORD": str(url.password)},
    )
    assert TEST_PASSWORD not in out.stdout + out.stderr
    return out.returncode, out.stdout, out.stderr


def _check(
    fw: Framework, db: Database, app: Path, secret_url: str, framework: str, next_id: str
) -> dict[str, object]:
    """Status agrees with the framework's own command; the first pending one is flagged."""
    code, stdout, stderr = _status(app, secret_url, "--json")
    assert code == 1, stderr
    data = json.loads(stdout)
    assert data["framework"] == framework
    assert TEST_PASSWORD not in data["database"]
    own = fw.framework_status(db, app)
    assert own and {m["id"]: m["state"] == "applied" for m in data["migrations"]} == own
    assert [m["id"] for m in data["migrations"]] == list(own)
    assert data["counts"]["applied"] == sum(own.values())
    assert data["counts"]["pending"] == len(own) - sum(own.values())
    assert data["failed"] is None and data["first_pending"] == next_id
    assert "records only migrations that succeeded" in data["note"]

    code, text, _ = _status(app, secret_url)
    flat = " ".join(text.split())
    assert code == 1 and "pending ← next" in flat
    assert next_id in flat and "records only migrations that succeeded" in flat
    return data  # type: ignore[no-any-return]


@pytest.mark.backend("mariadb")
def test_laravel_status_matches_artisan_migrate_status(
    php: str,
    copy_fixture: Callable[[str], Path],
    secret_url: str,
    open_db: Callable[[str], Database],
) -> None:
    app = copy_fixture("laravel8")
    db = open_db(secret_url)
    fw = Laravel()
    failing = "2025_10_23_162250_add_priority_to_policy_configurations"
    assert fw.migrate(db, app).failed == failing

    data = _check(fw, db, app, secret_url, "laravel", failing)
    assert data["tracking_table"] == "migrations"
    assert {m["batch"] for m in data["migrations"] if m["state"] == "applied"} == {1}  # type: ignore[attr-defined]


@pytest.mark.backend("postgresql")
def test_django_status_matches_showmigrations(
    copy_fixture: Callable[[str], Path],
    secret_url: str,
    open_db: Callable[[str], Database],
) -> None:
    project = copy_fixture("django_shop")
    db = open_db(secret_url)
    fw = Django()
    failing = "orders.0002_order_note_priority"
    # PostgreSQL rolls the failed migration back: it is pending, the ones before are applied
    assert fw.migrate(db, project).failed == failing

    _check(fw, db, project, secret_url, "django", failing)


@pytest.mark.backend("mariadb", "postgresql")
def test_alembic_status_matches_alembic_current(
    backend: str,
    copy_fixture: Callable[[str], Path],
    secret_url: str,
    open_db: Callable[[str], Database],
) -> None:
    project = copy_fixture("alembic_app")
    db = open_db(secret_url)
    fw = Alembic()
    revisions = [r.id for r in fw.graph(project)]
    failing = "3c4d5e6f7a03"
    assert fw.migrate(db, project).failed == failing

    # On PostgreSQL the stock env.py runs the whole upgrade in one transaction: nothing stayed,
    # and the next run starts at the first revision again.
    next_id = revisions[0] if backend == "postgresql" else failing
    _check(fw, db, project, secret_url, "alembic", next_id)
