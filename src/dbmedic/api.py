"""The library API: one function per command. Never prints, prompts or exits.

Functions return result dataclasses and raise :class:`dbmedic.errors.DbmedicError`; progress
is reported through an optional ``progress`` callback. The CLI is a thin layer over this module.
"""

from __future__ import annotations

__all__: list[str] = []


# --- migrations: status, migrate, demo (owner: migrations branch) ------------------------------
from typing import TYPE_CHECKING as _TYPE_CHECKING

if _TYPE_CHECKING:
    from pathlib import Path

    from dbmedic.demo.build import DemoResult
    from dbmedic.frameworks.base import Progress
    from dbmedic.migrations import MigrateReport, StatusReport


def status(
    app: Path | str,
    db: str | None = None,
    framework: str | None = None,
    environment: str | None = None,
) -> StatusReport:
    """Read-only: framework, migrations with their state, counts per state, table count.

    ``db`` defaults to the app's own configuration (dbmate DATABASE_URL, Laravel .env...).
    Raises ConfigError, ConnectError or MigrationError (one sentence each).
    """
    from dbmedic.migrations import status as _status

    return _status(app, db, framework, environment)


def migrate(
    app: Path | str,
    db: str | None = None,
    framework: str | None = None,
    environment: str | None = None,
    *,
    progress: Progress | None = None,
) -> MigrateReport:
    """Writes: run pending SQL (dbmate-format) migrations natively, resuming a half-run one."""
    from dbmedic.migrations import migrate as _migrate

    return _migrate(app, db, framework, environment, progress=progress)


def demo(directory: Path | str | None = None, *, progress: Progress | None = None) -> DemoResult:
    """Writes (only inside ``directory``): build the seed incident on SQLite: an example app, a
    production database with the full history and a staging database stopped at the failure."""
    from dbmedic.demo.build import build_demo

    return build_demo(directory, progress=progress)


__all__ += ["demo", "migrate", "status"]
