"""Turn a result object into the :class:`ReportView` the templates draw.

One adapter per kind of result; the report package knows the result types, never the other way
round (data flows into report). Counting happens here, once, from the facts: the templates only
format what this module hands them.
"""

from __future__ import annotations

import textwrap
from itertools import groupby
from typing import TYPE_CHECKING, Any

from dbmedic.errors import ConfigError
from dbmedic.report import view as rv

if TYPE_CHECKING:
    from dbmedic.diagnosis import Diagnosis, RepairOption, TimelineEntry

OPTION_TITLES = {"reset": "Full reset", "resume": "Resume", "sync": "Schema sync"}
OPTION_WHAT = {
    "reset": "Back up, drop and recreate the database, then run every migration from zero.",
    "resume": "Record the pending migrations whose effects are already present as applied, "
    "create what is missing, then run the rest.",
    "sync": "Copy the missing tables, columns, indexes and keys over from the reference, "
    "then reconcile the tracking table.",
}
OPTION_KEEPS_DATA = {"reset": False, "resume": True, "sync": True}

MAX_GROUPS = 8
"""Blocked groups shown one by one; the others are summed into one row."""

MAX_APPLIED_PHASES = 6
"""Above this many applied batches, "what happened" shows them as one row."""


def to_view(facts: Any) -> rv.ReportView:
    """The view of ``facts``: a ReportView as is, or a result type dbmedic knows."""
    if isinstance(facts, rv.ReportView):
        return facts
    from dbmedic.diagnosis import Diagnosis

    if isinstance(facts, Diagnosis):
        return diagnosis_view(facts)
    raise ConfigError(f"dbmedic cannot make a report of a {type(facts).__name__}")


def kind_of(facts: Any) -> str:
    """``diagnosis`` (later ``fix``): the ``kind`` of a JSON report."""
    from dbmedic.apply import Outcome
    from dbmedic.diagnosis import Diagnosis

    if isinstance(facts, Diagnosis):
        return "diagnosis"
    if isinstance(facts, Outcome):
        return "fix"
    if isinstance(facts, rv.ReportView):
        return facts.kind
    raise ConfigError(f"dbmedic cannot make a report of a {type(facts).__name__}")


def database_name(url: str) -> str:
    """The database part of a (redacted) URL: ``staging`` of ``mysql+pymysql://u:***@h/staging``,
    the file stem for SQLite."""
    tail = url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    if "." in tail and url.startswith("sqlite"):
        tail = tail.rsplit(".", 1)[0]
    return tail or url


def diagnosis_view(d: Diagnosis) -> rv.ReportView:
    """Everything the diagnosis report shows, computed from ``d``."""
    from dbmedic import __version__

    marks = tuple(rv.MigrationMark(e.id, _mark_state(e), e.batch) for e in d.timeline)
    counts = _counts(d, marks)
    options = tuple(_option(o, d) for o in d.options)
    recommended = next((o for o in options if o.recommended), None)
    failure = None
    if d.failing is not None:
        f = d.failing
        failure = rv.FailurePoint(
            migration=f.migration.id,
            error=f.error,
            error_class=f.error_class.value,
            file=f.file or f.migration.file,
            line=f.line,
            statement=f.statement,
            last_applied=d.last_applied.id if d.last_applied else None,
            evidence="rehearsal" if f.evidence.value == "rehearsed" else "simulation",
        )
    return rv.ReportView(
        kind="diagnosis",
        title=f"{database_name(d.target)}: migration diagnosis",
        date=d.taken_at or "date not recorded",
        status=_status(d, counts, recommended),
        database=d.target,
        dialect=d.dialect,
        framework=d.framework,
        app=d.app,
        counts=counts,
        reference=d.parity.reference if d.parity else None,
        parity=_parity(d),
        failure=failure,
        phases=_phases(d),
        cause=_cause(d),
        blocked_tables=len(d.blocked.tables) if d.blocked.count else None,
        critical=tuple(
            rv.CriticalTable(
                table=c.table,
                present=c.present,
                migration=c.creator.migration if c.creator else None,
                file=c.creator.file if c.creator else None,
                migration_state=c.state or None,
            )
            for c in d.critical
        ),
        groups=_groups(d),
        conflicts=d.conflicts,
        options=options,
        rollback=_rollback(d) if recommended is not None else None,
        guard=(
            rv.GuardSnippet(
                language=d.guard.language,
                code=textwrap.dedent(d.guard.snippet),
                migration=d.guard.migration,
                file=d.guard.file,
                line=d.guard.line,
                explanation=d.guard.note
                or "Guard the statement so the migration also runs on a database that already "
                "has the object; a fresh run then passes it too.",
            )
            if d.guard
            else None
        ),
        timeline=marks,
        recorded=tuple((state, n) for state, n in d.counts.items() if n),
        notes=_notes(d),
        tool_version=__version__,
    )


