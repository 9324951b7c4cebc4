"""`dbmedic status` on the demo-sized incident on MariaDB, next to the tools a user would run.

Builds the seed incident twice on the MariaDB server at 127.0.0.1:3306, from the demo spec
(185 migrations, the run stops at 2025_10_23_162250 with a duplicate column):

    laravel: the Laravel 8 rendering, migrated by `php artisan migrate --force` (Debian's framework)
    dbmate:  the dbmate rendering, migrated by dbmedic's runner

Then times whole processes (start-up included), interleaved, N runs each after one warm-up run
of every command, and prints the median and minimum wall time and the median CPU time (user +
system: on a shared machine the wall time is mostly waiting for a CPU):

    php artisan migrate:status                   (laravel app and database)
    dbmedic status --app LARAVEL --db URL --json  (same)
    a bare PyMySQL script with the same reads     (same; the floor for a Python tool)
    dbmedic status --app DBMATE --db URL --json
    dbmate status                                 (dbmate app and database: npm's wrapper, then
                                                   the Go binary it starts, run directly)

dbmedic runs with its bytecode cached, as after ``pip install`` (``PYTHONPYCACHEPREFIX`` in the
work folder; ``PYTHONDONTWRITEBYTECODE`` dropped), and once more without a cache for dbmedic's
own modules (``PYTHONDONTWRITEBYTECODE=1``, as in the sandbox these benchmarks ran in before:
a source checkout whose ``__pycache__`` is never written): Python then compiles the ~20 dbmedic
modules status loads on every run.

dbmate comes from PATH, else from ``~/.cache/dbmedic-ci/node_modules/.bin`` (where .ci/run
installs it); the row is left out when neither has it.

``--baseline OTHER/src`` times the same status from another checkout too (e.g. main before a
change), in the same interleaved rounds.

Usage: PYTHONPATH=src python -P bench/status.py [--runs 7] [--keep] [--baseline DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ADMIN = os.environ.get("DBMEDIC_BENCH_MARIADB", "mysql+pymysql://root@127.0.0.1:3306/mysql")
NAMES = {"laravel": "dbmedic_bench_status_laravel", "dbmate": "dbmedic_bench_status"}
BOOT = "import sys\nfrom dbmedic.cli import main; main(sys.argv[1:])"
FLOOR = """\
import json, os, sys, pymysql
host, port, user, database, app = sys.argv[1:]
conn = pymysql.connect(host=host, port=int(port), user=user, database=database,
                       password=os.environ.get("DBMEDIC_BENCH_PASSWORD", ""), ssl_disabled=True)
cur = conn.cursor()
cur.execute("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()")
tables = len(cur.fetchall())
cur.execute("SELECT migration, batch FROM migrations")
batches = dict(cur.fetchall())
files = sorted(n[:-4] for n in os.listdir(app + "/database/migrations") if n.endswith(".php"))
out = [{"id": f, "batch": batches.get(f)} for f in files]
print(json.dumps({"tables": tables, "applied": len(batches), "migrations": out}, indent=2))
"""
"""The floor for a Python tool with PyMySQL: the same reads as status, nothing else (no TLS
context, no checks, no framework detection); a reference, not a tool anyone runs."""


def _server(*statements: str) -> None:
    """Run administrative statements on the MariaDB server (DROP/CREATE DATABASE)."""
    from sqlalchemy import create_engine

    engine = create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        for statement in statements:
            conn.exec_driver_sql(statement)
    engine.dispose()


def _recreate(name: str) -> str:
    from sqlalchemy.engine import make_url

    charset = "CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
    _server(f"DROP DATABASE IF EXISTS `{name}`", f"CREATE DATABASE `{name}` {charset}")
    return make_url(ADMIN).set(database=name).render_as_string(hide_password=False)


def build(workdir: Path) -> dict[str, tuple[Path, str]]:
    """Both incident databases; {kind: (app folder, URL)}."""
    from dbmedic.connect import open_target
    from dbmedic.demo.render_dbmate import render
    from dbmedic.demo.render_laravel import write_laravel_app
    from dbmedic.demo.spec import incident_app
    from dbmedic.frameworks import get_framework

    built = {}
    dbmate_app = workdir / "dbmate"
    (dbmate_app / "db" / "migrations").mkdir(parents=True)
    for name, text in render(incident_app(), "mysql").items():
        (dbmate_app / "db" / "migrations" / name).write_text(text)
    laravel_app = write_laravel_app(workdir / "laravel", "mysql")
    for kind, app in (("dbmate", dbmate_app), ("laravel", laravel_app)):
        url = _recreate(NAMES[kind])
        started = time.monotonic()
        with open_target(url) as db:
            result = get_framework(kind).migrate(db, app)
        print(
            f"built {kind}: {len(result.applied)} migrations applied, failed at {result.failed}:"
            f" {result.error} ({time.monotonic() - started:.1f} s)"
        )
        built[kind] = (app, url)
    return built


def _children_cpu() -> float:
    """User + system CPU seconds of the finished child processes (and theirs: npm's dbmate
    wrapper waits for the Go binary): the time a command costs, less of the waiting for a CPU
    that makes wall times swing on a busy machine."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _summary_dbmedic(out: str) -> str:
    data = json.loads(out[out.index("{") :])
    c = data["counts"]
    return (
        f"{c['applied']} applied, {c['failed']} failed, {c['pending']} pending, "
        f"{data['tables']} tables"
    )


def _summary_floor(out: str) -> str:
    data = json.loads(out)
    return f"{data['applied']} applied, {data['tables']} tables"


