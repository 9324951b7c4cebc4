"""The options of ``dbmedic status`` and ``dbmedic backup``, defined once and without Typer.

:mod:`dbmedic.cli.app`, :mod:`dbmedic.cli.migration_cmds` and :mod:`dbmedic.cli.backup_cmds`
make their Typer options from these (``--json``, ``--debug`` and ``--env`` serve every
command), and :mod:`dbmedic.cli.fast` reads the same definitions when it parses a ``status`` or
``backup`` command line without Typer.
"""

from __future__ import annotations

from pathlib import Path


class Option:
    """A long option: its flag, the command's parameter it fills, its type (``bool`` for a flag
    without value, ``int`` for a count of at least 1), its help text and its default (None; False
    for a flag)."""

    __slots__ = ("default", "flag", "help", "kind", "param")

    def __init__(
        self, flag: str, param: str, kind: type, help: str, default: object = None
    ) -> None:
        self.flag, self.param, self.kind, self.help = flag, param, kind, help
        self.default = False if kind is bool and default is None else default


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

BACKUP_URL = "Database URL (password from env or option files); default: the --env's url."
"""The help of ``dbmedic backup``'s one argument, the database URL (parameter ``url``)."""
BACKUP_DIR = Option(
    "--dir",
    "dir",
    Path,
    "Folder of the backups; default: backup_dir of dbmedic.toml, else ./backups.",
)
JOBS = Option("--jobs", "jobs", int, "Parallel connections.", default=3)
SCHEMA_ONLY = Option("--schema-only", "schema_only", bool, "No table data.")
BUILTIN = Option("--builtin", "builtin", bool, "Use dbmedic's own dumper.")
EXTERNAL = Option("--external", "external", bool, "Use mariadb-dump / pg_dump.")
GZIP = Option("--gzip", "gzip", bool, "Compress with gzip, not zstd.")
NO_COMPRESS = Option("--no-compress", "no_compress", bool, "Do not compress.")
BACKUP = (ENV, BACKUP_DIR, SCHEMA_ONLY, BUILTIN, EXTERNAL, GZIP, NO_COMPRESS, JOBS, JSON)
"""The options of ``dbmedic backup``, in the order of ``backup_cmd``'s parameters (after ``url``)."""
