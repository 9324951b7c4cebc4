"""The library API: one function per command. Never prints, prompts or exits.

Functions return result dataclasses and raise :class:`dbmedic.errors.DbmedicError`; progress
is reported through an optional ``progress`` callback. The CLI is a thin layer over this module.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

    from dbmedic.connect import Database
    from dbmedic.diff import Diff
    from dbmedic.model import Schema
    from dbmedic.verify import Verdict

__all__: list[str] = []

# === schema: inspect, snapshot, diff, verify ==================================================
# (owner: schema branch) Imports stay inside the functions so that `import dbmedic` is cheap.

Progress = Callable[[int, int, str], None]
"""progress(done, total, what is happening)."""


def inspect(url: str | URL, progress: Progress | None = None) -> Schema:
    """Read the schema of the database at ``url`` (opened read-only; nothing is written).

    Raises ConfigError (bad URL), ConnectError (unreachable, refused), InspectError.
    """
    from dbmedic.connect import open_reference
    from dbmedic.inspect import inspect_schema

    with open_reference(url) as db:
        return inspect_schema(db, progress)


def snapshot(
    url: str | URL, path: str | os.PathLike[str], progress: Progress | None = None
) -> Schema:
    """Inspect ``url`` and write its snapshot to ``path`` (atomically); returns the Schema.

    Nothing is written when inspection fails. Raises like :func:`inspect`, and SnapshotError
    when the file cannot be written.
    """
    from dbmedic.inspect import save_snapshot

    schema = inspect(url, progress)
    save_snapshot(schema, path)
    return schema


def load(source: Schema | str | os.PathLike[str], progress: Progress | None = None) -> Schema:
    """The schema behind ``source``: a Schema (returned as is), a URL or a snapshot path."""
    from dbmedic.inspect import load_source
    from dbmedic.model import Schema

    if isinstance(source, Schema):
        return source
    return load_source(source, progress)


def diff(
    source: Schema | str | os.PathLike[str],
    target: Schema | str | os.PathLike[str],
    strict_order: bool = False,
    progress: Progress | None = None,
) -> Diff:
    """What makes TARGET match SOURCE (each a URL, a snapshot path or a Schema), with parity.

    ``diff.is_empty`` is True for identical schemas; column order counts only with
    ``strict_order``. Reads only; raises ConfigError, ConnectError, InspectError, SnapshotError.
    """
    from dbmedic.diff import diff_schemas

    return diff_schemas(load(source, progress), load(target, progress), strict_order=strict_order)


def diff_sql(
    source: Schema | str | os.PathLike[str],
    target: Schema | str | os.PathLike[str],
    allow_drop: bool = False,
) -> list[str]:
    """DDL statements, in TARGET's dialect and safe order, that make TARGET match SOURCE.

    Tables come in foreign-key order (keys closing a cycle are added last). Drops of tables,
    columns and objects SOURCE lacks are left out unless ``allow_drop``. Nothing is executed.
    """
    from dbmedic.dialects import get_dialect
    from dbmedic.diff import diff_schemas, split_drops

    src, tgt = load(source), load(target)
    changes = diff_schemas(src, tgt).changes
    if not allow_drop:
        changes = tuple(split_drops(changes)[0])
    return get_dialect(tgt.dialect).render(changes, current=tgt)


def verify(
    target: Database | str | URL,
    reference: Schema | str | os.PathLike[str] | None = None,
    expect_tables: int | None = None,
    critical: Iterable[str] = (),
    strict_order: bool = False,
    progress: Progress | None = None,
) -> Verdict:
    """Check ``target`` (connection, table count, critical tables, parity with ``reference``).

    ``verdict.in_sync`` is True only when every check holds; ``verdict.failed`` lists the rest.
    Never writes. An unreachable target is a failed check; a bad reference raises.
    """
    from dbmedic.verify import verify as run_verify

    ref = (
        reference if reference is None or not isinstance(reference, os.PathLike) else str(reference)
    )
    return run_verify(
        target, ref, expect_tables, critical, strict_order=strict_order, progress=progress
    )


__all__ += ["diff", "diff_sql", "inspect", "load", "snapshot", "verify"]
# === end schema ===============================================================================
