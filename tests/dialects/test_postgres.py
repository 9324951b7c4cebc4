"""PostgreSQL dialect on the real server: inspection, normal forms, rendering laws, sessions.

Rendered DDL is run through psycopg's own ``Connection.execute`` without parameters, as an applier
must: SQLAlchemy's ``exec_driver_sql`` would read a ``%`` in a default, check or function body as a
placeholder.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from conftest import DatabaseFactory, count_statements, run_sql, split_sql
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
from dbmedic.connect import open_reference, open_target
from dbmedic.dialects.postgres import PostgreSQL
from dbmedic.dialects.postgres.normalize import (
    normalize_check,
    normalize_default,
    normalize_type,
    normalize_view,
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
    extra,
)

pytestmark = pytest.mark.backend("postgresql")

RICH = """
CREATE TYPE status AS ENUM ('draft', 'published', 'it''s');
CREATE TABLE companies (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name varchar(255) NOT NULL,
  slug text NOT NULL DEFAULT 'x'::text,
  parent_id bigint REFERENCES companies (id) ON DELETE SET NULL,
  settings jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT companies_slug_key UNIQUE (slug)
);
COMMENT ON TABLE companies IS 'Tenants, it''s said';
COMMENT ON COLUMN companies.name IS 'Display name';
CREATE TABLE users (
  id serial PRIMARY KEY,
  company_id bigint NOT NULL REFERENCES companies (id) ON UPDATE RESTRICT ON DELETE CASCADE,
  email character varying(255) NOT NULL,
  "Order" integer,
  balance numeric(12,2) NOT NULL DEFAULT 0,
  ratio double precision DEFAULT 0.5,
  active boolean NOT NULL DEFAULT true,
  tags text[] NOT NULL DEFAULT '{}',
  scores int[],
  state status NOT NULL DEFAULT 'draft',
  uid uuid DEFAULT gen_random_uuid(),
  born date DEFAULT '2000-01-01',
  updated_at timestamp(0) without time zone DEFAULT CURRENT_TIMESTAMP,
  expires_at timestamp with time zone DEFAULT now() + interval '30 days',
  email_lower text GENERATED ALWAYS AS (lower(email)) STORED,
  code char(4) COLLATE "C",
  lucky smallint DEFAULT -7,
  CONSTRAINT users_balance_check CHECK (balance >= 0)
);
CREATE UNIQUE INDEX users_email_unique ON users (email);
CREATE INDEX users_active_idx ON users (company_id) WHERE active;
CREATE INDEX users_lower_email_idx ON users (lower(email));
CREATE INDEX users_updated_desc ON users (updated_at DESC, id);
CREATE INDEX companies_settings_gin ON companies USING gin (settings);
CREATE TABLE memberships (
  user_id int NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  company_id bigint NOT NULL,
  role varchar(20) NOT NULL DEFAULT 'member',
  PRIMARY KEY (user_id, company_id),
  CONSTRAINT memberships_company_fk FOREIGN KEY (company_id) REFERENCES companies (id)
    DEFERRABLE INITIALLY DEFERRED
);
CREATE VIEW active_users AS
  SELECT u.id, u.email, c.name AS company FROM users u JOIN companies c ON c.id = u.company_id
  WHERE u.active;
