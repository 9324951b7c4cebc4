"""``lint``: predict every pending migration's outcome on a shadow copy, flag non-idempotent ones."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from dbmedic.diagnose.guard import guard_for
from dbmedic.diagnose.history import (
    Histories,
    not_applied,
    simulate_from,
    statement_sql,
    statements_from_files,
    statements_from_framework,
)
from dbmedic.diagnose.pipeline import (
    Clock,
    DiagnoseProgress,
    locate_failure,
    open_context,
    simulation_note,
)
from dbmedic.diagnose.rehearse import Rehearsal, rehearse_current
from dbmedic.diagnosis import Evidence, Lint, LintFinding
from dbmedic.model import Migration


def _unguarded(statements: Sequence[str], dialect: str) -> tuple[str, ...]:
    """Statements with a schema effect and no IF [NOT] EXISTS guard: they fail when re-run."""
    from dbmedic.effects import statement_effects

    out = []
    for sql in statements:
        e = statement_effects(sql, dialect)
        if e.effects and not e.idempotent:
            out.append(sql)
    return tuple(out)


def lint(
    app: Path | str,
    db: str | None = None,
    *,
    framework: str | None = None,
    environment: str | None = None,
    rehearse: bool = True,
    progress: DiagnoseProgress | None = None,
) -> Lint:
    """Read-only on ``db``: the predicted outcome of each pending migration (simulation, then a
    rehearsal on a shadow copy, which wins) and whether each is idempotent."""
    from dbmedic.diagnose import cause as causes
    from dbmedic.shadow import ShadowUnavailable

    clock = Clock(progress)
    with clock("status", "reading migrations and schema"):
        ctx, close = open_context(app, db, framework, environment)
    try:
        fw, root, target, live = ctx.fw, ctx.root, ctx.target, ctx.live
        dialect = target.dialect.name
        todo = not_applied(ctx.migrations)
        with clock("simulation", "simulating the pending migrations"):
            h: Histories | None = statements_from_files(fw, root, target.dialect.family or dialect)
            if h is None:
                h = statements_from_framework(fw, target, root, ctx.migrations, complete=False)
            sim = simulate_from(h, todo, live, dialect, keep_going=True)
        evidence = Evidence.REHEARSED if rehearse else Evidence.SIMULATED
        note = None if rehearse else "rehearsal switched off"
        r: Rehearsal | None = None
        if rehearse and todo:
            with clock("rehearsal", "rehearsing migrate on a shadow copy"):
                try:
                    r = rehearse_current(fw, target, root, live, clock.say)
                except ShadowUnavailable as e:
                    evidence, note = Evidence.SIMULATED, str(e)
        findings = _findings(todo, h, sim, r, dialect)
        first_bad = next((f for f in findings if f.predicted_ok is False), None)
        guard = None
        if first_bad is not None and first_bad.error_class is not None:
            t = causes.find_target(
                first_bad.error_class, first_bad.statement, first_bad.error or "", live, dialect
            )
            cause = causes.explain(
                t, (), first_bad.migration, [m.id for m in todo], False, first_bad.error or ""
            )
            guard = guard_for(
                fw.name, cause, first_bad.migration, first_bad.file, first_bad.line,
                first_bad.statement, target.dialect.add_column_if_not_exists, root=root,
                dialect=target.dialect,
                statements=[statement_sql(x) for x in h.statements.get(first_bad.migration, ())],
            )  # fmt: skip
        return Lint(
            framework=fw.name,
            app=str(root),
            target=target.display,
            dialect=dialect,
            findings=tuple(findings),
            evidence=evidence,
            shadow_note=note,
            simulation=simulation_note(sim, None, rehearsed=False),
            guard=guard,
            timings=tuple(clock.timings),
        )
    finally:
        close()


def _findings(
    todo: Sequence[Migration], h: Histories, sim: object, r: Rehearsal | None, dialect: str
) -> list[LintFinding]:
    from dbmedic.simulate import Outcome, Simulation

    assert isinstance(sim, Simulation)
    results = {m.id: m for m in sim.migrations}
    applied = set(r.result.applied) if r else set()
    failed = r.result.failed if r and not r.result.ok else None
    out = []
    seen_failure = False
    for m in todo:
        statements = [statement_sql(s) for s in h.statements.get(m.id, ())]
        res = results.get(m.id)
        idempotent = bool(res.idempotent) if res else False
        unguarded = _unguarded(statements, dialect)
        if r is not None and m.id == failed:
            seen_failure = True
            _number, line = locate_failure(m.id, r.result.statement, h, sim)
            out.append(
                LintFinding(
                    m.id, m.file, False, idempotent, r.result.error, r.error_class,
                    r.result.statement, line, unguarded,
                )
            )  # fmt: skip
            continue
        if r is not None and (m.id in applied or (r.result.ok and not seen_failure)):
            out.append(LintFinding(m.id, m.file, True, idempotent, unguarded=unguarded))
            continue
        # after the rehearsal's failure (or without a rehearsal): the simulation's prediction
        if res is None or res.outcome is Outcome.OK:
            out.append(
                LintFinding(
                    m.id,
                    m.file,
                    None if seen_failure and res is None else True,
                    idempotent,
                    unguarded=unguarded,
                )
            )
        else:
            f = res.failure
            out.append(
                LintFinding(
                    m.id, m.file, False, idempotent,
                    str(f.error) if f else None, f.error.error_class if f else None,
                    f.sql if f else None, f.line if f else None, unguarded,
                )
            )  # fmt: skip
    return out
