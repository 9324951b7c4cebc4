"""Resume marks every pending migration whose effects are present, not only the leading run of
them: a table made by hand for a later migration is recorded, the migrations before it are left
to the framework (a set: Laravel, dbmate) or run first (an ordered history: Django, Alembic)."""

from __future__ import annotations

from pathlib import Path

import pytest
from diagnose_helpers import write_dbmate
from sqlalchemy import create_engine

from dbmedic import api
from dbmedic.connect import open_reference, open_target
from dbmedic.diagnose.history import Histories
from dbmedic.diagnose.options import resume_plan
from dbmedic.diagnosis import Strategy
from dbmedic.frameworks import get_framework
from dbmedic.model import Migration, MigrationState, Schema

PHONE = "ALTER TABLE users ADD COLUMN phone varchar(20)"
AUDIT = "CREATE TABLE audit_log (id integer primary key, what varchar(50))"
LATER = "CREATE TABLE later_things (id integer primary key)"


def _live(tmp_path: Path) -> Schema:
    url = f"sqlite:///{tmp_path / 'live.db'}"
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE users (id integer primary key, name varchar(50))")
        conn.exec_driver_sql(AUDIT)  # by hand, exactly as migration 004 will create it
    engine.dispose()
    with open_reference(url) as db, db.connect() as conn:
        return db.dialect.inspect(conn, db.info)


def _todo(*ids: str) -> list[Migration]:
    return [Migration(i, f"db/migrations/{i}.sql", MigrationState.PENDING) for i in ids]


def test_a_later_present_migration_is_marked(tmp_path: Path) -> None:
    live = _live(tmp_path)
    h = Histories({"003": (PHONE,), "004": (AUDIT,), "005": (LATER,)}, True)

    plan = resume_plan(h, _todo("003", "004", "005"), live, "sqlite")

    assert plan.mark == ("004",) and plan.run_first == {} and plan.conflicts == ()


def test_ordered_history_runs_the_migrations_before_a_marked_one(tmp_path: Path) -> None:
    live = _live(tmp_path)
    h = Histories({"003": (PHONE,), "004": (AUDIT,), "005": (LATER,)}, True)

    plan = resume_plan(h, _todo("003", "004", "005"), live, "sqlite", ordered=True)

    assert plan.mark == ("003", "004") and plan.run_first == {"003": [PHONE]}


def test_ordered_history_stops_before_a_migration_it_cannot_run_as_sql(tmp_path: Path) -> None:
    live = _live(tmp_path)
    h = Histories({"003": (), "004": (AUDIT,)}, True)  # 003: code only (RunPython), no SQL

    assert resume_plan(h, _todo("003", "004"), live, "sqlite", ordered=True).mark == ()
    assert resume_plan(h, _todo("003", "004"), live, "sqlite").mark == ("004",)


def test_a_conflict_still_ends_the_walk(tmp_path: Path) -> None:
    live = _live(tmp_path)
    other = "CREATE TABLE audit_log (id integer primary key, what integer NOT NULL)"
    h = Histories({"003": (other,), "004": (PHONE,), "005": ("ALTER TABLE users ADD COLUMN name varchar(50)",)}, True)  # fmt: skip

    plan = resume_plan(h, _todo("003", "004", "005"), live, "sqlite")

    assert plan.mark == () and [c.object for c in plan.conflicts] == ["audit_log"]


@pytest.mark.backend("sqlite")
def test_diagnose_resume_marks_the_hand_made_table_and_works(
    backend: str, db_url: str, tmp_path: Path
) -> None:
    root = write_dbmate(tmp_path / "app", {"001_users": "CREATE TABLE users (id integer primary key, name varchar(50));"})  # fmt: skip
    assert api.migrate(root, db_url).result.ok
    write_dbmate(root, {"003_phone": f"{PHONE};", "004_audit": f"{AUDIT};", "005_later": f"{LATER};"})  # fmt: skip
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.exec_driver_sql(AUDIT)
    engine.dispose()

    d = api.diagnose(root, db_url)

    assert d.failing is not None and d.failing.migration.id == "004"
    resume = d.option(Strategy.RESUME)
    assert resume is not None and resume.mark_applied == ("004",)
    assert resume.predicted_ok is True and resume.rehearsed
    assert d.recommendation.strategy is Strategy.RESUME
    # the prediction, carried out: record 004, let the runner do 003 and 005
    with open_target(db_url) as db:
        get_framework("dbmate").mark_applied(db, root, ["004"])
    assert api.migrate(root, db_url).result.ok
    with open_reference(db_url) as db, db.connect() as conn:
        schema = db.dialect.inspect(conn, db.info)
    assert "phone" in schema.tables["users"].columns and "later_things" in schema.tables
