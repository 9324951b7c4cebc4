"""The demo application as data: migrations with the tables, columns, keys and indexes they create.

A framework-neutral description of the seed incident's application (a Laravel-like appointment
and voice-AI platform). Renderers turn it into files: :mod:`dbmedic.demo.render_dbmate` writes
dbmate SQL migrations per dialect; :mod:`dbmedic.demo.render_laravel` writes the same migrations as a
Laravel 8 application (``write_laravel_app``).
Nothing in dbmedic's tool code knows this application: the demo is data.

The story, as in the seed report: migration ``2025_10_23_162250_add_priority_to_policy_configurations``
adds ``policy_configurations.priority``. Production ran the early ``create_policy_configurations``
migration before anyone put ``priority`` into it, and got the column from the later migration.
Afterwards the early file was edited to create ``priority`` too, so every fresh run (staging)
creates it early and then fails at ``2025_10_23_162250`` with a duplicate column.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    name: str
    type: str
    """Neutral type: id, fk, string(N), text, json, int, bigint, bool, decimal(P,S), timestamp, date, uuid."""
    nullable: bool = False
    default: str | None = None
    """SQL literal: ``'active'``, ``0``, ``999``."""
    references: str | None = None
    """Referenced table for ``fk`` columns (its ``id``)."""
    unique: bool = False
    index: bool = False
    after: str | None = None
    """For added columns: the column it follows (MySQL ``AFTER``)."""


@dataclass(frozen=True, slots=True)
class TableSpec:
    name: str
    columns: tuple[ColumnSpec, ...]


@dataclass(frozen=True, slots=True)
class CreateTable:
    table: TableSpec


@dataclass(frozen=True, slots=True)
class AddColumn:
    table: str
    column: ColumnSpec


@dataclass(frozen=True, slots=True)
class AddIndex:
    table: str
    columns: tuple[str, ...]


Step = CreateTable | AddColumn | AddIndex


@dataclass(frozen=True, slots=True)
class MigrationSpec:
    id: str
    """Laravel-style id: ``2025_10_23_162250_add_priority_to_policy_configurations``."""
    steps: tuple[Step, ...]
    original_steps: tuple[Step, ...] | None = None
    """The text production ran, when the file was edited afterwards (None: never edited)."""

    @property
    def version(self) -> str:
        """The digits of the timestamp: dbmate's version."""
        return "".join(self.id.split("_")[:4])

    @property
    def name(self) -> str:
        return "_".join(self.id.split("_")[4:])


@dataclass(frozen=True, slots=True)
class AppSpec:
    name: str
    migrations: tuple[MigrationSpec, ...]
    failing: str
    """Id of the migration that fails on a fresh run."""
    duplicate: tuple[str, str] = ("", "")
    """(table, column) created twice on a fresh run."""
    notes: tuple[str, ...] = field(default=())

    def tables(self, upto: str | None = None) -> list[str]:
        """Names of the tables the migrations create, in order (before ``upto`` when given)."""
        names: list[str] = []
        for m in self.migrations:
            if m.id == upto:
                break
            names.extend(s.table.name for s in m.steps if isinstance(s, CreateTable))
        return names


# --- columns ---------------------------------------------------------------------------------
def c(name: str, type_: str, **kw: object) -> ColumnSpec:
    return ColumnSpec(name, type_, **kw)  # type: ignore[arg-type]


ID = c("id", "id")
TIMESTAMPS = (
    c("created_at", "timestamp", nullable=True),
    c("updated_at", "timestamp", nullable=True),
)


def fk(table: str, name: str | None = None, nullable: bool = False) -> ColumnSpec:
    return c(name or f"{singular(table)}_id", "fk", references=table, nullable=nullable, index=True)


def singular(word: str) -> str:
    last = word.split("_")[-1]
    head = word[: len(word) - len(last)]
    for plural, one in (("analyses", "analysis"), ("statuses", "status"), ("aliases", "alias")):
        if last == plural:
            return head + one
    if last.endswith("ies"):
        return head + last[:-3] + "y"
    if last.endswith(("sses", "shes", "ches", "xes")):
        return head + last[:-2]
    return head + (last[:-1] if last.endswith("s") else last)


