"""Scratch ("shadow") databases for rehearsals: created next to the target, always dropped.

A shadow is ``<db>_dbmedic_shadow_<random>`` on the target's server (same credentials, same
charset and collation), or a temporary file for SQLite. :func:`shadow_database` optionally fills
it with a copy of a schema (structure only: tables, views, triggers, rendered by the dialect) and
the rows of the framework's tracking tables, so a framework run there sees the same history as
on the target. The shadow is dropped when the ``with`` block ends, whatever happens inside:
an exception, Ctrl-C (KeyboardInterrupt) or SIGTERM (turned into KeyboardInterrupt while a
shadow exists). The target itself is only read.

When the server refuses to create the shadow (no CREATE privilege), :class:`ShadowUnavailable`
says so in one sentence; callers then answer from the simulation and say that they did.
"""

from __future__ import annotations

import secrets
import shutil
import signal
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from dbmedic.errors import DbmedicError
from dbmedic.secrets import redact, scrub

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

    from dbmedic.connect import Database
    from dbmedic.driver import DbUrl
    from dbmedic.model import Schema

SHADOW_MARK = "_dbmedic_shadow_"
"""Every shadow database name contains this (grant ``ALL ON `%_dbmedic_shadow_%`.*``)."""
_MAX_NAME = 63
"""PostgreSQL's identifier limit (MySQL's is 64)."""


class ShadowUnavailable(DbmedicError):
    """No shadow database could be created on the target's server (privileges, disk)."""


class ShadowError(DbmedicError):
    """A shadow database could not be filled or dropped."""


def shadow_name(database: str) -> str:
    """``<database>_dbmedic_shadow_<8 hex>``, shortened to fit every server's name limit."""
    suffix = SHADOW_MARK + secrets.token_hex(4)
    stem = Path(database).stem if database else "db"
    return stem[: _MAX_NAME - len(suffix)] + suffix


def schema_statements(db: Database, schema: Schema) -> list[str]:
    """DDL that recreates ``schema`` (tables, views, triggers) in an empty database of ``db``'s dialect."""
    from dbmedic.changes import AddTable, AddTrigger, AddView, Change
    from dbmedic.model import Schema as _Schema

    changes: list[Change] = [AddTable(t) for _, t in sorted(schema.tables.items())]
    changes += [AddView(v) for _, v in sorted(schema.views.items())]
    changes += [AddTrigger(t) for _, t in sorted(schema.triggers.items())]
    return db.dialect.render(changes, _Schema(db.dialect.name))


_active = 0
_lock = threading.Lock()
_previous: Any = None


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def _guard_signals(enter: bool) -> bool:
    """While a shadow exists, SIGTERM unwinds like Ctrl-C so ``finally`` drops the shadow.

    Only the main thread can set signal handlers: elsewhere nothing is counted and False is
    returned, and the caller must not release what it did not take (a shadow made on the reset
    rehearsal's thread may be dropped later on the main thread)."""
    global _active, _previous
    if threading.current_thread() is not threading.main_thread():
        return False
    with _lock:
        if enter:
            _active += 1
            if _active == 1:
                _previous = signal.signal(signal.SIGTERM, _on_sigterm)
        else:
            _active -= 1
            if _active == 0 and _previous is not None:
                signal.signal(signal.SIGTERM, _previous)
                _previous = None
    return True


@contextmanager
def shadow_database(
    source: Database,
    *,
    schema: Schema | None = None,
    rows_of: Sequence[str] = (),
    progress: Callable[[str], None] | None = None,
) -> Iterator[Database]:
    """Writes (the shadow only): a scratch database next to ``source``, dropped on exit.

    ``schema``: structure to recreate in it; ``rows_of``: tables whose rows are copied from
    ``source`` (tracking tables; those missing in ``source`` are skipped). Raises
    ShadowUnavailable when the server refuses to create it, ShadowError when filling it fails.
    """
    guarded = _guard_signals(True)
    try:
        with _created(source) as shadow:
            if schema is not None:
                from dbmedic.execute import run_statements

                if progress is not None:
                    progress(f"copying {len(schema.tables)} tables into the shadow database")
                try:
                    run_statements(shadow, schema_statements(shadow, schema))
                except DbmedicError as e:
                    raise ShadowError(f"cannot copy the schema into a shadow database: {e}") from e
            if rows_of:
                copy_rows(source, shadow, rows_of)
            yield shadow
    finally:
        if guarded:
            _guard_signals(False)


