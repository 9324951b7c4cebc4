"""The result of ``dbmedic diagnose`` and ``dbmedic lint``: frozen, typed, JSON-serialisable.

Every figure in these objects is computed (from the database, the migration files, the
simulation or the rehearsal on a shadow database), never typed. The report renderers
(``dbmedic.report``) and the terminal output read the same object; ``to_dict()`` is the
documented JSON (``"format": "dbmedic.diagnosis/1"``, ``"dbmedic.lint/1"``).

Stable contract: fields are only ever added, never renamed or removed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, is_dataclass
from enum import Enum, StrEnum
from typing import Any

from dbmedic.errorclass import ErrorClass
from dbmedic.model import Migration, MigrationState

DIAGNOSIS_FORMAT = "dbmedic.diagnosis/1"
LINT_FORMAT = "dbmedic.lint/1"


class Strategy(StrEnum):
    RESET = "reset"
    """Back up, drop and recreate the database, run every migration from zero."""
    RESUME = "resume"
    """Record pending migrations whose effects are present as applied, run the rest."""
    SYNC = "sync"
    """Copy the missing schema over from the reference, then reconcile the tracking table."""


class Evidence(StrEnum):
    """How a prediction was obtained."""

    REHEARSED = "rehearsed"
    """Run for real on a shadow database."""
    SIMULATED = "simulated"
    """Predicted by the in-memory simulation only (no shadow database could be created)."""
    NOT_CHECKED = "not_checked"
    """Neither (e.g. sync without a reference)."""
    RECORDED = "recorded"
    """Read from the runner's own record of the failure (dbmedic's journal for SQL migrations):
    used when a shadow cannot reproduce it (privileges, locks, data of the target itself)."""


class Phase(StrEnum):
    """Where a migration stands on the timeline a report draws."""

    APPLIED = "applied"
    FAILED = "failed"
    """The migration the runner stopped at."""
    PENDING = "pending"
    """Not run, nothing failed before it (the next ``migrate`` runs it)."""
    BLOCKED = "blocked"
    """Not run because a migration before it fails."""
    MISSING_FILE = "missing-file"
    CHECKSUM_CHANGED = "checksum-changed"


@dataclass(frozen=True, slots=True)
class Site:
    """A place in the migration history: a migration (and where known its file, line, state)."""

    migration: str
    file: str | None = None
    """Path relative to the application folder."""
    line: int | None = None
    """1-based line of the statement in the file, when known."""
    state: MigrationState | None = None
    statement: int | None = None
    """1-based number of the statement within the migration."""
    failed: bool = False
    """This statement tried to create the object and was rejected."""


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    id: str
    file: str | None
    state: MigrationState
    phase: Phase
    batch: int | None = None
    tables: tuple[str, ...] = ()
    """Tables this migration creates (from its statements, where known)."""


@dataclass(frozen=True, slots=True)
class Failure:
    """Where the runner stops and with which error."""

    migration: Migration
    error: str
    """The server's error text, as the framework printed it (secrets scrubbed)."""
    error_class: ErrorClass
    statement: str | None = None
    """The failing statement."""
    statement_number: int | None = None
    file: str | None = None
    line: int | None = None
    evidence: Evidence = Evidence.REHEARSED


@dataclass(frozen=True, slots=True)
class Cause:
    """Why the failing statement fails."""

    kind: str
    """``duplicate``, ``missing``, ``conflict``, ``permission``, ``lock``, ``syntax``, ``data``, ``other``."""
    object_kind: str | None = None
    """``table``, ``column``, ``index``, ``foreign_key``, ``view``, ``trigger``."""
    object: str | None = None
    """``policy_configurations.priority``."""
    creators: tuple[Site, ...] = ()
    """Every statement in the history that creates the object (the failing one included, ``failed``)."""
    outside_migrations: bool = False
    """The object exists but no migration creates it before the failure point."""
    explanation: str = ""
    """One or two sentences, computed from the fields above."""


@dataclass(frozen=True, slots=True)
class BlockedGroup:
    key: str
    """A batch number as text, or a table-name prefix (``retell_``), or ``(none)``."""
    migrations: tuple[str, ...]
    tables: tuple[str, ...]
    """Tables the group's migrations would create."""


@dataclass(frozen=True, slots=True)
class Blocked:
    """Migrations after the failure point that never ran, and what they would create."""

    migrations: tuple[str, ...] = ()
    tables: tuple[str, ...] = ()
    by_batch: tuple[BlockedGroup, ...] = ()
    by_prefix: tuple[BlockedGroup, ...] = ()

    @property
    def count(self) -> int:
        return len(self.migrations)


