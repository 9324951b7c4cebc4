"""ALTER TABLE actions -> effects (split from :mod:`dbmedic.effects` to keep modules small)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TypeVar

from dbmedic.changes import (
    AddColumn,
    AddForeignKey,
    AddPrimaryKey,
    AlterColumn,
    Change,
    DropCheck,
    DropColumn,
    DropForeignKey,
    DropIndex,
    DropPrimaryKey,
    DropUnique,
    RenameColumn,
    RenameTable,
)
from dbmedic.model import CheckConstraint, Column, ForeignKey, Index, PrimaryKey, Table

if TYPE_CHECKING:
    from dbmedic.effects import Effect, _Mapper

V = TypeVar("V")


def find(mapping: Mapping[str, V], name: str, case_insensitive: bool) -> V | None:
    """``mapping[name]``, comparing names without case where the server does."""
    if name in mapping:
        return mapping[name]
    if case_insensitive:
        low = name.lower()
        for key, value in mapping.items():
            if key.lower() == low:
                return value
    return None


def alter_effects(m: _Mapper, tree: Any) -> list[Effect]:
    from sqlglot import exp

    from dbmedic.effects import Effect, Guard, _Unknown

    table = m.table_name(tree.this)
    current = m.lookup(table)
    ci = m.rules.names_case_insensitive
    effects: list[Effect] = []
    # Keys added earlier in the same statement count for default names.
    uniques = dict(current.uniques) if current else {}
    indexes = dict(current.indexes) if current else {}
    fks = dict(current.foreign_keys) if current else {}
    checks = dict(current.checks) if current else {}

    def column_now(name: str) -> Column | None:
        return find(current.columns, name, ci) if current else None

    for action in tree.args.get("actions") or []:
        if isinstance(action, exp.ColumnDef):
            col, inline = m.column(action)
            guard = Guard.IF_NOT_EXISTS if action.args.get("exists") else Guard.NONE
            effects.append(Effect(AddColumn(table, col), guard, after=_after(m, action)))
            for key in inline:
                for change in m.key_changes(
                    table, None, key, (col.name,), uniques, indexes, fks, checks
                ):
                    effects.append(Effect(change, guard))
                    _remember(change, uniques, indexes, fks, checks)
        elif isinstance(action, exp.AddConstraint):
            for item in action.expressions:
                pairs = (
                    [(m.name(item.this), inner) for inner in item.expressions]
                    if isinstance(item, exp.Constraint)
                    else [(None, item)]
                )
                for name, node in pairs:
                    for change in m.key_changes(
                        table, name, node, None, uniques, indexes, fks, checks
                    ):
                        effects.append(Effect(change))
                        _remember(change, uniques, indexes, fks, checks)
        elif isinstance(action, exp.DropPrimaryKey):
            pk = current.primary_key if current and current.primary_key else PrimaryKey(())
            effects.append(Effect(DropPrimaryKey(table, pk)))
        elif isinstance(action, exp.Drop):
            guard = Guard.IF_EXISTS if action.args.get("exists") else Guard.NONE
            for target in action.args.get("tables") or []:
                effects.append(Effect(_drop_action(m, table, current, action, target), guard))
        elif isinstance(action, exp.ModifyColumn):
            cd = action.this
            col, inline = m.column(cd)
            if inline:
                raise _Unknown("MODIFY/CHANGE with an inline key is not understood")
            old_name = (
                m.name(action.args["rename_from"]) if action.args.get("rename_from") else col.name
            )
            before = column_now(old_name) or Column(old_name, "")
            if before.name != col.name:
                effects.append(Effect(RenameColumn(table, before.name, col.name)))
            col = replace(col, ordinal=before.ordinal)
            renamed = replace(before, name=col.name)
            effects.append(Effect(AlterColumn(table, renamed, col), after=_after(m, action)))
        elif isinstance(action, exp.AlterColumn):
            name = m.name(action.this)
            before = column_now(name) or Column(name, "")
            after, touches = _partial_alter(m, action, before)
            effects.append(Effect(AlterColumn(table, before, after), touches=touches))
        elif isinstance(action, exp.RenameColumn):
            guard = Guard.IF_EXISTS if action.args.get("exists") else Guard.NONE
            old = m.name(action.this.this if isinstance(action.this, exp.Column) else action.this)
            new = m.name(
                action.args["to"].this
                if isinstance(action.args["to"], exp.Column)
                else action.args["to"]
            )
            effects.append(Effect(RenameColumn(table, old, new), guard))
        elif isinstance(action, exp.AlterRename):
            effects.append(Effect(RenameTable(table, m.table_name(action.this))))
        else:
            raise _Unknown(f"ALTER TABLE action {m.rules.sql(action)!r} is not understood")
    return effects


def _after(m: _Mapper, node: Any) -> str | None:
    pos = node.args.get("position")
    if pos is None:
        return None
    if str(pos.args.get("position", "")).lower() == "after" and pos.this is not None:
        target = (
            pos.this.this
            if hasattr(pos.this, "this") and not isinstance(pos.this.this, str)
            else pos.this
        )
        return m.name(target)
    return None


def _partial_alter(m: _Mapper, action: Any, before: Column) -> tuple[Column, tuple[str, ...]]:
    from dbmedic.effects import _Unknown
    from dbmedic.normalize import normalize_type

    changes: dict[str, Any] = {}
    if action.args.get("dtype") is not None:
        raw = m.rules.type_sql(action.args["dtype"])
        changes["type"] = normalize_type(raw, m.rules.family)
        collate = action.args.get("collate")
        if collate:
            changes["collation"] = collate.name.strip("'\"").lower()
    allow_null = action.args.get("allow_null")
    if allow_null is not None:
        changes["nullable"] = bool(allow_null)
    elif action.args.get("drop"):
        changes["default"] = None
    if action.args.get("default") is not None:
        changes["default"] = m.default(action.args["default"], changes.get("type", before.type))
    if not changes:
        raise _Unknown(f"ALTER COLUMN {m.rules.sql(action)!r} is not understood")
    return replace(before, **changes), tuple(sorted(changes))


def _drop_action(m: _Mapper, table: str, current: Table | None, action: Any, target: Any) -> Change:
    from dbmedic.effects import _Unknown

    kind = str(action.args.get("kind") or "COLUMN").upper()
    ci = m.rules.names_case_insensitive
    from sqlglot import exp

    name = m.name(target.this) if isinstance(target, (exp.Column, exp.Table)) else m.name(target)
    if kind == "COLUMN":
        col = find(current.columns, name, ci) if current else None
        return DropColumn(table, col or Column(name, ""))
    if kind in ("INDEX", "KEY"):
        return m.drop_index_change(table, name)
    if kind == "FOREIGN KEY":
        fk = find(current.foreign_keys, name, ci) if current else None
        return DropForeignKey(table, fk or ForeignKey(name, (), "", ()))
    if kind == "CHECK":
        ck = find(current.checks, name, ci) if current else None
        return DropCheck(table, ck or CheckConstraint(name, ""))
    if kind == "CONSTRAINT":
        if current is None:
            raise _Unknown(f"DROP CONSTRAINT {name}: what kind of key it is needs the schema")
        fk = find(current.foreign_keys, name, ci)
        if fk is not None:
            return DropForeignKey(table, fk)
        uq = find(current.uniques, name, ci)
        if uq is not None:
            return DropUnique(table, uq)
        ck = find(current.checks, name, ci)
        if ck is not None:
            return DropCheck(table, ck)
        if current.primary_key is not None and current.primary_key.name == name:
            return DropPrimaryKey(table, current.primary_key)
        ix = find(current.indexes, name, ci)
        if ix is not None:
            return DropIndex(table, ix)
        # Not there: a drop of a missing constraint; the simulation reports it as such.
        return DropForeignKey(table, ForeignKey(name, (), "", ()))
    raise _Unknown(f"DROP {kind} inside ALTER TABLE is not understood")


def _remember(
    change: Change,
    uniques: dict[str, Any],
    indexes: dict[str, Index],
    fks: dict[str, ForeignKey],
    checks: dict[str, CheckConstraint],
) -> None:
    from dbmedic.changes import AddCheck, AddIndex, AddUnique

    if isinstance(change, AddUnique):
        uniques[change.unique.name] = change.unique
    elif isinstance(change, AddIndex):
        indexes[change.index.name] = change.index
    elif isinstance(change, AddForeignKey):
        fks[change.foreign_key.name] = change.foreign_key
    elif isinstance(change, AddCheck):
        checks[change.check.name] = change.check
    elif isinstance(change, AddPrimaryKey):
        pass
