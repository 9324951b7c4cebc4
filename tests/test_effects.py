"""Pure tests of statement effects: what a migration statement does to a schema."""

from __future__ import annotations

import pytest

from dbmedic.changes import (
    AddColumn,
    AddForeignKey,
    AddIndex,
    AddTable,
    AddTrigger,
    AddUnique,
    AddView,
    AlterColumn,
    DropColumn,
    DropForeignKey,
    DropIndex,
    DropPrimaryKey,
    DropTable,
    RenameColumn,
    RenameTable,
)
from dbmedic.effects import (
    Guard,
    StatementKind,
    script_effects,
    split_statements,
    statement_effects,
)
from dbmedic.model import Column, Schema, Table
from dbmedic.normalize import normalize_default, normalize_type


def one(sql: str, dialect: str, schema: Schema | None = None):  # type: ignore[no-untyped-def]
    eff = statement_effects(sql, dialect, schema)
    assert eff.kind is StatementKind.SCHEMA, eff.unknown
    assert len(eff.effects) == 1, eff.effects
    return eff.effects[0]


# --- Laravel (php artisan migrate --pretend, MySQL grammar) -----------------------------------


def test_laravel_add_column_after_with_quoted_numeric_default() -> None:
    e = one(
        "alter table `policy_configurations` add `priority` int not null default '999' after `is_default`",
        "mysql",
    )
    assert isinstance(e.change, AddColumn)
    assert e.change.table == "policy_configurations"
    assert e.change.column == Column("priority", "int", nullable=False, default="999")
    assert e.after == "is_default"
    assert e.guard is Guard.NONE


def test_laravel_create_table() -> None:
    e = one(
        "create table `users` (`id` bigint unsigned not null auto_increment primary key, "
        "`name` varchar(255) not null, `email_verified_at` timestamp null, `is_admin` tinyint(1) "
        "not null default '0', `remember_token` varchar(100) null) default character set utf8mb4 "
        "collate 'utf8mb4_unicode_ci'",
        "mariadb",
    )
    assert isinstance(e.change, AddTable)
    t = e.change.table
    assert list(t.columns) == ["id", "name", "email_verified_at", "is_admin", "remember_token"]
    assert t.columns["id"] == Column("id", "bigint unsigned", nullable=False, auto_increment=True)
    assert t.columns["is_admin"] == Column("is_admin", "tinyint", nullable=False, default="0")
    assert t.columns["email_verified_at"].nullable
    assert t.primary_key is not None and t.primary_key.columns == ("id",)
    assert (t.charset, t.collation) == ("utf8mb4", "utf8mb4_unicode_ci")


def test_laravel_unique_index_and_foreign_key() -> None:
    u = one("alter table `users` add unique `users_email_unique`(`email`)", "mysql")
    assert isinstance(u.change, AddUnique) and u.change.unique.columns == ("email",)
    i = one("alter table `posts` add index `posts_title_index`(`title`)", "mysql")
    assert isinstance(i.change, AddIndex) and i.change.index.name == "posts_title_index"
    f = one(
        "alter table `posts` add constraint `posts_user_id_foreign` foreign key (`user_id`) "
        "references `users` (`id`) on delete cascade",
        "mysql",
    )
    assert isinstance(f.change, AddForeignKey)
    fk = f.change.foreign_key
    assert (fk.name, fk.columns, fk.ref_table, fk.ref_columns) == (
        "posts_user_id_foreign",
        ("user_id",),
        "users",
        ("id",),
    )
    assert (fk.on_delete, fk.on_update) == ("CASCADE", "NO ACTION")


