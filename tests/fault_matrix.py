"""The fault matrix of tests/test_faults.py: rows written per worker, printed at the end.

Each fault test appends rows (backend, strategy, fault, point, outcome) to
``build/fault-matrix/<backend>-<strategy>.json``; the controller's ``pytest_terminal_summary``
(imported by conftest.py) joins them into ``build/fault-matrix.md`` and prints it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent / "build"
PARTS = ROOT / "fault-matrix"


def save(backend: str, strategy: str, rows: list[dict[str, str]]) -> None:
    PARTS.mkdir(parents=True, exist_ok=True)
    (PARTS / f"{backend}-{strategy}.json").write_text(json.dumps(rows, indent=1))


def render() -> str | None:
    if not PARTS.is_dir():
        return None
    out: list[str] = []
    for part in sorted(PARTS.glob("*.json")):
        rows: list[dict[str, str]] = json.loads(part.read_text())
        if not rows:
            continue
        points = list(dict.fromkeys(r["point"] for r in rows))
        faults = list(dict.fromkeys(r["fault"] for r in rows))
        cell = {(r["fault"], r["point"]): r["outcome"] for r in rows}
        out.append(f"### {rows[0]['backend']}, fix --strategy {rows[0]['strategy']}\n")
        out.append("| fault | " + " | ".join(points) + " |")
        out.append("|---|" + "---|" * len(points))
        for fault in faults:
            out.append(
                f"| {fault} | " + " | ".join(cell.get((fault, p), "") for p in points) + " |"
            )
        out.append("")
    return "\n".join(out) if out else None


def pytest_terminal_summary(terminalreporter: Any) -> None:
    text = render()
    if text is None:
        return
    (ROOT / "fault-matrix.md").write_text(text)
    terminalreporter.section("fault matrix (fault x step -> outcome)")
    terminalreporter.write_line(text)


def pytest_sessionstart(session: Any) -> None:
    """The controller (not an xdist worker) starts from an empty matrix."""
    if not hasattr(session.config, "workerinput") and PARTS.is_dir():
        for part in PARTS.glob("*.json"):
            part.unlink()
