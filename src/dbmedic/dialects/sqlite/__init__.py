"""SQLite: one file, read with four bulk catalog queries, altered by ALTER TABLE or a table rebuild."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote as url_quote

from dbmedic.dialects.base import Dialect, ServerInfo, SqlFiles, register
from dbmedic.migration_model import extra

if TYPE_CHECKING:
    from sqlalchemy.engine import URL, Connection, Engine

    from dbmedic.changes import Change
    from dbmedic.driver import DbUrl, DriverConnection
    from dbmedic.model import Schema, Table

_OUTSIDE = re.compile(r"\s*PRAGMA\s+(?:main\.)?foreign_keys\s*=", re.I)

_ERRORS = (
    ("unable to open database file", "the SQLite file cannot be opened (missing, or no access)"),
    ("file is not a database", "the file is not an SQLite database"),
    ("readonly database", "the SQLite database is read-only"),
    ("read-only", "the SQLite database is read-only"),
    ("database is locked", "the SQLite database is locked by another connection"),
    ("database disk image is malformed", "the SQLite file is corrupt"),
)


@register("sqlite")
class SQLite(Dialect):
    databases_are_files: ClassVar[bool] = True
    """A scratch database is a temporary file."""
    exists_queries: ClassVar[dict[str, str]] = {
        "column": "SELECT 1 FROM pragma_table_info(?) WHERE name = ?",
        "index": "SELECT 1 FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND name = ?",
    }
    """https://www.sqlite.org/pragma.html#pragfunc (table-valued pragma functions)"""
    family = "sqlite"
    driver = "sqlite"
    sqlglot_dialect = "sqlite"
    transactional_ddl = True
    """DDL takes part in transactions: https://www.sqlite.org/lang_transaction.html (the engine
    emits BEGIN itself, see :meth:`prepare_engine`)."""
    inline_foreign_keys = True
    """Foreign keys exist only inside CREATE TABLE: https://www.sqlite.org/lang_altertable.html"""
    catalog = SqlFiles(__package__)

    # --- connection -------------------------------------------------------------------------
    def server_info(self, conn: Connection | DriverConnection) -> ServerInfo:
        """Version, file name and the foreign_keys setting, in one query."""
        version, path, fks = conn.exec_driver_sql(
            "SELECT sqlite_version(),"
            " (SELECT file FROM pragma_database_list WHERE name = 'main'),"
            " (SELECT foreign_keys FROM pragma_foreign_keys)"
        ).one()
        return ServerInfo(
            "sqlite",
            str(version),
            database=os.path.basename(path) if path else ":memory:",
            settings=extra(foreign_keys=str(fks)),
        )

    def read_only_url(self, url: URL) -> tuple[URL, dict[str, object]]:
        """``file:PATH?mode=ro`` as a URI: SQLite itself refuses every write.

        https://www.sqlite.org/uri.html ; SQLAlchemy passes ``uri=true`` on to sqlite3.connect.
        """
        database = url.database
        if not database or database == ":memory:" or database.startswith("file:"):
            return url, {}
        path = url_quote(os.path.abspath(database))
        return url.set(database=f"file:{path}", query={"mode": "ro", "uri": "true"}), {}

    def connect_driver(self, url: DbUrl, read_only: bool) -> DriverConnection | None:
        """An sqlite3 connection to the file (``mode=ro`` for a reference, as
        :meth:`read_only_url`); None for an in-memory database (the engine's would be another
        one), a ``file:`` URI or URL options, which go through SQLAlchemy.

        ``BEGIN`` before the first statement makes the catalog queries read one snapshot, like
        the engine's transactions (see :meth:`prepare_engine`)."""
        database = url.database
        if url.query or not database or database == ":memory:" or database.startswith("file:"):
            return None
        import sqlite3

        from dbmedic.driver import DriverConnection, DriverError

        try:
            if read_only:
                uri = f"file:{url_quote(os.path.abspath(database))}?mode=ro"
                raw = sqlite3.connect(uri, uri=True, isolation_level=None)
            else:
                raw = sqlite3.connect(database, isolation_level=None)
            self.on_connect(raw, read_only)
        except sqlite3.Error as e:
            raise DriverError(e) from e
        return DriverConnection(raw, sqlite3.Error, begin="BEGIN")

    def on_connect(self, dbapi_connection: object, read_only: bool) -> None:
        """Foreign keys on for targets (off by default in SQLite); reads only for references."""
        execute: Any = dbapi_connection.execute  # type: ignore[attr-defined]
        if read_only:
            execute("PRAGMA query_only=ON")
        else:
            execute("PRAGMA foreign_keys=ON")

    def prepare_engine(self, engine: Engine, read_only: bool) -> None:
        """Make SQLAlchemy transactions real transactions, DDL included.

        Python's sqlite3 opens a transaction only before INSERT/UPDATE/DELETE, so a CREATE TABLE
        would commit at once. As SQLAlchemy documents ("Serializable isolation / Savepoints /
        Transactional DDL", dialects/sqlite), the driver's own BEGIN is switched off and the
        engine emits BEGIN when a transaction starts, except in AUTOCOMMIT mode.
        """
        from sqlalchemy import event

        def connect(dbapi_connection: Any, _record: object) -> None:
            dbapi_connection.isolation_level = None

        def begin(conn: Connection) -> None:
            if conn.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
                conn.connection.driver_connection.execute("BEGIN")  # type: ignore[union-attr]

        event.listen(engine, "connect", connect, insert=True)
        event.listen(engine, "begin", begin)

    def describe_error(self, exc: BaseException) -> str:
        text = super().describe_error(exc)
        low = text.lower()
        for needle, sentence in _ERRORS:
            if needle in low:
                return sentence
        return text

    def table_names(self, conn: Connection | DriverConnection) -> list[str]:
        rows = conn.exec_driver_sql(
            "SELECT name FROM sqlite_schema WHERE type = 'table'"
            " AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"
        )
        return [str(r[0]) for r in rows]

    def column_names(self, conn: Connection | DriverConnection, table: str) -> list[str]:
        rows = conn.exec_driver_sql("SELECT name FROM pragma_table_info(?) ORDER BY cid", (table,))
        return [str(r[0]) for r in rows]

    # --- inspection -------------------------------------------------------------------------
    def inspect(self, conn: Connection | DriverConnection, info: ServerInfo) -> Schema:
        from dbmedic.dialects.sqlite.inspect import inspect_schema

        return inspect_schema(conn, info, self.catalog)

    # --- rendering --------------------------------------------------------------------------
    def quote(self, identifier: str) -> str:
        return '"' + identifier.replace('"', '""') + '"'

    def render_create_table(self, table: Table) -> list[str]:
        from dbmedic.dialects.sqlite import render

        return [render.create_table(self.quote, table)] + [
            render.create_index(self.quote, table.name, i) for i in table.indexes.values()
        ]

    def render_change(self, change: Change) -> list[str]:
        from dbmedic.dialects.sqlite import render

        return render.render_change(self.quote, change)

    def render(self, changes: Sequence[Change], current: Schema | None = None) -> list[str]:
        """DDL in safe order; changes ALTER TABLE cannot make rebuild their table.

        A script with a rebuild begins with ``PRAGMA foreign_keys=OFF`` and ends with
        ``PRAGMA foreign_keys=ON``: run those (:meth:`outside_transaction`) in autocommit mode and
        the statements between them in one transaction, on one connection. ``current`` (the
        schema the statements run against) is required when a table must be rebuilt.
        """
        from dbmedic.dialects.sqlite import render

        return render.render_all(self.quote, changes, current)

    def outside_transaction(self, statement: str) -> bool:
        """``PRAGMA foreign_keys`` is a no-op inside a transaction: https://www.sqlite.org/pragma.html#pragma_foreign_keys"""
        return _OUTSIDE.match(statement) is not None
