"""Rehearsals: the framework's own migrate, run on shadow databases, never on the target.

- current: a shadow copy of the target's structure and tracking rows; ``migrate`` there fails
  where it fails on the target (structure only: data-dependent failures need the data).
- reset: an EMPTY shadow, every migration from zero (what ``fix --strategy reset`` would run).
- resume: a shadow copy where the pending migrations whose effects are present are recorded as
  applied and the missing statements of a half-applied one are run, then ``migrate``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from dbmedic.errorclass import ErrorClass, classify_error
from dbmedic.errors import StepFailed
from dbmedic.frameworks.base import MigrateResult, Progress

if TYPE_CHECKING:
    from dbmedic.connect import Database
    from dbmedic.diagnose.history import Histories
    from dbmedic.frameworks.base import Framework
    from dbmedic.model import Migration, Schema
    from dbmedic.shadow import ShadowKeeper

Say = Callable[[str], None]


class Cancelled(Exception):
    """A rehearsal on another thread was told to stop (diagnose is ending on an error, Ctrl-C
    or SIGTERM): raised from the framework's progress, between two migrations."""


@dataclass(frozen=True, slots=True)
class Rehearsal:
    result: MigrateResult
    seconds: float
    """Wall time of the whole rehearsal (shadow creation and copy included)."""
    migrate_seconds: float
    """Time of the framework's migrate alone."""
    error_class: ErrorClass | None = None
    marked: tuple[str, ...] = ()
    statements_run: int = 0
    history: Histories | None = field(default=None, compare=False)
    """reset only: every migration's SQL, printed by the framework on the empty shadow."""
    tables: int | None = None
    """reset only, when the run succeeded: the tables it made (dbmedic's journal not counted),
    which a reset of the target ends with."""

    @property
    def ok(self) -> bool:
        return self.result.ok


def _as_target(result: MigrateResult, shadow: Database, target: Database) -> MigrateResult:
    """Server messages name the shadow database (``db_dbmedic_shadow_x.t``): show the target's name."""
    if result.ok or not shadow.name or not target.name:
        return result

    def fix(text: str | None) -> str | None:
        return text.replace(shadow.name, target.name) if text else text

    return replace(result, error=fix(result.error), statement=fix(result.statement))


def _classified(db: Database, result: MigrateResult) -> ErrorClass | None:
    if result.ok or not result.error:
        return None
    return classify_error(db.dialect.name, result.error, result.statement)


def rehearse_current(
    fw: Framework, target: Database, root: Path, live: Schema, say: Say
) -> Rehearsal:
    """Writes (a shadow only): migrate on a copy of the target's structure and history."""
    with CopyRehearsals(fw, target, root, live, say) as copies:
        return copies.current(keep=False)


def rehearse_reset(
    fw: Framework,
    target: Database,
    root: Path,
    migrations: Sequence[Migration],
    say: Say,
    *,
    want_sql: bool,
    on_ready: Callable[[Histories | None], None] | None = None,
    progress: Progress | None = None,
    keep: ShadowKeeper | None = None,
) -> Rehearsal:
    """Writes (a shadow only): on an EMPTY shadow, optionally print every migration's SQL
    (pretend / sqlmigrate / offline), then run every migration from zero. ``on_ready`` gets
    that SQL (or None) once the shadow exists and before the run starts. When the run succeeds
    and ``keep`` is given, the shadow is handed to it instead of being dropped (a reset then
    moves it into the target rather than running the migrations again)."""
    from contextlib import ExitStack

    from dbmedic.diagnose.history import statements_from_framework
    from dbmedic.shadow import shadow_database

    started = time.perf_counter()
    history = None
    with ExitStack() as stack:
        sh = stack.enter_context(shadow_database(target, progress=say))
        if want_sql:
            say("reading every migration's SQL from the framework")
            history = statements_from_framework(fw, sh, root, migrations, complete=True)
        if on_ready is not None:
            on_ready(history)
        say(f"rehearsing a fresh run of all migrations on {sh.name}")
        t0 = time.perf_counter()
        result = _as_target(fw.migrate(sh, root, progress=progress), sh, target)
        migrate_s = time.perf_counter() - t0
        cls = _classified(sh, result)
        tables = _tables_made(sh) if result.ok else None
        if keep is not None and result.ok:
            keep.adopt(sh, stack.pop_all())
    seconds = time.perf_counter() - started
    return Rehearsal(result, seconds, migrate_s, cls, history=history, tables=tables)


