"""Parity of the diagnosed schema with its reference (URL or snapshot), as ``diff`` computes it."""

from __future__ import annotations

from dbmedic.diagnosis import ParityLine, ParitySummary
from dbmedic.errors import ConfigError
from dbmedic.model import Schema
from dbmedic.secrets import redact


def load_reference(spec: str) -> Schema:
    """The reference schema: a database URL (read-only) or a snapshot file (``dbmedic inspect``)."""
    try:
        from dbmedic.inspect import load_source  # type: ignore[import-not-found,import-untyped,unused-ignore]
    except ImportError:
        load_source = None  # type: ignore[assignment,unused-ignore]
    if load_source is not None:
        schema: Schema = load_source(spec)
        return schema
    if "://" not in spec:
        raise ConfigError(
            f"cannot read snapshot {spec} (snapshot support is not installed)",
            hint="pass the reference as a database URL",
        )
    from dbmedic.connect import open_reference

    with open_reference(spec) as db, db.connect() as conn:
        return db.dialect.inspect(conn, db.info)


def reference_label(spec: str) -> str:
    return redact(spec) if "://" in spec else spec


def parity(live: Schema, reference: Schema, label: str) -> ParitySummary:
    """Per kind: present in the diagnosed database / expected from the reference."""
    try:
        from dbmedic.diff import diff_schemas  # type: ignore[import-not-found,import-untyped,unused-ignore]
    except ImportError:
        return _own_parity(live, reference, label)
    d = diff_schemas(reference, live)
    lines = tuple(
        ParityLine(p.kind, p.present, p.expected, p.changed, p.extra) for p in d.parity.lines()
    )
    changed = tuple(
        sorted(
            t
            for t in reference.tables
            if t in live.tables and reference.tables[t] != live.tables[t]
        )
    )
    return ParitySummary(label, lines, tuple(d.missing_tables), tuple(d.extra_tables), changed)


def _own_parity(live: Schema, reference: Schema, label: str) -> ParitySummary:
    """Fallback while ``dbmedic.diff`` is not installed: counts by name."""
    ref, have = reference.tables, live.tables

    def line(kind: str, want: dict[str, object], got: dict[str, object]) -> ParityLine:
        present = [k for k in want if k in got]
        changed = sum(1 for k in present if want[k] != got[k])
        return ParityLine(
            kind, len(present), len(want), changed, sum(1 for k in got if k not in want)
        )

    def flat(tables: dict[str, object], attr: str) -> dict[str, object]:
        return {f"{t}.{k}": v for t, tab in tables.items() for k, v in getattr(tab, attr).items()}

    lines = (
        line("tables", dict(ref), dict(have)),
        line("columns", flat(dict(ref), "columns"), flat(dict(have), "columns")),
        line("indexes", flat(dict(ref), "indexes"), flat(dict(have), "indexes")),
        line("foreign keys", flat(dict(ref), "foreign_keys"), flat(dict(have), "foreign_keys")),
        line("views", dict(reference.views), dict(live.views)),
    )
    return ParitySummary(
        label,
        lines,
        tuple(sorted(t for t in ref if t not in have)),
        tuple(sorted(t for t in have if t not in ref)),
        tuple(sorted(t for t in ref if t in have and ref[t] != have[t])),
    )
