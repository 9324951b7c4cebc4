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
and the table is dropped at the end of a run that leaves it empty, so a healthy database carries
nothing of dbmedic's (a run killed between two migrations may leave it empty; the next run drops
it). Within a run, one INSERT per statement is all the journal costs.
The statement SHA-256 detects a file edited since its statements ran; a resume refuses then.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
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


def _create_journal(db: Database, conn: Connection) -> None:
    def q(name: str) -> str:
        return _q(db, name)

    conn.exec_driver_sql(
        f"CREATE TABLE {q(JOURNAL_TABLE)} ("
        f"{q('version')} varchar(128) NOT NULL, {q('statement_index')} integer NOT NULL, "
        f"{q('statement_sha')} varchar(64) NOT NULL, {q('state')} varchar(16) NOT NULL, "
        f"{q('error')} text, {q('updated_at')} varchar(32) NOT NULL, "
        f"PRIMARY KEY ({q('version')}, {q('statement_index')}))"
    )


class _RunJournal:
    """The journal as one run of :func:`run_migrations` writes it: whether the table exists is
    known from the run's start, so a statement costs one INSERT (no catalog lookup, no
    DELETE), and the table, created at the first entry, is dropped at the run's end when
    nothing unfinished is left in it (it used to be created and dropped for every migration,
    two DDL statements and their file operations per migration on InnoDB)."""

    def __init__(self, db: Database, conn: Connection, entries: Sequence[JournalEntry]) -> None:
        self.db, self.conn = db, conn
        self.present = bool(entries) or journal_exists(db, conn)
        self.versions = {e.version for e in entries}
        """Versions with rows in the table."""

    def _table(self) -> str:
        if not self.present:
            _create_journal(self.db, self.conn)
            self.present = True
        return _q(self.db, JOURNAL_TABLE)

    def start(self, version: str, index: int) -> None:
        """Before statement ``index`` of ``version`` runs: drop the rows from that statement
        on (the failure of an earlier run, and anything after it)."""
        if version in self.versions:
            from sqlalchemy import text

            q = self.db.dialect.quote
            self.conn.execute(
                text(
                    f"DELETE FROM {self._table()} WHERE {q('version')} = :v"
                    f" AND {q('statement_index')} >= :i"
                ),
                {"v": version, "i": index},
            )

    def write(
        self, version: str, index: int, statement: Statement, state: str, error: str | None = None
    ) -> None:
        from sqlalchemy import text

        cols = ("version", "statement_index", "statement_sha", "state", "error", "updated_at")
        self.conn.execute(
            text(
                f"INSERT INTO {self._table()} ({', '.join(_q(self.db, c) for c in cols)})"
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
        self.versions.add(version)

    def finish(self, version: str) -> None:
        """``version`` is recorded as applied: its rows go."""
        if version in self.versions:
            from sqlalchemy import text

            self.conn.execute(
                text(f"DELETE FROM {self._table()} WHERE {_q(self.db, 'version')} = :v"),
                {"v": version},
            )
            self.versions.discard(version)

    def close(self) -> None:
        """At the end of the run: the table goes when nothing unfinished is left in it."""
        if self.present and not self.versions:
            _drop_journal_if_empty(self.db, self.conn)


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
    _drop_journal_if_empty(db, conn)


def _drop_journal_if_empty(db: Database, conn: Connection) -> None:
    t = _q(db, JOURNAL_TABLE)
    left = conn.exec_driver_sql(f"SELECT COUNT(*) FROM {t}").scalar_one()
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


def _run_each(
    db: Database,
    conn: Connection,
    migrations: Sequence[SqlMigration],
    entries: Sequence[JournalEntry],
    journal: _RunJournal,
    record: Record,
    applied: list[str],
    progress: Progress | None,
) -> MigrateResult | None:
    """Run ``migrations`` in order, appending each applied one to ``applied``; the failure, or
    None when all ran."""
    from sqlalchemy.exc import DBAPIError

    for number, migration in enumerate(migrations):
        if progress:
            progress(number, len(migrations), migration.version)
        transactional = migration.transaction and db.dialect.transactional_ddl
        skip = 0 if transactional else resume_point(migration, entries)
        index = skip
        try:
            if transactional:
                conn.exec_driver_sql("BEGIN")
            else:
                journal.start(migration.version, skip)
            for index in range(skip, len(migration.statements)):
                statement = migration.statements[index]
                conn.exec_driver_sql(statement.text)
                if not transactional:
                    journal.write(migration.version, index, statement, DONE)
            index = len(migration.statements)
            record(conn, migration.version)
            journal.finish(migration.version)
            if transactional:
                conn.exec_driver_sql("COMMIT")
        except DBAPIError as e:
            if transactional:
                conn.exec_driver_sql("ROLLBACK")
                journal.start(migration.version, 0)  # an earlier run's failure of it
            error = scrub(db.dialect.describe_error(e))
            total = len(migration.statements)
            failed = migration.statements[index] if index < total else None
            if failed is not None:
                journal.write(migration.version, index, failed, FAILED, error)
            return MigrateResult(
                ok=False,
                applied=tuple(applied),
                failed=migration.version,
                error=error,
                statement=scrub(failed.text) if failed is not None else None,
                extra=(
                    ("file", migration.file),
                    ("line", str(failed.line if failed is not None else 0)),
                    ("statement_index", str(index)),
                    ("statements_done", str(0 if transactional else index)),
                    ("statements_total", str(total)),
                    ("resumed_at", str(skip)),
                ),
            )
        applied.append(migration.version)
    return None


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
    started = time.monotonic()
    applied: list[str] = []
    with db.connect() as raw:
        conn = raw.execution_options(isolation_level="AUTOCOMMIT", no_parameters=True)
        entries = read_journal(db, conn)
        journal = _RunJournal(db, conn, entries)
        failure = _run_each(db, conn, migrations, entries, journal, record, applied, progress)
        journal.close()  # not after an interruption: what ran is in the journal, table and all
        if failure is not None:
            return replace(failure, seconds=time.monotonic() - started)
        if progress:
            progress(len(migrations), len(migrations), "")
    return MigrateResult(ok=True, applied=tuple(applied), seconds=time.monotonic() - started)
