"""A fast, pure simulation of a migration history on an in-memory catalog.

``simulate(history, dialect)`` parses every statement (:mod:`dbmedic.effects`), applies its
effects in order to a catalog of frozen tables, and stops a migration at the first statement the
server would reject, with the server's error class and wording (:mod:`dbmedic.errorclass`). It
records who created every table, column, index and key (``creators``), so diagnose can say "column
policy_configurations.priority is created by 2019_..._create_policy_configurations (line 12) and
again by 2025_10_23_162250". No database is needed; it predicts, the rehearsal on a real server
confirms.

``check_against(schema, effects)`` (in :mod:`dbmedic.effectcheck`, re-exported here) answers for
resume whether each effect is present, absent or in conflict on a live schema.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from dbmedic.catalog import Catalog, Rejected
from dbmedic.effectcheck import EffectCheck, Presence, check_against
from dbmedic.effects import Effects, Guard, UnknownEffect, effects_with_lookup
from dbmedic.effects_sql import Statement, split_statements
from dbmedic.errorclass import ServerError
from dbmedic.model import Schema

__all__ = [
    "Creator",
    "EffectCheck",
    "MigrationResult",
    "Outcome",
    "Presence",
    "Simulation",
    "StatementFailure",
    "check_against",
    "simulate",
    "simulate_scripts",
]

MigrationStatements = Sequence[str | Statement]


class Outcome(StrEnum):
    OK = "ok"
    FAILED = "failed"
    NOT_RUN = "not_run"
    """After an earlier failure the runner stops; these never ran."""


@dataclass(frozen=True, slots=True)
class Creator:
    """A statement that creates an object (or tried to: ``failed``)."""

    migration: str
    statement: int
    """1-based number of the statement within its migration."""
    line: int | None = None
    """1-based line in the migration's file, when the statements came with lines."""
    failed: bool = False


@dataclass(frozen=True, slots=True)
class StatementFailure:
    statement: int
    """1-based number of the failing statement within its migration."""
    sql: str
    error: ServerError
    line: int | None = None

    @property
    def error_class(self) -> str:
        return self.error.error_class.value


@dataclass(frozen=True, slots=True)
class MigrationResult:
    id: str
    outcome: Outcome
    statements: int
    failure: StatementFailure | None = None
    unknown: tuple[UnknownEffect, ...] = ()
    """Statements whose effect is unknown: the prediction is weaker for this migration."""
    idempotent: bool = False
    """Every statement is guarded (IF [NOT] EXISTS) or has no schema effect."""


@dataclass(frozen=True, slots=True)
class Simulation:
    dialect: str
    migrations: tuple[MigrationResult, ...]
    creators: Mapping[str, tuple[Creator, ...]]
    """Keys: ``table:t``, ``column:t.c``, ``index:t.name`` (indexes, unique and primary keys),
    ``foreign_key:t.name``, ``check:t.name``, ``view:v``, ``trigger:name``."""
    schema: Schema
    """The catalog after the last statement that ran."""
    seconds: float = field(default=0.0, compare=False)

    @property
    def first_failure(self) -> MigrationResult | None:
        return next((m for m in self.migrations if m.outcome is Outcome.FAILED), None)

    @property
    def ok(self) -> bool:
        return self.first_failure is None

    def result(self, migration_id: str) -> MigrationResult:
        return next(m for m in self.migrations if m.id == migration_id)

    def creators_of(self, table: str, column: str | None = None) -> tuple[Creator, ...]:
        """Who creates ``table`` (or ``table.column``), in history order, failed attempts included."""
        key = f"table:{table}" if column is None else f"column:{table}.{column}"
        return self.creators.get(key, ())

    @property
    def blocked(self) -> tuple[str, ...]:
        """Ids of the migrations that never ran because an earlier one failed."""
        return tuple(m.id for m in self.migrations if m.outcome is Outcome.NOT_RUN)


def simulate(
    history: Sequence[tuple[str, MigrationStatements]],
    dialect: str,
    start: Schema | None = None,
    *,
    database: str | None = None,
    keep_going: bool = False,
) -> Simulation:
    """Run ``history`` (migration id, its statements in order) through an in-memory catalog.

    Statements may be plain strings or :class:`Statement` (with the line in the file). ``start``
    is the schema before the first migration (empty when None). ``database`` is used in messages
    that name it (MySQL's ``Table 'db.t' doesn't exist``). The runner stops at the first failure,
    as framework runners do; ``keep_going`` skips the failing statement and goes on (lint wants
    every failure). Pure; never raises for bad SQL.
    """
    import time

    t0 = time.perf_counter()
    catalog = Catalog(dialect, start, database)
    creators: dict[str, list[Creator]] = {}
    results: list[MigrationResult] = []
    stopped = False
    for migration_id, statements in history:
        if stopped:
            results.append(MigrationResult(migration_id, Outcome.NOT_RUN, len(statements)))
            continue
        result = _run_migration(catalog, migration_id, statements, creators)
        results.append(result)
        if result.outcome is Outcome.FAILED and not keep_going:
            stopped = True
    return Simulation(
        dialect,
        tuple(results),
        {k: tuple(v) for k, v in creators.items()},
        catalog.snapshot(),
        time.perf_counter() - t0,
    )


def simulate_scripts(
    history: Sequence[tuple[str, str]],
    dialect: str,
    start: Schema | None = None,
    **kw: bool | str | None,
) -> Simulation:
    """As :func:`simulate`, for migrations given as whole SQL files (split with line numbers)."""
    split = [(mid, split_statements(script, dialect)) for mid, script in history]
    return simulate(split, dialect, start, **kw)  # type: ignore[arg-type]


def _run_migration(
    catalog: Catalog,
    migration_id: str,
    statements: MigrationStatements,
    creators: dict[str, list[Creator]],
) -> MigrationResult:
    unknown: list[UnknownEffect] = []
    failure: StatementFailure | None = None
    idempotent = True
    for number, item in enumerate(statements, start=1):
        sql, line = (item.sql, item.line) if isinstance(item, Statement) else (item, None)
        effects = effects_with_lookup(sql, catalog.dialect, catalog.lookup)
        if effects.unknown is not None:
            unknown.append(effects.unknown)
        idempotent = idempotent and effects.idempotent
        made: list[str] = []
        saved = catalog.save()
        try:
            for effect in effects.effects:
                made.extend(catalog.apply(effect))
        except Rejected as r:
            catalog.restore(saved)  # a statement is atomic: nothing of it stays
            failure = StatementFailure(number, sql, r.error, line)
            for key in _attempted(effects, catalog):
                creators.setdefault(key, []).append(Creator(migration_id, number, line, True))
            break
        for key in made:
            creators.setdefault(key, []).append(Creator(migration_id, number, line))
    outcome = Outcome.FAILED if failure else Outcome.OK
    return MigrationResult(
        migration_id, outcome, len(statements), failure, tuple(unknown), idempotent
    )


def _attempted(effects: Effects, catalog: Catalog) -> Iterable[str]:
    """Creator keys of what a failing statement tried to create (for "and again by ...")."""
    for effect in effects.effects:
        if effect.guard is Guard.NONE:
            yield from catalog.keys_created_by(effect.change)
