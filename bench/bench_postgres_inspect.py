"""PostgreSQL: whole-process time and peak memory of reading a schema, dbmedic vs the usual tools.

Builds Laravel-like schemas (every table: bigserial id, 9 columns, a unique key, an index, a
foreign key to the previous table) in throwaway databases, then runs each reader as its own
process N times and prints medians. Usage:

    PYTHONPATH=src python bench/bench_postgres_inspect.py [--tables 244,5000] [--runs 5]

Server: ``DBMEDIC_BENCH_POSTGRESQL_URL`` (an admin URL), default postgres@127.0.0.1:5432.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time

import psycopg
from sqlalchemy.engine import make_url

ADMIN = os.environ.get(
    "DBMEDIC_BENCH_POSTGRESQL_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)

DBMEDIC = """
import sys
from dbmedic.connect import open_target
with open_target(sys.argv[1]) as db, db.connect() as conn:
    schema = db.dialect.inspect(conn, db.info)
assert len(schema.tables) == int(sys.argv[2])
"""

BARE = """
import sys, psycopg
conn = psycopg.connect(sys.argv[1])
for q in [
    "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE n.nspname = 'public' AND c.relkind = 'r'",
    "SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, "
    "pg_get_expr(ad.adbin, ad.adrelid) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
    "JOIN pg_namespace n ON n.oid = c.relnamespace LEFT JOIN pg_attrdef ad "
    "ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum WHERE n.nspname = 'public' "
    "AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped",
    "SELECT conrelid::regclass, conname, contype, pg_get_constraintdef(oid) FROM pg_constraint "
    "WHERE connamespace = 'public'::regnamespace",
    "SELECT indrelid::regclass, indexrelid::regclass, pg_get_indexdef(indexrelid) FROM pg_index i "
    "JOIN pg_class c ON c.oid = i.indrelid WHERE c.relnamespace = 'public'::regnamespace",
    "SELECT viewname, definition FROM pg_views WHERE schemaname = 'public'",
]:
    conn.execute(q).fetchall()
"""

REFLECT = """
import sys
from sqlalchemy import MetaData, create_engine
engine = create_engine(sys.argv[1])
md = MetaData()
md.reflect(engine)
assert len(md.tables) == int(sys.argv[2])
"""

GET_MULTI = """
import sys
from sqlalchemy import create_engine, inspect
insp = inspect(create_engine(sys.argv[1]))
cols = insp.get_multi_columns()
insp.get_multi_pk_constraint(); insp.get_multi_foreign_keys(); insp.get_multi_indexes()
insp.get_multi_unique_constraints(); insp.get_multi_check_constraints()
assert len(cols) == int(sys.argv[2])
"""


def libpq(url: str) -> str:
    u = make_url(url)
    return f"host={u.host} port={u.port or 5432} user={u.username} dbname={u.database}"


def build(n: int) -> str:
    """Create ``dbm_bench_pg_<n>`` with n tables; return its SQLAlchemy URL."""
    name = f"dbm_bench_pg_{n}"
    admin = make_url(ADMIN)
    with psycopg.connect(libpq(ADMIN), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = admin.set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(libpq(url)) as conn:
        for i in range(1, n + 1):
            fk = f", parent_id bigint REFERENCES t{i - 1} (id) ON DELETE CASCADE" if i > 1 else ""
            conn.execute(
                f"CREATE TABLE t{i} (id bigserial PRIMARY KEY, name varchar(255) NOT NULL, "
                "email varchar(255), status varchar(20) NOT NULL DEFAULT 'new', "
                "amount numeric(10,2) DEFAULT 0, is_active boolean NOT NULL DEFAULT true, "
                f"meta jsonb, created_at timestamp(0), updated_at timestamp(0){fk}, "
                f"CONSTRAINT t{i}_email_unique UNIQUE (email))"
            )
            conn.execute(f"CREATE INDEX t{i}_status_index ON t{i} (status, created_at)")
            if i % 50 == 0:
                conn.commit()
    return url


def drop(url: str) -> None:
    with psycopg.connect(libpq(ADMIN), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


def run(argv: list[str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (MB) of one process."""
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"{argv[:3]} failed with {proc.returncode}")
    return time.perf_counter() - started, usage.ru_maxrss // 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tables", default="244,5000")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    py = sys.executable
    print("| tables | reader | median s | peak MB | runs |\n|---:|---|---:|---:|---:|")
    for n in (int(x) for x in args.tables.split(",")):
        url = build(n)
        try:
            readers = {
                "dbmedic (PostgreSQL dialect inspect)": [py, "-c", DBMEDIC, url, str(n)],
                "bare psycopg, 5 bulk pg_catalog queries": [py, "-c", BARE, libpq(url)],
                "SQLAlchemy get_multi_*": [py, "-c", GET_MULTI, url, str(n)],
                "SQLAlchemy MetaData().reflect()": [py, "-c", REFLECT, url, str(n)],
            }
            if shutil.which("pg_dump"):
                u = make_url(url)
                readers["pg_dump -s"] = [
                    "pg_dump", "-s", "-h", str(u.host), "-U", str(u.username), "-f", os.devnull,
                    str(u.database),
                ]  # fmt: skip
            for label, argv in readers.items():
                results = [run(argv) for _ in range(args.runs)]
                secs = statistics.median(r[0] for r in results)
                mem = max(r[1] for r in results)
                print(f"| {n} | {label} | {secs:.2f} | {mem} | {args.runs} |", flush=True)
        finally:
            drop(url)


if __name__ == "__main__":
    main()
