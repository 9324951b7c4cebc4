"""The library API: one function per command. Never prints, prompts or exits.

Functions return result dataclasses and raise :class:`dbmedic.errors.DbmedicError`; progress
is reported through an optional ``progress`` callback. The CLI is a thin layer over this module.
"""

from __future__ import annotations

from typing import Any

__all__: list[str] = []


# --- backups (issue 6) ------------------------------------------------------------------------
# Thin wrappers over dbmedic.backups, imported lazily so `import dbmedic` stays fast.


def backup(url: Any, dir: Any = "backups", **options: Any) -> Any:
    """Back up a database into ``dir`` (default ``./backups``); returns a checked ``Backup``.

    Options: ``schema_only``, ``tool`` (auto|builtin|external), ``compression`` (zstd|gzip|none),
    ``jobs``, ``progress``. Raises BackupError / ConnectError. See :func:`dbmedic.backups.backup`.
    """
    from dbmedic.backups import backup as _backup

    return _backup(url, dir, **options)


def restore(backup: Any, url: Any, **options: Any) -> Any:
    """Restore a backup into ``url`` and verify tables, row counts and checksums.

    Options: ``create``, ``force``, ``jobs``, ``progress``. Raises BackupError when the backup is
    damaged, of another family, the target has tables (without ``force``) or the result differs.
    """
    from dbmedic.backups import restore as _restore

    return _restore(backup, url, **options)


def verify_backup(backup: Any) -> Any:
    """Check a backup's files against its manifest; returns a ``BackupCheck`` (reads only)."""
    from dbmedic.backups import verify_backup as _verify

    return _verify(backup)


def list_backups(dir: Any = "backups") -> Any:
    """The complete backups in ``dir``, oldest first."""
    from dbmedic.backups import list_backups as _list

    return _list(dir)


def prune_backups(dir: Any, keep: int) -> Any:
    """Delete all but the ``keep`` newest backups of each database; returns removed paths."""
    from dbmedic.backups import prune_backups as _prune

    return _prune(dir, keep)


__all__ += ["backup", "list_backups", "prune_backups", "restore", "verify_backup"]
