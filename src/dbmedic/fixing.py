"""``dbmedic fix``: gather the facts a strategy needs, plan, confirm, apply, report.

The planners are pure (``dbmedic.plans.<strategy>.plan_<strategy>``); this module does the I/O
around them: opens the target and the reference, reads the tracking tables, hands the plan to
the caller's ``confirm`` callback (the library never prompts), then runs
:func:`dbmedic.apply.apply_plan` and writes the report.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dbmedic.errors import ConfigError, RefusedError

if TYPE_CHECKING:
    from dbmedic.apply import ApplyProgress, Fault, Outcome
    from dbmedic.config import HookChoice
    from dbmedic.connect import Database
    from dbmedic.frameworks.base import Framework
    from dbmedic.model import Schema
    from dbmedic.plan import Plan
    from dbmedic.shadow import ShadowKeeper

STRATEGIES = ("reset", "resume", "sync")
Confirm = Callable[["Plan"], bool]


@dataclass
class FixContext:
    """Everything a planner may ask for (planners take the keyword arguments they name)."""

    db: Database
    target_schema: Schema | None
    """Read for sync only (reset and resume: diagnose reads the target itself)."""
    root: Path | None
    framework: Framework | None
    reference_schema: Schema | None = None
    reference: str | None = None
    critical: tuple[str, ...] = ()
    allow_drop: bool = False


def _check_strategy(strategy: str) -> None:
    """One sentence for an unknown strategy (the planner modules load when planning: reset's
    rehearsal should not wait for sync's and resume's)."""
    if strategy not in STRATEGIES:
        raise ConfigError(f"unknown strategy {strategy!r}", hint="use reset, resume or sync")


def _reference(spec: str, target: Database) -> tuple[Schema, Database | None]:
    """The reference schema and, when it is a live database, that database (opened read-only)."""
    from dbmedic.connect import open_reference
    from dbmedic.inspect import inspect_schema, is_url, load_source

    if is_url(spec):
        ref = open_reference(spec)
        try:
            return inspect_schema(ref), ref
        except BaseException:
            ref.close()
            raise
    return load_source(spec), None


def _sync_migrations(ctx: FixContext, ref_db: Database | None) -> list[str]:
    """Ids to record as applied: those the reference has applied (live), or every migration with
    a file (snapshot), that the target has not."""
    from dbmedic.model import MigrationState

    fw, root = ctx.framework, ctx.root
    if fw is None or root is None:
        return []
    mine = {m.id: m.state for m in fw.read(ctx.db, root)}
    if ref_db is not None:
        theirs = [m.id for m in fw.read(ref_db, root) if m.state is MigrationState.APPLIED]
    else:
        theirs = [m.id for m in fw.read(ctx.db, root) if m.file is not None]
    return [i for i in theirs if i in mine and mine[i] is not MigrationState.APPLIED]


def plan_fix(
    strategy: str,
    db: Database,
    *,
    root: Path | None,
    framework: Framework | None,
    reference: str | None = None,
    critical: Sequence[str] = (),
    allow_drop: bool = False,
    hooks: Sequence[Sequence[str]] | None = None,
    hooks_source: str | None = None,
    keeper: ShadowKeeper | None = None,
    while_rehearsing: Callable[[], object] | None = None,
) -> tuple[Plan, Schema | None]:
    """Read-only: the plan of ``strategy`` for ``db`` and the reference schema used.

    ``hooks``: the post-fix commands (None: the framework's defaults; empty: none), declared
    where ``hooks_source`` says (see :func:`dbmedic.config.hooks_for`). ``keeper`` (reset):
    keeps the rehearsal's shadow for the plan to promote (see
    :func:`dbmedic.plans.facts.plan_for_target`)."""
    from dbmedic.inspect import inspect_schema
    from dbmedic.secrets import redact, scrub

    ctx = FixContext(db, None, root, framework, critical=tuple(critical),
                     allow_drop=allow_drop)  # fmt: skip
    _check_strategy(strategy)
    ref_db: Database | None = None
    try:
        if reference is not None:
            ctx.reference_schema, ref_db = _reference(reference, db)
            ctx.reference = redact(ref_db.url) if ref_db is not None else scrub(reference)
        if strategy != "sync":
            if root is None or framework is None:
                raise ConfigError(
                    f"{strategy} needs the application", hint="pass --app PATH (the project folder)"
                )
            from dbmedic.plans.facts import plan_for_target

            plan = plan_for_target(
                strategy, db, root, framework, critical=critical, hooks=hooks,
                hooks_source=hooks_source, environment=framework.environment, reference=reference,
                keeper=keeper, while_rehearsing=while_rehearsing,
            )  # fmt: skip
            return plan, ctx.reference_schema
        if ctx.reference_schema is None:
            raise ConfigError(
                "sync needs a reference", hint="pass --reference URL or a snapshot file"
            )
        from dbmedic.plans.sync import check_reference, plan_sync

        target_schema = ctx.target_schema = inspect_schema(db)
        check_reference(target_schema, ctx.reference_schema, ctx.reference or "the reference")
        exact: dict[str, str] = {}
        if ref_db is not None and ref_db.dialect.family == db.dialect.family:
            missing = sorted(ctx.reference_schema.tables.keys() - target_schema.tables.keys())
            with ref_db.connect() as conn:
                exact = ref_db.dialect.exact_create_statements(conn, missing)
        plan = plan_sync(
            target_schema,
            ctx.reference_schema,
            framework=framework.name if framework is not None and root is not None else None,
            migrations=_sync_migrations(ctx, ref_db),
            allow_drop=allow_drop,
            exact_ddl=exact,
            target_name=db.display,
            reference_name=ctx.reference,
            app=str(root) if root is not None else None,
            critical=tuple(critical),
            hooks=hooks,
            hooks_source=hooks_source,
            environment=framework.environment if framework is not None else None,
        )
        return plan, ctx.reference_schema
    finally:
        if ref_db is not None:
            ref_db.close()


def run_fix(
    strategy: str,
    app: Path | str | None,
    db: str | None,
    *,
    reference: str | None = None,
    critical: Sequence[str] = (),
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
    confirm: Confirm | None = None,
    progress: ApplyProgress | None = None,
    fault: Fault | None = None,
    allow_production: bool = False,
    confirm_production: Any = None,
    guard_environment: Any = None,
    hooks: Sequence[Sequence[str]] | None = None,
) -> Outcome | Plan:
    """See :func:`dbmedic.api.fix`."""
    from dbmedic.connect import open_target

    root, fw, url = _resolve(app, db, framework, environment)
    if report is not None:
        from dbmedic.report import format_for

        format_for(report)  # a bad suffix is bad input before anything happens
    from dbmedic.guard import assert_may_change

    clearance = assert_may_change(url, app=root, environment=guard_environment,
                                  allow_production=allow_production,
                                  confirm=confirm_production)  # fmt: skip
    choice = _hooks(hooks, url, root, guard_environment)
    from dbmedic.shadow import ShadowKeeper

    # A reset keeps its rehearsal's shadow from planning to applying (the plan promotes it);
    # the keeper drops it on every way out of this block.
    with open_target(url) as target, ShadowKeeper(guard=strategy == "reset") as keeper:
        if fw is None and root is not None:
            from dbmedic.frameworks.tracking import table_names
            from dbmedic.migrations import framework_from_tables

            with target.connect() as conn:
                fw = framework_from_tables(target, root, set(table_names(target, conn)))
        plan, ref_schema = plan_fix(strategy, target, root=root, framework=fw, reference=reference,
                                    critical=critical, allow_drop=allow_drop,
                                    hooks=choice.commands, hooks_source=choice.source,
                                    keeper=keeper if strategy == "reset" else None,
                                    while_rehearsing=None if dry_run else _preloader(target, report),
                                    )  # fmt: skip
        if dry_run:
            return plan
        agreed = confirm(plan) if confirm is not None else yes
        if not agreed:
            raise RefusedError(
                f"refused: fix --strategy {strategy} changes {target.display}",
                hint="pass --yes to run it without a prompt; nothing was changed",
            )
        from dbmedic.apply import apply_plan

        outcome = apply_plan(plan, target, app=root, framework=fw, backup_dir=backup_dir,
                             state_dir=state_dir, reference=ref_schema, progress=progress,
                             rollback=not no_rollback, fault=fault,
                             break_stale_lock=break_stale_lock, shadow=keeper.shadow,
                             hook_env=hook_env(fw, target, root),
                             restore_options={"clearance": clearance})  # fmt: skip
        left = keeper.drop_noting()  # the repair's outcome stands whatever happens here
        if left is not None:
            outcome = replace(outcome, notes=(*outcome.notes, left))
    return _write_report(outcome, report)


def _hooks(
    hooks: Sequence[Sequence[str]] | None, url: str, root: Path | None, environment: Any
) -> HookChoice:
    """The hooks given by the caller, else those the configuration declares for this target."""
    from dbmedic.config import HookChoice, hooks_for
    from dbmedic.connect import parse_db_url

    if hooks is not None:
        if any(isinstance(h, str) or not h or not all(isinstance(a, str) and a for a in h)
               for h in hooks):  # fmt: skip
            raise ConfigError(
                "hooks must be a list of commands, each a list of non-empty arguments",
                hint='hooks=[["php", "artisan", "cache:clear"]]; nothing was changed',
            )
        return HookChoice(tuple(tuple(h) for h in hooks), "the hooks given to fix")
    return hooks_for(parse_db_url(url), app=root, environment=environment)


def hook_env(fw: Framework | None, db: Database, root: Path | None) -> dict[str, str]:
    """What the post-fix hooks get in their environment (never on their command line): the
    framework's connection variables pointing the app at the repaired database."""
    if fw is None or root is None:
        return {}
    return fw.hook_env(db.url, root)


