"""The framework adapter interface and registry.

An adapter knows one migration tool: where its files live, what its tracking table looks like,
how to run it for real (``php artisan migrate``, ``manage.py migrate``, ``alembic upgrade``, or
dbmedic's own SQL runner), and how to get the SQL a pending migration would run. Read-only
methods say so. The database an adapter runs against is always passed in (a shadow database for a
rehearsal is just another URL); credentials reach framework processes through the environment,
never argv.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, TypeVar

from dbmedic.errors import ConfigError

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

    from dbmedic.connect import Database
    from dbmedic.model import Migration

Progress = Callable[[int, int, str], None]
"""progress(done, total, current migration id)."""


@dataclass(frozen=True, slots=True)
class MigrateResult:
    """Outcome of running a framework's migrate command (or the native runner)."""

    ok: bool
    applied: tuple[str, ...] = ()
    """Migration ids applied by this run, in order."""
    failed: str | None = None
    """Id of the migration that failed, if one did."""
    error: str | None = None
    """The server's or framework's error text (secrets scrubbed)."""
    statement: str | None = None
    """The statement that failed, where the framework shows it."""
    output: str = ""
    """Combined output of the framework command (secrets scrubbed)."""
    seconds: float = 0.0
    extra: tuple[tuple[str, str], ...] = field(default=())


class Framework:
    """Base class of every adapter; register subclasses with :func:`register_framework`."""

    name: ClassVar[str] = ""
    tracking_table: ClassVar[str] = ""
    runs_natively: ClassVar[bool] = False
    """True for the dbmate-style SQL runner that dbmedic carries out itself."""
    ordered_history: ClassVar[bool] = False
    """True when a migration may only be recorded as applied after every one before it
    (Django's dependency graph, Alembic's heads); False when the record is a set (Laravel, dbmate)."""
    read_only_recognition: ClassVar[bool] = False
    """True for tools dbmedic only reads (Flyway, golang-migrate)."""
    environment: str | None = None
    """The framework's environment name where it has one (Laravel ``--env``); set on the instance."""

    migrate_command: ClassVar[str] = ""
    """The tool's own migrate command, named to the user where dbmedic does not run it."""
    post_fix_hooks: ClassVar[tuple[tuple[str, ...], ...]] = ()
    """Commands (argv, run in the app folder) after a repair when the configuration names none.
    They must not change the schema (cache clearing): the run records the schema before them
    instead of reading it again after each (``Step.keeps_schema``)."""

    def detect(self, root: Path) -> bool:
        """Read-only: does the application folder use this framework?"""
        raise NotImplementedError

    def detect_database(self, tables: set[str]) -> bool:
        """Read-only: do the database's table names look like this framework's tracking table?"""
        return self.tracking_table in tables

    def recognises(self, db: Database) -> bool:
        """Read-only: does the tracking table have this framework's columns? (Two tools share
        the name ``schema_migrations``: dbmate's has a text ``version``, golang-migrate's a
        ``dirty`` flag.) Called only after :meth:`detect_database` matched."""
        return True

    def database_url(self, root: Path, environment: str | None = None) -> str | None:
        """Read-only: the app's own database URL (Laravel ``.env`` DB_*, dbmate DATABASE_URL...)."""
        return None

    def hook_env(self, url: URL, root: Path) -> dict[str, str]:
        """Environment variables of the post-fix hooks run in ``root`` after a repair of ``url``
        (credentials only here, never on a command line); none by default."""
        return {}

    def production_signs(self, root: Path, environment: str | None = None) -> tuple[str, ...]:
        """Read-only, no database: why the app's own configuration says it runs in production
        (Laravel ``APP_ENV=production``, Django production settings), one phrase each; () when
        nothing does. The production guard (:mod:`dbmedic.guard`) refuses changes on these."""
        return ()

    def tracking_tables(self, root: Path) -> tuple[str, ...]:
        """Read-only: the tables holding the record of applied migrations (their rows are copied
        into a shadow database so that the framework sees the same history there)."""
        return (self.tracking_table,)

    def read(self, db: Database, root: Path) -> list[Migration]:
        """Read-only: every migration, ordered, with its state (files joined with the tracking table)."""
        raise NotImplementedError

    def migrate(
        self, db: Database, root: Path, *, progress: Progress | None = None
    ) -> MigrateResult:
        """Writes: run all pending migrations against ``db`` with the framework itself."""
        raise NotImplementedError

    def pending_sql(self, db: Database, root: Path) -> dict[str, list[str]]:
        """The SQL each pending migration would run (pretend / sqlmigrate / offline mode).

        May need a scratch database (Laravel's ``--pretend`` creates its tracking table): callers
        pass a shadow ``db``. Returns {migration id: [statements]} in run order.
        """
        raise NotImplementedError

    def file_sql(self, root: Path, family: str) -> dict[str, list[tuple[str, int]]] | None:
        """Read-only, no database: {migration id: [(statement, line in file)]} for every
        migration, where migrations are SQL files; None where they are code (then the SQL comes
        from :meth:`pending_sql` on an empty scratch database)."""
        return None

    def mark_applied(self, db: Database, root: Path, ids: Sequence[str]) -> None:
        """Writes: record ``ids`` as applied in the framework's own tracking format."""
        raise NotImplementedError

    def framework_status(self, db: Database, root: Path) -> dict[str, bool] | None:
        """Read-only: {migration id: applied?} as the framework's own status command prints it.

        For comparison with :meth:`read` (tests, benchmarks, ``diagnose``). None when the
        framework has no such command or it does not run natively in dbmedic.
        """
        return None


