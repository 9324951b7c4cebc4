"""Helpers for tests on real databases (importable as ``from dbtest import ...``).

Kept out of conftest.py because several conftest modules exist and ``from conftest import``
would pick whichever was imported first.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import URL, Engine, make_url

ALL_BACKENDS = ("sqlite", "mariadb", "postgresql")
ADMIN_URLS = {
    "mariadb": os.environ.get(
        "DBMEDIC_TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/mysql"
    ),
    "postgresql": os.environ.get(
        "DBMEDIC_TEST_POSTGRESQL_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    ),
}
_available: dict[str, str | None] = {}


def server_problem(backend: str) -> str | None:
    """None when the backend's server answers, else why not (cached)."""
    if backend == "sqlite":
        return None
    if backend not in _available:
        try:
            engine = create_engine(ADMIN_URLS[backend], connect_args=_connect_timeout(backend))
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            engine.dispose()
            _available[backend] = None
        except Exception as e:  # the reason goes into the skip message
            _available[backend] = f"{backend} server does not answer: {str(e).splitlines()[0]}"
    return _available[backend]


def _connect_timeout(backend: str) -> dict[str, object]:
    return {"connect_timeout": 5}


@dataclass
class DatabaseFactory:
    """Creates uniquely named databases on one backend and drops them at teardown."""

    backend: str
    tmp_path: Path
    created: list[str] = field(default_factory=list)

    def new(self, prefix: str = "t") -> str:
        """Create an empty database; return its SQLAlchemy URL (no password: servers trust us)."""
        name = f"dbm_{prefix}_{uuid.uuid4().hex[:10]}"
        if self.backend == "sqlite":
            path = self.tmp_path / f"{name}.db"
            import sqlite3

            sqlite3.connect(path).close()
            self.created.append(str(path))
            return f"sqlite:///{path}"
        admin = make_url(ADMIN_URLS[self.backend])
        engine = create_engine(admin, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            if self.backend == "mariadb":
                conn.execute(
                    text(
                        f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
                    )
                )
            else:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        self.created.append(name)
        return admin.set(database=name).render_as_string(hide_password=False)

    def unmade(self, prefix: str = "t") -> str:
        """URL of a database that does not exist yet (dropped at teardown if something made it)."""
        name = f"dbm_{prefix}_{uuid.uuid4().hex[:10]}"
        if self.backend == "sqlite":
            return f"sqlite:///{self.tmp_path / f'{name}.db'}"
        self.created.append(name)
        return make_url(ADMIN_URLS[self.backend]).set(database=name).render_as_string(False)

    def drop_all(self) -> None:
        if self.backend == "sqlite":
            return
        admin = make_url(ADMIN_URLS[self.backend])
        engine = create_engine(admin, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            for name in self.created:
                if self.backend == "mariadb":
                    conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
                else:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


def split_sql(script: str) -> list[str]:
    """Split a test script on ';' at line ends (test fixtures only; no procedures)."""
    parts = re.split(r";\s*\n", script.strip() + "\n")
    return [p.strip() for p in parts if p.strip() and not p.strip().startswith("--")]


def run_sql(url: str | URL, script: str) -> None:
    """Run a multi-statement test script against ``url`` (autocommit)."""
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA foreign_keys=ON")
        for stmt in split_sql(script):
            conn.exec_driver_sql(stmt)
    engine.dispose()


@dataclass
class StatementCount:
    count: int = 0
    statements: list[str] = field(default_factory=list)


def apply_statements(url: str | URL, statements: list[str]) -> None:
    """Run each statement as it is (no splitting), autocommitted, as a user pasting them would."""
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        for stmt in statements:
            conn.exec_driver_sql(stmt)
    engine.dispose()


@contextmanager
def count_statements(engine: Engine) -> Iterator[StatementCount]:
    """Count the statements sent through ``engine`` (SQLAlchemy before_cursor_execute)."""
    seen = StatementCount()

    def listener(conn: object, cursor: object, statement: str, *args: object) -> None:
        seen.count += 1
        seen.statements.append(statement)

    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", listener)