def _tables_made(sh: Database) -> int | None:
    """The tables on the shadow after a fresh run, dbmedic's journal not counted; None when
    they cannot be read (a reset plan then simulates the migrations, as before)."""
    from sqlalchemy.exc import DBAPIError

    from dbmedic.errors import DbmedicError
    from dbmedic.model import INTERNAL_TABLES

    try:
        with sh.connect() as conn:
            return len(set(sh.dialect.table_names(conn)) - INTERNAL_TABLES)
    except (DbmedicError, DBAPIError):
        return None


def rehearse_resume(
    fw: Framework,
    target: Database,
    root: Path,
    live: Schema,
    mark: Sequence[str],
    run_first: Mapping[str, Sequence[str]],
    say: Say,
    progress: Progress | None = None,
) -> Rehearsal:
    """Writes (a shadow only): run the missing statements of half-applied migrations, record
    ``mark`` as applied, then migrate, on a copy of the target."""
    from dbmedic.shadow import shadow_database

    started = time.perf_counter()
    with shadow_database(target, schema=live, rows_of=fw.tracking_tables(root), progress=say) as sh:
        say(f"rehearsing resume on {sh.name}")
        result, ran, migrate_s = _resume_on(fw, sh, target, root, mark, run_first, progress)
        cls = _classified(sh, result)
    return Rehearsal(result, time.perf_counter() - started, migrate_s, cls, tuple(mark), ran)


def _resume_on(
    fw: Framework,
    sh: Database,
    target: Database,
    root: Path,
    mark: Sequence[str],
    run_first: Mapping[str, Sequence[str]],
    progress: Progress | None,
) -> tuple[MigrateResult, int, float]:
    """Writes (``sh``): the resume steps; returns (result, statements run first, seconds)."""
    from dbmedic.execute import run_statements

    t0 = time.perf_counter()
    ran = 0
    for mid, statements in run_first.items():
        try:
            ran += run_statements(sh, list(statements))
        except StepFailed as e:
            result = MigrateResult(False, failed=mid, error=e.message, statement=e.statement)
            return result, ran, time.perf_counter() - t0
    if mark:
        fw.mark_applied(sh, root, list(mark))
    result = _as_target(fw.migrate(sh, root, progress=progress), sh, target)
    return result, ran, time.perf_counter() - t0


class CopyRehearsals:
    """The "current" and "resume" rehearsals, on one shadow copy of the target when they can.

    :meth:`current` copies the target and runs migrate there. With ``keep``, the copy is kept
    when the failed run left it as copied: no migration completed, the same tables with the same
    structure, every table but the tracking tables still empty; the tracking tables' rows are
    then copied from the target again (a runner's journal entry is rewritten by the failure).
    :meth:`resume` continues there (mark, then migrate), which saves a second copy of the target
    and its drop; otherwise it takes a new copy. A context manager: a kept shadow is dropped on
    exit, whatever happens.
    """

    def __init__(
        self,
        fw: Framework,
        target: Database,
        root: Path,
        live: Schema,
        say: Say,
        progress: Progress | None = None,
    ) -> None:
        from contextlib import ExitStack

        self.fw, self.target, self.root, self.live, self.say = fw, target, root, live, say
        self.progress = progress
        """Given to the framework's migrate (a :class:`Cancelled` raised there stops it)."""
        self._kept: Database | None = None
        self._drop = ExitStack()
        self.reused = False
        """True once :meth:`resume` ran on the copy :meth:`current` left."""

    def __enter__(self) -> CopyRehearsals:
        return self

    def __exit__(self, *exc: object) -> None:
        self._kept = None
        self._drop.close()

    def current(self, *, keep: bool) -> Rehearsal:
        """Writes (a shadow only): migrate on a copy of the target's structure and history."""
        from contextlib import ExitStack

        from dbmedic.shadow import shadow_database

        fw, target, root, say = self.fw, self.target, self.root, self.say
        tracking = fw.tracking_tables(root)
        started = time.perf_counter()
        with ExitStack() as stack:
            sh = stack.enter_context(
                shadow_database(target, schema=self.live, rows_of=tracking, progress=say)
            )
            before = _copy_state(sh) if keep else None
            say(f"rehearsing migrate on {sh.name}")
            t0 = time.perf_counter()
            result = _as_target(fw.migrate(sh, root, progress=self.progress), sh, target)
            migrate_s = time.perf_counter() - t0
            cls = _classified(sh, result)
            failed_at_once = not result.ok and not result.applied
            if before is not None and failed_at_once and _as_copied(sh, before, target, tracking):
                self._kept = sh
                self._drop.push(stack.pop_all())
        return Rehearsal(result, time.perf_counter() - started, migrate_s, cls)

    def resume(self, mark: Sequence[str], run_first: Mapping[str, Sequence[str]]) -> Rehearsal:
        """Writes (a shadow only): the resume rehearsal, on the kept copy when there is one."""
        sh, self._kept = self._kept, None
        if sh is None:
            fw, target, root, live = self.fw, self.target, self.root, self.live
            return rehearse_resume(fw, target, root, live, mark, run_first, self.say, self.progress)
        started = time.perf_counter()
        try:
            self.say(f"rehearsing resume on {sh.name} (the copy the failed run left as it was)")
            result, ran, migrate_s = _resume_on(
                self.fw, sh, self.target, self.root, mark, run_first, self.progress
            )
            cls = _classified(sh, result)
            self.reused = True
        finally:
            self._drop.close()
        return Rehearsal(result, time.perf_counter() - started, migrate_s, cls, tuple(mark), ran)


