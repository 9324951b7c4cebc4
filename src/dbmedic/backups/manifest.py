"""The backup manifest: what a backup holds and how to check it, as versioned JSON.

A backup is a directory ``<db>-<UTC timestamp>/`` with ``manifest.json`` and the dump files it
lists. The manifest records the server, the database's charset and collation, every table with its
row count and content checksum, the tool that made the dump, and each file with its size and
sha256, so that a restore can refuse a damaged backup before it touches anything and prove
afterwards that the data arrived. It never holds a secret (the URL is stored redacted).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from dbmedic.errors import BackupError

FORMAT = "dbmedic.backup/1"
MANIFEST = "manifest.json"


@dataclass(frozen=True, slots=True)
class Part:
    """A slice of a table checked on its own: primary-key bounds (text), rows and digest."""

    rows: int
    digest: str
    lo: str | None = None
    hi: str | None = None


@dataclass(frozen=True, slots=True)
class TableEntry:
    """One table: rows and a content checksum computed the same way at backup and after restore.

    ``method`` names how ``checksum`` was computed (``mysql-keys3q``, ``postgresql-md5sum``,
    ``sqlite-rows3``...) and ``parts`` holds the slices it was computed over, so the check after a
    restore uses exactly the same slices.
    """

    name: str
    rows: int
    checksum: str
    method: str
    parts: tuple[Part, ...] = ()
    schema: str | None = None


@dataclass(frozen=True, slots=True)
class FileEntry:
    """A file of the backup, relative to its directory."""

    path: str
    size: int
    sha256: str


@dataclass(frozen=True, slots=True)
class Manifest:
    """Everything known about one backup (``format`` is ``dbmedic.backup/1``)."""

    dialect: str
    family: str
    database: str
    source: str
    """The redacted URL the backup was taken from."""
    server_version: str
    method: str
    """How the dump was made and must be restored: ``mysql-builtin``, ``mariadb-dump``..."""
    tool: str
    tool_version: str
    compression: str
    schema_only: bool
    started: str
    finished: str
    charset: str | None = None
    collation: str | None = None
    grants: tuple[str, ...] = ()
    tables: tuple[TableEntry, ...] = ()
    files: tuple[FileEntry, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)
    format: str = FORMAT

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Manifest:
        tables = tuple(
            TableEntry(
                **{
                    **t,
                    "parts": tuple(Part(**p) for p in t.get("parts", ())),
                }
            )
            for t in data.get("tables", ())
        )
        files = tuple(FileEntry(**f) for f in data.get("files", ()))
        grants = tuple(data.get("grants", ()))
        return cls(**{**data, "tables": tables, "files": files, "grants": grants})


def read_manifest(directory: Path) -> Manifest:
    """Load ``directory/manifest.json``; raises BackupError when missing, corrupt or unknown."""
    path = directory / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupError(
            f"{directory} is not a dbmedic backup (no {MANIFEST})",
            hint="pass a directory made by `dbmedic backup`",
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise BackupError(
            f"the manifest of {directory} is unreadable or corrupt ({type(e).__name__})",
            hint="this backup cannot be trusted; use another one",
        ) from e
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        found = data.get("format") if isinstance(data, dict) else None
        raise BackupError(
            f"{directory} has an unknown backup format {found!r}",
            hint=f"this dbmedic reads {FORMAT}",
        )
    try:
        return Manifest.from_dict(data)
    except (TypeError, ValueError) as e:
        raise BackupError(
            f"the manifest of {directory} is corrupt ({e})", hint="use another backup"
        ) from e


def write_manifest(directory: Path, manifest: Manifest) -> None:
    (directory / MANIFEST).write_text(manifest.to_json(), encoding="utf-8")


def file_sha256(path: Path) -> str:
    """sha256 of a file, read in 1 MiB blocks (memory stays flat)."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def combine(parts: tuple[Part, ...] | list[Part]) -> str:
    """The table checksum: sha256 over its parts' bounds, rows and digests, in order."""
    digest = hashlib.sha256()
    for p in parts:
        digest.update(f"{p.lo}\x00{p.hi}\x00{p.rows}\x00{p.digest}\n".encode())
    return digest.hexdigest()


def md5_64(raw: bytes) -> int:
    """The row hash of checksum methods from before xxh3 (``mysql-sum``, ``sqlite-rows``): the
    first 64 bits of the row's md5, summed over the rows."""
    return int.from_bytes(hashlib.md5(raw, usedforsecurity=False).digest()[:8], "big")


def unknown_method(method: str) -> BackupError:
    """The error for a table checksum method this version does not know (a newer backup)."""
    return BackupError(
        f"the backup's table checksums were made with {method!r}, unknown to this dbmedic",
        hint="restore it with the dbmedic version that made it",
    )
