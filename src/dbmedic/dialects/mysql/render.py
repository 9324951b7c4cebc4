"""DDL for MySQL and MariaDB: CREATE TABLE and one ALTER/CREATE/DROP per change.

The law these functions keep: applying the DDL rendered from an inspected object and inspecting
again yields the same object. Names go through the dialect's ``quote``; values that DDL cannot
bind (defaults, comments) are written as canonical string literals.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

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
from dbmedic.dialects.mysql.normalize import (
    is_literal_default,
    needs_expression_default,
    quote_string,
)

if TYPE_CHECKING:
    from dbmedic.dialects.mysql import MySQL
    from dbmedic.model import (
        CheckConstraint,
        Column,
        ForeignKey,
        Index,
        IndexColumn,
        PrimaryKey,
        Table,
        Trigger,
        UniqueConstraint,
        View,
    )


def column_definition(d: MySQL, col: Column) -> str:
    """``name type [CHARACTER SET] [COLLATE] [AS (expr) kind] [NULL] [DEFAULT] ... [COMMENT]``."""
    facts = dict(col.extra)
    parts = [d.quote(col.name), col.type]
    if col.charset:
        parts.append(f"CHARACTER SET {col.charset}")
    if col.collation:
        parts.append(f"COLLATE {col.collation}")
    if col.generated is not None:
        kind = facts.get("generated", "virtual").upper()
        parts.append(f"GENERATED ALWAYS AS ({col.generated}) {kind}")
        if d.generated_nullability:
            parts.append("NULL" if col.nullable else "NOT NULL")
    else:
        parts.append("NULL" if col.nullable else "NOT NULL")
        if col.default is not None:
            parts.append("DEFAULT " + default_clause(col.default, col.type))
    if "on_update" in facts:
        parts.append(f"ON UPDATE {facts['on_update']}")
    if col.auto_increment:
        parts.append("AUTO_INCREMENT")
    if facts.get("invisible") == "yes":
        parts.append("INVISIBLE")
    if col.comment:
        parts.append("COMMENT " + quote_string(col.comment))
    return " ".join(parts)


def default_clause(default: str, type_: str) -> str:
    """A literal stays bare; an expression (or any default of a TEXT/BLOB/JSON) gets parentheses."""
    if is_literal_default(default) and not needs_expression_default(type_):
        return default
    return f"({default})"


def _key_part(d: MySQL, col: IndexColumn) -> str:
    text = f"({col.name})" if col.expression else d.quote(col.name)
    if col.prefix:
        text += f"({col.prefix})"
    if col.descending:
        text += " DESC"
    return text


def _names(d: MySQL, names: tuple[str, ...]) -> str:
    return ", ".join(d.quote(n) for n in names)


def _index_options(d: MySQL, facts: dict[str, str]) -> str:
    text = ""
    if facts.get("comment"):
        text += " COMMENT " + quote_string(facts["comment"])
    if facts.get("invisible") == "yes":
        text += " " + d.hidden_index_keyword
    return text


def index_definition(d: MySQL, index: Index) -> str:
    """``[UNIQUE|FULLTEXT|SPATIAL] KEY name (parts) [USING HASH] [COMMENT] [INVISIBLE]``."""
    prefix = {"fulltext": "FULLTEXT ", "spatial": "SPATIAL "}.get(index.kind, "")
    if index.unique:
        prefix = "UNIQUE "
    using = " USING HASH" if index.kind == "hash" else ""
    parts = ", ".join(_key_part(d, c) for c in index.columns)
    return f"{prefix}KEY {d.quote(index.name)} ({parts}){using}" + _index_options(
        d, dict(index.extra)
    )


def unique_definition(d: MySQL, unique: UniqueConstraint) -> str:
    return f"UNIQUE KEY {d.quote(unique.name)} ({_names(d, unique.columns)})" + _index_options(
        d, dict(unique.extra)
    )


def primary_key_definition(d: MySQL, pk: PrimaryKey) -> str:
    return f"PRIMARY KEY ({_names(d, pk.columns)})"


def foreign_key_definition(d: MySQL, fk: ForeignKey) -> str:
    ref = d.quote(fk.ref_table)
    schema = dict(fk.extra).get("ref_schema")
    if schema:
        ref = f"{d.quote(schema)}.{ref}"
    return (
        f"CONSTRAINT {d.quote(fk.name)} FOREIGN KEY ({_names(d, fk.columns)}) "
        f"REFERENCES {ref} ({_names(d, fk.ref_columns)}) "
        f"ON DELETE {fk.on_delete} ON UPDATE {fk.on_update}"
    )


def check_definition(d: MySQL, check: CheckConstraint) -> str:
    return f"CONSTRAINT {d.quote(check.name)} CHECK ({check.expression})"


def table_options(table: Table) -> list[str]:
    options = []
    if table.engine:
        options.append(f"ENGINE={table.engine}")
    if table.charset:
        options.append(f"DEFAULT CHARSET={table.charset}")
    if table.collation:
        options.append(f"COLLATE={table.collation}")
    if table.comment is not None:
        options.append("COMMENT=" + quote_string(table.comment))
    return options


def create_table(d: MySQL, table: Table) -> list[str]:
    """One CREATE TABLE carrying columns, keys, indexes, foreign keys and checks."""
    lines = [column_definition(d, c) for c in sorted(table.columns.values(), key=_ordinal)]
    if table.primary_key:
        lines.append(primary_key_definition(d, table.primary_key))
    lines += [unique_definition(d, u) for _, u in sorted(table.uniques.items())]
    lines += [index_definition(d, i) for _, i in sorted(table.indexes.items())]
    lines += [foreign_key_definition(d, f) for _, f in sorted(table.foreign_keys.items())]
    lines += [check_definition(d, c) for _, c in sorted(table.checks.items())]
    body = ",\n  ".join(lines)
    options = " ".join(table_options(table))
    return [f"CREATE TABLE {d.quote(table.name)} (\n  {body}\n) {options}".rstrip()]


def _ordinal(col: Column) -> tuple[int, str]:
    return (col.ordinal, col.name)


def create_view(d: MySQL, view: View) -> str:
    facts = dict(view.extra)
    security = f"SQL SECURITY {facts['security']} " if "security" in facts else ""
    check = f" WITH {facts['check_option']} CHECK OPTION" if "check_option" in facts else ""
    return f"CREATE {security}VIEW {d.quote(view.name)} AS {view.definition}{check}"


def create_trigger(d: MySQL, trigger: Trigger) -> str:
    return (
        f"CREATE TRIGGER {d.quote(trigger.name)} {trigger.timing} {trigger.event} "
        f"ON {d.quote(trigger.table)} FOR EACH ROW {trigger.body}"
    )


def _alter_options(before: Table, after: Table) -> list[str]:
    options = []
    if after.engine and after.engine != before.engine:
        options.append(f"ENGINE={after.engine}")
    if (after.charset, after.collation) != (before.charset, before.collation):
        if after.charset:
            options.append(f"DEFAULT CHARACTER SET {after.charset}")
        if after.collation:
            options.append(f"COLLATE {after.collation}")
    if after.comment != before.comment:
        options.append("COMMENT=" + quote_string(after.comment or ""))
    return options


def render_change(d: MySQL, change: Change) -> list[str]:
    """DDL statements for one change (no trailing semicolons)."""
    q = d.quote
    match change:
        case AddTable(table=table):
            return create_table(d, table)
        case DropTable(table=table):
            return [f"DROP TABLE {q(table.name)}"]
        case RenameTable(old=old, new=new):
            return [f"RENAME TABLE {q(old)} TO {q(new)}"]
        case RenameColumn(table=table, old=old, new=new):
            # MySQL 8.0+ and MariaDB 10.5.2+; older servers need CHANGE with the full definition.
            return [f"ALTER TABLE {q(table)} RENAME COLUMN {q(old)} TO {q(new)}"]
        case AlterTableOptions(before=before, after=after):
            options = _alter_options(before, after)
            return [f"ALTER TABLE {q(after.name)} " + ", ".join(options)] if options else []
        case AddColumn(table=table, column=col):
            return [f"ALTER TABLE {q(table)} ADD COLUMN {column_definition(d, col)}"]
        case DropColumn(table=table, column=col):
            return [f"ALTER TABLE {q(table)} DROP COLUMN {q(col.name)}"]
        case AlterColumn(table=table, before=before, after=after):
            if before.name != after.name:
                return [
                    f"ALTER TABLE {q(table)} CHANGE COLUMN {q(before.name)} "
                    + column_definition(d, after)
                ]
            return [f"ALTER TABLE {q(table)} MODIFY COLUMN {column_definition(d, after)}"]
        case AddIndex(table=table, index=index):
            return [f"ALTER TABLE {q(table)} ADD {index_definition(d, index)}"]
        case DropIndex(table=table, index=index):
            return [f"ALTER TABLE {q(table)} DROP INDEX {q(index.name)}"]
        case AddUnique(table=table, unique=unique):
            return [f"ALTER TABLE {q(table)} ADD {unique_definition(d, unique)}"]
        case DropUnique(table=table, unique=unique):
            return [f"ALTER TABLE {q(table)} DROP INDEX {q(unique.name)}"]
        case AddPrimaryKey(table=table, primary_key=pk):
            return [f"ALTER TABLE {q(table)} ADD {primary_key_definition(d, pk)}"]
        case DropPrimaryKey(table=table):
            return [f"ALTER TABLE {q(table)} DROP PRIMARY KEY"]
        case AddForeignKey(table=table, foreign_key=fk):
            return [f"ALTER TABLE {q(table)} ADD {foreign_key_definition(d, fk)}"]
        case DropForeignKey(table=table, foreign_key=fk):
            return [f"ALTER TABLE {q(table)} DROP FOREIGN KEY {q(fk.name)}"]
        case AddCheck(table=table, check=check):
            return [f"ALTER TABLE {q(table)} ADD {check_definition(d, check)}"]
        case DropCheck(table=table, check=check):
            return [f"ALTER TABLE {q(table)} DROP {d.drop_check_keyword} {q(check.name)}"]
        case AddView(view=view):
            return [create_view(d, view)]
        case DropView(view=view):
            return [f"DROP VIEW {q(view.name)}"]
        case AddTrigger(trigger=trigger):
            return [create_trigger(d, trigger)]
        case DropTrigger(trigger=trigger):
            return [f"DROP TRIGGER {q(trigger.name)}"]
    raise TypeError(f"{d.name} cannot render {type(change).__name__}")
