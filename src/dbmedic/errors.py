"""The one exception family of dbmedic.

Every error a user can cause or meet is a :class:`DbmedicError` whose ``str()`` is one clear
sentence: what failed, where (a redacted URL, a file and line), and what to do next. The CLI prints
that sentence and exits 2; the library raises it. Subclasses carry the data a caller may want.
"""

from __future__ import annotations


class DbmedicError(Exception):
    """Base of every error dbmedic raises on purpose; ``str(err)`` is safe to show (no secrets)."""

    exit_code: int = 2

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(message if hint is None else f"{message}; {hint}")


class ConfigError(DbmedicError):
    """A URL, option, configuration file or environment variable is wrong."""


class ConnectError(DbmedicError):
    """A database cannot be reached or opened (carries the redacted URL)."""

    def __init__(self, message: str, *, url: str | None = None, hint: str | None = None) -> None:
        self.url = url
        super().__init__(message, hint=hint)


class UnsupportedDialect(ConfigError):
    """The URL names a database kind dbmedic does not handle."""


class InspectError(DbmedicError):
    """Reading the catalog of a database failed."""


class SnapshotError(DbmedicError):
    """A snapshot file is missing, not JSON, truncated or from an unknown format version."""

    def __init__(self, message: str, *, path: str | None = None, hint: str | None = None) -> None:
        self.path = path
        super().__init__(message, hint=hint)


class MigrationError(DbmedicError):
    """A migration could not be read or run (carries the migration id, file and line if known)."""

    def __init__(
        self,
        message: str,
        *,
        migration: str | None = None,
        file: str | None = None,
        line: int | None = None,
        statement: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.migration = migration
        self.file = file
        self.line = line
        self.statement = statement
        super().__init__(message, hint=hint)


class FrameworkError(MigrationError):
    """The framework itself (artisan, manage.py, alembic) failed or is not what we expected."""


class BackupError(DbmedicError):
    """A backup could not be taken, verified or restored."""


class RefusedError(DbmedicError):
    """An action was refused for safety (destructive, production); nothing was changed."""

    exit_code = 3


class StepFailed(DbmedicError):
    """A repair step failed (carries the statement); rollback state is reported separately."""

    def __init__(
        self, message: str, *, statement: str | None = None, hint: str | None = None
    ) -> None:
        self.statement = statement
        super().__init__(message, hint=hint)
