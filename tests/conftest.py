"""Shared fixtures: one throwaway database per test on real servers.

Backends: ``sqlite`` always; ``mariadb`` (127.0.0.1:3306, root) and ``postgresql`` (127.0.0.1:5432,
postgres) when they answer. Select with ``pytest --db sqlite,mariadb``; override server URLs with
``DBMEDIC_TEST_MARIADB_URL`` / ``DBMEDIC_TEST_POSTGRESQL_URL`` (an admin URL; the database part is
replaced per test). Restrict a test with ``@pytest.mark.backend("mariadb", "postgresql")``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import URL

from dbtest import ALL_BACKENDS, DatabaseFactory, run_sql, server_problem


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        default=os.environ.get("DBMEDIC_TEST_DB", ",".join(ALL_BACKENDS)),
        help="comma-separated backends to test: sqlite,mariadb,postgresql",
    )


def selected_backends(config: pytest.Config) -> list[str]:
    return [b.strip() for b in str(config.getoption("--db")).split(",") if b.strip()]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        marker = metafunc.definition.get_closest_marker("backend")
        wanted = list(marker.args) if marker else list(ALL_BACKENDS)
        backends = [b for b in wanted if b in selected_backends(metafunc.config)]
        metafunc.parametrize("backend", backends or [pytest.param("none", marks=pytest.mark.skip)])


@pytest.fixture
def db_factory(backend: str, tmp_path: Path) -> Iterator[DatabaseFactory]:
    """Factory of throwaway databases on the test's backend."""
    problem = server_problem(backend)
    if problem:
        pytest.skip(problem)
    factory = DatabaseFactory(backend, tmp_path)
    yield factory
    factory.drop_all()


@pytest.fixture
def db_url(db_factory: DatabaseFactory) -> str:
    """URL of a fresh, empty database on the test's backend."""
    return db_factory.new()


@pytest.fixture
def sql_runner() -> Callable[[str | URL, str], None]:
    return run_sql


from fault_matrix import pytest_sessionstart, pytest_terminal_summary  # noqa: E402,F401


@pytest.fixture
def php() -> str:
    """Skip the test, saying why, when PHP or Debian's Laravel 8 is missing (CI installs both)."""
    if shutil.which("php") is None:
        pytest.skip("php is not installed (.ci/run installs php-cli and php-laravel-framework)")
    if not Path("/usr/share/php/Illuminate/autoload.php").is_file():
        pytest.skip("php-laravel-framework is not installed (.ci/run installs it)")
    return "php"
