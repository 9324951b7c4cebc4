"""``dbmedic demo``: build the seed incident, then show it with the same renderers as the commands."""

from __future__ import annotations

import shlex
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from dbmedic.cli.app import ExitCode, escape, stdout
from dbmedic.cli.migration_cmds import progress_bar, render_status

if TYPE_CHECKING:
    from dbmedic.demo.build import DemoResult


def run_demo(directory: Path | None, keep: bool) -> ExitCode:
    from dbmedic import api

    with progress_bar("building the demo", True) as progress:
        demo = api.demo(directory, progress=progress)
    try:
        _story(demo)
        stdout.rule("[bold]dbmedic status[/] (staging)")
        render_status(api.status(demo.app, demo.staging_url))
        _compare(demo)
        _next(demo, removed=demo.temporary and not keep)
    finally:
        if demo.temporary and not keep:
            shutil.rmtree(demo.directory, ignore_errors=True)
        elif demo.temporary:
            stdout.print(f"[dim]kept {escape(str(demo.directory))}[/]")
    return ExitCode.OK


def _story(demo: DemoResult) -> None:
    table, column = demo.duplicate
    app = escape(str(demo.app.relative_to(demo.directory)))
    production, staging = (
        escape(str(Path(url.removeprefix("sqlite:///")).relative_to(demo.directory)))
        for url in (demo.production_url, demo.staging_url)
    )
    width = max(len(production), len(staging))
    stdout.rule("[bold]dbmedic demo: the staging incident, on SQLite[/]")
    stdout.print(
        f"In {escape(str(demo.directory))}:\n"
        f"  {app + '/':<{width}}  an application with {len(demo.production.applied)}"
        " dbmate migrations\n"
        f"  {production:<{width}}  ran them over time: the full history\n"
        f"  {staging:<{width}}  ran the same files from scratch, and stopped\n\n"
        f"Production ran [cyan]{demo.edited_id}[/]\n"
        f"  before that file created `{column}`; it got `{table}.{column}`\n"
        "  later, from "
        f"[cyan]{demo.failing_id}[/].\n"
        f"The early file was edited afterwards to create `{column}` too, so a fresh run\n"
        f"(staging) creates it early, then fails at [bold]{demo.failing_version}[/]:\n"
        f"  [red]{escape(demo.staging.error or '')}[/]\n"
        "Resetting staging and running the migrations again would fail the same way.",
        soft_wrap=True,
    )


def _compare(demo: DemoResult) -> None:
    """``dbmedic diff production staging`` and ``dbmedic verify staging --reference production``."""
    from dbmedic import api
    from dbmedic.cli.schema_cmds import show_diff, show_verdict

    production = api.load(demo.production_url)
    stdout.rule("[bold]dbmedic diff[/] production staging")
    show_diff(api.diff(production, demo.staging_url))
    stdout.rule("[bold]dbmedic verify[/] staging --reference production")
    verdict = api.verify(demo.staging_url, reference=production)
    show_verdict(verdict)
    stdout.print(f"[dim](exit {int(ExitCode.OK if verdict.in_sync else ExitCode.DIFFERENT)})[/]")


def _next(demo: DemoResult, removed: bool) -> None:
    """The commands to try next, relative to the demo folder so that they stay short."""
    here = demo.directory

    def rel(path: Path) -> str:
        return shlex.quote(str(path.relative_to(here)))

    app = rel(demo.app)
    prod = f"sqlite:///{rel(Path(demo.production_url.removeprefix('sqlite:///')))}"
    staging = f"sqlite:///{rel(Path(demo.staging_url.removeprefix('sqlite:///')))}"
    commands = (
        ("what ran, failed, is pending", f"dbmedic status --app {app}"),
        ("what makes staging match production", f"dbmedic diff {prod} {staging}"),
        ("the same as SQL", f"dbmedic diff {prod} {staging} --sql"),
        ("why it failed, which repair works", f"dbmedic diagnose --app {app} --reference {prod}"),
        (
            "the repair plan, changing nothing",
            f"dbmedic fix --strategy sync --app {app} --db {staging} --reference {prod} --dry-run",
        ),
        ("exit 0 only when staging matches", f"dbmedic verify {staging} --reference {prod}"),
    )
    stdout.rule("[bold]next[/]")
    if removed:
        stdout.print("[dim]These files are removed now; `dbmedic demo --dir demo` keeps them.[/]")
    stdout.print(f"  cd {escape(shlex.quote(str(here)))}", soft_wrap=True)
    for why, command in commands:
        stdout.print(f"  [dim]# {escape(why)}[/]")
        stdout.print(escape(_wrapped(command, 78)), soft_wrap=True)


def _wrapped(command: str, width: int) -> str:
    """``command`` indented, continued with backslashes before an option (with its value) that
    would pass ``width``."""
    groups: list[str] = []
    for word in command.split(" "):
        if groups and not word.startswith("--") and groups[-1].startswith("--"):
            groups[-1] += " " + word
        else:
            groups.append(word)
    lines = ["  " + groups[0]]
    for group in groups[1:]:
        if len(lines[-1]) + len(group) + 3 > width and group.startswith("--"):
            lines[-1] += " \\"
            lines.append("      " + group)
        else:
            lines[-1] += " " + group
    return "\n".join(lines)
