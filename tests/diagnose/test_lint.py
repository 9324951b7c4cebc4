"""dbmedic lint: the outcome of every pending migration, predicted on a shadow copy, as a CI gate.

Exit 1 with the migration and the server's error when one is predicted to fail, 0 when all
pass, 2 on bad input; non-idempotent migrations flagged; the linted database never written.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from diagnose_helpers import schema_and_tracking_rows, write_dbmate
from typer.testing import CliRunner

from dbmedic import api
from dbmedic.cli import app
from migration_helpers import run_cli

USERS = {"001_users": "CREATE TABLE users (id integer primary key, email varchar(100));"}


def _project(tmp_path: Path, url: str, pending: dict[str, str]) -> Path:
    """001 applied by the runner, then ``pending`` added as files not run yet."""
    root = write_dbmate(tmp_path / "app", USERS)
    assert api.migrate(root, url).result.ok
    return write_dbmate(root, pending)


def _lint(root: Path, url: str) -> tuple[int, dict[str, Any]]:
    out = CliRunner().invoke(app, ["lint", "--app", str(root), "--db", url, "--json"])
    return out.exit_code, json.loads(out.stdout)


@pytest.mark.backend("sqlite", "mariadb")
def test_predicted_failure_exits_1_with_migration_and_error(
    backend: str, db_url: str, tmp_path: Path
) -> None:
    root = _project(tmp_path, db_url, {
        "002_again": "-- the column exists since 001\nALTER TABLE users ADD COLUMN email varchar(100);",
        "003_later": "CREATE TABLE later_things (id integer primary key);",
    })  # fmt: skip
    before = schema_and_tracking_rows(db_url)

    code, data = _lint(root, db_url)

    assert code == 1
    assert data["format"] == "dbmedic.lint/1" and data["failure_predicted"] is True
    assert data["evidence"] == "rehearsed"
    found = {f["migration"]: f for f in data["findings"]}
    assert list(found) == ["002", "003"]
    bad = found["002"]
    assert bad["predicted_ok"] is False and bad["error_class"] == "duplicate_column"
    assert "email" in bad["error"] and "duplicate column" in bad["error"].lower()
    assert bad["line"] == 3 and bad["file"] == "db/migrations/002_again.sql"
    assert data["guard"]["migration"] == "002"
    assert schema_and_tracking_rows(db_url) == before


@pytest.mark.backend("sqlite", "mariadb")
def test_all_pass_exits_0(backend: str, db_url: str, tmp_path: Path) -> None:
    root = _project(tmp_path, db_url, {
        "002_phone": "ALTER TABLE users ADD COLUMN phone varchar(20);",
        "003_later": "CREATE TABLE IF NOT EXISTS later_things (id integer primary key);",
    })  # fmt: skip
    before = schema_and_tracking_rows(db_url)

    code, data = _lint(root, db_url)

    assert code == 0 and data["failure_predicted"] is False
    assert [(f["migration"], f["predicted_ok"]) for f in data["findings"]] == [
        ("002", True),
        ("003", True),
    ]
    # not idempotent: 002 would fail if it ran twice; 003 is guarded by IF NOT EXISTS
    assert data["non_idempotent"] == ["002"]
    flagged = {f["migration"]: f for f in data["findings"]}
    assert flagged["002"]["unguarded"] == ["ALTER TABLE users ADD COLUMN phone varchar(20)"]
    assert flagged["003"]["idempotent"] is True and flagged["003"]["unguarded"] == []
    assert data["guard"] is None
    assert schema_and_tracking_rows(db_url) == before


@pytest.mark.backend("sqlite")
def test_nothing_pending_exits_0(backend: str, db_url: str, tmp_path: Path) -> None:
    root = _project(tmp_path, db_url, {})

    code, data = _lint(root, db_url)

    assert code == 0 and data["findings"] == [] and data["failure_predicted"] is False


@pytest.mark.backend("sqlite")
def test_bad_input_is_one_sentence_exit_2(backend: str, db_url: str, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    blank = tmp_path / "blank.db"
    sqlite3.connect(blank).close()
    cases = [
        (["--app", str(tmp_path / "nope"), "--db", db_url], "application folder"),
        (["--app", str(empty), "--db", f"sqlite:///{blank}"], "no migrations found"),
        (["--app", str(_project(tmp_path, db_url, {})), "--db", f"sqlite:///{tmp_path}/missing.db"],
         "no such file"),
        (["--app", str(tmp_path / "app"), "--db", "mysql+pymysql://root@127.0.0.1:1/x"], "cannot connect"),
    ]  # fmt: skip
    for args, words in cases:
        out = run_cli("lint", *args)
        assert out.returncode == 2, (args, out.stderr)
        assert out.stderr.startswith("dbmedic: ") and words in out.stderr, out.stderr
        assert "Traceback" not in out.stderr and out.stdout == ""
        assert len(out.stderr.strip().splitlines()) <= 2  # the sentence, and at most a hint
    assert not (tmp_path / "missing.db").exists()