@dataclass(frozen=True, slots=True)
class CriticalTable:
    table: str
    present: bool
    """The table exists in the diagnosed database."""
    creator: Site | None = None
    """The migration that creates it (None: no migration does)."""
    state: str = ""
    """``present``, ``blocked``, ``failing``, ``pending``, ``not created by any migration``."""


@dataclass(frozen=True, slots=True)
class ParityLine:
    kind: str
    present: int
    expected: int
    changed: int = 0
    extra: int = 0

    @property
    def missing(self) -> int:
        return self.expected - self.present

    @property
    def percent(self) -> float:
        if self.expected == 0:
            return 100.0
        value = round(100.0 * self.present / self.expected, 1)
        if self.present < self.expected:
            value = min(value, 99.9)
        if self.present > 0:
            value = max(value, 0.1)
        return value


@dataclass(frozen=True, slots=True)
class ParitySummary:
    """Parity of the diagnosed database with its reference, per object kind."""

    reference: str
    """Redacted URL or snapshot path."""
    lines: tuple[ParityLine, ...]
    missing_tables: tuple[str, ...] = ()
    extra_tables: tuple[str, ...] = ()
    changed_tables: tuple[str, ...] = ()

    def line(self, kind: str) -> ParityLine | None:
        return next((p for p in self.lines if p.kind == kind), None)

    @property
    def complete(self) -> bool:
        return all(p.present == p.expected and not p.changed and not p.extra for p in self.lines)


@dataclass(frozen=True, slots=True)
class Conflict:
    """An object that exists with another definition than a pending migration creates."""

    object_kind: str
    object: str
    migration: str
    """The pending migration that would create it."""
    differences: tuple[str, ...]
    """What differs: ``type int vs varchar(20)``, ``nullable yes vs no``, ``extra column x``."""
    repair: tuple[str, ...]
    """Data-keeping repair, step by step (move aside, let the migration create it, copy back, drop)."""


@dataclass(frozen=True, slots=True)
class RepairOption:
    strategy: Strategy
    predicted_ok: bool | None
    """None: could not be predicted (e.g. sync without a reference)."""
    reason: str
    """One sentence: why it works or where and why it fails."""
    evidence: Evidence = Evidence.NOT_CHECKED
    fails_at: str | None = None
    """Migration id where it fails."""
    error: str | None = None
    error_class: ErrorClass | None = None
    seconds: float | None = None
    """Measured duration of the rehearsal of this option (shadow database), None when not rehearsed."""
    command: str = ""
    """``dbmedic fix --strategy resume --app ... --db ...`` (redacted URL)."""
    mark_applied: tuple[str, ...] = ()
    """resume: pending migrations whose effects are all present (recorded as applied)."""

    @property
    def rehearsed(self) -> bool:
        return self.evidence is Evidence.REHEARSED


@dataclass(frozen=True, slots=True)
class Guard:
    """A snippet, in the framework's own idiom, that makes the failing migration idempotent."""

    migration: str
    file: str | None
    line: int | None
    language: str
    """``php``, ``python``, ``sql``."""
    snippet: str
    note: str = ""
    original: str | None = None
    """The exact text in ``file`` (from ``line`` to ``end_line``) that ``snippet`` replaces;
    None when the statement could not be found and the snippet is a template."""
    end_line: int | None = None


@dataclass(frozen=True, slots=True)
class Recommendation:
    strategy: Strategy | None
    """None: nothing to repair, or no option predicted to work."""
    command: str
    reason: str


@dataclass(frozen=True, slots=True)
class SimulationNote:
    """What the in-memory simulation predicted, and whether the rehearsal agreed."""

    failing: str | None
    """Migration id the simulation predicts to fail from the current state (None: all succeed)."""
    error: str | None = None
    error_class: ErrorClass | None = None
    unknown_statements: int = 0
    """Statements whose effect the simulation could not tell (its prediction is weaker there)."""
    seconds: float = 0.0
    disagreement: str | None = None
    """Set when simulation and rehearsal disagree; the rehearsal wins."""


