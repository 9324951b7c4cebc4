"""The guard that makes a failing migration idempotent, in the framework's own idiom.

Keyed by framework name (this table is the registry); SQL migrations get the dialect's own
``IF NOT EXISTS`` where the server has it: MariaDB ``ADD COLUMN IF NOT EXISTS`` / ``CREATE INDEX
IF NOT EXISTS`` (https://mariadb.com/kb/en/alter-table/), PostgreSQL ``ADD COLUMN IF NOT EXISTS``
(https://www.postgresql.org/docs/current/sql-altertable.html); MySQL 8 and SQLite have no
``ADD COLUMN IF NOT EXISTS`` (https://www.sqlite.org/lang_altertable.html), so the snippet checks
the catalog first.
"""

from __future__ import annotations

from collections.abc import Callable

from dbmedic.diagnosis import Cause, Guard

Maker = Callable[[str, str, str, str], tuple[str, str, str]]
"""(object_kind, table, name, statement) -> (language, snippet, note)."""


def _laravel(kind: str, table: str, name: str, sql: str) -> tuple[str, str, str]:
    if kind == "column":
        return (
            "php",
            f"if (! Schema::hasColumn('{table}', '{name}')) {{\n"
            f"    Schema::table('{table}', function (Blueprint $table) {{\n"
            f"        // the existing $table->...('{name}') line\n"
            f"    }});\n}}",
            "wrap the Schema::table call that adds the column",
        )
    if kind == "table":
        return (
            "php",
            f"if (! Schema::hasTable('{table}')) {{\n"
            f"    Schema::create('{table}', function (Blueprint $table) {{ /* as before */ }});\n}}",
            "wrap the Schema::create call",
        )
    return (
        "php",
        f"$exists = collect(DB::select('SHOW INDEX FROM {table}'))->contains('Key_name', '{name}');\n"
        f"if (! $exists) {{ /* the existing index/foreign key line */ }}",
        "Laravel 8 has no Schema::hasIndex; ask the catalog (Laravel 11: Schema::hasIndex)",
    )


def _django(kind: str, table: str, name: str, sql: str) -> tuple[str, str, str]:
    return (
        "python",
        "migrations.SeparateDatabaseAndState(\n"
        "    state_operations=[<the existing operation>],\n"
        "    database_operations=[migrations.RunSQL(\n"
        f"        {_guarded_sql(kind, table, name, sql)!r},\n"
        "        reverse_sql=migrations.RunSQL.noop)],\n"
        ")",
        "Django's state still learns about the change; the database only gets it when missing",
    )


def _alembic(kind: str, table: str, name: str, sql: str) -> tuple[str, str, str]:
    check = {
        "column": f"'{name}' not in [c['name'] for c in insp.get_columns('{table}')]",
        "table": f"not insp.has_table('{table}')",
    }.get(kind, f"'{name}' not in [i['name'] for i in insp.get_indexes('{table}')]")
    return (
        "python",
        "insp = sa.inspect(op.get_bind())\n"
        f"if {check}:\n"
        "    <the existing op.add_column / op.create_table / op.create_index call>",
        "",
    )


def _sql(kind: str, table: str, name: str, sql: str) -> tuple[str, str, str]:
    return ("sql", _guarded_sql(kind, table, name, sql), "")


_MAKERS: dict[str, Maker] = {"laravel": _laravel, "django": _django, "alembic": _alembic}


def _guarded_sql(kind: str, table: str, name: str, sql: str) -> str:
    """The failing statement with IF NOT EXISTS inserted where the grammar allows it."""
    import re

    text = sql.strip().rstrip(";")
    patterns = {
        "column": (
            r"(?i)\bADD\s+(COLUMN\s+)?(?!IF\b)",
            lambda m: f"ADD {m.group(1) or 'COLUMN '}IF NOT EXISTS ",
        ),
        "table": (r"(?i)\bCREATE\s+TABLE\s+(?!IF\b)", lambda m: "CREATE TABLE IF NOT EXISTS "),
        "index": (
            r"(?i)\b(CREATE\s+(UNIQUE\s+)?INDEX)\s+(?!IF\b)",
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
) -> Guard | None:
    """The guard for a duplicate-object failure, or None for other kinds."""
    if cause is None or cause.kind != "duplicate" or not cause.object or not cause.object_kind:
        return None
    table, _, name = cause.object.partition(".")
    name = name or table
    kind = cause.object_kind if cause.object_kind in ("column", "table") else "index"
    maker = _MAKERS.get(framework)
    if maker is not None:
        language, snippet, note = maker(kind, table, name, statement or "")
    elif dialect_has_if_not_exists or kind == "table":
        language, snippet, note = _sql(kind, table, name, statement or "")
    else:
        language = "sql"
        snippet = f"-- this server has no ADD COLUMN IF NOT EXISTS: run the statement only when\n-- the catalog lacks {cause.object}, or split it into its own migration\n{(statement or '').strip()}"
        note = "check the catalog first (SQLite: pragma_table_info; MySQL 8: information_schema.COLUMNS)"
    return Guard(migration, file, line, language, snippet, note)
