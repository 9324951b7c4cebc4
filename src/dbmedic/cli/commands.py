"""The whole Typer application: :data:`app` with every command registered, and :func:`app_for`.

Importing this module loads Typer, Click and the command modules; ``dbmedic status`` and
``dbmedic backup`` in their plain forms run without it (:mod:`dbmedic.cli.fast`).
"""

from __future__ import annotations

import typer

from dbmedic.cli.app import app

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


__all__ = ["app", "app_for"]
