"""Migration state of an application's database: which framework, which migrations ran, failed,
are pending; and running pending SQL migrations natively. Generic over the framework registry."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dbmedic.errors import ConfigError
from dbmedic.migration_model import INTERNAL_TABLES, Migration, MigrationState

if TYPE_CHECKING:
    from dbmedic.config import ResolvedTarget
    from dbmedic.connect import Database
    from dbmedic.frameworks.base import Framework, MigrateResult, Progress
    from dbmedic.guard import Clearance, Confirm


@dataclass(frozen=True, slots=True)
class StatusReport:
    """What ``dbmedic status`` shows: every number computed from the files and the database."""

    framework: str
    app: str
    database: str
    """Redacted URL."""
    dialect: str
    tracking_table: str
    migrations: tuple[Migration, ...]
    tables: int
    """Tables in the database (dbmedic's own journal table not counted)."""
    runs_natively: bool = False
    seconds: float = 0.0
    internal_tables: tuple[str, ...] = field(default=())
    """dbmedic's own bookkeeping tables present in the database (not counted in ``tables``)."""

    @property
    def counts(self) -> Mapping[str, int]:
        """Number of migrations per state, every state listed (zero included)."""
        counts = {state.value: 0 for state in MigrationState}
        for m in self.migrations:
            counts[m.state.value] += 1
        return counts

    @property
    def failed(self) -> Migration | None:
        return next((m for m in self.migrations if m.state is MigrationState.FAILED), None)

    @property
    def first_pending(self) -> Migration | None:
        return next((m for m in self.migrations if m.state is MigrationState.PENDING), None)

    @property
    def note(self) -> str | None:
        """Why a failed migration may read as pending, when no failure is recorded.

        Laravel, Django, Alembic (and dbmate run by itself) record only migrations that
        succeeded: after a failed run, the failed migration is pending like the ones after it.
        dbmedic's runner journals failures (dbmate format); Flyway and golang-migrate record
        them too. Those show ``failed``, and no note is needed."""
        first = self.first_pending
        if self.failed is not None or first is None:
            return None
        return (
            f"{self.framework} records only migrations that succeeded: a migration whose run"
            f" failed reads as pending. The next run starts at {first.id}"
            " (`dbmedic diagnose` finds out whether and why it fails)."
        )

    @property
    def ok(self) -> bool:
        """True when every migration is applied and none is failed, missing or changed."""
        return all(m.state is MigrationState.APPLIED for m in self.migrations)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": "dbmedic.status/1",
            "framework": self.framework,
            "app": self.app,
            "database": self.database,
            "dialect": self.dialect,
            "tracking_table": self.tracking_table,
            "tables": self.tables,
            "internal_tables": list(self.internal_tables),
            "counts": dict(self.counts),
            "total": len(self.migrations),
            "failed": self.failed.id if self.failed else None,
            "first_pending": self.first_pending.id if self.first_pending else None,
            "note": self.note,
            "ok": self.ok,
            "seconds": round(self.seconds, 3),
            "migrations": [
                {
                    "id": m.id,
                    "name": m.name,
                    "file": m.file,
                    "state": m.state.value,
                    "batch": m.batch,
                    "applied_at": m.applied_at,
                    "checksum": m.checksum,
                    **({"details": dict(m.extra)} if m.extra else {}),
                }
                for m in self.migrations
            ],
        }


@dataclass(frozen=True, slots=True)
class MigrateReport:
    """Outcome of ``dbmedic migrate``: the runner's result and the status afterwards."""

    framework: str
    database: str
    result: MigrateResult
    status: StatusReport

    def to_dict(self) -> dict[str, Any]:
        r = self.result
        return {
            "format": "dbmedic.migrate/1",
            "framework": self.framework,
            "database": self.database,
            "ok": r.ok,
            "applied": list(r.applied),
            "failed": r.failed,
            "error": r.error,
            "statement": r.statement,
            "details": dict(r.extra),
            "seconds": round(r.seconds, 3),
            "status": self.status.to_dict(),
        }


def app_root(app: Path | str) -> Path:
    root = Path(app).expanduser()
    if not root.is_dir():
        raise ConfigError(
            f"application folder {root} does not exist", hint="pass --app with the project folder"
        )
    return root.resolve()


