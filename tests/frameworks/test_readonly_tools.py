"""Flyway and golang-migrate, read-only: hand-made tracking tables as those tools leave them."""

from __future__ import annotations

from pathlib import Path

from dbmedic import api
from dbmedic.frameworks.flyway import flyway_checksum
from dbtest import run_sql
from migration_helpers import run_cli

FLYWAY_TABLE = """
CREATE TABLE flyway_schema_history (installed_rank INT NOT NULL PRIMARY KEY, version VARCHAR(50),
 description VARCHAR(200) NOT NULL, type VARCHAR(20) NOT NULL, script VARCHAR(1000) NOT NULL,
 checksum INT, installed_by VARCHAR(100) NOT NULL,
 installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, execution_time INT NOT NULL,
 success BOOLEAN NOT NULL);
"""


def _flyway_project(root: Path) -> dict[str, str]:
    files = {
        "V1__create_users.sql": "CREATE TABLE users (id INT);\n",
        "V2__add_email.sql": "ALTER TABLE users ADD email VARCHAR(100);\n",
        "V3__create_orders.sql": "CREATE TABLE orders (id INT);\n",
        "V4__create_items.sql": "CREATE TABLE items (id INT);\n",
    }
    (root / "sql").mkdir()
    for name, body in files.items():
        (root / "sql" / name).write_text(body)
    return files


def test_flyway_history_with_a_failed_row_and_a_changed_file(tmp_path: Path, db_url: str) -> None:
    files = _flyway_project(tmp_path)
    rows = [
        (
            1,
            "1",
            "create users",
            "V1__create_users.sql",
            flyway_checksum(files["V1__create_users.sql"]),
            "TRUE",
        ),
        (2, "2", "add email", "V2__add_email.sql", 12345, "TRUE"),
        (
            3,
            "3",
            "create orders",
            "V3__create_orders.sql",
            flyway_checksum(files["V3__create_orders.sql"]),
            "FALSE",
        ),
    ]
    inserts = "".join(
        "INSERT INTO flyway_schema_history (installed_rank, version, description, type, script, checksum,"
        f" installed_by, execution_time, success) VALUES ({r}, '{v}', '{d}', 'SQL', '{s}', {c}, 'ci', 5, {ok});\n"
        for r, v, d, s, c, ok in rows
    )
    run_sql(db_url, FLYWAY_TABLE + inserts)

    report = api.status(tmp_path, db_url)

    assert report.framework == "flyway"
    assert [(m.id, m.state.value) for m in report.migrations] == [
        ("1", "applied"),
        ("2", "checksum-changed"),
        ("3", "failed"),
        ("4", "pending"),
    ]
    assert report.migrations[0].batch == 1 and report.migrations[0].applied_at


def test_flyway_checksum_ignores_line_endings() -> None:
    assert flyway_checksum("a\r\nb\r\n") == flyway_checksum("a\nb")
    assert flyway_checksum("\ufeffa\nb") == flyway_checksum("a\nb")


GOLANG_TABLE = "CREATE TABLE schema_migrations (version BIGINT NOT NULL PRIMARY KEY, dirty BOOLEAN NOT NULL);\n"


def _golang_project(root: Path) -> None:
    folder = root / "migrations"
    folder.mkdir()
    for n, name in enumerate(("users", "orders", "items"), 1):
        (folder / f"{n}_{name}.up.sql").write_text(f"CREATE TABLE {name} (id INT);\n")
        (folder / f"{n}_{name}.down.sql").write_text(f"DROP TABLE {name};\n")


def test_golang_migrate_dirty_version_is_failed(tmp_path: Path, db_url: str) -> None:
    _golang_project(tmp_path)
    run_sql(
        db_url, GOLANG_TABLE + "INSERT INTO schema_migrations (version, dirty) VALUES (2, TRUE);\n"
    )

    report = api.status(tmp_path, db_url)

    assert report.framework == "golang-migrate"
    assert [(m.id, m.state.value) for m in report.migrations] == [
        ("1", "applied"),
        ("2", "failed"),
        ("3", "pending"),
    ]


def test_schema_migrations_is_told_apart_by_its_columns(tmp_path: Path, db_url: str) -> None:
    """No files: the table alone decides between dbmate and golang-migrate."""
    run_sql(
        db_url, GOLANG_TABLE + "INSERT INTO schema_migrations (version, dirty) VALUES (3, FALSE);\n"
    )
    assert api.status(tmp_path, db_url).framework == "golang-migrate"


def test_dbmate_table_without_dbmate_files_is_dbmate(tmp_path: Path, db_url: str) -> None:
    run_sql(
        db_url,
        "CREATE TABLE schema_migrations (version VARCHAR(128) PRIMARY KEY);\n"
        "INSERT INTO schema_migrations (version) VALUES ('20240101000000');\n",
    )
    report = api.status(tmp_path, db_url)
    assert report.framework == "dbmate"
    assert [(m.id, m.state.value) for m in report.migrations] == [
        ("20240101000000", "missing-file")
    ]


def test_read_only_tools_are_not_run(tmp_path: Path) -> None:
    _golang_project(tmp_path)
    db = tmp_path / "x.sqlite3"
    db.touch()
    out = run_cli("migrate", "--app", str(tmp_path), "--db", f"sqlite:///{db}")
    assert out.returncode == 2
    assert "golang-migrate" in out.stderr and "own command" in out.stderr