@pytest.mark.parametrize(
    ("sql", "kind"),
    [
        ("alter table `posts` drop foreign key `posts_user_id_foreign`", DropForeignKey),
        ("alter table `posts` drop index `posts_title_index`", DropIndex),
        ("alter table `posts` drop primary key", DropPrimaryKey),
        ("alter table `posts` drop `title`", DropColumn),
        ("alter table `posts` drop column `title`", DropColumn),
        ("alter table `posts` rename column `title` to `headline`", RenameColumn),
        ("rename table `posts` to `articles`", RenameTable),
        ("alter table `posts` rename to `articles`", RenameTable),
        ("alter table `posts` modify `title` varchar(100) null", AlterColumn),
        ("drop table `posts`", DropTable),
        ("create view `v` as select 1", AddView),
        ("create index `ix` on `posts` (`title`)", AddIndex),
        ("create unique index `ux` on `posts` (`title`)", AddUnique),
        ("create trigger trg before insert on posts for each row set new.a = 1", AddTrigger),
    ],
)
def test_mysql_statement_kinds(sql: str, kind: type) -> None:
    assert isinstance(one(sql, "mysql").change, kind)


def test_mysql_change_is_rename_then_alter() -> None:
    schema = Schema("mysql", {"posts": Table("posts", {"title": Column("title", "varchar(255)")})})
    eff = statement_effects(
        "alter table posts change `title` `headline` varchar(100) not null", "mysql", schema
    )
    rename, alter = eff.changes
    assert rename == RenameColumn("posts", "title", "headline")
    assert isinstance(alter, AlterColumn)
    assert alter.before == Column("headline", "varchar(255)")
    assert alter.after == Column("headline", "varchar(100)", nullable=False)


def test_rename_table_with_several_pairs() -> None:
    eff = statement_effects("RENAME TABLE a TO b, `c` TO `d`", "mariadb")
    assert eff.changes == (RenameTable("a", "b"), RenameTable("c", "d"))
    assert RenameTable("a", "b").reverse() == RenameTable("b", "a")


def test_guards_are_recorded() -> None:
    assert (
        one("alter table t add column if not exists priority int", "mariadb").guard
        is Guard.IF_NOT_EXISTS
    )
    assert one("drop table if exists t", "mysql").guard is Guard.IF_EXISTS
    assert one("create table if not exists t (a int)", "sqlite").guard is Guard.IF_NOT_EXISTS
    assert one("create index if not exists ix on t (a)", "postgresql").guard is Guard.IF_NOT_EXISTS
    assert one("drop index if exists ix", "postgresql").guard is Guard.IF_EXISTS
    assert one("create or replace view v as select 1", "postgresql").guard is Guard.OR_REPLACE
    eff = statement_effects("alter table t add column if not exists priority int", "mariadb")
    assert eff.idempotent
    assert not statement_effects("alter table t add priority int", "mariadb").idempotent


def test_data_statements_have_no_schema_effect() -> None:
    for sql, verb in [
        ("insert into `migrations` (`migration`, `batch`) values ('x', 1)", "INSERT"),
        ("update users set name = 'a' where id = 1", "UPDATE"),
        ("delete from users", "DELETE"),
        ("set foreign_key_checks=0", "SET"),
        ("select * from users", "SELECT"),
    ]:
        eff = statement_effects(sql, "mysql")
        assert eff.kind is StatementKind.DATA and eff.data_verb == verb and eff.effects == ()
    assert statement_effects("insert into `migrations` values (1)", "mysql").data_tables == (
        "migrations",
    )


@pytest.mark.parametrize(
    ("sql", "dialect"),
    [
        ("selec 1 frm x", "mysql"),
        ("alter table t add column (a int, b int)", "mysql"),
        (
            "CREATE FUNCTION f() RETURNS trigger AS $$ BEGIN RETURN NEW; END $$ LANGUAGE plpgsql",
            "postgresql",
        ),
        ("CREATE EXTENSION IF NOT EXISTS pgcrypto", "postgresql"),
        ("create table t like u", "mysql"),
        ("create table (( ", "sqlite"),
    ],
)
def test_unknown_is_never_a_guess(sql: str, dialect: str) -> None:
    eff = statement_effects(sql, dialect)
    assert eff.kind is StatementKind.UNKNOWN
    assert eff.effects == ()
    assert eff.unknown is not None and eff.unknown.sql == sql and eff.unknown.reason


# --- Django sqlmigrate (PostgreSQL) -----------------------------------------------------------

