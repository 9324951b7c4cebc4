"""MySQL/MariaDB dialect: inspection, normalisation, DDL round trips, read-only sessions, errors.

Backend tests run on MariaDB (the server installed here); the MySQL 8 code paths are covered by
pure tests over rows as MySQL 8 prints them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

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
    RenameColumn,
    RenameTable,
)
from dbmedic.connect import Database, open_reference, open_target
from dbmedic.dialects import ServerInfo, get_dialect
from dbmedic.dialects.mysql import MariaDB, MySQL
from dbmedic.dialects.mysql.inspect import QUERIES, build_schema
from dbmedic.dialects.mysql.normalize import (
    canonical_expression,
    normalize_default,
    normalize_sql,
    normalize_type,
)
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
from dbtest import ADMIN_URLS, DatabaseFactory, count_statements, run_sql

RICH = """
CREATE TABLE users (
  id bigint unsigned NOT NULL AUTO_INCREMENT,
  email varchar(191) NOT NULL,
  name varchar(100) NOT NULL DEFAULT 'it''s',
  active tinyint(1) NOT NULL DEFAULT 1,
  score int(11) NOT NULL DEFAULT '0',
  balance decimal(10,2) NOT NULL DEFAULT 0,
  ratio double DEFAULT NULL,
  status enum('new','active','gone') NOT NULL DEFAULT 'new',
  flags set('a','b','c') DEFAULT 'a,b',
  settings json DEFAULT NULL,
  bio text COMMENT 'about me',
  created_at timestamp NOT NULL DEFAULT current_timestamp(),
  updated_at timestamp NULL DEFAULT NULL ON UPDATE current_timestamp(),
  seen_at datetime(6) DEFAULT current_timestamp(6),
  code char(36) DEFAULT (uuid()),
  nickname varchar(30) DEFAULT 'NULL',
  legacy varchar(10) COLLATE utf8mb4_bin DEFAULT NULL,
  email_domain varchar(191) AS (substring_index(email, '@', -1)) VIRTUAL,
  score_x2 int AS (score * 2) STORED,
  PRIMARY KEY (id),
  UNIQUE KEY users_email_unique (email),
  KEY users_name_prefix (name(10)),
  KEY users_created_desc (created_at DESC, id),
  FULLTEXT KEY users_bio_fulltext (bio),
  CONSTRAINT users_score_check CHECK (score >= 0)
) ENGINE=InnoDB COMMENT='people';

CREATE TABLE categories (
  id int unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY,
  parent_id int unsigned NULL,
  name varchar(50) NOT NULL,
  CONSTRAINT categories_parent_fk FOREIGN KEY (parent_id) REFERENCES categories (id) ON DELETE SET NULL
);

CREATE TABLE posts (
  id bigint unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY,
  user_id bigint unsigned NOT NULL,
  category_id int unsigned NULL,
  title varchar(200) NOT NULL,
  body longtext,
  price decimal(8,2) unsigned DEFAULT 0,
  zip int(5) unsigned zerofill,
  note varchar(20),
  UNIQUE KEY posts_user_title (user_id, title),
  CONSTRAINT posts_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE ON UPDATE NO ACTION,
  CONSTRAINT posts_category_fk FOREIGN KEY (category_id) REFERENCES categories (id)
);

CREATE TABLE tags (name varchar(40) NOT NULL PRIMARY KEY) ENGINE=InnoDB DEFAULT CHARSET=latin1;

CREATE TABLE post_tag (
  post_id bigint unsigned NOT NULL,
  tag varchar(40) CHARACTER SET latin1 NOT NULL,
  PRIMARY KEY (post_id, tag),
  KEY post_tag_tag (tag),
  CONSTRAINT post_tag_post_fk FOREIGN KEY (post_id) REFERENCES posts (id) ON DELETE CASCADE,
  CONSTRAINT post_tag_tag_fk FOREIGN KEY (tag) REFERENCES tags (name)
);

CREATE TABLE settings (
  scope varchar(20) NOT NULL,
  name varchar(40) NOT NULL,
  value text,
  PRIMARY KEY (scope, name)
) ENGINE=MyISAM;

CREATE VIEW active_users AS SELECT u.id, u.email AS `order`, 'yes' AS flag FROM users u WHERE u.active = 1;