@dataclass(frozen=True, slots=True)
class Diagnosis:
    framework: str
    app: str
    target: str
    """Redacted URL of the diagnosed database."""
    dialect: str
    counts: Mapping[str, int]
    """Migrations per state (every MigrationState listed)."""
    total: int
    tables: int
    """Tables in the diagnosed database (dbmedic's own journal not counted)."""
    last_applied: Migration | None
    failing: Failure | None
    cause: Cause | None
    blocked: Blocked
    critical: tuple[CriticalTable, ...]
    parity: ParitySummary | None
    conflicts: tuple[Conflict, ...]
    options: tuple[RepairOption, ...]
    guard: Guard | None
    recommendation: Recommendation
    simulation: SimulationNote
    evidence: Evidence
    """REHEARSED when a shadow database could be used, SIMULATED otherwise."""
    shadow_note: str | None = None
    """Why no shadow database could be used (one sentence), when evidence is SIMULATED."""
    timeline: tuple[TimelineEntry, ...] = ()
    timings: tuple[tuple[str, float], ...] = ()
    """Seconds per phase, in order: status, reset, simulation, rehearsal-wait, parity,
    resume-wait, reset-wait; then each rehearsal's own time, marked ``(background)``: they ran
    on other threads, overlapping the phases."""
    expected_tables: int | None = None
    """Tables after all migrations (simulation), or in the reference when given."""
    taken_at: str | None = None
    """ISO-8601 UTC time the diagnosed database was read; reports date themselves by it."""
    format: str = DIAGNOSIS_FORMAT

    @property
    def healthy(self) -> bool:
        """Nothing failed, nothing pending, no conflict, parity complete (when checked)."""
        return (
            self.failing is None
            and not any(e.phase in (Phase.PENDING, Phase.BLOCKED) for e in self.timeline)
            and not self.conflicts
            and (self.parity is None or self.parity.complete)
        )

    def option(self, strategy: Strategy | str) -> RepairOption | None:
        return next((o for o in self.options if o.strategy == strategy), None)

    def seconds(self) -> float:
        """Wall time of the phases (those marked ``(background)`` overlapped them)."""
        return sum(s for phase, s in self.timings if not phase.endswith("(background)"))

    def to_dict(self) -> dict[str, Any]:
        out = _plain(self)
        assert isinstance(out, dict)
        out["healthy"] = self.healthy
        return out


@dataclass(frozen=True, slots=True)
class LintFinding:
    migration: str
    file: str | None
    predicted_ok: bool | None
    """None: not run (an earlier migration fails)."""
    idempotent: bool
    """Every statement is guarded (IF [NOT] EXISTS) or has no schema effect."""
    error: str | None = None
    error_class: ErrorClass | None = None
    statement: str | None = None
    line: int | None = None
    unguarded: tuple[str, ...] = ()
    """Statements that would fail if run a second time."""


@dataclass(frozen=True, slots=True)
class Lint:
    framework: str
    app: str
    target: str | None
    dialect: str
    findings: tuple[LintFinding, ...]
    evidence: Evidence
    shadow_note: str | None = None
    simulation: SimulationNote | None = None
    guard: Guard | None = None
    timings: tuple[tuple[str, float], ...] = ()
    format: str = LINT_FORMAT

    @property
    def failure_predicted(self) -> bool:
        return any(f.predicted_ok is False for f in self.findings)

    @property
    def non_idempotent(self) -> tuple[str, ...]:
        return tuple(f.migration for f in self.findings if not f.idempotent)

    def to_dict(self) -> dict[str, Any]:
        out = _plain(self)
        assert isinstance(out, dict)
        out["failure_predicted"] = self.failure_predicted
        out["non_idempotent"] = list(self.non_idempotent)
        return out


def _plain(value: Any) -> Any:
    """Dataclasses, enums, mappings and tuples as JSON-ready dicts, lists and scalars."""
    if isinstance(value, Enum):
        return value.value
    if is_dataclass(value) and not isinstance(value, type):
        out = {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
        if isinstance(value, (ParityLine, Blocked, RepairOption)):
            out.update(_computed(value))
        return out
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        if (
            value
            and all(isinstance(v, tuple) and len(v) == 2 for v in value)
            and all(isinstance(v[0], str) and isinstance(v[1], (int, float)) for v in value)
        ):
            return {k: round(v, 3) if isinstance(v, float) else v for k, v in value}
        return [_plain(v) for v in value]
    if isinstance(value, float):
        return round(value, 3)
    return value


def _computed(value: ParityLine | Blocked | RepairOption) -> dict[str, Any]:
    if isinstance(value, ParityLine):
        return {"missing": value.missing, "percent": value.percent}
    if isinstance(value, RepairOption):
        return {"rehearsed": value.rehearsed}
    return {"count": value.count}


__all__ = [
    "DIAGNOSIS_FORMAT",
    "LINT_FORMAT",
    "Blocked",
    "BlockedGroup",
    "Cause",
    "Conflict",
    "CriticalTable",
    "Diagnosis",
    "Evidence",
    "Failure",
    "Guard",
    "Lint",
    "LintFinding",
    "ParityLine",
    "ParitySummary",
    "Phase",
    "Recommendation",
    "RepairOption",
    "SimulationNote",
    "Site",
    "Strategy",
    "TimelineEntry",
]
