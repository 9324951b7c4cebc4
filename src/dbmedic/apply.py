"""Carry out a repair plan: lock, back up, run each step, verify; roll back on failure and prove it.

``apply_plan(plan, db)`` is the one writer of ``dbmedic fix``. It runs the plan's steps in order
under the per-database repair lock (:mod:`dbmedic.lock`), refuses a plan in which a writing step
comes before its BACKUP, times every step, and writes a run directory
``<state>/.dbmedic/runs/<run id>/`` with ``plan.json`` and ``journal.jsonl`` (one JSON object per
line, flushed and fsynced before and after each step), so that a crashed run can be examined,
resumed or rolled back by its id later (the next issue builds on :class:`Journal`).

When a step fails, the target is restored from the backup taken in the same run (tables the run
added are dropped, the backup's tables restored) and the rollback is proven: the restore checks
every table's row count and checksum against the backup manifest, and the re-inspected schema must
equal the schema read before the run. Nothing here prints; progress goes to a callback.
"""

from __future__ import annotations

import json
import os
import secrets
import shlex
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dbmedic.errors import DbmedicError, RefusedError, StepFailed
from dbmedic.plan import Plan, Step, StepKind
from dbmedic.secrets import scrub

if TYPE_CHECKING:
    from dbmedic.connect import Database
    from dbmedic.frameworks.base import Framework
    from dbmedic.model import Schema

ApplyProgress = Callable[[Step, int, int, str], None]
"""progress(step, done, total, what): ``done``/``total`` count statements or migrations."""
Fault = Callable[[Step], None]
"""Called before each step runs; raising there fails the step (fault injection in tests)."""

RUNS = Path(".dbmedic") / "runs"
WRITES = frozenset(
    {
        StepKind.SQL,
        StepKind.RECREATE_DATABASE,
        StepKind.FRAMEWORK_MIGRATE,
        StepKind.PROMOTE_SHADOW,
        StepKind.MARK_APPLIED,
        StepKind.MOVE_ASIDE,
        StepKind.COPY_BACK,
    }
)
"""Step kinds that change the target: each must come after a BACKUP step."""


class StepStatus(StrEnum):
    OK = "ok"
    FAILED = "failed"
    SKIPPED = "skipped"


class Verdict(StrEnum):
    DONE = "done"
    """Every step ran and the result was verified."""
    ROLLED_BACK = "rolled-back"
    """A step failed; the database was restored and proven equal to before."""
    NOTHING_CHANGED = "nothing-changed"
    """A step failed before anything was written."""
    NOT_ROLLED_BACK = "not-rolled-back"
    """A step failed and the database was left as it was (``--no-rollback``) or rollback failed."""
    HOOK_FAILED = "hook-failed"
    """Repaired and verified, then a post-fix hook failed: the repair is kept (not rolled back),
    the failed hook must be run by hand."""


@dataclass(frozen=True, slots=True)
class StepResult:
    number: int
    kind: str
    title: str
    status: StepStatus
    seconds: float = 0.0
    error: str | None = None
    detail: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "kind": self.kind,
            "title": self.title,
            "status": str(self.status),
            "seconds": round(self.seconds, 3),
            "error": self.error,
            "detail": self.detail,
        }


@dataclass(frozen=True, slots=True)
class Outcome:
    """What ``apply_plan`` did: per step, before and after, backup, rollback and its proof."""

    plan: Plan
    run_id: str
    run_dir: str
    steps: tuple[StepResult, ...]
    verdict: Verdict
    tables_before: int
    tables_after: int | None
    backup: str | None = None
    rolled_back: bool = False
    rollback_verified: bool | None = None
    rollback_detail: str | None = None
    verified: bool = False
    checks: tuple[str, ...] = ()
    """Verification findings, one sentence each."""
    error: str | None = None
    seconds: float = 0.0
    started: str = ""
    report: str | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return self.verdict is Verdict.DONE

    @property
    def repaired(self) -> bool:
        """True when the repair ran and was verified (also when a post-fix hook failed after)."""
        return self.verdict in (Verdict.DONE, Verdict.HOOK_FAILED)

    @property
    def failed_step(self) -> StepResult | None:
        return next((s for s in self.steps if s.status is StepStatus.FAILED), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": "dbmedic.fix/1",
            "run_id": self.run_id,
            "run_dir": self.run_dir,
            "verdict": str(self.verdict),
            "ok": self.ok,
            "repaired": self.repaired,
            "started": self.started,
            "seconds": round(self.seconds, 3),
            "tables_before": self.tables_before,
            "tables_after": self.tables_after,
            "backup": self.backup,
            "rolled_back": self.rolled_back,
            "rollback_verified": self.rollback_verified,
            "rollback_detail": self.rollback_detail,
            "verified": self.verified,
            "checks": list(self.checks),
            "error": self.error,
            "report": self.report,
            "notes": list(self.notes),
            "steps": [s.to_dict() for s in self.steps],
            "plan": self.plan.to_dict(),
        }


