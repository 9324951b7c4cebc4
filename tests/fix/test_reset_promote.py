"""fix --strategy reset promotes its rehearsal: the shadow on which every migration already ran
from zero is moved into the recreated target instead of running the migrations a second time.

A user must not be able to tell the difference: a promoted reset ends with the same schema (a
view on a view, a trigger, a foreign key with ON DELETE CASCADE), the same rows (those the
migrations wrote, the trigger's too) and the same tracking table as a plain reset that runs the
migrations again. An interrupted promotion is finished by ``fix --resume``; a failed one rolls
back to the backup; a migration that writes the database's own name is not promoted.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from strategy_helpers import carry_out, migrate, query, run_sql, write_dbmate

from dbmedic import api
from dbmedic.apply import Verdict
from dbmedic.connect import open_reference
from dbmedic.inspect import inspect_schema
from dbmedic.plan import StepKind
from dbmedic.plans.reset import plan_reset
from dbmedic.recreate import read_database_facts
from dbmedic.runs import fingerprint, list_runs
from dbmedic.shadow import SHADOW_MARK
from dbtest import DatabaseFactory
from fix_helpers import row_digest

APPS = {
    "mariadb": {
        "001_users": "CREATE TABLE users (id int primary key auto_increment, "
        "email varchar(100) not null);",
        "002_posts": "CREATE TABLE posts (id int primary key auto_increment, user_id int not null, "
        "title varchar(100), CONSTRAINT posts_user_fk FOREIGN KEY (user_id) REFERENCES users (id) "
        "ON DELETE CASCADE);\nCREATE TABLE audit (id int primary key auto_increment, "
        "what varchar(200));",
        "003_views": "CREATE VIEW user_posts AS SELECT u.email, p.title FROM users u "
        "JOIN posts p ON p.user_id = u.id;\nCREATE VIEW post_titles AS SELECT title FROM user_posts;"
        "\nCREATE TRIGGER posts_audit AFTER INSERT ON posts FOR EACH ROW "
        "INSERT INTO audit (what) VALUES (CONCAT('post ', NEW.title));",
        "004_seed": "INSERT INTO users (email) VALUES ('admin@example.org');\n"
        "INSERT INTO posts (user_id, title) VALUES (1, 'hello');",
    },
    "sqlite": {
        "001_users": "CREATE TABLE users (id integer primary key autoincrement, "
        "email varchar(100) not null);",
        "002_posts": "CREATE TABLE posts (id integer primary key autoincrement, user_id integer "
        "not null REFERENCES users (id) ON DELETE CASCADE, title varchar(100));\n"
        "CREATE TABLE audit (id integer primary key autoincrement, what varchar(200));",
        "003_views": "CREATE VIEW user_posts AS SELECT u.email, p.title FROM users u "
        "JOIN posts p ON p.user_id = u.id;\nCREATE VIEW post_titles AS SELECT title FROM user_posts;"
        "\nCREATE TRIGGER posts_audit AFTER INSERT ON posts BEGIN "
        "INSERT INTO audit (what) VALUES ('post ' || NEW.title); END;",
        "004_seed": "INSERT INTO users (email) VALUES ('admin@example.org');\n"
        "INSERT INTO posts (user_id, title) VALUES (1, 'hello');",
    },
}
PENDING = {"005_tags": "CREATE TABLE tags (id integer primary key, name varchar(50));"}
STAGING_ROWS = "INSERT INTO users (email) VALUES ('staging@example.org')"
MAIN = "import sys; from dbmedic.cli import main; main(sys.argv[1:])"
SRC = Path(__file__).resolve().parents[2] / "src"


def _staging(app: Path, url: str, backend: str) -> None:
    """Four migrations run and a staging row added; then a fifth migration arrives."""
    write_dbmate(app, APPS[backend])
    assert migrate(app, url, "dbmate").ok  # type: ignore[attr-defined]
    run_sql(url, STAGING_ROWS)
    write_dbmate(app, PENDING)


def _staged(db_factory: DatabaseFactory, tmp_path: Path, backend: str) -> tuple[Path, str]:
    app, url = tmp_path / "app", db_factory.new("promo")
    _staging(app, url, backend)
    return app, url


def _app_and_two_databases(
    db_factory: DatabaseFactory, tmp_path: Path, backend: str
) -> tuple[Path, str, str]:
    app = tmp_path / "app"
    plain, promoted = db_factory.new("plain"), db_factory.new("promo")
    for url in (plain, promoted):
        _staging(app, url, backend)
        for name in PENDING:  # the second database starts from the same four migrations
            (app / "db" / "migrations" / f"{name}.sql").unlink()
    write_dbmate(app, PENDING)
    return app, plain, promoted


def _plain_reset(app: Path, url: str, tmp_path: Path) -> None:
    """The reset that runs the migrations again (no kept shadow): the reference result."""
    d = api.diagnose(app, url, rehearse={"reset"})
    with open_reference(url) as db:
        facts = read_database_facts(db)
    plan = plan_reset(d, facts=facts)
    assert StepKind.FRAMEWORK_MIGRATE in [s.kind for s in plan.steps]
    carry_out(plan, url, app, tmp_path / "backups-plain")


def _state(url: str) -> tuple[str, dict[str, str], list[tuple[object, ...]]]:
    """Schema fingerprint, rows of every table, and what the view on a view shows."""
    with open_reference(url) as db:
        schema_print = fingerprint(inspect_schema(db))
    return schema_print, row_digest(url), query(url, "SELECT title FROM post_titles")


def _routines(url: str) -> list[tuple[object, ...]]:
    """MariaDB: how the trigger and the views were created (mode, character sets, definer)."""
    return query(
        url,
        "SELECT TRIGGER_NAME, ACTION_STATEMENT, SQL_MODE, CHARACTER_SET_CLIENT, "
        "COLLATION_CONNECTION, DEFINER FROM information_schema.TRIGGERS "
        "WHERE TRIGGER_SCHEMA = DATABASE() UNION ALL SELECT TABLE_NAME, "
        "REPLACE(VIEW_DEFINITION, DATABASE(), '?'), CHECK_OPTION, CHARACTER_SET_CLIENT, "
        "COLLATION_CONNECTION, DEFINER FROM information_schema.VIEWS "
        "WHERE TABLE_SCHEMA = DATABASE() ORDER BY 1",
    )


def _shadows_left(url: str, backend: str) -> list[object]:
    if backend == "sqlite":
        import tempfile

        return [p for p in Path(tempfile.gettempdir()).glob("dbmedic_shadow_*/*") if p.exists()
                and Path(str(make_url(url).database)).stem in p.name]  # fmt: skip
    name = make_url(url).database
    return [
        r[0]
        for r in query(url, "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA")
        if str(r[0]).startswith(f"{name}{SHADOW_MARK}")
    ]


def _promote_step(outcome: object) -> object:
    steps = outcome.plan.steps  # type: ignore[attr-defined]
    (step,) = [s for s in steps if s.kind is StepKind.PROMOTE_SHADOW]
    return step


@pytest.mark.backend("mariadb", "sqlite")
def test_promoted_reset_equals_a_plain_reset(
    backend: str, db_factory: DatabaseFactory, tmp_path: Path
) -> None:
    app, plain, promoted = _app_and_two_databases(db_factory, tmp_path, backend)

    _plain_reset(app, plain, tmp_path)
    outcome = api.fix("reset", app, promoted, yes=True, state_dir=tmp_path / "state")

    assert outcome.ok, (outcome.error, outcome.steps)
    step = _promote_step(outcome)
    assert StepKind.FRAMEWORK_MIGRATE not in [s.kind for s in outcome.plan.steps]
    result = next(s for s in outcome.steps if s.kind == StepKind.PROMOTE_SHADOW.value)
    assert result.detail.startswith("promoted ") and "equal to the rehearsal" in result.detail
    assert step.migrations == ("001", "002", "003", "004", "005")  # the fallback, shown
    if backend == "mariadb":
        assert any(s.startswith("RENAME TABLE ") for s in step.statements)
        assert any("TRIGGER IF NOT EXISTS posts_audit" in s for s in step.statements)
        assert _routines(promoted) == _routines(plain)
    assert _state(promoted) == _state(plain)
    assert query(promoted, "SELECT version FROM schema_migrations ORDER BY 1") == query(
        plain, "SELECT version FROM schema_migrations ORDER BY 1"
    )
    assert query(promoted, "SELECT email FROM users") == [("admin@example.org",)]  # reset
    # the moved objects work: the trigger fires, the key cascades
    run_sql(promoted, "INSERT INTO posts (user_id, title) VALUES (1, 'second')")
    assert query(promoted, "SELECT what FROM audit ORDER BY id") == [
        ("post hello",),
        ("post second",),
    ]
    if backend == "mariadb":  # SQLite enforces keys per connection (PRAGMA foreign_keys)
        run_sql(promoted, "DELETE FROM users")
        assert query(promoted, "SELECT COUNT(*) FROM posts") == [(0,)]
    assert _shadows_left(promoted, backend) == []


@pytest.mark.backend("mariadb")
def test_killed_after_the_rename_is_finished_by_resume(
    backend: str, db_factory: DatabaseFactory, tmp_path: Path
) -> None:
    """SIGKILL right after the RENAME TABLE (tables moved, views and triggers not yet created,
    the shadow left on the server): ``fix --resume`` creates them, proves the result against
    the schema saved before the move and drops the left-over shadow."""
    app, plain, promoted = _app_and_two_databases(db_factory, tmp_path, backend)
    _plain_reset(app, plain, tmp_path)
    state = app  # a run's folder goes into the app by default
    # steps: 1 lock, 2 backup, 3 recreate, 4 promote (1 DROP TRIGGER, 2 RENAME TABLE, ...)
    env = {**os.environ, "PYTHONPATH": str(SRC), "DBMEDIC_FAULT": "4:statement:2:kill"}
    done = subprocess.run(
        [sys.executable, "-c", MAIN, "fix", "--strategy", "reset", "--app", str(app),
         "--db", promoted, "--yes", "--json"],
        env=env, capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert done.returncode == -9, done.stderr[-500:]
    (run,) = list_runs(state)
    assert run.state == "interrupted"
    assert "tags" in {r[0] for r in query(promoted, "SHOW TABLES")}  # the tables moved
    assert query(promoted, "SHOW TRIGGERS") == []
    assert len(_shadows_left(promoted, backend)) == 1  # SIGKILL: nothing could drop it

    outcome = api.resume(run.id, app, promoted, state_dir=state)

    assert outcome.verdict is Verdict.DONE, (outcome.error, outcome.steps)
    result = next(s for s in outcome.steps if s.number == 4)
    assert result.detail.startswith("resumed: promoted ")
    assert _state(promoted) == _state(plain)
    assert _routines(promoted) == _routines(plain)
    assert _shadows_left(promoted, backend) == []


@pytest.mark.backend("mariadb")
def test_a_failure_after_the_rename_rolls_back_and_drops_the_shadow(
    backend: str, db_factory: DatabaseFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, url = _staged(db_factory, tmp_path, backend)
    before = _state_before(url)
    monkeypatch.setenv("DBMEDIC_FAULT", "4:statement:2:error")

    outcome = api.fix("reset", app, url, yes=True, state_dir=tmp_path / "state")

    assert outcome.verdict is Verdict.ROLLED_BACK, (outcome.error, outcome.steps)
    assert "injected fault at step 4" in (outcome.error or "")
    assert _state_before(url) == before  # schema and every row as before the run
    assert _shadows_left(url, backend) == []


@pytest.mark.backend("mariadb")
def test_a_shadow_changed_after_the_plan_is_rolled_back(
    backend: str, db_factory: DatabaseFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The promotion proves the moved tables against the schema the plan read, not against the
    shadow as it is at the move: a column added to the shadow in between fails the step."""
    import dbmedic.recreate

    app, url = _staged(db_factory, tmp_path, backend)
    before = _state_before(url)
    recreate = dbmedic.recreate.recreate_database

    def recreate_and_tamper(db: object, facts: object) -> None:
        (shadow,) = _shadows_left(url, backend)
        run_sql(url, f"ALTER TABLE `{shadow}`.users ADD COLUMN sneaky int")
        recreate(db, facts)  # type: ignore[arg-type]

    monkeypatch.setattr(dbmedic.recreate, "recreate_database", recreate_and_tamper)

    outcome = api.fix("reset", app, url, yes=True, state_dir=tmp_path / "state")

    assert outcome.verdict is Verdict.ROLLED_BACK, (outcome.error, outcome.steps)
    assert "differs from the rehearsed schema" in (outcome.error or ""), outcome.error
    assert "users.sneaky" in (outcome.error or ""), outcome.error
    assert _state_before(url) == before  # schema and every row as before the run
    assert _shadows_left(url, backend) == []


