"""The report's view model: every figure a report shows, computed once, in Python.

Templates format these objects and never count: a total, a percentage or a "48 of 244" is a
field or a property here, so Markdown and HTML cannot disagree with each other or with the JSON.
A :class:`ReportView` is built from a result object (a diagnosis now, a fix outcome later) by an
adapter in :mod:`dbmedic.report.adapt`; tests may also build one by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dbmedic.diagnosis import Conflict


class MarkState(StrEnum):
    """State of one migration on the timeline."""

    APPLIED = "applied"
    FAILED = "failed"
    PENDING = "pending"
    """Not run yet, and nothing stops it."""
    BLOCKED = "blocked"
    """Not run because an earlier migration failed."""


@dataclass(frozen=True, slots=True)
class ParityRow:
    """One object kind of the parity with the reference: ``48 of 244 tables``."""

    kind: str
    """Plural noun as shown: ``tables``, ``columns``, ``indexes``, ``foreign keys``."""
    present: int
    expected: int
    percent: float
    """Share present, as the facts computed it (never rounded up to 100 while one is missing)."""
    extra: int = 0
    """Objects the database has and the reference does not."""
    changed: int = 0
    """Objects present with another definition."""

    @property
    def missing(self) -> int:
        return max(self.expected - self.present, 0)

    @property
    def complete(self) -> bool:
        return self.present >= self.expected


@dataclass(frozen=True, slots=True)
class MigrationMark:
    """One migration as the timeline draws it."""

    id: str
    state: MarkState
    batch: int | None = None


@dataclass(frozen=True, slots=True)
class Phase:
    """A step of "what happened": a batch that ran, the failure, a group that never ran."""

    label: str
    state: MarkState
    migrations: int
    """Number of migrations in this phase."""
    tables: int | None = None
    """Tables the phase created (applied) or would have created (blocked); None when unknown."""
    detail: str = ""
    """One sentence, e.g. the error for the failing migration."""
    first: str | None = None
    last: str | None = None
    """Ids of the phase's first and last migration."""


@dataclass(frozen=True, slots=True)
class Counts:
    """Migrations per state; ``total`` is their sum, never a separate count."""

    applied: int
    failed: int
    pending: int
    blocked: int

    @property
    def total(self) -> int:
        return self.applied + self.failed + self.pending + self.blocked

    @property
    def not_run(self) -> int:
        """Migrations that did not complete: failed, blocked and pending."""
        return self.failed + self.pending + self.blocked


@dataclass(frozen=True, slots=True)
class FailurePoint:
    migration: str
    error: str
    """The server's own message (scrubbed), e.g. ``Duplicate column name 'priority'``."""
    error_class: str
    """``duplicate_column``, ``unknown_table``, ... (see :mod:`dbmedic.errorclass`)."""
    file: str | None = None
    line: int | None = None
    statement: str | None = None
    last_applied: str | None = None
    evidence: str = "rehearsal"
    """How the error was obtained: ``rehearsal`` (on a shadow database) or ``simulation``."""

    @property
    def error_class_text(self) -> str:
        return self.error_class.replace("_", " ")

    @property
    def location(self) -> str | None:
        """``file:line``, or the file alone, or None."""
        if self.file is None:
            return None
        return self.file if self.line is None else f"{self.file}:{self.line}"


@dataclass(frozen=True, slots=True)
class Creator:
    """A migration statement that creates the object at the root of the failure."""

    migration: str
    file: str | None = None
    line: int | None = None
    state: str = ""
    """The migration's state: applied, failed, pending."""
    failed: bool = False
    """True for the attempt that failed (the failing migration itself)."""

    @property
    def location(self) -> str:
        if self.file is None:
            return self.migration
        return self.file if self.line is None else f"{self.file}:{self.line}"


@dataclass(frozen=True, slots=True)
class Cause:
    summary: str
    """One or two sentences: why the migration fails, in plain words."""
    subject: str | None = None
    """The object concerned: ``policy_configurations.priority``."""
    creators: tuple[Creator, ...] = ()
    """Every migration that creates ``subject``, in history order; empty when it was made
    outside the migrations."""
    outside_migrations: bool = False
    fresh_run_fails: bool | None = None
    """Would a run from zero fail at the same migration? None when unknown."""


@dataclass(frozen=True, slots=True)
class CriticalTable:
    table: str
    present: bool
    migration: str | None = None
    """The migration that creates it (None: no migration does)."""
    file: str | None = None
    migration_state: str | None = None
    """``applied``, ``failed``, ``blocked``, ``pending``."""

    @property
    def state_text(self) -> str:
        if self.present:
            return "present"
        if self.migration is None:
            return "missing, no migration creates it"
        return f"missing, its migration is {self.migration_state or 'unknown'}"


