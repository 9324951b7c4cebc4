"""Why the failing statement fails: the object it trips over and every migration that creates it."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from dbmedic.changes import (
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
    DropColumn,
    DropForeignKey,
    DropIndex,
    DropTable,
    DropUnique,
    RenameColumn,
    RenameTable,
)
from dbmedic.diagnose.history import locate_line
from dbmedic.diagnosis import Cause, Site
from dbmedic.errorclass import ErrorClass
from dbmedic.model import Migration, Schema
from dbmedic.simulate import Simulation

E = ErrorClass
_DUPLICATE = {E.DUPLICATE_COLUMN, E.DUPLICATE_TABLE, E.DUPLICATE_KEY_NAME}
DUPLICATE = frozenset(_DUPLICATE)
_MISSING = {E.UNKNOWN_COLUMN, E.UNKNOWN_TABLE, E.UNKNOWN_KEY}
_KIND = {
    E.PERMISSION_DENIED: "permission",
    E.LOCK_WAIT_TIMEOUT: "lock",
    E.SYNTAX_ERROR: "syntax",
    E.DATA_TRUNCATION_OR_INVALID_DEFAULT: "data",
    E.FOREIGN_KEY: "foreign_key",
    E.OTHER: "other",
}
_WHY = {
    "permission": "the database user lacks a privilege this statement needs; grant it (or run "
    "the migration as a user that has it)",
    "lock": "another session held a lock on {obj} longer than the server's lock wait timeout; "
    "find the blocking session (SHOW PROCESSLIST / pg_stat_activity) and retry",
    "syntax": "the statement is not valid SQL for this server (version or dialect); fix the "
    "migration",
    "data": "a value or default does not fit the column's type on this server (strict mode); "
    "fix the default or the data",
    "other": "the server rejected the statement; see its error",
}
_QUOTED = re.compile(r"""['"`]([^'"`]+)['"`]""")


@dataclass(frozen=True, slots=True)
class Target:
    kind: str
    key: str | None
    """Creator key as the simulation keys objects (``column:t.c``)."""


def _split(key: str) -> tuple[str, str]:
    kind, _, name = key.partition(":")
    return kind, name


def _table_of(c: Change) -> str | None:
    if isinstance(c, (AddTable, DropTable)):
        return c.table.name
    if isinstance(c, RenameTable):
        return c.old
    return getattr(c, "table", None) if isinstance(getattr(c, "table", None), str) else None


def _created_keys(c: Change) -> Iterator[str]:
    if isinstance(c, AddColumn):
        yield f"column:{c.table}.{c.column.name}"
    elif isinstance(c, AddTable):
        yield f"table:{c.table.name}"
    elif isinstance(c, RenameTable):
        yield f"table:{c.new}"
    elif isinstance(c, RenameColumn):
        yield f"column:{c.table}.{c.new}"
    elif isinstance(c, AddView):
        yield f"view:{c.view.name}"
    elif isinstance(c, AddTrigger):
        yield f"trigger:{c.trigger.name}"
    elif isinstance(c, AddIndex):
        yield f"index:{c.table}.{c.index.name}"
    elif isinstance(c, AddUnique):
        yield f"index:{c.table}.{c.unique.name}"
    elif isinstance(c, AddPrimaryKey):
        yield f"index:{c.table}.PRIMARY"
    elif isinstance(c, AddForeignKey):
        yield f"foreign_key:{c.table}.{c.foreign_key.name}"


def _fk_keys(c: Change) -> Iterator[str]:
    if isinstance(c, AddForeignKey):
        yield f"foreign_key:{c.table}.{c.foreign_key.name}"
    elif isinstance(c, AddTable):
        for name in c.table.foreign_keys:
            yield f"foreign_key:{c.table.name}.{name}"


def _needed_keys(c: Change) -> Iterator[str]:
    """Objects a change needs to exist (for unknown table/column/key)."""
    table = _table_of(c)
    if table and not isinstance(c, AddTable):
        yield f"table:{table}"
    if isinstance(c, (DropColumn, AlterColumn)):
        column = c.column if isinstance(c, DropColumn) else c.before
        yield f"column:{c.table}.{column.name}"
    if isinstance(c, RenameColumn):
        yield f"column:{c.table}.{c.old}"
    if isinstance(c, (DropIndex, DropUnique, DropForeignKey)):
        name = (
            c.index.name
            if isinstance(c, DropIndex)
            else c.unique.name
            if isinstance(c, DropUnique)
            else c.foreign_key.name
        )
        kind = "foreign_key" if isinstance(c, DropForeignKey) else "index"
        yield f"{kind}:{c.table}.{name}"
    fks = []
    if isinstance(c, AddForeignKey):
        fks = [c.foreign_key]
    elif isinstance(c, AddTable):
        fks = list(c.table.foreign_keys.values())
    for fk in fks:
        yield f"table:{fk.ref_table}"
        for col in fk.ref_columns:
            yield f"column:{fk.ref_table}.{col}"
    if isinstance(c, AddIndex):
        for ic in c.index.columns:
            if not ic.expression:
                yield f"column:{c.table}.{ic.name}"


def _exists(schema: Schema, key: str) -> bool:
    kind, name = _split(key)
    table, _, part = name.partition(".")
    tables = {k.lower(): v for k, v in schema.tables.items()}
    t = tables.get(table.lower())
    if kind == "table":
        return t is not None or table.lower() in {v.lower() for v in schema.views}
    if kind == "view":
        return name.lower() in {v.lower() for v in schema.views}
    if kind == "trigger":
        return name in schema.triggers
    if t is None:
        return False
    if kind == "column":
        return part.lower() in {c.lower() for c in t.columns}
    if kind == "foreign_key":
        return part in t.foreign_keys
    if part == "PRIMARY":
        return t.primary_key is not None
    return part in t.indexes or part in t.uniques


def find_target(
    error_class: ErrorClass, sql: str | None, error: str, live: Schema, dialect: str
) -> Target:
    """The object a failing statement trips over, from its effects and the live schema."""
    from dbmedic.effects import statement_effects

    kind = (
        "duplicate"
        if error_class in _DUPLICATE
        else "missing"
        if error_class in _MISSING
        else _KIND.get(error_class, "other")
    )
    if not sql:
        return Target(kind, None)
    changes = statement_effects(sql, dialect, live).changes
    mentioned = {m.group(1).lower() for m in _QUOTED.finditer(error)}
    mentioned |= {m.split(".")[-1] for m in mentioned}

    def best(keys: list[str]) -> str | None:
        for key in keys:
            if _split(key)[1].split(".")[-1].lower() in mentioned:
                return key
        return keys[0] if keys else None

    if kind == "duplicate":
        keys = [k for c in changes for k in _created_keys(c) if _exists(live, k)]
        return Target(kind, best(keys) or best([k for c in changes for k in _created_keys(c)]))
    if kind in ("missing", "foreign_key"):
        keys = [k for c in changes for k in _needed_keys(c) if not _exists(live, k)]
        if keys:
            return Target("missing", best(keys))
        if kind == "foreign_key":
            fks = [k for c in changes for k in _fk_keys(c)]
            return Target("foreign_key", fks[0] if fks else None)
        return Target(kind, None)
    tables = [f"table:{t}" for c in changes if (t := _table_of(c))]
    return Target(kind, tables[0] if tables else None)


def sites(
    key: str | None,
    sim_all: Simulation | None,
    migrations: Mapping[str, Migration],
    root: Path,
    failing: str | None,
) -> tuple[Site, ...]:
    """Every statement in the history that creates ``key`` (file, line, state)."""
    if key is None or sim_all is None:
        return ()
    name = _split(key)[1].split(".")[-1]
    out = []
    for c in sim_all.creators.get(key, ()):
        m = migrations.get(c.migration)
        line = c.line
        if line is None and m is not None and m.file:
            try:
                text = (root / m.file).read_text(encoding="utf-8", errors="replace")
            except OSError:
                text = ""
            line = locate_line(text, "", name)
        out.append(
            Site(
                c.migration,
                m.file if m else None,
                line,
                m.state if m else None,
                c.statement,
                c.failed or c.migration == failing,
            )
        )
    return tuple(out)


def _where(s: Site) -> str:
    loc = f"{s.file}:{s.line}" if s.file and s.line else s.file or s.migration
    state = f", {s.state.value}" if s.state else ""
    return f"{s.migration} ({loc}{state})"


def explain(
    target: Target,
    creators: Sequence[Site],
    failing: str,
    order: Sequence[str],
    complete: bool,
    error: str,
) -> Cause:
    """A Cause with a computed explanation."""
    object_kind, obj = _split(target.key) if target.key else (None, None)
    label = f"{object_kind.replace('_', ' ')} {obj}" if object_kind else "the object"
    pos = {mid: i for i, mid in enumerate(order)}
    here = pos.get(failing, len(order))
    before = [s for s in creators if s.migration != failing and pos.get(s.migration, -1) < here]
    later = [s for s in creators if s.migration != failing and pos.get(s.migration, -1) > here]
    if target.kind == "duplicate":
        if before:
            text = (
                f"{label} is created by {', '.join(_where(s) for s in before)} "
                f"and again by {failing}, which therefore fails"
            )
            return Cause("duplicate", object_kind, obj, tuple(creators), False, text)
        if not complete:
            text = (
                f"{label} already exists; the SQL of the applied migrations is unknown without "
                "a shadow database, so it was created by one of them or outside the migrations"
            )
            return Cause("duplicate", object_kind, obj, tuple(creators), False, text)
        text = (
            f"{label} already exists but no migration before {failing} creates it: "
            "it was created outside the migrations (by hand, a restore or another tool)"
        )
        if any(s.migration == failing for s in creators):
            text = (
                f"{label} already exists but no migration before {failing} creates it; "
                f"{failing} itself does, so an earlier run of it most likely stopped after that "
                "statement without rolling it back (DDL is not transactional here), unless it "
                "was created by hand"
            )
        return Cause("duplicate", object_kind, obj, tuple(creators), True, text)
    if target.kind == "missing":
        if before:
            s = before[-1]
            state = s.state.value if s.state else "unknown"
            text = f"{label} does not exist; it should have been created by {_where(s)}" + (
                ", which is recorded as applied: it was dropped or renamed since"
                if state == "applied"
                else ""
            )
        elif later:
            text = (
                f"{label} does not exist yet: only {_where(later[0])} creates it, "
                f"and that runs after {failing} (migration order)"
            )
        elif complete:
            text = f"{label} does not exist and no migration creates it"
        else:
            text = f"{label} does not exist (no pending migration creates it)"
        return Cause("missing", object_kind, obj, tuple(creators), False, text)
    if target.kind == "foreign_key":
        text = f"the foreign key {obj or ''} does not match its parent: {error}".replace("  ", " ")
        return Cause("foreign_key", object_kind, obj, tuple(creators), False, text)
    why = _WHY.get(target.kind, _WHY["other"]).format(obj=obj or "the table")
    return Cause(target.kind, object_kind, obj, tuple(creators), False, why)
