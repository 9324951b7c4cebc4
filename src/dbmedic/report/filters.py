"""Jinja2 filters: formatting only (thousands separators, durations, Markdown cells), no counting."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def num(value: int | float) -> str:
    """``12345`` -> ``12,345``; floats keep one decimal."""
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}"
    return f"{int(value):,}"


def seconds(value: float | None) -> str:
    """A duration for people: ``0.4 s``, ``12 s``, ``3 min 05 s``, ``1 h 02 min``; ``-`` for None."""
    if value is None:
        return "-"
    if value < 10:
        return f"{value:.1f} s"
    if value < 60:
        return f"{value:.0f} s"
    minutes, secs = divmod(round(value), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def cell(value: Any) -> str:
    """Text safe inside a Markdown table cell: pipes escaped, newlines folded."""
    text = "" if value is None else str(value)
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def code(value: Any) -> str:
    """Inline Markdown code that survives backticks in the text."""
    text = "" if value is None else str(value).replace("\n", " ")
    fence = "`"
    while fence in text:
        fence += "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def fence(value: str) -> str:
    """A fence long enough for a code block that itself contains backtick runs."""
    longest, run = 0, 0
    for ch in value:
        run = run + 1 if ch == "`" else 0
        longest = max(longest, run)
    return "`" * max(3, longest + 1)


def sentence(value: str) -> str:
    """First letter upper case and a final full stop: ``fails at x`` -> ``Fails at x.``."""
    text = value.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?" else text + "."


FILTERS: dict[str, Callable[..., str]] = {
    "num": num,
    "seconds": seconds,
    "cell": cell,
    "code": code,
    "fence": fence,
    "sentence": sentence,
}
