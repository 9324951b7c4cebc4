"""Resume analysis (pending effects against the live schema), conflicts, the repair options and
the recommendation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dbmedic.diagnose.history import Histories, statement_sql
from dbmedic.diagnosis import Conflict, Evidence, Recommendation, RepairOption, Strategy
from dbmedic.errorclass import ErrorClass
from dbmedic.model import Migration, Schema

if TYPE_CHECKING:  # the effect checks load the change model (~0.07 s), which a reset never needs
    from dbmedic.effectcheck import EffectCheck, Presence


@dataclass(frozen=True, slots=True)
class ResumePlan:
    mark: tuple[str, ...] = ()
    """Pending migrations recorded as applied, in order: those whose effects are all present,
    those in ``run_first`` (after their statements ran), wherever they stand among the pending."""
    run_first: dict[str, list[str]] = field(default_factory=dict)
    """Half-applied migrations: their statements whose effects are missing (then recorded); in an
    ordered history also the not-present migrations before a marked one (all their statements)."""
    conflicts: tuple[Conflict, ...] = ()


def _repair_steps(kind: str, obj: str, migration: str, dialect_quote: str = "") -> tuple[str, ...]:
    if kind == "column":
        table, _, column = obj.partition(".")
        return (
            f"rename column {table}.{column} to {column}_dbmedic_old (keeps its data)",
            f"run {migration}, which creates {table}.{column} with its own definition",
            f"copy the values: UPDATE {table} SET {column} = {column}_dbmedic_old",
            f"check the copy, then drop {table}.{column}_dbmedic_old",
        )
    if kind == "table":
        return (
            f"rename table {obj} to {obj}_dbmedic_old (keeps its rows)",
            f"run {migration}, which creates {obj}",
            f"copy the rows of the columns both have from {obj}_dbmedic_old into {obj}",
            f"check the copy, then drop {obj}_dbmedic_old",
        )
    return (
        f"drop {kind.replace('_', ' ')} {obj} (it holds no data)",
        f"run {migration}, which creates it with its own definition",
    )


def _conflicts(m: Migration, checks: Sequence[EffectCheck]) -> list[Conflict]:
    from dbmedic.effectcheck import Presence

    out = []
    for c in checks:
        if c.presence is Presence.CONFLICT:
            kind = type(c.effect.change).__name__
            kind = "table" if kind == "AddTable" else "column" if "Column" in kind else "index"
            out.append(
                Conflict(kind, c.subject, m.id, c.differences, _repair_steps(kind, c.subject, m.id))
            )
    return out


def _state(checks: Sequence[EffectCheck]) -> Presence | None:
    from dbmedic.effectcheck import Presence

    if not checks:
        return None
    if any(c.presence is Presence.CONFLICT for c in checks):
        return Presence.CONFLICT
    if all(c.presence is Presence.PRESENT for c in checks):
        return Presence.PRESENT
    return Presence.ABSENT


def resume_plan(
    h: Histories, todo: Sequence[Migration], live: Schema, dialect: str, *, ordered: bool = False
) -> ResumePlan:
    """Every pending migration whose effects are (partly) present, wherever it stands.

    A migration whose every effect is present is marked; one with some present and some absent
    gets its absent statements run first, then is marked. A migration with nothing present is
    left to the framework, and the walk goes on past it: a later migration whose effects are
    present (a table made by hand, a hotfix) is marked too. When the framework's history is
    ``ordered`` (a migration may only be recorded after those before it: Django, Alembic), the
    migrations in between are run as SQL and recorded first; one whose SQL is unknown or has no
    effect dbmedic can check ends the walk. A conflict ends the walk (it needs the data-keeping
    repair); conflicts of later migrations are listed too.
    """
    from dbmedic.effectcheck import Presence
    from dbmedic.effects import statement_effects
    from dbmedic.simulate import check_against

    mark: list[str] = []
    run_first: dict[str, list[str]] = {}
    conflicts: list[Conflict] = []
    gap: list[tuple[str, list[str], bool]] = []
    """Not-present migrations since the last marked one: (id, statements, runnable as SQL)."""
    walking = True
    for m in todo:
        statements = [statement_sql(s) for s in h.statements.get(m.id, ())]
        states: list[tuple[str, Presence | None]] = []
        for sql in statements:
            checks = check_against(live, statement_effects(sql, dialect, live))
            conflicts.extend(_conflicts(m, checks))
            states.append((sql, _state(checks)))
        if not walking:
            continue
        found = [p for _, p in states if p is not None]
        if Presence.CONFLICT in found:
            walking = False
            continue
        if not found or Presence.PRESENT not in found:
            runnable = bool(statements) and all(p is not None for _, p in states)
            gap.append((m.id, statements, runnable))
            continue
        if ordered and gap:
            if not all(runnable for _, _, runnable in gap):
                walking = False
                continue
            for mid, sts, _ in gap:
                run_first[mid] = sts
                mark.append(mid)
        gap = []
        absent = [sql for sql, p in states if p is Presence.ABSENT]
        if absent:
            run_first[m.id] = absent
        mark.append(m.id)
    return ResumePlan(tuple(mark), run_first, tuple(conflicts))


def command(strategy: Strategy, app: str, target: str, reference: str | None = None) -> str:
    """The exact ``dbmedic fix`` command line (the target URL is already redacted)."""
    parts = ["dbmedic", "fix", "--strategy", strategy.value, "--app", _sh(app), "--db", _sh(target)]
    if strategy is Strategy.SYNC and reference:
        parts += ["--reference", _sh(reference)]
    return " ".join(parts)


def _sh(text: str) -> str:
    import shlex

    return shlex.quote(text)


def option(
    strategy: Strategy,
    ok: bool | None,
    evidence: Evidence,
    cmd: str,
    *,
    fails_at: str | None = None,
    error: str | None = None,
    error_class: ErrorClass | None = None,
    seconds: float | None = None,
    reason: str = "",
    mark: Sequence[str] = (),
) -> RepairOption:
    return RepairOption(
        strategy, ok, reason, evidence, fails_at, error, error_class, seconds, cmd, tuple(mark)
    )


def recommend(options: Sequence[RepairOption], nothing_to_do: bool) -> Recommendation:
    if nothing_to_do:
        return Recommendation(None, "", "every migration is applied: nothing to repair")
    ranked = sorted(
        (o for o in options if o.predicted_ok),
        key=lambda o: (o.evidence is not Evidence.REHEARSED, _PREFERENCE.index(o.strategy)),
    )
    if not ranked:
        failing = next((o.fails_at for o in options if o.fails_at), None)
        where = (
            f" (make {failing} idempotent with the guard shown, then diagnose again)"
            if failing
            else ""
        )
        return Recommendation(None, "", f"no repair is predicted to succeed{where}")
    best = ranked[0]
    others = [o for o in options if o is not best]
    why = best.reason
    if any(o.predicted_ok is False for o in others):
        failed = ", ".join(
            f"{o.strategy.value} fails at {o.fails_at}"
            for o in others
            if o.predicted_ok is False and o.fails_at
        )
        if failed:
            why = f"{why}; {failed}"
    return Recommendation(best.strategy, best.command, why)


_PREFERENCE = [Strategy.RESUME, Strategy.RESET, Strategy.SYNC]
"""Resume keeps the data; reset throws it away; sync copies a structure the history does not explain."""
