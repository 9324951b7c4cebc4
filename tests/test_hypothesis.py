"""Laws, checked with hypothesis.

Pure: ``diff(a, a)`` is empty, ``c.reverse().reverse() == c``, snapshots round-trip.
On real servers: for random portable schemas A and B, applying ``diff_sql(A, B)`` to B makes
``diff(A, B)`` empty, on SQLite, MariaDB and PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    create_engine,
)
from sqlalchemy.types import TypeEngine

from dbmedic import api
from dbmedic.diff import diff_schemas
from dbmedic.inspect import dump_snapshot, parse_snapshot
from dbmedic.model import Schema
from dbtest import apply_statements
from schema_builders import schemas

# --- pure laws --------------------------------------------------------------------------------


PURE = settings(max_examples=50, deadline=None)


@PURE
@given(schemas())
def test_diff_of_a_schema_with_itself_is_empty(s: Schema) -> None:
    d = diff_schemas(s, s, strict_order=True)
    assert d.is_empty
    assert d.parity.complete


@PURE
@given(schemas(), schemas())
def test_every_change_reverses_twice_to_itself(a: Schema, b: Schema) -> None:
    for change in diff_schemas(a, b).changes:
        assert change.reverse().reverse() == change
        assert change.reverse().kind != change.kind or change.kind in (
            "alter_column",
            "alter_table",
        )


@PURE
@given(schemas(), schemas())
def test_parity_numbers_are_consistent(a: Schema, b: Schema) -> None:
    p = diff_schemas(a, b).parity
    assert p.tables.expected == len(a.tables)
    assert p.tables.present + p.tables.extra == len(b.tables)
    for line in p.lines():
        assert 0 <= line.changed <= line.present <= line.expected
        assert 0.0 <= line.percent <= 100.0
        assert (line.percent == 100.0) == (line.present == line.expected)


@PURE
@given(schemas())
def test_snapshot_round_trip(s: Schema) -> None:
    text = dump_snapshot(s)
    back = parse_snapshot(text)
    assert back == s
    for name, t in s.tables.items():
        assert {c: col.ordinal for c, col in back.tables[name].columns.items()} == {
            c: col.ordinal for c, col in t.columns.items()
        }
        assert back.tables[name].column_order() == t.column_order()
    assert dump_snapshot(back) == text


# --- the big one: diff_sql(A, B) applied to B on real servers ---------------------------------

TABLES = ("t_one", "t_two", "t_three", "t_four")
COLUMNS = ("c_a", "c_b", "c_c", "c_d")
KINDS: dict[str, TypeEngine[object]] = {
    "int": Integer(),
    "bigint": BigInteger(),
    "varchar20": String(20),
    "varchar100": String(100),
    "text": Text(),
    "decimal": Numeric(8, 2),
}
DEFAULTS = {"int": "7", "bigint": "0", "varchar20": "abc", "varchar100": "it's", "decimal": "1.50"}


@dataclass(frozen=True)
class ColSpec:
    name: str
    kind: str
    nullable: bool
    default: bool


@dataclass(frozen=True)
class TableSpec:
    name: str
    columns: tuple[ColSpec, ...]
    refs: tuple[str, ...]
    """Tables (earlier in TABLES) this one has a foreign key to, through ``r_<table>`` columns."""
    indexes: tuple[tuple[tuple[str, ...], bool], ...]
    """(columns, unique) of each index."""


@st.composite
def column_specs(draw: st.DrawFn) -> tuple[ColSpec, ...]:
    names = draw(st.lists(st.sampled_from(COLUMNS), min_size=1, max_size=4, unique=True))
    out = []
    for name in names:
        kind = draw(st.sampled_from(sorted(KINDS)))
        default = kind != "text" and draw(st.booleans())
        out.append(ColSpec(name, kind, draw(st.booleans()), default))
    return tuple(out)


@st.composite
def portable_schemas(draw: st.DrawFn) -> tuple[TableSpec, ...]:
    chosen = draw(st.lists(st.sampled_from(TABLES), min_size=1, max_size=4, unique=True))
    chosen.sort(key=TABLES.index)
    specs = []
    for i, name in enumerate(chosen):
        cols = draw(column_specs())
        refs = (
            tuple(draw(st.lists(st.sampled_from(chosen[:i]), max_size=2, unique=True))) if i else ()
        )
        indexable = [c.name for c in cols if c.kind != "text"]
        indexes: list[tuple[tuple[str, ...], bool]] = []
        if indexable:
            for _ in range(draw(st.integers(0, 2))):
                idx_cols = tuple(
                    draw(st.lists(st.sampled_from(indexable), min_size=1, max_size=2, unique=True))
                )
                if all(c != idx_cols for c, _ in indexes):
                    indexes.append((idx_cols, draw(st.booleans())))
        specs.append(TableSpec(name, cols, refs, tuple(indexes)))
    return tuple(specs)


def create(url: str, specs: tuple[TableSpec, ...]) -> None:
    """Create the tables with SQLAlchemy, independently of dbmedic's own DDL."""
    md = MetaData()
    for t in specs:
        cols: list[Column[object]] = [Column("id", Integer, primary_key=True, autoincrement=True)]
        for c in t.columns:
            cols.append(
                Column(
                    c.name,
                    KINDS[c.kind],
                    nullable=c.nullable,
                    server_default=DEFAULTS[c.kind] if c.default else None,
                )
            )
        for ref in t.refs:
            cols.append(
                Column(
                    f"r_{ref}",
                    Integer,
                    ForeignKey(f"{ref}.id", name=f"fk_{t.name}_{ref}"),
                    nullable=True,
                )
            )
        table = Table(t.name, md, *cols)
        for i, (idx_cols, unique) in enumerate(t.indexes):
            Index(f"ix_{t.name}_{i}", *(table.c[c] for c in idx_cols), unique=unique)
    engine = create_engine(url)
    md.create_all(engine)
    engine.dispose()


@pytest.mark.slow
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(a=portable_schemas(), b=portable_schemas())
def test_applying_diff_sql_makes_the_diff_empty(db_factory, a, b) -> None:  # type: ignore[no-untyped-def]
    url_a, url_b = db_factory.new("ha"), db_factory.new("hb")
    create(url_a, a)
    create(url_b, b)
    source = api.inspect(url_a)
    assert set(source.tables) == {t.name for t in a}
    statements = api.diff_sql(source, api.inspect(url_b), allow_drop=True)
    apply_statements(url_b, statements)
    after = api.inspect(url_b)
    d = diff_schemas(source, after)
    assert d.is_empty, (statements, [c.kind + " " + c.subject for c in d.changes])
