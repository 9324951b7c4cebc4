"""Benchmark: schema inspection, whole process, dbmedic against the tools a user would use.

Builds a Laravel-like schema (244 tables, and 5,000 tables) with foreign keys and indexes on
MariaDB and PostgreSQL, then runs each contender as its own process and reports the median wall
time of N runs and the peak resident memory (ru_maxrss of that process):

- ``dbmedic inspect URL -o /dev/null``
- SQLAlchemy ``MetaData().reflect()``
- SQLAlchemy 2 ``inspect(engine).get_multi_*()``
- ``mariadb-dump --no-data`` / ``pg_dump -s``
- a bare PyMySQL / psycopg script running the bulk catalog queries (the floor)

and ``dbmedic --help`` start-up time. Usage::

    PYTHONPATH=src python bench/inspect_schema.py [--quick] [--sizes 244,5000] [--servers mariadb,postgresql]
                                           [--keep] [--write bench/RESULTS.md]

The bench databases are ``dbm_bench_<n>``; they are dropped at the end unless ``--keep`` (a kept
database with the right number of tables is reused by the next run).
"""

from __future__ import annotations

import sys

# This file is named like the standard library's ``inspect``: keep its folder off the import path
# so that ``import inspect`` (done by dataclasses, SQLAlchemy, ...) finds the real one.
sys.path[:] = [p for p in sys.path if p not in ("", __file__.rsplit("/", 1)[0])]

import argparse  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
SERVERS = {
    "mariadb": "mysql+pymysql://root@127.0.0.1:3306/{db}",
    "postgresql": "postgresql+psycopg://postgres@127.0.0.1:5432/{db}",
}
ADMIN = {"mariadb": "mysql", "postgresql": "postgres"}

# --- schema -----------------------------------------------------------------------------------