CREATE INDEX users_cover ON users ("Order" NULLS FIRST) INCLUDE (email, "Order");
CREATE INDEX users_hash ON users USING hash (code);
CREATE INDEX users_born_brin ON users USING brin (born);
CREATE INDEX companies_settings_path ON companies USING gin (settings jsonb_path_ops);
CREATE TABLE "Events" (
  id bigint NOT NULL,
  at date NOT NULL,
  kind text NOT NULL DEFAULT '100%' CHECK (kind NOT LIKE '%!%'),
  PRIMARY KEY (id, at),
  CONSTRAINT events_kind_key UNIQUE (kind, at, id) DEFERRABLE,
  CONSTRAINT events_fk FOREIGN KEY (id) REFERENCES companies (id) MATCH FULL
) PARTITION BY RANGE (at);
CREATE TABLE events_2024 PARTITION OF "Events" FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE UNLOGGED TABLE cache (k text PRIMARY KEY, v bytea, moods status[]);
CREATE MATERIALIZED VIEW company_counts AS SELECT company_id, count(*) AS n FROM users GROUP BY company_id;
COMMENT ON MATERIALIZED VIEW company_counts IS 'per company';
CREATE FUNCTION touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.updated_at := now(); RETURN NEW; END $$;
CREATE TRIGGER users_touch BEFORE INSERT OR UPDATE OF email, active ON users
  FOR EACH ROW WHEN (NEW.active) EXECUTE FUNCTION touch_updated_at();
CREATE TRIGGER users_order AFTER UPDATE OF "Order" ON users
  FOR EACH STATEMENT EXECUTE FUNCTION touch_updated_at();
