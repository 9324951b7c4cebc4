"""Helpers for the reset/resume tests: building the incident and carrying out a plan.

``carry_out`` is a small local interpreter of a :class:`~dbmedic.plan.Plan` (steps in order,
checks before statements), used until ``dbmedic.apply.apply_plan`` is on this branch. It uses
the same building blocks the applier does: ``run_statements``, the framework's ``migrate`` and
``mark_applied``, ``api.backup``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from dbmedic import api
from dbmedic.connect import open_reference, open_target
from dbmedic.execute import run_statements
from dbmedic.frameworks import get_framework
from dbmedic.model import MigrationState, Schema
from dbmedic.plan import Plan, StepKind
from dbmedic.plans.facts import database_facts, pending_migrations

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def copy_app(tmp_path: Path, name: str) -> Path:
    target = tmp_path / name
    shutil.copytree(FIXTURES / name, target)
    return target


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
        return database_facts(db), pending_migrations(fw, db, app, fw.read(db, app), live), live


def carry_out(plan: Plan, url: str, app: Path, backups: Path) -> list[str]:
    """Carry out ``plan`` on ``url``; returns what each step did (raises on a failed step)."""
    fw = get_framework(plan.framework or "")
    done: list[str] = []
    for step in plan.steps:
        kind = step.kind
        if kind in (StepKind.LOCK, StepKind.VERIFY):
            done.append(f"{step.number} {kind} (checked by the test)")
            continue
        if kind is StepKind.BACKUP:
            taken = api.backup(url, backups)
            assert api.verify_backup(taken).ok
            done.append(f"{step.number} backup {taken.path}")
            continue
        if kind is StepKind.RECREATE_DATABASE:
            _recreate(url, list(step.statements))
        elif kind in (StepKind.SQL, StepKind.MOVE_ASIDE, StepKind.COPY_BACK):
            with open_target(url) as db:
                with db.connect() as conn:
                    for check in step.checks:
                        value = conn.exec_driver_sql(check).scalar()
                        assert value, f"check failed before step {step.number}: {check}"
                run_statements(db, list(step.statements), transactional=step.transactional)
        elif kind is StepKind.FRAMEWORK_MIGRATE:
            with open_target(url) as db:
                result = fw.migrate(db, app)
            assert result.ok, result
            assert list(result.applied) == list(step.migrations), result.applied
        elif kind is StepKind.MARK_APPLIED:
            with open_target(url) as db:
                fw.mark_applied(db, app, list(step.migrations))
        elif kind is StepKind.HOOK:
            with open_target(url) as db:
                run = fw.artisan(db, app, *step.command[2:])  # type: ignore[attr-defined]
            assert run.returncode == 0, run.output
        done.append(f"{step.number} {kind}")
    return done


def _recreate(url: str, statements: list[str]) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        with open_target(url) as db:
            run_statements(db, statements)
        return
    admin = parsed.set(database="postgres") if parsed.get_backend_name() == "postgresql" else parsed
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        for sql in statements:
            conn.exec_driver_sql(sql)
    engine.dispose()


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