# --- the run journal ----------------------------------------------------------------------------


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_run_id() -> str:
    """``20251026T101500Z-3f9a``: sortable by time, unique enough for one state folder."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(2)


class Journal:
    """``plan.json`` and an append-only ``journal.jsonl`` of one run; every line is fsynced.

    Events: ``run-start``, ``step-start``, ``step-end`` (status, seconds, error, detail),
    ``backup`` (path), ``lock-retaken`` (step), ``rollback-start``, ``rollback-end`` (verified),
    ``run-end`` (verdict).
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @classmethod
    def create(cls, state_dir: Path, run_id: str, plan: Plan) -> Journal:
        directory = state_dir / RUNS / run_id
        try:
            directory.mkdir(parents=True, exist_ok=False)
            (directory / "plan.json").write_text(
                json.dumps(plan.to_dict(), indent=2, sort_keys=True) + "\n", encoding="utf-8"
            )
        except OSError as e:
            raise DbmedicError(
                f"cannot create the run journal in {directory} ({e.strerror})",
                hint="choose a writable state directory",
            ) from e
        return cls(directory)

    def write(self, event: str, **fields: Any) -> None:
        line = json.dumps({"time": _now(), "event": event, **fields}, sort_keys=True, default=str)
        with open(self.directory / "journal.jsonl", "a", encoding="utf-8") as f:
            f.write(scrub(line) + "\n")
            f.flush()
            os.fsync(f.fileno())

    @staticmethod
    def read(directory: Path) -> list[dict[str, Any]]:
        """Every event of a run's journal, in order (a torn last line is skipped)."""
        events = []
        path = directory / "journal.jsonl"
        if not path.is_file():
            return []
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                events.append(json.loads(line))
            except ValueError:
                continue
        return events


# --- running -------------------------------------------------------------------------------------


@dataclass
class _Run:
    plan: Plan
    db: Database
    app: Path | None
    framework: Framework | None
    backup_dir: Path
    reference: Schema | None
    progress: ApplyProgress | None
    env: Mapping[str, str]
    backup: Any = None
    """The checked ``Backup`` of this run once the BACKUP step ran."""
    wrote: bool = False
    journal: Journal | None = None
    fault: Any = None
    """The test-only :class:`dbmedic.faults.FaultPoint` from ``DBMEDIC_FAULT`` (None otherwise)."""
    lock: Any = None
    """The run's :class:`dbmedic.lock.RepairLock`, checked before every step and the rollback."""
    shadow: Database | None = None
    """The reset rehearsal's kept shadow, for a PROMOTE_SHADOW step (None: not held)."""
    locked: Schema | None = None
    """The target's schema read just after this process took the repair lock (the run's
    ``before``): the record of a LOCK step that is the first step, which changes nothing."""
    read: Schema | None = None
    """The target's schema as the running step read it last (a promotion's proof, the
    verification), after its last write: that step's record, instead of a second inspection."""
    last: Schema | None = None
    """The record of the step that ended last in this process (None after a failed step): what
    a step that only reads (a backup, the verification) starts from instead of reading again."""
    last_step: int = 0
    """The number of the step whose record :attr:`last` is (0: the run's start)."""
    started_hooks: dict[int, subprocess.Popen[str]] = field(default_factory=dict)
    """Processes of framework default hooks started early, side by side with the hook step
    before them (see :func:`_hook`), by step number."""


