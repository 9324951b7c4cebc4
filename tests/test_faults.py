"""Fault injection: the incident's sync repair broken at every step boundary and inside its
longest step, on MariaDB (DDL auto-commits) and PostgreSQL (transactional DDL).

Faults: SIGKILL and SIGINT (``dbmedic fix`` in a subprocess), the connection killed from another
session, a statement error, the backup folder turned read-only, the disk filling up (a 16 MB
tmpfs mounted outside pytest's tmp_path for the backups). After every fault the database must be
equal to before (schema and row checksums), or the interrupted run must be completed by
``fix --resume`` to the same result as an uninterrupted run, or returned by ``rollback`` to
exactly before. No row lost in any case. The matrix is printed at the end of the test run
(tests/fault_matrix.py) and kept in README.md's Reliability section.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from dbmedic import api
from dbmedic.apply import Verdict, rollback_to
from dbmedic.connect import open_target
from dbmedic.errors import DbmedicError
from dbmedic.inspect import inspect_schema
from dbmedic.runs import fingerprint, list_runs
from dbtest import DatabaseFactory
from fault_matrix import save
from fix_helpers import Incident, build_incident, row_digest

SUBPROCESS = ("kill", "int")
FAULTS = ("kill", "int", "killconn", "error", "readonly", "fill")
EVERY_POINT = ("kill", "error")
"""Faults tried at every step boundary; the others (same code paths: a step that raises, a
signal) at three points, to keep the matrix to a few minutes on 2 cores."""
MAIN = "import sys; from dbmedic.cli import main; main(sys.argv[1:])"
SRC = Path(__file__).resolve().parent.parent / "src"


@pytest.fixture
def backup_mount() -> Iterator[Path]:
    """A 16 MB tmpfs for the backups, outside tmp_path (pytest must not rm -rf a mount)."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root")
    where = Path("/tmp") / f"dbmedic-faults-{uuid.uuid4().hex[:8]}"
    where.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(where)], check=True)
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)
        where.rmdir()


def _state(url: str) -> tuple[str, dict[str, str]]:
    with open_target(url) as db:
        schema = inspect_schema(db)
    return fingerprint(schema), row_digest(url)


def _reset_mount(mount: Path) -> None:
    subprocess.run(["mount", "-o", "remount,rw", str(mount)], check=True)
    for child in mount.iterdir():
        shutil.rmtree(child) if child.is_dir() else child.unlink()


def _fix(inc: Incident, fault: str, point: str, backups: Path) -> None:
    env = {**os.environ, "DBMEDIC_FAULT": f"{point}:{fault}", "DBMEDIC_FAULT_DIR": str(backups),
           "PYTHONPATH": str(SRC)}  # fmt: skip
    args = ["fix", "--strategy", "sync", "--app", str(inc.app), "--db", inc.staging,
            "--reference", inc.production, "--backup-dir", str(backups), "--yes", "--json"]  # fmt: skip
    if fault in SUBPROCESS:
        done = subprocess.run([sys.executable, "-c", MAIN, *args], env=env,
                              capture_output=True, text=True, timeout=300, check=False)  # fmt: skip
        expected = -9 if fault == "kill" else 130
        assert done.returncode == expected, (done.returncode, done.stderr[-500:])
        return
    old = {k: os.environ.get(k) for k in ("DBMEDIC_FAULT", "DBMEDIC_FAULT_DIR")}
    os.environ.update({k: env[k] for k in old})
    try:
        api.fix("sync", inc.app, inc.staging, reference=inc.production, backup_dir=backups,
                yes=True)  # fmt: skip
    except DbmedicError:  # a fault between steps escapes the step's handler: the run stops
        pass
    finally:
        for k, v in old.items():
            os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)


@pytest.mark.backend("mariadb", "postgresql")
def test_every_fault_at_every_step_ends_equal_resumed_or_rolled_back(
    db_factory: DatabaseFactory, tmp_path: Path, backup_mount: Path, backend: str
) -> None:
    inc = build_incident(db_factory, tmp_path)
    before = _state(inc.staging)
    baseline = api.backup(inc.staging, tmp_path / "baseline")
    with open_target(inc.staging) as db:
        before_schema = inspect_schema(db)
    plan = api.fix("sync", inc.app, inc.staging, reference=inc.production, dry_run=True)
    clean = api.fix("sync", inc.app, inc.staging, reference=inc.production,
                    backup_dir=backup_mount, yes=True)  # fmt: skip
    assert clean.verdict is Verdict.DONE, clean.error
    repaired = _state(inc.staging)
    longest = max(plan.steps, key=lambda s: len(s.statements))
    points = [f"{s.number}:before" for s in plan.steps] + [f"{plan.steps[-1].number}:after"]
    points.insert(
        longest.number, f"{longest.number}:statement:{max(1, len(longest.statements) // 2)}"
    )
    rows: list[dict[str, str]] = []
    failures: list[str] = []
    few = [
        points[1],
        points[longest.number],
        points[-2],
    ]  # before the backup, inside, before verify
    for fault in FAULTS:
        for point in points if fault in EVERY_POINT else few:
            with open_target(inc.staging) as db:
                rollback_to(db, baseline, before_schema)
            _reset_mount(backup_mount)
            assert _state(inc.staging) == before
            known = {r.id for r in list_runs(inc.app)}
            _fix(inc, fault, point, backup_mount)
            _reset_mount_rw(backup_mount)
            run = next(r for r in list_runs(inc.app) if r.id not in known)
            outcome, ok = _settle(inc, run.id, run.state, fault, before, repaired)
            label = (
                point.replace(":before", " before")
                .replace(":after", " after")
                .replace(":statement:", " inside, stmt ")
            )
            rows.append({"backend": backend, "strategy": "sync", "fault": fault,
                         "point": f"step {label}", "outcome": outcome})  # fmt: skip
            if not ok:
                failures.append(f"{fault} at {point}: {outcome}")
    save(backend, "sync", rows)
    assert not failures, failures


def _reset_mount_rw(mount: Path) -> None:
    subprocess.run(["mount", "-o", "remount,rw", str(mount)], check=True)
    filler = mount / "filler.bin"
    if filler.exists():
        filler.unlink()


def _settle(
    inc: Incident, run_id: str, state: str, fault: str,
    before: tuple[str, dict[str, str]], repaired: tuple[str, dict[str, str]],
) -> tuple[str, bool]:  # fmt: skip
    """Finish what the fault left and say how it ended (and whether that is acceptable)."""
    now = _state(inc.staging)
    if state == "interrupted" and not any(r.id == run_id and r.backup for r in list_runs(inc.app)):
        return "interrupted before its backup: equal to before", now == before
    if state == "interrupted":
        if fault == "int":
            result = api.rollback(run_id, inc.staging, app=inc.app)
            assert "row checksums equal" in result.detail
            return "interrupted → rollback: equal to before", _state(inc.staging) == before
        resumed = api.resume(run_id, inc.app, inc.staging)
        ok = resumed.verdict is Verdict.DONE and _state(inc.staging) == repaired
        return f"interrupted → resume: {resumed.verdict}", ok
    if state == "finished":
        return "finished (fault harmless)", now == repaired
    if state in ("rolled-back", "nothing-changed"):
        return f"{state}: equal to before", now == before
    return f"{state}", False
