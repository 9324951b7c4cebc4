"""Pure tests of Changes: inverses and the safe application order."""

from __future__ import annotations

from dbmedic.changes import (
    AddColumn,
    AddForeignKey,
    AddIndex,
    AddTable,
    DropIndex,
    DropTable,
    order_changes,
)
from dbmedic.model import Column, ForeignKey, Index, IndexColumn, PrimaryKey, Table


def table(name: str, *refs: str) -> Table:
    cols = {"id": Column("id", "int", nullable=False, ordinal=1)}
    fks = {}
    for ref in refs:
        cols[f"{ref}_id"] = Column(f"{ref}_id", "int", ordinal=len(cols) + 1)
        fks[f"fk_{name}_{ref}"] = ForeignKey(f"fk_{name}_{ref}", (f"{ref}_id",), ref, ("id",))
    return Table(name, cols, PrimaryKey(("id",)), foreign_keys=fks)


def test_reverse_twice_is_identity() -> None:
    change = AddIndex("t", Index("ix", (IndexColumn("a"),)))
    assert change.reverse().reverse() == change
    assert isinstance(change.reverse(), DropIndex)


def test_new_tables_follow_their_references() -> None:
    changes = [AddTable(table("a", "b")), AddTable(table("b", "c")), AddTable(table("c"))]
    names = [c.subject for c in order_changes(changes)]
    assert names == ["c", "b", "a"]


def test_cycle_is_broken_by_adding_key_last() -> None:
    changes = [AddTable(table("a", "b")), AddTable(table("b", "a"))]
    ordered = order_changes(changes)
    assert [type(c).__name__ for c in ordered] == ["AddTable", "AddTable", "AddForeignKey"]
    created = [c.table for c in ordered if isinstance(c, AddTable)]
    # The first table is created without the key that would point at a table not there yet.
    assert created[0].foreign_keys == {}
    assert isinstance(ordered[-1], AddForeignKey)


def test_inline_foreign_keys_keep_tables_whole() -> None:
    changes = [AddTable(table("a", "b")), AddTable(table("b", "a"))]
    ordered = order_changes(changes, inline_foreign_keys=True)
    assert all(isinstance(c, AddTable) and c.table.foreign_keys for c in ordered)


def test_phases_drop_before_add_and_tables_before_columns() -> None:
    changes = [
        AddColumn("x", Column("n", "int")),
        AddTable(table("x")),
        DropTable(table("old")),
        DropIndex("x", Index("ix", (IndexColumn("n"),))),
    ]
    kinds = [c.kind for c in order_changes(changes)]
    assert kinds == ["drop_index", "drop_table", "add_table", "add_column"]


def test_drop_tables_in_reverse_dependency_order() -> None:
    changes = [DropTable(table("c")), DropTable(table("b", "c")), DropTable(table("a", "b"))]
    assert [c.subject for c in order_changes(changes)] == ["a", "b", "c"]


def test_views_follow_the_views_they_select_from() -> None:
    from dbmedic.changes import AddView, DropView
    from dbmedic.model import View

    views = [View("a_top", "SELECT * FROM m_mid"), View("m_mid", "SELECT * FROM `z_base` AS b"),
             View("z_base", "SELECT id FROM users")]  # fmt: skip
    added = [c.subject for c in order_changes([AddView(v) for v in views])]
    assert added == ["z_base", "m_mid", "a_top"]
    dropped = [c.subject for c in order_changes([DropView(v) for v in views])]
    assert dropped == ["a_top", "m_mid", "z_base"]
