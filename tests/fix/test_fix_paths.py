"""Paths of ``dbmedic fix`` that the strategy tests do not reach, each through ``api.fix`` (the
CLI's path): a table-level conflict repaired by resume, the default Laravel post-fix hooks run
in the app, and a reset that keeps who may use the database."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from strategy_helpers import (
    framework_pending,
    laravel_incident,
    migrate,
    query,
    run_sql,
    stale_config_cache,
    tables,
    write_dbmate,
)

from dbmedic import api
from dbmedic.plan import StepKind
from dbtest import ADMIN_URLS

# --- a table made by hand, then created by a migration with another definition ------------------

APP = {
    "001_users": "CREATE TABLE users (id integer primary key, email varchar(100));",
    "002_audit_log": (
        "CREATE TABLE audit_log (id integer primary key, user_id integer, "
        "action varchar(50) NOT NULL DEFAULT 'none', happened varchar(30));"
    ),
    "003_later": "CREATE TABLE later_things (id integer primary key);",
}


@pytest.mark.backend("sqlite", "mariadb")
def test_resume_repairs_a_hand_made_table_and_keeps_its_rows(
    backend: str, db_url: str, tmp_path: Path
) -> None:
    app = write_dbmate(tmp_path / "app", APP)
    run_sql(
        db_url,
        "CREATE TABLE audit_log (id integer primary key, action varchar(20), note varchar(50))",
        "INSERT INTO audit_log (id, action, note) VALUES (1, 'login', 'a'), (2, 'logout', 'b')",
    )
    assert migrate(app, db_url, "dbmate").failed == "002"  # type: ignore[attr-defined]

    outcome = api.fix("resume", app, db_url, yes=True)

    assert outcome.ok, (outcome.error, outcome.checks)
    kinds = [s.kind for s in outcome.plan.steps]
    # never a plain mark: moved aside, the migration's own statement run, then recorded
    aside, ran, marked = (
        kinds.index(StepKind.MOVE_ASIDE),
        next(i for i, s in enumerate(outcome.plan.steps) if "statement(s) of 002" in s.title),
        kinds.index(StepKind.MARK_APPLIED),
    )
    assert aside < ran < marked < kinds.index(StepKind.COPY_BACK)
    copy_back = next(s for s in outcome.plan.steps if s.kind is StepKind.COPY_BACK)
    assert "note" in (copy_back.reason or "")  # the column the migration lacks: in the backup
    cols = {c.name: c for c in api.inspect(db_url).tables["audit_log"].columns.values()}
    assert set(cols) == {"id", "user_id", "action", "happened"}  # the migration's definition
    assert not cols["action"].nullable and cols["action"].default == "'none'"
    rows = query(db_url, "SELECT id, action, user_id FROM audit_log ORDER BY id")
    assert rows == [(1, "login", None), (2, "logout", None)]
    assert not any("dbmedic_conflict" in t for t in tables(db_url))
    assert {"later_things", "users"} <= tables(db_url)
    assert framework_pending(app, db_url, "dbmate") == []


# --- Laravel's default post-fix hooks, run in the fixture app ------------------------------------


@pytest.mark.backend("mariadb")
def test_laravel_default_hooks_clear_cache_and_config(
    backend: str, php: str, db_url: str, tmp_path: Path
) -> None:
    app = laravel_incident(tmp_path, db_url)
    config_cache = stale_config_cache(app)
    entry = app / "storage" / "framework" / "cache" / "data" / "ab" / "cd" / "abcd1234"
    entry.parent.mkdir(parents=True)
    entry.write_text('9999999999s:5:"stale";')

    outcome = api.fix("resume", app, db_url, yes=True)

    assert outcome.ok, (outcome.error, outcome.checks)
    hooks = [s for s in outcome.steps if s.kind == StepKind.HOOK.value]
    assert [s.title for s in hooks] == [
        "Run php artisan cache:clear",
        "Run php artisan config:clear",
    ]
    assert all(s.status.value == "ok" and s.detail == "exit 0" for s in hooks), hooks
    assert not config_cache.exists()  # config:clear ran in the app
    assert not entry.exists()  # cache:clear flushed the app's file store
    assert framework_pending(app, db_url, "laravel") == []


# --- reset keeps who may use the database --------------------------------------------------------

GRANTS_APP = {
    "001_users": "CREATE TABLE users (id integer primary key, email varchar(100));",
    "002_posts": "CREATE TABLE posts (id integer primary key, title varchar(100));",
}


def _reset_app(tmp_path: Path, url: str) -> Path:
    """Two migrations applied, a third pending: reset runs all three from zero."""
    app = write_dbmate(tmp_path / "app", GRANTS_APP)
    assert migrate(app, url, "dbmate").ok  # type: ignore[attr-defined]
    write_dbmate(app, {"003_tags": "CREATE TABLE tags (id integer primary key);"})
    run_sql(url, "INSERT INTO users (id, email) VALUES (1, 'ada@example.org')")
    return app


@pytest.mark.backend("mariadb")
def test_reset_keeps_mariadb_grants(backend: str, db_url: str, tmp_path: Path) -> None:
    app = _reset_app(tmp_path, db_url)
    name = make_url(db_url).database
    user, password = f"dbm_r_{uuid.uuid4().hex[:8]}", "Pw-" + uuid.uuid4().hex[:10]
    admin = create_engine(ADMIN_URLS["mariadb"], isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE USER '{user}'@'%' IDENTIFIED BY '{password}'"))
        conn.execute(text(f"GRANT SELECT ON `{name}`.* TO '{user}'@'%'"))
    reader = make_url(db_url).set(username=user, password=password)
    reader_url = reader.render_as_string(hide_password=False)
    try:
        assert query(reader_url, "SELECT COUNT(*) FROM users") == [(1,)]

        outcome = api.fix("reset", app, db_url, yes=True)

        assert outcome.ok, (outcome.error, outcome.checks)
        assert StepKind.RECREATE_DATABASE in [s.kind for s in outcome.plan.steps]
        assert tables(db_url) >= {"users", "posts", "tags"}
        # the same user connects and reads the recreated tables (the rows are gone: a reset)
        assert query(reader_url, "SELECT COUNT(*) FROM users") == [(0,)]
        assert query(reader_url, "SELECT COUNT(*) FROM tags") == [(0,)]
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP USER IF EXISTS '{user}'@'%'"))
        admin.dispose()


@pytest.mark.backend("postgresql")
def test_reset_keeps_postgresql_owner_and_database_privileges(
    backend: str, db_url: str, tmp_path: Path
) -> None:
    name = make_url(db_url).database
    owner, reader = f"dbm_o_{uuid.uuid4().hex[:8]}", f"dbm_r_{uuid.uuid4().hex[:8]}"
    admin = create_engine(ADMIN_URLS["postgresql"], isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE ROLE "{owner}" NOLOGIN'))
        conn.execute(text(f'CREATE ROLE "{reader}" LOGIN'))
        conn.execute(text(f'ALTER DATABASE "{name}" OWNER TO "{owner}"'))
        conn.execute(text(f'GRANT CONNECT, TEMPORARY ON DATABASE "{name}" TO "{reader}"'))
        conn.execute(text(f'GRANT CREATE ON DATABASE "{name}" TO "{reader}" WITH GRANT OPTION'))
    acl_sql = (
        "SELECT pg_get_userbyid(d.datdba), a.privilege_type, a.is_grantable "
        "FROM pg_database d, aclexplode(d.datacl) a "
        f"WHERE d.datname = '{name}' AND pg_get_userbyid(a.grantee) = '{reader}' ORDER BY 2"
    )
    try:
        app = _reset_app(tmp_path, db_url)
        before = query(db_url, acl_sql)
        assert len(before) == 3

        outcome = api.fix("reset", app, db_url, yes=True)

        assert outcome.ok, (outcome.error, outcome.checks)
        assert query(db_url, acl_sql) == before  # owner and each privilege, grant option too
        as_reader = make_url(db_url).set(username=reader).render_as_string(hide_password=False)
        assert query(as_reader, "SELECT current_database()") == [(name,)]  # CONNECT kept
        assert tables(db_url) >= {"users", "posts", "tags"}
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" OWNER TO postgres'))
            conn.execute(text(f'REVOKE ALL ON DATABASE "{name}" FROM "{reader}" CASCADE'))
            conn.execute(text(f'DROP ROLE IF EXISTS "{reader}"'))
            conn.execute(text(f'DROP ROLE IF EXISTS "{owner}"'))
        admin.dispose()
