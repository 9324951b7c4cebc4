"""One repair per database at a time: the per-database repair lock.

- MySQL / MariaDB: ``GET_LOCK('dbmedic:<db>', 0)`` on a dedicated connection; the server frees it
  when that connection ends, so a crashed run never leaves it behind.
  https://mariadb.com/kb/en/get_lock/
- PostgreSQL: ``pg_try_advisory_lock(k1, k2)`` on a dedicated connection to the maintenance
  database ``postgres`` (so that dropping and recreating the target, as reset and rollback do,
  does not end the session holding the lock), falling back to the target itself.
  https://www.postgresql.org/docs/current/explicit-locking.html#ADVISORY-LOCKS
- SQLite: a lock file ``<file>.dbmedic.lock`` beside the database, created with ``O_EXCL``, holding
  pid, host and start time. A lock whose process is gone is reported as stale, never silently
  taken over; ``break_stale=True`` (``--break-stale-lock``) removes it explicitly.

The holder is named in the refusal: connection id, user and host (MySQL), pid, application and
client (PostgreSQL), pid and host and whether that pid is alive (SQLite).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from dbmedic.errors import DbmedicError, RefusedError
from dbmedic.secrets import scrub

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from dbmedic.connect import Database


class LockBusy(RefusedError):
    """Another repair holds the lock on this database (exit 3; nothing was changed)."""

    def __init__(self, message: str, *, holder: str, hint: str | None = None) -> None:
        self.holder = holder
        super().__init__(message, hint=hint)


class StaleLock(DbmedicError):
    """A lock file whose process is gone: reported, never silently taken over (exit 2)."""

    def __init__(self, message: str, *, path: str, hint: str | None = None) -> None:
        self.path = path
        super().__init__(message, hint=hint)


class LockError(DbmedicError):
    """The lock could not be taken for another reason (no rights, server error)."""


def lock_name(database: str) -> str:
    """``dbmedic:<db>``, hashed when longer than MySQL's 64-character limit for lock names."""
    name = f"dbmedic:{database}"
    if len(name) <= 64:
        return name
    return f"dbmedic:{zlib.crc32(database.encode()):08x}:{database[:40]}"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class _Backend:
    """How one database family takes, names and frees the lock (registry below)."""

    family: ClassVar[str] = ""

    def __init__(self, db: Database, break_stale: bool) -> None:
        self.db = db
        self.break_stale = break_stale

    def acquire(self) -> None:
        raise NotImplementedError

    def release(self) -> None:
        raise NotImplementedError

    def ensure(self) -> bool:
        """Still held: False. Its session ended from outside (killed): taken again, True.
        Raises LockBusy when another run took it meanwhile."""
        return False

    def describe(self) -> str:
        """Where the lock lives, for the plan and the journal."""
        raise NotImplementedError


class _SessionLock(_Backend):
    """A lock held by a server session on a dedicated connection."""

    conn: Connection | None = None

    def _open(self) -> Connection:
        from sqlalchemy.exc import DBAPIError

        try:
            conn = self._engine().connect()
        except DBAPIError as e:
            raise LockError(
                f"cannot open a connection for the repair lock on {self.db.display} "
                f"({scrub(self.db.dialect.describe_error(e))})"
            ) from e
        result: Connection = conn.execution_options(isolation_level="AUTOCOMMIT")
        return result

    def _engine(self) -> Any:
        return self.db.engine

    def release(self) -> None:
        conn, self.conn = self.conn, None
        if conn is None:
            return
        try:
            self._unlock(conn)
        except (
            Exception
        ):  # the session may be gone already (server restart): ending it frees the lock
            conn.invalidate()
        finally:
            conn.close()

    def _unlock(self, conn: Connection) -> None:
        raise NotImplementedError

    def _holds(self, conn: Connection) -> bool:
        raise NotImplementedError

    def ensure(self) -> bool:
        conn = self.conn
        try:
            if conn is not None and self._holds(conn):
                return False
        except Exception:  # the session is gone (KILL, pg_terminate_backend, server restart)
            pass
        self.conn = None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.invalidate()
            with contextlib.suppress(Exception):
                conn.close()
        self.acquire()
        return True


