"""SQLite DDL: CREATE statements, the ALTERs SQLite has, and the 12-step table rebuild for the rest.

SQLite can add, rename and drop a column, but not alter one, nor add or drop a primary key,
foreign key, UNIQUE or CHECK constraint (https://www.sqlite.org/lang_altertable.html). Those
changes are grouped per table and done by the documented rebuild
(https://www.sqlite.org/lang_altertable.html#otheralter): create ``_dbmedic_new_<t>`` with the
final definition, copy the rows, drop the old table, rename the new one, re-create its indexes
and triggers, and check the foreign keys.

How to run a script with a rebuild: ``PRAGMA foreign_keys`` is a no-op inside a transaction
(https://www.sqlite.org/pragma.html#pragma_foreign_keys), and with foreign keys on, DROP TABLE
would run the ON DELETE actions of every child table (https://www.sqlite.org/foreignkeys.html#fk_schemacommands).
So the script starts with ``PRAGMA foreign_keys=OFF`` and ends with ``PRAGMA foreign_keys=ON``:
the caller runs the statements for which ``SQLite.outside_transaction()`` is true in autocommit
mode on the same connection, and everything between them in one transaction. A guard makes a
wrong run safe: when foreign keys are still on, or the rebuilt tables break a foreign key, an
INSERT into a temporary table violates a CHECK whose name says so, and the transaction fails
before anything is lost.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TypeVar

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
    order_changes,
)
from dbmedic.dialects.sqlite import sqltext
from dbmedic.errors import DbmedicError
from dbmedic.model import Column, Index, Schema, Table, Trigger, View

Quote = Callable[[str], str]
V = TypeVar("V")

REBUILD_PREFIX = "_dbmedic_new_"
GUARD = "_dbmedic_guard"
FK_OFF_CHECK = "a table rebuild needs PRAGMA foreign_keys=OFF, run outside the transaction"
FK_VIOLATION_CHECK = "the table rebuild left rows that break a foreign key"


def literal(text: str) -> str:
    """An SQL string literal (for names passed to pragma functions)."""
    return "'" + text.replace("'", "''") + "'"


# --- CREATE -----------------------------------------------------------------------------------


def column_def(q: Quote, col: Column, primary_key: bool = False, pk_name: str | None = None) -> str:
    parts = [q(col.name)]
    if col.type:
        parts.append(col.type)
    if primary_key:
        if pk_name:
            parts.append(f"CONSTRAINT {q(pk_name)}")
        parts.append("PRIMARY KEY AUTOINCREMENT" if col.auto_increment else "PRIMARY KEY")
    if not col.nullable:
        parts.append("NOT NULL")
    if col.default is not None and col.generated is None:
        expr = col.default if sqltext.is_literal(col.default) else f"({col.default})"
        parts.append(f"DEFAULT {expr}")
    if col.collation:
        parts.append(f"COLLATE {col.collation}")
    if col.generated is not None:
        kind = "STORED" if dict(col.extra).get("generated") == "stored" else "VIRTUAL"
        parts.append(f"GENERATED ALWAYS AS ({col.generated}) {kind}")
    return " ".join(parts)


def create_table(q: Quote, table: Table, name: str | None = None) -> str:
    """CREATE TABLE with every constraint inline (foreign keys too); indexes come separately."""
    facts = dict(table.extra)
    if "virtual" in facts:
        return facts["virtual"]
    pk = table.primary_key
    inline_pk = pk.columns[0] if pk is not None and len(pk.columns) == 1 else None
    lines = [
        column_def(q, c, c.name == inline_pk, pk.name if pk else None)
        for c in sorted(table.columns.values(), key=lambda c: c.ordinal)
    ]
    if pk is not None and inline_pk is None:
        named = f"CONSTRAINT {q(pk.name)} " if pk.name else ""
        lines.append(f"{named}PRIMARY KEY ({_names(q, pk.columns)})")
    for u in table.uniques.values():
        conflict = dict(u.extra).get("on_conflict")
        tail = f" ON CONFLICT {conflict}" if conflict else ""
        lines.append(f"CONSTRAINT {q(u.name)} UNIQUE ({_names(q, u.columns)}){tail}")
    for c in table.checks.values():
        lines.append(f"CONSTRAINT {q(c.name)} CHECK ({c.expression})")
    for fk in table.foreign_keys.values():
        clause = (
            f"CONSTRAINT {q(fk.name)} FOREIGN KEY ({_names(q, fk.columns)}) "
            f"REFERENCES {q(fk.ref_table)} ({_names(q, fk.ref_columns)})"
        )
        if fk.on_update != "NO ACTION":
            clause += f" ON UPDATE {fk.on_update}"
        if fk.on_delete != "NO ACTION":
            clause += f" ON DELETE {fk.on_delete}"
        if "deferrable" in dict(fk.extra):
            clause += f" {dict(fk.extra)['deferrable']}"
        lines.append(clause)
    options = [
        o for o, key in (("WITHOUT ROWID", "without_rowid"), ("STRICT", "strict")) if key in facts
    ]
    body = ",\n  ".join(lines)
    tail = (" " + ", ".join(options)) if options else ""
    return f"CREATE TABLE {q(name or table.name)} (\n  {body}\n){tail}"


def create_index(q: Quote, table: str, index: Index) -> str:
    collations: dict[int, str] = {}
    for part in (dict(index.extra).get("collate") or "").split(", "):
        if part:
            at, coll = part.split(" ", 1)
            collations[int(at)] = coll
    terms = []
    for pos, col in enumerate(index.columns):
        term = col.name if col.expression else q(col.name)
        if pos in collations:
            term += f" COLLATE {collations[pos]}"
        if col.descending:
            term += " DESC"
        terms.append(term)
    unique = "UNIQUE " if index.unique else ""
    where = f" WHERE {index.where}" if index.where else ""
    return f"CREATE {unique}INDEX {q(index.name)} ON {q(table)} ({', '.join(terms)}){where}"


def create_view(q: Quote, view: View) -> str:
    columns = dict(view.extra).get("columns")
    cols = f" ({columns})" if columns else ""
    return f"CREATE VIEW {q(view.name)}{cols} AS {view.definition}"


def create_trigger(q: Quote, trigger: Trigger) -> str:
    facts = dict(trigger.extra)
    event = trigger.event + (f" OF {facts['of']}" if "of" in facts else "")
    when = f" WHEN {facts['when']}" if "when" in facts else ""
    return (
        f"CREATE TRIGGER {q(trigger.name)} {trigger.timing} {event} ON {q(trigger.table)}"
        f"{when} BEGIN {trigger.body} END"
    )


def _names(q: Quote, names: Sequence[str]) -> str:
    return ", ".join(q(n) for n in names)


# --- one change -------------------------------------------------------------------------------


def table_of(change: Change) -> str | None:
    """The existing table a change alters in place (None for whole tables, views, triggers)."""
    if isinstance(change, AlterTableOptions):
        return change.after.name
    table = getattr(change, "table", None)
    return table if isinstance(table, str) else None


def needs_rebuild(change: Change, current: Table | None, schema: Schema | None) -> bool:
    """Whether SQLite's ALTER TABLE cannot do ``change``, so the table must be rebuilt."""
    if isinstance(change, AddColumn):
        col = change.column
        return (
            col.auto_increment
            or (col.default is not None and not sqltext.is_constant(col.default))
            or (not col.nullable and col.default is None and col.generated is None)
            or dict(col.extra).get("generated") == "stored"
        )
    if isinstance(change, DropColumn):
        # unknown table: try ALTER TABLE, which refuses loudly rather than losing anything
        return current is not None and _referenced(change.column.name, current, schema)
    if isinstance(change, AlterTableOptions):
        keep = ("strict", "without_rowid", "virtual")
        before = {k: v for k, v in change.before.extra if k in keep}
        after = {k: v for k, v in change.after.extra if k in keep}
        return before != after
    return isinstance(
        change,
        AlterColumn
        | AddPrimaryKey
        | DropPrimaryKey
        | AddUnique
        | DropUnique
        | AddForeignKey
        | DropForeignKey
        | AddCheck
        | DropCheck,
    )


