"""SQLite: a copy through the online backup API (https://www.sqlite.org/backup.html), compressed.

The copy is a consistent snapshot even while other processes write. Checksums are computed on the
copy (so they describe exactly what was saved) as the row count and the sum of a 64-bit hash of
each row's typed values, order-independent: xxh3 (``sqlite-rows3``), or md5's first 64 bits in
backups made before (``sqlite-rows``, still checked that way). Restore copies the saved database
into the target through the same API, which replaces the target's content in one transaction.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

import xxhash

from dbmedic.backups.families import (
    DumpJob,
    DumpOutput,
    Facts,
    Family,
    Method,
    RestoreJob,
    Source,
    register_family,
)
from dbmedic.backups.manifest import Part, TableEntry, combine, md5_64, unknown_method
from dbmedic.backups.streams import Writer, open_reader
from dbmedic.errors import BackupError


def _path(source: Source) -> Path:
    return Path(source.database)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _tables(conn: sqlite3.Connection, kinds: tuple[str, ...] = ("table",)) -> list[str]:
    marks = ",".join("?" for _ in kinds)
    rows = conn.execute(
        f"SELECT name FROM sqlite_master WHERE type IN ({marks}) AND name NOT LIKE 'sqlite\\_%' "
        "ESCAPE '\\' ORDER BY name",
        kinds,
    ).fetchall()
    return [str(r[0]) for r in rows]


METHOD = "sqlite-rows3"
"""The checksum method of new backups."""


_ROW_HASHES: dict[str, Callable[[bytes], int]] = {
    "sqlite-rows3": xxhash.xxh3_64_intdigest,
    "sqlite-rows": md5_64,
}


def _digest(conn: sqlite3.Connection, name: str, method: str) -> Part:
    try:
        row_hash = _ROW_HASHES[method]
    except KeyError:
        raise unknown_method(method) from None
    total, rows = 0, 0
    for row in conn.execute(f"SELECT * FROM {_quote(name)}"):
        total += row_hash(repr(tuple(row)).encode("utf-8", "surrogatepass"))
        rows += 1
    return Part(rows, format(total % (1 << 64), "016x"))


def _entries(conn: sqlite3.Connection, methods: dict[str, str] | None = None) -> list[TableEntry]:
    """Every table's entry; with ``methods`` only those tables, each checked by its method."""
    out = []
    for name in _tables(conn):
        if methods is not None and name not in methods:
            continue
        method = METHOD if methods is None else methods[name]
        part = _digest(conn, name, method)
        out.append(TableEntry(name, part.rows, combine([part]), method, (part,)))
    return out


def _open(path: Path) -> sqlite3.Connection:
    try:
        return sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as e:
        raise BackupError(f"cannot open {path} ({e})") from e


class SQLiteBackup(Method):
    """The SQLite online backup API."""

    name = "sqlite-backup"
    tool = "sqlite3"

    def tool_version(self) -> str:
        return sqlite3.sqlite_version

    def dump(self, job: DumpJob) -> DumpOutput:
        copy = job.root / "database.sqlite.tmp"
        src = _open(_path(job.source))
        dest = sqlite3.connect(copy)
        try:
            src.backup(dest)
            if job.schema_only:
                for name in _tables(dest):
                    dest.execute(f"DELETE FROM {_quote(name)}")
                dest.commit()
            tables = _entries(dest)
        finally:
            src.close()
            dest.close()
        job.tracker.tables_total = len(tables)
        writer = Writer(job.root, "database.sqlite", job.compression)
        try:
            with copy.open("rb") as f:
                while block := f.read(1 << 20):
                    writer.write(block)
                    job.tracker.add(nbytes=len(block))
            entry = writer.close()
        except BaseException:
            writer.abort()
            raise
        finally:
            copy.unlink(missing_ok=True)
        job.tracker.add(rows=sum(t.rows for t in tables), tables=len(tables))
        return DumpOutput(tables, [entry])

    def restore(self, job: RestoreJob) -> None:
        data = next(f for f in job.files if f.path.startswith("database.sqlite"))
        target = _path(job.target)
        temp = target.with_name(f".{target.name}.dbmedic-restore")
        try:
            with open_reader(job.root / data.path) as f, temp.open("wb") as out:
                while block := f.read(1 << 20):
                    out.write(block)
                    job.tracker.add(nbytes=len(block))
            src = sqlite3.connect(temp)
            dest = sqlite3.connect(target)
            try:
                src.backup(dest)
            finally:
                src.close()
                dest.close()
        finally:
            temp.unlink(missing_ok=True)


@register_family("sqlite")
class SQLiteFamily(Family):
    methods = (SQLiteBackup,)

    def facts(self, source: Source) -> Facts:
        conn = _open(_path(source))
        try:
            (encoding,) = conn.execute("PRAGMA encoding").fetchone()
        finally:
            conn.close()
        return Facts("sqlite", sqlite3.sqlite_version, str(encoding), None)

    def table_names(self, source: Source) -> list[str]:
        path = _path(source)
        if not path.exists() or os.path.getsize(path) == 0:
            return []
        conn = _open(path)
        try:
            return _tables(conn, ("table", "view"))
        finally:
            conn.close()

    def create_database(self, target: Source, charset: str | None, collation: str | None) -> None:
        path = _path(target)
        if not path.parent.is_dir():
            raise BackupError(f"cannot create {path}: its folder does not exist")

    def drop_tables(self, target: Source, names: list[str]) -> None:
        """Nothing to do: restoring replaces the whole SQLite database."""

    def checksums(
        self, target: Source, tables: tuple[TableEntry, ...], jobs: int
    ) -> list[TableEntry]:
        conn = _open(_path(target))
        try:
            return _entries(conn, {t.name: t.method for t in tables})
        finally:
            conn.close()
