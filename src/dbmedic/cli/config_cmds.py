"""Configuration commands: ``dbmedic config check``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dbmedic.cli.app import JsonOpt, app, escape, handled_errors, print_json, stdout

config_app = typer.Typer(help="Check the configuration (dbmedic.toml).", no_args_is_help=True)
app.add_typer(config_app, name="config")


@config_app.command("check")
def check_cmd(
    file: Annotated[
        Path | None,
        typer.Option(
            "--file",
            help="The file to check; default: dbmedic.toml or pyproject.toml [tool.dbmedic] "
            "found from the current folder upward.",
        ),
    ] = None,
    env: Annotated[
        list[str] | None,
        typer.Option(
            "--env", help="Check only this environment's password reference (repeatable)."
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Validate the configuration and list its environments (URLs redacted, no password shown).

    Checks every key and type, that no URL holds a password and that each environment's
    password reference (password_env variable, option_file) can be found. Exit 0 when valid,
    2 with one sentence when not.
    """
    from dbmedic.config import check_config

    with handled_errors():
        result = check_config(file, environments=tuple(env) if env else None)
    if as_json:
        print_json(result.to_dict())
        return
    from rich.table import Table

    config = result.config
    stdout.print(f"[green]valid:[/] {escape(str(config.path))}")
    for label, value in (("state_dir", config.state_dir), ("backup_dir", config.backup_dir)):
        if value is not None:
            stdout.print(f"{label}: {escape(str(value))}")
    if not config.environments:
        stdout.print("no environments defined")
        return
    table = Table(show_lines=True)
    for column in ("environment", "url (password)", "app", "reference", "protected", "hooks"):
        table.add_column(column, overflow="fold")
    for row in result.rows():
        hooks = row["hooks"]
        shown_hooks = (
            "framework default" if hooks is None
            else "none" if not hooks else "; ".join(" ".join(h) for h in hooks)
        )  # fmt: skip
        table.add_row(
            escape(row["name"]),
            escape(row["url"] or "from the app")
            + (f"\n[dim]({escape(row['password'])})[/]" if row["password"] else ""),
            escape(row["app"] or "-"),
            escape(row["reference"] or "-"),
            "[bold red]yes[/]" if row["protected"] else "no",
            escape(shown_hooks),
        )
    stdout.print(table)
