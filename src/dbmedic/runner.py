"""The native SQL migration runner: one statement at a time, journaled, resumable.

Each migration runs statement by statement (boundaries from :mod:`dbmedic.sqlsplit`, original text
executed). Where the dialect has transactional DDL (PostgreSQL, SQLite) a migration runs inside one
transaction together with the insert into the tracking table, so it either happens whole or not
at all. On MySQL/MariaDB every DDL statement commits implicitly
(https://dev.mysql.com/doc/refman/8.0/en/implicit-commit.html), so a failure in the middle leaves
the statements before it in effect; the journal records them, and the next run resumes at the
statement that failed instead of repeating the ones that already took effect.

The journal is a table in the target database, ``dbmedic_migration_journal(version,
statement_index, statement_sha, state, error, updated_at)``, rather than a file next to the app:

- it lives and dies with the database it describes: a crash, another checkout, another machine or
  a restored backup see the same journal as the schema it explains;
- a read-only reader (``dbmedic status`` on a read-only connection) can read it;
- on MySQL the row for a statement is committed right after the statement's own implicit commit.

It is only there while something is unfinished: a migration's rows are deleted when it completes,
and the table is dropped when it is empty, so a healthy database carries nothing of dbmedic's.
The statement SHA-256 detects a file edited since its statements ran; a resume refuses then.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from dbmedic.errors import MigrationError
from dbmedic.frameworks.base import MigrateResult, Progress
from dbmedic.migration_model import JOURNAL_TABLE as JOURNAL_TABLE  # re-exported: its historic home
from dbmedic.secrets import scrub
from dbmedic.sqlsplit import Statement

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from dbmedic.connect import Database
    from dbmedic.driver import DriverConnection


DONE = "done"
FAILED = "failed"


@dataclass(frozen=True, slots=True)
class SqlMigration:
    """A migration the native runner can run: its statements in order."""

    version: str
    file: str
    """Path relative to the application folder, for messages."""
    statements: tuple[Statement, ...]
    transaction: bool = True
    """False when the file asks to run outside a transaction (dbmate ``transaction:false``)."""


@dataclass(frozen=True, slots=True)
class JournalEntry:
    version: str
    statement_index: int
    statement_sha: str
    state: str
    error: str | None
    updated_at: str


Record = Callable[["Connection", str], None]
"""record(conn, version): insert the version into the framework's tracking table."""


def _q(db: Database, name: str) -> str:
    return db.dialect.quote(name)


def journal_exists(db: Database, conn: Connection | DriverConnection) -> bool:
    return JOURNAL_TABLE in db.dialect.table_names(conn)


def read_journal(db: Database, conn: Connection | DriverConnection) -> list[JournalEntry]:
    """Read-only: every journal row, ordered by version and statement (empty when no journal)."""
    if not journal_exists(db, conn):
        return []
    cols = ("version", "statement_index", "statement_sha", "state", "error", "updated_at")
    sql = (
        f"SELECT {', '.join(_q(db, c) for c in cols)} FROM {_q(db, JOURNAL_TABLE)}"
        f" ORDER BY {_q(db, 'version')}, {_q(db, 'statement_index')}"
    )
    return [
        JournalEntry(str(r[0]), int(r[1]), str(r[2]), str(r[3]), r[4], str(r[5]))
        for r in conn.exec_driver_sql(sql)
    ]


def _ensure_journal(db: Database, conn: Connection) -> None:
    if journal_exists(db, conn):
        return

    def q(name: str) -> str:
        return _q(db, name)

    conn.exec_driver_sql(
        f"CREATE TABLE {q(JOURNAL_TABLE)} ("
        f"{q('version')} varchar(128) NOT NULL, {q('statement_index')} integer NOT NULL, "
        f"{q('statement_sha')} varchar(64) NOT NULL, {q('state')} varchar(16) NOT NULL, "
        f"{q('error')} text, {q('updated_at')} varchar(32) NOT NULL, "
        f"PRIMARY KEY ({q('version')}, {q('statement_index')}))"
    )


def _journal(
    db: Database,
    conn: Connection,
    version: str,
    index: int,
    statement: Statement,
    state: str,
    error: str | None = None,
) -> None:
    from sqlalchemy import text

    _ensure_journal(db, conn)
    t = _q(db, JOURNAL_TABLE)
    conn.execute(
        text(
            f"DELETE FROM {t} WHERE {_q(db, 'version')} = :v AND {_q(db, 'statement_index')} = :i"
        ),
        {"v": version, "i": index},
    )
    cols = ("version", "statement_index", "statement_sha", "state", "error", "updated_at")
    conn.execute(
        text(
            f"INSERT INTO {t} ({', '.join(_q(db, c) for c in cols)})"
            " VALUES (:v, :i, :sha, :state, :error, :at)"
        ),
        {
            "v": version,
            "i": index,
            "sha": statement.sha,
            "state": state,
            "error": error[:2000] if error else None,
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
        },
    )


