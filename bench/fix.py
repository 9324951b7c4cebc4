"""`dbmedic fix` on the demo-sized incident on MariaDB, next to the manual routes of the seed.

Builds the seed incident with dbmate-format migrations on the MariaDB server at 127.0.0.1:3306:
production (185 migrations, 244 tables) and a staging template stopped at 2025_10_23_162250.
Before every timed run a fresh staging copy is made from the template (untimed). Then it times
whole processes (start-up included), N runs each, medians:

    sync:   dbmedic fix --strategy sync --app APP --db STAGING --reference PRODUCTION --yes --json
            (lock, backup + its check, DDL, tracking table, verification, report)
    manual: mariadb-dump --no-data PRODUCTION | mariadb STAGING   (the seed's dump-and-pipe)
    reset / resume: slots for the strategies branch (`--strategy reset|resume`), skipped while
            `dbmedic fix` says the strategy is not available

Usage: PYTHONPATH=src python -P bench/fix.py [--runs 3] [--keep]
(``-P``: bench/inspect.py would shadow the standard library module ``inspect``.)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ADMIN = os.environ.get("DBMEDIC_BENCH_MARIADB", "mysql+pymysql://root@127.0.0.1:3306/mysql")
BOOT = "import sys\nfrom dbmedic.cli import main; main(sys.argv[1:])"
PREFIX = "fixbench_"
NAMES = {n: PREFIX + n for n in ("template", "prod", "staging")}


def _admin() -> object:
    from sqlalchemy import create_engine

    return create_engine(ADMIN, isolation_level="AUTOCOMMIT")


def _recreate(name: str) -> str:
    from sqlalchemy.engine import make_url

    engine = _admin()
    with engine.connect() as conn:  # type: ignore[attr-defined]
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{name}`")
        conn.exec_driver_sql(
            f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
        )
    engine.dispose()  # type: ignore[attr-defined]
    return make_url(ADMIN).set(database=name).render_as_string(hide_password=False)


def _client_args() -> list[str]:
    from sqlalchemy.engine import make_url

    url = make_url(ADMIN)
    return [
        "-h",
        url.host or "127.0.0.1",
        "-P",
        str(url.port or 3306),
        "-u",
        url.username or "root",
    ]


def _pipe(dump: list[str], load: list[str]) -> float:
    started = time.perf_counter()
    producer = subprocess.Popen(dump, stdout=subprocess.PIPE)
    consumer = subprocess.run(load, stdin=producer.stdout, capture_output=True, check=False)
    producer.wait()
    seconds = time.perf_counter() - started
    if producer.returncode or consumer.returncode:
        raise SystemExit(f"pipe failed: {consumer.stderr.decode()[:300]}")
    return seconds


def _copy(source: str, target: str) -> str:
    url = _recreate(target)
    c = _client_args()
    with tempfile.TemporaryFile() as dump:
        subprocess.run(
            ["mariadb-dump", *c, "--single-transaction", source], stdout=dump, check=True
        )
        dump.seek(0)
        subprocess.run(["mariadb", *c, target], stdin=dump, check=True)
    return url


def build(workdir: Path) -> Path:
    from dbmedic.connect import open_target
    from dbmedic.demo.render_dbmate import render
    from dbmedic.demo.spec import incident_app
    from dbmedic.frameworks import get_framework

    spec = incident_app()
    app, history = workdir / "app", workdir / "production-history"
    for root, era in ((app, "current"), (history, "production")):
        folder = root / "db" / "migrations"
        folder.mkdir(parents=True)
        for name, text in render(spec, "mysql", era=era).items():
            (folder / name).write_text(text)
    fw = get_framework("dbmate")
    with open_target(_recreate(NAMES["prod"])) as db:
        assert fw.migrate(db, history).ok
    with open_target(_recreate(NAMES["template"])) as db:
        result = fw.migrate(db, app)
    print(f"built: staging failed at {result.failed}: {result.error}")
    return app


def run_fix(
    strategy: str, app: Path, staging: str, production: str, env: dict[str, str]
) -> tuple[float, dict[str, object] | None]:
    cmd = [sys.executable, "-c", BOOT, "fix", "--strategy", strategy, "--app", str(app),
           "--db", staging, "--reference", production, "--yes", "--json"]  # fmt: skip
    started = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=app, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if "not available yet" in proc.stderr:
        return seconds, None
    if proc.returncode != 0:
        raise SystemExit(
            f"fix --strategy {strategy} failed ({proc.returncode}): {proc.stderr[:500]}"
        )
    return seconds, json.loads(proc.stdout)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="dbmedic-bench-fix-"))
    app = build(workdir)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    from sqlalchemy.engine import make_url

    prod_url = make_url(ADMIN).set(database=NAMES["prod"]).render_as_string(hide_password=False)
    times: dict[str, list[float]] = {}
    steps: dict[str, list[float]] = {}
    last: dict[str, object] | None = None
    for strategy in ("sync", "resume", "reset"):
        for _ in range(args.runs):
            staging = _copy(NAMES["template"], NAMES["staging"])
            seconds, out = run_fix(strategy, app, staging, prod_url, env)
            if out is None:
                break
            times.setdefault(strategy, []).append(seconds)
            if strategy == "sync":
                last = out
                for s in out["steps"]:  # type: ignore[attr-defined]
                    steps.setdefault(s["title"].split(" (")[0][:48], []).append(s["seconds"])
    c = _client_args()
    manual = []
    for _ in range(args.runs):
        _copy(NAMES["template"], NAMES["staging"])
        manual.append(
            _pipe(
                ["mariadb-dump", *c, "--no-data", NAMES["prod"]], ["mariadb", *c, NAMES["staging"]]
            )
        )

    print(f"\n{'route':58} {'median s':>9}   (runs: {args.runs}, 185 migrations, MariaDB)")
    if last is not None:
        print(
            f"  sync verdict {last['verdict']}: tables {last['tables_before']} -> {last['tables_after']}"
        )
        for title, values in steps.items():
            print(f"  step: {title:50} {statistics.median(values):9.2f}")
    for strategy, values in times.items():
        print(
            f"{'dbmedic fix --strategy ' + strategy + ' (whole process)':58} {statistics.median(values):9.2f}"
        )
    for strategy in ("resume", "reset"):
        if strategy not in times:
            print(
                f"{'dbmedic fix --strategy ' + strategy:58} {'n/a':>9}   (not available on this branch)"
            )
    m = statistics.median(manual)
    print(f"{'mariadb-dump --no-data prod | mariadb staging':58} {m:9.2f}")
    if "sync" in times:
        print(
            f"{'sync / dump-and-pipe':58} {statistics.median(times['sync']) / m:9.2f}x  (target <= 3x)"
        )
    if not args.keep:
        engine = _admin()
        with engine.connect() as conn:  # type: ignore[attr-defined]
            for name in NAMES.values():
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{name}`")
        engine.dispose()  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
