"""Build a :class:`Schema` from four bulk catalog queries (``sql/*.sql``), whatever the table count.

Each query walks ``sqlite_schema`` and joins a ``pragma_*`` table-valued function per row, so one
round trip reads the columns (or indexes, or foreign keys) of every table. What the pragmas do not
say is read from the stored CREATE statements (:mod:`.sqltext`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from dbmedic.dialects.sqlite import sqltext
from dbmedic.errors import InspectError
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

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from dbmedic.dialects.base import ServerInfo, SqlFiles
    from dbmedic.driver import DriverConnection

T = TypeVar("T")
Row = Sequence[Any]

_SHADOW_SUFFIXES: tuple[str, ...] = ("_data", "_idx", "_content", "_docsize", "_config")
_SHADOW_SUFFIXES += ("_segments", "_segdir", "_stat", "_node", "_parent", "_rowid")
"""Tables FTS3/4/5 and R*Tree virtual tables create for themselves."""


def inspect_schema(
    conn: Connection | DriverConnection, info: ServerInfo, catalog: SqlFiles
) -> Schema:
    """Read the whole main schema: exactly ``len(catalog)`` queries."""
    fetched = {name: conn.exec_driver_sql(catalog[name]).all() for name in catalog.names()}
    objects = fetched["objects"]
    table_sql = {r[1]: r[3] or "" for r in objects if r[0] == "table"}
    index_sql = {r[1]: r[3] for r in objects if r[0] == "index"}
    columns = _group(fetched["columns"])
    indexes = _group(fetched["indexes"])
    fkeys = _group(fetched["foreign_keys"])
    virtual = {n for n, sql in table_sql.items() if sql.upper().startswith("CREATE VIRTUAL")}
    shadow = {
        n for n in table_sql for v in virtual for s in _SHADOW_SUFFIXES if n == v + s
    } - virtual
    pk_columns = {
        name: tuple(r[2] for r in sorted((r for r in rows if r[6]), key=lambda r: r[6]))
        for name, rows in columns.items()
    }
    tables: dict[str, Table] = {}
    for name in sorted(table_sql):
        if name in shadow:
            continue
        if name in virtual:
            tables[name] = Table(name, {}, extra=extra(virtual=sqltext.canon_sql(table_sql[name])))
            continue
        tdef = _read(sqltext.parse_create_table, table_sql[name], "table", name)
        tables[name] = Table(
            name,
            _columns(columns.get(name, []), tdef),
            primary_key=_primary_key(pk_columns.get(name, ()), tdef),
            uniques=_uniques(name, indexes.get(name, []), tdef),
            indexes=_indexes(indexes.get(name, []), index_sql),
            foreign_keys=_foreign_keys(name, fkeys.get(name, []), tdef, pk_columns),
            checks=_checks(name, tdef, [r[2] for r in columns.get(name, [])]),
            extra=extra(
                strict="1" if "STRICT" in tdef.options else None,
                without_rowid="1" if "WITHOUT ROWID" in tdef.options else None,
            ),
        )
    views: dict[str, View] = {}
    triggers: dict[str, Trigger] = {}
    for kind, name, table, sql in sorted(objects, key=lambda r: r[1]):
        if kind == "view":
            definition, cols = _read(sqltext.parse_create_view, sql, "view", name)
            views[name] = View(name, definition, extra=extra(columns=cols))
        elif kind == "trigger":
            t = _read(sqltext.parse_create_trigger, sql, "trigger", name)
            triggers[name] = Trigger(
                name, table, t.timing, t.event, t.body, extra(of=t.of_columns, when=t.when)
            )
    return Schema(
        "sqlite",
        tables,
        views,
        triggers,
        database=info.database,
        server_version=info.version,
    )


def _group(rows: Iterable[Row]) -> dict[str, list[Row]]:
    grouped: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        grouped[row[0]].append(row)
    return grouped


def _read(parse: Callable[[str], T], sql: str, kind: str, name: str) -> T:
    try:
        return parse(sql)
    except (StopIteration, IndexError) as e:
        raise InspectError(
            f"sqlite: cannot read the CREATE statement of {kind} {name!r}",
            hint="please report it with the statement from sqlite_schema",
        ) from e


def _columns(rows: list[Row], tdef: sqltext.TableDef) -> dict[str, Column]:
    out: dict[str, Column] = {}
    for _, cid, name, declared, notnull, default, _pk, hidden in rows:
        if hidden == 1:  # hidden column of a virtual table
            continue
        cdef = tdef.columns.get(name.lower(), sqltext.ColumnDef(name))
        generated = hidden in (2, 3)
        out[name] = Column(
            name,
            sqltext.normalize_type(declared or ""),
            nullable=not notnull,
            default=None if generated else sqltext.normalize_default(default),
            auto_increment=cdef.autoincrement,
            generated=(cdef.generated or "") if generated else None,
            collation=cdef.collation,
            extra=extra(generated=("stored" if hidden == 3 else "virtual") if generated else None),
            ordinal=cid + 1,
            raw_type=declared or "",
        )
    return out


def _primary_key(columns: tuple[str, ...], tdef: sqltext.TableDef) -> PrimaryKey | None:
    if not columns:
        return None
    return PrimaryKey(columns, tdef.primary_key.name if tdef.primary_key else None)


def _same(a: Sequence[str], b: Sequence[str]) -> bool:
    return [x.lower() for x in a] == [y.lower() for y in b]


def _claim(defs: list[sqltext.KeyDef], columns: Sequence[str]) -> sqltext.KeyDef | None:
    """The first unclaimed definition over ``columns`` (removed from ``defs``)."""
    for i, d in enumerate(defs):
        if _same(d.columns, columns):
            return defs.pop(i)
    return None


def _unique_name(taken: dict[str, Any], base: str) -> str:
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}_{n}"
    return name


def _index_rows(rows: list[Row]) -> dict[str, list[Row]]:
    by_index: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        by_index[row[1]].append(row)
    return by_index


def _uniques(table: str, rows: list[Row], tdef: sqltext.TableDef) -> dict[str, UniqueConstraint]:
    defs = list(tdef.uniques)
    found: list[tuple[str | None, tuple[str, ...], dict[str, str]]] = []
    for _index, cols in sorted(_index_rows(rows).items()):
        if cols[0][3] != "u":
            continue
        columns = tuple(r[7] for r in cols)
        d = _claim(defs, columns)
        found.append((d.name if d else None, columns, d.options if d else {}))
    out: dict[str, UniqueConstraint] = {}
    for name, columns, options in sorted(found, key=lambda f: (f[0] is None, f[0] or "", f[1])):
        key = name or _unique_name(out, f"{table}_{'_'.join(columns)}_unique")
        out[key] = UniqueConstraint(key, columns, extra(on_conflict=options.get("on_conflict")))
    return dict(sorted(out.items()))


def _indexes(rows: list[Row], index_sql: dict[str, str | None]) -> dict[str, Index]:
    out: dict[str, Index] = {}
    for name, cols in sorted(_index_rows(rows).items()):
        if cols[0][3] != "c":
            continue
        sql = index_sql.get(name) or ""
        idef = _read(sqltext.parse_create_index, sql, "index", name)
        columns: list[IndexColumn] = []
        collations: list[str] = []
        for r in cols:
            seqno, cid, col_name, desc, coll = r[5], r[6], r[7], r[8], r[9]
            is_expr = cid == -2
            text = idef.items[seqno] if is_expr and seqno < len(idef.items) else col_name
            columns.append(IndexColumn(text, descending=bool(desc), expression=is_expr))
            if coll and coll.upper() != "BINARY":
                collations.append(f"{seqno} {coll.upper()}")
        out[name] = Index(
            name,
            tuple(columns),
            unique=bool(cols[0][2]),
            where=idef.where,
            extra=extra(collate=", ".join(collations) or None),  # "<position> <collation>"
        )
    return out


def _foreign_keys(
    table: str,
    rows: list[Row],
    tdef: sqltext.TableDef,
    pk_columns: dict[str, tuple[str, ...]],
) -> dict[str, ForeignKey]:
    by_id: dict[int, list[Row]] = defaultdict(list)
    for row in rows:
        by_id[row[1]].append(row)
    defs = list(tdef.foreign_keys)
    found: list[ForeignKey] = []
    for _id, parts in sorted(by_id.items(), key=lambda kv: -kv[0]):  # ids count backwards
        parts.sort(key=lambda r: r[2])
        ref_table = parts[0][3]
        columns = tuple(r[4] for r in parts)
        ref_columns = tuple(r[5] for r in parts)
        if any(c is None for c in ref_columns):
            ref_columns = pk_columns.get(ref_table, ())
        d = _claim(defs, columns)
        found.append(
            ForeignKey(
                d.name if d and d.name else "",
                columns,
                ref_table,
                ref_columns,
                on_update=parts[0][6].upper(),
                on_delete=parts[0][7].upper(),
                extra=extra(deferrable=d.options.get("deferrable") if d else None),
            )
        )
    out: dict[str, ForeignKey] = {}
    for fk in sorted(found, key=lambda f: (f.name == "", f.name, f.columns, f.ref_table)):
        name = fk.name or _unique_name(out, f"fk_{table}_{'_'.join(fk.columns)}")
        out[name] = ForeignKey(
            name, fk.columns, fk.ref_table, fk.ref_columns, fk.on_update, fk.on_delete, fk.extra
        )
    return dict(sorted(out.items()))


def _checks(table: str, tdef: sqltext.TableDef, columns: list[str]) -> dict[str, CheckConstraint]:
    """CHECK constraints; unnamed ones get PostgreSQL's names: ``<table>_<column>_check``."""
    out: dict[str, CheckConstraint] = {}
    for check in sorted(tdef.checks, key=lambda c: c.name is None):
        if check.name:
            name = check.name
        else:
            column = check.column or next(
                (c for c in columns if sqltext.mentions(check.expression, c)), None
            )
            base = f"{table}_{column}_check" if column else f"{table}_check"
            name = _unique_name(out, base)
        out[name] = CheckConstraint(name, check.expression)
    return dict(sorted(out.items()))