PRELOADED = (
    "dbmedic.backups", "dbmedic.backups.mysql_builtin", "dbmedic.backups.postgres_builtin",
    "dbmedic.backups.sqlite", "dbmedic.backups.tools", "dbmedic.diff", "dbmedic.execute",
    "dbmedic.faults", "dbmedic.lock", "dbmedic.runs", "dbmedic.snapshot", "zstandard",
)  # fmt: skip
"""What :func:`apply_plan` imports on its way (the backup, the lock, the journal)."""


def preload(db: Database | None = None, report_format: str = "md") -> None:
    """Import what carrying out a plan on ``db`` and writing its report need (SQLAlchemy and
    the driver of ``db``'s engine, which is made, not connected). ``fix --strategy reset``
    calls it while its rehearsal runs (PHP or Python in another process; this thread only
    waits), so those ~0.2-0.3 s of imports and template compiling are not paid after it."""
    import importlib

    from dbmedic import report

    for name in PRELOADED:
        importlib.import_module(name)
    if db is not None:
        db.engine  # noqa: B018  (made for its imports)
    report.preload(report_format)


def check_plan_order(plan: Plan) -> None:
    """Refuse a plan in which a step that writes comes before a BACKUP step (safety rule 1)."""
    backed_up = False
    for step in plan.steps:
        if step.kind is StepKind.BACKUP:
            backed_up = True
        elif step.kind in WRITES and not backed_up:
            raise RefusedError(
                f"refused: step {step.number} ({step.title}) changes the database before any backup",
                hint="a plan must back up before its first writing step; nothing was changed",
            )


def apply_plan(
    plan: Plan,
    db: Database,
    *,
    app: Path | str | None = None,
    framework: Framework | None = None,
    backup_dir: Path | str | None = None,
    state_dir: Path | str | None = None,
    reference: Schema | None = None,
    progress: ApplyProgress | None = None,
    rollback: bool = True,
    fault: Fault | None = None,
    break_stale_lock: bool = False,
    hook_env: Mapping[str, str] | None = None,
    restore_options: Mapping[str, Any] | None = None,
    shadow: Database | None = None,
) -> Outcome:
    """Writes: carry out ``plan`` on ``db`` under the repair lock; returns the :class:`Outcome`.

    A failed step rolls back to the run's backup (unless ``rollback=False``) and proves it; the
    outcome says so, nothing is raised for a failed step. Raises LockBusy / StaleLock when
    another run holds the lock, RefusedError for a plan that writes before backing up (nothing
    changed in both cases). ``state_dir`` (default: ``app`` or the current folder) gets
    ``.dbmedic/runs/<id>/``; ``backup_dir`` defaults to ``<state_dir>/.dbmedic/backups``.
    ``shadow``: the reset rehearsal's kept shadow that a PROMOTE_SHADOW step moves in (without
    it that step runs the migrations); the caller still owns it and drops it.
    """
    from dbmedic.faults import from_env
    from dbmedic.inspect import inspect_schema
    from dbmedic.lock import RepairLock
    from dbmedic.runs import database_key, record_schema

    check_plan_order(plan)
    root = Path(app).resolve() if app is not None else None
    state = Path(state_dir) if state_dir is not None else (root or Path.cwd())
    backups = Path(backup_dir) if backup_dir is not None else state / ".dbmedic" / "backups"
    if backup_dir is None:
        backups.mkdir(parents=True, exist_ok=True)
    run_id = new_run_id()
    started, began = _now(), time.perf_counter()
    lock = RepairLock(db, break_stale=break_stale_lock)
    lock.acquire()
    try:
        journal = Journal.create(state, run_id, plan)
        before = inspect_schema(db)
        journal.write("run-start", run=run_id, target=db.display, strategy=plan.strategy,
                      lock=lock.description, pid=os.getpid(), database=database_key(db),
                      app=str(root) if root else None, backup_dir=str(backups.resolve()),
                      **record_schema(journal.directory, 0, before))  # fmt: skip
        if reference is not None:  # a resume verifies against the same reference
            from dbmedic.snapshot import save_snapshot

            save_snapshot(reference, journal.directory / "reference.json")
        run = _Run(plan, db, root, framework, backups, reference, progress, dict(hook_env or {}),
                   journal=journal, fault=from_env(), lock=lock, shadow=shadow,
                   locked=before, last=before)  # fmt: skip
        results: list[StepResult] = []
        failure: StepResult | None = None
        for step in plan.steps:
            if skipped_after(failure, step):
                results.append(
                    StepResult(step.number, str(step.kind), step.title, StepStatus.SKIPPED)
                )
                continue
            result = run_step(run, step, journal, fault, lock.description)
            results.append(result)
            if result.status is StepStatus.FAILED and failure is None:
                failure = result
        _reap_hooks(run)
        outcome = _finish(run, journal, before, results, failure, rollback, restore_options or {})
        seconds = time.perf_counter() - began
        outcome = replace(outcome, run_id=run_id, run_dir=str(journal.directory),
                          seconds=seconds, started=started)  # fmt: skip
        journal.write("run-end", verdict=str(outcome.verdict), seconds=round(seconds, 3))
        return outcome
    finally:
        lock.release()