def _preloader(target: Database, report: Path | str | None) -> Callable[[], None]:
    """What a reset plan does while its rehearsal runs: import the repair's modules and compile
    its report templates (the Markdown copy in the run folder, and ``report``'s format)."""

    def preload() -> None:
        from dbmedic.apply import preload as preload_repair
        from dbmedic.report import format_for
        from dbmedic.report import preload as preload_report

        preload_repair(target)
        if report is not None:
            preload_report(format_for(report))

    return preload


def _write_report(outcome: Outcome, path: Path | str | None) -> Outcome:
    from dbmedic.report import write

    run_copy = Path(outcome.run_dir) / "report.md"
    targets = [run_copy] + ([Path(path)] if path is not None else [])
    for target in targets:
        outcome = replace(outcome, report=str(targets[-1]))
        write(outcome, target)
    return outcome


def _resolve(
    app: Path | str | None, db: str | None, framework: str | None, environment: str | None
) -> tuple[Path | None, Framework | None, str]:
    from dbmedic.migrations import app_root, resolve

    if app is None:
        if db is None:
            raise ConfigError("fix needs a database", hint="pass --db URL (and --app PATH)")
        from dbmedic.frameworks import get_framework

        return None, get_framework(framework) if framework else None, db
    root = app_root(app)
    fw, url = resolve(root, db, framework, environment)
    return root, fw, url
