"""The in-memory catalog the simulation runs on: frozen tables in a dict, replaced on change.

Each :meth:`Catalog.apply` checks an effect the way the server would and raises
:class:`Rejected` with the server's error (class, code, wording) when it would refuse it; a
statement is atomic (``save``/``restore``). Checks follow MariaDB 10.11, MySQL 8, PostgreSQL 15 and
SQLite 3.40 behaviour where they differ (names of indexes are per table on MySQL and per schema on
PostgreSQL and SQLite; SQLite does not check a foreign key's parent at CREATE time; InnoDB adds an
index for a foreign key without one).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

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
    RenameColumn,
    RenameTable,
)
from dbmedic.effects import Effect, Guard
from dbmedic.effects_alter import find
from dbmedic.effects_sql import Rules, rules_for
from dbmedic.errorclass import ServerError, server_error
from dbmedic.model import ForeignKey, Index, IndexColumn, Schema, Table, Trigger, View
from dbmedic.normalize import family_of

_NUMERIC = {
    "tinyint",
    "smallint",
    "mediumint",
    "int",
    "bigint",
    "numeric",
    "decimal",
    "real",
    "double precision",
    "double",
    "float",
    "integer",
}
_STRING = {"char", "varchar", "text", "tinytext", "mediumtext", "longtext", "bpchar"}


class Rejected(Exception):
    """The server would reject the statement with ``error``."""

    def __init__(self, error: ServerError) -> None:
        self.error = error
        super().__init__(str(error))


class Catalog:
    """Tables, views and triggers of one simulated database."""

    def __init__(self, dialect: str, start: Schema | None, database: str | None) -> None:
        self.dialect = dialect
        self.rules: Rules = rules_for(dialect)
        self.family = family_of(dialect)
        self.database = database
        self.tables: dict[str, Table] = {}
        self.views: dict[str, View] = {}
        self.triggers: dict[str, Trigger] = {}
        if start is not None:
            for t in start.tables.values():
                self.tables[self._tkey(t.name)] = t
            self.views = {self._tkey(v.name): v for v in start.views.values()}
            self.triggers = {self._tkey(t.name): t for t in start.triggers.values()}

    # --- state -------------------------------------------------------------------------------
    def _tkey(self, name: str) -> str:
        return name.lower() if self.family == "sqlite" else name

    def lookup(self, name: str) -> Table | None:
        return self.tables.get(self._tkey(name))

    def save(self) -> tuple[dict[str, Table], dict[str, View], dict[str, Trigger]]:
        return dict(self.tables), dict(self.views), dict(self.triggers)

    def restore(self, state: tuple[dict[str, Table], dict[str, View], dict[str, Trigger]]) -> None:
        self.tables, self.views, self.triggers = (dict(s) for s in state)  # type: ignore[assignment]

    def snapshot(self) -> Schema:
        return Schema(
            self.dialect,
            {t.name: t for t in sorted(self.tables.values(), key=lambda t: t.name)},
            {v.name: v for v in sorted(self.views.values(), key=lambda v: v.name)},
            {t.name: t for t in sorted(self.triggers.values(), key=lambda t: t.name)},
            database=self.database,
        )

    def _err(self, key: str, **fields: str) -> Rejected:
        if "table" in fields and "qualified" not in fields:
            fields["qualified"] = (
                f"{self.database}.{fields['table']}" if self.database else fields["table"]
            )
        return Rejected(server_error(self.dialect, key, **fields))

    def _table(self, name: str) -> Table:
        table = self.lookup(name)
        if table is None:
            raise self._err("unknown_table", table=name)
        return table

    def _put(self, table: Table) -> None:
        self.tables[self._tkey(table.name)] = table

    # --- creators ----------------------------------------------------------------------------
    def keys_created_by(self, change: Change) -> Iterator[str]:
        if isinstance(change, AddTable):
            t = change.table
            yield f"table:{t.name}"
            for c in t.columns:
                yield f"column:{t.name}.{c}"
            for n in (*t.uniques, *t.indexes):
                yield f"index:{t.name}.{n}"
            for n in t.foreign_keys:
                yield f"foreign_key:{t.name}.{n}"
            for n in t.checks:
                yield f"check:{t.name}.{n}"
        elif isinstance(change, AddColumn):
            yield f"column:{change.table}.{change.column.name}"
        elif isinstance(change, AddIndex):
            yield f"index:{change.table}.{change.index.name}"
        elif isinstance(change, AddUnique):
            yield f"index:{change.table}.{change.unique.name}"
        elif isinstance(change, AddPrimaryKey):
            yield f"index:{change.table}.PRIMARY"
        elif isinstance(change, AddForeignKey):
            yield f"foreign_key:{change.table}.{change.foreign_key.name}"
        elif isinstance(change, AddCheck):
            yield f"check:{change.table}.{change.check.name}"
        elif isinstance(change, AddView):
            yield f"view:{change.view.name}"
        elif isinstance(change, AddTrigger):
            yield f"trigger:{change.trigger.name}"
        elif isinstance(change, RenameTable):
            yield f"table:{change.new}"
        elif isinstance(change, RenameColumn):
            yield f"column:{change.table}.{change.new}"

    # --- apply -------------------------------------------------------------------------------
    def apply(self, effect: Effect) -> list[str]:
        """Apply one effect; return the creator keys it made. Raises Rejected."""
        c = effect.change
        handler = getattr(self, "_" + type(c).__name__, None)
        if handler is None:
            raise TypeError(f"no simulation for {type(c).__name__}")
        if handler(c, effect) is False:  # guarded no-op
            return []
        return list(self.keys_created_by(c))

    def _AddTable(self, c: AddTable, e: Effect) -> bool:
        t = c.table
        if self.lookup(t.name) is not None or self._tkey(t.name) in self.views:
            if e.guard is not Guard.NONE:
                return False
            raise self._err("duplicate_table", table=t.name)
        for n in (*t.indexes, *t.uniques):
            self._check_index_name(t.name, n, t)
        for fk in t.foreign_keys.values():
            self._check_foreign_key(t, fk)
        self._put(self._with_fk_indexes(t))
        return True

    def _DropTable(self, c: DropTable, e: Effect) -> bool:
        if self.lookup(c.table.name) is None:
            if e.guard is not Guard.NONE:
                return False
            raise self._err("drop_missing_table", table=c.table.name)
        del self.tables[self._tkey(c.table.name)]
        return True

    def _RenameTable(self, c: RenameTable, e: Effect) -> bool:
        t = self._table(c.old)
        if self.lookup(c.new) is not None:
            key = "rename_target_exists" if self.family == "sqlite" else "duplicate_table"
            raise self._err(key, table=c.new)
        del self.tables[self._tkey(c.old)]
        self._put(replace(t, name=c.new))
        for k, other in list(self.tables.items()):
            fks = {
                n: replace(fk, ref_table=c.new) if fk.ref_table == c.old else fk
                for n, fk in other.foreign_keys.items()
            }
            if fks != dict(other.foreign_keys):
                self.tables[k] = replace(other, foreign_keys=fks)
        return True

    def _AlterTableOptions(self, c: AlterTableOptions, e: Effect) -> bool:
        self._table(c.before.name)
        self._put(c.after)
        return True

    def _AddColumn(self, c: AddColumn, e: Effect) -> bool:
        t = self._table(c.table)
        ci = self.rules.names_case_insensitive
        if find(t.columns, c.column.name, ci) is not None:
            if e.guard is not Guard.NONE:
                return False
            raise self._err("duplicate_column", table=t.name, column=c.column.name)
        if e.after is not None and find(t.columns, e.after, ci) is None:
            raise self._err("unknown_column", table=t.name, column=e.after)
        cols = dict(t.columns)
        cols[c.column.name] = replace(c.column, ordinal=len(cols) + 1)
        self._put(replace(t, columns=cols))
        return True

    def _DropColumn(self, c: DropColumn, e: Effect) -> bool:
        t = self._table(c.table)
        col = find(t.columns, c.column.name, self.rules.names_case_insensitive)
        if col is None:
            if e.guard is not Guard.NONE:
                return False
            raise self._err("drop_missing_column", table=t.name, column=c.column.name)
        cols = {n: v for n, v in t.columns.items() if n != col.name}
        indexes = {}
        for n, ix in t.indexes.items():
            kept = tuple(ic for ic in ix.columns if ic.name != col.name or ic.expression)
            if kept:
                indexes[n] = replace(ix, columns=kept)
        uniques = {
            n: replace(u, columns=tuple(x for x in u.columns if x != col.name))
            for n, u in t.uniques.items()
            if set(u.columns) != {col.name}
        }
        fks = {n: fk for n, fk in t.foreign_keys.items() if col.name not in fk.columns}
        self._put(replace(t, columns=cols, indexes=indexes, uniques=uniques, foreign_keys=fks))
        return True

    def _AlterColumn(self, c: AlterColumn, e: Effect) -> bool:
        t = self._table(c.table)
        col = find(t.columns, c.before.name, self.rules.names_case_insensitive)
        if col is None:
            raise self._err("unknown_column", table=t.name, column=c.before.name)
        if (
            e.after is not None
            and find(t.columns, e.after, self.rules.names_case_insensitive) is None
        ):
            raise self._err("unknown_column", table=t.name, column=e.after)
        new = (
            replace(col, **{f: getattr(c.after, f) for f in e.touches})
            if e.touches
            else replace(c.after, ordinal=col.ordinal)
        )
        cols = {n: (new if n == col.name else v) for n, v in t.columns.items()}
        self._put(replace(t, columns=cols))
        return True

    def _RenameColumn(self, c: RenameColumn, e: Effect) -> bool:
        t = self._table(c.table)
        ci = self.rules.names_case_insensitive
        col = find(t.columns, c.old, ci)
        if col is None:
            if e.guard is not Guard.NONE:
                return False
            key = "rename_missing_column" if self.family == "postgresql" else "unknown_column"
            raise self._err(key, table=t.name, column=c.old)
        if find(t.columns, c.new, ci) is not None and c.new.lower() != c.old.lower():
            raise self._err("duplicate_column", table=t.name, column=c.new)

        def ren(names: tuple[str, ...]) -> tuple[str, ...]:
            return tuple(c.new if n == col.name else n for n in names)

        cols = {
            (c.new if n == col.name else n): (replace(v, name=c.new) if n == col.name else v)
            for n, v in t.columns.items()
        }
        pk = replace(t.primary_key, columns=ren(t.primary_key.columns)) if t.primary_key else None
        indexes = {
            n: replace(
                ix,
                columns=tuple(
                    replace(ic, name=c.new) if ic.name == col.name else ic for ic in ix.columns
                ),
            )
            for n, ix in t.indexes.items()
        }
        uniques = {n: replace(u, columns=ren(u.columns)) for n, u in t.uniques.items()}
        fks = {n: replace(fk, columns=ren(fk.columns)) for n, fk in t.foreign_keys.items()}
        self._put(
            replace(
                t, columns=cols, primary_key=pk, indexes=indexes, uniques=uniques, foreign_keys=fks
            )
        )
        return True

    # --- keys --------------------------------------------------------------------------------
    def _index_owner(self, name: str) -> Table | None:
        """The table holding index ``name`` (schema-wide names: PostgreSQL, SQLite)."""
        for t in self.tables.values():
            if (
                find(t.indexes, name, self.rules.names_case_insensitive) is not None
                or find(t.uniques, name, self.rules.names_case_insensitive) is not None
            ):
                return t
        return None

    def _check_index_name(self, table: str, name: str, new_table: Table | None = None) -> None:
        per_table = self.rules.unique_index_is_constraint  # MySQL: names per table
        ci = self.rules.names_case_insensitive
        if per_table:
            t = self.lookup(table)
            if (
                t is not None
                and new_table is None
                and (find(t.indexes, name, ci) is not None or find(t.uniques, name, ci) is not None)
            ):
                raise self._err("duplicate_key", table=table, name=name)
        elif self._index_owner(name) is not None or (
            self.family == "postgresql" and self.lookup(name) is not None
        ):
            raise self._err("duplicate_key", table=table, name=name)

    def _check_columns(self, t: Table, names: tuple[str, ...]) -> None:
        for n in names:
            if find(t.columns, n, self.rules.names_case_insensitive) is None:
                raise self._err("key_column_missing", table=t.name, column=n)

    def _add_key(
        self, table: str, name: str, columns: tuple[str, ...], guard: Guard
    ) -> Table | None:
        t = self._table(table)
        existing = (
            self._index_owner(name)
            if not self.rules.unique_index_is_constraint
            else (t if find(t.indexes, name, True) or find(t.uniques, name, True) else None)
        )
        if existing is not None and guard is not Guard.NONE:
            return None
        self._check_index_name(table, name)
        self._check_columns(t, columns)
        return t

    def _AddIndex(self, c: AddIndex, e: Effect) -> bool:
        cols = tuple(ic.name for ic in c.index.columns if not ic.expression)
        t = self._add_key(c.table, c.index.name, cols, e.guard)
        if t is None:
            return False
        self._put(replace(t, indexes={**t.indexes, c.index.name: c.index}))
        return True

    def _AddUnique(self, c: AddUnique, e: Effect) -> bool:
        t = self._add_key(c.table, c.unique.name, c.unique.columns, e.guard)
        if t is None:
            return False
        self._put(replace(t, uniques={**t.uniques, c.unique.name: c.unique}))
        return True

    def _drop_index(self, table: str, name: str, e: Effect) -> bool:
        ci = self.rules.names_case_insensitive
        t = self.lookup(table) if table else self._index_owner(name)
        if table and t is None:
            raise self._err("unknown_table", table=table)
        if t is None or (find(t.indexes, name, ci) is None and find(t.uniques, name, ci) is None):
            if e.guard is not Guard.NONE:
                return False
            raise self._err("drop_missing_index", table=table, name=name)
        self._put(
            replace(
                t,
                indexes={
                    n: v
                    for n, v in t.indexes.items()
                    if n.lower() != name.lower() or (not ci and n != name)
                },
                uniques={
                    n: v
                    for n, v in t.uniques.items()
                    if n.lower() != name.lower() or (not ci and n != name)
                },
            )
        )
        return True

    def _DropIndex(self, c: DropIndex, e: Effect) -> bool:
        return self._drop_index(c.table, c.index.name, e)

    def _DropUnique(self, c: DropUnique, e: Effect) -> bool:
        return self._drop_index(c.table, c.unique.name, e)

    def _AddPrimaryKey(self, c: AddPrimaryKey, e: Effect) -> bool:
        t = self._table(c.table)
        if t.primary_key is not None:
            raise self._err("multiple_primary_key", table=t.name)
        self._check_columns(t, c.primary_key.columns)
        cols = dict(t.columns)
        if self.rules.pk_implies_not_null:
            for n in c.primary_key.columns:
                cols[n] = replace(cols[n], nullable=False)
        self._put(replace(t, primary_key=c.primary_key, columns=cols))
        return True

    def _DropPrimaryKey(self, c: DropPrimaryKey, e: Effect) -> bool:
        t = self._table(c.table)
        if t.primary_key is None:
            raise self._err("drop_missing_index", table=t.name, name="PRIMARY")
        self._put(replace(t, primary_key=None))
        return True

    def _AddForeignKey(self, c: AddForeignKey, e: Effect) -> bool:
        t = self._table(c.table)
        fk = c.foreign_key
        scope = self.tables.values() if self.family == "mysql" else [t]
        if any(find(o.foreign_keys, fk.name, True) is not None for o in scope):
            raise self._err("duplicate_constraint", table=t.name, name=fk.name)
        self._check_foreign_key(t, fk)
        self._put(self._with_fk_indexes(replace(t, foreign_keys={**t.foreign_keys, fk.name: fk})))
        return True

    def _DropForeignKey(self, c: DropForeignKey, e: Effect) -> bool:
        t = self._table(c.table)
        fk = find(t.foreign_keys, c.foreign_key.name, self.rules.names_case_insensitive)
        if fk is None:
            if e.guard is not Guard.NONE:
                return False
            raise self._err("drop_missing_foreign_key", table=t.name, name=c.foreign_key.name)
        self._put(
            replace(t, foreign_keys={n: v for n, v in t.foreign_keys.items() if n != fk.name})
        )
        return True

    def _AddCheck(self, c: AddCheck, e: Effect) -> bool:
        t = self._table(c.table)
        if find(t.checks, c.check.name, True) is not None:
            raise self._err("duplicate_constraint", table=t.name, name=c.check.name)
        self._put(replace(t, checks={**t.checks, c.check.name: c.check}))
        return True

    def _DropCheck(self, c: DropCheck, e: Effect) -> bool:
        t = self._table(c.table)
        ck = find(t.checks, c.check.name, self.rules.names_case_insensitive)
        if ck is None:
            if e.guard is not Guard.NONE:
                return False
            raise self._err("drop_missing_constraint", table=t.name, name=c.check.name)
        self._put(replace(t, checks={n: v for n, v in t.checks.items() if n != ck.name}))
        return True

    def _check_foreign_key(self, t: Table, fk: ForeignKey) -> None:
        ci = self.rules.names_case_insensitive
        fields = {"table": t.name, "name": fk.name, "ref": fk.ref_table}
        for n in fk.columns:
            if find(t.columns, n, ci) is None:
                key = "key_column_missing" if self.family == "mysql" else "fk_child_column_missing"
                raise self._err(key, column=n, **fields)
        if not self.rules.fk_checked_at_create:
            return
        parent = t if fk.ref_table == t.name else self.lookup(fk.ref_table)
        if parent is None:
            raise self._err("fk_missing_parent", **fields)
        for child_col, ref_col in zip(fk.columns, fk.ref_columns, strict=False):
            pc = find(parent.columns, ref_col, ci)
            if pc is None:
                raise self._err("fk_missing_parent_column", ref_column=ref_col, **fields)
            cc = find(t.columns, child_col, ci)
            if cc is not None and not self._compatible(cc.type, pc.type):
                raise self._err("fk_incompatible", column=child_col, ref_column=ref_col, **fields)
        if not self._parent_has_key(parent, fk.ref_columns):
            raise self._err("fk_no_unique", **fields)

    def _compatible(self, a: str, b: str) -> bool:
        """Whether a foreign key may join columns of types ``a`` and ``b``.

        InnoDB: integer types and signedness must match exactly, string lengths may differ.
        PostgreSQL: the types need an equality operator: numbers with numbers, strings with strings.
        """
        base_a, base_b = a.split("(")[0], b.split("(")[0]
        if self.family == "mysql":
            if base_a in _STRING and base_b in _STRING:
                return base_a in ("char", "varchar") and base_b in ("char", "varchar")
            return (
                a.replace(" zerofill", "") == b.replace(" zerofill", "")
                if base_a not in _STRING
                else False
            )
        for group in (_NUMERIC, _STRING):
            if base_a in group and base_b in group:
                return True
        return base_a == base_b

    def _parent_has_key(self, parent: Table, cols: tuple[str, ...]) -> bool:
        if parent.primary_key is not None and parent.primary_key.columns == cols:
            return True
        if any(u.columns == cols for u in parent.uniques.values()):
            return True
        if self.family == "mysql":  # InnoDB: any index whose first columns are the referenced ones
            keys = [parent.primary_key.columns] if parent.primary_key else []
            keys += [u.columns for u in parent.uniques.values()]
            keys += [tuple(ic.name for ic in ix.columns) for ix in parent.indexes.values()]
            return any(k[: len(cols)] == cols for k in keys)
        return any(
            ix.unique and tuple(ic.name for ic in ix.columns) == cols and ix.where is None
            for ix in parent.indexes.values()
        )

    def _with_fk_indexes(self, t: Table) -> Table:
        if not self.rules.fk_auto_index:
            return t
        indexes = dict(t.indexes)
        for fk in t.foreign_keys.values():
            keys = [t.primary_key.columns] if t.primary_key else []
            keys += [u.columns for u in t.uniques.values()]
            keys += [tuple(ic.name for ic in ix.columns) for ix in indexes.values()]
            if not any(k[: len(fk.columns)] == fk.columns for k in keys):
                indexes[fk.name] = Index(fk.name, tuple(IndexColumn(n) for n in fk.columns))
        return t if len(indexes) == len(t.indexes) else replace(t, indexes=indexes)

    # --- views and triggers ------------------------------------------------------------------
    def _AddView(self, c: AddView, e: Effect) -> bool:
        key = self._tkey(c.view.name)
        if key in self.views or self.lookup(c.view.name) is not None:
            if e.guard is Guard.IF_NOT_EXISTS:
                return False
            if not (e.guard is Guard.OR_REPLACE and key in self.views):
                raise self._err("duplicate_view", table=c.view.name)
        self.views[key] = c.view
        return True

    def _DropView(self, c: DropView, e: Effect) -> bool:
        key = self._tkey(c.view.name)
        if key not in self.views:
            if e.guard is not Guard.NONE:
                return False
            raise self._err("drop_missing_view", table=c.view.name)
        del self.views[key]
        return True

    def _AddTrigger(self, c: AddTrigger, e: Effect) -> bool:
        key = self._tkey(c.trigger.name)
        self._table(c.trigger.table)
        if key in self.triggers and e.guard is Guard.NONE:
            raise self._err("duplicate_trigger", table=c.trigger.table, name=c.trigger.name)
        if key in self.triggers and e.guard is Guard.IF_NOT_EXISTS:
            return False
        self.triggers[key] = c.trigger
        return True

    def _DropTrigger(self, c: DropTrigger, e: Effect) -> bool:
        key = self._tkey(c.trigger.name)
        if key not in self.triggers:
            if e.guard is not Guard.NONE:
                return False
            raise self._err("drop_missing_trigger", table=c.trigger.table, name=c.trigger.name)
        del self.triggers[key]
        return True
