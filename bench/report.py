"""Render time of the three report formats for a diagnosis of N migrations (median of 5).

    PYTHONPATH=src python bench/report.py [--migrations 185 --migrations 5000]

The diagnosis is the hand-built seed incident (dbmedic.diagnosis_example) stretched to N
migrations; rendering is pure, so no database is involved. "first" is the first render in the
process (template compilation, Jinja2 import); the others are warm.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import time

from dbmedic import report
from dbmedic.diagnosis import Phase, TimelineEntry
from dbmedic.diagnosis_example import example_diagnosis
from dbmedic.model import MigrationState


def stretched(n: int):  # type: ignore[no-untyped-def]
    d = example_diagnosis()
    applied = n // 4
    timeline = (
        *tuple(
            TimelineEntry(
                f"2020_01_01_{i:06d}_m", f"m{i}.php", MigrationState.APPLIED, Phase.APPLIED, 1
            )
            for i in range(applied)
        ),
        TimelineEntry("failing", "f.php", MigrationState.PENDING, Phase.FAILED),
        *tuple(
            TimelineEntry(
                f"2025_01_01_{i:06d}_m",
                f"b{i}.php",
                MigrationState.PENDING,
                Phase.BLOCKED,
                None,
                (f"t{i}",),
            )
            for i in range(n - applied - 1)
        ),
    )
    return dataclasses.replace(d, timeline=timeline, total=n, taken_at="2025-10-26T14:03:11Z")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--migrations", type=int, action="append")
    sizes = parser.parse_args().migrations or [185, 5000]
    t0 = time.perf_counter()
    report.render(stretched(10), "html")
    first = time.perf_counter() - t0
    print(f"first render in the process (imports, template compilation): {first * 1000:.0f} ms\n")
    print("| migrations | Markdown | HTML | JSON | HTML size |")
    print("|-----------:|---------:|-----:|-----:|----------:|")
    for n in sizes:
        d = stretched(n)
        row = []
        for fmt in ("md", "html", "json"):
            runs = []
            for _ in range(5):
                t = time.perf_counter()
                text = report.render(d, fmt)
                runs.append(time.perf_counter() - t)
            row.append(f"{statistics.median(runs) * 1000:.0f} ms")
            if fmt == "html":
                size = len(text.encode())
        print(f"| {n:,} | {' | '.join(row)} | {size / 1024:.0f} KiB |")


if __name__ == "__main__":
    main()
