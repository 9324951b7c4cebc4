"""Are a statement's effects already on a live schema? present, absent, or in conflict.

Resume uses this per pending migration: a migration whose effects are all PRESENT can be recorded
as applied, ABSENT ones are to be run, and a CONFLICT (the object exists with another definition:
a hand-made hotfix column of another type) is never counted as applied.

Comparison is ``==`` on model objects, both sides normalised by :mod:`dbmedic.normalize`. The
lenient mode (the default) forgives exactly what a live server adds on its own, and nothing else:

- a column default the statement does not give (the server's implicit default: PostgreSQL's
  ``nextval(...)`` of a serial/identity, MySQL's implicit ``current_timestamp()`` on old-style
  TIMESTAMP columns);
- quotes around a numeric default (``'999'`` vs ``999``: MariaDB prints either, by version);
- a charset, collation or comment the statement does not name (inherited from the table or
  database);
- dialect facts in ``extra`` the statement does not state;
- for whole tables: indexes the statement does not declare (InnoDB's index for a foreign key),
  and table engine/charset/collation/comment the statement does not name.

Everything else that differs (type, nullability, a default the statement does give, the columns
of an index or key, the target of a foreign key) is a conflict.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from enum import StrEnum

from dbmedic.changes import (
    AddCheck,
    AddColumn,
    AddForeignKey,
    AddIndex,
    AddPrimaryKey,
    AddTable,
    AddTrigger,
    AddUnique,
    AddView,
    AlterColumn,
    DropCheck,
    DropColumn,
    DropForeignKey,
    DropIndex,
    DropPrimaryKey,
    DropTable,
    DropTrigger,
    DropUnique,
    DropView,
    RenameColumn,
    RenameTable,
)
from dbmedic.effects import Effect, Effects
from dbmedic.effects_alter import find
from dbmedic.effects_sql import rules_for
from dbmedic.model import Column, Schema, Table


class Presence(StrEnum):
    PRESENT = "present"
    """Exists with the same definition (for a drop or rename: the drop or rename is done)."""
    ABSENT = "absent"
    CONFLICT = "conflict"
    """Exists with another definition; ``differences`` says what."""


@dataclass(frozen=True, slots=True)
class EffectCheck:
    effect: Effect
    presence: Presence
    differences: tuple[str, ...] = ()
    """Human sentences: ``type: int (migration) vs bigint (database)``."""

    @property
    def subject(self) -> str:
        return self.effect.change.subject


def check_against(
    schema: Schema, effects: Effects | Iterable[Effect] | Iterable[Effects], *, lenient: bool = True
) -> list[EffectCheck]:
    """For each effect, whether ``schema`` already has it (pure; see the module doc for ``lenient``)."""
    flat: list[Effect] = []
    items: Sequence[Effect | Effects] = [effects] if isinstance(effects, Effects) else list(effects)
    for item in items:
        flat.extend(item.effects if isinstance(item, Effects) else [item])
    checker = _Checker(schema, lenient)
    return [checker.check(e) for e in flat]


class _Checker:
    def __init__(self, schema: Schema, lenient: bool) -> None:
        self.schema = schema
        self.lenient = lenient
        self.ci = rules_for(schema.dialect).names_case_insensitive
        self.tables = {
            (k.lower() if schema.family == "sqlite" else k): t for k, t in schema.tables.items()
        }

    def table(self, name: str) -> Table | None:
        return self.tables.get(name.lower() if self.schema.family == "sqlite" else name)

    def check(self, e: Effect) -> EffectCheck:
        c = e.change
        P = Presence
        if isinstance(c, AddTable):
            live = self.table(c.table.name)
            return self.result(e, live is not None, self.table_diffs(c.table, live) if live else [])
        if isinstance(c, DropTable):
            return self.result(e, self.table(c.table.name) is None)
        if isinstance(c, RenameTable):
            old, new = self.table(c.old), self.table(c.new)
            if new is not None and old is None:
                return EffectCheck(e, P.PRESENT)
            if old is not None and new is None:
                return EffectCheck(e, P.ABSENT)
            why = "both tables exist" if old is not None else "neither table exists"
            return EffectCheck(e, P.CONFLICT, (why,))
        if isinstance(c, (AddView, DropView)):
            found = c.view.name in self.schema.views
            return self.result(e, found if isinstance(c, AddView) else not found)
        if isinstance(c, (AddTrigger, DropTrigger)):
            found = c.trigger.name in self.schema.triggers
            return self.result(e, found if isinstance(c, AddTrigger) else not found)
        table_name = getattr(c, "table", "")  # every remaining change names its table
        live = self.table(table_name)
        if live is None:
            if isinstance(
                c, (DropColumn, DropIndex, DropUnique, DropForeignKey, DropCheck, DropPrimaryKey)
            ):
                return EffectCheck(e, P.PRESENT)
            return EffectCheck(e, P.ABSENT, (f"table {table_name} does not exist",))
        return self.check_in_table(e, live)

    def check_in_table(self, e: Effect, live: Table) -> EffectCheck:
        c = e.change
        P = Presence
        if isinstance(c, AddColumn):
            col = find(live.columns, c.column.name, self.ci)
            return self.result(e, col is not None, self.column_diffs(c.column, col) if col else [])
        if isinstance(c, DropColumn):
            return self.result(e, find(live.columns, c.column.name, self.ci) is None)
        if isinstance(c, AlterColumn):
            col = find(live.columns, c.after.name, self.ci)
            if col is None:
                return EffectCheck(e, P.CONFLICT, (f"column {c.after.name} does not exist",))
            names = e.touches or None
            after = self.column_diffs(c.after, col, names)
            if not after:
                return EffectCheck(e, P.PRESENT)
            if c.before.type and not self.column_diffs(c.before, col, names):
                return EffectCheck(e, P.ABSENT)
            return EffectCheck(e, P.CONFLICT, tuple(after))
        if isinstance(c, RenameColumn):
            old, new = find(live.columns, c.old, self.ci), find(live.columns, c.new, self.ci)
            if new is not None and old is None:
                return EffectCheck(e, P.PRESENT)
            if old is not None and new is None:
                return EffectCheck(e, P.ABSENT)
            return EffectCheck(
                e, P.CONFLICT, ("both columns exist" if old else "neither column exists",)
            )
        if isinstance(c, (AddIndex, AddUnique)):
            want = c.index if isinstance(c, AddIndex) else c.unique
            have = find(live.indexes, want.name, self.ci) or find(live.uniques, want.name, self.ci)
            return self.result(e, have is not None, [] if have is None else _obj_diffs(want, have))
        if isinstance(c, (DropIndex, DropUnique)):
            name = c.index.name if isinstance(c, DropIndex) else c.unique.name
            gone = (
                find(live.indexes, name, self.ci) is None
                and find(live.uniques, name, self.ci) is None
            )
            return self.result(e, gone)
        if isinstance(c, AddPrimaryKey):
            pk = live.primary_key
            diffs = (
                []
                if pk is None or pk == c.primary_key
                else [
                    f"primary key: {', '.join(c.primary_key.columns)} (migration) vs {', '.join(pk.columns)} (database)"
                ]
            )
            return self.result(e, pk is not None, diffs)
        if isinstance(c, DropPrimaryKey):
            return self.result(e, live.primary_key is None)
        if isinstance(c, AddForeignKey):
            fk = find(live.foreign_keys, c.foreign_key.name, self.ci)
            return self.result(
                e, fk is not None, [] if fk is None else _obj_diffs(c.foreign_key, fk, self.lenient)
            )
        if isinstance(c, DropForeignKey):
            return self.result(e, find(live.foreign_keys, c.foreign_key.name, self.ci) is None)
        if isinstance(c, AddCheck):
            ck = find(live.checks, c.check.name, self.ci)
            return self.result(e, ck is not None)
        if isinstance(c, DropCheck):
            return self.result(e, find(live.checks, c.check.name, self.ci) is None)
        raise TypeError(f"no check for {type(c).__name__}")

    @staticmethod
    def result(e: Effect, found: bool, diffs: Iterable[str] = ()) -> EffectCheck:
        diffs = tuple(diffs)
        if not found:
            return EffectCheck(e, Presence.ABSENT)
        return EffectCheck(e, Presence.CONFLICT if diffs else Presence.PRESENT, diffs)

    def column_diffs(
        self, want: Column, have: Column, only: tuple[str, ...] | None = None
    ) -> list[str]:
        out = []
        for f in (
            "type",
            "nullable",
            "default",
            "auto_increment",
            "generated",
            "charset",
            "collation",
            "comment",
        ):
            if only is not None and f not in only:
                continue
            a, b = getattr(want, f), getattr(have, f)
            if a == b or (self.lenient and _forgiven(f, a, b)):
                continue
            out.append(f"{want.name} {f}: {_show(a)} (migration) vs {_show(b)} (database)")
        if only is None:
            wanted = dict(want.extra)
            got = dict(have.extra)
            keys = wanted if self.lenient else set(wanted) | set(got)
            for k in sorted(keys):
                if wanted.get(k) != got.get(k):
                    out.append(
                        f"{want.name} {k}: {_show(wanted.get(k))} (migration) vs {_show(got.get(k))} (database)"
                    )
        return out

    def table_diffs(self, want: Table, have: Table) -> list[str]:
        out: list[str] = []
        for name, col in want.columns.items():
            live = find(have.columns, name, self.ci)
            if live is None:
                out.append(f"column {name} is missing")
            else:
                out.extend(self.column_diffs(col, live))
        for name in have.columns:
            if find(want.columns, name, self.ci) is None:
                out.append(f"column {name} is not in the migration")
        if (want.primary_key or None) != (have.primary_key or None):
            out.append(
                f"primary key: {_cols(want.primary_key)} (migration) vs {_cols(have.primary_key)} (database)"
            )
        for label, w, h in (
            ("unique key", want.uniques, have.uniques),
            ("index", want.indexes, have.indexes),
            ("foreign key", want.foreign_keys, have.foreign_keys),
        ):
            for name, obj in w.items():
                live_obj = find(h, name, self.ci)
                if live_obj is None and label != "foreign key":
                    live_obj = find(
                        have.uniques if label == "index" else have.indexes, name, self.ci
                    )
                if live_obj is None:
                    out.append(f"{label} {name} is missing")
                else:
                    out.extend(
                        f"{label} {name}: {d}" for d in _obj_diffs(obj, live_obj, self.lenient)
                    )
            if not self.lenient:
                out.extend(
                    f"{label} {n} is not in the migration" for n in h if find(w, n, self.ci) is None
                )
        return out


def _forgiven(field_name: str, want: object, have: object) -> bool:
    if field_name in ("charset", "collation", "comment") and want is None:
        return True
    if field_name == "default":
        if want is None:
            return True
        return (
            isinstance(want, str) and isinstance(have, str) and want.strip("'") == have.strip("'")
        )
    if field_name in ("on_update", "on_delete"):
        # A key that names no action gets the server's default, which MariaDB reports as
        # RESTRICT (equivalent to NO ACTION in MySQL/MariaDB):
        # https://mariadb.com/kb/en/foreign-keys/#referential-actions
        return want == "NO ACTION" and have == "RESTRICT"
    return False


def _obj_diffs(want: object, have: object, lenient: bool = True) -> list[str]:
    out = []
    for f in fields(want):  # type: ignore[arg-type]
        if f.name == "name" or not f.compare:
            continue
        a, b = getattr(want, f.name), getattr(have, f.name)
        if f.name == "extra" and lenient:
            a, b = dict(a), {k: v for k, v in dict(b).items() if k in dict(a)}
        if a != b and hasattr(have, f.name) and not (lenient and _forgiven(f.name, a, b)):
            out.append(f"{f.name}: {_show(a)} (migration) vs {_show(b)} (database)")
    return out


def _cols(pk: object) -> str:
    return ", ".join(getattr(pk, "columns", ())) or "none"


def _show(value: object) -> str:
    if isinstance(value, tuple):
        return "(" + ", ".join(getattr(v, "name", str(v)) for v in value) + ")"
    return "none" if value is None else str(value)
