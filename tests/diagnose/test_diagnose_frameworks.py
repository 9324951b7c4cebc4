"""diagnose with the frameworks themselves: the seed incident end to end on Laravel + MariaDB
(predictions checked by running reset and resume on throwaway copies), more Laravel failure
kinds, and Django on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from diagnose_helpers import apply_guard, schema_and_tracking_rows
from diagnose_helpers import columns_of as _columns

from dbmedic import api
from dbmedic.connect import open_reference, open_target
from dbmedic.diagnosis import Evidence, Phase, Strategy
from dbmedic.errorclass import ErrorClass as E
from dbmedic.frameworks import get_framework
from dbtest import DatabaseFactory

SEED = "2025_10_23_162250_add_priority_to_policy_configurations"
CREATOR = "2025_01_10_100000_create_policy_configurations_table"
BLOCKED = (
    "2025_10_24_090000_create_retell_call_sessions_table",
    "2025_10_25_000000_create_conversation_flows_table",
)


def _migrate(app: Path, url: str, framework: str) -> object:
    fw = get_framework(framework)
    with open_target(url) as db:
        return fw.migrate(db, app)


def _tables(url: str) -> set[str]:
    with open_reference(url) as db, db.connect() as conn:
        return set(db.dialect.table_names(conn))


def _state(url: str) -> tuple[object, list[tuple[object, ...]]]:
    """Schema and Laravel's tracking rows."""
    return schema_and_tracking_rows(url, "SELECT migration, batch FROM migrations ORDER BY 1")


@pytest.mark.backend("mariadb")
def test_seed_incident_end_to_end(
    backend: str, php: str, db_factory: DatabaseFactory, copy_fixture: Callable[[str], Path]
) -> None:
    app = copy_fixture("laravel8")
    staging = db_factory.new("staging")
    first = _migrate(app, staging, "laravel")
    assert not first.ok and first.failed == SEED  # type: ignore[attr-defined]
    before = _state(staging)

    d = api.diagnose(app, staging, critical=["retell_call_sessions", "conversation_flows", "users"])

    assert _state(staging) == before  # read-only
    assert d.framework == "laravel" and d.evidence is Evidence.REHEARSED
    assert d.failing is not None and d.failing.migration.id == SEED
    assert "Duplicate column name 'priority'" in d.failing.error
    assert d.failing.error_class is E.DUPLICATE_COLUMN
    assert d.failing.file == f"database/migrations/{SEED}.php" and d.failing.line == 12
    assert d.last_applied is not None and d.last_applied.id == CREATOR
    assert d.cause is not None and d.cause.object == "policy_configurations.priority"
    earlier = [s for s in d.cause.creators if not s.failed]
    assert [s.migration for s in earlier] == [CREATOR]
    assert earlier[0].file == f"database/migrations/{CREATOR}.php" and earlier[0].line == 17
    assert d.blocked.migrations == BLOCKED
    assert d.blocked.tables == ("retell_call_sessions", "conversation_flows")
    assert {g.key for g in d.blocked.by_prefix} == {"retell_", "conversation_"}
    crit = {c.table: c for c in d.critical}
    assert crit["retell_call_sessions"].state == "blocked"
    assert crit["retell_call_sessions"].creator.migration == BLOCKED[0]  # type: ignore[union-attr]
    assert crit["users"].present
    assert d.tables == len(_tables(staging)) and d.expected_tables == d.tables + 2
    reset, resume = d.option(Strategy.RESET), d.option(Strategy.RESUME)
    assert reset is not None and reset.predicted_ok is False and reset.fails_at == SEED
    assert resume is not None and resume.predicted_ok is True and resume.mark_applied == (SEED,)
    assert d.recommendation.strategy is Strategy.RESUME
    assert "--strategy resume" in d.recommendation.command
    assert (
        d.guard is not None
        and "Schema::hasColumn('policy_configurations', 'priority')" in d.guard.snippet
    )
    assert [e.phase for e in d.timeline].count(Phase.BLOCKED) == len(BLOCKED)

    # the predictions, checked on throwaway copies
    fresh = db_factory.new("reset")
    reset_run = _migrate(app, fresh, "laravel")
    assert not reset_run.ok and reset_run.failed == SEED  # type: ignore[attr-defined]
    copy = db_factory.new("resume")
    assert _migrate(app, copy, "laravel").failed == SEED  # type: ignore[attr-defined]
    fw = get_framework("laravel")
    with open_target(copy) as db:
        fw.mark_applied(db, app, list(resume.mark_applied))
        assert fw.migrate(db, app).ok
    assert {"retell_call_sessions", "conversation_flows"} <= _tables(copy)

    # the guard is real code: pasted over the statement, a fresh run from zero passes
    assert (
        d.guard.original
        == "            $table->integer('priority')->default(999)->after('is_default');"
    )
    assert d.guard.snippet == (
        "            if (! Schema::hasColumn('policy_configurations', 'priority')) {\n"
        "                $table->integer('priority')->default(999)->after('is_default');\n"
        "            }"
    )
    assert (d.guard.line, d.guard.end_line) == (12, 12)
    apply_guard(app, d.guard)
    again = db_factory.new("guarded")
    assert _migrate(app, again, "laravel").ok  # type: ignore[attr-defined]
    assert "priority" in _columns(again, "policy_configurations")


