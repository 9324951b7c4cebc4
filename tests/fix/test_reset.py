"""fix --strategy reset, for real: refused with where and why while a fresh run of the
migrations fails (the seed report's "guaranteed" reset), and carried out once the failing
migration is made idempotent with the guard diagnose prints."""

from __future__ import annotations

from pathlib import Path

import pytest
from strategy_helpers import (
    CREATOR,
    LARAVEL_TABLES,
    SEED,
    carry_out,
    facts_and_pending,
    framework_pending,
    laravel_incident,
    query,
    tables,
)
from test_resume import EXPECTED, FAILING, _sql_incident

from dbmedic import api
from dbmedic.errors import RefusedError
from dbmedic.plan import StepKind
from dbmedic.plans.reset import plan_reset

CRITICAL = ["retell_call_sessions", "conversation_flows", "users"]


def _schema_facts(url: str) -> list[tuple[object, ...]]:
    return query(
        url,
        "SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA "
        "WHERE SCHEMA_NAME = DATABASE()",
    )


def _shadows(url: str) -> set[str]:
    """The shadow databases of ``url``'s database on its server (named after it)."""
    from dbmedic.shadow import SHADOW_MARK

    rows = query(url, "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA")
    (database,) = query(url, "SELECT DATABASE()")[0]
    stem = str(database)[:32]  # shadow names keep at least that much of it
    return {str(n) for (n,) in rows if SHADOW_MARK in str(n) and str(n).startswith(stem)}


def _guard_the_seed(app: Path) -> None:
    """The fix the refusal names: the guard around the Schema::table call."""
    seed = app / "database" / "migrations" / f"{SEED}.php"
    seed.write_text(
        seed.read_text().replace(
            "Schema::table('policy_configurations',",
            "if (! Schema::hasColumn('policy_configurations', 'priority')) "
            "Schema::table('policy_configurations',",
            1,
        )
    )


@pytest.mark.backend("mariadb")
def test_reset_laravel_refused_then_done_once_idempotent(
    backend: str, php: str, db_url: str, tmp_path: Path
) -> None:
    app = laravel_incident(tmp_path, db_url)
    d = api.diagnose(app, db_url, critical=CRITICAL)
    facts, _pending, _live = facts_and_pending(app, db_url, "laravel")
    before = _schema_facts(db_url)

    with pytest.raises(RefusedError) as refused:
        plan_reset(d, facts=facts)

    text = str(refused.value)
    assert refused.value.exit_code == 3
    assert f"a fresh run of the migrations fails at {SEED}" in text
    assert "Duplicate column name 'priority'" in text
    assert f"{CREATOR} (database/migrations/{CREATOR}.php:17" in text
    assert "Schema::hasColumn('policy_configurations', 'priority')" in text
    assert "\n" not in text  # one sentence
    assert tables(db_url) >= {"users", "policy_configurations"}  # nothing was touched

    _guard_the_seed(app)
    d = api.diagnose(app, db_url, critical=CRITICAL)
    plan = plan_reset(d, facts=facts)

    kinds = [s.kind for s in plan.steps]
    assert kinds == [
        StepKind.LOCK, StepKind.BACKUP, StepKind.RECREATE_DATABASE, StepKind.FRAMEWORK_MIGRATE,
        StepKind.VERIFY, StepKind.HOOK, StepKind.HOOK,
    ]  # fmt: skip
    recreate = plan.steps[2]
    assert recreate.destructive and plan.drops
    assert "collation utf8mb4_unicode_ci" in recreate.title
    migrate_step = plan.steps[3]
    assert len(migrate_step.migrations) == d.total == 6
    assert migrate_step.estimate_seconds is not None and migrate_step.estimate_seconds > 0
    assert plan.predicted_ok is True and plan.expected_tables == len(LARAVEL_TABLES)
    plan = plan_reset(d, facts=facts, hooks=[("php", "artisan", "migrate:status")])

    carry_out(plan, db_url, app, tmp_path / "backups")

    assert tables(db_url) == LARAVEL_TABLES
    assert framework_pending(app, db_url, "laravel") == []
    assert _schema_facts(db_url) == before
    assert query(db_url, "SELECT COUNT(*) FROM users") == [(0,)]  # a reset starts empty
    assert len(list((tmp_path / "backups").iterdir())) == 1  # the staging rows are in the backup


@pytest.mark.backend("sqlite")
def test_reset_sql_on_sqlite_refused(backend: str, db_url: str, tmp_path: Path) -> None:
    app = _sql_incident(tmp_path, db_url, None)
    d = api.diagnose(app, db_url)
    facts, _pending, _live = facts_and_pending(app, db_url, "dbmate")

    with pytest.raises(RefusedError) as refused:
        plan_reset(d, facts=facts)

    text = str(refused.value)
    assert f"fails at {FAILING}" in text and "duplicate column name: priority" in text
    assert "20250110100000" in text  # the earlier migration that creates the column


