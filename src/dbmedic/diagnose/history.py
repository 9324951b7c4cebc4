"""The statements of every migration, with lines where the file shows them, and the simulations.

Where migrations are SQL files (dbmate) the files are read directly. Where they are code
(Laravel, Django, Alembic) the framework prints the SQL itself: its pretend / sqlmigrate /
offline mode against an EMPTY shadow database shows every migration's SQL; without a shadow,
only the pending migrations' SQL is asked for (against the target, read-only), and the applied
migrations' statements stay unknown.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dbmedic.effects_sql import Statement
from dbmedic.model import Migration, MigrationState

if TYPE_CHECKING:
    from dbmedic.connect import Database
    from dbmedic.frameworks.base import Framework
    from dbmedic.model import Schema
    from dbmedic.simulate import Simulation

History = list[tuple[str, list[str | Statement]]]


@dataclass(frozen=True, slots=True)
class Histories:
    """Statements per migration id, in run order."""

    statements: Mapping[str, tuple[str | Statement, ...]]
    complete: bool
    """Every migration's SQL is known (False: only the pending ones')."""

    def history(self, ids: Sequence[str]) -> History:
        return [(mid, list(self.statements.get(mid, ()))) for mid in ids]


NO_SQL = Histories({}, False)
"""No migration's SQL read (a reset plan whose fresh run succeeded needs none)."""


def statements_from_files(fw: Framework, root: Path, family: str) -> Histories | None:
    """Read-only, no database: every migration's statements from its SQL file, or None."""
    found = fw.file_sql(root, family)
    if found is None:
        return None
    return Histories(
        {mid: tuple(Statement(s, line) for s, line in sts) for mid, sts in found.items()}, True
    )


def statements_from_framework(
    fw: Framework, db: Database, root: Path, migrations: Sequence[Migration], *, complete: bool
) -> Histories:
    """The framework's own SQL of the migrations pending in ``db`` (all of them when ``db`` is an
    empty shadow), with each statement's line located in the migration's file where possible."""
    raw = fw.pending_sql(db, root)
    files = {m.id: m.file for m in migrations}
    out: dict[str, tuple[str | Statement, ...]] = {}
    for mid, statements in raw.items():
        text = _read(root, files.get(mid))
        out[mid] = tuple(_with_line(s, locate_line(text, s)) for s in statements)
    return Histories(out, complete)


def _with_line(sql: str, line: int | None) -> str | Statement:
    return sql if line is None else Statement(sql, line)


def statement_sql(item: str | Statement) -> str:
    return item.sql if isinstance(item, Statement) else item


def _read(root: Path, file: str | None) -> str:
    if not file:
        return ""
    try:
        return (root / file).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


_IDENT = re.compile(r"""[`"\[]?([A-Za-z_][A-Za-z0-9_]*)[`"\]]?""")
_NOISE = {
    "alter", "table", "add", "column", "create", "index", "unique", "key", "primary", "foreign",
    "references", "constraint", "not", "null", "default", "int", "integer", "varchar", "on",
    "drop", "if", "exists", "after", "unsigned", "bigint", "text", "boolean", "tinyint", "set",
    "modify", "change", "rename", "to", "view", "as", "select", "from", "where", "and", "or",
}  # fmt: skip


def locate_line(text: str, sql: str, name: str | None = None) -> int | None:
    """1-based line of ``sql`` (or of ``name`` quoted) in a migration file's ``text``.

    SQL files contain the statement itself. Code migrations (PHP, Python) name the objects the
    generated SQL creates: the line quoting ``name`` (or the statement's last identifier that
    the file quotes) is where the migration creates it.
    """
    if not text:
        return None
    first = sql.strip().splitlines()[0].strip() if sql.strip() else ""
    if first and (at := text.find(first)) >= 0:
        return text.count("\n", 0, at) + 1
    names = [name] if name else []
    names += [m.group(1) for m in _IDENT.finditer(sql) if m.group(1).lower() not in _NOISE][::-1]
    for candidate in names:
        for quote in ("'", '"'):
            at = text.find(f"{quote}{candidate}{quote}")
            if at >= 0:
                return text.count("\n", 0, at) + 1
    return None


def resume_skip(m: Migration) -> int:
    """Statements of a half-run migration the native runner will not repeat (its journal)."""
    if m.state is not MigrationState.FAILED:
        return 0
    value = dict(m.extra).get("statement_index", "")
    return int(value) if value.isdigit() else 0


def not_applied(migrations: Sequence[Migration]) -> list[Migration]:
    return [m for m in migrations if m.state in (MigrationState.PENDING, MigrationState.FAILED)]


def simulate_from_zero(h: Histories, migrations: Sequence[Migration], dialect: str) -> Simulation:
    """Every migration on an empty catalog: creators of every object, the fresh-run outcome
    (``first_failure``). Goes on past a failing statement so later migrations' creators count."""
    from dbmedic.simulate import simulate

    ids = [m.id for m in migrations if m.state is not MigrationState.MISSING_FILE]
    return simulate(h.history(ids), dialect, keep_going=True)


def simulate_from(
    h: Histories,
    todo: Sequence[Migration],
    live: Schema,
    dialect: str,
    *,
    skip_statements: Mapping[str, int] | None = None,
    keep_going: bool = False,
) -> Simulation:
    """``todo`` (pending migrations, in order) run on the live schema, as ``migrate`` would."""
    from dbmedic.simulate import simulate

    skip = dict(skip_statements or {})
    for m in todo:
        skip.setdefault(m.id, resume_skip(m))
    history = [(mid, sts[skip.get(mid, 0) :]) for mid, sts in h.history([m.id for m in todo])]
    return simulate(history, dialect, live, database=live.database, keep_going=keep_going)


def statements_on_empty_shadow(
    fw: Framework, target: Database, root: Path, migrations: Sequence[Migration]
) -> Histories:
    """Writes (a shadow only): every migration's SQL, printed by the framework on an empty
    shadow of ``target`` (pretend, sqlmigrate, offline), which is then dropped."""
    from dbmedic.shadow import shadow_database

    with shadow_database(target) as sh:
        return statements_from_framework(fw, sh, root, migrations, complete=True)
