"""What the command line prints, and its exit codes: without Typer, so that ``dbmedic status``
can run without loading it (:mod:`dbmedic.cli.fast`). :mod:`dbmedic.cli.app` re-exports all of it."""

from __future__ import annotations

import sys
from enum import IntEnum
from typing import TYPE_CHECKING, Any, cast

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


def show_progress() -> bool:
    """Progress bars only when stderr is a terminal."""
    return sys.stderr.isatty()


def print_json(data: Any) -> None:
    """Write ``data`` as indented JSON to stdout (and nothing else)."""
    import json

    sys.stdout.write(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


def error(message: str) -> None:
    """Print ``dbmedic: message`` on stderr (secrets scrubbed, Rich markup escaped)."""
    from dbmedic.secrets import scrub

    stderr.print(f"[bold red]dbmedic:[/] {escape(scrub(message))}", soft_wrap=True)
