"""Helpers for the reset/resume tests: building the incident and carrying out a plan.

``carry_out`` runs a :class:`~dbmedic.plan.Plan` through ``dbmedic.apply.apply_plan``: the
repair lock, a verified backup, every step, the verification and the hooks.
"""

from __future__ import annotations

from pathlib import Path

from dbmedic.apply import Outcome, apply_plan
from dbmedic.connect import open_reference, open_target
from dbmedic.execute import run_statements
from dbmedic.frameworks import get_framework
from dbmedic.model import MigrationState, Schema
from dbmedic.plan import Plan
from dbmedic.plans.facts import pending_migrations
from dbmedic.recreate import read_database_facts

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def copy_app(tmp_path: Path, name: str) -> Path:
    """A private copy of a fixture app (the Laravel one over the demo's Laravel skeleton)."""
    from migration_helpers import copy_fixture_app

    return copy_fixture_app(name, tmp_path / name)


def write_dbmate(root: Path, files: dict[str, str]) -> Path:
    folder = root / "db" / "migrations"
    folder.mkdir(parents=True, exist_ok=True)
    for name, body in files.items():
        (folder / f"{name}.sql").write_text(f"-- migrate:up\n{body.strip()}\n\n-- migrate:down\n")
    return root


def migrate(app: Path, url: str, framework: str) -> object:
    with open_target(url) as db:
        return get_framework(framework).migrate(db, app)


def run_sql(url: str, *statements: str) -> None:
    with open_target(url) as db:
        run_statements(db, list(statements), transactional=False)


def query(url: str, sql: str) -> list[tuple[object, ...]]:
    with open_reference(url) as db, db.connect() as conn:
        return [tuple(r) for r in conn.exec_driver_sql(sql)]


def tables(url: str) -> set[str]:
    with open_reference(url) as db, db.connect() as conn:
        return set(db.dialect.table_names(conn))


def live_schema(url: str) -> Schema:
    with open_reference(url) as db, db.connect() as conn:
        return db.dialect.inspect(conn, db.info)


def open_migrations(app: Path, url: str, framework: str) -> list[str]:
    """Migrations that are pending or failed, as dbmedic reads the tracking table."""
    with open_reference(url) as db:
        return [
            m.id
            for m in get_framework(framework).read(db, app)
            if m.state in (MigrationState.PENDING, MigrationState.FAILED)
        ]


def framework_pending(app: Path, url: str, framework: str) -> list[str]:
    """What the framework's own status command says is not applied (dbmedic's read where the
    framework has no command of its own: dbmate-format SQL runs in dbmedic)."""
    fw = get_framework(framework)
    with open_reference(url) as db:
        status = fw.framework_status(db, app)
    if status is None:
        return open_migrations(app, url, framework)
    return sorted(mid for mid, ran in status.items() if not ran)


def facts_and_pending(app: Path, url: str, framework: str):  # type: ignore[no-untyped-def]
    fw = get_framework(framework)
    with open_reference(url) as db:
        live = live_schema(url)
        return (
            read_database_facts(db),
            pending_migrations(fw, db, app, fw.read(db, app), live),
            live,
        )


def carry_out(plan: Plan, url: str, app: Path, backups: Path) -> Outcome:
    """Carry out ``plan`` with ``apply_plan`` (lock, backup, steps, verify, hooks); must succeed."""
    fw = get_framework(plan.framework or "")
    with open_target(url) as db:
        env = fw.connection_env(db.url, app) if hasattr(fw, "connection_env") else {}
        outcome = apply_plan(
            plan, db, app=app, framework=fw, backup_dir=backups, state_dir=backups.parent,
            hook_env=env,
        )  # fmt: skip
    assert outcome.ok, (outcome.error, outcome.failed_step)
    assert outcome.verified and outcome.backup
    return outcome


# --- the seed incident on Laravel ---------------------------------------------------------------

SEED = "2025_10_23_162250_add_priority_to_policy_configurations"
CREATOR = "2025_01_10_100000_create_policy_configurations_table"
BLOCKED = (
    "2025_10_24_090000_create_retell_call_sessions_table",
    "2025_10_25_000000_create_conversation_flows_table",
)
LARAVEL_TABLES = {
    "migrations", "users", "failed_jobs", "policy_configurations", "retell_call_sessions",
    "conversation_flows",
}  # fmt: skip
STAGING_ROWS = (
    "INSERT INTO users (id, name, email, password) VALUES "
    "(1, 'Ada', 'ada@example.org', 'x'), (2, 'Bob', 'bob@example.org', 'y')",
    "INSERT INTO policy_configurations (id, user_id, name) VALUES (1, 1, 'standard'), (2, 2, 'vip')",
)


def laravel_incident(tmp_path: Path, url: str, hotfix: str | None = None) -> Path:
    """The seed incident: migrate stops at SEED with a duplicate ``priority``.

    Without ``hotfix`` the column comes from the earlier CREATOR migration (the seed); with it,
    CREATOR has no priority and the column was added by hand (``hotfix``) before SEED ran.
    """
    app = copy_app(tmp_path, "laravel8")
    folder = app / "database" / "migrations"
    held: list[str] = []
    if hotfix is not None:
        creator = folder / f"{CREATOR}.php"
        creator.write_text(
            "\n".join(
                line
                for line in creator.read_text().splitlines()
                if "'priority'" not in line and "adds again" not in line
            )
            + "\n"
        )
        held = [SEED, *BLOCKED]
        for name in held:
            (folder / f"{name}.php").rename(tmp_path / f"{name}.php")
        assert migrate(app, url, "laravel").ok  # type: ignore[attr-defined]
        run_sql(url, hotfix)
    else:
        assert migrate(app, url, "laravel").failed == SEED  # type: ignore[attr-defined]
    run_sql(url, *STAGING_ROWS)
    for name in held:
        (tmp_path / f"{name}.php").rename(folder / f"{name}.php")
    if hotfix is not None:
        assert migrate(app, url, "laravel").failed == SEED  # type: ignore[attr-defined]
    return app


CACHED_CONFIG = """<?php
return [
    'app' => require __DIR__.'/../../config/app.php',
    'cache' => require __DIR__.'/../../config/cache.php',
    'database' => require __DIR__.'/../../config/database.php',
];
"""


def stale_config_cache(app: Path) -> Path:
    """A stale ``php artisan config:cache`` in the Laravel app (``config:clear`` deletes it)."""
    path = app / "bootstrap" / "cache" / "config.php"
    path.write_text(CACHED_CONFIG)
    return path


# --- the incident on Django (tests/fixtures/django_shop) -----------------------------------------

DJANGO_FAILING = "orders.0002_order_note_priority"
"""0001 creates orders_order.priority, 0002 adds it again: migrate stops here."""