def table(name: str, *columns: ColumnSpec, timestamps: bool = True) -> TableSpec:
    return TableSpec(name, (ID, *columns, *(TIMESTAMPS if timestamps else ())))


_PRESETS: tuple[tuple[str, tuple[ColumnSpec, ...]], ...] = (
    (
        "logs",
        (
            c("level", "string(16)", default="'info'"),
            c("message", "text"),
            c("context", "json", nullable=True),
        ),
    ),
    (
        "events",
        (
            c("event_type", "string(64)", index=True),
            c("payload", "json", nullable=True),
            c("occurred_at", "timestamp", nullable=True),
        ),
    ),
    ("settings", (c("key", "string(191)", index=True), c("value", "text", nullable=True))),
    ("preferences", (c("channel", "string(32)"), c("enabled", "bool", default="1"))),
    (
        "templates",
        (
            c("name", "string(255)"),
            c("subject", "string(255)", nullable=True),
            c("body", "text"),
            c("locale", "string(8)", default="'de'"),
        ),
    ),
    (
        "segments",
        (
            c("position", "int", default="0"),
            c("speaker", "string(16)"),
            c("text", "text"),
            c("started_ms", "int", nullable=True),
        ),
    ),
    (
        "metrics",
        (
            c("metric", "string(64)", index=True),
            c("value", "decimal(14,4)"),
            c("measured_at", "timestamp", nullable=True),
        ),
    ),
    (
        "runs",
        (
            c("status", "string(32)", default="'queued'", index=True),
            c("started_at", "timestamp", nullable=True),
            c("finished_at", "timestamp", nullable=True),
        ),
    ),
    (
        "results",
        (
            c("passed", "bool", default="0"),
            c("duration_ms", "int", nullable=True),
            c("output", "text", nullable=True),
        ),
    ),
    (
        "rules",
        (
            c("name", "string(255)"),
            c("conditions", "json"),
            c("priority", "int", default="0"),
            c("is_active", "bool", default="1"),
        ),
    ),
    (
        "versions",
        (c("version", "int"), c("snapshot", "json"), c("published_at", "timestamp", nullable=True)),
    ),
    (
        "webhooks",
        (
            c("url", "string(2048)"),
            c("secret", "string(255)", nullable=True),
            c("is_active", "bool", default="1"),
        ),
    ),
    (
        "calls",
        (
            c("external_id", "string(191)", unique=True),
            c("direction", "string(16)"),
            c("duration_sec", "int", default="0"),
            c("status", "string(32)", index=True),
        ),
    ),
    (
        "sessions",
        (
            c("external_id", "string(191)", unique=True),
            c("status", "string(32)", index=True),
            c("started_at", "timestamp", nullable=True),
            c("ended_at", "timestamp", nullable=True),
        ),
    ),
    (
        "items",
        (
            c("description", "string(255)"),
            c("quantity", "decimal(10,2)", default="1"),
            c("unit_price", "decimal(10,2)", default="0"),
        ),
    ),
)
_DEFAULT = (
    c("name", "string(255)"),
    c("status", "string(32)", default="'active'", index=True),
    c("description", "text", nullable=True),
)


def generated(name: str, parent: str | None, company: bool = True) -> TableSpec:
    """A table whose columns follow from its name: the family's parent key, a preset, timestamps."""
    columns: list[ColumnSpec] = []
    if company:
        columns.append(fk("companies"))
    if parent:
        columns.append(fk(parent))
    last = name.split("_")[-1]
    preset = next((cols for key, cols in _PRESETS if last == key), _DEFAULT)
    columns.extend(preset)
    return table(name, *columns)


def incident_app() -> AppSpec:
    """The seed incident's application: 185 migrations, 243 tables (+ the tracking table)."""
    from dbmedic.demo.incident import incident_app as build

    return build()
