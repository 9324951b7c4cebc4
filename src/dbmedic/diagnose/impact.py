"""What the failure blocks: the timeline, the migrations after the failure point, the tables
they would create (grouped by batch and by table-name prefix), and the critical tables."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from dbmedic.diagnosis import Blocked, BlockedGroup, CriticalTable, Phase, Site, TimelineEntry
from dbmedic.model import Migration, MigrationState, Schema

if TYPE_CHECKING:
    from dbmedic.simulate import Simulation

_PHASE = {
    MigrationState.APPLIED: Phase.APPLIED,
    MigrationState.MISSING_FILE: Phase.MISSING_FILE,
    MigrationState.CHECKSUM_CHANGED: Phase.CHECKSUM_CHANGED,
}


def tables_created(sim_all: Simulation | None) -> dict[str, list[str]]:
    """{migration id: tables it creates first}, from the simulation's creators."""
    out: dict[str, list[str]] = {}
    if sim_all is None:
        return out
    for key, creators in sorted(sim_all.creators.items()):
        if key.startswith("table:") and creators:
            first = next((c for c in creators if not c.failed), creators[0])
            out.setdefault(first.migration, []).append(key[len("table:") :])
    return out


def timeline(
    migrations: Sequence[Migration], failing: str | None, created: Mapping[str, list[str]]
) -> tuple[TimelineEntry, ...]:
    out = []
    seen_failure = False
    for m in migrations:
        if m.id == failing:
            phase, seen_failure = Phase.FAILED, True
        elif m.state in _PHASE:
            phase = _PHASE[m.state]
        else:
            phase = Phase.BLOCKED if seen_failure else Phase.PENDING
        out.append(
            TimelineEntry(m.id, m.file, m.state, phase, m.batch, tuple(created.get(m.id, ())))
        )
    return tuple(out)


def prefix_of(table: str) -> str:
    """``retell_call_sessions`` -> ``retell_``; a name without ``_`` is its own group."""
    head, sep, _ = table.partition("_")
    return f"{head}_" if sep else table


def blocked(
    entries: Sequence[TimelineEntry], batches: Mapping[str, int | None] | None = None
) -> Blocked:
    """Blocked migrations grouped by batch (the reference's batches where known) and by the
    prefix of the tables they create."""
    rows = [e for e in entries if e.phase is Phase.BLOCKED]
    by_batch: dict[str, list[TimelineEntry]] = {}
    by_prefix: dict[str, list[TimelineEntry]] = {}
    for e in rows:
        batch = (batches or {}).get(e.id, e.batch)
        by_batch.setdefault(str(batch) if batch is not None else "(none)", []).append(e)
        prefixes = sorted({prefix_of(t) for t in e.tables}) or ["(no table)"]
        for p in prefixes:
            by_prefix.setdefault(p, []).append(e)

    def groups(d: dict[str, list[TimelineEntry]]) -> tuple[BlockedGroup, ...]:
        out = []
        for key, items in d.items():
            tables = tuple(t for e in items for t in e.tables)
            out.append(BlockedGroup(key, tuple(e.id for e in items), tables))
        return tuple(sorted(out, key=lambda g: (-len(g.migrations), g.key)))

    batch_groups = tuple(sorted(groups(by_batch), key=lambda g: g.key))
    return Blocked(
        tuple(e.id for e in rows),
        tuple(t for e in rows for t in e.tables),
        batch_groups,
        groups(by_prefix),
    )


def critical_tables(
    names: Sequence[str],
    live: Schema,
    entries: Sequence[TimelineEntry],
    migrations: Mapping[str, Migration],
) -> tuple[CriticalTable, ...]:
    creator_of = {t: e for e in entries for t in e.tables}
    present = {t.lower() for t in live.tables}
    out = []
    for name in names:
        e = creator_of.get(name)
        site = None
        if e is not None:
            m = migrations.get(e.id)
            site = Site(e.id, e.file, None, m.state if m else None)
        if name.lower() in present:
            state = "present"
        elif e is None:
            state = "not created by any migration"
        else:
            state = e.phase.value
        out.append(CriticalTable(name, name.lower() in present, site, state))
    return tuple(out)
