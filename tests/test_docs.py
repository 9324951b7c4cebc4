"""Every command has --help and a section in docs/cli.md naming each of its options."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest
import typer
from typer.testing import CliRunner

from dbmedic.cli import app

DOCS = Path(__file__).resolve().parent.parent / "docs" / "cli.md"


def commands() -> dict[str, click.Command]:
    group = typer.main.get_command(app)
    assert isinstance(group, click.Group)
    return dict(group.commands)


def section(name: str) -> str:
    text = DOCS.read_text()
    match = re.search(rf"^## dbmedic {re.escape(name)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, f"docs/cli.md has no section '## dbmedic {name}'"
    return match.group(1)


def test_there_are_commands() -> None:
    assert {"inspect", "diff", "verify"} <= set(commands())


@pytest.mark.parametrize("name", sorted(commands()))
def test_command_has_help(name: str) -> None:
    result = CliRunner().invoke(app, [name, "--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.output
    assert commands()[name].help, f"{name} has no help text"


def options(command: click.Command) -> list[str]:
    """Long options of a command, and of its subcommands for a group."""
    found = [
        opt
        for param in command.params
        if isinstance(param, click.Option)
        for opt in param.opts
        if opt.startswith("--") and opt != "--help"
    ]
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            found.extend(options(sub))
    return found


@pytest.mark.parametrize("name", sorted(commands()))
def test_command_is_documented_with_every_option(name: str) -> None:
    text = section(name)
    command = commands()[name]
    for opt in options(command):
        assert opt in text, f"docs/cli.md section {name} does not mention {opt}"
    if isinstance(command, click.Group):
        for sub in command.commands:
            assert f"dbmedic {name} {sub}" in text, f"docs/cli.md does not show {name} {sub}"
