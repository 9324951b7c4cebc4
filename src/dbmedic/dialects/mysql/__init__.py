"""MySQL and MariaDB.

``MySQL`` targets MySQL 8.0.16+ (CHECK constraints in information_schema); ``MariaDB`` subclasses it
and overrides only what differs (10.6+: ``STATISTICS.IGNORED``; string defaults quoted since
10.2.7). A ``mysql://`` URL becomes the MariaDB dialect when the server says so (see
``connect.open_database``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from dbmedic.dialects.base import Dialect, ServerInfo, SqlFiles, register, setting_word
from dbmedic.dialects.mysql import cdriver
from dbmedic.dialects.mysql.quoting import quote_ident

if TYPE_CHECKING:
    from sqlalchemy.engine import URL, Connection, Engine

    from dbmedic.changes import Change
    from dbmedic.driver import DbUrl, DriverConnection
    from dbmedic.model import Schema, Table


class VariantSqlFiles(SqlFiles):
    """``sql/*.sql``, where a file of the same name in ``sql/<variant>/`` takes precedence."""

    def __init__(self, package: str, variant: str | None = None) -> None:
        super().__init__(package)
        self.variant = variant

    def __getitem__(self, name: str) -> str:
        if self.variant:
            override = self.folder() / self.variant / f"{name}.sql"
            if override.is_file():
                return override.read_text(encoding="utf-8")
        return super().__getitem__(name)


_SERVER_INFO = (
    "SELECT VERSION(), DATABASE(), @@character_set_database, @@collation_database, "
    "@@lower_case_table_names, @@sql_mode"
)
_TABLE_NAMES = (
    "SELECT TABLE_NAME FROM information_schema.TABLES "
    "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE'"
)
_COLUMN_NAMES = (
    "SELECT COLUMN_NAME FROM information_schema.COLUMNS "
    "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s ORDER BY ORDINAL_POSITION"
)
_DRIVER_OPTIONS = {"charset", "unix_socket", "connect_timeout", "read_timeout", "write_timeout"}
"""URL query options passed to PyMySQL as they are (the rest goes through SQLAlchemy)."""
_QUOTED_NAME = re.compile(r"'([^']*)'")
_USER = re.compile(r"user '([^']*)'")
_AFTER = {
    kind: re.compile(kind + r" '([^']*)'", re.IGNORECASE)
    for kind in ("database", "table", "column", "name", "host", "on", "near")
}


def _named(kind: str, message: str) -> str:
    """The quoted name after ``kind`` in a server message (``database 'x'`` -> ``x``)."""
    if kind == "table":  # MariaDB: for table `db`.`t`; MySQL: for table 't'
        m = re.search(r"table ((?:`[^`]*`\.)?`[^`]*`)", message, re.IGNORECASE)
        if m:
            return m.group(1).rsplit(".", 1)[-1].strip("`")
    m = (_USER if kind == "user" else _AFTER[kind]).search(message)
    if m:
        return m.group(1).rsplit(".", 1)[-1] if kind == "table" else m.group(1)
    first = _QUOTED_NAME.search(message)
    return first.group(1) if first else "?"


_AUTO_INCREMENT_OPTION = re.compile(r" AUTO_INCREMENT=\d+")


_CONNECTION_CLASS: type | None = None


def _connection_class() -> type:
    """PyMySQL's ``Connection`` whose TLS context for its default "preferred" mode (no ``ssl*``
    option given: TLS when the server offers it, certificates not verified) is built without
    loading the system's CA store, which that mode never consults (``ssl.create_default_context``
    spends ~20 ms reading it, more than the whole connect). Any ``ssl*`` option, or a PyMySQL
    without this method, gets PyMySQL's own behaviour."""
    global _CONNECTION_CLASS
    if _CONNECTION_CLASS is None:
        import ssl

        import pymysql.connections

        class Connection(pymysql.connections.Connection):  # type: ignore[misc]
            def _create_ssl_ctx(self, sslp: object) -> object:
                if sslp != {}:
                    return super()._create_ssl_ctx(sslp)
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
                return ctx

        _CONNECTION_CLASS = Connection
    return _CONNECTION_CLASS


@register("mysql")
class MySQL(Dialect):
    family = "mysql"
    driver = "mysql+pymysql"
    sqlglot_dialect = "mysql"
    transactional_ddl = False
    """DDL commits implicitly: https://dev.mysql.com/doc/refman/8.0/en/implicit-commit.html"""
    catalog: ClassVar[SqlFiles | None] = VariantSqlFiles(__package__)
    create_index_if_not_exists: ClassVar[bool] = False
    """https://dev.mysql.com/doc/refman/8.0/en/create-index.html has no IF NOT EXISTS"""
    exists_queries: ClassVar[dict[str, str]] = {
        "column": "SELECT 1 FROM information_schema.columns WHERE table_schema = DATABASE()"
        " AND table_name = ? AND column_name = ?",
        "index": "SELECT 1 FROM information_schema.statistics WHERE table_schema = DATABASE()"
        " AND table_name = ? AND index_name = ?",
        "foreign_key": "SELECT 1 FROM information_schema.table_constraints"
        " WHERE table_schema = DATABASE() AND table_name = ? AND constraint_name = ?"
        " AND constraint_type = 'FOREIGN KEY'",
    }

    generated_nullability: ClassVar[bool] = True
    """MySQL accepts NULL/NOT NULL on a generated column; MariaDB rejects both."""
    drop_check_keyword: ClassVar[str] = "CHECK"
    """``ALTER TABLE t DROP CHECK c`` (MySQL 8.0.16+); MariaDB only knows ``DROP CONSTRAINT``."""
    hidden_index_keyword: ClassVar[str] = "INVISIBLE"
    """https://dev.mysql.com/doc/refman/8.0/en/invisible-indexes.html; MariaDB says IGNORED."""
    escaped_expressions: ClassVar[bool] = True
    """MySQL backslash-escapes quotes in GENERATION_EXPRESSION; MariaDB prints plain SQL."""

    def exact_create_statements(self, conn: Connection, tables: Sequence[str]) -> dict[str, str]:
        """``SHOW CREATE TABLE`` of each table (one statement per table: the server has no bulk
        form), without the ``AUTO_INCREMENT=n`` counter so a copy starts its own sequence.
        https://mariadb.com/kb/en/show-create-table/"""
        out: dict[str, str] = {}
        for name in tables:
            row = conn.exec_driver_sql(f"SHOW CREATE TABLE {self.quote(name)}").one()
            out[name] = _AUTO_INCREMENT_OPTION.sub("", str(row[1]))
        return out

    # --- connection -------------------------------------------------------------------------
    def server_info(self, conn: Connection | DriverConnection) -> ServerInfo:
        """One round trip: version, current database, its charset/collation, case and sql_mode."""
        row = conn.exec_driver_sql(_SERVER_INFO).one()
        version = str(row[0])
        return ServerInfo(
            dialect="mariadb" if "mariadb" in version.lower() else "mysql",
            version=version,
            database=row[1],
            charset=row[2],
            collation=row[3],
            settings=(
                ("lower_case_table_names", str(row[4])),
                ("sql_mode", str(row[5] or "")),
            ),
        )

    def read_only_url(self, url: URL) -> tuple[URL, dict[str, object]]:
        """The URL unchanged: read-only mode is set per session by :meth:`on_connect`."""
        return url, {}

    def driver_args(self, url: DbUrl) -> dict[str, Any] | None:
        """The arguments SQLAlchemy's pymysql dialect would pass (``translate_connect_args``);
        None for URL options beyond the plain ones of ``_DRIVER_OPTIONS``."""
        query = url.single_query()
        if query is None or not set(query) <= _DRIVER_OPTIONS:
            return None
        kwargs = url.connect_args(username="user")
        for key, value in query.items():
            kwargs[key] = int(value) if key.endswith("_timeout") else value
        return kwargs

    def connect_driver(self, url: DbUrl, read_only: bool) -> DriverConnection | None:
        """A connection with :meth:`driver_args`: mysqlclient's where :mod:`.cdriver` finds it
        equivalent, else PyMySQL's; None when those arguments need SQLAlchemy."""
        kwargs = self.driver_args(url)
        if kwargs is None:
            return None
        from dbmedic.driver import DriverConnection, DriverError

        c_error = cdriver.error_class() if cdriver.suits(kwargs) else None
        if c_error is not None:
            try:
                raw = cdriver.connect(kwargs)
                self.on_connect(raw, read_only)
                return DriverConnection(
                    raw, c_error, reopen=lambda: self.connect_driver(url, read_only)
                )
            except c_error as e:
                if not cdriver.retry_with_pymysql(e):
                    raise DriverError(e) from e
        import pymysql

        try:
            raw = _connection_class()(**kwargs)
            self.on_connect(raw, read_only)
        except pymysql.err.MySQLError as e:
            raise DriverError(e) from e
        return DriverConnection(
            raw, pymysql.err.MySQLError, reopen=lambda: self.connect_driver(url, read_only)
        )

    def prepare_engine(self, engine: Engine, read_only: bool) -> None:
        """Engine connections through PyMySQL use the driver path's connection class
        (:func:`_connection_class`: no CA store read for the default TLS mode), so a repair that
        opens a dozen pooled connections does not pay ~20-40 ms for each."""
        if engine.dialect.driver != "pymysql":
            return
        from sqlalchemy import event

        @event.listens_for(engine, "do_connect")
        def _connect(_dialect: object, _record: object, cargs: Any, cparams: Any) -> object:
            return _connection_class()(*cargs, **cparams)

    def on_connect(self, dbapi_connection: object, read_only: bool) -> None:
        """A reference session is ``READ ONLY``: the server refuses DML and DDL (error 1792)."""
        if not read_only:
            return
        cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
        try:
            cursor.execute("SET SESSION TRANSACTION READ ONLY")
        finally:
            cursor.close()

    def describe_error(self, exc: BaseException) -> str:
        """One sentence for a PyMySQL error; names users and databases, never a password."""
        orig = getattr(exc, "orig", None) or exc
        args: tuple[object, ...] = tuple(getattr(orig, "args", ()))
        code = args[0] if args and isinstance(args[0], int) else None
        message = str(args[1]) if len(args) > 1 else str(orig)
        message = message.strip().splitlines()[0] if message.strip() else type(orig).__name__
        return _describe(code, message)

    def quoted_defaults(self, info: ServerInfo) -> bool:
        """Whether COLUMN_DEFAULT prints defaults as SQL (quoted strings, ``NULL``)."""
        return False

    def catalog_expression(self, text: str) -> str:
        """An expression as information_schema prints it, made plain SQL."""
        from dbmedic.dialects.mysql.normalize import unescape_catalog

        return unescape_catalog(text) if self.escaped_expressions else text

    def table_names(self, conn: Connection | DriverConnection) -> list[str]:
        """Names of the base tables of the current database, sorted, in one query."""
        return sorted(str(r[0]) for r in conn.exec_driver_sql(_TABLE_NAMES))

    def column_names(self, conn: Connection | DriverConnection, table: str) -> list[str]:
        return [str(r[0]) for r in conn.exec_driver_sql(_COLUMN_NAMES, (table,))]

    # --- inspection -------------------------------------------------------------------------
    def inspect(self, conn: Connection | DriverConnection, info: ServerInfo) -> Schema:
        from dbmedic.dialects.mysql.inspect import inspect_schema

        return inspect_schema(self, conn, info)

    # --- rendering --------------------------------------------------------------------------
    def quote(self, identifier: str) -> str:
        return quote_ident(identifier)

    def render_create_table(self, table: Table) -> list[str]:
        from dbmedic.dialects.mysql.render import create_table

        return create_table(self, table)

    def render_change(self, change: Change) -> list[str]:
        from dbmedic.dialects.mysql.render import render_change

        return render_change(self, change)

    def assign_value(self, expression: str, to_type: str) -> str:
        """Assignment converts implicitly and strict mode rejects what does not fit; ``CAST``
        knows only a few target types (no ``VARCHAR(n)``, ``INT`` only on MariaDB):
        https://dev.mysql.com/doc/refman/8.0/en/cast-functions.html#function_cast"""
        return expression

    def create_database_sql(
        self, name: str, charset: str | None = None, collation: str | None = None
    ) -> list[str]:
        sql = f"CREATE DATABASE {self.quote(name)}"
        if cs := setting_word(charset):
            sql += f" CHARACTER SET {cs}"
        if co := setting_word(collation):
            sql += f" COLLATE {co}"
        return [sql]

    def drop_database_sql(self, name: str) -> list[str]:
        return [f"DROP DATABASE IF EXISTS {self.quote(name)}"]


@register("mariadb")
class MariaDB(MySQL):
    catalog: ClassVar[SqlFiles | None] = VariantSqlFiles(__package__, "mariadb")
    generated_nullability = False
    """https://mariadb.com/kb/en/generated-columns/: no NULL/NOT NULL on a generated column."""
    drop_check_keyword = "CONSTRAINT"
    """https://mariadb.com/kb/en/alter-table/#drop-constraint"""
    hidden_index_keyword = "IGNORED"
    """https://mariadb.com/kb/en/ignored-indexes/"""
    escaped_expressions = False
    add_column_if_not_exists = True
    """https://mariadb.com/kb/en/alter-table/#add-column"""
    create_index_if_not_exists = True
    """https://mariadb.com/kb/en/create-index/"""

    def quoted_defaults(self, info: ServerInfo) -> bool:
        """MariaDB 10.2.7+ prints COLUMN_DEFAULT as SQL: https://mariadb.com/kb/en/information-schema-columns-table/"""
        m = re.match(r"(\d+)\.(\d+)\.(\d+)", info.version)
        return m is None or tuple(int(x) for x in m.groups()) >= (10, 2, 7)


def _describe(code: int | None, message: str) -> str:
    """The sentence for a server or client error code."""
    if code in (1045, 1698):
        return f"access denied for user '{_named('user', message)}' (wrong user name or password)"
    if code == 1049:
        return f"unknown database '{_named('database', message)}'"
    if code == 1044:
        return f"user '{_named('user', message)}' has no access to database '{_named('database', message)}'"
    if code in (1142, 1143):
        verb = message.split(" command denied", 1)[0].strip().upper()
        return (
            f"user '{_named('user', message)}' lacks the {verb} privilege "
            f"on table '{_named('table', message)}'"
        )
    if code == 1227:
        return "access denied: this needs a privilege the user does not have"
    if code == 1130:
        return f"the server does not allow connections from host '{_named('host', message)}'"
    if code == 2003:
        reason = message.rsplit("(", 1)[-1].rstrip(")") if "(" in message else "no answer"
        reason = re.sub(r"\[Errno -?\d+\]\s*", "", reason).strip().lower()
        return f"cannot reach the server at '{_named('on', message)}' ({reason})"
    if code == 2013 and "handshake" in message:  # Connector/C, when connect_timeout runs out
        return "cannot reach the server (no answer within the connect timeout)"
    if code in (2006, 2013):
        return "the connection to the server was lost"
    if code == 1040:
        return "the server has too many connections"
    if code == 1792:
        return "the database was opened read-only, so the server refused the write"
    if code == 1146:
        return f"table '{_named('table', message)}' does not exist"
    if code == 1050:
        return f"table '{_named('table', message)}' already exists"
    if code == 1060:
        return f"duplicate column name '{_named('name', message)}'"
    if code == 1061:
        return f"duplicate key name '{_named('name', message)}'"
    if code == 1054:
        return f"unknown column '{_named('column', message)}'"
    if code == 1064:
        return "SQL syntax error" + (
            f" near '{_named('near', message)}'" if "near '" in message else ""
        )
    if code in (1005, 1215, 1822):
        return f"cannot create the foreign key: {message}"
    if code in (1451, 1452):
        return "a foreign key constraint fails"
    if code is not None:
        return f"MySQL error {code}: {message}"
    return message
