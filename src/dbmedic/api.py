"""The library API: one function per command. Never prints, prompts or exits.

Functions return result dataclasses and raise :class:`dbmedic.errors.DbmedicError`; progress
is reported through an optional ``progress`` callback. The CLI is a thin layer over this module.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Iterable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

    from sqlalchemy.engine import URL

    from dbmedic.config import Config, ResolvedTarget
    from dbmedic.connect import Database
    from dbmedic.demo.build import DemoResult
    from dbmedic.diff import Diff
    from dbmedic.frameworks.base import Progress
    from dbmedic.guard import Clearance, Confirm
    from dbmedic.migrations import MigrateReport, StatusReport
    from dbmedic.model import Schema
    from dbmedic.verify import Verdict

__all__: list[str] = []

# === schema: inspect, snapshot, diff, verify ==================================================
# (owner: schema branch) Imports stay inside the functions so that `import dbmedic` is cheap.


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

    Options: ``create``, ``force``, ``jobs``, ``progress``, and for a protected or production
    target ``allow_production`` + ``confirm``, or ``clearance`` (the guard's answer from earlier
    in the same operation; see :func:`dbmedic.guard.assert_may_change`).
    Raises BackupError when the backup is damaged, of another family, the target has tables
    (without ``force``) or the result differs; RefusedError for production without override.
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

# --- migrations: status, migrate, demo (owner: migrations branch) ------------------------------


def status(
    app: Path | str,
    db: str | None = None,
    framework: str | None = None,
    environment: str | None = None,
) -> StatusReport:
    """Read-only: framework, migrations with their state, counts per state, table count.

    ``db`` defaults to the app's own configuration (dbmate DATABASE_URL, Laravel .env...).
    Raises ConfigError, ConnectError or MigrationError (one sentence each).
    """
    from dbmedic.migrations import status as _status

    return _status(app, db, framework, environment)


def migrate(
    app: Path | str,
    db: str | None = None,
    framework: str | None = None,
    environment: str | None = None,
    *,
    progress: Progress | None = None,
    allow_production: bool = False,
    confirm: Confirm | None = None,
    target: ResolvedTarget | None = None,
    clearance: Clearance | None = None,
) -> MigrateReport:
    """Writes: run pending SQL (dbmate-format) migrations natively, resuming a half-run one.

    A protected or production target raises RefusedError before any statement is sent, unless
    ``allow_production`` and ``confirm(prompt)`` returns the typed database name.
    """
    from dbmedic.migrations import migrate as _migrate

    return _migrate(
        app, db, framework, environment, progress=progress,
        allow_production=allow_production, confirm=confirm, target=target, clearance=clearance,
    )  # fmt: skip


def demo(directory: Path | str | None = None, *, progress: Progress | None = None) -> DemoResult:
    """Writes (only inside ``directory``): build the seed incident on SQLite: an example app, a
    production database with the full history and a staging database stopped at the failure."""
    from dbmedic.demo.build import build_demo

    return build_demo(directory, progress=progress)


__all__ += ["demo", "migrate", "status"]

# --- diagnose and lint (owner: diagnose branch) -----------------------------------------------


def diagnose(
    app: Path | str,
    db: str | None = None,
    *,
    reference: str | None = None,
    critical: Any = (),
    framework: str | None = None,
    environment: str | None = None,
    rehearse: bool | Collection[str] = True,
    progress: Any = None,
    keep_reset_shadow: Any = None,
    simulate: bool = True,
    while_rehearsing: Callable[[], object] | None = None,
) -> Any:
    """Read-only on ``db``: failure point, error class, cause, blocked migrations, critical
    tables, parity with ``reference``, and which repair (reset, resume, sync) will work,
    rehearsed on shadow databases (``<db>_dbmedic_shadow_<hex>``, always dropped).
    ``rehearse``: True (all), False (none, simulated only) or the names of the rehearsals to
    run among ``reset``, ``current``, ``resume`` (``{"reset"}`` for planning a reset).
    ``keep_reset_shadow``: a :class:`dbmedic.shadow.ShadowKeeper` that takes over the reset
    rehearsal's shadow when every migration ran there (it drops it when its block ends).
    ``simulate=False`` (planning a reset): when the reset rehearsal succeeds, nothing is
    simulated and only the reset option, the migrations and the expected tables are filled in.
    ``while_rehearsing``: called on this thread while it only waits for the reset rehearsal.

    Returns a :class:`dbmedic.diagnosis.Diagnosis`. Raises ConfigError, ConnectError,
    MigrationError. ``progress(phase, message)`` is called at each phase.
    """
    from dbmedic.diagnose.pipeline import diagnose as _diagnose

    return _diagnose(
        app,
        db,
        reference=reference,
        critical=tuple(critical),
        framework=framework,
        environment=environment,
        rehearse=rehearse,
        progress=progress,
        keep_reset_shadow=keep_reset_shadow,
        simulate=simulate,
        while_rehearsing=while_rehearsing,
    )


def lint(
    app: Path | str,
    db: str | None = None,
    *,
    framework: str | None = None,
    environment: str | None = None,
    rehearse: bool = True,
    progress: Any = None,
) -> Any:
    """Read-only on ``db``: predicted outcome of every pending migration and whether each is
    idempotent; returns a :class:`dbmedic.diagnosis.Lint` (``failure_predicted``)."""
    from dbmedic.diagnose.lint import lint as _lint

    return _lint(
        app, db, framework=framework, environment=environment, rehearse=rehearse, progress=progress
    )


__all__ += ["diagnose", "lint"]

# --- fix: plan, back up, repair, verify, roll back (owner: fix branch) --------------------------


def fix(
    strategy: str,
    app: Path | str | None = None,
    db: str | None = None,
    *,
    reference: str | None = None,
    critical: Iterable[str] = (),
    dry_run: bool = False,
    yes: bool = False,
    no_rollback: bool = False,
    allow_drop: bool = False,
    framework: str | None = None,
    environment: str | None = None,
    backup_dir: Path | str | None = None,
    state_dir: Path | str | None = None,
    break_stale_lock: bool = False,
    report: Path | str | None = None,
    confirm: Any = None,
    progress: Any = None,
    fault: Any = None,
    allow_production: bool = False,
    confirm_production: Any = None,
    guard_environment: Any = None,
    hooks: Iterable[Sequence[str]] | None = None,
) -> Any:
    """Repair ``db`` with ``strategy`` (``reset``, ``resume`` or ``sync``).

    Plans first (read-only); ``dry_run`` returns that :class:`dbmedic.plan.Plan`. Otherwise
    ``confirm(plan) -> bool`` decides (the library never prompts; without it ``yes`` must be
    True, else RefusedError), then the plan runs under the repair lock with a verified backup
    first, and a failed step rolls back to it (unless ``no_rollback``) with proof. Returns an
    :class:`dbmedic.apply.Outcome` (``outcome.verdict``); a failed step is in the outcome, not
    raised. Raises ConfigError (bad input: unknown strategy, reference of another family or
    incomplete), ConnectError, LockBusy / StaleLock, RefusedError. ``report`` writes the run's
    report there too (it is always written into the run folder ``.dbmedic/runs/<id>/``).
    A protected or production-looking target is refused before anything is read unless
    ``allow_production`` and ``confirm_production(prompt)`` returns the database name.

    Post-fix hooks run after the verification, in the app folder (else the current folder),
    each an argv list (never a shell line; credentials reach them only through the environment).
    ``hooks``: exactly these commands (``[]``: none). None (default): the configuration's,
    from the environment ``guard_environment`` names (a ``ResolvedTarget`` from
    :func:`resolve_target` or an environment name), else the environment whose ``url`` names
    ``db``, else the one whose ``app`` is ``app``; an environment without ``hooks`` (or none)
    gives the framework's defaults (Laravel: ``php artisan cache:clear``, ``config:clear``),
    which sync runs only with ``app``. A failing hook does not roll back the verified repair:
    the verdict is ``hook-failed`` (``outcome.repaired`` is True, ``outcome.ok`` False), the
    remaining hooks still run, and the error names each failed hook.
    """
    from dbmedic.fixing import run_fix

    return run_fix(
        strategy,
        app,
        db,
        reference=reference,
        critical=tuple(critical),
        dry_run=dry_run,
        yes=yes,
        no_rollback=no_rollback,
        allow_drop=allow_drop,
        framework=framework,
        environment=environment,
        backup_dir=backup_dir,
        state_dir=state_dir,
        break_stale_lock=break_stale_lock,
        report=report,
        confirm=confirm,
        progress=progress,
        fault=fault,
        allow_production=allow_production,
        confirm_production=confirm_production,
        guard_environment=guard_environment,
        hooks=None if hooks is None else list(hooks),
    )


__all__ += ["fix"]

# --- configuration and the production guard (owner: guard branch) ------------------------------


def load_config(path: Path | str | None = None, *, start: Path | str | None = None) -> Config:
    """Read-only: the validated ``dbmedic.toml`` (or ``[tool.dbmedic]``), given or found from
    ``start`` upward. Raises ConfigError (one sentence naming the file and key)."""
    from dbmedic.config import load_config as _load

    return _load(path, start=start)


def resolve_target(
    env: str | None = None, db: str | None = None, app: Path | str | None = None
) -> ResolvedTarget:
    """Read-only: explicit ``db`` / ``app`` merged over the configured environment ``env``
    (password filled in from its reference). Raises ConfigError."""
    from dbmedic.config import resolve_target as _resolve

    return _resolve(env, db, app)


def assert_may_change(
    db: Any,
    *,
    app: Path | str | None = None,
    environment: Any = None,
    allow_production: bool = False,
    confirm: Confirm | None = None,
    clearance: Clearance | None = None,
) -> Clearance:
    """Never connects: raise RefusedError when ``db`` is protected or looks like production,
    unless ``allow_production`` and ``confirm(prompt)`` returns the typed database name.

    Returns a Clearance: pass it as ``clearance=`` to later calls that change the same
    database in the same operation (``restore`` in a fix's rollback) so nobody is asked twice.
    """
    from dbmedic.guard import assert_may_change as _assert

    return _assert(db, app=app, environment=environment, allow_production=allow_production,
                   confirm=confirm, clearance=clearance)  # fmt: skip


__all__ += ["assert_may_change", "load_config", "resolve_target"]

# --- runs: list, resume, roll back (owner: runs branch) ----------------------------------------


def runs(state_dir: Path | str = ".") -> Any:
    """Read-only: the repair runs recorded under ``state_dir`` (``.dbmedic/runs``), oldest
    first, as :class:`dbmedic.runs.RunSummary` (state: finished, rolled-back, nothing-changed,
    not-rolled-back, hook-failed, interrupted). Raises JournalError for a damaged journal."""
    from dbmedic.runs import list_runs

    return list_runs(state_dir)


def _run_target(
    run_id: str, state_dir: Path | str | None, app: Path | str | None, db: str | None,
    framework: str | None, environment: str | None,
) -> tuple[Path, Path | None, Any, str]:  # fmt: skip
    """(state folder, app root, framework, url) of a recorded run; the app and URL default to the
    run's own (the URL from the app's configuration: the journal holds no password)."""
    from pathlib import Path

    from dbmedic.fixing import _resolve
    from dbmedic.runs import read_run

    state = Path(state_dir) if state_dir is not None else Path(app or ".").resolve()
    record = read_run(state, run_id)
    app = app if app is not None else record.start.get("app")
    root, fw, url = _resolve(app, db, framework, environment)
    if fw is None and root is not None and record.plan.get("framework"):
        from dbmedic.frameworks import get_framework

        fw = get_framework(str(record.plan["framework"]))
    return state, root, fw, url


def resume(
    run_id: str,
    app: Path | str | None = None,
    db: str | None = None,
    *,
    state_dir: Path | str | None = None,
    reference: str | None = None,
    framework: str | None = None,
    environment: str | None = None,
    no_rollback: bool = False,
    break_stale_lock: bool = False,
    progress: Any = None,
    allow_production: bool = False,
    confirm_production: Any = None,
    guard_environment: Any = None,
) -> Any:
    """Writes: continue the interrupted run ``run_id`` (``fix --resume``) from its first
    unfinished step, after checking the database is where the journal left it and examining
    the step that was running (see :mod:`dbmedic.rerun`). Returns an ``Outcome`` like ``fix``.
    Raises JournalError (no such run, damaged, another database, not interrupted),
    RefusedError (database changed since, backup gone or damaged, production), LockBusy."""
    from dbmedic.rerun import resume_run

    state, root, fw, url = _run_target(run_id, state_dir, app, db, framework, environment)
    ref_schema = None
    if reference is not None:
        from dbmedic.inspect import load_source

        ref_schema = load_source(reference)
    return resume_run(
        run_id, url, state_dir=state, app=root, framework=fw, reference=ref_schema,
        progress=progress, rollback=not no_rollback, break_stale_lock=break_stale_lock,
        allow_production=allow_production, confirm_production=confirm_production,
        guard_environment=guard_environment,
    )  # fmt: skip


def rollback(
    run_id: str,
    db: str | None = None,
    *,
    app: Path | str | None = None,
    state_dir: Path | str | None = None,
    framework: str | None = None,
    environment: str | None = None,
    break_stale_lock: bool = False,
    allow_production: bool = False,
    confirm_production: Any = None,
    guard_environment: Any = None,
) -> Any:
    """Writes: restore the backup of run ``run_id`` and prove it (row checksums equal to the
    backup's manifest, schema equal to before the run); returns a ``RollbackResult``. Goes
    through the production guard. Raises JournalError, RefusedError, BackupError, LockBusy."""
    from dbmedic.rerun import rollback_run

    state, root, _fw, url = _run_target(run_id, state_dir, app, db, framework, environment)
    return rollback_run(
        run_id, url, state_dir=state, app=root, break_stale_lock=break_stale_lock,
        allow_production=allow_production, confirm_production=confirm_production,
        guard_environment=guard_environment,
    )  # fmt: skip


__all__ += ["resume", "rollback", "runs"]