class _MySQLLock(_SessionLock):
    family = "mysql"

    def describe(self) -> str:
        return f"GET_LOCK('{lock_name(self.db.name)}') on {self.db.display}"

    def acquire(self) -> None:
        from sqlalchemy import text

        name = lock_name(self.db.name)
        conn = self._open()
        try:
            got = conn.execute(text("SELECT GET_LOCK(:n, 0)"), {"n": name}).scalar()
            if got == 1:
                self.conn = conn
                return
            holder = self._holder(conn, name)
        except BaseException:
            conn.close()
            raise
        conn.close()
        raise LockBusy(
            f"another repair is running on {self.db.display}: the lock {name!r} is held by {holder}",
            holder=holder,
            hint="wait for it to finish (or end that session) and try again",
        )

    @staticmethod
    def _holder(conn: Connection, name: str) -> str:
        from sqlalchemy import text

        cid = conn.execute(text("SELECT IS_USED_LOCK(:n)"), {"n": name}).scalar()
        if cid is None:
            return "a session that has just released it"
        row = conn.execute(
            text("SELECT USER, HOST, TIME FROM information_schema.PROCESSLIST WHERE ID = :i"),
            {"i": int(cid)},
        ).first()
        if row is None:
            return f"connection {cid}"
        return f"connection {cid} of {row[0]}@{row[1]} (in its current state for {row[2]} s)"

    def _unlock(self, conn: Connection) -> None:
        from sqlalchemy import text

        conn.execute(text("SELECT RELEASE_LOCK(:n)"), {"n": lock_name(self.db.name)})

    def _holds(self, conn: Connection) -> bool:
        from sqlalchemy import text

        q = text("SELECT IS_USED_LOCK(:n) = CONNECTION_ID()")
        return bool(conn.execute(q, {"n": lock_name(self.db.name)}).scalar())


_PG_CLASS = 0x0DB3ED1C & 0x7FFFFFFF
"""First key of dbmedic's advisory locks (the second is a hash of the database name)."""


class _PostgresLock(_SessionLock):
    family = "postgresql"
    _admin: Any = None

    def _key(self) -> int:
        return zlib.crc32(self.db.name.encode()) & 0x7FFFFFFF

    def describe(self) -> str:
        return f"pg_try_advisory_lock({_PG_CLASS}, {self._key()}) for {self.db.display}"

    def _engine(self) -> Any:
        from sqlalchemy import create_engine

        if self._admin is None:
            self._admin = create_engine(
                self.db.url.set(database="postgres"), poolclass=_null_pool()
            )
        return self._admin

    def _open(self) -> Connection:
        try:
            return super()._open()
        except LockError:  # no access to the maintenance database: lock in the target itself
            self._admin = self.db.engine
            return super()._open()

    def acquire(self) -> None:
        from sqlalchemy import text

        conn = self._open()
        try:
            got = conn.execute(
                text("SELECT pg_try_advisory_lock(:a, :b)"), {"a": _PG_CLASS, "b": self._key()}
            ).scalar()
            if got:
                conn.execute(text("SET application_name = 'dbmedic fix'"))
                self.conn = conn
                return
            holder = self._holder(conn)
        except BaseException:
            conn.close()
            raise
        conn.close()
        raise LockBusy(
            f"another repair is running on {self.db.display}: its advisory lock is held by {holder}",
            holder=holder,
            hint="wait for it to finish (or end that session) and try again",
        )

    def _holder(self, conn: Connection) -> str:
        from sqlalchemy import text

        row = conn.execute(
            text(
                "SELECT a.pid, a.application_name, a.usename, a.client_addr, a.backend_start "
                "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE l.locktype = 'advisory' AND l.granted "
                "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
                "AND l.classid = CAST(:a AS oid) AND l.objid = CAST(:b AS oid) AND l.objsubid = 2"
            ),
            {"a": _PG_CLASS, "b": self._key()},
        ).first()
        if row is None:
            return "a session that has just released it"
        app = f" ({row[1]})" if row[1] else ""
        client = row[3] if row[3] is not None else "local socket"
        since = row[4].isoformat(timespec="seconds") if row[4] is not None else "?"
        return f"backend pid {row[0]}{app} of user {row[2]} from {client}, connected since {since}"

    def _unlock(self, conn: Connection) -> None:
        from sqlalchemy import text

        conn.execute(text("SELECT pg_advisory_unlock(:a, :b)"), {"a": _PG_CLASS, "b": self._key()})

    def _holds(self, conn: Connection) -> bool:
        from sqlalchemy import text

        q = text(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND pid = pg_backend_pid() AND classid = CAST(:a AS oid) "
            "AND objid = CAST(:b AS oid) AND objsubid = 2)"
        )
        return bool(conn.execute(q, {"a": _PG_CLASS, "b": self._key()}).scalar())

    def release(self) -> None:
        super().release()
        if self._admin is not None and self._admin is not self.db.engine:
            self._admin.dispose()
        self._admin = None


