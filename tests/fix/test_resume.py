"""fix --strategy resume, for real: the incident reproduced with each framework, planned from
diagnose's facts, carried out, and checked the way a user would: every table there, the
framework's own status clean, the staging rows still there."""

from __future__ import annotations

from pathlib import Path

import pytest
from strategy_helpers import (
    BLOCKED,
    CREATOR,
    DJANGO_FAILING,
    LARAVEL_TABLES,
    SEED,
    carry_out,
    copy_app,
    facts_and_pending,
    framework_pending,
    laravel_incident,
    migrate,
    query,
    run_sql,
    tables,
    write_dbmate,
)

from dbmedic import api
from dbmedic.plan import StepKind
from dbmedic.plans.resume import Action, plan_resume, resume_decisions

# --- dbmate-format SQL on SQLite ----------------------------------------------------------------

POLICY = (
    "CREATE TABLE policy_configurations (id integer primary key, name varchar(50) not null, "
    "is_default boolean not null default 0{priority});"
)
SQL_APP = {
    "20250101000000_users": "CREATE TABLE users (id integer primary key, email varchar(100));",
    "20250110100000_policy": POLICY,
    "20251023162250_add_priority": (
        "ALTER TABLE policy_configurations ADD COLUMN priority integer NOT NULL DEFAULT 999;"
    ),
    "20251024090000_retell": (
        "CREATE TABLE retell_call_sessions (id integer primary key, policy_id integer "
        "REFERENCES policy_configurations (id));"
    ),
    "20251025000000_flows": "CREATE TABLE conversation_flows (id integer primary key, name text);",
}
FAILING = "20251023162250"
EXPECTED = {"users", "policy_configurations", "retell_call_sessions", "conversation_flows"}


def _sql_app(root: Path, *, priority_in_policy: bool) -> Path:
    files = dict(SQL_APP)
    files["20250110100000_policy"] = POLICY.format(
        priority=", priority integer NOT NULL DEFAULT 999" if priority_in_policy else ""
    )
    return write_dbmate(root, files)


def _sql_incident(tmp_path: Path, url: str, hotfix: str | None) -> Path:
    """Staging stops at the ALTER that adds priority; ``hotfix`` was run by hand before it."""
    app = _sql_app(tmp_path / "app", priority_in_policy=hotfix is None)
    later = {k: v for k, v in SQL_APP.items() if k >= "2025102"}
    for name in later:  # the first deploy had only the first two migrations
        (app / "db" / "migrations" / f"{name}.sql").rename(tmp_path / f"{name}.sql")
    assert migrate(app, url, "dbmate").ok  # type: ignore[attr-defined]
    if hotfix:
        run_sql(url, hotfix)
    run_sql(
        url,
        "INSERT INTO users (id, email) VALUES (1, 'ada@example.org'), (2, 'bob@example.org')",
        "INSERT INTO policy_configurations (id, name) VALUES (1, 'standard'), (2, 'vip')",
    )
    if hotfix and "text" in hotfix.lower():
        run_sql(url, "UPDATE policy_configurations SET priority = '5' WHERE id = 1")
    for name in later:
        (tmp_path / f"{name}.sql").rename(app / "db" / "migrations" / f"{name}.sql")
    result = migrate(app, url, "dbmate")
    assert result.failed == FAILING  # type: ignore[attr-defined]
    return app


