"""The Typer application, exit codes, shared options and output helpers. Only the CLI prints."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import IntEnum
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer

if TYPE_CHECKING:
    from rich.console import Console


class ExitCode(IntEnum):
    """Exit codes with diff(1) meaning."""

    OK = 0
    """In sync / done and verified."""
    DIFFERENT = 1
    """diff, verify, lint found something."""
    TROUBLE = 2
    """Bad input, unreachable, a step failed and was rolled back."""
    REFUSED = 3
    """Destructive or production without override; nothing changed."""
    NOT_ROLLED_BACK = 4
    """A step failed and rollback failed too: a human must look."""
    HOOK_FAILED = 5
    """fix: repaired and verified, then a post-fix hook failed (the repair is kept)."""
    INTERRUPTED = 130


app = typer.Typer(
    name="dbmedic",
    help="Diagnose and repair databases whose schema migrations failed halfway.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)

state: dict[str, Any] = {"debug": False}


class _LazyConsole:
    """A Rich ``Console`` created on first use: importing Rich costs ~40 ms, which a command
    that prints nothing through Rich (``inspect -o``, ``--json``) need not pay."""

    def __init__(self, **options: Any) -> None:
        object.__setattr__(self, "_options", options)
        object.__setattr__(self, "_console", None)

    def _get(self) -> Console:
        console = object.__getattribute__(self, "_console")
        if console is None:
            from rich.console import Console

            console = Console(**object.__getattribute__(self, "_options"))
            object.__setattr__(self, "_console", console)
        return cast("Console", console)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._get(), name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._get(), name, value)


stdout = cast("Console", _LazyConsole(highlight=False, soft_wrap=False))
stderr = cast("Console", _LazyConsole(stderr=True, highlight=False))


def escape(text: str) -> str:
    """Rich's ``markup.escape`` (imported when first needed)."""
    from rich.markup import escape as rich_escape

    return rich_escape(text)


JsonOpt = Annotated[
    bool, typer.Option("--json", help="Print the result as JSON on stdout, nothing else.")
]
DebugOpt = Annotated[bool, typer.Option("--debug", help="Show the traceback of an error.")]
EnvOpt = Annotated[
    str | None,
    typer.Option(
        "--env",
        help="An environment of dbmedic.toml (its url, app, reference...; explicit --db/--app "
        "win); without a configuration: the app's own (Laravel .env.<env>, dbmate <ENV>_DATABASE_URL).",
    ),
]
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


def show_progress() -> bool:
    """Progress bars only when stderr is a terminal."""
    return sys.stderr.isatty()


def print_json(data: Any) -> None:
    """Write ``data`` as indented JSON to stdout (and nothing else)."""
    import json

    sys.stdout.write(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


def fail(message: str, code: ExitCode = ExitCode.TROUBLE) -> typer.Exit:
    """Print ``dbmedic: message`` on stderr and return the Exit to raise."""
    from dbmedic.secrets import scrub

    stderr.print(f"[bold red]dbmedic:[/] {escape(scrub(message))}", soft_wrap=True)
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
