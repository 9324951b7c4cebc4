"""Geometry of the HTML report's pictures, computed in Python so the template only draws.

Two pictures: the migration timeline (one mark per migration, folded into rows when there are many,
the failing one labelled) and parity per object kind (one bar per kind, present of expected).
Everything here is pure: view in, shapes out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from dbmedic.report.view import MarkState, ParityRow, ReportView

PALETTE: dict[str, str] = {
    MarkState.APPLIED: "#4f8a6b",
    MarkState.FAILED: "#b42318",
    MarkState.PENDING: "#a8b3c2",
    MarkState.BLOCKED: "#e0a93b",
    "present": "#4a7bab",
    "track": "#e6eaf0",
    "extra": "#8c6bb1",
    "ink": "#1f2933",
    "muted": "#5f6b7a",
}

WIDTH = 960
"""Drawing width in SVG user units (the SVG scales to the page)."""


@dataclass(frozen=True, slots=True)
class Rect:
    x: float
    y: float
    w: float
    h: float
    fill: str
    title: str = ""
    rx: float = 2.0


@dataclass(frozen=True, slots=True)
class Text:
    x: float
    y: float
    text: str
    anchor: str = "start"
    weight: str = "normal"
    fill: str = PALETTE["ink"]
    size: float = 12.0


@dataclass(frozen=True, slots=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float
    stroke: str = PALETTE["ink"]


@dataclass(frozen=True, slots=True)
class Picture:
    width: float
    height: float
    rects: tuple[Rect, ...]
    texts: tuple[Text, ...]
    lines: tuple[Line, ...] = ()
    label: str = ""
    """Accessible description (``aria-label``)."""


def _per_row(n: int) -> int:
    """Marks per row: one row up to 60, rows of 50 up to 1,000, then rows of 100."""
    if n <= 60:
        return max(n, 1)
    return 50 if n <= 1000 else 100


def timeline(view: ReportView) -> Picture:
    """One mark per migration, in history order, ``_per_row`` to a row, with a legend on top."""
    marks = view.timeline
    n = len(marks)
    per_row = _per_row(n)
    rows = max(math.ceil(n / per_row), 1)
    gutter = 70.0  # room for the row's "1-50" label
    pitch = (WIDTH - gutter) / per_row
    mark_w = max(pitch * 0.8, 1.0) if per_row > 1 else 24.0
    mark_h = 22.0
    legend_h = 30.0
    label_h = 34.0  # room under the row holding the failing migration
    rects: list[Rect] = []
    texts: list[Text] = []
    lines: list[Line] = []

    # Legend: a swatch and a count per state, counts from the view (never counted here).
    x = 0.0
    counts = {
        MarkState.APPLIED: view.counts.applied,
        MarkState.FAILED: view.counts.failed,
        MarkState.PENDING: view.counts.pending,
        MarkState.BLOCKED: view.counts.blocked,
    }
    for state, count in counts.items():
        rects.append(Rect(x, 4, 14, 14, PALETTE[state], f"{state.value}: {count}"))
        label = f"{state.value} {count:,}"
        texts.append(Text(x + 20, 16, label, fill=PALETTE["muted"]))
        x += 20 + 8 * len(label) + 24

    failing_row = next(
        (i // per_row for i, m in enumerate(marks) if m.state is MarkState.FAILED), None
    )
    y = legend_h
    for row in range(rows):
        first, last = row * per_row, min((row + 1) * per_row, n)
        texts.append(
            Text(
                gutter - 10,
                y + mark_h / 2 + 4,
                f"{first + 1}\u2013{last}",
                "end",
                fill=PALETTE["muted"],
            )
        )
        for i in range(first, last):
            m = marks[i]
            mx = gutter + (i - first) * pitch
            title = f"#{i + 1} {m.id} ({m.state.value})"
            if m.batch is not None:
                title += f", batch {m.batch}"
            rects.append(Rect(mx, y, mark_w, mark_h, PALETTE[m.state], title))
            if m.state is MarkState.FAILED:
                cx = mx + mark_w / 2
                lines.append(Line(cx, y + mark_h + 2, cx, y + mark_h + 12, PALETTE["failed"]))
                text = f"failed: {m.id}"
                width = 7.2 * len(text)  # 12 px bold: a generous estimate, so nothing is cut
                if cx - 4 + width <= WIDTH:
                    anchor, tx = "start", cx - 4
                elif cx + 4 - width >= 0:
                    anchor, tx = "end", cx + 4
                else:  # wider than either side: as far left as it fits
                    anchor, tx = "start", max(WIDTH - width, 0.0)
                texts.append(Text(tx, y + mark_h + 26, text, anchor, "bold", PALETTE["failed"]))
        y += mark_h + 8 + (label_h if row == failing_row else 0)
    label = (
        f"Migration timeline: {view.counts.total} migrations, {view.counts.applied} applied, "
        f"{view.counts.failed} failed, {view.counts.pending} pending, "
        f"{view.counts.blocked} blocked"
    )
    return Picture(WIDTH, y + 4, tuple(rects), tuple(texts), tuple(lines), label)


def parity(rows: tuple[ParityRow, ...]) -> Picture:
    """One bar per object kind: the present share filled, ``present / expected`` written after."""
    label_w, bar_w, text_w = 120.0, 560.0, 260.0
    bar_h, pitch = 22.0, 36.0
    rects: list[Rect] = []
    texts: list[Text] = []
    for i, row in enumerate(rows):
        y = 8 + i * pitch
        texts.append(Text(label_w - 12, y + 15, row.kind, "end", "bold"))
        rects.append(Rect(label_w, y, bar_w, bar_h, PALETTE["track"], "", 3))
        share = 1.0 if row.expected == 0 else min(row.present / row.expected, 1.0)
        fill = PALETTE[MarkState.APPLIED] if row.complete else PALETTE["present"]
        title = f"{row.kind}: {row.present:,} of {row.expected:,} ({row.percent}%)"
        if share > 0:
            rects.append(Rect(label_w, y, max(bar_w * share, 2.0), bar_h, fill, title, 3))
        text = f"{row.present:,} / {row.expected:,}  ({row.percent}%)"
        if row.extra:
            text += f", {row.extra:,} extra"
        texts.append(Text(label_w + bar_w + 12, y + 15, text, fill=PALETTE["muted"]))
    height = 8 + len(rows) * pitch
    desc = "; ".join(f"{r.kind} {r.present} of {r.expected}" for r in rows)
    return Picture(label_w + bar_w + text_w, height, tuple(rects), tuple(texts), (), desc)
