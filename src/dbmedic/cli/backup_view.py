"""``dbmedic backup`` itself, without Typer: what the Typer command and the fast path
(:mod:`dbmedic.cli.fast`) both run, with the progress line and the size format that ``restore``
and ``backups list`` share."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from dbmedic.cli.output import ExitCode, print_json, show_progress, stderr


def size_text(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


@contextmanager
def progress_line(enabled: bool, title: str) -> Iterator[Callable[[Any], None] | None]:
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
                detail=f"{p.tables_done}/{p.tables_total} tables, {p.rows:,} rows, "
                f"{size_text(p.bytes)}",
            )

        yield update


def target_of(env: str | None, url: str | None) -> Any:
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


def run_backup(
    url: str | None,
    env: str | None,
    dir: Path | None,
    schema_only: bool,
    builtin: bool,
    external: bool,
    gzip: bool,
    no_compress: bool,
    jobs: int,
    as_json: bool,
) -> ExitCode:
    """Back up the database into a checked, timestamped folder under ``dir`` and say where
    (JSON or one plain line: no Rich import, ~0.1 s, for it). Raises DbmedicError."""
    from dbmedic import api

    tool = "builtin" if builtin else "external" if external else "auto"
    compression = "none" if no_compress else "gzip" if gzip else "zstd"
    target = target_of(env, url)
    folder = dir or target.backup_dir or Path("backups")
    with progress_line(show_progress() and not as_json, "backup") as progress:
        result = api.backup(
            target.url, folder, schema_only=schema_only, tool=tool, compression=compression,
            jobs=jobs, progress=progress,
        )  # fmt: skip
    if as_json:
        print_json(result.to_dict())
    else:
        m = result.manifest
        sys.stdout.write(
            f"backed up {m.source}: {len(m.tables)} tables, {m.rows:,} rows, {size_text(m.size)} "
            f"({m.tool}) -> {result.path}\n"
        )
    return ExitCode.OK
