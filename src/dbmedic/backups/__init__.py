"""Backups you can trust: take, check, restore, list and prune.

``backup(url)`` writes ``<dir>/<db>-<UTC timestamp>.partial/``, fills it through the family's dump
method, writes the manifest, checks that every file it lists is there with its size and only then
renames the directory to its final name, so an interrupted backup never looks valid (each file's
sha256 is taken from the very bytes written, as they are written: reading them back from the page
cache would prove nothing more). ``restore(backup, url)`` checks every file's sha256 before
touching the target, refuses another database family and a target that already has tables
(unless ``force``), restores, then recomputes each table's row count and checksum and raises
:class:`BackupError` on any difference. Nothing here prints; progress goes to the ``progress``
callback.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dbmedic.backups.families import (
    DumpJob,
    Progress,
    ProgressFn,
    RestoreJob,
    Source,
    Tracker,
    get_family,
)
from dbmedic.backups.manifest import MANIFEST, Manifest, file_sha256, read_manifest, write_manifest
from dbmedic.backups.streams import COMPRESSIONS, disk_error
from dbmedic.bulk import bulk_objects
from dbmedic.errors import BackupError, ConfigError

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

    from dbmedic.config import ResolvedTarget
    from dbmedic.connect import Database
    from dbmedic.driver import DbUrl
    from dbmedic.guard import Clearance, Confirm

__all__ = [
    "Backup",
    "BackupCheck",
    "Progress",
    "RestoreResult",
    "backup",
    "list_backups",
    "prune_backups",
    "restore",
    "verify_backup",
]

PARTIAL = ".partial"
DEFAULT_DIR = Path("backups")


@dataclass(frozen=True, slots=True)
class Backup:
    """A complete backup on disk and its manifest."""

    path: Path
    manifest: Manifest

    @property
    def size(self) -> int:
        return self.manifest.size

    def to_dict(self) -> dict[str, Any]:
        m = self.manifest
        return {
            "path": str(self.path),
            "database": m.database,
            "dialect": m.dialect,
            "source": m.source,
            "method": m.method,
            "tool": m.tool,
            "compression": m.compression,
            "schema_only": m.schema_only,
            "started": m.started,
            "finished": m.finished,
            "tables": len(m.tables),
            "rows": m.rows,
            "bytes": m.size,
        }


@dataclass(frozen=True, slots=True)
class BackupCheck:
    """The result of checking a backup's files against its manifest."""

    path: Path
    ok: bool
    problems: tuple[str, ...]
    manifest: Manifest | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"path": str(self.path), "ok": self.ok, "problems": list(self.problems)}


@dataclass(frozen=True, slots=True)
class RestoreResult:
    """A restore that was verified: every table of the backup with its rows and checksum."""

    backup: Path
    target: str
    tables: int
    rows: int
    seconds: float
    created: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "backup": str(self.backup),
            "target": self.target,
            "tables": self.tables,
            "rows": self.rows,
            "seconds": round(self.seconds, 3),
            "created": self.created,
            "verified": True,
        }


def _source(url_or_db: str | URL | Database) -> Source:
    from dbmedic.connect import parse_db_url, parse_url, url_family
    from dbmedic.secrets import redact

    url: URL | DbUrl
    if isinstance(url_or_db, str):
        url = parse_db_url(url_or_db)  # no SQLAlchemy (see Source)
    else:
        url = getattr(url_or_db, "url", None) or parse_url(url_or_db)  # type: ignore[arg-type]
    return Source(url, url_family(url), redact(url), str(url.database or ""))


def _now() -> datetime:
    return datetime.now(UTC)


def _prepare_dir(directory: Path) -> Path:
    directory = directory.expanduser()
    if not directory.exists():
        if not directory.parent.is_dir():
            raise BackupError(
                f"the backup directory {directory} does not exist",
                hint="create it or choose another --dir",
            )
        try:
            directory.mkdir()
        except OSError as e:
            raise disk_error(e, directory) from e
    if not directory.is_dir():
        raise BackupError(f"{directory} is not a directory", hint="choose another --dir")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise BackupError(f"cannot write to {directory}", hint="choose a writable --dir")
    return directory


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(name).name if "/" in name else name) or "db"


