"""The built-in PostgreSQL dumper and loader: COPY streams, one exported snapshot, parallel.

Dump: the first connection opens a ``REPEATABLE READ`` transaction and exports its snapshot
(``pg_export_snapshot()``); every other worker imports it with ``SET TRANSACTION SNAPSHOT``, so
all read the same data (https://www.postgresql.org/docs/current/functions-admin.html#FUNCTIONS-SNAPSHOT-SYNCHRONIZATION).
Table data leaves the server as ``COPY ... TO STDOUT`` in text format, streamed in blocks by
psycopg's ``cursor.copy()`` into zstd files, so memory stays flat whatever the table size. The
text format is exact: ``\\N`` for NULL versus an empty string, bytea in hex, numeric and bigint as
digits, floats in their shortest exact form, json/jsonb/arrays as their text, and it does not
depend on type OIDs (binary COPY of arrays of user types would). Generated columns are left out
(the server computes them again). Large tables are split into ranges of physical blocks
(``ctid`` ranges, a TID range scan since PostgreSQL 14), one file each.

Schema: ``pg_dump --schema-only --section=pre-data`` and ``--section=post-data`` in the same
snapshot where pg_dump is installed (functions, types, sequences, owners, everything); without
it, the tables, views, indexes, keys and triggers the postgres dialect inspects, rendered with
``dialect.render`` (``schema.json`` records which). Sequence positions are saved and restored.

Restore: pre-data, then the data files over ``jobs`` connections with ``COPY ... FROM STDIN``
(one transaction per file), then post-data (keys, indexes, foreign keys, triggers), then the
sequences.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import replace
from typing import Any

from dbmedic.backups import postgres
from dbmedic.backups.families import DumpJob, DumpOutput, Method, RestoreJob, Source, describe
from dbmedic.backups.manifest import FileEntry, Part, TableEntry
from dbmedic.backups.streams import Writer, open_reader, write_file
from dbmedic.backups.workers import TaskQueue
from dbmedic.errors import BackupError
from dbmedic.secrets import scrub

PART_BYTES = 64 << 20
"""Physical size of one part of a large table (the unit of parallel work)."""

_COLUMNS = """
SELECT n.nspname, c.relname, c.relkind, pg_relation_size(c.oid),
       current_setting('block_size')::int,
       array_agg(a.attname ORDER BY a.attnum) FILTER (WHERE a.attgenerated = '')
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\\_toast%%' AND n.nspname NOT LIKE 'pg\\_temp\\_%%'
GROUP BY n.nspname, c.relname, c.relkind, c.oid
ORDER BY n.nspname, c.relname
"""
_SEQUENCES = """
SELECT schemaname, sequencename, last_value FROM pg_sequences
WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2
"""


def _begin(conn: Any, snapshot: str | None) -> str:
    """Open the snapshot transaction (importing ``snapshot``, or exporting a new one)."""
    with conn.cursor() as cur:
        cur.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        if snapshot is not None:
            cur.execute(_set_snapshot(snapshot))
            return snapshot
        cur.execute("SELECT pg_export_snapshot()")
        row = cur.fetchone()
        return str(row[0])


def _set_snapshot(snapshot: str) -> Any:
    """``SET TRANSACTION SNAPSHOT 'id'`` (a utility statement: the id is a literal, not a
    parameter; https://www.postgresql.org/docs/current/sql-set-transaction.html)."""
    from psycopg import sql

    return sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(snapshot))


def _ident(schema: str, name: str, columns: list[str] | None = None) -> str:
    text = postgres.ident(schema, name)
    if columns is not None:
        text += " (" + ", ".join(postgres.ident(c) for c in columns) + ")"
    return text