def resolve(
    root: Path, db: str | None, framework: str | None, environment: str | None
) -> tuple[Framework | None, str]:
    """The framework (None: decide from the database's tables) and the database URL to use."""
    from dbmedic.frameworks import detect_framework, get_framework

    fw: Framework | None
    if framework:
        fw = get_framework(framework)
    else:
        try:
            fw = detect_framework(root)
        except ConfigError:
            if db is None:
                raise
            fw = None
    url = db or (fw.database_url(root, environment) if fw else None)
    if not url:
        where = f"{fw.name} configuration" if fw else "application"
        raise ConfigError(
            f"no database URL in the {where} of {root}",
            hint="pass --db URL (or set DATABASE_URL / the framework's settings in .env)",
        )
    return fw, url


def framework_from_tables(database: Database, root: Path, tables: set[str]) -> Framework:
    """The framework whose tracking table (and its columns) the database holds."""
    from dbmedic.frameworks import known_frameworks
    from dbmedic.frameworks.base import available_frameworks

    for fw in available_frameworks():
        if fw.detect_database(tables) and fw.recognises(database):
            return fw
    raise ConfigError(
        f"no migrations found in {root} and no tracking table dbmedic recognises in {database.display}",
        hint=f"pass --framework (one of: {', '.join(known_frameworks())})",
    )


def status(
    app: Path | str,
    db: str | None = None,
    framework: str | None = None,
    environment: str | None = None,
) -> StatusReport:
    """Read-only: the migrations of ``app`` and their state in database ``db`` (or the app's own).

    Opens the database read-only. Raises ConfigError (no app folder, no migrations, no URL,
    unknown framework), ConnectError, MigrationError (unreadable file, unrecognised table).
    """
    from dbmedic.connect import open_reference
    from dbmedic.frameworks.tracking import table_names

    started = time.monotonic()
    root = app_root(app)
    fw, url = resolve(root, db, framework, environment)
    # One connection through the driver for every read (no SQLAlchemy: see Database.reading).
    with open_reference(url) as database, database.reading() as conn:
        tables = table_names(database, conn)
        internal = tuple(sorted(tables & INTERNAL_TABLES))
        tables -= set(internal)
        if fw is None:
            fw = framework_from_tables(database, root, tables)
        migrations = fw.read(database, root)
        return StatusReport(
            framework=fw.name,
            app=str(root),
            database=database.display,
            dialect=database.dialect.name,
            tracking_table=fw.tracking_table,
            migrations=tuple(migrations),
            tables=len(tables),
            runs_natively=fw.runs_natively,
            seconds=time.monotonic() - started,
            internal_tables=internal,
        )


def migrate(
    app: Path | str,
    db: str | None = None,
    framework: str | None = None,
    environment: str | None = None,
    *,
    progress: Progress | None = None,
    allow_production: bool = False,
    confirm: Confirm | None = None,
    target: ResolvedTarget | None = None,
    clearance: Clearance | None = None,
) -> MigrateReport:
    """Writes: run the pending SQL migrations of ``app`` with dbmedic's runner, resuming a
    migration that failed halfway at its failed statement.

    Only for frameworks dbmedic runs natively (dbmate-format SQL); raises ConfigError naming the
    framework's own command otherwise. A failing statement is reported in the result, not raised.
    A protected or production target raises RefusedError before any statement is sent, unless
    ``allow_production`` and ``confirm`` returns the typed database name (:mod:`dbmedic.guard`);
    ``target`` is the configured environment the CLI resolved, if any; ``clearance`` the
    guard's answer for this database from earlier in the same operation.
    """
    from dbmedic.connect import open_target
    from dbmedic.guard import assert_may_change

    root = app_root(app)
    fw, url = resolve(root, db, framework, environment)
    if fw is not None:
        _check_native(fw, root)
    assert_may_change(
        url, app=root, environment=target if target is not None else environment,
        allow_production=allow_production, confirm=confirm, clearance=clearance,
    )  # fmt: skip
    with open_target(url) as database:
        if fw is None:
            from dbmedic.frameworks.tracking import table_names

            with database.reading() as conn:
                fw = framework_from_tables(database, root, table_names(database, conn))
        _check_native(fw, root)
        result = fw.migrate(database, root, progress=progress)
        display = database.display
    after = status(root, url, fw.name, environment)
    return MigrateReport(fw.name, display, result, after)


def _check_native(fw: Framework, root: Path) -> None:
    if not fw.runs_natively:
        command = f" ({fw.migrate_command})" if fw.migrate_command else ""
        raise ConfigError(
            f"{root} uses {fw.name}, whose migrations run with its own command{command}",
            hint="dbmedic migrate runs SQL migrations (dbmate format) only",
        )
