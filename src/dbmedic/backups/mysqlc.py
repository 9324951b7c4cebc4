"""The optional C driver (mysqlclient) for the data connections of MySQL/MariaDB dumps.

A dump's cost is server CPU plus client CPU. With PyMySQL every row costs microseconds of Python,
so the built-in dumper lets the server concatenate ~2 MiB of rows per ``GROUP_CONCAT`` call. With
mysqlclient rows arrive through C at a fraction of that, and the cheaper plan is one row literal
per row: tables with an integer key are read in key-order chunks quoted without ``QUOTE``
(``mysql-keys3q`` in mysql.py), other tables streamed. Used only where installed
(``pip install mysqlclient``) and only where it connects as PyMySQL would (a loopback address
or a named socket, plain options: :func:`dbmedic.dialects.mysql.cdriver.suits`; elsewhere
PyMySQL keeps TLS when the server offers it); PyMySQL stays the default driver everywhere else.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from dbmedic.dialects.mysql import cdriver

BATCH = 4096
"""Rows fetched per call while streaming."""


def driver() -> Any | None:
    """The MySQLdb module, or None when mysqlclient is not installed."""
    return cdriver.driver()


def connect(kwargs: dict[str, Any]) -> Any | None:
    """A mysqlclient connection for PyMySQL-style ``kwargs`` (bytes values, autocommit), or
    None when the driver is missing or would not connect as PyMySQL does (``cdriver.suits``)."""
    if driver() is None:
        return None
    return cdriver.connect(kwargs, charset="utf8mb4", use_unicode=False, autocommit=True)


def errors() -> tuple[type[BaseException], ...]:
    """Exception classes of the drivers in use (PyMySQL, and mysqlclient when installed)."""
    import pymysql

    mysqldb = driver()
    return (pymysql.MySQLError,) if mysqldb is None else (pymysql.MySQLError, mysqldb.MySQLError)


def streams(conn: Any) -> bool:
    """Whether ``conn`` reads rows in C (so that one row per row is the cheap plan)."""
    return hasattr(conn, "use_result")


def stream_rows(conn: Any, sql: str) -> Iterator[list[tuple[Any, ...]]]:
    """Batches of the rows of ``sql`` as they arrive (unbuffered: memory stays flat)."""
    if streams(conn):
        conn.query(sql)
        result = conn.use_result()
        while rows := result.fetch_row(BATCH):
            yield rows
        return
    import pymysql.cursors

    cur = conn.cursor(pymysql.cursors.SSCursor)
    try:
        cur.execute(sql)
        while rows := cur.fetchmany(BATCH):
            yield rows
    finally:
        cur.close()
