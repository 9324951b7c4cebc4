"""Rehearsals: the framework's own migrate, run on shadow databases, never on the target.

- current: a shadow copy of the target's structure and tracking rows; ``migrate`` there fails
  where it fails on the target (structure only: data-dependent failures need the data).
- reset: an EMPTY shadow, every migration from zero (what ``fix --strategy reset`` would run).
- resume: a shadow copy where the pending migrations whose effects are present are recorded as
  applied and the missing statements of a half-applied one are run, then ``migrate``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from dbmedic.errorclass import ErrorClass, classify_error
from dbmedic.errors import StepFailed
from dbmedic.frameworks.base import MigrateResult

if TYPE_CHECKING:
    from dbmedic.connect import Database
    from dbmedic.diagnose.history import Histories
    from dbmedic.frameworks.base import Framework
    from dbmedic.model import Migration, Schema

Say = Callable[[str], None]


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
    from dbmedic.shadow import shadow_database

    started = time.perf_counter()
    with shadow_database(target, schema=live, rows_of=fw.tracking_tables(root), progress=say) as sh:
        say(f"rehearsing migrate on {sh.name}")
        t0 = time.perf_counter()
        result = _as_target(fw.migrate(sh, root), sh, target)
        migrate_s = time.perf_counter() - t0
        cls = _classified(sh, result)
    return Rehearsal(result, time.perf_counter() - started, migrate_s, cls)


def rehearse_reset(
    fw: Framework,
    target: Database,
    root: Path,
    migrations: Sequence[Migration],
    say: Say,
    *,
    want_sql: bool,
    on_ready: Callable[[Histories | None], None] | None = None,
) -> Rehearsal:
    """Writes (a shadow only): on an EMPTY shadow, optionally print every migration's SQL
    (pretend / sqlmigrate / offline), then run every migration from zero. ``on_ready`` gets
    that SQL (or None) once the shadow exists and before the run starts."""
    from dbmedic.diagnose.history import statements_from_framework
    from dbmedic.shadow import shadow_database

    started = time.perf_counter()
    history = None
    with shadow_database(target, progress=say) as sh:
        if want_sql:
            say("reading every migration's SQL from the framework")
            history = statements_from_framework(fw, sh, root, migrations, complete=True)
        if on_ready is not None:
            on_ready(history)
        say(f"rehearsing a fresh run of all migrations on {sh.name}")
        t0 = time.perf_counter()
        result = _as_target(fw.migrate(sh, root), sh, target)
        migrate_s = time.perf_counter() - t0
        cls = _classified(sh, result)
    return Rehearsal(result, time.perf_counter() - started, migrate_s, cls, history=history)


def rehearse_resume(
    fw: Framework,
    target: Database,
    root: Path,
    live: Schema,
    mark: Sequence[str],
    run_first: Mapping[str, Sequence[str]],
    say: Say,
) -> Rehearsal:
    """Writes (a shadow only): run the missing statements of half-applied migrations, record
    ``mark`` as applied, then migrate, on a copy of the target."""
    from dbmedic.execute import run_statements
    from dbmedic.shadow import shadow_database

    started = time.perf_counter()
    with shadow_database(target, schema=live, rows_of=fw.tracking_tables(root), progress=say) as sh:
        say(f"rehearsing resume on {sh.name}")
        t0 = time.perf_counter()
        ran = 0
        result: MigrateResult | None = None
        for mid, statements in run_first.items():
            try:
                ran += run_statements(sh, list(statements))
            except StepFailed as e:
                result = MigrateResult(False, failed=mid, error=e.message, statement=e.statement)
                break
        if result is None:
            if mark:
                fw.mark_applied(sh, root, list(mark))
            result = _as_target(fw.migrate(sh, root), sh, target)
        migrate_s = time.perf_counter() - t0
        cls = _classified(sh, result)
    return Rehearsal(result, time.perf_counter() - started, migrate_s, cls, tuple(mark), ran)


class ResetInBackground:
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
    ) -> None:
        import threading

        self._ready = threading.Event()
        self._history: Histories | None = None
        self._outcome: Rehearsal | None = None
        self._error: BaseException | None = None
        self._started = False
        outer_say = say

        def quiet(message: str) -> None:
            if not self._ready.is_set():
                outer_say(message)

        def ready(history: Histories | None) -> None:
            self._history = history
            self._started = True
            self._ready.set()

        def work() -> None:
            try:
                self._outcome = rehearse_reset(
                    fw, target, root, migrations, quiet, want_sql=want_sql, on_ready=ready
                )
            except BaseException as e:  # handed to the caller by history()/result()
                self._error = e
            finally:
                self._ready.set()

        self._thread = threading.Thread(target=work, name="dbmedic-reset-rehearsal", daemon=True)
        self._thread.start()

    def history(self) -> Histories | None:
        self._ready.wait()
        if not self._started and self._error is not None:
            raise self._error  # no shadow (privileges) or the framework could not print its SQL
        return self._history

    def result(self) -> Rehearsal:
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._outcome is not None
        return self._outcome
