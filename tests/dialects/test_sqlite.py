"""SQLite dialect on real database files: inspection, round trip, every change kind, read-only."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

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
    Change,
    DropCheck,
    DropColumn,
    DropForeignKey,
    DropIndex,
    DropPrimaryKey,
    DropTable,
    DropTrigger,
    DropUnique,
    DropView,
)
from dbmedic.connect import open_reference, open_target
from dbmedic.dialects import get_dialect
from dbmedic.dialects.sqlite import SQLite
from dbmedic.dialects.sqlite.render import FK_OFF_CHECK, apply_to_table
from dbmedic.errors import ConnectError
from dbmedic.model import (
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    IndexColumn,
    PrimaryKey,
    Schema,
    Table,
    Trigger,
    UniqueConstraint,
    View,
)
from dbtest import DatabaseFactory, count_statements, run_sql

pytestmark = pytest.mark.backend("sqlite")

RICH = """
CREATE TABLE users (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  email VARCHAR(255) NOT NULL COLLATE NOCASE,
  name TEXT DEFAULT 'anon',
  score REAL DEFAULT 0.5,
  created_at TEXT NOT NULL DEFAULT current_timestamp,
  updated_at TEXT DEFAULT (datetime('now')),
  age INTEGER CHECK (age >= 0),
  manager_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
  CONSTRAINT users_email_unique UNIQUE (email)
);
CREATE TABLE orders (
  id INTEGER PRIMARY KEY,
  user_id INTEGER NOT NULL,
  price DECIMAL(8, 2) NOT NULL DEFAULT -1,
  qty INT NOT NULL DEFAULT 1,
  total DECIMAL(10,2) GENERATED ALWAYS AS (price * qty) STORED,
  label TEXT GENERATED ALWAYS AS (upper(code)) VIRTUAL,
  code TEXT,
  deleted_at TEXT,
  flag BLOB DEFAULT x'00ff',
  UNIQUE (user_id, code),
  CONSTRAINT orders_price_positive CHECK (price > 0 OR price = -1),
  FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE TABLE order_items (
  order_id INTEGER NOT NULL REFERENCES orders ON DELETE CASCADE,
  line INTEGER NOT NULL,
  sku TEXT NOT NULL,
  PRIMARY KEY (order_id, line)
);
CREATE TABLE tags (name TEXT NOT NULL, slug TEXT);
CREATE TABLE settings (k TEXT NOT NULL PRIMARY KEY, v TEXT) WITHOUT ROWID;
CREATE TABLE "odd ""name"" t" ("select" INTEGER, "with space" TEXT DEFAULT 'it''s');
CREATE UNIQUE INDEX orders_code_unique ON orders (code);
CREATE INDEX orders_live ON orders (user_id) WHERE deleted_at IS NULL;
CREATE INDEX users_lower_email ON users (lower(email));
CREATE INDEX orders_price_desc ON orders (price DESC, qty);
CREATE VIEW active_orders AS SELECT o.id,   o.price
  FROM orders AS o WHERE o.deleted_at IS NULL;
CREATE TRIGGER users_touch AFTER UPDATE OF name ON users FOR EACH ROW
WHEN NEW.name <> OLD.name BEGIN UPDATE users SET updated_at = datetime('now') WHERE id = NEW.id; END;
"""

ROWS = """
INSERT INTO users (id, email, name, age) VALUES (1, 'a@x', 'Ann', 30), (2, 'b@x', NULL, 40);
INSERT INTO users (id, email, manager_id) VALUES (3, 'c@x', 1);
INSERT INTO orders (id, user_id, price, qty, code) VALUES (10, 1, 5, 2, 'A'), (11, 2, 7, 1, 'B');
INSERT INTO order_items VALUES (10, 1, 'sku-1'), (10, 2, 'sku-2'), (11, 1, 'sku-3');
INSERT INTO tags VALUES ('red', 'r'), ('blue', 'b');
INSERT INTO settings VALUES ('theme', 'dark');
INSERT INTO "odd ""name"" t" ("select") VALUES (1);
DELETE FROM users WHERE id = 3;
ANALYZE;
"""

TABLES = ['odd "name" t', "order_items", "orders", "settings", "tags", "users"]


def inspect_url(url: str) -> Schema:
    with open_target(url) as db, db.connect() as conn:
        return db.dialect.inspect(conn, db.info)


def run_statements(url: str, statements: Sequence[str]) -> None:
    """Run rendered DDL as documented: flagged statements in autocommit, the rest in one transaction."""
    with open_target(url) as db, db.connect() as conn:
        for stmt in statements:
            if db.dialect.outside_transaction(stmt):
                conn.commit()
                conn.execution_options(isolation_level="AUTOCOMMIT")
                conn.exec_driver_sql(stmt)
                conn.commit()
                conn.execution_options(isolation_level="SERIALIZABLE")
            else:
                conn.exec_driver_sql(stmt)
        conn.commit()


def rows(url: str) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every user table, sorted: what a rebuild must keep."""
    path = url.removeprefix("sqlite:///")
    con = sqlite3.connect(path)
    try:
        names = [
            r[0]
            for r in con.execute(
                "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite%'"
            )
        ]
        quoted = {n: '"' + n.replace('"', '""') + '"' for n in names}
        return {
            n: sorted(con.execute(f"SELECT * FROM {q}").fetchall(), key=repr)
            for n, q in quoted.items()
        }
    finally:
        con.close()


@pytest.fixture
def rich_url(db_url: str) -> str:
    run_sql(db_url, RICH)
    run_sql(db_url, ROWS)
    return db_url


# --- inspection ---------------------------------------------------------------------------------


def test_inspect_reads_every_object_kind(rich_url: str) -> None:
    schema = inspect_url(rich_url)
    assert schema.dialect == "sqlite"
    assert sorted(schema.tables) == TABLES  # no sqlite_*
    users, orders, items = (
        schema.tables["users"],
        schema.tables["orders"],
        schema.tables["order_items"],
    )

    assert list(users.columns)[:3] == ["id", "email", "name"]
    assert users.columns["id"].auto_increment and users.primary_key == PrimaryKey(("id",))
    assert not orders.columns["id"].auto_increment
    assert users.columns["email"] == Column("email", "varchar(255)", False, collation="NOCASE")
    assert users.columns["email"].raw_type == "VARCHAR(255)"
    assert users.columns["name"].default == "'anon'"
    assert users.columns["score"].default == "0.5"
    assert users.columns["created_at"].default == "CURRENT_TIMESTAMP"
    assert users.columns["updated_at"].default == "datetime('now')"
    assert orders.columns["price"].type == "decimal(8,2)"
    assert orders.columns["price"].default == "-1"
    assert orders.columns["flag"].default == "X'00FF'"
    assert orders.columns["total"].generated == "price * qty"
    assert dict(orders.columns["total"].extra) == {"generated": "stored"}
    assert orders.columns["label"].generated == "upper(code)"
    assert dict(orders.columns["label"].extra) == {"generated": "virtual"}
    assert items.primary_key == PrimaryKey(("order_id", "line"))
    assert dict(schema.tables["settings"].extra) == {"without_rowid": "1"}
    assert schema.tables["settings"].primary_key == PrimaryKey(("k",))
    assert schema.tables['odd "name" t'].columns["with space"].default == "'it''s'"

    assert users.uniques == {
        "users_email_unique": UniqueConstraint("users_email_unique", ("email",))
    }
    assert list(orders.uniques) == ["orders_user_id_code_unique"]
    assert orders.uniques["orders_user_id_code_unique"].columns == ("user_id", "code")
    assert orders.indexes["orders_code_unique"] == Index(
        "orders_code_unique", (IndexColumn("code"),), unique=True
    )
    assert orders.indexes["orders_live"].where == "deleted_at IS NULL"
    assert orders.indexes["orders_price_desc"].columns == (
        IndexColumn("price", descending=True),
        IndexColumn("qty"),
    )
    assert users.indexes["users_lower_email"].columns == (
        IndexColumn("lower(email)", expression=True),
    )

    assert orders.foreign_keys == {
        "fk_orders_user_id": ForeignKey(
            "fk_orders_user_id", ("user_id",), "users", ("id",), "CASCADE", "CASCADE"
        )
    }
    assert users.foreign_keys["fk_users_manager_id"].ref_table == "users"  # self reference
    assert users.foreign_keys["fk_users_manager_id"].on_delete == "SET NULL"
    # REFERENCES orders without columns means the parent's primary key
    assert items.foreign_keys["fk_order_items_order_id"].ref_columns == ("id",)

    assert users.checks == {"users_age_check": CheckConstraint("users_age_check", "age >= 0")}
    assert orders.checks["orders_price_positive"].expression == "price > 0 OR price = -1"

    assert schema.views == {
        "active_orders": View(
            "active_orders", "SELECT o.id, o.price FROM orders AS o WHERE o.deleted_at IS NULL"
        )
    }
    trigger = schema.triggers["users_touch"]
    assert (trigger.table, trigger.timing, trigger.event) == ("users", "AFTER", "UPDATE")
    assert trigger.body == "UPDATE users SET updated_at = datetime('now') WHERE id = NEW.id;"
    assert dict(trigger.extra) == {"of": "name", "when": "NEW.name <> OLD.name"}


def test_cosmetic_differences_vanish(db_factory: DatabaseFactory) -> None:
    a, b = db_factory.new("a"), db_factory.new("b")
    run_sql(a, "CREATE TABLE t (x INTEGER NOT NULL DEFAULT (0), y TEXT CHECK (length(y)>1));")
    run_sql(b, 'CREATE TABLE "t" ("x" integer  NOT NULL DEFAULT 0, y text CHECK(LENGTH("y") > 1));')
    assert inspect_url(a) == inspect_url(b)


def test_inspect_query_count_does_not_grow(db_factory: DatabaseFactory) -> None:
    counts = []
    for n in (5, 500):
        url = db_factory.new(f"n{n}")
        script = "".join(
            f"CREATE TABLE t{i} (id INTEGER PRIMARY KEY, p INTEGER REFERENCES t0 (id), v TEXT UNIQUE);\n"
            f"CREATE INDEX t{i}_v ON t{i} (v);\n"
            for i in range(n)
        )
        run_sql(url, script)
        with open_target(url) as db, db.connect() as conn, count_statements(db.engine) as seen:
            schema = db.dialect.inspect(conn, db.info)
        assert len(schema.tables) == n
        assert schema.tables[f"t{n - 1}"].foreign_keys[f"fk_t{n - 1}_p"].ref_table == "t0"
        counts.append(seen.count)
    assert counts == [len(SQLite.catalog), len(SQLite.catalog)] == [4, 4]


def test_table_names_is_one_query(rich_url: str) -> None:
    with open_target(rich_url) as db, db.connect() as conn, count_statements(db.engine) as seen:
        names = db.dialect.table_names(conn)
    assert names == TABLES
    assert seen.count == 1


# --- rendering ----------------------------------------------------------------------------------


def test_round_trip_into_fresh_database(rich_url: str, db_factory: DatabaseFactory) -> None:
    source = inspect_url(rich_url)
    fresh = db_factory.new("copy")
    dialect = get_dialect("sqlite")
    changes: list[Change] = [AddTable(t) for t in source.tables.values()]
    changes += [AddView(v) for v in source.views.values()]
    changes += [AddTrigger(t) for t in source.triggers.values()]
    statements = dialect.render(changes, inspect_url(fresh))
    assert not any(s.startswith("PRAGMA") for s in statements)  # no rebuild needed
    run_statements(fresh, statements)
    assert inspect_url(fresh) == source


def _apply_model(schema: Schema, changes: Sequence[Change]) -> Schema:
    """The schema the changes should lead to, computed on the model (the test's oracle)."""
    tables, views, triggers = dict(schema.tables), dict(schema.views), dict(schema.triggers)
    per_table: dict[str, list[Change]] = {}
    for c in changes:
        if isinstance(c, AddTable):
            tables[c.table.name] = c.table
        elif isinstance(c, DropTable):
            del tables[c.table.name]
        elif isinstance(c, AddView):
            views[c.view.name] = c.view
        elif isinstance(c, DropView):
            del views[c.view.name]
        elif isinstance(c, AddTrigger):
            triggers[c.trigger.name] = c.trigger
        elif isinstance(c, DropTrigger):
            del triggers[c.trigger.name]
        else:
            name = c.after.name if isinstance(c, AlterTableOptions) else c.table  # type: ignore[attr-defined]
            per_table.setdefault(name, []).append(c)
    for name, group in per_table.items():
        tables[name] = apply_to_table(tables[name], group)
    return replace(schema, tables=tables, views=views, triggers=triggers)


def _cases(s: Schema) -> dict[str, list[Change]]:
    users, orders, items, tags = (s.tables[n] for n in ("users", "orders", "order_items", "tags"))
    name, slug = users.columns["name"], tags.columns["slug"]
    return {
        "add_table": [
            AddTable(
                Table(
                    "notes",
                    {
                        "id": Column("id", "integer", auto_increment=True, ordinal=1),
                        "user_id": Column("user_id", "integer", ordinal=2),
                    },
                    primary_key=PrimaryKey(("id",)),
                    foreign_keys={
                        "fk_notes_user": ForeignKey("fk_notes_user", ("user_id",), "users", ("id",))
                    },
                )
            )
        ],
        "drop_table": [DropTable(items)],
        "add_column": [AddColumn("tags", Column("color", "text", default="'grey'"))],
        "add_column_rebuild": [
            AddColumn("tags", Column("seen", "text", False, default="CURRENT_TIMESTAMP"))
        ],
        "drop_column": [DropColumn("users", users.columns["score"])],
        "drop_column_rebuild": [
            DropForeignKey("users", users.foreign_keys["fk_users_manager_id"]),
            DropColumn("users", users.columns["manager_id"]),
        ],
        "alter_column_parent": [
            AlterColumn("users", name, replace(name, type="varchar(100)", nullable=False))
        ],
        "rename_column": [AlterColumn("tags", slug, replace(slug, name="short name"))],
        "add_index": [AddIndex("tags", Index("tags_slug", (IndexColumn("slug"),)))],
        "drop_index": [DropIndex("orders", orders.indexes["orders_live"])],
        "add_unique": [AddUnique("tags", UniqueConstraint("tags_slug_unique", ("slug",)))],
        "drop_unique": [DropUnique("orders", orders.uniques["orders_user_id_code_unique"])],
        "add_primary_key": [AddPrimaryKey("tags", PrimaryKey(("name",)))],
        "drop_primary_key": [DropPrimaryKey("order_items", items.primary_key)],  # type: ignore[arg-type]
        "add_foreign_key": [
            AddColumn("tags", Column("owner_id", "integer")),
            AddForeignKey(
                "tags",
                ForeignKey("fk_tags_owner", ("owner_id",), "users", ("id",), on_delete="SET NULL"),
            ),
        ],
        "drop_foreign_key": [DropForeignKey("orders", orders.foreign_keys["fk_orders_user_id"])],
        "add_check": [AddCheck("tags", CheckConstraint("tags_name_check", "length(name) > 0"))],
        "drop_check": [DropCheck("orders", orders.checks["orders_price_positive"])],
        "add_view": [AddView(View("tag_names", "SELECT name FROM tags"))],
        "drop_view": [DropView(s.views["active_orders"])],
        "add_trigger": [
            AddTrigger(
                Trigger(
                    "tags_upper", "tags", "AFTER", "INSERT", "UPDATE tags SET slug = upper(slug);"
                )
            )
        ],
        "drop_trigger": [DropTrigger(s.triggers["users_touch"])],
        "table_options": [AlterTableOptions(tags, replace(tags, extra=(("strict", "1"),)))],
    }


@pytest.mark.parametrize(
    "case",
    [
        "add_table",
        "drop_table",
        "add_column",
        "add_column_rebuild",
        "drop_column",
        "drop_column_rebuild",
        "alter_column_parent",
        "rename_column",
        "add_index",
        "drop_index",
        "add_unique",
        "drop_unique",
        "add_primary_key",
        "drop_primary_key",
        "add_foreign_key",
        "drop_foreign_key",
        "add_check",
        "drop_check",
        "add_view",
        "drop_view",
        "add_trigger",
        "drop_trigger",
        "table_options",
    ],
)
def test_change_applies_keeps_rows_and_reverses(rich_url: str, case: str) -> None:
    dialect = get_dialect("sqlite")
    start = inspect_url(rich_url)
    before_rows = rows(rich_url)
    changes = _cases(start)[case]

    run_statements(rich_url, dialect.render(changes, start))
    after = inspect_url(rich_url)
    assert after == _apply_model(start, changes)
    after_rows = rows(rich_url)
    for table, kept in before_rows.items():
        if table in after_rows:
            assert len(after_rows[table]) == len(kept), table  # no row lost, none cascaded away

    reverse = [c.reverse() for c in reversed(changes)]
    run_statements(rich_url, dialect.render(reverse, after))
    assert inspect_url(rich_url) == start
    if not any(c.destructive for c in changes):
        assert rows(rich_url) == before_rows


def test_rebuild_keeps_autoincrement_counter(rich_url: str) -> None:
    start = inspect_url(rich_url)
    name = start.tables["users"].columns["name"]
    change = AlterColumn("users", name, replace(name, type="varchar(50)"))
    run_statements(rich_url, get_dialect("sqlite").render([change], start))
    run_sql(rich_url, "INSERT INTO users (email) VALUES ('new@x');")
    assert max(r[0] for r in rows(rich_url)["users"]) == 4  # id 3 was used and deleted


def test_rebuild_inside_one_transaction_is_refused_safely(rich_url: str) -> None:
    """Run naively (one transaction, foreign keys on): the guard fails before any loss."""
    start = inspect_url(rich_url)
    before_rows = rows(rich_url)
    name = start.tables["users"].columns["name"]
    statements = get_dialect("sqlite").render(
        [AlterColumn("users", name, replace(name, nullable=False, default="'x'"))], start
    )
    with open_target(rich_url) as db, db.connect() as conn:
        with pytest.raises(Exception, match="foreign_keys=OFF"):
            for stmt in statements:
                conn.exec_driver_sql(stmt)
        conn.rollback()
    assert inspect_url(rich_url) == start
    assert rows(rich_url) == before_rows
    assert FK_OFF_CHECK in statements[1]


def test_rebuild_needs_the_current_schema() -> None:
    col = Column("a", "text")
    with pytest.raises(Exception, match="rebuild"):
        get_dialect("sqlite").render([AlterColumn("t", col, replace(col, nullable=False))])


def test_virtual_tables_round_trip_without_their_shadow_tables(
    db_factory: DatabaseFactory,
) -> None:
    if "ENABLE_FTS5" not in {
        r[0] for r in sqlite3.connect(":memory:").execute("PRAGMA compile_options")
    }:
        pytest.skip("this SQLite is built without FTS5")
    source, copy = db_factory.new("fts"), db_factory.new("copy")
    run_sql(source, "CREATE VIRTUAL TABLE docs USING fts5(title, body);")
    schema = inspect_url(source)
    assert sorted(schema.tables) == ["docs"]  # not docs_data, docs_idx, ...
    run_statements(copy, get_dialect("sqlite").render([AddTable(schema.tables["docs"])]))
    assert inspect_url(copy) == schema


def test_changes_alter_table_can_make_need_no_rebuild() -> None:
    dialect = get_dialect("sqlite")
    col = Column("a", "text", default="'x'")
    assert dialect.render([AddColumn("t", col), DropColumn("t", replace(col, name="b"))]) == [
        'ALTER TABLE "t" DROP COLUMN "b"',
        'ALTER TABLE "t" ADD COLUMN "a" text DEFAULT \'x\'',
    ]


def test_ddl_is_transactional(rich_url: str) -> None:
    with open_target(rich_url) as db, db.connect() as conn:
        conn.exec_driver_sql("CREATE TABLE scratch (x)")
        conn.exec_driver_sql("DROP TABLE tags")
        conn.rollback()
    assert sorted(inspect_url(rich_url).tables) == TABLES


# --- connections --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    ["INSERT INTO tags VALUES ('green', 'g')", "CREATE TABLE intruder (x INTEGER)"],
)
def test_reference_is_read_only(rich_url: str, statement: str) -> None:
    with open_reference(rich_url) as db, db.connect() as conn:
        assert db.dialect.table_names(conn) == TABLES
        conn.exec_driver_sql("PRAGMA query_only=OFF")  # the file itself is opened mode=ro
        with pytest.raises(OperationalError) as err:
            conn.exec_driver_sql(statement)
        assert db.dialect.describe_error(err.value) == "the SQLite database is read-only"
    assert "intruder" not in inspect_url(rich_url).tables
    assert len(rows(rich_url)["tags"]) == 2