@pytest.mark.backend("mariadb")
def test_reset_sql_on_mariadb_after_guard(backend: str, db_url: str, tmp_path: Path) -> None:
    """dbmate-format SQL: the guard diagnose prints (ADD COLUMN IF NOT EXISTS) makes reset work."""
    app = _sql_incident(tmp_path, db_url, None)
    d = api.diagnose(app, db_url)
    facts, _pending, _live = facts_and_pending(app, db_url, "dbmate")
    with pytest.raises(RefusedError):
        plan_reset(d, facts=facts)
    assert d.guard is not None and "IF NOT EXISTS" in d.guard.snippet
    path = app / "db" / "migrations" / f"{FAILING}_add_priority.sql"
    path.write_text(f"-- migrate:up\n{d.guard.snippet};\n\n-- migrate:down\n")

    d = api.diagnose(app, db_url)
    plan = plan_reset(d, facts=facts)
    assert plan.steps[-1].kind is StepKind.VERIFY  # no default hooks for SQL migrations

    carry_out(plan, db_url, app, tmp_path / "backups")

    assert tables(db_url) >= EXPECTED
    assert framework_pending(app, db_url, "dbmate") == []
    assert query(db_url, "SELECT COUNT(*) FROM users") == [(0,)]


RESET_APP = {
    "001_users": "CREATE TABLE users (id integer primary key, email varchar(100));",
    "002_posts": "CREATE TABLE posts (id integer primary key, user_id integer REFERENCES users (id));",
}


def _same_plan(plan: object) -> dict[str, object]:
    """A plan without what differs from one rehearsal to the next (timings, shadow names)."""
    d = dict(plan.to_dict())  # type: ignore[attr-defined]
    d.pop("estimate_seconds", None)
    d["steps"] = [{k: v for k, v in s.items() if k in ("kind", "migrations", "command")}
                  for s in d["steps"]]  # fmt: skip
    return d


@pytest.mark.backend("mariadb", "postgresql", "sqlite")
def test_a_reset_plan_simulates_nothing_once_rehearsed(
    backend: str, db_url: str, tmp_path: Path
) -> None:
    """fix plans a reset from its rehearsal alone (the simulation would only compete with the
    rehearsal for the interpreter): the same plan and expected tables as with the simulation;
    when the fresh run fails, everything is simulated again, so the refusal still says why."""
    from strategy_helpers import migrate, write_dbmate

    app = write_dbmate(tmp_path / "app", RESET_APP)
    assert migrate(app, db_url, "dbmate").ok  # type: ignore[attr-defined]
    write_dbmate(app, {"003_tags": "CREATE TABLE tags (id integer primary key);"})
    facts, _pending, _live = facts_and_pending(app, db_url, "dbmate")

    full = api.diagnose(app, db_url, rehearse={"reset"}, critical=["users", "tags"])
    lean = api.diagnose(app, db_url, rehearse={"reset"}, critical=["users", "tags"],
                        simulate=False)  # fmt: skip

    assert full.simulation.seconds > 0 and lean.simulation.seconds == 0.0  # nothing simulated
    assert lean.expected_tables == full.expected_tables == 4  # three and the tracking table
    assert _same_plan(plan_reset(lean, facts=facts)) == _same_plan(plan_reset(full, facts=facts))
    assert [c.present for c in lean.critical] == [True, False]

    write_dbmate(app, {"004_again": "ALTER TABLE users ADD COLUMN email varchar(100);"})
    full = api.diagnose(app, db_url, rehearse={"reset"})
    lean = api.diagnose(app, db_url, rehearse={"reset"}, simulate=False)
    assert lean.simulation.seconds > 0  # the fresh run failed: simulated to say why
    with pytest.raises(RefusedError) as simulated:
        plan_reset(full, facts=facts)
    with pytest.raises(RefusedError) as refused:
        plan_reset(lean, facts=facts)
    assert str(refused.value) == str(simulated.value)
    assert "fails at 004" in str(refused.value) and "email" in str(refused.value)


@pytest.mark.backend("mariadb")
def test_a_laravel_reset_plan_reads_the_sql_only_when_the_fresh_run_fails(
    backend: str, php: str, db_url: str, tmp_path: Path
) -> None:
    """A reset plan starts the fresh run without `migrate --pretend` first (PHP migrations have
    no SQL to read without the framework); when that run fails, the SQL is printed on another
    empty shadow, so the refusal says where and why exactly as a full diagnosis does."""
    app = laravel_incident(tmp_path, db_url)
    facts, _pending, _live = facts_and_pending(app, db_url, "laravel")

    full = api.diagnose(app, db_url, rehearse={"reset"}, critical=CRITICAL)
    lean = api.diagnose(app, db_url, rehearse={"reset"}, critical=CRITICAL, simulate=False)
    with pytest.raises(RefusedError) as simulated:
        plan_reset(full, facts=facts)
    with pytest.raises(RefusedError) as refused:
        plan_reset(lean, facts=facts)
    assert str(refused.value) == str(simulated.value)
    assert "Schema::hasColumn('policy_configurations', 'priority')" in str(refused.value)
    assert "reset-sql" in dict(lean.timings)  # read after the failed run, on its own shadow

    _guard_the_seed(app)
    waited: list[set[str]] = []  # what a fix does meanwhile: prepare its repair
    lean = api.diagnose(app, db_url, rehearse={"reset"}, critical=CRITICAL, simulate=False,
                        while_rehearsing=lambda: waited.append(_shadows(db_url)))  # fmt: skip
    assert len(waited) == 1 and len(waited[0]) == 1  # called once, while the shadow existed
    assert not _shadows(db_url)  # dropped once the diagnosis returned (no keeper given)
    assert "reset-sql" not in dict(lean.timings) and lean.simulation.seconds == 0.0
    plan = plan_reset(lean, facts=facts)
    assert plan.predicted_ok is True and plan.expected_tables == len(LARAVEL_TABLES)
    assert tables(db_url) >= {"users", "policy_configurations"}  # nothing was touched
