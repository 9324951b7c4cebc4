"""Backups round-trip every awkward value, and a damaged backup is never restored."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from dbmedic.backups import backup, list_backups, prune_backups, restore, verify_backup
from dbmedic.cli import app
from dbmedic.errors import BackupError
from dbtest import DatabaseFactory, run_sql

MARIADB_SQL = """
SET SESSION sql_mode = 'NO_ENGINE_SUBSTITUTION';
CREATE TABLE awkward (
  id BIGINT PRIMARY KEY, s VARCHAR(60) NULL, b VARBINARY(20) NULL, bl BLOB NULL,
  j JSON NULL, d DECIMAL(65,30) NULL, big BIGINT NULL, ubig BIGINT UNSIGNED NULL,
  zd DATE NULL, zdt DATETIME NULL, ts TIMESTAMP NULL, f DOUBLE NULL, bits BIT(8) NULL,
  l1 VARCHAR(20) CHARACTER SET latin1 NULL,
  g BIGINT AS (id * 2) VIRTUAL, gs VARCHAR(70) AS (CONCAT(s, '!')) STORED
);
INSERT INTO awkward (id, s, b, bl, j, d, big, ubig, zd, zdt, ts, f, bits, l1) VALUES
 (1, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
 (2, '', x'', x'', '{}', 0, 0, 0, '0000-00-00', '0000-00-00 00:00:00', '2024-03-31 01:30:00', 0, b'0', ''),
 (3, 'emoji 😀🎉 ü 中', x'00ff00', x'000102fffe00', '{"a": [1, "😀", null], "b": 1.5}',
  12345678901234567890123456789012345.123456789012345678901234567890,
  -9223372036854775808, 18446744073709551615, '2024-02-29', '2024-02-29 23:59:59', '2038-01-19 03:14:07',
  0.1, b'11111111', 'déjà vu'),
 (4, 'quote '' back\\\\ slash ; \\n ),\\n( end', x'5c00', x'27', '"x"',
  -0.000000000000000000000000000001, 9223372036854775807, 1, '1000-01-01', '9999-12-31 23:59:59', NULL,
  -1.7976931348623157e308, b'1', 'naïve');
CREATE TABLE nopk (a TEXT, n INT);
INSERT INTO nopk VALUES ('dup', 1), ('dup', 1), (NULL, NULL), ('', 0);
CREATE TABLE strpk (k VARCHAR(10) PRIMARY KEY, v INT);
INSERT INTO strpk VALUES ('a', 1), ('B', NULL);
CREATE VIEW v_awkward AS SELECT id, s FROM awkward;
CREATE TRIGGER strpk_default BEFORE INSERT ON strpk FOR EACH ROW SET NEW.v = COALESCE(NEW.v, 0)
"""
MARIADB_CHECKS = {
    "awkward": "SELECT id, s, HEX(b), HEX(bl), j, CAST(d AS CHAR), big, ubig, CAST(zd AS CHAR), "
    "CAST(zdt AS CHAR), CAST(ts AS CHAR), f, bits + 0, l1, g, gs FROM awkward ORDER BY id",
    "nopk": "SELECT a, n FROM nopk ORDER BY a, n",
    "strpk": "SELECT k, v FROM strpk ORDER BY k",
    "v_awkward": "SELECT id, s FROM v_awkward ORDER BY id",
}
POSTGRES_SQL = """
CREATE TABLE awkward (
  id BIGINT PRIMARY KEY, s TEXT NULL, b BYTEA NULL, j JSONB NULL, js JSON NULL,
  d NUMERIC(65,30) NULL, big BIGINT NULL, f DOUBLE PRECISION NULL, ts TIMESTAMPTZ NULL,
  arr TEXT[] NULL, g BIGINT GENERATED ALWAYS AS (id * 2) STORED
);
INSERT INTO awkward (id, s, b, j, js, d, big, f, ts, arr) VALUES
 (1, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
 (2, '', '\\x', '{}', '{ }', 0, 0, 0, 'infinity', '{}'),
 (3, 'emoji 😀🎉 ü 中 '' \\ ;', '\\x00ff00', '{"a": [1, "😀", null]}', '{"k": 1, "k": 2}',
  12345678901234567890123456789012345.123456789012345678901234567890,
  -9223372036854775808, 0.1, '2024-02-29 23:59:59+02', ARRAY['a', NULL, '']),
 (4, E'tab\\tnew\\nline', '\\x5c00', '"x"', 'null', -0.000000000000000000000000000001,
  9223372036854775807, 'NaN', NULL, NULL);
CREATE TABLE nopk (a TEXT, n INT);
INSERT INTO nopk VALUES ('dup', 1), ('dup', 1), (NULL, NULL), ('', 0);
CREATE TABLE ident (id INT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v TEXT);
INSERT INTO ident (v) VALUES ('one'), ('two');
CREATE VIEW v_awkward AS SELECT id, s FROM awkward
"""
POSTGRES_CHECKS = {
    "awkward": "SELECT id, s, encode(b, 'hex'), j::text, js::text, d::text, big, f::text, "
    "ts::text, arr::text, g FROM awkward ORDER BY id",
    "nopk": "SELECT a, n FROM nopk ORDER BY a, n",
    "ident": "SELECT id, v FROM ident ORDER BY id",
    "v_awkward": "SELECT id, s FROM v_awkward ORDER BY id",
}
SQLITE_SQL = """
CREATE TABLE awkward (id INTEGER PRIMARY KEY, s TEXT, b BLOB, big INTEGER, f REAL, j TEXT,
  g INTEGER GENERATED ALWAYS AS (id * 2) VIRTUAL);
INSERT INTO awkward (id, s, b, big, f, j) VALUES
 (1, NULL, NULL, NULL, NULL, NULL),
 (2, '', x'', 0, 0.0, '{}'),
 (3, 'emoji 😀🎉 ü 中 '' ;', x'00ff00', -9223372036854775808, 0.1, '{"a": "😀"}'),
 (4, 'x', x'5c00', 9223372036854775807, -1.5e308, 'null');
CREATE TABLE nopk (a TEXT, n INT);
INSERT INTO nopk VALUES ('dup', 1), ('dup', 1), (NULL, NULL), ('', 0);
CREATE VIEW v_awkward AS SELECT id, s FROM awkward
"""
SQLITE_CHECKS = {
    "awkward": "SELECT id, s, hex(b), typeof(b), big, f, j, g FROM awkward ORDER BY id",
    "nopk": "SELECT a, n FROM nopk ORDER BY a, n",
    "v_awkward": "SELECT id, s FROM v_awkward ORDER BY id",
}
CASES = {
    "mariadb": (MARIADB_SQL, MARIADB_CHECKS),
    "postgresql": (POSTGRES_SQL, POSTGRES_CHECKS),
    "sqlite": (SQLITE_SQL, SQLITE_CHECKS),
}


def snapshot(url: str, checks: dict[str, str]) -> dict[str, list[tuple[Any, ...]]]:
    engine = create_engine(url)
    with engine.connect() as conn:
        if engine.dialect.name == "mysql":
            conn.exec_driver_sql("SET time_zone = '+00:00'")
        out = {name: [tuple(r) for r in conn.exec_driver_sql(sql)] for name, sql in checks.items()}
    engine.dispose()
    return out


def new_name_url(factory: DatabaseFactory) -> str:
    """URL of a database that does not exist yet (dropped at teardown)."""
    if factory.backend == "sqlite":
        return f"sqlite:///{factory.tmp_path / f'new_{uuid.uuid4().hex[:8]}.db'}"
    name = f"dbm_rs_{uuid.uuid4().hex[:10]}"
    factory.created.append(name)
    from dbtest import ADMIN_URLS

    return make_url(ADMIN_URLS[factory.backend]).set(database=name).render_as_string(False)


def round_trip(backend: str, db_factory: DatabaseFactory, tmp_path: Path, tool: str) -> Any:
    """Back up the awkward database with ``tool``, restore it under a new name, compare rows."""
    setup, checks = CASES[backend]
    source = db_factory.new()
    run_sql(source, setup)
    before = snapshot(source, checks)
    seen: list[Any] = []
    made = backup(source, tmp_path / "bk", tool=tool, progress=seen.append)
    assert made.path.is_dir() and not made.path.name.endswith(".partial")
    assert {t.name for t in made.manifest.tables} >= {"awkward", "nopk"}
    assert seen and seen[-1].rows == made.manifest.rows
    target = new_name_url(db_factory)
    result = restore(made.path, target, create=True)
    assert result.rows == made.manifest.rows
    after = snapshot(target, checks)
    assert after == before
    rows = after["awkward"]
    assert rows[0][1] is None and rows[1][1] == ""  # NULL stays NULL, '' stays ''
    return made, target


@pytest.mark.backend("mariadb", "postgresql")
@pytest.mark.parametrize("tool", ["builtin", "external"])
def test_round_trip_keeps_every_awkward_value(
    backend: str, db_factory: DatabaseFactory, tmp_path: Path, tool: str
) -> None:
    made, _target = round_trip(backend, db_factory, tmp_path, tool)
    assert made.manifest.method.endswith("-builtin") == (tool == "builtin")


@pytest.mark.backend("sqlite")
def test_sqlite_round_trip_keeps_every_awkward_value(
    backend: str, db_factory: DatabaseFactory, tmp_path: Path
) -> None:
    made, _target = round_trip(backend, db_factory, tmp_path, "auto")
    assert made.manifest.method == "sqlite-backup"


@pytest.mark.backend("mariadb")
def test_zero_dates_and_generated_columns_survive(
    db_factory: DatabaseFactory, tmp_path: Path
) -> None:
    source = db_factory.new()
    run_sql(source, MARIADB_SQL)
    made = backup(source, tmp_path / "bk", tool="builtin")
    target = new_name_url(db_factory)
    restore(made.path, target, create=True)
    rows = snapshot(target, MARIADB_CHECKS)["awkward"]
    assert rows[1][8] == "0000-00-00" and rows[1][9] == "0000-00-00 00:00:00"
    assert rows[2][14] == 6 and rows[2][15] == "emoji 😀🎉 ü 中!"
    assert rows[2][5] == "12345678901234567890123456789012345.123456789012345678901234567890"
    assert rows[2][7] == 18446744073709551615


def flat(output: str) -> str:
    """CLI output with Rich's line wrapping undone."""
    return " ".join(output.split())


def _flip_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def _largest(made_path: Path) -> Path:
    files = [p for p in made_path.rglob("*") if p.is_file() and p.name != "manifest.json"]
    return max(files, key=lambda p: p.stat().st_size)


@pytest.mark.parametrize("damage", ["flip", "truncate"])
def test_damaged_backup_is_refused_and_target_untouched(
    backend: str, db_factory: DatabaseFactory, tmp_path: Path, damage: str
) -> None:
    setup, _checks = CASES[backend]
    source = db_factory.new()
    run_sql(source, setup)
    made = backup(source, tmp_path / "bk")
    victim = _largest(made.path)
    if damage == "flip":
        _flip_byte(victim)
    else:
        victim.write_bytes(victim.read_bytes()[: victim.stat().st_size // 2])
    check = verify_backup(made.path)
    assert not check.ok
    target = db_factory.new()
    result = CliRunner().invoke(app, ["restore", str(made.path), "--db", target])
    assert result.exit_code == 2
    message = flat(result.output)
    assert "cannot be restored" in message and ("corrupt" in message or "truncated" in message)
    assert "Traceback" not in message
    from dbmedic.backups import _source
    from dbmedic.backups.families import get_family

    assert (
        get_family(backend if backend != "mariadb" else "mysql").table_names(_source(target)) == []
    )


@pytest.mark.backend("sqlite", "mariadb")
def test_bad_input_is_one_sentence_and_exit_2(
    backend: str, db_factory: DatabaseFactory, tmp_path: Path
) -> None:
    setup, checks = CASES[backend]
    source = db_factory.new()
    run_sql(source, setup)
    runner = CliRunner()
    missing = runner.invoke(app, ["backup", source, "--dir", str(tmp_path / "no" / "such")])
    assert missing.exit_code == 2 and "does not exist" in flat(missing.output)
    made = runner.invoke(app, ["backup", source, "--dir", str(tmp_path / "bk"), "--json"])
    assert made.exit_code == 0, made.output
    path = json.loads(made.output)["path"]
    # the target already has tables: refused without --force, nothing changed
    busy = runner.invoke(app, ["restore", path, "--db", source])
    assert busy.exit_code == 2 and "already has" in flat(busy.output)
    forced = runner.invoke(app, ["restore", path, "--db", source, "--force", "--json"])
    assert forced.exit_code == 0, forced.output
    assert json.loads(forced.output)["verified"] is True
    assert snapshot(source, checks)["nopk"] == [(None, None), ("", 0), ("dup", 1), ("dup", 1)]


@pytest.mark.backend("mariadb")
def test_backup_of_another_family_is_refused(db_factory: DatabaseFactory, tmp_path: Path) -> None:
    sqlite_file = tmp_path / "other.db"
    run_sql(f"sqlite:///{sqlite_file}", SQLITE_SQL)
    made = backup(f"sqlite:///{sqlite_file}", tmp_path / "bk")
    target = db_factory.new()
    with pytest.raises(BackupError, match="is of a sqlite database"):
        restore(made.path, target)


def test_list_and_prune_keep_the_newest(tmp_path: Path) -> None:
    db = tmp_path / "app.db"
    run_sql(f"sqlite:///{db}", SQLITE_SQL)
    made = [backup(f"sqlite:///{db}", tmp_path / "bk") for _ in range(3)]
    (tmp_path / "bk" / "app.db-20000101T000000Z.partial").mkdir()
    assert [b.path for b in list_backups(tmp_path / "bk")] == [m.path for m in made]
    runner = CliRunner()
    listed = runner.invoke(app, ["backups", "list", "--dir", str(tmp_path / "bk"), "--json"])
    assert listed.exit_code == 0 and len(json.loads(listed.output)) == 3
    pruned = runner.invoke(
        app, ["backups", "prune", "--keep", "1", "--dir", str(tmp_path / "bk"), "--json"]
    )
    assert pruned.exit_code == 0
    assert sorted(json.loads(pruned.output)["removed"]) == sorted(str(m.path) for m in made[:2])
    assert [b.path for b in list_backups(tmp_path / "bk")] == [made[2].path]
    with pytest.raises(Exception, match="at least 1"):
        prune_backups(tmp_path / "bk", 0)


@pytest.mark.backend("mariadb", "postgresql")
def test_unreachable_database_reads_like_every_dbmedic_command(
    backend: str, db_url: str, tmp_path: Path
) -> None:
    wrong = make_url(db_url).set(username="dbm_nobody", password="Wr0ng-secret")
    url = wrong.render_as_string(hide_password=False)
    result = CliRunner().invoke(app, ["backup", url, "--dir", str(tmp_path)])
    message = flat(result.output)
    assert result.exit_code == 2, message
    assert message.startswith("dbmedic: cannot connect to ")
    assert "dbm_nobody:***@" in message and "Wr0ng-secret" not in message
    assert list(tmp_path.iterdir()) == []


def test_dbmedic_backup_is_the_function_and_backups_the_package() -> None:
    import dbmedic
    import dbmedic.backups
    from dbmedic import api

    assert dbmedic.backup is api.backup and callable(dbmedic.backup)
    assert dbmedic.backups.backup is backup


@pytest.mark.backend("mariadb")
def test_backup_command_loads_only_the_drivers(db_factory: DatabaseFactory, tmp_path: Path) -> None:
    """Start-up: a MySQL backup imports neither SQLAlchemy (~0.2 s) nor Rich, and with
    mysqlclient installed not PyMySQL either (its TLS context costs every connect ~25 ms)."""
    url = db_factory.new()
    run_sql(
        url, "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(9));\nINSERT INTO t VALUES (1, 'a')"
    )
    code = (
        "import sys, json; from dbmedic.cli import main\n"
        "try:\n    main(['backup', sys.argv[1], '--dir', sys.argv[2]])\n"
        "except SystemExit:\n    pass\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})), file=sys.stderr)"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent / "src")}
    proc = subprocess.run(
        [sys.executable, "-c", code, url, str(tmp_path)],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("backed up ") and len(list_backups(tmp_path)) == 1
    loaded = set(json.loads(proc.stderr.strip().splitlines()[-1]))
    assert not loaded & {"sqlalchemy", "rich"}
    if "MySQLdb" in loaded:
        assert "pymysql" not in loaded


@pytest.mark.backend("postgresql")
def test_postgres_builtin_without_pg_dump_renders_the_schema_itself(
    db_factory: DatabaseFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where pg_dump is not installed, the schema comes from the dialect's inspect + render."""
    from dbmedic.backups import tools

    real = tools._which
    monkeypatch.setattr(
        tools, "_which", lambda *names: None if "pg_dump" in names else real(*names)
    )
    source = db_factory.new()
    run_sql(
        source,
        POSTGRES_SQL
        + """;
CREATE TABLE child (id SERIAL PRIMARY KEY, awkward_id BIGINT REFERENCES awkward (id), note TEXT);
CREATE INDEX child_note ON child (note);
INSERT INTO child (awkward_id, note) VALUES (3, 'a'), (NULL, NULL), (4, '')""",
    )
    checks = {**POSTGRES_CHECKS, "child": "SELECT id, awkward_id, note FROM child ORDER BY id"}
    before = snapshot(source, checks)
    made = backup(source, tmp_path / "bk", tool="builtin")
    schema_file = next(made.path.glob("schema.json*"))
    from dbmedic.backups.streams import open_reader

    with open_reader(schema_file) as f:
        assert "dialect" in json.loads(f.read())["source"]
    target = new_name_url(db_factory)
    restore(made.path, target, create=True)
    assert snapshot(target, checks) == before
    engine = create_engine(target)
    with engine.connect() as conn:  # the sequence and the foreign key came back
        added = conn.exec_driver_sql("INSERT INTO child (note) VALUES ('n') RETURNING id")
        assert added.scalar() == 4
        with pytest.raises(Exception, match="foreign key"):
            conn.exec_driver_sql("INSERT INTO child (awkward_id) VALUES (99)")
    engine.dispose()


@pytest.mark.backend("mariadb")
@pytest.mark.parametrize("dumped_by", ["pymysql", "mysqlclient"])
def test_mysql_drivers_write_and_check_the_same_bytes(
    db_factory: DatabaseFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dumped_by: str
) -> None:
    """The dump reads rows with one driver and the restore's checksums with the other: same
    bytes, same sums."""
    pytest.importorskip("MySQLdb")
    from dbmedic.backups import mysql, mysqlc

    real = mysqlc.driver
    monkeypatch.setattr(mysql, "CHUNK_BYTES", 4096)  # many chunks: boundaries must not matter

    def use(name: str) -> None:
        monkeypatch.setattr(mysqlc, "driver", real if name == "mysqlclient" else lambda: None)

    source = db_factory.new()
    run_sql(
        source,
        MARIADB_SQL
        + """;
CREATE TABLE many (id INT PRIMARY KEY, v VARCHAR(50));
INSERT INTO many SELECT seq, IF(MOD(seq, 7) = 0, NULL, CONCAT('value ', seq, ' ü')) FROM seq_1_to_5000""",
    )
    checks = {**MARIADB_CHECKS, "many": "SELECT id, v FROM many ORDER BY id"}
    before = snapshot(source, checks)
    use(dumped_by)
    made = backup(source, tmp_path / "bk", tool="builtin")
    use("pymysql" if dumped_by == "mysqlclient" else "mysqlclient")
    assert restored_rows(made, db_factory, checks) == before


def restored_rows(made: Any, db_factory: DatabaseFactory, checks: dict[str, str]) -> Any:
    """Restore ``made`` into a new database (which raises when a checksum differs) and read
    ``checks`` there."""
    target = new_name_url(db_factory)
    restore(made.path, target, create=True)
    return snapshot(target, checks)


@pytest.mark.backend("mariadb")
@pytest.mark.parametrize("method", ["mysql-keys3q", "mysql-keys3"])
@pytest.mark.parametrize("made_by", ["server", "dbmedic._rows"])
def test_mysql_keys_checksum_does_not_depend_on_chunks_escaping_or_renderer(
    db_factory: DatabaseFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    made_by: str,
    method: str,
) -> None:
    """``mysql-keys`` rows are rendered by the server (most chunks without QUOTE, escaped only
    where needed) or, where it was built, by dbmedic._rows in C from plain values: a backup
    made one way restores and is verified by a check that cut the rows into other chunks and
    rendered them the other way, the server escaping every chunk. The same for backups made
    before ``mysql-keys3q`` (binary strings in hex, checked without QUOTE too)."""
    pytest.importorskip("MySQLdb")
    from dbmedic.backups import mysql

    native = mysql.native_renderer()
    if made_by != "server" and native is None:
        pytest.skip("dbmedic._rows is not built (pip install needs libmariadb-dev; .ci/run has it)")

    def render(by: str) -> None:
        monkeypatch.setattr(mysql, "native_renderer", lambda: None if by == "server" else native)

    source = db_factory.new()
    run_sql(
        source,
        MARIADB_SQL
        + r""";
CREATE TABLE mixed (id BIGINT PRIMARY KEY, s VARCHAR(60) COLLATE utf8mb4_bin NOT NULL,
  t TEXT NULL, l VARCHAR(20) CHARACTER SET latin1 NULL, n INT NULL);
INSERT INTO mixed SELECT seq, CONCAT('row ', seq, ' ü😀'),
  CASE MOD(seq, 97) WHEN 0 THEN 'it''s' WHEN 1 THEN 'back\\slash' WHEN 2 THEN 'NULL'
    WHEN 3 THEN NULL WHEN 4 THEN CHAR(0) WHEN 5 THEN CHAR(26) ELSE 'plain' END,
  IF(MOD(seq, 5) = 0, NULL, 'é'), IF(MOD(seq, 3) = 0, NULL, seq)
FROM seq_1_to_3000;
CREATE TABLE bins (id INT PRIMARY KEY, t VARCHAR(10) NOT NULL, b VARBINARY(8) NULL,
  k BINARY(4) NOT NULL, p POINT NULL);
INSERT INTO bins SELECT seq, IF(MOD(seq, 11) = 0, 'it''s', 'plain'),
  IF(MOD(seq, 7) = 0, NULL, UNHEX('27005C')), IF(MOD(seq, 13) = 0, UNHEX('1A'), 'abcd'),
  IF(MOD(seq, 5) = 0, NULL, ST_GeomFromText(CONCAT('POINT(', seq, ' 39)'), 4326))
FROM seq_1_to_3000""",
    )
    checks = {
        **MARIADB_CHECKS,
        "mixed": "SELECT * FROM mixed ORDER BY id",
        "bins": "SELECT id, t, HEX(b), HEX(k), ST_AsText(p), ST_SRID(p) FROM bins ORDER BY id",
    }
    before = snapshot(source, checks)
    monkeypatch.setattr(mysql, "CHUNK_BYTES", 2048)
    render(made_by)
    monkeypatch.setattr(
        mysql, "scan_method", lambda conn, info: method if info.int_key else "mysql-sum3"
    )
    made = backup(source, tmp_path / "bk", tool="builtin")
    methods = {t.name: t.method for t in made.manifest.tables}
    assert methods["awkward"] == methods["mixed"] == methods["bins"] == method
    monkeypatch.setattr(mysql, "CHUNK_BYTES", 1 << 20)
    monkeypatch.setattr(mysql, "_needs_escape", lambda text, rows, quoted: True)
    render("dbmedic._rows" if made_by == "server" and native is not None else "server")
    assert restored_rows(made, db_factory, checks) == before


@pytest.mark.backend("mariadb")
@pytest.mark.parametrize("checked_by", ["pymysql", "mysqlclient"])
@pytest.mark.parametrize("old", ["mysql-seq", "mysql-keys", "mysql-keys3"])
def test_backup_made_with_an_older_checksum_still_restores(
    db_factory: DatabaseFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    checked_by: str,
    old: str,
) -> None:
    """Backups made before the xxh3 methods name ``mysql-seq`` (every string through QUOTE,
    binary as ``_binary'...'``; sha256) or ``mysql-keys`` (sha256) for tables with an integer
    key and ``mysql-sum`` (md5 per row) for the others; those made before ``mysql-keys3q`` name
    ``mysql-keys3`` (binary strings in hex; xxh3) and ``mysql-sum3``: they restore and are
    verified that way."""
    pytest.importorskip("MySQLdb")
    from dbmedic.backups import mysql, mysqlc

    setup, checks = CASES["mariadb"]
    source = db_factory.new()
    run_sql(source, setup)
    before = snapshot(source, checks)
    new_method = mysql.scan_method
    other, lengths = ("mysql-sum3", {32, 16}) if old.endswith("3") else ("mysql-sum", {64, 16})
    monkeypatch.setattr(mysql, "scan_method", lambda conn, info: old if info.int_key else other)
    made = backup(source, tmp_path / "bk", tool="builtin")
    assert {t.method for t in made.manifest.tables} == {old, other}
    digests = {len(p.digest) for t in made.manifest.tables for p in t.parts}
    assert digests == lengths  # sha256 or xxh3_128, and md5's or xxh3's first 64 bits
    if old in mysql.HEX_KEYS:  # binary strings in hex, as those versions wrote them
        assert b"X'00FF00'" in _data_text(made) and b"_binary" not in _data_text(made)
    monkeypatch.setattr(mysql, "scan_method", new_method)
    if checked_by == "pymysql":
        monkeypatch.setattr(mysqlc, "driver", lambda: None)
    assert restored_rows(made, db_factory, checks) == before


@pytest.mark.backend("sqlite")
def test_sqlite_backup_made_with_md5_row_sums_still_restores(
    db_factory: DatabaseFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite backups made before ``sqlite-rows3`` name ``sqlite-rows`` (md5 per row)."""
    from dbmedic.backups import sqlite

    setup, checks = CASES["sqlite"]
    source = db_factory.new()
    run_sql(source, setup)
    before = snapshot(source, checks)
    monkeypatch.setattr(sqlite, "METHOD", "sqlite-rows")
    made = backup(source, tmp_path / "bk")
    assert {t.method for t in made.manifest.tables} == {"sqlite-rows"}
    monkeypatch.undo()
    target = new_name_url(db_factory)
    restore(made.path, target, create=True)
    assert snapshot(target, checks) == before
    new = backup(target, tmp_path / "bk2")
    assert {t.method for t in new.manifest.tables} == {"sqlite-rows3"}
    old_sums = {t.name: t.checksum for t in made.manifest.tables}
    assert all(old_sums[t.name] != t.checksum for t in new.manifest.tables if t.rows)


CHANGES = {  # one value of a restored table changed, the row count kept
    ("mariadb", "awkward"): "UPDATE awkward SET s = 'emoji 😀🎉 u 中' WHERE id = 3",
    ("mariadb", "nopk"): "UPDATE nopk SET n = 2 WHERE a = ''",
    ("sqlite", "awkward"): "UPDATE awkward SET s = 'y' WHERE id = 4",
    ("sqlite", "nopk"): "UPDATE nopk SET n = 2 WHERE a = ''",
}


@pytest.mark.backend("sqlite", "mariadb")
@pytest.mark.parametrize("table", ["awkward", "nopk"])
def test_verification_sees_one_value_changed_after_loading(
    backend: str,
    db_factory: DatabaseFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    table: str,
) -> None:
    """The xxh3 checksums of new backups (ordered ``mysql-keys3q``, per-row sums ``mysql-sum3``
    and ``sqlite-rows3``) catch one character changed between loading and checking."""
    from dbmedic.backups import _source
    from dbmedic.backups.families import get_family

    setup, _checks = CASES[backend]
    source = db_factory.new()
    run_sql(source, setup)
    made = backup(source, tmp_path / "bk")
    methods = {t.name: t.method for t in made.manifest.tables}
    expected = {"sqlite": "sqlite-rows3", "mariadb": "mysql-sum3"}[backend]
    if (backend, table) == ("mariadb", "awkward"):
        expected = "mysql-keys3q" if _mysqlclient() else "mysql-seq3"
    assert methods[table] == expected
    target = new_name_url(db_factory)
    family = get_family("mysql" if backend == "mariadb" else backend)
    kind = type(family.method_named(made.manifest.method))
    load = kind.restore

    def load_then_change(self: Any, job: Any) -> None:
        load(self, job)
        run_sql(target, CHANGES[backend, table])

    monkeypatch.setattr(kind, "restore", load_then_change)
    with pytest.raises(BackupError, match=f"content of table {table} differs from the backup"):
        restore(made.path, target, create=True)
    monkeypatch.undo()
    assert family.table_names(_source(target))  # it was loaded, then refused by the check


def _data_text(made: Any) -> bytes:
    """The SQL of every data file of a backup."""
    from dbmedic.backups.streams import open_reader

    out = b""
    for path in sorted((made.path / "data").iterdir()):
        with open_reader(path) as f:
            out += f.read()
    return out


def _mysqlclient() -> bool:
    from dbmedic.backups import mysqlc

    return mysqlc.driver() is not None


def test_zstd_writer_frames_read_back_as_one_stream(tmp_path: Path) -> None:
    """Data files are zstd frames of about FRAME_BYTES each (compressed in one call), a larger
    write one frame of its own; the reader and the zstd tool read across them, and an empty file
    is still a valid (empty) frame."""
    import zstandard

    from dbmedic.backups.streams import FRAME_BYTES, Writer, open_reader, statements

    bodies = [bytes([65 + i]) * (FRAME_BYTES // 3 + i) for i in range(7)]
    bodies[2:2] = [b"(1,'x')," * (FRAME_BYTES // 8 + 1), b"(2)"]
    writer = Writer(tmp_path, "data", "zstd")
    for body in bodies:
        writer.statement(b"INSERT INTO t VALUES\n", body)
    entry = writer.close()
    path = tmp_path / entry.path
    assert list(statements(path)) == [b"INSERT INTO t VALUES\n" + b for b in bodies]
    raw = path.read_bytes()
    frames = 0
    while raw:  # one frame at a time: decompressobj stops at the end of a frame
        frame = zstandard.ZstdDecompressor().decompressobj()
        assert frame.decompress(raw)
        raw = frame.unused_data
        frames += 1
    assert frames >= 2
    empty = Writer(tmp_path, "empty", "zstd").close()
    with open_reader(tmp_path / empty.path) as f:
        assert f.read() == b""
    assert zstandard.frame_content_size((tmp_path / empty.path).read_bytes()) == 0
