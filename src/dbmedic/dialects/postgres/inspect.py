"""Read a PostgreSQL schema from pg_catalog with one bulk query per object kind.

The schema read is ``current_schema()`` (``public`` unless the URL sets another search_path, e.g.
``?options=-csearch_path%3Dapp``). Every query selects the rows of all tables at once, so the
number of round trips is ``len(PostgreSQL.catalog)`` whatever the number of tables.
"""

from __future__ import annotations

import gc
import re
import time
from collections import defaultdict, namedtuple
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from dbmedic.dialects.postgres.normalize import (
    collapse,
    is_nextval,
    normalize_check,
    normalize_default,
    normalize_type,
    normalize_view,
)
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

Row = Any
"""A result row of a catalog query, read by attribute (``row.name``)."""

FK_ACTIONS = {
    "a": "NO ACTION",
    "r": "RESTRICT",
    "c": "CASCADE",
    "n": "SET NULL",
    "d": "SET DEFAULT",
}
"""pg_constraint.confupdtype / confdeltype codes."""
_MATCH = {"f": "FULL", "p": "PARTIAL"}
_IDENTITY = {"a": "always", "d": "by default"}


def read_schema(conn: Connection | DriverConnection, info: ServerInfo, catalog: SqlFiles) -> Schema:
    """Run the catalog queries and build the :class:`Schema` of the current schema."""
    started = time.perf_counter()
    rows = _fetch(conn, catalog)
    # Tens of thousands of small frozen objects and no cycles among them: the cyclic GC would
    # only rescan them again and again while they are built.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        tables, views, triggers = _build(rows)
    except KeyError as e:  # a row names an object another query did not see
        raise InspectError(
            "postgresql: the schema changed while it was being read", hint="run again"
        ) from e
    finally:
        if gc_was_enabled:
            gc.enable()
    return Schema(
        dialect=info.dialect,
        tables=tables,
        views=views,
        triggers=triggers,
        database=info.database,
        server_version=info.version,
        charset=info.charset,
        collation=info.collation,
        taken_at=datetime.now(UTC).isoformat(timespec="seconds"),
        inspect_seconds=round(time.perf_counter() - started, 4),
    )


def _build(
    rows: dict[str, list[Row]],
) -> tuple[dict[str, Table], dict[str, View], dict[str, Trigger]]:
    columns = _group(rows["columns"])
    constraints = _group(rows["constraints"])
    indexes = _group(rows["indexes"])
    names = {t: {c.ordinal: c.name for c in cols} for t, cols in columns.items()}
    tables = {r.name: _table(r, columns, constraints, indexes, names) for r in rows["tables"]}
    views = {r.name: _view(r) for r in rows["views"]}
    triggers = {}
    for r in rows["triggers"]:
        trigger = _trigger(r, names.get(r.table_name, {}))
        # Trigger names are unique per table in PostgreSQL, not per schema.
        triggers[f"{trigger.table}.{trigger.name}"] = trigger
    return tables, views, triggers


MAIN_QUERIES = ("columns",)
"""Run on the first connection; the others on a second one, side by side (see ``_fetch``)."""


def _fetch(conn: Connection | DriverConnection, catalog: SqlFiles) -> dict[str, list[Row]]:
    """Rows of every catalog query.

    Through the driver, the columns query (most of the server's work: ``format_type`` and
    ``pg_get_expr`` for every column) runs on this connection while the others run on a second
    one in a thread. Both read the same snapshot: this transaction exports it
    (``pg_export_snapshot``) and the second imports it (``SET TRANSACTION SNAPSHOT``), both
    REPEATABLE READ, so the rows are as consistent as on one connection.
    https://www.postgresql.org/docs/15/functions-admin.html#FUNCTIONS-SNAPSHOT-SYNCHRONIZATION
    """
    from dbmedic.driver import side_by_side

    names = catalog.names()
    shareable = _repeatable_read(conn)
    rows = {"tables": _query(conn, catalog, "tables")}
    rest = [name for name in names if name != "tables"]
    side = _side_connection(conn) if shareable and _many(rows["tables"]) else None
    if side is None:
        rows.update((name, _query(conn, catalog, name)) for name in rest)
        return rows

    def here() -> None:
        for name in MAIN_QUERIES:
            rows[name] = _query(conn, catalog, name)

    def beside() -> None:
        for name in rest:
            if name not in MAIN_QUERIES:
                rows[name] = _query(side, catalog, name)

    try:
        side_by_side(here, beside)
    finally:
        conn.statements += side.statements  # type: ignore[union-attr]  # a DriverConnection
        side.close()
    return rows


