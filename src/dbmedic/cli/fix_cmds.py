"""``dbmedic fix``: print the plan, confirm, repair with progress, print the completion summary."""

from __future__ import annotations

import shlex
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from dbmedic.cli.app import (
    AllowProductionOpt,
    EnvOpt,
    ExitCode,
    JsonOpt,
    app,
    escape,
    handled_errors,
    print_json,
    show_progress,
    stderr,
    stdout,
    typed_confirmation,
)
from dbmedic.cli.diagnose_cmds import CriticalOpt, ReferenceOpt, ReportOpt
from dbmedic.cli.migration_cmds import DbOpt, FrameworkOpt

if TYPE_CHECKING:
    from dbmedic.apply import Outcome
    from dbmedic.plan import Plan, Step

StrategyOpt = Annotated[
    str | None,
    typer.Option("--strategy", help="reset, resume or sync (see `dbmedic diagnose`)."),
]
OptionalAppOpt = Annotated[
    Path | None,
    typer.Option("--app", help="The application folder; without it sync works on the schema only."),
]
MAX_SQL_LINES = 6
"""Statements shown per step in the terminal plan (all of them are in --json and the run folder)."""

EXIT_FOR_VERDICT = {
    "done": ExitCode.OK,
    "rolled-back": ExitCode.TROUBLE,
    "nothing-changed": ExitCode.TROUBLE,
    "not-rolled-back": ExitCode.NOT_ROLLED_BACK,
    "hook-failed": ExitCode.HOOK_FAILED,
}


def render_plan(plan: Plan, out: Any) -> None:
    """The numbered plan: steps with their SQL or command, backup, drops, rehearsal, estimate."""
    out.print(
        f"[bold]Plan: fix --strategy {plan.strategy}[/] on {escape(plan.target)} ({plan.dialect})"
    )
    if plan.reference:
        out.print(f"reference: {escape(plan.reference)}")
    for step in plan.steps:
        mark = " [red](destructive)[/]" if step.destructive else ""
        out.print(f"  {step.number:>2}. [bold]{escape(step.title)}[/]{mark}")
        for sql in step.statements[:MAX_SQL_LINES]:
            first = sql.strip().splitlines()[0] if sql.strip() else ""
            more = " …" if len(first) > 110 or "\n" in sql.strip() else ""
            out.print(f"      [dim]{escape(first[:110])}{more}[/]")
        if len(step.statements) > MAX_SQL_LINES:
            out.print(f"      [dim]… and {len(step.statements) - MAX_SQL_LINES} more statements[/]")
        if step.command:
            # a promotion runs its command only when the rehearsed shadow cannot be moved in
            fallback = "fallback: " if step.kind == "promote_shadow" else ""
            out.print(f"      [dim]{fallback}$ {escape(shlex.join(step.command))}[/]")
        if step.kind == "hook" and step.reason:
            out.print(f"      [dim]({escape(step.reason)})[/]")
        if step.migrations:
            shown = ", ".join(step.migrations[:4])
            more = f" and {len(step.migrations) - 4} more" if len(step.migrations) > 4 else ""
            out.print(f"      [dim]{escape(shown)}{more}[/]")
    backups = [s for s in plan.steps if s.kind == "backup"]
    out.print(
        f"backed up first: {'yes' if backups else '[red]no[/]'} (the whole database, verified)"
    )
    out.print("dropped: " + (escape(", ".join(plan.drops)) if plan.drops else "nothing"))
    if plan.rehearsal:
        out.print(f"rehearsal: {escape(plan.rehearsal)}")
    for note in plan.notes:
        out.print(f"note: {escape(note)}")
    out.print(f"estimate: {plan.estimate_seconds:.1f} s")


def render_outcome(o: Outcome, out: Any) -> None:
    """The completion summary: verdict, tables before/after, time per step, backup, report."""
    from rich.table import Table

    calm = ("rolled-back", "nothing-changed", "hook-failed")
    colour = "green" if o.verdict == "done" else "yellow" if o.verdict in calm else "red"
    out.print(f"[bold {colour}]{escape(str(o.verdict))}[/] in {o.seconds:.2f} s (run {o.run_id})")
    table = Table(show_edge=False, box=None, pad_edge=False)
    for column in ("#", "step", "status", "s", "detail"):
        table.add_column(column, justify="right" if column in ("#", "s") else "left")
    for s in o.steps:
        table.add_row(str(s.number), escape(s.title), str(s.status), f"{s.seconds:.2f}",
                      escape((s.error or s.detail or "")[:100]))  # fmt: skip
    out.print(table)
    after = o.tables_after if o.tables_after is not None else "?"
    out.print(f"tables: {o.tables_before} before, {after} after")
    if o.error:
        out.print(f"[red]failed:[/] {escape(o.error)}")
    for note in o.notes:
        out.print(f"note: {escape(note)}")
    if o.rollback_detail:
        out.print(f"rollback: {escape(o.rollback_detail)}")
    out.print(f"backup: {escape(o.backup or 'none taken')}")
    out.print(f"report: {escape(o.report or '-')}")


@contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[Step, int, int, str], None] | None]:
    """A Rich progress bar on stderr (terminal only): the current step, statements or migrations."""
    if not enabled or not show_progress():
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  console=stderr, transient=True) as bar:  # fmt: skip
        tasks: dict[int, Any] = {}

        def update(step: Step, done: int, total: int, what: str) -> None:
            if step.number not in tasks:
                tasks[step.number] = bar.add_task(
                    f"{step.number}. {step.title[:50]}", total=total or 1
                )
            bar.update(tasks[step.number], completed=done, total=total or 1)

        yield update


def _confirm(plan: Plan, *, yes: bool, as_json: bool) -> bool:
    if not as_json:
        render_plan(plan, stdout)
    if yes:
        return True
    if not sys.stdin.isatty():
        return False
    return typer.confirm(f"Run this plan on {plan.target}?", default=False, err=True)


@app.command()
def fix(
    strategy: StrategyOpt = None,
    app_dir: OptionalAppOpt = None,
    db: DbOpt = None,
    reference: ReferenceOpt = None,
    critical: CriticalOpt = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the plan and stop.")] = False,
    yes: Annotated[
        bool, typer.Option("--yes", help="Run without asking (needed without a terminal).")
    ] = False,
    no_rollback: Annotated[
        bool, typer.Option("--no-rollback", help="On failure, leave the database as it is.")
    ] = False,
    allow_drop: Annotated[
        bool, typer.Option("--allow-drop", help="sync: also drop what the reference lacks.")
    ] = False,
    break_stale_lock: Annotated[
        bool, typer.Option("--break-stale-lock", help="Remove a lock file whose process is gone.")
    ] = False,
    backup_dir: Annotated[
        Path | None,
        typer.Option("--backup-dir", help="Where the backup goes (default .dbmedic/backups)."),
    ] = None,
    framework: FrameworkOpt = None,
    env: EnvOpt = None,
    report: ReportOpt = None,
    allow_production: AllowProductionOpt = False,
    resume: Annotated[
        str | None,
        typer.Option("--resume", help="Continue the interrupted run ID (see `dbmedic runs`)."),
    ] = None,
    state_dir: Annotated[
        Path | None, typer.Option("--dir", help="--resume: the state folder holding .dbmedic/runs.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Repair a database: plan, back up, reset | resume | sync, verify; roll back on failure.

    Exit 0 done and verified, 2 failed and rolled back (or bad input), 3 refused, 4 failed and
    not rolled back, 5 repaired and verified but a post-fix hook failed (the repair is kept).
    """
    from dbmedic import api
    from dbmedic.plan import Plan

    target = api.resolve_target(env, db, app_dir)
    if resume is not None:
        with _progress(not as_json) as progress, handled_errors():
            resumed = api.resume(
                resume, target.app, target.url, state_dir=state_dir or target.state_dir,
                reference=reference or target.reference, framework=framework or target.framework,
                environment=target.framework_environment, no_rollback=no_rollback,
                break_stale_lock=break_stale_lock, progress=progress,
                allow_production=allow_production, guard_environment=target,
                confirm_production=typed_confirmation() if allow_production else None,
            )  # fmt: skip
        _show(resumed, as_json)
    if strategy is None:
        from dbmedic.errors import ConfigError

        raise ConfigError("fix needs --strategy (or --resume ID)", hint="see `dbmedic diagnose`")
    critical_tables = [c.strip() for c in (critical or "").split(",") if c.strip()]
    with _progress(not as_json) as progress, handled_errors():
        result = api.fix(
            strategy, target.app, target.url, reference=reference or target.reference,
            critical=critical_tables or target.critical, dry_run=dry_run, no_rollback=no_rollback,
            allow_drop=allow_drop, framework=framework or target.framework,
            environment=target.framework_environment, backup_dir=backup_dir or target.backup_dir,
            state_dir=target.state_dir, guard_environment=target,
            break_stale_lock=break_stale_lock, report=report,
            confirm=None if dry_run else (lambda plan: _confirm(plan, yes=yes, as_json=as_json)),
            progress=progress, allow_production=allow_production,
            confirm_production=typed_confirmation() if allow_production else None,
        )  # fmt: skip
    if isinstance(result, Plan):
        if as_json:
            print_json(result.to_dict())
        else:
            render_plan(result, stdout)
        raise typer.Exit(int(ExitCode.OK))
    _show(result, as_json)


def _show(result: Outcome, as_json: bool) -> None:
    if as_json:
        print_json(result.to_dict())
    else:
        render_outcome(result, stdout)
    raise typer.Exit(int(EXIT_FOR_VERDICT.get(str(result.verdict), ExitCode.TROUBLE)))