@pytest.mark.parametrize(
    ("hotfix", "action"),
    [
        (None, Action.MARK),
        ("ALTER TABLE policy_configurations ADD COLUMN priority integer NOT NULL DEFAULT 999", Action.MARK),
        ("ALTER TABLE policy_configurations ADD COLUMN priority text", Action.REPAIR),
    ],
    ids=["earlier_migration", "hotfix_same_definition", "hotfix_other_definition"],
)  # fmt: skip
@pytest.mark.backend("sqlite")
def test_resume_sql_on_sqlite(
    backend: str, db_url: str, tmp_path: Path, hotfix: str | None, action: Action
) -> None:
    app = _sql_incident(tmp_path, db_url, hotfix)
    d = api.diagnose(app, db_url, critical=["retell_call_sessions", "conversation_flows"])
    _facts, pending, live = facts_and_pending(app, db_url, "dbmate")

    plan = plan_resume(d, live, pending)

    decisions = {x.migration: x for x in resume_decisions(pending, live)}
    assert decisions[FAILING].action is action
    kinds = [s.kind for s in plan.steps]
    assert kinds[:2] == [StepKind.LOCK, StepKind.BACKUP]
    assert kinds[-1] is StepKind.VERIFY
    assert plan.steps[-2].kind is StepKind.FRAMEWORK_MIGRATE
    assert plan.steps[-2].migrations == ("20251024090000", "20251025000000")
    if action is Action.MARK:
        mark = next(s for s in plan.steps if s.kind is StepKind.MARK_APPLIED)
        assert mark.migrations == (FAILING,)
        assert "policy_configurations.priority" in (mark.reason or "")
        assert not plan.destructive
    else:
        assert [k for k in kinds if k in (StepKind.MOVE_ASIDE, StepKind.COPY_BACK)] == [
            StepKind.MOVE_ASIDE, StepKind.COPY_BACK
        ]  # fmt: skip
        assert any("priority__dbmedic_old" in s for st in plan.steps for s in st.statements)
    assert any(FAILING in n for n in plan.notes)

    carry_out(plan, db_url, app, tmp_path / "backups")

    assert tables(db_url) >= EXPECTED
    assert framework_pending(app, db_url, "dbmate") == []
    rows = query(db_url, "SELECT id, name, priority FROM policy_configurations ORDER BY id")
    if (
        action is Action.REPAIR
    ):  # the hotfix's value kept (as an integer now), the default elsewhere
        assert rows == [(1, "standard", 5), (2, "vip", 999)]
        cols = [r[1] for r in query(db_url, "PRAGMA table_info(policy_configurations)")]
        assert "priority__dbmedic_old" not in cols
    else:
        assert rows == [(1, "standard", 999), (2, "vip", 999)]
    assert query(db_url, "SELECT COUNT(*) FROM users") == [(2,)]
    again = api.diagnose(app, db_url)
    assert again.healthy, again.recommendation


def test_resume_marks_a_later_present_migration_too(tmp_path: Path) -> None:
    """Not only the leading run: a migration after an absent one whose effects are present."""
    from dbmedic.model import Column, Schema, Table
    from dbmedic.plans.facts import PendingMigration

    live = Schema(
        "sqlite",
        {"users": Table("users", {"id": Column("id", "integer", False, ordinal=1),
                                  "nick": Column("nick", "varchar(20)", ordinal=2)})},
    )  # fmt: skip
    pending = [
        PendingMigration("1", ("CREATE TABLE posts (id integer primary key)",)),
        PendingMigration("2", ("ALTER TABLE users ADD COLUMN nick varchar(20)",)),
        PendingMigration("3", ("ALTER TABLE posts ADD COLUMN title text",)),
    ]
    got = [(x.migration, x.action) for x in resume_decisions(pending, live)]
    assert got == [("1", Action.RUN), ("2", Action.MARK), ("3", Action.RUN)]


