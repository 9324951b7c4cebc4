"""MySQL / MariaDB: server facts, table scans and checksums shared by every dump method.

Rows are formatted as SQL literals by the server itself (``QUOTE``, ``HEX``, ``CONCAT``) and
fetched a chunk at a time with ``GROUP_CONCAT``: one string per ~2 MiB of rows, so Python never
touches single values and memory stays flat. The same scan computes the content checksum, both at
backup time and after a restore, over the same primary-key slices (``Part``) recorded in the
manifest:

* ``mysql-keys3q``: tables with a single integer primary key, read with mysqlclient; xxh3_128 of
  the row literals of :meth:`TableInfo.keyset_expr` in key order (see :func:`_scan_keys`):
  streamed one query per slice and rendered from plain values by :mod:`dbmedic._rows` in C
  where that was built, else rendered by the server a chunk query at a time (the same bytes;
  the first is as fast as mydumper, bench/RESULTS.md).
* ``mysql-seq3``: the same tables read with PyMySQL; xxh3_128 of the row literals of
  :meth:`TableInfo.row_expr` in key order.
* ``mysql-sum3``: any other table; the sum of the 64-bit xxh3 of every row literal,
  order-independent.

Backups made before the "3" methods name ``mysql-keys``, ``mysql-seq`` (sha256 of the same text)
and ``mysql-sum`` (the sum of the first 64 bits of each row's md5); those made before
``mysql-keys3q`` name ``mysql-keys3`` (binary strings in hex, see :data:`HEX_KEYS`). A manifest records the method
of each table, so a backup is always checked the way it was made. The content checksum guards
against a restore that lost or changed data, not against forgery (the files' sha256 in the
manifest does that), so a non-cryptographic 128-bit hash is enough: xxh3 hashes ~10 GB/s where
sha256 does ~1.4 GB/s, and md5 per row costs ~1 us where xxh3 takes ~0.2 us (bench/RESULTS.md).
"""

from __future__ import annotations

import functools
import hashlib
import operator
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import xxhash

from dbmedic.backups import families, mysqlc
from dbmedic.backups.families import Facts, Family, Source, connect_error, register_family
from dbmedic.backups.manifest import Part, TableEntry, combine, md5_64, unknown_method
from dbmedic.backups.workers import Stopped
from dbmedic.dialects.mysql import cdriver
from dbmedic.errors import BackupError

CHUNK_BYTES = 2 << 20
"""Target size of one fetched chunk, which is also one INSERT statement of the dump."""
PART_BYTES = 48 << 20
"""Target size of one part: the unit of parallel work and of one data file."""

_BINARY = {
    "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob", "geometry", "point",
    "linestring", "polygon", "multipoint", "multilinestring", "multipolygon",
    "geometrycollection",
}  # fmt: skip
_NUMERIC = {
    "tinyint", "smallint", "mediumint", "int", "integer", "bigint", "decimal", "numeric",
    "float", "double", "real",
}  # fmt: skip
_INTEGER = {"tinyint", "smallint", "mediumint", "int", "integer", "bigint"}
SESSION = (
    "SET SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO', time_zone = '+00:00', "
    "group_concat_max_len = @@max_allowed_packet, foreign_key_checks = 0, unique_checks = 0"
)
"""Session of every dbmedic connection: permissive sql_mode (zero dates), UTC timestamps."""


