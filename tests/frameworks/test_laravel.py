"""The Laravel adapter against Debian's Laravel 8, on MariaDB and SQLite.

The fixture app repeats the seed incident: ``create_policy_configurations`` already creates
``priority`` and ``2025_10_23_162250_add_priority_to_policy_configurations`` adds it again.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dbmedic.connect import Database
from dbmedic.errors import ConfigError, FrameworkError
from dbmedic.frameworks import get_framework
from dbmedic.frameworks.laravel import (
    Laravel,
    parse_migrate_output,
    parse_pretend_output,
    parse_status_output,
)
from dbmedic.model import MigrationState

pytestmark = pytest.mark.backend("mariadb", "sqlite")

FIRST_THREE = (
    "2014_10_12_000000_create_users_table",
    "2019_08_19_000000_create_failed_jobs_table",
    "2025_01_10_100000_create_policy_configurations_table",
)
FAILING = "2025_10_23_162250_add_priority_to_policy_configurations"
AFTER = (
    "2025_10_24_090000_create_retell_call_sessions_table",
    "2025_10_25_000000_create_conversation_flows_table",
)
DUPLICATE = {
    "mariadb": "Duplicate column name 'priority'",
    "sqlite": "duplicate column name: priority",
}


@pytest.fixture
def app(php: str, copy_fixture: Callable[[str], Path]) -> Path:
    return copy_fixture("laravel8")


def edit(app: Path, stem: str, old: str, new: str) -> None:
    """Replace the first ``old`` in migration ``stem`` with ``new``."""
    path = app / f"database/migrations/{stem}.php"
    path.write_text(path.read_text().replace(old, new, 1))


def test_failure_mid_run_matches_artisan_status(
    backend: str, app: Path, secret_db: Database, no_secret: Callable[..., None]
) -> None:
    db = secret_db
    fw = get_framework("laravel")
    assert isinstance(fw, Laravel) and fw.detect(app)
    seen: list[tuple[int, int, str]] = []

    result = fw.migrate(db, app, progress=lambda done, total, mid: seen.append((done, total, mid)))

    assert not result.ok
    assert result.applied == FIRST_THREE
    assert result.failed == FAILING
    assert result.error is not None and DUPLICATE[backend] in result.error
    assert result.statement is not None and "priority" in result.statement
    assert "(SQL:" not in result.error
    assert [s[2] for s in seen] == list(FIRST_THREE) and seen[-1][:2] == (3, 6)

    expected = dict.fromkeys(FIRST_THREE, MigrationState.APPLIED)
    expected |= dict.fromkeys((FAILING, *AFTER), MigrationState.PENDING)
    read = fw.read(db, app)
    assert {m.id: m.state for m in read} == expected
    assert [m.id for m in read] == [*FIRST_THREE, FAILING, *AFTER]
    assert {m.batch for m in read if m.state is MigrationState.APPLIED} == {1}
    assert read[0].file == f"database/migrations/{FIRST_THREE[0]}.php"
    # what Laravel itself says
    assert fw.framework_status(db, app) == {
        mid: state is MigrationState.APPLIED for mid, state in expected.items()
    }

    no_secret(result.output, result.error, result.statement)


def test_pending_sql_and_resume_after_marking(
    backend: str, app: Path, db_factory: Any, open_db: Callable[[str], Database]
) -> None:
    db = open_db(db_factory.new("lv"))
    fw = Laravel()
    assert not fw.migrate(db, app).ok

    # The target has its tracking table, so --pretend changes nothing there.
    sql = fw.pending_sql(db, app)
    assert list(sql) == [FAILING, *AFTER]
    assert len(sql[FAILING]) == 1 and "priority" in sql[FAILING][0]
    assert any("create table" in s and "retell_call_sessions" in s for s in sql[AFTER[0]])
    # the anonymous migration class is named by its file
    assert any("conversation_flows" in s for s in sql[AFTER[1]])

    # An empty shadow: every migration is pending.
    shadow = open_db(db_factory.new("shadow"))
    assert list(fw.pending_sql(shadow, app)) == [*FIRST_THREE, FAILING, *AFTER]

    # The column is already there: record the failed migration as applied and run the rest.
    fw.mark_applied(db, app, [FAILING])
    fw.mark_applied(db, app, [FAILING])  # idempotent
    result = fw.migrate(db, app)
    assert result.ok and result.applied == AFTER
    read = {m.id: m for m in fw.read(db, app)}
    assert all(m.state is MigrationState.APPLIED for m in read.values())
    assert (read[FAILING].batch, read[AFTER[0]].batch) == (2, 3)
    assert fw.framework_status(db, app) == dict.fromkeys(read, True)
    assert fw.migrate(db, app).applied == ()


def test_missing_file_is_reported(
    app: Path, db_url: str, open_db: Callable[[str], Database]
) -> None:
    db = open_db(db_url)
    fw = Laravel()
    fw.migrate(db, app)
    (app / f"database/migrations/{FIRST_THREE[1]}.php").unlink()
    read = {m.id: m for m in fw.read(db, app)}
    assert read[FIRST_THREE[1]].state is MigrationState.MISSING_FILE
    assert read[FIRST_THREE[1]].file is None and read[FIRST_THREE[1]].batch == 1


def test_php_error_in_a_migration_names_file_and_line(
    app: Path, db_url: str, open_db: Callable[[str], Database]
) -> None:
    edit(app, FIRST_THREE[0], "Schema::create('users', function", "Schema::create('users' function")
    db = open_db(db_url)
    with pytest.raises(FrameworkError) as info:
        Laravel().migrate(db, app)
    err = info.value
    assert err.file == f"database/migrations/{FIRST_THREE[0]}.php" and err.line == 11
    assert "syntax error" in str(err) and "line 11" in str(err) and "\n" not in str(err)
    assert all(m.state is MigrationState.PENDING for m in Laravel().read(db, app))


def test_exception_inside_a_migration_is_a_failed_migration(
    app: Path, db_url: str, open_db: Callable[[str], Database]
) -> None:
    edit(
        app,
        FIRST_THREE[1],
        "Schema::create(",
        "throw new RuntimeException('no queue today'); Schema::create(",
    )
    db = open_db(db_url)
    result = Laravel().migrate(db, app)
    assert (result.ok, result.applied, result.failed) == (False, FIRST_THREE[:1], FIRST_THREE[1])
    assert result.error == f"no queue today (database/migrations/{FIRST_THREE[1]}.php line 11)"


def test_not_laravels_tracking_table(
    app: Path,
    db_url: str,
    open_db: Callable[[str], Database],
    sql_runner: Callable[[str, str], None],
) -> None:
    sql_runner(db_url, "CREATE TABLE migrations (version VARCHAR(20));\n")
    with pytest.raises(FrameworkError, match="has no column migration, so it is not Laravel's"):
        Laravel().read(open_db(db_url), app)


@pytest.mark.backend("sqlite")
def test_no_migrations_folder(
    tmp_path: Path, db_url: str, open_db: Callable[[str], Database]
) -> None:
    (tmp_path / "artisan").write_text("<?php\n")
    with pytest.raises(ConfigError, match=r"^no database/migrations folder in "):
        Laravel().read(open_db(db_url), tmp_path)


@pytest.mark.backend("sqlite")
def test_database_url_from_env_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in [k for k in os.environ if k.startswith("DB_")] + ["APP_ENV"]:
        monkeypatch.delenv(key, raising=False)
    (tmp_path / ".env").write_text(
        "DB_CONNECTION=mysql\nDB_HOST=db.internal\nDB_PORT=3307\nDB_DATABASE=shop\n"
        'DB_USERNAME=app\nDB_PASSWORD="s3cr#t pw"\n'
    )
    (tmp_path / ".env.staging").write_text(
        "DB_CONNECTION=sqlite\nDB_DATABASE=database/staging.sqlite\n"
    )
    (tmp_path / ".env.testing").write_text("DB_CONNECTION=pgsql\nDB_DATABASE=t\nDB_USERNAME=ci\n")
    fw = Laravel()
    from sqlalchemy.engine import make_url

    url = make_url(fw.database_url(tmp_path) or "")
    assert (url.drivername, url.host, url.port, url.database) == (
        "mysql+pymysql",
        "db.internal",
        3307,
        "shop",
    )
    assert (url.username, url.password) == ("app", "s3cr#t pw")
    assert fw.database_url(tmp_path, "staging") == f"sqlite:///{tmp_path}/database/staging.sqlite"
    assert fw.database_url(tmp_path, "testing") == "postgresql+psycopg://ci@127.0.0.1:5432/t"
    assert fw.database_url(tmp_path, "nosuch") == str(url.render_as_string(hide_password=False))
    assert "DB_HOST" not in os.environ  # nothing exported
    monkeypatch.setenv("DB_DATABASE", "from_env")  # as in Laravel, the real environment wins
    assert make_url(fw.database_url(tmp_path) or "").database == "from_env"


def test_parse_laravel8_wrapped_error() -> None:
    out = """Migrating: 2014_10_12_000000_create_users_table
