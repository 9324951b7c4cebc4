"""Whole-process time to read a SQLite schema: dbmedic vs SQLAlchemy vs the sqlite3 shell.

Builds Laravel-like files of 244 and 5,000 tables (foreign keys, unique and plain indexes, a
CHECK, defaults) in a temporary folder and prints the median of 5 runs of each tool.

    PYTHONPATH=src /work/main/.venv/bin/python bench/inspect_sqlite.py [--runs 5] [--sizes 244,5000]
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DBMEDIC = """
import sys
from dbmedic.connect import open_target
with open_target("sqlite:///" + sys.argv[1]) as db, db.connect() as conn:
    schema = db.dialect.inspect(conn, db.info)
assert len(schema.tables) == int(sys.argv[2])
"""
REFLECT = """
import sys
from sqlalchemy import MetaData, create_engine
meta = MetaData()
meta.reflect(create_engine("sqlite:///" + sys.argv[1]))
assert len(meta.tables) == int(sys.argv[2])
"""
GET_MULTI = """
import sys
from sqlalchemy import create_engine, inspect
insp = inspect(create_engine("sqlite:///" + sys.argv[1]))
cols = insp.get_multi_columns(); insp.get_multi_pk_constraint(); insp.get_multi_foreign_keys()
insp.get_multi_indexes(); insp.get_multi_unique_constraints(); insp.get_multi_check_constraints()
assert len(cols) == int(sys.argv[2])
"""
BARE = """
import sqlite3, sys
from importlib import resources
con = sqlite3.connect(sys.argv[1])
folder = resources.files("dbmedic.dialects.sqlite") / "sql"
for f in sorted(folder.iterdir()):
    if f.name.endswith(".sql"):
        con.execute(f.read_text()).fetchall()
"""


def build(path: Path, n: int) -> None:
    con = sqlite3.connect(path)
    parts = []
    for i in range(n):
        ref = f", parent_id INTEGER REFERENCES t{(i - 1) // 2} (id) ON DELETE CASCADE" if i else ""
        parts.append(
            f"CREATE TABLE t{i} (id INTEGER PRIMARY KEY AUTOINCREMENT,"
            f" name VARCHAR(255) NOT NULL DEFAULT '', email VARCHAR(255),"
            f" created_at TEXT DEFAULT CURRENT_TIMESTAMP, score REAL CHECK (score >= 0){ref},"
            f" CONSTRAINT t{i}_email_unique UNIQUE (email));\n"
            f"CREATE INDEX t{i}_name_index ON t{i} (name);"
        )
    con.executescript("\n".join(parts))
    con.close()


def timed(cmd: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sizes", default="244,5000")
    args = parser.parse_args()
    py = sys.executable
    print(
        "| tables | dbmedic | bare 4 queries | SQLAlchemy reflect() | get_multi_* | sqlite3 .schema |"
    )
    print("|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(s) for s in args.sizes.split(",")):
            path = Path(tmp) / f"bench_{n}.db"
            build(path, n)
            row = [
                timed([py, "-c", DBMEDIC, str(path), str(n)], args.runs),
                timed([py, "-c", BARE, str(path)], args.runs),
                timed([py, "-c", REFLECT, str(path), str(n)], args.runs),
                timed([py, "-c", GET_MULTI, str(path), str(n)], args.runs),
            ]
            shell = shutil.which("sqlite3")
            cells = [f"{t:.2f} s" for t in row]
            cells.append(
                f"{timed([shell, str(path), '.schema'], args.runs):.2f} s" if shell else "-"
            )
            print(f"| {n} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
