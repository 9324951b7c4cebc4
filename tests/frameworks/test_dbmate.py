"""The dbmate adapter and the native runner against the real dbmate binary and real servers."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from dbmedic import api
from dbmedic.connect import open_target
from dbmedic.errors import MigrationError
from dbmedic.model import MigrationState
from dbmedic.runner import JOURNAL_TABLE, read_journal
from migration_helpers import dbmate, dbmate_status, write_migrations

FIRST = {
    "20240101000000_create_authors.sql": (
        "-- migrate:up\ncreate table authors (id int primary key, name varchar(100) not null);\n"
        "-- migrate:down\ndrop table authors;\n"
    ),
    "20240102000000_create_books.sql": (
        "-- migrate:up\n"
        "create table books (id int primary key, author_id int not null, title varchar(200));\n"
        "create index books_author_id_index on books (author_id);\n"
        "-- migrate:down\ndrop table books;\n"
    ),
}
THIRD = {
    "20240103000000_add_isbn.sql": (
        "-- migrate:up\nalter table books add column isbn varchar(20);\n"
        "-- migrate:down\nalter table books drop column isbn;\n"
    )
}


def _states(report: api.StatusReport) -> dict[str, str]:  # type: ignore[name-defined]
    return {Path(m.file).name: m.state.value for m in report.migrations if m.file}


def test_dbmate_status_agrees_with_dbmedic_status(tmp_path: Path, db_url: str) -> None:
    write_migrations(tmp_path, FIRST)
    up = dbmate(tmp_path, db_url, "up")
    assert up.returncode == 0, up.stderr
    write_migrations(tmp_path, THIRD)

    report = api.status(tmp_path, db_url)

    assert report.framework == "dbmate"
    expected = {
        name: "applied" if ok else "pending" for name, ok in dbmate_status(tmp_path, db_url).items()
    }
    assert _states(report) == expected
    assert report.counts["applied"] == 2 and report.counts["pending"] == 1
    assert report.tables == 3  # authors, books, schema_migrations


def test_project_migrated_by_dbmedic_keeps_working_with_dbmate(tmp_path: Path, db_url: str) -> None:
    write_migrations(tmp_path, FIRST)
    result = api.migrate(tmp_path, db_url).result
    assert result.ok and len(result.applied) == 2
    assert all(dbmate_status(tmp_path, db_url).values())

    write_migrations(tmp_path, THIRD)
    up = dbmate(tmp_path, db_url, "up")
    assert up.returncode == 0, up.stderr
    back = dbmate(tmp_path, db_url, "rollback")
    assert back.returncode == 0, back.stderr

    report = api.status(tmp_path, db_url)
    assert _states(report) == {
        name: "applied" if ok else "pending" for name, ok in dbmate_status(tmp_path, db_url).items()
    }
    assert report.counts["pending"] == 1
    assert report.internal_tables == ()  # the journal is gone once nothing is unfinished


FAILING = {
    "20240201000000_shop.sql": (
        "-- migrate:up\n"
        "create table customers (id int primary key, country_id int);\n"
        "create table orders (id int primary key, customer_id int not null);\n"
        "alter table customers add constraint customers_country_id_foreign"
        " foreign key (country_id) references countries (id);\n"
        "create index orders_customer_id_index on orders (customer_id);\n"
        "-- migrate:down\ndrop table orders;\ndrop table customers;\n"
    )
}
COUNTRIES = "create table countries (id int primary key)"
FAILING_TX = {
    "20240201000000_shop.sql": (
        "-- migrate:up\n"
        "create table customers (id int primary key, country_id int);\n"
        "create table orders (id int primary key, customer_id int not null);\n"
        "insert into countries (id) values (49);\n"
        "-- migrate:down\ndrop table orders;\ndrop table customers;\n"
    )
}


def _schema_facts(url: str) -> list[tuple[object, ...]]:
    engine = create_engine(url)
    with engine.connect() as conn:
        columns = conn.execute(
            text(
                "select table_name, column_name, column_type, is_nullable from information_schema.columns"
                " where table_schema = database() order by table_name, ordinal_position"
            )
        ).all()
        keys = conn.execute(
            text(
                "select table_name, constraint_name, column_name, referenced_table_name"
                " from information_schema.key_column_usage where table_schema = database()"
                " order by table_name, constraint_name, column_name"
            )
        ).all()
        indexes = conn.execute(
            text(
                "select table_name, index_name, column_name from information_schema.statistics"
                " where table_schema = database() order by table_name, index_name, seq_in_index"
            )
        ).all()
    engine.dispose()
    return [tuple(r) for r in (*columns, *keys, *indexes)]


@pytest.mark.backend("mariadb")
def test_mariadb_failure_at_third_statement_resumes_there(tmp_path: Path, db_factory) -> None:  # type: ignore[no-untyped-def]
    write_migrations(tmp_path, FAILING)
    url = db_factory.new("resume")

    first = api.migrate(tmp_path, url).result

    assert not first.ok and first.failed == "20240201000000"
    assert dict(first.extra)["statement_index"] == "2"
    assert "Foreign key constraint" in (first.error or "")
    with open_target(url) as db, db.connect() as conn:
        journal = read_journal(db, conn)
    assert [(e.statement_index, e.state) for e in journal] == [
        (0, "done"),
        (1, "done"),
        (2, "failed"),
    ]
    assert api.status(tmp_path, url).failed is not None

    with create_engine(url).connect() as conn:  # fix the cause outside the migration
        conn.exec_driver_sql(COUNTRIES)
    second = api.migrate(tmp_path, url)

    assert second.result.ok, second.result.error
    assert dict(second.result.extra) == {}
    assert second.status.ok and second.status.internal_tables == ()
    clean = db_factory.new("clean")
    with create_engine(clean).connect() as conn:
        conn.exec_driver_sql(COUNTRIES)
    assert api.migrate(tmp_path, clean).result.ok
    assert _schema_facts(url) == _schema_facts(clean)
    assert all(dbmate_status(tmp_path, url).values())


@pytest.mark.backend("mariadb")
def test_resume_refuses_when_a_statement_that_ran_was_edited(tmp_path: Path, db_url: str) -> None:
    write_migrations(tmp_path, FAILING)
    assert not api.migrate(tmp_path, db_url).result.ok
    path = tmp_path / "db/migrations/20240201000000_shop.sql"
    path.write_text(path.read_text().replace("country_id int)", "country_id bigint)"))

    with pytest.raises(MigrationError, match=r"20240201000000_shop.sql:2: statement 1 .* changed"):
        api.migrate(tmp_path, db_url)


@pytest.mark.backend("sqlite", "postgresql")
def test_transactional_failure_leaves_nothing_but_the_journal(tmp_path: Path, db_url: str) -> None:
    write_migrations(tmp_path, FAILING_TX)

    result = api.migrate(tmp_path, db_url).result
    report = api.status(tmp_path, db_url)

    assert not result.ok and dict(result.extra)["statements_done"] == "0"
    assert report.tables == 1  # schema_migrations only: the migration rolled back whole
    assert report.internal_tables == (JOURNAL_TABLE,)
    failed = report.failed
    assert failed is not None and failed.state is MigrationState.FAILED
    assert "countries" in dict(failed.extra)["error"]
    assert dbmate_status(tmp_path, db_url) == {"20240201000000_shop.sql": False}

    again = api.migrate(tmp_path, db_url)  # the same failure replaces the journal's row
    assert not again.result.ok and again.status.internal_tables == (JOURNAL_TABLE,)
    with open_target(db_url) as db, db.connect() as conn:
        assert [(e.statement_index, e.state) for e in read_journal(db, conn)] == [(2, "failed")]
    with create_engine(db_url).begin() as conn:  # the cause fixed outside the migration
        conn.exec_driver_sql(COUNTRIES)
    fixed = api.migrate(tmp_path, db_url)
    assert fixed.result.ok and fixed.status.internal_tables == ()  # the journal went with it


def test_dbmate_url_from_dotenv_and_transaction_option(tmp_path: Path) -> None:
    from dbmedic.frameworks import get_framework

    (tmp_path / ".env").write_text('DATABASE_URL="sqlite:db/app.sqlite3"\n')
    write_migrations(
        tmp_path,
        {"1_x.sql": "-- migrate:up transaction:false\ncreate table x (id int);\n-- migrate:down\n"},
    )
    fw = get_framework("dbmate")
    assert fw.database_url(tmp_path) == f"sqlite:///{tmp_path}/db/app.sqlite3"
    migration = fw.parse(tmp_path, "1", tmp_path / "db/migrations/1_x.sql", "sqlite")  # type: ignore[attr-defined]
    assert migration.transaction is False
    assert [s.line for s in migration.statements] == [2]
