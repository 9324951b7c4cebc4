"""The demo application rendered as a Laravel 8 app, migrated for real by ``php artisan migrate``.

It must tell the same story as the dbmate rendering: stop at ``2025_10_23_162250`` with a
duplicate ``priority`` column, leaving the same tables, columns, indexes and foreign keys.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from dbmedic import api
from dbmedic.connect import Database
from dbmedic.demo.render_dbmate import render as render_dbmate
from dbmedic.demo.render_laravel import class_name, render, write_laravel_app
from dbmedic.demo.spec import incident_app
from dbmedic.frameworks import get_framework
from dbmedic.model import MigrationState, Schema

DUPLICATE = {"mariadb": "Duplicate column name 'priority'", "sqlite": "duplicate column name"}
DIALECT = {"mariadb": "mysql", "sqlite": "sqlite"}


def _without(schema: Schema, *names: str) -> Schema:
    return replace(schema, tables={k: v for k, v in schema.tables.items() if k not in names})


@pytest.mark.backend("mariadb", "sqlite")
def test_laravel_rendering_stops_where_the_dbmate_rendering_stops(
    backend: str,
    php: str,
    tmp_path: Path,
    db_factory: Any,
    open_db: Callable[[str], Database],
) -> None:
    spec = incident_app()
    app = write_laravel_app(tmp_path / "laravel", DIALECT[backend])
    laravel_db = open_db(db_factory.new("lv"))

    result = get_framework("laravel").migrate(laravel_db, app)

    assert not result.ok and result.failed == spec.failing
    assert result.error is not None and DUPLICATE[backend] in result.error
    assert result.statement is not None and "priority" in result.statement
    before = [m.id for m in spec.migrations][: [m.id for m in spec.migrations].index(spec.failing)]
    assert result.applied == tuple(before)
    states = {m.id: m.state for m in get_framework("laravel").read(laravel_db, app)}
    assert len(states) == len(spec.migrations)
    assert states[spec.failing] is MigrationState.PENDING  # Laravel records successes only

    # The dbmate rendering of the same spec, run by dbmedic's runner.
    folder = tmp_path / "dbmate" / "db" / "migrations"
    folder.mkdir(parents=True)
    for name, text in render_dbmate(spec, DIALECT[backend]).items():
        (folder / name).write_text(text)
    dbmate_db = open_db(db_factory.new("dm"))
    assert get_framework("dbmate").migrate(dbmate_db, folder.parents[1]).failed == "20251023162250"

    laravel_schema = api.inspect(laravel_db.url)
    dbmate_schema = api.inspect(dbmate_db.url)
    assert len(laravel_schema.tables) == len(spec.tables(spec.failing)) + 1  # + migrations
    dbmate_tables = set(dbmate_schema.tables) - {"dbmedic_migration_journal"}
    assert len(laravel_schema.tables) == len(dbmate_tables)
    same = api.diff(
        _without(dbmate_schema, "schema_migrations", "dbmedic_migration_journal"),
        _without(laravel_schema, "migrations"),
    )
    parity = same.parity
    assert parity.tables.present == parity.tables.expected == len(spec.tables(spec.failing))
    assert parity.indexes.complete and not parity.tables.extra
    assert parity.columns.present == parity.columns.expected
    if backend == "mariadb":
        # Apart from the tracking tables, both renderings built the same schema. (On SQLite,
        # Laravel's grammar drops varchar lengths and leaves foreign keys unnamed.)
        assert parity.foreign_keys.complete and parity.foreign_keys.expected > 40
        assert same.is_empty, same.changes[:5]


def test_rendered_files() -> None:
    spec = incident_app()
    files = render(spec)
    assert list(files) == [f"{m.id}.php" for m in spec.migrations]
    # Laravel 8 requires one class per name: the names must not collide
    assert len({class_name(m.name) for m in spec.migrations}) == len(spec.migrations)
    failing = files[f"{spec.failing}.php"]
    assert "class AddPriorityToPolicyConfigurations extends Migration" in failing
    assert "$table->integer('priority')->default(999)->after('is_default');" in failing
    early = next(m for m in spec.migrations if m.original_steps is not None)
    assert "$table->integer('priority')->default(999);" in files[f"{early.id}.php"]
    production = render(spec, era="production")
    assert "'priority'" not in production[f"{early.id}.php"]
    assert [n for n in files if files[n] != production[n]] == [f"{early.id}.php"]


def test_env_file_holds_a_password_for_its_owner_only(tmp_path: Path) -> None:
    root = write_laravel_app(
        tmp_path / "app", "mysql", database_url="mysql+pymysql://app:p%23w'd@db:3307/shop"
    )
    env = (root / ".env").read_text()
    assert "DB_CONNECTION=mysql\n" in env and "DB_DATABASE=shop\n" in env
    assert "DB_PORT=3307\n" in env and 'DB_PASSWORD="p#w\'d"\n' in env
    assert (root / ".env").stat().st_mode & 0o077 == 0
    assert (
        get_framework("laravel").database_url(root) == "mysql+pymysql://app:p%23w%27d@db:3307/shop"
    )
    assert (root / "artisan").stat().st_mode & 0o100
    assert len(list((root / "database/migrations").glob("*.php"))) == len(incident_app().migrations)