def backup(
    url_or_db: str | URL | Database,
    dir: str | Path = DEFAULT_DIR,
    *,
    schema_only: bool = False,
    tool: str = "auto",
    compression: str = "zstd",
    jobs: int = 3,
    progress: ProgressFn | None = None,
) -> Backup:
    """Back up a database into ``dir``; returns the checked :class:`Backup`.

    ``tool``: ``auto`` (fastest available), ``builtin`` (dbmedic's dumper) or ``external``
    (mariadb-dump / pg_dump). Writes only into ``dir``; raises BackupError, ConnectError.
    """
    if compression not in COMPRESSIONS:
        raise ConfigError(f"unknown compression {compression!r}", hint="use zstd, gzip or none")
    if tool not in ("auto", "builtin", "external"):
        raise ConfigError(f"unknown tool {tool!r}", hint="use auto, builtin or external")
    source = _source(url_or_db)
    directory = _prepare_dir(Path(dir))
    family = get_family(source.family)
    facts = family.facts(source)
    method = family.method(tool)
    started = _now()
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    base = f"{_safe(source.database)}-{stamp}"
    final = directory / base
    n = 1
    while final.exists() or final.with_name(final.name + PARTIAL).exists():
        n += 1
        final = directory / f"{base}-{n}"
    partial = final.with_name(final.name + PARTIAL)
    try:
        partial.mkdir()
    except OSError as e:
        raise disk_error(e, directory) from e
    tracker = Tracker(progress, "backup")
    job = DumpJob(source, partial, "none" if method.compresses else compression,
                  max(1, jobs), schema_only, tracker)  # fmt: skip
    try:
        with bulk_objects():  # a tuple per row, none in a cycle
            output = method.dump(job)
        output.extra["relations"] = family.table_names(source)
        manifest = Manifest(
            dialect=facts.dialect,
            family=source.family,
            database=source.database if source.family != "sqlite" else Path(source.database).name,
            source=source.display,
            server_version=facts.version,
            method=method.name,
            tool=method.tool,
            tool_version=method.tool_version(),
            compression=job.compression,
            schema_only=schema_only,
            started=started.isoformat(timespec="seconds"),
            finished=_now().isoformat(timespec="seconds"),
            charset=facts.charset,
            collation=facts.collation,
            grants=facts.grants,
            tables=tuple(output.tables),
            files=tuple(sorted(output.files, key=lambda f: f.path)),
            extra=output.extra,
        )
        write_manifest(partial, manifest)
        check = _check_files(partial, manifest, hashes=False)
        if check:
            raise BackupError(f"the backup just written is not readable back: {check[0]}")
        partial.rename(final)
    except OSError as e:
        shutil.rmtree(partial, ignore_errors=True)
        raise disk_error(e, directory) from e
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return Backup(final, manifest)


def _check_files(root: Path, manifest: Manifest, *, hashes: bool = True) -> list[str]:
    """What is wrong with the files of a backup: missing, another size, (``hashes``) corrupt."""
    problems = []
    for f in manifest.files:
        path = root / f.path
        if not path.is_file():
            problems.append(f"{f.path} is missing")
        elif path.stat().st_size != f.size:
            problems.append(
                f"{f.path} has {path.stat().st_size} bytes, the manifest records {f.size} (truncated or altered)"
            )
        elif hashes and file_sha256(path) != f.sha256:
            problems.append(f"{f.path} does not match its sha256 (corrupt)")
    return problems


def verify_backup(backup_or_path: Backup | str | Path) -> BackupCheck:
    """Check every file of a backup against its manifest (size and sha256). Reads only."""
    path = Path(backup_or_path.path if isinstance(backup_or_path, Backup) else backup_or_path)
    if path.name.endswith(PARTIAL):
        return BackupCheck(path, False, (f"{path} is an incomplete backup (it never finished)",))
    if not path.is_dir():
        return BackupCheck(path, False, (f"{path} does not exist or is not a backup directory",))
    try:
        manifest = read_manifest(path)
    except BackupError as e:
        return BackupCheck(path, False, (str(e),))
    problems = _check_files(path, manifest)
    return BackupCheck(path, not problems, tuple(problems), manifest)


