"""Reading through the database driver directly, without SQLAlchemy: the fast inspection path.

``import sqlalchemy`` and an engine's first connect (its dialect runs several set-up queries)
cost ~0.2 s of every ``dbmedic inspect``/``diff``/``verify``, more than reading a 244-table
catalog. Inspection only sends a few fixed SQL strings, so it can talk to the DBAPI connection
(PyMySQL, psycopg, sqlite3) itself. This module offers:

- :class:`DbUrl`: a database URL parsed exactly like SQLAlchemy's ``make_url`` (same regular
  expression, same unquoting, same ``render_as_string``), without importing SQLAlchemy;
  ``to_sqlalchemy()`` gives the real ``URL`` when an engine is needed after all.
- :class:`DriverConnection`: a DBAPI connection with the small part of SQLAlchemy's
  ``Connection`` that the dialects' ``server_info``/``inspect``/``table_names`` use
  (``exec_driver_sql`` returning a result with ``one()``, ``all()``, ``mappings()``,
  iteration, ``cursor``, ``close()``). Driver errors come out as :class:`DriverError`, which
  carries ``orig`` like SQLAlchemy's ``DBAPIError``.

Engines stay the way to change a database: :class:`dbmedic.connect.Database` creates one
lazily, from the same URL, when a caller asks for ``engine`` or ``connect()``.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, quote_plus, unquote

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

QueryValue = str | tuple[str, ...]

# The pattern of sqlalchemy.engine.url._parse_url (SQLAlchemy 2.0/2.1), kept identical so that
# both parsers read every URL the same way.
_PATTERN = re.compile(
    r"""
        (?P<name>[\w\+]+)://
        (?:
            (?P<username>[^:/]*)
            (?::(?P<password>[^@]*))?
        @)?
        (?:
            (?:
                \[(?P<ipv6host>[^/\?]+)\] |
                (?P<ipv4host>[^/:\?]+)
            )?
            (?::(?P<port>[^/\?]*))?
        )?
        (?:/(?P<database>[^\?]*))?
        (?:\?(?P<query>.*))?
        """,
    re.X,
)


@dataclass(frozen=True)
class DbUrl:
    """A parsed database URL with the attributes (and ``set``) of SQLAlchemy's ``URL``."""

    drivername: str
    username: str | None = None
    password: str | None = None
    host: str | None = None
    port: int | None = None
    database: str | None = None
    query: Mapping[str, QueryValue] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> DbUrl:
        """Parse like ``sqlalchemy.engine.make_url``; ValueError when it is no URL (or the port
        is not a number)."""
        m = _PATTERN.match(text)
        if m is None:
            raise ValueError("Could not parse the URL")
        parts = m.groupdict()
        query: dict[str, QueryValue] = {}
        if parts["query"] is not None:
            for key, value in parse_qsl(parts["query"]):
                old = query.get(key)
                if old is None:
                    query[key] = value
                else:
                    query[key] = (*((old,) if isinstance(old, str) else old), value)
        username, password, database = (
            unquote(parts[k]) if parts[k] is not None else None
            for k in ("username", "password", "database")
        )
        port = int(parts["port"]) if parts["port"] else None
        return cls(
            parts["name"],
            username,
            password,
            parts["ipv4host"] or parts["ipv6host"],
            port,
            database,
            query,
        )

    def set(self, **changes: Any) -> DbUrl:
        """A copy with some attributes replaced (``query`` as a mapping)."""
        from dataclasses import replace

        return replace(self, **changes)

    def get_backend_name(self) -> str:
        return self.drivername.split("+", 1)[0]

    def render_as_string(self, hide_password: bool = True) -> str:
        """The URL as text, exactly as SQLAlchemy's ``URL.render_as_string`` renders it."""
        s = self.drivername + "://"
        if self.username is not None:
            s += quote(self.username, safe=" +")
            if self.password is not None:
                s += ":" + ("***" if hide_password else quote(str(self.password), safe=" +"))
            s += "@"
        if self.host is not None:
            s += f"[{self.host}]" if ":" in self.host else self.host
        if self.port is not None:
            s += ":" + str(self.port)
        if self.database is not None:
            s += "/" + quote(self.database, safe=" +/")
        if self.query:
            s += "?" + "&".join(
                f"{quote_plus(k)}={quote_plus(v)}" for k in sorted(self.query) for v in self._all(k)
            )
        return s

    def _all(self, key: str) -> tuple[str, ...]:
        value = self.query[key]
        return (value,) if isinstance(value, str) else value

    def __str__(self) -> str:
        return self.render_as_string()

    def connect_args(self, **names: str) -> dict[str, Any]:
        """host, port, username, password and database that are set, keyed as the driver wants
        (``names`` renames, e.g. ``database="dbname"``), like SQLAlchemy's
        ``URL.translate_connect_args``."""
        values = {
            "host": self.host,
            "port": self.port,
            "username": self.username,
            "password": self.password,
            "database": self.database,
        }
        return {names.get(k, k): v for k, v in values.items() if v is not None}

    def single_query(self) -> dict[str, str] | None:
        """The query parameters when each is given once, else None."""
        out: dict[str, str] = {}
        for key, value in self.query.items():
            if not isinstance(value, str):
                return None
            out[key] = value
        return out

    def to_sqlalchemy(self) -> URL:
        """The same URL as SQLAlchemy's ``URL`` (imports SQLAlchemy)."""
        from sqlalchemy.engine import URL

        return URL.create(
            self.drivername,
            username=self.username,
            password=self.password,
            host=self.host,
            port=self.port,
            database=self.database,
            query=dict(self.query),
        )


