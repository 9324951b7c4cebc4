"""The options of ``dbmedic status``, defined once and without Typer.

:mod:`dbmedic.cli.app` and :mod:`dbmedic.cli.migration_cmds` make their Typer options from these
(``--json``, ``--debug`` and ``--env`` serve every command), and :mod:`dbmedic.cli.fast` reads
the same definitions when it parses a ``status`` command line without Typer.
"""

from __future__ import annotations

from pathlib import Path


class Option:
    """A long option: its flag, the ``status_cmd`` parameter it fills, its type (``bool`` for a
    flag without value) and its help text."""

    __slots__ = ("flag", "help", "kind", "param")

    def __init__(self, flag: str, param: str, kind: type, help: str) -> None:
        self.flag, self.param, self.kind, self.help = flag, param, kind, help


JSON = Option("--json", "as_json", bool, "Print the result as JSON on stdout, nothing else.")
DEBUG = Option("--debug", "debug", bool, "Show the traceback of an error.")
ENV = Option(
    "--env",
    "env",
    str,
    "An environment of dbmedic.toml (its url, app, reference...; explicit --db/--app win); "
    "without a configuration: the app's own (Laravel .env.<env>, dbmate <ENV>_DATABASE_URL).",
)
APP = Option(
    "--app",
    "app_dir",
    Path,
    "The application folder (with its migrations); default: the --env's app, else the "
    "current folder.",
)
DB = Option(
    "--db",
    "db",
    str,
    "Database URL; default: the --env's url, else the app's own configuration (.env).",
)
FRAMEWORK = Option(
    "--framework", "framework", str, "laravel, django, alembic, dbmate, flyway, golang-migrate."
)

STATUS = (APP, DB, FRAMEWORK, ENV, JSON)
"""The options of ``dbmedic status``, in the order of ``status_cmd``'s parameters."""
