"""The guard diagnose shows is real code: pasted over the statement it quotes (``original``), it
makes the failing migration idempotent, and a fresh run from zero with the framework's own
migrate then succeeds. Laravel's and Django-on-PostgreSQL's are checked in
test_diagnose_frameworks.py (the seed incident); here: SQL on SQLite and MariaDB, Alembic,
Django on SQLite, and the locators on their own."""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path

import pytest
from diagnose_helpers import apply_guard, write_dbmate
from diagnose_helpers import columns_of as _columns

from dbmedic import api
from dbmedic.connect import open_reference, open_target
from dbmedic.diagnose.guard import guard_for
from dbmedic.diagnose.guard_code import laravel_statement
from dbmedic.diagnosis import Cause, Diagnosis, Site
from dbmedic.dialects import get_dialect
from dbmedic.frameworks import get_framework
from dbmedic.frameworks.base import detect_framework
from dbtest import DatabaseFactory

BASE = {
    "001_users": "CREATE TABLE users (id integer primary key, name varchar(50), email varchar(100));",
    "002_posts": "CREATE TABLE posts (id integer primary key, title varchar(200));\n"
    "CREATE INDEX idx_posts_title ON posts (title);",
    "004_later": "CREATE TABLE later_things (id integer primary key);",
}


@pytest.mark.backend("sqlite", "mariadb", "postgresql")
@pytest.mark.parametrize(
    "failing",
    [
        "ALTER TABLE users ADD COLUMN email varchar(100);",
        "CREATE INDEX idx_posts_title ON posts (title);",
    ],
    ids=["column", "index"],
)
def test_sql_guard_makes_a_fresh_run_succeed(
    backend: str, db_factory: DatabaseFactory, tmp_path: Path, failing: str
) -> None:
    root = write_dbmate(tmp_path / "app", {**BASE, "003_again": f"-- again\n{failing}"})
    staging = db_factory.new("staging")
    assert api.migrate(root, staging).result.failed == "003"

    d = api.diagnose(root, staging)

    guard = d.guard
    assert guard is not None and guard.language == "sql"
    assert guard.original == failing and guard.line == 3
    if backend == "sqlite" and "COLUMN" in failing:
        # SQLite has no ADD COLUMN IF NOT EXISTS: it says so, shows the check, drops the statement
        assert "sqlite has no IF NOT EXISTS" in guard.snippet
        assert "SELECT 1 FROM pragma_table_info('users') WHERE name = 'email';" in guard.snippet
        assert f"-- {failing}" in guard.snippet and "001 creates users.email" in guard.snippet
    else:
        assert "IF NOT EXISTS" in guard.snippet and not guard.snippet.startswith("--")
    apply_guard(root, guard)
    fresh = db_factory.new("fresh")
    assert api.migrate(root, fresh).result.ok
    assert "email" in _columns(fresh, "users") and "later_things" in _tables(fresh)
    # the guarded migration also runs on the database where it failed
    assert api.migrate(root, staging).result.ok


def _tables(url: str) -> set[str]:
    with open_reference(url) as db, db.connect() as conn:
        return set(db.dialect.table_names(conn))


def _failed_and_diagnosed(
    app: Path, failing: str, db_factory: DatabaseFactory
) -> tuple[Path, str, Diagnosis]:
    """A staging database where the framework's own migrate stopped at ``failing``, diagnosed."""
    staging = db_factory.new("staging")
    with open_target(staging) as db:
        assert detect_framework(app).migrate(db, app).failed == failing
    return app, staging, api.diagnose(app, staging)


@pytest.mark.backend("sqlite", "postgresql")
def test_alembic_guard_makes_a_fresh_run_succeed(
    backend: str, db_factory: DatabaseFactory, copy_fixture: Callable[[str], Path]
) -> None:
    app, staging, d = _failed_and_diagnosed(copy_fixture("alembic_app"), "3c4d5e6f7a03", db_factory)
    fw = get_framework("alembic")

    guard = d.guard
    assert guard is not None and guard.language == "python" and guard.line == 19
    assert guard.original == (
        "    op.add_column(\n"
        '        "policy_configurations",\n'
        '        sa.Column("priority", sa.Integer, nullable=False, server_default="999"),\n'
        "    )"
    )
    assert guard.snippet.startswith(
        "    if 'priority' not in {c['name'] for c in "
        "sa.inspect(op.get_bind()).get_columns('policy_configurations')}:\n        op.add_column("
    )
    apply_guard(app, guard)
    fresh = db_factory.new("fresh")
    with open_target(fresh) as db:
        assert fw.migrate(db, app).ok
    assert {"note", "priority"} <= set(_columns(fresh, "policy_configurations"))
    if backend == "sqlite":
        # Alembic runs SQLite DDL outside a transaction: note stayed behind on staging, and the
        # guard is the one a fresh run needs (priority, created by 2b3c4d5e6f02)
        assert d.cause is not None and d.cause.object == "policy_configurations.note"
        assert "3c4d5e6f7a03 itself does" in d.cause.explanation
    else:
        with open_target(staging) as db:
            assert fw.migrate(db, app).ok


