"""Migration commands: status, migrate, demo."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from dbmedic.cli import options
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
from dbmedic.cli.status_view import render_status as render_status  # demo_render uses it here
from dbmedic.cli.status_view import run_status

if TYPE_CHECKING:
    from dbmedic.frameworks.base import Progress
    from dbmedic.migrations import MigrateReport

AppOpt = Annotated[Path | None, typer.Option(options.APP.flag, help=options.APP.help)]
DbOpt = Annotated[str | None, typer.Option(options.DB.flag, help=options.DB.help)]
FrameworkOpt = Annotated[
    str | None, typer.Option(options.FRAMEWORK.flag, help=options.FRAMEWORK.help)
]


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
    with handled_errors():
        code = run_status(app_dir, db, framework, env, as_json)
    raise typer.Exit(int(code))


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
