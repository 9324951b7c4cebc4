"""`dbmedic fix --strategy resume|reset` on the demo-sized incident on MariaDB, whole process.

Builds the seed incident with dbmate-format migrations (185 files, 244 tables) on the MariaDB
server at 127.0.0.1:3306, staging stopped at 2025_10_23_162250, with 10 rows in each staging
table. Times whole processes (start-up included), N runs each, medians, the database rebuilt
before every run:

    dbmedic fix --strategy resume --yes --json   (diagnose simulated, backup, mark, migrate the
                                                  rest, verify)
    dbmedic fix --strategy reset --yes --json    (diagnose with the reset rehearsal on an empty
                                                  shadow, backup, recreate, migrate all, verify);
                                                  the failing migration made idempotent first
                                                  (ADD COLUMN IF NOT EXISTS), else it is refused
    dbmedic migrate of all migrations on an empty database (the framework's full migrate; the
                                                  idempotent files, else it stops at the duplicate)
    dbmedic backup of staging (the backup both strategies take)

Targets (issue 7): resume within 2x of the full migrate; reset within 1.2x of full migrate plus
the backup.

Usage: PYTHONPATH=src python bench/fix_strategies.py [--runs 3]
"""

from __future__ import annotations

import sys

if sys.path and sys.path[0].rstrip("/").endswith("bench"):
    sys.path.pop(0)  # bench/inspect.py would shadow the standard library's inspect

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ADMIN = os.environ.get("DBMEDIC_BENCH_MARIADB", "mysql+pymysql://root@127.0.0.1:3306/mysql")
BOOT = "import sys\nfrom dbmedic.cli import main; main(sys.argv[1:])"
NAMES = ("dbmedic_bench_fix_staging", "dbmedic_bench_fix_fresh")


def _recreate(name: str) -> str:
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    admin = make_url(ADMIN)
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{name}`")
        conn.exec_driver_sql(
            f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
        )
    engine.dispose()
    return admin.set(database=name).render_as_string(hide_password=False)


def _write(app: Path, files: dict[str, str]) -> None:
    folder = app / "db" / "migrations"
    folder.mkdir(parents=True)
    for name, text in files.items():
        (folder / name).write_text(text)


def build(workdir: Path, idempotent: bool) -> tuple[Path, str]:
    from dbmedic.connect import open_target
    from dbmedic.demo.render_dbmate import render
    from dbmedic.demo.spec import incident_app
    from dbmedic.frameworks import get_framework

    app = workdir / "app"
    if not app.exists():
        _write(app, render(incident_app(), "mysql"))
    staging = _recreate(NAMES[0])
    fw = get_framework("dbmate")
    with open_target(staging) as db:
        result = fw.migrate(db, app)
        assert result.failed is not None and result.failed.startswith("20251023162250")
        with db.engine.begin() as conn:
            for name in db.dialect.table_names(conn):
                if name == "schema_migrations" or "dbmedic" in name:
                    continue
                cols = conn.exec_driver_sql(f"SHOW COLUMNS FROM `{name}`").all()
                if all(c[5] == "auto_increment" or c[2] == "YES" or c[4] is not None for c in cols):
                    for _ in range(10):
                        conn.exec_driver_sql(f"INSERT INTO `{name}` () VALUES ()")
    if idempotent:  # the guard diagnose prints, on a copy of the files
        fixed = workdir / "app-idempotent"
        shutil.rmtree(fixed, ignore_errors=True)
        shutil.copytree(app / "db", fixed / "db")
        failing = next((fixed / "db" / "migrations").glob("20251023162250*.sql"))
        text = failing.read_text()
        failing.write_text(re.sub(r"(?i)\badd column ", "ADD COLUMN IF NOT EXISTS ", text, count=1))
        return fixed, staging
    return app, staging


def run(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[float, str]:
    started = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{cmd[3:5]} failed ({proc.returncode}): {proc.stderr[-800:]}")
    return seconds, proc.stdout


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="dbmedic-bench-fix-"))
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    times: dict[str, list[float]] = {}
    steps: dict[str, dict[str, list[float]]] = {}
    try:
        for _ in range(args.runs):
            for strategy in ("resume", "reset"):
                app, staging = build(workdir, idempotent=strategy == "reset")
                backups = workdir / "backups"
                shutil.rmtree(backups, ignore_errors=True)
                cmd = [sys.executable, "-c", BOOT, "fix", "--strategy", strategy, "--app",
                       str(app), "--db", staging, "--yes", "--json", "--backup-dir", str(backups)]  # fmt: skip
                seconds, out = run(cmd, env, workdir)
                outcome = json.loads(out)
                assert outcome["ok"], outcome
                times.setdefault(strategy, []).append(seconds)
                for s in outcome.get("steps", []):
                    steps.setdefault(strategy, {}).setdefault(s["kind"], []).append(
                        float(s.get("seconds") or 0.0)
                    )
            app, staging = build(workdir, idempotent=False)
            backups = workdir / "backups-alone"
            shutil.rmtree(backups, ignore_errors=True)
            s, _ = run([sys.executable, "-c", BOOT, "backup", staging, "--dir", str(backups)],
                       env, workdir)  # fmt: skip
            times.setdefault("backup", []).append(s)
            fresh = _recreate(NAMES[1])
            s, _ = run([sys.executable, "-c", BOOT, "migrate", "--app", str(workdir / "app-idempotent"), "--db", fresh],
                       env, workdir)  # fmt: skip
            times.setdefault("migrate", []).append(s)
    finally:
        from sqlalchemy import create_engine

        engine = create_engine(ADMIN, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            for name in NAMES:
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{name}`")
        engine.dispose()
        shutil.rmtree(workdir, ignore_errors=True)

    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"\nmedians of {args.runs} runs, seconds")
    print(f"| {'what':<62} | {'s':>6} |")
    print(f"|{'-' * 64}|{'-' * 8}|")
    for strategy in ("resume", "reset"):
        print(
            f"| dbmedic fix --strategy {strategy}, whole process{'':<25} | {med[strategy]:6.2f} |"
        )
        for kind, values in steps.get(strategy, {}).items():
            print(f"|   step {kind:<55} | {statistics.median(values):6.2f} |")
    print(
        f"| dbmedic migrate, all migrations on an empty database{'':<9} | {med['migrate']:6.2f} |"
    )
    print(f"| dbmedic backup of staging{'':<36} | {med['backup']:6.2f} |")
    print(f"\nresume / migrate = {med['resume'] / med['migrate']:.2f} (target <= 2)")
    print(
        f"reset / (migrate + backup) = {med['reset'] / (med['migrate'] + med['backup']):.2f} "
        "(target <= 1.2)"
    )


if __name__ == "__main__":
    main()