CREATE TRIGGER posts_before_insert BEFORE INSERT ON posts FOR EACH ROW BEGIN SET NEW.title = TRIM(NEW.title); SET NEW.note = 'a  b'; END;
"""

UTF8 = {"charset": "utf8mb4", "collation": "utf8mb4_unicode_ci"}


def inspect_url(url: str) -> Schema:
    with open_target(url) as db, db.connect() as conn:
        return db.dialect.inspect(conn, db.info)


def apply(url: str, statements: list[str]) -> None:
    run_sql(url, ";\n".join(statements) + ";\n")


@pytest.fixture
def rich_url(db_url: str) -> str:
    run_sql(db_url, RICH)
    return db_url


# --- inspection -----------------------------------------------------------------------------


@pytest.mark.backend("mariadb")
def test_inspect_reads_every_object_kind(rich_url: str) -> None:
    s = inspect_url(rich_url)
    assert s.dialect == "mariadb"
    assert s.family == "mysql"
    assert s.database == make_url(rich_url).database
    assert s.charset == "utf8mb4" and s.collation == "utf8mb4_unicode_ci"
    assert list(s.tables) == sorted(
        ["users", "categories", "posts", "tags", "post_tag", "settings"]
    )

    users = s.tables["users"]
    assert (users.engine, users.charset, users.collation, users.comment) == (
        "InnoDB",
        "utf8mb4",
        "utf8mb4_unicode_ci",
        "people",
    )
    assert users.column_order()[:3] == ("id", "email", "name")
    c = users.columns
    assert c["id"] == Column("id", "bigint unsigned", nullable=False, auto_increment=True)
    assert c["id"].raw_type == "bigint(20) unsigned"
    assert c["name"] == Column("name", "varchar(100)", nullable=False, default="'it''s'", **UTF8)
    assert c["active"] == Column("active", "tinyint(1)", nullable=False, default="1")
    assert c["score"] == Column("score", "int", nullable=False, default="0")
    assert c["balance"].default == "0.00"
    assert c["ratio"].default is None and c["ratio"].nullable
    assert c["status"].type == "enum('new','active','gone')"
    assert c["status"].default == "'new'"
    assert c["flags"].default == "'a,b'"
    assert c["settings"] == Column("settings", "json")
    assert c["bio"].comment == "about me"
    assert c["created_at"].default == "CURRENT_TIMESTAMP"
    assert c["updated_at"].default is None
    assert dict(c["updated_at"].extra) == {"on_update": "CURRENT_TIMESTAMP"}
    assert c["seen_at"].default == "CURRENT_TIMESTAMP(6)"
    assert c["code"].default == "uuid()"
    assert c["nickname"].default == "'NULL'"
    assert (c["legacy"].charset, c["legacy"].collation) == ("utf8mb4", "utf8mb4_bin")
    assert c["email_domain"].generated == "substring_index(email,'@',-1)"
    assert dict(c["email_domain"].extra) == {"generated": "virtual"}
    assert c["score_x2"].generated == "score * 2"
    assert dict(c["score_x2"].extra) == {"generated": "stored"}

    assert users.primary_key == PrimaryKey(("id",))
    assert users.uniques == {
        "users_email_unique": UniqueConstraint("users_email_unique", ("email",))
    }
    assert users.indexes["users_name_prefix"].columns == (IndexColumn("name", prefix=10),)
    assert users.indexes["users_created_desc"].columns == (
        IndexColumn("created_at", descending=True),
        IndexColumn("id"),
    )
    assert users.indexes["users_bio_fulltext"].kind == "fulltext"
    assert users.checks == {"users_score_check": CheckConstraint("users_score_check", "score >= 0")}
    assert "settings" not in users.checks  # MariaDB's automatic json_valid() check

    categories = s.tables["categories"]
    assert categories.foreign_keys["categories_parent_fk"] == ForeignKey(
        "categories_parent_fk", ("parent_id",), "categories", ("id",), "RESTRICT", "SET NULL"
    )
    posts = s.tables["posts"]
    assert posts.foreign_keys["posts_user_fk"].on_delete == "CASCADE"
    assert posts.foreign_keys["posts_user_fk"].on_update == "NO ACTION"
    assert posts.uniques["posts_user_title"].columns == ("user_id", "title")
    assert posts.columns["price"].type == "decimal(8,2) unsigned"
    assert posts.columns["zip"].type == "int(5) unsigned zerofill"
    assert posts.columns["body"].type == "longtext"  # a real longtext stays one
    assert s.tables["post_tag"].primary_key == PrimaryKey(("post_id", "tag"))
    assert s.tables["post_tag"].columns["tag"].charset == "latin1"
    assert s.tables["tags"].collation == "latin1_swedish_ci"
    assert s.tables["settings"].engine == "MyISAM"

    assert s.views == {
        "active_users": View(
            "active_users",
            "select u.id AS id,u.email AS `order`,'yes' AS flag from users u where u.active = 1",
        )
    }
    assert s.triggers == {
        "posts_before_insert": Trigger(
            "posts_before_insert",
            "posts",
            "BEFORE",
            "INSERT",
            "BEGIN SET NEW.title = TRIM(NEW.title); SET NEW.note = 'a  b'; END",
        )
    }


@pytest.mark.backend("mariadb")
def test_table_names(rich_url: str) -> None:
    with open_target(rich_url) as db, db.connect() as conn:
        assert db.dialect.table_names(conn) == sorted(
            ["users", "categories", "posts", "tags", "post_tag", "settings"]
        )


# --- round trip -----------------------------------------------------------------------------


@pytest.mark.backend("mariadb")
def test_rendered_schema_recreates_the_same_schema(
    rich_url: str, db_factory: DatabaseFactory
) -> None:
    source = inspect_url(rich_url)
    dialect = get_dialect(source.dialect)
    changes: list[Change] = [AddTable(t) for t in source.tables.values()]
    changes += [AddView(v) for v in source.views.values()]
    changes += [AddTrigger(t) for t in source.triggers.values()]
    copy_url = db_factory.new("copy")
    apply(copy_url, dialect.render(changes))
    assert inspect_url(copy_url) == source


@pytest.mark.backend("mariadb")
def test_render_create_table_alone_round_trips(rich_url: str, db_factory: DatabaseFactory) -> None:
    source = inspect_url(rich_url)
    dialect = get_dialect("mariadb")
    copy_url = db_factory.new("copy")
    engine = create_engine(copy_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("SET FOREIGN_KEY_CHECKS=0")
        for table in source.tables.values():  # name order: references may not exist yet
            for stmt in dialect.render_create_table(table):
                conn.exec_driver_sql(stmt)
    engine.dispose()
    assert inspect_url(copy_url).tables == source.tables


# --- every change applies, and its reverse restores the start --------------------------------


def apply_to_model(s: Schema, change: Change) -> Schema:
    """What ``change`` should do to the model (the expectation the server must meet)."""
    tables, views, triggers = dict(s.tables), dict(s.views), dict(s.triggers)

    def put(table: str, attr: str, key: str, value: object | None) -> None:
        items = dict(getattr(tables[table], attr))
        if value is None:
            del items[key]
        else:
            items[key] = value
        tables[table] = replace(tables[table], **{attr: items})

    match change:
        case AddTable(table=t):
            tables[t.name] = t
        case DropTable(table=t):
            del tables[t.name]
        case AlterTableOptions(after=t):
            tables[t.name] = replace(
                tables[t.name],
                engine=t.engine,
                charset=t.charset,
                collation=t.collation,
                comment=t.comment,
            )
        case RenameTable(old=old, new=new):
            tables[new] = replace(tables.pop(old), name=new)
        case RenameColumn(table=n, old=old, new=new):
            cols = {
                (new if k == old else k): (replace(c, name=new) if k == old else c)
                for k, c in tables[n].columns.items()
            }
            tables[n] = replace(tables[n], columns=cols)
        case AddColumn(table=n, column=c) | AlterColumn(table=n, after=c):
            put(n, "columns", c.name, c)
        case DropColumn(table=n, column=c):
            put(n, "columns", c.name, None)
        case AddIndex(table=n, index=i):
            put(n, "indexes", i.name, i)
        case DropIndex(table=n, index=i):
            put(n, "indexes", i.name, None)
        case AddUnique(table=n, unique=u):
            put(n, "uniques", u.name, u)
        case DropUnique(table=n, unique=u):
            put(n, "uniques", u.name, None)
        case AddPrimaryKey(table=n, primary_key=pk):
            tables[n] = replace(tables[n], primary_key=pk)
        case DropPrimaryKey(table=n):
            tables[n] = replace(tables[n], primary_key=None)
        case AddForeignKey(table=n, foreign_key=fk):
            put(n, "foreign_keys", fk.name, fk)
        case DropForeignKey(table=n, foreign_key=fk):
            put(n, "foreign_keys", fk.name, None)
        case AddCheck(table=n, check=ck):
            put(n, "checks", ck.name, ck)
        case DropCheck(table=n, check=ck):
            put(n, "checks", ck.name, None)
        case AddView(view=v):
            views[v.name] = v
        case DropView(view=v):
            del views[v.name]
        case AddTrigger(trigger=tr):
            triggers[tr.name] = tr
        case DropTrigger(trigger=tr):
            del triggers[tr.name]
        case _:
            raise AssertionError(f"no expectation for {change!r}")
    return replace(s, tables=tables, views=views, triggers=triggers)


COMMENTS = Table(
    "comments",
    columns={
        "id": Column("id", "bigint unsigned", nullable=False, auto_increment=True, ordinal=1),
        "post_id": Column("post_id", "bigint unsigned", nullable=False, ordinal=2),
        "body": Column("body", "text", nullable=True, ordinal=3, **UTF8),
        "stars": Column("stars", "tinyint unsigned", nullable=False, default="3", ordinal=4),
        "data": Column("data", "json", ordinal=5),
    },
    primary_key=PrimaryKey(("id",)),
    indexes={"comments_post_idx": Index("comments_post_idx", (IndexColumn("post_id"),))},
    foreign_keys={
        "comments_post_fk": ForeignKey(
            "comments_post_fk", ("post_id",), "posts", ("id",), "CASCADE", "CASCADE"
        )
    },
    checks={"comments_stars": CheckConstraint("comments_stars", "stars between 1 and 5")},
    engine="InnoDB",
    **UTF8,
)

ChangeMaker = Callable[[Schema], Change]
CHANGES: dict[str, ChangeMaker] = {
    "add_table": lambda s: AddTable(COMMENTS),
    "drop_table": lambda s: DropTable(s.tables["post_tag"]),
    "alter_table": lambda s: AlterTableOptions(
        s.tables["settings"],
        replace(
            s.tables["settings"],
            engine="InnoDB",
            comment="moved",
            charset="latin1",
            collation="latin1_general_ci",
        ),
    ),
    "add_column": lambda s: AddColumn(
        "posts",
        Column(
            "slug", "varchar(50)", nullable=False, default="'x'", comment="c", ordinal=99, **UTF8
        ),
    ),
    "add_generated_column": lambda s: AddColumn(
        "posts",
        Column(
            "title_len", "int", generated="char_length(title)", extra=(("generated", "stored"),)
        ),
    ),
    "drop_column": lambda s: DropColumn("users", s.tables["users"].columns["nickname"]),
    "alter_column": lambda s: AlterColumn(
        "posts",
        s.tables["posts"].columns["note"],
        replace(
            s.tables["posts"].columns["note"], type="varchar(60)", nullable=False, default="'n/a'"
        ),
    ),
    "alter_column_timestamp": lambda s: AlterColumn(
        "users",
        s.tables["users"].columns["updated_at"],
        replace(
            s.tables["users"].columns["updated_at"],
            type="timestamp(3)",
            default="CURRENT_TIMESTAMP(3)",
            extra=(("on_update", "CURRENT_TIMESTAMP(3)"),),
        ),
    ),
    "add_index": lambda s: AddIndex(
        "posts",
        Index(
            "posts_title_desc",
            (IndexColumn("title", prefix=30, descending=True),),
            extra=(("comment", "for search"),),
        ),
    ),
    "drop_index": lambda s: DropIndex("users", s.tables["users"].indexes["users_name_prefix"]),
    "drop_fulltext": lambda s: DropIndex("users", s.tables["users"].indexes["users_bio_fulltext"]),
    "add_unique": lambda s: AddUnique("categories", UniqueConstraint("categories_name", ("name",))),
    "drop_unique": lambda s: DropUnique("users", s.tables["users"].uniques["users_email_unique"]),
    "drop_primary_key": lambda s: DropPrimaryKey("settings", s.tables["settings"].primary_key),  # type: ignore[arg-type]
    "add_primary_key": lambda s: AddPrimaryKey("settings", PrimaryKey(("scope", "name"))),
    "drop_foreign_key": lambda s: DropForeignKey(
        "posts", s.tables["posts"].foreign_keys["posts_user_fk"]
    ),
    "add_foreign_key": lambda s: AddForeignKey(
        "post_tag",
        ForeignKey("post_tag_post2_fk", ("post_id",), "posts", ("id",), "RESTRICT", "NO ACTION"),
    ),
    "drop_check": lambda s: DropCheck("users", s.tables["users"].checks["users_score_check"]),
    "add_check": lambda s: AddCheck("posts", CheckConstraint("posts_price", "price < 1000000")),
    "drop_view": lambda s: DropView(s.views["active_users"]),
    "add_view": lambda s: AddView(
        View(
            "post_titles",
            "select p.id AS id,p.title AS title from posts p",
            (("check_option", "CASCADED"), ("security", "INVOKER")),
        )
    ),
    "rename_table": lambda s: RenameTable("settings", "app_settings"),
    "rename_column": lambda s: RenameColumn("posts", "note", "memo"),
    "drop_trigger": lambda s: DropTrigger(s.triggers["posts_before_insert"]),
    "add_trigger": lambda s: AddTrigger(
        Trigger(
            "users_after_delete",
            "users",
            "AFTER",
            "DELETE",
            "DELETE FROM posts WHERE user_id = OLD.id",
        )
    ),
}


def _settings_without_pk(url: str) -> None:
    apply(url, ["ALTER TABLE settings DROP PRIMARY KEY"])


@pytest.mark.backend("mariadb")
@pytest.mark.parametrize("case", sorted(CHANGES))
def test_change_applies_and_reverse_restores(case: str, rich_url: str) -> None:
    if case == "add_primary_key":
        _settings_without_pk(rich_url)
    start = inspect_url(rich_url)
    dialect = get_dialect(start.dialect)
    change = CHANGES[case](start)

    apply(rich_url, dialect.render([change]))
    after = inspect_url(rich_url)
    assert after == apply_to_model(start, change)

    apply(rich_url, dialect.render([change.reverse()]))
    assert inspect_url(rich_url) == start


def test_every_change_kind_is_rendered() -> None:
    kinds = {type(CHANGES[c](_fake_schema())).__name__ for c in CHANGES}
    kinds |= {type(CHANGES[c](_fake_schema()).reverse()).__name__ for c in CHANGES}
    assert {cls.__name__ for cls in Change.__subclasses__()} <= kinds


def _fake_schema() -> Schema:
    """A minimal schema with the objects the change makers look up (no server needed)."""
    col = Column("x", "int")
    t = Table(
        "t",
        {"nickname": col, "note": col, "updated_at": col},
        primary_key=PrimaryKey(("x",)),
        uniques={"users_email_unique": UniqueConstraint("users_email_unique", ("x",))},
        indexes={
            "users_name_prefix": Index("users_name_prefix", (IndexColumn("x"),)),
            "users_bio_fulltext": Index("users_bio_fulltext", (IndexColumn("x"),)),
        },
        foreign_keys={"posts_user_fk": ForeignKey("posts_user_fk", ("x",), "t", ("x",))},
        checks={"users_score_check": CheckConstraint("users_score_check", "x > 0")},
    )
    names = ("users", "posts", "post_tag", "settings", "categories")
    return Schema(
        "mariadb",
        tables={n: replace(t, name=n) for n in names},
        views={"active_users": View("active_users", "select 1 AS x")},
        triggers={
            "posts_before_insert": Trigger(
                "posts_before_insert", "t", "BEFORE", "INSERT", "SET @a = 1"
            )
        },
    )


# --- normalisation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("int(11)", "int"),
        ("int", "int"),
        ("INT(10) UNSIGNED", "int unsigned"),
        ("bigint(20) unsigned", "bigint unsigned"),
        ("tinyint(4)", "tinyint"),
        ("tinyint(1)", "tinyint(1)"),
        ("smallint(5) unsigned zerofill", "smallint(5) unsigned zerofill"),
        ("year(4)", "year"),
        ("varchar(255)", "varchar(255)"),
        ("decimal(8,2) unsigned", "decimal(8,2) unsigned"),
        ("ENUM('A','b')", "enum('A','b')"),
        ("set('x','Y')", "set('x','Y')"),
        ("timestamp(6)", "timestamp(6)"),
    ],
)
def test_normalize_type(raw: str, normal: str) -> None:
    assert normalize_type(raw) == normal


@pytest.mark.parametrize(
    ("mariadb", "mysql", "data_type", "mysql_extra", "normal"),
    [
        ("'abc'", "abc", "varchar", "", "'abc'"),
        ("'it''s'", "it's", "varchar", "", "'it''s'"),
        ("'a\\\\b'", "a\\b", "varchar", "", "'a\\\\b'"),
        ("'NULL'", "NULL", "varchar", "", "'NULL'"),
        ("NULL", None, "varchar", "", None),
        (None, None, "int", "", None),
        ("0", "0", "int", "", "0"),
        ("0.00", "0.00", "decimal", "", "0.00"),
        ("'3'", "3", "int", "", "3"),
        (
            "current_timestamp()",
            "CURRENT_TIMESTAMP",
            "timestamp",
            "DEFAULT_GENERATED",
            "CURRENT_TIMESTAMP",
        ),
        (
            "current_timestamp(6)",
            "CURRENT_TIMESTAMP(6)",
            "datetime",
            "DEFAULT_GENERATED",
            "CURRENT_TIMESTAMP(6)",
        ),
        ("b'101'", "b'101'", "bit", "", "b'101'"),
        ("uuid()", "uuid()", "char", "DEFAULT_GENERATED", "uuid()"),
        ("'x'", "_utf8mb4\\'x\\'", "text", "DEFAULT_GENERATED", "'x'"),
        ("(`a` + 1)", "(`a` + 1)", "int", "DEFAULT_GENERATED", "a + 1"),
    ],
)
def test_mariadb_and_mysql_defaults_normalise_alike(
    mariadb: str | None, mysql: str | None, data_type: str, mysql_extra: str, normal: str | None
) -> None:
    assert normalize_default(mariadb, extra="", data_type=data_type, quoted=True) == normal
    assert normalize_default(mysql, extra=mysql_extra, data_type=data_type, quoted=False) == normal


def test_mysql57_bare_current_timestamp_default() -> None:
    assert (
        normalize_default("CURRENT_TIMESTAMP", extra="", data_type="timestamp", quoted=False)
        == "CURRENT_TIMESTAMP"
    )


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("(`price` >= 0)", "price >= 0"),
        ("((`a` > 0) and (`b` > 0))", "(a > 0) and (b > 0)"),
        ("`status` in (_utf8mb4'a',_utf8mb4'b')", "status in ('a','b')"),
        ("`order` > 1", "`order` > 1"),
        ("`st` in ('a','b\\'c')", "st in ('a','b''c')"),
        ("now()", "CURRENT_TIMESTAMP"),
        ("current_timestamp(0)", "CURRENT_TIMESTAMP"),
    ],
)
def test_canonical_expression(raw: str, normal: str) -> None:
    assert canonical_expression(raw) == normal


def test_view_definition_loses_database_qualifier_and_quotes() -> None:
    raw = (
        "select `db1`.`t`.`id` AS `id`,`db1`.`t`.`select` AS `select` "
        "from `db1`.`t`   where `db1`.`t`.`x` = _utf8mb4'a' and `other`.`u`.`y` = 1"
    )
    assert normalize_sql(raw, database="db1") == (
        "select t.id AS id,t.`select` AS `select` from t where t.x = 'a' and other.u.y = 1"
    )


def test_trigger_body_comments_and_whitespace_go() -> None:
    body = "BEGIN\n  -- note\n  SET NEW.a = 'x  y'; # more\n  /* c */ SET NEW.b = 1;\nEND"
    assert normalize_sql(body) == "BEGIN SET NEW.a = 'x  y'; SET NEW.b = 1; END"
    assert normalize_sql("SET @a = 1 /*!50000 + 1 */") == "SET @a = 1 /*!50000 + 1 */"


def _rows(**kinds: list[tuple[object, ...]]) -> dict[str, list[tuple[object, ...]]]:
    return {q: list(kinds.get(q, [])) for q in QUERIES}


def test_mysql8_and_mariadb_catalog_rows_give_equal_schemas() -> None:
    """The same table as MySQL 8.0 and MariaDB 10.11 print it in information_schema."""
    # fmt: off
    tables = [("t", "InnoDB", "utf8mb4_0900_ai_ci", "")]
    # TABLE_NAME, COLUMN_NAME, ORDINAL_POSITION, COLUMN_TYPE, DATA_TYPE, IS_NULLABLE,
    # COLUMN_DEFAULT, EXTRA, GENERATION_EXPRESSION, CHARACTER_SET_NAME, COLLATION_NAME, COMMENT
    mysql_cols = [
        ("t", "id", 1, "int unsigned", "int", "NO", None, "auto_increment", "", None, None, ""),
        ("t", "n", 2, "varchar(10)", "varchar", "NO", "it's", "", "", "utf8mb4", "utf8mb4_0900_ai_ci", ""),
        ("t", "ts", 3, "timestamp", "timestamp", "YES", "CURRENT_TIMESTAMP",
         "DEFAULT_GENERATED on update CURRENT_TIMESTAMP", "", None, None, ""),
        ("t", "j", 4, "json", "json", "YES", None, "", "", None, None, ""),
        ("t", "g", 5, "varchar(20)", "varchar", "YES", None, "VIRTUAL GENERATED",
         "concat(`n`,_utf8mb4\\'-\\')", "utf8mb4", "utf8mb4_0900_ai_ci", ""),
        ("t", "flag", 6, "tinyint(1)", "tinyint", "NO", "0", "", "", None, None, ""),
    ]
    maria_cols = [
        ("t", "id", 1, "int(10) unsigned", "int", "NO", None, "auto_increment", None, None, None, ""),
        ("t", "n", 2, "varchar(10)", "varchar", "NO", "'it''s'", "", None, "utf8mb4", "utf8mb4_0900_ai_ci", ""),
        ("t", "ts", 3, "timestamp", "timestamp", "YES", "current_timestamp()",
         "on update current_timestamp()", None, None, None, ""),
        ("t", "j", 4, "longtext", "longtext", "YES", "NULL", "", None, "utf8mb4", "utf8mb4_bin", ""),
        ("t", "g", 5, "varchar(20)", "varchar", "YES", "NULL", "VIRTUAL GENERATED",
         "concat(`n`,'-')", "utf8mb4", "utf8mb4_0900_ai_ci", ""),
        ("t", "flag", 6, "tinyint(1)", "tinyint", "NO", "0", "", None, None, None, ""),
    ]
    # fmt: on
    mysql_checks = [("t", "t_chk_1", "(`id` > 0)")]
    maria_checks = [("t", "j", "json_valid(`j`)"), ("t", "t_chk_1", "`id` > 0")]
    mysql_views = [("v", "select `db`.`t`.`id` AS `id` from `db`.`t`", "NONE", "DEFINER")]
    maria_views = [("v", "select `t`.`id` AS `id` from `db`.`t`", "NONE", "DEFINER")]

    def info(dialect: str) -> ServerInfo:
        return ServerInfo(dialect, "x", "db", settings=(("lower_case_table_names", "0"),))

    mysql = build_schema(
        MySQL(),
        _rows(tables=tables, columns=mysql_cols, checks=mysql_checks, views=mysql_views),
        info("mysql"),
    )
    maria = build_schema(
        MariaDB(),
        _rows(tables=tables, columns=maria_cols, checks=maria_checks, views=maria_views),
        ServerInfo(
            "mariadb", "10.11.19-MariaDB", "db", settings=(("lower_case_table_names", "0"),)
        ),
    )
    assert replace(mysql, dialect="mariadb") == maria
    t = maria.tables["t"]
    assert t.columns["j"].type == "json" and list(t.checks) == ["t_chk_1"]
    assert t.columns["g"].generated == "concat(n,'-')"
    assert maria.views["v"].definition == "select t.id AS id from t"


def test_lower_case_table_names_folds_table_names() -> None:
    rows = _rows(
        tables=[("Users", "InnoDB", "utf8mb4_general_ci", "")],
        columns=[("USERS", "id", 1, "int(11)", "int", "NO", None, "", None, None, None, "")],
        foreign_keys=[("Users", "fk", "db", "USERS", "id", "id", 1)],
        foreign_key_actions=[("users", "fk", "CASCADE", "RESTRICT")],
    )
    info = ServerInfo(
        "mariadb", "10.11.1-MariaDB", "db", settings=(("lower_case_table_names", "1"),)
    )
    s = build_schema(MariaDB(), rows, info)
    assert list(s.tables) == ["users"]
    assert list(s.tables["users"].columns) == ["id"]
    assert s.tables["users"].foreign_keys["fk"].ref_table == "users"
    assert s.tables["users"].foreign_keys["fk"].on_update == "CASCADE"


def test_mysql_and_mariadb_render_their_own_syntax() -> None:
    check = DropCheck("t", CheckConstraint("c", "a > 0"))
    assert MySQL().render_change(check) == ["ALTER TABLE `t` DROP CHECK `c`"]
    assert MariaDB().render_change(check) == ["ALTER TABLE `t` DROP CONSTRAINT `c`"]
    gen = Column("g", "int", nullable=False, generated="a + 1", extra=(("generated", "stored"),))
    assert MySQL().render_change(AddColumn("t", gen)) == [
        "ALTER TABLE `t` ADD COLUMN `g` int GENERATED ALWAYS AS (a + 1) STORED NOT NULL"
    ]
    assert MariaDB().render_change(AddColumn("t", gen)) == [
        "ALTER TABLE `t` ADD COLUMN `g` int GENERATED ALWAYS AS (a + 1) STORED"
    ]
    text_default = Column("b", "text", default="'x'")
    assert MySQL().render_change(AddColumn("t", text_default)) == [
        "ALTER TABLE `t` ADD COLUMN `b` text NULL DEFAULT ('x')"
    ]
    assert MySQL().quote("we`ird") == "`we``ird`"


# --- read-only references -------------------------------------------------------------------


@pytest.mark.backend("mariadb")
def test_reference_session_refuses_writes(rich_url: str) -> None:
    before = inspect_url(rich_url)
    with open_reference(rich_url) as ref:
        assert ref.read_only
        for stmt in (
            "INSERT INTO tags (name) VALUES ('x')",
            "CREATE TABLE intruder (id int)",
            "DROP VIEW active_users",
        ):
            with ref.connect() as conn, pytest.raises(DBAPIError) as caught:
                conn.exec_driver_sql(stmt)
                conn.commit()
            assert "read-only" in ref.dialect.describe_error(caught.value)
        with ref.connect() as conn:
            assert ref.dialect.inspect(conn, ref.info) == before  # reading still works
            assert conn.exec_driver_sql("SELECT COUNT(*) FROM tags").scalar() == 0
    assert inspect_url(rich_url) == before


# --- error sentences ------------------------------------------------------------------------


@pytest.fixture
def mariadb_user(backend: str, db_url: str) -> Iterator[tuple[str, str]]:
    """A throwaway user with a password, allowed on the test database; dropped afterwards."""
    user, password = f"dbm_u_{uuid.uuid4().hex[:8]}", f"Pw-{uuid.uuid4().hex}"
    admin = create_engine(ADMIN_URLS["mariadb"], isolation_level="AUTOCOMMIT")
    database = make_url(db_url).database
    try:
        with admin.connect() as conn:
            conn.execute(text("CREATE USER :u@'%' IDENTIFIED BY :p"), {"u": user, "p": password})
            conn.execute(text(f"GRANT SELECT ON `{database}`.* TO :u@'%'"), {"u": user})
        yield user, password
    finally:
        with admin.connect() as conn:
            conn.execute(text("DROP USER IF EXISTS :u@'%'"), {"u": user})
        admin.dispose()


def _user_url(db_url: str, user: str, password: str, **changes: object) -> str:
    url = make_url(db_url).set(username=user, password=password, **changes)  # type: ignore[arg-type]
    return url.render_as_string(hide_password=False)


def _connect_error(url: str) -> ConnectError:
    with pytest.raises(ConnectError) as caught:
        open_target(url).close()
    return caught.value


@pytest.mark.backend("mariadb")
def test_error_sentences_name_the_problem_never_the_password(
    db_url: str, mariadb_user: tuple[str, str]
) -> None:
    user, password = mariadb_user
    wrong = "Wrong-" + password
    err = _connect_error(_user_url(db_url, user, wrong))
    assert f"access denied for user '{user}'" in str(err)
    assert wrong not in str(err) and password not in str(err)
    assert "***" in str(err)

    err = _connect_error(_user_url(db_url, user, password, database="dbm_no_such_db"))
    assert "user '" + user + "' has no access to database 'dbm_no_such_db'" in str(err)

    err = _connect_error(_user_url(db_url, "root", "", database="dbm_no_such_db"))
    assert "unknown database 'dbm_no_such_db'" in str(err)

    err = _connect_error(_user_url(db_url, user, password, port=1, query={"connect_timeout": "3"}))
    assert "cannot reach the server at '127.0.0.1' (connection refused)" in str(err)
    assert password not in str(err)

    with open_target(_user_url(db_url, user, password)) as db, db.connect() as conn:
        with pytest.raises(DBAPIError) as caught:
            conn.exec_driver_sql("CREATE TABLE nope (id int)")
        assert db.dialect.describe_error(caught.value) == (
            f"user '{user}' lacks the CREATE privilege on table 'nope'"
        )


# --- constant number of catalog queries ------------------------------------------------------


def _make_tables(url: str, n: int) -> None:
    statements = ["CREATE TABLE t0 (id int PRIMARY KEY, name varchar(20), KEY t0_name (name))"]
    statements += [
        f"CREATE TABLE t{i} (id int PRIMARY KEY, parent int, name varchar(20) DEFAULT 'x', "
        f"CHECK (id > 0), CONSTRAINT t{i}_fk FOREIGN KEY (parent) REFERENCES t0 (id))"
        for i in range(1, n)
    ]
    statements.append("CREATE VIEW v AS SELECT id FROM t0")
    statements.append("CREATE TRIGGER tr BEFORE INSERT ON t0 FOR EACH ROW SET NEW.name = 'x'")
    apply(url, statements)


def _count_inspect_queries(db: Database) -> tuple[int, Schema]:
    with db.connect() as conn, count_statements(db.engine) as seen:
        schema = db.dialect.inspect(conn, db.info)
    return seen.count, schema


@pytest.mark.slow
@pytest.mark.backend("mariadb")
def test_inspect_query_count_does_not_grow_with_tables(db_factory: DatabaseFactory) -> None:
    counts = []
    for n in (5, 500):
        url = db_factory.new(f"n{n}")
        _make_tables(url, n)
        with open_target(url) as db:
            count, schema = _count_inspect_queries(db)
        assert len(schema.tables) == n
        assert len(schema.tables[f"t{n - 1}"].foreign_keys) == 1
        counts.append(count)
    assert counts[0] == counts[1] == len(QUERIES)
    assert MariaDB.catalog is not None and len(MariaDB.catalog) == len(QUERIES)
