"""The dialect interface and registry.

Algorithms (diff, ordering, planning) are written once; a dialect answers narrow questions:
how to read its catalog (``inspect``), how to quote a name, how to render one change as DDL,
how to explain a driver error in one sentence. MariaDB subclasses MySQL and overrides only what
differs. Nothing outside this package asks ``if dialect == ...``.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from dbmedic.errors import UnsupportedDialect
from dbmedic.migration_model import Extra

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

    from sqlalchemy.engine import URL, Connection, Engine

    from dbmedic.changes import Change
    from dbmedic.driver import DbUrl, DriverConnection
    from dbmedic.model import Schema, Table


@dataclass(frozen=True, slots=True)
class ServerInfo:
    """Facts about a server read once per connection: dialect, version, database, settings."""

    dialect: str
    version: str
    database: str | None = None
    charset: str | None = None
    collation: str | None = None
    settings: Extra = ()
    """Server settings that change behaviour: (("lower_case_table_names", "0"), ("sql_mode", "...")),"""

    def setting(self, name: str) -> str | None:
        return dict(self.settings).get(name)


class SqlFiles:
    """Catalog queries kept as ``.sql`` files in a dialect's ``sql/`` folder, one per object kind."""

    def __init__(self, package: str) -> None:
        self.package = package

    def folder(self) -> Traversable:
        """The ``sql/`` folder (``importlib.resources`` loads here: ``status`` reads no catalog)."""
        from importlib import resources

        return resources.files(self.package) / "sql"

    def names(self) -> list[str]:
        return sorted(p.name[:-4] for p in self.folder().iterdir() if p.name.endswith(".sql"))

    def __getitem__(self, name: str) -> str:
        return (self.folder() / f"{name}.sql").read_text(encoding="utf-8")

    def __len__(self) -> int:
        return len(self.names())