def skipped_after(failure: StepResult | None, step: Step) -> bool:
    """True when ``step`` is skipped because an earlier step failed: every step after a failure,
    except that after a failed post-fix hook the remaining hooks still run (each hook is an
    independent command after a verified repair; one failing says nothing about the next)."""
    if failure is None:
        return False
    return not (failure.kind == str(StepKind.HOOK) and step.kind is StepKind.HOOK)


def run_step(
    run: _Run,
    step: Step,
    journal: Journal,
    fault: Fault | None,
    lock: str,
    runner: Callable[[_Run, Step], str] | None = None,
) -> StepResult:
    """Run one step between a fsynced ``step-start`` and ``step-end``; an OK step-end records
    the schema fingerprint and table count after it (``schema-<n>.json`` in the run folder),
    which ``fix --resume`` compares with the live database."""
    from dbmedic.inspect import inspect_schema
    from dbmedic.runs import record_schema

    journal.write("step-start", step=step.number, kind=str(step.kind), title=step.title,
                  transactional=run.db.dialect.transactional_ddl)  # fmt: skip
    began = time.perf_counter()
    recorded: dict[str, Any] = {}
    try:
        if run.fault is not None:
            run.fault.fire(run.db, step.number, "before")
        if fault is not None:
            fault(step)
        retaken = hold_lock(run, step.number)
        if step.kind in WRITES:
            run.wrote = True
        # ``locked`` serves only a first step under the lock taken then (not one taken again)
        run.read, locked, run.locked = None, None if retaken else run.locked, None
        if retaken:
            run.last = None  # the lock was lost meanwhile: anything may have changed
        if step.kind is StepKind.LOCK:
            detail, run.read = lock, locked
        else:
            detail = (runner or _STEP_RUNNERS[step.kind])(run, step)
            if step.kind is StepKind.BACKUP or step.keeps_schema:
                run.read = run.last  # a backup, a framework's cache-clearing hook: no DDL
        status, error = StepStatus.OK, None
        after = run.read if run.read is not None else inspect_schema(run.db)
        same = run.last_step if run.last is not None and after is run.last else None
        recorded = record_schema(journal.directory, step.number, after, same_as=same)
        run.last, run.last_step = after, step.number
    except DbmedicError as e:
        status, error, detail, run.last = StepStatus.FAILED, scrub(str(e)), None, None
    except Exception as e:  # a bug or a driver error we did not foresee: still roll back
        status, error, detail = StepStatus.FAILED, scrub(f"{type(e).__name__}: {e}"), None
        run.last = None
    seconds = time.perf_counter() - began
    journal.write("step-end", step=step.number, status=str(status), seconds=round(seconds, 4),
                  error=error, detail=detail, **recorded)  # fmt: skip
    if run.fault is not None and status is StepStatus.OK:
        run.fault.fire(run.db, step.number, "after")
    return StepResult(step.number, str(step.kind), step.title, status, seconds, error, detail)


def hold_lock(run: _Run, step: int | None) -> bool:
    """Before a step writes (or a rollback restores): the run still holds its repair lock. A
    lock whose session was ended from outside (MariaDB frees ``GET_LOCK`` with the session) is
    taken again and journaled (True); raises LockBusy when another run took it meanwhile."""
    if run.lock is not None and run.lock.ensure():
        if run.journal is not None:
            run.journal.write("lock-retaken", step=step, lock=run.lock.description)
        return True
    return False


