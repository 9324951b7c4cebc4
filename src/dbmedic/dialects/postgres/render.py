"""PostgreSQL DDL for the schema model and for every :mod:`dbmedic.changes` kind.

The law: running what is rendered for an object and inspecting again yields the same object.
Values inside DDL (defaults, comments, enum labels) cannot be bound parameters, so they are
written as escaped literals by :func:`literal`; names always pass :func:`quote`.

Limits, by design of what the catalog holds:

- A serial column is rendered as ``serial``/``bigserial``/``smallserial``; its sequence gets
  PostgreSQL's default name. A sequence under another name, or a nextval default on another
  type, is not reproduced.
- A trigger's function is reproduced only when it lives in the schema being read (inspect keeps
  its ``pg_get_functiondef`` in ``extra["function"]``); otherwise the trigger can only reference
  it and creating the trigger fails until the function exists. Dropping a trigger keeps its
  function (other triggers may use it).
- Enum types are created (if missing) before the columns that use them; changing the labels of
  an existing enum type is not rendered.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
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
)
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

_SERIAL = {"int": "serial", "bigint": "bigserial", "smallint": "smallserial"}


def quote(identifier: str) -> str:
    """``"name"``, with embedded double quotes doubled; always quoted, so any name is safe."""
    return '"' + identifier.replace('"', '""') + '"'


def literal(value: str) -> str:
    """A standard SQL string literal (standard_conforming_strings is on since PostgreSQL 9.1)."""
    return "'" + value.replace("'", "''") + "'"


def _names(names: Iterable[str]) -> str:
    return ", ".join(quote(n) for n in names)


def _facts(
    obj: Column | Index | ForeignKey | UniqueConstraint | View | Trigger | Table,
) -> dict[str, str]:
    return dict(obj.extra)


# --- columns -------------------------------------------------------------------------------


def column_type(col: Column) -> str:
    """The type to declare: the normal form is valid PostgreSQL; serials become ``serial``."""
    facts = _facts(col)
    if col.auto_increment and "identity" not in facts and col.type in _SERIAL:
        return _SERIAL[col.type]
    return col.type


def column_definition(col: Column) -> str:
    facts = _facts(col)
    parts = [quote(col.name), column_type(col)]
    if col.collation:
        parts.append(f"COLLATE {quote(col.collation)}")
    if col.generated is not None:
        parts.append(f"GENERATED ALWAYS AS ({col.generated}) STORED")
    elif "identity" in facts:
        parts.append(f"GENERATED {facts['identity'].upper()} AS IDENTITY")
    if col.default is not None:
        parts.append(f"DEFAULT {default_expression(col.default)}")
    if not col.nullable:
        parts.append("NOT NULL")
    return " ".join(parts)


_SIMPLE_DEFAULT = re.compile(r"^(?:'(?:[^']|'')*'|-?[\d.eE+-]+|\w+|\w+\([^()]*\))$")


def default_expression(default: str) -> str:
    """A default as a column definition accepts it: anything but a simple term in parentheses.

    (``DEFAULT`` takes a restricted expression; the server drops the parentheses when it prints.)
    """
    return default if _SIMPLE_DEFAULT.match(default) else f"({default})"


def enum_statements(columns: Iterable[Column]) -> list[str]:
    """``CREATE TYPE ... AS ENUM`` for the enum types the columns use, skipped when they exist."""
    out: list[str] = []
    seen: set[str] = set()
    for col in columns:
        facts = _facts(col)
        name, labels = facts.get("enum_type"), facts.get("enum_labels")
        if name is None or labels is None or name in seen:
            continue
        seen.add(name)
        out.append(
            "DO $dbmedic$ BEGIN "
            f"CREATE TYPE {quote(name)} AS ENUM ({labels}); "
            "EXCEPTION WHEN duplicate_object THEN NULL; END $dbmedic$"
        )
    return out


def _comment(kind: str, target: str, comment: str | None) -> str:
    return f"COMMENT ON {kind} {target} IS {literal(comment) if comment is not None else 'NULL'}"


def _column_comment(table: str, col: Column) -> str:
    return _comment("COLUMN", f"{quote(table)}.{quote(col.name)}", col.comment)


# --- constraints and indexes ------------------------------------------------------------------


def _deferrable(facts: dict[str, str]) -> str:
    return f" DEFERRABLE {facts['deferrable']}" if "deferrable" in facts else ""


def primary_key_clause(table: str, pk: PrimaryKey) -> str:
    name = pk.name or f"{table}_pkey"
    return f"CONSTRAINT {quote(name)} PRIMARY KEY ({_names(pk.columns)})"


def unique_clause(u: UniqueConstraint) -> str:
    return f"CONSTRAINT {quote(u.name)} UNIQUE ({_names(u.columns)}){_deferrable(_facts(u))}"


def check_clause(c: CheckConstraint) -> str:
    return f"CONSTRAINT {quote(c.name)} CHECK ({c.expression})"


def foreign_key_clause(fk: ForeignKey) -> str:
    facts = _facts(fk)
    ref = quote(fk.ref_table)
    if "ref_schema" in facts:
        ref = f"{quote(facts['ref_schema'])}.{ref}"
    match = f" MATCH {facts['match']}" if "match" in facts else ""
    return (
        f"CONSTRAINT {quote(fk.name)} FOREIGN KEY ({_names(fk.columns)}) "
        f"REFERENCES {ref} ({_names(fk.ref_columns)}){match} "
        f"ON UPDATE {fk.on_update} ON DELETE {fk.on_delete}{_deferrable(facts)}"
    )


def create_index(table: str, index: Index) -> str:
    facts = _facts(index)
    nulls = facts.get("nulls", "").split(",")
    opclasses = facts.get("opclass", "").split(",")
    keys = []
    for k, col in enumerate(index.columns):
        text = f"({col.name})" if col.expression else quote(col.name)
        if k < len(opclasses) and opclasses[k]:
            text += f" {opclasses[k]}"
        if col.descending:
            text += " DESC"
        if k < len(nulls) and nulls[k]:
            text += f" {nulls[k]}"
        keys.append(text)
    sql = (
        f"CREATE {'UNIQUE ' if index.unique else ''}INDEX {quote(index.name)} "
        f"ON {quote(table)} USING {index.kind} ({', '.join(keys)})"
    )
    if "include" in facts:
        sql += f" INCLUDE ({_names(facts['include'].split(','))})"
    if index.where:
        sql += f" WHERE {index.where}"
    return sql


# --- tables --------------------------------------------------------------------------------


def create_table(table: Table) -> list[str]:
    """CREATE TABLE with columns, keys, checks and foreign keys, then indexes and comments."""
    facts = _facts(table)
    columns = sorted(table.columns.values(), key=lambda c: c.ordinal)
    body = [column_definition(c) for c in columns]
    if table.primary_key:
        body.append(primary_key_clause(table.name, table.primary_key))
    body += [unique_clause(u) for u in table.uniques.values()]
    body += [check_clause(c) for c in table.checks.values()]
    body += [foreign_key_clause(fk) for fk in table.foreign_keys.values()]
    head = "CREATE UNLOGGED TABLE" if facts.get("unlogged") else "CREATE TABLE"
    sql = f"{head} {quote(table.name)} (\n  " + ",\n  ".join(body) + "\n)"
    if "partition_by" in facts:
        sql += f" PARTITION BY {facts['partition_by']}"
    out = [*enum_statements(columns), sql]
    out += [create_index(table.name, i) for i in table.indexes.values()]
    if table.comment is not None:
        out.append(_comment("TABLE", quote(table.name), table.comment))
    out += [_column_comment(table.name, c) for c in columns if c.comment is not None]
    return out


def _alter(table: str, action: str) -> str:
    return f"ALTER TABLE {quote(table)} {action}"


def _table_options(change: AlterTableOptions) -> list[str]:
    before, after = change.before, change.after
    out = []
    if before.comment != after.comment:
        out.append(_comment("TABLE", quote(after.name), after.comment))
    was, now = _facts(before).get("unlogged"), _facts(after).get("unlogged")
    if was != now:
        out.append(_alter(after.name, "SET UNLOGGED" if now else "SET LOGGED"))
    return out


def _add_column(change: AddColumn) -> list[str]:
    col = change.column
    out = [*enum_statements([col]), _alter(change.table, f"ADD COLUMN {column_definition(col)}")]
    if col.comment is not None:
        out.append(_column_comment(change.table, col))
    return out


def _sequence_name(table: str, column: str) -> str:
    """The name PostgreSQL gives a serial column's sequence (before truncation to 63 bytes)."""
    return f"{table}_{column}_seq"


