"""``diagnose``: status -> simulation -> rehearsal -> cause -> impact -> parity -> options.

Read-only against the diagnosed database: it is opened read-only (the server refuses writes
through that session), and every run of the framework happens on a shadow database.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dbmedic.diagnose import impact, options
from dbmedic.diagnose.history import (
    NO_SQL,
    Histories,
    not_applied,
    simulate_from,
    simulate_from_zero,
    statement_sql,
    statements_from_files,
    statements_from_framework,
    statements_on_empty_shadow,
)
from dbmedic.diagnose.rehearse import (
    CopiesInBackground,
    CopyRehearsals,
    Rehearsal,
    ResetInBackground,
)
from dbmedic.diagnosis import (
    Cause,
    CriticalTable,
    Diagnosis,
    Evidence,
    Failure,
    Guard,
    RepairOption,
    SimulationNote,
    Strategy,
)
from dbmedic.errorclass import ErrorClass
from dbmedic.migration_model import JOURNAL_TABLE
from dbmedic.model import Migration, MigrationState, Schema

if TYPE_CHECKING:
    from dbmedic.connect import Database
    from dbmedic.frameworks.base import Framework
    from dbmedic.shadow import ShadowKeeper
    from dbmedic.simulate import Simulation

DiagnoseProgress = Callable[[str, str], None]
"""progress(phase, message): phases status, simulation, rehearsal, reset, resume, parity."""


REHEARSALS = frozenset({"reset", "current", "resume"})
"""The rehearsals diagnose can run, each a framework migrate on its own shadow database:
``reset`` (every migration from zero), ``current`` (migrate on a copy of the target, which
locates the failure) and ``resume`` (mark, then migrate, on a copy)."""


def rehearsals(rehearse: bool | Collection[str]) -> frozenset[str]:
    """``True``: all of :data:`REHEARSALS`; ``False``: none; else the named ones (checked)."""
    if isinstance(rehearse, bool):
        return REHEARSALS if rehearse else frozenset()
    chosen = frozenset(rehearse)
    unknown = sorted(chosen - REHEARSALS)
    if unknown:
        from dbmedic.errors import ConfigError

        raise ConfigError(
            f"unknown rehearsal {', '.join(unknown)}",
            hint=f"choose among {', '.join(sorted(REHEARSALS))}",
        )
    return chosen


@dataclass
class Clock:
    """Seconds per phase, in order."""

    progress: DiagnoseProgress | None = None
    timings: list[tuple[str, float]] = field(default_factory=list)
    phase: str = ""

    @contextmanager
    def __call__(self, phase: str, message: str = "") -> Iterator[None]:
        self.phase = phase
        self.say(message or phase)
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.timings.append((phase, time.perf_counter() - t0))

    def say(self, message: str) -> None:
        if self.progress is not None:
            self.progress(self.phase, message)

    def say_as(self, phase: str) -> Callable[[str], None]:
        """say() for work on another thread: its messages under its own phase."""

        def say(message: str) -> None:
            if self.progress is not None:
                self.progress(phase, message)

        return say


@dataclass
class Context:
    """What the status phase found; shared by diagnose and lint."""

    root: Path
    fw: Framework
    target: Database
    migrations: list[Migration]
    live: Schema
    tables: int


def open_context(
    app: Path | str, db: str | None, framework: str | None, environment: str | None
) -> tuple[Context, Callable[[], None]]:
    """Read-only: the framework, the migrations and the live schema; returns a closer."""
    from dbmedic.connect import open_reference
    from dbmedic.frameworks.tracking import table_names
    from dbmedic.migration_model import JOURNAL_TABLE
    from dbmedic.migrations import app_root, framework_from_tables, resolve

    root = app_root(app)
    fw, url = resolve(root, db, framework, environment)
    target = open_reference(url)
    try:
        with target.reading() as conn:  # the driver's own: no SQLAlchemy before a rehearsal
            names = table_names(target, conn)
            live = target.dialect.inspect(conn, target.info).without_internal_tables()
        if fw is None:
            fw = framework_from_tables(target, root, names)
        if environment:
            fw.environment = environment
        migrations = fw.read(target, root)
    except BaseException:
        target.close()
        raise
    count = len(names - {JOURNAL_TABLE})
    return Context(root, fw, target, migrations, live, count), target.close


def _failure_from_rehearsal(
    r: Rehearsal, migrations: dict[str, Migration], h: Histories, sim_now: Simulation | None
) -> Failure | None:
    res = r.result
    if res.ok or res.failed is None:
        return None
    m = migrations.get(res.failed) or Migration(res.failed, None, MigrationState.PENDING)
    number, line = locate_failure(res.failed, res.statement, h, sim_now)
    extra = dict(res.extra)
    if extra.get("line", "0").isdigit() and int(extra.get("line", "0")) > 0:
        line = int(extra["line"])
    statement = res.statement
    if statement is None and number is not None:
        statement = statement_sql(h.statements[res.failed][number - 1])
    return Failure(
        m,
        res.error or "unknown error",
        r.error_class or ErrorClass.OTHER,
        statement,
        number,
        m.file,
        line,
        Evidence.REHEARSED,
    )


def locate_failure(
    mid: str, statement: str | None, h: Histories, sim_now: Simulation | None
) -> tuple[int | None, int | None]:
    """(statement number, line) of the failing statement within its migration."""
    from dbmedic.effects_sql import Statement

    items = h.statements.get(mid, ())
    if statement:
        squashed = " ".join(statement.split()).lower()
        for i, item in enumerate(items, start=1):
            if " ".join(statement_sql(item).split()).lower() == squashed:
                return i, item.line if isinstance(item, Statement) else None
    if sim_now is not None:
        res = next((m for m in sim_now.migrations if m.id == mid), None)
        if res is not None and res.failure is not None:
            return res.failure.statement, res.failure.line
    return None, None


def _recorded_failures(todo: Sequence[Migration]) -> bool:
    """Whether a runner recorded a failed migration (its statement is then read from the SQL)."""
    return any(m.state is MigrationState.FAILED for m in todo)


def _recorded_failure(todo: Sequence[Migration], h: Histories, dialect: str) -> Failure | None:
    """The failure the runner recorded (dbmedic's journal: error and statement index)."""
    from dbmedic.effects_sql import Statement
    from dbmedic.errorclass import classify_error

    m = next((m for m in todo if m.state is MigrationState.FAILED), None)
    extra = dict(m.extra) if m else {}
    if m is None or not extra.get("error") or extra["error"] == "interrupted mid-migration":
        return None
    index = int(extra["statement_index"]) if extra.get("statement_index", "").isdigit() else None
    items = h.statements.get(m.id, ())
    item = items[index] if index is not None and index < len(items) else None
    sql = statement_sql(item) if item is not None else None
    line = item.line if isinstance(item, Statement) else None
    error = extra["error"]
    number = index + 1 if index is not None else None
    cls = classify_error(dialect, error, sql)
    return Failure(m, error, cls, sql, number, m.file, line, Evidence.RECORDED)


def _failure_from_simulation(
    sim_now: Simulation, migrations: dict[str, Migration]
) -> Failure | None:
    first = sim_now.first_failure
    if first is None or first.failure is None:
        return None
    m = migrations.get(first.id) or Migration(first.id, None, MigrationState.PENDING)
    f = first.failure
    return Failure(
        m, str(f.error), f.error.error_class, f.sql, f.statement, m.file, f.line, Evidence.SIMULATED
    )


def simulation_note(
    sim_now: Simulation | None, failing: Failure | None, *, rehearsed: bool
) -> SimulationNote:
    if sim_now is None:
        return SimulationNote(None)
    first = sim_now.first_failure
    unknown = sum(len(m.unknown) for m in sim_now.migrations)
    note = SimulationNote(
        first.id if first else None,
        str(first.failure.error) if first and first.failure else None,
        first.failure.error.error_class if first and first.failure else None,
        unknown,
        sim_now.seconds,
    )
    if not rehearsed:
        return note
    sim_id = note.failing
    real_id = failing.migration.id if failing else None
    disagreement = None
    if sim_id != real_id:
        disagreement = (
            f"the simulation predicted {'a failure at ' + sim_id if sim_id else 'success'}, "
            f"the rehearsal {'failed at ' + real_id if real_id else 'succeeded'}; the rehearsal wins"
        )
    elif failing and note.error_class and note.error_class != failing.error_class:
        disagreement = (
            f"the simulation predicted {note.error_class.value}, the server said "
            f"{failing.error_class.value}; the rehearsal wins"
        )
    return SimulationNote(
        note.failing, note.error, note.error_class, unknown, note.seconds, disagreement
    )


def _reset_option(
    r: Rehearsal | None, sim_all: Simulation | None, cmd: str, cause_text: str | None
) -> RepairOption:
    if r is not None:
        res = r.result
        if res.ok:
            reason = f"a fresh run of all {len(res.applied)} migrations succeeds"
            return options.option(
                Strategy.RESET,
                True,
                Evidence.REHEARSED,
                cmd,
                seconds=r.migrate_seconds,
                reason=reason,
            )
        reason = f"a fresh run fails at {res.failed} too" + (
            f": {cause_text}" if cause_text else ""
        )
        return options.option(
            Strategy.RESET, False, Evidence.REHEARSED, cmd, fails_at=res.failed, error=res.error,
            error_class=r.error_class, seconds=r.migrate_seconds, reason=reason,
        )  # fmt: skip
    if sim_all is None:
        return options.option(
            Strategy.RESET,
            None,
            Evidence.NOT_CHECKED,
            cmd,
            reason="the SQL of the applied migrations is unknown without a shadow database",
        )
    first = sim_all.first_failure
    if first is None or first.failure is None:
        return options.option(
            Strategy.RESET,
            True,
            Evidence.SIMULATED,
            cmd,
            reason=f"the simulation runs all {len(sim_all.migrations)} migrations from zero without error",
        )
    reason = f"a fresh run fails at {first.id} too" + (f": {cause_text}" if cause_text else "")
    return options.option(
        Strategy.RESET, False, Evidence.SIMULATED, cmd, fails_at=first.id,
        error=str(first.failure.error), error_class=first.failure.error.error_class, reason=reason,
    )  # fmt: skip


def _resume_option(
    r: Rehearsal | None, sim: Simulation, plan: options.ResumePlan, todo: int, cmd: str
) -> RepairOption:
    marked = (
        f"record {len(plan.mark)} migration(s) whose effects are present as applied, then "
        if plan.mark
        else ""
    )
    if plan.conflicts:
        c = plan.conflicts[0]
        return options.option(
            Strategy.RESUME, False, Evidence.SIMULATED, cmd, fails_at=c.migration, mark=plan.mark,
            reason=f"{c.object_kind} {c.object} exists with another definition ({'; '.join(c.differences)}): "
            "it needs the data-keeping repair first",
        )  # fmt: skip
    if r is not None:
        res = r.result
        if res.ok:
            reason = f"{marked}the remaining {len(res.applied)} migration(s) run without error"
            return options.option(
                Strategy.RESUME,
                True,
                Evidence.REHEARSED,
                cmd,
                seconds=r.migrate_seconds,
                reason=reason,
                mark=plan.mark,
            )
        return options.option(
            Strategy.RESUME, False, Evidence.REHEARSED, cmd, fails_at=res.failed, error=res.error,
            error_class=r.error_class, seconds=r.migrate_seconds, mark=plan.mark,
            reason=f"{marked}migrate fails at {res.failed}: {res.error}",
        )  # fmt: skip
    first = sim.first_failure
    if first is None or first.failure is None:
        run = todo - len(plan.mark)
        return options.option(
            Strategy.RESUME,
            True,
            Evidence.SIMULATED,
            cmd,
            mark=plan.mark,
            reason=f"{marked}the simulation runs the remaining {run} migration(s) without error",
        )
    return options.option(
        Strategy.RESUME, False, Evidence.SIMULATED, cmd, fails_at=first.id, mark=plan.mark,
        error=str(first.failure.error), error_class=first.failure.error.error_class,
        reason=f"{marked}migrate fails at {first.id}: {first.failure.error}",
    )  # fmt: skip


def _sync_option(reference: str | None, missing: int | None, cmd: str) -> RepairOption:
    if reference is None:
        return options.option(
            Strategy.SYNC,
            None,
            Evidence.NOT_CHECKED,
            cmd,
            reason="needs --reference (a database URL or a snapshot)",
        )
    what = (
        f"copies the {missing} missing table(s) and other missing objects"
        if missing is not None
        else "copies the missing objects"
    )
    return options.option(
        Strategy.SYNC,
        True,
        Evidence.NOT_CHECKED,
        cmd,
        reason=f"{what} from the reference, then records the migrations; not rehearsed",
    )


def diagnose(
    app: Path | str,
    db: str | None = None,
    *,
    reference: str | None = None,
    critical: Sequence[str] = (),
    framework: str | None = None,
    environment: str | None = None,
    rehearse: bool | Collection[str] = True,
    progress: DiagnoseProgress | None = None,
    keep_reset_shadow: ShadowKeeper | None = None,
    simulate: bool = True,
    while_rehearsing: Callable[[], object] | None = None,
) -> Diagnosis:
    """Read-only on ``db``: where migrations stopped, why, what is blocked, which repair works.

    Runs the framework only on shadow databases; when none can be created the answer is
    simulated (``evidence``, ``shadow_note``). ``rehearse`` names the rehearsals to run (see
    :data:`REHEARSALS`; True: all, False: none); what is not rehearsed is simulated (a plan for
    reset needs only ``{"reset"}``, which saves two full migrate runs). ``keep_reset_shadow``
    takes over the reset rehearsal's shadow when that run succeeds (``fix --strategy reset``
    moves it into the target); else it is dropped like every other. ``simulate=False`` (a reset
    plan, which reads only the reset option, the migrations and the expected table count): when
    the reset rehearsal succeeds, nothing is simulated and the diagnosis is the reset part alone
    (see :func:`_reset_only`); when it fails or cannot run, everything is simulated as usual, so
    a refusal says where and why. ``while_rehearsing`` is called on this thread once the reset
    rehearsal has started, when nothing else is left to do but wait for it (a reset plan
    prepares its repair there). Raises ConfigError, ConnectError, MigrationError.
    """
    from dbmedic.shadow import ShadowUnavailable, sigterm_unwinds

    wanted = rehearsals(rehearse)
    clock = Clock(progress)
    with clock("status", "reading migrations and schema"):
        ctx, close = open_context(app, db, framework, environment)
    try:
        with sigterm_unwinds():  # the rehearsals' threads drop their shadows before we exit
            return _diagnose(ctx, clock, reference, critical, wanted, ShadowUnavailable,
                             keep_reset_shadow, simulate, while_rehearsing)  # fmt: skip
    finally:
        close()


def _diagnose(
    ctx: Context,
    clock: Clock,
    reference: str | None,
    critical: Sequence[str],
    wanted: frozenset[str],
    unavailable: type[Exception],
    keep: ShadowKeeper | None = None,
    simulate: bool = True,
    while_rehearsing: Callable[[], object] | None = None,
) -> Diagnosis:
    fw, root, target = ctx.fw, ctx.root, ctx.target
    dialect = target.dialect.name
    shadow_note: str | None = None
    evidence = Evidence.REHEARSED if wanted else Evidence.SIMULATED
    if not wanted:
        shadow_note = "rehearsal switched off"

    background: ResetInBackground | None = None
    copies: CopiesInBackground | None = None
    try:
        todo = not_applied(ctx.migrations)
        if todo and wanted & {"current", "resume"}:
            on_copies = CopyRehearsals(fw, target, root, ctx.live, clock.say_as("rehearsal"))
            copies = CopiesInBackground(
                on_copies, clock.say_as("resume"),
                current="current" in wanted, resume="resume" in wanted,
            )  # fmt: skip
        with clock("reset", "rehearsing a fresh run on an empty shadow database"):
            h = statements_from_files(fw, root, target.dialect.family or dialect)
            # a reset plan reads the framework's SQL only when the rehearsal fails (to say
            # where and why): the fresh run starts without printing it first
            deferred = h is None and not simulate and not _recorded_failures(todo)
            if "reset" in wanted:
                background = ResetInBackground(
                    fw, target, root, ctx.migrations, clock.say,
                    want_sql=h is None and not deferred, keep=keep,
                )  # fmt: skip
                try:
                    printed = background.history()  # waits for the shadow (and SQL, if asked)
                    h = h or printed
                except unavailable as e:
                    evidence, shadow_note, background = Evidence.SIMULATED, str(e), None
                    deferred = False
            if h is None and not deferred:
                h = statements_from_framework(fw, target, root, ctx.migrations, complete=False)
        if evidence is not Evidence.REHEARSED and copies is not None:
            copies.cancel()  # no shadow can be made: the copies fail as the empty one did
            copies.close()
            copies = None
        if not simulate and background is not None and copies is None:
            with clock("reset-wait", "waiting for the fresh run on the empty shadow database"):
                if while_rehearsing is not None:
                    background.wait_busy()
                    while_rehearsing()
                reset_r = background.result()
            if reset_r.ok and reset_r.tables is not None:
                return _reset_only(ctx, clock, reference, critical, h or NO_SQL, reset_r)
        if h is None:  # deferred, and the fresh run failed: the simulation needs all the SQL
            with clock("reset-sql", "reading every migration's SQL from the framework"):
                h = statements_on_empty_shadow(fw, target, root, ctx.migrations)
        return _rehearsed(
            ctx, clock, reference, critical, h, evidence, shadow_note, background, copies, wanted
        )
    except BaseException:  # an error, Ctrl-C, SIGTERM: the rehearsals stop at their next step
        for worker in (copies, background):
            if worker is not None:
                worker.cancel()
        raise
    finally:  # every shadow is dropped before diagnose returns
        try:
            if copies is not None:
                copies.close()
        finally:
            if background is not None:
                background.close()


def _rehearsed(
    ctx: Context,
    clock: Clock,
    reference: str | None,
    critical: Sequence[str],
    h: Histories,
    evidence: Evidence,
    shadow_note: str | None,
    background: ResetInBackground | None,
    copies: CopiesInBackground | None,
    wanted: frozenset[str],
) -> Diagnosis:
    fw, root, target, live = ctx.fw, ctx.root, ctx.target, ctx.live
    dialect = target.dialect.name
    by_id = {m.id: m for m in ctx.migrations}
    todo = not_applied(ctx.migrations)
    reset_r: Rehearsal | None = None

    with clock("simulation", "simulating the migration history"):
        # the plan first: the resume rehearsal waits for it, the simulations overlap it
        plan = options.resume_plan(h, todo, live, dialect, ordered=fw.ordered_history)
        steps = "resume" in wanted and not plan.conflicts and bool(plan.mark or plan.run_first)
        if copies is not None and steps:
            copies.give(plan.mark, plan.run_first)
        sim_all = simulate_from_zero(h, ctx.migrations, dialect) if h.complete else None
        sim_now = simulate_from(h, todo, live, dialect)

    from dbmedic.shadow import ShadowUnavailable

    now_r: Rehearsal | None = None
    if copies is not None:
        with clock("rehearsal-wait", "waiting for the rehearsal on a shadow copy"):
            try:
                now_r = copies.current()
            except ShadowUnavailable as e:  # reached when the reset rehearsal was not asked for
                evidence, shadow_note, copies = Evidence.SIMULATED, str(e), None

    failing = (
        _failure_from_rehearsal(now_r, by_id, h, sim_now)
        if now_r
        else _failure_from_simulation(sim_now, by_id)
    )
    note = simulation_note(sim_now, failing, rehearsed=now_r is not None)
    recorded = _recorded_failure(todo, h, dialect)
    if recorded is not None and (failing is None or failing.migration.id != recorded.migration.id):
        seen = f"failed at {failing.migration.id}" if failing else "succeeded"
        how = "rehearsal" if now_r is not None else "simulation"
        note = replace(
            note,
            disagreement=f"the runner's record says {recorded.migration.id} failed ({recorded.error}); "
            f"the {how} {seen}: the failure depends on the target itself (privileges, locks, "
            "data), which a structure-only copy does not have; the record wins",
        )
        failing = recorded

    cause = None
    if failing is not None:
        from dbmedic.diagnose import cause as causes

        target_obj = causes.find_target(
            failing.error_class, failing.statement, failing.error, live, dialect
        )
        sites = causes.sites(target_obj.key, sim_all, by_id, root, failing.migration.id)
        order = [m.id for m in ctx.migrations]
        cause = causes.explain(
            target_obj, sites, failing.migration.id, order, h.complete, failing.error
        )

    created = impact.tables_created(sim_all or sim_now)
    timeline = impact.timeline(ctx.migrations, failing.migration.id if failing else None, created)

    parity_summary = None
    ref_batches: dict[str, int | None] | None = None
    if reference is not None:
        from dbmedic.diagnose.parity import load_reference, parity, reference_label

        with clock("parity", "comparing with the reference"):
            ref_schema = load_reference(reference)
            parity_summary = parity(live, ref_schema, reference_label(reference))
            ref_batches = _reference_batches(fw, root, reference)
    blocked = impact.blocked(timeline, ref_batches)
    critical_rows = impact.critical_tables(list(critical), live, timeline, by_id)

    skip = {mid: len(h.statements.get(mid, ())) for mid in plan.mark}
    sim_resume = (
        simulate_from(h, todo, live, dialect, skip_statements=skip) if plan.mark else sim_now
    )

    resume_r: Rehearsal | None = None
    if copies is not None and steps:
        with clock("resume-wait", "waiting for the resume rehearsal on a shadow copy"):
            try:
                resume_r = copies.resume()
            except ShadowUnavailable as e:  # only "resume" asked for, and no shadow possible
                evidence, shadow_note = Evidence.SIMULATED, str(e)
    elif evidence is Evidence.REHEARSED and todo and not plan.conflicts and "resume" in wanted:
        resume_r = now_r  # nothing to mark: resume is migrate
    if background is not None:
        with clock("reset-wait", "waiting for the fresh run on the empty shadow database"):
            reset_r = background.result()
    for phase, r in (("reset", reset_r), ("rehearsal", now_r), ("resume", resume_r)):
        if r is not None and not (phase == "resume" and r is now_r):
            clock.timings.append((f"{phase} (background)", r.seconds))

    app_text, target_text = str(root), target.display
    ref_text = (
        None if reference is None else reference if "://" not in reference else _redacted(reference)
    )
    fresh = _fresh_failure(ctx, h, reset_r, sim_all)
    cause_text = fresh[1].explanation if fresh else cause.explanation if cause else None
    opts = (
        _reset_option(reset_r, sim_all, options.command(Strategy.RESET, app_text, target_text), cause_text),
        _resume_option(resume_r, sim_resume, plan, len(todo), options.command(Strategy.RESUME, app_text, target_text)),
        _sync_option(reference, len(parity_summary.missing_tables) if parity_summary else None,
                     options.command(Strategy.SYNC, app_text, target_text, ref_text)),
    )  # fmt: skip
    recommendation = options.recommend(opts, nothing_to_do=not todo and failing is None)
    guard = _guard(ctx, h, failing, cause, fresh)
    expected_tables = None
    if parity_summary is not None and (line := parity_summary.line("tables")) is not None:
        expected_tables = line.expected
    elif sim_all is not None:
        tracking = {t.lower() for t in fw.tracking_tables(root)} - {JOURNAL_TABLE}
        kept = sum(1 for t in live.tables if t.lower() in tracking)
        expected_tables = len(sim_all.schema.tables) + kept  # the tracking table counts as a table
    return Diagnosis(
        **_about(ctx),
        failing=failing,
        cause=cause,
        blocked=blocked,
        critical=critical_rows,
        parity=parity_summary,
        conflicts=plan.conflicts,
        options=opts,
        guard=guard,
        recommendation=recommendation,
        simulation=note,
        evidence=evidence,
        shadow_note=shadow_note,
        timeline=timeline,
        timings=tuple(clock.timings),
        expected_tables=expected_tables,
    )


def _about(ctx: Context) -> dict[str, Any]:
    """The fields of a Diagnosis that describe the target and its migrations as read."""
    counts = {state.value: 0 for state in MigrationState}
    for m in ctx.migrations:
        counts[m.state.value] += 1
    return {
        "framework": ctx.fw.name,
        "app": str(ctx.root),
        "target": ctx.target.display,
        "dialect": ctx.target.dialect.name,
        "counts": counts,
        "total": len(ctx.migrations),
        "tables": ctx.tables,
        "last_applied": next(
            (m for m in reversed(ctx.migrations) if m.state is MigrationState.APPLIED), None
        ),
        # When the database was read (the dialect's stamp, else now: seconds after the read);
        # reports are dated by it, never by when they are rendered.
        "taken_at": ctx.live.taken_at or _utc_now(),
    }


def _reset_only(
    ctx: Context,
    clock: Clock,
    reference: str | None,
    critical: Sequence[str],
    h: Histories,
    reset_r: Rehearsal,
) -> Diagnosis:
    """The diagnosis a reset plan reads, once the reset rehearsal ran every migration: no
    simulation (its CPU work would share the GIL with the framework's runner on the rehearsal's
    thread, and the plan reads nothing from it). The failure is the one the runner recorded, if
    any; cause, conflicts, blocked groups and the guard are left out, the resume option is not
    checked, and the expected tables are those the fresh run made (or the reference's)."""
    root, target, live = ctx.root, ctx.target, ctx.live
    dialect = target.dialect.name
    present = {t.lower() for t in live.tables}
    todo = not_applied(ctx.migrations)
    failing = _recorded_failure(todo, h, dialect)
    timeline = impact.timeline(ctx.migrations, failing.migration.id if failing else None, {})
    parity_summary = None
    if reference is not None:
        from dbmedic.diagnose.parity import load_reference, parity, reference_label

        with clock("parity", "comparing with the reference"):
            parity_summary = parity(live, load_reference(reference), reference_label(reference))
    clock.timings.append(("reset (background)", reset_r.seconds))
    app_text, target_text = str(root), target.display
    ref_text = (
        None if reference is None else reference if "://" not in reference else _redacted(reference)
    )
    opts = (
        _reset_option(reset_r, None, options.command(Strategy.RESET, app_text, target_text), None),
        options.option(
            Strategy.RESUME, None, Evidence.NOT_CHECKED,
            options.command(Strategy.RESUME, app_text, target_text),
            reason="not checked: only a reset was planned",
        ),
        _sync_option(reference, len(parity_summary.missing_tables) if parity_summary else None,
                     options.command(Strategy.SYNC, app_text, target_text, ref_text)),
    )  # fmt: skip
    expected = reset_r.tables
    if parity_summary is not None and (line := parity_summary.line("tables")) is not None:
        expected = line.expected
    return Diagnosis(
        **_about(ctx),
        failing=failing,
        cause=None,
        blocked=impact.blocked(timeline, None),
        critical=tuple(
            CriticalTable(t, True, None, "present")
            if t.lower() in present
            else CriticalTable(t, False, None, "missing (its creator was not simulated)")
            for t in critical
        ),
        parity=parity_summary,
        conflicts=(),
        options=opts,
        guard=None,
        recommendation=options.recommend(opts, nothing_to_do=not todo and failing is None),
        simulation=SimulationNote(None),
        evidence=Evidence.REHEARSED,
        timeline=timeline,
        timings=tuple(clock.timings),
        expected_tables=expected,
    )


def _fresh_failure(
    ctx: Context, h: Histories, reset_r: Rehearsal | None, sim_all: Simulation | None
) -> tuple[Failure, Cause] | None:
    """Where and why the fresh run (the reset rehearsal) fails, when it does."""
    if reset_r is None or reset_r.ok:
        return None
    by_id = {m.id: m for m in ctx.migrations}
    fresh = _failure_from_rehearsal(reset_r, by_id, h, sim_all)
    if fresh is None:
        return None
    from dbmedic.diagnose import cause as causes

    schema = sim_all.schema if sim_all is not None else ctx.live
    name = ctx.target.dialect.name
    t = causes.find_target(fresh.error_class, fresh.statement, fresh.error, schema, name)
    sites = causes.sites(t.key, sim_all, by_id, ctx.root, fresh.migration.id)
    order = [m.id for m in ctx.migrations]
    return fresh, causes.explain(t, sites, fresh.migration.id, order, h.complete, fresh.error)


def _guard(
    ctx: Context,
    h: Histories,
    failing: Failure | None,
    cause: Cause | None,
    fresh: tuple[Failure, Cause] | None,
) -> Guard | None:
    """The guard for the fresh run's duplicate when reset fails on one (that is what a guard
    is for: the migration must pass from zero); else for the current failure."""
    from dbmedic.diagnose import cause as causes
    from dbmedic.diagnose.guard import guard_for

    dialect = ctx.target.dialect
    if fresh is not None and fresh[0].error_class in causes.DUPLICATE and fresh[0].statement:
        failing, cause = fresh
    if failing is None:
        return None
    mid = failing.migration.id
    return guard_for(
        ctx.fw.name, cause, mid, failing.file, failing.line, failing.statement,
        dialect.add_column_if_not_exists, root=ctx.root, dialect=dialect,
        statements=[statement_sql(x) for x in h.statements.get(mid, ())],
    )  # fmt: skip


def _utc_now() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).isoformat(timespec="seconds")


def _redacted(url: str) -> str:
    from dbmedic.secrets import redact

    return redact(url)


def _reference_batches(fw: Framework, root: Path, reference: str) -> dict[str, int | None] | None:
    """Batches of each migration in the reference's tracking table (Laravel), where it has one."""
    if "://" not in reference:
        return None
    from dbmedic.connect import open_reference
    from dbmedic.errors import DbmedicError

    try:
        with open_reference(reference) as ref:
            return {m.id: m.batch for m in fw.read(ref, root) if m.batch is not None} or None
    except DbmedicError:
        return None
