"""``dbmedic runs`` and ``dbmedic rollback``: the recorded repair runs, listed and undone."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

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
    stdout,
    typed_confirmation,
)
from dbmedic.cli.migration_cmds import DbOpt, FrameworkOpt

DirOpt = Annotated[
    Path | None,
    typer.Option(
        "--dir", help="The state folder holding .dbmedic/runs (default: configured, --app or .)."
    ),
]
AppOpt = Annotated[Path | None, typer.Option("--app", help="The application folder of the run.")]
STATE_COLOUR = {"finished": "green", "interrupted": "red", "not-rolled-back": "red"}


@app.command()
def runs(dir: DirOpt = None, env: EnvOpt = None, as_json: JsonOpt = False) -> None:
    """List the repair runs and their state: finished, rolled-back, interrupted...

    An interrupted run can be finished with `fix --resume ID` or undone with `rollback ID`.
    """
    from rich.table import Table

    from dbmedic import api

    state = dir
    if state is None and env is not None:
        target = api.resolve_target(env, None, None)
        state = target.state_dir or target.app
    with handled_errors():
        found = api.runs(state or Path("."))
    if as_json:
        print_json({"format": "dbmedic.runs/1", "runs": [r.to_dict() for r in found]})
        raise typer.Exit(int(ExitCode.OK))
    if not found:
        stdout.print("no runs recorded")
        raise typer.Exit(int(ExitCode.OK))
    table = Table(show_edge=False, box=None, pad_edge=False)
    for column in ("run", "state", "target", "strategy", "started", "steps", "backup"):
        table.add_column(column)
    for r in found:
        colour = STATE_COLOUR.get(r.state, "yellow")
        table.add_row(escape(r.id), f"[{colour}]{escape(r.state)}[/]", escape(r.target),
                      escape(r.strategy), escape(r.started), f"{r.steps_done}/{r.steps_total}",
                      escape(r.backup or "-"))  # fmt: skip
    stdout.print(table)
    raise typer.Exit(int(ExitCode.OK))


@app.command()
def rollback(
    run_id: Annotated[str, typer.Argument(help="The run id (see `dbmedic runs`).")],
    app_dir: AppOpt = None,
    db: DbOpt = None,
    dir: DirOpt = None,
    framework: FrameworkOpt = None,
    env: EnvOpt = None,
    break_stale_lock: Annotated[
        bool, typer.Option("--break-stale-lock", help="Remove a lock file whose process is gone.")
    ] = False,
    allow_production: AllowProductionOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Restore a run's backup into its database and prove it by checksums.

    Exit 0 restored and proven, 2 bad input (no such run, another database, backup damaged),
    3 refused (production without --allow-production).
    """
    from dbmedic import api

    with handled_errors():
        target = api.resolve_target(env, db, app_dir)
        result = _rollback(run_id, target, dir, framework, break_stale_lock, allow_production)
    if as_json:
        print_json(result.to_dict())
    else:
        stdout.print(f"[bold green]rolled back[/] run {escape(run_id)} on {escape(result.target)}")
        stdout.print(escape(result.detail))
    raise typer.Exit(int(ExitCode.OK))


def _rollback(
    run_id: str, target: Any, dir: Path | None, framework: str | None,
    break_stale_lock: bool, allow_production: bool,
) -> Any:  # fmt: skip
    from dbmedic import api

    return api.rollback(
        run_id, target.url, app=target.app, state_dir=dir or target.state_dir,
        framework=framework or target.framework, environment=target.framework_environment,
        break_stale_lock=break_stale_lock, allow_production=allow_production,
        confirm_production=typed_confirmation() if allow_production else None,
        guard_environment=target,
    )  # fmt: skip