def alter_column(change: AlterColumn) -> list[str]:
    """ALTER TABLE statements that turn ``before`` into ``after`` (one concern each)."""
    t, b, a = change.table, change.before, change.after
    fb, fa = _facts(b), _facts(a)
    col = quote(a.name)
    out: list[str] = []
    if b.name != a.name:
        out.append(_alter(t, f"RENAME COLUMN {quote(b.name)} TO {col}"))
    if b.generated != a.generated:
        if a.generated is None:
            out.append(_alter(t, f"ALTER COLUMN {col} DROP EXPRESSION"))
        else:  # PostgreSQL 15 cannot change a generation expression: the column is recomputed
            out.append(_alter(t, f"DROP COLUMN {col}"))
            out.append(_alter(t, f"ADD COLUMN {column_definition(a)}"))
            if a.comment is not None:
                out.append(_column_comment(t, a))
            return out
    serial_b = b.auto_increment and "identity" not in fb
    serial_a = a.auto_increment and "identity" not in fa
    type_changes = b.type != a.type or b.collation != a.collation
    if b.default is not None and (type_changes or a.default != b.default):
        out.append(_alter(t, f"ALTER COLUMN {col} DROP DEFAULT"))
    if serial_b and not serial_a:
        out.append(_alter(t, f"ALTER COLUMN {col} DROP DEFAULT"))
        out.append(f"DROP SEQUENCE IF EXISTS {quote(_sequence_name(t, b.name))}")
    if fb.get("identity") and fb.get("identity") != fa.get("identity") and not fa.get("identity"):
        out.append(_alter(t, f"ALTER COLUMN {col} DROP IDENTITY"))
    if type_changes:
        out += enum_statements([a])
        collate = f" COLLATE {quote(a.collation)}" if a.collation else ""
        out.append(_alter(t, f"ALTER COLUMN {col} TYPE {a.type}{collate} USING {col}::{a.type}"))
    if b.nullable != a.nullable:
        out.append(_alter(t, f"ALTER COLUMN {col} {'DROP' if a.nullable else 'SET'} NOT NULL"))
    if fa.get("identity") and fa.get("identity") != fb.get("identity"):
        kind = fa["identity"].upper()
        if fb.get("identity"):
            out.append(_alter(t, f"ALTER COLUMN {col} SET GENERATED {kind}"))
        else:
            out.append(_alter(t, f"ALTER COLUMN {col} ADD GENERATED {kind} AS IDENTITY"))
    if serial_a and not serial_b:
        seq = quote(_sequence_name(t, a.name))
        out.append(f"CREATE SEQUENCE IF NOT EXISTS {seq} OWNED BY {quote(t)}.{col}")
        out.append(_alter(t, f"ALTER COLUMN {col} SET DEFAULT nextval({literal(seq)}::regclass)"))
    if a.default is not None and (type_changes or a.default != b.default):
        out.append(_alter(t, f"ALTER COLUMN {col} SET DEFAULT {a.default}"))
    if b.comment != a.comment:
        out.append(_column_comment(t, a))
    return out


