"""Splitting migration files into statements (pure) and the runner's resume point."""

from __future__ import annotations

import pytest

from dbmedic.errors import MigrationError
from dbmedic.runner import DONE, JournalEntry, SqlMigration, resume_point
from dbmedic.sqlsplit import Statement, split_statements


def texts(script: str, family: str) -> list[str]:
    return [s.text for s in split_statements(script, family)]


def test_mysql_trigger_and_procedure_bodies_stay_whole() -> None:
    script = """
CREATE TRIGGER orders_ai AFTER INSERT ON orders FOR EACH ROW
BEGIN
  IF NEW.total > 100 THEN
    UPDATE stats SET big = big + 1;
  END IF;
  UPDATE stats SET kind = CASE WHEN NEW.total > 0 THEN 'paid' ELSE 'free' END;
END;
CREATE PROCEDURE p() BEGIN DECLARE i INT DEFAULT 0; lbl: LOOP SET i = i + 1; IF i > 3 THEN LEAVE lbl; END IF; END LOOP lbl; END;
SELECT 1;
"""
    out = texts(script, "mysql")
    assert len(out) == 3
    assert out[0].startswith("CREATE TRIGGER") and out[0].endswith("END")
    assert out[1].startswith("CREATE PROCEDURE") and out[1].endswith("END")
    assert out[2] == "SELECT 1"


def test_mysql_delimiter_blocks() -> None:
    script = "DELIMITER //\nCREATE FUNCTION f() RETURNS INT BEGIN RETURN 1; END//\nDELIMITER ;\nSELECT f();\n"
    assert texts(script, "mysql") == [
        "CREATE FUNCTION f() RETURNS INT BEGIN RETURN 1; END",
        "SELECT f()",
    ]


def test_postgres_dollar_quotes_and_nested_comments() -> None:
    script = (
        "CREATE FUNCTION t() RETURNS trigger AS $body$ BEGIN NEW.a := 'x;y'; RETURN NEW; END $body$ LANGUAGE plpgsql;\n"
        "/* outer /* inner; */ still comment; */ SELECT $$;$$, E'it\\'s;';\n"
        "DO $$ BEGIN PERFORM 1; END $$;"
    )
    out = texts(script, "postgresql")
    assert len(out) == 3
    assert out[0].endswith("LANGUAGE plpgsql")
    assert out[1] == "SELECT $$;$$, E'it\\'s;'"


def test_sqlite_trigger_with_case_expression() -> None:
    script = (
        "CREATE TRIGGER t AFTER UPDATE ON a BEGIN UPDATE b SET s = CASE WHEN NEW.x THEN 1 ELSE 0 END; "
        'DELETE FROM c; END;\nCREATE TABLE [odd;name] ("x;" int);'
    )
    assert len(texts(script, "sqlite")) == 2


@pytest.mark.parametrize("family", ["mysql", "postgresql", "sqlite"])
def test_comments_and_strings_with_semicolons(family: str) -> None:
    script = "-- a; comment\nINSERT INTO t VALUES ('a;b', 'it''s; fine'); /* c; */\n-- trailing;\n"
    assert texts(script, family) == ["INSERT INTO t VALUES ('a;b', 'it''s; fine')"]


def test_lines_are_counted_from_the_files_first_line() -> None:
    script = "\n\nCREATE TABLE a (id int);\n\n  CREATE TABLE b (id int);"
    assert [s.line for s in split_statements(script, "sqlite", first_line=5)] == [7, 9]


def test_unterminated_string_names_file_and_line() -> None:
    with pytest.raises(MigrationError, match=r"^x\.sql:4: unterminated string") as err:
        split_statements("SELECT 1;\nSELECT 'oops;\n", "mysql", file="x.sql", first_line=3)
    assert err.value.line == 4


def test_begin_without_end_is_an_error() -> None:
    with pytest.raises(MigrationError, match="no matching END"):
        split_statements("CREATE TRIGGER t AFTER INSERT ON a BEGIN UPDATE b SET x = 1;", "sqlite")


def _migration(*statements: str) -> SqlMigration:
    return SqlMigration("1", "m.sql", tuple(Statement(s, i + 1) for i, s in enumerate(statements)))


def test_resume_point_counts_leading_done_statements() -> None:
    m = _migration("a", "b", "c")
    entries = [JournalEntry("1", i, m.statements[i].sha, DONE, None, "") for i in (0, 1)]
    assert resume_point(m, entries) == 2
    assert resume_point(m, []) == 0


def test_resume_point_refuses_an_edited_statement() -> None:
    before = _migration("a", "b", "c")
    entries = [JournalEntry("1", 0, before.statements[0].sha, DONE, None, "")]
    with pytest.raises(MigrationError, match="changed"):
        resume_point(_migration("a2", "b", "c"), entries)


def test_delimiter_made_of_name_characters_ends_the_routine() -> None:
    """`END$$` ends the statement although `$` may also appear inside MySQL names."""
    from dbmedic.sqlsplit import split_statements

    script = (
        "DELIMITER $$\nCREATE TRIGGER t1 BEFORE INSERT ON a FOR EACH ROW BEGIN SET NEW.x = 1; END$$\n"
        "DELIMITER ;\nCREATE TABLE b (id int);\n"
    )
    texts = [s.text for s in split_statements(script, "mysql")]
    assert texts == [
        "CREATE TRIGGER t1 BEFORE INSERT ON a FOR EACH ROW BEGIN SET NEW.x = 1; END",
        "CREATE TABLE b (id int)",
    ]
