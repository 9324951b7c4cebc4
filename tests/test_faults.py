"""Fault injection: every repair strategy of the incident broken at every step boundary and
inside its longest step, on MariaDB (DDL auto-commits) and PostgreSQL (transactional DDL).

The incident is the seed's in small (tests/fix_helpers.py ``small_incident_app``: 10 dbmate
migrations, two rows in each staging table) so that every case is seconds: sync plans every
phase (create tables, columns, indexes, foreign keys, mark applied), resume runs SQL, marks and
migrates, reset (after the failing file was made idempotent) recreates the database and migrates
from zero. One test per (backend, strategy), so xdist spreads them; each builds the incident
once, keeps one baseline backup and restores it with ``rollback_to`` when a case left anything.

Faults: SIGKILL and SIGINT (``dbmedic fix`` in a subprocess), the connection killed from another
session, a statement error, the backup folder turned read-only, the disk filling up (a 16 MB
tmpfs mounted outside pytest's tmp_path for the backups). After every fault the database must be
equal to before (schema fingerprint and row checksums of every table), or the interrupted run
must be completed by ``fix --resume`` to the same result as an uninterrupted run, or returned by
``rollback`` to exactly before; no repair lock may be left behind. Killed runs are resumed and
then rolled back (both must work); Ctrl-C'ed runs are rolled back as they stopped. The matrix is
printed at the end of the test run (tests/fault_matrix.py) and kept in README.md's Reliability
section.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import traceback
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from dbmedic import api
from dbmedic.apply import Verdict, rollback_to
from dbmedic.connect import open_target
from dbmedic.errors import DbmedicError
from dbmedic.inspect import inspect_schema
from dbmedic.lock import RepairLock
from dbmedic.plan import Plan, Step, StepKind
from dbmedic.runs import fingerprint, read_run, runs_dir
from dbtest import DatabaseFactory
from fault_matrix import save
from fix_helpers import Incident, build_small_incident, make_failing_idempotent, row_digest

STRATEGIES = ("sync", "resume", "reset")
SUBPROCESS = ("kill", "int")
FAULTS = ("kill", "int", "killconn", "error", "readonly", "fill")
K = StepKind
KINDS = {
    "sync": {K.LOCK, K.BACKUP, K.SQL, K.MARK_APPLIED, K.VERIFY},
    "resume": {K.LOCK, K.BACKUP, K.SQL, K.MARK_APPLIED, K.FRAMEWORK_MIGRATE, K.VERIFY},
    "reset": {K.LOCK, K.BACKUP, K.RECREATE_DATABASE, K.PROMOTE_SHADOW, K.VERIFY},
}
"""The step kinds each strategy plans for the small incident (all the kinds it can plan here;
move-aside / copy-back need a conflicting definition, hooks a configuration). Reset promotes its
rehearsed shadow on MariaDB; PostgreSQL cannot, and runs the migrations again."""
RESET_ON_POSTGRESQL = KINDS["reset"] - {K.PROMOTE_SHADOW} | {K.FRAMEWORK_MIGRATE}
MAIN = "import sys; from dbmedic.cli import main; main(sys.argv[1:])"
SRC = Path(__file__).resolve().parent.parent / "src"
State = tuple[str, dict[str, str]]


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


@dataclass(frozen=True)
class Repair:
    """One strategy on one incident: what it starts from and what an uninterrupted run gives."""

    inc: Incident
    strategy: str
    reference: str | None
    backups: Path
    before: State
    repaired: State


def _state(url: str) -> State:
    with open_target(url) as db:
        schema = inspect_schema(db)
    return fingerprint(schema), row_digest(url)


def _size(step: Step) -> int:
    """How much a step does inside: statements of an SQL step, migrations of a migrate step
    (the units a fault can fire between); 0 for steps without such points. A promotion (it
    stands for the migrate) has one point: after the move, before its proof."""
    if step.kind is StepKind.FRAMEWORK_MIGRATE:
        return len(step.migrations)
    if step.kind is StepKind.PROMOTE_SHADOW:
        return 10**6
    return len(step.statements)


def _inside(step: Step) -> tuple[str, str]:
    """The fault point inside ``step`` and its label."""
    if step.kind is StepKind.PROMOTE_SHADOW:
        return f"{step.number}:moved", f"inside {step.number} {step.kind}, after the move"
    unit = "migration" if step.kind is StepKind.FRAMEWORK_MIGRATE else "statement"
    k = max(1, _size(step) // 2)
    return f"{step.number}:{unit}:{k}", f"inside {step.number} {step.kind}, after {unit} {k}"


def fault_points(plan: Plan) -> list[tuple[str, str]]:
    """(DBMEDIC_FAULT point, matrix label): before every step, inside the longest one (after
    half its statements or migrations), after the last."""
    longest = max(plan.steps, key=_size)
    points: list[tuple[str, str]] = []
    for step in plan.steps:
        points.append((f"{step.number}:before", f"before {step.number} {step.kind}"))
        if step is longest:
            points.append(_inside(step))
    last = plan.steps[-1]
    points.append((f"{last.number}:after", f"after {last.number} {last.kind}"))
    return points


def _describe(step: Step, url: str) -> str:
    """``3 sql: Create 3 missing tables ...`` without the (random) name of the test database."""
    from sqlalchemy.engine import make_url

    from dbmedic.secrets import redact

    title = step.title.replace(redact(make_url(url)), "staging")
    title = title.replace(str(make_url(url).database), "staging")
    title = re.sub(r"(_dbmedic_shadow_)[0-9a-f]+", r"\1<hex>", title)  # a new name every run
    return f"{step.number} {step.kind}: {title}"


def _fix(r: Repair, fault: str, point: str) -> str | None:
    """Run the repair with the fault; None, or what went wrong that the matrix must show."""
    env = {**os.environ, "DBMEDIC_FAULT": f"{point}:{fault}", "DBMEDIC_FAULT_DIR": str(r.backups),
           "PYTHONPATH": str(SRC)}  # fmt: skip
    if fault in SUBPROCESS:
        args = ["fix", "--strategy", r.strategy, "--app", str(r.inc.app), "--db", r.inc.staging,
                "--backup-dir", str(r.backups), "--yes", "--json"]  # fmt: skip
        args += ["--reference", r.reference] if r.reference else []
        done = subprocess.run([sys.executable, "-c", MAIN, *args], env=env,
                              capture_output=True, text=True, timeout=300, check=False)  # fmt: skip
        expected = -9 if fault == "kill" else 130
        if done.returncode != expected:
            return f"fix exited {done.returncode}: {done.stderr.strip()[-300:]}"
        return None
    old = {k: os.environ.get(k) for k in ("DBMEDIC_FAULT", "DBMEDIC_FAULT_DIR")}
    os.environ.update({k: env[k] for k in old})
    try:
        api.fix(r.strategy, r.inc.app, r.inc.staging, reference=r.reference,
                backup_dir=r.backups, yes=True)  # fmt: skip
    except DbmedicError:  # a fault between steps escapes the step's handler: the run stops
        pass
    except Exception as e:  # a crash no handler foresaw: a bug the matrix must show
        where = traceback.extract_tb(e.__traceback__)[-1]
        return f"fix raised {type(e).__name__} at {Path(where.filename).name}:{where.lineno}: {e}"
    finally:
        for k, v in old.items():
            os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)
    return None


def _lock_left(url: str) -> str | None:
    """None when the repair lock can be taken (no run left it behind), else why not."""
    with open_target(url) as db:
        try:
            with RepairLock(db):
                return None
        except DbmedicError as e:
            return f"lock left behind: {e}"


def _rollback(r: Repair, run_id: str) -> str | None:
    """``rollback`` of the run: None when proven by checksums and equal to before."""
    result = api.rollback(run_id, r.inc.staging, app=r.inc.app)
    if "row checksums equal" not in result.detail:
        return f"rollback unproven: {result.detail}"
    return None if _state(r.inc.staging) == r.before else "rollback: not equal to before"


def _shadows_left(url: str) -> str | None:
    """None when no shadow database of ``url``'s is left on its server, else which."""
    from sqlalchemy.engine import make_url

    from dbmedic.connect import open_reference
    from dbmedic.shadow import SHADOW_MARK

    name = make_url(url).database
    if make_url(url).get_backend_name() == "sqlite":
        return None
    with open_reference(url) as db, db.connect() as conn:
        sql = "SELECT datname FROM pg_database" if db.dialect.family == "postgresql" else (
            "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA")  # fmt: skip
        left = [r[0] for r in conn.exec_driver_sql(sql) if f"{name}{SHADOW_MARK}" in str(r[0])]
    return f"shadow left behind: {', '.join(left)}" if left else None


