"""Migration commands: status, migrate, demo."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from dbmedic.cli.app import (
    AllowProductionOpt,
    EnvOpt,
    ExitCode,
    JsonOpt,
    app,
    handled_errors,
    print_json,
    show_progress,
    stderr,
    stdout,
    typed_confirmation,
)

if TYPE_CHECKING:
    from rich.table import Table

    from dbmedic.frameworks.base import Progress
    from dbmedic.migrations import MigrateReport, StatusReport
    from dbmedic.model import Migration

AppOpt = Annotated[
    Path | None,
    typer.Option(
        "--app",
        help="The application folder (with its migrations); default: the --env's app, else the "
        "current folder.",
    ),
]
DbOpt = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Database URL; default: the --env's url, else the app's own configuration (.env).",
    ),
]
FrameworkOpt = Annotated[
    str | None,
    typer.Option("--framework", help="laravel, django, alembic, dbmate, flyway, golang-migrate."),
]

_STYLE = {
    "applied": "green",
    "pending": "yellow",
    "failed": "bold red",
    "missing-file": "magenta",
    "checksum-changed": "magenta",
}
FOLD_ABOVE = 30
"""Lists longer than this are folded around the interesting part."""


@contextmanager
def progress_bar(label: str, enabled: bool) -> Iterator[Progress | None]:
    """A Rich progress bar on stderr when it is a terminal, else no callback.

    The bar appears at the first update, so a prompt before it (the production guard's) is
    not drawn over."""
    if not enabled or not show_progress():
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[current]}"),
        console=stderr,
        transient=True,
    )
    task = bar.add_task(label, total=None, current="")
    started = False

    def update(done: int, total: int, current: str) -> None:
        nonlocal started
        if not started:
            bar.start()
            started = True
        bar.update(task, completed=done, total=total, current=current)

    try:
        yield update
    finally:
        if started:
            bar.stop()


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

    stdout.print(
        f"[bold]{report.framework}[/] migrations of [cyan]{escape(report.app)}[/] in "
        f"[cyan]{escape(report.database)}[/] ({report.dialect}): "
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
        where = f" ({failed.file})" if failed.file else ""
        stdout.print(
            f"[bold red]failed:[/] {escape(failed.id)}{escape(where)}: "
            f"{escape(details.get('error', 'unknown error'))}"
        )
    if report.note:
        stdout.print(f"[yellow]note:[/] {escape(report.note)}")
    if report.internal_tables:
        stdout.print(
            f"[dim]dbmedic's journal ({', '.join(report.internal_tables)}) records the failed "
            "migration; `dbmedic migrate` continues from the failed statement once the cause is fixed.[/]"
        )


@app.command("status")
def status_cmd(
    app_dir: AppOpt = None,
    db: DbOpt = None,
    framework: FrameworkOpt = None,
    env: EnvOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Which migrations ran, failed, are pending; which framework; how many tables.

    Read-only. Exit 0 when every migration is applied, 1 when some are pending, failed, missing or
    changed, 2 on bad input.
    """
    from dbmedic import api

    with handled_errors():
        target = api.resolve_target(env, db, app_dir)
        report = api.status(
            target.app or Path("."), target.url, framework or target.framework,
            target.framework_environment,
        )  # fmt: skip
    if as_json:
        print_json(report.to_dict())
    else:
        render_status(report)
    raise typer.Exit(int(ExitCode.OK if report.ok else ExitCode.DIFFERENT))


def render_migrate(report: MigrateReport) -> None:
    from rich.markup import escape

    r = report.result
    details = dict(r.extra)
    resumed = int(details.get("resumed_at", "0") or 0)
    if r.applied:
        stdout.print(
            f"[green]applied {len(r.applied)} migration(s)[/] to {escape(report.database)}"
        )
    if r.ok:
        if not r.applied:
            stdout.print(f"nothing to migrate in {escape(report.database)}")
        return
    stdout.print(
        f"[bold red]migration {escape(r.failed or '?')} failed[/] at statement "
        f"{int(details.get('statement_index', '0')) + 1} of {details.get('statements_total', '?')} "
        f"({escape(details.get('file', '?'))}:{details.get('line', '?')}): {escape(r.error or '')}"
    )
    if resumed:
        stdout.print(f"(resumed at statement {resumed + 1}; the {resumed} before it had run)")
    done = int(details.get("statements_done", "0") or 0)
    if done:
        stdout.print(
            f"{done} statement(s) of it took effect and are journaled; fix the cause and run "
            "`dbmedic migrate` again to resume at the failed statement"
        )


@app.command("migrate")
def migrate_cmd(
    app_dir: AppOpt = None,
    db: DbOpt = None,
    framework: FrameworkOpt = None,
    env: EnvOpt = None,
    allow_production: AllowProductionOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Run pending SQL (dbmate-format) migrations natively, one journaled statement at a time.

    A migration that failed halfway on MySQL/MariaDB resumes at its failed statement. Other
    frameworks migrate with their own command. Exit 0 when all ran, 2 when one failed.

    A protected or production database is refused (exit 3) without --allow-production and its typed name.
    """
    from dbmedic import api

    with handled_errors():
        target = api.resolve_target(env, db, app_dir)
        with progress_bar("migrating", not as_json) as progress:
            report = api.migrate(
                target.app or Path("."), target.url, framework or target.framework,
                target.framework_environment, progress=progress,
                allow_production=allow_production,
                confirm=typed_confirmation() if allow_production else None,
                target=target if target.name else None,
            )  # fmt: skip
    if as_json:
        print_json(report.to_dict())
    else:
        render_migrate(report)
    raise typer.Exit(int(ExitCode.OK if report.result.ok else ExitCode.TROUBLE))


@app.command("demo")
def demo_cmd(
    directory: Annotated[
        Path | None,
        typer.Option("--dir", help="Build the demo here (default: a temporary folder)."),
    ] = None,
    keep: Annotated[
        bool, typer.Option("--keep", help="Keep the temporary folder (always kept with --dir).")
    ] = False,
) -> None:
    """The seed incident on SQLite, nothing to install: status, diff against production, verify."""
    from dbmedic.cli.demo_render import run_demo

    raise typer.Exit(int(run_demo(directory, keep)))
