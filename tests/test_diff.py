"""diff_schemas on hand-built schemas: each kind of difference detected and named, parity, order."""

from __future__ import annotations

from dataclasses import replace

import pytest

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
    AlterTableOptions,
    DropCheck,
    DropColumn,
    DropForeignKey,
    DropIndex,
    DropPrimaryKey,
    DropTable,
    DropTrigger,
    DropUnique,
    DropView,
    order_changes,
)
from dbmedic.describe import describe, diff_dict
from dbmedic.diff import diff_schemas, group_tables, split_drops
from dbmedic.model import CheckConstraint, PrimaryKey, Trigger, UniqueConstraint, View
from schema_builders import col, fk, index, schema, table

USERS = table("users", col("email", "varchar(255)"), col("name", "varchar(100)", nullable=True))
POSTS = table(
    "posts",
    "user_id",
    col("title", "varchar(200)"),
    indexes=[index("posts_title_idx", "title")],
    fks=[fk("posts_user_fk", "user_id", "users")],
)
BASE = schema(USERS, POSTS)


def with_table(s, t):  # type: ignore[no-untyped-def]
    return replace(s, tables={**s.tables, t.name: t})


def kinds(diff) -> list[str]:  # type: ignore[no-untyped-def]
    return [c.kind for c in diff.changes]


def test_identical_schemas_give_an_empty_diff_and_full_parity() -> None:
    d = diff_schemas(BASE, BASE)
    assert d.is_empty and d.changes == ()
    assert d.parity.complete
    assert d.parity.tables.text() == "tables 2/2 (100.0%)"
    assert d.parity.columns.text() == "columns 6/6 (100.0%)"
    assert d.parity.indexes.text() == "indexes 3/3 (100.0%)"  # 2 primary keys + 1 index
    assert d.parity.foreign_keys.text() == "foreign keys 1/1 (100.0%)"


def test_provenance_does_not_count() -> None:
    other = replace(
        BASE, database="elsewhere", server_version="8.0", taken_at="x", inspect_seconds=9.0
    )
    raw = replace(POSTS.columns["title"], raw_type="VARCHAR(200)")
    other = with_table(other, replace(POSTS, columns={**POSTS.columns, "title": raw}))
    assert diff_schemas(BASE, other).is_empty


def test_seed_incident_parity_line_and_groups() -> None:
    retell = [table(f"retell_{n}") for n in "abcdefghijkl"]  # 12
    flows = [table(f"conversation_flows_{n}") for n in "abc"]  # 3
    present = [table(f"core_{i:03d}") for i in range(48)]
    others = [table(f"misc{i:03d}") for i in range(244 - 48 - 12 - 3)]
    prod = schema(*present, *retell, *flows, *others)
    staging = schema(*present)
    d = diff_schemas(prod, staging)
    assert d.parity.tables.text() == "tables 48/244 (19.7%)"
    assert d.parity.tables.missing == 196
    assert len(d.missing_tables) == 196 and d.extra_tables == ()
    groups = {g.label: len(g.tables) for g in d.missing_table_groups()}
    assert groups["retell_*"] == 12
    assert groups["conversation_*"] == 3
    assert groups["misc000"] == 1  # no underscore: its own group
    assert kinds(d).count("add_table") == 196
    assert not d.is_empty


def test_group_tables_needs_two_sharing_a_prefix() -> None:
    groups = group_tables(["retell_a", "retell_b", "users_x", "jobs"])
    assert [(g.label, g.tables) for g in groups] == [
        ("retell_*", ("retell_a", "retell_b")),
        ("jobs", ("jobs",)),
        ("users_x", ("users_x",)),
    ]


def test_percent_never_rounds_to_a_lie() -> None:
    from dbmedic.diff import ParityLine

    assert ParityLine("columns", 2439, 2440).percent == 99.9
    assert ParityLine("columns", 1, 5000).percent == 0.1
    assert ParityLine("columns", 0, 5000).percent == 0.0
    assert ParityLine("views", 0, 0).text() == "views 0/0 (100.0%)"