_REGISTRY: dict[str, type[Framework]] = {}
_MODULES = {
    "laravel": "dbmedic.frameworks.laravel",
    "django": "dbmedic.frameworks.django",
    "alembic": "dbmedic.frameworks.alembic",
    "dbmate": "dbmedic.frameworks.dbmate",
    "flyway": "dbmedic.frameworks.flyway",
    "golang-migrate": "dbmedic.frameworks.golang_migrate",
}
F = TypeVar("F", bound=type[Framework])


def register_framework(name: str) -> Callable[[F], F]:
    """Class decorator: make an adapter available under ``name``."""

    def deco(cls: F) -> F:
        cls.name = name
        _REGISTRY[name] = cls
        return cls

    return deco


def known_frameworks() -> list[str]:
    return list(_MODULES)


def get_framework(name: str) -> Framework:
    """The adapter registered as ``name``; ConfigError for an unknown one."""
    if name not in _REGISTRY:
        module = _MODULES.get(name)
        if module is None:
            raise ConfigError(
                f"unknown framework {name!r}", hint=f"use one of: {', '.join(_MODULES)}"
            )
        importlib.import_module(module)
    return _REGISTRY[name]()


def available_frameworks() -> list[Framework]:
    """Every adapter whose module imports (an adapter whose own dependency is missing is left out)."""
    found = []
    for name in _MODULES:
        try:
            found.append(get_framework(name))
        except ImportError:
            continue
    return found


def detect_framework(root: Path, tables: set[str] | None = None) -> Framework:
    """The adapter whose files are in ``root`` (or, failing that, whose tracking table is in ``tables``).

    Raises ConfigError naming the folder when none matches.
    """
    # Tools dbmedic runs first, then those it only reads; each adapter is imported when its turn
    # comes, so a Laravel app loads only the Laravel adapter.
    for read_only in (False, True):
        for name in _MODULES:
            try:
                fw = get_framework(name)
            except ImportError:
                continue
            if fw.read_only_recognition == read_only and fw.detect(root):
                return fw
    if tables is not None:
        for fw in available_frameworks():
            if fw.detect_database(tables):
                return fw
    raise ConfigError(
        f"no migrations found in {root}",
        hint="expected Laravel (artisan), Django (manage.py), Alembic (alembic.ini) or SQL files in db/migrations",
    )
