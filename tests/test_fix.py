"""dbmedic fix: sync on the seed incident, rollback with proof, the repair lock, refusals, bad input.

Every scenario ends by re-reading the database: tables, verify against the reference, the
framework's own status, and row digests computed here (not by dbmedic) for "nothing changed".
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from dbmedic import api
from dbmedic.apply import Verdict, apply_plan
from dbmedic.connect import open_target
from dbmedic.errors import ConfigError, RefusedError
from dbmedic.inspect import inspect_schema
from dbmedic.lock import LockBusy, StaleLock, repair_lock
from dbmedic.plan import Plan, Step, StepKind, numbered
from dbtest import DatabaseFactory, run_sql
from fix_helpers import Incident, build_incident, build_small_incident, row_digest

SEED_ROWS = """
INSERT INTO companies (id, name, slug, timezone) VALUES (1, 'Acme', 'acme', 'UTC');
INSERT INTO companies (id, name, slug, timezone) VALUES (2, 'Zenit & Co', 'zenit', 'UTC');
INSERT INTO users (id, name, email, password, company_id) VALUES (1, 'Ann', 'ann@example.com', 'x', 1)
"""
CRITICAL = ("retell_call_sessions", "conversation_flows")


@pytest.fixture
def incident(db_factory: DatabaseFactory, tmp_path: Path) -> Incident:
    built = build_incident(db_factory, tmp_path)
    run_sql(built.staging, SEED_ROWS)
    return built


def _pending(app: Path, db: str) -> dict[str, int]:
    counts = api.status(app, db).counts
    return {k: v for k, v in counts.items() if k in ("pending", "failed") and v}


@pytest.mark.backend("sqlite", "mariadb", "postgresql")
def test_sync_repairs_the_incident_and_keeps_staging_rows(
    incident: Incident, tmp_path: Path
) -> None:
    before_rows = row_digest(incident.staging)
    assert _pending(incident.app, incident.staging)  # the incident: failed and pending migrations
    report = tmp_path / "fix.md"

    outcome = api.fix("sync", incident.app, incident.staging, reference=incident.production,
                      critical=CRITICAL, yes=True, report=report)  # fmt: skip

    assert outcome.verdict is Verdict.DONE, outcome.error
    reference_tables = len(api.inspect(incident.production).tables)
    assert outcome.tables_after == reference_tables > outcome.tables_before
    verdict = api.verify(incident.staging, incident.production, critical=CRITICAL)
    assert verdict.in_sync, [c.detail for c in verdict.failed]
    assert _pending(incident.app, incident.staging) == {}
    after_rows = row_digest(incident.staging)
    for table in ("companies", "users"):
        assert after_rows[table] == before_rows[table]
    assert Path(outcome.backup or "").is_dir()
    text = report.read_text()
    assert "Repaired and verified" in text and outcome.run_id in text
    journal = Path(outcome.run_dir) / "journal.jsonl"
    events = [json.loads(line)["event"] for line in journal.read_text().splitlines()]
    assert events[0] == "run-start" and events[-1] == "run-end"
    assert events.count("step-start") == events.count("step-end") == len(outcome.plan.steps)


@pytest.mark.backend("sqlite", "mariadb", "postgresql")
def test_failed_step_rolls_back_to_the_same_schema_and_rows(
    incident: Incident, tmp_path: Path
) -> None:
    before_schema = api.inspect(incident.staging)
    before_rows = row_digest(incident.staging)

    def fault(step: Step) -> None:  # fail after the tables were created: a real mid-plan failure
        if step.title.startswith("Add") and "keys" in step.title:
            raise RuntimeError("injected failure")

    outcome = api.fix("sync", incident.app, incident.staging, reference=incident.production,
                      yes=True, fault=fault, report=tmp_path / "fix.json")  # fmt: skip

    assert outcome.verdict is Verdict.ROLLED_BACK
    assert outcome.rolled_back and outcome.rollback_verified
    assert outcome.failed_step is not None and "injected failure" in (outcome.error or "")
    assert api.diff(before_schema, api.inspect(incident.staging)).is_empty
    assert row_digest(incident.staging) == before_rows
    data = json.loads((tmp_path / "fix.json").read_text())
    assert data["kind"] == "fix" and data["verdict"] == "rolled-back" and data["rollback_verified"]


@pytest.mark.backend("sqlite", "mariadb", "postgresql")
def test_bad_sql_step_rolls_back(db_url: str, tmp_path: Path) -> None:
    run_sql(db_url, "CREATE TABLE kept (id integer primary key, note varchar(20));\n"
                    "INSERT INTO kept (id, note) VALUES (1, 'a'), (2, 'b')")  # fmt: skip
    before_rows = row_digest(db_url)
    with open_target(db_url) as db:
        schema = inspect_schema(db)
        plan = Plan("sync", db.display, db.dialect.name, numbered([
            Step(0, StepKind.BACKUP, "Back up"),
            Step(0, StepKind.SQL, "Create t1", statements=("CREATE TABLE t1 (id integer primary key)",)),
            Step(0, StepKind.SQL, "Break", statements=("INSERT INTO no_such_table VALUES (1)",)),
            Step(0, StepKind.VERIFY, "Verify"),
        ]))  # fmt: skip
        outcome = apply_plan(plan, db, state_dir=tmp_path)
        assert outcome.verdict is Verdict.ROLLED_BACK, outcome.rollback_detail
        assert [s.status for s in outcome.steps] == ["ok", "ok", "failed", "skipped"]
        assert api.diff(schema, inspect_schema(db)).is_empty
    assert row_digest(db_url) == before_rows


@pytest.mark.backend("sqlite", "mariadb", "postgresql")
def test_no_rollback_leaves_the_failed_state(db_url: str, tmp_path: Path) -> None:
    with open_target(db_url) as db:
        plan = Plan("sync", db.display, db.dialect.name, numbered([
            Step(0, StepKind.BACKUP, "Back up"),
            Step(0, StepKind.SQL, "Create t1", statements=("CREATE TABLE t1 (id integer primary key)",)),
            Step(0, StepKind.SQL, "Break", statements=("INSERT INTO no_such_table VALUES (1)",)),
        ]))  # fmt: skip
        outcome = apply_plan(plan, db, state_dir=tmp_path, rollback=False)
        assert outcome.verdict is Verdict.NOT_ROLLED_BACK
        assert "t1" in inspect_schema(db).tables


def test_plan_writing_before_backup_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    run_sql(f"sqlite:///{path}", "CREATE TABLE a (id integer primary key)")
    with open_target(f"sqlite:///{path}") as db:
        plan = Plan("x", db.display, "sqlite", numbered([
            Step(0, StepKind.SQL, "Drop", statements=("DROP TABLE a",)),
            Step(0, StepKind.BACKUP, "Back up"),
        ]))  # fmt: skip
        with pytest.raises(RefusedError, match="before any backup"):
            apply_plan(plan, db, state_dir=tmp_path)
        assert "a" in inspect_schema(db).tables


@pytest.mark.backend("sqlite", "mariadb", "postgresql")
def test_second_fix_refuses_naming_the_holder(incident: Incident) -> None:
    before = api.inspect(incident.staging)
    with open_target(incident.staging) as holder, repair_lock(holder):
        with pytest.raises(LockBusy) as caught:
            api.fix("sync", incident.app, incident.staging, reference=incident.production, yes=True)
        message = str(caught.value)
        assert "another repair is running" in message
        assert caught.value.holder and caught.value.exit_code == 3
        result = _dbmedic("fix", "--strategy", "sync", "--app", str(incident.app), "--db",
                          incident.staging, "--reference", incident.production, "--yes")  # fmt: skip
        assert result.returncode == 3, result.stderr
        assert "another repair is running" in result.stderr
    assert api.diff(before, api.inspect(incident.staging)).is_empty
    # released on exit: the lock is free again
    with open_target(incident.staging) as db, repair_lock(db):
        pass


def test_stale_sqlite_lock_is_reported_and_broken_only_when_asked(tmp_path: Path) -> None:
    demo = api.demo(tmp_path / "demo")
    db_file = Path(demo.staging_url.removeprefix("sqlite:///"))
    lock = db_file.with_name(db_file.name + ".dbmedic.lock")
    dead = _dead_pid()
    lock.write_text(json.dumps({"pid": dead, "host": socket.gethostname(), "started": "then"}))
    before = api.inspect(demo.staging_url)
    with pytest.raises(StaleLock, match=f"process {dead} on .* is no longer running") as caught:
        api.fix("sync", demo.app, reference=demo.production_url, yes=True)
    assert caught.value.exit_code == 2 and lock.exists()
    assert api.diff(before, api.inspect(demo.staging_url)).is_empty
    outcome = api.fix(
        "sync", demo.app, reference=demo.production_url, yes=True, break_stale_lock=True
    )
    assert outcome.verdict is Verdict.DONE and not lock.exists()


def _dead_pid() -> int:
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    return pid


def _dbmedic(*args: str) -> subprocess.CompletedProcess[str]:
    """The real entry point in a subprocess without a terminal."""
    src = str(Path(__file__).resolve().parents[1] / "src")
    env = {**os.environ, "PYTHONPATH": src}
    return subprocess.run([sys.executable, "-c", "from dbmedic.cli import main; main()", *args],
                          env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                          timeout=300, check=False)  # fmt: skip


def _cli():  # type: ignore[no-untyped-def]
    from dbmedic.cli import app

    return app


@pytest.fixture
def demo(tmp_path: Path):  # type: ignore[no-untyped-def]
    return api.demo(tmp_path / "demo")


def test_without_a_terminal_yes_is_required(demo) -> None:  # type: ignore[no-untyped-def]
    before = api.inspect(demo.staging_url)
    args = ["fix", "--strategy", "sync", "--app", str(demo.app), "--reference", demo.production_url]
    refused = _dbmedic(*args)  # no terminal: stdin is not a TTY
    assert refused.returncode == 3
    assert "refused: fix --strategy sync" in refused.stderr and "pass --yes" in refused.stderr
    assert api.diff(before, api.inspect(demo.staging_url)).is_empty
    done = CliRunner().invoke(_cli(), [*args, "--yes", "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["verdict"] == "done"


def test_dry_run_prints_the_plan_and_changes_nothing(demo) -> None:  # type: ignore[no-untyped-def]
    before = api.inspect(demo.staging_url)
    args = ["fix", "--strategy", "sync", "--app", str(demo.app), "--reference",
            demo.production_url, "--dry-run"]  # fmt: skip
    shown = CliRunner().invoke(_cli(), args)
    assert shown.exit_code == 0, shown.output
    assert "Create 196 missing tables in foreign-key order" in shown.stdout
    assert "Record 138 migrations as applied" in shown.stdout
    plan = json.loads(CliRunner().invoke(_cli(), [*args, "--json"]).stdout)
    assert plan["format"] == "dbmedic.plan/1" and plan["steps"][1]["kind"] == "backup"
    assert api.diff(before, api.inspect(demo.staging_url)).is_empty
    assert not (demo.app / ".dbmedic").exists()


def test_sync_without_app_leaves_the_tracking_table(demo) -> None:  # type: ignore[no-untyped-def]
    plan = api.fix("sync", db=demo.staging_url, reference=demo.production_url, dry_run=True)
    assert not any(s.kind is StepKind.MARK_APPLIED for s in plan.steps)
    assert "the tracking table was left as it was (no --app given)" in plan.notes


def test_sync_from_a_snapshot_marks_every_migration_with_a_file(demo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    snap = tmp_path / "prod.json"
    api.snapshot(demo.production_url, snap)
    outcome = api.fix("sync", demo.app, reference=str(snap), yes=True)
    assert outcome.verdict is Verdict.DONE, outcome.error
    assert _pending(demo.app, demo.staging_url) == {}
    assert api.verify(demo.staging_url, str(snap)).in_sync


def test_incomplete_reference_is_refused(demo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    small = tmp_path / "small.db"
    run_sql(
        f"sqlite:///{small}",
        "CREATE TABLE a (id integer primary key);\nCREATE TABLE b (id integer)",
    )
    before = api.inspect(demo.staging_url)
    with pytest.raises(
        ConfigError, match=r"reference looks incomplete: 2 tables vs \d+ in the target"
    ):
        api.fix("sync", demo.app, reference=f"sqlite:///{small}", yes=True)
    result = _dbmedic("fix", "--strategy", "sync", "--app", str(demo.app), "--reference",
                      f"sqlite:///{small}", "--yes")  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.startswith("dbmedic: reference looks incomplete")
    assert api.diff(before, api.inspect(demo.staging_url)).is_empty


@pytest.mark.backend("postgresql")
def test_reference_of_another_family_is_refused(db_url: str, demo) -> None:  # type: ignore[no-untyped-def]
    before = api.inspect(demo.staging_url)
    with pytest.raises(ConfigError, match="postgresql schema and the target is sqlite"):
        api.fix("sync", demo.app, reference=db_url, yes=True)
    assert api.diff(before, api.inspect(demo.staging_url)).is_empty


def test_unknown_or_missing_strategy_and_reference(demo) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match="unknown strategy"):
        api.fix("magic", demo.app, yes=True)
    with pytest.raises(ConfigError, match="sync needs a reference"):
        api.fix("sync", demo.app, yes=True)


def _kill_lock_session(url: str, take_it: bool) -> Any:
    """End the session that holds the repair lock of ``url`` from another session and wait until
    the server freed the lock; with ``take_it``, take the lock here (returned: what ends it)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool

    from dbmedic.lock import _PG_CLASS, lock_name

    name = str(make_url(url).database)
    mysql = make_url(url).get_backend_name() != "postgresql"
    admin = create_engine(make_url(url).set(database=None if mysql else "postgres"),
                          poolclass=NullPool)  # fmt: skip
    conn = admin.connect().execution_options(isolation_level="AUTOCOMMIT")
    key = zlib.crc32(name.encode()) & 0x7FFFFFFF
    if mysql:
        holder = conn.execute(text("SELECT IS_USED_LOCK(:n)"), {"n": lock_name(name)}).scalar()
        conn.exec_driver_sql(f"KILL {int(holder)}")
        got = conn.execute(text("SELECT GET_LOCK(:n, 10)"), {"n": lock_name(name)}).scalar()
        assert got == 1
        if not take_it:
            conn.execute(text("SELECT RELEASE_LOCK(:n)"), {"n": lock_name(name)})
    else:
        holder = conn.execute(
            text("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND classid = "
                 "CAST(:a AS oid) AND objid = CAST(:b AS oid) AND objsubid = 2"),
            {"a": _PG_CLASS, "b": key},
        ).scalar()  # fmt: skip
        conn.execute(text("SELECT pg_terminate_backend(:p, 10000)"), {"p": holder})
        if take_it:
            conn.execute(text("SELECT pg_advisory_lock(:a, :b)"), {"a": _PG_CLASS, "b": key})
    if take_it:
        return conn.close  # the other repair ends: its session and the lock with it
    conn.close()
    return None


