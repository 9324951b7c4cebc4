"""``dbmedic status`` and ``dbmedic migrate`` as a user runs them: exit codes, --json, bad input."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from dbmedic.cli import app
from migration_helpers import run_cli, write_migrations

GOOD = {
    "20240101000000_a.sql": "-- migrate:up\ncreate table a (id int);\n-- migrate:down\ndrop table a;\n",
    "20240102000000_b.sql": "-- migrate:up\ncreate table b (id int);\n-- migrate:down\ndrop table b;\n",
}


def _project(tmp_path: Path) -> tuple[Path, str]:
    write_migrations(tmp_path, GOOD)
    db = tmp_path / "app.sqlite3"
    (tmp_path / ".env").write_text("DATABASE_URL=sqlite:app.sqlite3\n")
    db.touch()
    return tmp_path, f"sqlite:///{db}"


def test_status_json_before_and_after_migrate(tmp_path: Path) -> None:
    root, url = _project(tmp_path)
    runner = CliRunner()

    before = runner.invoke(app, ["status", "--app", str(root), "--json"])
    assert before.exit_code == 1, before.output
    data = json.loads(before.stdout)
    assert data["framework"] == "dbmate" and data["counts"]["pending"] == 2 and data["tables"] == 0

    done = runner.invoke(app, ["migrate", "--app", str(root), "--db", url, "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["applied"] == ["20240101000000", "20240102000000"]

    after = runner.invoke(app, ["status", "--app", str(root), "--json"])
    assert after.exit_code == 0
    data = json.loads(after.stdout)
    assert data["counts"]["applied"] == 2 and data["tables"] == 3 and data["ok"] is True


def test_status_table_folds_long_lists(tmp_path: Path) -> None:
    files = {
        f"2024010100{n:04d}_m{n}.sql": f"-- migrate:up\ncreate table t{n} (id int);\n-- migrate:down\n"
        for n in range(60)
    }
    write_migrations(tmp_path, files)
    db = tmp_path / "x.sqlite3"
    db.touch()
    result = CliRunner().invoke(app, ["status", "--app", str(tmp_path), "--db", f"sqlite:///{db}"])
    assert "… 57 more pending" in result.stdout
    assert result.stdout.count("pending") < 10


def test_no_app_folder(tmp_path: Path) -> None:
    out = run_cli("status", "--app", str(tmp_path / "nope"), "--db", "sqlite:///x.db")
    assert out.returncode == 2
    assert "does not exist" in out.stderr and "Traceback" not in out.stderr


def test_no_migrations_folder(tmp_path: Path) -> None:
    db = tmp_path / "x.sqlite3"
    db.touch()
    out = run_cli(
        "migrate", "--app", str(tmp_path), "--db", f"sqlite:///{db}", "--framework", "dbmate"
    )
    assert out.returncode == 2
    assert "no migrations folder db/migrations" in out.stderr


def test_unknown_framework(tmp_path: Path) -> None:
    out = run_cli("status", "--app", str(tmp_path), "--framework", "rails")
    assert out.returncode == 2 and "unknown framework 'rails'" in out.stderr


def test_unrecognised_tracking_table(tmp_path: Path) -> None:
    import sqlite3

    root, _url = _project(tmp_path)
    with sqlite3.connect(root / "app.sqlite3") as conn:
        conn.execute("create table schema_migrations (id int, applied text)")
    out = run_cli("status", "--app", str(root))
    assert out.returncode == 2
    assert "is not dbmate's tracking table" in out.stderr


def test_unparseable_migration_changes_nothing(tmp_path: Path) -> None:
    import sqlite3

    root, _url = _project(tmp_path)
    write_migrations(
        root,
        {
            "20240103000000_c.sql": "-- migrate:up\ncreate table c (id int);\ninsert into c values ('x);\n-- migrate:down\n"
        },
    )
    out = run_cli("migrate", "--app", str(root))
    assert out.returncode == 2
    assert "db/migrations/20240103000000_c.sql:3: unterminated string" in out.stderr
    with sqlite3.connect(root / "app.sqlite3") as conn:
        assert (
            conn.execute("select count(*) from sqlite_master where type = 'table'").fetchone()[0]
            == 0
        )
