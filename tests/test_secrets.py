"""Credentials from the environment and option files; redaction of URLs and error texts."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from dbmedic import secrets
from dbmedic.connect import parse_url
from dbmedic.errors import ConfigError, UnsupportedDialect


def test_redact_hides_password() -> None:
    shown = secrets.redact("mysql+pymysql://app:s3cr3t-pw@db.example/staging")
    assert shown == "mysql+pymysql://app:***@db.example/staging"


def test_scrub_removes_remembered_secrets() -> None:
    secrets.remember("hunter2-long")
    assert secrets.scrub("login failed with hunter2-long here") == "login failed with *** here"


def test_password_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DBMEDIC_PASSWORD", "from-env-pw")
    url = parse_url("mysql://app@127.0.0.1/staging")
    assert url.password == "from-env-pw"
    assert url.drivername == "mysql+pymysql"
    assert "from-env-pw" not in secrets.redact(url)


def test_client_specific_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DBMEDIC_PASSWORD", raising=False)
    monkeypatch.setenv("PGPASSWORD", "pg-env-pw")
    assert parse_url("postgres://app@h/db").password == "pg-env-pw"


def test_my_cnf(tmp_path: Path) -> None:
    cnf = tmp_path / ".my.cnf"
    cnf.write_text("[client]\nuser = app\npassword = 'cnf-pw'\n")
    assert secrets.password_from_my_cnf(cnf) == ("app", "cnf-pw")


def test_my_cnf_used_for_mysql_urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("DBMEDIC_PASSWORD", "MYSQL_PWD"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / ".my.cnf").write_text("[client]\nuser=root\npassword=cnf-home-pw\n")
    url = parse_url("mysql://127.0.0.1/x")
    assert (url.username, url.password) == ("root", "cnf-home-pw")


def test_pgpass_matching(tmp_path: Path) -> None:
    pgpass = tmp_path / ".pgpass"
    pgpass.write_text("# comment\nother:5432:*:*:nope\nh:5432:db:app:pa\\:ss\n*:*:*:*:fallback\n")
    assert secrets.password_from_pgpass("h", 5432, "db", "app", pgpass) == "pa:ss"
    assert secrets.password_from_pgpass("x", 1, "y", "z", pgpass) == "fallback"


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("not a url", ConfigError),
        ("oracle://u@h/db", UnsupportedDialect),
        ("mysql://u:pw@h", ConfigError),
    ],
)
def test_bad_urls_are_one_sentence(text: str, error: type[Exception]) -> None:
    with pytest.raises(error) as info:
        parse_url(text)
    assert "\n" not in str(info.value)
    assert "pw@" not in str(info.value)


def test_sqlite_path_is_accepted(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    db.write_bytes(b"")
    assert make_url(str(parse_url(str(db)))).database == str(db)
