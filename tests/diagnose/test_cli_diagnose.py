"""dbmedic diagnose / lint through the CLI: exit codes, --json, --report, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from diagnose_helpers import write_dbmate
from typer.testing import CliRunner

from dbmedic.cli import app
from migration_helpers import run_cli

FILES = {
    "001_users": "CREATE TABLE users (id integer primary key, email varchar(100));",
    "002_again": "ALTER TABLE users ADD COLUMN email varchar(100);",
    "003_later": "CREATE TABLE later_things (id integer primary key);",
}


@pytest.mark.backend("sqlite")
def test_diagnose_and_lint_json_and_report(backend: str, db_url: str, tmp_path: Path) -> None:
    root = write_dbmate(tmp_path / "app", FILES)
    runner = CliRunner()
    lint0 = runner.invoke(app, ["lint", "--app", str(root), "--db", db_url, "--json"])
    assert lint0.exit_code == 1, lint0.output
    assert json.loads(lint0.stdout)["failure_predicted"] is True
    migrated = runner.invoke(app, ["migrate", "--app", str(root), "--db", db_url])
    assert migrated.exit_code != 0

    report = tmp_path / "diag.json"
    out = runner.invoke(
        app, ["diagnose", "--app", str(root), "--db", db_url, "--json", "--report", str(report)]
    )

    assert out.exit_code == 1, out.output
    data = json.loads(out.stdout)
    assert data["format"] == "dbmedic.diagnosis/1"
    assert data["failing"]["migration"]["id"] == "002"
    assert data["failing"]["error_class"] == "duplicate_column"
    assert data["recommendation"]["strategy"] == "resume"
    assert json.loads(report.read_text())["failing"]["migration"]["id"] == "002"
    text = runner.invoke(app, ["diagnose", "--app", str(root), "--db", db_url])
    assert (
        text.exit_code == 1
        and "fails at 002" in text.stdout
        and "dbmedic fix --strategy resume" in text.stdout
    )


def test_bad_input_is_one_sentence_exit_2(tmp_path: Path) -> None:
    out = run_cli("diagnose", "--app", str(tmp_path / "nope"), "--db", "sqlite:///x.db")
    assert out.returncode == 2
    assert out.stderr.startswith("dbmedic: application folder") and "Traceback" not in out.stderr
    assert out.stdout == ""
