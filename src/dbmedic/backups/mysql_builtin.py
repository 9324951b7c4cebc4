"""The built-in MySQL/MariaDB dumper and loader: parallel, one consistent snapshot, streaming.

Dump: with ``jobs`` > 1 the first connection takes ``FLUSH TABLES WITH READ LOCK`` for the moment
it takes every worker to start ``START TRANSACTION WITH CONSISTENT SNAPSHOT``, so all workers see
the same data (as mydumper does: https://mariadb.com/kb/en/flush/); without the RELOAD privilege it
falls back to one connection. Large tables are split in primary-key parts, one data file each.

Layout: ``schema.json.zst`` (CREATE statements of tables, views, routines, triggers, events) and
``data/<table>.<part>.sql.zst`` (framed ``INSERT`` statements of about 2 MiB).

Restore: tables first, then the data files over ``jobs`` connections (foreign and unique checks
off, one transaction per file), then views, routines, triggers and events.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from dbmedic.backups import mysql, mysqlc
from dbmedic.backups.families import DumpJob, DumpOutput, Method, RestoreJob
from dbmedic.backups.manifest import FileEntry, Part
from dbmedic.backups.streams import Writer, open_reader, statements, write_file
from dbmedic.backups.workers import Stopped, TaskQueue
from dbmedic.errors import BackupError


def _show(conn: Any, sql: str, column: int) -> str | None:
    rows = mysql.rows_of(conn, sql)
    if not rows or rows[0][column] is None:
        return None
    return mysql._s(rows[0][column])


def capture_schema(conn: Any, tables: list[str]) -> dict[str, list[dict[str, str]]]:
    """CREATE statements of every object of the current database (inside the snapshot)."""
    q = mysql.quote
    schema: dict[str, list[dict[str, str]]] = {
        "tables": [],
        "views": [],
        "routines": [],
        "triggers": [],
        "events": [],
    }
    for name in tables:
        sql = _show(conn, f"SHOW CREATE TABLE {q(name)}", 1)
        if sql:
            schema["tables"].append({"name": name, "sql": sql})
    for (name,) in mysql.rows_of(
        conn, "SELECT TABLE_NAME FROM information_schema.VIEWS WHERE TABLE_SCHEMA = DATABASE()"
    ):
        sql = _show(conn, f"SHOW CREATE VIEW {q(mysql._s(name))}", 1)
        if sql:
            schema["views"].append({"name": mysql._s(name), "sql": sql})
    for kind, name in mysql.rows_of(
        conn,
        "SELECT ROUTINE_TYPE, ROUTINE_NAME FROM information_schema.ROUTINES "
        "WHERE ROUTINE_SCHEMA = DATABASE() ORDER BY ROUTINE_NAME",
    ):
        kind, name = mysql._s(kind), mysql._s(name)
        row = mysql.rows_of(conn, f"SHOW CREATE {kind} {q(name)}")
        if row and row[0][2] is not None:
            schema["routines"].append(
                {"name": name, "sql": mysql._s(row[0][2]), "sql_mode": mysql._s(row[0][1])}
            )
    for (name,) in mysql.rows_of(
        conn,
        "SELECT TRIGGER_NAME FROM information_schema.TRIGGERS "
        "WHERE TRIGGER_SCHEMA = DATABASE() ORDER BY EVENT_OBJECT_TABLE, ACTION_ORDER",
    ):
        row = mysql.rows_of(conn, f"SHOW CREATE TRIGGER {q(mysql._s(name))}")
        if row and row[0][2] is not None:
            schema["triggers"].append(
                {
                    "name": mysql._s(name),
                    "sql": mysql._s(row[0][2]),
                    "sql_mode": mysql._s(row[0][1]),
                }
            )
    for (name,) in mysql.rows_of(
        conn, "SELECT EVENT_NAME FROM information_schema.EVENTS WHERE EVENT_SCHEMA = DATABASE()"
    ):
        row = mysql.rows_of(conn, f"SHOW CREATE EVENT {q(mysql._s(name))}")
        if row and row[0][3] is not None:
            schema["events"].append(
                {
                    "name": mysql._s(name),
                    "sql": mysql._s(row[0][3]),
                    "sql_mode": mysql._s(row[0][1]),
                }
            )
    return schema


class MySQLBuiltin(Method):
    """dbmedic's own parallel dumper for MySQL and MariaDB."""

    name = "mysql-builtin"

    def dump(self, job: DumpJob) -> DumpOutput:
        conns, _locked = mysql.snapshot_connections(job.source, job.jobs)
        try:
            return self._dump(job, conns)
        finally:
            for c in conns:
                c.close()

    def _dump(self, job: DumpJob, conns: list[Any]) -> DumpOutput:
        """Workers take tasks from one queue: the schema, whole tables, then the extra parts a
        large table was split into when its first worker planned it (so planning and catalog
        reads overlap with data instead of preceding it)."""
        infos = mysql.table_infos(conns[0])
        names = sorted(infos)
        numbers = {name: i for i, name in enumerate(names)}
        methods = {name: mysql.scan_method(conns[0], infos[name]) for name in names}
        job.tracker.tables_total = len(names)
        files: list[FileEntry] = []
        results: dict[tuple[str, int], Part] = {}
        parts_total: dict[str, int] = {}
        parts_left: dict[str, int] = {}
        data_files: dict[str, dict[str, Any]] = {}
        tasks: list[tuple[Any, ...]] = [("schema",)]
        if not job.schema_only:
            by_size = sorted(names, key=lambda n: -infos[n].est_bytes)
            tasks += [("table", name) for name in by_size]
        queue = TaskQueue(tasks)
        lock = queue.lock

        def dump_part(conn: Any, name: str, index: int, lo: int | None, hi: int | None) -> None:
            info = infos[name]
            writer = Writer(job.root, f"data/{numbers[name]:05d}.{index:04d}.sql", job.compression)
            columns = mysql.insert_columns(info, methods[name])
            head = f"INSERT INTO {mysql.quote(name)} ({columns}) VALUES\n".encode()

            def sink(values: bytes, rows: int) -> None:
                queue.check()
                before = writer.raw_bytes
                writer.statement(head, values)
                job.tracker.add(rows=rows, nbytes=writer.raw_bytes - before)

            try:
                part = mysql.scan_part(conn, info, lo, hi, sink, methods[name])
                entry = writer.close()
            except mysqlc.errors() as e:  # the server or the connection, mid-table
                writer.abort()
                raise BackupError(f"reading table {name} failed ({mysql.describe(e)})") from e
            except BaseException:
                writer.abort()
                raise
            with lock:
                results[name, index] = part
                files.append(entry)
                data_files[entry.path] = {"table": name, "rows": part.rows}
                parts_left[name] -= 1
                done = parts_left[name] == 0
            if done:
                job.tracker.add(tables=1)

        def run(conn: Any, task: tuple[Any, ...]) -> None:
            if task[0] == "schema":
                schema = capture_schema(conn, names)
                entry = write_file(
                    job.root,
                    "schema.json",
                    job.compression,
                    json.dumps(schema, indent=1, sort_keys=True).encode(),
                )
                with lock:
                    files.append(entry)
            elif task[0] == "table":
                name = task[1]
                parts = mysql.plan_parts(conn, infos[name])
                with lock:
                    parts_total[name] = parts_left[name] = len(parts)
                queue.add(("part", name, i, lo, hi) for i, (lo, hi) in enumerate(parts) if i)
                dump_part(conn, name, 0, *parts[0])
            else:
                dump_part(conn, *task[1:])

        queue.run(conns, run)
        if job.schema_only:
            entries = [mysql.table_entry(infos[n], [], methods[n]) for n in names]
        else:
            entries = [
                mysql.table_entry(
                    infos[n], [results[n, i] for i in range(parts_total[n])], methods[n]
                )
                for n in names
            ]
        files.sort(key=lambda f: f.path)
        return DumpOutput(entries, files, {"data_files": data_files, "jobs": len(conns)})

    def restore(self, job: RestoreJob) -> None:
        schema_file = next(f for f in job.files if f.path.startswith("schema.json"))
        with open_reader(job.root / schema_file.path) as f:
            schema = json.loads(f.read())
        conn = mysql.connect(job.target)
        try:
            for table in schema["tables"]:
                _execute(conn, table["sql"], f"table {table['name']}")
            job.tracker.tables_total = len(schema["tables"])
            self._load_data(job)
            _create_views(conn, schema["views"])
            for kind in ("routines", "triggers", "events"):
                for item in schema[kind]:
                    conn.query("SET SESSION sql_mode = " + conn.escape(item.get("sql_mode", "")))
                    _execute(conn, item["sql"], f"{kind[:-1]} {item['name']}")
        finally:
            conn.close()

    def _load_data(self, job: RestoreJob) -> None:
        """Tables in parallel, the files of one table one after the other on one connection.

        MariaDB loads the first transaction into an empty table with foreign and unique checks
        off as a bulk insert that locks the whole table until it commits
        (https://mariadb.com/kb/en/innodb-bulk-insert/), so the parts of one table in parallel
        would only wait for each other (and could reach innodb_lock_wait_timeout)."""
        data_files: dict[str, dict[str, Any]] = job.extra.get("data_files", {})
        sizes = {f.path: f.size for f in job.files}
        by_table: dict[str, list[str]] = {}
        for path in sorted(data_files):
            by_table.setdefault(data_files[path]["table"], []).append(path)
        tables = sorted(by_table, key=lambda t: -sum(sizes.get(p, 0) for p in by_table[t]))

        stopping = threading.Event()  # set on Ctrl-C: a table's load stops at its next statement

        def load(conn: Any, table: str) -> None:
            for path in by_table[table]:
                conn.query("START TRANSACTION")
                for sql in statements(job.root / path):
                    if stopping.is_set():
                        raise Stopped
                    try:
                        conn.query(sql)
                    except Exception as e:
                        raise BackupError(
                            f"restoring table {table} failed ({mysql.describe(e)})"
                        ) from e
                    job.tracker.add(nbytes=len(sql))
                conn.query("COMMIT")
                job.tracker.add(rows=data_files[path]["rows"])
            job.tracker.add(tables=1)

        for _ in mysql.pool_map(job.target, job.jobs, tables, load, fast=False, stopping=stopping):
            pass


def _execute(conn: Any, sql: str, what: str) -> None:
    try:
        conn.query(sql)
    except Exception as e:
        raise BackupError(f"restoring {what} failed ({mysql.describe(e)})") from e


def _create_views(conn: Any, views: list[dict[str, str]]) -> None:
    """Views in dependency order, found by retrying those whose base view is not there yet."""
    pending = list(views)
    while pending:
        failed = []
        last: Exception | None = None
        for view in pending:
            try:
                conn.query(view["sql"])
            except Exception as e:
                failed.append(view)
                last = e
        if len(failed) == len(pending):
            raise BackupError(f"restoring view {failed[0]['name']} failed ({mysql.describe(last)})")
        pending = failed
