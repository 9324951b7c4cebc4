"""Pure tests of the migration-history simulation and of effect checks against a schema."""

from __future__ import annotations

import pytest

from dbmedic.effects import Statement, statement_effects
from dbmedic.errorclass import ErrorClass
from dbmedic.model import Column, Schema, Table
from dbmedic.simulate import Outcome, Presence, check_against, simulate, simulate_scripts

CREATE_POLICY = (
    "create table `policy_configurations` (`id` bigint unsigned not null auto_increment primary key, "
    "`is_default` tinyint(1) not null default '0', `priority` int not null default '999', "
    "`created_at` timestamp null, `updated_at` timestamp null)"
)
ADD_PRIORITY = "alter table `policy_configurations` add `priority` int not null default '999' after `is_default`"
GUARDED_PRIORITY = (
    "alter table `policy_configurations` add column if not exists `priority` int not null "
    "default '999' after `is_default`"
)


def seed_history(add_priority: str = ADD_PRIORITY) -> list[tuple[str, list[str | Statement]]]:
    return [
        ("2019_08_01_000000_create_policy_configurations_table", [Statement(CREATE_POLICY, 12)]),
        (
            "2019_09_01_000000_create_users_table",
            [
                "create table `users` (`id` bigint unsigned not null auto_increment primary key, `email` varchar(255) not null)",
                "alter table `users` add unique `users_email_unique`(`email`)",
            ],
        ),
        ("2025_10_23_162250_add_priority_to_policy_configurations", [Statement(add_priority, 16)]),
        (
            "2025_10_24_100000_create_retell_call_sessions_table",
            [
                "create table `retell_call_sessions` (`id` bigint unsigned not null auto_increment primary key, `user_id` bigint unsigned not null)",
                "alter table `retell_call_sessions` add constraint `retell_call_sessions_user_id_foreign` foreign key (`user_id`) references `users` (`id`) on delete cascade",
            ],
        ),
        (
            "2025_10_24_100001_create_conversation_flows_table",
            [
                "create table `conversation_flows` (`id` bigint unsigned not null auto_increment primary key)"
            ],
        ),
    ]


@pytest.mark.parametrize("dialect", ["mariadb", "mysql"])
def test_seed_incident_fails_at_the_duplicate_priority(dialect: str) -> None:
    sim = simulate(seed_history(), dialect)
    failed = sim.first_failure
    assert (
        failed is not None
        and failed.id == "2025_10_23_162250_add_priority_to_policy_configurations"
    )
    assert failed.failure is not None
    assert failed.failure.statement == 1 and failed.failure.line == 16
    assert failed.failure.error.error_class is ErrorClass.DUPLICATE_COLUMN
    assert failed.failure.error.code == "1060"
    assert failed.failure.error.message == "Duplicate column name 'priority'"
    creators = sim.creators_of("policy_configurations", "priority")
    assert [(c.migration, c.line, c.failed) for c in creators] == [
        ("2019_08_01_000000_create_policy_configurations_table", 12, False),
        ("2025_10_23_162250_add_priority_to_policy_configurations", 16, True),
    ]
    assert sim.blocked == (
        "2025_10_24_100000_create_retell_call_sessions_table",
        "2025_10_24_100001_create_conversation_flows_table",
    )
    assert sorted(sim.schema.tables) == ["policy_configurations", "users"]
    assert [m.outcome for m in sim.migrations] == [
        Outcome.OK,
        Outcome.OK,
        Outcome.FAILED,
        Outcome.NOT_RUN,
        Outcome.NOT_RUN,
    ]


def test_guard_makes_the_same_history_succeed() -> None:
    sim = simulate(seed_history(GUARDED_PRIORITY), "mariadb")
    assert sim.ok
    assert sorted(sim.schema.tables) == [
        "conversation_flows",
        "policy_configurations",
        "retell_call_sessions",
        "users",
    ]
    assert sim.result("2025_10_23_162250_add_priority_to_policy_configurations").idempotent
    # InnoDB indexes the foreign key column on its own, under the key's name.
    assert (
        "retell_call_sessions_user_id_foreign" in sim.schema.tables["retell_call_sessions"].indexes
    )
    assert sim.creators_of("retell_call_sessions")[0].migration.endswith(
        "retell_call_sessions_table"
    )