def _referenced(column: str, table: Table, schema: Schema | None) -> bool:
    """Whether DROP COLUMN would refuse: the column is part of a key, index, check or expression."""
    low = column.lower()

    def named(names: Sequence[str]) -> bool:
        return any(n.lower() == low for n in names)

    if table.primary_key and named(table.primary_key.columns):
        return True
    if any(named(u.columns) for u in table.uniques.values()):
        return True
    if any(named(fk.columns) for fk in table.foreign_keys.values()):
        return True
    for index in table.indexes.values():
        for ic in index.columns:
            if sqltext.mentions(ic.name, column) if ic.expression else ic.name.lower() == low:
                return True
        if index.where and sqltext.mentions(index.where, column):
            return True
    if any(sqltext.mentions(c.expression, column) for c in table.checks.values()):
        return True
    if any(c.generated and sqltext.mentions(c.generated, column) for c in table.columns.values()):
        return True
    if schema is not None:
        for trigger in schema.triggers.values():
            on_table = trigger.table == table.name or sqltext.mentions(trigger.body, table.name)
            if on_table and sqltext.mentions(trigger.body + " " + str(trigger.extra), column):
                return True
        for view in schema.views.values():
            if sqltext.mentions(view.definition, table.name) and sqltext.mentions(
                view.definition, column
            ):
                return True
    return False


