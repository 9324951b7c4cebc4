"""Backup commands: ``backup``, ``restore``, ``backups list`` and ``backups prune``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from dbmedic.cli.app import (
    AllowProductionOpt,
    EnvOpt,
    ExitCode,
    JsonOpt,
    app,
    fail,
    print_json,
    show_progress,
    state,
    stderr,
    stdout,
    typed_confirmation,
)

DirOpt = Annotated[Path, typer.Option("--dir", help="Folder of the backups.", show_default=True)]
JobsOpt = Annotated[int, typer.Option("--jobs", min=1, help="Parallel connections.")]

backups_app = typer.Typer(help="List and prune backups.", no_args_is_help=True)
app.add_typer(backups_app, name="backups")


def _size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


@contextmanager
def _errors() -> Iterator[None]:
    """A DbmedicError becomes ``dbmedic: <sentence>`` and its exit code, also under CliRunner."""
    from dbmedic.errors import DbmedicError

    try:
        yield
    except DbmedicError as e:
        if state["debug"]:
            raise
        code = e.exit_code if e.exit_code in ExitCode._value2member_map_ else ExitCode.TROUBLE
        raise fail(str(e), ExitCode(code)) from None


@contextmanager
def _progress(enabled: bool, title: str) -> Iterator[Callable[[Any], None] | None]:
    """A Rich progress line (tables, rows, bytes) on stderr, only on a terminal."""
    if not enabled:
        yield None
        return
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[detail]}"),
        console=stderr,
        transient=True,
    ) as bar:
        task = bar.add_task(title, total=None, detail="")

        def update(p: Any) -> None:
            bar.update(
                task,
                description=f"{p.phase}",
                total=p.tables_total or None,
                completed=p.tables_done,
                detail=f"{p.tables_done}/{p.tables_total} tables, {p.rows:,} rows, {_size(p.bytes)}",
            )

        yield update


@app.command("backup")
def backup_cmd(
    url: Annotated[
        str | None,
        typer.Argument(
            help="Database URL (password from env or option files); default: the --env's url."
        ),
    ] = None,
    env: EnvOpt = None,
    dir: Annotated[
        Path | None,
        typer.Option(
            "--dir",
            help="Folder of the backups; default: backup_dir of dbmedic.toml, else ./backups.",
        ),
    ] = None,
    schema_only: Annotated[bool, typer.Option("--schema-only", help="No table data.")] = False,
    builtin: Annotated[bool, typer.Option("--builtin", help="Use dbmedic's own dumper.")] = False,
    external: Annotated[
        bool, typer.Option("--external", help="Use mariadb-dump / pg_dump.")
    ] = False,
    gzip: Annotated[bool, typer.Option("--gzip", help="Compress with gzip, not zstd.")] = False,
    no_compress: Annotated[bool, typer.Option("--no-compress", help="Do not compress.")] = False,
    jobs: JobsOpt = 3,
    as_json: JsonOpt = False,
) -> None:
    """Back up a database into a checked, timestamped folder under --dir."""
    from dbmedic import api

    tool = "builtin" if builtin else "external" if external else "auto"
    compression = "none" if no_compress else "gzip" if gzip else "zstd"
    with _errors():
        target = _target(env, url)
        folder = dir or target.backup_dir or Path("backups")
    with _errors(), _progress(show_progress() and not as_json, "backup") as progress:
        result = api.backup(
            target.url, folder, schema_only=schema_only, tool=tool, compression=compression,
            jobs=jobs, progress=progress,
        )  # fmt: skip
    if as_json:
        print_json(result.to_dict())
        return
    m = result.manifest
    typer.echo(  # plain text: no Rich import (~0.1 s) for one unstyled line
        f"backed up {m.source}: {len(m.tables)} tables, {m.rows:,} rows, {_size(m.size)} "
        f"({m.tool}) -> {result.path}"
    )


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
    with _errors():
        target = _target(env, db)
        # Asked here, before the progress bar draws; restore takes the guard's clearance.
        clearance = api.assert_may_change(
            target.url, environment=target, allow_production=allow_production, confirm=confirm
        )
    with _errors(), _progress(show_progress() and not as_json, "restore") as progress:
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


def _target(env: str | None, url: str | None) -> Any:
    """The database of ``--env`` / the URL given (which wins); ConfigError when neither names one."""
    from dbmedic import api
    from dbmedic.errors import ConfigError

    target = api.resolve_target(env, url)
    if not target.url:
        raise ConfigError(
            "no database given" if env is None else f"environment {env!r} has no url",
            hint="pass the database URL, or --env NAME of an environment with a url",
        )
    return target


@backups_app.command("list")
def list_cmd(dir: DirOpt = Path("backups"), as_json: JsonOpt = False) -> None:
    """List the complete backups in --dir, oldest first."""
    from dbmedic import api

    with _errors():
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
            f"{d['rows']:,}", _size(d["bytes"]), d["started"],
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

    with _errors():
        removed = api.prune_backups(dir, keep)
    if as_json:
        print_json({"removed": [str(p) for p in removed]})
        return
    stdout.print(f"removed {len(removed)} backups" if removed else "nothing to remove")
    raise typer.Exit(int(ExitCode.OK))