def _summary_artisan(out: str) -> str:
    from dbmedic.frameworks.laravel import parse_status_output

    ran = parse_status_output(out)
    return f"Ran: {sum(ran.values())}, Pending: {len(ran) - sum(ran.values())}"


def _summary_dbmate(out: str) -> str:
    return " ".join(line for line in out.splitlines() if line.startswith(("Applied", "Pending")))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument(
        "--baseline", type=Path, help="another checkout's src folder: its status, timed alongside"
    )
    args = parser.parse_args()
    from sqlalchemy.engine import make_url

    workdir = Path(tempfile.mkdtemp(prefix="dbmedic-bench-status-"))
    built = build(workdir)
    (laravel_app, laravel_url), (dbmate_app, dbmate_url) = built["laravel"], built["dbmate"]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "COLUMNS": "200"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    cached = {**env, "PYTHONPYCACHEPREFIX": str(workdir / "pycache")}
    uncached = {**env, "PYTHONDONTWRITEBYTECODE": "1"}
    admin = make_url(ADMIN)
    # artisan reads the database from DB_* variables (which win over .env), as dbmedic passes them
    artisan_env = {
        **env,
        "DB_CONNECTION": "mysql",
        "DB_HOST": admin.host or "127.0.0.1",
        "DB_PORT": str(admin.port or 3306),
        "DB_DATABASE": NAMES["laravel"],
        "DB_USERNAME": admin.username or "root",
        "DB_PASSWORD": admin.password or "",
    }
    ci_bin = Path.home() / ".cache/dbmedic-ci/node_modules"
    dbmate = shutil.which("dbmate") or str(ci_bin / ".bin/dbmate")
    go_dbmate = ci_bin / "@dbmate/linux-x64/bin/dbmate"
    dbmate_env = {**env, "DATABASE_URL": f"mysql://root@127.0.0.1:3306/{NAMES['dbmate']}"}
    py = [sys.executable, "-c", BOOT, "status", "--json"]
    floor = [sys.executable, "-c", FLOOR, admin.host or "127.0.0.1", str(admin.port or 3306),
             admin.username or "root", NAMES["laravel"], str(laravel_app)]  # fmt: skip
    commands: list[tuple[str, list[str], dict[str, str], Path, Callable[[str], str]]] = [
        (
            "php artisan migrate:status",
            ["php", "artisan", "migrate:status", "--no-ansi"],
            artisan_env,
            laravel_app,
            _summary_artisan,
        ),
        (
            "dbmedic status (Laravel app)",
            [*py, "--app", str(laravel_app), "--db", laravel_url],
            cached,
            laravel_app,
            _summary_dbmedic,
        ),
        (
            "  bare PyMySQL script (floor)",
            floor,
            {**cached, "DBMEDIC_BENCH_PASSWORD": admin.password or ""},
            laravel_app,
            _summary_floor,
        ),
        (
            "  same, no bytecode cache",
            [*py, "--app", str(laravel_app), "--db", laravel_url],
            uncached,
            laravel_app,
            _summary_dbmedic,
        ),
        (
            "dbmedic status (dbmate app)",
            [*py, "--app", str(dbmate_app), "--db", dbmate_url],
            cached,
            dbmate_app,
            _summary_dbmedic,
        ),
    ]
    if args.baseline is not None:
        commands.insert(
            2,
            (
                f"  {args.baseline}"[:30],
                [*py, "--app", str(laravel_app), "--db", laravel_url],
                {**cached, "PYTHONPATH": str(args.baseline.resolve())},
                laravel_app,
                _summary_dbmedic,
            ),
        )
    if Path(dbmate).exists():
        commands.append(
            ("dbmate status (npm)", [dbmate, "status"], dbmate_env, dbmate_app, _summary_dbmate)
        )
    if go_dbmate.exists():
        commands.append(
            ("  Go binary itself", [str(go_dbmate), "status"], dbmate_env, dbmate_app,
             _summary_dbmate)
        )  # fmt: skip
    times: dict[str, list[float]] = {name: [] for name, *_ in commands}
    cpu: dict[str, list[float]] = {name: [] for name, *_ in commands}
    outputs: dict[str, str] = {}
    loads = [os.getloadavg()[0]]
    for run in range(args.runs + 1):  # interleaved, so every command sees the same load
        for name, cmd, cmd_env, cwd, _summary in commands:
            if run == 0:  # warm-up: bytecode written, files in the page cache
                subprocess.run(cmd, env=cmd_env, cwd=cwd, capture_output=True, check=False)
                continue
            before = _children_cpu()
            started = time.perf_counter()
            proc = subprocess.run(cmd, env=cmd_env, cwd=cwd, capture_output=True, text=True)
            times[name].append(time.perf_counter() - started)
            cpu[name].append(_children_cpu() - before)
            if proc.returncode not in (0, 1):
                raise SystemExit(f"{name} failed: {proc.stdout}{proc.stderr}")
            outputs[name] = proc.stdout + proc.stderr
        loads.append(os.getloadavg()[0])
    print(
        f"\n{'command':30} {'median s':>9} {'min s':>7} {'CPU s':>7}  result"
        f"   (runs: {args.runs}, 185 migrations, MariaDB;"
        f" load average {min(loads):.1f}-{max(loads):.1f})"
    )
    for name, *_rest, summary in commands:
        print(
            f"{name:30} {statistics.median(times[name]):9.3f} {min(times[name]):7.3f}"
            f" {statistics.median(cpu[name]):7.3f}  {summary(outputs[name])}"
        )
    if not Path(dbmate).exists():
        print("dbmate status: not installed (npm install --prefix ~/.cache/dbmedic-ci dbmate)")
    if not args.keep:
        _server(*(f"DROP DATABASE IF EXISTS `{name}`" for name in NAMES.values()))
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