def quote(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def connect(
    source: Source, *, database: bool = True, unicode: bool = True, fast: bool = False
) -> Any:
    """A connection in dbmedic's session; raises ConnectError in one sentence.

    PyMySQL, or with ``fast`` (data scans, values as bytes) mysqlclient where installed.
    """
    kwargs = source.connect_kwargs()
    kwargs.setdefault("connect_timeout", 10)
    if not database:
        kwargs.pop("database", None)
    if fast and not unicode:
        try:
            conn = mysqlc.connect(kwargs)
            if conn is not None:
                conn.query(SESSION)
                return conn
        except mysqlc.errors() as e:
            if not cdriver.retry_with_pymysql(e):
                raise connect_error(source, e) from e
    import pymysql  # only now: importing it costs ~50 ms that a mysqlclient dump need not pay

    kwargs.update(charset="utf8mb4", use_unicode=unicode, autocommit=True)
    if not unicode:  # values arrive as bytes; decimals still become Decimal
        from decimal import Decimal

        from pymysql.constants import FIELD_TYPE
        from pymysql.converters import conversions

        conv = dict(conversions)
        for kind in (FIELD_TYPE.DECIMAL, FIELD_TYPE.NEWDECIMAL):
            conv[kind] = lambda b: Decimal(b.decode() if isinstance(b, bytes) else b)
        kwargs["conv"] = conv
    try:
        conn = pymysql.connect(**kwargs)
        conn.query(SESSION)
    except pymysql.MySQLError as e:
        raise connect_error(source, e) from e
    return conn


STALL_SECONDS = 3600
"""How long the server waits for a dump that stopped reading (net_write_timeout, 60 s by default):
a part streams in one query, so a paused dbmedic (Ctrl-Z, a stalled disk) would otherwise lose
its connection after a minute; mydumper raises it too."""


def _dump_connection(source: Source) -> Any:
    conn = connect(source, unicode=False, fast=True)
    conn.query(f"SET SESSION net_write_timeout = {STALL_SECONDS}")
    return conn


def snapshot_connections(
    source: Source, jobs: int, *, hold: bool = False
) -> tuple[list[Any], bool]:
    """``jobs`` connections that all read one snapshot, and whether a global read lock was used.

    The first connection takes ``FLUSH TABLES WITH READ LOCK`` while every connection starts
    ``START TRANSACTION WITH CONSISTENT SNAPSHOT``, so all see the same data (as mydumper does:
    https://mariadb.com/kb/en/flush/). With ``hold`` the lock stays on the first connection
    (release it with ``UNLOCK TABLES``) so that another program can start its own snapshot of
    the same data. Without the RELOAD privilege: one connection and False (still consistent).
    """
    first = _dump_connection(source)
    conns = [first]
    if jobs <= 1 and not hold:
        first.query("START TRANSACTION WITH CONSISTENT SNAPSHOT")
        return conns, False
    try:
        first.query("SET SESSION lock_wait_timeout = 30")
        first.query("FLUSH TABLES WITH READ LOCK")
    except mysqlc.errors():  # no RELOAD privilege or lock timeout
        first.query("START TRANSACTION WITH CONSISTENT SNAPSHOT")
        return conns, False
    try:
        for _ in range(jobs - 1):
            conns.append(_dump_connection(source))
        for c in conns:
            c.query("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            c.query("START TRANSACTION WITH CONSISTENT SNAPSHOT")
    except BaseException:
        for c in conns:
            c.close()
        raise
    finally:
        if not hold and first.open:
            first.query("UNLOCK TABLES")
    return conns, True


def rows_of(conn: Any, sql: str, args: Any = None) -> list[tuple[Any, ...]]:
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return list(cur.fetchall())


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    data_type: str
    nullable: bool
    charset: str | None


@dataclass(frozen=True, slots=True)
class TableInfo:
    """What a scan needs to know of a table: inserted columns, primary key, size estimate."""

    name: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    int_key: bool
    est_bytes: int
    avg_row: int = 0
    """Average row length in the catalog (0 when unknown): sizes the first chunk of a scan."""

    @property
    def column_list(self) -> str:
        return ", ".join(quote(c.name) for c in self.columns)

    def row_expr(self) -> str:
        """SQL expression that renders a row as ``(v1,v2,...)`` exactly as an INSERT needs it."""
        return "CONCAT('(', " + ", ',', ".join(_literal(c) for c in self.columns) + ", ')')"

    @property
    def keyset_columns(self) -> tuple[Column, ...]:
        """Columns in ``mysql-keys`` order: the integer primary key first (read back from each
        chunk's last row literal to start the next chunk), then the others as in the table."""
        key = self.primary_key[0]
        return tuple(sorted(self.columns, key=lambda c: c.name != key))

    def keyset_expr(self, escape: bool, hex_binary: bool) -> str:
        """The ``mysql-keys`` row literal. With ``escape`` strings go through ``QUOTE``; without,
        they are only put between quotes (``CONCAT``: the server's CPU per row falls by a third,
        bench/RESULTS.md). Both give the same bytes whenever no value holds a quote, backslash,
        NUL or Ctrl-Z, which :func:`_needs_escape` checks on every chunk before keeping it.
        Binary strings are written in hex with ``hex_binary`` (the older methods), else always
        through ``QUOTE`` behind ``_binary``."""
        pieces: list[str | tuple[str]] = ["("]  # str: literal text; 1-tuple: SQL expression
        for i, c in enumerate(self.keyset_columns):
            pieces += ([","] if i else []) + _keyset_pieces(c, escape, hex_binary)
        pieces.append(")")
        args: list[str] = []  # adjacent literal text merged: fewer CONCAT arguments
        for piece in pieces:
            if isinstance(piece, tuple):
                args.append(piece[0])
            elif args and args[-1].startswith("'"):
                args[-1] = args[-1][:-1] + piece.replace("'", "''") + "'"
            else:
                args.append("'" + piece.replace("'", "''") + "'")
        return f"CONCAT({', '.join(args)})"

    @property
    def quoted_count(self) -> int:
        """How many values of a ``mysql-keys`` row are quoted (or NULL)."""
        return sum(1 for c in self.columns if _keyset_kind(c) in ("text", "binary"))

    @property
    def has_binary(self) -> bool:
        return any(_keyset_kind(c) == "binary" for c in self.columns)


def _literal(c: Column) -> str:
    """One value as SQL text, with as few function calls as possible (the server's CPU is the
    limit of a dump): numbers as they are, strings through ``QUOTE``, binary strings through
    ``QUOTE`` behind a ``_binary`` introducer (half the bytes of HEX, no charset check on
    restore: https://mariadb.com/kb/en/string-literals/)."""
    q = quote(c.name)
    if c.data_type in _BINARY:
        expr = f"CONCAT('_binary', QUOTE({q}))"  # QUOTE(NULL) is 'NULL': keep the IF
        return f"IF({q} IS NULL, 'NULL', {expr})" if c.nullable else expr
    if c.data_type == "bit":
        expr = f"CAST({q} AS UNSIGNED)"
    elif c.data_type in _NUMERIC:
        expr = q
    else:  # QUOTE() already renders NULL as NULL
        quoted = f"QUOTE({q})"
        return quoted if c.charset in (None, "utf8mb4") else f"CONVERT({quoted} USING utf8mb4)"
    return f"IFNULL({expr}, 'NULL')" if c.nullable else expr


def _keyset_kind(c: Column) -> str:
    if c.data_type in _BINARY:
        return "binary"
    if c.data_type == "bit":
        return "bit"
    return "number" if c.data_type in _NUMERIC else "text"


def _keyset_pieces(c: Column, escape: bool, hex_binary: bool) -> list[str | tuple[str]]:
    """One value of a ``mysql-keys`` row as literal text (str) and SQL expressions (1-tuples):
    numbers as they are (NULL written ``null``), binary strings in hex (``X'..'``: nothing to
    escape) or with ``_binary`` and ``QUOTE``, other values quoted (NULL written ``NULL``, so
    that counting quotes and ``NULL`` finds any value that would need escaping)."""
    kind, value = _keyset_kind(c), _plain_value(c)
    if kind in ("number", "bit"):
        return [(f"IFNULL({value}, 'null')" if c.nullable else value,)]
    if kind == "binary" and not hex_binary:
        return [(_literal(c),)]
    if kind == "binary":
        opening, value = "X'", f"HEX({value})"
    else:
        opening = "'"
        if escape:  # QUOTE(NULL) is NULL written out
            return [(f"QUOTE({value})",)]
    if c.nullable:
        sql_opening = "'" + opening.replace("'", "''") + "'"
        return [(f"IFNULL(CONCAT({sql_opening}, {value}, ''''), 'NULL')",)]
    return [opening, (value,), "'"]


_TABLES_SQL = """
SELECT TABLE_NAME, DATA_LENGTH, AVG_ROW_LENGTH FROM information_schema.TABLES
WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE'
"""
_COLUMNS_SQL = """
SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE, IS_NULLABLE, CHARACTER_SET_NAME, EXTRA
FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()
ORDER BY TABLE_NAME, ORDINAL_POSITION
"""
# Two queries, not a join: MariaDB evaluates a TABLES x COLUMNS join slowly (1 s for 120 tables).
_PK_SQL = """
SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.STATISTICS
WHERE TABLE_SCHEMA = DATABASE() AND INDEX_NAME = 'PRIMARY' ORDER BY TABLE_NAME, SEQ_IN_INDEX
"""


def table_infos(conn: Any) -> dict[str, TableInfo]:
    """Every base table of the current database, in two catalog queries."""
    columns: dict[str, list[Column]] = {}
    types: dict[tuple[str, str], str] = {}
    catalog = rows_of(conn, _TABLES_SQL)
    sizes = {_s(t): int(size or 0) for t, size, _ in catalog}
    avg_rows = {_s(t): int(avg or 0) for t, _, avg in catalog}
    for table, name, dtype, nullable, charset, extra in rows_of(conn, _COLUMNS_SQL):
        table, name, dtype = _s(table), _s(name), _s(dtype).lower()
        if table not in sizes:
            continue  # a view
        types[table, name] = dtype
        columns.setdefault(table, [])
        if "GENERATED" in _s(extra or "").upper() and "DEFAULT_GENERATED" not in _s(extra).upper():
            continue  # generated columns are computed again by the server on restore
        columns[table].append(
            Column(name, dtype, _s(nullable) == "YES", _s(charset) if charset else None)
        )
    keys: dict[str, list[str]] = {}
    for table, name in rows_of(conn, _PK_SQL):
        keys.setdefault(_s(table), []).append(_s(name))
    infos = {}
    for table, cols in columns.items():
        pk = tuple(keys.get(table, ()))
        int_key = len(pk) == 1 and types.get((table, pk[0])) in _INTEGER
        infos[table] = TableInfo(
            table, tuple(cols), pk, int_key, sizes.get(table, 0), avg_rows.get(table, 0)
        )
    return infos


def _s(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _estimate(conn: Any, info: TableInfo, span: int) -> int:
    """Bytes of a table: catalog statistics, or a sample when they are stale (fresh tables)."""
    key = quote(info.primary_key[0])
    ((avg,),) = rows_of(
        conn,
        f"SELECT AVG(LENGTH(r)) FROM (SELECT {info.row_expr()} AS r FROM {quote(info.name)} "
        f"ORDER BY {key} LIMIT 200) AS sample",
    )
    return max(info.est_bytes, int(float(avg or 0) * span))


def plan_parts(conn: Any, info: TableInfo) -> list[tuple[int | None, int | None]]:
    """Primary-key slices of about PART_BYTES each; one open slice for other tables."""
    if not info.int_key:
        return [(None, None)]
    key = quote(info.primary_key[0])
    ((lo, hi),) = rows_of(conn, f"SELECT MIN({key}), MAX({key}) FROM {quote(info.name)}")
    if lo is None:
        return [(None, None)]
    lo, hi = int(lo), int(hi)
    span = hi - lo + 1
    if info.est_bytes < PART_BYTES and span < 100_000:  # small: no sampling query
        return [(None, None)]
    count = min(64, -(-_estimate(conn, info, span) // PART_BYTES))
    if count <= 1:
        return [(None, None)]
    step = max(1, (hi - lo + 1) // count)
    bounds = [lo + i * step for i in range(1, count) if lo + i * step <= hi]
    edges: list[int | None] = [None, *bounds, None]
    return [(edges[i], edges[i + 1]) for i in range(len(edges) - 1)]


Sink = Callable[[bytes, int], None]
"""Receives the VALUES text of one INSERT statement (rows rendered by the server) and its row count."""


_SCANS = {
    "mysql-keys3q": ("keys", True), "mysql-seq3": ("seq", True), "mysql-sum3": ("sum", True),
    "mysql-keys3": ("keys", True), "mysql-keys": ("keys", False), "mysql-seq": ("seq", False),
    "mysql-sum": ("sum", False),
}  # fmt: skip
"""Checksum method -> (scan, whether it hashes with xxh3; sha256 or md5 otherwise)."""
HEX_KEYS = {"mysql-keys3", "mysql-keys"}
"""``mysql-keys`` methods of older backups, which write binary strings in hex (``X'..'``). Since
``mysql-keys3q``, quoted behind ``_binary`` as every other method does: in about half the bytes,
so less to render, hash and compress, and to parse on restore (bench/RESULTS.md, backup)."""


def _scan_of(method: str) -> tuple[str, bool]:
    try:
        return _SCANS[method]
    except KeyError:
        raise unknown_method(method) from None


def scan_method(conn: Any, info: TableInfo) -> str:
    """The checksum method of a new backup of ``info`` read through ``conn``: ``mysql-keys3q``
    runs a query per chunk, cheap with mysqlclient; PyMySQL reads GROUP_CONCAT chunks."""
    if not info.int_key:
        return "mysql-sum3"
    return "mysql-keys3q" if mysqlc.streams(conn) else "mysql-seq3"


def insert_columns(info: TableInfo, method: str) -> str:
    """The column list of the INSERT statements that a scan with ``method`` writes."""
    if _scan_of(method)[0] == "keys" and info.int_key:
        return ", ".join(quote(c.name) for c in info.keyset_columns)
    return info.column_list


def scan_part(
    conn: Any,
    info: TableInfo,
    lo: int | None,
    hi: int | None,
    sink: Sink | None,
    method: str | None = None,
) -> Part:
    """Read one slice of a table (for a dump when ``sink`` is given) and return its checksum,
    computed with ``method`` (by default :func:`scan_method`)."""
    method = method or scan_method(conn, info)
    scan, xxh3 = _scan_of(method)
    if scan == "keys" and info.int_key:
        return _scan_keys(conn, info, lo, hi, sink, _digest(xxh3), method in HEX_KEYS)
    if scan == "seq" and info.int_key:
        return _scan_seq(conn, info, lo, hi, sink, _digest(xxh3))
    return _scan_sum(conn, info, sink, xxhash.xxh3_64_intdigest if xxh3 else md5_64)


def _digest(xxh3: bool) -> Any:
    """The running hash of an ordered scan: xxh3_128 (``*3`` methods) or sha256."""
    return xxhash.xxh3_128() if xxh3 else hashlib.sha256()


ESCAPE_RUN = 8
"""After a chunk that needed escaping, how many chunks are read with QUOTE straight away."""


def _needs_escape(text: bytes, rows: int, quoted: int) -> bool:
    """Whether a chunk rendered without ``QUOTE`` might differ from the ``QUOTE`` rendering.

    Every quoted value brings two quotes and every NULL among them one ``NULL`` (numbers write
    ``null``; hex, numbers and dates hold no ``N``), so the quotes number exactly
    ``2 * (quoted * rows - NULLs)`` only when no value holds a quote (which adds quotes) nor the
    text ``NULL`` (counted as a NULL, it takes two away). Backslash, NUL and Ctrl-Z are the
    other bytes ``QUOTE`` escapes."""
    quotes, most = text.count(b"'"), 2 * quoted * rows
    if b"U" not in text:  # a fast scan (memchr) that spares the search for "NULL"
        nulls = 0
    elif quotes == most:  # as many quotes in values as NULLs written: fine only if none
        nulls = b"NULL" in text
    else:
        nulls = text.count(b"NULL")
    return quotes != most - 2 * nulls or b"\\" in text or b"\0" in text or b"\x1a" in text


class _Chunks:
    """Chunk queries on one connection, each sent before the previous chunk is written out.

    With mysqlclient the next query goes out (``send_query``) as soon as a chunk is known to be
    final, so the server renders the next rows while this side joins, hashes and compresses the
    last ones, and the rows are mostly waiting in the socket when they are read: the worker no
    longer sleeps in ``poll`` once per network read (bench/RESULTS.md). PyMySQL runs each query
    when its rows are asked for."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn
        self._c = mysqlc.streams(conn)
        self._sql: str | None = None

    def send(self, sql: str) -> None:
        if self._c:
            self._conn.send_query(sql)
        self._sql = sql

    def receive(self) -> tuple[Any, bytes]:
        """The rows of the query sent last (one row literal each), joined into VALUES text."""
        assert self._sql is not None
        if self._c:
            self._conn.read_query_result()
            got = self._conn.store_result().fetch_row(0)  # read with the GIL released, then built
        else:
            got = rows_of(self._conn, self._sql)
        self._sql = None
        try:
            return got, b",\n".join(map(_FIRST, got))
        except TypeError:  # CONCAT gives NULL for a result over max_allowed_packet
            raise BackupError(
                "a row is larger than the server's max_allowed_packet",
                hint="raise max_allowed_packet or use the dump tool (--external)",
            ) from None

    def fetch(self, sql: str) -> tuple[Any, bytes]:
        self.send(sql)
        return self.receive()


_FIRST = operator.itemgetter(0)

Chunk = tuple[int, bytes, int]
"""One chunk of a ``mysql-keys`` scan: rows, their VALUES text, the last row's key."""


def _first_key(literal: bytes) -> int:
    """The primary key of a ``mysql-keys`` row literal (its first value)."""
    end = literal.find(b",")
    return int(literal[1 : end if end > 0 else -1])


class _ServerRendered:
    """``mysql-keys`` chunks rendered by the server: every row one :meth:`TableInfo.keyset_expr`
    literal, without ``QUOTE`` while :func:`_needs_escape` finds nothing to escape; a chunk that
    fails the check is read again, the same keys, with ``QUOTE`` (and the next few straight
    away). Binary strings not in hex are always escaped, so such a table is read with ``QUOTE``
    throughout (the check would fail on most chunks)."""

    def __init__(self, conn: Any, info: TableInfo, hex_binary: bool) -> None:
        self._chunks = _Chunks(conn)
        self._head = f"SELECT {{}} FROM {quote(info.name)} FORCE INDEX (PRIMARY) WHERE "
        self._key = quote(info.primary_key[0])
        self._safe = info.keyset_expr(True, hex_binary)
        self._checked = hex_binary or not info.has_binary
        self._fast = info.keyset_expr(False, hex_binary) if self._checked else self._safe
        self._quoted = info.quoted_count
        self._escape_left = 0

    def send(self, where: str) -> None:
        self._chunks.send(
            self._head.format(self._safe if self._escape_left else self._fast) + where
        )

    def receive(self) -> Chunk:
        got, text = self._chunks.receive()
        if not got:
            return 0, b"", 0
        if self._escape_left:
            self._escape_left -= 1
        elif self._checked and _needs_escape(text, len(got), self._quoted):
            self._escape_left = ESCAPE_RUN
            first, last = _first_key(got[0][0]), _first_key(got[-1][0])
            again = f"{self._key} >= {first} AND {self._key} <= {last} ORDER BY {self._key}"
            got, text = self._chunks.fetch(self._head.format(self._safe) + again)
        return len(got), text, _first_key(got[-1][0])


_KIND_LETTER = {"number": "n", "bit": "n", "text": "t"}


def _plain_value(c: Column) -> str:
    """The value of a ``mysql-keys`` column before it is quoted or written in hex: what
    :func:`_stream_keys` selects and what :meth:`TableInfo.keyset_expr` renders."""
    q = quote(c.name)
    kind = _keyset_kind(c)
    if kind == "bit":
        return f"CAST({q} AS UNSIGNED)"
    if kind == "text" and c.charset not in (None, "utf8mb4"):
        return f"CONVERT({q} USING utf8mb4)"
    return q


@functools.cache  # a failed import is searched for again each time: once per part otherwise
def native_renderer() -> Any | None:
    """:mod:`dbmedic._rows` when it was built (``pip install`` with libmariadb-dev), else None."""
    try:
        from dbmedic import _rows  # type: ignore[attr-defined]
    except ImportError:
        return None
    return _rows


def _scan_keys(
    conn: Any,
    info: TableInfo,
    lo: int | None,
    hi: int | None,
    sink: Sink | None,
    digest: Any,
    hex_binary: bool,
) -> Part:
    """``mysql-keys``: the rows in key order, each rendered as the :meth:`TableInfo.keyset_expr`
    literal, in C where :mod:`dbmedic._rows` was built (:func:`_stream_keys`), else by the server
    (:func:`_chunk_keys`), and hashed joined by ``,\\n``. Every way gives the same bytes for every
    row, so the checksum depends neither on the chunk sizes nor on the renderer (the check after
    a restore may cut and render differently)."""
    native = native_renderer() if mysqlc.streams(conn) else None
    chunk = _joined(digest, sink)
    if native is not None and hasattr(conn, "_get_native_connection"):
        rows = _stream_keys(conn, info, lo, hi, hex_binary, native, chunk)
    else:
        rows = _chunk_keys(conn, info, lo, hi, hex_binary, chunk)
    return Part(rows, digest.hexdigest(), _t(lo), _t(hi))


def _joined(digest: Any, sink: Sink | None) -> Sink:
    """A sink that hashes the chunks it is given as one text joined by ``,\\n`` (so an ordered
    checksum does not depend on where the chunks were cut), then hands them to ``sink``."""
    first = True

    def chunk(text: bytes, rows: int) -> None:
        nonlocal first
        if not first:
            digest.update(b",\n")
        digest.update(text)
        first = False
        if sink is not None:
            sink(text, rows)

    return chunk


def _slice(info: TableInfo, lo: int | None, hi: int | None) -> str:
    """``table ... ORDER BY key`` of one primary-key slice, for a query that streams it whole."""
    key = quote(info.primary_key[0])
    bounds = [f"{key} >= {int(lo)}"] if lo is not None else []  # ints from plan_parts, not text
    bounds += [f"{key} < {int(hi)}"] if hi is not None else []
    where = f"WHERE {' AND '.join(bounds)} " if bounds else ""
    return f"{quote(info.name)} FORCE INDEX (PRIMARY) {where}ORDER BY {key}"


def _stream_keys(
    conn: Any,
    info: TableInfo,
    lo: int | None,
    hi: int | None,
    hex_binary: bool,
    native: Any,
    chunk: Sink,
) -> int:
    """One query for the whole slice, its plain values rendered by :mod:`dbmedic._rows` in C as
    they arrive, byte for byte as the server renders them (tests/test_backup_rows.py): the
    server only reads the rows, as for a full scan, and no Python object is made per row; the
    server keeps sending while a chunk is hashed, compressed and written (bench/RESULTS.md,
    backup)."""
    columns = info.keyset_columns
    letters = {**_KIND_LETTER, "binary": "b" if hex_binary else "q"}
    kinds = "".join(letters[_keyset_kind(c)] for c in columns).encode()
    conn.send_query(
        f"SELECT {', '.join(_plain_value(c) for c in columns)} FROM {_slice(info, lo, hi)}"
    )
    # the driver's own error class (the DB-API extension), as mysqlclient raises it
    return int(
        native.scan(conn._get_native_connection(), kinds, conn.OperationalError, CHUNK_BYTES, chunk)
    )


def _chunk_keys(
    conn: Any,
    info: TableInfo,
    lo: int | None,
    hi: int | None,
    hex_binary: bool,
    chunk: Sink,
) -> int:
    """Chunks rendered by the server, one query each (``WHERE key > last ... LIMIT n``)."""
    key = quote(info.primary_key[0])
    upper = f" AND {key} < {int(hi)}" if hi is not None else ""
    # the first chunk aims at an eighth of CHUNK_BYTES by the catalog's average row length (16
    # rows when unknown), later ones at CHUNK_BYTES by the chunks read: large rows come few at once
    first_rows = CHUNK_BYTES // 8 // info.avg_row if info.avg_row else 16
    rows, limit = 0, max(1, min(4096, first_rows))
    start = f"{key} >= {int(lo)}" if lo is not None else "TRUE"
    chunks = _ServerRendered(conn, info, hex_binary)
    chunks.send(f"{start}{upper} ORDER BY {key} LIMIT {limit}")
    while True:
        got, text, last = chunks.receive()
        if not got:
            break
        more = got >= limit
        if more:  # the next query goes out before this chunk is hashed and written
            scale = min(8.0, CHUNK_BYTES / max(len(text), 1))  # grows at most 8x a chunk
            limit = max(1, min(65536, int(limit * scale)))
            chunks.send(f"{key} > {last}{upper} ORDER BY {key} LIMIT {limit}")
        rows += got
        chunk(text, got)
        if not more:
            break
    return rows


def _scan_seq(
    conn: Any, info: TableInfo, lo: int | None, hi: int | None, sink: Sink | None, digest: Any
) -> Part:
    key = quote(info.primary_key[0])
    table = quote(info.name)
    if mysqlc.streams(conn):  # one query in key order: an open end needs no MIN/MAX first
        rows = _stream_seq(conn, info, lo, hi, sink, digest)
        return Part(rows, digest.hexdigest(), _t(lo), _t(hi))
    start, stop = lo, hi
    if lo is None or hi is None:
        ((first, last),) = rows_of(conn, f"SELECT MIN({key}), MAX({key}) FROM {table}")
        if lo is None:
            start = None if first is None else int(first)
        if hi is None:
            stop = None if last is None else int(last) + 1
    rows, chunk = 0, _joined(digest, sink)
    if start is None or stop is None:
        return Part(0, digest.hexdigest(), _t(lo), _t(hi))
    width = 512  # key units; grows towards CHUNK_BYTES per chunk after the first answers
    sql = (
        f"SELECT GROUP_CONCAT({info.row_expr()} ORDER BY {key} SEPARATOR ',\\n'), COUNT(*) "
        f"FROM {table} WHERE {key} >= %s AND {key} < %s"
    )
    cursor = start
    with conn.cursor() as cur:
        while cursor < stop:
            end = min(cursor + width, stop)
            cur.execute(sql, (cursor, end))
            text, count = cur.fetchone()
            if cur.warning_count:  # GROUP_CONCAT cut the chunk: halve and retry
                if end - cursor == 1:
                    raise BackupError(
                        f"a row of table {info.name} is larger than the server's max_allowed_packet",
                        hint="raise max_allowed_packet or use the dump tool (--external)",
                    )
                width = max(1, (end - cursor) // 2)
                continue
            if count:
                chunk(text, count)
                rows += count
                scale = CHUNK_BYTES / max(len(text), 1)
                width = max(1, int(width * min(8.0, max(0.5, scale))))
            else:
                width *= 8
            cursor = end
    return Part(rows, digest.hexdigest(), _t(lo), _t(hi))


def _stream_seq(
    conn: Any, info: TableInfo, lo: int | None, hi: int | None, sink: Sink | None, digest: Any
) -> int:
    """The C-driver plan of :func:`_scan_seq`: one literal per row in key order, joined into
    statements of ~CHUNK_BYTES here; the digest is over the same bytes as the GROUP_CONCAT plan."""
    sql = f"SELECT {info.row_expr()} FROM {_slice(info, lo, hi)}"
    rows, chunk = 0, _joined(digest, sink)
    batch: list[bytes] = []
    size = 0
    for got in mysqlc.stream_rows(conn, sql):
        literals = [r[0] for r in got]
        batch += literals
        size += sum(map(len, literals)) + 2 * len(literals)
        rows += len(literals)
        if size >= CHUNK_BYTES:
            chunk(b",\n".join(batch), len(batch))
            batch, size = [], 0
    if batch:
        chunk(b",\n".join(batch), len(batch))
    return rows


def _scan_sum(
    conn: Any, info: TableInfo, sink: Sink | None, row_hash: Callable[[bytes], int]
) -> Part:
    total, rows = 0, 0
    batch: list[bytes] = []
    size = 0
    for got in mysqlc.stream_rows(conn, f"SELECT {info.row_expr()} FROM {quote(info.name)}"):
        for (literal,) in got:
            raw = literal if isinstance(literal, bytes) else literal.encode()
            total += row_hash(raw)
            rows += 1
            if sink is not None:
                batch.append(raw)
                size += len(raw) + 2
                if size >= CHUNK_BYTES:
                    sink(b",\n".join(batch), len(batch))
                    batch, size = [], 0
    if sink is not None and batch:
        sink(b",\n".join(batch), len(batch))
    return Part(rows, format(total % (1 << 64), "016x"))


def _t(value: int | None) -> str | None:
    return None if value is None else str(value)


def _int(value: str | None) -> int | None:
    return None if value is None else int(value)


def pool_map(
    source: Source,
    jobs: int,
    tasks: list[Any],
    fn: Callable[[Any, Any], Any],
    *,
    fast: bool,
    stopping: threading.Event | None = None,
) -> Iterator[Any]:
    """Run ``fn(conn, task)`` over ``tasks`` with ``jobs`` connections (one per thread);
    ``fast``: mysqlclient where installed (scans; loading INSERTs measured faster on PyMySQL).
    Interrupted, no task starts any more and ``stopping`` is set, for long tasks to look at."""
    local = threading.local()
    conns: list[Any] = []
    stopping = stopping or threading.Event()

    def run(task: Any) -> Any:
        if stopping.is_set():
            raise Stopped
        if not hasattr(local, "conn"):
            local.conn = connect(source, unicode=False, fast=fast)
            conns.append(local.conn)
        return fn(local.conn, task)

    try:
        with ThreadPoolExecutor(max(1, jobs)) as pool:
            try:
                yield from pool.map(run, tasks)
            except BaseException:  # Ctrl-C or an error: no task starts any more
                stopping.set()
                pool.shutdown(wait=True, cancel_futures=True)
                raise
    finally:  # only once no thread reads from them (closing one under C can crash)
        for c in conns:
            c.close()


@register_family("mysql")
class MySQLFamily(Family):
    """MySQL and MariaDB."""

    @property
    def methods(self) -> tuple[type, ...]:  # type: ignore[override]
        from dbmedic.backups.mysql_builtin import MySQLBuiltin
        from dbmedic.backups.tools import MariaDBDump

        # The built-in dumper is first: parallel, one snapshot, faster than mariadb-dump (bench/).
        return (MySQLBuiltin, MariaDBDump)

    def facts(self, source: Source) -> Facts:
        conn = connect(source, unicode=False, fast=True)  # the data connections' driver
        try:
            ((version, charset, collation),) = rows_of(
                conn, "SELECT VERSION(), @@character_set_database, @@collation_database"
            )
            try:
                grants = tuple(_s(r[0]) for r in rows_of(conn, "SHOW GRANTS"))
            except Exception:  # no right to read them: the manifest says none
                grants = ()
        finally:
            conn.close()
        version = _s(version)
        dialect = "mariadb" if "mariadb" in version.lower() else "mysql"
        grants = tuple(g for g in grants if "IDENTIFIED" not in g.upper())  # never a hash
        return Facts(dialect, version, _s(charset), _s(collation), grants)

    def table_names(self, source: Source) -> list[str]:
        conn = connect(source, unicode=False, fast=True)
        try:
            return [
                _s(r[0])
                for r in rows_of(
                    conn,
                    "SELECT TABLE_NAME FROM information_schema.TABLES "
                    "WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME",
                )
            ]
        finally:
            conn.close()

    def create_database(self, target: Source, charset: str | None, collation: str | None) -> None:
        conn = connect(target, database=False)
        try:
            sql = f"CREATE DATABASE IF NOT EXISTS {quote(target.database)}"
            if charset:
                sql += f" CHARACTER SET {charset}"
            if collation:
                sql += f" COLLATE {collation}"
            conn.query(sql)
        finally:
            conn.close()

    def drop_tables(self, target: Source, names: list[str]) -> None:
        conn = connect(target)
        try:
            views = {
                str(r[0])
                for r in rows_of(
                    conn,
                    "SELECT TABLE_NAME FROM information_schema.VIEWS WHERE TABLE_SCHEMA = DATABASE()",
                )
            }
            for name in names:
                kind = "VIEW" if name in views else "TABLE"
                conn.query(f"DROP {kind} IF EXISTS {quote(name)}")
        finally:
            conn.close()

    def checksums(
        self, target: Source, tables: tuple[TableEntry, ...], jobs: int
    ) -> list[TableEntry]:
        conn = connect(target, unicode=False)
        try:
            infos = table_infos(conn)
        finally:
            conn.close()
        tasks = [
            (t.name, p)
            for t in tables
            if t.name in infos
            for p in (t.parts or (Part(0, "", None, None),))
        ]

        def check(conn: Any, task: tuple[str, Part]) -> tuple[str, Part]:
            name, part = task
            lo, hi = _int(part.lo), _int(part.hi)
            return name, scan_part(conn, infos[name], lo, hi, None, methods[name])

        methods = {t.name: t.method for t in tables}
        found: dict[str, list[Part]] = {}
        for name, part in pool_map(target, jobs, tasks, check, fast=True):
            found.setdefault(name, []).append(part)
        return [
            TableEntry(t.name, sum(p.rows for p in found[t.name]), combine(found[t.name]),
                       t.method, tuple(found[t.name]))
            for t in tables
            if t.name in found
        ]  # fmt: skip


def table_entry(info: TableInfo, parts: list[Part], method: str) -> TableEntry:
    return TableEntry(info.name, sum(p.rows for p in parts), combine(parts), method, tuple(parts))


def describe(e: BaseException | None) -> str:
    """A driver error as a short phrase without secrets (worded by the MySQL dialect)."""
    return families.describe("mysql", e)