def _parts(size: int, block: int) -> list[tuple[int | None, int | None]]:
    """Block ranges of about PART_BYTES each; the last one is open (rows past the end)."""
    count = min(64, size // PART_BYTES + 1)
    if count <= 1:
        return [(None, None)]
    step = size // block // count
    edges: list[int | None] = [None, *(i * step for i in range(1, count)), None]
    return [(edges[i], edges[i + 1]) for i in range(count)]


def _copy_out_sql(
    schema: str, name: str, columns: list[str], lo: int | None, hi: int | None
) -> str:
    if lo is None and hi is None:
        return f"COPY {_ident(schema, name, columns)} TO STDOUT"
    where = []
    if lo is not None:
        where.append(f"ctid >= '({lo},0)'::tid")
    if hi is not None:
        where.append(f"ctid < '({hi},0)'::tid")
    cols = ", ".join(postgres.ident(c) for c in columns)
    return (
        f"COPY (SELECT {cols} FROM ONLY {_ident(schema, name)} WHERE {' AND '.join(where)}) "
        "TO STDOUT"
    )


def _strip_meta(script: str) -> str:
    """pg_dump's plain output without psql meta-commands (``\\restrict`` since 15.14)."""
    return "\n".join(line for line in script.splitlines() if not line.startswith("\\"))


def _pg_dump_schema(source: Source, snapshot: str) -> dict[str, Any] | None:
    """Pre- and post-data SQL from pg_dump in ``snapshot``; None when pg_dump is missing."""
    from dbmedic.backups.tools import _which, pg_env, pgpass, private_file

    exe = _which("pg_dump")
    if exe is None:
        return None
    out: dict[str, Any] = {"source": "pg_dump --schema-only"}
    with private_file("pgpass", pgpass(source)) as passfile:
        for section in ("pre-data", "post-data"):
            argv = [exe, "--schema-only", f"--section={section}", f"--snapshot={snapshot}",
                    "--no-password"]  # fmt: skip
            done = subprocess.run(argv, capture_output=True, env=pg_env(source, passfile))
            if done.returncode != 0:
                text = scrub(done.stderr.decode(errors="replace").strip())
                raise BackupError(f"pg_dump --schema-only failed ({text.splitlines()[-1]})")
            out[section.split("-")[0]] = _strip_meta(done.stdout.decode())
    return out


def _dialect_schema(source: Source, snapshot: str) -> dict[str, Any]:
    """Without pg_dump: the inspected schema in ``snapshot``, rendered by the postgres dialect.

    Covers tables (columns, defaults, identity, generated columns, keys, indexes, checks),
    views, foreign keys and triggers of the current schema; not functions, types or grants.
    """
    from dbmedic.changes import AddForeignKey, AddTable, AddTrigger, AddView
    from dbmedic.connect import open_target

    db = open_target(source.sa_url)
    try:
        with db.connect() as conn:
            conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            conn.exec_driver_sql(_set_snapshot(snapshot).as_string(None))
            schema = db.dialect.inspect(conn, db.info)
            conn.rollback()
    finally:
        db.close()
    tables = [AddTable(replace(t, foreign_keys={})) for t in schema.tables.values()]
    later: list[Any] = [
        AddForeignKey(t.name, fk) for t in schema.tables.values() for fk in t.foreign_keys.values()
    ]
    later += [AddView(v) for v in schema.views.values()]
    later += [AddTrigger(t) for t in schema.triggers.values()]
    return {
        "source": "dbmedic postgres dialect (inspect + render)",
        "pre": ";\n".join(db.dialect.render(tables)),
        "post": ";\n".join(db.dialect.render(later)),
    }


class PostgresBuiltin(Method):
    """dbmedic's own parallel COPY dumper for PostgreSQL."""

    name = "postgresql-builtin"

    def dump(self, job: DumpJob) -> DumpOutput:
        conns = [postgres.connect(job.source) for _ in range(max(1, job.jobs))]
        try:
            snapshot = _begin(conns[0], None)
            for c in conns[1:]:
                _begin(c, snapshot)
            return self._dump(job, conns, snapshot)
        finally:
            for c in conns:
                c.close()

    def _dump(self, job: DumpJob, conns: list[Any], snapshot: str) -> DumpOutput:
        with conns[0].cursor() as cur:
            tables = [(str(s), str(n), str(k), int(size), int(block), list(cols or []))
                      for s, n, k, size, block, cols in cur.execute(_COLUMNS).fetchall()]  # fmt: skip
            sequences = [[str(s), str(n), None if v is None else int(v)]
                         for s, n, v in cur.execute(_SEQUENCES).fetchall()]  # fmt: skip
        job.tracker.tables_total = len(tables)
        files: list[FileEntry] = []
        digests: dict[tuple[str, str], Part] = {}
        data_files: dict[str, dict[str, Any]] = {}
        schema: dict[str, Any] = {}
        tasks: list[tuple[Any, ...]] = [("schema",)]
        if not job.schema_only:
            for number, (s, n, kind, size, block, cols) in sorted(
                enumerate(tables), key=lambda t: -t[1][3]
            ):
                tasks.append(("digest", s, n))
                if kind == "r":  # a partitioned table's rows are in its partitions
                    tasks += [("copy", number, i, s, n, cols, lo, hi)
                              for i, (lo, hi) in enumerate(_parts(size, block))]  # fmt: skip
        queue = TaskQueue(tasks)

        def run(conn: Any, task: tuple[Any, ...]) -> None:
            if task[0] == "schema":
                found = _pg_dump_schema(job.source, snapshot) or _dialect_schema(
                    job.source, snapshot
                )
                schema.update(found, sequences=sequences)
            elif task[0] == "digest":
                part = postgres.table_digest(conn, task[1], task[2])
                with queue.lock:
                    digests[task[1], task[2]] = part
                job.tracker.add(tables=1)
            else:
                self._copy_part(job, conn, queue, files, data_files, *task[1:])

        queue.run(conns, run)
        files.append(
            write_file(
                job.root,
                "schema.json",
                job.compression,
                json.dumps(schema, indent=1, sort_keys=True).encode(),
            )
        )
        entries: list[TableEntry] = [
            postgres.entry(s, n, Part(0, "0") if job.schema_only else digests[s, n])
            for s, n, *_ in tables
        ]
        files.sort(key=lambda f: f.path)
        return DumpOutput(entries, files, {"data_files": data_files, "jobs": len(conns)})

    def _copy_part(
        self, job: DumpJob, conn: Any, queue: TaskQueue, files: list[FileEntry],
        data_files: dict[str, dict[str, Any]], number: int, index: int, schema: str, name: str,
        columns: list[str], lo: int | None, hi: int | None,
    ) -> None:  # fmt: skip
        writer = Writer(job.root, f"data/{number:05d}.{index:04d}.copy", job.compression)
        try:
            with conn.cursor() as cur:
                with cur.copy(_copy_out_sql(schema, name, columns, lo, hi)) as copy:
                    for block in copy:
                        queue.check()  # Ctrl-C: psycopg cancels the COPY on the way out
                        writer.write(block)
                        job.tracker.add(nbytes=len(block))
                rows = max(0, cur.rowcount)
            entry = writer.close()
        except BaseException:
            writer.abort()
            raise
        job.tracker.add(rows=rows)
        with queue.lock:
            files.append(entry)
            data_files[entry.path] = {"schema": schema, "table": name, "columns": columns,
                                      "rows": rows}  # fmt: skip

    def restore(self, job: RestoreJob) -> None:
        schema_file = next(f for f in job.files if f.path.startswith("schema.json"))
        with open_reader(job.root / schema_file.path) as f:
            schema = json.loads(f.read())
        _script(job.target, schema["pre"], "the schema (pre-data)")
        data_files: dict[str, dict[str, Any]] = job.extra.get("data_files", {})
        sizes = {f.path: f.size for f in job.files}
        paths = sorted(data_files, key=lambda p: -sizes.get(p, 0))
        left: dict[tuple[str, str], int] = {}
        for m in data_files.values():
            left[m["schema"], m["table"]] = left.get((m["schema"], m["table"]), 0) + 1
        job.tracker.tables_total = len(left)
        conns = [postgres.connect(job.target) for _ in range(max(1, min(job.jobs, len(paths))))]
        try:
            queue = TaskQueue(paths)
            queue.run(
                conns, lambda conn, path: self._load(job, conn, path, data_files[path], queue, left)
            )
        finally:
            for c in conns:
                c.close()
        _script(job.target, schema["post"], "the schema (post-data)")
        conn = postgres.connect(job.target)
        try:
            with conn.cursor() as cur:
                for s, n, value in schema.get("sequences", []):
                    if value is not None:
                        cur.execute("SELECT setval(%s::regclass, %s, true)",
                                    (postgres.ident(s, n), value))  # fmt: skip
        finally:
            conn.close()

    def _load(
        self, job: RestoreJob, conn: Any, path: str, meta: dict[str, Any],
        queue: TaskQueue, left: dict[tuple[str, str], int],
    ) -> None:  # fmt: skip
        sql = f"COPY {_ident(meta['schema'], meta['table'], meta['columns'])} FROM STDIN"
        try:
            with (
                open_reader(job.root / path) as f,
                conn.transaction(),
                conn.cursor() as cur,
                cur.copy(sql) as copy,
            ):
                while block := f.read(1 << 20):
                    copy.write(block)
                    job.tracker.add(nbytes=len(block))
        except BackupError:
            raise
        except Exception as e:
            raise BackupError(
                f"restoring table {meta['table']} failed ({describe('postgresql', e)})"
            ) from e
        key = (meta["schema"], meta["table"])
        with queue.lock:
            left[key] -= 1
            done = left[key] == 0
        job.tracker.add(rows=meta["rows"], tables=1 if done else 0)


def _script(target: Source, sql: str, what: str) -> None:
    """Run a schema script on its own connection (pg_dump's scripts change the search_path)."""
    if not sql.strip():
        return
    conn = postgres.connect(target)
    try:
        with conn.transaction(), conn.cursor() as cur:
            cur.execute(sql)  # no parameters: the simple protocol runs many statements
    except Exception as e:
        raise BackupError(f"restoring {what} failed ({describe('postgresql', e)})") from e
    finally:
        conn.close()