@dataclass(frozen=True, slots=True)
class Group:
    """Blocked migrations sharing a batch or a table-name prefix (``retell_``)."""

    key: str
    migrations: int
    tables: int
    folded: bool = False
    """True for the row summing up the smaller groups."""


@dataclass(frozen=True, slots=True)
class Option:
    """A repair (reset, resume, sync) and what its rehearsal showed."""

    name: str
    """``reset``, ``resume`` or ``sync``."""
    title: str
    what: str
    """What it does, one sentence."""
    evidence: str
    """``rehearsed`` (on a shadow database), ``simulated`` or ``not_checked``."""
    succeeds: bool | None
    """None: could not be predicted."""
    result: str
    """One sentence: why it works, or where and why it fails."""
    seconds: float | None = None
    """Measured duration of the rehearsal on the shadow database."""
    estimate_seconds: float | None = None
    """Expected duration of the real repair, derived from the rehearsal."""
    recommended: bool = False
    command: str | None = None
    """The exact dbmedic command (URLs redacted, no password)."""
    keeps_data: bool | None = None

    @property
    def verdict(self) -> str:
        if self.succeeds is None:
            return "not predicted"
        word = "succeeds" if self.succeeds else "fails"
        if self.evidence == "rehearsed":
            return word
        if self.evidence == "simulated":
            return f"{word} (simulated)"
        return f"likely {word} (not rehearsed)"

    @property
    def pill(self) -> str:
        """CSS class of the verdict."""
        if self.succeeds is None:
            return "untried"
        return "succeeds" if self.succeeds else "fails"


@dataclass(frozen=True, slots=True)
class Rollback:
    backup: str
    """What dbmedic backs up before it changes anything, and where."""
    rollback_command: str
    restore_command: str


@dataclass(frozen=True, slots=True)
class GuardSnippet:
    """The change that makes the failing migration idempotent, in the framework's idiom."""

    language: str
    """Code-fence language: ``php``, ``python``, ``sql``."""
    code: str
    migration: str
    file: str | None = None
    line: int | None = None
    explanation: str = ""


@dataclass(frozen=True, slots=True)
class ReportView:
    """Everything a report shows. Built by :func:`dbmedic.report.adapt.to_view`."""

    kind: str
    """``diagnosis`` (now) or ``fix`` (later)."""
    title: str
    date: str
    """ISO-8601 time of the facts (when the database was read), never the time of rendering."""
    status: str
    """The status line: what was found and what is recommended, one line."""
    database: str
    """Redacted URL of the diagnosed database."""
    dialect: str
    framework: str
    app: str
    counts: Counts
    reference: str | None = None
    """Redacted URL or snapshot path of the reference, None without one."""
    severity: str = ""
    parity: tuple[ParityRow, ...] = ()
    failure: FailurePoint | None = None
    phases: tuple[Phase, ...] = ()
    cause: Cause | None = None
    blocked_tables: int | None = None
    """Tables the blocked migrations would create."""
    critical: tuple[CriticalTable, ...] = ()
    groups: tuple[Group, ...] = ()
    """Blocked migrations by feature prefix."""
    conflicts: tuple[Conflict, ...] = ()
    """Objects that exist with another definition than their migration creates (as diagnosed)."""
    options: tuple[Option, ...] = ()
    rollback: Rollback | None = None
    guard: GuardSnippet | None = None
    timeline: tuple[MigrationMark, ...] = ()
    recorded: tuple[tuple[str, int], ...] = ()
    """Migrations per state as the tracking table records them (non-zero states only); the
    failing and blocked migrations are recorded as pending by most frameworks."""
    notes: tuple[str, ...] = ()
    """Caveats a reader must see (simulated only, simulation and rehearsal disagree, ...)."""
    tool_version: str = field(default="")

    @property
    def day(self) -> str:
        """The date part of :attr:`date` (``2025-10-26``)."""
        return self.date[:10]

    @property
    def recommended(self) -> Option | None:
        return next((o for o in self.options if o.recommended), None)

    @property
    def critical_missing(self) -> tuple[CriticalTable, ...]:
        return tuple(t for t in self.critical if not t.present)

    @property
    def critical_count(self) -> int:
        return len(self.critical)

    @property
    def critical_missing_count(self) -> int:
        return len(self.critical_missing)

    @property
    def table_parity(self) -> ParityRow | None:
        return next((p for p in self.parity if p.kind == "tables"), None)

    @property
    def blocked_phases(self) -> tuple[Phase, ...]:
        return tuple(p for p in self.phases if p.state is MarkState.BLOCKED)