def test_targets_enforce_foreign_keys(rich_url: str) -> None:
    with open_target(rich_url) as db, db.connect() as conn:
        assert db.info.setting("foreign_keys") == "1"
        with pytest.raises(Exception, match="FOREIGN KEY"):
            conn.exec_driver_sql("INSERT INTO orders (user_id, price) VALUES (99, 1)")


def test_server_info(rich_url: str) -> None:
    with open_target(rich_url) as db:
        assert db.info.version == sqlite3.sqlite_version
        assert db.info.database == Path(rich_url).name
        assert db.name == Path(rich_url).name


def test_describe_error_for_a_text_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("this is not a database, just words\n" * 20)
    with pytest.raises(ConnectError) as err:
        open_target(f"sqlite:///{path}")
    assert "the file is not an SQLite database" in str(err.value)
    assert str(err.value).count("\n") == 0


def test_describe_error_for_a_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "gone.db"
    with pytest.raises(sqlite3.OperationalError) as err:
        sqlite3.connect(f"file:{missing}?mode=ro", uri=True)
    sentence = SQLite().describe_error(err.value)
    assert sentence == "the SQLite file cannot be opened (missing, or no access)"
    with pytest.raises(ConnectError, match="no such file"):
        open_reference(f"sqlite:///{missing}")