def test_keep_going_reports_every_failure() -> None:
    history = [*seed_history(), ("z_dup", ["create table users (id int)"])]
    sim = simulate(history, "mariadb", keep_going=True)
    assert [m.id for m in sim.migrations if m.outcome is Outcome.FAILED] == [
        "2025_10_23_162250_add_priority_to_policy_configurations",
        "z_dup",
    ]
    assert sim.result("z_dup").failure.error.message == "Table 'users' already exists"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("dialect", "message", "cls"),
    [
        (
            "mariadb",
            'Can\'t create table `app`.`child` (errno: 150 "Foreign key constraint is incorrectly formed")',
            ErrorClass.FOREIGN_KEY,
        ),
        ("mysql", "Failed to open the referenced table 'parents'", ErrorClass.FOREIGN_KEY),
        ("postgresql", 'relation "parents" does not exist', ErrorClass.FOREIGN_KEY),
    ],
)
def test_foreign_key_to_missing_table(dialect: str, message: str, cls: ErrorClass) -> None:
    sim = simulate(
        [
            (
                "m1",
                [
                    "create table child (id int primary key, parent_id int, constraint fk_parent foreign key (parent_id) references parents (id))"
                ],
            )
        ],
        dialect,
        database="app",
    )
    failure = sim.migrations[0].failure
    assert (
        failure is not None
        and failure.error.error_class is cls
        and failure.error.message == message
    )


def test_sqlite_does_not_check_a_parent_at_create_time() -> None:
    sim = simulate(
        [
            (
                "m1",
                [
                    "create table child (id integer primary key, parent_id int references parents(id))"
                ],
            )
        ],
        "sqlite",
    )
    assert sim.ok


def test_foreign_key_incompatible_types() -> None:
    history = [
        (
            "m1",
            [
                "create table p (id int primary key)",
                "create table c (id int, pid varchar(5), constraint fk_c foreign key (pid) references p (id))",
            ],
        )
    ]
    for dialect in ("mariadb", "mysql", "postgresql"):
        failure = simulate(history, dialect).migrations[0].failure
        assert failure is not None and failure.statement == 2
        assert failure.error.error_class is ErrorClass.FOREIGN_KEY
    # int -> bigint is fine on PostgreSQL, not on InnoDB
    ok = [
        (
            "m1",
            [
                "create table p (id int primary key)",
                "create table c (pid bigint, constraint fk_c foreign key (pid) references p (id))",
            ],
        )
    ]
    assert simulate(ok, "postgresql").ok
    assert not simulate(ok, "mariadb").ok