def _drop_primary_key(change: DropPrimaryKey) -> list[str]:
    if change.primary_key.name:
        return [_alter(change.table, f"DROP CONSTRAINT {quote(change.primary_key.name)}")]
    # A key from a snapshot of another database may carry no name: look it up on the server.
    table = literal(quote(change.table))
    return [
        "DO $dbmedic$ DECLARE k text; BEGIN "
        f"SELECT conname INTO k FROM pg_constraint WHERE conrelid = {table}::regclass "
        "AND contype = 'p'; "
        f"EXECUTE 'ALTER TABLE ' || {table} || ' DROP CONSTRAINT ' || quote_ident(k); "
        "END $dbmedic$"
    ]


def create_trigger(trigger: Trigger) -> list[str]:
    facts = _facts(trigger)
    events = trigger.event.split(" OR ")
    if "update_of" in facts:
        events = [
            f"UPDATE OF {_names(facts['update_of'].split(','))}" if e == "UPDATE" else e
            for e in events
        ]
    kind = "CONSTRAINT TRIGGER" if facts.get("constraint") else "TRIGGER"
    sql = (
        f"CREATE {kind} {quote(trigger.name)} {trigger.timing} {' OR '.join(events)} "
        f"ON {quote(trigger.table)}"
    )
    if "options" in facts:
        sql += f" {facts['options']}"
    sql += f" FOR EACH {facts.get('for_each', 'ROW')}"
    if "when" in facts:
        sql += f" WHEN ({facts['when']})"
    sql += f" {trigger.body}"
    function = facts.get("function")
    return [function, sql] if function else [sql]