def _mark_state(e: TimelineEntry) -> rv.MarkState:
    """Timeline phase -> mark; a missing or changed file was still applied."""
    try:
        return rv.MarkState(e.phase.value)
    except ValueError:
        return rv.MarkState.APPLIED


def _counts(d: Diagnosis, marks: tuple[rv.MigrationMark, ...]) -> rv.Counts:
    if marks:
        per = {s: sum(1 for m in marks if m.state is s) for s in rv.MarkState}
        return rv.Counts(
            per[rv.MarkState.APPLIED],
            per[rv.MarkState.FAILED],
            per[rv.MarkState.PENDING],
            per[rv.MarkState.BLOCKED],
        )
    applied = sum(d.counts.get(k, 0) for k in ("applied", "missing-file", "checksum-changed"))
    failed = 1 if d.failing else d.counts.get("failed", 0)
    pending = d.total - applied - failed - d.blocked.count
    return rv.Counts(applied, failed, max(pending, 0), d.blocked.count)


def _status(d: Diagnosis, counts: rv.Counts, recommended: rv.Option | None) -> str:
    if d.failing is not None:
        text = (
            f"Migrations stop at {d.failing.migration.id} "
            f"({d.failing.error_class.value.replace('_', ' ')}); "
            f"{counts.blocked:,} of {counts.total:,} migrations blocked. "
        )
    elif counts.pending:
        text = f"{counts.pending:,} of {counts.total:,} migrations pending; none fails. "
    else:
        text = f"All {counts.total:,} migrations applied. "
    if d.conflicts:
        text += f"{len(d.conflicts):,} conflicting object(s). "
    if recommended is not None:
        text += f"Recommended: {recommended.name} ({recommended.verdict})."
    elif d.healthy:
        text += "Nothing to repair."
    else:
        text += "No repair is predicted to succeed; see the options."
    return text


def _parity(d: Diagnosis) -> tuple[rv.ParityRow, ...]:
    if d.parity is None:
        return ()
    return tuple(
        rv.ParityRow(
            kind=p.kind.replace("_", " "),
            present=p.present,
            expected=p.expected,
            percent=p.percent,
            extra=p.extra,
            changed=p.changed,
        )
        for p in d.parity.lines
        if p.expected or p.present
    )


def _phases(d: Diagnosis) -> tuple[rv.Phase, ...]:
    """Consecutive timeline runs of one phase (applied runs split by batch unless there are
    many batches)."""
    entries = list(d.timeline)
    applied_batches = {e.batch for e in entries if _mark_state(e) is rv.MarkState.APPLIED}
    split_batches = len(applied_batches) <= MAX_APPLIED_PHASES

    def key(e: TimelineEntry) -> tuple[rv.MarkState, int | None]:
        state = _mark_state(e)
        return state, e.batch if state is rv.MarkState.APPLIED and split_batches else None

    phases: list[rv.Phase] = []
    for (state, batch), run in groupby(entries, key=key):
        items = list(run)
        tables = len({t for e in items for t in e.tables})
        if state is rv.MarkState.APPLIED:
            batches = sorted({e.batch for e in items if e.batch is not None})
            if batch is not None:
                label = f"Batch {batch}"
            elif len(batches) > 1:
                label = f"Batches {batches[0]}\u2013{batches[-1]}"
            else:
                label = "Applied"
            detail = "ran"
        elif state is rv.MarkState.FAILED:
            label = "Failure"
            detail = d.failing.error if d.failing else "failed"
        elif state is rv.MarkState.BLOCKED:
            label = "Blocked"
            detail = "never ran: an earlier migration fails"
        else:
            label = "Pending"
            detail = "not run yet"
        phases.append(rv.Phase(label, state, len(items), tables, detail, items[0].id, items[-1].id))
    return tuple(phases)


