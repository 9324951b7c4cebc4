"""Finish or undo a recorded run: ``fix --resume <id>`` and ``rollback <id>``.

Resume continues an interrupted run (see :mod:`dbmedic.runs`) from its first unfinished step,
under the same repair lock, after proving that the database is where the journal left it:

- the run's backup must still exist and match its manifest's checksums (it is reused);
- the live schema must have the fingerprint recorded after the last finished step, unless the
  step that was running when the process died explains the difference. That step is examined,
  not assumed: each statement of an SQL step is checked against the live schema
  (:func:`dbmedic.effectcheck.check_against`): present statements are not run again, absent ones
  are run, a conflict refuses. A framework migrate step re-reads the framework's status (its
  migrate runs what is pending); a mark-applied step re-checks the tracking table.

Anything else that differs (a change by hand) refuses with the differences; nothing is changed.
Rollback restores the run's backup and proves it (row checksums against the manifest, schema
equal to the one recorded before the run).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dbmedic.errors import DbmedicError
from dbmedic.runs import INTERRUPTED, JournalError, RunMismatch, RunRecord, fingerprint, read_run

if TYPE_CHECKING:
    from dbmedic.apply import ApplyProgress, Outcome, _Run
    from dbmedic.connect import Database
    from dbmedic.frameworks.base import Framework
    from dbmedic.model import Schema
    from dbmedic.plan import Step


@dataclass(frozen=True, slots=True)
class RollbackResult:
    run_id: str
    target: str
    backup: str
    detail: str
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": "dbmedic.rollback/1",
            "run_id": self.run_id,
            "target": self.target,
            "backup": self.backup,
            "verified": True,
            "detail": self.detail,
            "seconds": round(self.seconds, 3),
        }


def _checked_backup(record: RunRecord) -> Any:
    """The run's backup, verified against its manifest; raises when gone or damaged."""
    from dbmedic.backups import Backup, verify_backup

    if record.backup is None:
        return None
    check = verify_backup(record.backup)
    if not check.ok or check.manifest is None:
        raise RunMismatch(
            f"the backup of run {record.id} cannot be used: {check.problems[0]}",
            hint="nothing was changed; take a new backup and repair with a new `dbmedic fix`",
        )
    return Backup(Path(record.backup), check.manifest)


def _differences(expected: Schema, live: Schema) -> str:
    from dbmedic.apply import difference_key
    from dbmedic.diff import diff_schemas

    changes = diff_schemas(expected, live).changes
    shown = ", ".join(difference_key(c) for c in changes[:5])
    return shown + (f" and {len(changes) - 5} more" if len(changes) > 5 else "")


def _open(
    record: RunRecord, url: str, app: Path | None, guard_environment: Any,
    allow_production: bool, confirm_production: Any,
) -> tuple[Database, Any]:  # fmt: skip
    from dbmedic.connect import open_target
    from dbmedic.guard import assert_may_change

    clearance = assert_may_change(url, app=app, environment=guard_environment,
                                  allow_production=allow_production,
                                  confirm=confirm_production)  # fmt: skip
    db = open_target(url)
    try:
        record.check_database(db)
    except BaseException:
        db.close()
        raise
    return db, clearance