def _say(run: _Run, step: Step, done: int, total: int, what: str) -> None:
    if run.progress is not None:
        run.progress(step, done, total, what)


def _backup(run: _Run, step: Step) -> str:
    from dbmedic import api

    _say(run, step, 0, 1, f"backing up {run.db.display}")
    taken = api.backup(run.db, run.backup_dir)
    check = api.verify_backup(taken)
    if not check.ok:
        raise StepFailed(f"the backup {taken.path} does not verify: {check.problems[0]}")
    run.backup = taken
    if run.journal is not None:
        run.journal.write("backup", path=str(Path(taken.path).resolve()))
    _say(run, step, 1, 1, f"backup {taken.path}")
    return (
        f"{taken.path} ({len(taken.manifest.tables)} tables, {taken.manifest.rows} rows, verified)"
    )


def _sql(run: _Run, step: Step) -> str:
    _checks(run, step)
    return run_sql_statements(run, step, step.statements, range(1, len(step.statements) + 1))


def run_sql_statements(
    run: _Run, step: Step, statements: Sequence[str], numbers: Sequence[int]
) -> str:
    """Run ``statements`` (numbered ``numbers`` within the step); a ``step-statement`` event is
    journaled after each (committed at once where DDL auto-commits, at the step's end where the
    dialect has transactional DDL), so a resume knows which statements of a crashed step ran."""
    from dbmedic.execute import run_statements

    def said(done: int, total: int, sql: str) -> None:
        number = numbers[done - 1]
        if run.journal is not None:
            run.journal.write("step-statement", step=step.number, statement=number)
        _say(run, step, done, total, sql.splitlines()[0][:80] if sql else "")
        if run.fault is not None and done < total:
            run.fault.fire(run.db, step.number, f"statement:{number}")

    n = run_statements(run.db, statements, transactional=True, progress=said)
    return f"{n} statements"


def _checks(run: _Run, step: Step) -> None:
    """``step.checks`` before its statements: each must return a true first value (the drop of a
    moved-aside object waits for the row counts to match)."""
    if not step.checks:
        return
    with run.db.connect() as conn:
        for check in step.checks:
            value = conn.exec_driver_sql(check).scalar()
            if not value:
                raise StepFailed(
                    f"step {step.number} ({step.title}) stopped before its statements: the check "
                    "that guards it failed",
                    statement=check,
                )


def _framework(run: _Run, step: Step) -> Framework:
    if run.framework is None or run.app is None:
        raise StepFailed(f"step {step.number} needs the application (--app) and its framework")
    return run.framework


def _migrate(run: _Run, step: Step) -> str:
    fw = _framework(run, step)
    assert run.app is not None

    def said(done: int, total: int, migration: str) -> None:
        _say(run, step, done, total, migration)
        if run.fault is not None and 0 < done < total:  # ``done`` migrations ran, the rest not
            run.fault.fire(run.db, step.number, f"migration:{done}")

    result = fw.migrate(run.db, run.app, progress=said)
    if not result.ok:
        raise StepFailed(
            f"{fw.name} migration {result.failed or '?'} failed: {result.error or 'unknown error'}",
            statement=result.statement,
        )
    return f"{len(result.applied)} migrations applied"


def _promote(run: _Run, step: Step) -> str:
    from dbmedic.promote import promote

    fw = _framework(run, step)
    assert run.app is not None and run.journal is not None
    return promote(
        run.db, run.shadow, step, fw=fw, root=run.app, folder=run.journal.directory,
        run=lambda sql, numbers: run_sql_statements(run, step, sql, numbers),
        migrate=lambda: _migrate(run, step),
        moved=None if run.fault is None else lambda: run.fault.fire(run.db, step.number, "moved"),
        proven=lambda schema: setattr(run, "read", schema),
    )  # fmt: skip


def _mark(run: _Run, step: Step) -> str:
    fw = _framework(run, step)
    assert run.app is not None
    fw.mark_applied(run.db, run.app, step.migrations)
    return f"{len(step.migrations)} migrations recorded as applied"