# --- Laravel on MariaDB -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hotfix", "action"),
    [
        (None, Action.MARK),
        ("ALTER TABLE policy_configurations ADD COLUMN priority INT NOT NULL DEFAULT 999 AFTER is_default",
         Action.MARK),
        ("ALTER TABLE policy_configurations ADD COLUMN priority VARCHAR(20) NULL", Action.REPAIR),
    ],
    ids=["earlier_migration", "hotfix_same_definition", "hotfix_other_definition"],
)  # fmt: skip
@pytest.mark.backend("mariadb")
def test_resume_laravel_on_mariadb(
    backend: str, php: str, db_url: str, tmp_path: Path, hotfix: str | None, action: Action
) -> None:
    app = laravel_incident(tmp_path, db_url, hotfix)
    if action is Action.REPAIR:
        run_sql(db_url, "UPDATE policy_configurations SET priority = '5' WHERE id = 1")
    d = api.diagnose(app, db_url, critical=["retell_call_sessions", "conversation_flows", "users"])
    _facts, pending, live = facts_and_pending(app, db_url, "laravel")

    plan = plan_resume(d, live, pending)

    decided = {x.migration: x.action for x in resume_decisions(pending, live)}
    assert decided == {SEED: action, BLOCKED[0]: Action.RUN, BLOCKED[1]: Action.RUN}
    migrate_steps = [s for s in plan.steps if s.kind is StepKind.FRAMEWORK_MIGRATE]
    assert [s.migrations for s in migrate_steps] == [BLOCKED]
    assert migrate_steps[0].command[:3] == ("php", "artisan", "migrate")
    assert [s.command for s in plan.steps if s.kind is StepKind.HOOK] == [
        ("php", "artisan", "cache:clear"), ("php", "artisan", "config:clear")
    ]  # fmt: skip
    marked = [m for s in plan.steps if s.kind is StepKind.MARK_APPLIED for m in s.migrations]
    assert marked == [SEED]
    assert plan.steps[1].kind is StepKind.BACKUP
    # the fixture app has only artisan's migration commands: a hook from the configuration
    plan = plan_resume(d, live, pending, hooks=[("php", "artisan", "migrate:status")])
    assert plan.steps[-1].command == ("php", "artisan", "migrate:status")

    carry_out(plan, db_url, app, tmp_path / "backups")

    assert tables(db_url) >= LARAVEL_TABLES
    assert framework_pending(app, db_url, "laravel") == []  # php artisan migrate:status
    assert query(db_url, "SELECT id, email FROM users ORDER BY id") == [
        (1, "ada@example.org"), (2, "bob@example.org")
    ]  # fmt: skip
    rows = query(db_url, "SELECT id, priority FROM policy_configurations ORDER BY id")
    assert rows == ([(1, 5), (2, 999)] if action is Action.REPAIR else [(1, 999), (2, 999)])
    columns = {r[0] for r in query(db_url, "SHOW COLUMNS FROM policy_configurations")}
    assert not any("dbmedic" in c for c in columns)  # type: ignore[operator]
    # one new batch for the marked migration, the framework's own batch for the rest
    batches = dict(query(db_url, "SELECT migration, batch FROM migrations"))
    assert batches[BLOCKED[0]] == batches[BLOCKED[1]] > batches[SEED] > batches[CREATOR]


# --- Django on PostgreSQL -----------------------------------------------------------------------


@pytest.mark.backend("postgresql")
def test_resume_django_on_postgresql(backend: str, db_url: str, tmp_path: Path) -> None:
    """0001 creates orders_order.priority, 0002 adds it again (and ``note``): on PostgreSQL the
    whole of 0002 rolled back, so resume runs its missing statement (``note``) and records it."""
    project = copy_app(tmp_path, "django_shop")
    # the table 0003's foreign key points at, made by hand on staging (no migration creates it)
    run_sql(db_url, "CREATE TABLE legacy_warehouse (id bigint PRIMARY KEY)")
    assert migrate(project, db_url, "django").failed == DJANGO_FAILING  # type: ignore[attr-defined]
    run_sql(
        db_url,
        "INSERT INTO catalog_product (id, name, priority) VALUES (1, 'lamp', 1)",
        "INSERT INTO orders_order (id, quantity, priority, product_id) VALUES (1, 3, 7, 1)",
    )
    d = api.diagnose(project, db_url, critical=["orders_shipment"])
    _facts, pending, live = facts_and_pending(project, db_url, "django")

    plan = plan_resume(d, live, pending)

    decided = {x.migration: x.action for x in resume_decisions(pending, live)}
    assert decided[DJANGO_FAILING] is Action.COMPLETE
    sql = next(s for s in plan.steps if s.kind is StepKind.SQL and DJANGO_FAILING in s.title)
    assert len(sql.statements) == 1 and '"note"' in sql.statements[0]
    assert not [s for s in plan.steps if s.kind is StepKind.HOOK]  # none by default for Django

    carry_out(plan, db_url, project, tmp_path / "backups")

    assert framework_pending(project, db_url, "django") == []  # manage.py showmigrations
    assert {"orders_order", "orders_shipment", "catalog_product"} <= tables(db_url)
    assert query(db_url, "SELECT id, quantity, priority, note FROM orders_order") == [
        (1, 3, 7, None)
    ]  # fmt: skip