def _view_kind(view: View) -> str:
    return "MATERIALIZED VIEW" if _facts(view).get("materialized") else "VIEW"


def create_view(view: View) -> list[str]:
    out = [f"CREATE {_view_kind(view)} {quote(view.name)} AS {view.definition}"]
    comment = _facts(view).get("comment")
    if comment is not None:
        out.append(_comment(_view_kind(view), quote(view.name), comment))
    return out


# --- dispatch ------------------------------------------------------------------------------

C = TypeVar("C", bound=Change)
_RENDERERS: dict[type[Change], Callable[[Change], list[str]]] = {}


def _renders(kind: type[C]) -> Callable[[Callable[[C], list[str]]], Callable[[C], list[str]]]:
    def deco(fn: Callable[[C], list[str]]) -> Callable[[C], list[str]]:
        _RENDERERS[kind] = fn  # type: ignore[assignment]
        return fn

    return deco


_renders(AddTable)(lambda c: create_table(c.table))
_renders(RenameTable)(lambda c: [_alter(c.old, f"RENAME TO {quote(c.new)}")])
_renders(RenameColumn)(
    lambda c: [_alter(c.table, f"RENAME COLUMN {quote(c.old)} TO {quote(c.new)}")]
)
_renders(DropTable)(lambda c: [f"DROP TABLE {quote(c.table.name)}"])
_renders(AlterTableOptions)(_table_options)
_renders(AddColumn)(_add_column)
_renders(DropColumn)(lambda c: [_alter(c.table, f"DROP COLUMN {quote(c.column.name)}")])
_renders(AlterColumn)(alter_column)
_renders(AddIndex)(lambda c: [create_index(c.table, c.index)])
_renders(DropIndex)(lambda c: [f"DROP INDEX {quote(c.index.name)}"])
_renders(AddUnique)(lambda c: [_alter(c.table, f"ADD {unique_clause(c.unique)}")])
_renders(DropUnique)(lambda c: [_alter(c.table, f"DROP CONSTRAINT {quote(c.unique.name)}")])
_renders(AddPrimaryKey)(
    lambda c: [_alter(c.table, f"ADD {primary_key_clause(c.table, c.primary_key)}")]
)
_renders(DropPrimaryKey)(_drop_primary_key)
_renders(AddForeignKey)(lambda c: [_alter(c.table, f"ADD {foreign_key_clause(c.foreign_key)}")])
_renders(DropForeignKey)(
    lambda c: [_alter(c.table, f"DROP CONSTRAINT {quote(c.foreign_key.name)}")]
)
_renders(AddCheck)(lambda c: [_alter(c.table, f"ADD {check_clause(c.check)}")])
_renders(DropCheck)(lambda c: [_alter(c.table, f"DROP CONSTRAINT {quote(c.check.name)}")])
_renders(AddView)(lambda c: create_view(c.view))
_renders(DropView)(lambda c: [f"DROP {_view_kind(c.view)} {quote(c.view.name)}"])
_renders(AddTrigger)(lambda c: create_trigger(c.trigger))
_renders(DropTrigger)(
    lambda c: [f"DROP TRIGGER {quote(c.trigger.name)} ON {quote(c.trigger.table)}"]
)


def render_change(change: Change) -> list[str]:
    """DDL statements for one change; TypeError for a change kind this module does not know."""
    fn = _RENDERERS.get(type(change))
    if fn is None:
        raise TypeError(f"postgresql cannot render {type(change).__name__}")
    return fn(change)
