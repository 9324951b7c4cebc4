"""dbmedic runs / fix --resume / rollback: states from the journal and bad input (SQLite: fast).

An interrupted run is made in-process with the test-only hook ``DBMEDIC_FAULT=<step>:after:error``:
the error escapes after the step's end is journaled, as a crash between steps would (the fault
matrix in test_faults.py does the same with SIGKILL on MariaDB and PostgreSQL).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dbmedic import api
from dbmedic.apply import Verdict
from dbmedic.cli import app
from dbmedic.errors import StepFailed
from dbmedic.runs import JournalError, RunMismatch, list_runs
from dbtest import DatabaseFactory, run_sql
from fix_helpers import Incident, build_incident, row_digest

pytestmark = pytest.mark.backend("sqlite")


@pytest.fixture
def incident(db_factory: DatabaseFactory, tmp_path: Path) -> Incident:
    built = build_incident(db_factory, tmp_path)
    run_sql(
        built.staging,
        "INSERT INTO companies (id, name, slug, timezone) VALUES (1, 'A', 'a', 'UTC')",
    )
    return built


def _interrupted(inc: Incident, monkeypatch: pytest.MonkeyPatch, step: int = 3) -> str:
    monkeypatch.setenv("DBMEDIC_FAULT", f"{step}:after:error")
    with pytest.raises(StepFailed, match="injected fault"):
        api.fix("sync", inc.app, inc.staging, reference=inc.production, yes=True)
    monkeypatch.delenv("DBMEDIC_FAULT")
    (run,) = [r for r in list_runs(inc.app) if r.state == "interrupted"]
    return run.id


def _cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_interrupted_run_is_listed_and_resumed_to_the_uninterrupted_result(
    incident: Incident, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = row_digest(incident.staging)
    run_id = _interrupted(incident, monkeypatch)
    code, out = _cli("runs", "--dir", str(incident.app), "--json")
    assert code == 0
    (listed,) = json.loads(out)["runs"]
    assert listed["state"] == "interrupted" and listed["steps_done"] == 3
    assert "password" not in out and listed["backup"]

    code, out = _cli("fix", "--resume", run_id, "--app", str(incident.app), "--db",
                     incident.staging, "--json")  # fmt: skip
    assert code == 0, out
    assert json.loads(out)["verdict"] == "done"
    assert api.verify(incident.staging, incident.production).in_sync
    after = row_digest(incident.staging)
    assert after["companies"] == rows["companies"]
    assert [r.state for r in list_runs(incident.app)] == ["finished"]


def test_rollback_returns_to_exactly_before(
    incident: Incident, monkeypatch: pytest.MonkeyPatch
) -> None:
    before, rows = api.inspect(incident.staging), row_digest(incident.staging)
    run_id = _interrupted(incident, monkeypatch)
    assert not api.diff(before, api.inspect(incident.staging)).is_empty
    code, out = _cli("rollback", run_id, "--app", str(incident.app), "--db", incident.staging,
                     "--json")  # fmt: skip
    assert code == 0, out
    assert json.loads(out)["verified"] is True
    assert api.diff(before, api.inspect(incident.staging)).is_empty
    assert row_digest(incident.staging) == rows
    assert [r.state for r in list_runs(incident.app)] == ["rolled-back"]


def test_resume_after_a_change_by_hand_is_refused(
    incident: Incident, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_id = _interrupted(incident, monkeypatch)
    run_sql(incident.staging, "CREATE TABLE hand_made (id INTEGER PRIMARY KEY)")
    changed = api.inspect(incident.staging)
    with pytest.raises(RunMismatch, match=r"not where run .* stopped.*hand_made"):
        api.resume(run_id, incident.app, incident.staging)
    code, out = _cli(
        "fix", "--resume", run_id, "--app", str(incident.app), "--db", incident.staging
    )
    assert code == 2 and "hand_made" in out and out.count("\n") <= 2
    assert api.diff(changed, api.inspect(incident.staging)).is_empty


def test_unknown_run_corrupt_journal_and_another_database(
    incident: Incident, monkeypatch: pytest.MonkeyPatch, db_factory: DatabaseFactory
) -> None:
    run_id = _interrupted(incident, monkeypatch)
    before = api.inspect(incident.staging)
    code, out = _cli("rollback", "nope", "--app", str(incident.app), "--db", incident.staging)
    assert code == 2 and "there is no run 'nope'" in out
    other = db_factory.new("other")
    code, out = _cli("fix", "--resume", run_id, "--app", str(incident.app), "--db", other)
    assert code == 2 and "was made on" in out
    journal = incident.app / ".dbmedic" / "runs" / run_id / "journal.jsonl"
    lines = journal.read_text().splitlines()
    journal.write_text("\n".join([*lines, '{"event": "step-st']) + "\n")  # torn last line: fine
    assert [r.state for r in list_runs(incident.app)] == ["interrupted"]
    journal.write_text("\n".join([lines[0], "{not json", *lines[1:]]) + "\n")
    with pytest.raises(JournalError, match="corrupt at line 2"):
        list_runs(incident.app)
    code, out = _cli("runs", "--dir", str(incident.app))
    assert code == 2 and "corrupt at line 2" in out
    code, out = _cli("rollback", run_id, "--app", str(incident.app), "--db", incident.staging)
    assert code == 2
    assert api.diff(before, api.inspect(incident.staging)).is_empty


def test_lock_is_released_when_a_run_stops_on_an_exception(
    incident: Incident, monkeypatch: pytest.MonkeyPatch
) -> None:
    _interrupted(incident, monkeypatch)
    lock = Path(str(incident.staging).removeprefix("sqlite:///") + ".dbmedic.lock")
    assert not lock.exists()
    outcome = api.fix(
        "sync", incident.app, incident.staging, reference=incident.production, yes=True
    )
    assert outcome.verdict is Verdict.DONE


def test_runs_started_in_the_same_second_are_listed_in_start_order(tmp_path: Path) -> None:
    """Run ids carry the second only; the list follows the journals' start times, so the
    newest run is last even when its random suffix sorts first."""
    folder = tmp_path / ".dbmedic" / "runs"
    for run_id, at in (("20261126T094100Z-ffff", "00.100"), ("20261126T094100Z-0000", "00.900")):
        (folder / run_id).mkdir(parents=True)
        (folder / run_id / "plan.json").write_text('{"steps": []}')
        start = {"event": "run-start", "time": f"2026-11-26T09:41:{at}Z", "strategy": "sync"}
        (folder / run_id / "journal.jsonl").write_text(json.dumps(start) + "\n")
    assert [r.id for r in list_runs(tmp_path)] == [
        "20261126T094100Z-ffff",
        "20261126T094100Z-0000",
    ]
