"""``dbmedic status`` itself, without Typer: what the Typer command and the fast path
(:mod:`dbmedic.cli.fast`) both run, and the Rich rendering of a status report."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from dbmedic.cli.output import ExitCode, print_json, stdout

if TYPE_CHECKING:
    from rich.table import Table

    from dbmedic.migrations import StatusReport
    from dbmedic.model import Migration

_STYLE = {
    "applied": "green",
    "pending": "yellow",
    "failed": "bold red",
    "missing-file": "magenta",
    "checksum-changed": "magenta",
}
FOLD_ABOVE = 30
"""Lists longer than this are folded around the interesting part."""


def run_status(
    app_dir: Path | None, db: str | None, framework: str | None, env: str | None, as_json: bool
) -> ExitCode:
    """Print the status of ``app_dir``'s migrations in ``db`` (JSON or a table); the exit code:
    OK when every migration is applied, DIFFERENT otherwise. Raises DbmedicError."""
    from dbmedic import api

    target = api.resolve_target(env, db, app_dir)
    report = api.status(
        target.app or Path("."), target.url, framework or target.framework,
        target.framework_environment,
    )  # fmt: skip
    if as_json:
        print_json(report.to_dict())
    else:
        render_status(report)
    return ExitCode.OK if report.ok else ExitCode.DIFFERENT


def _visible_rows(migrations: tuple[Migration, ...]) -> list[int | tuple[int, int]]:
    """Indices to show, with (start, end) gaps folded: the last applied ones, every failed,
    missing or changed one, the first pending ones."""
    n = len(migrations)
    if n <= FOLD_ABOVE:
        return list(range(n))
    keep: set[int] = {0}
    problems = [i for i, m in enumerate(migrations) if m.state.value not in ("applied", "pending")]
    keep.update(problems[:20])
    first_open = next(
        (i for i, m in enumerate(migrations) if m.state.value in ("pending", "failed")), n
    )
    keep.update(range(max(first_open - 3, 0), min(first_open + 3, n)))
    if first_open == n:
        keep.update(range(n - 3, n))
    rows: list[int | tuple[int, int]] = []
    previous = -1
    for i in sorted(keep):
        if i > previous + 1:
            rows.append((previous + 1, i))
        rows.append(i)
        previous = i
    if previous < n - 1:
        rows.append((previous + 1, n))
    return rows


def _gap_text(migrations: tuple[Migration, ...], start: int, end: int) -> str:
    from collections import Counter

    counts = Counter(m.state.value for m in migrations[start:end])
    parts = [f"{count} {state}" for state, count in counts.most_common()]
    more = "more " if start > 0 else ""
    return f"… {end - start} {more}" + (
        f"{parts[0].split(' ', 1)[1]}" if len(parts) == 1 else f"({', '.join(parts)})"
    )


def _batch(m: Migration) -> str:
    return "" if m.batch is None else str(m.batch)


def _applied_at(m: Migration) -> str:
    return m.applied_at or ""


_OPTIONAL_COLUMNS = (("batch", _batch), ("applied at", _applied_at))


def status_table(report: StatusReport) -> Table:
    """The migrations, folded; the batch and applied-at columns only when the framework keeps
    them; the first pending one marked ``next`` when no failure is recorded (see
    :attr:`StatusReport.note`)."""
    from rich.table import Table

    migrations = report.migrations
    rows = _visible_rows(migrations)
    shown = [migrations[r] for r in rows if not isinstance(r, tuple)]
    extra = [(title, get) for title, get in _OPTIONAL_COLUMNS if any(get(m) for m in shown)]
    table = Table(show_edge=False, header_style="bold", pad_edge=False)
    table.add_column("#", justify="right", style="dim")
    table.add_column("migration")
    for title, _get in extra:
        table.add_column(title, justify="right" if title == "batch" else "left")
    table.add_column("state")
    next_one = report.first_pending if report.note else None
    for row in rows:
        if isinstance(row, tuple):
            gap = f"[dim]{_gap_text(migrations, *row)}[/]"
            table.add_row("", gap, *([""] * len(extra)), "")
            continue
        m = migrations[row]
        label = m.id if not m.name or m.name == m.id else f"{m.id} [dim]{m.name}[/]"
        style = _STYLE.get(m.state.value, "")
        state = f"[{style}]{m.state.value}[/]"
        if m is next_one:
            state = f"[bold {style}]{m.state.value} ← next[/]"
        table.add_row(str(row + 1), label, *(get(m) for _t, get in extra), state)
    return table


def render_status(report: StatusReport) -> None:
    """Print a status report with Rich (used by ``status``, ``migrate`` and ``demo``)."""
    from rich.markup import escape

    stdout.print(f"[bold]{report.framework}[/] migrations of [cyan]{escape(report.app)}[/]")
    stdout.print(
        f"database [cyan]{escape(report.database)}[/] ({report.dialect}): "
        f"[bold]{report.tables}[/] tables"
    )
    counts = ", ".join(
        f"[{_STYLE[state]}]{count} {state}[/]" for state, count in report.counts.items() if count
    )
    stdout.print(f"{len(report.migrations)} migrations: {counts or 'none'}")
    if report.migrations:
        stdout.print(status_table(report))
    failed = report.failed
    if failed is not None:
        details = dict(failed.extra)
        stdout.print(
            f"[bold red]failed:[/] {escape(failed.id)}: "
            f"{escape(details.get('error', 'unknown error'))}"
        )
        if failed.file:
            stdout.print(f"  in {escape(failed.file)}")
    if report.note:
        stdout.print(f"[yellow]note:[/] {escape(report.note)}")
    if report.internal_tables:
        stdout.print(
            f"[dim]dbmedic's journal ({', '.join(report.internal_tables)}) records the failed "
            "migration; `dbmedic migrate` continues from the failed statement once the cause is fixed.[/]"
        )