def _settle(r: Repair, run_id: str, state: str, backup: str | None, fault: str) -> tuple[str, bool]:
    """Finish or undo what the fault left; (how it ended, whether that is acceptable).

    ``= before``: schema fingerprint and every table's row checksum equal to before the run;
    ``= clean run``: equal to the result of the uninterrupted run."""
    if state == "interrupted" and backup is None:
        from dbmedic.runs import RunMismatch

        # nothing to restore; a killed reset left its rehearsed shadow, which rollback drops
        with pytest.raises(RunMismatch, match="no backup"):
            api.rollback(run_id, r.inc.staging, app=r.inc.app)
        return "stopped before backup, = before", _state(r.inc.staging) == r.before
    if state == "interrupted" and fault == "int":
        wrong = _rollback(r, run_id)
        return wrong or "interrupted → rollback = before", wrong is None
    if state == "interrupted":
        resumed = api.resume(run_id, r.inc.app, r.inc.staging)
        if resumed.verdict is not Verdict.DONE or _state(r.inc.staging) != r.repaired:
            return f"interrupted → resume: {resumed.verdict} ({resumed.error})", False
        wrong = _rollback(r, run_id)
        return wrong or "interrupted → resume = clean run → rollback = before", wrong is None
    now = _state(r.inc.staging)
    if state == "finished":
        if now != r.repaired:
            return "finished, but not equal to the clean run", False
        wrong = _rollback(r, run_id)
        return wrong or "finished = clean run → rollback = before", wrong is None
    if state == "rolled-back":
        return "fix rolled back, = before", now == r.before
    if state == "nothing-changed":
        return "nothing changed, = before", now == r.before
    return state, False


