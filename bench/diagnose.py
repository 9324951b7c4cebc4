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
``php artisan migrate``. Interleaved with the diagnose runs, Laravel's own ``php artisan migrate
--force`` runs the migrations diagnose rehearses (only artisan is timed): on an empty database
until the failure, then, with the failing migration recorded, the 137 blocked ones. Two ratios
are printed: to the first alone (artisan never reaches the blocked migrations there) and to both
(the issue's wording: "within 1.5x of the time the framework itself needs to run the same
migrations").

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


def _artisan(app: Path) -> tuple[float, str, int]:
    started = time.perf_counter()
    proc = subprocess.run(["php", "artisan", "migrate", "--force"], cwd=app,
                          capture_output=True, text=True)  # fmt: skip
    return time.perf_counter() - started, proc.stdout + proc.stderr, proc.returncode


def artisan_baseline(workdir: Path, staging: str) -> tuple[float, float, int]:
    """Laravel's own ``php artisan migrate --force`` doing the migrations diagnose rehearses.

    1. On an empty database until it fails (what a user runs by hand to see whether a fresh run
       works; also the reset rehearsal's work). That leaves the database in staging's state (48
       tables, checked against staging's structure, not timed).
    2. The failing migration recorded as applied (one INSERT, not timed), then ``migrate`` again:
       Laravel runs the migrations blocked behind the failure (the resume rehearsal's work).

    Returns (seconds of 1, seconds of 2, migrations run by 2); only artisan is timed.
    """
    from dbmedic.connect import open_reference, open_target
    from dbmedic.demo.render_laravel import write_laravel_app
    from dbmedic.diff import diff_schemas

    fresh = _recreate(LARAVEL_NAMES[2])
    app = write_laravel_app(workdir / "laravel-by-hand", "mariadb", database_url=fresh)
    first, out, rc = _artisan(app)
    assert rc != 0 and "priority" in out, out
    failing = [line.split()[-1] for line in out.splitlines() if line.startswith("Migrating:")][-1]
    with open_target(fresh) as db, open_reference(staging) as ref:
        with db.connect() as a, ref.connect() as b:
            mine = db.dialect.inspect(a, db.info)
            theirs = ref.dialect.inspect(b, ref.info)
        assert diff_schemas(theirs, mine).is_empty, "the failed run should leave staging's schema"
        with db.engine.begin() as conn:
            batch = conn.exec_driver_sql("SELECT MAX(batch) FROM migrations").scalar_one()
            conn.exec_driver_sql(
                "INSERT INTO migrations (migration, batch) VALUES (%s, %s)", (failing, batch + 1)
            )
    second, out, rc = _artisan(app)
    assert rc == 0, out
    return first, second, sum(1 for line in out.splitlines() if line.startswith("Migrated:"))


def run(
    cmd: list[str], env: dict[str, str], cwd: Path, codes: tuple[int, ...] = (0, 1)
) -> tuple[float, str]:
    started = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if proc.returncode not in codes:
        raise SystemExit(f"{cmd[2:4]} failed: {proc.stderr}")
    return seconds, proc.stdout


class Diagnoses:
    """Whole-process runs of ``dbmedic diagnose --json``: totals and per-phase seconds."""

    def __init__(self, app: Path, staging: str, production: str) -> None:
        self.app = app
        self.env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
        self.cmd = [sys.executable, "-c", BOOT, "diagnose", "--app", str(app), "--db", staging,
                    "--reference", production, "--critical", "retell_call_sessions,conversation_flows",
                    "--json"]  # fmt: skip
        self.totals: list[float] = []
        self.phases: dict[str, list[float]] = {}
        self.last: dict[str, object] = {}

    def once(self) -> None:
        seconds, out = run(self.cmd, self.env, self.app)
        self.last = json.loads(out)
        self.totals.append(seconds)
        timings = dict(self.last["timings"])  # type: ignore[call-overload]
        for phase, s in timings.items():
            self.phases.setdefault(phase, []).append(float(s))
        rest = seconds - sum(s for p, s in timings.items() if not p.endswith("(background)"))
        self.phases.setdefault("report (start-up, rest)", []).append(rest)

    def show(self, runs: int, what: str) -> None:
        last = self.last
        failing = last["failing"]["migration"]["id"]  # type: ignore[index]
        options = {o["strategy"]: o for o in last["options"]}  # type: ignore[attr-defined]
        parity = last["parity"]["lines"][0]  # type: ignore[index]
        print(f"\nfails at {failing}; reset ok: {options['reset']['predicted_ok']} "
              f"({options['reset']['evidence']}), resume ok: {options['resume']['predicted_ok']} "
              f"({options['resume']['evidence']}); tables {parity['present']}/{parity['expected']}; "
              f"evidence {last['evidence']}")  # fmt: skip
        load = os.getloadavg()[0]
        print(f"\n{'phase':34} {'median s':>9}   (runs: {runs}, {what}, MariaDB, load {load:.1f})")
        order = ["status", "reset", "simulation", "rehearsal", "rehearsal-wait", "parity", "resume",
                 "resume-wait", "reset-wait", "report (start-up, rest)"]  # fmt: skip
        rank = {p: i for i, p in enumerate(order)}
        for phase in sorted(
            self.phases, key=lambda p: (p.endswith("(background)"), rank.get(p, 99))
        ):
            print(f"{phase:34} {statistics.median(self.phases[phase]):9.2f}")
        print(f"{'dbmedic diagnose (whole)':34} {statistics.median(self.totals):9.2f}")


def main_laravel(runs: int, keep: bool) -> None:
    """diagnose and artisan's own runs interleaved (the machine's load changes under them)."""
    workdir = Path(tempfile.mkdtemp(prefix="dbmedic-bench-diagnose-laravel-"))
    try:
        app, staging, production = build_laravel(workdir)
        diagnoses = Diagnoses(app, staging, production)
        empty: list[float] = []
        blocked: list[float] = []
        ran = 0
        for _ in range(runs):
            diagnoses.once()
            first, second, ran = artisan_baseline(workdir, staging)
            empty.append(first)
            blocked.append(second)
        diagnoses.show(runs, "Laravel 8, 185 migrations")
        whole = statistics.median(diagnoses.totals)
        alone = statistics.median(empty)
        both = statistics.median([a + b for a, b in zip(empty, blocked, strict=True)])
        print(f"{'php artisan migrate, empty db':34} {alone:9.2f}   (until the failure)")
        print(f"{'  + migrate the blocked ones':34} {statistics.median(blocked):9.2f}"
              f"   ({ran} migrations, failing one recorded)")  # fmt: skip
        print(f"{'  = the migrations diagnose runs':34} {both:9.2f}")
        print(f"\nratio to artisan from empty until the failure: {whole / alone:5.2f}")
        print(f"ratio to artisan running the same migrations: {whole / both:5.2f}"
              "   (issue #5 target: within 1.5x of the time the framework itself needs"
              " to run the same migrations)")  # fmt: skip
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
    try:
        app, staging, production = build(workdir)
        diagnoses = Diagnoses(app, staging, production)
        fresh_times = []
        for _ in range(args.runs):
            diagnoses.once()
            fresh = _recreate(NAMES[2])
            cmd = [sys.executable, "-c", BOOT, "migrate", "--app", str(app), "--db", fresh]
            fresh_times.append(run(cmd, diagnoses.env, app, (0, 1, 2))[0])  # 2: it fails
        diagnoses.show(args.runs, "dbmate, 185 migrations")
        print(f"{'dbmedic migrate, empty db':34} {statistics.median(fresh_times):9.2f}")
        print(f"\ntarget: under 10 s with the native runner: "
              f"{'met' if statistics.median(diagnoses.totals) < 10 else 'missed'}")  # fmt: skip
    finally:
        if not args.keep:
            _drop(NAMES)


if __name__ == "__main__":
    main()