CREATE TRIGGER users_gone AFTER DELETE ON users
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION touch_updated_at();
CREATE TRIGGER users_touch BEFORE UPDATE ON companies FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
"""


# --- helpers ---------------------------------------------------------------------------------


def inspect_url(url: str) -> Schema:
    with open_target(url) as db, db.connect() as conn:
        return db.dialect.inspect(conn, db.info)


def apply(url: str, statements: Iterable[str]) -> None:
    """Run DDL statements, each in its own transaction, through psycopg without parameters."""
    engine = create_engine(url)
    raw = engine.raw_connection()
    try:
        driver: Any = raw.driver_connection
        driver.autocommit = True
        for stmt in statements:
            driver.execute(stmt)
    finally:
        raw.close()
        engine.dispose()


def render(changes: Sequence[Change]) -> list[str]:
    return PostgreSQL().render(changes)


@pytest.fixture
def rich_url(db_url: str) -> str:
    apply(db_url, split_sql(RICH))
    return db_url


# --- inspection ------------------------------------------------------------------------------


def test_inspect_reads_every_object_kind(rich_url: str) -> None:
    s = inspect_url(rich_url)
    assert s.dialect == "postgresql"
    assert sorted(s.tables) == ["Events", "cache", "companies", "memberships", "users"]
    users, companies, members = s.tables["users"], s.tables["companies"], s.tables["memberships"]

    assert users.column_order()[:4] == ("id", "company_id", "email", "Order")
    cols = users.columns
    assert cols["id"] == Column("id", "int", nullable=False, auto_increment=True)
    assert cols["id"].raw_type == "integer"
    assert (
        cols["email"].type == "varchar(255)" and cols["email"].raw_type == "character varying(255)"
    )
    assert cols["Order"].type == "int"
    assert cols["balance"].type == "numeric(12,2)" and cols["balance"].default == "0"
    assert cols["ratio"].default == "0.5"
    assert cols["active"].default == "true" and not cols["active"].nullable
    assert cols["tags"].type == "text[]" and cols["tags"].default == "'{}'"
    assert cols["scores"].type == "int[]"
    assert cols["state"].type == "status" and cols["state"].default == "'draft'"
    assert dict(cols["state"].extra)["enum_labels"] == "'draft', 'published', 'it''s'"
    assert cols["uid"].default == "gen_random_uuid()"
    assert cols["born"].default == "'2000-01-01'"
    assert cols["updated_at"].type == "timestamp(0)"
    assert cols["updated_at"].default == "CURRENT_TIMESTAMP"
    assert cols["expires_at"].type == "timestamptz"
    assert cols["expires_at"].default == "now() + '30 days'::interval"
    assert cols["email_lower"].generated == "lower(email::text)"
    assert cols["email_lower"].default is None
    assert cols["code"].type == "char(4)" and cols["code"].collation == "C"
    assert cols["email"].collation is None
    assert cols["lucky"].type == "smallint" and cols["lucky"].default == "-7"

    assert companies.columns["id"].auto_increment
    assert dict(companies.columns["id"].extra)["identity"] == "always"
    assert companies.columns["slug"].default == "'x'"
    assert companies.columns["created_at"].default == "now()"
    assert companies.comment == "Tenants, it's said"
    assert companies.columns["name"].comment == "Display name"
    assert companies.engine is None and companies.charset is None

    assert users.primary_key == PrimaryKey(("id",))
    assert members.primary_key is not None
    assert members.primary_key.columns == ("user_id", "company_id")
    assert companies.uniques == {
        "companies_slug_key": UniqueConstraint("companies_slug_key", ("slug",))
    }
    assert users.uniques == {}

    idx = users.indexes
    assert sorted(idx) == [
        "users_active_idx",
        "users_born_brin",
        "users_cover",
        "users_email_unique",
        "users_hash",
        "users_lower_email_idx",
        "users_updated_desc",
    ]
    assert idx["users_cover"].columns == (IndexColumn("Order"),)
    assert dict(idx["users_cover"].extra) == {"include": "email,Order", "nulls": "NULLS FIRST"}
    assert (idx["users_hash"].kind, idx["users_born_brin"].kind) == ("hash", "brin")
    path = companies.indexes["companies_settings_path"]
    assert dict(path.extra) == {"opclass": "jsonb_path_ops"}
    assert idx["users_email_unique"] == Index(
        "users_email_unique", (IndexColumn("email"),), unique=True
    )
    assert idx["users_active_idx"].where == "active"
    assert idx["users_lower_email_idx"].columns == (
        IndexColumn("lower(email::text)", expression=True),
    )
    assert idx["users_updated_desc"].columns == (
        IndexColumn("updated_at", descending=True),
        IndexColumn("id"),
    )
    assert companies.indexes["companies_settings_gin"].kind == "gin"
    assert "companies_slug_key" not in companies.indexes  # backs a constraint

    fk = users.foreign_keys["users_company_id_fkey"]
    assert fk == ForeignKey(
        "users_company_id_fkey",
        ("company_id",),
        "companies",
        ("id",),
        on_update="RESTRICT",
        on_delete="CASCADE",
    )
    assert companies.foreign_keys["companies_parent_id_fkey"].on_delete == "SET NULL"
    assert companies.foreign_keys["companies_parent_id_fkey"].ref_table == "companies"
    deferred = members.foreign_keys["memberships_company_fk"]
    assert dict(deferred.extra)["deferrable"] == "INITIALLY DEFERRED"

    assert users.checks == {
        "users_balance_check": CheckConstraint("users_balance_check", "balance >= 0::numeric")
    }
    assert members.checks == {}  # NOT NULL is not a check

    view = s.views["active_users"]
    assert view.definition == (
        "SELECT u.id, u.email, c.name AS company FROM users u "
        "JOIN companies c ON c.id = u.company_id WHERE u.active"
    )
    assert sorted(s.triggers) == [
        "companies.users_touch",
        "users.users_gone",
        "users.users_order",
        "users.users_touch",
    ]
    order_trigger = s.triggers["users.users_order"]
    assert dict(order_trigger.extra)["update_of"] == "Order"
    assert dict(order_trigger.extra)["for_each"] == "STATEMENT"
    assert dict(s.triggers["users.users_gone"].extra)["options"] == "REFERENCING OLD TABLE AS gone"
    events = s.tables["Events"]
    assert dict(events.extra) == {"partition_by": "RANGE (at)"}
    assert events.columns["kind"].default == "'100%'"
    assert dict(events.uniques["events_kind_key"].extra) == {"deferrable": "INITIALLY IMMEDIATE"}
    assert dict(events.foreign_keys["events_fk"].extra) == {"match": "FULL"}
    assert dict(s.tables["cache"].extra) == {"unlogged": "true"}
    assert dict(s.tables["cache"].columns["moods"].extra)["enum_type"] == "status"
    assert dict(s.views["company_counts"].extra) == {
        "comment": "per company",
        "materialized": "true",
    }
    trigger = s.triggers["users.users_touch"]
    assert (trigger.name, trigger.table, trigger.timing, trigger.event) == (
        "users_touch",
        "users",
        "BEFORE",
        "INSERT OR UPDATE",
    )
    assert trigger.body == "EXECUTE FUNCTION touch_updated_at()"
    facts = dict(trigger.extra)
    assert facts["update_of"] == "email,active"
    assert facts["when"] == "new.active"
    assert facts["function"].startswith("CREATE OR REPLACE FUNCTION touch_updated_at()")


def test_server_info_and_table_names(rich_url: str) -> None:
    with open_target(rich_url) as db, db.connect() as conn:
        assert db.info.dialect == "postgresql"
        assert db.info.version.startswith(("1", "2"))
        assert db.info.database == make_url(rich_url).database
        assert db.info.charset == "UTF8"
        assert db.info.setting("schema") == "public"
        assert db.dialect.table_names(conn) == [
            "Events",
            "cache",
            "companies",
            "memberships",
            "users",
        ]


def test_serials_of_different_tables_are_the_same_column(db_url: str) -> None:
    run_sql(
        db_url,
        """
        CREATE TABLE a (id serial PRIMARY KEY, v varchar(10) DEFAULT 'x'::character varying);
        CREATE TABLE b (id integer NOT NULL DEFAULT nextval('a_id_seq'::regclass) PRIMARY KEY,
                        v character varying(10) DEFAULT 'x');
        """,
    )
    s = inspect_url(db_url)
    assert s.tables["a"].columns == s.tables["b"].columns


def test_same_check_written_two_ways_is_equal(db_url: str) -> None:
    run_sql(
        db_url,
        """
        CREATE TABLE a (n int, CONSTRAINT c CHECK (n>0 AND n<10));
        CREATE TABLE b (n integer, CONSTRAINT c CHECK (((n > 0) and (n < 10))));
        """,
    )
    s = inspect_url(db_url)
    assert s.tables["a"].checks == s.tables["b"].checks
    assert s.tables["a"].checks["c"].expression == "n > 0 AND n < 10"


@pytest.mark.parametrize(
    ("printed", "normal"),
    [
        ("integer", "int"),
        ("bigint", "bigint"),
        ("character varying(255)", "varchar(255)"),
        ("character varying", "varchar"),
        ("character(3)", "char(3)"),
        ("bit varying(4)", "varbit(4)"),
        ("timestamp without time zone", "timestamp"),
        ("timestamp(3) with time zone", "timestamptz(3)"),
        ("time with time zone", "timetz"),
        ("numeric(8,2)", "numeric(8,2)"),
        ("double precision", "double precision"),
        ("character varying(20)[]", "varchar(20)[]"),
        ("integer[][]", "int[][]"),
        ('"Mood"', '"Mood"'),
    ],
)
def test_normalize_type(printed: str, normal: str) -> None:
    assert normalize_type(printed) == normal


@pytest.mark.parametrize(
    ("printed", "normal"),
    [
        ("'abc'::character varying", "'abc'"),
        ("'it''s'::text", "'it''s'"),
        ("'-1'::integer", "-1"),
        ("'-2.5'::numeric", "-2.5"),
        ("'5'::text", "'5'"),
        ("'{}'::integer[]", "'{}'"),
        ("NULL::character varying", None),
        ("now()", "now()"),
        ("CURRENT_TIMESTAMP", "CURRENT_TIMESTAMP"),
        ("now() + '1 day'::interval", "now() + '1 day'::interval"),
        (None, None),
    ],
)
def test_normalize_default(printed: str | None, normal: str | None) -> None:
    assert normalize_default(printed) == normal


@pytest.mark.parametrize(
    ("message", "sentence"),
    [
        (
            'connection failed: connection to server at "10.0.0.5", port 5432 failed: FATAL:  '
            'password authentication failed for user "app"',
            'password authentication failed for user "app"',
        ),
        (
            'connection failed: connection to server at "127.0.0.1", port 5432 failed: FATAL:  '
            'database "shop" does not exist',
            'database "shop" does not exist',
        ),
        (
            'connection failed: connection to server at "db" (10.0.0.5), port 6432 failed: '
            "Connection refused\n\tIs the server running on that host and accepting TCP/IP "
            "connections?",
            "connection refused at db:6432; is PostgreSQL running there?",
        ),
        (
            'connection is bad: connection to server on socket "/tmp/x/.s.PGSQL.5432" failed: '
            "No such file or directory\n\tIs the server running locally?",
            "no server listening on socket /tmp/x/.s.PGSQL.5432",
        ),
        (
            "failed to resolve host 'nohost.invalid': [Errno -2] Name or service not known",
            "cannot resolve host name 'nohost.invalid'",
        ),
    ],
)
def test_describe_error_sentences(message: str, sentence: str) -> None:
    """Sentences for libpq's texts, wrong password included: the test server trusts 127.0.0.1,
    so a real wrong password cannot be provoked here."""
    assert PostgreSQL().describe_error(Exception(message)) == sentence


def test_normalize_check_and_view() -> None:
    assert normalize_check("CHECK ((price > (0)::numeric))") == "price > (0)::numeric"
    assert normalize_check("CHECK ((a > 0) AND (b > 0)) NOT VALID") == "(a > 0) AND (b > 0)"
    assert normalize_view(" SELECT a.id,\n    a.n\n   FROM a  WHERE a.s = 'x  y';") == (
        "SELECT a.id, a.n FROM a WHERE a.s = 'x  y'"
    )


# --- rendering laws --------------------------------------------------------------------------


def create_all(schema: Schema) -> list[Change]:
    return [
        *(AddTable(t) for t in schema.tables.values()),
        *(AddView(v) for v in schema.views.values()),
        *(AddTrigger(t) for t in schema.triggers.values()),
    ]


def test_rendered_schema_inspects_back_equal(rich_url: str, db_factory: DatabaseFactory) -> None:
    before = inspect_url(rich_url)
    fresh = db_factory.new("copy")
    apply(fresh, render(create_all(before)))
    after = inspect_url(fresh)
    assert after == before
    assert after.tables["users"].column_order() == before.tables["users"].column_order()


def test_search_path_selects_the_schema(db_url: str) -> None:
    run_sql(db_url, "CREATE SCHEMA app; CREATE TABLE app.things (id int PRIMARY KEY)")
    url = make_url(db_url).update_query_dict({"options": "-csearch_path=app"})
    in_app = url.render_as_string(hide_password=False)
    s = inspect_url(in_app)
    assert sorted(s.tables) == ["things"]
    assert inspect_url(db_url).tables == {}
    with open_reference(in_app) as ref, ref.connect() as conn:
        assert ref.dialect.table_names(conn) == ["things"]  # search_path kept when read-only
        with pytest.raises(DBAPIError, match="read-only"):
            conn.exec_driver_sql("CREATE TABLE more (id int)")


def _column(table: Table, name: str) -> Column:
    return table.columns[name]


def changes_for(s: Schema) -> list[Change]:
    """One change of every kind, each applicable to the rich schema."""
    users, companies, members = s.tables["users"], s.tables["companies"], s.tables["memberships"]
    audit = Table(
        "audit log",
        {
            "id": Column("id", "bigint", nullable=False, auto_increment=True, ordinal=1),
            "user_id": Column("user_id", "int", ordinal=2),
            "at": Column("at", "timestamptz", nullable=False, default="now()", ordinal=3),
            "note": Column("note", "text", default="'100%'", comment="percent % sign", ordinal=4),
        },
        primary_key=PrimaryKey(("id",), name="audit log_pkey"),
        indexes={"audit_at": Index("audit_at", (IndexColumn("at", descending=True),))},
        foreign_keys={
            "audit_user_fk": ForeignKey(
                "audit_user_fk", ("user_id",), "users", ("id",), on_delete="SET NULL"
            )
        },
        checks={"audit_note_len": CheckConstraint("audit_note_len", "length(note) < 100")},
        comment="who did what",
    )
    tags = _column(users, "tags")
    ratio = _column(users, "ratio")
    lucky = _column(users, "lucky")
    function = dict(s.triggers["users.users_touch"].extra)["function"]
    return [
        AddTable(audit),
        RenameTable("users", "people"),
        RenameColumn("users", "Order", "rank"),
        DropTable(members),
        AlterTableOptions(users, replace(users, comment="people")),
        AlterTableOptions(members, replace(members, extra=(("unlogged", "true"),))),
        AddColumn("users", Column("nick", "varchar(40)", nullable=False, default="'anon'")),
        AddColumn(
            "users",
            Column("mood", "status", default="'published'", extra=_column(users, "state").extra),
        ),
        AddColumn("users", Column("seq", "bigint", nullable=False, auto_increment=True)),
        DropColumn("users", _column(users, "scores")),
        AlterColumn("users", tags, replace(tags, type="varchar(50)[]")),
        AlterColumn("users", ratio, replace(ratio, nullable=False, default="1.5", comment="r")),
        AlterColumn("users", lucky, replace(lucky, type="int", default=None, collation=None)),
        AlterColumn(
            "users",
            lucky,
            replace(
                lucky,
                nullable=False,
                auto_increment=True,
                default=None,
                extra=(("identity", "by default"),),
            ),
        ),
        AlterColumn(
            "users", lucky, replace(lucky, nullable=False, auto_increment=True, default=None)
        ),
        AlterColumn(
            "users", _column(users, "id"), replace(_column(users, "id"), auto_increment=False)
        ),
        AlterColumn(
            "companies",
            _column(companies, "id"),
            replace(_column(companies, "id"), extra=(("identity", "by default"),)),
        ),
        AlterColumn(
            "users",
            _column(users, "email_lower"),
            replace(_column(users, "email_lower"), generated="upper(email::text)"),
        ),
        AlterColumn(
            "users", _column(users, "code"), replace(_column(users, "code"), collation=None)
        ),
        AddIndex("users", Index("users_tags_gin", (IndexColumn("tags"),), kind="gin")),
        AddIndex(
            "users",
            Index(
                "users_partial",
                (IndexColumn("lower(email::text)", expression=True),),
                unique=True,
                where="active AND balance > 0::numeric",
            ),
        ),
        DropIndex("users", users.indexes["users_active_idx"]),
        AddUnique("users", UniqueConstraint("users_uid_key", ("uid", "company_id"))),
        DropUnique("companies", companies.uniques["companies_slug_key"]),
        DropPrimaryKey("memberships", members.primary_key),  # type: ignore[arg-type]
        DropPrimaryKey("memberships", PrimaryKey(("user_id", "company_id"))),  # unnamed
        AddForeignKey(
            "users",
            ForeignKey(
                "users_self_fk",
                ("lucky",),
                "users",
                ("id",),
                on_update="CASCADE",
                on_delete="SET DEFAULT",
            ),
        ),
        DropForeignKey("memberships", members.foreign_keys["memberships_company_fk"]),
        AddCheck("users", CheckConstraint("users_email_at", "email::text ~~ '%@%'::text")),
        DropCheck("users", users.checks["users_balance_check"]),
        AddView(
            View("rich_users", "SELECT users.id FROM users WHERE users.balance > 100::numeric")
        ),
        DropView(s.views["active_users"]),
        AddTrigger(
            Trigger(
                "users_log",
                "users",
                "AFTER",
                "DELETE",
                "EXECUTE FUNCTION touch_updated_at()",
                extra=extra(for_each="STATEMENT", function=function),
            )
        ),
        DropTrigger(s.triggers["users.users_touch"]),
    ]


def test_every_change_applies_and_reverses(rich_url: str) -> None:
    start = inspect_url(rich_url)
    changes = changes_for(start)
    kinds = {type(c) for c in changes}
    assert kinds >= {
        AddTable,
        DropTable,
        AlterTableOptions,
        AddColumn,
        DropColumn,
        AlterColumn,
        AddIndex,
        DropIndex,
        AddUnique,
        DropUnique,
        AddPrimaryKey,
        DropPrimaryKey,
        AddForeignKey,
        DropForeignKey,
        AddCheck,
        DropCheck,
        AddView,
        DropView,
        AddTrigger,
        DropTrigger,
        RenameTable,
        RenameColumn,
    } - {AddPrimaryKey}  # AddPrimaryKey runs as the reverse of the DropPrimaryKeys
    for change in changes:
        apply(rich_url, render([change]))
        changed = inspect_url(rich_url)
        assert changed != start, f"{change.kind} {change.subject} changed nothing"
        assert_applied(change, changed)
        apply(rich_url, render([change.reverse()]))
        assert inspect_url(rich_url) == start, f"{change.kind} {change.subject} did not reverse"


def assert_applied(change: Change, s: Schema) -> None:
    """The object the change adds is there exactly as modelled; the one it drops is gone."""
    if isinstance(change, AddTable):
        assert s.tables[change.table.name] == change.table
    elif isinstance(change, RenameTable):
        assert change.new in s.tables and change.old not in s.tables
    elif isinstance(change, RenameColumn):
        assert change.new in s.tables[change.table].columns
        assert change.old not in s.tables[change.table].columns
    elif isinstance(change, DropTable):
        assert change.table.name not in s.tables
    elif isinstance(change, AlterTableOptions):
        assert s.tables[change.after.name].comment == change.after.comment
        assert s.tables[change.after.name].extra == change.after.extra
    elif isinstance(change, AddColumn):
        assert s.tables[change.table].columns[change.column.name] == change.column
    elif isinstance(change, DropColumn):
        assert change.column.name not in s.tables[change.table].columns
    elif isinstance(change, AlterColumn):
        assert s.tables[change.table].columns[change.after.name] == change.after
    elif isinstance(change, AddIndex):
        assert s.tables[change.table].indexes[change.index.name] == change.index
    elif isinstance(change, DropIndex):
        assert change.index.name not in s.tables[change.table].indexes
    elif isinstance(change, AddUnique):
        assert s.tables[change.table].uniques[change.unique.name] == change.unique
    elif isinstance(change, DropUnique):
        assert change.unique.name not in s.tables[change.table].uniques
    elif isinstance(change, DropPrimaryKey):
        assert s.tables[change.table].primary_key is None
    elif isinstance(change, AddForeignKey):
        assert s.tables[change.table].foreign_keys[change.foreign_key.name] == change.foreign_key
    elif isinstance(change, DropForeignKey):
        assert change.foreign_key.name not in s.tables[change.table].foreign_keys
    elif isinstance(change, AddCheck):
        assert s.tables[change.table].checks[change.check.name] == change.check
    elif isinstance(change, DropCheck):
        assert change.check.name not in s.tables[change.table].checks
    elif isinstance(change, AddView):
        assert s.views[change.view.name] == change.view
    elif isinstance(change, DropView):
        assert change.view.name not in s.views
    elif isinstance(change, AddTrigger):
        key = f"{change.trigger.table}.{change.trigger.name}"
        assert s.triggers[key] == change.trigger
    elif isinstance(change, DropTrigger):
        assert f"{change.trigger.table}.{change.trigger.name}" not in s.triggers
    else:
        raise AssertionError(f"no check for {change!r}")


def test_every_change_kind_renders() -> None:
    """No Change subclass is left without a PostgreSQL rendering."""
    import dbmedic.changes as changes

    kinds = [
        k
        for k in vars(changes).values()
        if isinstance(k, type) and issubclass(k, Change) and k is not Change
    ]
    from dbmedic.dialects.postgres.render import _RENDERERS

    assert sorted(k.__name__ for k in kinds) == sorted(k.__name__ for k in _RENDERERS)


# --- sessions and errors ---------------------------------------------------------------------


def test_reference_session_refuses_writes(rich_url: str) -> None:
    with open_reference(rich_url) as ref, ref.connect() as conn:
        assert ref.info.setting("read_only") == "on"
        with pytest.raises(DBAPIError, match="read-only transaction"):
            conn.exec_driver_sql("INSERT INTO companies (name) VALUES ('x')")
        conn.rollback()
        with pytest.raises(DBAPIError, match="read-only transaction"):
            conn.exec_driver_sql("CREATE TABLE intruder (id int)")
        conn.rollback()
        assert (
            ref.dialect.inspect(conn, ref.info).tables.keys() == inspect_url(rich_url).tables.keys()
        )
    assert "intruder" not in inspect_url(rich_url).tables


def test_unknown_database_is_one_sentence_without_password(db_url: str) -> None:
    url = make_url(db_url).set(database="dbm_no_such_db", password="s3cret-pw")
    with pytest.raises(ConnectError) as err:
        open_target(url.render_as_string(hide_password=False))
    message = str(err.value)
    assert 'database "dbm_no_such_db" does not exist' in message
    assert "s3cret-pw" not in message
    assert "\n" not in message


def test_unreachable_port_is_one_sentence(db_url: str) -> None:
    url = make_url(db_url).set(port=1)
    with pytest.raises(ConnectError) as err:
        open_target(url.render_as_string(hide_password=False))
    assert "connection refused at 127.0.0.1:1" in str(err.value)
    assert "\n" not in str(err.value)


def test_permission_denied_is_described(rich_url: str) -> None:
    """This server trusts 127.0.0.1, so a wrong password cannot be provoked; a role without
    privileges gives the server's own sentence instead."""
    role = "dbm_nopriv_" + make_url(rich_url).database[-10:]  # type: ignore[index]
    run_sql(rich_url, f'CREATE ROLE "{role}" LOGIN')
    try:
        url = make_url(rich_url).set(username=role).render_as_string(hide_password=False)
        with open_target(url) as db, db.connect() as conn:
            with pytest.raises(DBAPIError) as err:
                conn.exec_driver_sql("SELECT * FROM users")
            assert db.dialect.describe_error(err.value) == "permission denied for table users"
    finally:
        run_sql(rich_url, f'DROP ROLE "{role}"')


