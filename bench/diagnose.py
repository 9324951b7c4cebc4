"""`dbmedic diagnose` on the demo-sized incident on MariaDB, broken down by phase.

Builds the seed incident with dbmate-format migrations on the MariaDB server at 127.0.0.1:3306:
production (all 185 migrations, the 244-table reference) and staging (the run stopped at
2025_10_23_162250), both with dbmedic's own runner. Then times whole processes (start-up
included), N runs each, medians:

    dbmedic diagnose --app APP --db STAGING --reference PRODUCTION --json
        phases from the JSON timings: status (inspect), reset (empty shadow + all migrations),
        simulation, rehearsal (shadow copy + migrate), resume, parity (reference inspect+diff),
        and "report" = process time not in any phase (start-up, JSON rendering)
    dbmedic migrate on an empty database (what a user runs by hand to see whether a fresh run
        works: the reset rehearsal's own work)

With ``--laravel`` the same incident is rendered as a Laravel 8 app
(:func:`dbmedic.demo.render_laravel.write_laravel_app`) and staging/production are built by
``php artisan migrate``; next to dbmedic's time it shows Laravel's own
``php artisan migrate --force`` on an empty database until the failure (target: within 1.5x).

Usage: PYTHONPATH=src python bench/diagnose.py [--runs 5] [--keep] [--laravel]
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
NAMES = ("dbmedic_bench_diag_staging", "dbmedic_bench_diag_prod", "dbmedic_bench_diag_fresh")
LARAVEL_NAMES = (
    "dbmedic_bench_diag_lstaging",
    "dbmedic_bench_diag_lprod",
    "dbmedic_bench_diag_lfresh",
)


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


def build(workdir: Path) -> tuple[Path, str, str]:
    from dbmedic.connect import open_target
    from dbmedic.demo.render_dbmate import render
    from dbmedic.demo.spec import incident_app
    from dbmedic.frameworks import get_framework

    spec = incident_app()
    app, prod_app = workdir / "app", workdir / "production-history"
    _write(app, render(spec, "mysql"))
    _write(prod_app, render(spec, "mysql", era="production"))
    staging, production = _recreate(NAMES[0]), _recreate(NAMES[1])
    fw = get_framework("dbmate")
    with open_target(production) as db:
        assert fw.migrate(db, prod_app).ok
    with open_target(staging) as db:
        result = fw.migrate(db, app)
    print(f"built: staging failed at {result.failed}: {result.error}")
    return app, staging, production


def build_laravel(workdir: Path) -> tuple[Path, str, str]:
    """The incident as a Laravel 8 app: production (all migrations) and staging (stopped)."""
    from dbmedic.connect import open_target
    from dbmedic.demo.render_laravel import write_laravel_app
    from dbmedic.frameworks import get_framework

    app = write_laravel_app(workdir / "laravel", "mariadb")
    prod_app = write_laravel_app(workdir / "laravel-production", "mariadb", era="production")
    staging, production = _recreate(LARAVEL_NAMES[0]), _recreate(LARAVEL_NAMES[1])
    fw = get_framework("laravel")
    with open_target(production) as db:
        assert fw.migrate(db, prod_app).ok
    with open_target(staging) as db:
        result = fw.migrate(db, app)
    print(f"built (Laravel): staging failed at {result.failed}: {result.error}")
    return app, staging, production


def artisan_from_empty(workdir: Path, runs: int) -> list[float]:
    """Laravel's own ``php artisan migrate --force`` on an empty database, until it fails."""
    from dbmedic.demo.render_laravel import write_laravel_app

    times = []
    for _ in range(runs):
        fresh = _recreate(LARAVEL_NAMES[2])
        app = write_laravel_app(workdir / "laravel-by-hand", "mariadb", database_url=fresh)
        started = time.perf_counter()
        proc = subprocess.run(["php", "artisan", "migrate", "--force"], cwd=app,
                              capture_output=True, text=True)  # fmt: skip
        times.append(time.perf_counter() - started)
        assert proc.returncode != 0 and "priority" in proc.stdout + proc.stderr, proc.stdout
    return times


