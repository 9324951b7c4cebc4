"""Opening databases: URL parsing, credentials, read-only references, server facts.

``open_target(url)`` and ``open_reference(url)`` return a :class:`Database`: an SQLAlchemy engine
with its dialect and :class:`ServerInfo`, and a redacted name safe to show. A reference is opened
read-only at the session level, so a write through it fails on the server, not by our promise.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dbmedic.dialects import Dialect, ServerInfo, get_dialect
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
_FAMILIES = {"mysql": "mysql", "mariadb": "mysql", "postgresql": "postgresql", "sqlite": "sqlite"}


def parse_url(text: str | URL) -> URL:
    """Parse a database URL (SQLAlchemy form; ``mysql://`` and ``postgres://`` get default drivers).

    A path to an existing SQLite file is accepted as ``sqlite:///path``. The password is filled in
    from the environment or option files when the URL has none. Raises ConfigError.
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    if not isinstance(text, str):
        url = text
    else:
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
            url = make_url(raw)
        except (ArgumentError, ValueError) as e:  # ValueError: a port that is not a number
            raise ConfigError(f"{redact(raw)} is not a valid database URL") from e
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


def url_family(url: URL) -> str:
    """``mysql``, ``postgresql`` or ``sqlite`` for a parsed URL."""
    return _FAMILIES[url.get_backend_name()]


@dataclass
class Database:
    """An open database: engine, dialect, server facts and a printable (redacted) name."""

    url: URL
    engine: Engine
    dialect: Dialect
    info: ServerInfo
    read_only: bool

    @property
    def display(self) -> str:
        """The URL with its password hidden: safe to print, log or put in a report."""
        return redact(self.url)

    @property
    def name(self) -> str:
        """The database name (file name for SQLite)."""
        return self.info.database or str(self.url.database or "")

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

    def _connect_error(self, e: BaseException) -> ConnectError:
        reason = scrub(self.dialect.describe_error(e))
        return ConnectError(f"cannot connect to {self.display} ({reason})", url=self.display)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _dialect_for(url: URL) -> Dialect:
    return get_dialect(url_family(url))


def open_database(url: str | URL, *, read_only: bool = False, **engine_kwargs: Any) -> Database:
    """Open ``url`` and read its server facts; MySQL URLs become the MariaDB dialect on MariaDB.

    Raises ConfigError for a bad URL, ConnectError when the server cannot be reached or refuses.
    """
    from sqlalchemy import create_engine, event
    from sqlalchemy.exc import DBAPIError

    parsed = parse_url(url)
    dialect = _dialect_for(parsed)
    engine_url = parsed
    kwargs: dict[str, Any] = {}
    if read_only:
        engine_url, kwargs = dialect.read_only_url(parsed)
    if url_family(parsed) == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(str(parsed.database))
        if not path.is_file():
            raise ConnectError(f"cannot open {redact(parsed)} (no such file)", url=redact(parsed))
    kwargs.update(engine_kwargs)
    engine = create_engine(engine_url, **kwargs)
    dialect.prepare_engine(engine, read_only)

    @event.listens_for(engine, "connect")
    def _setup(dbapi_connection: object, _record: object) -> None:
        dialect.on_connect(dbapi_connection, read_only)

    db = Database(parsed, engine, dialect, ServerInfo(dialect.name, ""), read_only)
    try:
        with engine.connect() as conn:
            info = dialect.server_info(conn)
    except DBAPIError as e:
        engine.dispose()
        raise db._connect_error(e) from e
    if info.dialect != dialect.name:
        dialect = get_dialect(info.dialect)
    db.dialect = dialect
    db.info = info
    return db


def open_target(url: str | URL, **engine_kwargs: Any) -> Database:
    """Open a database that dbmedic may change (after the safety checks of the caller)."""
    return open_database(url, read_only=False, **engine_kwargs)


def open_reference(url: str | URL, **engine_kwargs: Any) -> Database:
    """Open a reference database read-only: the server itself refuses any write through it."""
    return open_database(url, read_only=True, **engine_kwargs)