def render_change(q: Quote, change: Change) -> list[str]:
    """DDL for a change SQLite's ALTER TABLE can do; raises DbmedicError for one needing a rebuild."""
    if isinstance(change, AddTable):
        table = change.table
        return [create_table(q, table)] + [
            create_index(q, table.name, i) for i in table.indexes.values()
        ]
    if isinstance(change, DropTable):
        return [f"DROP TABLE {q(change.table.name)}"]
    if isinstance(change, RenameTable):
        return [f"ALTER TABLE {q(change.old)} RENAME TO {q(change.new)}"]
    if isinstance(change, RenameColumn):  # SQLite 3.25+
        return [f"ALTER TABLE {q(change.table)} RENAME COLUMN {q(change.old)} TO {q(change.new)}"]
    if isinstance(change, AddColumn) and not needs_rebuild(change, None, None):
        return [f"ALTER TABLE {q(change.table)} ADD COLUMN {column_def(q, change.column)}"]
    if isinstance(change, DropColumn):
        return [f"ALTER TABLE {q(change.table)} DROP COLUMN {q(change.column.name)}"]
    if isinstance(change, AddIndex):
        return [create_index(q, change.table, change.index)]
    if isinstance(change, DropIndex):
        return [f"DROP INDEX {q(change.index.name)}"]
    if isinstance(change, AddView):
        return [create_view(q, change.view)]
    if isinstance(change, DropView):
        return [f"DROP VIEW {q(change.view.name)}"]
    if isinstance(change, AddTrigger):
        return [create_trigger(q, change.trigger)]
    if isinstance(change, DropTrigger):
        return [f"DROP TRIGGER {q(change.trigger.name)}"]
    if isinstance(change, AlterTableOptions) and not needs_rebuild(change, None, None):
        return []  # engine, charset and comment do not exist in SQLite
    raise DbmedicError(
        f"sqlite cannot {change.kind.replace('_', ' ')} {change.subject} with ALTER TABLE",
        hint="render the whole change list with the current schema so the table is rebuilt",
    )


# --- the whole list, with rebuilds --------------------------------------------------------------


def apply_to_table(table: Table, changes: Sequence[Change]) -> Table:
    """The table after ``changes`` (all of them about this table): the rebuild's target."""
    columns = dict(table.columns)
    pk = table.primary_key
    uniques, indexes = dict(table.uniques), dict(table.indexes)
    fks, checks = dict(table.foreign_keys), dict(table.checks)
    extra = table.extra
    next_ordinal = max((c.ordinal for c in columns.values()), default=0) + 1
    for change in changes:
        if isinstance(change, AddColumn):
            columns[change.column.name] = replace(change.column, ordinal=next_ordinal)
            next_ordinal += 1
        elif isinstance(change, DropColumn):
            columns.pop(change.column.name, None)
        elif isinstance(change, AlterColumn):
            old = columns.pop(change.before.name, change.before)
            columns[change.after.name] = replace(change.after, ordinal=old.ordinal)
        elif isinstance(change, AddPrimaryKey):
            pk = change.primary_key
        elif isinstance(change, DropPrimaryKey):
            pk = None
        elif isinstance(change, AddUnique | DropUnique):
            _put(uniques, change.unique.name, change.unique, isinstance(change, AddUnique))
        elif isinstance(change, AddIndex | DropIndex):
            _put(indexes, change.index.name, change.index, isinstance(change, AddIndex))
        elif isinstance(change, AddForeignKey | DropForeignKey):
            fk = change.foreign_key
            _put(fks, fk.name, fk, isinstance(change, AddForeignKey))
        elif isinstance(change, AddCheck | DropCheck):
            _put(checks, change.check.name, change.check, isinstance(change, AddCheck))
        elif isinstance(change, AlterTableOptions):
            extra = change.after.extra
    ordered = dict(sorted(columns.items(), key=lambda kv: kv[1].ordinal))
    return replace(
        table,
        columns=ordered,
        primary_key=pk,
        uniques=dict(sorted(uniques.items())),
        indexes=dict(sorted(indexes.items())),
        foreign_keys=dict(sorted(fks.items())),
        checks=dict(sorted(checks.items())),
        extra=extra,
    )


def _put(mapping: dict[str, V], name: str, value: V, add: bool) -> None:
    if add:
        mapping[name] = value
    else:
        mapping.pop(name, None)


