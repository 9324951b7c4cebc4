"""Command-line interface: ``dbmedic COMMAND``. A thin layer over :mod:`dbmedic.api`."""

from __future__ import annotations

import sys

import typer

from dbmedic.cli.app import ExitCode, app, fail, state

# Command modules register themselves on ``app`` when imported.
from dbmedic.cli import schema_cmds  # noqa: F401  isort: skip
from dbmedic.cli import backup_cmds  # noqa: F401  isort: skip
from dbmedic.cli import migration_cmds  # noqa: F401  isort: skip
from dbmedic.cli import diagnose_cmds  # noqa: F401  isort: skip
from dbmedic.cli import fix_cmds  # noqa: F401  isort: skip
from dbmedic.cli import config_cmds  # noqa: F401  isort: skip
from dbmedic.cli import runs_cmds  # noqa: F401  isort: skip


def app_for(argv: list[str]) -> typer.Typer:
    """The app that runs ``argv``: for ``dbmedic [--debug] COMMAND ...`` a copy of ``app``
    holding only COMMAND, else ``app`` itself (no command, ``--help``/``--version`` first, a
    name that is no command: Click lists or suggests the others).

    Typer builds the Click command of every registered command, signatures and help included,
    on each run (~10 ms for all of them); one is enough to parse a command line. The copy has
    the same settings, root options and command objects, so Typer parses and reports exactly
    as with the whole app (tests/test_cli_routing.py compares help and errors of each command)."""
    import copy

    from typer.main import get_command_name

    name = next((a for a in argv if a != "--debug"), None)
    if name is None or name.startswith("-"):
        return app
    commands = [
        c
        for c in app.registered_commands
        if (c.name or get_command_name(c.callback.__name__ if c.callback else "")) == name
    ]
    groups = [g for g in app.registered_groups if g.name == name]
    if not commands and not groups:
        return app
    single = copy.copy(app)
    single.registered_commands, single.registered_groups = commands, groups
    return single


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``dbmedic`` console script: errors become one sentence and exit 2."""
    from dbmedic.errors import DbmedicError

    args = list(argv if argv is not None else sys.argv[1:])
    if "--debug" in args:
        state["debug"] = True
    try:
        # Without standalone mode click returns (not raises) a command's typer.Exit code.
        returned = app_for(args)(args=args, standalone_mode=False, prog_name="dbmedic")
    except KeyboardInterrupt:
        raise fail("interrupted", ExitCode.INTERRUPTED) from None
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
        fail(str(e), code)
        sys.exit(int(code))
    except Exception as e:  # an unexpected error: one sentence, exit 2, never 1
        import click

        if isinstance(e, click.exceptions.Exit):
            sys.exit(e.exit_code)
        if isinstance(e, click.ClickException):
            e.show()
            sys.exit(e.exit_code)
        if isinstance(e, click.exceptions.Abort):
            fail("aborted", ExitCode.INTERRUPTED)
            sys.exit(int(ExitCode.INTERRUPTED))
        if state["debug"]:
            raise
        fail(f"unexpected error: {type(e).__name__}: {e} (run with --debug for the traceback)")
        sys.exit(int(ExitCode.TROUBLE))
    sys.exit(returned if isinstance(returned, int) else 0)


__all__ = ["ExitCode", "app", "app_for", "main"]