class DriverError(Exception):
    """An error raised by the driver under a :class:`DriverConnection`; ``orig`` is the driver's
    own exception (as in SQLAlchemy's ``DBAPIError``), so ``Dialect.describe_error`` reads both."""

    def __init__(self, orig: BaseException) -> None:
        super().__init__(str(orig))
        self.orig = orig


def driver_errors() -> tuple[type[BaseException], ...]:
    """The exception classes a catalog read may raise for a database error: DriverError, and
    SQLAlchemy's DBAPIError when SQLAlchemy is loaded (only then can a SQLAlchemy connection
    exist, so the check costs no import)."""
    if "sqlalchemy" in sys.modules:
        from sqlalchemy.exc import DBAPIError

        return (DriverError, DBAPIError)
    return (DriverError,)


SIDE_BY_SIDE_FROM = 1000
"""Tables from which a dialect reads its catalog on two connections (:func:`side_by_side`);
below, opening the second connection costs about what it saves."""


def side_by_side(here: Callable[[], None], beside: Callable[[], None]) -> None:
    """Run ``beside`` in a thread while ``here`` runs in this one (each on its own connection:
    the server works on one query while Python decodes the rows of the other); an exception
    of either is raised here once both are done."""
    import threading

    failed: list[BaseException] = []

    def run() -> None:
        try:
            beside()
        except BaseException as e:  # re-raised in the calling thread
            failed.append(e)

    worker = threading.Thread(target=run, name="dbmedic-catalog", daemon=True)
    worker.start()
    try:
        here()
    finally:
        worker.join()
    if failed:
        raise failed[0]


class DriverResult:
    """The rows of one statement, read like a SQLAlchemy ``CursorResult``."""

    def __init__(self, cursor: Any, error: type[BaseException]) -> None:
        self.cursor = cursor
        self._error = error

    def _fetch(self) -> list[Any]:
        try:
            return list(self.cursor.fetchall()) if self.cursor.description is not None else []
        except self._error as e:
            raise DriverError(e) from e

    def all(self) -> list[Any]:
        return self._fetch()

    def fetchall(self) -> list[Any]:
        return self._fetch()

    def __iter__(self) -> Iterator[Any]:
        return iter(self._fetch())

    def one(self) -> Any:
        rows = self._fetch()
        if len(rows) != 1:
            raise DriverError(LookupError(f"expected one row, got {len(rows)}"))
        return rows[0]

    def first(self) -> Any:
        rows = self._fetch()
        return rows[0] if rows else None

    def scalar(self) -> Any:
        row = self.first()
        return row[0] if row is not None else None

    def mappings(self) -> DriverMappings:
        names = [d[0] for d in self.cursor.description or ()]
        return DriverMappings([dict(zip(names, row, strict=True)) for row in self._fetch()])

    def close(self) -> None:
        self.cursor.close()


class DriverMappings:
    """Rows as dicts (``result.mappings()``)."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self._rows = rows

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self._rows)

    def all(self) -> list[dict[str, Any]]:
        return self._rows

    def one(self) -> dict[str, Any]:
        if len(self._rows) != 1:
            raise DriverError(LookupError(f"expected one row, got {len(self._rows)}"))
        return self._rows[0]


class DriverConnection:
    """A DBAPI connection offering ``exec_driver_sql`` like SQLAlchemy's ``Connection``.

    ``error`` is the driver's base exception class (``pymysql.err.MySQLError``,
    ``psycopg.Error``, ``sqlite3.Error``). ``begin`` is sent before the first statement of each
    transaction for a driver that does not open one itself (sqlite3 in autocommit mode).
    ``statements`` counts what was sent (``begin`` aside), so tests can show that an inspection
    sends a constant number of queries.
    """

    def __init__(
        self,
        dbapi_connection: Any,
        error: type[BaseException],
        begin: str | None = None,
        reopen: Callable[[], DriverConnection | None] | None = None,
    ) -> None:
        self.dbapi_connection = dbapi_connection
        self.error = error
        self.statements = 0
        self._begin = begin
        self._in_transaction = False
        self._reopen = reopen

    def fork(self) -> DriverConnection | None:
        """A second connection to the same database with the same session set-up (None when
        the dialect offers none), so that a dialect may run catalog queries side by side."""
        return self._reopen() if self._reopen is not None else None

    def exec_driver_sql(self, statement: str, parameters: Any = None) -> DriverResult:
        self.statements += 1
        try:
            cursor = self.dbapi_connection.cursor()
            if self._begin and not self._in_transaction:
                cursor.execute(self._begin)
                self._in_transaction = True
            if parameters is None:
                cursor.execute(statement)
            else:
                cursor.execute(statement, parameters)
        except self.error as e:
            raise DriverError(e) from e
        return DriverResult(cursor, self.error)

    def set_autocommit(self) -> None:
        """Let every statement commit by itself (CREATE DATABASE cannot run in a transaction
        on PostgreSQL): PyMySQL and mysqlclient switch with a method, psycopg with a property."""
        raw = self.dbapi_connection
        try:
            switch = raw.autocommit
            if callable(switch):
                switch(True)
            else:
                raw.autocommit = True
        except self.error as e:
            raise DriverError(e) from e

    def rollback(self) -> None:
        """End the read transaction the driver opened, so the session holds no snapshot or lock."""
        self._in_transaction = False
        try:
            self.dbapi_connection.rollback()
        except self.error as e:
            raise DriverError(e) from e

    def close(self) -> None:
        try:
            self.dbapi_connection.rollback()
            self.dbapi_connection.close()
        except self.error:
            pass  # closing a broken connection: nothing left to release
