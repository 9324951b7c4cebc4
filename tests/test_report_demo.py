"""``dbmedic diagnose --report`` on the demo incident (SQLite, dbmate, 185 migrations, a 244-table
production): each format written by the CLI agrees with the diagnosis the same run printed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dbmedic import api
from migration_helpers import run_cli
from reportcheck import chromium, numbers_in, prose_numbers, screenshot, validate

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((ROOT / "docs/report.schema.json").read_text())
CRITICAL = "retell_call_sessions,conversation_flows,users"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return api.demo(tmp_path_factory.mktemp("demo") / "incident")


def diagnose(demo: Any, report: Path) -> dict[str, Any]:
    """Run the CLI; return the diagnosis it printed with --json (the facts of this run)."""
    out = run_cli(
        "diagnose", "--app", str(demo.app), "--db", demo.staging_url,
        "--reference", demo.production_url, "--critical", CRITICAL,
        "--report", str(report), "--json",
    )  # fmt: skip
    assert out.returncode == 1, out.stderr  # something needs repair
    assert report.is_file()
    facts: dict[str, Any] = json.loads(out.stdout)
    return facts


def test_markdown_report_of_the_demo(demo: Any, tmp_path: Path) -> None:
    facts = diagnose(demo, tmp_path / "r.md")
    md = (tmp_path / "r.md").read_text()
    failing = facts["failing"]
    assert failing["migration"]["id"] == demo.failing_version
    assert f"migration `{demo.failing_version}`" in md
    assert f"fails with `{failing['error']}`" in md
    assert "duplicate column" in md
    for line in facts["parity"]["lines"]:
        if not (line["present"] or line["expected"]):
            assert f"| {line['kind'].capitalize()} |" not in md  # 0 of 0: left out
            continue
        kind = line["kind"].replace("_", " ").capitalize()
        assert f"| {kind} | {line['present']:,} | {line['expected']:,} | {line['percent']}% |" in md
    tables = next(p for p in facts["parity"]["lines"] if p["kind"] == "tables")
    assert (tables["present"], tables["expected"]) == (facts["tables"], 244)
    blocked = facts["blocked"]
    assert (
        f"**Impact**: {blocked['count']} migrations blocked, which would create "
        f"{len(blocked['tables'])} tables; 2 of 3 critical tables missing" in md
    )
    assert f"| **Total** | **{facts['total']}** |" in md
    for site in facts["cause"]["creators"]:
        assert f"`{site['file']}:{site['line']}`" in md
    assert "fails at the same migration" in md  # the duplicate comes from an earlier migration
    recommended = facts["recommendation"]
    assert recommended["strategy"] == "resume"
    assert f"```bash\n{recommended['command']}\n```" in md
    # Every number in the prose is in this run's facts (or sums up the folded prefix groups).
    groups = blocked["by_prefix"][8:]
    known = numbers_in(facts) | {
        str(len(groups)),
        str(sum(len(g["migrations"]) for g in groups)),
        str(len({t for g in groups for t in g["tables"]})),
    }
    numbers = prose_numbers(md)
    strays = sorted(set(numbers) - known)
    assert not strays, strays


def test_json_report_of_the_demo(demo: Any, tmp_path: Path) -> None:
    facts = diagnose(demo, tmp_path / "r.json")
    out = json.loads((tmp_path / "r.json").read_text())
    validate(out, SCHEMA)
    assert (out["format"], out["kind"], out["facts_format"]) == (
        "dbmedic.report/1",
        "diagnosis",
        facts["format"],
    )
    assert set(out) - set(SCHEMA["properties"]) == set()
    stable = ("counts", "total", "tables", "failing", "cause", "blocked", "critical", "parity")
    assert {k: out[k] for k in stable} == {k: facts[k] for k in stable}


@pytest.mark.skipif(
    chromium() is None, reason="chromium is not installed (apt-get install chromium)"
)
def test_html_report_of_the_demo_renders_cleanly(demo: Any, tmp_path: Path) -> None:
    facts = diagnose(demo, tmp_path / "r.html")
    html = (tmp_path / "r.html").read_text()
    timeline = html.split("<svg", 2)[1]
    assert timeline.count("<rect") == facts["total"] + 4  # a mark per migration + legend
    assert f"failed: {demo.failing_version}" in timeline
    shot = screenshot(tmp_path / "r.html", tmp_path / "r.png")
    assert shot.png.is_file() and shot.png.stat().st_size > 100_000
    assert not shot.console, shot.console


def test_an_unknown_report_suffix_is_refused_before_any_work(demo: Any, tmp_path: Path) -> None:
    out = run_cli("diagnose", "--app", str(demo.app), "--report", str(tmp_path / "r.pdf"))
    assert out.returncode == 2
    assert out.stderr.startswith("dbmedic: cannot tell the report format of 'r.pdf'")
    assert list(tmp_path.iterdir()) == []
