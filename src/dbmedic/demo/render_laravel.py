"""Render an :class:`~dbmedic.demo.spec.AppSpec` as a Laravel 8 application.

The same migrations as :mod:`dbmedic.demo.render_dbmate`, written as PHP migration classes
(``Schema::create`` with Blueprint columns, indexes and foreign keys), inside a minimal app
skeleton (``laravel_skeleton/``) that runs on Debian's ``php-laravel-framework`` without Composer:
``artisan`` loads Debian's ``Illuminate/autoload.php`` from PHP's include path.

Laravel names indexes ``{table}_{columns}_index`` / ``_unique`` / ``_foreign``, the names the
dbmate rendering uses, so both renderings build the same schema (the tracking table aside:
``migrations`` here, ``schema_migrations`` there). To match the dbmate rendering on MySQL, a
foreign key column gets its ``_index`` before the constraint is added (otherwise InnoDB would
create an index named after the constraint).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from dbmedic.demo.spec import AddColumn, AddIndex, AppSpec, ColumnSpec, CreateTable, Step

SKELETON = Path(__file__).resolve().parent / "laravel_skeleton"
_CONNECTION = {"mysql": "mysql", "mariadb": "mysql", "postgresql": "pgsql", "sqlite": "sqlite"}
_METHOD = {
    "string": "string",
    "text": "text",
    "json": "json",
    "int": "integer",
    "bigint": "bigInteger",
    "bool": "boolean",
    "decimal": "decimal",
    "timestamp": "timestamp",
    "date": "date",
    "uuid": "uuid",
}


def class_name(migration_name: str) -> str:
    """The class Laravel 8 looks for: Str::studly of the name after the date."""
    return "".join(w[:1].upper() + w[1:] for w in re.split(r"[-_ ]+", migration_name) if w)


def _php(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _default(col: ColumnSpec) -> str:
    value = col.default or ""
    if col.type == "bool":
        return "true" if value == "1" else "false"
    if value.startswith("'") and value.endswith("'"):
        return _php(value[1:-1].replace("''", "'"))
    return value


def _definition(col: ColumnSpec, *, added: bool = False) -> str:
    """The Blueprint column call (``$table->string('name', 255)->nullable()...;``)."""
    if col.type == "id":
        return "$table->id();"
    base, _, args = col.type.partition("(")
    if col.type == "fk":
        call = f"$table->foreignId({_php(col.name)})"
    else:
        sizes = "".join(f", {a.strip()}" for a in args.rstrip(")").split(",") if a.strip())
        call = f"$table->{_METHOD[base]}({_php(col.name)}{sizes})"
    if col.nullable:
        call += "->nullable()"
    if col.default is not None:
        call += f"->default({_default(col)})"
    if added and col.after:
        call += f"->after({_php(col.after)})"
    if col.unique:
        call += "->unique()"
    return call + ";"


def _keys(columns: list[ColumnSpec]) -> list[str]:
    """Indexes, then foreign keys. Explicit ``index()`` commands run in call order, before the
    constraints; a fluent ``->index()`` would run after them (Blueprint::addFluentIndexes)."""
    out = [f"$table->index({_php(c.name)});" for c in columns if c.index and not c.unique]
    for c in columns:
        if c.type == "fk":
            action = "nullOnDelete" if c.nullable else "cascadeOnDelete"
            out.append(
                f"$table->foreign({_php(c.name)})->references('id')"
                f"->on({_php(c.references or '')})->{action}();"
            )
    return out


def _is_timestamps(columns: tuple[ColumnSpec, ...]) -> bool:
    """True when the last two columns are what ``$table->timestamps()`` creates."""
    last = columns[-2:]
    return [c.name for c in last] == ["created_at", "updated_at"] and all(
        c.type == "timestamp" and c.nullable and c.default is None for c in last
    )


def _up(step: Step) -> tuple[str, str, list[str]]:
    """(Schema verb, table, closure body) of one step."""
    if isinstance(step, CreateTable):
        t = step.table
        timestamps = _is_timestamps(t.columns)
        columns = list(t.columns[:-2] if timestamps else t.columns)
        body = [_definition(c) for c in columns]
        body += ["$table->timestamps();"] if timestamps else []
        return "create", t.name, body + _keys(columns)
    if isinstance(step, AddColumn):
        return "table", step.table, [_definition(step.column, added=True), *_keys([step.column])]
    names = ", ".join(_php(c) for c in step.columns)
    return "table", step.table, [f"$table->index([{names}]);"]


def _down(step: Step) -> tuple[str, str, list[str]]:
    if isinstance(step, CreateTable):
        return "dropIfExists", step.table.name, []
    if isinstance(step, AddColumn):
        col = step.column
        body = [f"$table->dropForeign([{_php(col.name)}]);"] if col.type == "fk" else []
        return "table", step.table, [*body, f"$table->dropColumn({_php(col.name)});"]
    assert isinstance(step, AddIndex)
    columns = ", ".join(_php(c) for c in step.columns)
    return "table", step.table, [f"$table->dropIndex([{columns}]);"]


def _statements(calls: list[tuple[str, str, list[str]]]) -> list[str]:
    """PHP lines of Schema calls; neighbouring changes of one table share one closure."""
    merged: list[tuple[str, str, list[str]]] = []
    for verb, table, body in calls:
        if merged and verb == "table" and merged[-1][:2] == (verb, table):
            merged[-1][2].extend(body)
        else:
            merged.append((verb, table, list(body)))
    lines: list[str] = []
    for verb, table, body in merged:
        if verb == "dropIfExists":
            lines.append(f"Schema::dropIfExists({_php(table)});")
        else:
            lines.append(f"Schema::{verb}({_php(table)}, function (Blueprint $table) {{")
            lines += [f"    {line}" for line in body]
            lines.append("});")
    return lines


_FILE = """<?php

