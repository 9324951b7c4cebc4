"""Render an :class:`~dbmedic.demo.spec.AppSpec` as dbmate SQL migration files for one dialect family.

Names follow Laravel's conventions (``{table}_{column}_index``, ``_unique``, ``_foreign``) so the
same app rendered by a Laravel renderer would produce the same schema.
"""

from __future__ import annotations

from dataclasses import dataclass

from dbmedic.demo.spec import AddColumn, AppSpec, ColumnSpec, CreateTable, Step, TableSpec


@dataclass(frozen=True, slots=True)
class _Family:
    quote: str
    types: dict[str, str]
    id_column: str
    fk_type: str
    table_suffix: str = ""
    inline_indexes: bool = False
    true_false: tuple[str, str] = ("1", "0")
    supports_after: bool = False

    def q(self, name: str) -> str:
        return f"{self.quote}{name}{self.quote}"


_FAMILIES = {
    "sqlite": _Family(
        '"',
        {
            "string": "varchar",
            "text": "text",
            "json": "text",
            "int": "integer",
            "bigint": "integer",
            "bool": "tinyint(1)",
            "decimal": "numeric",
            "timestamp": "datetime",
            "date": "date",
            "uuid": "varchar(36)",
        },
        "integer primary key autoincrement not null",
        "integer",
    ),
    "mysql": _Family(
        "`",
        {
            "string": "varchar",
            "text": "text",
            "json": "json",
            "int": "int",
            "bigint": "bigint",
            "bool": "tinyint(1)",
            "decimal": "decimal",
            "timestamp": "timestamp",
            "date": "date",
            "uuid": "char(36)",
        },
        "bigint unsigned not null auto_increment primary key",
        "bigint unsigned",
        " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci",
        inline_indexes=True,
        supports_after=True,
    ),
    "postgresql": _Family(
        '"',
        {
            "string": "varchar",
            "text": "text",
            "json": "jsonb",
            "int": "integer",
            "bigint": "bigint",
            "bool": "boolean",
            "decimal": "numeric",
            "timestamp": "timestamp(0) without time zone",
            "date": "date",
            "uuid": "uuid",
        },
        "bigserial primary key",
        "bigint",
        true_false=("true", "false"),
    ),
}


def _type(f: _Family, col: ColumnSpec) -> str:
    if col.type == "fk":
        return f.fk_type
    base, _, args = col.type.partition("(")
    mapped = f.types[base]
    return f"{mapped}({args}" if args and "(" not in mapped else mapped


def _column(f: _Family, col: ColumnSpec, added: bool = False) -> str:
    if col.type == "id":
        return f"{f.q(col.name)} {f.id_column}"
    parts = [f.q(col.name), _type(f, col)]
    parts.append("null" if col.nullable else "not null")
    if col.default is not None:
        default = col.default
        if col.type == "bool":
            default = f.true_false[0] if default == "1" else f.true_false[1]
        parts.append(f"default {default}")
    if added and col.after and f.supports_after:
        parts.append(f"after {f.q(col.after)}")
    return " ".join(parts)


def _index_name(table: str, columns: tuple[str, ...], kind: str) -> str:
    return f"{table}_{'_'.join(columns)}_{kind}"


def _fk_clause(f: _Family, table: str, col: ColumnSpec) -> str:
    name = _index_name(table, (col.name,), "foreign")
    action = "set null" if col.nullable else "cascade"
    return (
        f"constraint {f.q(name)} foreign key ({f.q(col.name)}) references "
        f"{f.q(col.references or '')} ({f.q('id')}) on delete {action}"
    )


def _create(f: _Family, t: TableSpec) -> list[str]:
    lines = [_column(f, col) for col in t.columns]
    after: list[str] = []
    for col in t.columns:
        kind = "unique" if col.unique else "index" if col.index else None
        if kind:
            name = _index_name(t.name, (col.name,), kind)
            if f.inline_indexes:
                lines.append(f"{'unique ' if col.unique else ''}key {f.q(name)} ({f.q(col.name)})")
            else:
                after.append(
                    f"create {'unique ' if col.unique else ''}index {f.q(name)} on {f.q(t.name)} ({f.q(col.name)})"
                )
    lines += [_fk_clause(f, t.name, col) for col in t.columns if col.type == "fk"]
    body = ",\n  ".join(lines)
    return [f"create table {f.q(t.name)} (\n  {body}\n){f.table_suffix}", *after]


def _up(f: _Family, step: Step, family: str) -> list[str]:
    if isinstance(step, CreateTable):
        return _create(f, step.table)
    if isinstance(step, AddColumn):
        col = step.column
        out = [f"alter table {f.q(step.table)} add column {_column(f, col, added=True)}"]
        if col.type == "fk" and family == "sqlite":
            # SQLite adds a foreign key only together with its column
            out[0] += f" references {f.q(col.references or '')} ({f.q('id')}) on delete set null"
        if col.index or col.unique:
            kind = "unique" if col.unique else "index"
            out.append(
                f"create {'unique ' if col.unique else ''}index {f.q(_index_name(step.table, (col.name,), kind))}"
                f" on {f.q(step.table)} ({f.q(col.name)})"
            )
        if col.type == "fk" and family != "sqlite":
            out.append(f"alter table {f.q(step.table)} add {_fk_clause(f, step.table, col)}")
        return out
    cols = ", ".join(f.q(x) for x in step.columns)
    return [
        f"create index {f.q(_index_name(step.table, step.columns, 'index'))} on {f.q(step.table)} ({cols})"
    ]


def _down(f: _Family, step: Step, family: str) -> list[str]:
    if isinstance(step, CreateTable):
        return [f"drop table {f.q(step.table.name)}"]
    if isinstance(step, AddColumn):
        return [f"alter table {f.q(step.table)} drop column {f.q(step.column.name)}"]
    name = f.q(_index_name(step.table, step.columns, "index"))
    return [f"drop index {name} on {f.q(step.table)}" if f.inline_indexes else f"drop index {name}"]


def render(app: AppSpec, family: str, *, era: str = "current") -> dict[str, str]:
    """{file name: text} of every migration, as dbmate files for ``family``.

    ``era="production"`` renders edited files with the text production ran (``original_steps``).
    """
    f = _FAMILIES[family]
    files: dict[str, str] = {}
    for m in app.migrations:
        steps = m.original_steps if era == "production" and m.original_steps else m.steps
        up = [s for step in steps for s in _up(f, step, family)]
        down = [s for step in reversed(steps) for s in _down(f, step, family)]
        files[f"{m.version}_{m.name}.sql"] = (
            "-- migrate:up\n"
            + "".join(s + ";\n\n" for s in up)
            + "-- migrate:down\n"
            + "".join(s + ";\n" for s in down)
        )
    return files


def families() -> list[str]:
    return sorted(_FAMILIES)
