"""verify: named checks a database must pass, for people and CI. Never writes.

Each check is ok, failed or skipped, with one sentence; the verdict is in sync only when every
check holds. The checks: connection, table count (``expect_tables``), critical tables present,
parity with a reference (live database or snapshot): re-inspect, diff, expect nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from dbmedic.diff import Diff, diff_schemas
from dbmedic.errors import ConnectError, InspectError
from dbmedic.inspect import Progress, inspect_schema, load_source

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

    from dbmedic.connect import Database
    from dbmedic.model import Schema


class CheckStatus(StrEnum):
    OK = "ok"
    FAILED = "failed"
    SKIPPED = "skipped"
    """Not run because an earlier check (the connection) failed."""


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    """``connection``, ``table count``, ``critical tables``, ``parity``."""
    status: CheckStatus
    detail: str
    """One sentence: what was found."""

    @property
    def ok(self) -> bool:
        return self.status is CheckStatus.OK

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "status": str(self.status), "ok": self.ok, "detail": self.detail}


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome of :func:`verify`."""

    target: str
    """Redacted URL of the verified database."""
    checks: tuple[Check, ...]
    diff: Diff | None = None
    """The diff against the reference, when one was given and the target could be read."""
    table_count: int | None = None

    @property
    def in_sync(self) -> bool:
        """True only when every check holds."""
        return all(c.ok for c in self.checks)

    @property
    def failed(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if not c.ok)

    @property
    def connected(self) -> bool:
        return not any(c.name == "connection" and not c.ok for c in self.checks)

    def as_dict(self) -> dict[str, Any]:
        from dbmedic.describe import diff_dict

        return {
            "target": self.target,
            "in_sync": self.in_sync,
            "table_count": self.table_count,
            "checks": [c.as_dict() for c in self.checks],
            "diff": None if self.diff is None else diff_dict(self.diff),
        }


def _names(names: Iterable[str]) -> str:
    names = list(names)
    shown = ", ".join(names[:10])
    return shown + (f" and {len(names) - 10} more" if len(names) > 10 else "")


def verify(
    target: Database | str | URL,
    reference: Schema | str | None = None,
    expect_tables: int | None = None,
    critical: Iterable[str] = (),
    *,
    strict_order: bool = False,
    progress: Progress | None = None,
) -> Verdict:
    """Check ``target`` against the expectations given; returns a :class:`Verdict`, never writes.

    ``reference`` is a Schema, a URL (opened read-only) or a snapshot path. A target that cannot
    be reached is a failed ``connection`` check (the others are skipped), not an exception; a
    malformed URL or an unreadable reference snapshot raises ConfigError / SnapshotError.
    """
    from dbmedic.connect import Database, open_reference, parse_url
    from dbmedic.secrets import redact

    critical = [c.strip() for c in critical if c.strip()]
    # Load the reference first: a bad reference is bad input (raise), not a failed check.
    ref_schema = load_source(reference, progress) if isinstance(reference, str) else reference

    checks: list[Check] = []
    wanted: list[str] = []
    if expect_tables is not None:
        wanted.append("table count")
    if critical:
        wanted.append("critical tables")
    if ref_schema is not None:
        wanted.append("parity")

    schema: Schema | None = None
    if isinstance(target, Database):
        display = target.display
        try:
            schema = inspect_schema(target, progress)
        except (ConnectError, InspectError) as e:
            checks.append(Check("connection", CheckStatus.FAILED, str(e)))
    else:
        display = redact(parse_url(target))
        try:
            with open_reference(target) as db:
                display = db.display
                schema = inspect_schema(db, progress)
        except (ConnectError, InspectError) as e:
            checks.append(Check("connection", CheckStatus.FAILED, str(e)))
    if schema is None:
        checks.extend(
            Check(name, CheckStatus.SKIPPED, "not checked: the database could not be read")
            for name in wanted
        )
        return Verdict(display, tuple(checks))

    version = f" ({schema.dialect} {schema.server_version})" if schema.server_version else ""
    checks.append(Check("connection", CheckStatus.OK, f"connected to {display}{version}"))
    count = len(schema.tables)
    if expect_tables is not None:
        ok = count == expect_tables
        checks.append(
            Check(
                "table count",
                CheckStatus.OK if ok else CheckStatus.FAILED,
                f"{count} tables, expected {expect_tables}",
            )
        )
    if critical:
        missing = [name for name in critical if name not in schema.tables]
        present = len(critical) - len(missing)
        detail = f"{present}/{len(critical)} critical tables present"
        if missing:
            detail += f"; missing: {_names(missing)}"
        checks.append(
            Check("critical tables", CheckStatus.FAILED if missing else CheckStatus.OK, detail)
        )
    diff = None
    if ref_schema is not None:
        diff = diff_schemas(ref_schema, schema, strict_order=strict_order)
        if diff.is_empty:
            detail = f"matches the reference: {diff.parity.summary()}"
        else:
            n = len(diff.changes) + (len(diff.column_order) if strict_order else 0)
            detail = f"{n} differences from the reference: {diff.parity.summary()}"
        checks.append(
            Check("parity", CheckStatus.OK if diff.is_empty else CheckStatus.FAILED, detail)
        )
    return Verdict(display, tuple(checks), diff, count)
