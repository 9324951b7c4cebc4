"""The fault matrix of tests/test_faults.py: rows written per worker, printed at the end.

Each fault test writes its plan's steps and its rows (backend, strategy, fault, point, outcome)
to ``build/fault-matrix/<backend>-<strategy>.json``; the controller's ``pytest_terminal_summary``
(imported by conftest.py) joins them into ``build/fault-matrix.md`` and prints it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent / "build"
PARTS = ROOT / "fault-matrix"


def save(backend: str, strategy: str, rows: list[dict[str, str]], steps: list[str]) -> None:
    """The rows of one (backend, strategy) test and its plan's steps (one line each)."""
    PARTS.mkdir(parents=True, exist_ok=True)
    part = {"backend": backend, "strategy": strategy, "steps": steps, "rows": rows}
    (PARTS / f"{backend}-{strategy}.json").write_text(json.dumps(part, indent=1))


ORDER = ("sync", "resume", "reset")


def _key(path: Path) -> tuple[str, int]:
    backend, _, strategy = path.stem.partition("-")
    return backend, ORDER.index(strategy) if strategy in ORDER else len(ORDER)


def render() -> str | None:
    """One table per (backend, strategy): a row per fault point, a column per fault."""
    if not PARTS.is_dir():
        return None
    out: list[str] = []
    for path in sorted(PARTS.glob("*.json"), key=_key):
        part: dict[str, Any] = json.loads(path.read_text())
        rows: list[dict[str, str]] = part["rows"]
        if not rows:
            continue
        points = list(dict.fromkeys(r["point"] for r in rows))
        faults = list(dict.fromkeys(r["fault"] for r in rows))
        cell = {(r["fault"], r["point"]): r["outcome"] for r in rows}
        out.append(f"#### {part['backend']}, fix --strategy {part['strategy']}\n")
        out.append("Steps: " + "; ".join(part["steps"]) + ".\n")
        out.append("| step \\ fault | " + " | ".join(faults) + " |")
        out.append("|---|" + "---|" * len(faults))
        for point in points:
            out.append(
                f"| {point} | " + " | ".join(cell.get((f, point), "") for f in faults) + " |"
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
