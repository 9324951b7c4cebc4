"""Test-only stand-ins for dialects whose real module is not merged yet.

``ensure_dialects()`` registers a minimal dialect (connection facts, quoting, transactional DDL)
for each of sqlite, mysql, mariadb, postgresql whose real module cannot be imported. Once the real
dialects exist this does nothing. Delete when every dialect is merged.
"""

from __future__ import annotations

import importlib
from typing import Any

from dbmedic.dialects import Dialect, ServerInfo, register
from dbmedic.dialects.base import _MODULES, _REGISTRY


def _real_available(name: str) -> bool:
    try:
        importlib.import_module(_MODULES[name])
    except ModuleNotFoundError:
        return False
    return name in _REGISTRY


def ensure_dialects() -> None:
    for name in ("sqlite", "mysql", "mariadb", "postgresql"):
        if name not in _REGISTRY and not _real_available(name):
            register(name)(_STUBS[name])


class _Stub(Dialect):
    def quote(self, identifier: str) -> str:
        return '"' + identifier.replace('"', '""') + '"'

    def read_only_url(self, url: Any) -> tuple[Any, dict[str, object]]:
        return url, {}


class _SQLite(_Stub):
    family = "sqlite"
    sqlglot_dialect = "sqlite"
    transactional_ddl = True

    def server_info(self, conn: Any) -> ServerInfo:
        v = conn.exec_driver_sql("select sqlite_version()").scalar()
        return ServerInfo("sqlite", str(v), conn.engine.url.database)


class _MySQL(_Stub):
    family = "mysql"
    sqlglot_dialect = "mysql"

    def quote(self, identifier: str) -> str:
        return "`" + identifier.replace("`", "``") + "`"

    def server_info(self, conn: Any) -> ServerInfo:
        v, db = conn.exec_driver_sql("select version(), database()").one()
        return ServerInfo("mariadb" if "MariaDB" in v else "mysql", str(v), db)

    def describe_error(self, exc: BaseException) -> str:
        orig = getattr(exc, "orig", None) or exc
        args = getattr(orig, "args", ())
        if len(args) == 2:
            return f"{args[1]} (error {args[0]})"
        return super().describe_error(exc)


class _MariaDB(_MySQL):
    pass


class _Postgres(_Stub):
    family = "postgresql"
    sqlglot_dialect = "postgres"
    transactional_ddl = True

    def server_info(self, conn: Any) -> ServerInfo:
        v, db = conn.exec_driver_sql("select version(), current_database()").one()
        return ServerInfo("postgresql", str(v), db)


_STUBS: dict[str, type[Dialect]] = {
    "sqlite": _SQLite,
    "mysql": _MySQL,
    "mariadb": _MariaDB,
    "postgresql": _Postgres,
}
