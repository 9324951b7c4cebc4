"""The guard that makes a failing migration idempotent, in the framework's own idiom.

Ready to paste: the migration's source is read, the statement that creates the object is found
(:mod:`dbmedic.diagnose.guard_code`) and the snippet is that statement under a condition;
``Guard.original`` is the exact text it replaces. Keyed by framework name (``_MAKERS`` is the
registry); SQL migrations get the dialect's own ``IF NOT EXISTS`` where the server has it:
MariaDB ``ADD COLUMN IF NOT EXISTS`` / ``CREATE INDEX IF NOT EXISTS``
(https://mariadb.com/kb/en/alter-table/), PostgreSQL ``ADD COLUMN IF NOT EXISTS``
(https://www.postgresql.org/docs/current/sql-altertable.html). MySQL 8 and SQLite have no
``ADD COLUMN IF NOT EXISTS`` (https://www.sqlite.org/lang_altertable.html) and a SQL file cannot
branch: the snippet shows the catalog check to run and, when an earlier migration creates the
object in every run that reaches this one, drops the statement.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dbmedic.diagnose.guard_code import (
    Located,
    alembic_statement,
    django_operation,
    laravel_statement,
    php_string,
    wrap,
)
from dbmedic.diagnosis import Cause, Guard

if TYPE_CHECKING:
    from dbmedic.dialects.base import Dialect


@dataclass(frozen=True, slots=True)
class Ask:
    """Everything a maker needs to write one guard."""

    kind: str
    """``column``, ``table``, ``index`` or ``foreign_key``."""
    table: str
    name: str
    migration: str
    sql: str
    """The failing statement."""
    statements: tuple[str, ...]
    """Every statement of the failing migration, in order."""
    source: str
    """The migration file's text ("" when unreadable)."""
    line: int | None
    earlier: tuple[str, ...]
    """Earlier migrations that create the object (it exists whenever this one runs)."""
    if_not_exists: bool
    """The server has ``IF NOT EXISTS`` for this kind (``ADD COLUMN``, ``CREATE INDEX``)."""
    exists_query: str | None
    """The dialect's catalog query for this kind, (table, name) as ``?`` parameters."""
    server: str = "this server"
    """The dialect's name, for sentences."""


Made = tuple[str, str, str, Located | None]
"""(language, snippet, note, the located original or None for a template)."""
Maker = Callable[[Ask], Made]


def _laravel(a: Ask) -> Made:
    found = laravel_statement(a.source, a.kind, a.table, a.name, a.line)
    t, n = php_string(a.table), php_string(a.name)
    if a.kind == "column":
        head, what = f"if (! Schema::hasColumn({t}, {n})) {{", "the statement that adds the column"
    elif a.kind == "table":
        head, what = f"if (! Schema::hasTable({t})) {{", "the Schema::create call"
    else:
        query = a.exists_query or "SELECT 1 FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name = ? AND index_name = ?"  # fmt: skip
        head = f"if (empty(\\Illuminate\\Support\\Facades\\DB::select({php_string(query)}, [{t}, {n}]))) {{"
        what = "the statement that creates it"
    note = f"replaces {what}; "
    if a.kind not in ("column", "table"):
        note += (
            "Laravel 8 has no Schema::hasIndex (Laravel 11 adds it) and Doctrine's schema manager "
            "needs doctrine/dbal, so the guard asks the catalog through DB::select (add the "
            "table prefix to the name if the connection has one); "
        )
    if found is None:
        template = Located(f"// the existing statement that creates {a.name}", 0, 0, "")
        return "php", wrap(template, head, "}"), note + "paste the existing statement inside", None
    return "php", wrap(found, head, "}"), note + "the rest of the migration stays as it is", found


def _alembic(a: Ask) -> Made:
    found = alembic_statement(a.source, a.kind, a.table, a.name)
    insp = "sa.inspect(op.get_bind())"
    t, n = repr(a.table), repr(a.name)
    check = {
        "column": f"if {n} not in {{c['name'] for c in {insp}.get_columns({t})}}:",
        "table": f"if not {insp}.has_table({t}):",
        "foreign_key": f"if {n} not in {{f['name'] for f in {insp}.get_foreign_keys({t})}}:",
    }.get(
        a.kind,
        f"if {n} not in {{i['name'] for i in {insp}.get_indexes({t}) + {insp}.get_unique_constraints({t})}}:",
    )
    note = "works online (alembic upgrade); offline --sql mode cannot inspect the database"
    if "import sqlalchemy as sa" not in a.source:
        note += "; needs `import sqlalchemy as sa` at the top"
    if found is None:
        template = Located("<the existing op.add_column / op.create_table / op.create_index call>", 0, 0, "")  # fmt: skip
        return "python", wrap(template, check), note, None
    return "python", wrap(found, check), note, found


