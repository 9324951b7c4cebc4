"""Helpers of the fix tests: the seed incident built on any backend, and row checksums."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import MetaData, create_engine, select

from dbtest import DatabaseFactory

if TYPE_CHECKING:
    from dbmedic.demo.spec import AppSpec

FAMILY = {"sqlite": "sqlite", "mariadb": "mysql", "postgresql": "postgresql"}


@dataclass(frozen=True)
class Incident:
    app: Path
    staging: str
    production: str


def build_incident(factory: DatabaseFactory, tmp: Path, spec: AppSpec | None = None) -> Incident:
    """The demo incident (or ``spec``) rendered as dbmate files for the backend: production with
    the whole history, staging stopped at the duplicate ``priority`` column (both by dbmedic's
    runner)."""
    from dbmedic.connect import open_target
    from dbmedic.demo.render_dbmate import render
    from dbmedic.demo.spec import incident_app
    from dbmedic.frameworks import get_framework

    spec = spec or incident_app()
    family = FAMILY[factory.backend]
    app, history = tmp / "app", tmp / "production-history"
    for root, era in ((app, "current"), (history, "production")):
        folder = root / "db" / "migrations"
        folder.mkdir(parents=True)
        for name, text in render(spec, family, era=era).items():
            (folder / name).write_text(text, encoding="utf-8")
    production, staging = factory.new("prod"), factory.new("stage")
    fw = get_framework("dbmate")
    with open_target(production) as db:
        assert fw.migrate(db, history).ok
    with open_target(staging) as db:
        failing = next(m.version for m in spec.migrations if m.id == spec.failing)
        assert fw.migrate(db, app).failed == failing
    return Incident(app, staging, production)


def row_digest(url: str) -> dict[str, str]:
    """{table: sha256 of its rows in primary-key order}: what a user would compare by hand."""
    engine = create_engine(url)
    meta = MetaData()
    out: dict[str, str] = {}
    try:
        meta.reflect(engine)
        with engine.connect() as conn:
            for name, table in sorted(meta.tables.items()):
                order = list(table.primary_key.columns) or list(table.columns)
                h = hashlib.sha256()
                for row in conn.execute(select(table).order_by(*order)):
                    h.update(repr(tuple(row)).encode())
                out[name] = h.hexdigest()
    finally:
        engine.dispose()
    return out


# --- the incident in small: every step kind of every strategy, a handful of migrations ----------

SMALL_FAILING = "2025_10_23_162250_add_priority_to_policy_configurations"
SMALL_ROWS = (
    "INSERT INTO companies (id, name, slug) VALUES (1, 'Acme', 'acme'), (2, 'Beta', 'beta')",
    "INSERT INTO users (id, name, email) VALUES (1, 'Ada', 'ada@example.org'), "
    "(2, 'Bob', 'bob@example.org')",
    "INSERT INTO policy_configurations (id, company_id, policy_type) VALUES (1, 1, 'standard'), "
    "(2, 2, 'vip')",
)


def small_incident_app() -> AppSpec:
    """The seed incident cut down to 10 migrations: the early file edited to create ``priority``,
    the failing migration that adds it again (and an index on it), then new tables with foreign
    keys, a foreign-key column, a NOT NULL column with a default and an index on an old table.
    Sync plans every phase (tables, columns, indexes, foreign keys, mark applied), resume runs
    SQL, marks and migrates, reset migrates from zero once the failing file is idempotent."""
    from dbmedic.demo.spec import (
        AddColumn,
        AddIndex,
        AppSpec,
        CreateTable,
        MigrationSpec,
        c,
        fk,
        generated,
        table,
    )

    policy = table("policy_configurations", fk("companies"),
                   c("policy_type", "string(64)", index=True), c("is_default", "bool", default="0"),
                   c("is_active", "bool", default="1"))  # fmt: skip
    columns = list(policy.columns)
    columns.insert(4, c("priority", "int", default="999"))  # after is_default, as in the seed
    edited = replace(policy, columns=tuple(columns))
    priority = c("priority", "int", default="999", after="is_default")
    migrations = (
        ("2019_08_19_000000_create_companies_table",
         (CreateTable(table("companies", c("name", "string(255)"),
                            c("slug", "string(191)", unique=True))),)),
        ("2019_08_20_000000_create_users_table",
         (CreateTable(table("users", c("name", "string(255)"),
                            c("email", "string(191)", unique=True))),)),
        ("2019_09_01_000000_create_policy_configurations_table", (CreateTable(edited),),
         (CreateTable(policy),)),  # production ran it before the edit
        (SMALL_FAILING, (AddColumn("policy_configurations", priority),
                         AddIndex("policy_configurations", ("company_id", "priority")))),
        ("2025_10_24_090000_create_retell_agents_table",
         (CreateTable(generated("retell_agents", None)),)),
        ("2025_10_24_091500_create_retell_call_sessions_table",
         (CreateTable(generated("retell_call_sessions", "retell_agents")),)),
        ("2025_10_25_000000_create_conversation_flows_table",
         (CreateTable(generated("conversation_flows", "retell_agents")),)),
        ("2025_10_26_000000_add_retell_agent_id_to_users_table",
         (AddColumn("users", fk("retell_agents", nullable=True)),)),
        ("2025_10_26_010000_add_timezone_to_users_table",
         (AddColumn("users", c("timezone", "string(64)", default="'Europe/Berlin'")),)),
        ("2025_10_26_020000_add_index_on_users_created_at", (AddIndex("users", ("created_at",)),)),
    )  # fmt: skip
    specs = tuple(MigrationSpec(*m) for m in migrations)  # type: ignore[arg-type]
    return AppSpec("small-incident", specs, SMALL_FAILING, ("policy_configurations", "priority"))


def build_small_incident(factory: DatabaseFactory, tmp: Path) -> Incident:
    """:func:`small_incident_app` as dbmate files: production with the history as it ran,
    staging stopped at the duplicate ``priority`` with two rows in each of its tables."""
    from dbtest import run_sql

    built = build_incident(factory, tmp, small_incident_app())
    run_sql(built.staging, ";\n".join(SMALL_ROWS) + ";\n")
    return built


def make_failing_idempotent(app: Path) -> None:
    """Edit the failing file as diagnose's guard says (``ADD COLUMN IF NOT EXISTS``), so that
    every migration runs from zero and reset is no longer refused."""
    (path,) = (app / "db" / "migrations").glob("20251023162250_*.sql")
    text = path.read_text(encoding="utf-8")
    head, sep, rest = text.partition("add column")
    assert sep, text
    path.write_text(head + "add column if not exists" + rest, encoding="utf-8")