def _null_pool() -> Any:
    from sqlalchemy.pool import NullPool

    return NullPool


def pid_alive(pid: int) -> bool:
    """Whether a process with ``pid`` exists on this host."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


@dataclass(frozen=True, slots=True)
class FileHolder:
    pid: int | None
    host: str | None
    started: str | None

    @property
    def local(self) -> bool:
        return self.host == socket.gethostname()

    def alive(self) -> bool | None:
        """True/False for a process on this host, None when it runs elsewhere (cannot tell)."""
        if self.pid is None:
            return False
        return pid_alive(self.pid) if self.local else None

    def text(self) -> str:
        return f"process {self.pid} on {self.host} (since {self.started})"


def read_lock_file(path: Path) -> FileHolder:
    """The holder recorded in a lock file (fields None when it is unreadable)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return FileHolder(None, None, None)
    if not isinstance(data, dict):
        return FileHolder(None, None, None)
    pid = data.get("pid")
    return FileHolder(pid if isinstance(pid, int) else None, data.get("host"), data.get("started"))


class _FileLock(_Backend):
    family = "sqlite"
    path: Path | None = None

    def lock_path(self) -> Path:
        return (
            Path(str(self.db.url.database))
            .resolve()
            .with_name(Path(str(self.db.url.database)).name + ".dbmedic.lock")
        )

    def describe(self) -> str:
        return f"lock file {self.lock_path()}"

    def acquire(self) -> None:
        path = self.lock_path()
        body = json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "started": _now()})
        for attempt in (1, 2):
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                holder = read_lock_file(path)
                if holder.alive() is False:
                    if self.break_stale and attempt == 1:
                        path.unlink(missing_ok=True)
                        continue
                    raise StaleLock(
                        f"stale repair lock {path}: {holder.text()} is no longer running",
                        path=str(path),
                        hint="make sure no repair is running, then pass --break-stale-lock to remove it",
                    ) from None
                raise LockBusy(
                    f"another repair is running on {self.db.display}: the lock file {path} is held by "
                    + holder.text()
                    + ("" if holder.alive() else " (on another host; cannot tell whether it runs)"),
                    holder=holder.text(),
                    hint="wait for it to finish and try again",
                ) from None
            except OSError as e:
                raise LockError(f"cannot create the lock file {path} ({e.strerror})") from e
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(body + "\n")
                f.flush()
                os.fsync(f.fileno())
            self.path = path
            return

    def release(self) -> None:
        path, self.path = self.path, None
        if path is None:
            return
        holder = read_lock_file(path)
        if holder.pid == os.getpid():  # never remove a lock someone else took since
            path.unlink(missing_ok=True)


_BACKENDS: dict[str, type[_Backend]] = {b.family: b for b in (_MySQLLock, _PostgresLock, _FileLock)}


class RepairLock:
    """The repair lock of one database; use as a context manager (released on every exit path)."""

    def __init__(self, db: Database, *, break_stale: bool = False) -> None:
        family = db.dialect.family or db.dialect.name
        backend = _BACKENDS.get(family)
        if backend is None:
            raise LockError(f"dbmedic cannot lock {family} databases")
        self._backend = backend(db, break_stale)
        self.held = False

    @property
    def description(self) -> str:
        return self._backend.describe()

    def acquire(self) -> None:
        """Take the lock; raises LockBusy (held by another run), StaleLock, LockError."""
        self._backend.acquire()
        self.held = True

    def release(self) -> None:
        if self.held:
            self.held = False
            self._backend.release()

    def ensure(self) -> bool:
        """Make sure the lock is still held before the next write: False when it is; True when
        its session had been ended from outside (``KILL``, ``pg_terminate_backend``) and the
        lock was free, so it was taken again. Raises LockBusy when another run took it
        meanwhile (then this run must stop writing)."""
        return self._backend.ensure() if self.held else False

    def __enter__(self) -> RepairLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


@contextmanager
def repair_lock(db: Database, *, break_stale: bool = False) -> Iterator[RepairLock]:
    """``with repair_lock(db):`` — the lock held for the block, released on every exit path."""
    lock = RepairLock(db, break_stale=break_stale)
    lock.acquire()
    try:
        yield lock
    finally:
        lock.release()
