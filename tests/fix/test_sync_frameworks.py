"""fix --strategy sync on the frameworks, for real: Laravel on MariaDB and Django on PostgreSQL.

The incident is built on staging with the framework itself; production is the same project
whose history runs through (the duplicate column made idempotent), migrated into a second
database. ``api.fix`` (the CLI's path: lock, backup, DDL, tracking table, verify) then brings
staging level, and the test checks what a user would: every table of the reference, the
framework's own status command showing nothing pending, the staging rows still there.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from strategy_helpers import (
    CREATOR,
    DJANGO_FAILING,
    copy_app,
    framework_pending,
    laravel_incident,
    migrate,
    query,
    run_sql,
    stale_config_cache,
    tables,
)

from dbmedic import api
from dbtest import DatabaseFactory


def _without_lines(path: Path, *needles: str) -> None:
    lines = path.read_text().splitlines()
    path.write_text("\n".join(x for x in lines if not any(n in x for n in needles)) + "\n")


@pytest.mark.backend("mariadb")
def test_sync_laravel_on_mariadb(
    backend: str, php: str, db_factory: DatabaseFactory, tmp_path: Path
) -> None:
    staging, production = db_factory.new(), db_factory.new()
    app = laravel_incident(tmp_path / "staging", staging)
    prod_app = copy_app(tmp_path / "production", "laravel8")  # priority only from the later ALTER
    _without_lines(
        prod_app / "database" / "migrations" / f"{CREATOR}.php", "'priority'", "adds again"
    )
    assert migrate(prod_app, production, "laravel").ok  # type: ignore[attr-defined]
    assert framework_pending(app, staging, "laravel")  # the incident: 3 migrations not run
    users = query(staging, "SELECT id, email FROM users ORDER BY id")
    config_cache = stale_config_cache(app)

    outcome = api.fix("sync", app, staging, reference=production, yes=True,
                      critical=["retell_call_sessions", "conversation_flows"])  # fmt: skip

    assert outcome.ok, (outcome.error, outcome.checks)
    assert tables(staging) == tables(production)
    assert framework_pending(app, staging, "laravel") == []  # php artisan migrate:status
    assert query(staging, "SELECT id, email FROM users ORDER BY id") == users
    assert query(staging, "SELECT id, name FROM policy_configurations ORDER BY id") == [
        (1, "standard"), (2, "vip")
    ]  # fmt: skip
    assert api.verify(staging, production).in_sync
    # with the app and nothing configured, sync runs Laravel's default hooks like the others
    hooks = [(s.title, s.status.value) for s in outcome.steps if s.kind == "hook"]
    assert hooks == [("Run php artisan cache:clear", "ok"), ("Run php artisan config:clear", "ok")]
    assert not config_cache.exists()


@pytest.mark.backend("postgresql")
def test_sync_django_on_postgresql(
    backend: str, db_factory: DatabaseFactory, tmp_path: Path
) -> None:
    staging, production = db_factory.new(), db_factory.new()
    project = copy_app(tmp_path / "staging", "django_shop")
    prod_project = copy_app(tmp_path / "production", "django_shop")
    _without_lines(
        prod_project / "orders" / "migrations" / "0002_order_note_priority.py",
        'AddField("order", "priority"',
    )
    for url in (staging, production):  # 0003's foreign key target, made by hand on both
        run_sql(url, "CREATE TABLE legacy_warehouse (id bigint PRIMARY KEY)")
    assert migrate(prod_project, production, "django").ok  # type: ignore[attr-defined]
    assert migrate(project, staging, "django").failed == DJANGO_FAILING  # type: ignore[attr-defined]
    run_sql(
        staging,
        "INSERT INTO catalog_product (id, name, priority) VALUES (1, 'lamp', 1)",
        "INSERT INTO orders_order (id, quantity, priority, product_id) VALUES (1, 3, 7, 1)",
    )
    assert framework_pending(project, staging, "django")

    outcome = api.fix("sync", project, staging, reference=production, yes=True,
                      critical=["orders_shipment"])  # fmt: skip

    assert outcome.ok, (outcome.error, outcome.checks)
    assert tables(staging) == tables(production)
    assert framework_pending(project, staging, "django") == []  # manage.py showmigrations
    assert query(staging, "SELECT id, quantity, priority, note FROM orders_order") == [
        (1, 3, 7, None)
    ]  # fmt: skip
    assert query(staging, "SELECT id, name FROM catalog_product") == [(1, "lamp")]
    # status is NOT NULL without a database default in the reference (Django keeps defaults in
    # Python): the staging row gets the implicit '' and the plan said so before it ran
    assert query(staging, "SELECT status FROM orders_order") == [("",)]
    assert any("orders_order.status = ''" in n for n in outcome.plan.notes)
    assert api.verify(staging, production).in_sync