def run(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[float, str]:
    started = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{cmd[2:4]} failed: {proc.stderr}")
    return seconds, proc.stdout


def diagnose_runs(
    app: Path, staging: str, production: str, runs: int
) -> tuple[list[float], dict[str, list[float]], dict[str, object]]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    cmd = [sys.executable, "-c", BOOT, "diagnose", "--app", str(app), "--db", staging,
           "--reference", production, "--critical", "retell_call_sessions,conversation_flows", "--json"]  # fmt: skip
    totals: list[float] = []
    phases: dict[str, list[float]] = {}
    last: dict[str, object] = {}
    for _ in range(runs):
        seconds, out = run(cmd, env, app)
        last = json.loads(out)
        totals.append(seconds)
        timings = dict(last["timings"])  # type: ignore[call-overload]
        for phase, s in timings.items():
            phases.setdefault(phase, []).append(float(s))
        phases.setdefault("report (start-up, rest)", []).append(seconds - sum(timings.values()))
    return totals, phases, last


def show(last: dict[str, object], phases: dict[str, list[float]], totals: list[float], runs: int, what: str) -> None:  # fmt: skip
    failing = last["failing"]["migration"]["id"]  # type: ignore[index]
    options = {o["strategy"]: o["predicted_ok"] for o in last["options"]}  # type: ignore[attr-defined]
    parity = last["parity"]["lines"][0]  # type: ignore[index]
    print(f"\nfails at {failing}; reset ok: {options['reset']}, resume ok: {options['resume']}; "
          f"tables {parity['present']}/{parity['expected']}; evidence {last['evidence']}")  # fmt: skip
    print(
        f"\n{'phase':28} {'median s':>9}   (runs: {runs}, {what}, MariaDB, load {os.getloadavg()[0]:.1f})"
    )
    for phase, values in phases.items():
        print(f"{phase:28} {statistics.median(values):9.2f}")
    print(f"{'dbmedic diagnose (whole)':28} {statistics.median(totals):9.2f}")


def main_laravel(runs: int, keep: bool) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="dbmedic-bench-diagnose-laravel-"))
    try:
        app, staging, production = build_laravel(workdir)
        totals, phases, last = diagnose_runs(app, staging, production, runs)
        artisan = artisan_from_empty(workdir, runs)
        show(last, phases, totals, runs, "Laravel 8, 185 migrations")
        ratio = statistics.median(totals) / statistics.median(artisan)
        print(f"{'php artisan migrate, empty db':28} {statistics.median(artisan):9.2f}")
        print(f"{'ratio (target <= 1.5)':28} {ratio:9.2f}")
    finally:
        if not keep:
            _drop(LARAVEL_NAMES)


def _drop(names: tuple[str, ...]) -> None:
    from sqlalchemy import create_engine

    engine = create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        for name in names:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{name}`")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--laravel", action="store_true", help="the Laravel rendering instead")
    args = parser.parse_args()
    if args.laravel:
        main_laravel(args.runs, args.keep)
        return
    workdir = Path(tempfile.mkdtemp(prefix="dbmedic-bench-diagnose-"))
    app, staging, production = build(workdir)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    cmd = [sys.executable, "-c", BOOT, "diagnose", "--app", str(app), "--db", staging,
           "--reference", production, "--critical", "retell_call_sessions,conversation_flows", "--json"]  # fmt: skip
    totals: list[float] = []
    phases: dict[str, list[float]] = {}
    last: dict[str, object] = {}
    for _ in range(args.runs):
        seconds, out = run(cmd, env, app)
        last = json.loads(out)
        totals.append(seconds)
        timings = dict(last["timings"])  # type: ignore[call-overload]
        for phase, s in timings.items():
            phases.setdefault(phase, []).append(float(s))
        phases.setdefault("report (start-up, rest)", []).append(seconds - sum(timings.values()))
    fresh_times = []
    for _ in range(args.runs):
        fresh = _recreate(NAMES[2])
        s, _out = run(
            [sys.executable, "-c", BOOT, "migrate", "--app", str(app), "--db", fresh], env, app
        )
        fresh_times.append(s)

    failing = last["failing"]["migration"]["id"]  # type: ignore[index]
    options = {o["strategy"]: o["predicted_ok"] for o in last["options"]}  # type: ignore[attr-defined]
    parity = last["parity"]["lines"][0]  # type: ignore[index]
    print(f"\nfails at {failing}; reset ok: {options['reset']}, resume ok: {options['resume']}; "
          f"tables {parity['present']}/{parity['expected']}; evidence {last['evidence']}")  # fmt: skip
    print(f"\n{'phase':28} {'median s':>9}   (runs: {args.runs}, 185 migrations, MariaDB)")
    for phase, values in phases.items():
        print(f"{phase:28} {statistics.median(values):9.2f}")
    print(f"{'dbmedic diagnose (whole)':28} {statistics.median(totals):9.2f}")
    print(f"{'dbmedic migrate, empty db':28} {statistics.median(fresh_times):9.2f}")
    if not args.keep:
        from sqlalchemy import create_engine

        engine = create_engine(ADMIN, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            for name in NAMES:
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{name}`")
        engine.dispose()


if __name__ == "__main__":
    main()
