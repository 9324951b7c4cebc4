"""Small read-only helpers the SQL-file adapters share: table and column names, version files."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from dbmedic.errors import MigrationError
from dbmedic.frameworks.base import Framework, MigrateResult, Progress

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from dbmedic.connect import Database
    from dbmedic.driver import DriverConnection


def table_names(db: Database, conn: Connection | DriverConnection) -> set[str]:
    """Names of the tables of the current database/schema (one catalog query, no SQLAlchemy)."""
    return set(db.dialect.table_names(conn))


def column_names(db: Database, conn: Connection | DriverConnection, table: str) -> set[str]:
    """Lower-case column names of ``table`` (one catalog query, no SQLAlchemy)."""
    return {name.lower() for name in db.dialect.column_names(conn, table)}


def require_columns(
    conn: Connection | DriverConnection,
    table: str,
    wanted: Iterable[str],
    framework: str,
    db: Database,
) -> set[str]:
    """The table's columns; MigrationError when one of ``wanted`` is missing (unrecognised table)."""
    have = column_names(db, conn, table)
    missing = sorted(set(wanted) - have)
    if missing:
        raise MigrationError(
            f"table {table} in {db.display} is not {framework}'s tracking table"
            f" (it has no column {', '.join(missing)})",
            hint="pass --framework to name the migration tool this database uses",
        )
    return have


def numbered_files(folder: Path, pattern: re.Pattern[str]) -> list[tuple[str, Path]]:
    """(version, path) of the files in ``folder`` whose name matches ``pattern`` (group 1 = version)."""
    if not folder.is_dir():
        return []
    with os.scandir(folder) as entries:
        names = sorted(e.name for e in entries if pattern.match(e.name) and e.is_file())
    return [(m.group(1), folder / name) for name in names if (m := pattern.match(name))]


def relative(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


class ReadOnlyFramework(Framework):
    """A tool dbmedic reads (status, diagnose) but never runs: the writing methods refuse."""

    read_only_recognition = True

    def _refuse(self) -> MigrationError:
        return MigrationError(
            f"dbmedic reads {self.name}'s history but does not run it",
            hint=f"use `{self.migrate_command}`",
        )

    def migrate(
        self, db: Database, root: Path, *, progress: Progress | None = None
    ) -> MigrateResult:
        raise self._refuse()

    def pending_sql(self, db: Database, root: Path) -> dict[str, list[str]]:
        raise self._refuse()

    def mark_applied(self, db: Database, root: Path, ids: Sequence[str]) -> None:
        raise self._refuse()
