"""Reading a schema from a live database, and the schema behind a URL or snapshot path.

``inspect_schema(db)`` asks the database's dialect to read its catalog (a constant number of bulk
queries) and stamps the result with the time it was taken. ``load_source(spec)`` turns a URL or a
snapshot path into a Schema: the one function diff and verify use. Snapshots themselves live in
:mod:`dbmedic.snapshot`; their functions are re-exported here.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from dbmedic.bulk import bulk_objects
from dbmedic.errors import DbmedicError, InspectError, SnapshotError
from dbmedic.model import Schema
from dbmedic.secrets import scrub
from dbmedic.snapshot import (
    FORMAT,
    FORMAT_TAG,
    VERSION,
    dump_snapshot,
    load_snapshot,
    parse_snapshot,
    save_snapshot,
    schema_from_dict,
    snapshot_dict,
)

if TYPE_CHECKING:
    from dbmedic.connect import Database

__all__ = [
    "FORMAT",
    "FORMAT_TAG",
    "VERSION",
    "Progress",
    "bulk_objects",
    "dump_snapshot",
    "inspect_schema",
    "is_url",
    "load_snapshot",
    "load_source",
    "parse_snapshot",
    "save_snapshot",
    "schema_from_dict",
    "snapshot_dict",
]

Progress = Callable[[int, int, str], None]
"""progress(done, total, what is happening)."""


def inspect_schema(db: Database, progress: Progress | None = None) -> Schema:
    """Read the whole schema of ``db`` on one connection; never writes.

    The result carries the server version, the database name, ``taken_at`` (ISO-8601 UTC) and
    ``inspect_seconds``. dbmedic's own bookkeeping tables (:data:`~dbmedic.model.INTERNAL_TABLES`)
    are left out: they are not the application's. Raises ConnectError when the server cannot be reached, InspectError when
    reading the catalog fails.
    """
    from dbmedic.driver import driver_errors

    if progress:
        progress(0, 1, f"reading the catalog of {db.display}")
    taken_at = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    started = time.perf_counter()
    with db.driver_connect() as conn, bulk_objects():
        try:
            schema = db.dialect.inspect(conn, db.info)
        except DbmedicError:
            raise
        except driver_errors() as e:
            reason = scrub(db.dialect.describe_error(e))
            raise InspectError(f"cannot read the schema of {db.display} ({reason})") from e
    seconds = time.perf_counter() - started
    schema = replace(
        schema.without_internal_tables(),
        database=schema.database or db.info.database or db.name or None,
        server_version=schema.server_version or db.info.version or None,
        charset=schema.charset or db.info.charset,
        collation=schema.collation or db.info.collation,
        taken_at=taken_at,
        inspect_seconds=round(seconds, 4),
    )
    if progress:
        progress(1, 1, f"read {len(schema.tables)} tables of {db.display}")
    return schema


# --- sources ----------------------------------------------------------------------------------

_SQLITE_MAGIC = b"SQLite format 3\x00"


def is_url(spec: str) -> bool:
    return "://" in spec


def load_source(spec: str | os.PathLike[str], progress: Progress | None = None) -> Schema:
    """The schema behind ``spec``: a database URL (opened read-only and inspected), a snapshot
    file (``.json``), or a path to an SQLite database file.

    Raises ConfigError, ConnectError, InspectError or SnapshotError.
    """
    from dbmedic.connect import open_reference
    from dbmedic.errors import ConfigError

    text = os.fspath(spec)
    if not is_url(text):
        path = Path(text)
        if path.is_file():
            with open(path, "rb") as fh:
                head = fh.read(len(_SQLITE_MAGIC))
            if head != _SQLITE_MAGIC:
                return load_snapshot(path)
        elif path.suffix.lower() == ".json":
            raise SnapshotError(f"snapshot {path} does not exist", path=str(path))
        elif not path.exists():
            raise ConfigError(
                f"{scrub(text)!r} is neither a database URL nor an existing snapshot file",
                hint="give a URL like mysql://user@host/db or a snapshot taken with `dbmedic inspect -o`",
            )
    with open_reference(text) as db:
        return inspect_schema(db, progress)
