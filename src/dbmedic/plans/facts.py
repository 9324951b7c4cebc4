"""The I/O edge of planning reset and resume: the facts the pure planners take.

- :func:`pending_migrations`: every pending migration's statements, in run order (SQL files are
  read directly; code migrations print their SQL through the framework on a shadow copy).
- :func:`plan_for_target`: diagnose (with its rehearsals on shadow databases), read the facts,
  and call :func:`~dbmedic.plans.reset.plan_reset` or :func:`~dbmedic.plans.resume.plan_resume`.

The database facts a reset needs (charset, collation, owner, grants) are read by
:func:`dbmedic.recreate.read_database_facts`, which also recreates the database at apply time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dbmedic.effects_sql import Statement

if TYPE_CHECKING:
    from dbmedic.connect import Database
    from dbmedic.frameworks.base import Framework
    from dbmedic.model import Migration, Schema
    from dbmedic.plan import Plan
    from dbmedic.shadow import ShadowKeeper


@dataclass(frozen=True, slots=True)
class PendingMigration:
    """One pending migration and the statements it would run, in order."""

    id: str
    statements: tuple[str | Statement, ...]
    file: str | None = None


def pending_migrations(
    fw: Framework, target: Database, root: Path, migrations: Sequence[Migration], live: Schema
) -> list[PendingMigration]:
    """Every not-applied migration of ``migrations`` with its statements, in run order.

    SQL-file frameworks are read without a database. Code frameworks print the SQL of their
    pending migrations on a shadow copy of the target (its structure and tracking rows), never on
    the target itself (Laravel's ``--pretend`` creates its tracking table). Raises
    ShadowUnavailable when no shadow can be made, MigrationError when the framework fails.
    """
    from dbmedic.diagnose.history import (
        not_applied,
        statements_from_files,
        statements_from_framework,
    )
    from dbmedic.shadow import shadow_database

    todo = not_applied(migrations)
    h = statements_from_files(fw, root, target.dialect.family or target.dialect.name)
    if h is None:
        with shadow_database(target, schema=live, rows_of=fw.tracking_tables(root)) as sh:
            h = statements_from_framework(fw, sh, root, migrations, complete=False)
    return [PendingMigration(m.id, tuple(h.statements.get(m.id, ())), m.file) for m in todo]


def plan_for_target(
    strategy: str,
    db: Database,
    root: Path,
    framework: Framework,
    *,
    critical: Sequence[str] = (),
    hooks: Sequence[Sequence[str]] | None = None,
    hooks_source: str | None = None,
    environment: str | None = None,
    reference: str | None = None,
    keeper: ShadowKeeper | None = None,
    while_rehearsing: Callable[[], object] | None = None,
) -> Plan:
    """Read-only on ``db`` (rehearsals run on shadow databases): the reset or resume plan.

    Diagnoses ``db`` (for reset with only its rehearsal on an empty shadow, which decides whether
    reset may run and measures how long the migrations take; for resume simulated only), reads
    the facts the strategy needs and calls its pure planner. ``hooks``
    None means the framework's defaults, an empty list no hooks at all (``hooks = []`` in the
    configuration); ``hooks_source`` says where they were declared. Raises RefusedError (with where and why) when
    the strategy is predicted to fail, and whatever diagnose raises for bad input.
    ``keeper`` (reset): takes over the rehearsal's shadow when every migration ran there; the plan
    then promotes it into the target instead of running the migrations a second time.
    ``while_rehearsing``: see :func:`dbmedic.api.diagnose`.
    """
    from dbmedic import api
    from dbmedic.diagnose.history import not_applied
    from dbmedic.promote import can_promote

    url = db.plain_url.render_as_string(hide_password=False)  # in-process only, never shown
    # Reset must be rehearsed from zero (a fresh run that fails would leave an empty database),
    # and only that: the rehearsals of migrate on a copy and of resume are two more full runs
    # that a reset plan does not read. Resume checks every effect against the live schema
    # itself, writes only after the backup and rolls back on failure, so the simulation's
    # prediction is enough.
    d = api.diagnose(
        root, url, reference=reference, critical=critical, framework=framework.name,
        environment=environment, rehearse={"reset"} if strategy == "reset" else False,
        keep_reset_shadow=keeper if strategy == "reset" and can_promote(db) else None,
        simulate=strategy != "reset",  # a reset plan reads no simulation once rehearsed
        while_rehearsing=while_rehearsing,
    )  # fmt: skip
    chosen = None if hooks is None else [tuple(h) for h in hooks]
    if strategy == "reset":
        from dbmedic.plans.reset import plan_reset
        from dbmedic.promote import Promotion, promotion_for
        from dbmedic.recreate import read_database_facts

        facts = read_database_facts(db)
        promotion: Promotion | str | None = None
        if keeper is not None:
            promotion = promotion_for(db, keeper, facts, framework, root)
        return plan_reset(d, facts=facts, hooks=chosen, hooks_source=hooks_source,
                          environment=environment, promotion=promotion)  # fmt: skip
    from dbmedic.plans.resume import plan_resume

    with db.connect() as conn:
        live = db.dialect.inspect(conn, db.info)
    migrations = framework.read(db, root)
    pending = (
        pending_migrations(framework, db, root, migrations, live) if not_applied(migrations) else []
    )
    return plan_resume(d, live, pending, hooks=chosen, hooks_source=hooks_source,
                       environment=environment)  # fmt: skip