class Dialect:
    """Base class of every dialect; subclasses are registered with :func:`register`."""

    name: ClassVar[str] = ""
    family: ClassVar[str] = ""
    """Dialects of one family compare with each other: ``mysql`` for MySQL and MariaDB."""
    driver: ClassVar[str] = ""
    """SQLAlchemy driver name used when a URL names none: ``mysql+pymysql``."""
    sqlglot_dialect: ClassVar[str] = ""
    """``read=``/``write=`` name for sqlglot."""
    transactional_ddl: ClassVar[bool] = False
    """Whether DDL can run inside a transaction and be rolled back."""
    catalog: ClassVar[SqlFiles | None] = None
    """The bulk catalog queries ``inspect`` runs: their number does not grow with the tables."""

    # --- connection -------------------------------------------------------------------------
    def server_info(self, conn: Connection | DriverConnection) -> ServerInfo:
        """Read version, current database and behaviour-changing settings in one round trip."""
        raise NotImplementedError

    def read_only_url(self, url: URL) -> tuple[URL, dict[str, object]]:
        """URL and ``create_engine`` keyword arguments that open a read-only session."""
        raise NotImplementedError

    def on_connect(self, dbapi_connection: object, read_only: bool) -> None:
        """Session set-up run on every new DBAPI connection (read-only mode, sql_mode...)."""

    def driver_args(self, url: DbUrl) -> dict[str, Any] | None:
        """The driver's ``connect()`` keyword arguments for ``url``, as SQLAlchemy's dialect
        would compute them, or None when the URL has options only SQLAlchemy translates.
        Default: None."""
        return None

    def connect_driver(self, url: DbUrl, read_only: bool) -> DriverConnection | None:
        """A connection straight through the driver, with the session set-up of
        :meth:`on_connect`, or None when this URL needs SQLAlchemy (options only SQLAlchemy
        translates): then the engine is used. Raises ``DriverError`` when the server refuses.
        Default: None."""
        return None

    def prepare_engine(self, engine: Engine, read_only: bool) -> None:
        """Engine-level set-up run once after ``create_engine`` (event listeners); default none."""

    def table_names(self, conn: Connection | DriverConnection) -> list[str]:
        """Names of the user tables of the current database, sorted, in one query."""
        raise NotImplementedError

    def column_names(self, conn: Connection | DriverConnection, table: str) -> list[str]:
        """Names of the columns of ``table`` in the current database, in table order (empty
        when there is no such table), in one query."""
        raise NotImplementedError

    def describe_error(self, exc: BaseException) -> str:
        """One sentence (no secret) for a driver error: ``access denied for user 'app'``."""
        orig = getattr(exc, "orig", None) or exc
        text = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
        return text

    # --- inspection -------------------------------------------------------------------------
    def inspect(self, conn: Connection | DriverConnection, info: ServerInfo) -> Schema:
        """Read the whole schema of the current database with a constant number of queries."""
        raise NotImplementedError

    # --- rendering --------------------------------------------------------------------------
    def quote(self, identifier: str) -> str:
        """Quote an identifier for this dialect (always, so reserved words are safe)."""
        raise NotImplementedError

    def render_create_table(self, table: Table) -> list[str]:
        """CREATE TABLE (with its indexes, keys and the foreign keys the Table carries)."""
        raise NotImplementedError

    def render_change(self, change: Change) -> list[str]:
        """DDL statements for one change, without trailing semicolons."""
        raise NotImplementedError

    def render(self, changes: Sequence[Change], current: Schema | None = None) -> list[str]:
        """DDL for a whole change list, in safe order (see ``changes.order_changes``).

        ``current`` is the schema the statements will run against; dialects that must rebuild
        tables to alter them (SQLite) use it and override this method.
        """
        from dbmedic.changes import order_changes

        statements: list[str] = []
        for change in order_changes(changes, self.inline_foreign_keys):
            statements.extend(self.render_change(change))
        return statements

    def assign_value(self, expression: str, to_type: str) -> str:
        """``expression`` converted for assignment to a column of ``to_type`` (copying the data of
        a moved-aside object back): an explicit ``CAST`` by default (PostgreSQL has no implicit
        assignment cast from text to numbers; SQLite accepts any type name)."""
        return f"CAST({expression} AS {to_type})"

    def exact_create_statements(self, conn: Connection, tables: Sequence[str]) -> dict[str, str]:
        """Read-only: the server's own CREATE TABLE text of ``tables`` where it has one
        (MySQL/MariaDB ``SHOW CREATE TABLE``); {} where the dialect renders DDL from the model."""
        return {}

    def outside_transaction(self, statement: str) -> bool:
        """Whether ``statement`` must run outside any transaction, in autocommit mode on the
        connection that runs the others (SQLite ``PRAGMA foreign_keys``); default False."""
        return False

    inline_foreign_keys: ClassVar[bool] = False
    """True when foreign keys must be created with their table (SQLite cannot add them later)."""

    # --- scratch ("shadow") databases -------------------------------------------------------
    databases_are_files: ClassVar[bool] = False
    """True when a database is a file (SQLite): a scratch database is a temporary file, not
    ``CREATE DATABASE``."""

    add_column_if_not_exists: ClassVar[bool] = False
    """``ALTER TABLE ... ADD COLUMN IF NOT EXISTS`` exists (MariaDB, PostgreSQL; not MySQL 8, SQLite)."""
    create_index_if_not_exists: ClassVar[bool] = True
    """``CREATE INDEX IF NOT EXISTS`` exists (MariaDB, PostgreSQL, SQLite; not MySQL 8)."""

    exists_queries: ClassVar[dict[str, str]] = {}
    """Per object kind (``column``, ``index``, ``foreign_key``): a catalog query taking (table,
    name) as ``?`` parameters that returns a row when the object exists. Shown to users inside
    guards for their migrations (Laravel ``DB::select``, a check before a SQLite statement)."""

    def create_database_sql(
        self, name: str, charset: str | None = None, collation: str | None = None
    ) -> list[str]:
        """``CREATE DATABASE`` for a scratch database on the same server (run in autocommit)."""
        raise NotImplementedError

    def drop_database_sql(self, name: str) -> list[str]:
        """``DROP DATABASE IF EXISTS`` for a scratch database, even while others are connected."""
        raise NotImplementedError


_WORD = re.compile(r"^[A-Za-z0-9_]+$")


def setting_word(value: str | None) -> str | None:
    """A charset or collation name safe to put into DDL (letters, digits, ``_``), else None."""
    return value if value and _WORD.match(value) else None


_REGISTRY: dict[str, type[Dialect]] = {}
_MODULES = {
    "mysql": "dbmedic.dialects.mysql",
    "mariadb": "dbmedic.dialects.mysql",
    "postgresql": "dbmedic.dialects.postgres",
    "sqlite": "dbmedic.dialects.sqlite",
}

D = TypeVar("D", bound=type[Dialect])


def register(name: str) -> Callable[[D], D]:
    """Class decorator: make a dialect available under ``name``."""

    def deco(cls: D) -> D:
        cls.name = name
        _REGISTRY[name] = cls
        return cls

    return deco


def get_dialect(name: str) -> Dialect:
    """An instance of the dialect registered as ``name`` (``mysql``, ``mariadb``, ``postgresql``, ``sqlite``)."""
    if name not in _REGISTRY:
        module = _MODULES.get(name)
        if module is None:
            raise UnsupportedDialect(
                f"unsupported database kind {name!r}",
                hint="dbmedic works with mysql, mariadb, postgresql and sqlite URLs",
            )
        importlib.import_module(module)
    return _REGISTRY[name]()


def known_dialects() -> list[str]:
    return sorted(_MODULES)