def _run_ids(app: Path) -> set[str]:
    folder = runs_dir(app)
    return {p.name for p in folder.iterdir()} if folder.is_dir() else set()


def _case(r: Repair, fault: str, point: str) -> tuple[str, bool]:
    """One cell: the repair broken at ``point`` by ``fault``, then settled and checked."""
    known = _run_ids(r.inc.app)
    wrong = _fix(r, fault, point)
    subprocess.run(["mount", "-o", "remount,rw", str(r.backups)], check=True)
    (r.backups / "filler.bin").unlink(missing_ok=True)
    new = sorted(_run_ids(r.inc.app) - known)
    if wrong is not None or len(new) != 1:
        return wrong or f"{len(new)} runs were recorded", False
    run = read_run(r.inc.app, new[0]).summary()
    try:
        outcome, ok = _settle(r, run.id, run.state, run.backup, fault)
    except DbmedicError as e:  # a run that cannot be resumed or rolled back
        outcome, ok = f"{type(e).__name__}: {e}", False
    left = _lock_left(r.inc.staging) or _shadows_left(r.inc.staging)
    return (left, False) if left else (outcome, ok)


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.backend("mariadb", "postgresql")
def test_every_fault_at_every_step_ends_equal_resumed_or_rolled_back(
    db_factory: DatabaseFactory, tmp_path: Path, backup_mount: Path, backend: str, strategy: str
) -> None:
    inc = build_small_incident(db_factory, tmp_path)
    if strategy == "reset":
        make_failing_idempotent(inc.app)
    reference = inc.production if strategy == "sync" else None
    before = _state(inc.staging)
    baseline = api.backup(inc.staging, tmp_path / "baseline")
    with open_target(inc.staging) as db:
        before_schema = inspect_schema(db)

    def restore() -> None:
        with open_target(inc.staging) as db:
            rollback_to(db, baseline, before_schema)
        for child in backup_mount.iterdir():
            shutil.rmtree(child) if child.is_dir() else child.unlink()

    plan = api.fix(strategy, inc.app, inc.staging, reference=reference, dry_run=True)
    kinds = (
        RESET_ON_POSTGRESQL if (strategy, backend) == ("reset", "postgresql") else KINDS[strategy]
    )
    assert {s.kind for s in plan.steps} == kinds, plan.steps
    clean = api.fix(strategy, inc.app, inc.staging, reference=reference, backup_dir=backup_mount,
                    yes=True)  # fmt: skip
    assert clean.verdict is Verdict.DONE, clean.error
    r = Repair(inc, strategy, reference, backup_mount, before, _state(inc.staging))
    assert r.repaired != before
    restore()

    rows: list[dict[str, str]] = []
    failures: list[str] = []
    dirty = False
    try:
        for fault in FAULTS:
            for point, label in fault_points(plan):
                if dirty:  # an accepted case ends equal to before; a failed one may not
                    restore()
                outcome, ok = _case(r, fault, point)
                dirty = not ok
                rows.append({"backend": backend, "strategy": strategy, "fault": fault,
                             "point": label, "outcome": outcome})  # fmt: skip
                if not ok:
                    failures.append(f"{fault} at {point}: {outcome}")
    finally:
        steps = [_describe(s, inc.staging) for s in plan.steps]
        save(backend, strategy, rows, steps)
    assert not failures, failures
