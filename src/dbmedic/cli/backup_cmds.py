"""Backup commands: ``backup``, ``restore``, ``backups list`` and ``backups prune``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

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
    stdout,
    typed_confirmation,
)
from dbmedic.cli.backup_view import progress_line, run_backup, size_text, target_of

DirOpt = Annotated[Path, typer.Option("--dir", help="Folder of the backups.", show_default=True)]
JobsOpt = Annotated[int, typer.Option(options.JOBS.flag, min=1, help=options.JOBS.help)]

backups_app = typer.Typer(help="List and prune backups.", no_args_is_help=True)
app.add_typer(backups_app, name="backups")


_URL = Annotated[str | None, typer.Argument(help=options.BACKUP_URL)]


def _option(o: options.Option, **extra: Any) -> Any:
    return typer.Option(o.flag, help=o.help, **extra)


@app.command("backup")
def backup_cmd(
    url: _URL = None,
    env: EnvOpt = None,
    dir: Annotated[Path | None, _option(options.BACKUP_DIR)] = None,
    schema_only: Annotated[bool, _option(options.SCHEMA_ONLY)] = False,
    builtin: Annotated[bool, _option(options.BUILTIN)] = False,
    external: Annotated[bool, _option(options.EXTERNAL)] = False,
    gzip: Annotated[bool, _option(options.GZIP)] = False,
    no_compress: Annotated[bool, _option(options.NO_COMPRESS)] = False,
    jobs: Annotated[int, _option(options.JOBS, min=1)] = 3,
    as_json: JsonOpt = False,
) -> None:
    """Back up a database into a checked, timestamped folder under --dir."""
    with handled_errors():
        run_backup(url, env, dir, schema_only, builtin, external, gzip, no_compress, jobs, as_json)


@app.command("restore")
def restore_cmd(
    backup: Annotated[Path, typer.Argument(help="Backup folder made by `dbmedic backup`.")],
    db: Annotated[
        str | None, typer.Option("--db", help="Target database URL; default: the --env's url.")
    ] = None,
    env: EnvOpt = None,
    create: Annotated[bool, typer.Option("--create", help="Create the database first.")] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Replace tables the target already has.")
    ] = False,
    allow_production: AllowProductionOpt = False,
    jobs: JobsOpt = 3,
    as_json: JsonOpt = False,
) -> None:
    """Restore a backup into --db, then prove tables, rows and checksums match it.

    A protected or production database is refused (exit 3) without --allow-production and its typed name.
    """
    from dbmedic import api

    confirm = typed_confirmation() if allow_production else None
    with handled_errors():
        target = target_of(env, db)
        # Asked here, before the progress bar draws; restore takes the guard's clearance.
        clearance = api.assert_may_change(
            target.url, environment=target, allow_production=allow_production, confirm=confirm
        )
    with handled_errors(), progress_line(show_progress() and not as_json, "restore") as progress:
        result = api.restore(
            backup, target.url, create=create, force=force, jobs=jobs, progress=progress,
            clearance=clearance,
        )  # fmt: skip
    if as_json:
        print_json(result.to_dict())
        return
    stdout.print(
        f"restored {result.backup} into {result.target}: {result.tables} tables, "
        f"{result.rows:,} rows, checksums verified ({result.seconds:.1f} s)"
    )


@backups_app.command("list")
def list_cmd(dir: DirOpt = Path("backups"), as_json: JsonOpt = False) -> None:
    """List the complete backups in --dir, oldest first."""
    from dbmedic import api

    with handled_errors():
        found = api.list_backups(dir)
    if as_json:
        print_json([b.to_dict() for b in found])
        return
    from rich.table import Table

    table = Table("backup", "database", "dialect", "tool", "tables", "rows", "size", "started")
    for b in found:
        d = b.to_dict()
        table.add_row(
            Path(d["path"]).name, d["database"], d["dialect"], d["tool"], str(d["tables"]),
            f"{d['rows']:,}", size_text(d["bytes"]), d["started"],
        )  # fmt: skip
    stdout.print(table if found else f"no backups in {dir}")


@backups_app.command("prune")
def prune_cmd(
    keep: Annotated[int, typer.Option("--keep", help="Backups to keep per database.")],
    dir: DirOpt = Path("backups"),
    as_json: JsonOpt = False,
) -> None:
    """Delete all but the --keep newest backups of each database in --dir."""
    from dbmedic import api

    with handled_errors():
        removed = api.prune_backups(dir, keep)
    if as_json:
        print_json({"removed": [str(p) for p in removed]})
        return
    stdout.print(f"removed {len(removed)} backups" if removed else "nothing to remove")
    raise typer.Exit(int(ExitCode.OK))