@pytest.mark.backend("mariadb")
def test_django_guard_on_mariadb_makes_a_fresh_run_succeed(
    backend: str, db_factory: DatabaseFactory, copy_fixture: Callable[[str], Path]
) -> None:
    project, _staging, d = _failed_and_diagnosed(
        copy_fixture("django_shop"), "orders.0002_order_note_priority", db_factory
    )
    fw = get_framework("django")

    guard = d.guard
    assert guard is not None and guard.original is not None
    assert guard.original.strip() == (
        'migrations.AddField("order", "priority", models.IntegerField(default=999))'
    )
    assert "SeparateDatabaseAndState" in guard.snippet
    assert "ADD COLUMN IF NOT EXISTS `priority`" in guard.snippet
    apply_guard(project, guard)
    fresh = db_factory.new("fresh")
    with open_target(fresh) as db:
        fresh_run = fw.migrate(db, project)
    # past 0002 now; the project's 0003 fails on purpose for another reason (legacy_warehouse)
    assert "orders.0002_order_note_priority" in fresh_run.applied
    assert fresh_run.failed == "orders.0003_shipment"
    assert {"note", "priority"} <= set(_columns(fresh, "orders_order"))


def test_django_guard_without_if_not_exists_is_state_only() -> None:
    """SQLite / MySQL 8: no ADD COLUMN IF NOT EXISTS; the earlier migration creates the column
    in every run that reaches this one, so the database part is empty."""
    root = Path(__file__).resolve().parent.parent / "fixtures" / "django_shop"
    cause = Cause("duplicate", "column", "orders_order.priority", (Site("orders.0001_initial"),))
    g = guard_for(
        "django", cause, "orders.0002_order_note_priority",
        "orders/migrations/0002_order_note_priority.py", None,
        'ALTER TABLE "orders_order" ADD COLUMN "priority" integer DEFAULT 999 NOT NULL', False,
        root=root, dialect=get_dialect("sqlite"),
    )  # fmt: skip
    assert g is not None and g.original is not None and g.line == 14
    assert "database_operations=[]" in g.snippet and "orders.0001_initial" in g.note
    text = (root / g.file).read_text()  # type: ignore[operator]
    ast.parse(text.replace(g.original, g.snippet))  # pastes into valid Python


LARAVEL = """<?php
class AddThings extends Migration
{
    public function up()
    {
        Schema::table('users', function (Blueprint $table) {
            $table->string('nickname')->after('priority'); // names priority, creates nickname
            $table->integer("priority")
                  ->default(1);
        });
        Schema::table('posts', function (Blueprint $t) { $t->unique('slug'); });
    }

    public function down()
    {
        Schema::table('users', function (Blueprint $table) { $table->integer('priority'); });
    }
}
"""


def test_laravel_locator_finds_the_creating_statement() -> None:
    col = laravel_statement(LARAVEL, "column", "users", "priority", None)
    assert col is not None and col.line == 8 and col.end_line == 9
    assert col.text == '$table->integer("priority")\n                  ->default(1);'
    # Laravel's own index name {table}_{columns}_{type}, on a line shared with its closure
    idx = laravel_statement(LARAVEL, "index", "posts", "posts_slug_unique", None)
    assert idx is not None and idx.text == "$t->unique('slug');"
    assert laravel_statement(LARAVEL, "column", "posts", "priority", None) is None


def test_laravel_index_guard_asks_the_catalog_and_pastes_in_place() -> None:
    root_file = "m.php"
    cause = Cause("duplicate", "index", "posts.posts_slug_unique", (Site("001"),))
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / root_file).write_text(LARAVEL)
        g = guard_for(
            "laravel", cause, "002", root_file, None, None, True,
            root=Path(folder), dialect=get_dialect("mariadb"),
        )  # fmt: skip
    assert g is not None and g.original == "$t->unique('slug');"  # not alone on its line
    assert g.snippet.startswith(
        "if (empty(\\Illuminate\\Support\\Facades\\DB::select('SELECT 1 FROM "
        "information_schema.statistics WHERE table_schema = DATABASE() AND table_name = ? "
        "AND index_name = ?', ['posts', 'posts_slug_unique']))) {\n"
    )
    assert "doctrine/dbal" in g.note and "Schema::hasIndex" in g.note
    assert LARAVEL.replace(g.original, g.snippet).count("$t->unique('slug');") == 1


def test_guard_without_the_file_is_a_template() -> None:
    cause = Cause("duplicate", "column", "users.priority", (Site("001"),))
    g = guard_for("laravel", cause, "002", None, None, None, True)
    assert g is not None and g.original is None
    assert "Schema::hasColumn('users', 'priority')" in g.snippet
