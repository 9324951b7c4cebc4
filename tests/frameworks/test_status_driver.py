"""``dbmedic status`` reads through the database driver: SQLAlchemy is never imported.

Importing SQLAlchemy and its first connect cost ~0.2 s, more than the whole status of a
185-migration app (bench/status.py); Typer and Click are not loaded either. Each framework's
history is made here as the tool leaves it (a tracking table with some rows, files on disk),
then ``dbmedic status --json`` runs in a fresh interpreter, which reports the modules it
imported; the states must be the right ones, so the driver path is checked for what it reads
too (booleans, integers, the journal).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from dbmedic import api
from dbmedic.driver import DbUrl
from dbtest import run_sql
from migration_helpers import run_cli_modules, write_migrations

ROOTS_OF_SLOW_IMPORTS = ("sqlalchemy", "typer", "click", "rich", "pygments", "markdown_it")
"""SQLAlchemy; Typer and Click (a plain status command line runs without them: dbmedic.cli.fast);
Rich and what it pulls in (not needed for --json)."""


def _laravel(root: Path, url: str, copy: Callable[[str], Path]) -> tuple[Path, list[str]]:
    """Two migrations recorded in batch 1, the rest pending; the database from the app's .env."""
    app = copy("laravel8")
    run_sql(
        url,
        "CREATE TABLE migrations (id INTEGER PRIMARY KEY, migration VARCHAR(255) NOT NULL,"
        " batch INTEGER NOT NULL);\n"
        "INSERT INTO migrations (id, migration, batch) VALUES"
        " (1, '2014_10_12_000000_create_users_table', 1),"
        " (2, '2019_08_19_000000_create_failed_jobs_table', 1);\n",
    )
    parsed = DbUrl.parse(url)
    if parsed.get_backend_name() == "sqlite":
        env = f"DB_CONNECTION=sqlite\nDB_DATABASE={parsed.database}\n"
    else:
        env = (
            f"DB_CONNECTION=mysql\nDB_HOST={parsed.host}\nDB_PORT={parsed.port}\n"
            f"DB_DATABASE={parsed.database}\nDB_USERNAME={parsed.username}\nDB_PASSWORD=\n"
        )
    (app / ".env").write_text(env)
    return app, ["applied", "applied", "pending", "pending", "pending", "pending"]


def _django(root: Path, url: str, copy: Callable[[str], Path]) -> tuple[Path, list[str]]:
    app = copy("django_shop")
    run_sql(
        url,
        "CREATE TABLE django_migrations (id INTEGER PRIMARY KEY, app VARCHAR(255) NOT NULL,"
        " name VARCHAR(255) NOT NULL, applied TIMESTAMP NOT NULL);\n"
        "INSERT INTO django_migrations (id, app, name, applied) VALUES"
        " (1, 'catalog', '0001_initial', '2025-10-23 16:00:00');\n",
    )
    return app, []  # the order of Django's plan is its own; checked by count below


def _alembic(root: Path, url: str, copy: Callable[[str], Path]) -> tuple[Path, list[str]]:
    app = copy("alembic_app")
    run_sql(
        url,
        "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY);\n"
        "INSERT INTO alembic_version (version_num) VALUES ('2b3c4d5e6f02');\n",
    )
    return app, ["applied", "applied", "pending", "pending"]


def _dbmate(root: Path, url: str, copy: Callable[[str], Path]) -> tuple[Path, list[str]]:
    """The second migration fails at its second statement: dbmedic's journal says so."""
    write_migrations(
        root,
        {
            "20240101000000_a.sql": "-- migrate:up\nCREATE TABLE a (id INT);\n",
            "20240102000000_b.sql": "-- migrate:up\nCREATE TABLE b (id INT);\n"
            "INSERT INTO missing_table VALUES (1);\n",
            "20240103000000_c.sql": "-- migrate:up\nCREATE TABLE c (id INT);\n",
        },
    )
    result = api.migrate(root, url, "dbmate")
    assert result.result.failed == "20240102000000"
    return root, ["applied", "failed", "pending"]


