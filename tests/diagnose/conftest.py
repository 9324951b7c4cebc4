"""Fixtures for diagnose/lint tests: fixture apps in tmp_path, dbmate projects, database users,
and a check after every test that no shadow database is left on any server."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from diagnose_helpers import shadow_databases
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from dbmedic.shadow import SHADOW_MARK
from dbtest import ADMIN_URLS, DatabaseFactory
from migration_helpers import copy_fixture_app


@pytest.fixture(autouse=True)
def no_shadow_left(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """After each test (passed or failed), no shadow database of its databases exists.

    Only shadows of the databases this test made count: other people's runs on the same
    servers (benchmarks, other test sessions) have shadows of their own at any moment.
    """
    made: list[str] = []
    original = DatabaseFactory.new

    def new(self: DatabaseFactory, prefix: str = "t") -> str:
        url = original(self, prefix)
        made.append(Path(make_url(url).database or "").stem)
        return url

    monkeypatch.setattr(DatabaseFactory, "new", new)
    yield
    assert [s for s in shadow_databases() if s.split(SHADOW_MARK)[0] in made] == []


@pytest.fixture
def copy_fixture(tmp_path: Path) -> Callable[[str], Path]:
    def _copy(name: str) -> Path:
        return copy_fixture_app(name, tmp_path / name)

    return _copy


@pytest.fixture
def mariadb_user() -> Iterator[Callable[..., str]]:
    """mariadb_user(db_url, grants...): a user with a password and exactly ``grants``; returns its URL."""
    made: list[str] = []
    admin = create_engine(ADMIN_URLS["mariadb"], isolation_level="AUTOCOMMIT")

    def _make(db_url: str, *grants: str) -> str:
        user = f"dbm_d_{uuid.uuid4().hex[:8]}"
        password = "Pw-diag-" + uuid.uuid4().hex[:6]
        with admin.connect() as conn:
            conn.execute(text(f"CREATE USER '{user}'@'%' IDENTIFIED BY '{password}'"))
            for grant in grants:
                conn.execute(text(grant.format(user=f"'{user}'@'%'", db=make_url(db_url).database)))
        made.append(user)
        url = make_url(db_url).set(username=user, password=password)
        return url.render_as_string(hide_password=False)

    yield _make
    with admin.connect() as conn:
        for user in made:
            conn.execute(text(f"DROP USER IF EXISTS '{user}'@'%'"))
    admin.dispose()
