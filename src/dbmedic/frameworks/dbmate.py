"""dbmate: plain SQL migration files, run by dbmedic's own runner, compatible with dbmate itself.

Conventions followed (https://github.com/amacneil/dbmate, checked against dbmate 2.36):

- files ``<version>_<name>.sql`` in ``db/migrations`` (``DBMATE_MIGRATIONS_DIR``, comma-separated
  for several folders); the version is the leading digits (``^(\\d+).*\\.sql$``), files run in
  file-name order;
- a file has ``-- migrate:up`` then ``-- migrate:down``; ``-- migrate:up transaction:false``
  runs the block outside a transaction;
- the tracking table ``schema_migrations`` (``DBMATE_MIGRATIONS_TABLE``), created as
  ``version varchar(128) primary key`` (PostgreSQL: ``varchar``), one row per applied version;
- the URL from ``DATABASE_URL`` in the environment, else the project's ``.env`` (the environment
  wins, as with dbmate); ``--env NAME`` of dbmate is ``environment`` here.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from dbmedic.errors import MigrationError
from dbmedic.frameworks.base import Framework, MigrateResult, Progress, register_framework
from dbmedic.frameworks.tracking import (
    column_names,
    numbered_files,
    relative,
    require_columns,
    table_names,
)
from dbmedic.migration_model import Extra, Migration, MigrationState

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from dbmedic.connect import Database
    from dbmedic.driver import DriverConnection
    from dbmedic.runner import SqlMigration

FILE_PATTERN = re.compile(r"^(\d+).*\.sql$")
_UP = re.compile(r"(?m)^--\s*migrate:up(\s*$|\s+\S+)")
_DOWN = re.compile(r"(?m)^--\s*migrate:down(\s*$|\s+\S+)")
_VERSION_TYPE = {"postgresql": "varchar"}
"""dbmate's DDL per driver: ``varchar(128)`` except on PostgreSQL (plain ``varchar``)."""


def settings(root: Path) -> dict[str, str]:
    """The project's ``.env`` values overlaid with the environment (environment wins, as in dbmate)."""
    values: dict[str, str] = {}
    env_file = root / ".env"
    if env_file.is_file():
        from dotenv import dotenv_values

        values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    values.update(os.environ)
    return values


def dbmate_url_to_sqlalchemy(url: str, root: Path) -> str:
    """Turn a dbmate URL into SQLAlchemy form: ``sqlite:db/x.sqlite3`` is relative to ``root``."""
    scheme, _, rest = url.partition(":")
    scheme = scheme.lower()
    if scheme in ("sqlite", "sqlite3"):
        path = re.sub(r"^//+", "/", rest.split("?", 1)[0])
        full = Path(path) if path.startswith("/") else root / path
        return f"sqlite:///{full}"
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    if scheme in ("postgres", "postgresql"):
        query.pop("search_path", None)  # dbmate-only; libpq does not know it
        if "socket" in query:
            query["host"] = query.pop("socket")
        return urlunsplit(("postgresql+psycopg", parts.netloc, parts.path, urlencode(query), ""))
    if scheme == "mysql":
        if "socket" in query:
            query["unix_socket"] = query.pop("socket")
        return urlunsplit(("mysql+pymysql", parts.netloc, parts.path, urlencode(query), ""))
    return url


