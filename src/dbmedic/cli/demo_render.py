"""``dbmedic demo``: build the seed incident, then show it with the same renderers as the commands."""

from __future__ import annotations

import shutil
from pathlib import Path

from dbmedic.cli.app import ExitCode, escape, stdout
from dbmedic.cli.migration_cmds import progress_bar, render_status


def run_demo(directory: Path | None, keep: bool) -> ExitCode:
    from dbmedic import api

    with progress_bar("building the demo", True) as progress:
        demo = api.demo(directory, progress=progress)
    try:
        table, column = demo.duplicate
        stdout.rule("[bold]dbmedic demo: the staging incident, on SQLite[/]")
        stdout.print(
            f"Built in {escape(str(demo.directory))}: an application with dbmate migrations "
            f"({escape(str(demo.app))}), a [bold]production[/] database and a [bold]staging[/] database.\n"
            f"Production ran [cyan]{demo.edited_id}[/] before `{column}` was added to it, and got "
            f"`{table}.{column}` later from [cyan]{demo.failing_id}[/].\n"
            f"The early file was edited afterwards to create `{column}` as well, so a fresh run "
            f"(staging) creates it early and then fails at [bold]{demo.failing_id}[/]: "
            f"[red]{escape(demo.staging.error or '')}[/].\n"
            "Resetting staging and re-running the migrations would fail at the same place."
        )
        stdout.rule("[bold]dbmedic status[/] (staging)")
        staging = api.status(demo.app, demo.staging_url)
        render_status(staging)
        production = api.status(demo.production_app, demo.production_url)
        stdout.rule("[bold]staging against production[/]")
        _compare(demo.staging_url, demo.production_url, staging.tables, production.tables)
        app, prod = escape(str(demo.app)), escape(demo.production_url)
        stdout.rule("[bold]next[/]")
        stdout.print(
            f"  dbmedic status   --app {app}\n"
            f"  dbmedic diff     {escape(demo.staging_url)} {prod}\n"
            f"  dbmedic verify   {escape(demo.staging_url)} --reference {prod}\n"
            f"  dbmedic migrate  --app {app}      [dim]# fails again: the cause is in the files[/]"
        )
    finally:
        if demo.temporary and not keep:
            shutil.rmtree(demo.directory, ignore_errors=True)
        elif demo.temporary:
            stdout.print(f"[dim]kept {escape(str(demo.directory))}[/]")
    return ExitCode.OK


def _compare(
    staging_url: str, production_url: str, staging_tables: int, production_tables: int
) -> None:
    """Parity of staging against production, and verify's verdict."""
    from dbmedic.connect import open_reference
    from dbmedic.frameworks.tracking import table_names
    from dbmedic.runner import JOURNAL_TABLE

    names: list[set[str]] = []
    for url in (staging_url, production_url):
        with open_reference(url) as db, db.connect() as conn:
            names.append(table_names(db, conn) - {JOURNAL_TABLE})
    have, want = names
    present = len(have & want)
    missing = sorted(want - have)
    stdout.print(
        f"parity: tables [bold]{present}/{len(want)}[/] "
        f"({len(missing)} missing, {len(have - want)} unexpected)"
    )
    shown = ", ".join(missing[:8]) + (f", … {len(missing) - 8} more" if len(missing) > 8 else "")
    stdout.print(f"missing: {escape(shown)}")
    verdict = (
        "in sync"
        if not missing and have == want
        else "[bold red]FAIL[/]: staging differs from production"
    )
    stdout.print(f"verify: {verdict} (exit {int(ExitCode.DIFFERENT)})")
