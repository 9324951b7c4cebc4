"""Reports: Markdown figures agree with the facts and with each other, HTML renders in Chromium
without console errors, JSON validates against docs/report.schema.json, no secret anywhere."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

from dbmedic import report
from dbmedic.diagnosis import Diagnosis, Evidence, Phase, Recommendation, TimelineEntry
from dbmedic.diagnosis_example import example_diagnosis
from dbmedic.errors import ConfigError
from dbmedic.model import MigrationState
from dbmedic.report import svg
from dbmedic.report.adapt import to_view
from reportcheck import chromium, numbers_in, png_size, prose_numbers, screenshot, validate

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((ROOT / "docs/report.schema.json").read_text())
TAKEN_AT = "2025-10-26T14:03:11Z"


@pytest.fixture
def facts() -> Diagnosis:
    return dataclasses.replace(example_diagnosis(), taken_at=TAKEN_AT)


def healthy() -> Diagnosis:
    """Every migration applied, nothing to repair."""
    d = example_diagnosis()
    timeline = tuple(
        TimelineEntry(
            f"2020_01_01_{i:06d}_m", f"m{i}.sql", MigrationState.APPLIED, Phase.APPLIED, 1
        )
        for i in range(12)
    )
    return dataclasses.replace(
        d,
        counts={**d.counts, "applied": 12, "pending": 0},
        total=12,
        last_applied=None,
        failing=None,
        cause=None,
        blocked=dataclasses.replace(d.blocked, migrations=(), tables=(), by_batch=(), by_prefix=()),
        critical=(),
        parity=None,
        options=(),
        guard=None,
        recommendation=Recommendation(None, "", "nothing to repair"),
        timeline=timeline,
        taken_at=TAKEN_AT,
    )


# --- Markdown ----------------------------------------------------------------------------------


def _section(md: str, title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", md, re.S | re.M)
    assert match, f"no section {title!r}"
    return match.group(1)


def _table(text: str, first_header: str) -> list[list[str]]:
    """Rows (cells stripped of ** and `) of the Markdown table whose header starts so."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"| {first_header} |"))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        cells = [c.strip().strip("*").strip("`") for c in line.strip("|").split(" | ")]
        rows.append(cells)
    return rows


def _int(text: str) -> int:
    return int(text.replace(",", ""))


def test_markdown_has_the_seed_reports_sections_in_order(facts: Diagnosis) -> None:
    md = report.render(facts, "md")
    titles = re.findall(r"^## (.+)$", md, re.M)
    assert titles == [
        "Executive summary",
        "What happened",
        "Why it failed",
        "Critical tables",
        "Options",
        "How to execute",
        "Rollback plan",
        "Make the migration idempotent",
    ]
    assert md.startswith("# staging: migration diagnosis (2025-10-26)\n")
    assert "seed report" not in md.lower()


def test_markdown_figures_match_the_facts(facts: Diagnosis) -> None:
    md = report.render(facts, "md")
    summary = _section(md, "Executive summary")
    assert facts.parity is not None
    parity = {row[0].lower(): row[1:] for row in _table(summary, "Object kind")}
    for line in facts.parity.lines:
        current, expected, percent = parity[line.kind.replace("_", " ")]
        assert (_int(current), _int(expected)) == (line.present, line.expected)
        assert float(percent.rstrip("%")) == line.percent

    phases = [e.phase for e in facts.timeline]
    counts = {row[0]: _int(row[1]) for row in _table(summary, "Migrations")}
    assert counts["Applied"] == phases.count(Phase.APPLIED) == facts.counts["applied"]
    assert counts["Failed"] == 1
    assert counts["Blocked (after the failure)"] == facts.blocked.count
    assert counts["Total"] == facts.total == len(facts.timeline)
    # The tracking table's own view: the failing and the blocked migrations are pending there.
    assert f"records {facts.counts['applied']} applied, {facts.counts['pending']} pending" in md
    assert facts.counts["pending"] == counts["Failed"] + counts["Blocked (after the failure)"]

    impact = re.search(
        r"\*\*Impact\*\*: (\d+) migrations blocked, which would create (\d+) tables; (\d+) of (\d+) critical",
        summary,
    )
    assert impact, summary
    assert _int(impact[1]) == facts.blocked.count
    assert _int(impact[2]) == len(facts.blocked.tables)
    assert _int(impact[3]) == sum(not c.present for c in facts.critical)
    assert _int(impact[4]) == len(facts.critical)
    assert facts.failing is not None
    assert f"migration `{facts.failing.migration.id}`" in summary
    assert f"`{facts.failing.error}`" in summary

    happened = _section(md, "What happened")
    rows = _table(happened, "Phase")
    assert sum(_int(r[1]) for r in rows if r[0] != "Total") == facts.total
    assert _int(next(r for r in rows if r[0] == "Total")[1]) == facts.total
    blocked_row = next(r for r in rows if r[0] == "Blocked")
    assert _int(blocked_row[1]) == facts.blocked.count
    assert _int(blocked_row[2]) == len(facts.blocked.tables)
    assert f"applied {facts.counts['applied']} of {facts.total} migrations" in happened
    assert f"the {facts.blocked.count} migrations after it never ran" in happened

    why = _section(md, "Why it failed")
    assert facts.cause is not None
    for site in facts.cause.creators:
        assert f"`{site.file}:{site.line}`" in why
    assert "fails at the same migration" in why  # reset is rehearsed to fail there

    critical = {r[0]: r for r in _table(_section(md, "Critical tables"), "Table")}
    for c in facts.critical:
        assert c.creator is not None
        assert critical[c.table][1] == c.creator.migration
        assert ("present" if c.present else "missing") in critical[c.table][2]

    options = _section(md, "Options")
    blocks = re.split(r"^### Option [A-Z]: ", options, flags=re.M)[1:]
    assert len(blocks) == len(facts.options)
    for o, block in zip(facts.options, blocks, strict=True):
        assert f"`{o.command}`" in block
        verdict = "succeeds" if o.predicted_ok else "fails"
        assert re.search(rf"\*\*Rehearsal\*\*: (likely )?{verdict}", block), block
        if o.seconds is not None:
            assert f"about {o.seconds:.1f} s" in block
    assert "(recommended)" in options
    recommended = facts.option(facts.recommendation.strategy or "")
    assert recommended is not None
    assert f"```bash\n{facts.recommendation.command}\n```" in _section(md, "How to execute")


def test_every_number_in_the_markdown_comes_from_the_facts(facts: Diagnosis) -> None:
    """No typed figure: each number in the prose and tables occurs in the facts' JSON."""
    md = report.render(facts, "md")
    numbers = prose_numbers(md)
    assert len(numbers) > 30, numbers
    strays = sorted(set(numbers) - numbers_in(facts.to_dict()))
    assert not strays, f"numbers not in the facts: {strays}"


def test_a_healthy_database_reports_without_failure_sections() -> None:
    d = healthy()
    md = report.render(d, "md")
    assert "none failed" in md
    assert "## Why it failed" not in md and "## Options" not in md
    assert "All 12 migrations applied. Nothing to repair." in md
    html = report.render(d, "html")
    assert "Failure point" in html and "none" in html
    validate(json.loads(report.render(d, "json")), SCHEMA)


def test_simulated_only_says_so(facts: Diagnosis) -> None:
    d = dataclasses.replace(
        facts,
        evidence=Evidence.SIMULATED,
        shadow_note="the user app has no CREATE privilege, so no shadow database was made.",
    )
    md = report.render(d, "md")
    assert "These predictions are simulated, not rehearsed: the user app has no CREATE" in md


# --- secrets -----------------------------------------------------------------------------------


def test_no_secret_in_any_format(facts: Diagnosis, tmp_path: Path) -> None:
    from dbmedic.secrets import remember

    password = "Sup3r-s3cret-pw"
    url = f"mysql+pymysql://app:{password}@db.internal:3306/staging"
    remember(password)  # as connect does with every password it meets
    d = dataclasses.replace(
        facts,
        target=url,
        recommendation=dataclasses.replace(
            facts.recommendation, command=f"dbmedic fix --strategy resume --db {url}"
        ),
        options=tuple(
            dataclasses.replace(o, command=f"dbmedic fix --db {url}") for o in facts.options
        ),
        shadow_note=f"cannot create a shadow on {url} (password {password} rejected)",
        parity=dataclasses.replace(facts.parity, reference=f"postgresql://ro:{password}@prod/x")
        if facts.parity
        else None,
    )
    for fmt in ("md", "html", "json"):
        text = report.render(d, fmt)
        assert password not in text, fmt
        assert "app:***@db.internal:3306/staging" in text, fmt
        path = report.write(d, tmp_path / f"r.{fmt}")
        assert password not in path.read_text()


def test_a_url_password_is_redacted_even_when_never_remembered(facts: Diagnosis) -> None:
    d = dataclasses.replace(facts, target="postgresql+psycopg://u:never-seen-9@h/db")
    for fmt in ("md", "html", "json"):
        assert "never-seen-9" not in report.render(d, fmt)


# --- HTML --------------------------------------------------------------------------------------


def test_html_is_self_contained(facts: Diagnosis) -> None:
    html = report.render(facts, "html")
    assert html.startswith("<!DOCTYPE html>")
    assert "<script" not in html and "<link" not in html and "@import" not in html
    assert "url(" not in html
    external = set(re.findall(r"https?://[^\s\"'<>]+", html)) - {"http://www.w3.org/2000/svg"}
    assert not external
    assert not re.search(r"\s(src|href)=", html)
    assert html.count("<svg") == 2
    # one mark per migration, plus the four legend swatches
    timeline = html.split("<svg", 2)[1]
    assert timeline.count("<rect") == facts.total + 4
    assert "failed: 2025_10_23_162250_add_priority_to_policy_configurations" in timeline


def test_html_escapes_what_comes_from_the_database(facts: Diagnosis) -> None:
    assert facts.failing is not None
    d = dataclasses.replace(
        facts, failing=dataclasses.replace(facts.failing, error="<script>alert(1)</script> & 'x'")
    )
    html = report.render(d, "html")
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp;" in html
    md = report.render(d, "md")
    assert "| failed: <script>alert(1)</script> & 'x' |" in md


@pytest.mark.skipif(
    chromium() is None, reason="chromium is not installed (apt-get install chromium)"
)
def test_html_renders_in_chromium_without_console_errors(facts: Diagnosis, tmp_path: Path) -> None:
    page = report.write(facts, tmp_path / "report.html")
    shot = screenshot(page, tmp_path / "report.png")
    assert shot.png.is_file(), shot.stderr[-2000:]
    assert png_size(shot.png) == (1280, 2000)
    assert not shot.console, shot.console
    # Non-trivial: far more detail than a blank page of the same size.
    blank = tmp_path / "blank.html"
    blank.write_text("<!DOCTYPE html><html><body></body></html>")
    empty = screenshot(blank, tmp_path / "blank.png")
    assert shot.png.stat().st_size > 10 * empty.png.stat().st_size


@pytest.mark.skipif(
    chromium() is None, reason="chromium is not installed (apt-get install chromium)"
)
def test_the_console_check_catches_errors(tmp_path: Path) -> None:
    """The check above can fail: a page with a script error and a network reference is caught."""
    page = tmp_path / "bad.html"
    page.write_text(
        "<!DOCTYPE html><html><head><meta http-equiv='Content-Security-Policy' "
        "content=\"default-src 'none'\"><link rel='stylesheet' href='https://example.invalid/x.css'>"
        "</head><body><script>undefinedFn()</script></body></html>"
    )
    shot = screenshot(page, tmp_path / "bad.png", "400,300")
    assert shot.console


# --- timeline geometry -------------------------------------------------------------------------


@pytest.mark.parametrize(("n", "rows"), [(12, 1), (60, 1), (185, 4), (1000, 20), (2500, 25)])
def test_timeline_folds_into_rows_with_one_mark_per_migration(n: int, rows: int) -> None:
    d = example_diagnosis()
    timeline = (
        *tuple(
            TimelineEntry(f"m{i}", None, MigrationState.APPLIED, Phase.APPLIED)
            for i in range(n - 1)
        ),
        TimelineEntry("last", None, MigrationState.PENDING, Phase.FAILED),
    )
    picture = svg.timeline(to_view(dataclasses.replace(d, timeline=timeline, total=n)))
    marks = [r for r in picture.rects if r.title.startswith("#")]
    assert len(marks) == n
    assert len({round(r.y) for r in marks}) == rows
    assert max(r.x + r.w for r in marks) <= svg.WIDTH
    assert [t.text for t in picture.texts if t.text.startswith("failed:")] == ["failed: last"]


# --- JSON --------------------------------------------------------------------------------------


def test_json_is_the_facts_with_a_versioned_format(facts: Diagnosis) -> None:
    out = json.loads(report.render(facts, "json"))
    assert out["format"] == report.JSON_FORMAT == "dbmedic.report/1"
    assert out["kind"] == "diagnosis"
    expected = facts.to_dict()
    assert out["facts_format"] == expected.pop("format")
    assert {k: v for k, v in out.items() if k not in ("format", "kind", "facts_format")} == expected
    validate(out, SCHEMA)


def test_json_schema_documents_every_field(facts: Diagnosis) -> None:
    out = json.loads(report.render(facts, "json"))
    undocumented = set(out) - set(SCHEMA["properties"])
    assert not undocumented, f"add these to docs/report.schema.json: {undocumented}"


def test_the_schema_check_can_fail(facts: Diagnosis) -> None:
    out = json.loads(report.render(facts, "json"))
    out["total"] = "185"
    with pytest.raises(AssertionError, match=r"\$\.total"):
        validate(out, SCHEMA)


# --- write -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["r.md", "r.html", "R.JSON", "r.markdown"])
def test_write_picks_the_format_by_suffix(facts: Diagnosis, tmp_path: Path, name: str) -> None:
    path = report.write(facts, tmp_path / name)
    text = path.read_text()
    fmt = report.format_for(name)
    assert text == report.render(facts, fmt)
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # no temporary left


def test_write_refuses_an_unknown_suffix_and_a_missing_folder(
    facts: Diagnosis, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError, match=r"\.md, \.html or \.json"):
        report.write(facts, tmp_path / "r.pdf")
    with pytest.raises(ConfigError, match="does not exist"):
        report.write(facts, tmp_path / "nope" / "r.md")
    assert list(tmp_path.iterdir()) == []


def test_write_replaces_an_existing_report_whole(facts: Diagnosis, tmp_path: Path) -> None:
    path = tmp_path / "r.md"
    path.write_text("old " * 100_000)
    report.write(facts, path)
    assert path.read_text() == report.render(facts, "md")


def test_conflicts_are_shown_with_their_data_keeping_repair(facts: Diagnosis) -> None:
    from dbmedic.diagnosis import Conflict

    conflict = Conflict(
        "column",
        "policy_configurations.priority",
        "2025_10_23_162250_add_priority_to_policy_configurations",
        ("type varchar(20) vs int", "nullable yes vs no"),
        ("rename it to priority_old", "let the migration create it", "copy the data back"),
    )
    d = dataclasses.replace(facts, conflicts=(conflict,))
    md = report.render(d, "md")
    section = _section(md, "Conflicts")
    assert "- type varchar(20) vs int" in section
    assert "1. rename it to priority_old\n2. let the migration create it" in section
    assert "1 conflicting object(s)" in md
    assert "<li>nullable yes vs no</li>" in report.render(d, "html")