use Illuminate\\Database\\Migrations\\Migration;
use Illuminate\\Database\\Schema\\Blueprint;
use Illuminate\\Support\\Facades\\Schema;

class {name} extends Migration
{{
    public function up()
    {{
{up}
    }}

    public function down()
    {{
{down}
    }}
}}
"""


def render(app: AppSpec, *, era: str = "current") -> dict[str, str]:
    """{file name: PHP} of every migration (``database/migrations/<id>.php``).

    ``era="production"`` renders edited files with the text production ran (``original_steps``).
    """
    files: dict[str, str] = {}
    for m in app.migrations:
        steps = m.original_steps if era == "production" and m.original_steps else m.steps
        up = _statements([_up(step) for step in steps])
        down = _statements([_down(step) for step in reversed(steps)])
        files[f"{m.id}.php"] = _FILE.format(
            name=class_name(m.name),
            up="\n".join(f"        {line}" for line in up),
            down="\n".join(f"        {line}" for line in down),
        )
    return files


def write_laravel_app(
    directory: Path | str,
    dialect: str = "mysql",
    *,
    era: str = "current",
    database_url: str | None = None,
    app: AppSpec | None = None,
) -> Path:
    """Write the demo application as a Laravel 8 app into ``directory``; return its root.

    Writes only inside ``directory`` (created when missing; existing files of the same name are
    replaced). ``dialect`` (mysql, mariadb, postgresql, sqlite) sets ``DB_CONNECTION`` in
    ``.env``; ``database_url`` also writes its host, port, database, user and password there
    (the file is then readable by its owner only). Without it, ``php artisan`` needs the
    ``DB_*`` variables in its environment, as dbmedic's Laravel adapter passes them. On SQLite
    the database file ``database/database.sqlite`` is created empty.
    """
    from dbmedic.demo.spec import incident_app

    connection = _CONNECTION.get(dialect)
    if connection is None:
        raise ValueError(f"unknown dialect {dialect!r} (one of: {', '.join(sorted(_CONNECTION))})")
    root = Path(directory).expanduser()
    shutil.copytree(SKELETON, root, dirs_exist_ok=True)
    (root / "artisan").chmod(0o755)
    for folder in ("bootstrap/cache", "storage/framework/cache", "storage/framework/views",
                   "storage/framework/sessions", "storage/logs", "database/migrations"):  # fmt: skip
        (root / folder).mkdir(parents=True, exist_ok=True)
    for name, text in render(app or incident_app(), era=era).items():
        (root / "database" / "migrations" / name).write_text(text, encoding="utf-8")
    env = {
        "APP_NAME": "appointments-platform",
        "APP_ENV": "local",
        "APP_KEY": "base64:" + "A" * 43 + "=",
        "APP_DEBUG": "false",
        "DB_CONNECTION": connection,
    }
    if connection == "sqlite":
        env["DB_DATABASE"] = "database/database.sqlite"
        (root / "database" / "database.sqlite").touch()
    secret = False
    if database_url is not None:
        env.update(_db_settings(database_url))
        secret = bool(env.get("DB_PASSWORD"))
    env_file = root / ".env"
    env_file.write_text("".join(f"{k}={_env_value(v)}\n" for k, v in env.items()))
    if secret:
        env_file.chmod(0o600)
    return root


def _db_settings(url_text: str) -> dict[str, str]:
    from sqlalchemy.engine import make_url

    url = make_url(url_text)
    if url.get_backend_name() == "sqlite":
        return {"DB_DATABASE": str(Path(str(url.database)).resolve())}
    return {
        key: value
        for key, value in (
            ("DB_HOST", url.host or "127.0.0.1"),
            ("DB_PORT", str(url.port or "")),
            ("DB_DATABASE", url.database or ""),
            ("DB_USERNAME", url.username or ""),
            ("DB_PASSWORD", url.password or ""),
        )
        if value
    }


def _env_value(value: str) -> str:
    """A .env value, quoted when it holds anything but plain characters (single quotes: literal
    for phpdotenv and python-dotenv alike)."""
    if re.fullmatch(r"[A-Za-z0-9_./:+=-]*", value):
        return value
    if "'" not in value:
        return f"'{value}'"
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$") + '"'