def _three_files(folder: Path, name: str) -> None:
    """Migrations 1 to 3 named ``name.format(n)``, each creating table t<n>."""
    folder.mkdir()
    for n in (1, 2, 3):
        (folder / name.format(n)).write_text(f"CREATE TABLE t{n} (id INT);\n")


def _flyway(root: Path, url: str, copy: Callable[[str], Path]) -> tuple[Path, list[str]]:
    _three_files(root / "sql", "V{0}__t{0}.sql")
    run_sql(
        url,
        "CREATE TABLE flyway_schema_history (installed_rank INT NOT NULL PRIMARY KEY,"
        " version VARCHAR(50), description VARCHAR(200) NOT NULL, type VARCHAR(20) NOT NULL,"
        " script VARCHAR(1000) NOT NULL, checksum INT, installed_by VARCHAR(100) NOT NULL,"
        " installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, execution_time INT NOT NULL,"
        " success BOOLEAN NOT NULL);\n"
        "INSERT INTO flyway_schema_history (installed_rank, version, description, type, script,"
        " checksum, installed_by, execution_time, success) VALUES"
        " (1, '1', 't1', 'SQL', 'V1__t1.sql', NULL, 'ci', 5, TRUE),"
        " (2, '2', 't2', 'SQL', 'V2__t2.sql', NULL, 'ci', 5, FALSE);\n",
    )
    return root, ["applied", "failed", "pending"]


def _golang_migrate(root: Path, url: str, copy: Callable[[str], Path]) -> tuple[Path, list[str]]:
    _three_files(root / "migrations", "{0}_t{0}.up.sql")
    run_sql(
        url,
        "CREATE TABLE schema_migrations (version BIGINT NOT NULL PRIMARY KEY,"
        " dirty BOOLEAN NOT NULL);\n"
        "INSERT INTO schema_migrations (version, dirty) VALUES (2, TRUE);\n",
    )
    return root, ["applied", "failed", "pending"]


PROJECTS = {
    "laravel": _laravel,
    "django": _django,
    "alembic": _alembic,
    "dbmate": _dbmate,
    "flyway": _flyway,
    "golang-migrate": _golang_migrate,
}


@pytest.mark.backend("sqlite", "mariadb")
@pytest.mark.parametrize("framework", list(PROJECTS))
def test_status_reads_without_sqlalchemy(
    framework: str,
    db_url: str,
    tmp_path: Path,
    copy_fixture: Callable[[str], Path],
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    app, states = PROJECTS[framework](project, db_url, copy_fixture)
    db_args = [] if framework == "laravel" else ["--db", db_url]  # Laravel: its .env

    out, modules = run_cli_modules("status", "--app", str(app), *db_args, "--json")

    assert out.returncode == 1, out.stderr
    data = json.loads(out.stdout)
    assert data["framework"] == framework
    got = [m["state"] for m in data["migrations"]]
    if states:
        assert got == states
    else:
        assert got.count("applied") == 1 and got.count("pending") == len(got) - 1
    slow = sorted(m for m in modules if m.split(".")[0] in ROOTS_OF_SLOW_IMPORTS)
    assert slow == [], f"status imported {slow[:5]}"
    assert "dbmedic.model" not in modules  # the schema classes: status needs only migrations


@pytest.mark.backend("mariadb")
def test_status_table_output_reads_without_sqlalchemy(db_url: str, tmp_path: Path) -> None:
    """The Rich table needs Rich, still neither SQLAlchemy nor Typer."""
    root, _states = _golang_migrate(tmp_path, db_url, lambda name: tmp_path)

    out, modules = run_cli_modules("status", "--app", str(root), "--db", db_url)

    assert out.returncode == 1, out.stderr
    assert "failed" in out.stdout and "golang-migrate" in out.stdout
    assert "sqlalchemy" not in modules and "typer" not in modules and "rich.table" in modules