def _copy_state(sh: Database) -> tuple[frozenset[str], Schema]:
    """Read-only: the shadow's table names (internal ones included) and structure (without)."""
    with sh.connect() as conn:
        names = frozenset(sh.dialect.table_names(conn))
        return names, sh.dialect.inspect(conn, sh.info).without_internal_tables()


def _as_copied(
    sh: Database, before: tuple[frozenset[str], Schema], target: Database, tracking: Sequence[str]
) -> bool:
    """Writes (``sh``): whether a failed run left the copy as it was copied; if so, restore its
    bookkeeping: the tracking tables get the target's rows again and a journal the run created
    (dbmedic's runner, :data:`~dbmedic.model.INTERNAL_TABLES`) is dropped. False when anything
    else differs or cannot be checked."""
    from sqlalchemy.exc import DBAPIError

    from dbmedic.model import INTERNAL_TABLES
    from dbmedic.shadow import copy_rows

    try:
        names, schema = _copy_state(sh)
        created = names - before[0]
        if before[0] - names or created - INTERNAL_TABLES or schema != before[1]:
            return False
        q = sh.dialect.quote
        data = sorted(set(schema.tables) - set(tracking))
        with sh.connect() as conn:
            if data:
                probe = " OR ".join(f"EXISTS (SELECT 1 FROM {q(t)})" for t in data)
                if conn.exec_driver_sql(f"SELECT {probe}").scalar():
                    return False
            for t in sorted(created):
                conn.exec_driver_sql(f"DROP TABLE {q(t)}")
            kept = [t for t in tracking if t in names and t not in created]
            for t in kept:
                conn.exec_driver_sql(f"DELETE FROM {q(t)}")
            conn.commit()
        copy_rows(target, sh, kept)
    except DBAPIError:
        return False
    return True


class _Background:
    """Work on a daemon thread; what it raises is kept in ``_error`` for the caller, who raises
    it again where it waits for the result.

    Waiting uses an event, never ``Thread.join()``: in CPython 3.11 a join interrupted by
    Ctrl-C or SIGTERM can mark the still running thread as stopped (the bpo-45274 handler in
    ``_wait_for_tstate_lock`` releases the lock the live thread holds), and a later join then
    returns at once, so the process would exit before the thread dropped its shadows.
    """

    _error: BaseException | None = None

    def cancel(self) -> None:
        """Stop at the framework's next migration (its process is killed): raises
        :class:`Cancelled` on the thread, whose shadows are then dropped as usual."""
        self._cancelled.set()

    def _checked(self, done: int, total: int, name: str) -> None:
        """The framework's progress: where a cancel takes effect."""
        if self._cancelled.is_set():
            raise Cancelled(f"stopped before {name} ({done} of {total} done)")

    def _start(
        self, name: str, work: Callable[[], None], done: threading.Event, target: Database
    ) -> None:
        """Run ``work`` on a thread named ``name``; ``done`` is set when it ends, however.

        SQLAlchemy and the target's dialect are imported here first. Both threads would import
        them on first use, and two threads importing one package at once can each wait for a
        module the other is importing: Python then hands one of them a half-made module
        ("cannot import name 'AdaptedConnection' from partially initialized module
        'sqlalchemy.engine'", once in CI, from ``dbmedic diagnose`` on the demo)."""
        target.url.get_dialect()
        self._cancelled = threading.Event()
        self._finished = threading.Event()

        def run() -> None:
            try:
                work()
            except BaseException as e:  # handed to the caller
                self._error = e
            finally:
                done.set()
                self._finished.set()

        threading.Thread(target=run, name=name, daemon=True).start()

    def close(self) -> None:
        """Wait until the thread has ended (its shadows dropped), also through Ctrl-C or
        SIGTERM, which is raised again once it has: the framework got Ctrl-C too, and a
        cancel (see :meth:`cancel`) stops it at its next migration."""
        interrupted: KeyboardInterrupt | None = None
        while not self._finished.is_set():
            try:
                self._finished.wait()
            except KeyboardInterrupt as e:
                interrupted = e
                self.cancel()
        if interrupted is not None:
            raise interrupted


