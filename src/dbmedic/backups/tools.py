"""External dump tools: mariadb-dump / mysqldump and pg_dump / pg_restore.

Credentials never reach a command line or a child's environment: MySQL tools read a 0600
``--defaults-extra-file`` (https://mariadb.com/kb/en/configuring-mariadb-with-option-files/),
PostgreSQL tools a 0600 ``PGPASSFILE`` (https://www.postgresql.org/docs/current/libpq-pgpass.html);
both live in a private temporary directory removed afterwards.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, Any

from dbmedic.backups import mysql
from dbmedic.backups.families import DumpJob, DumpOutput, Method, RestoreJob, Source
from dbmedic.backups.streams import Writer, open_reader
from dbmedic.backups.workers import run_on
from dbmedic.errors import BackupError
from dbmedic.secrets import scrub

_SECRET_ENV = ("MYSQL_PWD", "PGPASSWORD", "DBMEDIC_PASSWORD")


def child_env(**extra: str) -> dict[str, str]:
    """The environment of a tool: ours without any password variable, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if k not in _SECRET_ENV}
    env.update(extra)
    return env


@contextmanager
def private_file(name: str, content: str) -> Iterator[Path]:
    """A 0600 file in a 0700 temporary directory, removed on exit whatever happens."""
    folder = Path(tempfile.mkdtemp(prefix="dbmedic-"))
    path = folder / name
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(content)
        yield path
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _option_value(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def mysql_options(source: Source) -> str:
    """The ``[client]`` group for a URL (host, port, socket, user, password)."""
    url = source.url
    lines = ["[client]"]
    if url.host:
        lines.append(f"host={_option_value(url.host)}")
    if url.port:
        lines.append(f"port={url.port}")
    socket = url.query.get("unix_socket")
    if socket:
        lines.append(f"socket={_option_value(str(socket))}")
    if url.username:
        lines.append(f"user={_option_value(url.username)}")
    if url.password is not None:
        lines.append(f"password={_option_value(str(url.password))}")
    return "\n".join(lines) + "\n"


def _pgpass_field(value: str) -> str:
    return value.replace("\\", "\\\\").replace(":", "\\:")


def pg_env(source: Source, passfile: Path) -> dict[str, str]:
    url = source.url
    env = {"PGPASSFILE": str(passfile), "PGDATABASE": source.database}
    if url.host:
        env["PGHOST"] = url.host
    if url.port:
        env["PGPORT"] = str(url.port)
    if url.username:
        env["PGUSER"] = url.username
    return child_env(**env)


def pgpass(source: Source) -> str:
    password = "" if source.url.password is None else str(source.url.password)
    return f"*:*:*:*:{_pgpass_field(password)}\n"


def _which(*names: str) -> str | None:
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    return None


def _version(path: str) -> str:
    try:
        out = subprocess.run(
            [path, "--version"], capture_output=True, text=True, timeout=10, env=child_env()
        )
    except OSError:
        return "unknown"
    return out.stdout.strip().splitlines()[0] if out.stdout.strip() else "unknown"


def _pump_out(proc: subprocess.Popen[bytes], writer: Writer, job: DumpJob) -> None:
    """Copy a tool's stdout into ``writer`` in 1 MiB blocks."""
    assert proc.stdout is not None
    while block := proc.stdout.read(1 << 20):
        writer.write(block)
        job.tracker.add(nbytes=len(block))


def _finish(proc: subprocess.Popen[bytes], stderr: list[bytes], what: str) -> None:
    code = proc.wait()
    if code != 0:
        text = scrub(b"".join(stderr).decode(errors="replace").strip())
        first = text.splitlines()[-1] if text else f"exit status {code}"
        raise BackupError(f"{what} failed ({first})")


def _drain(stream: IO[bytes] | None, into: list[bytes]) -> threading.Thread:
    def run() -> None:
        if stream is not None:
            into.append(stream.read())

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def _feed(proc: subprocess.Popen[bytes], path: Path, job: RestoreJob) -> None:
    assert proc.stdin is not None
    try:
        with open_reader(path) as f:
            while block := f.read(1 << 20):
                proc.stdin.write(block)
                job.tracker.add(nbytes=len(block))
    except BrokenPipeError:
        pass  # the tool stopped early; its exit status and stderr say why
    finally:
        with suppress(BrokenPipeError):
            proc.stdin.close()


class MariaDBDump(Method):
    """``mariadb-dump`` (or ``mysqldump``), one snapshot, restored with the ``mariadb`` client."""

    name = "mariadb-dump"
    tool = "mariadb-dump"
    builtin = False

    def available(self) -> bool:
        return bool(_which("mariadb-dump", "mysqldump") and _which("mariadb", "mysql"))

    def tool_version(self) -> str:
        return _version(_which("mariadb-dump", "mysqldump") or "mariadb-dump")

    def dump(self, job: DumpJob) -> DumpOutput:
        """Run the tool and compute the checksums in the same snapshot.

        While a global read lock holds every write back, our checksum connections start their
        snapshot and so does ``mariadb-dump --single-transaction``; the lock is released once
        the dump prints its first table (it does so only after ``START TRANSACTION WITH
        CONSISTENT SNAPSHOT``, see client/mysqldump.c ``main``), so both read the same data
        however busy the database is. Without the RELOAD privilege that cannot be promised, and
        the tool is refused: the built-in dumper (the default) needs no lock for consistency.
        """
        conns, locked = mysql.snapshot_connections(job.source, job.jobs, hold=True)
        try:
            if not locked:
                raise BackupError(
                    "mariadb-dump backups need the RELOAD privilege here: without FLUSH TABLES "
                    "WITH READ LOCK the manifest's checksums could come from another moment "
                    "than the dump",
                    hint="grant RELOAD, or use the built-in dumper (the default, no --external)",
                )
            return self._dump(job, conns)
        finally:
            for c in conns:
                c.close()

    def _dump(self, job: DumpJob, conns: list[Any]) -> DumpOutput:
        exe = _which("mariadb-dump", "mysqldump") or "mariadb-dump"
        writer = Writer(job.root, "dump.sql", job.compression)
        started = threading.Event()
        failed: list[BaseException] = []

        def pump(proc: subprocess.Popen[bytes]) -> None:
            assert proc.stdout is not None
            tail = b""
            try:
                while block := proc.stdout.read(1 << 16 if not started.is_set() else 1 << 20):
                    writer.write(block)
                    job.tracker.add(nbytes=len(block))
                    if not started.is_set():
                        seen = tail + block
                        if any(m in seen for m in _DUMP_STARTED):
                            started.set()
                        tail = seen[-64:]
            except BaseException as e:
                failed.append(e)
                proc.kill()
            finally:
                started.set()

        with private_file("client.cnf", mysql_options(job.source)) as cnf:
            argv = [
                exe, f"--defaults-extra-file={cnf}", "--single-transaction", "--routines",
                "--triggers", "--events", "--hex-blob", "--default-character-set=utf8mb4",
                "--skip-dump-date",
            ]  # fmt: skip
            if job.schema_only:
                argv.append("--no-data")
            argv += ["--", job.source.database]
            proc = subprocess.Popen(
                argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=child_env()
            )
            err: list[bytes] = []
            drain = _drain(proc.stderr, err)
            pumping = threading.Thread(target=pump, args=(proc,), daemon=True)
            pumping.start()
            try:
                started.wait()
                conns[0].query("UNLOCK TABLES")
                tables = mysql_checksums(conns, job.schema_only)
                job.tracker.tables_total = len(tables)
            except BaseException:
                proc.kill()
                pumping.join()
                proc.wait()
                writer.abort()
                raise
            pumping.join()
            drain.join()
            try:
                if failed:
                    raise failed[0]
                _finish(proc, err, exe.rsplit("/", 1)[-1])
                entry = writer.close()
            except BaseException:
                writer.abort()
                raise
        job.tracker.add(rows=sum(t.rows for t in tables), tables=len(tables))
        return DumpOutput(tables, [entry])

    def restore(self, job: RestoreJob) -> None:
        exe = _which("mariadb", "mysql") or "mariadb"
        dump = next(f for f in job.files if f.path.startswith("dump.sql"))
        with private_file("client.cnf", mysql_options(job.target)) as cnf:
            argv = [exe, f"--defaults-extra-file={cnf}", "--default-character-set=utf8mb4",
                    "--", job.target.database]  # fmt: skip
            proc = subprocess.Popen(
                argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE, env=child_env(),
            )  # fmt: skip
            err: list[bytes] = []
            drain = _drain(proc.stderr, err)
            _feed(proc, job.root / dump.path, job)
            drain.join()
            _finish(proc, err, exe.rsplit("/", 1)[-1])


_DUMP_STARTED = (b"\n-- Table structure", b"\nCREATE TABLE", b"\n-- Temporary", b"\n-- Dumping")
"""What mariadb-dump prints only after it started its snapshot (tables, views, routines, events)."""


def mysql_checksums(conns: list[Any], schema_only: bool) -> list[Any]:
    """Table entries read through ``conns`` (all in one snapshot): same scans as the built-in
    dumper, no output."""
    infos = mysql.table_infos(conns[0])
    methods = {n: mysql.scan_method(conns[0], infos[n]) for n in infos}
    if schema_only:
        return [mysql.table_entry(infos[n], [], methods[n]) for n in sorted(infos)]
    tasks = [
        (name, lo, hi)
        for name in sorted(infos)
        for lo, hi in mysql.plan_parts(conns[0], infos[name])
    ]

    def scan(c: Any, task: tuple[str, int | None, int | None]) -> Any:
        name, lo, hi = task
        return name, mysql.scan_part(c, infos[name], lo, hi, None, methods[name])

    parts: dict[str, list[Any]] = {}
    for name, part in run_on(conns, tasks, scan):
        parts.setdefault(name, []).append(part)
    return [mysql.table_entry(infos[n], parts[n], methods[n]) for n in sorted(infos)]


class PgDump(Method):
    """``pg_dump`` custom format, in the snapshot the checksums were computed in."""

    name = "pg_dump"
    tool = "pg_dump"
    builtin = False
    compresses = True

    def available(self) -> bool:
        return bool(_which("pg_dump") and _which("pg_restore"))

    def tool_version(self) -> str:
        return _version(_which("pg_dump") or "pg_dump")

    def dump(self, job: DumpJob) -> DumpOutput:
        from dbmedic.backups import postgres

        conn = postgres.connect(job.source)
        try:
            with conn.cursor() as cur:
                cur.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                cur.execute("SELECT pg_export_snapshot()")
                row = cur.fetchone()
                snapshot = str(row[0]) if row else ""
            tables = postgres.checksums_in(conn, job.schema_only)
            job.tracker.tables_total = len(tables)
            writer = Writer(job.root, "dump.pgdump", "none")
            with private_file("pgpass", pgpass(job.source)) as passfile:
                argv = ["pg_dump", "--format=custom", f"--snapshot={snapshot}", "--no-password"]
                if job.schema_only:
                    argv.append("--schema-only")
                proc = subprocess.Popen(
                    argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                    env=pg_env(job.source, passfile),
                )  # fmt: skip
                err: list[bytes] = []
                drain = _drain(proc.stderr, err)
                try:
                    _pump_out(proc, writer, job)
                except BaseException:
                    proc.kill()
                    proc.wait()
                    writer.abort()
                    raise
                drain.join()
                _finish(proc, err, "pg_dump")
            job.tracker.add(rows=sum(t.rows for t in tables), tables=len(tables))
            return DumpOutput(tables, [writer.close()])
        finally:
            conn.close()

    def restore(self, job: RestoreJob) -> None:
        dump = next(f for f in job.files if f.path.startswith("dump.pgdump"))
        with private_file("pgpass", pgpass(job.target)) as passfile:
            argv = ["pg_restore", "--exit-on-error", "--no-password", f"--jobs={max(1, job.jobs)}",
                    f"--dbname={job.target.database}", str(job.root / dump.path)]  # fmt: skip
            out = subprocess.run(argv, capture_output=True, env=pg_env(job.target, passfile))
        if out.returncode != 0:
            text = scrub(out.stderr.decode(errors="replace").strip())
            raise BackupError(
                f"pg_restore failed ({text.splitlines()[-1] if text else out.returncode})"
            )
        job.tracker.add(nbytes=dump.size)
