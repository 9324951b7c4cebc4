"""Snapshots: stable JSON, atomic writes, one-sentence errors for every kind of bad file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dbmedic.errors import ConfigError, SnapshotError
from dbmedic.inspect import (
    FORMAT_TAG,
    dump_snapshot,
    load_snapshot,
    load_source,
    parse_snapshot,
    save_snapshot,
)
from dbmedic.model import CheckConstraint, Trigger, UniqueConstraint, View
from schema_builders import col, fk, index, schema, table


def rich_schema():  # type: ignore[no-untyped-def]
    users = table(
        "users",
        col("email", "varchar(255)", charset="utf8mb4", collation="utf8mb4_unicode_ci"),
        col("name", "varchar(100)", nullable=True, default="'anon'", comment='shown "name"'),
        col("created_at", "timestamp", nullable=True, default="CURRENT_TIMESTAMP"),
        uniques=[UniqueConstraint("users_email_unique", ("email",))],
        indexes=[index("users_name_idx", "name")],
        checks=[CheckConstraint("name_len", "char_length(name) > 0")],
        engine="InnoDB",
        charset="utf8mb4",
        collation="utf8mb4_unicode_ci",
        comment="people",
    )
    posts = table(
        "posts", "user_id", fks=[fk("posts_user_fk", "user_id", "users", on_delete="CASCADE")]
    )
    return schema(
        users,
        posts,
        views={"v": View("v", "select id from users")},
        triggers={"t": Trigger("t", "users", "AFTER", "INSERT", "set @x = 1")},
        database="shop",
        server_version="10.11.6-MariaDB",
        taken_at="2025-10-26T15:45:30Z",
        inspect_seconds=0.125,
    )


def test_dump_is_stable_sorted_and_versioned() -> None:
    s = rich_schema()
    text = dump_snapshot(s)
    assert text == dump_snapshot(rich_schema())
    data = json.loads(text)
    assert data["format"] == FORMAT_TAG == "dbmedic.schema/1"
    assert (data["dialect"], data["server_version"], data["database"]) == (
        "mariadb",
        "10.11.6-MariaDB",
        "shop",
    )
    assert data["inspect_seconds"] == 0.125
    assert list(data) == sorted(data)
    assert list(data["tables"]) == ["posts", "users"]
    cols = data["tables"]["users"]["columns"]
    assert [c["name"] for c in cols] == ["id", "email", "name", "created_at"]
    assert [c["ordinal"] for c in cols] == [1, 2, 3, 4]


def test_columns_are_written_in_ordinal_order_and_keep_it() -> None:
    t = table("t", "a", "b", "c", pk=None)
    # the dict order disagrees with the ordinals: the snapshot follows the ordinals
    from dataclasses import replace

    shuffled = {
        "c": replace(t.columns["c"], ordinal=1),
        "a": replace(t.columns["a"], ordinal=3),
        "b": replace(t.columns["b"], ordinal=2),
    }
    s = schema(replace(t, columns=shuffled))
    data = json.loads(dump_snapshot(s))
    assert [c["name"] for c in data["tables"]["t"]["columns"]] == ["c", "b", "a"]
    back = parse_snapshot(dump_snapshot(s))
    assert back.tables["t"].column_order() == ("c", "b", "a")
    assert {c.name: c.ordinal for c in back.tables["t"].columns.values()} == {
        "c": 1,
        "b": 2,
        "a": 3,
    }


def test_round_trip_keeps_everything_including_provenance(tmp_path: Path) -> None:
    s = rich_schema()
    path = save_snapshot(s, tmp_path / "snap.json")
    back = load_snapshot(path)
    assert back == s
    assert (back.database, back.server_version, back.taken_at, back.inspect_seconds) == (
        "shop",
        "10.11.6-MariaDB",
        "2025-10-26T15:45:30Z",
        0.125,
    )
    assert dump_snapshot(back) == dump_snapshot(s)


def test_save_leaves_no_temporary_file_and_replaces_atomically(tmp_path: Path) -> None:
    target = tmp_path / "snap.json"
    target.write_text("old")
    save_snapshot(rich_schema(), target)
    assert [p.name for p in tmp_path.iterdir()] == ["snap.json"]
    assert load_snapshot(target) == rich_schema()


def test_save_to_a_device_writes_through(tmp_path: Path) -> None:
    save_snapshot(rich_schema(), "/dev/null")
    assert Path("/dev/null").exists() and not Path("/dev/null").is_file()


def test_save_into_missing_folder_is_one_sentence(tmp_path: Path) -> None:
    with pytest.raises(SnapshotError, match=r"cannot write snapshot .*nope/s\.json"):
        save_snapshot(rich_schema(), tmp_path / "nope" / "s.json")
    assert not (tmp_path / "nope").exists()


def _bad(tmp_path: Path, content: str | bytes) -> Path:
    path = tmp_path / "bad.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


@pytest.mark.parametrize(
    ("content", "sentence"),
    [
        ("", r"is empty"),
        ("hello, not json", r"is not JSON \(Expecting value at line 1, column 1\)"),
        (b"\xff\xfe\x00binary", r"is not JSON \(not UTF-8 text\)"),
        (
            '{"format": "dbmedic.schema/1", "dialect": "mariadb", "tables": {"a": {"colu',
            r"is truncated",
        ),
        ("[1, 2, 3]", r"the top level is not a JSON object"),
        ('{"format": "other/1"}', r"is not a dbmedic schema snapshot \(format is 'other/1'"),
        ("{}", r"is not a dbmedic schema snapshot \(format is None"),
        ('{"format": "dbmedic.schema/2", "dialect": "mariadb"}', r"format version 2, newer than"),
        ('{"format": "dbmedic.schema/1"}', r"the snapshot has no 'dialect'"),
        (
            '{"format": "dbmedic.schema/1", "dialect": "sqlite", "tables": {"t": {"columns": [{"name": "a"}]}}}',
            r"table 't' column #1 has no 'type'",
        ),
        (
            '{"format": "dbmedic.schema/1", "dialect": "sqlite", "tables": {"t": {"columns": [{"name": "a", "type": 5}]}}}',
            r"table 't' column #1 field 'type' is not of type string",
        ),
        (
            '{"format": "dbmedic.schema/1", "dialect": "sqlite", "tables": {"t": {}}}',
            r"table 't' has no 'columns'",
        ),
    ],
)
def test_bad_snapshots_are_one_sentence(
    tmp_path: Path, content: str | bytes, sentence: str
) -> None:
    path = _bad(tmp_path, content)
    with pytest.raises(SnapshotError, match=sentence) as info:
        load_snapshot(path)
    message = str(info.value)
    assert str(path) in message
    assert "\n" not in message and "Traceback" not in message


def test_real_truncation_of_a_snapshot_is_named(tmp_path: Path) -> None:
    text = dump_snapshot(rich_schema())
    for cut in (len(text) // 3, len(text) // 2, len(text) - 5):
        path = _bad(tmp_path, text[:cut])
        with pytest.raises(SnapshotError, match="is truncated"):
            load_snapshot(path)


def test_missing_snapshot(tmp_path: Path) -> None:
    with pytest.raises(SnapshotError, match=r"snapshot .*gone\.json does not exist"):
        load_snapshot(tmp_path / "gone.json")
    with pytest.raises(SnapshotError, match="does not exist"):
        load_source(str(tmp_path / "gone.json"))


def test_load_source_reads_snapshots_and_rejects_nonsense(tmp_path: Path) -> None:
    path = save_snapshot(rich_schema(), tmp_path / "prod.json")
    assert load_source(str(path)) == rich_schema()
    # a snapshot need not end in .json
    other = tmp_path / "prod.snapshot"
    other.write_text(path.read_text())
    assert load_source(other) == rich_schema()
    with pytest.raises(ConfigError, match="neither a database URL nor an existing snapshot"):
        load_source("no-such-thing")


def test_optional_fields_may_be_left_out() -> None:
    minimal = {
        "format": "dbmedic.schema/1",
        "dialect": "sqlite",
        "tables": {"t": {"columns": [{"name": "a", "type": "integer"}]}},
    }
    s = parse_snapshot(json.dumps(minimal))
    assert s.tables["t"].columns["a"].nullable is True
    assert s.tables["t"].columns["a"].ordinal == 1
    assert s.tables["t"].primary_key is None
    assert s.views == {} and s.triggers == {}


def test_snapshot_never_holds_a_url_or_password() -> None:
    s = rich_schema()
    text = dump_snapshot(s)
    assert "://" not in text
    assert "password" not in text.lower()


def test_older_minor_snapshot_from_same_major_loads() -> None:
    # version 1 snapshots without fields added later still load (defaults)
    data = json.loads(dump_snapshot(rich_schema()))
    for t in data["tables"].values():
        del t["extra"]
        for c in t["columns"]:
            del c["raw_type"]
    assert parse_snapshot(json.dumps(data)) == rich_schema()