def _many(tables: list[Row]) -> bool:
    from dbmedic import driver

    return len(tables) >= driver.SIDE_BY_SIDE_FROM


def _repeatable_read(conn: Connection | DriverConnection) -> bool:
    """Make the driver connection's next transaction REPEATABLE READ (so its snapshot can be
    shared); False for an SQLAlchemy connection or a session already inside a transaction."""
    from dbmedic.driver import DriverConnection

    if not isinstance(conn, DriverConnection):
        return False
    import psycopg

    raw: psycopg.Connection[Any] = conn.dbapi_connection
    if raw.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        return False
    raw.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    return True


def _side_connection(conn: Connection | DriverConnection) -> DriverConnection | None:
    """A second connection reading the snapshot of ``conn`` (a REPEATABLE READ driver
    connection, see :func:`_repeatable_read`), or None when it cannot be opened."""
    from dbmedic.driver import DriverConnection, DriverError

    assert isinstance(conn, DriverConnection)
    import psycopg
    from psycopg import sql

    snapshot = conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar()
    side = conn.fork()
    if side is None:
        return None
    try:
        side.dbapi_connection.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        statement = sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(snapshot))
        side.exec_driver_sql(statement.as_string(side.dbapi_connection))
    except DriverError:
        side.close()
        return None
    return side


def _query(conn: Connection | DriverConnection, catalog: SqlFiles, name: str) -> list[Row]:
    """Rows of one catalog query as named tuples (attribute access without SQLAlchemy's Row:
    psycopg has already converted the values, and this is the hot loop at 50,000 columns)."""
    from dbmedic.driver import driver_errors

    try:
        result = conn.exec_driver_sql(catalog[name])
        cursor = result.cursor
        record = namedtuple(f"{name}_row", [d[0] for d in cursor.description])  # type: ignore[misc]
        rows = list(map(record._make, cursor.fetchall()))
        result.close()
        return rows
    except driver_errors() as e:
        orig = getattr(e, "orig", None)
        reason = str(orig).strip().splitlines()[0] if orig else type(e).__name__
        raise InspectError(f"postgresql: reading {name} failed ({reason})") from e


def _group(rows: list[Row]) -> dict[str, list[Row]]:
    grouped: dict[str, list[Row]] = defaultdict(list)
    for r in rows:
        grouped[r.table_name].append(r)
    return grouped


def _table(
    r: Row,
    columns: dict[str, list[Row]],
    constraints: dict[str, list[Row]],
    indexes: dict[str, list[Row]],
    names: dict[str, dict[int, str]],
) -> Table:
    """One table; ``names`` maps table -> attnum -> column name, for constraint key lists."""
    name = r.name
    own = names.get(name, {})
    primary_key = None
    uniques: dict[str, UniqueConstraint] = {}
    fks: dict[str, ForeignKey] = {}
    checks: dict[str, CheckConstraint] = {}
    for c in constraints.get(name, ()):
        kind = c.kind
        if kind == "p":
            primary_key = PrimaryKey(tuple(own[k] for k in c.keys), name=c.name)
        elif kind == "u":
            uniques[c.name] = UniqueConstraint(c.name, tuple(own[k] for k in c.keys), _deferral(c))
        elif kind == "f":
            ref = c.ref_names or [names[c.ref_table][k] for k in c.ref_keys]
            fks[c.name] = _foreign_key(c, tuple(own[k] for k in c.keys), tuple(ref))
        elif kind == "c":
            checks[c.name] = CheckConstraint(c.name, normalize_check(c.definition))
    return Table(
        name=name,
        columns={col.name: col for col in map(_column, columns.get(name, ()))},
        primary_key=primary_key,
        uniques=dict(sorted(uniques.items())),
        indexes={i.name: _index(i, own) for i in indexes.get(name, ())},
        foreign_keys=dict(sorted(fks.items())),
        checks=dict(sorted(checks.items())),
        comment=r.comment,
        extra=extra(
            partition_by=r.partition_by,
            unlogged="true" if r.unlogged else None,
        ),
    )


def _column(r: Row) -> Column:
    raw_default = r.default_expr
    identity = _IDENTITY.get(r.identity or "")
    generated = r.generated == "s"
    serial = not generated and is_nextval(raw_default)
    labels: Sequence[str] | None = r.enum_labels
    return Column(
        name=r.name,
        type=normalize_type(r.type),
        nullable=bool(r.nullable),
        default=None if generated or serial else normalize_default(raw_default),
        auto_increment=serial or identity is not None,
        generated=collapse(raw_default) if generated and raw_default else None,
        collation=r.collation,
        comment=r.comment,
        extra=extra(
            identity=identity,
            generated="stored" if generated else None,
            enum_type=r.enum_type if labels is not None else None,
            enum_labels=_literal_list(labels) if labels is not None else None,
        )
        if identity or generated or labels is not None
        else (),
        ordinal=r.ordinal,
        raw_type=r.type,
    )