def _django(a: Ask) -> Made:
    label = a.migration.partition(".")[0]
    models = {a.table.lower().removeprefix(label.lower() + "_"), a.table.lower()}
    found = django_operation(a.source, a.kind, a.name, models)
    original = found.text if found else "<the existing operation>"
    indent = found.indent if found else ""
    body = "\n".join(f"{indent}{' ' * 8}{x}" if i == 0 else f"{' ' * 8}{x}" for i, x in enumerate(original.split("\n")))  # fmt: skip
    sql = _django_sql(a)
    if sql and (a.kind == "column" or not a.earlier):
        listed = ",\n".join(f"{indent}{' ' * 16}{s!r}" for s in sql)
        database = (
            f"{indent}    database_operations=[\n"
            f"{indent}        migrations.RunSQL(\n{indent}            [\n{listed},\n{indent}            ],\n"
            f"{indent}            reverse_sql=migrations.RunSQL.noop,\n{indent}        ),\n{indent}    ],\n"
        )
        note = "Django's state still learns about the change; the database gets it only when it is missing"
    else:
        database = f"{indent}    database_operations=[],  # the database already has it\n"
        where = (
            f"{', '.join(a.earlier)} creates it, so it exists whenever this migration runs"
            if a.earlier
            else "right only where it exists; elsewhere keep the operation in a separate migration"
        )
        note = f"state only: Django's state learns about the change, the database is left alone ({where})"
    snippet = (
        "migrations.SeparateDatabaseAndState(\n"
        f"{indent}    state_operations=[\n{body},\n{indent}    ],\n{database}{indent})"
    )
    return "python", snippet, note, found


def _django_sql(a: Ask) -> list[str]:
    """The failing statement with IF NOT EXISTS, and the statements right after it that finish
    the same object (Django drops the temporary default with a second ALTER)."""
    if a.kind != "table" and not a.if_not_exists:
        return []
    guarded = _guarded_sql(a.kind, a.sql)
    if guarded == a.sql.strip().rstrip(";"):
        return []
    out = [guarded]
    squashed = [" ".join(s.split()) for s in a.statements]
    here = " ".join(a.sql.split())
    if here in squashed:
        for s in a.statements[squashed.index(here) + 1 :]:
            if _names(s, a.table) and _names(s, a.name):
                out.append(s.strip().rstrip(";"))
            else:
                break
    return out


def _names(sql: str, ident: str) -> bool:
    return re.search(rf"""[`"\[\s(.]{re.escape(ident)}[`"\]\s(,.]""", f" {sql} ") is not None


def _sql(a: Ask) -> Made:
    found = _sql_statement(a.source, a.sql, a.line)
    base = found.text if found else a.sql
    guarded = _guarded_sql(a.kind, base)
    if guarded != base.strip().rstrip(";") and (a.kind == "table" or a.if_not_exists):
        end = ";" if base.rstrip().endswith(";") else ""
        return "sql", guarded + end, "", found
    statement = (found.text if found else a.sql).strip()
    check = _check_sql(a)
    checks = [f"--   {check}"] if check else []
    obj = a.table if a.kind == "table" else f"{a.table}.{a.name}"
    if a.earlier:
        lines = [
            f"-- {a.server} has no IF NOT EXISTS for this statement and a SQL migration cannot branch;",
            f"-- {', '.join(a.earlier)} creates {obj} in every run that reaches this",
            "-- migration, so the statement goes (on a database that has the migrations' history,",
            "-- check first that this returns a row):",
            *checks,
            *(f"-- {x}" for x in statement.split("\n")),
        ]
        note = "the statement is commented out: an earlier migration already creates the object"
    else:
        lines = [
            f"-- {a.server} has no IF NOT EXISTS for this statement and a SQL migration cannot branch:",
            "-- run it only where this returns no row (move it into its own migration):",
            *checks,
            statement,
        ]
        note = "check the catalog first (SQLite: pragma_table_info; MySQL 8: information_schema)"
    return "sql", "\n".join(lines), note, found


