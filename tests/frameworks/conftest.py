"""Fixtures for the framework adapter tests: fixture apps copied to tmp_path, a password user."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from dbmedic.connect import Database, open_target
from migration_helpers import copy_fixture_app

TEST_PASSWORD = "Pw-dbmedic-7f3a9c!"
"""The password of the MariaDB test user: no output, argv or error may ever contain it."""


@pytest.fixture
def copy_fixture(tmp_path: Path) -> Callable[[str], Path]:
    """copy_fixture(name): a private copy of ``tests/fixtures/<name>`` (frameworks write into it)."""

    def _copy(name: str) -> Path:
        return copy_fixture_app(name, tmp_path / name)

    return _copy


@pytest.fixture
def open_db() -> Iterator[Callable[[str], Database]]:
    """Open URLs as dbmedic Databases; closed at teardown."""
    opened: list[Database] = []

    def _open(url: str) -> Database:
        db = open_target(url)
        opened.append(db)
        return db

    yield _open
    for db in opened:
        db.close()


@pytest.fixture
def secret_url(backend: str, db_url: str) -> Iterator[str]:
    """``db_url``, reached on MariaDB/PostgreSQL as a user with a password (dropped afterwards)."""
    if backend == "sqlite":
        yield db_url
        return
    url = make_url(db_url)
    user = f"dbm_u_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if backend == "mariadb":
            conn.execute(text(f"CREATE USER '{user}'@'%' IDENTIFIED BY '{TEST_PASSWORD}'"))
            conn.execute(text(f"GRANT ALL ON `{url.database}`.* TO '{user}'@'%'"))
        else:
            conn.execute(text(f"CREATE ROLE {user} LOGIN PASSWORD '{TEST_PASSWORD}'"))
            conn.execute(text(f'ALTER DATABASE "{url.database}" OWNER TO {user}'))
            conn.execute(text(f"GRANT ALL ON SCHEMA public TO {user}"))
    try:
        yield url.set(username=user, password=TEST_PASSWORD).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            if backend == "mariadb":
                conn.execute(text(f"DROP USER IF EXISTS '{user}'@'%'"))
            else:
                conn.execute(text(f'ALTER DATABASE "{url.database}" OWNER TO postgres'))
                conn.execute(text(f"DROP OWNED BY {user} CASCADE"))
                conn.execute(text(f"DROP ROLE IF EXISTS {user}"))
        admin.dispose()


@pytest.fixture
def secret_db(secret_url: str, open_db: Callable[[str], Database]) -> Database:
    """The test's database, opened as the user with a password (MariaDB, PostgreSQL)."""
    return open_db(secret_url)


@pytest.fixture
def no_secret(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """no_secret(*texts): assert the test password is in none of the texts, nor in any argv.

    Records the argv of every process the adapters start (the real processes still run).
    """
    seen: list[list[str]] = []
    real = subprocess.Popen

    def recording(args: list[str], *a: object, **kw: object) -> subprocess.Popen[str]:
        seen.append([str(x) for x in args])
        return real(args, *a, **kw)  # type: ignore[call-overload, no-any-return]

    monkeypatch.setattr(subprocess, "Popen", recording)  # run_command imports it when it runs

    def check(*texts: str | None) -> None:
        assert seen, "no framework process was started"
        for argv in seen:
            assert TEST_PASSWORD not in " ".join(argv)
        for shown in texts:
            assert TEST_PASSWORD not in (shown or "")

    return check