def _cause(d: Diagnosis) -> rv.Cause | None:
    if d.cause is None:
        return None
    c = d.cause
    reset = d.option("reset")
    fresh: bool | None = None
    if reset is not None and reset.predicted_ok is not None:
        fresh = (not reset.predicted_ok) and (
            d.failing is None or reset.fails_at in (None, d.failing.migration.id)
        )
    summary = c.explanation or (
        f"The {c.object_kind or 'object'} {c.object or ''} causes a {c.kind} failure.".replace(
            "  ", " "
        )
    )
    return rv.Cause(
        summary=summary,
        subject=c.object,
        creators=tuple(
            rv.Creator(
                s.migration,
                s.file,
                s.line,
                s.state.value if s.state is not None else "",
                s.failed,
            )
            for s in c.creators
        ),
        outside_migrations=c.outside_migrations,
        fresh_run_fails=fresh,
    )


def _groups(d: Diagnosis) -> tuple[rv.Group, ...]:
    """Blocked migrations by prefix, the largest ``MAX_GROUPS`` shown and the rest summed up
    (the groups partition the blocked migrations, so the sums are exact)."""
    groups = d.blocked.by_prefix
    if not groups or (len(groups) == 1 and groups[0].key == "(none)"):
        return ()
    shown = [rv.Group(g.key, len(g.migrations), len(g.tables)) for g in groups[:MAX_GROUPS]]
    rest = groups[MAX_GROUPS:]
    if len(rest) == 1:
        shown.append(rv.Group(rest[0].key, len(rest[0].migrations), len(rest[0].tables)))
    elif rest:
        shown.append(
            rv.Group(
                f"{len(rest)} other prefixes",
                sum(len(g.migrations) for g in rest),
                len({t for g in rest for t in g.tables}),
                folded=True,
            )
        )
    return tuple(shown)


def _option(o: RepairOption, d: Diagnosis) -> rv.Option:
    name = o.strategy.value
    result = o.reason
    if o.predicted_ok is False and o.fails_at and o.error and o.error not in result:
        result = f"{result} ({o.fails_at}: {o.error})"
    recommended = d.recommendation.strategy is not None and d.recommendation.strategy == name
    return rv.Option(
        name=name,
        title=OPTION_TITLES.get(name, name),
        what=OPTION_WHAT.get(name, ""),
        evidence=o.evidence.value,
        succeeds=o.predicted_ok,
        result=result,
        seconds=o.seconds,
        estimate_seconds=o.seconds,
        recommended=recommended,
        command=(d.recommendation.command if recommended else o.command) or None,
        keeps_data=OPTION_KEEPS_DATA.get(name),
    )


def _rollback(d: Diagnosis) -> rv.Rollback:
    return rv.Rollback(
        backup="Before it changes anything, dbmedic fix backs up the database (schema and data) "
        "into ./backups and checks the backup; when a step fails, it restores that backup "
        "by itself. To go back by hand afterwards:",
        rollback_command=f"dbmedic rollback --app {d.app} --db {d.target}",
        restore_command=f"dbmedic restore backups/<the backup fix names> --db {d.target} --force",
    )


def _notes(d: Diagnosis) -> tuple[str, ...]:
    notes: list[str] = []
    if d.evidence.value != "rehearsed":
        notes.append(
            "These predictions are simulated, not rehearsed: "
            + (d.shadow_note or "no shadow database could be used.")
        )
    if d.simulation.disagreement:
        notes.append(
            f"Simulation and rehearsal disagree; the rehearsal wins: {d.simulation.disagreement}"
        )
    if d.simulation.unknown_statements:
        notes.append(
            f"{d.simulation.unknown_statements:,} statement(s) had effects the simulation "
            "could not tell; its prediction is weaker there."
        )
    for state, text in (
        ("missing-file", "recorded as applied but their file is gone"),
        ("checksum-changed", "changed since they were applied"),
    ):
        if d.counts.get(state):
            notes.append(f"{d.counts[state]:,} migration(s) {text} (drawn as applied).")
    return tuple(notes)
