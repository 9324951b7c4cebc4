"""Words and JSON for diffs: one line per change for people, plain data for ``--json``. Pure."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from dbmedic.changes import (
    AddCheck,
    AddColumn,
    AddForeignKey,
    AddIndex,
    AddPrimaryKey,
    AddTable,
    AddTrigger,
    AddUnique,
    AddView,
    AlterColumn,
    AlterTableOptions,
    Change,
    DropCheck,
    DropColumn,
    DropForeignKey,
    DropIndex,
    DropPrimaryKey,
    DropTable,
    DropTrigger,
    DropUnique,
    DropView,
)
from dbmedic.diff import Diff, table_of
from dbmedic.model import Column


def describe_column(c: Column) -> str:
    """``varchar(255) NOT NULL DEFAULT 'x'``."""
    parts = [c.type, "NULL" if c.nullable else "NOT NULL"]
    if c.default is not None:
        parts.append(f"DEFAULT {c.default}")
    if c.auto_increment:
        parts.append("AUTO_INCREMENT")
    if c.generated:
        parts.append(f"GENERATED AS ({c.generated})")
    if c.collation:
        parts.append(f"COLLATE {c.collation}")
    return " ".join(parts)


def column_differences(before: Column, after: Column) -> list[str]:
    """The attributes that differ: ``type varchar(100) -> varchar(255)``."""
    out = []
    for attr in (
        "type",
        "nullable",
        "default",
        "auto_increment",
        "generated",
        "charset",
        "collation",
        "comment",
        "extra",
    ):
        a, b = getattr(before, attr), getattr(after, attr)
        if a != b:
            out.append(f"{attr} {_show(a)} -> {_show(b)}")
    return out


def _show(value: object) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, tuple):
        return ", ".join(f"{k}={v}" for k, v in value) or "none"
    return str(value)


def _cols(columns: Iterable[object]) -> str:
    return ", ".join(str(getattr(c, "name", c)) for c in columns)


def describe(change: Change) -> str:
    """One line for a person: ``add column users.priority int NOT NULL DEFAULT 999``."""
    if isinstance(change, AddTable | DropTable):
        t = change.table
        verb = "add" if isinstance(change, AddTable) else "drop"
        n = len(t.columns)
        return f"{verb} table {t.name} ({n} column{'s' if n != 1 else ''})"
    if isinstance(change, AlterTableOptions):
        diffs = [
            f"{attr} {_show(getattr(change.before, attr))} -> {_show(getattr(change.after, attr))}"
            for attr in ("engine", "charset", "collation", "comment", "extra")
            if getattr(change.before, attr) != getattr(change.after, attr)
        ]
        return f"alter table {change.subject}: " + "; ".join(diffs)
    if isinstance(change, AddColumn | DropColumn):
        verb = "add" if isinstance(change, AddColumn) else "drop"
        return f"{verb} column {change.subject} {describe_column(change.column)}"
    if isinstance(change, AlterColumn):
        return f"alter column {change.subject}: " + "; ".join(
            column_differences(change.before, change.after)
        )
    if isinstance(change, AddIndex | DropIndex):
        verb = "add" if isinstance(change, AddIndex) else "drop"
        i = change.index
        kind = ("unique " if i.unique else "") + (
            "index" if i.kind == "btree" else f"{i.kind} index"
        )
        return f"{verb} {kind} {change.subject} ({_cols(i.columns)})"
    if isinstance(change, AddUnique | DropUnique):
        verb = "add" if isinstance(change, AddUnique) else "drop"
        return f"{verb} unique key {change.subject} ({_cols(change.unique.columns)})"
    if isinstance(change, AddPrimaryKey | DropPrimaryKey):
        verb = "add" if isinstance(change, AddPrimaryKey) else "drop"
        return f"{verb} primary key {change.table} ({_cols(change.primary_key.columns)})"
    if isinstance(change, AddForeignKey | DropForeignKey):
        verb = "add" if isinstance(change, AddForeignKey) else "drop"
        f = change.foreign_key
        return (
            f"{verb} foreign key {change.subject} ({_cols(f.columns)}) -> "
            f"{f.ref_table} ({_cols(f.ref_columns)})"
        )
    if isinstance(change, AddCheck | DropCheck):
        verb = "add" if isinstance(change, AddCheck) else "drop"
        return f"{verb} check {change.subject} ({change.check.expression})"
    if isinstance(change, AddView | DropView):
        verb = "add" if isinstance(change, AddView) else "drop"
        return f"{verb} view {change.subject}"
    if isinstance(change, AddTrigger | DropTrigger):
        verb = "add" if isinstance(change, AddTrigger) else "drop"
        tr = change.trigger
        return f"{verb} trigger {tr.name} ({tr.timing} {tr.event} on {tr.table})"
    return f"{change.kind} {change.subject}"


def change_dict(change: Change) -> dict[str, Any]:
    """A change as JSON data: kind, subject, table, destructive, description, before/after."""
    data: dict[str, Any] = {
        "kind": change.kind,
        "subject": change.subject,
        "table": table_of(change)
        if not isinstance(change, AddView | DropView | AddTrigger | DropTrigger)
        else None,
        "destructive": bool(change.destructive),
        "description": describe(change),
    }
    if isinstance(change, AlterColumn):
        data["before"] = describe_column(change.before)
        data["after"] = describe_column(change.after)
        data["differences"] = column_differences(change.before, change.after)
    return data


def diff_dict(diff: Diff) -> dict[str, Any]:
    """The whole diff as JSON data (the ``--json`` output of ``dbmedic diff``)."""
    return {
        "identical": diff.is_empty,
        "source_dialect": diff.source_dialect,
        "target_dialect": diff.target_dialect,
        "parity": diff.parity.as_dict(),
        "missing_tables": list(diff.missing_tables),
        "extra_tables": list(diff.extra_tables),
        "missing_table_groups": {g.label: len(g.tables) for g in diff.missing_table_groups()},
        "changes": [change_dict(c) for c in diff.changes],
        "column_order": [
            {"table": o.table, "source": list(o.source), "target": list(o.target)}
            for o in diff.column_order
        ],
        "strict_order": diff.strict_order,
    }
