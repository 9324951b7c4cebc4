"""The data-keeping repair of a conflict: an object that exists with another definition than the
pending migration creates (a hand-made hotfix) is never counted as applied.

- column ``t.c``: rename it to ``c__dbmedic_old`` (MOVE_ASIDE), let the migration add ``c``,
  copy the values back with a conversion where the types differ (COPY_BACK), and drop the old
  column only after a check that every value arrived.
- table ``t``: copy its rows into ``t__dbmedic_conflict_<stamp>`` (``CREATE TABLE AS SELECT``: the
  copy has no index, constraint or sequence whose name the migration could collide with), drop
  ``t`` only after the row counts match, let the migration create ``t``, copy the common columns
  back, and drop the copy only after the row counts match again.

Pure: statements are rendered with the dialect (names quoted by it), nothing runs here.
"""

from __future__ import annotations

from dataclasses import dataclass

from dbmedic.changes import DropColumn, RenameColumn
from dbmedic.dialects import Dialect
from dbmedic.errors import RefusedError
from dbmedic.model import Column, Schema, Table
from dbmedic.plan import Step, StepKind

COLUMN_SUFFIX = "__dbmedic_old"
TABLE_MARK = "__dbmedic_conflict_"
_MAX_NAME = 60
"""Below MySQL's 64 and PostgreSQL's 63 characters."""


@dataclass(frozen=True, slots=True)
class ConflictRepair:
    """One conflicting object and the names its repair uses."""

    kind: str
    """``column`` or ``table``."""
    table: str
    column: str | None
    aside: str
    """The moved-aside column or table."""
    migration: str
    differences: tuple[str, ...]

    @property
    def subject(self) -> str:
        return f"{self.table}.{self.column}" if self.column else self.table


def aside_name(name: str, suffix: str, taken: set[str]) -> str:
    """``name + suffix``, shortened to fit identifier limits, unique among ``taken`` (lower case)."""
    base = name[: _MAX_NAME - len(suffix) - 3] + suffix
    candidate, n = base, 1
    while candidate.lower() in taken:
        n += 1
        candidate = f"{base}_{n}"
    return candidate


def referencing(schema: Schema, table: str) -> list[str]:
    """Tables (other than ``table``) whose foreign keys point at ``table``."""
    return sorted(
        t.name
        for t in schema.tables.values()
        if t.name != table and any(fk.ref_table == table for fk in t.foreign_keys.values())
    )


def move_aside_steps(dialect: Dialect, c: ConflictRepair, live: Schema) -> list[Step]:
    """Steps before the migration runs: the object is out of the way, its data kept."""
    q = dialect.quote
    why = f"{c.kind} {c.subject} exists with another definition ({'; '.join(c.differences)})"
    if c.kind == "column":
        assert c.column is not None
        rename = RenameColumn(c.table, c.column, c.aside)
        return [
            Step(
                0,
                StepKind.MOVE_ASIDE,
                f"Rename column {c.subject} to {c.aside} (keeps its values)",
                statements=tuple(dialect.render_change(rename)),
                reverse_statements=tuple(dialect.render_change(rename.reverse())),
                changes=(rename,),
                reason=why,
            )
        ]
    refs = referencing(live, c.table)
    if refs:
        raise RefusedError(
            f"resume refused: table {c.table} exists with another definition than "
            f"{c.migration} creates, and foreign keys of {', '.join(refs)} point at it",
            hint="move those foreign keys aside by hand (or use --strategy sync), then diagnose again",
        )
    same = f"SELECT (SELECT COUNT(*) FROM {q(c.table)}) = (SELECT COUNT(*) FROM {q(c.aside)})"
    return [
        Step(
            0,
            StepKind.MOVE_ASIDE,
            f"Copy the rows of {c.table} into {c.aside}",
            statements=(f"CREATE TABLE {q(c.aside)} AS SELECT * FROM {q(c.table)}",),
            reverse_statements=(f"DROP TABLE {q(c.aside)}",),
            reason=why,
        ),
        Step(
            0,
            StepKind.SQL,
            f"Drop {c.table} once {c.aside} holds every row (the migration creates it again)",
            statements=(f"DROP TABLE {q(c.table)}",),
            checks=(same,),
            destructive=True,
            reason="its rows are kept in the copy; the counts are checked first",
        ),
    ]


def copy_back_steps(
    dialect: Dialect, c: ConflictRepair, created: Table, current: Schema, kept: Table | None
) -> list[Step]:
    """Steps after the migration created the object again: the data back, then the old one gone.

    ``created`` is the table as the migration leaves it, ``current`` the schema at that point
    (with the moved-aside object), ``kept`` the moved-aside table (table conflicts).
    """
    q = dialect.quote
    if c.kind == "column":
        assert c.column is not None
        new = _column(created, c.column)
        value = dialect.assign_value(q(c.aside), new.type) if new is not None else q(c.aside)
        old_col = _column(created, c.aside) or Column(c.aside, "")
        lost = (
            f"SELECT COUNT(*) = 0 FROM {q(c.table)} "
            f"WHERE {q(c.aside)} IS NOT NULL AND {q(c.column)} IS NULL"
        )
        return [
            Step(
                0,
                StepKind.COPY_BACK,
                f"Copy the values of {c.table}.{c.aside} into {c.subject}",
                statements=(
                    f"UPDATE {q(c.table)} SET {q(c.column)} = {value} "
                    f"WHERE {q(c.aside)} IS NOT NULL",
                ),
                transactional=True,
                reason="the hotfix's data is kept",
            ),
            Step(
                0,
                StepKind.SQL,
                f"Drop {c.table}.{c.aside} once every value is copied",
                statements=tuple(dialect.render([DropColumn(c.table, old_col)], current)),
                checks=(lost,),
                destructive=True,
                reason="every non-null value arrived in the new column (checked first)",
            ),
        ]
    assert kept is not None
    common = [n for n in created.columns if _column(kept, n) is not None]
    cols = ", ".join(q(n) for n in common)
    values = ", ".join(_convert(dialect, kept, created, n) for n in common)
    same = f"SELECT (SELECT COUNT(*) FROM {q(c.table)}) = (SELECT COUNT(*) FROM {q(c.aside)})"
    dropped = [n for n in kept.columns if _column(created, n) is None]
    note = (
        f"; columns not in the new table stay in the backup: {', '.join(dropped)}"
        if dropped
        else ""
    )
    return [
        Step(
            0,
            StepKind.COPY_BACK,
            f"Copy {len(common)} common column(s) of every row from {c.aside} into {c.table}",
            statements=(f"INSERT INTO {q(c.table)} ({cols}) SELECT {values} FROM {q(c.aside)}",),
            transactional=True,
            reason=f"the hotfix table's rows are kept{note}",
        ),
        Step(
            0,
            StepKind.SQL,
            f"Drop {c.aside} once {c.table} holds every row",
            statements=(f"DROP TABLE {q(c.aside)}",),
            checks=(same,),
            destructive=True,
            reason="the row counts are checked first",
        ),
    ]


def _column(table: Table, name: str) -> Column | None:
    return next((col for n, col in table.columns.items() if n.lower() == name.lower()), None)


def _convert(dialect: Dialect, kept: Table, created: Table, name: str) -> str:
    old, new = _column(kept, name), _column(created, name)
    expr = dialect.quote(old.name if old else name)
    if old is None or new is None or old.type == new.type:
        return expr
    return dialect.assign_value(expr, new.type)
