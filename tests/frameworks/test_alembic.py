"""The Alembic adapter with real Alembic, on SQLite, MariaDB and PostgreSQL.

The fixture's third revision adds ``note`` and then ``priority`` again (created by the second).
On PostgreSQL the stock env.py runs the whole upgrade in one transaction: the failure rolls back
the two revisions before it as well, and ``alembic current`` is empty.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import inspect as sa_inspect

from dbmedic.connect import Database
from dbmedic.errors import FrameworkError, MigrationError
from dbmedic.frameworks import detect_framework
from dbmedic.frameworks.alembic import Alembic, split_offline_sql
from dbmedic.model import MigrationState

REVS = ("1a2b3c4d5e01", "2b3c4d5e6f02", "3c4d5e6f7a03", "4d5e6f7a8b04")
FAILING = REVS[2]
ERROR = {
    "sqlite": "duplicate column name: priority",
    "mariadb": "Duplicate column name 'priority'",
    "postgresql": 'column "priority" of relation "policy_configurations" already exists',
}


@pytest.fixture
def project(copy_fixture: Callable[[str], Path]) -> Path:
    return copy_fixture("alembic_app")


def tables(db: Database) -> set[str]:
    with db.connect() as conn:
        return set(sa_inspect(conn).get_table_names())


def applied(fw: Alembic, db: Database, root: Path) -> dict[str, bool]:
    return {m.id: m.state is MigrationState.APPLIED for m in fw.read(db, root)}


def test_failure_mid_run_matches_alembic_current(
    backend: str, project: Path, secret_db: Database, no_secret: Callable[..., None]
) -> None:
    db = secret_db
    fw = detect_framework(project)
    assert isinstance(fw, Alembic)
    transactional = backend == "postgresql"
    seen: list[str] = []

    result = fw.migrate(db, project, progress=lambda done, total, rev: seen.append(rev))

    assert not result.ok and result.failed == FAILING
    assert result.applied == (() if transactional else REVS[:2])
    assert result.error is not None and ERROR[backend] in result.error
    assert result.statement is not None and "priority" in result.statement
    assert seen == list(REVS[:2])
    expected = {r: (not transactional and r in REVS[:2]) for r in REVS}
    assert applied(fw, db, project) == expected
    assert fw.framework_status(db, project) == expected
    read = fw.read(db, project)
    assert [m.id for m in read] == list(REVS)
    assert read[0].file == "migrations/versions/1a2b3c4d5e01_create_users.py"
    assert read[1].name == "create policy_configurations (with priority)"
    # the first ALTER of the failed revision stayed where DDL is not transactional
    assert ("users" in tables(db)) == (not transactional)
    if not transactional:
        with db.connect() as conn:
            columns = {c["name"] for c in sa_inspect(conn).get_columns("policy_configurations")}
        assert "note" in columns

    sql = fw.pending_sql(db, project)
    assert list(sql) == [*(REVS[:2] if transactional else ()), FAILING, REVS[3]]
    assert len(sql[FAILING]) == 2 and "priority" in sql[FAILING][1]
    assert any(s.startswith("CREATE TABLE call_sessions") for s in sql[REVS[3]])
    assert all("alembic_version" not in s for stmts in sql.values() for s in stmts)
    no_secret(result.output, result.error, result.statement)

    if transactional:
        with pytest.raises(MigrationError, match=f"its ancestor {REVS[0]} is pending"):
            fw.mark_applied(db, project, [FAILING])
        return
    # the failed revision's effects are all there: record it and run the rest
    fw.mark_applied(db, project, [FAILING])
    again = fw.migrate(db, project)
    assert (again.ok, again.applied) == (True, (REVS[3],))
    assert applied(fw, db, project) == dict.fromkeys(REVS, True)
    assert fw.framework_status(db, project) == dict.fromkeys(REVS, True)
    assert "call_sessions" in tables(db)


@pytest.mark.backend("sqlite")
def test_missing_revision_file(
    project: Path, db_url: str, open_db: Callable[[str], Database]
) -> None:
    db = open_db(db_url)
    with db.engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
        conn.exec_driver_sql("INSERT INTO alembic_version VALUES ('ffffffffffff')")
    states = {m.id: m.state for m in Alembic().read(db, project)}
    assert states == dict.fromkeys(REVS, MigrationState.PENDING) | {
        "ffffffffffff": MigrationState.MISSING_FILE
    }


@pytest.mark.backend("sqlite")
def test_python_error_in_a_revision_names_file_and_line(
    project: Path, db_url: str, open_db: Callable[[str], Database]
) -> None:
    path = project / "migrations/versions/2b3c4d5e6f02_create_policy_configurations.py"
    path.write_text(path.read_text().replace('down_revision = "1a2b3c4d5e01"', "down_revision = ("))
    with pytest.raises(FrameworkError) as info:
        Alembic().read(open_db(db_url), project)
    err = info.value
    assert err.file == "migrations/versions/2b3c4d5e6f02_create_policy_configurations.py"
    assert err.line == 12 and "SyntaxError" in str(err) and "\n" not in str(err)


@pytest.mark.backend("sqlite")
def test_no_versions_folder(project: Path, db_url: str, open_db: Callable[[str], Database]) -> None:
    import shutil

    shutil.rmtree(project / "migrations")
    with pytest.raises(
        FrameworkError, match=r"^alembic graph failed: CommandError: Path doesn't exist"
    ):
        Alembic().read(open_db(db_url), project)


def test_split_offline_sql() -> None:
    text = """BEGIN;

CREATE TABLE alembic_version (
    version_num VARCHAR(32) NOT NULL
);

-- Running upgrade  -> aaa

CREATE TABLE t (
    id INTEGER
);

INSERT INTO alembic_version (version_num) VALUES ('aaa');

-- Running upgrade aaa -> bbb

ALTER TABLE t ADD COLUMN x INTEGER;

UPDATE alembic_version SET version_num='bbb' WHERE alembic_version.version_num = 'aaa';

COMMIT;

"""
    assert split_offline_sql(text, "alembic_version") == {
        "aaa": ["CREATE TABLE t (\n    id INTEGER\n)"],
        "bbb": ["ALTER TABLE t ADD COLUMN x INTEGER"],
    }