def restore(
    backup_or_path: Backup | str | Path,
    url: str | URL | Database,
    *,
    create: bool = False,
    force: bool = False,
    jobs: int = 3,
    progress: ProgressFn | None = None,
    allow_production: bool = False,
    confirm: Confirm | None = None,
    environment: str | ResolvedTarget | None = None,
    clearance: Clearance | None = None,
) -> RestoreResult:
    """Restore a backup into ``url`` and prove it: tables, row counts and checksums must match.

    Checks the files first and changes nothing when they are damaged, when the backup is of
    another database family, or when the target has tables and ``force`` is false. ``create``
    creates the database with the backup's charset and collation. Raises BackupError, and
    RefusedError for a protected or production target (see :func:`dbmedic.guard.assert_may_change`:
    ``allow_production`` plus a ``confirm`` callback returning the typed database name, or the
    ``clearance`` the guard gave for this database earlier in the same operation).
    """
    began = time.monotonic()
    check = verify_backup(backup_or_path)
    if not check.ok or check.manifest is None:
        raise BackupError(
            f"backup {check.path} cannot be restored: {check.problems[0]}",
            hint="nothing was changed; use another backup",
        )
    manifest = check.manifest
    target = _source(url)
    if target.family != manifest.family:
        raise BackupError(
            f"backup {check.path} is of a {manifest.dialect} database and {target.display} is "
            f"{target.family}; nothing was changed",
        )
    from dbmedic.guard import assert_may_change

    assert_may_change(
        target.sa_url, environment=environment, allow_production=allow_production, confirm=confirm,
        clearance=clearance,
    )  # fmt: skip
    family = get_family(target.family)
    method = family.method_named(manifest.method)
    if create:
        family.create_database(target, manifest.charset, manifest.collation)
    existing = family.table_names(target)
    if existing and not force:
        raise BackupError(
            f"{target.display} already has {len(existing)} tables; nothing was changed",
            hint="restore into an empty or new database (--create), or pass --force to replace them",
        )
    if existing:  # force: replace what the backup brings (tables and views), keep the rest
        ours = set(manifest.extra.get("relations", ()))
        ours.update(t.name if not t.schema or t.schema == "public" else f"{t.schema}.{t.name}"
                    for t in manifest.tables)  # fmt: skip
        family.drop_tables(target, [name for name in existing if name in ours])
    tracker = Tracker(progress, "restore", len(manifest.tables))
    job = RestoreJob(check.path, manifest.tables, manifest.files, manifest.extra, target,
                     max(1, jobs), force, tracker)  # fmt: skip
    method.restore(job)
    _compare(family, target, manifest, jobs, tracker)
    return RestoreResult(
        check.path, target.display, len(manifest.tables), manifest.rows,
        time.monotonic() - began, create,
    )  # fmt: skip


def _compare(family: Any, target: Source, manifest: Manifest, jobs: int, tracker: Tracker) -> None:
    tracker.phase = "verify"
    tracker.add()
    with bulk_objects():
        checked = family.checksums(target, manifest.tables, jobs)
    found = {(t.schema, t.name): t for t in checked}
    for t in manifest.tables:
        label = t.name if not t.schema or t.schema == "public" else f"{t.schema}.{t.name}"
        got = found.get((t.schema, t.name))
        if got is None:
            raise BackupError(f"after the restore, table {label} is missing from {target.display}")
        if manifest.schema_only:
            continue
        if got.rows != t.rows:
            raise BackupError(
                f"after the restore, table {label} has {got.rows} rows and the backup {t.rows}"
            )
        if got.checksum != t.checksum:
            raise BackupError(
                f"after the restore, the content of table {label} differs from the backup "
                f"(checksum {got.checksum[:12]} vs {t.checksum[:12]})"
            )


def list_backups(dir: str | Path = DEFAULT_DIR) -> list[Backup]:
    """Complete backups in ``dir``, oldest first (``.partial`` and foreign folders skipped)."""
    directory = Path(dir).expanduser()
    if not directory.is_dir():
        raise BackupError(f"the backup directory {directory} does not exist")
    found = []
    for path in sorted(directory.iterdir()):
        if not path.is_dir() or path.name.endswith(PARTIAL) or not (path / MANIFEST).is_file():
            continue
        try:
            found.append(Backup(path, read_manifest(path)))
        except BackupError:
            continue
    return sorted(found, key=lambda b: (b.manifest.started, b.path.name))


def prune_backups(dir: str | Path, keep: int) -> list[Path]:
    """Delete all but the ``keep`` newest backups of each database; returns the removed paths."""
    if keep < 1:
        raise ConfigError("--keep must be at least 1", hint="prune never removes every backup")
    groups: dict[tuple[str, str], list[Backup]] = {}
    for b in list_backups(dir):
        groups.setdefault((b.manifest.family, b.manifest.database), []).append(b)
    removed = []
    for items in groups.values():
        for b in items[:-keep]:
            shutil.rmtree(b.path)
            removed.append(b.path)
    return removed
