"""Command-line interface: ``dbmedic COMMAND``. A thin layer over :mod:`dbmedic.api`."""

from __future__ import annotations

import sys

from dbmedic.cli.app import ExitCode, app, fail, state

# Command modules register themselves on ``app`` when imported.
from dbmedic.cli import schema_cmds  # noqa: F401  isort: skip
from dbmedic.cli import backup_cmds  # noqa: F401  isort: skip
from dbmedic.cli import migration_cmds  # noqa: F401  isort: skip
from dbmedic.cli import diagnose_cmds  # noqa: F401  isort: skip
from dbmedic.cli import fix_cmds  # noqa: F401  isort: skip
from dbmedic.cli import config_cmds  # noqa: F401  isort: skip
from dbmedic.cli import runs_cmds  # noqa: F401  isort: skip


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``dbmedic`` console script: errors become one sentence and exit 2."""
    from dbmedic.errors import DbmedicError

    if "--debug" in (argv if argv is not None else sys.argv[1:]):
        state["debug"] = True
    try:
        # Without standalone mode click returns (not raises) a command's typer.Exit code.
        returned = app(args=argv, standalone_mode=False, prog_name="dbmedic")
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


__all__ = ["ExitCode", "app", "main"]
