"""Schema x Schema -> Diff: the typed changes that make TARGET match SOURCE, and parity. Pure.

``diff_schemas(source, target)`` compares by name (collections are keyed by name) and never
re-normalises: inspection did that. The :class:`Parity` object is the one place every count comes
from ("tables 48/244 (19.7%)"); renderers format it, never count.

Schemas of different families (MySQL vs PostgreSQL) may be compared, for parity: then the facts
only one family has (engine, charset, collation, the ``extra`` bags) are left out of the
comparison, and SQL is rendered in TARGET's dialect. Column order is reported separately and is a
difference only with ``strict_order`` (PostgreSQL cannot place an added column).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

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
from dbmedic.model import Column, ForeignKey, Index, Schema, Table, UniqueConstraint

# --- parity -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ParityLine:
    """How many objects of one kind TARGET has of those SOURCE expects."""

    kind: str
    """``tables``, ``columns``, ``indexes`` (with unique and primary keys), ``foreign keys``, ..."""
    present: int
    """Expected objects that exist in TARGET (by name), whatever their definition."""
    expected: int
    """Objects of this kind in SOURCE."""
    changed: int = 0
    """Present, but defined differently."""
    extra: int = 0
    """In TARGET only."""

    @property
    def missing(self) -> int:
        return self.expected - self.present

    @property
    def matching(self) -> int:
        return self.present - self.changed

    @property
    def complete(self) -> bool:
        """Everything expected is there, identical, and nothing more."""
        return self.present == self.expected and not self.changed and not self.extra

    @property
    def percent(self) -> float:
        """Share present, one decimal; 100.0 only when complete, 0.0 only when none is present."""
        if self.expected == 0:
            return 100.0
        value = round(100.0 * self.present / self.expected, 1)
        if self.present < self.expected:
            value = min(value, 99.9)
        if self.present > 0:
            value = max(value, 0.1)
        return value

    def text(self) -> str:
        """``tables 48/244 (19.7%)``."""
        return f"{self.kind} {self.present}/{self.expected} ({self.percent:.1f}%)"

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "present": self.present,
            "expected": self.expected,
            "missing": self.missing,
            "changed": self.changed,
            "extra": self.extra,
            "percent": self.percent,
        }


@dataclass(frozen=True, slots=True)
class Parity:
    """Per object kind: present in TARGET / expected from SOURCE."""

    tables: ParityLine
    columns: ParityLine
    indexes: ParityLine
    foreign_keys: ParityLine
    checks: ParityLine
    views: ParityLine
    triggers: ParityLine

    def lines(self) -> tuple[ParityLine, ...]:
        return (
            self.tables,
            self.columns,
            self.indexes,
            self.foreign_keys,
            self.checks,
            self.views,
            self.triggers,
        )

    @property
    def complete(self) -> bool:
        return all(line.complete for line in self.lines())

    def summary(self) -> str:
        """One line: ``tables 48/244 (19.7%), columns 400/2100 (19.0%), ...`` (empty kinds left out)."""
        return ", ".join(
            line.text()
            for line in self.lines()
            if line.expected or line.extra or line is self.tables
        )

    def as_dict(self) -> dict[str, Any]:
        return {line.kind.replace(" ", "_"): line.as_dict() for line in self.lines()}


K = TypeVar("K")
V = TypeVar("V")


def _count(
    kind: str,
    source: Mapping[K, V],
    target: Mapping[K, V],
    same: Callable[[V, V], bool],
) -> ParityLine:
    present = [k for k in source if k in target]
    changed = sum(1 for k in present if not same(source[k], target[k]))
    extra = sum(1 for k in target if k not in source)
    return ParityLine(kind, len(present), len(source), changed, extra)


# --- differences ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ColumnOrder:
    """The shared columns of a table stand in another order in TARGET than in SOURCE."""

    table: str
    source: tuple[str, ...]
    target: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TableGroup:
    """Tables grouped for display: ``retell_*`` with its members, or a single table."""

    label: str
    tables: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Diff:
    """What separates TARGET from SOURCE: ``changes`` turn TARGET into SOURCE."""

    source_dialect: str
    target_dialect: str
    changes: tuple[Change, ...]
    parity: Parity
    column_order: tuple[ColumnOrder, ...] = ()
    strict_order: bool = False
    missing_tables: tuple[str, ...] = ()
    """In SOURCE, not in TARGET (sorted)."""
    extra_tables: tuple[str, ...] = ()
    """In TARGET, not in SOURCE (sorted)."""
    source_name: str | None = field(default=None, compare=False)
    target_name: str | None = field(default=None, compare=False)

    @property
    def is_empty(self) -> bool:
        """No change needed (column order counts only with ``strict_order``)."""
        return not self.changes and not (self.strict_order and self.column_order)

    @property
    def cross_family(self) -> bool:
        return _family(self.source_dialect) != _family(self.target_dialect)

    def missing_table_groups(self) -> list[TableGroup]:
        return group_tables(self.missing_tables)

    def extra_table_groups(self) -> list[TableGroup]:
        return group_tables(self.extra_tables)

    def table_changes(self) -> dict[str, list[Change]]:
        """Changes to tables present on both sides, by table name (sorted), then views/triggers
        under the keys ``"(views)"`` and ``"(triggers)"``."""
        out: dict[str, list[Change]] = {}
        for change in self.changes:
            if isinstance(change, AddTable | DropTable):
                continue
            if isinstance(change, AddView | DropView):
                key = "(views)"
            elif isinstance(change, AddTrigger | DropTrigger):
                key = "(triggers)"
            else:
                key = table_of(change)
            out.setdefault(key, []).append(change)
        return dict(sorted(out.items()))

    def counts(self) -> dict[str, int]:
        """Number of changes of each kind (``add_table``: 196, ...), sorted by kind."""
        return dict(sorted(Counter(c.kind for c in self.changes).items()))


def _family(dialect: str) -> str:
    return "mysql" if dialect in ("mysql", "mariadb") else dialect


def table_of(change: Change) -> str:
    """The name of the table a change touches."""
    if isinstance(change, AlterTableOptions):
        return change.after.name
    table = getattr(change, "table", None)
    if isinstance(table, Table):
        return table.name
    return str(table)


def group_tables(names: Iterable[str]) -> list[TableGroup]:
    """Group table names by the part before the first ``_`` when at least two share it.

    ``retell_agents, retell_calls, users`` -> ``retell_*`` (2), ``users`` (1). Groups are
    sorted by size (largest first), then label.
    """
    names = sorted(set(names))
    prefixes = Counter(n.split("_", 1)[0] for n in names if "_" in n)
    groups: dict[str, list[str]] = {}
    for name in names:
        prefix = name.split("_", 1)[0] if "_" in name else None
        label = f"{prefix}_*" if prefix is not None and prefixes[prefix] >= 2 else name
        groups.setdefault(label, []).append(name)
    return [
        TableGroup(label, tuple(members))
        for label, members in sorted(groups.items(), key=lambda g: (-len(g[1]), g[0]))
    ]


class _Compare:
    """Equality rules for one pair of schemas (family-neutral when the families differ)."""

    def __init__(self, cross_family: bool, mysql_family: bool = False) -> None:
        self.cross = cross_family
        self.mysql = mysql_family

    def column(self, c: Column) -> Column:
        return replace(c, charset=None, collation=None, extra=()) if self.cross else c

    def columns_equal(self, a: Column, b: Column) -> bool:
        return self.column(a) == self.column(b)

    def index(self, i: Index) -> Index:
        return replace(i, extra=()) if self.cross else i

    def unique(self, u: UniqueConstraint) -> UniqueConstraint:
        return replace(u, extra=()) if self.cross else u

    def fk(self, f: ForeignKey) -> ForeignKey:
        if self.mysql:
            # InnoDB treats RESTRICT and NO ACTION alike; MySQL reports an unnamed action as
            # NO ACTION and MariaDB as RESTRICT, so a MySQL production and a MariaDB staging
            # built by the same migrations must not differ on every key.
            f = replace(f, on_update=_no_action(f.on_update), on_delete=_no_action(f.on_delete))
        return replace(f, extra=()) if self.cross else f

    def options(self, t: Table) -> tuple[object, ...]:
        if self.cross:
            return (t.comment,)
        return (t.engine, t.charset, t.collation, t.comment, t.extra)


def _no_action(action: str) -> str:
    return "NO ACTION" if action == "RESTRICT" else action


def diff_schemas(source: Schema, target: Schema, *, strict_order: bool = False) -> Diff:
    """The changes that make ``target`` match ``source``, with parity and column-order notes.

    Pure: reads two Schemas, returns a :class:`Diff`. Tables only in SOURCE become AddTable,
    tables only in TARGET DropTable; shared tables yield column, key, index, check and option
    changes; a changed index, key, view or trigger is a drop and an add of the same name.
    """
    families = {_family(source.dialect), _family(target.dialect)}
    cmp = _Compare(len(families) > 1, mysql_family=families == {"mysql"})
    changes: list[Change] = []
    order: list[ColumnOrder] = []
    for name in sorted(source.tables.keys() - target.tables.keys()):
        changes.append(AddTable(source.tables[name]))
    for name in sorted(target.tables.keys() - source.tables.keys()):
        changes.append(DropTable(target.tables[name]))
    for name in sorted(source.tables.keys() & target.tables.keys()):
        s, t = source.tables[name], target.tables[name]
        changes.extend(_table_changes(s, t, cmp))
        s_order = [c for c in s.column_order() if c in t.columns]
        t_order = [c for c in t.column_order() if c in s.columns]
        if s_order != t_order:
            order.append(ColumnOrder(name, tuple(s_order), tuple(t_order)))
    view_changes = _keyed(
        source.views,
        target.views,
        lambda a, b: a == b if not cmp.cross else a.definition == b.definition,
        AddView,
        DropView,
    )
    changes.extend(view_changes)
    changes.extend(_dependent_views(source, target, changes, view_changes))
    changes.extend(
        _keyed(
            source.triggers,
            target.triggers,
            lambda a, b: a == b if not cmp.cross else replace(a, extra=()) == replace(b, extra=()),
            AddTrigger,
            DropTrigger,
        )
    )
    return Diff(
        source_dialect=source.dialect,
        target_dialect=target.dialect,
        changes=tuple(changes),
        parity=_parity(source, target, cmp),
        column_order=tuple(order),
        strict_order=strict_order,
        missing_tables=tuple(sorted(source.tables.keys() - target.tables.keys())),
        extra_tables=tuple(sorted(target.tables.keys() - source.tables.keys())),
        source_name=source.database,
        target_name=target.database,
    )


def _dependent_views(
    source: Schema, target: Schema, changes: list[Change], view_changes: list[Change]
) -> list[Change]:
    """Drop and re-create the unchanged views over a table whose columns change or go.

    PostgreSQL refuses to alter the type of, or drop, a column a view uses ("cannot alter type of
    a column used by a view or rule": https://www.postgresql.org/docs/current/sql-altertable.html);
    MySQL and SQLite do not mind the round trip. A view depends on a table when its definition
    names it (the model keeps no dependency list).
    """
    import re

    touched = {c.table for c in changes if isinstance(c, AlterColumn | DropColumn)}
    if not touched:
        return []
    already = {c.subject for c in view_changes}
    out: list[Change] = []
    for name in sorted(source.views.keys() & target.views.keys()):
        if name in already:
            continue
        definition = target.views[name].definition
        if any(
            re.search(rf"(?<![\w$]){re.escape(table)}(?![\w$])", definition, re.I)
            for table in touched
        ):
            out.extend((DropView(target.views[name]), AddView(source.views[name])))
    return out


def _keyed(
    source: Mapping[str, V],
    target: Mapping[str, V],
    same: Callable[[V, V], bool],
    add: Callable[[V], Change],
    drop: Callable[[V], Change],
) -> list[Change]:
    """Add what only SOURCE has, drop what only TARGET has, drop+add what differs."""
    out: list[Change] = []
    for name in sorted(source.keys() | target.keys()):
        if name not in target:
            out.append(add(source[name]))
        elif name not in source:
            out.append(drop(target[name]))
        elif not same(source[name], target[name]):
            out.append(drop(target[name]))
            out.append(add(source[name]))
    return out


def _table_changes(s: Table, t: Table, cmp: _Compare) -> list[Change]:
    name = s.name
    out: list[Change] = []
    if cmp.options(s) != cmp.options(t):
        out.append(AlterTableOptions(before=t, after=s))
    for col in s.columns:
        if col not in t.columns:
            out.append(AddColumn(name, s.columns[col]))
        elif not cmp.columns_equal(s.columns[col], t.columns[col]):
            out.append(AlterColumn(name, before=t.columns[col], after=s.columns[col]))
    for col in t.columns:
        if col not in s.columns:
            out.append(DropColumn(name, t.columns[col]))
    if s.primary_key != t.primary_key:
        if t.primary_key is not None:
            out.append(DropPrimaryKey(name, t.primary_key))
        if s.primary_key is not None:
            out.append(AddPrimaryKey(name, s.primary_key))
    out.extend(
        _keyed(
            s.uniques,
            t.uniques,
            lambda a, b: cmp.unique(a) == cmp.unique(b),
            lambda u: AddUnique(name, u),
            lambda u: DropUnique(name, u),
        )
    )
    out.extend(
        _keyed(
            s.indexes,
            t.indexes,
            lambda a, b: cmp.index(a) == cmp.index(b),
            lambda i: AddIndex(name, i),
            lambda i: DropIndex(name, i),
        )
    )
    out.extend(
        _keyed(
            s.checks,
            t.checks,
            lambda a, b: a == b,
            lambda c: AddCheck(name, c),
            lambda c: DropCheck(name, c),
        )
    )
    out.extend(
        _keyed(
            s.foreign_keys,
            t.foreign_keys,
            lambda a, b: cmp.fk(a) == cmp.fk(b),
            lambda f: AddForeignKey(name, f),
            lambda f: DropForeignKey(name, f),
        )
    )
    return out


def _parity(source: Schema, target: Schema, cmp: _Compare) -> Parity:
    def columns(schema: Schema) -> dict[tuple[str, str], Column]:
        return {(t.name, c.name): c for t in schema.tables.values() for c in t.columns.values()}

    def keys(schema: Schema) -> dict[tuple[str, str], object]:
        out: dict[tuple[str, str], object] = {}
        for t in schema.tables.values():
            if t.primary_key is not None:
                out[(t.name, "PRIMARY")] = t.primary_key
            for u in t.uniques.values():
                out[(t.name, u.name)] = cmp.unique(u)
            for i in t.indexes.values():
                out[(t.name, i.name)] = cmp.index(i)
        return out

    def fks(schema: Schema) -> dict[tuple[str, str], ForeignKey]:
        return {
            (t.name, f.name): cmp.fk(f)
            for t in schema.tables.values()
            for f in t.foreign_keys.values()
        }

    def checks(schema: Schema) -> dict[tuple[str, str], object]:
        return {(t.name, c.name): c for t in schema.tables.values() for c in t.checks.values()}

    def tables_same(a: Table, b: Table) -> bool:
        return not _table_changes(a, b, cmp)

    def eq(a: object, b: object) -> bool:
        return a == b

    return Parity(
        tables=_count("tables", source.tables, target.tables, tables_same),
        columns=_count("columns", columns(source), columns(target), cmp.columns_equal),
        indexes=_count("indexes", keys(source), keys(target), eq),
        foreign_keys=_count("foreign keys", fks(source), fks(target), eq),
        checks=_count("checks", checks(source), checks(target), eq),
        views=_count("views", source.views, target.views, eq),
        triggers=_count("triggers", source.triggers, target.triggers, eq),
    )


# --- what --sql applies -----------------------------------------------------------------------

_DROPS: tuple[type[Change], ...] = (
    DropTable,
    DropColumn,
    DropIndex,
    DropUnique,
    DropPrimaryKey,
    DropForeignKey,
    DropCheck,
    DropView,
    DropTrigger,
)


def split_drops(changes: Iterable[Change]) -> tuple[list[Change], list[Change]]:
    """(changes to apply, drops left out) for SQL without ``--allow-drop``.

    A drop that only makes room for a changed object of the same name (an index redefined, a
    view replaced) is kept: it removes nothing the result does not have again. Drops of tables,
    columns and of objects SOURCE does not have are left out.
    """
    changes = list(changes)
    re_added = {(type(c.reverse()), c.subject) for c in changes if not isinstance(c, _DROPS)}
    keep: list[Change] = []
    skipped: list[Change] = []
    for change in changes:
        if (
            isinstance(change, _DROPS)
            and not isinstance(change, DropTable | DropColumn)
            and (type(change), change.subject) in re_added
        ):
            keep.append(change)
        elif isinstance(change, _DROPS):
            skipped.append(change)
        else:
            keep.append(change)
    return keep, skipped
