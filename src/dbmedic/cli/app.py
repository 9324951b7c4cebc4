"""The Typer application, shared options and helpers. Only the CLI prints.

Exit codes and output helpers live in :mod:`dbmedic.cli.output` (no Typer, for the fast
``status`` path) and are re-exported here, as are the option definitions' Typer forms."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated

import typer

from dbmedic.cli import options
from dbmedic.cli.output import (
    ExitCode,
    error,
    escape,
    print_json,
    show_progress,
    state,
    stderr,
    stdout,
)

__all__ = [
    "AllowProductionOpt",
    "DebugOpt",
    "EnvOpt",
    "ExitCode",
    "JsonOpt",
    "app",
    "escape",
    "fail",
    "handled_errors",
    "print_json",
    "show_progress",
    "state",
    "stderr",
    "stdout",
    "typed_confirmation",
]

app = typer.Typer(
    name="dbmedic",
    help="Diagnose and repair databases whose schema migrations failed halfway.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)

JsonOpt = Annotated[bool, typer.Option(options.JSON.flag, help=options.JSON.help)]
DebugOpt = Annotated[bool, typer.Option(options.DEBUG.flag, help=options.DEBUG.help)]
EnvOpt = Annotated[str | None, typer.Option(options.ENV.flag, help=options.ENV.help)]
AllowProductionOpt = Annotated[
    bool,
    typer.Option(
        "--allow-production",
        help="Change a protected or production-looking database after typing its name at a prompt "
        "(refused without a terminal).",
    ),
]


def stdin_is_terminal() -> bool:
    """Whether a person can answer a prompt (tests replace this)."""
    return sys.stdin.isatty()


def typed_confirmation() -> Callable[[str], str] | None:
    """The production guard's ``confirm`` callback: a prompt on stderr, only on a terminal.

    An answer is remembered per prompt, so a command may check early (before a progress bar)
    and the library check again with the same callback without asking twice."""
    if not stdin_is_terminal():
        return None
    answers: dict[str, str] = {}

    def ask(prompt: str) -> str:
        import click

        if prompt not in answers:
            try:
                answers[prompt] = str(
                    typer.prompt(prompt, default="", show_default=False, err=True)
                )
            except click.exceptions.Abort:
                answers[prompt] = ""
        return answers[prompt]

    return ask


def fail(message: str, code: ExitCode = ExitCode.TROUBLE) -> typer.Exit:
    """Print ``dbmedic: message`` on stderr and return the Exit to raise."""
    error(message)
    return typer.Exit(int(code))


@contextmanager
def handled_errors() -> Iterator[None]:
    """A DbmedicError becomes ``dbmedic: <sentence>`` and its exit code (3 for a refusal), also
    when the app runs under CliRunner rather than :func:`dbmedic.cli.main`."""
    from dbmedic.errors import DbmedicError

    try:
        yield
    except DbmedicError as e:
        if state["debug"]:
            raise
        code = e.exit_code if e.exit_code in ExitCode._value2member_map_ else ExitCode.TROUBLE
        raise fail(str(e), ExitCode(code)) from None


def _print_version(value: bool) -> None:
    if value:
        from dbmedic import __version__

        stdout.print(f"dbmedic {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    debug: DebugOpt = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Print the version and exit.", is_eager=True, callback=_print_version
        ),
    ] = False,
) -> None:
    """Diagnose and repair databases whose schema migrations failed halfway."""
    state["debug"] = debug
