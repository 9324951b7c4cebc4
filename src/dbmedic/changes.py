"""Typed schema changes. A diff returns these, never SQL; each knows its inverse.

Dialects render them to DDL (``Dialect.render``); plans order them (tables, then columns, then
indexes and keys, foreign keys last). ``destructive`` marks changes that can lose data.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

from dbmedic.model import (
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    PrimaryKey,
    Table,
    Trigger,
    UniqueConstraint,
    View,
)


class Change:
    """Base of all changes. ``table`` is the table it touches (None for views/triggers alone)."""

    destructive: bool = False
    kind: str = "change"

    def reverse(self) -> Change:
        raise NotImplementedError

    @property
    def subject(self) -> str:
        """Short human name of what changes: ``users.email``."""
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class AddTable(Change):
    table: Table
    kind = "add_table"

    def reverse(self) -> DropTable:
        return DropTable(self.table)

    @property
    def subject(self) -> str:
        return self.table.name


@dataclass(frozen=True, slots=True)
class DropTable(Change):
    table: Table
    kind = "drop_table"
    destructive = True

    def reverse(self) -> AddTable:
        return AddTable(self.table)

    @property
    def subject(self) -> str:
        return self.table.name


@dataclass(frozen=True, slots=True)
class AlterTableOptions(Change):
    """Engine, charset, collation or comment of a table differ."""

    before: Table
    after: Table
    kind = "alter_table"

    def reverse(self) -> AlterTableOptions:
        return AlterTableOptions(self.after, self.before)

    @property
    def subject(self) -> str:
        return self.after.name


@dataclass(frozen=True, slots=True)
class AddColumn(Change):
    table: str
    column: Column
    kind = "add_column"

    def reverse(self) -> DropColumn:
        return DropColumn(self.table, self.column)

    @property
    def subject(self) -> str:
        return f"{self.table}.{self.column.name}"


@dataclass(frozen=True, slots=True)
class DropColumn(Change):
    table: str
    column: Column
    kind = "drop_column"
    destructive = True

    def reverse(self) -> AddColumn:
        return AddColumn(self.table, self.column)

    @property
    def subject(self) -> str:
        return f"{self.table}.{self.column.name}"


@dataclass(frozen=True, slots=True)
class AlterColumn(Change):
    table: str
    before: Column
    after: Column
    kind = "alter_column"

    def reverse(self) -> AlterColumn:
        return AlterColumn(self.table, self.after, self.before)

    @property
    def subject(self) -> str:
        return f"{self.table}.{self.after.name}"

    @property
    def destructive(self) -> bool:  # type: ignore[override]
        """A type change or NOT NULL can fail or truncate data."""
        return self.before.type != self.after.type or (
            self.before.nullable and not self.after.nullable
        )


@dataclass(frozen=True, slots=True)
class AddIndex(Change):
    table: str
    index: Index
    kind = "add_index"

    def reverse(self) -> DropIndex:
        return DropIndex(self.table, self.index)

    @property
    def subject(self) -> str:
        return f"{self.table}.{self.index.name}"


@dataclass(frozen=True, slots=True)
class DropIndex(Change):
    table: str
    index: Index
    kind = "drop_index"

    def reverse(self) -> AddIndex:
        return AddIndex(self.table, self.index)

    @property
    def subject(self) -> str:
        return f"{self.table}.{self.index.name}"


@dataclass(frozen=True, slots=True)
class AddUnique(Change):
    table: str
    unique: UniqueConstraint
    kind = "add_unique"

    def reverse(self) -> DropUnique:
        return DropUnique(self.table, self.unique)

    @property
    def subject(self) -> str:
        return f"{self.table}.{self.unique.name}"


@dataclass(frozen=True, slots=True)
class DropUnique(Change):
    table: str
    unique: UniqueConstraint
    kind = "drop_unique"

    def reverse(self) -> AddUnique:
        return AddUnique(self.table, self.unique)

    @property
    def subject(self) -> str:
        return f"{self.table}.{self.unique.name}"


@dataclass(frozen=True, slots=True)
class AddPrimaryKey(Change):
    table: str
    primary_key: PrimaryKey
    kind = "add_primary_key"

    def reverse(self) -> DropPrimaryKey:
        return DropPrimaryKey(self.table, self.primary_key)

    @property
    def subject(self) -> str:
        return f"{self.table}.PRIMARY"


@dataclass(frozen=True, slots=True)
class DropPrimaryKey(Change):
    table: str
    primary_key: PrimaryKey
    kind = "drop_primary_key"

    def reverse(self) -> AddPrimaryKey:
        return AddPrimaryKey(self.table, self.primary_key)

    @property
    def subject(self) -> str:
        return f"{self.table}.PRIMARY"


@dataclass(frozen=True, slots=True)
class AddForeignKey(Change):
    table: str
    foreign_key: ForeignKey
    kind = "add_foreign_key"

    def reverse(self) -> DropForeignKey:
        return DropForeignKey(self.table, self.foreign_key)

    @property
    def subject(self) -> str:
        return f"{self.table}.{self.foreign_key.name}"


@dataclass(frozen=True, slots=True)
class DropForeignKey(Change):
    table: str
    foreign_key: ForeignKey
    kind = "drop_foreign_key"

    def reverse(self) -> AddForeignKey:
        return AddForeignKey(self.table, self.foreign_key)

    @property
    def subject(self) -> str:
        return f"{self.table}.{self.foreign_key.name}"


@dataclass(frozen=True, slots=True)
class AddCheck(Change):
    table: str
    check: CheckConstraint
    kind = "add_check"

    def reverse(self) -> DropCheck:
        return DropCheck(self.table, self.check)

    @property
    def subject(self) -> str:
        return f"{self.table}.{self.check.name}"


@dataclass(frozen=True, slots=True)
class DropCheck(Change):
    table: str
    check: CheckConstraint
    kind = "drop_check"

    def reverse(self) -> AddCheck:
        return AddCheck(self.table, self.check)

    @property
    def subject(self) -> str:
        return f"{self.table}.{self.check.name}"


@dataclass(frozen=True, slots=True)
class AddView(Change):
    view: View
    kind = "add_view"

    def reverse(self) -> DropView:
        return DropView(self.view)

    @property
    def subject(self) -> str:
        return self.view.name


@dataclass(frozen=True, slots=True)
class DropView(Change):
    view: View
    kind = "drop_view"

    def reverse(self) -> AddView:
        return AddView(self.view)

    @property
    def subject(self) -> str:
        return self.view.name


@dataclass(frozen=True, slots=True)
class AddTrigger(Change):
    trigger: Trigger
    kind = "add_trigger"

    def reverse(self) -> DropTrigger:
        return DropTrigger(self.trigger)

    @property
    def subject(self) -> str:
        return self.trigger.name


@dataclass(frozen=True, slots=True)
class DropTrigger(Change):
    trigger: Trigger
    kind = "drop_trigger"

    def reverse(self) -> AddTrigger:
        return AddTrigger(self.trigger)

    @property
    def subject(self) -> str:
        return self.trigger.name


@dataclass(frozen=True, slots=True)
class RenameTable(Change):
    """``RENAME TABLE a TO b`` / ``ALTER TABLE a RENAME TO b``; produced by statement effects,
    never by a diff (a diff cannot tell a rename from a drop and an add).

    Render notes for dialects: MySQL/MariaDB ``RENAME TABLE `old` TO `new```; PostgreSQL and
    SQLite ``ALTER TABLE "old" RENAME TO "new"``.
    """

    old: str
    new: str
    kind = "rename_table"

    def reverse(self) -> RenameTable:
        return RenameTable(self.new, self.old)

    @property
    def subject(self) -> str:
        return f"{self.old} -> {self.new}"


@dataclass(frozen=True, slots=True)
class RenameColumn(Change):
    """``ALTER TABLE t RENAME COLUMN a TO b`` (the name only; a type change is an AlterColumn).

    Render notes for dialects: ``ALTER TABLE t RENAME COLUMN a TO b`` on MySQL 8, MariaDB 10.5+,
    PostgreSQL and SQLite 3.25+; older MySQL/MariaDB need ``CHANGE old new <full definition>``,
    which needs the column definition from the current schema.
    """

    table: str
    old: str
    new: str
    kind = "rename_column"

    def reverse(self) -> RenameColumn:
        return RenameColumn(self.table, self.new, self.old)

    @property
    def subject(self) -> str:
        return f"{self.table}.{self.old} -> {self.new}"


# --- ordering -------------------------------------------------------------------------------

_PHASES: tuple[tuple[type[Change], ...], ...] = (
    (DropTrigger, DropView),
    (DropForeignKey,),
    (DropIndex, DropUnique, DropCheck, DropPrimaryKey),
    (DropColumn,),
    (DropTable,),
    (RenameTable,),
    (AlterTableOptions,),
    (AddTable,),
    (RenameColumn,),
    (AddColumn, AlterColumn),
    (AddPrimaryKey, AddUnique, AddIndex, AddCheck),
    (AddForeignKey,),
    (AddView,),
    (AddTrigger,),
)
PHASE_NAMES = (
    "drop triggers and views",
    "drop foreign keys",
    "drop indexes and keys",
    "drop columns",
    "drop tables",
    "rename tables",
    "table options",
    "create tables",
    "rename columns",
    "add and alter columns",
    "add keys and indexes",
    "add foreign keys",
    "create views",
    "create triggers",
)


def phase_of(change: Change) -> int:
    """Index into :data:`PHASE_NAMES` of the phase a change belongs to."""
    for i, kinds in enumerate(_PHASES):
        if isinstance(change, kinds):
            return i
    raise TypeError(f"unknown change {change!r}")


def _table_order(tables: dict[str, Table]) -> tuple[list[str], set[tuple[str, str]]]:
    """Tables sorted so each comes after the tables its foreign keys reference.

    Returns the order and the (table, fk name) pairs that close a cycle and so must be added
    after all tables exist. Deterministic: ties and cycles are broken by name.
    """
    deps = {
        name: sorted(
            {
                fk.ref_table
                for fk in t.foreign_keys.values()
                if fk.ref_table in tables and fk.ref_table != name
            }
        )
        for name, t in tables.items()
    }
    order: list[str] = []
    state: dict[str, int] = {}  # 1 = visiting, 2 = done
    deferred: set[tuple[str, str]] = set()

    def visit(name: str) -> None:
        state[name] = 1
        for dep in deps[name]:
            if state.get(dep) == 1:  # cycle: the key from `name` to `dep` waits
                for fk in tables[name].foreign_keys.values():
                    if fk.ref_table == dep:
                        deferred.add((name, fk.name))
            elif dep not in state:
                visit(dep)
        state[name] = 2
        order.append(name)

    for name in sorted(tables):
        if name not in state:
            visit(name)
    return order, deferred


_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")


def _views_in_dependency_order(bucket: list[Change], dependents_first: bool) -> list[Change]:
    """AddView/DropView changes so that a view comes after (or, to drop, before) the views it
    selects from. A reference is any identifier of the definition naming another view of the
    bucket; a cycle (impossible in a valid schema) falls back to name order."""
    views: dict[str, Change] = {}
    for change in bucket:
        assert isinstance(change, AddView | DropView)
        views[change.view.name] = change
    lowered = {name.lower(): name for name in views}
    deps: dict[str, list[str]] = {}
    for name, change in views.items():
        assert isinstance(change, AddView | DropView)
        words = {w.lower() for w in _WORD.findall(change.view.definition)}
        deps[name] = sorted(lowered[w] for w in words & lowered.keys() if lowered[w] != name)
    order: list[str] = []
    seen: set[str] = set()

    def visit(name: str) -> None:
        seen.add(name)
        for dep in deps[name]:
            if dep not in seen:
                visit(dep)
        order.append(name)

    for name in sorted(views):
        if name not in seen:
            visit(name)
    if dependents_first:
        order.reverse()
    return [views[n] for n in order]


def order_changes(changes: Iterable[Change], inline_foreign_keys: bool = False) -> list[Change]:
    """Changes in the order that is safe to apply: named phases, tables in foreign-key order.

    New tables come after the tables they reference. A foreign key that references a table not
    created yet (a cycle, or an existing table's key to a new one) becomes a separate
    :class:`AddForeignKey` in the foreign-key phase, unless ``inline_foreign_keys`` (SQLite,
    which cannot add a key later and does not check references at CREATE time).
    """
    changes = list(changes)
    buckets: list[list[Change]] = [[] for _ in _PHASES]
    for change in changes:
        buckets[phase_of(change)].append(change)
    for i, bucket in enumerate(buckets):
        bucket.sort(key=lambda c: (c.kind, c.subject))
        if _PHASES[i] == (AddTable,):
            buckets[i], deferred_fks = _order_new_tables(bucket, inline_foreign_keys)
            for fk_change in deferred_fks:
                buckets[phase_of(fk_change)].append(fk_change)
        if _PHASES[i] == (DropTable,):
            tables = {c.table.name: c.table for c in bucket if isinstance(c, DropTable)}
            order, _ = _table_order(tables)
            buckets[i] = [DropTable(tables[n]) for n in reversed(order)]
        if _PHASES[i] == (AddView,):
            buckets[i] = _views_in_dependency_order(bucket, dependents_first=False)
        if _PHASES[i] == (DropTrigger, DropView):
            triggers = [c for c in bucket if not isinstance(c, DropView)]
            buckets[i] = triggers + _views_in_dependency_order(
                [c for c in bucket if isinstance(c, DropView)], dependents_first=True
            )
    for i, kinds in enumerate(_PHASES):
        if kinds == (AddForeignKey,):
            buckets[i].sort(key=lambda c: (c.kind, c.subject))
    return [c for bucket in buckets for c in bucket]


def _order_new_tables(
    bucket: list[Change], inline_foreign_keys: bool
) -> tuple[list[Change], list[Change]]:
    tables = {c.table.name: c.table for c in bucket if isinstance(c, AddTable)}
    if inline_foreign_keys:
        return [AddTable(tables[n]) for n in sorted(tables)], []
    order, deferred = _table_order(tables)
    ordered: list[Change] = []
    later: list[Change] = []
    for name in order:
        table = tables[name]
        keep = {}
        for fk_name, fk in table.foreign_keys.items():
            if (name, fk_name) in deferred:
                later.append(AddForeignKey(name, fk))
            else:
                keep[fk_name] = fk
        if len(keep) != len(table.foreign_keys):
            table = replace(table, foreign_keys=keep)
        ordered.append(AddTable(table))
    return ordered, later
