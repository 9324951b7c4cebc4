"""Shared fixtures: one throwaway database per test on real servers.

Backends: ``sqlite`` always; ``mariadb`` (127.0.0.1:3306, root) and ``postgresql`` (127.0.0.1:5432,
postgres) when they answer. Select with ``pytest --db sqlite,mariadb``; override server URLs with
``DBMEDIC_TEST_MARIADB_URL`` / ``DBMEDIC_TEST_POSTGRESQL_URL`` (an admin URL; the database part is
replaced per test). Restrict a test with ``@pytest.mark.backend("mariadb", "postgresql")``.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
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


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        default=os.environ.get("DBMEDIC_TEST_DB", ",".join(ALL_BACKENDS)),
        help="comma-separated backends to test: sqlite,mariadb,postgresql",
    )


def _server_problem(backend: str) -> str | None:
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


def selected_backends(config: pytest.Config) -> list[str]:
    return [b.strip() for b in str(config.getoption("--db")).split(",") if b.strip()]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        marker = metafunc.definition.get_closest_marker("backend")
        wanted = list(marker.args) if marker else list(ALL_BACKENDS)
        backends = [b for b in wanted if b in selected_backends(metafunc.config)]
        metafunc.parametrize("backend", backends or [pytest.param("none", marks=pytest.mark.skip)])


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


@pytest.fixture
def db_factory(backend: str, tmp_path: Path) -> Iterator[DatabaseFactory]:
    """Factory of throwaway databases on the test's backend."""
    problem = _server_problem(backend)
    if problem:
        pytest.skip(problem)
    factory = DatabaseFactory(backend, tmp_path)
    yield factory
    factory.drop_all()


@pytest.fixture
def db_url(db_factory: DatabaseFactory) -> str:
    """URL of a fresh, empty database on the test's backend."""
    return db_factory.new()


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


@pytest.fixture
def sql_runner() -> Callable[[str | URL, str], None]:
    return run_sql
