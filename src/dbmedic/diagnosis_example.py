"""A hand-built :class:`Diagnosis` of the seed incident, for renderer tests and docs.

Shaped like what ``dbmedic diagnose`` returns for the demo's staging database; the numbers are
consistent with each other (they are derived below, not typed twice). Not used by diagnose.
"""

from __future__ import annotations

from dbmedic.diagnosis import (
    Blocked,
    BlockedGroup,
    Cause,
    CriticalTable,
    Diagnosis,
    Evidence,
    Failure,
    Guard,
    ParityLine,
    ParitySummary,
    Phase,
    Recommendation,
    RepairOption,
    SimulationNote,
    Site,
    Strategy,
    TimelineEntry,
)
from dbmedic.errorclass import ErrorClass
from dbmedic.model import Migration, MigrationState


def example_diagnosis() -> Diagnosis:
    """The seed incident: 47 applied, failing at 2025_10_23_162250 on a duplicate column."""
    applied = [
        Migration(
            f"2019_01_01_{i:06d}_create_table_{i}",
            f"database/migrations/m{i}.php",
            MigrationState.APPLIED,
            batch=1101,
        )
        for i in range(47)
    ]
    failing_id = "2025_10_23_162250_add_priority_to_policy_configurations"
    failing = Migration(failing_id, f"database/migrations/{failing_id}.php", MigrationState.PENDING)
    blocked_ids = [f"2025_10_24_{i:06d}_create_retell_table_{i}" for i in range(137)]
    pending = [
        Migration(b, f"database/migrations/{b}.php", MigrationState.PENDING) for b in blocked_ids
    ]
    timeline = (
        *tuple(TimelineEntry(m.id, m.file, m.state, Phase.APPLIED, m.batch) for m in applied),
        TimelineEntry(failing.id, failing.file, failing.state, Phase.FAILED),
        *tuple(
            TimelineEntry(m.id, m.file, m.state, Phase.BLOCKED, None, (f"retell_t{i}",))
            for i, m in enumerate(pending)
        ),
    )
    blocked_tables = tuple(t for e in timeline if e.phase is Phase.BLOCKED for t in e.tables)
    creator = Site(applied[5].id, applied[5].file, 14, MigrationState.APPLIED, 1)
    again = Site(failing.id, failing.file, 16, MigrationState.PENDING, 1, failed=True)
    command = "dbmedic fix --strategy resume --app /srv/app --db mysql+pymysql://app:***@db/staging"
    tables = 48
    expected = tables + len(blocked_tables)
    return Diagnosis(
        framework="laravel",
        app="/srv/app",
        target="mysql+pymysql://app:***@db/staging",
        dialect="mariadb",
        counts={
            "applied": len(applied),
            "pending": 1 + len(pending),
            "failed": 0,
            "missing-file": 0,
            "checksum-changed": 0,
        },
        total=len(timeline),
        tables=tables,
        last_applied=applied[-1],
        failing=Failure(
            failing,
            "SQLSTATE[42S21]: Column already exists: 1060 Duplicate column name 'priority'",
            ErrorClass.DUPLICATE_COLUMN,
            "alter table `policy_configurations` add `priority` int not null default '999'",
            1,
            failing.file,
            16,
        ),
        cause=Cause(
            "duplicate",
            "column",
            "policy_configurations.priority",
            (creator, again),
            explanation=f"column policy_configurations.priority is created by {creator.migration} "
            f"(line 14), applied, and again by {failing_id}.",
        ),
        blocked=Blocked(
            tuple(blocked_ids),
            blocked_tables,
            (BlockedGroup("(none)", tuple(blocked_ids), blocked_tables),),
            (BlockedGroup("retell_", tuple(blocked_ids), blocked_tables),),
        ),
        critical=(
            CriticalTable("retell_t0", False, Site(blocked_ids[0], pending[0].file), "blocked"),
            CriticalTable("users", True, Site(applied[0].id, applied[0].file), "present"),
        ),
        parity=ParitySummary(
            "reference.json",
            (ParityLine("tables", tables, expected), ParityLine("columns", 410, 1930)),
            missing_tables=blocked_tables,
        ),
        conflicts=(),
        options=(
            RepairOption(
                Strategy.RESET,
                False,
                f"a fresh run fails at {failing_id} too: the column is "
                f"created earlier by {creator.migration}",
                Evidence.REHEARSED,
                failing_id,
                "Duplicate column name 'priority'",
                ErrorClass.DUPLICATE_COLUMN,
                3.2,
                command.replace("resume", "reset"),
            ),
            RepairOption(
                Strategy.RESUME,
                True,
                "the failing migration's effects are all present; "
                "the 137 blocked migrations then run",
                Evidence.REHEARSED,
                seconds=2.9,
                command=command,
                mark_applied=(failing_id,),
            ),
            RepairOption(
                Strategy.SYNC,
                True,
                "the reference has every missing table",
                Evidence.NOT_CHECKED,
                command=command.replace("resume", "sync"),
            ),
        ),
        guard=Guard(
            failing_id,
            failing.file,
            16,
            "php",
            "if (! Schema::hasColumn('policy_configurations', 'priority')) {\n"
            "    $table->integer('priority')->default(999)->after('is_default');\n}",
        ),
        recommendation=Recommendation(
            Strategy.RESUME,
            command,
            "resume is rehearsed to succeed; reset is rehearsed to fail at the same migration",
        ),
        simulation=SimulationNote(
            failing_id, "Duplicate column name 'priority'", ErrorClass.DUPLICATE_COLUMN, 0, 0.2
        ),
        evidence=Evidence.REHEARSED,
        timeline=timeline,
        timings=(("status", 0.1), ("simulation", 0.2), ("shadow", 0.8), ("rehearsal", 3.0)),
        expected_tables=expected,
    )
