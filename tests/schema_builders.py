"""Hand-built schemas and hypothesis strategies for the pure tests (diff, snapshots, laws)."""

from __future__ import annotations

from collections.abc import Iterable

from hypothesis import strategies as st

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
)


def col(name: str, type_: str = "int", nullable: bool = False, **kw: object) -> Column:
    return Column(name, type_, nullable, **kw)  # type: ignore[arg-type]


def table(
    name: str,
    *columns: Column | str,
    pk: tuple[str, ...] | None = ("id",),
    indexes: Iterable[Index] = (),
    uniques: Iterable[UniqueConstraint] = (),
    fks: Iterable[ForeignKey] = (),
    checks: Iterable[CheckConstraint] = (),
    **options: object,
) -> Table:
    """A table; string columns are ``int NOT NULL``; ``id`` is added first when a pk names it."""
    cols = [c if isinstance(c, Column) else col(c) for c in columns]
    if pk == ("id",) and all(c.name != "id" for c in cols):
        cols.insert(0, col("id", "bigint", auto_increment=True))
    cols = [
        Column(**{**{f: getattr(c, f) for f in Column.__slots__}, "ordinal": i})  # type: ignore[arg-type]
        for i, c in enumerate(cols, 1)
    ]
    return Table(
        name=name,
        columns={c.name: c for c in cols},
        primary_key=PrimaryKey(pk) if pk else None,
        indexes={i.name: i for i in indexes},
        uniques={u.name: u for u in uniques},
        foreign_keys={f.name: f for f in fks},
        checks={c.name: c for c in checks},
        **options,  # type: ignore[arg-type]
    )


def fk(name: str, column: str, ref: str, ref_column: str = "id", **kw: str) -> ForeignKey:
    return ForeignKey(name, (column,), ref, (ref_column,), **kw)


def index(name: str, *columns: str, unique: bool = False) -> Index:
    return Index(name, tuple(IndexColumn(c) for c in columns), unique=unique)


def schema(*tables: Table, dialect: str = "mariadb", **kw: object) -> Schema:
    return Schema(dialect, {t.name: t for t in sorted(tables, key=lambda t: t.name)}, **kw)  # type: ignore[arg-type]


# --- hypothesis: any Schema (for the pure laws) -----------------------------------------------

names = st.text("abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=8)
texts = st.text(max_size=12)  # any unicode, quotes and backslashes included
opt_texts = st.none() | texts
extras = st.lists(st.tuples(names, texts), max_size=2, unique_by=lambda kv: kv[0]).map(
    lambda kv: tuple(sorted(kv))
)


@st.composite
def columns(draw: st.DrawFn) -> dict[str, Column]:
    col_names = draw(st.lists(names, min_size=1, max_size=5, unique=True))
    out = {}
    for i, name in enumerate(col_names, 1):
        out[name] = Column(
            name=name,
            type=draw(st.sampled_from(["int", "bigint", "varchar(255)", "text", "decimal(8,2)"])),
            nullable=draw(st.booleans()),
            default=draw(opt_texts),
            auto_increment=draw(st.booleans()),
            generated=draw(opt_texts),
            charset=draw(opt_texts),
            collation=draw(opt_texts),
            comment=draw(opt_texts),
            extra=draw(extras),
            ordinal=draw(st.integers(0, 50)) if draw(st.booleans()) else i,
            raw_type=draw(texts),
        )
    return out


@st.composite
def tables(draw: st.DrawFn, name: str) -> Table:
    cols = draw(columns())
    col_names = sorted(cols)
    some_cols = st.lists(st.sampled_from(col_names), min_size=1, max_size=3).map(tuple)
    index_columns = st.lists(
        st.builds(
            IndexColumn,
            st.sampled_from(col_names) | texts,
            st.booleans(),
            st.none() | st.integers(1, 255),
            st.booleans(),
        ),
        min_size=1,
        max_size=3,
    ).map(tuple)
    idx = draw(
        st.dictionaries(
            names,
            st.tuples(
                index_columns,
                st.booleans(),
                st.sampled_from(["btree", "hash", "gin"]),
                opt_texts,
                extras,
            ),
            max_size=3,
        )
    )
    uniques = draw(st.dictionaries(names, st.tuples(some_cols, extras), max_size=2))
    fks = draw(
        st.dictionaries(
            names,
            st.tuples(
                some_cols, names, some_cols, st.sampled_from(["NO ACTION", "CASCADE", "SET NULL"])
            ),
            max_size=2,
        )
    )
    checks = draw(st.dictionaries(names, texts, max_size=2))
    pk = draw(st.none() | st.builds(PrimaryKey, some_cols, opt_texts))
    return Table(
        name=name,
        columns=cols,
        primary_key=pk,
        uniques={n: UniqueConstraint(n, c, e) for n, (c, e) in uniques.items()},
        indexes={n: Index(n, c, u, k, w, e) for n, (c, u, k, w, e) in idx.items()},
        foreign_keys={
            n: ForeignKey(n, c, rt, rc, on_update=a, on_delete=a)
            for n, (c, rt, rc, a) in fks.items()
        },
        checks={n: CheckConstraint(n, e) for n, e in checks.items()},
        engine=draw(st.none() | st.sampled_from(["InnoDB", "MyISAM"])),
        charset=draw(opt_texts),
        collation=draw(opt_texts),
        comment=draw(opt_texts),
        extra=draw(extras),
    )


@st.composite
def schemas(draw: st.DrawFn) -> Schema:
    table_names = draw(st.lists(names, max_size=4, unique=True))
    tabs = {n: draw(tables(n)) for n in sorted(table_names)}
    views = draw(st.dictionaries(names, st.tuples(texts, extras), max_size=2))
    triggers = draw(st.dictionaries(names, st.tuples(names, texts, extras), max_size=2))
    return Schema(
        dialect=draw(st.sampled_from(["mysql", "mariadb", "postgresql", "sqlite"])),
        tables=tabs,
        views={n: View(n, d, e) for n, (d, e) in sorted(views.items())},
        triggers={
            f"{t}.{n}": Trigger(n, t, "AFTER", "INSERT", b, e)
            for n, (t, b, e) in sorted(triggers.items())
        },
        database=draw(opt_texts),
        server_version=draw(opt_texts),
        charset=draw(opt_texts),
        collation=draw(opt_texts),
        taken_at=draw(st.none() | st.just("2025-10-26T15:45:30Z")),
        inspect_seconds=draw(st.none() | st.floats(0, 100, allow_nan=False)),
    )