def laravel_tables(n: int) -> list[str]:
    """Table names like a Laravel app's: groups of a prefix with several tables each."""
    prefixes = [
        "retell",
        "customer",
        "appointment",
        "service",
        "notification",
        "billing",
        "staff",
        "company",
        "conversation",
        "data",
        "calendar",
        "integration",
        "report",
        "webhook",
    ]
    suffixes = [
        "sessions",
        "events",
        "items",
        "logs",
        "settings",
        "links",
        "notes",
        "flows",
        "segments",
        "agents",
        "rules",
        "templates",
        "queues",
        "stats",
        "tags",
        "versions",
    ]
    names = ["users", "companies", "password_resets", "failed_jobs", "migrations"]
    i = 0
    while len(names) < n:
        p = prefixes[i % len(prefixes)]
        s = suffixes[(i // len(prefixes)) % len(suffixes)]
        k = i // (len(prefixes) * len(suffixes))
        names.append(f"{p}_{s}" + (f"_{k}" if k else ""))
        i += 1
    return names[:n]


def table_ddl(server: str, names: list[str]) -> list[str]:
    """CREATE TABLE statements: Laravel columns, a unique and two indexes, 1-2 foreign keys."""
    q = (lambda s: f"`{s}`") if server == "mariadb" else (lambda s: f'"{s}"')
    out = []
    for i, name in enumerate(names):
        if server == "mariadb":
            cols = [
                "`id` BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY",
                "`company_id` BIGINT UNSIGNED NULL",
                "`parent_id` BIGINT UNSIGNED NULL",
                "`name` VARCHAR(255) NOT NULL",
                "`slug` VARCHAR(191) NOT NULL",
                "`status` VARCHAR(32) NOT NULL DEFAULT 'active'",
                "`priority` INT NOT NULL DEFAULT 999",
                "`payload` JSON NULL",
                "`notes` TEXT NULL",
                "`is_active` TINYINT(1) NOT NULL DEFAULT 1",
                "`created_at` TIMESTAMP NULL",
                "`updated_at` TIMESTAMP NULL",
                "`deleted_at` TIMESTAMP NULL",
            ]
        else:
            cols = [
                '"id" BIGSERIAL PRIMARY KEY',
                '"company_id" BIGINT NULL',
                '"parent_id" BIGINT NULL',
                '"name" VARCHAR(255) NOT NULL',
                '"slug" VARCHAR(191) NOT NULL',
                "\"status\" VARCHAR(32) NOT NULL DEFAULT 'active'",
                '"priority" INTEGER NOT NULL DEFAULT 999',
                '"payload" JSON NULL',
                '"notes" TEXT NULL',
                '"is_active" BOOLEAN NOT NULL DEFAULT true',
                '"created_at" TIMESTAMP(0) NULL',
                '"updated_at" TIMESTAMP(0) NULL',
                '"deleted_at" TIMESTAMP(0) NULL',
            ]
        cons = [f"CONSTRAINT {q(name + '_slug_unique')} UNIQUE ({q('slug')})"]
        if i > 0:
            ref = names[(i * 7) % i] if i > 1 else names[0]
            cons.append(
                f"CONSTRAINT {q(name + '_company_id_foreign')} FOREIGN KEY ({q('company_id')}) "
                f"REFERENCES {q(names[1] if i > 1 else names[0])} ({q('id')}) ON DELETE CASCADE"
            )
            cons.append(
                f"CONSTRAINT {q(name + '_parent_id_foreign')} FOREIGN KEY ({q('parent_id')}) "
                f"REFERENCES {q(ref)} ({q('id')}) ON DELETE SET NULL"
            )
        idx_status = f"{q(name + '_status_index')}"
        idx_created = f"{q(name + '_created_at_index')}"
        if server == "mariadb":
            cons.append(f"KEY {idx_status} ({q('status')}, {q('priority')})")
            cons.append(f"KEY {idx_created} ({q('created_at')})")
            tail = " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci"
            out.append(f"CREATE TABLE {q(name)} (\n  " + ",\n  ".join(cols + cons) + f"\n){tail}")
        else:
            out.append(f"CREATE TABLE {q(name)} (\n  " + ",\n  ".join(cols + cons) + "\n)")
            out.append(f"CREATE INDEX {idx_status} ON {q(name)} ({q('status')}, {q('priority')})")
            out.append(f"CREATE INDEX {idx_created} ON {q(name)} ({q('created_at')})")
    return out


def admin_conn(server: str, db: str):  # type: ignore[no-untyped-def]
    if server == "mariadb":
        import pymysql
        from pymysql.constants import CLIENT

        return pymysql.connect(
            host="127.0.0.1",
            port=3306,
            user="root",
            database=db,
            autocommit=True,
            client_flag=CLIENT.MULTI_STATEMENTS,
        )
    import psycopg

    return psycopg.connect(host="127.0.0.1", port=5432, user="postgres", dbname=db, autocommit=True)


def table_count(server: str, db: str) -> int | None:
    conn = admin_conn(server, ADMIN[server])
    try:
        cur = conn.cursor()
        if server == "mariadb":
            cur.execute(
                "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME=%s", (db,)
            )
            if cur.fetchone()[0] == 0:
                return None
            cur.execute(
                "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA=%s", (db,)
            )
            return int(cur.fetchone()[0])
        cur.execute("SELECT 1 FROM pg_database WHERE datname=%s", (db,))
        if cur.fetchone() is None:
            return None
    finally:
        conn.close()
    conn = admin_conn(server, db)
    try:
        row = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname='public'").fetchone()
        return int(row[0])
    finally:
        conn.close()


def build(server: str, n: int) -> str:
    """Create dbm_bench_<n> with n tables (reused when it already has them)."""
    db = f"dbm_bench_{n}"
    if table_count(server, db) == n:
        return db
    drop(server, db)
    conn = admin_conn(server, ADMIN[server])
    if server == "mariadb":
        conn.cursor().execute(
            f"CREATE DATABASE `{db}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
        )
    else:
        conn.execute(f'CREATE DATABASE "{db}"')
    conn.close()
    started = time.perf_counter()
    statements = table_ddl(server, laravel_tables(n))
    conn = admin_conn(server, db)
    if server == "mariadb":
        cur = conn.cursor()
        cur.execute("SET SESSION foreign_key_checks = 0")
        for i in range(0, len(statements), 200):  # multi-statement batches: few round trips
            cur.execute(";\n".join(statements[i : i + 200]))
            while cur.nextset():
                pass
    else:
        for i in range(0, len(statements), 300):  # one implicit transaction per batch
            conn.execute(";\n".join(statements[i : i + 300]).encode())
    conn.close()
    print(
        f"  built {db} on {server}: {n} tables in {time.perf_counter() - started:.1f} s",
        file=sys.stderr,
    )
    return db


def drop(server: str, db: str) -> None:
    conn = admin_conn(server, ADMIN[server])
    if server == "mariadb":
        conn.cursor().execute(f"DROP DATABASE IF EXISTS `{db}`")
    else:
        conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
    conn.close()


# --- contenders -------------------------------------------------------------------------------

REFLECT = """
import sys
from sqlalchemy import MetaData, create_engine
engine = create_engine(sys.argv[1])
md = MetaData()
md.reflect(engine)
print(len(md.tables))
"""

GET_MULTI = """
import sys
from sqlalchemy import create_engine, inspect
engine = create_engine(sys.argv[1])
with engine.connect() as conn:
    insp = inspect(conn)
    cols = insp.get_multi_columns()
    pks = insp.get_multi_pk_constraint()
    fks = insp.get_multi_foreign_keys()
    idx = insp.get_multi_indexes()
    uqs = insp.get_multi_unique_constraints()
print(len(cols), len(fks), len(idx))
"""

BARE_MARIADB = """
import sys, pymysql
db = sys.argv[1]
conn = pymysql.connect(host="127.0.0.1", port=3306, user="root", database=db)
cur = conn.cursor()
queries = [
    "SELECT TABLE_NAME, ENGINE, TABLE_COLLATION, TABLE_COMMENT FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE'",
    "SELECT TABLE_NAME, COLUMN_NAME, ORDINAL_POSITION, COLUMN_DEFAULT, IS_NULLABLE, COLUMN_TYPE, CHARACTER_SET_NAME, COLLATION_NAME, EXTRA, COLUMN_COMMENT, GENERATION_EXPRESSION FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()",
    "SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, SEQ_IN_INDEX, COLUMN_NAME, SUB_PART, COLLATION, INDEX_TYPE FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE()",
    # two queries, not a join: joining them makes MariaDB scan every database's tables
    "SELECT TABLE_NAME, CONSTRAINT_NAME, COLUMN_NAME, REFERENCED_TABLE_NAME, REFERENCED_COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = DATABASE() AND REFERENCED_TABLE_NAME IS NOT NULL",
    "SELECT TABLE_NAME, CONSTRAINT_NAME, UPDATE_RULE, DELETE_RULE FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE()",
    "SELECT TABLE_NAME, CONSTRAINT_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE()",
]
rows = 0
for q in queries:
    cur.execute(q)
    rows += len(cur.fetchall())
print(rows)
"""

BARE_POSTGRES = """
import sys, psycopg
conn = psycopg.connect(host="127.0.0.1", port=5432, user="postgres", dbname=sys.argv[1])
queries = [
    "SELECT c.oid, c.relname, obj_description(c.oid, 'pg_class') FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')",
    "SELECT a.attrelid, a.attname, a.attnum, format_type(a.atttypid, a.atttypmod), a.attnotnull, pg_get_expr(d.adbin, d.adrelid), a.attidentity, a.attgenerated, col_description(a.attrelid, a.attnum) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped",
    "SELECT i.indrelid, ic.relname, pg_get_indexdef(i.indexrelid), i.indisunique, i.indisprimary FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_namespace n ON n.oid = ic.relnamespace WHERE n.nspname = 'public'",
    "SELECT con.conrelid, con.conname, con.contype, pg_get_constraintdef(con.oid) FROM pg_constraint con JOIN pg_namespace n ON n.oid = con.connamespace WHERE n.nspname = 'public'",
    "SELECT c.relname, pg_get_viewdef(c.oid) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind IN ('v', 'm')",
]
rows = 0
for q in queries:
    rows += len(conn.execute(q).fetchall())
print(rows)
"""


def contenders(server: str, db: str) -> dict[str, list[str]]:
    url = SERVERS[server].format(db=db)
    dbmedic = [PY, "-c", "from dbmedic.cli import main; main()", "inspect", url, "-o", "/dev/null"]
    if server == "mariadb":
        dump = [
            "mariadb-dump",
            "-h",
            "127.0.0.1",
            "-P",
            "3306",
            "-u",
            "root",
            "--no-data",
            "--skip-comments",
            "--routines=false",
            "--result-file=/dev/null",
            db,
        ]
        bare = [PY, "-c", BARE_MARIADB, db]
        dump_name = "mariadb-dump --no-data"
    else:
        dump = [
            "pg_dump",
            "-h",
            "127.0.0.1",
            "-p",
            "5432",
            "-U",
            "postgres",
            "-s",
            "-f",
            "/dev/null",
            db,
        ]
        bare = [PY, "-c", BARE_POSTGRES, db]
        dump_name = "pg_dump -s"
    return {
        "dbmedic inspect -o /dev/null": dbmedic,
        "SQLAlchemy MetaData().reflect()": [PY, "-c", REFLECT, url],
        "SQLAlchemy inspect().get_multi_*()": [PY, "-c", GET_MULTI, url],
        dump_name: dump,
        "bare bulk queries (floor)": bare,
    }


def run_once(cmd: list[str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (MB) of one process."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:3])}... failed ({proc.returncode}): {err.strip()[:500]}")
    return seconds, usage.ru_maxrss // 1024


def measure(cmd: list[str], runs: int) -> tuple[float, int, float]:
    """Median seconds, peak MB, and the 1-minute load average before the runs (other work on
    the machine inflates the times: read the numbers next to it)."""
    run_once(cmd)  # warm the server's caches and the OS file cache
    load = os.getloadavg()[0]
    results = [run_once(cmd) for _ in range(runs)]
    return statistics.median(r[0] for r in results), max(r[1] for r in results), load


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 runs instead of 5")
    parser.add_argument("--sizes", default="244,5000")
    parser.add_argument("--servers", default="mariadb,postgresql")
    parser.add_argument("--only", default="", help="comma-separated substrings of contender names")
    parser.add_argument("--keep", action="store_true", help="keep the bench databases")
    parser.add_argument(
        "--write", type=Path, help="write the table to this Markdown file (## inspect)"
    )
    args = parser.parse_args()
    runs = 2 if args.quick else 5
    sizes = [int(s) for s in args.sizes.split(",")]
    servers = [s.strip() for s in args.servers.split(",") if s.strip()]

    rows: list[tuple[str, int, str, float, int, float]] = []
    built: list[tuple[str, str]] = []
    try:
        for server in servers:
            for n in sizes:
                db = build(server, n)
                built.append((server, db))
                for name, cmd in contenders(server, db).items():
                    if args.only and not any(o in name for o in args.only.split(",")):
                        continue
                    seconds, mb, load = measure(cmd, runs)
                    rows.append((server, n, name, seconds, mb, load))
                    print(
                        f"  {server:<10} {n:>5}  {name:<36} {seconds:7.3f} s  {mb:5d} MB"
                        f"  load {load:.1f}",
                        file=sys.stderr,
                    )
        help_s, help_mb, help_load = measure(
            [PY, "-c", "from dbmedic.cli import main; main()", "--help"], runs
        )
    finally:
        if not args.keep:
            for server, db in built:
                drop(server, db)

    table = render(rows, (help_s, help_mb, help_load), runs)
    print(table)
    if args.write:
        write_section(args.write, table)


def render(
    rows: list[tuple[str, int, str, float, int, float]],
    help_run: tuple[float, int, float],
    runs: int,
) -> str:
    lines = [
        f"Median wall time of {runs} runs (after one warm-up), whole process; peak RSS of the process;",
        "load: the 1-minute load average when the runs began (other work on the machine).",
        f"Machine: {os.cpu_count()} cores shared with other work; `python bench/inspect_schema.py`.",
        "",
        "| server | tables | tool | seconds | vs floor | peak MB | load |",
        "|---|---:|---|---:|---:|---:|---:|",
    ]
    floor = {(s, n): sec for s, n, name, sec, _, _ in rows if name.startswith("bare")}
    for server, n, name, seconds, mb, load in rows:
        ratio = f"{seconds / floor[(server, n)]:.2f}x" if (server, n) in floor else ""
        lines.append(f"| {server} | {n} | {name} | {seconds:.3f} | {ratio} | {mb} | {load:.1f} |")
    help_s, help_mb, help_load = help_run
    lines.append(
        f"| - | - | `dbmedic --help` start-up | {help_s:.3f} | | {help_mb} | {help_load:.1f} |"
    )
    return "\n".join(lines) + "\n"


def write_section(path: Path, table: str) -> None:
    """Replace (or add) the ``## inspect`` section of a Markdown file, leaving others alone."""
    text = path.read_text() if path.exists() else "# Benchmark results\n"
    start = text.find("\n## inspect\n")
    section = f"\n## inspect\n\n{table}"
    if start == -1:
        text = text.rstrip("\n") + "\n" + section
    else:
        end = text.find("\n## ", start + 1)
        text = text[:start] + section + (text[end:] if end != -1 else "")
    path.write_text(text)


if __name__ == "__main__":
    main()