def test_outside_transaction_flags_only_foreign_keys_pragma() -> None:
    dialect = SQLite()
    assert dialect.outside_transaction("PRAGMA foreign_keys=OFF")
    assert dialect.outside_transaction("pragma foreign_keys = ON")
    assert not dialect.outside_transaction("PRAGMA foreign_key_check")
    assert not dialect.outside_transaction("CREATE TABLE foreign_keys (x)")


@pytest.mark.backend("sqlite")
def test_native_renames_keep_rows_and_reverse(rich_url: str) -> None:
    from dbmedic.changes import RenameColumn, RenameTable

    dialect = get_dialect("sqlite")
    start = inspect_url(rich_url)
    before_rows = rows(rich_url)["tags"]
    changes = [RenameTable("tags", "labels"), RenameColumn("labels", "slug", "handle")]
    statements = dialect.render(changes, start)
    assert statements == [
        'ALTER TABLE "tags" RENAME TO "labels"',
        'ALTER TABLE "labels" RENAME COLUMN "slug" TO "handle"',
    ]
    run_statements(rich_url, statements)
    after = inspect_url(rich_url)
    assert "tags" not in after.tables
    assert "handle" in after.tables["labels"].columns
    assert len(rows(rich_url)["labels"]) == len(before_rows)
    for change in reversed(changes):  # a column rename names the table as it is at that moment
        run_statements(rich_url, dialect.render([change.reverse()], inspect_url(rich_url)))
    assert inspect_url(rich_url) == start
