"""``dbmedic COMMAND`` runs on a copy of the app holding only COMMAND (``cli.app_for``): Typer
builds one Click command instead of all of them. Help, errors and results must not change."""

from __future__ import annotations

import click
import pytest
import typer
from typer.testing import CliRunner

from dbmedic.cli import app, app_for


def names() -> list[str]:
    group = typer.main.get_command(app)
    assert isinstance(group, click.Group)
    return sorted(group.commands)


def _both(args: list[str]) -> tuple[tuple[int, str], tuple[int, str]]:
    runner = CliRunner(mix_stderr=False)
    full = runner.invoke(app, args, env={"COLUMNS": "120"})
    single = runner.invoke(app_for(args), args, env={"COLUMNS": "120"})
    return (full.exit_code, full.stdout + full.stderr), (
        single.exit_code,
        single.stdout + single.stderr,
    )


@pytest.mark.parametrize("name", names())
def test_command_alone_parses_like_the_whole_app(name: str) -> None:
    assert app_for(["--debug", name]) is not app
    group = typer.main.get_command(app_for([name]))
    assert isinstance(group, click.Group) and list(group.commands) == [name]
    for args in ([name, "--help"], [name, "--no-such-option"], ["--debug", name, "--help"]):
        full, single = _both(args)
        assert single == full, args


@pytest.mark.parametrize(
    "args", [[], ["--help"], ["--version"], ["--help", "status"], ["stauts"], ["-x", "status"]]
)
def test_without_a_command_first_the_whole_app_runs(args: list[str]) -> None:
    assert app_for(args) is app
