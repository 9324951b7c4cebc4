"""``fix --strategy resume`` (the seed's option B, done right): keep the data, finish the history.

For EVERY pending migration, in order (not only the leading run), each statement's effects are
checked against the schema as it will be when that migration's turn comes (the live schema,
evolved by the pending migrations before it):

- all present                -> MARK_APPLIED, in the framework's own tracking format;
- partly present             -> an SQL step with only the missing statements, then MARK_APPLIED;
- conflict (another definition) -> the data-keeping repair (:mod:`dbmedic.plans.conflict`):
  MOVE_ASIDE, the migration's statements, MARK_APPLIED, COPY_BACK, checked drop of the old one;
- nothing present            -> left to the framework's own migrate, after the others.

Frameworks whose history is a set (Laravel, dbmate) accept records in any order, so every mark
becomes one step (one Laravel batch). Where the history is ordered (Django dependencies, Alembic
heads) nothing may be recorded before the migrations it follows: a pending migration with nothing
present that comes before one dbmedic records runs as SQL by dbmedic, in order.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass, field, replace
from enum import StrEnum

from dbmedic.catalog import Catalog, Rejected
from dbmedic.changes import (
    AddColumn,
    AddForeignKey,
    AddIndex,
    AddTable,
    AddUnique,
    AlterColumn,
    Change,
    DropForeignKey,
    DropIndex,
    DropTable,
    DropUnique,
    RenameColumn,
)
from dbmedic.diagnosis import Diagnosis, Strategy
from dbmedic.dialects import Dialect, get_dialect
from dbmedic.effectcheck import EffectCheck, Presence, check_against
from dbmedic.effects import Effect, Effects, StatementKind, effects_with_lookup
from dbmedic.effects_sql import Statement
from dbmedic.errors import RefusedError
from dbmedic.model import Schema, Table
from dbmedic.plan import Plan, Step, StepKind, numbered
from dbmedic.plans.conflict import (
    COLUMN_SUFFIX,
    TABLE_MARK,
    ConflictRepair,
    aside_name,
    copy_back_steps,
    move_aside_steps,
)
from dbmedic.plans.facts import PendingMigration
from dbmedic.plans.steps import (
    ORDERED_HISTORY,
    backup_step,
    hook_steps,
    inspect_seconds,
    lock_step,
    migrate_step,
    verify_step,
)

MARK_SECONDS = 0.5
STATEMENT_SECONDS = 0.02


class Action(StrEnum):
    MARK = "mark"
    """Every effect is present: recorded as applied."""
    COMPLETE = "complete"
    """Some effects present: the missing statements run, then it is recorded."""
    REPAIR = "repair"
    """An object exists with another definition: moved aside, created, data copied back."""
    RUN = "run"
    """Nothing present: the framework runs it (or dbmedic as SQL, where order demands)."""


@dataclass(frozen=True, slots=True)
class Decision:
    """What resume does with one pending migration, and why (reported per migration)."""

    migration: str
    action: Action
    reason: str
    statements: tuple[str, ...] = ()
    """SQL dbmedic runs for it: the missing statements (COMPLETE, REPAIR), every statement (RUN)."""
    changes: tuple[Change, ...] = field(default=(), compare=False)
    before: tuple[Step, ...] = field(default=(), compare=False)
    """REPAIR: the move-aside steps."""
    after: tuple[Step, ...] = field(default=(), compare=False)
    """REPAIR: the copy-back and checked-drop steps."""
    conflicts: tuple[ConflictRepair, ...] = ()
    not_sql: tuple[str, ...] = ()
    """Operations the framework could not print as SQL (Django RunPython...)."""
    data_statements: int = 0
    """Statements with no schema effect (INSERT, UPDATE...); a marked migration skips them."""


@dataclass
class _Stmt:
    sql: str
    effects: Effects
    checks: list[EffectCheck]

    @property
    def state(self) -> str:
        if self.effects.unknown is not None or self.effects.kind is StatementKind.UNKNOWN:
            return "unknown"
        if not self.checks:
            return "neutral"
        kinds = {c.presence for c in self.checks}
        if Presence.CONFLICT in kinds:
            return "conflict"
        if kinds == {Presence.PRESENT}:
            return "present"
        if kinds == {Presence.ABSENT}:
            return "absent"
        return "mixed"


def _net(effect: Effect, migration: Sequence[Effect]) -> Effect:
    """An added column as the whole migration leaves it: Django adds a column with its default
    and drops the default in the next statement, so the column to look for has none."""
    c = effect.change
    if not isinstance(c, AddColumn):
        return effect
    column = c.column
    seen = False
    for e in migration:
        if e is effect:
            seen = True
            continue
        a = e.change
        if not (seen and isinstance(a, AlterColumn) and a.table == c.table):
            continue
        if a.after.name.lower() != column.name.lower():
            continue
        fields = e.touches or ("type", "nullable", "default", "auto_increment", "generated")
        column = replace(column, **{f: getattr(a.after, f) for f in fields})
    return effect if column is c.column else replace(effect, change=AddColumn(c.table, column))


def _made(change: Change) -> set[str]:
    """Lower-case keys of the table or column ``change`` creates."""
    if isinstance(change, AddTable):
        return {change.table.name.lower()}
    if isinstance(change, AddColumn):
        return {f"{change.table}.{change.column.name}".lower()}
    return set()


def _new_if(check: EffectCheck, created: set[str]) -> EffectCheck:
    """A change to a table or column an earlier statement of the migration creates is absent."""
    c = check.effect.change
    table = str(getattr(c, "table", "") or "").lower()
    column = getattr(c, "after", None) or getattr(c, "column", None)
    name = f"{table}.{column.name}".lower() if column is not None else ""
    if check.presence is not Presence.ABSENT and (table in created or name in created):
        return EffectCheck(check.effect, Presence.ABSENT)
    return check


def _sql(item: str | Statement) -> str:
    return item.sql if isinstance(item, Statement) else item


def _not_sql(sql: str) -> bool:
    return sql.lstrip().startswith("--") and "CANNOT BE WRITTEN AS SQL" in sql.upper()


class _Walk:
    """The schema as the pending migrations leave it, one migration at a time."""

    def __init__(self, live: Schema, dialect: Dialect, stamp: str) -> None:
        self.live = live
        self.dialect = dialect
        self.name = dialect.name
        self.catalog = Catalog(self.name, live, live.database)
        self.stamp = stamp

    def classify(self, items: Sequence[str | Statement]) -> list[_Stmt]:
        """Each statement checked against the schema as the statements before it in the same
        migration leave it; what an earlier statement of the migration creates counts as new
        (its later changes are absent, never "present")."""
        parsed = [
            (_sql(item), effects_with_lookup(_sql(item), self.name, self.catalog.lookup))
            for item in items
        ]
        later = [e for _, eff in parsed for e in eff.effects]
        saved = self.catalog.save()
        created: set[str] = set()
        out = []
        try:
            for sql, effects in parsed:
                explicit = [_net(e, later) for e in effects.effects if not e.implicit]
                checks = (
                    [_new_if(c, created) for c in check_against(self.catalog.snapshot(), explicit)]
                    if explicit
                    else []
                )
                stmt = _Stmt(sql, effects, checks)
                out.append(stmt)
                for c in checks:
                    if c.presence is Presence.ABSENT:
                        created.update(_made(c.effect.change))
                self.apply_missing([stmt])
        finally:
            self.catalog.restore(saved)
        return out

    def apply_missing(self, stmts: Sequence[_Stmt]) -> None:
        """Evolve the catalog by what running the missing parts adds (present parts are there)."""
        for s in stmts:
            present = {id(c.effect) for c in s.checks if c.presence is Presence.PRESENT}
            for e in s.effects.effects:
                if id(e) in present:
                    continue
                try:
                    self.catalog.apply(e)
                except Rejected:
                    continue  # already there in another form; the server decides at apply time

    def missing_sql(self, stmts: Sequence[_Stmt]) -> tuple[list[str], list[Change]]:
        sql: list[str] = []
        changes: list[Change] = []
        schema = self.catalog.snapshot()
        for s in stmts:
            state = s.state
            if state in ("absent", "unknown", "neutral"):
                if state != "neutral" or s.effects.kind is StatementKind.DATA:
                    sql.append(s.sql)
                changes.extend(c.effect.change for c in s.checks)
            elif state == "mixed":
                absent = [c.effect.change for c in s.checks if c.presence is Presence.ABSENT]
                sql.extend(self.dialect.render(absent, schema))
                changes.extend(absent)
        return sql, changes

    def taken(self) -> set[str]:
        return {n.lower() for n in self.catalog.tables}

    def repairs(self, migration: str, stmts: Sequence[_Stmt]) -> list[ConflictRepair]:
        out: list[ConflictRepair] = []
        for s in stmts:
            for c in s.checks:
                if c.presence is not Presence.CONFLICT:
                    continue
                change = c.effect.change
                if isinstance(change, AddColumn):
                    table = self.catalog.lookup(change.table)
                    names = {n.lower() for n in (table.columns if table else {})}
                    aside = aside_name(change.column.name, COLUMN_SUFFIX, names)
                    out.append(
                        ConflictRepair("column", change.table, change.column.name, aside,
                                       migration, c.differences)
                    )  # fmt: skip
                elif isinstance(change, AddTable):
                    aside = aside_name(change.table.name, TABLE_MARK + self.stamp, self.taken())
                    out.append(
                        ConflictRepair("table", change.table.name, None, aside, migration,
                                       c.differences)
                    )  # fmt: skip
                elif isinstance(change, (AddIndex, AddUnique, AddForeignKey)):
                    out.append(
                        ConflictRepair(_KEY_KIND[type(change)], change.table, change.subject,
                                       "", migration, c.differences)
                    )  # fmt: skip
                else:
                    raise RefusedError(
                        f"resume refused: {c.subject} in {migration} conflicts with the database "
                        f"({'; '.join(c.differences)}) and no data-keeping repair is known for it",
                        hint="repair it by hand or use --strategy sync, then diagnose again",
                    )
        return out

    def move_aside(self, r: ConflictRepair, change: Change) -> list[Step]:
        """Steps that clear the way for ``r``, and the catalog updated as they leave it."""
        schema = self.catalog.snapshot()
        if r.kind in ("column", "table"):
            steps = move_aside_steps(self.dialect, r, schema)
            if r.kind == "column":
                assert r.column is not None
                self._apply(RenameColumn(r.table, r.column, r.aside))
            else:
                old = self.catalog.lookup(r.table)
                assert old is not None
                self._apply(AddTable(Table(r.aside, dict(old.columns))))
                self._apply(DropTable(old))
            return steps
        drop = _drop_key(change)
        self._apply(drop)
        return [
            Step(
                0,
                StepKind.MOVE_ASIDE,
                f"Drop {r.kind.replace('_', ' ')} {r.column} (it holds no data; the migration "
                "creates it with its own definition)",
                statements=tuple(self.dialect.render([drop], schema)),
                changes=(drop,),
                reason=f"it exists with another definition ({'; '.join(r.differences)})",
            )
        ]

    def _apply(self, change: Change) -> None:
        # The catalog may refuse what the server would take (names it models strictly); the
        # server decides when the plan runs.
        with suppress(Rejected):
            self.catalog.apply(Effect(change))


_KEY_KIND: dict[type, str] = {
    AddIndex: "index",
    AddUnique: "unique_key",
    AddForeignKey: "foreign_key",
}


def _drop_key(change: Change) -> Change:
    """The drop of a conflicting index or key (they hold no data)."""
    if isinstance(change, AddIndex):
        return DropIndex(change.table, change.index)
    if isinstance(change, AddUnique):
        return DropUnique(change.table, change.unique)
    assert isinstance(change, AddForeignKey)
    return DropForeignKey(change.table, change.foreign_key)


def resume_decisions(
    pending: Sequence[PendingMigration], live: Schema, *, stamp: str = "0"
) -> list[Decision]:
    """Pure: what resume does with each pending migration, in order, and why.

    Raises RefusedError for a conflict no data-keeping repair is known for.
    """
    walk = _Walk(live, get_dialect(live.dialect), stamp)
    out: list[Decision] = []
    for p in pending:
        stmts = walk.classify(p.statements)
        not_sql = tuple(s.sql for s in stmts if _not_sql(s.sql))
        data = sum(1 for s in stmts if s.effects.kind is StatementKind.DATA)
        states = [s.state for s in stmts]
        present = [c.subject for s in stmts for c in s.checks if c.presence is Presence.PRESENT]
        if "conflict" in states:
            out.append(_repair(walk, p, stmts, not_sql, data))
            continue
        if present and set(states) <= {"present", "neutral"}:
            skipped = f"; its {data} data statement(s) are not run" if data else ""
            out.append(
                Decision(p.id, Action.MARK,
                         f"all {len(present)} effect(s) present with the same definition "
                         f"({_some(present)}){skipped}", not_sql=not_sql, data_statements=data)
            )  # fmt: skip
            continue
        sql, changes = walk.missing_sql(stmts)
        walk.apply_missing(stmts)
        if present:
            out.append(
                Decision(p.id, Action.COMPLETE,
                         f"{len(present)} effect(s) present ({_some(present)}); the "
                         f"{len(sql)} missing statement(s) run first",
                         tuple(sql), tuple(changes), not_sql=not_sql, data_statements=data)
            )  # fmt: skip
        else:
            out.append(
                Decision(p.id, Action.RUN, "none of its effects is present",
                         tuple(s.sql for s in stmts if not _not_sql(s.sql) and s.sql.strip()),
                         tuple(changes), not_sql=not_sql, data_statements=data)
            )  # fmt: skip
    return out


def _repair(
    walk: _Walk, p: PendingMigration, stmts: list[_Stmt], not_sql: tuple[str, ...], data: int
) -> Decision:
    repairs = walk.repairs(p.id, stmts)
    conflicting = [
        c.effect.change for s in stmts for c in s.checks if c.presence is Presence.CONFLICT
    ]
    kept = {r.table: walk.catalog.lookup(r.table) for r in repairs if r.kind == "table"}
    before: list[Step] = []
    for r, change in zip(repairs, conflicting, strict=True):
        before.extend(walk.move_aside(r, change))
    again = walk.classify(p.statements)  # the conflicting objects are out of the way now
    if any(s.state == "conflict" for s in again):
        raise RefusedError(
            f"resume refused: {p.id} still conflicts with the database after moving "
            f"{', '.join(r.subject for r in repairs)} aside",
            hint="repair it by hand or use --strategy sync",
        )
    sql, changes = walk.missing_sql(again)
    walk.apply_missing(again)
    after: list[Step] = []
    current = walk.catalog.snapshot()
    for r in repairs:
        created = walk.catalog.lookup(r.table)
        if r.kind in ("column", "table") and created is not None:
            after.extend(copy_back_steps(walk.dialect, r, created, current, kept.get(r.table)))
    what = "; ".join(f"{r.kind.replace('_', ' ')} {r.subject}: {', '.join(r.differences)}"
                     for r in repairs)  # fmt: skip
    return Decision(
        p.id, Action.REPAIR,
        f"exists with another definition ({what}): moved aside, created by the migration, data "
        "copied back", tuple(sql), tuple(changes), tuple(before), tuple(after), tuple(repairs),
        not_sql, data,
    )  # fmt: skip


def _some(subjects: Sequence[str], limit: int = 3) -> str:
    shown = ", ".join(subjects[:limit])
    return shown + (f" and {len(subjects) - limit} more" if len(subjects) > limit else "")


def plan_resume(
    diagnosis: Diagnosis,
    live: Schema,
    pending: Sequence[PendingMigration],
    *,
    hooks: Sequence[Sequence[str]] | None = None,
    hooks_source: str | None = None,
    environment: str | None = None,
    backup_seconds: float | None = None,
    stamp: str | None = None,
    ordered: bool | None = None,
) -> Plan:
    """Pure: the resume plan, or RefusedError saying where and why it would fail.

    ``live`` is the target's schema, ``pending`` every not-applied migration with its statements
    in run order (:func:`dbmedic.plans.facts.pending_migrations`). ``hooks`` as for
    :func:`~dbmedic.plans.reset.plan_reset` (run after the verification). ``stamp`` names moved-aside
    tables (default: the diagnosis' time); ``ordered`` overrides whether the framework's
    history is ordered (Django, Alembic) or a set (Laravel, dbmate).
    """
    d = diagnosis
    stamp = stamp or "".join(ch for ch in (d.taken_at or "0")[:19] if ch.isdigit())
    decisions = resume_decisions(pending, live, stamp=stamp)
    ordered = d.framework in ORDERED_HISTORY if ordered is None else ordered
    option = d.option(Strategy.RESUME)
    notes = [
        f"{x.migration}: {_verb(x)} ({x.reason})" for x in decisions if x.action is not Action.RUN
    ]
    _refuse_or_note(d, decisions, notes)
    if not decisions:
        only = [verify_step(d, inspect_seconds(d))]
        return _plan(d, only, ("nothing is pending: only the verification runs",), option)

    def special(x: Decision) -> bool:
        return x.action in (Action.COMPLETE, Action.REPAIR) or (ordered and x.action is Action.MARK)

    last = max((i for i, x in enumerate(decisions) if special(x)), default=-1)
    prefix, tail = decisions[: last + 1], decisions[last + 1 :]
    steps: list[Step] = [lock_step(d), backup_step(d, backup_seconds, before="before any change")]
    marks: list[Decision] = []
    if not ordered:  # a set: every record at once, one Laravel batch
        steps.extend(_marks([x for x in decisions if x.action is Action.MARK]))
    for x in prefix:
        if x.action is Action.MARK:
            if ordered:
                marks.append(x)
            continue
        steps.extend(_marks(marks))
        marks = []
        if x.action is Action.RUN:
            if x.not_sql:
                raise RefusedError(
                    f"resume refused: {x.migration} has an operation that cannot run as SQL "
                    f"({x.not_sql[0].lstrip('- ').strip()}) and must run before migrations "
                    "that are recorded as applied after it",
                    hint="run that migration with the framework first, then diagnose again",
                )
            notes.append(
                f"{x.migration}: run as SQL by dbmedic and recorded (nothing of it is present, "
                "but a later migration is recorded and the framework's history is ordered)"
            )
        steps.extend(x.before)
        if x.statements:
            steps.append(_sql_step(d, x))
        steps.extend(_marks([x]))
        steps.extend(x.after)
    steps.extend(_marks(marks))
    run = [x.migration for x in tail if x.action is Action.RUN]
    if run:
        steps.append(
            migrate_step(d, run, _migrate_seconds(d, len(run)), environment=environment,
                         what="the remaining ")
        )  # fmt: skip
    steps.append(verify_step(d, inspect_seconds(d)))
    hooks_run, no_hooks = hook_steps(d.framework, hooks, environment, hooks_source)
    steps.extend(hooks_run)
    notes += [no_hooks] if no_hooks else []
    return _plan(d, steps, tuple(notes), option)


def _verb(x: Decision) -> str:
    return {
        Action.MARK: "recorded as applied",
        Action.COMPLETE: "missing statements run, then recorded",
        Action.REPAIR: "conflict repaired keeping the data, then recorded",
    }[x.action]


def _refuse_or_note(d: Diagnosis, decisions: Sequence[Decision], notes: list[str]) -> None:
    """Refuse when the rehearsal saw the remaining migrations fail at one resume leaves to run."""
    option = d.option(Strategy.RESUME)
    if option is None or option.predicted_ok is not False or d.conflicts:
        return
    by_id = {x.migration: x for x in decisions}
    at = by_id.get(option.fails_at or "")
    if at is None or at.action is Action.RUN:
        raise RefusedError(
            f"resume refused for {d.target}: after recording the migrations whose effects are "
            f"present, migrate fails at {option.fails_at}: {option.error or option.reason}",
            hint=(
                f"make that migration idempotent: {' '.join(d.guard.snippet.split())}"
                if d.guard is not None and d.guard.migration == option.fails_at
                else "fix that migration, then diagnose again"
            ),
        )
    notes.append(
        f"the diagnosis' rehearsal recorded only the leading migrations and failed at "
        f"{at.migration}, which this plan handles itself ({_verb(at)}); that part is not rehearsed"
    )


def _marks(decisions: Sequence[Decision]) -> list[Step]:
    if not decisions:
        return []
    ids = tuple(x.migration for x in decisions)
    why = (
        decisions[0].reason
        if len(decisions) == 1
        else "; ".join(f"{x.migration}: {x.reason}" for x in decisions)
    )
    return [
        Step(
            0,
            StepKind.MARK_APPLIED,
            f"Record {len(ids)} migration(s) as applied: {_some(list(ids))}",
            migrations=ids,
            estimate_seconds=MARK_SECONDS,
            reason=why,
        )
    ]


def _sql_step(d: Diagnosis, x: Decision) -> Step:
    what = {
        Action.COMPLETE: "the missing statement(s) of",
        Action.REPAIR: "the statement(s) of",
        Action.RUN: "the statement(s) of",
    }[x.action]
    return Step(
        0,
        StepKind.SQL,
        f"Run {what} {x.migration} ({len(x.statements)})",
        statements=x.statements,
        changes=x.changes,
        transactional=True,
        estimate_seconds=STATEMENT_SECONDS * len(x.statements),
        reason=x.reason,
    )


def _migrate_seconds(d: Diagnosis, count: int) -> float | None:
    resume = d.option(Strategy.RESUME)
    if resume is not None and resume.rehearsed and resume.seconds is not None:
        return resume.seconds
    reset = d.option(Strategy.RESET)
    if reset is not None and reset.seconds is not None and d.total:
        return reset.seconds * count / d.total
    return None


def _plan(d: Diagnosis, steps: list[Step], notes: tuple[str, ...], option: object) -> Plan:
    from dbmedic.diagnosis import RepairOption

    rehearsal = (
        f"{option.reason} ({option.evidence.value})" if isinstance(option, RepairOption) else None
    )
    predicted = option.predicted_ok if isinstance(option, RepairOption) else None
    return Plan(
        strategy=Strategy.RESUME.value,
        target=d.target,
        dialect=d.dialect,
        steps=numbered(steps),
        framework=d.framework,
        app=d.app,
        drops=tuple(f"{s.title}" for s in steps if s.destructive),
        rehearsal=rehearsal,
        predicted_ok=predicted,
        notes=notes,
        expected_tables=d.expected_tables,
        critical=tuple(c.table for c in d.critical),
    )
