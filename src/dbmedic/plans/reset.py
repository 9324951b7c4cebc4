"""``fix --strategy reset`` (the seed's option A, done right): refused when a fresh run fails.

Back up, drop and recreate the database with its charset, collation, owner and grants, run every
migration from zero with the framework, verify, run the post-fix hooks. Before any of that the
diagnosis' rehearsal (every migration run on an EMPTY shadow database) must have succeeded: the
seed report promised a "guaranteed" reset that fails at the same migration again, because the
duplicate column comes from an earlier migration.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from dbmedic.diagnosis import Diagnosis, Phase, Strategy
from dbmedic.errors import RefusedError
from dbmedic.plan import Plan, Step, StepKind, numbered
from dbmedic.plans.steps import (
    RECREATE_SECONDS,
    backup_step,
    hook_steps,
    inspect_seconds,
    lock_step,
    migrate_step,
    verify_step,
)
from dbmedic.recreate import DatabaseFacts

if TYPE_CHECKING:
    from dbmedic.promote import Promotion


def plan_reset(
    diagnosis: Diagnosis,
    *,
    facts: DatabaseFacts,
    hooks: Sequence[Sequence[str]] | None = None,
    hooks_source: str | None = None,
    environment: str | None = None,
    backup_seconds: float | None = None,
    allow_unrehearsed: bool = False,
    promotion: Promotion | str | None = None,
) -> Plan:
    """Pure: the reset plan for the diagnosed database, or RefusedError saying where and why.

    ``facts`` come from :func:`dbmedic.recreate.read_database_facts` (read before anything is
    dropped); ``hooks`` from the configuration, declared where ``hooks_source`` says (None: the
    framework's defaults, Laravel ``cache:clear`` and ``config:clear``; empty: none). A reset the diagnosis could not predict (no shadow
    database, SQL unknown) is refused unless ``allow_unrehearsed``. ``promotion`` (from
    :func:`dbmedic.promote.promotion_for`): the rehearsed shadow to move in instead of running
    the migrations again, or why there is none (said in the plan's notes).
    """
    d = diagnosis
    option = d.option(Strategy.RESET)
    if option is None or option.predicted_ok is False:
        raise refusal(d)
    if option.predicted_ok is None and not allow_unrehearsed:
        raise RefusedError(
            f"reset refused for {d.target}: whether a fresh run of the migrations succeeds "
            f"could not be checked ({option.reason})",
            hint="let diagnose use a shadow database, or allow an unrehearsed reset explicitly",
        )
    ids = tuple(e.id for e in d.timeline if e.phase is not Phase.MISSING_FILE)
    notes: list[str] = []
    lost = [e.id for e in d.timeline if e.phase is Phase.MISSING_FILE]
    if lost:
        notes.append(
            f"{len(lost)} applied migration(s) have no file any more and will not be recorded "
            f"again: {', '.join(lost)}"
        )
    if d.tables:
        notes.append(f"every row of the {d.tables} current tables is dropped (kept in the backup)")
    hooks_run, no_hooks = hook_steps(d.framework, hooks, environment, hooks_source)
    notes += [no_hooks] if no_hooks else []
    migrate = migrate_step(d, ids, option.seconds, environment=environment, what="all ")
    if isinstance(promotion, str):
        notes.append(
            f"the rehearsed shadow is not promoted ({promotion}): the migrations run again"
        )
    elif promotion is not None:
        notes.append(
            "the rows the migrations wrote (the tracking table's too) are the rehearsal's, "
            "written when the plan was made"
        )
    steps: list[Step] = [
        lock_step(d),
        backup_step(d, backup_seconds, before="the database is dropped"),
        recreate_step(d, facts),
        promote_step(migrate, promotion, facts)
        if promotion and not isinstance(promotion, str)
        else migrate,
        verify_step(d, inspect_seconds(d)),
        *hooks_run,
    ]
    return Plan(
        strategy=Strategy.RESET.value,
        target=d.target,
        dialect=d.dialect,
        steps=numbered(steps),
        framework=d.framework,
        app=d.app,
        drops=(f"database {facts.name} ({d.tables} tables)",),
        rehearsal=f"{option.reason} ({option.evidence.value})",
        predicted_ok=option.predicted_ok,
        notes=tuple(notes),
        expected_tables=d.expected_tables,
        critical=tuple(c.table for c in d.critical),
    )


def refusal(d: Diagnosis) -> RefusedError:
    """Why reset is refused: where a fresh run fails, why, and the guard that fixes it."""
    option = d.option(Strategy.RESET)
    where = option.fails_at if option else None
    error = (option.error if option else None) or "it fails"
    cause = ""
    if d.cause is not None and d.failing is not None and d.failing.migration.id == where:
        cause = f" ({d.cause.explanation})" if d.cause.explanation else ""
    hint = "make that migration idempotent, then diagnose again"
    if d.guard is not None and d.guard.migration == where:
        at = f" at {d.guard.file}:{d.guard.line}" if d.guard.file and d.guard.line else ""
        hint = f"make that migration idempotent{at}: {' '.join(d.guard.snippet.split())}"
    return RefusedError(
        f"reset refused for {d.target}: a fresh run of the migrations fails at {where}: "
        f"{error}{cause}",
        hint=hint,
    )


def promote_step(migrate: Step, promotion: Promotion, facts: DatabaseFacts) -> Step:
    """Move the rehearsed shadow in; ``migrate`` (the step it replaces) is its fallback."""
    from dataclasses import replace

    run = " ".join(migrate.command) or "the framework"
    n = len(migrate.migrations)
    return replace(
        migrate,
        kind=StepKind.PROMOTE_SHADOW,
        title=f"Promote the rehearsed shadow {promotion.shadow} into {facts.name}: {promotion.how}",
        statements=promotion.statements,
        shadow=promotion.shadow,
        digest=promotion.digest,
        estimate_seconds=promotion.seconds,
        reason=(
            f"the rehearsal already ran all {n} migration(s) with {run} on that empty shadow; "
            "its result is moved in and must equal it (schema and tracking rows) instead of "
            f"running them again; if the shadow is gone or changed by then, {run} runs instead"
        ),
    )


def recreate_step(d: Diagnosis, facts: DatabaseFacts) -> Step:
    """Drop and create again, as ``facts`` (read now) say; the applier re-reads them just before
    the drop and recreates through :func:`dbmedic.recreate.recreate_database`."""
    what = [f"{k} {v}" for k, v in (("charset", facts.charset), ("collation", facts.collation),
                                   ("owner", facts.owner)) if v]  # fmt: skip
    same = f" with the same {', '.join(what)}" if what else ""
    grants = (
        f" and {len(facts.grants)} grant(s) ({'; '.join(facts.grants)})" if facts.grants else ""
    )
    return Step(
        0,
        StepKind.RECREATE_DATABASE,
        f"Drop and recreate {facts.name}{same}{grants}",
        destructive=True,
        estimate_seconds=RECREATE_SECONDS,
        reason="a fresh database for a fresh run of every migration",
    )
