"""Backup and restore speed on MariaDB, side by side with the tools a user would otherwise use.

    PYTHONPATH=src python bench/backup.py [--mb 500] [--runs 3] [--no-settle]
                                          [--backups-only | --restores-only]

Builds ``dbm_bench_backup`` (a few large tables with mixed types, many small ones) with
server-side INSERT ... SELECT, then times whole processes (medians of ``--runs`` rounds; each
round runs every backup command, then, in rounds of their own, every restore, the order rotated
from round to round, and the server's dirty pages are flushed before each command: a big load
leaves them for whichever command comes next, see bench/settle.py; ``--no-settle`` measures
without) and reads the peak memory of each child (``ru_maxrss``), its CPU time and the CPU time
of the local mariadbd meanwhile: on a machine with as many cores as a dump keeps busy, wall time
follows their sum. Prints a Markdown table for bench/RESULTS.md. Drops its databases at the
end. Needs mariadb-dump, zstd, mydumper and myloader on PATH.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

import pymysql
from pyenv import dbmedic_env
from settle import settle

ENV: dict[str, str] = {}
"""The environment of every child (bench/pyenv.py), set by main()."""
DB, TARGET = "dbm_bench_backup", "dbm_bench_restore"
URL = f"mysql://root@127.0.0.1:3306/{DB}"
TARGET_URL = f"mysql://root@127.0.0.1:3306/{TARGET}"
MY = ["-h", "127.0.0.1", "-u", "root"]


def sql(*statements: str, database: str | None = None) -> None:
    conn = pymysql.connect(host="127.0.0.1", user="root", database=database, autocommit=True)
    with conn.cursor() as cur:
        for s in statements:
            cur.execute(s)
    conn.close()


def build(mb: int) -> float:
    """Create the database; returns its table data in MB."""
    sql(f"DROP DATABASE IF EXISTS {DB}", f"CREATE DATABASE {DB} CHARACTER SET utf8mb4")
    rows = mb * 1_000_000 // 215 // 3  # ~215 bytes of DATA_LENGTH per row, three large tables
    for name in ("orders", "events", "payloads"):
        sql(
            f"""CREATE TABLE {name} (
              id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, customer VARCHAR(80) NOT NULL,
              qty INT NULL, price DECIMAL(14,4) NULL, created DATETIME NOT NULL, body JSON NULL,
              blob_ VARBINARY(96) NULL, note TEXT NULL, flag TINYINT NOT NULL DEFAULT 0,
              KEY (customer))""",
            f"""INSERT INTO {name} (customer, qty, price, created, body, blob_, note, flag)
              SELECT CONCAT('customer ', seq % 5000, ' ü😀'), IF(seq % 10 = 0, NULL, seq % 1000),
                     seq / 7, '2024-01-01' + INTERVAL seq SECOND,
                     JSON_OBJECT('n', seq, 'tags', JSON_ARRAY('a', 'b')), RANDOM_BYTES(48),
                     IF(seq % 3 = 0, '', REPEAT('lorem ipsum ', seq % 12)), seq % 2
              FROM seq_1_to_{rows}""",
            database=DB,
        )
    for i in range(120):
        sql(
            f"CREATE TABLE small_{i:03d} (id INT PRIMARY KEY, v VARCHAR(40), d DATE)",
            f"INSERT INTO small_{i:03d} SELECT seq, CONCAT('v', seq), '2020-01-01' FROM seq_1_to_200",
            database=DB,
        )
    sql(f"ANALYZE TABLE {DB}.orders, {DB}.events, {DB}.payloads")
    conn = pymysql.connect(host="127.0.0.1", user="root", autocommit=True)
    with conn.cursor() as cur:
        cur.execute(
            "SELECT SUM(DATA_LENGTH) FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s", (DB,)
        )
        (size,) = cur.fetchone()
    conn.close()
    return float(size) / 1e6


class Sample(NamedTuple):
    seconds: float
    memory_mb: int
    client_cpu: float
    """CPU seconds of the process and the children it waited for (a shell's pipeline)."""
    server_cpu: float
    """CPU seconds mariadbd spent meanwhile (0 when it is not a process of this machine)."""


def server_cpu() -> float:
    """CPU seconds of the local mariadbd so far (0.0 when none is found)."""
    found = subprocess.run(["pidof", "mariadbd", "mysqld"], capture_output=True, text=True)
    pids = found.stdout.split()
    if not pids:
        return 0.0
    fields = Path(f"/proc/{pids[0]}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(argv: list[str], shell: bool = False) -> Sample:
    """Seconds, peak memory (MB) and CPU of one whole process."""
    server_before = server_cpu()
    start = time.perf_counter()
    proc = subprocess.Popen(argv if not shell else ["sh", "-c", argv[0]], env=ENV,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    server = server_cpu() - server_before
    err = proc.stderr.read().decode() if proc.stderr else ""
    if status != 0:
        raise SystemExit(f"failed: {argv}: {err}")
    return Sample(elapsed, usage.ru_maxrss // 1024, usage.ru_utime + usage.ru_stime, server)


def dbmedic(*args: str) -> list[str]:
    return [
        sys.executable,
        "-c",
        "import sys; from dbmedic.cli import main; main(sys.argv[1:])",
        *args,
    ]


def dbmedic_pymysql(*args: str) -> list[str]:
    """dbmedic as a user without the optional mysqlclient driver would run it."""
    code = (
        "import sys; from dbmedic.backups import mysqlc; mysqlc.driver = lambda: None; "
        "from dbmedic.cli import main; main(sys.argv[1:])"
    )
    return [sys.executable, "-c", code, *args]


def median(samples: list[Sample]) -> Sample:
    """Medians, but the highest peak memory."""
    return Sample(
        statistics.median(s.seconds for s in samples),
        max(s.memory_mb for s in samples),
        statistics.median(s.client_cpu for s in samples),
        statistics.median(s.server_cpu for s in samples),
    )


def disk_speed(folder: Path) -> float:
    out = folder / "dd.bin"
    start = time.perf_counter()
    subprocess.run(["dd", "if=/dev/zero", f"of={out}", "bs=1M", "count=1024", "conv=fdatasync"],
                   capture_output=True, check=True)  # fmt: skip
    speed = 1024 / (time.perf_counter() - start)
    out.unlink()
    return speed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-settle", action="store_true", help="do not flush between runs")
    parser.add_argument("--backups-only", action="store_true", help="no restore rounds")
    parser.add_argument("--restores-only", action="store_true", help="no backup rounds")
    args = parser.parse_args()
    ENV.update(dbmedic_env())
    work = Path(tempfile.mkdtemp(prefix="dbm-bench-", dir="/var/tmp"))
    try:
        size = build(args.mb)
        rows: list[tuple[str, Sample, int]] = []

        def measure_rounds(entries: list[tuple[str, object, object]]) -> None:
            """Each entry once per round, the order rotated every round: a load leaves the server
            flushing pages for a while, which would otherwise always slow the same next command."""
            samples: dict[str, list[Sample]] = {label: [] for label, _, _ in entries}
            sizes: dict[str, int] = {}
            for round_ in range(args.runs):
                shift = round_ % len(entries)
                for label, make, prepare in entries[shift:] + entries[:shift]:
                    folder = work / "out"
                    shutil.rmtree(folder, ignore_errors=True)
                    folder.mkdir()
                    if callable(prepare):
                        prepare()
                    argv, shell = make(folder)  # type: ignore[operator]
                    if not args.no_settle:
                        settle(lambda: pymysql.connect(host="127.0.0.1", user="root"))
                    samples[label].append(run(argv, shell))
                    sizes[label] = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
            for label, _, _ in entries:
                rows.append((label, median(samples[label]), sizes[label]))
                each = ", ".join(f"{s.seconds:.2f}" for s in samples[label])
                print(f"  {label}: {median(samples[label]).seconds:.2f} s (every round: {each})",
                      file=sys.stderr, flush=True)  # fmt: skip

        backups: list[tuple[str, object, object]] = [
            ("dbmedic backup (default)",
             lambda d: (dbmedic("backup", URL, "--dir", str(d)), False), None),
            ("dbmedic backup --builtin",
             lambda d: (dbmedic("backup", URL, "--dir", str(d), "--builtin"), False), None),
            ("dbmedic backup, PyMySQL only (no mysqlclient)",
             lambda d: (dbmedic_pymysql("backup", URL, "--dir", str(d)), False), None),
            ("dbmedic backup --external",
             lambda d: (dbmedic("backup", URL, "--dir", str(d), "--external"), False), None),
            ("mariadb-dump --single-transaction --hex-blob > file",
             lambda d: ([f"mariadb-dump -h127.0.0.1 -uroot --single-transaction --hex-blob "
                         f"{DB} > {d}/dump.sql"], True), None),
            ("mariadb-dump ... \\| zstd -3 > file",
             lambda d: ([f"mariadb-dump -h127.0.0.1 -uroot --single-transaction --hex-blob "
                         f"{DB} | zstd -3 -q > {d}/dump.sql.zst"], True), None),
            ("mydumper -t 2",
             lambda d: (["mydumper", *MY, "-B", DB, "-t", "2", "-o", str(d / "md")], False),
             None),
        ]  # fmt: skip
        if not args.restores_only:
            measure_rounds(backups)
        if args.backups_only:
            report(rows, size, args.runs, disk_speed(work))
            return
        # restore sources, made once
        keep = work / "keep"
        keep.mkdir()
        subprocess.run(dbmedic("backup", URL, "--dir", str(keep / "dbm")), env=ENV, check=True)  # fmt: skip
        (backup_dir,) = (keep / "dbm").iterdir()
        subprocess.run(["sh", "-c", f"mariadb-dump -h127.0.0.1 -uroot --single-transaction --hex-blob {DB} > {keep}/dump.sql"], check=True)  # fmt: skip
        subprocess.run(["mydumper", *MY, "-B", DB, "-t", "2", "-o", str(keep / "md")], check=True)

        def fresh(create: bool = True) -> None:
            sql(f"DROP DATABASE IF EXISTS {TARGET}")
            if create:
                sql(f"CREATE DATABASE {TARGET} CHARACTER SET utf8mb4")

        measure_rounds(
            [
                ("dbmedic restore (verified)",
                 lambda d: (dbmedic("restore", str(backup_dir), "--db", TARGET_URL, "--create"),
                            False),
                 lambda: fresh(False)),
                ("mariadb < dump.sql",
                 lambda d: ([f"mariadb -h127.0.0.1 -uroot {TARGET} < {keep}/dump.sql"], True),
                 fresh),
                ("myloader -t 2",
                 lambda d: (["myloader", *MY, "-B", TARGET, "-t", "2", "-d", str(keep / "md")],
                            False),
                 fresh),
            ]
        )  # fmt: skip
        report(rows, size, args.runs, disk_speed(work))
    finally:
        sql(f"DROP DATABASE IF EXISTS {DB}", f"DROP DATABASE IF EXISTS {TARGET}")
        shutil.rmtree(work, ignore_errors=True)


def report(rows: list[tuple[str, Sample, int]], size: float, runs: int, disk: float) -> None:
    print(f"\n{size:.0f} MB of table data (information_schema DATA_LENGTH), medians of {runs} interleaved rounds, "
          f"whole processes; disk sequential write {disk:.0f} MB/s (dd conv=fdatasync)\n")  # fmt: skip
    print("| command | seconds | CPU s: client + server | output MB | peak memory MB |")
    print("|---|---:|---:|---:|---:|")
    for label, got, out_size in rows:
        out = f"{out_size / 1e6:.0f}" if out_size else "-"
        cpu = f"{got.client_cpu:.2f} + {got.server_cpu:.2f}"
        print(f"| {label} | {got.seconds:.2f} | {cpu} | {out} | {got.memory_mb} |")


if __name__ == "__main__":
    main()
