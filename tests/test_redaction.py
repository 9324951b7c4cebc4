"""No password in any output of inspect, diff or verify: successes, failures, JSON, snapshots."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner, Result

from dbmedic import api
from dbmedic.cli import app
from dbmedic.errors import DbmedicError
from dbtest import ADMIN_URLS, DatabaseFactory, run_sql

PASSWORD = "Sq1-" + uuid.uuid4().hex[:12] + "-pw"
SCHEMA = """
CREATE TABLE users (id INT PRIMARY KEY AUTO_INCREMENT, email VARCHAR(255) NOT NULL);
CREATE TABLE posts (id INT PRIMARY KEY, user_id INT, CONSTRAINT posts_user_fk FOREIGN KEY (user_id) REFERENCES users (id));
"""


@pytest.fixture
def user(db_factory: DatabaseFactory) -> Iterator[tuple[str, str, str]]:
    """(URL with password of a full database, URL of an empty one, user) for a fresh MariaDB user."""
    full, empty = db_factory.new("red"), db_factory.new("red")
    run_sql(full, SCHEMA)
    name = "dbm_u_" + uuid.uuid4().hex[:8]
    admin = create_engine(ADMIN_URLS["mariadb"], isolation_level="AUTOCOMMIT")
    hosts = ("%", "localhost", "127.0.0.1")
    with admin.connect() as conn:
        for host in hosts:
            conn.execute(text(f"CREATE USER '{name}'@'{host}' IDENTIFIED BY :pw"), {"pw": PASSWORD})
            for db in (make_url(full).database, make_url(empty).database):
                conn.execute(text(f"GRANT ALL ON `{db}`.* TO '{name}'@'{host}'"))
    try:
        yield (
            make_url(full)
            .set(username=name, password=PASSWORD)
            .render_as_string(hide_password=False),
            make_url(empty)
            .set(username=name, password=PASSWORD)
            .render_as_string(hide_password=False),
            name,
        )
    finally:
        with admin.connect() as conn:
            for host in hosts:
                conn.execute(text(f"DROP USER IF EXISTS '{name}'@'{host}'"))
        admin.dispose()


def run(*args: str) -> Result:
    return CliRunner(mix_stderr=False).invoke(app, list(args))


def clean(result: Result) -> str:
    out = result.stdout + result.stderr + (repr(result.exception) if result.exception else "")
    assert PASSWORD not in out
    return out


@pytest.mark.backend("mariadb")
def test_no_command_shows_the_password(user: tuple[str, str, str], tmp_path: Path) -> None:
    full, empty, name = user
    snap = tmp_path / "snap.json"

    out = clean(run("inspect", full))
    assert "users" in out
    clean(run("inspect", full, "-o", str(snap)))
    assert PASSWORD not in snap.read_text() and "users" in snap.read_text()
    assert PASSWORD not in clean(run("inspect", full, "--json"))

    assert "tables 0/2 (0.0%)" in clean(run("diff", full, empty))
    clean(run("diff", full, empty, "--sql"))
    clean(run("diff", full, empty, "--json"))
    clean(run("diff", str(snap), full))

    result = run(
        "verify", empty, "--reference", full, "--expect-tables", "2", "--critical", "users"
    )
    out = clean(result)
    assert result.exit_code == 1
    assert f"mysql+pymysql://{name}:***@127.0.0.1:3306/" in out
    clean(run("verify", empty, "--reference", full, "--json"))


@pytest.mark.backend("mariadb")
def test_failures_do_not_show_the_password(user: tuple[str, str, str], tmp_path: Path) -> None:
    full, _, name = user
    url = make_url(full)
    no_grant = url.set(database="mysql").render_as_string(hide_password=False)
    refused = url.set(port=1).render_as_string(hide_password=False)
    wrong_user = url.set(username=name + "x").render_as_string(hide_password=False)
    for bad in (no_grant, refused, wrong_user):
        out_file = tmp_path / "snap.json"
        for args in (
            ("inspect", bad, "-o", str(out_file)),
            ("diff", bad, full),
            ("diff", full, bad, "--sql"),
            ("verify", bad),
            ("verify", bad, "--json"),
            ("verify", full, "--reference", bad),
        ):
            result = run(*args)
            out = clean(result)
            assert result.exit_code == 2, (args, out)
            assert ":***@" in out, out
        assert not out_file.exists()
        with pytest.raises(DbmedicError) as info:
            api.inspect(bad)
        assert PASSWORD not in str(info.value) and PASSWORD not in repr(info.value.args)
        assert ":***@" in str(info.value)