def _recreate(run: _Run, step: Step) -> str:
    from dbmedic.recreate import read_database_facts, recreate_database

    facts = read_database_facts(run.db)
    recreate_database(run.db, facts)
    return f"recreated {facts.name}" + (
        f" ({facts.charset}/{facts.collation})" if facts.charset else ""
    )


def _hook(run: _Run, step: Step) -> str:
    """Run the step's command in the app folder. A framework's default hooks (independent cache
    clears, ``Step.keeps_schema``) run side by side: this step starts the next one's process too
    (one PHP boot each, ~0.07 s), which its own step then waits for (a run killed in between
    runs that one again on resume: harmless for a cache clear). Configured hooks run one after
    the other, in their order."""
    if not step.command:
        raise StepFailed(f"hook step {step.number} has no command")
    what = shlex.join(step.command)
    try:
        proc = run.started_hooks.pop(step.number, None) or _start_hook(run, step)
        following = _next_default_hook(run, step)
        if following is not None:
            with suppress(OSError):  # its own step starts it again and says why it could not
                run.started_hooks[following.number] = _start_hook(run, following)
        out, err = _wait_hook(proc)
    except subprocess.TimeoutExpired as e:
        raise StepFailed(f"hook {what} could not run ({scrub(str(e))})") from e
    except OSError as e:
        raise StepFailed(f"hook {what} could not run ({scrub(str(e))})") from e
    if proc.returncode != 0:
        lines = (err or out).strip().splitlines()
        tail = scrub(lines[-1]) if lines else "no output"
        raise StepFailed(f"hook {what} exited with {proc.returncode}: {tail}")
    return "exit 0"


def _reap_hooks(run: _Run) -> None:
    """Wait for default hooks started early whose own step did not run (a fault before it)."""
    for proc in run.started_hooks.values():
        with suppress(subprocess.TimeoutExpired):
            _wait_hook(proc)
    run.started_hooks.clear()


def _wait_hook(proc: subprocess.Popen[str]) -> tuple[str, str]:
    """A hook's stdout and stderr once it ended; after 600 s it is killed (TimeoutExpired)."""
    try:
        return proc.communicate(timeout=600)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise


