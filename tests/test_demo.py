"""``dbmedic demo`` in a subprocess: fast, exit 0, and every number it prints is in the databases."""

from __future__ import annotations

import re
import sqlite3
import time
from pathlib import Path

from dbmedic.demo.spec import incident_app
from migration_helpers import run_cli


def _tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("select name from sqlite_master where type = 'table'").fetchall()
    return {r[0] for r in rows if not r[0].startswith("sqlite_")} - {"dbmedic_migration_journal"}


def test_demo_shows_the_incident_with_real_counts(tmp_path: Path) -> None:
    started = time.monotonic()
    out = run_cli("demo", "--dir", str(tmp_path / "demo"))
    seconds = time.monotonic() - started

    assert out.returncode == 0, out.stderr
    assert seconds < 20
    text = " ".join(out.stdout.split())
    assert "2025_10_23_162250" in text
    assert re.search(r"duplicate column", text, re.IGNORECASE)
    staging = _tables(tmp_path / "demo/app/db/staging.sqlite3")
    production = _tables(tmp_path / "demo/production.sqlite3")
    assert f"{len(staging)} tables" in text
    assert f"tables {len(staging & production)}/{len(production)}" in text
    assert len(staging - production) == 0
    spec = incident_app()
    assert len(production) == len(spec.tables()) + 1  # + schema_migrations
    assert len(staging) == len(spec.tables(spec.failing)) + 1
    # the real diff and verify: every kind of object, dbmedic's journal never an extra table
    for kind in ("columns", "indexes", "foreign keys"):
        assert re.search(rf"{kind} \d+/\d+ \(", text), kind
    assert "dbmedic_migration_journal (" not in text.split("dbmedic diff")[1]
    assert "extra tables" not in text and "1 of 2 checks failed" in text
    # next steps: diff SOURCE(production) TARGET(staging), diagnose, fix --dry-run
    assert "cd " + str(tmp_path / "demo") in text
    assert "dbmedic diff sqlite:///production.sqlite3 sqlite:///app/db/staging.sqlite3" in text
    assert "dbmedic diagnose --app app --reference sqlite:///production.sqlite3" in text
    assert re.search(r"dbmedic fix --strategy sync --app app .*--dry-run", text)


def test_demo_refuses_a_folder_with_other_files(tmp_path: Path) -> None:
    (tmp_path / "mine.txt").write_text("keep me")
    out = run_cli("demo", "--dir", str(tmp_path))
    assert out.returncode == 2 and "not empty" in out.stderr
    assert (tmp_path / "mine.txt").read_text() == "keep me"


def test_spec_renders_for_every_family() -> None:
    from dbmedic.demo.render_dbmate import families, render

    spec = incident_app()
    for family in families():
        files = render(spec, family)
        assert len(files) == len(spec.migrations)
        assert all(
            text.startswith("-- migrate:up\n") and "-- migrate:down" in text
            for text in files.values()
        )
    current = render(spec, "sqlite")
    production = render(spec, "sqlite", era="production")
    changed = [name for name in current if current[name] != production[name]]
    assert len(changed) == 1 and "create_policy_configurations" in changed[0]