def rebuild(
    q: Quote, before: Table, changes: Sequence[Change], keep_triggers: Sequence[Trigger]
) -> list[str]:
    """The 12-step rebuild of one table (steps 4-8; the caller adds the PRAGMAs and the checks)."""
    after = apply_to_table(before, changes)
    new = REBUILD_PREFIX + before.name
    source = {c.name: c.name for c in before.columns.values()}
    for change in changes:  # a renamed column is copied from its old name
        if isinstance(change, AlterColumn) and change.before.name != change.after.name:
            source[change.after.name] = source.pop(change.before.name, change.before.name)
    shared = [
        c
        for c in after.columns.values()
        if c.generated is None
        and source.get(c.name) in before.columns
        and before.columns[source[c.name]].generated is None
    ]
    values = []
    for col in shared:
        old = before.columns[source[col.name]]
        if old.nullable and not col.nullable and col.default is not None:
            values.append(f"coalesce({q(old.name)}, {col.default})")
        else:
            values.append(q(old.name))
    statements = [create_table(q, after, new)]
    if shared:
        statements.append(
            f"INSERT INTO {q(new)} ({_names(q, [c.name for c in shared])}) "
            f"SELECT {', '.join(values)} FROM {q(before.name)}"
        )
    if any(c.auto_increment for c in after.columns.values()) and any(
        c.auto_increment for c in before.columns.values()
    ):
        # keep AUTOINCREMENT's high-water mark: https://www.sqlite.org/autoinc.html
        statements.append(
            f"UPDATE sqlite_sequence SET seq = max(seq, coalesce((SELECT seq FROM sqlite_sequence"
            f" WHERE name = {literal(before.name)}), 0)) WHERE name = {literal(new)}"
        )
    statements += [
        f"DROP TABLE {q(before.name)}",
        f"ALTER TABLE {q(new)} RENAME TO {q(before.name)}",
    ]
    statements += [create_index(q, before.name, i) for i in after.indexes.values()]
    statements += [create_trigger(q, t) for t in keep_triggers]
    return statements


def render_all(q: Quote, changes: Sequence[Change], current: Schema | None) -> list[str]:
    """DDL for a change list in safe order, rebuilding the tables ALTER TABLE cannot change."""
    ordered = order_changes(changes, inline_foreign_keys=True)
    tables = current.tables if current is not None else {}
    rebuilt: dict[str, list[Change]] = {}
    for change in ordered:
        name = table_of(change)
        if name is not None and needs_rebuild(change, tables.get(name), current):
            rebuilt[name] = []
    if not rebuilt:
        return [s for c in ordered for s in render_change(q, c)]
    missing = sorted(n for n in rebuilt if n not in tables)
    if current is None or missing:
        raise DbmedicError(
            f"sqlite must rebuild table {(missing or sorted(rebuilt))[0]!r} but its current "
            "definition is not known",
            hint="pass the schema the statements will run against",
        )
    for change in ordered:
        name = table_of(change)
        if name in rebuilt:
            rebuilt[name].append(change)
    dropped_triggers = {c.trigger.name for c in ordered if isinstance(c, DropTrigger | AddTrigger)}
    dropped_tables = {c.table.name for c in ordered if isinstance(c, DropTable)}

    statements = [
        "PRAGMA foreign_keys=OFF",
        f"CREATE TEMP TABLE {GUARD} (check_name TEXT NOT NULL, n INTEGER NOT NULL,"
        f" CONSTRAINT {q(FK_OFF_CHECK)} CHECK (check_name <> 'foreign_keys_off' OR n = 0),"
        f" CONSTRAINT {q(FK_VIOLATION_CHECK)} CHECK (check_name <> 'foreign_key_check' OR n = 0))",
        f"INSERT INTO temp.{GUARD} (check_name, n)"
        " SELECT 'foreign_keys_off', foreign_keys FROM pragma_foreign_keys",
        # RENAME must not re-check views and triggers that name the table while it is gone
        "PRAGMA legacy_alter_table=ON",
    ]
    done: set[str] = set()
    for change in ordered:
        name = table_of(change)
        if name in rebuilt:
            if name not in done:
                done.add(name)
                keep = [
                    t
                    for t in current.triggers.values()
                    if t.table == name and t.name not in dropped_triggers
                ]
                statements += rebuild(q, tables[name], rebuilt[name], keep)
            continue
        statements += render_change(q, change)
    to_check = set(rebuilt) | {
        t.name
        for t in tables.values()
        if any(fk.ref_table in rebuilt for fk in t.foreign_keys.values())
    }
    for name in sorted(to_check - dropped_tables):
        statements.append(
            f"INSERT INTO temp.{GUARD} (check_name, n) SELECT 'foreign_key_check', count(*)"
            f" FROM pragma_foreign_key_check({literal(name)}, 'main')"
        )
    statements += [
        f"DROP TABLE temp.{GUARD}",
        "PRAGMA legacy_alter_table=OFF",
        "PRAGMA foreign_keys=ON",
    ]
    return statements
