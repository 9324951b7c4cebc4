"""Command-line interface: ``dbmedic COMMAND``. A thin layer over :mod:`dbmedic.api`.

:func:`main` runs a plain ``dbmedic status`` or ``dbmedic backup`` command line without loading
Typer (:mod:`dbmedic.cli.fast`), everything else with the Typer application of
:mod:`dbmedic.cli.commands`, loaded on first use: ``from dbmedic.cli import app`` still gives it.
"""

from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING, Any

from dbmedic.cli.output import ExitCode, error, state

if TYPE_CHECKING:
    from dbmedic.cli.commands import app, app_for


class _Cli(types.ModuleType):
    """Keeps ``dbmedic.cli.app`` the Typer application: the import system would bind the
    submodule of that name (``dbmedic/cli/app.py``, in ``sys.modules`` as usual) over it."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "app" and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Cli


def __getattr__(name: str) -> Any:
    """``app`` and ``app_for`` load the Typer application on first use."""
    if name in ("app", "app_for"):
        from dbmedic.cli import commands

        return getattr(commands, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``dbmedic`` console script: errors become one sentence and exit 2."""
    from dbmedic.errors import DbmedicError

    args = list(argv if argv is not None else sys.argv[1:])
    if "--debug" in args:
        state["debug"] = True
    try:
        from dbmedic.cli.fast import run_fast

        returned = run_fast(args)
        if returned is None:
            from dbmedic.cli.commands import app_for

            # Without standalone mode click returns (not raises) a command's typer.Exit code.
            returned = app_for(args)(args=args, standalone_mode=False, prog_name="dbmedic")
            if returned == ExitCode.INTERRUPTED:  # Typer turns Ctrl-C into this exit code
                error("interrupted")
    except KeyboardInterrupt:
        error("interrupted")
        sys.exit(int(ExitCode.INTERRUPTED))
    except SystemExit:
        raise
    except DbmedicError as e:
        if state["debug"]:
            raise
        code = (
            ExitCode(e.exit_code)
            if e.exit_code in ExitCode._value2member_map_
            else ExitCode.TROUBLE
        )
        error(str(e))
        sys.exit(int(code))
    except Exception as e:  # an unexpected error: one sentence, exit 2, never 1
        click = sys.modules.get("click")  # only Typer's path can raise its exceptions
        if click is not None:
            if isinstance(e, click.exceptions.Exit):
                sys.exit(e.exit_code)
            if isinstance(e, click.ClickException):
                e.show()
                sys.exit(e.exit_code)
            if isinstance(e, click.exceptions.Abort):
                error("aborted")
                sys.exit(int(ExitCode.INTERRUPTED))
        if state["debug"]:
            raise
        error(f"unexpected error: {type(e).__name__}: {e} (run with --debug for the traceback)")
        sys.exit(int(ExitCode.TROUBLE))
    sys.exit(returned if isinstance(returned, int) else 0)


__all__ = ["ExitCode", "app", "app_for", "main"]
