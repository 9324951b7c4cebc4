"""Read a MySQL/MariaDB schema with one bulk information_schema query per object kind.

The queries live in ``sql/*.sql`` (MariaDB overrides in ``sql/mariadb/``); their number does not
grow with the number of tables. Everything is normalised here, once, so that two servers printing
the same schema differently produce equal :class:`~dbmedic.model.Schema` objects.
"""

from __future__ import annotations

import gc
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from dbmedic.dialects.mysql.normalize import (
    canonical_expression,
    normalize_default,
    normalize_sql,
    normalize_type,
    quote_ident,
)
from dbmedic.errors import InspectError
from dbmedic.model import (
    CheckConstraint,
    Column,
    Extra,
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

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from dbmedic.dialects.base import ServerInfo
    from dbmedic.dialects.mysql import MySQL
    from dbmedic.driver import DriverConnection

Row = Sequence[Any]
QUERIES = (
    "tables",  # first: its row count decides whether a second connection is worth opening
    "columns",
    "indexes",
    "foreign_keys",
    "foreign_key_actions",
    "checks",
    "views",
    "triggers",
)


SIDE_QUERIES = ("indexes", "checks", "foreign_key_actions", "triggers")
"""Run on a second connection, side by side with the others, when the connection can fork."""


def fetch_catalog(dialect: MySQL, conn: Connection | DriverConnection) -> dict[str, list[Row]]:
    """Run every catalog query once; raises InspectError naming the object kind that failed.

    Each information_schema query makes the server open every table's definition (~0.2 s per
    query at 5,000 tables) while PyMySQL spends as long decoding rows in Python. Through the
    driver, half of the queries run on a second connection in a thread, so the server works
    on one while the client decodes the other (information_schema is not read in one
    snapshot on one connection either: each query sees the dictionary as it is then).
    """
    from dbmedic import driver

    rows: dict[str, list[Row]] = {}
    _fetch(dialect, conn, ("tables",), rows)
    many = len(rows["tables"]) >= driver.SIDE_BY_SIDE_FROM
    side = conn.fork() if many and isinstance(conn, driver.DriverConnection) else None
    if side is None:
        _fetch(dialect, conn, QUERIES[1:], rows)
        return rows
    try:
        driver.side_by_side(
            lambda: _fetch(dialect, conn, [q for q in QUERIES[1:] if q not in SIDE_QUERIES], rows),
            lambda: _fetch(dialect, side, SIDE_QUERIES, rows),
        )
    finally:
        assert isinstance(conn, driver.DriverConnection)
        conn.statements += side.statements
        side.close()
    return {name: rows[name] for name in QUERIES}


def _fetch(
    dialect: MySQL,
    conn: Connection | DriverConnection,
    names: Sequence[str],
    rows: dict[str, list[Row]],
) -> None:
    from dbmedic.driver import driver_errors

    assert dialect.catalog is not None
    for name in names:
        try:
            result = conn.exec_driver_sql(dialect.catalog[name])
            rows[name] = _plain_rows(result.all())
        except driver_errors() as e:
            raise InspectError(
                f"{dialect.name}: cannot read {name.replace('_', ' ')} from information_schema "
                f"({dialect.describe_error(e)})"
            ) from e


def inspect_schema(dialect: MySQL, conn: Connection | DriverConnection, info: ServerInfo) -> Schema:
    """The whole schema of the connection's current database."""
    rows = fetch_catalog(dialect, conn)
    # Building ~10 objects per column triggers many cyclic-GC passes that find nothing
    # (the model has no cycles): pausing the collector halves the build time at 5,000 tables.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return build_schema(dialect, rows, info)
    finally:
        if enabled:
            gc.enable()


def _folder(info: ServerInfo) -> Callable[[str], str]:
    """Table names compare case-insensitively when lower_case_table_names is 1 or 2.

    https://dev.mysql.com/doc/refman/8.0/en/identifier-case-sensitivity.html
    """
    if info.setting("lower_case_table_names") in ("1", "2"):
        return str.lower
    return str


def _plain_rows(rows: Sequence[Row]) -> list[Row]:
    """The rows as tuples, binary strings (some servers return catalog text as bytes) made str.

    The driver decodes a column by its character set, so a column is text or binary in every
    row: the first non-NULL value of each column tells, and most results need no pass per row.
    """
    plain = rows if isinstance(rows, list) and rows and type(rows[0]) is tuple else None
    if plain is None:
        plain = [tuple(r) for r in rows]
    undecided = set(range(len(plain[0]))) if plain else set()
    for row in plain:
        for i in [i for i in undecided if row[i] is not None]:
            if isinstance(row[i], bytes):
                return [_decoded(r) for r in plain]
            undecided.discard(i)
        if not undecided:
            break
    return plain


def _decoded(row: Row) -> Row:
    """A row with binary strings (some servers return catalog text as bytes) made str."""
    return tuple(v.decode("utf-8") if isinstance(v, bytes) else v for v in row)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _opt(value: str | None) -> str | None:
    return value or None


def build_schema(dialect: MySQL, rows: dict[str, list[Row]], info: ServerInfo) -> Schema:
    """Assemble the model from the raw catalog rows (pure; no I/O)."""
    fold = _folder(info)
    quoted = dialect.quoted_defaults(info)
    database = info.database

    table_rows = {fold(_text(r[0])): r for r in rows["tables"]}
    checks, json_columns = _checks(rows["checks"], rows["columns"], fold, dialect)
    columns = _columns(rows["columns"], table_rows, json_columns, fold, quoted, dialect)
    pks, uniques, indexes = _indexes(rows["indexes"], fold)
    fks = _foreign_keys(rows["foreign_keys"], rows["foreign_key_actions"], fold, database)

    tables: dict[str, Table] = {}
    for name in sorted(table_rows):
        _, engine, collation, comment = table_rows[name]
        collation = _opt(collation)
        tables[name] = Table(
            name=name,
            columns=columns.get(name, {}),
            primary_key=pks.get(name),
            uniques=uniques.get(name, {}),
            indexes=indexes.get(name, {}),
            foreign_keys=fks.get(name, {}),
            checks=checks.get(name, {}),
            engine=_opt(engine),
            charset=collation.split("_", 1)[0] if collation else None,
            collation=collation,
            comment=_opt(comment),
        )

    views = _views(rows["views"], fold, database)
    triggers = _triggers(rows["triggers"], fold)
    return Schema(
        dialect=info.dialect,
        tables=tables,
        views=views,
        triggers=triggers,
        database=database,
        server_version=info.version,
        charset=info.charset,
        collation=info.collation,
    )


def _checks(
    check_rows: list[Row], column_rows: list[Row], fold: Callable[[str], str], dialect: MySQL
) -> tuple[dict[str, dict[str, CheckConstraint]], set[tuple[str, str]]]:
    """Check constraints by table, and the (table, column) pairs that are MariaDB JSON columns.

    MariaDB's JSON is LONGTEXT plus an automatic ``CHECK (json_valid(col))`` named after the
    column (https://mariadb.com/kb/en/json-data-type/); such a column is reported as type ``json``
    and its automatic check is left out, so it equals MySQL's native JSON.
    """
    longtext = {(fold(r[0]), r[1]) for r in column_rows if r[4] in ("longtext", "LONGTEXT")}
    found: dict[str, dict[str, CheckConstraint]] = defaultdict(dict)
    json_columns: set[tuple[str, str]] = set()
    # Many tables carry the same clause (MariaDB's json_valid(`payload`)): normalise each once.
    expressions = _Memo(
        lambda clause: normalize_sql(dialect.catalog_expression(clause), unwrap=True)
    )
    json_checks = _Memo(lambda column: normalize_sql(f"json_valid({quote_ident(column)})"))
    for table_name, name, clause in sorted(check_rows, key=lambda r: (_text(r[0]), _text(r[1]))):
        table, cname = fold(_text(table_name)), _text(name)
        expression = expressions[_text(clause)]
        if (table, cname) in longtext and expression == json_checks[cname]:
            json_columns.add((table, cname))
            continue
        found[table][cname] = CheckConstraint(cname, expression)
    return found, json_columns


def _columns(
    column_rows: list[Row],
    table_rows: dict[str, Row],
    json_columns: set[tuple[str, str]],
    fold: Callable[[str], str],
    quoted: bool,
    dialect: MySQL,
) -> dict[str, dict[str, Column]]:
    found: dict[str, dict[str, Column]] = defaultdict(dict)
    # 65,000 columns at 5,000 tables share a few dozen types and defaults: normalise each once.
    types = _Memo(normalize_type)
    defaults = _Memo(
        lambda key: normalize_default(key[0], extra=key[1], data_type=key[2], quoted=quoted)
    )
    for row in column_rows:  # in ordinal order within each table (columns.sql sorts)
        table = fold(row[0])
        if table not in table_rows:  # a view's column
            continue
        (_, name, ordinal, raw_type, data_type, nullable, default, flags) = row[:8]
        generation, charset, collation, comment = row[8:12]
        flags = flags.lower() if flags else ""
        type_ = types[raw_type]
        if json_columns and (table, name) in json_columns:
            type_, charset, collation = "json", None, None
        generated = generated_kind = on_update = None
        facts: Extra = ()
        if flags:
            generated_kind = next(
                (k for k in ("stored", "virtual") if f"{k} generated" in flags), None
            )
            if generated_kind and generation:
                generated = canonical_expression(dialect.catalog_expression(generation))
            if "on update" in flags:
                on_update = canonical_expression(flags.split("on update", 1)[1].split()[0])
            facts = extra(
                generated=generated_kind if generated else None,
                on_update=on_update,
                invisible="yes" if "invisible" in flags else None,
            )
        found[table][name] = Column(
            name=name,
            type=type_,
            nullable=nullable == "YES",
            default=None if generated else defaults[(default, flags, data_type)],
            auto_increment="auto_increment" in flags,
            generated=generated,
            charset=charset or None,
            collation=collation or None,
            comment=comment or None,
            extra=facts,
            ordinal=int(ordinal),
            raw_type=raw_type,
        )
    return found


class _Memo(dict[Any, Any]):
    """``memo[key]`` is ``function(key)``, computed once per distinct key (pure functions only)."""

    def __init__(self, function: Callable[[Any], Any]) -> None:
        super().__init__()
        self.function = function

    def __missing__(self, key: Any) -> Any:
        value = self[key] = self.function(key)
        return value


def _indexes(
    index_rows: list[Row], fold: Callable[[str], str]
) -> tuple[
    dict[str, PrimaryKey],
    dict[str, dict[str, UniqueConstraint]],
    dict[str, dict[str, Index]],
]:
    """Primary keys, unique constraints and other indexes by table.

    A unique index becomes a :class:`UniqueConstraint` when it is a plain B-tree over whole
    columns; a unique index with a prefix, a descending or functional part, or another kind
    (HASH, MariaDB's long unique) stays an :class:`Index` with ``unique=True`` so nothing is lost.
    """
    grouped: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for row in index_rows:
        grouped[(fold(row[0]), row[1])].append(row)
    pks: dict[str, PrimaryKey] = {}
    uniques: dict[str, dict[str, UniqueConstraint]] = defaultdict(dict)
    indexes: dict[str, dict[str, Index]] = defaultdict(dict)
    for (table, name), parts in sorted(grouped.items()):
        if len(parts) > 1:
            parts.sort(key=lambda r: int(r[3]))
        first = parts[0]
        unique = int(first[2]) == 0
        kind = (first[7] or "btree").lower()
        cols = tuple(
            IndexColumn(
                name=r[4] if r[4] is not None else normalize_sql(r[10] or "", unwrap=True),
                descending=r[5] == "D",
                prefix=int(r[6]) if r[6] is not None else None,
                expression=r[4] is None,
            )
            for r in parts
        )
        facts: Extra = (
            extra(comment=first[8] or None, invisible="yes" if first[9] == "YES" else None)
            if first[8] or first[9] == "YES"
            else ()
        )
        if name == "PRIMARY":
            pks[table] = PrimaryKey(tuple(c.name for c in cols), name="PRIMARY")
        elif unique and kind == "btree" and all(_plain(c) for c in cols):
            uniques[table][name] = UniqueConstraint(name, tuple(c.name for c in cols), facts)
        else:
            indexes[table][name] = Index(name, cols, unique=unique, kind=kind, extra=facts)
    return pks, uniques, indexes


def _plain(col: IndexColumn) -> bool:
    return not (col.descending or col.prefix or col.expression)


def _foreign_keys(
    fk_rows: list[Row], action_rows: list[Row], fold: Callable[[str], str], database: str | None
) -> dict[str, dict[str, ForeignKey]]:
    """Foreign keys by table; actions as the server reports them, upper case.

    MySQL reports NO ACTION for an unspecified action, MariaDB RESTRICT; InnoDB treats both the
    same, but they are kept as reported (https://dev.mysql.com/doc/refman/8.0/en/create-table-foreign-keys.html).
    A key to another database carries ``ref_schema`` in ``extra``.
    """
    actions = {(fold(r[0]), r[1]): (r[2], r[3]) for r in action_rows}
    grouped: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for row in fk_rows:
        grouped[(fold(row[0]), row[1])].append(row)
    found: dict[str, dict[str, ForeignKey]] = defaultdict(dict)
    for (table, name), parts in sorted(grouped.items()):
        parts.sort(key=lambda r: int(r[6]))
        first = parts[0]
        ref_schema = first[2]
        on_update, on_delete = actions.get((table, name), ("NO ACTION", "NO ACTION"))
        found[table][name] = ForeignKey(
            name=name,
            columns=tuple(r[4] for r in parts),
            ref_table=fold(first[3]),
            ref_columns=tuple(r[5] for r in parts),
            on_update=on_update.upper(),
            on_delete=on_delete.upper(),
            extra=extra(ref_schema=ref_schema if ref_schema and ref_schema != database else None),
        )
    return found


def _views(
    view_rows: list[Row], fold: Callable[[str], str], database: str | None
) -> dict[str, View]:
    views: dict[str, View] = {}
    for name, definition, check_option, security in sorted(view_rows, key=lambda r: _text(r[0])):
        check = _text(check_option).upper()
        views[fold(_text(name))] = View(
            name=fold(_text(name)),
            definition=normalize_sql(_text(definition), database=database),
            extra=extra(
                check_option=check if check and check != "NONE" else None,
                security="INVOKER" if _text(security).upper() == "INVOKER" else None,
            ),
        )
    return dict(sorted(views.items()))


def _triggers(trigger_rows: list[Row], fold: Callable[[str], str]) -> dict[str, Trigger]:
    triggers: dict[str, Trigger] = {}
    for name, table, timing, event, body, _order in sorted(trigger_rows, key=lambda r: _text(r[0])):
        triggers[_text(name)] = Trigger(
            name=_text(name),
            table=fold(_text(table)),
            timing=_text(timing).upper(),
            event=_text(event).upper(),
            body=normalize_sql(_text(body)),
        )
    return triggers