@pytest.mark.parametrize(
    ("dialect", "sql", "cls", "message"),
    [
        (
            "mariadb",
            "alter table t add x int after nope",
            ErrorClass.UNKNOWN_COLUMN,
            "Unknown column 'nope' in 't'",
        ),
        (
            "mariadb",
            "alter table t drop column nope",
            ErrorClass.UNKNOWN_COLUMN,
            "Can't DROP COLUMN `nope`; check that it exists",
        ),
        (
            "mariadb",
            "alter table t drop index nope",
            ErrorClass.UNKNOWN_KEY,
            "Can't DROP INDEX `nope`; check that it exists",
        ),
        (
            "mariadb",
            "alter table t add index ix_a (b)",
            ErrorClass.DUPLICATE_KEY_NAME,
            "Duplicate key name 'ix_a'",
        ),
        (
            "mariadb",
            "create index ix2 on t (nope)",
            ErrorClass.UNKNOWN_COLUMN,
            "Key column 'nope' doesn't exist in table",
        ),
        (
            "mariadb",
            "alter table nope add x int",
            ErrorClass.UNKNOWN_TABLE,
            "Table 'app.nope' doesn't exist",
        ),
        ("mariadb", "drop table nope", ErrorClass.UNKNOWN_TABLE, "Unknown table 'app.nope'"),
        (
            "mariadb",
            "alter table t add primary key (b)",
            ErrorClass.DUPLICATE_KEY_NAME,
            "Multiple primary key defined",
        ),
        (
            "mariadb",
            "alter table t modify nope int",
            ErrorClass.UNKNOWN_COLUMN,
            "Unknown column 'nope' in 't'",
        ),
        (
            "mariadb",
            "alter table t rename column a to b",
            ErrorClass.DUPLICATE_COLUMN,
            "Duplicate column name 'b'",
        ),
        (
            "postgresql",
            "alter table t add a int",
            ErrorClass.DUPLICATE_COLUMN,
            'column "a" of relation "t" already exists',
        ),
        (
            "postgresql",
            "create index ix_a on t (b)",
            ErrorClass.DUPLICATE_KEY_NAME,
            'relation "ix_a" already exists',
        ),
        (
            "postgresql",
            "alter table t drop column nope",
            ErrorClass.UNKNOWN_COLUMN,
            'column "nope" of relation "t" does not exist',
        ),
        ("postgresql", "drop index nope", ErrorClass.UNKNOWN_KEY, 'index "nope" does not exist'),
        (
            "postgresql",
            "alter table t drop constraint nope",
            ErrorClass.UNKNOWN_KEY,
            'constraint "nope" of relation "t" does not exist',
        ),
        (
            "postgresql",
            "alter table t rename column nope to x",
            ErrorClass.UNKNOWN_COLUMN,
            'column "nope" does not exist',
        ),
        (
            "postgresql",
            "create table t (id int)",
            ErrorClass.DUPLICATE_TABLE,
            'relation "t" already exists',
        ),
        (
            "sqlite",
            "alter table t add a int",
            ErrorClass.DUPLICATE_COLUMN,
            "duplicate column name: a",
        ),
        (
            "sqlite",
            "create index ix_a on t (b)",
            ErrorClass.DUPLICATE_KEY_NAME,
            "index ix_a already exists",
        ),
        ("sqlite", "drop table nope", ErrorClass.UNKNOWN_TABLE, "no such table: nope"),
        (
            "sqlite",
            "alter table t rename to t",
            ErrorClass.DUPLICATE_TABLE,
            "there is already another table or index with this name: t",
        ),
    ],
)
def test_server_errors_in_server_words(
    dialect: str, sql: str, cls: ErrorClass, message: str
) -> None:
    setup = "create table t (id int primary key, a int, b int)"
    index = "create index ix_a on t (a)"
    sim = simulate([("setup", [setup, index]), ("m", [sql])], dialect, database="app")
    failure = sim.result("m").failure
    assert failure is not None, sim.result("m")
    assert (failure.error.error_class, failure.error.message) == (cls, message)


def test_if_exists_guards_skip_missing_objects() -> None:
    history = [
        (
            "m",
            [
                "drop table if exists nope",
                "create table if not exists t (a int)",
                "create table if not exists t (a int)",
                "drop index if exists nope",
            ],
        )
    ]
    assert simulate(history, "postgresql").ok


def test_rename_table_and_column_carry_keys_along() -> None:
    history = [
        (
            "m1",
            [
                "create table a (id int primary key, x int)",
                "create table b (id int primary key, a_id int, constraint fk_b foreign key (a_id) references a (id))",
            ],
        ),
        ("m2", ["rename table a to a2", "alter table a2 rename column x to y"]),
        ("m3", ["alter table a2 add z int after y"]),
    ]
    sim = simulate(history, "mariadb")
    assert sim.ok, sim.first_failure
    assert sim.schema.tables["b"].foreign_keys["fk_b"].ref_table == "a2"
    assert list(sim.schema.tables["a2"].columns) == ["id", "y", "z"]
    assert [c.migration for c in sim.creators_of("a2")] == ["m2"]