@pytest.mark.parametrize(
    ("target", "expected_kinds", "words"),
    [
        (schema(USERS), ["add_table"], "add table posts (3 columns)"),
        (
            schema(USERS, POSTS, table("legacy")),
            ["drop_table"],
            "drop table legacy (1 column)",
        ),
        (
            with_table(
                BASE,
                replace(USERS, columns={k: v for k, v in USERS.columns.items() if k != "name"}),
            ),
            ["add_column"],
            "add column users.name varchar(100) NULL",
        ),
        (
            with_table(BASE, replace(USERS, columns={**USERS.columns, "age": col("age")})),
            ["drop_column"],
            "drop column users.age int NOT NULL",
        ),
        (
            with_table(
                BASE,
                replace(
                    USERS,
                    columns={
                        **USERS.columns,
                        "email": col("email", "varchar(100)", True, ordinal=2),
                    },
                ),
            ),
            ["alter_column"],
            "alter column users.email: type varchar(100) -> varchar(255); nullable yes -> no",
        ),
        (
            with_table(BASE, replace(POSTS, indexes={})),
            ["add_index"],
            "add index posts.posts_title_idx (title)",
        ),
        (
            with_table(
                BASE,
                replace(
                    POSTS, indexes={"posts_title_idx": index("posts_title_idx", "title", "id")}
                ),
            ),
            ["drop_index", "add_index"],
            "add index posts.posts_title_idx (title)",
        ),
        (
            with_table(
                BASE, replace(USERS, uniques={"u_email": UniqueConstraint("u_email", ("email",))})
            ),
            ["drop_unique"],
            "drop unique key users.u_email (email)",
        ),
        (
            with_table(BASE, replace(USERS, primary_key=None)),
            ["add_primary_key"],
            "add primary key users (id)",
        ),
        (
            with_table(BASE, replace(USERS, primary_key=PrimaryKey(("email",)))),
            ["drop_primary_key", "add_primary_key"],
            "drop primary key users (email)",
        ),
        (
            with_table(BASE, replace(POSTS, foreign_keys={})),
            ["add_foreign_key"],
            "add foreign key posts.posts_user_fk (user_id) -> users (id)",
        ),
        (
            with_table(
                BASE,
                replace(
                    POSTS,
                    foreign_keys={
                        "posts_user_fk": fk(
                            "posts_user_fk", "user_id", "users", on_delete="CASCADE"
                        )
                    },
                ),
            ),
            ["drop_foreign_key", "add_foreign_key"],
            "drop foreign key posts.posts_user_fk (user_id) -> users (id)",
        ),
        (
            with_table(BASE, replace(USERS, checks={"c": CheckConstraint("c", "id > 0")})),
            ["drop_check"],
            "drop check users.c (id > 0)",
        ),
        (
            with_table(BASE, replace(USERS, engine="MyISAM")),
            ["alter_table"],
            "alter table users: engine MyISAM -> none",
        ),
        (
            replace(BASE, views={"v": View("v", "select 1")}),
            ["drop_view"],
            "drop view v",
        ),
        (
            replace(BASE, triggers={"t": Trigger("t", "users", "AFTER", "INSERT", "set @a = 1")}),
            ["drop_trigger"],
            "drop trigger t (AFTER INSERT on users)",
        ),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_each_kind_of_difference_is_detected_and_named(target, expected_kinds, words) -> None:  # type: ignore[no-untyped-def]
    d = diff_schemas(BASE, target)
    assert kinds(d) == expected_kinds
    assert words in [describe(c) for c in d.changes]
    assert not d.is_empty
    # the other direction is the exact inverse
    back = diff_schemas(target, BASE)
    assert sorted(c.reverse().kind for c in back.changes) == sorted(kinds(d)) or expected_kinds[
        0
    ] in (
        "alter_column",
        "alter_table",
    )


def test_views_and_triggers_added_and_changed() -> None:
    source = replace(
        BASE,
        views={"v": View("v", "select id from users")},
        triggers={"t": Trigger("t", "users", "AFTER", "INSERT", "set @a = 1")},
    )
    d = diff_schemas(source, BASE)
    assert [type(c) for c in d.changes] == [AddView, AddTrigger]
    changed = replace(
        BASE,
        views={"v": View("v", "select email from users")},
        triggers={"t": Trigger("t", "users", "BEFORE", "INSERT", "set @a = 1")},
    )
    d = diff_schemas(source, changed)
    assert [type(c) for c in d.changes] == [DropView, AddView, DropTrigger, AddTrigger]
    assert d.parity.views.text() == "views 1/1 (100.0%)" and d.parity.views.changed == 1


def test_checks_added() -> None:
    source = with_table(BASE, replace(USERS, checks={"c": CheckConstraint("c", "id > 0")}))
    d = diff_schemas(source, BASE)
    assert [type(c) for c in d.changes] == [AddCheck]
    assert d.parity.checks.text() == "checks 0/1 (0.0%)"


def test_column_order_is_a_difference_only_when_strict() -> None:
    reordered = replace(
        USERS,
        columns={
            "id": replace(USERS.columns["id"], ordinal=1),
            "name": replace(USERS.columns["name"], ordinal=2),
            "email": replace(USERS.columns["email"], ordinal=3),
        },
    )
    target = with_table(BASE, reordered)
    loose = diff_schemas(BASE, target)
    assert loose.is_empty and loose.changes == ()
    assert [(o.table, o.source, o.target) for o in loose.column_order] == [
        ("users", ("id", "email", "name"), ("id", "name", "email"))
    ]
    strict = diff_schemas(BASE, target, strict_order=True)
    assert not strict.is_empty
    # an added column at the end is not an order difference of the shared columns
    more = with_table(BASE, replace(USERS, columns={**USERS.columns, "zz": col("zz", ordinal=9)}))
    assert diff_schemas(BASE, more, strict_order=True).column_order == ()


def test_parity_counts_present_changed_and_extra() -> None:
    source = schema(USERS, POSTS, table("a_one"), table("a_two"))
    changed_users = replace(
        USERS, columns={**USERS.columns, "email": col("email", "text", ordinal=2)}
    )
    target = schema(changed_users, table("zzz"))
    p = diff_schemas(source, target).parity
    assert (p.tables.present, p.tables.expected, p.tables.changed, p.tables.extra) == (1, 4, 1, 1)
    assert (p.columns.present, p.columns.expected, p.columns.changed, p.columns.extra) == (
        3,
        8,
        1,
        1,
    )
    assert p.foreign_keys.text() == "foreign keys 0/1 (0.0%)"
    assert not p.complete
    assert "tables 1/4 (25.0%)" in p.summary()


def test_cross_family_ignores_table_options_but_not_structure() -> None:
    my = with_table(
        BASE,
        replace(
            USERS,
            engine="InnoDB",
            charset="utf8mb4",
            collation="utf8mb4_unicode_ci",
            extra=(("row_format", "DYNAMIC"),),
        ),
    )
    pg = replace(BASE, dialect="postgresql")
    d = diff_schemas(my, pg)
    assert d.cross_family and d.is_empty
    # within one family the same options are a difference
    assert kinds(diff_schemas(my, BASE)) == ["alter_table"]
    # structure still counts across families
    assert kinds(diff_schemas(my, replace(schema(USERS), dialect="postgresql"))) == ["add_table"]
    # MySQL vs MariaDB are one family
    assert not diff_schemas(my, replace(my, dialect="mysql")).cross_family


def test_split_drops_keeps_replacements_and_leaves_out_removals() -> None:
    source = with_table(
        BASE, replace(POSTS, indexes={"posts_title_idx": index("posts_title_idx", "title", "id")})
    )
    target = schema(
        replace(USERS, columns={**USERS.columns, "age": col("age")}),
        POSTS,
        table("legacy"),
    )
    d = diff_schemas(source, target)
    keep, skipped = split_drops(d.changes)
    assert sorted(c.kind for c in skipped) == ["drop_column", "drop_table"]
    assert [c.kind for c in keep] == ["drop_index", "add_index"]


def test_changes_of_a_diff_apply_in_foreign_key_order() -> None:
    # c -> b -> a by foreign keys; created in that dependency order whatever the names say
    a = table("zeta", "x")
    b = table("mid", "zeta_id", fks=[fk("mid_zeta_fk", "zeta_id", "zeta")])
    c = table("alpha", "mid_id", fks=[fk("alpha_mid_fk", "mid_id", "mid")])
    ordered = order_changes(diff_schemas(schema(a, b, c), schema()).changes)
    assert [ch.subject for ch in ordered] == ["zeta", "mid", "alpha"]
    assert all(isinstance(ch, AddTable) for ch in ordered)
    # dropping goes the other way round
    ordered = order_changes(diff_schemas(schema(), schema(a, b, c)).changes)
    assert [ch.subject for ch in ordered] == ["alpha", "mid", "zeta"]
    assert all(isinstance(ch, DropTable) for ch in ordered)


def test_foreign_key_cycles_are_broken_by_adding_keys_last() -> None:
    a = table("a", "b_id", fks=[fk("a_b_fk", "b_id", "b")])
    b = table("b", "a_id", fks=[fk("b_a_fk", "a_id", "a")])
    selfref = table("tree", "parent_id", fks=[fk("tree_parent_fk", "parent_id", "tree")])
    ordered = order_changes(diff_schemas(schema(a, b, selfref), schema()).changes)
    adds = [c for c in ordered if isinstance(c, AddTable)]
    later = [c for c in ordered if isinstance(c, AddForeignKey)]
    assert len(adds) == 3 and len(later) == 1
    assert ordered.index(later[0]) > max(ordered.index(t) for t in adds)
    created = {t.table.name: set(t.table.foreign_keys) for t in adds}
    # every key exists exactly once: inline in its table or as a later AddForeignKey
    all_keys = [k for keys in created.values() for k in keys] + [later[0].foreign_key.name]
    assert sorted(all_keys) == ["a_b_fk", "b_a_fk", "tree_parent_fk"]
    # the self-reference stays inline
    assert created["tree"] == {"tree_parent_fk"}
    # a table is created only after the tables its inline keys reference
    pos = {t.table.name: i for i, t in enumerate(adds)}
    for t in adds:
        for key in t.table.foreign_keys.values():
            assert key.ref_table == t.table.name or pos[key.ref_table] < pos[t.table.name]


def test_phases_put_drops_first_and_foreign_keys_after_tables() -> None:
    source = schema(
        replace(USERS, columns={**USERS.columns, "age": col("age", ordinal=9)}),
        POSTS,
        table("tags", "post_id", fks=[fk("tags_post_fk", "post_id", "posts")]),
    )
    target = schema(USERS, replace(POSTS, foreign_keys={}), table("old"))
    ordered = order_changes(diff_schemas(source, target).changes)
    names = [c.kind for c in ordered]
    assert names.index("drop_table") < names.index("add_table") < names.index("add_column")
    assert names.index("add_column") < names.index("add_foreign_key")


def test_json_form_is_complete_and_plain() -> None:
    import json

    d = diff_schemas(
        BASE,
        with_table(
            schema(USERS),
            replace(USERS, columns={**USERS.columns, "email": col("email", "text", ordinal=2)}),
        ),
    )
    data = json.loads(json.dumps(diff_dict(d)))
    assert data["identical"] is False
    assert data["parity"]["tables"]["present"] == 1 and data["parity"]["tables"]["expected"] == 2
    assert data["missing_tables"] == ["posts"]
    alter = next(c for c in data["changes"] if c["kind"] == "alter_column")
    assert alter["differences"] == ["type text -> varchar(255)"]
    assert alter["destructive"] is True


def test_every_change_kind_is_described_without_fallback() -> None:
    u = UniqueConstraint("u", ("email",))
    changes = [
        AddTable(USERS),
        DropTable(USERS),
        AlterTableOptions(USERS, replace(USERS, comment="x")),
        AddColumn("users", USERS.columns["email"]),
        DropColumn("users", USERS.columns["email"]),
        AlterColumn(
            "users", USERS.columns["email"], replace(USERS.columns["email"], default="'a'")
        ),
        AddIndex("posts", POSTS.indexes["posts_title_idx"]),
        DropIndex("posts", POSTS.indexes["posts_title_idx"]),
        AddUnique("users", u),
        DropUnique("users", u),
        AddPrimaryKey("users", PrimaryKey(("id",))),
        DropPrimaryKey("users", PrimaryKey(("id",))),
        AddForeignKey("posts", POSTS.foreign_keys["posts_user_fk"]),
        DropForeignKey("posts", POSTS.foreign_keys["posts_user_fk"]),
        AddCheck("users", CheckConstraint("c", "id > 0")),
        DropCheck("users", CheckConstraint("c", "id > 0")),
        AddView(View("v", "select 1")),
        DropView(View("v", "select 1")),
        AddTrigger(Trigger("t", "users", "AFTER", "INSERT", "x")),
        DropTrigger(Trigger("t", "users", "AFTER", "INSERT", "x")),
    ]
    for change in changes:
        text = describe(change)
        assert text.split()[0] in ("add", "drop", "alter"), text
        assert change.subject in text or change.subject.split(".")[0] in text


def test_views_over_an_altered_table_are_rebuilt_around_the_change() -> None:
    view = View("user_emails", 'select "id", "email" from "users"')
    other = View("other", "select 1 from posts_archive")
    source = replace(BASE, views={"user_emails": view, "other": other})
    narrower = replace(
        USERS, columns={**USERS.columns, "email": col("email", "varchar(100)", ordinal=2)}
    )
    target = replace(with_table(BASE, narrower), views={"user_emails": view, "other": other})
    d = diff_schemas(source, target)
    assert [c.kind for c in d.changes] == ["alter_column", "drop_view", "add_view"]
    assert d.parity.views.complete  # the view itself is no difference
    ordered = [c.kind for c in order_changes(d.changes)]
    assert ordered.index("drop_view") < ordered.index("alter_column") < ordered.index("add_view")


@pytest.mark.parametrize(("a", "b", "equal"), [("mysql", "mariadb", True), ("mariadb", "mariadb", True),
                                               ("postgresql", "postgresql", False)])  # fmt: skip
def test_restrict_and_no_action_are_one_action_on_mysql_and_mariadb(
    a: str, b: str, equal: bool
) -> None:
    """MySQL reports an unnamed action as NO ACTION, MariaDB as RESTRICT; InnoDB treats them
    alike. PostgreSQL does not (NO ACTION can be deferred), so there they stay a difference."""
    parent = table("users", col("id", "int"))
    child = table(
        "posts",
        col("id", "int"),
        col("user_id", "int"),
        fks=[fk("posts_user_fk", "user_id", "users")],
    )
    restrict = replace(child, foreign_keys={"posts_user_fk": fk("posts_user_fk", "user_id", "users",
                                                               on_delete="RESTRICT", on_update="RESTRICT")})  # fmt: skip
    d = diff_schemas(schema(parent, child, dialect=a), schema(parent, restrict, dialect=b))
    assert d.is_empty is equal, kinds(d)
    cascade = replace(child, foreign_keys={"posts_user_fk": fk("posts_user_fk", "user_id", "users",
                                                              on_delete="CASCADE")})  # fmt: skip
    assert not diff_schemas(
        schema(parent, cascade, dialect=a), schema(parent, restrict, dialect=b)
    ).is_empty