class ResetInBackground(_Background):
    """The reset rehearsal on its own thread (the framework is a separate, single-threaded
    process: PHP, Python), so it overlaps the rehearsals on copies of the target.

    :meth:`history` waits until the shadow exists and, when asked for, the framework printed
    every migration's SQL (the simulation needs it); :meth:`result` waits for the whole run.
    The thread drops its shadow itself, also when the caller fails (always call result()).
    """

    def __init__(
        self,
        fw: Framework,
        target: Database,
        root: Path,
        migrations: Sequence[Migration],
        say: Say,
        *,
        want_sql: bool,
        keep: ShadowKeeper | None = None,
    ) -> None:
        self._ready = threading.Event()
        self._history: Histories | None = None
        self._outcome: Rehearsal | None = None
        self._started = False
        outer_say = say

        def quiet(message: str) -> None:
            if not self._ready.is_set():
                outer_say(message)

        def ready(history: Histories | None) -> None:
            self._history = history
            self._started = True
            self._ready.set()

        self._busy = threading.Event()

        def progressed(done: int, total: int, name: str) -> None:
            self._busy.set()
            self._checked(done, total, name)

        def work() -> None:
            try:
                self._outcome = rehearse_reset(
                    fw, target, root, migrations, quiet, want_sql=want_sql, on_ready=ready,
                    progress=progressed, keep=keep,
                )  # fmt: skip
            finally:
                self._busy.set()

        self._start("dbmedic-reset-rehearsal", work, self._ready, target)

    def wait_busy(self) -> None:
        """Wait until the framework reported its first migration (it then works in its own
        process, and this thread may work without slowing it down) or the run ended."""
        self._busy.wait()

    def history(self) -> Histories | None:
        self._ready.wait()
        if not self._started and self._error is not None:
            raise self._error  # no shadow (privileges) or the framework could not print its SQL
        return self._history

    def result(self) -> Rehearsal:
        self._finished.wait()
        if self._error is not None:
            raise self._error
        assert self._outcome is not None
        return self._outcome


class CopiesInBackground(_Background):
    """The rehearsals on copies of the target (:class:`CopyRehearsals`) on their own thread,
    started as soon as the live schema is known: the framework runs in a separate process and
    the server does the work, so the simulation, parity and the rest overlap them.

    ``current`` starts at once; ``resume`` waits for :meth:`give` (the plan: what to mark, what
    to run first), then continues on the same copy when it can. :meth:`current` and
    :meth:`resume` wait for each result and raise what the thread raised (ShadowUnavailable
    when no shadow can be created). Always call :meth:`close` (``finally``): it releases the
    thread from waiting for a plan and waits until every shadow it made is dropped.
    """

    def __init__(
        self, copies: CopyRehearsals, say_resume: Say, *, current: bool, resume: bool
    ) -> None:
        """``copies`` runs on the thread (its ``say`` for the current rehearsal, then
        ``say_resume``); ``current``/``resume``: which rehearsals were asked for."""
        self._plan_given = threading.Event()
        self._current_done = threading.Event()
        self._steps: tuple[Sequence[str], Mapping[str, Sequence[str]]] | None = None
        self._current: Rehearsal | None = None
        self._resume: Rehearsal | None = None
        self._closing = False
        self.reused = False
        """True when the resume rehearsal ran on the current rehearsal's copy."""
        copies.progress = self._checked

        def work() -> None:
            with copies:
                if current:
                    self._current = copies.current(keep=resume)
                self._current_done.set()
                if not resume:
                    return
                self._plan_given.wait()
                if self._steps is not None and not self._closing:
                    copies.say = say_resume
                    self._resume = copies.resume(*self._steps)
                    self.reused = copies.reused

        self._start("dbmedic-copy-rehearsals", work, self._current_done, copies.target)

    def give(self, mark: Sequence[str], run_first: Mapping[str, Sequence[str]]) -> None:
        """The resume plan: the thread records ``mark`` (after running ``run_first``), then migrates."""
        self._steps = (tuple(mark), dict(run_first))
        self._plan_given.set()

    def current(self) -> Rehearsal | None:
        """Waits for the current rehearsal (None when it was not asked for)."""
        self._current_done.wait()
        if self._current is None and self._error is not None:
            raise self._error
        return self._current

    def resume(self) -> Rehearsal | None:
        """Waits for the resume rehearsal and the drop of its shadow (None without a plan)."""
        self._plan_given.set()
        self._finished.wait()
        if self._error is not None:
            raise self._error
        return self._resume

    def close(self) -> None:
        """A resume rehearsal not started yet will not be (diagnose is ending, maybe on an
        error); then as :meth:`_Background.close`."""
        self._closing = True
        self._plan_given.set()
        super().close()