@pytest.mark.backend("mariadb")
@pytest.mark.parametrize(
    ("name", "body", "error_class", "kind", "obj"),
    [
        ("2025_10_23_170000_create_users_again", "Schema::create('users', function (Blueprint $table) { $table->id(); });",
         E.DUPLICATE_TABLE, "duplicate", "users"),
        ("2025_10_23_170000_alter_ghosts", "Schema::table('ghosts', function (Blueprint $table) { $table->string('x'); });",
         E.UNKNOWN_TABLE, "missing", "ghosts"),
    ],
    ids=["duplicate_table", "unknown_table"],
)  # fmt: skip
def test_laravel_failure_kinds(
    backend: str, php: str, db_url: str, copy_fixture: Callable[[str], Path],
    name: str, body: str, error_class: E, kind: str, obj: str,
) -> None:  # fmt: skip
    app = copy_fixture("laravel8")
    (app / f"database/migrations/{SEED}.php").unlink()
    (app / f"database/migrations/{name}.php").write_text(
        "<?php\n\nuse Illuminate\\Database\\Migrations\\Migration;\n"
        "use Illuminate\\Database\\Schema\\Blueprint;\nuse Illuminate\\Support\\Facades\\Schema;\n\n"
        "return new class extends Migration\n{\n    public function up()\n    {\n"
        f"        {body}\n    }}\n}};\n"
    )
    assert _migrate(app, db_url, "laravel").failed == name  # type: ignore[attr-defined]

    d = api.diagnose(app, db_url)

    assert d.failing is not None and d.failing.migration.id == name
    assert d.failing.error_class is error_class
    assert d.cause is not None and d.cause.kind == kind and d.cause.object == obj
    assert d.blocked.migrations == BLOCKED
    reset = d.option(Strategy.RESET)
    assert reset is not None and reset.predicted_ok is False and reset.fails_at == name
    if error_class is E.DUPLICATE_TABLE:
        # users exists with other columns: a conflict, never counted as applied
        assert d.conflicts and d.conflicts[0].object == "users"
        assert d.recommendation.strategy is None
        assert d.guard is not None and "Schema::hasTable('users')" in d.guard.snippet
    else:
        assert d.cause.creators == () and "no migration creates it" in d.cause.explanation
        assert d.recommendation.strategy is None


@pytest.mark.backend("postgresql")
def test_django_duplicate_column_on_postgresql(
    backend: str, db_factory: DatabaseFactory, copy_fixture: Callable[[str], Path]
) -> None:
    db_url = db_factory.new()
    project = copy_fixture("django_shop")
    result = _migrate(project, db_url, "django")
    assert result.failed == "orders.0002_order_note_priority"  # type: ignore[attr-defined]

    d = api.diagnose(project, db_url, critical=["orders_shipment"])

    assert d.failing is not None and d.failing.migration.id == "orders.0002_order_note_priority"
    assert d.failing.error_class is E.DUPLICATE_COLUMN
    assert 'column "priority" of relation "orders_order" already exists' in d.failing.error
    assert d.cause is not None and d.cause.object == "orders_order.priority"
    assert [s.migration for s in d.cause.creators if not s.failed] == ["orders.0001_initial"]
    assert "orders.0003_shipment" in d.blocked.migrations
    assert d.guard is not None and "SeparateDatabaseAndState" in d.guard.snippet
    assert "ADD COLUMN IF NOT EXISTS" in d.guard.snippet.upper()
    reset = d.option(Strategy.RESET)
    assert reset is not None and reset.predicted_ok is False
    assert reset.fails_at == "orders.0002_order_note_priority"
    assert d.guard.original is not None and "RunSQL" in d.guard.snippet
    apply_guard(project, d.guard)
    fresh = db_factory.new("guarded")
    fresh_run = _migrate(project, fresh, "django")
    # past 0002 now; the project's 0003 fails on purpose for another reason (legacy_warehouse)
    assert "orders.0002_order_note_priority" in fresh_run.applied  # type: ignore[attr-defined]
    assert fresh_run.failed == "orders.0003_shipment"  # type: ignore[attr-defined]
    assert {"note", "priority"} <= set(_columns(fresh, "orders_order"))
