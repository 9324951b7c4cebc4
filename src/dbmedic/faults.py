"""Test-only fault injection for repair runs: inert unless ``DBMEDIC_FAULT`` is set.

The fault-injection tests (``tests/test_faults.py``) run ``dbmedic fix`` with
``DBMEDIC_FAULT=<step>:<where>:<action>`` to break a run at an exact point:

- ``<step>``: the plan's step number;
- ``<where>``: ``before`` (the step's ``step-start`` is journaled, nothing of it ran), ``after``
  (its ``step-end`` is journaled), ``statement:<k>`` (inside an SQL step, after its k-th
  statement ran), ``migration:<k>`` (inside a framework migrate step, after its k-th migration
  was recorded; for frameworks whose migrate reports progress per migration) or ``moved``
  (inside a promote-shadow step: the shadow moved into the target, the proof not yet made);
- ``<action>``: ``kill`` (SIGKILL this process), ``int`` (SIGINT: Ctrl-C), ``error`` (the step
  fails as a statement error would), ``killconn`` (every other session on the target database is
  killed from a new session: ``KILL`` / ``pg_terminate_backend``), ``readonly`` (the run's backup
  folder is made read-only), ``fill`` (the file system of the backup folder is filled up).

Nothing here runs in normal use: :func:`from_env` returns None when the variable is unset.
"""

from __future__ import annotations

import contextlib
import os
import signal
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dbmedic.errors import StepFailed

if TYPE_CHECKING:
    from dbmedic.connect import Database

ENV = "DBMEDIC_FAULT"
ACTIONS = ("kill", "int", "error", "killconn", "readonly", "fill")

KILL_OTHERS: dict[str, str] = {
    "mysql": (
        "SELECT id FROM information_schema.processlist WHERE db = :db AND id <> CONNECTION_ID()"
    ),
    "postgresql": (
        "SELECT pid FROM pg_stat_activity WHERE datname = :db AND pid <> pg_backend_pid()"
    ),
}
"""Per family: the sessions to kill (the statement that kills one is ``Dialect``-free below)."""
KILL_ONE: dict[str, str] = {
    "mysql": "KILL {id:d}",
    "postgresql": "SELECT pg_terminate_backend({id:d})",
}


@dataclass(frozen=True, slots=True)
class FaultPoint:
    step: int
    where: str
    action: str
    backup_dir: Path | None = None

    def fire(self, db: Database, step: int, where: str) -> None:
        """Break the run here when this is the configured point (else do nothing)."""
        if step != self.step or where != self.where:
            return
        if self.action == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        elif self.action == "int":
            os.kill(os.getpid(), signal.SIGINT)
        elif self.action == "error":
            raise StepFailed(f"injected fault at step {step} ({where})")
        elif self.action == "killconn":
            _kill_sessions(db)
        elif self.action == "readonly" and self.backup_dir is not None:
            _read_only(self.backup_dir)
        elif self.action == "fill" and self.backup_dir is not None:
            _fill(self.backup_dir)


def from_env() -> FaultPoint | None:
    """The fault point of ``DBMEDIC_FAULT`` (``DBMEDIC_FAULT_DIR``: the backup folder for
    ``readonly`` / ``fill``), or None: the normal case."""
    text = os.environ.get(ENV, "").strip()
    if not text:
        return None
    parts = text.split(":")
    action = parts[-1]
    if len(parts) < 3 or not parts[0].isdigit() or action not in ACTIONS:
        raise ValueError(
            f"{ENV}={text!r}: expected <step>:<before|after|statement:k|migration:k>:<action>"
        )
    folder = os.environ.get(ENV + "_DIR")
    return FaultPoint(
        int(parts[0]), ":".join(parts[1:-1]), action, Path(folder) if folder else None
    )


def _kill_sessions(db: Database) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    family = db.dialect.family
    engine = create_engine(db.url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            ids = [r[0] for r in conn.execute(text(KILL_OTHERS[family]), {"db": db.name})]
            for session in ids:
                with contextlib.suppress(Exception):  # the session may have ended meanwhile
                    conn.exec_driver_sql(KILL_ONE[family].format(id=int(session)))
            conn.commit()
    finally:
        engine.dispose()


def _fill(folder: Path) -> None:
    """Write zeros into ``folder`` until its file system has no space left."""
    block = b"\0" * (1 << 20)
    with open(folder / "filler.bin", "wb", buffering=0) as f:
        try:
            while True:
                f.write(block)

        except OSError:
            pass


def _read_only(folder: Path) -> None:
    """A mount point is remounted read-only (root ignores file modes); else modes are cleared."""
    if folder.is_mount():
        import subprocess

        subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
        return
    for path in [folder, *folder.rglob("*")]:
        path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
