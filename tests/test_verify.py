"""verify() and the schema API on SQLite files: named checks, in_sync, no exception for a dead target."""

from __future__ import annotations

from pathlib import Path

import pytest

import dbmedic
from dbmedic.errors import SnapshotError
from dbmedic.verify import CheckStatus
from dbtest import run_sql


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    run_sql(
        url,
        "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL);\n"
        "CREATE TABLE retell_calls (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users (id));\n",
    )
    return url


def test_api_names_are_the_functions(db: str, tmp_path: Path) -> None:
    # the same-named submodules, once imported, do not shadow the API functions
    import dbmedic.backup
    import dbmedic.diff
    import dbmedic.inspect
    import dbmedic.snapshot
    import dbmedic.verify

    assert all(
        callable(f) for f in (dbmedic.backup, dbmedic.diff, dbmedic.snapshot, dbmedic.verify)
    )

    schema = dbmedic.inspect(db)
    assert sorted(schema.tables) == ["retell_calls", "users"]
    assert dbmedic.diff(db, schema).is_empty
    snap = tmp_path / "s.json"
    dbmedic.snapshot(db, snap)
    assert dbmedic.verify(db, str(snap)).in_sync


def test_all_checks_hold(db: str) -> None:
    verdict = dbmedic.verify(db, db, expect_tables=2, critical=["users", "retell_calls"])
    assert verdict.in_sync and verdict.failed == ()
    assert [c.name for c in verdict.checks] == [
        "connection",
        "table count",
        "critical tables",
        "parity",
    ]
    assert verdict.table_count == 2


def test_each_failed_check_says_why(db: str, tmp_path: Path) -> None:
    other = f"sqlite:///{tmp_path / 'other.db'}"
    run_sql(other, "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL);\n")
    verdict = dbmedic.verify(other, db, expect_tables=2, critical=["users", "retell_calls"])
    assert not verdict.in_sync
    detail = {c.name: c.detail for c in verdict.failed}
    assert detail["table count"] == "1 tables, expected 2"
    assert detail["critical tables"] == "1/2 critical tables present; missing: retell_calls"
    assert detail["parity"].startswith("1 differences from the reference: tables 1/2 (50.0%)")
    assert verdict.diff is not None and verdict.diff.missing_tables == ("retell_calls",)


def test_unreachable_target_is_a_failed_check_not_an_exception(tmp_path: Path, db: str) -> None:
    verdict = dbmedic.verify(f"sqlite:///{tmp_path / 'missing.db'}", db, expect_tables=2)
    assert not verdict.in_sync and not verdict.connected
    assert [(c.name, c.status) for c in verdict.checks] == [
        ("connection", CheckStatus.FAILED),
        ("table count", CheckStatus.SKIPPED),
        ("parity", CheckStatus.SKIPPED),
    ]
    assert "no such file" in verdict.checks[0].detail


def test_bad_reference_raises(db: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    with pytest.raises(SnapshotError, match="truncated"):
        dbmedic.verify(db, str(bad))