def forget(db: Database, versions: Sequence[str]) -> None:
    """Writes: remove the journal entries of ``versions`` (recorded as applied by other means);
    the journal table goes when it is empty."""
    with db.connect() as raw:
        conn = raw.execution_options(isolation_level="AUTOCOMMIT")
        if not journal_exists(db, conn):
            return
        for version in versions:
            _clear(db, conn, version)
            if not journal_exists(db, conn):
                return


def _clear(db: Database, conn: Connection, version: str) -> None:
    from sqlalchemy import text

    if not journal_exists(db, conn):
        return
    t = _q(db, JOURNAL_TABLE)
    conn.execute(text(f"DELETE FROM {t} WHERE {_q(db, 'version')} = :v"), {"v": version})
    left = conn.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar_one()
    if not left:
        conn.exec_driver_sql(f"DROP TABLE {t}")


def resume_point(migration: SqlMigration, entries: Sequence[JournalEntry]) -> int:
    """How many leading statements of ``migration`` already took effect, per the journal.

    Pure. Raises MigrationError when a statement that ran differs from the file's text now.
    """
    done = sorted(
        (e for e in entries if e.version == migration.version and e.state == DONE),
        key=lambda e: e.statement_index,
    )
    count = 0
    for entry in done:
        if entry.statement_index != count:
            break
        if count >= len(migration.statements) or (
            migration.statements[count].sha != entry.statement_sha
        ):
            line = migration.statements[count].line if count < len(migration.statements) else 0
            raise MigrationError(
                f"{migration.file}:{line}: statement {count + 1} of migration {migration.version}"
                " already ran but the file's text changed since, so dbmedic cannot tell where to resume",
                migration=migration.version,
                file=migration.file,
                line=line or None,
                hint="restore the statements that ran; change only the failed one and those after it",
            )
        count += 1
    return count


def run_migrations(
    db: Database,
    migrations: Sequence[SqlMigration],
    record: Record,
    *,
    progress: Progress | None = None,
) -> MigrateResult:
    """Writes: run ``migrations`` (all pending, in order) against ``db``; stop at the first failure.

    Returns a MigrateResult; a statement the server rejects is a result (``ok=False``), not an
    exception. Raises MigrationError when the journal does not match the files.
    """
    from sqlalchemy.exc import DBAPIError

    started = time.monotonic()
    applied: list[str] = []
    with db.connect() as raw:
        conn = raw.execution_options(isolation_level="AUTOCOMMIT", no_parameters=True)
        entries = read_journal(db, conn)
        for number, migration in enumerate(migrations):
            if progress:
                progress(number, len(migrations), migration.version)
            transactional = migration.transaction and db.dialect.transactional_ddl
            skip = resume_point(migration, entries)
            index = skip
            try:
                if transactional:
                    skip = index = 0
                    conn.exec_driver_sql("BEGIN")
                for index in range(skip, len(migration.statements)):
                    statement = migration.statements[index]
                    conn.exec_driver_sql(statement.text)
                    if not transactional:
                        _journal(db, conn, migration.version, index, statement, DONE)
                index = len(migration.statements)
                record(conn, migration.version)
                if transactional:
                    conn.exec_driver_sql("COMMIT")
            except DBAPIError as e:
                if transactional:
                    conn.exec_driver_sql("ROLLBACK")
                error = scrub(db.dialect.describe_error(e))
                total = len(migration.statements)
                failed = migration.statements[index] if index < total else None
                if failed is not None:
                    _journal(db, conn, migration.version, index, failed, FAILED, error)
                return MigrateResult(
                    ok=False,
                    applied=tuple(applied),
                    failed=migration.version,
                    error=error,
                    statement=scrub(failed.text) if failed is not None else None,
                    seconds=time.monotonic() - started,
                    extra=(
                        ("file", migration.file),
                        ("line", str(failed.line if failed is not None else 0)),
                        ("statement_index", str(index)),
                        ("statements_done", str(0 if transactional else index)),
                        ("statements_total", str(total)),
                        ("resumed_at", str(skip)),
                    ),
                )
            _clear(db, conn, migration.version)
            applied.append(migration.version)
        if progress:
            progress(len(migrations), len(migrations), "")
    return MigrateResult(ok=True, applied=tuple(applied), seconds=time.monotonic() - started)
