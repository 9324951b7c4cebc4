"""What a migration statement does to a schema: SQL text in, typed :class:`Change` objects out.

``statement_effects(sql, dialect)`` parses with sqlglot (``read=`` mysql for MySQL/MariaDB,
postgres, sqlite) and maps DDL to the Changes it would make, with the same normalisation the
inspectors use (:mod:`dbmedic.normalize`). ``IF [NOT] EXISTS`` guards are kept on each
:class:`Effect`, so a simulation knows a statement is idempotent. Statements that only touch data
are recorded as data statements; a statement sqlglot cannot parse, or parses only as an opaque
command, is an :class:`UnknownEffect`, never a guess. Pure: no database connection.

Where a statement changes part of an existing object (``ALTER COLUMN ... SET NOT NULL``,
``MODIFY``), the definition before is taken from ``schema`` when given; without it ``before`` is a
placeholder of type ``""`` and :attr:`Effect.touches` names the fields the statement sets.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from enum import StrEnum
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
from dbmedic.effects_sql import FAMILY_RULES, Rules, Statement, split_statements
from dbmedic.model import (
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    IndexColumn,
    PrimaryKey,
    Schema,
    Table,
    Trigger,
    UniqueConstraint,
    View,
    extra,
)
from dbmedic.normalize import (
    family_of,
    is_serial,
    normalize_action,
    normalize_default,
    normalize_type,
    quote_literal,
)

__all__ = [
    "Effect",
    "Effects",
    "Guard",
    "Statement",
    "StatementKind",
    "UnknownEffect",
    "script_effects",
    "split_statements",
    "statement_effects",
]

Lookup = Callable[[str], Table | None]


class Guard(StrEnum):
    NONE = "none"
    IF_NOT_EXISTS = "if_not_exists"
    IF_EXISTS = "if_exists"
    OR_REPLACE = "or_replace"


class StatementKind(StrEnum):
    SCHEMA = "schema"
    DATA = "data"
    """INSERT, UPDATE, DELETE, SELECT, SET, TRUNCATE...: no schema effect."""
    TRANSACTION = "transaction"
    """BEGIN, COMMIT, ROLLBACK, SAVEPOINT: no effect."""
    EMPTY = "empty"
    """Only comments."""
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Effect:
    """One change a statement makes, with the guard that makes it idempotent."""

    change: Change
    guard: Guard = Guard.NONE
    touches: tuple[str, ...] = ()
    """For AlterColumn: the Column fields the statement sets (``("nullable",)``); empty when the
    statement gives the whole definition (MySQL MODIFY/CHANGE)."""
    after: str | None = None
    """MySQL ``ADD ... AFTER col`` / ``MODIFY ... AFTER col``: the column it must follow."""
    implicit: bool = False
    """Made by the server on its own (MySQL's index for a foreign key), not written in the SQL."""


@dataclass(frozen=True, slots=True)
class UnknownEffect:
    """A statement whose effect dbmedic does not know; lint reports it, nothing guesses it."""

    sql: str
    reason: str


@dataclass(frozen=True, slots=True)
class Effects:
    """What one statement does. ``changes`` is the plain Change list."""

    sql: str
    dialect: str
    kind: StatementKind
    effects: tuple[Effect, ...] = ()
    unknown: UnknownEffect | None = None
    data_verb: str | None = None
    """INSERT, UPDATE, DELETE, SELECT, SET, TRUNCATE... for data statements."""
    data_tables: tuple[str, ...] = ()
    line: int | None = field(default=None, compare=False)
    """1-based line of the statement in its file, when it came from a script."""

    @property
    def changes(self) -> tuple[Change, ...]:
        return tuple(e.change for e in self.effects)

    @property
    def idempotent(self) -> bool:
        """Every effect is guarded (IF [NOT] EXISTS / OR REPLACE) or there is none."""
        return self.unknown is None and all(e.guard is not Guard.NONE for e in self.effects)


class _Unknown(Exception):
    """Raised inside the mapper for a construct it does not handle: becomes an UnknownEffect."""


_log_filter_installed = False


def _quiet_sqlglot() -> None:
    """sqlglot logs a warning for every statement it keeps as a Command; we report those ourselves."""
    global _log_filter_installed
    if not _log_filter_installed:
        logging.getLogger("sqlglot").addFilter(
            lambda record: "Falling back to parsing as a 'Command'" not in record.getMessage()
        )
        _log_filter_installed = True


def statement_effects(sql: str, dialect: str, schema: Schema | None = None) -> Effects:
    """The effects of one SQL statement (several, separated by ``;``, are taken in order).

    ``dialect`` is mysql, mariadb, postgresql or sqlite. ``schema`` resolves partial changes
    (ALTER COLUMN SET NOT NULL) and default names; without it they carry placeholders. Pure; never
    raises for bad SQL (that becomes an UnknownEffect).
    """
    lookup: Lookup = schema.tables.get if schema is not None else _no_table
    return effects_with_lookup(sql, dialect, lookup)


def script_effects(script: str, dialect: str, schema: Schema | None = None) -> list[Effects]:
    """Effects of every statement of a migration file, each with its line number."""
    lookup: Lookup = schema.tables.get if schema is not None else _no_table
    return [
        replace(effects_with_lookup(st.sql, dialect, lookup), line=st.line)
        for st in split_statements(script, dialect)
    ]


def _no_table(name: str) -> Table | None:
    return None


def effects_with_lookup(sql: str, dialect: str, lookup: Lookup) -> Effects:
    """As :func:`statement_effects`, reading current tables through ``lookup`` (the simulator's)."""
    import sqlglot
    from sqlglot.errors import SqlglotError

    _quiet_sqlglot()
    rules = FAMILY_RULES[family_of(dialect)]
    stripped = _strip_comments(sql)
    if not stripped:
        return Effects(sql, dialect, StatementKind.EMPTY)
    special = _special_statement(stripped, sql, dialect, rules)
    if special is not None:
        return special
    try:
        trees = [t for t in sqlglot.parse(sql, read=rules.read) if t is not None]
    except SqlglotError as e:
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        return _unknown(sql, dialect, f"sqlglot cannot parse it: {reason}")
    except (RecursionError, ValueError) as e:  # pathological input
        return _unknown(sql, dialect, f"sqlglot cannot parse it: {type(e).__name__}")
    results = [_effects_of_tree(tree, sql, dialect, rules, lookup) for tree in trees]
    if not results:
        return Effects(sql, dialect, StatementKind.EMPTY)
    if len(results) == 1:
        return results[0]
    return _merge(sql, dialect, results)


def _merge(sql: str, dialect: str, results: list[Effects]) -> Effects:
    order = [StatementKind.UNKNOWN, StatementKind.SCHEMA, StatementKind.DATA]
    kind = next((k for k in order if any(r.kind is k for r in results)), StatementKind.TRANSACTION)
    unknown = next((r.unknown for r in results if r.unknown is not None), None)
    return Effects(
        sql,
        dialect,
        kind,
        tuple(e for r in results for e in r.effects),
        unknown,
        next((r.data_verb for r in results if r.data_verb), None),
        tuple(t for r in results for t in r.data_tables),
    )


def _unknown(sql: str, dialect: str, reason: str) -> Effects:
    return Effects(sql, dialect, StatementKind.UNKNOWN, unknown=UnknownEffect(sql, reason))


def _strip_comments(sql: str) -> str:
    text = re.sub(r"/\*.*?\*/", " ", sql, flags=re.DOTALL)
    text = re.sub(r"(--|#)[^\n]*", " ", text)
    return text.strip().rstrip(";").strip()


# --- statements sqlglot keeps as opaque commands, recognised by their fixed header ----------

_RENAME_TABLE = re.compile(r"^RENAME\s+TABLES?\s+(.+)$", re.IGNORECASE | re.DOTALL)
_RENAME_PAIR = re.compile(r"^\s*(\S+)\s+TO\s+(\S+)\s*$", re.IGNORECASE)
_CREATE_TRIGGER = re.compile(
    r"^CREATE\s+(?:OR\s+REPLACE\s+)?(?:DEFINER\s*=\s*\S+\s+)?(?:TEMP(?:ORARY)?\s+)?TRIGGER\s+"
    r"(IF\s+NOT\s+EXISTS\s+)?(\S+)\s+(BEFORE|AFTER|INSTEAD\s+OF)\s+(.+?)\s+ON\s+(\S+)\s*(.*)$",
    re.IGNORECASE | re.DOTALL,
)
_DROP_TRIGGER = re.compile(
    r"^DROP\s+TRIGGER\s+(IF\s+EXISTS\s+)?(\S+)(?:\s+ON\s+(\S+))?", re.IGNORECASE
)
_TRANSACTION = re.compile(
    r"^(BEGIN|START\s+TRANSACTION|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|END)\b", re.IGNORECASE
)
_DATA_VERBS = re.compile(
    r"^(INSERT|UPDATE|DELETE|SELECT|SET|TRUNCATE|REPLACE|LOCK|UNLOCK|PRAGMA|ANALYZE|VACUUM|"
    r"OPTIMIZE|COPY|WITH|VALUES|USE|SHOW|EXPLAIN)\b",
    re.IGNORECASE,
)


def _special_statement(stripped: str, sql: str, dialect: str, rules: Rules) -> Effects | None:
    if _TRANSACTION.match(stripped) and not re.match(
        r"^BEGIN\s+(?!TRANSACTION|WORK|DEFERRED|IMMEDIATE|EXCLUSIVE)\w", stripped, re.IGNORECASE
    ):
        return Effects(sql, dialect, StatementKind.TRANSACTION)
    m = _RENAME_TABLE.match(stripped)
    if m:
        effects = []
        for pair in m.group(1).split(","):
            pm = _RENAME_PAIR.match(pair)
            if not pm:
                return _unknown(sql, dialect, "RENAME TABLE with a form dbmedic does not read")
            effects.append(Effect(RenameTable(rules.ident(pm.group(1)), rules.ident(pm.group(2)))))
        return Effects(sql, dialect, StatementKind.SCHEMA, tuple(effects))
    m = _CREATE_TRIGGER.match(stripped)
    if m:
        guard = Guard.IF_NOT_EXISTS if m.group(1) else Guard.NONE
        if re.match(r"^CREATE\s+OR\s+REPLACE", stripped, re.IGNORECASE):
            guard = Guard.OR_REPLACE
        body = re.sub(r"\s+", " ", m.group(6)).strip()
        trigger = Trigger(
            name=rules.ident(m.group(2)),
            table=rules.ident(m.group(5)),
            timing=re.sub(r"\s+", " ", m.group(3).upper()),
            event=re.sub(r"\s+", " ", m.group(4).upper()),
            body=body,
        )
        return Effects(sql, dialect, StatementKind.SCHEMA, (Effect(AddTrigger(trigger), guard),))
    m = _DROP_TRIGGER.match(stripped)
    if m:
        table = rules.ident(m.group(3)) if m.group(3) else ""
        trigger = Trigger(rules.ident(m.group(2)), table, "", "", "")
        guard = Guard.IF_EXISTS if m.group(1) else Guard.NONE
        return Effects(sql, dialect, StatementKind.SCHEMA, (Effect(DropTrigger(trigger), guard),))
    m = _DATA_VERBS.match(stripped)
    if m and not re.match(r"^WITH\b.*\b(CREATE|ALTER|DROP)\b", stripped, re.IGNORECASE | re.DOTALL):
        verb = m.group(1).upper()
        tables = _data_tables(stripped, rules)
        return Effects(sql, dialect, StatementKind.DATA, data_verb=verb, data_tables=tables)
    return None


def _data_tables(stripped: str, rules: Rules) -> tuple[str, ...]:
    m = re.match(
        r"^(?:INSERT\s+(?:IGNORE\s+)?INTO|REPLACE\s+INTO|UPDATE|DELETE\s+FROM|TRUNCATE(?:\s+TABLE)?)\s+(\S+)",
        stripped,
        re.IGNORECASE,
    )
    if not m:
        return ()
    name = m.group(1).split("(")[0]
    return (rules.ident(name),)


# --- sqlglot trees -> changes -----------------------------------------------------------------


def _effects_of_tree(tree: Any, sql: str, dialect: str, rules: Rules, lookup: Lookup) -> Effects:
    from sqlglot import exp

    try:
        if isinstance(tree, exp.Command):
            head = f"{tree.this} {str(tree.expression)[:40]}".strip()
            return _unknown(sql, dialect, f"sqlglot reads it only as an opaque command ({head}...)")
        if isinstance(tree, (exp.Transaction, exp.Commit, exp.Rollback)):
            return Effects(sql, dialect, StatementKind.TRANSACTION)
        if isinstance(
            tree,
            (
                exp.Insert,
                exp.Update,
                exp.Delete,
                exp.Select,
                exp.Set,
                exp.TruncateTable,
                exp.Union,
                exp.Use,
            ),
        ):
            verb = type(tree).__name__.upper().replace("TRUNCATETABLE", "TRUNCATE")
            tables = tuple(
                sorted(
                    {
                        rules.name(t.this)
                        for t in tree.find_all(exp.Table)
                        if isinstance(t.this, exp.Identifier)
                    }
                )
            )
            return Effects(sql, dialect, StatementKind.DATA, data_verb=verb, data_tables=tables)
        mapper = _Mapper(rules, lookup)
        if isinstance(tree, exp.Create):
            effects = mapper.create(tree)
        elif isinstance(tree, exp.Alter):
            effects = mapper.alter(tree)
        elif isinstance(tree, exp.Drop):
            effects = mapper.drop(tree)
        elif isinstance(tree, exp.Comment):
            effects = mapper.comment(tree)
        else:
            raise _Unknown(f"{type(tree).__name__} statements are not understood")
    except _Unknown as e:
        return _unknown(sql, dialect, str(e))
    return Effects(sql, dialect, StatementKind.SCHEMA, tuple(effects))


class _Mapper:
    """Maps one parsed statement to effects, with the family's rules and the current tables."""

    def __init__(self, rules: Rules, lookup: Lookup) -> None:
        self.rules = rules
        self.lookup = lookup

    # --- helpers -----------------------------------------------------------------------------
    def name(self, node: Any) -> str:
        return self.rules.name(node)

    def table_name(self, node: Any) -> str:
        from sqlglot import exp

        if isinstance(node, exp.Schema):
            node = node.this
        if isinstance(node, exp.Table):
            return self.name(node.this)
        return self.name(node)

    def col_names(self, nodes: Iterable[Any]) -> tuple[str, ...]:
        from sqlglot import exp

        out = []
        for n in nodes:
            if isinstance(n, exp.Ordered):
                n = n.this
            if isinstance(n, exp.ColumnPrefix):
                n = n.this
            if isinstance(n, (exp.Column, exp.Identifier)):
                out.append(self.name(n if isinstance(n, exp.Identifier) else n.this))
            else:
                raise _Unknown(f"an expression where a column name was expected: {n.sql()}")
        return tuple(out)

    def index_columns(self, nodes: Iterable[Any]) -> tuple[IndexColumn, ...]:
        from sqlglot import exp

        cols = []
        for n in nodes:
            desc = False
            if isinstance(n, exp.Ordered):
                desc = bool(n.args.get("desc"))
                n = n.this
            prefix = None
            if isinstance(n, exp.ColumnPrefix):
                prefix = int(n.expression.name)
                n = n.this
            if isinstance(n, exp.Column):
                n = n.this
            if isinstance(n, exp.Identifier):
                cols.append(IndexColumn(self.name(n), desc, prefix))
            else:
                cols.append(IndexColumn(self.rules.sql(n), desc, None, True))
        return tuple(cols)

    # --- columns -----------------------------------------------------------------------------
    def column(self, cd: Any, ordinal: int = 0) -> tuple[Column, list[Any]]:
        """A Column from a ColumnDef, and the inline key constraints left for the table."""
        from sqlglot import exp

        kind = cd.args.get("kind")
        raw_type = "" if kind is None else self.rules.type_sql(kind)
        type_ = normalize_type(raw_type, self.rules.family) if raw_type else ""
        col: dict[str, Any] = {"nullable": True}
        facts: dict[str, str | None] = {}
        keys: list[Any] = []
        if kind is not None and is_serial(raw_type):
            col["auto_increment"] = True
            col["nullable"] = False
        for c in cd.constraints:
            k = c.kind
            if isinstance(k, exp.NotNullColumnConstraint):
                col["nullable"] = bool(k.args.get("allow_null"))
            elif isinstance(k, exp.DefaultColumnConstraint):
                col["default"] = self.default(k.this, type_)
            elif isinstance(
                k, (exp.AutoIncrementColumnConstraint, exp.GeneratedAsIdentityColumnConstraint)
            ):
                col["auto_increment"] = True
                if isinstance(k, exp.GeneratedAsIdentityColumnConstraint):
                    col["nullable"] = False
            elif isinstance(k, exp.ComputedColumnConstraint):
                col["generated"] = self.rules.sql(k.this)
                facts["generated"] = "stored" if k.args.get("persisted") else "virtual"
            elif isinstance(k, exp.CharacterSetColumnConstraint):
                col["charset"] = k.this.name.lower()
            elif isinstance(k, exp.CollateColumnConstraint):
                col["collation"] = k.this.name.strip("'\"").lower()
            elif isinstance(k, exp.CommentColumnConstraint):
                col["comment"] = k.this.name
            elif isinstance(k, exp.OnUpdateColumnConstraint):
                facts["on_update"] = normalize_default(
                    self.rules.sql(k.this), self.rules.family, type_
                )
            elif isinstance(
                k,
                (
                    exp.PrimaryKeyColumnConstraint,
                    exp.UniqueColumnConstraint,
                    exp.Reference,
                    exp.CheckColumnConstraint,
                ),
            ):
                keys.append(k)
            elif isinstance(k, exp.ColumnConstraint) or k is None:
                continue
            else:
                raise _Unknown(f"column option {self.rules.sql(k)!r} is not understood")
        if (
            any(isinstance(k, exp.PrimaryKeyColumnConstraint) for k in keys)
            and self.rules.pk_implies_not_null
        ):
            col["nullable"] = False
        name = self.name(cd.this)
        return (
            Column(
                name, type_, extra=extra(**facts), ordinal=ordinal, raw_type=raw_type.lower(), **col
            ),
            keys,
        )

    def default(self, node: Any, type_: str) -> str | None:
        from sqlglot import exp

        if isinstance(node, exp.Null):
            return None
        if isinstance(node, exp.Literal):
            text = quote_literal(node.this) if node.is_string else str(node.this)
        elif isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal):
            text = "-" + str(node.this.this)
        elif isinstance(node, exp.Boolean):
            text = "TRUE" if node.this else "FALSE"
        elif isinstance(node, exp.Cast) and isinstance(node.this, exp.Literal):
            return self.default(node.this, type_)
        else:
            text = self.rules.sql(node)
        return normalize_default(text, self.rules.family, type_)

    # --- CREATE ------------------------------------------------------------------------------
    def create(self, tree: Any) -> list[Effect]:
        from sqlglot import exp

        kind = str(tree.args.get("kind") or "").upper()
        guard = Guard.IF_NOT_EXISTS if tree.args.get("exists") else Guard.NONE
        if tree.args.get("replace"):
            guard = Guard.OR_REPLACE
        if kind == "TABLE":
            if not isinstance(tree.this, exp.Schema):
                raise _Unknown("CREATE TABLE ... LIKE / AS SELECT: columns come from elsewhere")
            return self.create_table(tree, guard)
        if kind == "INDEX":
            return self.create_index(tree, guard)
        if kind == "VIEW":
            view = View(self.table_name(tree.this), _squash(self.rules.sql(tree.expression)))
            return [Effect(AddView(view), guard)]
        if kind == "TRIGGER":
            props = tree.args.get("properties")
            tp = props.find(exp.TriggerProperties) if props else None
            if tp is None:
                raise _Unknown("CREATE TRIGGER without a table")
            events = " OR ".join(str(e.this).upper() for e in tp.args.get("events") or [])
            execute = tp.args.get("execute")
            trigger = Trigger(
                self.name(tree.this),
                self.table_name(tp.args["table"]),
                str(tp.args.get("timing") or "").upper(),
                events,
                _squash(self.rules.sql(execute)) if execute else "",
            )
            return [Effect(AddTrigger(trigger), guard)]
        raise _Unknown(
            f"CREATE {kind or type(tree.this).__name__} has no schema effect dbmedic tracks"
        )

    def create_table(self, tree: Any, guard: Guard) -> list[Effect]:
        from sqlglot import exp

        schema = tree.this
        name = self.table_name(schema)
        columns: dict[str, Column] = {}
        keys: list[tuple[str | None, Any, tuple[str, ...] | None]] = []  # (name, node, columns)
        for i, item in enumerate(schema.expressions, start=1):
            if isinstance(item, exp.ColumnDef):
                col, inline = self.column(item, ordinal=len(columns) + 1)
                columns[col.name] = col
                keys.extend((None, k, (col.name,)) for k in inline)
            elif isinstance(item, exp.Constraint):
                for inner in item.expressions:
                    keys.append((self.name(item.this), inner, None))
            else:
                keys.append((None, item, None))
            del i
        table = Table(name, columns, **self.table_options(tree))
        table = self.apply_keys(table, keys)
        return [Effect(AddTable(table), guard)]

    def table_options(self, tree: Any) -> dict[str, Any]:
        from sqlglot import exp

        out: dict[str, Any] = {}
        props = tree.args.get("properties")
        for p in props.expressions if props else []:
            if isinstance(p, exp.EngineProperty):
                out["engine"] = (
                    p.this.name.lower() if hasattr(p.this, "name") else str(p.this).lower()
                )
            elif isinstance(p, exp.CharacterSetProperty):
                out["charset"] = p.this.name.lower()
            elif isinstance(p, exp.CollateProperty):
                out["collation"] = p.this.name.strip("'\"").lower()
            elif isinstance(p, exp.SchemaCommentProperty):
                out["comment"] = p.this.name
        return out

    def apply_keys(
        self, table: Table, keys: list[tuple[str | None, Any, tuple[str, ...] | None]]
    ) -> Table:
        pk: PrimaryKey | None = None
        uniques = dict(table.uniques)
        indexes = dict(table.indexes)
        fks = dict(table.foreign_keys)
        checks = dict(table.checks)
        columns = dict(table.columns)
        for name, node, inline_cols in keys:
            for change in self.key_changes(
                table.name, name, node, inline_cols, uniques, indexes, fks, checks
            ):
                if isinstance(change, AddPrimaryKey):
                    pk = change.primary_key
                    if self.rules.pk_implies_not_null:
                        for c in pk.columns:
                            if c in columns:
                                columns[c] = replace(columns[c], nullable=False)
                elif isinstance(change, AddUnique):
                    uniques[change.unique.name] = change.unique
                elif isinstance(change, AddIndex):
                    indexes[change.index.name] = change.index
                elif isinstance(change, AddForeignKey):
                    fks[change.foreign_key.name] = change.foreign_key
                elif isinstance(change, AddCheck):
                    checks[change.check.name] = change.check
        return replace(
            table,
            columns=columns,
            primary_key=pk,
            uniques=uniques,
            indexes=indexes,
            foreign_keys=fks,
            checks=checks,
        )

    def key_changes(
        self,
        table: str,
        name: str | None,
        node: Any,
        inline_cols: tuple[str, ...] | None,
        uniques: dict[str, UniqueConstraint],
        indexes: dict[str, Index],
        fks: dict[str, ForeignKey],
        checks: dict[str, CheckConstraint],
    ) -> list[Change]:
        """AddPrimaryKey/AddUnique/AddIndex/AddForeignKey/AddCheck for one key clause."""
        from sqlglot import exp

        rules = self.rules
        if isinstance(node, (exp.PrimaryKey, exp.PrimaryKeyColumnConstraint)):
            cols = inline_cols if inline_cols is not None else self.col_names(node.expressions)
            return [AddPrimaryKey(table, PrimaryKey(cols, name or rules.pk_name(table)))]
        if isinstance(node, exp.UniqueColumnConstraint):
            inner = node.this
            if isinstance(inner, exp.Schema):
                cols = self.col_names(inner.expressions)
                if inner.this is not None and name is None:
                    name = self.name(inner.this)
            else:
                cols = inline_cols or ()
            taken = set(uniques) | set(indexes)
            uname = name or rules.unique_name(table, cols, taken)
            return [AddUnique(table, UniqueConstraint(uname, cols))]
        if isinstance(node, exp.IndexColumnConstraint):
            icols = self.index_columns(node.expressions)
            kind = str(node.args.get("kind") or "btree").lower()
            iname = (
                self.name(node.this)
                if node.this is not None
                else rules.index_name(
                    table, tuple(c.name for c in icols), set(uniques) | set(indexes)
                )
            )
            return [AddIndex(table, Index(iname, icols, kind=kind))]
        if isinstance(node, (exp.ForeignKey, exp.Reference)):
            return [AddForeignKey(table, self.foreign_key(table, name, node, inline_cols, fks))]
        if isinstance(node, exp.CheckColumnConstraint):
            expr = _squash(rules.sql(node.this))
            cname = name or rules.check_name(table, inline_cols, set(checks))
            return [AddCheck(table, CheckConstraint(cname, expr))]
        raise _Unknown(f"table clause {rules.sql(node)!r} is not understood")

    def foreign_key(
        self,
        table: str,
        name: str | None,
        node: Any,
        inline_cols: tuple[str, ...] | None,
        fks: dict[str, ForeignKey],
    ) -> ForeignKey:
        from sqlglot import exp

        ref = node if isinstance(node, exp.Reference) else node.args.get("reference")
        cols = inline_cols if isinstance(node, exp.Reference) else self.col_names(node.expressions)
        if ref is None or cols is None:
            raise _Unknown("FOREIGN KEY without REFERENCES")
        target = ref.this
        ref_table = self.table_name(target)
        ref_cols = self.col_names(target.expressions) if isinstance(target, exp.Schema) else ()
        if not ref_cols:
            parent = self.lookup(ref_table)
            if parent is None or parent.primary_key is None:
                raise _Unknown(f"REFERENCES {ref_table} without columns and no known primary key")
            ref_cols = parent.primary_key.columns
        actions = {"delete": "NO ACTION", "update": "NO ACTION"}
        for opt in ref.args.get("options") or []:
            m = re.match(r"^ON\s+(DELETE|UPDATE)\s+(.+)$", str(opt), re.IGNORECASE)
            if m:
                actions[m.group(1).lower()] = normalize_action(m.group(2))
        for key in ("delete", "update"):
            if node.args.get(key):
                actions[key] = normalize_action(str(node.args[key]))
        fname = name or self.rules.fk_name(table, cols, set(fks))
        facts: dict[str, str | None] = {}
        if re.search(
            r"DEFERRABLE\s+INITIALLY\s+DEFERRED",
            " ".join(map(str, ref.args.get("options") or [])),
            re.IGNORECASE,
        ):
            facts["deferrable"] = "initially deferred"
        return ForeignKey(
            fname, cols, ref_table, ref_cols, actions["update"], actions["delete"], extra(**facts)
        )

    def create_index(self, tree: Any, guard: Guard) -> list[Effect]:
        idx = tree.this
        table = self.table_name(idx.args["table"])
        params = idx.args.get("params")
        cols = self.index_columns(params.args.get("columns") or [] if params else [])
        using = params.args.get("using") if params else None
        kind = str(using.name if hasattr(using, "name") else using).lower() if using else "btree"
        where = params.args.get("where") if params else None
        current = self.lookup(table)
        taken = set(current.indexes) | set(current.uniques) if current else set()
        name = (
            self.name(idx.this)
            if idx.this is not None
            else self.rules.index_name(table, tuple(c.name for c in cols), taken)
        )
        unique = bool(tree.args.get("unique"))
        if (
            unique
            and self.rules.unique_index_is_constraint
            and where is None
            and all(not c.expression and c.prefix is None and not c.descending for c in cols)
        ):
            return [
                Effect(AddUnique(table, UniqueConstraint(name, tuple(c.name for c in cols))), guard)
            ]
        where_sql = _squash(self.rules.sql(where.this)) if where is not None else None
        return [Effect(AddIndex(table, Index(name, cols, unique, kind, where_sql)), guard)]

    # --- ALTER -------------------------------------------------------------------------------
    def alter(self, tree: Any) -> list[Effect]:
        from dbmedic.effects_alter import alter_effects

        if str(tree.args.get("kind") or "TABLE").upper() != "TABLE":
            raise _Unknown(f"ALTER {tree.args.get('kind')} is not tracked")
        return alter_effects(self, tree)

    # --- DROP --------------------------------------------------------------------------------
    def drop(self, tree: Any) -> list[Effect]:
        from sqlglot import exp

        kind = str(tree.args.get("kind") or "").upper()
        guard = Guard.IF_EXISTS if tree.args.get("exists") else Guard.NONE
        effects: list[Effect] = []
        for t in tree.args.get("tables") or []:
            name = self.table_name(t)
            if kind == "TABLE":
                current = self.lookup(name) or Table(name, {})
                effects.append(Effect(DropTable(current), guard))
            elif kind == "VIEW":
                effects.append(Effect(DropView(View(name, "")), guard))
            elif kind == "INDEX":
                on = tree.args.get("cluster")
                table = self.table_name(on.this) if isinstance(on, exp.OnProperty) else ""
                effects.append(Effect(self.drop_index_change(table, name), guard))
            elif kind == "TRIGGER":
                on = tree.args.get("cluster")
                table = self.table_name(on.this) if isinstance(on, exp.OnProperty) else ""
                effects.append(Effect(DropTrigger(Trigger(name, table, "", "", "")), guard))
            else:
                raise _Unknown(f"DROP {kind} is not tracked")
        return effects

    def drop_index_change(self, table: str, name: str) -> Change:
        """DropIndex or DropUnique, whichever the current table holds (an index when unknown)."""
        current = self.lookup(table) if table else None
        if current is not None and name in current.uniques and name not in current.indexes:
            return DropUnique(table, current.uniques[name])
        if current is not None and name in current.indexes:
            return DropIndex(table, current.indexes[name])
        return DropIndex(table, Index(name, ()))

    def comment(self, tree: Any) -> list[Effect]:
        raise _Unknown("COMMENT ON is not tracked")


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


# Keep the Change kinds referenced here importable from this module for callers' convenience.
_CHANGE_KINDS = (
    AddColumn,
    AlterColumn,
    DropCheck,
    DropColumn,
    DropForeignKey,
    DropPrimaryKey,
    RenameColumn,
)
