"""mysqlclient (the C driver) where it connects exactly as PyMySQL would.

mysqlclient imports in ~4 ms and decodes rows in C; PyMySQL takes ~15-20 ms to import (its TLS,
hashing and socket modules) and decodes every row in Python. For a short command such as
``status`` that is a quarter of the run. mysqlclient is optional (``pip install dbmedic[fast]``)
and used only where it cannot change what the connection is:

- the host is a loopback address or a socket is named: MariaDB's Connector/C has no
  "preferred" TLS mode, so where PyMySQL would encrypt a connection to a server that offers
  TLS, mysqlclient would not; on the loopback interface that makes no difference;
- the host is not ``localhost``, which Connector/C reads as "the default socket" and PyMySQL
  as TCP to port 3306 (a different server, or another authentication plugin, on many hosts);
- the URL asks for nothing beyond the options both drivers take alike.
"""

from __future__ import annotations

from typing import Any

LOOPBACK = frozenset({"127.0.0.1", "::1"})
_KEYS = frozenset(
    {"host", "user", "password", "database", "port", "unix_socket", "charset"}
    | {"connect_timeout", "read_timeout", "write_timeout"}
)


def driver() -> Any | None:
    """The MySQLdb module, or None when mysqlclient is not installed."""
    import importlib

    try:
        return importlib.import_module("MySQLdb")  # untyped: no stubs for mysqlclient
    except ImportError:
        return None


def suits(kwargs: dict[str, Any]) -> bool:
    """Whether PyMySQL-style ``kwargs`` describe a connection mysqlclient makes the same way."""
    if not set(kwargs) <= _KEYS:
        return False
    host = kwargs.get("host")
    return bool(kwargs.get("unix_socket")) or (isinstance(host, str) and host in LOOPBACK)


def connect(kwargs: dict[str, Any], **options: Any) -> Any | None:
    """A mysqlclient connection for PyMySQL-style ``kwargs`` (``options`` added, e.g.
    ``autocommit``), or None when mysqlclient is missing or :func:`suits` says no."""
    if not suits(kwargs):
        return None
    mysqldb = driver()
    if mysqldb is None:
        return None
    args = {"charset": "utf8mb4", **kwargs, **options}
    if args.get("unix_socket"):  # PyMySQL takes the socket whatever the host; Connector/C only
        args["host"] = "localhost"  # for "localhost" (else TCP to the host)
    return mysqldb.connect(**args)


def retry_with_pymysql(error: BaseException) -> bool:
    """Whether a failed mysqlclient connect should be tried again with PyMySQL: errors raised by
    Connector/C itself (codes 2000-2999: a refused port reported as errno 115, an authentication
    plugin it lacks, MySQL 8's "authentication requires a secure connection" where PyMySQL asks
    for the server's RSA key), except a timeout (2013), which PyMySQL would only wait out again.
    The server's own refusals (access denied, unknown database) are the same for both."""
    code = error.args[0] if error.args and isinstance(error.args[0], int) else None
    return code is not None and 2000 <= code < 3000 and code != 2013


def error_class() -> type[BaseException] | None:
    """mysqlclient's base exception class, or None when it is not installed."""
    mysqldb = driver()
    return None if mysqldb is None else mysqldb.MySQLError  # type: ignore[no-any-return]
