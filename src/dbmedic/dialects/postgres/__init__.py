"""PostgreSQL: pg_catalog inspection of the current schema, DDL rendering, read-only sessions.

The schema read and written is ``current_schema()``: ``public`` by default, another one when the
URL sets the search path (``postgresql://u@h/db?options=-csearch_path%3Dapp``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from dbmedic.dialects.base import Dialect, ServerInfo, SqlFiles, register
from dbmedic.dialects.postgres import render
from dbmedic.dialects.postgres.normalize import describe_psycopg_error
from dbmedic.migration_model import extra

if TYPE_CHECKING:
    from sqlalchemy.engine import URL, Connection

    from dbmedic.changes import Change
    from dbmedic.driver import DbUrl, DriverConnection
    from dbmedic.model import Schema, Table

_SERVER_INFO = """
SELECT current_setting('server_version') AS version,
       current_database() AS database,
       pg_encoding_to_char(d.encoding) AS encoding,
       d.datcollate AS collation,
       current_schema() AS schema,
       current_setting('default_transaction_read_only') AS read_only
FROM pg_database d
WHERE d.datname = current_database()
"""

_TABLE_NAMES = """
SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND NOT c.relispartition
ORDER BY c.relname
"""

_COLUMN_NAMES = """
SELECT a.attname FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema() AND c.relname = %s AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum
"""

READ_ONLY_OPTION = "-c default_transaction_read_only=on"
"""libpq ``options``: every transaction of the session is read-only unless it says otherwise.
https://www.postgresql.org/docs/15/runtime-config-client.html#GUC-DEFAULT-TRANSACTION-READ-ONLY"""


@register("postgresql")
class PostgreSQL(Dialect):
    family = "postgresql"
    driver = "postgresql+psycopg"
    sqlglot_dialect = "postgres"
    transactional_ddl = True
    """DDL runs inside transactions and rolls back: https://wiki.postgresql.org/wiki/Transactional_DDL_in_PostgreSQL:_A_Competitive_Analysis"""
    catalog: ClassVar[SqlFiles | None] = SqlFiles(__package__)
    add_column_if_not_exists = True
    """https://www.postgresql.org/docs/current/sql-altertable.html"""
    exists_queries: ClassVar[dict[str, str]] = {
        "column": "SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema()"
        " AND table_name = ? AND column_name = ?",
        "index": "SELECT 1 FROM pg_indexes WHERE schemaname = current_schema()"
        " AND tablename = ? AND indexname = ?",
        "foreign_key": "SELECT 1 FROM information_schema.table_constraints"
        " WHERE table_schema = current_schema() AND table_name = ? AND constraint_name = ?"
        " AND constraint_type = 'FOREIGN KEY'",
    }

    # --- connection -------------------------------------------------------------------------
    def server_info(self, conn: Connection | DriverConnection) -> ServerInfo:
        """Version, database, encoding, collation and current schema in one round trip."""
        row = conn.exec_driver_sql(_SERVER_INFO).mappings().one()
        return ServerInfo(
            dialect=self.name,
            version=row["version"],
            database=row["database"],
            charset=row["encoding"],
            collation=row["collation"],
            settings=extra(schema=row["schema"], read_only=row["read_only"]),
        )

    def read_only_url(self, url: URL) -> tuple[URL, dict[str, object]]:
        """Same URL; libpq ``options`` (kept from the URL, if any) gain the read-only setting."""
        existing = url.query.get("options")
        if isinstance(existing, tuple):
            existing = " ".join(existing)
        options = f"{existing} {READ_ONLY_OPTION}" if existing else READ_ONLY_OPTION
        return url, {"connect_args": {"options": options}}

    def driver_args(self, url: DbUrl) -> dict[str, Any] | None:
        """``translate_connect_args`` plus the URL's query as libpq parameters, as SQLAlchemy's
        psycopg dialect passes them; None for a repeated parameter or several hosts."""
        query = url.single_query()
        if query is None or "," in (url.host or ""):
            return None
        kwargs = url.connect_args(username="user", database="dbname")
        kwargs.update(query)
        return kwargs

    def connect_driver(self, url: DbUrl, read_only: bool) -> DriverConnection | None:
        """A psycopg connection with :meth:`driver_args`; None when those need SQLAlchemy."""
        kwargs = self.driver_args(url)
        if kwargs is None:
            return None
        import psycopg

        from dbmedic.driver import DriverConnection, DriverError

        if read_only:
            existing = kwargs.get("options")
            kwargs["options"] = f"{existing} {READ_ONLY_OPTION}" if existing else READ_ONLY_OPTION
        try:
            raw = psycopg.connect(**kwargs)
        except psycopg.Error as e:
            raise DriverError(e) from e
        return DriverConnection(
            raw, psycopg.Error, reopen=lambda: self.connect_driver(url, read_only)
        )

    def describe_error(self, exc: BaseException) -> str:
        """One sentence for a psycopg error: ``database "x" does not exist``; never a password."""
        orig = getattr(exc, "orig", None) or exc
        diag = getattr(orig, "diag", None)
        primary = getattr(diag, "message_primary", None) if diag is not None else None
        if primary:
            return str(primary)
        text = str(orig).strip()
        return describe_psycopg_error(text) if text else type(orig).__name__

    def table_names(self, conn: Connection | DriverConnection) -> list[str]:
        """Names of the tables of the current schema, sorted (one query)."""
        return [r[0] for r in conn.exec_driver_sql(_TABLE_NAMES)]

    def column_names(self, conn: Connection | DriverConnection, table: str) -> list[str]:
        return [str(r[0]) for r in conn.exec_driver_sql(_COLUMN_NAMES, (table,))]

    # --- inspection -------------------------------------------------------------------------
    def inspect(self, conn: Connection | DriverConnection, info: ServerInfo) -> Schema:
        from dbmedic.dialects.postgres.inspect import read_schema

        assert self.catalog is not None
        return read_schema(conn, info, self.catalog)

    # --- rendering --------------------------------------------------------------------------
    def quote(self, identifier: str) -> str:
        return render.quote(identifier)

    def render_create_table(self, table: Table) -> list[str]:
        return render.create_table(table)

    def render_change(self, change: Change) -> list[str]:
        return render.render_change(change)

    def create_database_sql(
        self, name: str, charset: str | None = None, collation: str | None = None
    ) -> list[str]:
        """The server's default template and encoding: a scratch database holds only structure."""
        return [f"CREATE DATABASE {self.quote(name)}"]

    def drop_database_sql(self, name: str) -> list[str]:
        """``WITH (FORCE)`` ends other sessions (PostgreSQL 13+):
        https://www.postgresql.org/docs/current/sql-dropdatabase.html"""
        return [f"DROP DATABASE IF EXISTS {self.quote(name)} WITH (FORCE)"]