Migrated:  2014_10_12_000000_create_users_table (3.97ms)
Migrating: 2025_10_23_162250_add_priority

In Connection.php line 712:

  SQLSTATE[42S21]: Column already exists: 1060 Duplicate column name 'priority'
  (SQL: alter table `policy_configurations` add `priority` int)


In Connection.php line 501:

  SQLSTATE[42S21]: Column already exists: 1060 Duplicate column name 'priority'
"""
    parsed = parse_migrate_output(out)
    assert parsed.applied == ("2014_10_12_000000_create_users_table",)
    assert parsed.running == "2025_10_23_162250_add_priority"
    assert (
        parsed.error
        == "SQLSTATE[42S21]: Column already exists: 1060 Duplicate column name 'priority'"
    )
    assert parsed.statement == "alter table `policy_configurations` add `priority` int"
    assert (parsed.file, parsed.line) == ("Connection.php", 712)


def test_parse_laravel10_style() -> None:
    out = """
   INFO  Running migrations.

  2014_10_12_000000_create_users_table ............................ 12ms DONE
  2025_10_23_162250_add_priority .................................. 3ms FAIL

   Illuminate\\Database\\QueryException

  SQLSTATE[42S21]: Column already exists: 1060 Duplicate column name 'priority' (Connection: mysql, SQL: alter table `p` add `priority` int)

  at vendor/laravel/framework/src/Illuminate/Database/Connection.php:801
"""
    parsed = parse_migrate_output(out)
    assert parsed.applied == ("2014_10_12_000000_create_users_table",)
    assert parsed.running == "2025_10_23_162250_add_priority"
    assert parsed.statement == "alter table `p` add `priority` int"
    assert parsed.error is not None and parsed.error.endswith("Duplicate column name 'priority'")
    assert parse_status_output(
        "  2014_10_12_000000_create_users_table .... [1] Ran\n  2025_x_y ..... Pending\n"
    ) == {"2014_10_12_000000_create_users_table": True, "2025_x_y": False}


def test_parse_pretend_multiline_statement() -> None:
    names = {"CreateUsersTable": "2014_10_12_000000_create_users_table", "2025_a": "2025_a"}
    out = "CreateUsersTable: create table users (id int)\nCreateUsersTable: CREATE VIEW v AS\n  SELECT 1\n2025_a: drop table x\n"
    assert parse_pretend_output(out, names) == {
        "2014_10_12_000000_create_users_table": [
            "create table users (id int)",
            "CREATE VIEW v AS\n  SELECT 1",
        ],
        "2025_a": ["drop table x"],
    }
