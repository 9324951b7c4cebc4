"""Classification of server errors from codes and from the texts drivers and frameworks print."""

from __future__ import annotations

import pytest

from dbmedic.errorclass import ErrorClass as E
from dbmedic.errorclass import classify_error, server_error


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        (1060, E.DUPLICATE_COLUMN),
        (1050, E.DUPLICATE_TABLE),
        (1061, E.DUPLICATE_KEY_NAME),
        (1054, E.UNKNOWN_COLUMN),
        (1146, E.UNKNOWN_TABLE),
        (1051, E.UNKNOWN_TABLE),
        (1005, E.FOREIGN_KEY),
        (1215, E.FOREIGN_KEY),
        (1216, E.FOREIGN_KEY),
        (1217, E.FOREIGN_KEY),
        (1452, E.FOREIGN_KEY),
        (1824, E.FOREIGN_KEY),
        (3780, E.FOREIGN_KEY),
        (1265, E.DATA_TRUNCATION_OR_INVALID_DEFAULT),
        (1292, E.DATA_TRUNCATION_OR_INVALID_DEFAULT),
        (1366, E.DATA_TRUNCATION_OR_INVALID_DEFAULT),
        (1067, E.DATA_TRUNCATION_OR_INVALID_DEFAULT),
        (1064, E.SYNTAX_ERROR),
        (1142, E.PERMISSION_DENIED),
        (1044, E.PERMISSION_DENIED),
        (1045, E.PERMISSION_DENIED),
        (1205, E.LOCK_WAIT_TIMEOUT),
        (9999, E.OTHER),
    ],
)
def test_mysql_codes(code: int, cls: E) -> None:
    assert classify_error("mariadb", code) is cls
    assert classify_error("mysql", str(code)) is cls


@pytest.mark.parametrize(
    ("text", "cls"),
    [
        ("(1060, \"Duplicate column name 'priority'\")", E.DUPLICATE_COLUMN),
        (
            "SQLSTATE[42S21]: Column already exists: 1060 Duplicate column name 'priority' "
            "(Connection: mysql, SQL: alter table `policy_configurations` add `priority` int not null default '999' after `is_default`)",
            E.DUPLICATE_COLUMN,
        ),
        ("ERROR 1146 (42S02) at line 1: Table 'app.nope' doesn't exist", E.UNKNOWN_TABLE),
        ('(1091, "Can\'t DROP COLUMN `nope`; check that it exists")', E.UNKNOWN_COLUMN),
        ('(1091, "Can\'t DROP INDEX `nope`; check that it exists")', E.UNKNOWN_KEY),
        (
            "(1005, 'Can\\'t create table `db`.`c` (errno: 150 \"Foreign key constraint is incorrectly formed\")')",
            E.FOREIGN_KEY,
        ),
        (
            "(1005, 'Can\\'t create table `db`.`c` (errno: 121 \"Duplicate key on write or update\")')",
            E.DUPLICATE_KEY_NAME,
        ),
        (
            "SQLSTATE[HY000]: General error: 1824 Failed to open the referenced table 'maxims'",
            E.FOREIGN_KEY,
        ),
        ("Lock wait timeout exceeded; try restarting transaction", E.LOCK_WAIT_TIMEOUT),
    ],
)
def test_mysql_texts(text: str, cls: E) -> None:
    assert classify_error("mysql", text) is cls


@pytest.mark.parametrize(
    ("state", "cls"),
    [
        ("42701", E.DUPLICATE_COLUMN),
        ("42P07", E.DUPLICATE_TABLE),
        ("42703", E.UNKNOWN_COLUMN),
        ("42P01", E.UNKNOWN_TABLE),
        ("23503", E.FOREIGN_KEY),
        ("42830", E.FOREIGN_KEY),
        ("22001", E.DATA_TRUNCATION_OR_INVALID_DEFAULT),
        ("22007", E.DATA_TRUNCATION_OR_INVALID_DEFAULT),
        ("22P02", E.DATA_TRUNCATION_OR_INVALID_DEFAULT),
        ("42601", E.SYNTAX_ERROR),
        ("42501", E.PERMISSION_DENIED),
        ("55P03", E.LOCK_WAIT_TIMEOUT),
        ("40P01", E.LOCK_WAIT_TIMEOUT),
    ],
)
def test_postgres_sqlstates(state: str, cls: E) -> None:
    assert classify_error("postgresql", state) is cls


def test_postgres_context_from_the_statement() -> None:
    assert classify_error("postgresql", "42P07", "CREATE INDEX ix ON t (a)") is E.DUPLICATE_KEY_NAME
    assert classify_error("postgresql", "42P07", "CREATE TABLE t (a int)") is E.DUPLICATE_TABLE
    assert (
        classify_error(
            "postgresql",
            'SQLSTATE[42P01]: Undefined table: 7 ERROR:  relation "parents" does not exist',
            "create table c (p int references parents (id))",
        )
        is E.FOREIGN_KEY
    )
    assert (
        classify_error("postgresql", 'column "priority" of relation "x" already exists')
        is E.DUPLICATE_COLUMN
    )


@pytest.mark.parametrize(
    ("text", "cls"),
    [
        ("duplicate column name: priority", E.DUPLICATE_COLUMN),
        ("table users already exists", E.DUPLICATE_TABLE),
        ("index ix already exists", E.DUPLICATE_KEY_NAME),
        ("no such column: nope", E.UNKNOWN_COLUMN),
        ("no such table: main.nope", E.UNKNOWN_TABLE),
        ("no such index: nope", E.UNKNOWN_KEY),
        ('near "selec": syntax error', E.SYNTAX_ERROR),
        ("FOREIGN KEY constraint failed", E.FOREIGN_KEY),
        ("database is locked", E.LOCK_WAIT_TIMEOUT),
        ("attempt to write a readonly database", E.PERMISSION_DENIED),
        (
            "Cannot add a NOT NULL column with default value NULL",
            E.DATA_TRUNCATION_OR_INVALID_DEFAULT,
        ),
        ("something odd", E.OTHER),
    ],
)
def test_sqlite_texts(text: str, cls: E) -> None:
    assert classify_error("sqlite", text) is cls


def test_server_wording_round_trips_through_the_classifier() -> None:
    for dialect in ("mariadb", "mysql", "postgresql", "sqlite"):
        for key in (
            "duplicate_column",
            "duplicate_table",
            "unknown_table",
            "drop_missing_column",
            "unknown_column",
            "duplicate_key",
            "fk_missing_parent",
        ):
            err = server_error(dialect, key, table="t", column="c", name="n", ref="p")
            if dialect in ("mariadb", "mysql"):
                text = f"({err.code}, {err.message!r})"
            elif dialect == "postgresql":
                text = f"SQLSTATE {err.code}: {err.message}"
            else:
                text = err.message
            statement = {
                "fk_missing_parent": "create table x (a int references p (id))",
                "drop_missing_column": "alter table t drop c",
                "duplicate_key": "create index n on t (c)",
            }.get(key)
            assert classify_error(dialect, text, statement) is err.error_class, (dialect, key, err)
