"""Parity of the diagnosed schema with its reference (URL or snapshot), as ``diff`` computes it."""

from __future__ import annotations

from dbmedic.diagnosis import ParityLine, ParitySummary
from dbmedic.model import Schema
from dbmedic.secrets import redact


def load_reference(spec: str) -> Schema:
    """The reference schema: a database URL (read-only) or a snapshot file (``dbmedic inspect``)."""
    from dbmedic.inspect import load_source

    return load_source(spec)


def reference_label(spec: str) -> str:
    return redact(spec) if "://" in spec else spec


def parity(live: Schema, reference: Schema, label: str) -> ParitySummary:
    """Per kind: present in the diagnosed database / expected from the reference."""
    from dbmedic.diff import diff_schemas

    d = diff_schemas(reference, live)
    lines = tuple(
        ParityLine(p.kind, p.present, p.expected, p.changed, p.extra) for p in d.parity.lines()
    )
    # tables on both sides with a change, as the diff sees them (cross-family rules included)
    changed = tuple(t for t in d.table_changes() if t in reference.tables and t in live.tables)
    return ParitySummary(label, lines, tuple(d.missing_tables), tuple(d.extra_tables), changed)
