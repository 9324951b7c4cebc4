"""The migration half of the model: migrations with their state, dbmedic's own tables, ``Extra``.

Kept apart from the schema classes of :mod:`dbmedic.model` (which re-exports everything here), so
that ``dbmedic status`` loads two small classes instead of a dozen dataclasses: building those
costs more than reading a tracking table.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

Extra = tuple[tuple[str, str], ...]
"""Dialect-only facts as a small sorted bag, e.g. (("on_update", "CURRENT_TIMESTAMP"),)."""


def extra(**facts: str | None) -> Extra:
    """Build a sorted ``Extra`` bag, leaving out facts whose value is None."""
    return tuple(sorted((k, v) for k, v in facts.items() if v is not None))


JOURNAL_TABLE = "dbmedic_migration_journal"
"""The native runner's statement journal (:mod:`dbmedic.runner`); exists only while a migration
is unfinished."""
INTERNAL_TABLES = frozenset({JOURNAL_TABLE})
"""Tables dbmedic itself writes into an application's database (the native runner's statement
journal). They are not part of the application's schema: inspection leaves them out, so diff,
verify, snapshots and parity never report them as extra tables nor plan to drop them."""


class MigrationState(StrEnum):
    APPLIED = "applied"
    PENDING = "pending"
    FAILED = "failed"
    MISSING_FILE = "missing-file"
    """Recorded as applied, but the file is gone."""
    CHECKSUM_CHANGED = "checksum-changed"
    """Recorded as applied, but the file changed since."""


@dataclass(frozen=True, slots=True)
class Migration:
    id: str
    """The framework's own id: Laravel file stem, ``app.0001_initial``, an Alembic revision, a dbmate version."""
    file: str | None
    """Path relative to the application folder, None when the file is missing."""
    state: MigrationState
    batch: int | None = None
    applied_at: str | None = None
    checksum: str | None = None
    name: str | None = None
    """Human description where it differs from the id (Alembic message, Flyway description)."""
    extra: Extra = ()