# --- cost ------------------------------------------------------------------------------------


def _make_tables(url: str, n: int) -> None:
    apply(
        url,
        [
            f"""
        DO $$ BEGIN FOR i IN 1..{n} LOOP
          EXECUTE 'CREATE TABLE t' || i || ' (id serial PRIMARY KEY, name varchar(50) NOT NULL'
            || CASE WHEN i > 1 THEN ', prev_id int REFERENCES t' || (i - 1) || ' (id)' ELSE '' END
            || ', CONSTRAINT t' || i || '_name_key UNIQUE (name))';
          EXECUTE 'CREATE INDEX t' || i || '_lower ON t' || i || ' (lower(name))';
        END LOOP; END $$
        """
        ],
    )


def test_inspect_query_count_does_not_grow(db_factory: DatabaseFactory) -> None:
    counts = {}
    for n in (5, 500):
        url = db_factory.new(f"n{n}")
        _make_tables(url, n)
        with open_target(url) as db, db.connect() as conn:
            with count_statements(db.engine) as seen:
                schema = db.dialect.inspect(conn, db.info)
            assert len(schema.tables) == n
            assert len(schema.tables[f"t{n}"].foreign_keys) == (n > 1)
        counts[n] = seen.count
    assert counts[5] == counts[500] == len(PostgreSQL.catalog or ())