def _check_sql(a: Ask) -> str | None:
    """The dialect's catalog query with the names filled in as SQL literals, for a human to run."""
    if a.exists_query is None:
        return None
    values = iter((a.table, a.name))
    return (
        re.sub(r"\?", lambda _m: "'" + next(values).replace("'", "''") + "'", a.exists_query) + ";"
    )


def _sql_statement(source: str, sql: str, line: int | None) -> Located | None:
    """The statement as written in the SQL file (from its line), with its ``;``."""
    from dbmedic.diagnose.guard_code import _located

    if not source or not sql.strip():
        return None
    offsets = [0] + [m.end() for m in re.finditer("\n", source)]
    start = offsets[line - 1] if line and 0 < line <= len(offsets) else 0
    body = sql.strip().rstrip(";").strip()
    at = source.find(body, start)
    if at < 0:
        return None
    end = at + len(body)
    rest = re.match(r"\s*;", source[end:])
    return _located(source, at, end + (rest.end() if rest else 0))


_MAKERS: dict[str, Maker] = {"laravel": _laravel, "django": _django, "alembic": _alembic}


def _guarded_sql(kind: str, sql: str) -> str:
    """The failing statement with IF NOT EXISTS inserted where the grammar allows it."""
    text = sql.strip().rstrip(";")
    patterns: dict[str, tuple[str, Callable[[re.Match[str]], str]]] = {
        "column": (
            r"(?i)\bADD\s+(COLUMN\s+)?(?!IF\b)",
            lambda m: f"ADD {m.group(1) or 'COLUMN '}IF NOT EXISTS ",
        ),
        "table": (r"(?i)\bCREATE\s+TABLE\s+(?!IF\b)", lambda m: "CREATE TABLE IF NOT EXISTS "),
        "index": (
            r"(?i)\b(CREATE\s+(?:UNIQUE\s+)?INDEX|ADD\s+(?:UNIQUE\s+)?(?:INDEX|KEY))\s+(?!IF\b)",
            lambda m: f"{m.group(1)} IF NOT EXISTS ",
        ),
    }
    pattern = patterns.get(kind)
    if pattern is None:
        return text
    return re.sub(pattern[0], pattern[1], text, count=1)


def guard_for(
    framework: str,
    cause: Cause | None,
    migration: str,
    file: str | None,
    line: int | None,
    statement: str | None,
    dialect_has_if_not_exists: bool,
    *,
    root: Path | None = None,
    dialect: Dialect | None = None,
    statements: Sequence[str] = (),
) -> Guard | None:
    """The guard for a duplicate-object failure, or None for other kinds.

    Read-only: reads the migration file under ``root`` to quote the statement it guards.
    """
    if cause is None or cause.kind != "duplicate" or not cause.object or not cause.object_kind:
        return None
    table, _, name = cause.object.partition(".")
    name = name or table
    kind = cause.object_kind if cause.object_kind in ("column", "table", "foreign_key") else "index"
    source = ""
    if root is not None and file:
        try:
            source = (root / file).read_text(encoding="utf-8", errors="replace")
        except OSError:
            source = ""
    earlier = tuple(
        dict.fromkeys(
            s.migration for s in cause.creators if not s.failed and s.migration != migration
        )
    )
    if_not_exists = dialect_has_if_not_exists
    if kind == "index" and dialect is not None:
        if_not_exists = dialect.create_index_if_not_exists
    ask = Ask(
        kind, table, name, migration, statement or "", tuple(statements), source, line, earlier,
        if_not_exists,
        (dialect.exists_queries.get(kind) if dialect is not None else None),
        dialect.name if dialect is not None else "this server",
    )  # fmt: skip
    maker = _MAKERS.get(framework, _sql)
    language, snippet, note, found = maker(ask)
    if found is None:
        return Guard(migration, file, line, language, snippet, note)
    original = found.text
    lines = source.split("\n")
    if 0 < found.line <= len(lines) and lines[found.line - 1].startswith(
        found.indent + found.text.split("\n")[0]
    ):  # whole lines: paste over lines line..end_line as they are
        original, snippet = found.indent + original, found.indent + snippet
    return Guard(migration, file, found.line, language, snippet, note, original, found.end_line)