@pytest.mark.backend("mariadb", "postgresql")
def test_a_run_whose_lock_session_was_killed_takes_it_again_or_stops(
    db_factory: DatabaseFactory, tmp_path: Path
) -> None:
    """The lock dies with its session (``KILL`` / ``pg_terminate_backend``): the run must not go
    on unlocked. Free, it is taken again before the step writes (journaled); taken by another
    repair meanwhile, the run stops without rolling back over that repair's work, and can be
    rolled back afterwards."""
    inc = build_small_incident(db_factory, tmp_path)
    before = api.inspect(inc.staging), row_digest(inc.staging)
    held: list[Any] = []

    def kill_at(number: int, take_it: bool) -> Any:
        def fault(step: Step) -> None:
            if step.number == number:
                held.append(_kill_lock_session(inc.staging, take_it))

        return fault

    free = api.fix("sync", inc.app, inc.staging, reference=inc.production, yes=True,
                   backup_dir=tmp_path / "b1", fault=kill_at(3, False))  # fmt: skip
    assert free.verdict is Verdict.DONE, free.error
    events = [
        json.loads(x) for x in (Path(free.run_dir) / "journal.jsonl").read_text().splitlines()
    ]
    assert [e["step"] for e in events if e["event"] == "lock-retaken"] == [3]
    api.rollback(free.run_id, inc.staging, app=inc.app)
    assert api.diff(before[0], api.inspect(inc.staging)).is_empty

    taken = api.fix(
        "sync",
        inc.app,
        inc.staging,
        reference=inc.production,
        yes=True,
        backup_dir=tmp_path / "b2",
        fault=kill_at(4, True),
    )  # after step 3 wrote
    assert taken.verdict is Verdict.NOT_ROLLED_BACK
    assert "another repair is running" in (taken.error or "")
    assert "not rolled back: another repair is running" in (taken.rollback_detail or "")
    held[-1]()  # the other repair ends
    assert [r.state for r in api.runs(inc.app)][-1] == "not-rolled-back"
    api.rollback(taken.run_id, inc.staging, app=inc.app)
    assert api.diff(before[0], api.inspect(inc.staging)).is_empty
    assert row_digest(inc.staging) == before[1]