def _literal_list(values: Sequence[str]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


def _deferral(c: Row) -> tuple[tuple[str, str], ...]:
    if not c.deferrable:
        return ()
    return extra(deferrable="INITIALLY DEFERRED" if c.deferred else "INITIALLY IMMEDIATE")


def _foreign_key(c: Row, columns: tuple[str, ...], ref_columns: tuple[str, ...]) -> ForeignKey:
    facts = dict(_deferral(c))
    if c.ref_schema:
        facts["ref_schema"] = c.ref_schema
    if c.match_type in _MATCH:
        facts["match"] = _MATCH[c.match_type]
    return ForeignKey(
        name=c.name,
        columns=columns,
        ref_table=c.ref_table,
        ref_columns=ref_columns,
        on_update=FK_ACTIONS[c.on_update],
        on_delete=FK_ACTIONS[c.on_delete],
        extra=extra(**facts),
    )


def _index(r: Row, names: dict[int, str]) -> Index:
    keys: list[int] = r.keys
    expressions: list[str | None] = r.expressions or [None] * len(keys)
    defs = [expressions[k] or names[attnum] for k, attnum in enumerate(keys)]
    key_count = int(r.key_count)
    options: list[int] = list(r.options)
    columns = tuple(
        IndexColumn(
            name=defs[k],
            descending=bool(options[k] & 1),
            expression=keys[k] == 0,
        )
        for k in range(key_count)
    )
    # NULLS FIRST is the default for DESC, NULLS LAST for ASC; only the other way is a fact.
    nulls = [
        ("NULLS FIRST" if opt & 2 else "NULLS LAST") if bool(opt & 2) != bool(opt & 1) else ""
        for opt in options
    ]
    opclasses: list[str] = list(r.opclasses)
    return Index(
        name=r.name,
        columns=columns,
        unique=bool(r.is_unique),
        kind=r.method,
        where=collapse(r.predicate) if r.predicate else None,
        extra=extra(
            include=",".join(defs[key_count:]) or None,
            nulls=",".join(nulls) if any(nulls) else None,
            opclass=",".join(opclasses) if any(opclasses) else None,
            valid=None if r.valid else "false",
        ),
    )


def _view(r: Row) -> View:
    return View(
        name=r.name,
        definition=normalize_view(r.definition),
        extra=extra(
            materialized="true" if r.materialized else None,
            comment=r.comment,
        ),
    )


_TRIGGER = re.compile(
    r"^CREATE (?P<constraint>CONSTRAINT )?TRIGGER \S+ (?P<timing>BEFORE|AFTER|INSTEAD OF) "
    r"(?P<events>.+?) ON \S+ (?P<options>.*?)\s*"
    r"FOR EACH (?P<level>ROW|STATEMENT)(?: WHEN \((?P<when>.*)\))? "
    r"(?P<body>EXECUTE (?:FUNCTION|PROCEDURE) .*)$",
    re.S,
)


def _trigger(r: Row, names: dict[int, str]) -> Trigger:
    definition = collapse(r.definition)
    m = _TRIGGER.match(definition)
    if not m:
        raise InspectError(f"postgresql: cannot read the definition of trigger {r['name']!r}")
    events = _without_update_columns(m["events"])
    update_of = ",".join(names[k] for k in r.update_keys) if r.update_keys else None
    body = m["body"].replace("EXECUTE PROCEDURE ", "EXECUTE FUNCTION ", 1)
    return Trigger(
        name=r.name,
        table=r.table_name,
        timing=m["timing"],
        event=events,
        body=body,
        extra=extra(
            constraint="true" if m["constraint"] else None,
            options=m["options"] or None,
            for_each=m["level"],
            when=m["when"],
            update_of=update_of,
            function=_function(r.function_def, r.function_schema),
        ),
    )


def _without_update_columns(text: str) -> str:
    """``INSERT OR UPDATE OF a, "B"`` -> ``INSERT OR UPDATE`` (the columns come from tgattr)."""
    return re.sub(r"UPDATE OF .+?(?= OR |$)", "UPDATE", text)


def _function(definition: str | None, schema: str) -> str | None:
    """The trigger function's ``CREATE OR REPLACE FUNCTION``, without its schema name.

    Unqualified, it is created in the schema the statements run against, like the tables.
    """
    if not definition:
        return None
    return definition.strip().replace(f"FUNCTION {schema}.", "FUNCTION ", 1)
