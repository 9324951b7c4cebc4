"""The sync strategy (the seed's option C): bring the schema over from the reference.

Missing tables in foreign-key order (the server's exact ``CREATE TABLE`` where the reference is a
live MySQL/MariaDB), then missing columns, keys and indexes, foreign keys, views and triggers,
rendered by the target's dialect from ``diff_schemas(reference, target)``. Nothing is dropped and
no existing column is changed in a way that can lose data unless ``allow_drop``; what is left out
is listed in the plan (``accepted_differences``) so that verification knows. Then the tracking
table is reconciled: the migrations the reference has applied and the target has not are recorded
as applied (only with the application, ``--app``), and the post-fix hooks run: the configured
ones, else the framework's defaults (with ``--app`` only). Pure: reads Schemas, returns a Plan.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from dbmedic.changes import (
    PHASE_NAMES,
    AddColumn,
    AddTable,
    AlterColumn,
    Change,
    order_changes,
    phase_of,
)
from dbmedic.errors import ConfigError
from dbmedic.model import Column, Schema
from dbmedic.plan import Plan, Step, StepKind, numbered
from dbmedic.plans.steps import hook_steps

INTERNAL_PREFIX = "dbmedic_"
"""dbmedic's own tables (the migration journal) do not count as the application's tables."""

SECONDS_PER_STATEMENT = 0.01
"""Estimate of one DDL statement (MariaDB creates ~100 small tables a second here)."""

_TITLES = {
    "create tables": "Create {n} missing tables in foreign-key order",
    "add and alter columns": "Add or change {n} columns",
    "add keys and indexes": "Add {n} missing keys and indexes",
    "add foreign keys": "Add {n} foreign keys",
    "create views": "Create {n} views",
    "create triggers": "Create {n} triggers",
}


def app_tables(schema: Schema) -> int:
    """Tables of the application (dbmedic's own journal left out)."""
    return sum(1 for name in schema.tables if not name.startswith(INTERNAL_PREFIX))


def check_reference(
    target: Schema, reference: Schema, reference_name: str = "the reference"
) -> None:
    """Raise ConfigError (exit 2, nothing changed) for a reference sync cannot use."""
    if target.family != reference.family:
        raise ConfigError(
            f"{reference_name} is a {reference.dialect} schema and the target is {target.dialect}; "
            "sync copies a schema within one database family",
            hint="give a reference of the same kind (a live database or a snapshot taken from one)",
        )
    have, ref = app_tables(target), app_tables(reference)
    if ref < have:
        raise ConfigError(
            f"reference looks incomplete: {ref} tables vs {have} in the target",
            hint="check that --reference names the production database or a complete snapshot",
        )


def _advance(schema: Schema, changes: Sequence[Change]) -> Schema:
    """``schema`` after ``changes`` (in the model only), so that each later phase is rendered
    against the tables as they will be then (SQLite rebuilds a table to add a foreign key)."""
    from dbmedic.catalog import Catalog, Rejected
    from dbmedic.effects import Effect

    catalog = Catalog(schema.dialect, schema, schema.database)
    for change in changes:
        try:
            catalog.apply(Effect(change))
        except Rejected:  # the server decides; the model only steers rendering
            continue
    return replace(catalog.snapshot(), database=schema.database)


def _split(changes: Sequence[Change], allow_drop: bool) -> tuple[list[Change], list[Change]]:
    """(changes to apply, changes left out): drops and data-losing column changes need allow_drop."""
    from dbmedic.diff import split_drops

    if allow_drop:
        return list(changes), []
    keep, skipped = split_drops(changes)
    safe = [c for c in keep if not (isinstance(c, AlterColumn) and c.destructive)]
    skipped += [c for c in keep if isinstance(c, AlterColumn) and c.destructive]
    return safe, skipped


_ZERO = (
    (("char", "varchar", "character", "text", "tinytext", "mediumtext", "longtext", "citext"), "''"),
    (("int", "integer", "bigint", "smallint", "tinyint", "mediumint", "decimal", "numeric",
      "float", "double", "real", "double precision"), "0"),
    (("boolean", "bool"), "false"),
)  # fmt: skip


def _zero(column: Column) -> str | None:
    """The value MySQL/MariaDB gives existing rows for a NOT NULL column added without a
    default (its implicit default), for the types that have an obvious one; else None."""
    base = column.type.split("(")[0].strip().removesuffix(" unsigned")
    return next((v for names, v in _ZERO if base in names), None)


def _temporary_defaults(
    changes: Sequence[Change], target: Schema
) -> tuple[list[Change], list[AlterColumn]]:
    """A NOT NULL column without a default added to an existing table: PostgreSQL and SQLite
    refuse it when the table has rows (MySQL fills the type's implicit default). Add it with that
    implicit default, and return the changes that drop the default again afterwards."""
    out: list[Change] = []
    drops: list[AlterColumn] = []
    for c in changes:
        col = c.column if isinstance(c, AddColumn) else None
        zero = _zero(col) if col is not None else None
        if (
            isinstance(c, AddColumn)
            and col is not None
            and zero is not None
            and c.table in target.tables
            and not col.nullable
            and col.default is None
            and not col.auto_increment
            and col.generated is None
        ):
            with_default = replace(col, default=zero)
            out.append(AddColumn(c.table, with_default))
            drops.append(AlterColumn(c.table, with_default, col))
        else:
            out.append(c)
    return out, drops


def plan_sync(
    target: Schema,
    reference: Schema,
    *,
    framework: str | None = None,
    migrations: Sequence[str] | None = None,
    allow_drop: bool = False,
    exact_ddl: Mapping[str, str] | None = None,
    target_name: str | None = None,
    reference_name: str | None = None,
    app: str | None = None,
    critical: Sequence[str] = (),
    hooks: Sequence[Sequence[str]] | None = None,
    hooks_source: str | None = None,
    environment: str | None = None,
) -> Plan:
    """The steps that make ``target`` have everything ``reference`` has; pure.

    ``migrations``: ids to record as applied after the schema matches (None or empty without an
    application). ``exact_ddl``: {table: CREATE TABLE text} read from a live reference of the
    same family, used instead of rendering for tables created whole. ``hooks`` run after the
    verification as in reset and resume: None means the framework's defaults with the
    application (``framework``), none without it; ``hooks_source`` says where configured ones
    come from. Raises ConfigError for a
    reference of another family or one with fewer tables than the target.
    """
    from dbmedic.dialects import get_dialect
    from dbmedic.diff import diff_schemas

    check_reference(target, reference, reference_name or "the reference")
    dialect = get_dialect(target.dialect)
    diff = diff_schemas(reference, target)
    keep, skipped = _split(diff.changes, allow_drop)
    keep, undefault = _temporary_defaults(keep, target)
    exact = dict(exact_ddl or {})
    steps: list[Step] = [
        Step(0, StepKind.LOCK, f"Lock {target_name or target.database} against a second repair"),
        Step(
            0,
            StepKind.BACKUP,
            f"Back up {target_name or target.database} ({len(target.tables)} tables) and verify the backup",
            estimate_seconds=0.3 + 0.005 * len(target.tables),
        ),
    ]
    ordered = order_changes(keep, dialect.inline_foreign_keys)
    phases: dict[int, list[Change]] = {}
    for change in ordered:
        phases.setdefault(phase_of(change), []).append(change)
    current = target
    for index in sorted(phases):
        group = phases[index]
        statements: list[str] = []
        if PHASE_NAMES[index] == "create tables":
            for change in group:
                assert isinstance(change, AddTable)
                text = exact.get(change.table.name)
                same = change.table == reference.tables.get(change.table.name)
                statements += [text] if text and same else dialect.render([change], current)
        else:
            statements = dialect.render(group, current)
        current = _advance(current, group)
        title = _TITLES.get(PHASE_NAMES[index], PHASE_NAMES[index].capitalize() + ": {n} changes")
        destructive = any(c.destructive for c in group)
        steps.append(
            Step(
                0,
                StepKind.SQL,
                title.format(n=len(group)),
                statements=tuple(statements),
                reverse_statements=tuple(
                    dialect.render([c.reverse() for c in reversed(group)], target)
                )
                if not destructive and PHASE_NAMES[index] != "create tables"
                else (),
                changes=tuple(group),
                destructive=destructive,
                transactional=dialect.transactional_ddl,
                estimate_seconds=SECONDS_PER_STATEMENT * len(statements),
                reason="in the reference, missing in the target",
            )
        )
    notes: list[str] = []
    if undefault:
        steps.append(
            Step(
                0,
                StepKind.SQL,
                f"Drop the temporary default of {len(undefault)} NOT NULL columns added to "
                "tables with rows",
                statements=tuple(dialect.render(undefault, current)),
                changes=tuple(undefault),
                transactional=dialect.transactional_ddl,
                estimate_seconds=SECONDS_PER_STATEMENT * len(undefault),
                reason="the reference has no default for them",
            )
        )
        notes.append(
            "existing rows get the type's implicit value in NOT NULL columns that the reference "
            "has without a default (what MySQL/MariaDB does): "
            + ", ".join(f"{c.subject} = {c.before.default}" for c in undefault)
            + "; set the real values afterwards if those are not right"
        )
    todo = tuple(migrations or ())
    if framework and todo:
        steps.append(
            Step(
                0,
                StepKind.MARK_APPLIED,
                f"Record {len(todo)} migrations as applied in the {framework} tracking table",
                migrations=todo,
                estimate_seconds=0.05,
                reason="their effects are in the reference schema, now copied",
            )
        )
    elif framework:
        notes.append(f"the {framework} tracking table already agrees with the reference")
    else:
        notes.append("the tracking table was left as it was (no --app given)")
    if skipped:
        notes.append(
            f"{len(skipped)} differences left in place (nothing is dropped or narrowed without --allow-drop): "
            + ", ".join(f"{c.kind} {c.subject}" for c in skipped[:8])
            + (" ..." if len(skipped) > 8 else "")
        )
    if len(steps) == 2 and not todo:
        notes.append("the target already has everything the reference has")
    steps.append(
        Step(
            0,
            StepKind.VERIFY,
            f"Verify: re-inspect and compare with the reference ({len(reference.tables)} tables)"
            + (", critical tables" if critical else "")
            + (", nothing pending" if framework else ""),
            estimate_seconds=0.3,
        )
    )
    hooks_run, no_hooks = hook_steps(
        framework, hooks, environment, hooks_source, defaults=framework is not None
    )
    steps.extend(hooks_run)
    notes += [no_hooks] if no_hooks else []
    return Plan(
        strategy="sync",
        target=target_name or str(target.database or ""),
        dialect=target.dialect,
        steps=numbered(steps),
        framework=framework,
        app=app,
        reference=reference_name,
        drops=tuple(f"{c.kind} {c.subject}" for c in keep if c.destructive),
        rehearsal="not rehearsed: sync runs DDL rendered from the reference; a failure rolls back to the backup",
        predicted_ok=None,
        notes=tuple(notes),
        expected_tables=len(reference.tables),
        critical=tuple(critical),
        accepted_differences=tuple(f"{c.kind} {c.subject}" for c in skipped),
    )
