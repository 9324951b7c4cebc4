"""The simulation's prediction against the real server: same failing statement, same class."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine
from sqlalchemy.exc import DBAPIError

from dbmedic.errorclass import classify_error
from dbmedic.simulate import simulate
from dbtest import DatabaseFactory

FAMILY = {"mariadb": "mysql", "postgresql": "postgresql", "sqlite": "sqlite"}

HISTORIES = {
    # The seed incident in miniature.
    "duplicate_column": [
        (
            "001_create_policies",
            [
                "create table policy_configurations (id int primary key, is_default int not null default 0, priority int not null default 999)"
            ],
        ),
        (
            "002_add_priority",
            [
                "create table audit (id int primary key)",
                "alter table policy_configurations add priority int not null default 999",
            ],
        ),
        ("003_later", ["create table later (id int primary key)"]),
    ],
    "unknown_column": [
        ("001_create", ["create table t (id int primary key, a int)"]),
        ("002_drop", ["alter table t drop column nope"]),
    ],
    "duplicate_key_name": [
        (
            "001_create",
            [
                "create table t (id int primary key, a int, b int)",
                "create index t_a_index on t (a)",
            ],
        ),
        ("002_index", ["create index t_a_index on t (b)"]),
    ],
}


def run_on_server(
    url: str, backend: str, history: list[tuple[str, list[str]]]
) -> tuple[str, int, str] | None:
    """Run migrations one statement at a time as a runner would; the first failure or None."""
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            for mid, statements in history:
                for number, sql in enumerate(statements, start=1):
                    try:
                        conn.exec_driver_sql(sql)
                    except DBAPIError as e:
                        # What a runner shows: PyMySQL "(1060, '...')", psycopg's text with its
                        # SQLSTATE, sqlite3's text.
                        state = getattr(e.orig, "sqlstate", None)
                        text = f"SQLSTATE {state}: {e.orig}" if state else str(e.orig)
                        return mid, number, str(classify_error(FAMILY[backend], text, sql))
    finally:
        engine.dispose()
    return None


@pytest.mark.parametrize("case", sorted(HISTORIES))
def test_simulation_predicts_the_server(
    backend: str, db_factory: DatabaseFactory, case: str
) -> None:
    history = HISTORIES[case]
    url = db_factory.new("sim")
    actual = run_on_server(url, backend, history)  # type: ignore[arg-type]
    sim = simulate(history, "mariadb" if backend == "mariadb" else backend)  # type: ignore[arg-type]
    failed = sim.first_failure
    assert failed is not None and failed.failure is not None
    predicted = (failed.id, failed.failure.statement, str(failed.failure.error.error_class))
    assert actual == predicted
    assert actual[2] == case