def examine_sql_step(
    record: RunRecord,
    step: Step,
    expected: Schema,
    live: Schema,
    transactional: bool,
    reference: Schema | None = None,
) -> list[int]:
    """Numbers of the statements of ``step`` still to run, judged by the live schema; raises
    RunMismatch for a conflict or a statement whose effect cannot be seen.

    A table the statement creates that the live schema has with another spelling of the same
    definition (MariaDB reads ``longtext ... CHECK (json_valid(...))`` back as ``json``) counts
    as present when it equals the run's reference table, which sync copied."""
    from dbmedic.effectcheck import Presence, check_against
    from dbmedic.effects import statement_effects

    journaled = record.statements_done(step.number)
    todo: list[int] = []
    seen_present = False
    unknown: list[int] = []
    for number, sql in enumerate(step.statements, start=1):
        effects = statement_effects(sql, expected.dialect, expected)
        checks = check_against(live, effects) if effects.effects and effects.unknown is None else []
        if not checks:
            unknown.append(number)
            continue
        presence = {_copied(c, live, reference) for c in checks}
        if presence == {Presence.PRESENT}:
            seen_present = True
        elif presence == {Presence.ABSENT}:
            todo.append(number)
        else:
            bad = next(c for c in checks if c.presence is not Presence.PRESENT)
            raise RunMismatch(
                f"statement {number} of step {step.number} ({step.title}) is half in "
                f"effect: {bad.subject} {bad.presence} ({'; '.join(bad.differences) or 'partly'})",
                hint=f"`dbmedic rollback {record.id}` restores the backup; nothing was changed",
            )
    for number in unknown:  # data statements: no schema effect to look at
        if transactional and (seen_present or number in journaled):
            continue  # committed with the step's other statements
        if not transactional and number in journaled:
            continue
        if not transactional and number == max(journaled, default=0) + 1 and not todo:
            raise RunMismatch(
                f"cannot tell whether statement {number} of step {step.number} "
                f"({step.title}) ran before the run stopped",
                hint=f"`dbmedic rollback {record.id}` restores the backup; nothing was changed",
            )
        todo.append(number)
    return sorted(todo)


def _copied(check: Any, live: Schema, reference: Schema | None) -> Any:
    from dbmedic.changes import AddTable
    from dbmedic.effectcheck import Presence

    change = check.effect.change
    if (
        check.presence is Presence.CONFLICT
        and reference is not None
        and isinstance(change, AddTable)
    ):
        name = change.table.name
        if name in reference.tables and live.tables.get(name) == reference.tables[name]:
            return Presence.PRESENT
    return check.presence


