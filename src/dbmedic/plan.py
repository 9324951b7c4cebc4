"""Repair plans as data: what ``dbmedic fix`` will do, step by step, before it does anything.

A :class:`Plan` is printed by ``--dry-run``, carried out by ``apply.apply_plan`` and written into
reports and the run journal: the printer, the applier and the report read the same object.
Each :class:`Step` is one unit that can be journaled, checked after a crash, and replayed.
Planning is pure: ``plan_reset`` / ``plan_resume`` / ``plan_sync`` take facts (schemas, a
diagnosis, migrations) and return a Plan; they never touch a database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from dbmedic.changes import Change


class StepKind(StrEnum):
    LOCK = "lock"
    """Take the per-database repair lock (released on every exit path)."""
    BACKUP = "backup"
    """Back up the target and verify the backup (always before anything destructive)."""
    SQL = "sql"
    """Run ``statements`` in order (one transaction where the dialect has transactional DDL)."""
    RECREATE_DATABASE = "recreate_database"
    """Drop and create the target database with the same charset, collation and grants."""
    FRAMEWORK_MIGRATE = "framework_migrate"
    """Run the framework's own migrate command (``migrations`` lists what it should apply)."""
    PROMOTE_SHADOW = "promote_shadow"
    """Move the rehearsed ``shadow`` (every migration already run there) into the recreated
    target with ``statements``, then prove it equal to the shadow; where the shadow is gone or
    changed since the plan (``digest``), run the framework's migrate (``command``) instead."""
    MARK_APPLIED = "mark_applied"
    """Record ``migrations`` as applied in the framework's own tracking format."""
    MOVE_ASIDE = "move_aside"
    """Rename a conflicting object out of the way, keeping its data for a later copy-back."""
    COPY_BACK = "copy_back"
    """Copy rows from a moved-aside table into the table its migration created."""
    VERIFY = "verify"
    """Re-inspect and compare with the reference / expected tables and critical tables."""
    HOOK = "hook"
    """A post-fix command from the configuration (``php artisan cache:clear``)."""


@dataclass(frozen=True, slots=True)
class Step:
    number: int
    kind: StepKind
    title: str
    """What the step does, for people: ``Create 196 missing tables in foreign-key order``."""
    statements: tuple[str, ...] = ()
    """SQL of an SQL / MOVE_ASIDE / COPY_BACK step, in the target's dialect."""
    reverse_statements: tuple[str, ...] = ()
    """SQL that undoes the step where one exists (else rollback restores the backup)."""
    command: tuple[str, ...] = ()
    """Display form of a FRAMEWORK_MIGRATE / HOOK command (argv; never a secret)."""
    migrations: tuple[str, ...] = ()
    """Migration ids a FRAMEWORK_MIGRATE step should apply or a MARK_APPLIED step records."""
    changes: tuple[Change, ...] = field(default=(), compare=False)
    """The schema changes behind an SQL step, to check after a crash whether it took effect."""
    destructive: bool = False
    transactional: bool = False
    estimate_seconds: float | None = None
    reason: str | None = None
    """Why this step is in the plan (``its effects are all present in the live schema``)."""
    checks: tuple[str, ...] = ()
    """Queries run before ``statements``: each returns one row whose first value must be true
    (non-zero); otherwise the step fails before any statement runs. Guards the drop of a
    moved-aside object: ``SELECT (SELECT COUNT(*) FROM t) = (SELECT COUNT(*) FROM t_old)``."""
    shadow: str | None = None
    """PROMOTE_SHADOW: the rehearsed shadow database (a file for SQLite) the step moves in."""
    digest: str | None = None
    """PROMOTE_SHADOW: sha256 of the shadow's schema and the migration files as rehearsed."""
    keeps_schema: bool = False
    """HOOK: a command that cannot change the schema (a framework's own default hooks clear
    caches): its record is the schema before it, not a catalog read after it."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "kind": str(self.kind),
            "title": self.title,
            "statements": list(self.statements),
            "reverse_statements": list(self.reverse_statements),
            "command": list(self.command),
            "migrations": list(self.migrations),
            "destructive": self.destructive,
            "transactional": self.transactional,
            "estimate_seconds": self.estimate_seconds,
            "reason": self.reason,
            "checks": list(self.checks),
            "shadow": self.shadow,
            "digest": self.digest,
            "keeps_schema": self.keeps_schema,
        }


@dataclass(frozen=True, slots=True)
class Plan:
    strategy: str
    """``reset``, ``resume`` or ``sync``."""
    target: str
    """Redacted URL of the database the plan changes."""
    dialect: str
    steps: tuple[Step, ...]
    framework: str | None = None
    app: str | None = None
    reference: str | None = None
    """Redacted URL or snapshot path of the reference, if any."""
    drops: tuple[str, ...] = ()
    """Objects the plan drops (the whole database for reset), shown before confirmation."""
    rehearsal: str | None = None
    """The diagnosis' rehearsal verdict for this strategy, in one sentence."""
    predicted_ok: bool | None = None
    notes: tuple[str, ...] = ()
    expected_tables: int | None = None
    critical: tuple[str, ...] = ()
    accepted_differences: tuple[str, ...] = ()
    """Differences from the reference the plan leaves in place on purpose (drops without
    ``--allow-drop``), as ``"<kind> <subject>"`` (``drop_table dbmedic_migration_journal``);
    the VERIFY step ignores exactly these."""

    @property
    def estimate_seconds(self) -> float:
        return sum(s.estimate_seconds or 0.0 for s in self.steps)

    @property
    def destructive(self) -> bool:
        return any(s.destructive for s in self.steps)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": "dbmedic.plan/1",
            "strategy": self.strategy,
            "target": self.target,
            "dialect": self.dialect,
            "framework": self.framework,
            "app": self.app,
            "reference": self.reference,
            "drops": list(self.drops),
            "rehearsal": self.rehearsal,
            "predicted_ok": self.predicted_ok,
            "notes": list(self.notes),
            "expected_tables": self.expected_tables,
            "critical": list(self.critical),
            "accepted_differences": list(self.accepted_differences),
            "estimate_seconds": self.estimate_seconds,
            "destructive": self.destructive,
            "steps": [s.to_dict() for s in self.steps],
        }


def numbered(steps: list[Step]) -> tuple[Step, ...]:
    """Renumber steps 1..n in order (planners build lists, then number once)."""
    from dataclasses import replace

    return tuple(replace(s, number=i) for i, s in enumerate(steps, start=1))