def test_a_failed_statement_leaves_nothing_behind() -> None:
    sim = simulate(
        [("m", ["create table t (id int)", "alter table t add a int, add id int"])], "mariadb"
    )
    assert sim.first_failure is not None
    assert list(sim.schema.tables["t"].columns) == ["id"]


def test_unknown_statements_are_reported_not_guessed() -> None:
    sim = simulate(
        [("m", ["CREATE EXTENSION IF NOT EXISTS pgcrypto", "create table t (id int)"])],
        "postgresql",
    )
    assert sim.ok
    assert len(sim.migrations[0].unknown) == 1


def test_simulate_scripts_gives_lines() -> None:
    sim = simulate_scripts(
        [("001", "-- migrate:up\nCREATE TABLE t (id int);\n\nCREATE TABLE t (id int);\n")], "sqlite"
    )
    failure = sim.migrations[0].failure
    assert failure is not None and (failure.statement, failure.line) == (2, 4)


# --- check_against (resume) -----------------------------------------------------------------


def live_schema() -> Schema:
    cols = {
        "id": Column("id", "bigint unsigned", nullable=False, auto_increment=True, ordinal=1),
        "is_default": Column("is_default", "tinyint", nullable=False, default="0", ordinal=2),
        "priority": Column(
            "priority", "int", nullable=False, default="999", charset=None, ordinal=3
        ),
        "note": Column("note", "varchar(20)", collation="utf8mb4_unicode_ci", ordinal=4),
    }
    return Schema("mariadb", {"policy_configurations": Table("policy_configurations", cols)})


def test_check_present_absent_conflict() -> None:
    live = live_schema()
    present = check_against(live, statement_effects(ADD_PRIORITY, "mariadb"))
    assert [c.presence for c in present] == [Presence.PRESENT]
    absent = check_against(
        live,
        statement_effects("alter table `policy_configurations` add `weight` int null", "mariadb"),
    )
    assert [c.presence for c in absent] == [Presence.ABSENT]
    conflict = check_against(
        live,
        statement_effects(
            "alter table `policy_configurations` add `priority` bigint null", "mariadb"
        ),
    )
    assert conflict[0].presence is Presence.CONFLICT
    assert conflict[0].differences == (
        "priority type: bigint (migration) vs int (database)",
        "priority nullable: True (migration) vs False (database)",
    )


def test_lenient_forgives_inherited_collation_only_when_lenient() -> None:
    live = live_schema()
    eff = statement_effects(
        "alter table `policy_configurations` add `note` varchar(20) null", "mariadb"
    )
    assert check_against(live, eff)[0].presence is Presence.PRESENT
    strict = check_against(live, eff, lenient=False)[0]
    assert strict.presence is Presence.CONFLICT and "collation" in strict.differences[0]


def test_check_create_table_with_other_columns_is_a_conflict() -> None:
    live = live_schema()
    eff = statement_effects(
        "create table `policy_configurations` (`id` bigint unsigned not null auto_increment primary key, `name` varchar(10))",
        "mariadb",
    )
    check = check_against(live, eff)[0]
    assert check.presence is Presence.CONFLICT
    assert "column name is missing" in check.differences
    assert "column note is not in the migration" in check.differences


def test_check_alter_and_drop() -> None:
    live = live_schema()
    alter = statement_effects(
        "alter table `policy_configurations` modify `priority` int not null default '999'",
        "mariadb",
        live,
    )
    assert check_against(live, alter)[0].presence is Presence.PRESENT
    drop = statement_effects("alter table `policy_configurations` drop `weight`", "mariadb", live)
    assert check_against(live, drop)[0].presence is Presence.PRESENT
    drop2 = statement_effects("alter table `policy_configurations` drop `note`", "mariadb", live)
    assert check_against(live, drop2)[0].presence is Presence.ABSENT
