"""dbmedic._rows, the C renderer of the built-in MySQL dumper, writes byte for byte what the
server's own rendering writes, on every awkward value, and reports errors as the driver does.

The backups of tests/test_backup.py go through it wherever it is built (it is the default);
here the two renderers' texts are compared directly. Skipped, with the reason, where it was
not built (no libmariadb-dev when dbmedic was installed); .ci/run installs what it needs.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from dbmedic.backups import _source, mysql
from dbtest import DatabaseFactory, run_sql
from test_backup import MARIADB_SQL

MORE_SQL = r""";
CREATE TABLE escapes (id INT PRIMARY KEY, t TEXT NULL, l VARCHAR(20) CHARACTER SET latin1 NULL,
  b VARBINARY(8) NULL, f FLOAT NULL, e ENUM('x', 'y') NULL, st SET('p', 'q') NULL,
  tm TIME(3) NULL, yr YEAR NULL, bt BIT(3) NULL);
INSERT INTO escapes SELECT seq,
  CASE MOD(seq, 9) WHEN 0 THEN 'it''s' WHEN 1 THEN 'back\\slash' WHEN 2 THEN 'NULL'
    WHEN 3 THEN NULL WHEN 4 THEN CONCAT('a', CHAR(0), 'b') WHEN 5 THEN CHAR(26)
    WHEN 6 THEN '' WHEN 7 THEN 'new\nline\ttab' ELSE 'plain 😀' END,
  IF(MOD(seq, 4) = 0, NULL, 'déjà'), IF(MOD(seq, 5) = 0, NULL, UNHEX('27005C1A')),
  IF(MOD(seq, 6) = 0, NULL, seq / 7), IF(MOD(seq, 2) = 0, 'x', NULL), IF(MOD(seq, 3) = 0, 'p,q', ''),
  IF(MOD(seq, 8) = 0, NULL, '-838:59:59.5'), IF(MOD(seq, 10) = 0, NULL, 1901 + MOD(seq, 200)),
  IF(MOD(seq, 11) = 0, NULL, MOD(seq, 8))
FROM seq_1_to_2000"""


def _native() -> Any:
    pytest.importorskip("MySQLdb")
    rows = mysql.native_renderer()
    if rows is None:
        why = "dbmedic._rows is not built (pip install needs libmariadb-dev; .ci/run has it)"
        if os.environ.get("CI") == "true":  # its build is optional and silent: not in CI
            pytest.fail(why)
        pytest.skip(why)
    return rows


def _scan(
    url: str, monkeypatch: pytest.MonkeyPatch, native: Any, method: str
) -> dict[str, tuple[Any, bytes]]:
    """Every integer-keyed table scanned by ``method`` with ``native`` as the renderer (None:
    the server): its Part (rows, checksum) and the VALUES text written."""
    monkeypatch.setattr(mysql, "native_renderer", lambda: native)
    conn = mysql.connect(_source(url), unicode=False, fast=True)
    try:
        out = {}
        for name, info in sorted(mysql.table_infos(conn).items()):
            if not info.int_key:
                continue
            texts: list[bytes] = []
            sink = lambda t, n, into=texts: into.append(t)  # noqa: E731
            part = mysql.scan_part(conn, info, None, None, sink, method)
            out[name] = (part, b",\n".join(texts))
        return out
    finally:
        conn.close()


BINARY_27005C1A = {  # how each method writes the bytes 27 00 5C 1A
    "mysql-keys3q": b"_binary'\\'\\0\\\\\\Z'",
    "mysql-keys3": b"X'27005C1A'",  # backups made before mysql-keys3q
}


@pytest.mark.backend("mariadb")
@pytest.mark.parametrize("method", sorted(BINARY_27005C1A))
def test_the_c_renderer_writes_what_the_server_writes(
    db_factory: DatabaseFactory, monkeypatch: pytest.MonkeyPatch, method: str
) -> None:
    native = _native()
    url = db_factory.new()
    run_sql(url, MARIADB_SQL + MORE_SQL)
    monkeypatch.setattr(mysql, "CHUNK_BYTES", 4096)  # many chunks, each query sent ahead

    by_server = _scan(url, monkeypatch, None, method)
    by_c = _scan(url, monkeypatch, native, method)

    assert set(by_c) == {"awkward", "escapes"}
    for name in by_c:
        assert by_c[name][1] == by_server[name][1], name
        assert by_c[name][0] == by_server[name][0], name
    assert by_c["escapes"][0].rows == 2000
    text = by_c["escapes"][1]
    assert b"'it\\'s'" in text and b"'back\\\\slash'" in text and b"'a\\0b'" in text
    assert b"'\\Z'" in text and BINARY_27005C1A[method] in text and b"NULL" in text


@pytest.mark.backend("mariadb")
def test_the_c_renderer_raises_the_drivers_error_and_leaves_the_connection_usable(
    db_factory: DatabaseFactory,
) -> None:
    native = _native()
    url = db_factory.new()
    run_sql(
        url,
        "CREATE TABLE t (id INT PRIMARY KEY, v TEXT);\n"
        "INSERT INTO t SELECT seq, REPEAT('a', seq) FROM seq_1_to_100",
    )
    conn = mysql.connect(_source(url), unicode=False, fast=True)
    chunks: list[tuple[bytes, int]] = []

    def scan(sql: str, kinds: bytes, chunk_bytes: int = 1 << 20, sink: Any = None) -> Any:
        chunks.clear()
        conn.send_query(sql)
        sink = sink or (lambda text, rows: chunks.append((text, rows)))
        return native.scan(conn._get_native_connection(), kinds, conn.OperationalError,
                           chunk_bytes, sink)  # fmt: skip

    def stop(text: bytes, rows: int) -> None:
        raise OSError("disk full")

    try:
        with pytest.raises(conn.OperationalError, match="missing"):
            scan("SELECT id FROM missing", b"n")
        with pytest.raises(ValueError, match="2 columns in the result, 1 kinds given"):
            scan("SELECT id, v FROM t", b"n")
        assert scan("SELECT id, v FROM t WHERE id > 500", b"nt") == 0 and chunks == []
        assert scan("SELECT id, v FROM t WHERE id = 1", b"nt") == 1
        assert chunks == [(b"(1,'a')", 1)]
        # a chunk ends after the row that reaches chunk_bytes; the rows of all chunks join
        assert scan("SELECT id, v FROM t ORDER BY id", b"nt", chunk_bytes=1000) == 100
        assert [len(text) >= 1000 for text, _ in chunks[:-1]] == [True] * (len(chunks) - 1)
        assert sum(rows for _, rows in chunks) == 100 and len(chunks) > 3
        expected = ",\n".join(f"({i},'{'a' * i}')" for i in range(1, 101)).encode()
        assert b",\n".join(text for text, _ in chunks) == expected
        # the sink's error stops the scan; the rest of the rows are read and dropped
        with pytest.raises(OSError, match="disk full"):
            scan("SELECT id, v FROM t ORDER BY id", b"nt", chunk_bytes=10, sink=stop)
        assert scan("SELECT COUNT(*) FROM t", b"n") == 1 and chunks == [(b"(100)", 1)]
    finally:
        conn.close()