DJANGO = """BEGIN;
--
-- Create model Question
--
CREATE TABLE "polls_question" ("id" bigint NOT NULL PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY, "question_text" varchar(200) NOT NULL, "pub_date" timestamp with time zone NOT NULL);
--
-- Create model Choice
--
CREATE TABLE "polls_choice" ("id" bigint NOT NULL PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY, "choice_text" varchar(200) NOT NULL, "votes" integer NOT NULL, "question_id" bigint NOT NULL);
ALTER TABLE "polls_choice" ADD CONSTRAINT "polls_choice_question_id_c5b4b260_fk_polls_question_id" FOREIGN KEY ("question_id") REFERENCES "polls_question" ("id") DEFERRABLE INITIALLY DEFERRED;
CREATE INDEX "polls_choice_question_id_c5b4b260" ON "polls_choice" ("question_id");
COMMIT;
"""


def test_django_sqlmigrate_script() -> None:
    stmts = split_statements(DJANGO, "postgresql")
    assert [s.line for s in stmts] == [1, 5, 9, 10, 11, 12]
    effects = script_effects(DJANGO, "postgresql")
    kinds = [e.kind for e in effects]
    assert kinds[0] is StatementKind.TRANSACTION and kinds[-1] is StatementKind.TRANSACTION
    q = effects[1].changes[0]
    assert isinstance(q, AddTable)
    assert q.table.columns["id"] == Column("id", "bigint", nullable=False, auto_increment=True)
    assert q.table.columns["pub_date"].type == "timestamptz"
    assert q.table.primary_key is not None and q.table.primary_key.name == "polls_question_pkey"
    choice = effects[2].changes[0]
    assert isinstance(choice, AddTable) and choice.table.columns["votes"].type == "int"
    fk = effects[3].changes[0]
    assert isinstance(fk, AddForeignKey) and fk.foreign_key.ref_table == "polls_question"
    assert dict(fk.foreign_key.extra) == {"deferrable": "initially deferred"}
    ix = effects[4].changes[0]
    assert isinstance(ix, AddIndex) and ix.index.columns[0].name == "question_id"
    assert effects[4].line == 11


def test_postgres_partial_alters_use_the_schema() -> None:
    schema = Schema(
        "postgresql",
        {"t": Table("t", {"a": Column("a", "int"), "b": Column("b", "text", default="'x'")})},
    )
    eff = statement_effects(
        "ALTER TABLE t ALTER COLUMN a SET NOT NULL, ALTER COLUMN b DROP DEFAULT, ALTER COLUMN a TYPE bigint",
        "postgresql",
        schema,
    )
    a1, b, a2 = (e.change for e in eff.effects)
    assert isinstance(a1, AlterColumn) and a1.after == Column("a", "int", nullable=False)
    assert eff.effects[0].touches == ("nullable",)
    assert isinstance(b, AlterColumn) and b.after.default is None and b.before.default == "'x'"
    assert isinstance(a2, AlterColumn) and a2.after.type == "bigint"


def test_postgres_identifiers_fold_unless_quoted() -> None:
    t = one('CREATE TABLE Users (ID int, "MixedCase" text)', "postgresql").change
    assert isinstance(t, AddTable)
    assert t.table.name == "users" and list(t.table.columns) == ["id", "MixedCase"]


def test_postgres_serial_and_defaults() -> None:
    t = one(
        "CREATE TABLE t (id serial PRIMARY KEY, flag boolean DEFAULT true, s varchar(10) DEFAULT 'a'::character varying, "
        "ts timestamp DEFAULT now(), n numeric(8, 2) DEFAULT '1.50')",
        "postgresql",
    ).change
    assert isinstance(t, AddTable)
    c = t.table.columns
    assert c["id"] == Column("id", "int", nullable=False, auto_increment=True)
    assert c["flag"].default == "true"
    assert c["s"].default == "'a'"
    assert c["ts"].default == "CURRENT_TIMESTAMP"
    assert c["n"] == Column("n", "numeric(8,2)", default="1.50")


# --- Alembic offline (--sql) ------------------------------------------------------------------