def resume_run(
    run_id: str,
    url: str,
    *,
    state_dir: Path | str,
    app: Path | None = None,
    framework: Framework | None = None,
    reference: Schema | None = None,
    progress: ApplyProgress | None = None,
    rollback: bool = True,
    break_stale_lock: bool = False,
    allow_production: bool = False,
    confirm_production: Any = None,
    guard_environment: Any = None,
) -> Outcome:
    """Writes: continue the interrupted run ``run_id`` on ``url`` (see the module doc)."""
    from dbmedic.apply import (
        Journal,
        StepResult,
        StepStatus,
        _finish,
        _Run,
        run_sql_statements,
        run_step,
        skipped_after,
    )
    from dbmedic.faults import from_env
    from dbmedic.fixing import hook_env
    from dbmedic.inspect import inspect_schema
    from dbmedic.lock import RepairLock
    from dbmedic.plan import StepKind

    record = read_run(state_dir, run_id)
    if record.state != INTERRUPTED:
        raise JournalError(
            f"run {run_id} is not interrupted (it is {record.state}); there is nothing to resume",
            hint="`dbmedic runs` shows the state of every run",
        )
    plan = record.load_plan()
    if reference is None and (record.directory / "reference.json").is_file():
        from dbmedic.snapshot import load_snapshot

        reference = load_snapshot(record.directory / "reference.json")
    db, clearance = _open(record, url, app, guard_environment, allow_production,
                          confirm_production)  # fmt: skip
    began = time.perf_counter()
    try:
        lock = RepairLock(db, break_stale=break_stale_lock)
        with lock:
            backup = _checked_backup(record)
            finished = set(record.finished_steps())
            first = next((s for s in plan.steps if s.number not in finished), None)
            done_before = [n for n in sorted(finished) if first is None or n < first.number]
            last = done_before[-1] if done_before else 0
            expected = record.schema_after(last)
            live = inspect_schema(db)
            started = {int(e["step"]) for e in record.events if e.get("event") == "step-start"}
            plan_of: dict[int, list[int]] = {}
            if fingerprint(live) != fingerprint(expected):
                explained = (
                    first is not None
                    and first.number in started
                    and first.kind in (StepKind.SQL, StepKind.MOVE_ASIDE, StepKind.COPY_BACK,
                                       StepKind.FRAMEWORK_MIGRATE, StepKind.PROMOTE_SHADOW)
                )  # fmt: skip
                if not explained:
                    raise RunMismatch(
                        f"{db.display} is not where run {run_id} stopped; since step "
                        f"{last} it differs in {_differences(expected, live)}",
                        hint=f"it was changed by hand; `dbmedic rollback {run_id}` restores the "
                        "backup; nothing was changed",
                    )
            if (
                first is not None
                and first.number in started
                and first.statements
                and first.kind in (StepKind.SQL, StepKind.MOVE_ASIDE, StepKind.COPY_BACK)
            ):
                plan_of[first.number] = todo = examine_sql_step(
                    record, first, expected, live, db.dialect.transactional_ddl, reference
                )
                if len(todo) == len(first.statements) and fingerprint(live) != fingerprint(
                    expected
                ):
                    raise RunMismatch(
                        f"{db.display} is not where run {run_id} stopped; none of step "
                        f"{first.number}'s statements is in effect, yet it differs in "
                        f"{_differences(expected, live)}",
                        hint=f"it was changed by hand; `dbmedic rollback {run_id}` restores the "
                        "backup; nothing was changed",
                    )
            journal = Journal(record.directory)
            journal.write("resume-start", pid=os.getpid(), lock=lock.description,
                          first=first.number if first else None,
                          examined={str(k): v for k, v in plan_of.items()})  # fmt: skip
            fw = framework
            run = _Run(plan, db, app, fw, Path(str(record.start.get("backup_dir") or ".")),
                       reference, progress, hook_env(fw, db, app), journal=journal,
                       fault=from_env(), lock=lock)  # fmt: skip
            run.backup = backup
            run.wrote = backup is not None
            results: list[StepResult] = []
            failure: StepResult | None = None
            for step in plan.steps:
                if step.number in finished and (first is None or step.number < first.number):
                    results.append(StepResult(step.number, str(step.kind), step.title,
                                              StepStatus.OK, detail="done before the resume"))  # fmt: skip
                    continue
                if skipped_after(failure, step):
                    results.append(StepResult(step.number, str(step.kind), step.title,
                                              StepStatus.SKIPPED))  # fmt: skip
                    continue
                runner = _resume_runner(step, plan_of, run_sql_statements)
                result = run_step(run, step, journal, None, lock.description, runner)
                results.append(result)
                if result.status is StepStatus.FAILED and failure is None:
                    failure = result
            outcome = _finish(run, journal, record.schema_after(0), results, failure, rollback,
                              {"clearance": clearance})  # fmt: skip
            left = _drop_leftover_shadows(db, plan)
            seconds = time.perf_counter() - began
            outcome = replace(outcome, run_id=run_id, run_dir=str(record.directory),
                              seconds=seconds, started=str(record.start.get("time", "")),
                              notes=outcome.notes + left)  # fmt: skip
            journal.write("run-end", verdict=str(outcome.verdict), seconds=round(seconds, 3))
            return outcome
    finally:
        db.close()


def _drop_leftover_shadows(db: Database, plan: Any) -> tuple[str, ...]:
    """A run killed while it held its rehearsed shadow left it on the server: drop it now.
    Returns a note for each one that could not be dropped (the repair itself is not undone)."""
    from dbmedic.plan import StepKind
    from dbmedic.promote import drop_leftover

    notes = []
    for step in plan.steps:
        if step.kind is StepKind.PROMOTE_SHADOW:
            try:
                drop_leftover(db, step)
            except DbmedicError as e:
                notes.append(f"the shadow {step.shadow} is left over ({e}); drop it by hand")
    return tuple(notes)


