"""Flyway, read-only: ``flyway_schema_history`` joined with ``V<version>__<description>.sql`` files.

dbmedic explains a Flyway database (applied, failed ``success = false`` rows, pending files,
missing files, checksum changes) but does not run Flyway; ``flyway migrate`` does.
Checksums are Flyway's: CRC-32 over the file's lines without line endings (BOM removed), as a
signed 32-bit integer (https://documentation.red-gate.com/fd/validate-184127464.html).
"""

from __future__ import annotations

import re
import zlib
from pathlib import Path
from typing import TYPE_CHECKING

from dbmedic.frameworks.base import register_framework
from dbmedic.frameworks.tracking import ReadOnlyFramework, relative, require_columns, table_names
from dbmedic.migration_model import Migration, MigrationState

if TYPE_CHECKING:
    from dbmedic.connect import Database

FILE_PATTERN = re.compile(r"^([VR])([0-9._]*)__(.+)\.sql$")
FOLDERS = ("sql", "src/main/resources/db/migration", "db/migration", "migrations")
_COLUMNS = (
    "installed_rank",
    "version",
    "description",
    "type",
    "script",
    "checksum",
    "installed_on",
    "success",
)


def flyway_checksum(text: str) -> int:
    """Flyway's checksum of a migration's text: line-ending independent CRC-32, signed."""
    crc = 0
    for number, line in enumerate(text.splitlines()):
        if number == 0:
            line = line.removeprefix("\ufeff")
        crc = zlib.crc32(line.encode("utf-8"), crc)
    return crc - (1 << 32) if crc >= (1 << 31) else crc


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.split(r"[._]", version) if p.isdigit())


@register_framework("flyway")
class Flyway(ReadOnlyFramework):
    tracking_table = "flyway_schema_history"
    read_only_recognition = True
    migrate_command = "flyway migrate"

    def files(self, root: Path) -> dict[str, Path]:
        """{script name: path} of the SQL migrations (versioned and repeatable)."""
        found: dict[str, Path] = {}
        for folder in FOLDERS:
            base = root / folder
            if base.is_dir():
                for path in sorted(base.rglob("*.sql")):
                    if FILE_PATTERN.match(path.name):
                        found.setdefault(path.name, path)
        return found

    def detect(self, root: Path) -> bool:
        return any(
            m.group(1) == "V" for m in (FILE_PATTERN.match(n) for n in self.files(root)) if m
        ) or any((root / n).is_file() for n in ("flyway.conf", "flyway.toml", "conf/flyway.conf"))

    def read(self, db: Database, root: Path) -> list[Migration]:
        files = self.files(root)
        rows = []
        with db.reading() as conn:
            if self.tracking_table in table_names(db, conn):
                require_columns(conn, self.tracking_table, _COLUMNS, "Flyway", db)
                q = db.dialect.quote
                rows = list(
                    conn.exec_driver_sql(
                        f"SELECT {', '.join(q(c) for c in _COLUMNS)} FROM {q(self.tracking_table)}"
                        f" ORDER BY {q('installed_rank')}"
                    )
                )
        migrations: list[Migration] = []
        seen_scripts: set[str] = set()
        for rank, version, description, kind, script, checksum, installed_on, success in rows:
            if kind in ("SCHEMA", "BASELINE") and not script.endswith(".sql"):
                continue
            seen_scripts.add(script)
            path = files.get(script)
            ok = bool(success) and str(success).lower() not in ("0", "false")
            if not ok:
                state = MigrationState.FAILED
            elif path is None:
                state = MigrationState.MISSING_FILE
            elif checksum is not None and flyway_checksum(
                path.read_text(encoding="utf-8", errors="replace")
            ) != int(checksum):
                state = MigrationState.CHECKSUM_CHANGED
            else:
                state = MigrationState.APPLIED
            migrations.append(
                Migration(
                    id=str(version) if version is not None else str(description),
                    file=relative(path, root) if path else None,
                    state=state,
                    batch=int(rank),
                    applied_at=str(installed_on) if installed_on is not None else None,
                    checksum=None if checksum is None else str(checksum),
                    name=str(description),
                    extra=(("type", str(kind)),),
                )
            )
        applied_versions = {m.id for m in migrations if m.state is not MigrationState.FAILED}
        pending = []
        for script, path in files.items():
            m = FILE_PATTERN.match(script)
            if m is None or script in seen_scripts:
                continue
            kind, version, description = m.groups()
            if kind == "V" and version.replace("_", ".") in applied_versions:
                continue
            pending.append(
                Migration(
                    id=version.replace("_", ".") if kind == "V" else description,
                    file=relative(path, root),
                    state=MigrationState.PENDING,
                    name=description.replace("_", " "),
                    checksum=str(
                        flyway_checksum(path.read_text(encoding="utf-8", errors="replace"))
                    ),
                )
            )
        pending.sort(key=lambda m: (m.id[:1].isalpha(), _version_key(m.id)))
        return migrations + pending