class ShadowKeeper:
    """Takes over a shadow database that would otherwise be dropped, and drops it later.

    ``fix --strategy reset`` hands one to its reset rehearsal: after a successful run from zero
    the shadow is kept (:meth:`adopt`, called on the rehearsal's thread) so that the repair can
    move it into the target instead of running every migration a second time. The keeper drops
    it when its ``with`` block ends, whatever happens inside (an exception, Ctrl-C, SIGTERM: the
    signal guard is held on the main thread for the whole block unless ``guard`` is False), or
    earlier by :meth:`drop`.
    """

    def __init__(self, *, guard: bool = True) -> None:
        from contextlib import ExitStack

        self._held = threading.Lock()
        self._stack = ExitStack()
        self._shadow: Database | None = None
        self._guard = guard
        self._guarded = False

    @property
    def shadow(self) -> Database | None:
        """The kept shadow, None when nothing is kept (or it was dropped)."""
        return self._shadow

    def adopt(self, shadow: Database, owner: Any) -> None:
        """Keep ``shadow``; ``owner`` (an ExitStack from ``pop_all()``) drops it when closed.

        Its connections are closed here, on the thread that opened them (an SQLite connection
        may only be used on its own thread); the next use opens new ones."""
        shadow.close()
        with self._held:
            self._stack.push(owner)
            self._shadow = shadow

    def drop(self) -> None:
        """Writes (the shadow only): drop the kept shadow now; raises ShadowError."""
        with self._held:
            self._shadow = None
            stack, self._stack = self._stack, type(self._stack)()
        stack.close()

    def drop_noting(self) -> str | None:
        """:meth:`drop`, returning why it failed instead of raising (None: dropped or none)."""
        try:
            self.drop()
        except ShadowError as e:
            return str(e)
        return None

    def __enter__(self) -> ShadowKeeper:
        self._guarded = self._guard and _guard_signals(True)
        return self

    def __exit__(self, kind: object, error: BaseException | None, tb: object) -> None:
        try:
            self.drop()
        except ShadowError as e:
            if error is None:
                raise
            error.add_note(str(e))  # the error on its way out is the one to report
        finally:
            if self._guarded:
                _guard_signals(False)


@contextmanager
def sigterm_unwinds() -> Iterator[None]:
    """In the main thread: while the block runs, SIGTERM unwinds like Ctrl-C, so the ``finally``
    blocks that drop shadows run, also those that wait for shadows made on other threads
    (diagnose's rehearsals). Elsewhere it does nothing (only the main thread gets signals)."""
    _guard_signals(True)
    try:
        yield
    finally:
        _guard_signals(False)


@contextmanager
def _created(source: Database) -> Iterator[Database]:
    from dbmedic.connect import open_target
    from dbmedic.driver import DriverError

    dialect = source.dialect
    name = shadow_name(source.name)
    if dialect.databases_are_files:
        folder = Path(tempfile.mkdtemp(prefix="dbmedic_shadow_"))
        try:
            import sqlite3

            path = folder / f"{name}.db"
            sqlite3.connect(path).close()
            shadow = open_target(f"sqlite:///{path}")
            try:
                yield shadow
            finally:
                shadow.close()
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return

    admin = _Admin(source)
    try:
        try:
            admin.run(dialect.create_database_sql(name, source.info.charset, source.info.collation))
        except DriverError as e:
            reason = scrub(dialect.describe_error(e))
            raise ShadowUnavailable(
                f"cannot create a shadow database on {_server(source.plain_url)} ({reason})",
                hint=f"grant CREATE on databases named like %{SHADOW_MARK}% to rehearse",
            ) from e
        try:
            shadow = open_target(source.url_for(name))
            try:
                yield shadow
            finally:
                shadow.close()
        finally:
            _drop(admin, source, name)
    finally:
        admin.dispose()


class _Admin:
    """CREATE / DROP DATABASE on the source's server, each on a new connection in autocommit
    (PostgreSQL runs neither inside a transaction): through the driver where the URL allows,
    as the rehearsal's shadow is made before the framework can start and SQLAlchemy takes
    ~0.1 s to import; else through an engine."""

    def __init__(self, source: Database) -> None:
        self._source = source
        self._engine: Any = None

    def run(self, statements: Sequence[str]) -> None:
        """Raises :class:`~dbmedic.driver.DriverError` for a database error, either way."""
        from dbmedic.driver import DbUrl, DriverError

        source = self._source
        plain = source.plain_url
        conn = source.dialect.connect_driver(plain, False) if isinstance(plain, DbUrl) else None
        if conn is not None:
            try:
                conn.set_autocommit()
                for sql in statements:
                    conn.exec_driver_sql(sql)
            finally:
                conn.close()
            return
        from sqlalchemy import create_engine
        from sqlalchemy.exc import DBAPIError

        if self._engine is None:
            self._engine = create_engine(source.url, isolation_level="AUTOCOMMIT")
        try:
            with self._engine.connect() as c:
                for sql in statements:
                    c.exec_driver_sql(sql)
        except DBAPIError as e:
            raise DriverError(e.orig or e) from e

    def dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()


def _drop(admin: _Admin, source: Database, name: str) -> None:
    from dbmedic.driver import DriverError

    last: BaseException | None = None
    for _attempt in range(3):
        try:
            admin.run(source.dialect.drop_database_sql(name))
            return
        except DriverError as e:
            last = e
    raise ShadowError(
        f"cannot drop shadow database {name} on {_server(source.plain_url)} "
        f"({scrub(source.dialect.describe_error(last)) if last else 'unknown'})",
        hint="drop it by hand",
    )


def _server(url: URL | DbUrl) -> str:
    return redact(url.set(database=None))


def copy_rows(source: Database, target: Database, tables: Sequence[str]) -> int:
    """Writes (``target``): copy every row of ``tables`` that exist in both; returns rows copied."""
    from sqlalchemy import MetaData, Table, insert, select

    copied = 0
    with source.connect() as src, target.connect() as dst:
        have_src = set(source.dialect.table_names(src))
        have_dst = set(target.dialect.table_names(dst))
        for name in tables:
            if name not in have_src or name not in have_dst:
                continue
            t_src = Table(name, MetaData(), autoload_with=src)
            t_dst = Table(name, MetaData(), autoload_with=dst)
            rows = [dict(r._mapping) for r in src.execute(select(t_src))]
            if rows:
                dst.execute(insert(t_dst), rows)
                copied += len(rows)
        dst.commit()
    return copied