def _resume_runner(step: Step, plan_of: dict[int, list[int]], run_sql: Any) -> Any:
    """The runner of a step in a resume: the examined statements only; mark-applied only for
    what the tracking table still lacks; others as in a fresh run (None)."""
    from dbmedic.plan import StepKind

    if step.number in plan_of:
        numbers = plan_of[step.number]

        def partial(run: _Run, s: Step) -> str:
            if not numbers:
                return f"examined: all {len(s.statements)} statements already in effect"
            statements = [s.statements[n - 1] for n in numbers]
            run_sql(run, s, statements, numbers)
            return f"examined: ran {len(numbers)} of {len(s.statements)} statements"

        return partial
    if step.kind is StepKind.MARK_APPLIED:

        def mark(run: _Run, s: Step) -> str:
            from dbmedic.model import MigrationState

            if run.framework is None or run.app is None:
                raise DbmedicError(f"step {s.number} needs the application (--app)")
            applied = {m.id for m in run.framework.read(run.db, run.app)
                       if m.state is MigrationState.APPLIED}  # fmt: skip
            left = tuple(m for m in s.migrations if m not in applied)
            if left:
                run.framework.mark_applied(run.db, run.app, left)
            return (
                f"{len(left)} migrations recorded as applied ({len(s.migrations) - len(left)} were)"
            )

        return mark
    if step.kind is StepKind.PROMOTE_SHADOW:

        def promote(run: _Run, s: Step) -> str:
            from dbmedic.apply import _migrate
            from dbmedic.promote import resume_promotion

            if run.framework is None or run.app is None or run.journal is None:
                raise DbmedicError(f"step {s.number} needs the application (--app)")
            return resume_promotion(
                run.db, s, fw=run.framework, root=run.app, folder=run.journal.directory,
                run=lambda sql, numbers: run_sql(run, s, sql, numbers),
                migrate=lambda: _migrate(run, s),
                proven=lambda schema: setattr(run, "read", schema),
            )  # fmt: skip

        return promote
    return None


def rollback_run(
    run_id: str,
    url: str,
    *,
    state_dir: Path | str,
    app: Path | None = None,
    break_stale_lock: bool = False,
    allow_production: bool = False,
    confirm_production: Any = None,
    guard_environment: Any = None,
) -> RollbackResult:
    """Writes: restore the backup of run ``run_id`` into ``url`` and prove it (row checksums
    equal to the backup manifest, schema equal to the one recorded before the run)."""
    from dbmedic.apply import Journal, rollback_to
    from dbmedic.lock import RepairLock

    record = read_run(state_dir, run_id)
    db, clearance = _open(record, url, app, guard_environment, allow_production,
                          confirm_production)  # fmt: skip
    began = time.perf_counter()
    try:
        with RepairLock(db, break_stale=break_stale_lock):
            backup = _checked_backup(record)
            if backup is None:
                _drop_leftover_shadows(db, record.load_plan())  # ours, made for the run
                raise RunMismatch(
                    f"run {run_id} has no backup to roll back to (it stopped before its "
                    "backup finished, so it changed nothing)",
                    hint="nothing was changed",
                )
            journal = Journal(record.directory)
            journal.write("rollback-start", backup=str(backup.path), by="rollback")
            try:
                detail = rollback_to(db, backup, record.schema_after(0), clearance=clearance)
            except DbmedicError as e:
                journal.write("rollback-end", verified=False, detail=str(e), by="rollback")
                raise
            detail = " ".join((detail, *_drop_leftover_shadows(db, record.load_plan())))
            seconds = time.perf_counter() - began
            journal.write("rollback-end", verified=True, detail=detail, by="rollback",
                          seconds=round(seconds, 3))  # fmt: skip
            return RollbackResult(run_id, db.display, str(backup.path), detail, seconds)
    finally:
        db.close()
