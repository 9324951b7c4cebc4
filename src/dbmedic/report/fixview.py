"""The report of a ``dbmedic fix`` run: what was planned, what ran, how long, and how it ended.

Built from an :class:`dbmedic.apply.Outcome`; the templates ``fix.md.j2`` / ``fix.html.j2`` only
format what :func:`fix_view` computes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dbmedic.apply import Outcome

_HEADLINES = {
    "done": "Repaired and verified",
    "rolled-back": "Failed, rolled back and proven equal to before",
    "nothing-changed": "Failed before changing anything",
    "not-rolled-back": "FAILED and NOT rolled back: a person must look at the database",
    "hook-failed": "Repaired and verified, but a post-fix hook FAILED: run it by hand",
}


@dataclass(frozen=True, slots=True)
class FixStepRow:
    number: int
    kind: str
    title: str
    status: str
    seconds: str
    note: str
    statements: int


@dataclass(frozen=True, slots=True)
class FixView:
    kind: str
    title: str
    date: str
    headline: str
    verdict: str
    strategy: str
    database: str
    dialect: str
    framework: str
    reference: str | None
    run_id: str
    run_dir: str
    tables_before: int
    tables_after: int | None
    seconds: str
    backup: str | None
    rolled_back: bool
    rollback_verified: bool | None
    rollback_detail: str | None
    error: str | None
    failed_step: str | None
    steps: tuple[FixStepRow, ...]
    checks: tuple[str, ...]
    notes: tuple[str, ...]
    drops: tuple[str, ...]

    @property
    def day(self) -> str:
        return self.date[:10]


def fix_view(o: Outcome) -> FixView:
    plan = o.plan
    statements = {s.number: len(s.statements) for s in plan.steps}
    failed = o.failed_step
    return FixView(
        kind="fix",
        title=f"dbmedic fix --strategy {plan.strategy}",
        date=o.started,
        headline=_HEADLINES.get(str(o.verdict), str(o.verdict)),
        verdict=str(o.verdict),
        strategy=plan.strategy,
        database=plan.target,
        dialect=plan.dialect,
        framework=plan.framework or "no framework (schema only)",
        reference=plan.reference,
        run_id=o.run_id,
        run_dir=o.run_dir,
        tables_before=o.tables_before,
        tables_after=o.tables_after,
        seconds=f"{o.seconds:.2f}",
        backup=o.backup,
        rolled_back=o.rolled_back,
        rollback_verified=o.rollback_verified,
        rollback_detail=o.rollback_detail,
        error=o.error,
        failed_step=f"step {failed.number}: {failed.title}" if failed else None,
        steps=tuple(
            FixStepRow(
                s.number,
                s.kind,
                s.title,
                s.status,
                f"{s.seconds:.2f}",
                s.error or s.detail or "",
                statements.get(s.number, 0),
            )
            for s in o.steps
        ),
        checks=o.checks,
        notes=plan.notes + o.notes,
        drops=plan.drops,
    )
