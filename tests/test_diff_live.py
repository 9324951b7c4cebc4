"""Each kind of difference, made on a real server, is detected and named (SQLite, MariaDB, PostgreSQL)."""

from __future__ import annotations

import pytest

from dbmedic import api
from dbmedic.describe import describe
from dbtest import DatabaseFactory, apply_statements, run_sql

BASE = """
CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(100) NOT NULL, name VARCHAR(50));
CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER, title VARCHAR(200), CONSTRAINT posts_user_fk FOREIGN KEY (user_id) REFERENCES users (id));
CREATE INDEX posts_title_idx ON posts (title);
"""

# (case, how TARGET differs from SOURCE = BASE, change kinds that must appear, words in a description)
CASES = [
    ("missing table", lambda s: s.split("CREATE TABLE posts")[0], {"add_table"}, "add table posts"),
    (
        "extra table",
        lambda s: s + "CREATE TABLE legacy (id INTEGER PRIMARY KEY);\n",
        {"drop_table"},
        "drop table legacy",
    ),
    (
        "missing column",
        lambda s: s.replace(", name VARCHAR(50)", ""),
        {"add_column"},
        "add column users.name varchar(50) NULL",
    ),
    (
        "extra column",
        lambda s: s.replace("name VARCHAR(50)", "name VARCHAR(50), age INTEGER"),
        {"drop_column"},
        "drop column users.age",
    ),
    (
        "column type",
        lambda s: s.replace("email VARCHAR(100)", "email VARCHAR(255)"),
        {"alter_column"},
        "type varchar(255) -> varchar(100)",
    ),
    (
        "nullability",
        lambda s: s.replace("email VARCHAR(100) NOT NULL", "email VARCHAR(100)"),
        {"alter_column"},
        "nullable yes -> no",
    ),
    (
        "default",
        lambda s: s.replace("name VARCHAR(50)", "name VARCHAR(50) DEFAULT 'anon'"),
        {"alter_column"},
        "default 'anon' -> none",
    ),
    (
        "missing index",
        lambda s: s.replace("CREATE INDEX posts_title_idx ON posts (title);\n", ""),
        {"add_index"},
        "posts.posts_title_idx (title)",
    ),
    (
        "changed index",
        lambda s: s.replace("ON posts (title)", "ON posts (title, user_id)"),
        {"drop_index", "add_index"},
        "add index posts.posts_title_idx (title)",
    ),
    (
        "extra unique key",
        lambda s: s + "CREATE UNIQUE INDEX users_email_uq ON users (email);\n",
        set(),  # a unique key is a UniqueConstraint or a unique Index, by dialect
        "users.users_email_uq (email)",
    ),
    (
        "missing foreign key",
        lambda s: s.replace(
            ", CONSTRAINT posts_user_fk FOREIGN KEY (user_id) REFERENCES users (id)", ""
        ),
        {"add_foreign_key"},
        "add foreign key posts.posts_user_fk (user_id) -> users (id)",
    ),
    (
        "foreign key action",
        lambda s: s.replace("REFERENCES users (id)", "REFERENCES users (id) ON DELETE CASCADE"),
        {"drop_foreign_key", "add_foreign_key"},
        "posts.posts_user_fk",
    ),
    (
        "extra check",
        lambda s: s.replace(
            "name VARCHAR(50))",
            "name VARCHAR(50), CONSTRAINT users_email_check CHECK (email <> ''))",
        ),
        {"drop_check"},
        "drop check users.users_email_check",
    ),
    (
        "missing view",
        lambda s: s.replace("CREATE VIEW v AS SELECT id, email FROM users;\n", ""),
        {"add_view"},
        "add view v",
    ),
]
SOURCE = BASE + "CREATE VIEW v AS SELECT id, email FROM users;\n"


@pytest.mark.parametrize(("case", "change", "kinds", "words"), CASES, ids=[c[0] for c in CASES])
def test_difference_is_detected_and_named(
    backend: str,
    db_factory: DatabaseFactory,
    case: str,
    change,
    kinds: set[str],
    words: str,  # type: ignore[no-untyped-def]
) -> None:
    source, target = db_factory.new("src"), db_factory.new("tgt")
    run_sql(source, SOURCE)
    target_sql = change(SOURCE)
    assert target_sql != SOURCE
    run_sql(target, target_sql)
    src, tgt = api.inspect(source), api.inspect(target)
    assert api.diff(src, src).is_empty
    d = api.diff(src, tgt)
    found = {c.kind for c in d.changes}
    texts = [describe(c) for c in d.changes]
    assert not d.is_empty, case
    assert kinds <= found, (found, texts)
    assert any(words in t for t in texts), texts
    # and the SQL (drops allowed) makes TARGET match SOURCE
    apply_statements(target, api.diff_sql(src, tgt, allow_drop=True))
    after = api.diff(src, api.inspect(target))
    assert after.is_empty, [describe(c) for c in after.changes]


def test_views_over_views_are_created_and_dropped_in_dependency_order(
    db_factory: DatabaseFactory,
) -> None:
    """`a_summary` reads `z_active`: by name it would come first and fail to create (or, when
    dropping, be left pointing at a dropped view); in dependency order both apply cleanly."""
    source, target = db_factory.new("src"), db_factory.new("tgt")
    run_sql(
        source,
        BASE
        + "CREATE VIEW z_active AS SELECT id, email FROM users WHERE name IS NOT NULL;\n"
        + "CREATE VIEW a_summary AS SELECT COUNT(*) AS n FROM z_active;\n",
    )
    run_sql(target, BASE)
    src = api.inspect(source)
    statements = api.diff_sql(src, api.inspect(target))
    views = [s for s in statements if "VIEW" in s.upper()]
    assert len(views) == 2 and "z_active" in views[0], views
    apply_statements(target, statements)
    assert api.diff(src, api.inspect(target)).is_empty
    # and back: dropping both views drops the dependent one first
    bare = db_factory.new("bare")
    run_sql(bare, BASE)
    apply_statements(target, api.diff_sql(api.inspect(bare), api.inspect(target), allow_drop=True))
    assert api.inspect(target).views == {}