def _state_before(url: str) -> tuple[str, dict[str, str]]:
    with open_reference(url) as db:
        return fingerprint(inspect_schema(db)), row_digest(url)


@pytest.mark.backend("sqlite")
def test_interrupted_before_the_move_resumes_with_the_migrations(
    backend: str, db_factory: DatabaseFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C as the promotion starts: the shadow is dropped on the way out; the resumed run
    does not trust a shadow it no longer holds and runs the migrations on the new database."""
    app, plain, promoted = _app_and_two_databases(db_factory, tmp_path, backend)
    _plain_reset(app, plain, tmp_path)
    state = tmp_path / "state"
    monkeypatch.setenv("DBMEDIC_FAULT", "4:before:int")
    with pytest.raises(KeyboardInterrupt):
        api.fix("reset", app, promoted, yes=True, state_dir=state)
    monkeypatch.delenv("DBMEDIC_FAULT")
    assert _shadows_left(promoted, backend) == []
    (run,) = list_runs(state)

    outcome = api.resume(run.id, app, promoted, state_dir=state)

    assert outcome.verdict is Verdict.DONE, (outcome.error, outcome.steps)
    result = next(s for s in outcome.steps if s.number == 4)
    assert "5 migrations applied" in result.detail and "not reused" in result.detail
    assert _state(promoted) == _state(plain)


NAMING = {
    "rows": (
        "CREATE TABLE settings (k varchar(20), v varchar(100));\n"
        "INSERT INTO settings VALUES ('schema', DATABASE());",
        "a migration wrote the database's name into rows of settings",
    ),
    "view": (
        "SET @v = CONCAT('CREATE VIEW where_am_i AS SELECT ''', DATABASE(), ''' AS db');\n"
        "PREPARE s FROM @v;\nEXECUTE s;",
        "a migration wrote the database's name into the schema",
    ),
}


@pytest.mark.parametrize("case", sorted(NAMING))
@pytest.mark.backend("mariadb")
def test_a_migration_that_writes_the_database_name_is_not_promoted(
    backend: str, db_factory: DatabaseFactory, tmp_path: Path, case: str
) -> None:
    """The shadow would keep its own name where the real run writes the target's."""
    app, url = _staged(db_factory, tmp_path, backend)
    sql, reason = NAMING[case]
    write_dbmate(app, {"006_named": sql})

    plan = api.fix("reset", app, url, dry_run=True)

    kinds = [s.kind for s in plan.steps]
    assert StepKind.FRAMEWORK_MIGRATE in kinds and StepKind.PROMOTE_SHADOW not in kinds
    assert any(f"not promoted ({reason}" in n for n in plan.notes), plan.notes
    assert _shadows_left(url, backend) == []


@pytest.mark.backend("mariadb")
def test_dry_run_shows_the_promotion_and_its_fallback(
    backend: str, db_factory: DatabaseFactory, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from dbmedic.cli import app as cli

    app, url = _staged(db_factory, tmp_path, backend)

    result = CliRunner().invoke(cli, ["fix", "--strategy", "reset", "--app", str(app), "--db", url,
                                      "--dry-run"])  # fmt: skip
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert f"Promote the rehearsed shadow {make_url(url).database}{SHADOW_MARK}" in out
    assert "RENAME TABLE" in out and "DROP TRIGGER IF EXISTS" in out
    assert "fallback: $ dbmedic migrate" in out
    result = CliRunner().invoke(cli, ["fix", "--strategy", "reset", "--app", str(app), "--db", url,
                                      "--dry-run", "--json"])  # fmt: skip
    step = next(s for s in json.loads(result.output)["steps"] if s["kind"] == "promote_shadow")
    assert step["shadow"].startswith(f"{make_url(url).database}{SHADOW_MARK}") and step["digest"]
    assert _shadows_left(url, backend) == []  # a dry run keeps nothing


@pytest.mark.backend("postgresql")
def test_postgresql_runs_the_migrations_again_and_says_why(
    backend: str, db_url: str, tmp_path: Path
) -> None:
    app = write_dbmate(tmp_path / "app", {"001_users": "CREATE TABLE users (id integer);"})
    assert migrate(app, db_url, "dbmate").ok  # type: ignore[attr-defined]
    write_dbmate(app, PENDING)

    plan = api.fix("reset", app, db_url, dry_run=True)

    assert StepKind.FRAMEWORK_MIGRATE in [s.kind for s in plan.steps]
    assert any("postgresql cannot move tables between databases" in n for n in plan.notes)


VIEW_MIGRATION = """<?php

use Illuminate\\Database\\Migrations\\Migration;
use Illuminate\\Support\\Facades\\DB;

class AddPolicyNamesView extends Migration
{
    public function up()
    {
        DB::statement('CREATE VIEW policy_names AS SELECT p.name, u.email '
            . 'FROM policy_configurations p JOIN users u ON u.id = p.user_id');
        DB::unprepared('CREATE TRIGGER users_lower BEFORE INSERT ON users FOR EACH ROW '
            . 'SET NEW.email = LOWER(NEW.email)');
    }

    public function down()
    {
    }
}
"""


@pytest.mark.backend("mariadb")
def test_laravel_promoted_reset_equals_a_plain_reset(
    backend: str, php: str, db_factory: DatabaseFactory, tmp_path: Path
) -> None:
    """Laravel (the rehearsal runs ``migrate --pretend`` first, then ``migrate``, on the shadow):
    the promoted database has the tables, keys, view, trigger and ``migrations`` rows (ids,
    batch 1) of a plain reset."""
    from strategy_helpers import SEED, framework_pending, laravel_incident

    apps = {}
    for label in ("plain", "promo"):
        url = db_factory.new(label)
        app = laravel_incident(tmp_path / label, url)
        seed = app / "database" / "migrations" / f"{SEED}.php"
        seed.write_text(seed.read_text().replace(
            "Schema::table('policy_configurations',",
            "if (! Schema::hasColumn('policy_configurations', 'priority')) "
            "Schema::table('policy_configurations',", 1))  # fmt: skip
        view = app / "database" / "migrations" / "2025_10_26_000000_add_policy_names_view.php"
        view.write_text(VIEW_MIGRATION)
        apps[label] = (app, url)
    (plain_app, plain), (app, promoted) = apps["plain"], apps["promo"]

    _plain_reset(plain_app, plain, tmp_path)
    outcome = api.fix("reset", app, promoted, yes=True, state_dir=tmp_path / "state")

    assert outcome.ok, (outcome.error, outcome.steps)
    assert _promote_step(outcome).command[:3] == ("php", "artisan", "migrate")  # the fallback
    result = next(s for s in outcome.steps if s.kind == StepKind.PROMOTE_SHADOW.value)
    assert result.detail.startswith("promoted "), result.detail
    tracking = "SELECT id, migration, batch FROM migrations ORDER BY id"
    assert query(promoted, tracking) == query(plain, tracking)
    assert len(query(promoted, tracking)) == 7
    assert framework_pending(app, promoted, "laravel") == []  # artisan migrate:status agrees
    with open_reference(promoted) as a, open_reference(plain) as b:
        assert fingerprint(inspect_schema(a)) == fingerprint(inspect_schema(b))
    assert row_digest(promoted) == row_digest(plain)
    assert _routines(promoted) == _routines(plain)
    run_sql(promoted, "INSERT INTO users (name, email, password) VALUES ('C', 'C@X.ORG', 'z')")
    assert query(promoted, "SELECT email FROM users") == [("c@x.org",)]  # the trigger fires
    assert _shadows_left(promoted, backend) == []