def _start_hook(run: _Run, step: Step) -> subprocess.Popen[str]:
    return subprocess.Popen(list(step.command), cwd=run.app or None, env={**os.environ, **run.env},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip


def _next_default_hook(run: _Run, step: Step) -> Step | None:
    """The step after ``step`` when both are framework default hooks (None otherwise)."""
    if not step.keeps_schema:
        return None
    following = next((s for s in run.plan.steps if s.number > step.number), None)  # in order
    if following is None or following.kind is not StepKind.HOOK or not following.keeps_schema:
        return None
    return following if following.command else None


def _verify(run: _Run, step: Step) -> str:
    problems, found = verify_state(run.db, run.plan, run.reference, run.framework, run.app,
                                   read=lambda schema: setattr(run, "read", schema),
                                   known=run.last)  # fmt: skip
    if problems:
        raise StepFailed("verification failed: " + "; ".join(problems[:5]))
    return "; ".join(found)


_STEP_RUNNERS: dict[StepKind, Callable[[_Run, Step], str]] = {
    StepKind.BACKUP: _backup,
    StepKind.SQL: _sql,
    StepKind.MOVE_ASIDE: _sql,
    StepKind.COPY_BACK: _sql,
    StepKind.FRAMEWORK_MIGRATE: _migrate,
    StepKind.PROMOTE_SHADOW: _promote,
    StepKind.MARK_APPLIED: _mark,
    StepKind.RECREATE_DATABASE: _recreate,
    StepKind.HOOK: _hook,
    StepKind.VERIFY: _verify,
}


def difference_key(change: Any) -> str:
    """``"<kind> <subject>"``: how a plan names a difference it accepts."""
    return f"{change.kind} {change.subject}"


def verify_state(
    db: Database,
    plan: Plan,
    reference: Schema | None,
    framework: Framework | None,
    app: Path | None,
    *,
    read: Callable[[Schema], object] | None = None,
    known: Schema | None = None,
) -> tuple[list[str], list[str]]:
    """Read-only: (problems, findings) of the target against the plan's expectations.

    Checks parity with ``reference`` (ignoring the plan's accepted differences), the expected
    table count, the critical tables, and that the framework has nothing pending or failed.
    ``known``: the schema as the step just before read it, under the same lock and after its
    last write (a 244-table catalog read less); else the target is inspected. ``read`` gets
    the schema it checked.
    """
    from dbmedic.diff import diff_schemas
    from dbmedic.inspect import inspect_schema
    from dbmedic.model import MigrationState

    schema = known if known is not None else inspect_schema(db)
    if read is not None:
        read(schema)
    problems: list[str] = []
    found = [f"{len(schema.tables)} tables"]
    if reference is not None:
        diff = diff_schemas(reference, schema)
        accepted = set(plan.accepted_differences)
        left = [c for c in diff.changes if difference_key(c) not in accepted]
        if left:
            shown = ", ".join(difference_key(c) for c in left[:5])
            problems.append(f"{len(left)} differences from the reference remain ({shown})")
        else:
            found.append(f"matches the reference ({diff.parity.summary()})")
    expected = plan.expected_tables
    if expected is not None and reference is None and len(schema.tables) < expected:
        problems.append(f"{len(schema.tables)} tables, expected {expected}")
    missing = [t for t in plan.critical if t not in schema.tables]
    if missing:
        problems.append("critical tables missing: " + ", ".join(missing))
    elif plan.critical:
        found.append(f"{len(plan.critical)} critical tables present")
    if framework is not None and app is not None and plan.framework is not None:
        states = framework.read(db, app)
        open_ = [m.id for m in states if m.state in (MigrationState.PENDING, MigrationState.FAILED)]
        if open_:
            problems.append(
                f"{len(open_)} migrations still pending or failed in {framework.name} ({', '.join(open_[:3])})"
            )
        else:
            found.append(f"{framework.name}: nothing pending")
    return problems, found


# --- finishing and rollback --------------------------------------------------------------------


def _table_count(db: Database) -> int | None:
    """The number of tables for the outcome, or None when it cannot be read. A connection that
    was ended from outside since the last step fails once; the pool then connects anew."""
    from sqlalchemy.exc import DBAPIError

    for _attempt in range(2):
        try:
            with db.connect() as conn:
                return len(db.dialect.table_names(conn))
        except (DbmedicError, DBAPIError):
            continue
    return None


def _finish(
    run: _Run,
    journal: Journal,
    before: Schema,
    results: list[StepResult],
    failure: StepResult | None,
    rollback: bool,
    restore_options: Mapping[str, Any],
) -> Outcome:
    checks = tuple(r.detail or "" for r in results if r.kind == str(StepKind.VERIFY) and r.detail)
    backup = str(run.backup.path) if run.backup is not None else None
    common: dict[str, Any] = {"plan": run.plan, "run_id": "", "run_dir": "",
                              "tables_before": len(before.tables), "backup": backup}  # fmt: skip
    if failure is None:
        return Outcome(steps=tuple(results), verdict=Verdict.DONE, verified=True, checks=checks,
                       tables_after=_table_count(run.db), **common)  # fmt: skip
    if only_hooks_failed(results):
        hooks = [r for r in results if r.status is StepStatus.FAILED]
        error = (
            f"{len(hooks)} post-fix hook(s) failed after the repair was verified (the repair is "
            "kept, not rolled back): " + "; ".join(r.error or r.title for r in hooks)
        )
        todo = "; ".join(f"`{r.title.removeprefix('Run ')}`" for r in hooks)
        where = run.app or Path.cwd()
        return Outcome(steps=tuple(results), verdict=Verdict.HOOK_FAILED, verified=True,
                       checks=checks, error=error, tables_after=_table_count(run.db),
                       notes=(f"run the failed hook(s) by hand in {where}: {todo}",),
                       **common)  # fmt: skip
    if not run.wrote:
        return Outcome(steps=tuple(results), verdict=Verdict.NOTHING_CHANGED, error=failure.error,
                       tables_after=_table_count(run.db), **common)  # fmt: skip
    if not rollback or run.backup is None:
        why = (
            "rollback was not asked for (--no-rollback)" if not rollback else "no backup was taken"
        )
        return Outcome(steps=tuple(results), verdict=Verdict.NOT_ROLLED_BACK, error=failure.error,
                       rollback_detail=why, tables_after=_table_count(run.db), **common)  # fmt: skip
    from dbmedic.lock import LockBusy

    try:
        hold_lock(run, None)
    except LockBusy as e:  # another repair took the lock: restoring now would undo its work
        return Outcome(steps=tuple(results), verdict=Verdict.NOT_ROLLED_BACK, error=failure.error,
                       rollback_detail=f"not rolled back: {scrub(str(e))}",
                       tables_after=_table_count(run.db), **common)  # fmt: skip
    except Exception:  # the lock could not be checked: the rollback proves itself
        pass
    journal.write("rollback-start", backup=backup)
    began = time.perf_counter()
    try:
        detail = rollback_to(run.db, run.backup, before, **restore_options)
        verified, rolled = True, True
    except DbmedicError as e:
        detail, verified, rolled = scrub(str(e)), False, False
    except Exception as e:  # report, never hide: a human must look
        detail, verified, rolled = scrub(f"{type(e).__name__}: {e}"), False, False
    journal.write("rollback-end", verified=verified, detail=detail,
                  seconds=round(time.perf_counter() - began, 3))  # fmt: skip
    return Outcome(
        steps=tuple(results),
        verdict=Verdict.ROLLED_BACK if verified else Verdict.NOT_ROLLED_BACK,
        error=failure.error,
        rolled_back=rolled,
        rollback_verified=verified,
        rollback_detail=detail,
        tables_after=_table_count(run.db),
        **common,
    )


def only_hooks_failed(results: Sequence[StepResult]) -> bool:
    """True when every step that is not a post-fix hook ran OK and a hook failed: the repair
    was verified, so a hook's failure must not undo it."""
    hook = str(StepKind.HOOK)
    return any(r.status is StepStatus.FAILED for r in results) and all(
        r.status is StepStatus.OK for r in results if r.kind != hook
    )


def rollback_to(db: Database, backup: Any, before: Schema, **restore_options: Any) -> str:
    """Writes: restore ``backup`` into ``db`` and prove it; returns the proof in one sentence.

    Tables and views that are not in ``before`` (added by the failed run) are dropped, the
    backup's tables restored in place (``restore`` then compares each table's rows and checksum
    with the manifest and raises BackupError on a difference), and the re-inspected schema must
    equal ``before``. A database that no longer exists is created first. ``restore_options``
    go to the restore (``clearance`` from the production guard). Raises DbmedicError.
    """
    from dbmedic import api
    from dbmedic.changes import Change, DropForeignKey, DropTable, DropView
    from dbmedic.diff import diff_schemas
    from dbmedic.execute import run_statements
    from dbmedic.inspect import inspect_schema
    from dbmedic.recreate import DatabaseFacts, database_exists, recreate_database

    db.engine.dispose()
    if not database_exists(db):
        m = backup.manifest
        recreate_database(db, DatabaseFacts(db.name, m.charset, m.collation))
    now = inspect_schema(db)
    drops: list[Change] = [
        DropView(v) for n, v in sorted(now.views.items()) if n not in before.views
    ]
    added = {n for n in now.tables if n not in before.tables}
    if not db.dialect.inline_foreign_keys:  # keys into added tables first (PostgreSQL refuses)
        drops += [
            DropForeignKey(n, fk)
            for n, t in sorted(now.tables.items())
            for fk in t.foreign_keys.values()
            if fk.ref_table in added
        ]
    drops += [DropTable(now.tables[n]) for n in sorted(added)]
    if drops:
        run_statements(db, db.dialect.render(drops, now))
    db.engine.dispose()
    restored = api.restore(backup, db, force=True, **restore_options)
    db.engine.dispose()
    after = inspect_schema(db)
    diff = diff_schemas(before, after)
    if not diff.is_empty:
        shown = ", ".join(difference_key(c) for c in diff.changes[:5])
        raise DbmedicError(f"after the rollback the schema differs from before the run ({shown})")
    return (
        f"restored {restored.tables} tables and {restored.rows} rows from {backup.path}; "
        f"row checksums equal to the backup, schema equal to before the run"
    )


def statements_of(steps: Sequence[Step]) -> int:
    return sum(len(s.statements) for s in steps)