ALEMBIC = """BEGIN;

CREATE TABLE alembic_version (
    version_num VARCHAR(32) NOT NULL,
    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);

-- Running upgrade  -> 1975ea83b712

CREATE TABLE account (
    id SERIAL NOT NULL,
    name VARCHAR(50) NOT NULL,
    description VARCHAR(200),
    PRIMARY KEY (id)
);

INSERT INTO alembic_version (version_num) VALUES ('1975ea83b712') RETURNING alembic_version.version_num;

COMMIT;
"""


def test_alembic_offline_script() -> None:
    effects = script_effects(ALEMBIC, "postgresql")
    assert [e.kind.value for e in effects] == [
        "transaction",
        "schema",
        "schema",
        "data",
        "transaction",
    ]
    version = effects[1].changes[0]
    assert isinstance(version, AddTable)
    assert (
        version.table.primary_key is not None
        and version.table.primary_key.name == "alembic_version_pkc"
    )
    assert version.table.columns["version_num"].nullable is False
    account = effects[2].changes[0]
    assert isinstance(account, AddTable) and account.table.columns["id"].auto_increment
    assert effects[2].line == 10


# --- SQLite (dbmate) ---------------------------------------------------------------------------

DBMATE = """-- migrate:up
CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY AUTOINCREMENT, email TEXT NOT NULL UNIQUE);
CREATE TRIGGER users_touch AFTER UPDATE ON users
BEGIN
  UPDATE users SET email = lower(email) WHERE id = NEW.id;
END;
CREATE INDEX users_email_idx ON users (email);
"""


def test_sqlite_script_with_trigger_body() -> None:
    stmts = split_statements(DBMATE, "sqlite")
    assert [s.line for s in stmts] == [2, 3, 7]
    effects = script_effects(DBMATE, "sqlite")
    users = effects[0].changes[0]
    assert isinstance(users, AddTable)
    assert users.table.columns["id"] == Column("id", "integer", nullable=True, auto_increment=True)
    assert [u.columns for u in users.table.uniques.values()] == [("email",)]
    trig = effects[1].changes[0]
    assert isinstance(trig, AddTrigger) and (trig.trigger.name, trig.trigger.table) == (
        "users_touch",
        "users",
    )
    assert isinstance(effects[2].changes[0], AddIndex)


def test_mysql_delimiter_and_comments() -> None:
    script = "# comment\nDELIMITER $$\nCREATE TRIGGER t1 BEFORE INSERT ON a FOR EACH ROW BEGIN SET NEW.x = 1; END$$\nDELIMITER ;\nSELECT 1; -- done\n"
    stmts = split_statements(script, "mysql")
    assert [s.line for s in stmts] == [3, 5]
    assert stmts[0].sql.endswith("END")


# --- normalisation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("family", "raw", "norm"),
    [
        ("mysql", "INT(11) UNSIGNED", "int unsigned"),
        ("mysql", "tinyint(1)", "tinyint"),
        ("mysql", "DECIMAL(8, 2)", "decimal(8,2)"),
        ("mysql", "integer", "int"),
        ("mysql", "ENUM('A', 'b')", "enum('A','b')"),
        ("postgresql", "character varying(20)", "varchar(20)"),
        ("postgresql", "timestamp(0) without time zone", "timestamp(0)"),
        ("postgresql", "timestamp with time zone", "timestamptz"),
        ("postgresql", "integer", "int"),
        ("postgresql", "DOUBLE PRECISION", "double precision"),
        ("postgresql", "decimal(8,2)", "numeric(8,2)"),
        ("sqlite", "INT", "integer"),
        ("sqlite", "VARCHAR(10)", "varchar(10)"),
    ],
)
def test_normalize_type(family: str, raw: str, norm: str) -> None:
    assert normalize_type(raw, family) == norm


def test_normalize_default() -> None:
    assert normalize_default("'999'", "mysql", "int") == "999"
    assert normalize_default("'999'", "mysql", "varchar(10)") == "'999'"
    assert normalize_default("NULL", "mysql", "int") is None
    assert normalize_default("current_timestamp()", "mariadb", "timestamp") == "CURRENT_TIMESTAMP"
    assert normalize_default("'a'::character varying", "postgresql", "varchar") == "'a'"
    assert normalize_default("TRUE", "mysql", "tinyint") == "1"