@register_framework("dbmate")
class Dbmate(Framework):
    tracking_table = "schema_migrations"
    runs_natively = True

    # --- files -------------------------------------------------------------------------------
    def folders(self, root: Path) -> list[Path]:
        raw = settings(root).get("DBMATE_MIGRATIONS_DIR") or "db/migrations"
        return [root / p.strip() for p in raw.split(",") if p.strip()]

    def table(self, root: Path) -> str:
        return settings(root).get("DBMATE_MIGRATIONS_TABLE") or self.tracking_table

    def tracking_tables(self, root: Path) -> tuple[str, ...]:
        from dbmedic.runner import JOURNAL_TABLE

        return (self.table(root), JOURNAL_TABLE)

    def files(self, root: Path) -> list[tuple[str, Path]]:
        """(version, path) of every migration file, in the order dbmate runs them."""
        found = [f for folder in self.folders(root) for f in numbered_files(folder, FILE_PATTERN)]
        return sorted(found, key=lambda f: f[1].name)

    def parse(self, root: Path, version: str, path: Path, family: str) -> SqlMigration:
        """Read one file into a runnable migration. Raises MigrationError with file and line."""
        from dbmedic.runner import SqlMigration
        from dbmedic.sqlsplit import split_statements

        rel = relative(path, root)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise MigrationError(f"cannot read {rel} ({e})", migration=version, file=rel) from e
        up, down = _UP.search(text), _DOWN.search(text)
        if up is None:
            raise MigrationError(
                f"{rel}:1: no '-- migrate:up' line",
                migration=version,
                file=rel,
                line=1,
                hint="dbmate files start their SQL with '-- migrate:up'",
            )
        up_line = text.count("\n", 0, up.start()) + 1
        if down is not None and down.start() < up.start():
            raise MigrationError(
                f"{rel}:{up_line}: '-- migrate:up' must come before '-- migrate:down'",
                migration=version,
                file=rel,
                line=up_line,
            )
        before = text[: up.start()]
        for number, line in enumerate(before.splitlines(), 1):
            if line.strip() and not line.strip().startswith("--"):
                raise MigrationError(
                    f"{rel}:{number}: SQL before '-- migrate:up' (dbmate does not run it)",
                    migration=version,
                    file=rel,
                    line=number,
                )
        options = dict(pair.split(":", 1) for pair in up.group(1).split() if pair.count(":") == 1)
        body_start = text.find("\n", up.start())
        body_start = len(text) if body_start < 0 else body_start + 1
        body_end = down.start() if down is not None else len(text)
        statements = split_statements(
            text[body_start:body_end], family, file=rel, first_line=up_line + 1
        )
        return SqlMigration(
            version=version,
            file=rel,
            statements=tuple(statements),
            transaction=options.get("transaction") != "false",
        )

    # --- Framework interface --------------------------------------------------------------------
    def detect(self, root: Path) -> bool:
        for _version, path in self.files(root)[:3]:
            try:
                if _UP.search(path.read_text(encoding="utf-8", errors="replace")):
                    return True
            except OSError:
                continue
        return False

    def recognises(self, db: Database) -> bool:
        """dbmate's table has a text ``version`` and no ``dirty`` column (that is golang-migrate)."""
        with db.reading() as conn:
            if self.tracking_table not in table_names(db, conn):
                return False
            cols = column_names(db, conn, self.tracking_table)
        return "version" in cols and "dirty" not in cols

    def database_url(self, root: Path, environment: str | None = None) -> str | None:
        variable = "DATABASE_URL"
        if environment:
            variable = (
                environment if environment.isupper() else f"{environment.upper()}_DATABASE_URL"
            )
        url = settings(root).get(variable)
        return dbmate_url_to_sqlalchemy(url, root) if url else None

    def applied_versions(
        self, db: Database, conn: Connection | DriverConnection, root: Path
    ) -> list[str] | None:
        """Versions in the tracking table, or None when there is no tracking table yet."""
        table = self.table(root)
        if table not in table_names(db, conn):
            return None
        require_columns(conn, table, ["version"], "dbmate", db)
        q = db.dialect.quote
        rows = conn.exec_driver_sql(f"SELECT {q('version')} FROM {q(table)}")
        return sorted(str(r[0]) for r in rows)

    def read(self, db: Database, root: Path) -> list[Migration]:
        from dbmedic.runner import DONE, FAILED, read_journal

        files = self.files(root)
        with db.reading() as conn:
            applied = set(self.applied_versions(db, conn, root) or [])
            journal = read_journal(db, conn)
        failures = {e.version: e for e in journal if e.state == FAILED}
        started = {e.version for e in journal if e.state == DONE}
        migrations: list[Migration] = []
        seen = set()
        for version, path in files:
            seen.add(version)
            rel = relative(path, root)
            extra: Extra
            name = path.stem[len(version) :].lstrip("_") or None
            if version in applied:
                state, extra = MigrationState.APPLIED, ()
            elif version in failures:
                entry = failures[version]
                state = MigrationState.FAILED
                extra = (
                    ("error", entry.error or ""),
                    ("failed_at", entry.updated_at),
                    ("statement_index", str(entry.statement_index)),
                )
            elif version in started:
                state, extra = MigrationState.FAILED, (("error", "interrupted mid-migration"),)
            else:
                state, extra = MigrationState.PENDING, ()
            migrations.append(Migration(version, rel, state, name=name, extra=extra))
        for version in sorted(applied - seen):
            migrations.append(Migration(version, None, MigrationState.MISSING_FILE))
        return migrations

    def pending(self, db: Database, root: Path) -> list[SqlMigration]:
        """The parsed files not yet applied, in run order (every file parsed before anything runs)."""
        with db.reading() as conn:
            applied = set(self.applied_versions(db, conn, root) or [])
        family = db.dialect.family or db.dialect.name
        return [
            self.parse(root, version, path, family)
            for version, path in self.files(root)
            if version not in applied
        ]

    def _ensure_table(self, db: Database, conn: Connection, root: Path) -> str:
        table = self.table(root)
        if table not in table_names(db, conn):
            kind = _VERSION_TYPE.get(db.dialect.family or db.dialect.name, "varchar(128)")
            conn.exec_driver_sql(
                f"CREATE TABLE IF NOT EXISTS {db.dialect.quote(table)}"
                f" ({db.dialect.quote('version')} {kind} PRIMARY KEY)"
            )
        return table

    def _insert(self, db: Database, conn: Connection, table: str, version: str) -> None:
        from sqlalchemy import text

        q = db.dialect.quote
        conn.execute(text(f"INSERT INTO {q(table)} ({q('version')}) VALUES (:v)"), {"v": version})

    def migrate(
        self, db: Database, root: Path, *, progress: Progress | None = None
    ) -> MigrateResult:
        from dbmedic.runner import run_migrations

        if not any(folder.is_dir() for folder in self.folders(root)):
            raise _no_folder(self, root)
        todo = self.pending(db, root)
        with db.connect() as raw:
            conn = raw.execution_options(isolation_level="AUTOCOMMIT")
            table = self._ensure_table(db, conn, root)

        def record(conn: Connection, version: str) -> None:
            self._insert(db, conn, table, version)

        return run_migrations(db, todo, record, progress=progress)

    def pending_sql(self, db: Database, root: Path) -> dict[str, list[str]]:
        return {m.version: [s.text for s in m.statements] for m in self.pending(db, root)}

    def file_sql(self, root: Path, family: str) -> dict[str, list[tuple[str, int]]] | None:
        return {
            version: [(s.text, s.line) for s in self.parse(root, version, path, family).statements]
            for version, path in self.files(root)
        }

    def mark_applied(self, db: Database, root: Path, ids: Sequence[str]) -> None:
        """Insert the version rows in one transaction, then forget dbmedic's journal entries of
        those versions (a version recorded as applied is no longer half-run)."""
        from dbmedic.runner import forget

        with db.connect() as raw:
            conn = raw.execution_options(isolation_level="AUTOCOMMIT")
            table = self._ensure_table(db, conn, root)
            have = set(self.applied_versions(db, conn, root) or [])
        with db.connect() as conn:
            for version in ids:
                if version not in have:
                    self._insert(db, conn, table, version)
                    have.add(version)
            conn.commit()
        forget(db, ids)


def _no_folder(fw: Dbmate, root: Path) -> MigrationError:
    folders = ", ".join(relative(f, root) for f in fw.folders(root))
    return MigrationError(
        f"no migrations folder {folders} in {root}",
        hint="create it or set DBMATE_MIGRATIONS_DIR",
    )
