"""golang-migrate, read-only: ``schema_migrations(version bigint, dirty boolean)`` and
``<version>_<title>.up.sql`` files.

golang-migrate keeps one row: the last version it ran, and ``dirty = true`` when that migration
failed halfway (https://github.com/golang-migrate/migrate/blob/master/GETTING_STARTED.md#forcing-your-database-version).
So every file up to that version is applied, the version itself is failed when dirty, and later
files are pending. Its table shares dbmate's name; the ``dirty`` column tells them apart.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from dbmedic.frameworks.base import register_framework
from dbmedic.frameworks.tracking import (
    ReadOnlyFramework,
    column_names,
    numbered_files,
    relative,
    require_columns,
    table_names,
)
from dbmedic.migration_model import Migration, MigrationState

if TYPE_CHECKING:
    from dbmedic.connect import Database

FILE_PATTERN = re.compile(r"^(\d+)_(.*)\.up\.sql$")
FOLDERS = ("migrations", "db/migrations", "database/migrations", "sql/migrations")


@register_framework("golang-migrate")
class GolangMigrate(ReadOnlyFramework):
    tracking_table = "schema_migrations"
    read_only_recognition = True
    migrate_command = "migrate -path DIR -database URL up"

    def files(self, root: Path) -> list[tuple[int, Path]]:
        for folder in FOLDERS:
            found = numbered_files(root / folder, FILE_PATTERN)
            if found:
                return sorted((int(v), p) for v, p in found)
        return []

    def detect(self, root: Path) -> bool:
        return bool(self.files(root))

    def recognises(self, db: Database) -> bool:
        with db.reading() as conn:
            if self.tracking_table not in table_names(db, conn):
                return False
            return {"version", "dirty"} <= column_names(db, conn, self.tracking_table)

    def read(self, db: Database, root: Path) -> list[Migration]:
        current: int | None = None
        dirty = False
        with db.reading() as conn:
            if self.tracking_table in table_names(db, conn):
                require_columns(
                    conn, self.tracking_table, ("version", "dirty"), "golang-migrate", db
                )
                q = db.dialect.quote
                row = conn.exec_driver_sql(
                    f"SELECT {q('version')}, {q('dirty')} FROM {q(self.tracking_table)}"
                ).first()
                if row is not None:
                    current = int(row[0])
                    dirty = bool(row[1]) and str(row[1]).lower() not in ("0", "false")
        migrations: list[Migration] = []
        versions = set()
        for version, path in self.files(root):
            versions.add(version)
            name = FILE_PATTERN.match(path.name)
            if current is None or version > current:
                state = MigrationState.PENDING
            elif version == current and dirty:
                state = MigrationState.FAILED
            else:
                state = MigrationState.APPLIED
            extra = (
                (("error", "dirty: the migration failed halfway"),)
                if state == MigrationState.FAILED
                else ()
            )
            migrations.append(
                Migration(
                    str(version),
                    relative(path, root),
                    state,
                    name=name.group(2) if name else None,
                    extra=extra,
                )
            )
        if current is not None and current not in versions and current >= 0:
            state = MigrationState.FAILED if dirty else MigrationState.MISSING_FILE
            migrations.append(Migration(str(current), None, state))
            migrations.sort(key=lambda m: int(m.id))
        return migrations
