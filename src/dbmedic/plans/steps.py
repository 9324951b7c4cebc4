"""Steps every strategy shares: lock, backup, framework migrate, verify, hooks.

The table below is the registry of the framework-specific wording (the display form of each
tool's migrate command); the default post-fix hooks are the adapters' ``post_fix_hooks``.
Nothing else in the planners asks which framework it is.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence

from dbmedic.diagnosis import Diagnosis
from dbmedic.plan import Step, StepKind

MIGRATE_COMMANDS: dict[str, tuple[str, ...]] = {
    "laravel": ("php", "artisan", "migrate", "--force"),
    "django": ("python", "manage.py", "migrate"),
    "alembic": ("alembic", "upgrade", "heads"),
    "dbmate": ("dbmedic", "migrate"),
}
"""Display form of each framework's migrate (dbmate-format SQL runs in dbmedic's own runner)."""

RECREATE_SECONDS = 0.5
"""Estimate for DROP + CREATE DATABASE + grants (a handful of catalog statements)."""


def with_environment(
    framework: str, argv: tuple[str, ...], environment: str | None
) -> tuple[str, ...]:
    """Laravel's ``--env=NAME`` on its artisan commands (the adapter adds it when it runs them)."""
    if environment and argv[:2] == ("php", "artisan"):
        return (*argv, f"--env={environment}")
    return argv


def lock_step(d: Diagnosis) -> Step:
    return Step(
        0,
        StepKind.LOCK,
        f"Take the repair lock on {d.target}",
        estimate_seconds=0.0,
        reason="one repair per database at a time",
    )


def backup_step(d: Diagnosis, seconds: float | None, *, before: str) -> Step:
    return Step(
        0,
        StepKind.BACKUP,
        f"Back up {d.target} ({d.tables} tables) and verify the backup",
        estimate_seconds=seconds,
        reason=f"nothing destructive without a verified backup taken in this run ({before})",
    )


def migrate_step(
    d: Diagnosis,
    migrations: Sequence[str],
    seconds: float | None,
    *,
    environment: str | None = None,
    what: str = "",
) -> Step:
    argv = with_environment(d.framework, MIGRATE_COMMANDS.get(d.framework, ()), environment)
    count = len(migrations)
    return Step(
        0,
        StepKind.FRAMEWORK_MIGRATE,
        f"Run {what}{count} migration(s) with {' '.join(argv) or d.framework}",
        command=argv,
        migrations=tuple(migrations),
        estimate_seconds=seconds,
    )


def verify_step(d: Diagnosis, seconds: float | None, *, reference: str | None = None) -> Step:
    critical = [c.table for c in d.critical]
    against = (
        f"the reference {reference}"
        if reference
        else f"{d.expected_tables} expected tables"
        if d.expected_tables is not None
        else "the migrations' tables"
    )
    crit = f" and the critical tables {', '.join(critical)}" if critical else ""
    return Step(
        0,
        StepKind.VERIFY,
        f"Re-inspect {d.target} and check it against {against}{crit}; nothing pending",
        estimate_seconds=seconds,
    )


def default_hooks(framework: str | None) -> tuple[tuple[str, ...], ...]:
    """The framework's post-fix hooks (Laravel: cache:clear, config:clear); () for none."""
    if not framework:
        return ()
    from dbmedic.errors import ConfigError
    from dbmedic.frameworks.base import get_framework

    try:
        return get_framework(framework).post_fix_hooks
    except ConfigError:
        return ()


def hook_steps(
    framework: str | None,
    hooks: Sequence[Sequence[str]] | None,
    environment: str | None,
    source: str | None = None,
    *,
    defaults: bool = True,
) -> tuple[list[Step], str | None]:
    """(the HOOK steps, a plan note when there are none): ``hooks`` as configured (``source``
    says where), None for the framework's defaults (only with ``defaults``; sync without the
    application has none)."""
    if hooks is None:
        chosen = default_hooks(framework) if defaults else ()
        source = f"the {framework} defaults"
    else:
        chosen = tuple(tuple(h) for h in hooks)
        source = source or "the caller"
    if not chosen:
        if hooks is not None:
            why = f"hooks = [] in {source}"
        elif not defaults:
            why = (
                "sync without --app runs only hooks from the configuration, and none are configured"
            )
        else:
            why = f"none configured and {framework or 'this framework'} has no default hooks"
        return [], f"no post-fix hooks: {why}"
    steps = [
        Step(
            0,
            StepKind.HOOK,
            f"Run {shlex.join(argv)}",
            command=argv,
            estimate_seconds=1.0,
            reason=f"post-fix hook from {source}",
            keeps_schema=hooks is None,  # the framework's defaults clear caches
        )
        for argv in (with_environment(framework or "", h, environment) for h in chosen)
    ]
    return steps, None


def inspect_seconds(d: Diagnosis) -> float | None:
    """How long reading the target took in diagnose (a verify re-reads it)."""
    return next((s for phase, s in d.timings if phase == "status"), None)


ORDERED_HISTORY = frozenset({"django", "alembic"})
"""Frameworks whose record of applied migrations is ordered (Django checks that a recorded
migration's dependencies are recorded; Alembic records heads): nothing may be recorded before the
migrations it follows. Laravel and dbmate record a set."""
