"""MySQL/MariaDB dialect inspection: whole-process medians, dbmedic vs a bare PyMySQL script.

    PYTHONPATH=src python bench/mysql_dialect.py --tables 244 --tables 5000

Builds Laravel-like tables (a foreign key, a unique and a plain index each) in throwaway
databases on 127.0.0.1:3306 (root), runs each contender 5 times as a fresh process and prints
the medians. The bare script runs the dialect's own catalog queries and fetches the rows, so the
difference is dbmedic's start-up and model building. Databases are dropped at the end.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

import pymysql

BARE = """
import sys, pymysql
from dbmedic.dialects.mysql import MariaDB
from dbmedic.dialects.mysql.inspect import QUERIES
c = pymysql.connect(host="127.0.0.1", user="root", database=sys.argv[1])
cur = c.cursor()
for q in QUERIES:
    cur.execute(MariaDB.catalog[q]); cur.fetchall()
"""
DBMEDIC = """
import sys
from dbmedic.connect import open_target
with open_target("mysql://root@127.0.0.1/" + sys.argv[1]) as db, db.connect() as conn:
    db.dialect.inspect(conn, db.info)
"""


def build(cur: pymysql.cursors.Cursor, name: str, n: int) -> None:
    cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    cur.execute(f"USE `{name}`")
    cur.execute("SET FOREIGN_KEY_CHECKS=0")
    for i in range(n):
        cur.execute(
            f"CREATE TABLE t{i} (id bigint unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY, "
            "parent_id bigint unsigned NULL, name varchar(255) NOT NULL, "
            "email varchar(191) NOT NULL, status varchar(20) NOT NULL DEFAULT 'new', "
            "amount decimal(10,2) NOT NULL DEFAULT 0, created_at timestamp NULL, "
            f"updated_at timestamp NULL, UNIQUE KEY t{i}_email_unique (email), "
            f"KEY t{i}_status_index (status), CONSTRAINT t{i}_parent_fk FOREIGN KEY (parent_id) "
            f"REFERENCES t{max(i - 1, 0)} (id) ON DELETE CASCADE)"
        )


def median_seconds(code: str, database: str, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code, database], check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tables", type=int, action="append", default=[])
    args = parser.parse_args()
    conn = pymysql.connect(host="127.0.0.1", user="root", autocommit=True)
    cur = conn.cursor()
    print(f"{'tables':>7}  {'dbmedic inspect':>16}  {'bare 8 queries':>15}  ratio")
    for n in args.tables or [244]:
        name = f"dbm_bench_mysql_{n}"
        cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        try:
            build(cur, name, n)
            ours = median_seconds(DBMEDIC, name)
            bare = median_seconds(BARE, name)
            print(f"{n:>7}  {ours:>15.2f}s  {bare:>14.2f}s  {ours / bare:.2f}")
        finally:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")


if __name__ == "__main__":
    main()
