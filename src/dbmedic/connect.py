"""Opening databases: URL parsing, credentials, read-only references, server facts.

``open_target(url)`` and ``open_reference(url)`` return a :class:`Database`: an SQLAlchemy engine
with its dialect and :class:`ServerInfo`, and a redacted name safe to show. A reference is opened
read-only at the session level, so a write through it fails on the server, not by our promise.

A URL given as text is opened through the driver itself (:mod:`dbmedic.driver`) when the dialect
can (``Dialect.connect_driver``): the server facts are read without importing SQLAlchemy, and
inspection reuses that connection (:meth:`Database.driver_connect`), as do the reads of ``status``
(table names, tracking tables, the runner's journal: :meth:`Database.reading`). The engine is then
created only when a caller asks for ``engine`` or ``connect()``, from the same URL and with the
same session set-up.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from dbmedic.dialects import Dialect, ServerInfo, get_dialect
from dbmedic.driver import DbUrl, DriverConnection, DriverError
from dbmedic.errors import ConfigError, ConnectError
from dbmedic.secrets import fill_password, redact, scrub

if TYPE_CHECKING:
    from sqlalchemy.engine import URL, Connection, Engine

_SCHEMES = {
    "mysql": "mysql+pymysql",
    "mariadb": "mysql+pymysql",
    "mariadb+pymysql": "mysql+pymysql",
    "postgres": "postgresql+psycopg",
    "postgresql": "postgresql+psycopg",
    "pgsql": "postgresql+psycopg",
    "sqlite": "sqlite",
    "sqlite3": "sqlite",
}
_U = TypeVar("_U", "URL", DbUrl)
_FAMILIES = {"mysql": "mysql", "mariadb": "mysql", "postgresql": "postgresql", "sqlite": "sqlite"}


def parse_url(text: str | URL) -> URL:
    """Parse a database URL (SQLAlchemy form; ``mysql://`` and ``postgres://`` get default drivers).

    A path to an existing SQLite file is accepted as ``sqlite:///path``. The password is filled in
    from the environment or option files when the URL has none. Raises ConfigError.
    """
    if not isinstance(text, str):
        return normalise_url(text)
    return parse_db_url(text).to_sqlalchemy()


def parse_db_url(text: str) -> DbUrl:
    """:func:`parse_url` without SQLAlchemy: the same URL as a :class:`~dbmedic.driver.DbUrl`."""
    raw = text.strip()
    if "://" not in raw:
        if raw and Path(raw).is_file():
            raw = "sqlite:///" + str(Path(raw).resolve())
        else:
            raise ConfigError(
                f"{redact(raw)!s} is not a database URL",
                hint="write it like mysql://user@host/db, postgresql://user@host/db or sqlite:///file.db",
            )
    try:
        url = DbUrl.parse(raw)
    except ValueError as e:  # also a port that is not a number
        raise ConfigError(f"{redact(raw)} is not a valid database URL") from e
    return normalise_url(url)


def normalise_url(url: _U) -> _U:
    """Default driver, a known family, a database name, ``~`` expanded, the password filled."""
    scheme = url.drivername
    if scheme in _SCHEMES:
        url = url.set(drivername=_SCHEMES[scheme])
    backend = url.get_backend_name()
    family = _FAMILIES.get(backend)
    if family is None:
        from dbmedic.errors import UnsupportedDialect

        raise UnsupportedDialect(
            f"unsupported database kind {backend!r} in {redact(url)}",
            hint="dbmedic works with mysql, mariadb, postgresql and sqlite URLs",
        )
    if family != "sqlite" and not url.database:
        raise ConfigError(
            f"{redact(url)} names no database", hint="add /DBNAME at the end of the URL"
        )
    if family == "sqlite" and url.database and url.database != ":memory:":
        url = url.set(database=os.path.expanduser(url.database))
    return fill_password(url, family)


def url_family(url: URL | DbUrl) -> str:
    """``mysql``, ``postgresql`` or ``sqlite`` for a parsed URL."""
    return _FAMILIES[url.get_backend_name()]


class Database:
    """An open database: engine, dialect, server facts and a printable (redacted) name.

    ``url`` and ``engine`` are SQLAlchemy objects, made on first use when the database was
    opened through its driver (see the module docstring)."""

    def __init__(
        self,
        url: URL | DbUrl,
        engine: Engine | None,
        dialect: Dialect,
        info: ServerInfo,
        read_only: bool,
        engine_kwargs: dict[str, Any] | None = None,
    ) -> None:
        self._url = url
        self._sa_url: URL | None = None if isinstance(url, DbUrl) else url
        self._engine = engine
        self._engine_kwargs = engine_kwargs or {}
        self._driver: DriverConnection | None = None
        self._reading: DriverConnection | Connection | None = None
        self.dialect = dialect
        self.info = info
        self.read_only = read_only

    @property
    def url(self) -> URL:
        """The SQLAlchemy URL (with the password filled in: never show it, see ``display``)."""
        if self._sa_url is None:
            assert isinstance(self._url, DbUrl)
            self._sa_url = self._url.to_sqlalchemy()
        return self._sa_url

    @url.setter
    def url(self, value: URL) -> None:
        self._url = self._sa_url = value

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine, created on first use."""
        if self._engine is None:
            self._engine = _make_engine(self.url, self.dialect, self.read_only, self._engine_kwargs)
        return self._engine

    @engine.setter
    def engine(self, value: Engine) -> None:
        self._engine = value

    @property
    def plain_url(self) -> URL | DbUrl:
        """The URL as it was opened (a :class:`DbUrl` unless a SQLAlchemy URL was given): the
        attributes of :attr:`url` without importing SQLAlchemy (password filled in: never
        show it)."""
        return self._url

    def url_for(self, database: str) -> URL | DbUrl:
        """This database's URL with another database name, of the kind it was opened with (so
        :func:`open_database` opens it the same way: through the driver or an engine)."""
        return self._url.set(database=database)

    @property
    def display(self) -> str:
        """The URL with its password hidden: safe to print, log or put in a report."""
        return redact(self._url)

    @property
    def name(self) -> str:
        """The database name (file name for SQLite)."""
        return self.info.database or str(self._url.database or "")

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """A connection; driver errors become one-sentence :class:`ConnectError`."""
        from sqlalchemy.exc import DBAPIError

        try:
            conn = self.engine.connect()
        except DBAPIError as e:
            raise self._connect_error(e) from e
        try:
            yield conn
        finally:
            conn.close()

    @contextmanager
    def driver_connect(self) -> Iterator[DriverConnection | Connection]:
        """A connection for reading the catalog: the driver's own (no SQLAlchemy) when the
        database was opened that way, else an engine connection. Either offers what the
        dialects' ``server_info``/``inspect`` use (``exec_driver_sql``)."""
        if self._driver is None and isinstance(self._url, DbUrl):
            self._driver = self._open_driver()
        if self._driver is None:
            with self.connect() as conn:
                yield conn
            return
        driver, self._driver = self._driver, None
        try:
            yield driver
        finally:
            driver.close()

    @contextmanager
    def reading(self) -> Iterator[DriverConnection | Connection]:
        """One connection for a series of reads (table names, a tracking table, the journal):
        nested calls share the outermost one, so ``status`` reads everything on the connection
        it opened with. The driver's own (no SQLAlchemy import, see :meth:`driver_connect`),
        or a pooled engine connection once an engine exists. Only ``exec_driver_sql``
        (with the driver's parameter style) may be used on it."""
        if self._reading is not None:
            yield self._reading
            return
        pooled = self._engine is not None and self._driver is None
        opened = self.connect() if pooled else self.driver_connect()
        with opened as conn:
            self._reading = conn
            try:
                yield conn
            finally:
                self._reading = None

    def _open_driver(self) -> DriverConnection | None:
        assert isinstance(self._url, DbUrl)
        try:
            return self.dialect.connect_driver(self._url, self.read_only)
        except DriverError as e:
            raise self._connect_error(e) from e

    def _connect_error(self, e: BaseException) -> ConnectError:
        reason = scrub(self.dialect.describe_error(e))
        return ConnectError(f"cannot connect to {self.display} ({reason})", url=self.display)

    def close(self) -> None:
        if self._driver is not None:
            self._driver.close()
            self._driver = None
        if self._engine is not None:
            self._engine.dispose()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _dialect_for(url: URL | DbUrl) -> Dialect:
    return get_dialect(url_family(url))


def _make_engine(
    url: URL, dialect: Dialect, read_only: bool, engine_kwargs: dict[str, Any]
) -> Engine:
    """An engine whose every new connection gets the dialect's session set-up."""
    from sqlalchemy import create_engine, event

    engine_url = url
    kwargs: dict[str, Any] = {}
    if read_only:
        engine_url, kwargs = dialect.read_only_url(url)
    kwargs.update(engine_kwargs)
    engine = create_engine(engine_url, **kwargs)
    dialect.prepare_engine(engine, read_only)

    @event.listens_for(engine, "connect")
    def _setup(dbapi_connection: object, _record: object) -> None:
        dialect.on_connect(dbapi_connection, read_only)

    return engine


def open_database(
    url: str | URL | DbUrl, *, read_only: bool = False, **engine_kwargs: Any
) -> Database:
    """Open ``url`` and read its server facts; MySQL URLs become the MariaDB dialect on MariaDB.

    A string or a :class:`DbUrl` opens through the driver (no SQLAlchemy until an engine is
    needed), a SQLAlchemy URL through an engine. Raises ConfigError for a bad URL, ConnectError
    when the server cannot be reached or refuses.
    """
    parsed: URL | DbUrl
    if isinstance(url, str):
        parsed = parse_db_url(url)
    elif isinstance(url, DbUrl):
        parsed = normalise_url(url)
    else:
        parsed = parse_url(url)
    dialect = _dialect_for(parsed)
    if url_family(parsed) == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(str(parsed.database))
        if not path.is_file():
            raise ConnectError(f"cannot open {redact(parsed)} (no such file)", url=redact(parsed))
    db = Database(parsed, None, dialect, ServerInfo(dialect.name, ""), read_only, engine_kwargs)
    if isinstance(parsed, DbUrl) and not engine_kwargs:
        db._driver = db._open_driver()
    try:
        if db._driver is not None:
            info = dialect.server_info(db._driver)
            db._driver.rollback()
        else:
            info = _server_info_through_engine(db)
    except DriverError as e:
        db.close()
        raise db._connect_error(e) from e
    if info.dialect != dialect.name:
        dialect = get_dialect(info.dialect)
    db.dialect = dialect
    db.info = info
    return db


def _server_info_through_engine(db: Database) -> ServerInfo:
    from sqlalchemy.exc import DBAPIError

    try:
        with db.engine.connect() as conn:
            return db.dialect.server_info(conn)
    except DBAPIError as e:
        db.close()
        raise db._connect_error(e) from e


def open_target(url: str | URL | DbUrl, **engine_kwargs: Any) -> Database:
    """Open a database that dbmedic may change (after the safety checks of the caller)."""
    return open_database(url, read_only=False, **engine_kwargs)


def open_reference(url: str | URL | DbUrl, **engine_kwargs: Any) -> Database:
    """Open a reference database read-only: the server itself refuses any write through it."""
    return open_database(url, read_only=True, **engine_kwargs)
