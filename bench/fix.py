"""`dbmedic fix` (sync, resume, reset) on the demo-sized incident on MariaDB, next to the manual routes.

Builds the seed incident with dbmate-format migrations on the MariaDB server at 127.0.0.1:3306:
production (185 migrations, 244 tables) and a staging template stopped at 2025_10_23_162250 with
10 rows in each staging table that takes default rows. Before every timed run a fresh staging
copy is made from the template (untimed). Then it times whole processes (start-up included),
N runs each, medians:

    sync:    dbmedic fix --strategy sync --reference PRODUCTION --yes --json
    resume:  dbmedic fix --strategy resume --yes --json
    reset:   dbmedic fix --strategy reset --yes --json, on a copy of the app whose failing
             migration was made idempotent (ADD COLUMN IF NOT EXISTS, the guard diagnose
             prints); without it reset is refused
    each with the lock, the backup and its check, the repair, the verification and the report;
    manual: mariadb-dump --no-data PRODUCTION | mariadb STAGING   (the seed's dump-and-pipe)
            dbmedic migrate of all migrations on an empty database (the framework's full migrate)
            dbmedic backup of staging (the backup every strategy takes)

Targets (issue 7): sync within 3x of the dump-and-pipe, resume within 2x of the full migrate,
reset within 1.2x of the full migrate plus the backup.

With ``--laravel`` the same incident is a Laravel 8 app (:func:`dbmedic.demo.render_laravel.
write_laravel_app`), built by ``php artisan migrate``; every strategy then runs the framework
through artisan (and the default post-fix hooks, ``cache:clear`` and ``config:clear``), reset's
copy of the app guards the failing column with ``Schema::hasColumn``, and the full migrate is
Laravel's own ``php artisan migrate --force`` of that app on an empty database: the comparison
issue 7 names.

Before every timed run the server's dirty pages are flushed (see :func:`_settle`), so that no
run pays for the writes of the one before; ``--no-settle`` measures without.

Usage: PYTHONPATH=src python bench/fix.py [--runs 3] [--only sync,resume,reset,manual] [--keep]
                                          [--laravel] [--no-settle]
"""

from __future__ import annotations

import sys

if sys.path and sys.path[0].rstrip("/").endswith("bench"):
    sys.path.append(sys.path.pop(0))  # last: bench/inspect.py would shadow the standard library's

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
PREFIX = "fixbench_"
NAMES = {n: PREFIX + n for n in ("template", "prod", "staging", "fresh")}
STRATEGIES = ("sync", "resume", "reset")


def _admin() -> object:
    from sqlalchemy import create_engine

    return create_engine(ADMIN, isolation_level="AUTOCOMMIT")


def _url(name: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(ADMIN).set(database=name).render_as_string(hide_password=False)


def _recreate(name: str) -> str:
    engine = _admin()
    with engine.connect() as conn:  # type: ignore[attr-defined]
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{name}`")
        conn.exec_driver_sql(
            f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
        )
    engine.dispose()  # type: ignore[attr-defined]
    return _url(name)


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


SETTLE = True
"""Flush the server's dirty pages before every timed run (bench/settle.py; ``--no-settle``: not)."""


def _settle() -> None:
    if SETTLE:
        import pymysql
        from settle import settle
        from sqlalchemy.engine import make_url

        url = make_url(ADMIN)
        settle(lambda: pymysql.connect(host=url.host or "127.0.0.1", port=url.port or 3306,
                                       user=url.username or "root", password=url.password or ""))  # fmt: skip


def _pipe(dump: list[str], load: list[str]) -> float:
    _settle()
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


def _write(root: Path, files: dict[str, str]) -> None:
    folder = root / "db" / "migrations"
    folder.mkdir(parents=True)
    for name, text in files.items():
        (folder / name).write_text(text)


def _fill(db: object) -> None:
    """10 rows in each staging table whose columns all take defaults (data that must survive)."""
    with db.engine.begin() as conn:  # type: ignore[attr-defined]
        for name in db.dialect.table_names(conn):  # type: ignore[attr-defined]
            if name == "schema_migrations" or "dbmedic" in name:
                continue
            cols = conn.exec_driver_sql(f"SHOW COLUMNS FROM `{name}`").all()
            if all(c[5] == "auto_increment" or c[2] == "YES" or c[4] is not None for c in cols):
                for _ in range(10):
                    conn.exec_driver_sql(f"INSERT INTO `{name}` () VALUES ()")


def build(workdir: Path) -> tuple[Path, Path]:
    """The app, its idempotent copy (for reset); production and the staging template."""
    from dbmedic.demo.render_dbmate import render
    from dbmedic.demo.spec import incident_app

    spec = incident_app()
    app, history = workdir / "app", workdir / "production-history"
    _write(app, render(spec, "mysql", era="current"))
    _write(history, render(spec, "mysql", era="production"))
    fixed = workdir / "app-idempotent"
    shutil.copytree(app / "db", fixed / "db")
    failing = next((fixed / "db" / "migrations").glob("20251023162250*.sql"))
    text = failing.read_text()
    failing.write_text(re.sub(r"(?i)\badd column ", "ADD COLUMN IF NOT EXISTS ", text, count=1))
    _build_databases("dbmate", history, app, "20251023162250")
    return app, fixed


def _build_databases(framework: str, history: Path, app: Path, failing: str) -> None:
    """Production from the whole history; the staging template stopped at ``failing``, with
    default rows in its tables."""
    from dbmedic.connect import open_target
    from dbmedic.frameworks import get_framework

    fw = get_framework(framework)
    with open_target(_recreate(NAMES["prod"])) as db:
        assert fw.migrate(db, history).ok
    with open_target(_recreate(NAMES["template"])) as db:
        result = fw.migrate(db, app)
        assert result.failed is not None and result.failed.startswith(failing)
        _fill(db)
    print(f"built ({framework}): staging failed at {result.failed}: {result.error}")


_LARAVEL_COLUMN = "$table->integer('priority')->default(999)->after('is_default');"


def build_laravel(workdir: Path) -> tuple[Path, Path]:
    """As :func:`build`, with the Laravel rendering built by artisan; the guarded copy is what
    diagnose proposes (``Schema::hasColumn``)."""
    from dbmedic.demo.render_laravel import write_laravel_app

    app = write_laravel_app(workdir / "app", "mariadb")
    history = write_laravel_app(workdir / "production-history", "mariadb", era="production")
    fixed = write_laravel_app(workdir / "app-idempotent", "mariadb")
    failing = next((fixed / "database" / "migrations").glob("2025_10_23_162250*.php"))
    text = failing.read_text()
    assert _LARAVEL_COLUMN in text, "the demo's failing migration changed; update the guard"
    guarded = (
        "if (!Schema::hasColumn('policy_configurations', 'priority')) {\n"
        f"                {_LARAVEL_COLUMN}\n            }}"
    )
    failing.write_text(text.replace(_LARAVEL_COLUMN, guarded))
    _build_databases("laravel", history, app, "2025_10_23_162250")
    return app, fixed


def artisan_migrate(fixed: Path, workdir: Path) -> float:
    """Laravel's own full migrate: ``php artisan migrate --force`` of the guarded app on an
    empty database (the app's .env points there; only artisan is timed)."""
    from dbmedic.demo.render_laravel import write_laravel_app

    fresh = _recreate(NAMES["fresh"])
    by_hand = workdir / "app-by-hand"
    shutil.rmtree(by_hand, ignore_errors=True)
    write_laravel_app(by_hand, "mariadb", database_url=fresh)
    shutil.rmtree(by_hand / "database" / "migrations")
    shutil.copytree(fixed / "database" / "migrations", by_hand / "database" / "migrations")
    _settle()
    started = time.perf_counter()
    proc = subprocess.run(["php", "artisan", "migrate", "--force"], cwd=by_hand,
                          capture_output=True, text=True, check=False)  # fmt: skip
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"php artisan migrate failed: {(proc.stdout + proc.stderr)[-800:]}")
    return seconds


def run(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[float, str]:
    _settle()
    started = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{cmd[3:5]} failed ({proc.returncode}): {proc.stderr[-800:]}")
    return seconds, proc.stdout


def fix(
    strategy: str, app: Path, workdir: Path, env: dict[str, str]
) -> tuple[float, dict[str, object]]:
    staging = _copy(NAMES["template"], NAMES["staging"])
    backups = workdir / "backups"
    shutil.rmtree(backups, ignore_errors=True)
    cmd = [sys.executable, "-c", BOOT, "fix", "--strategy", strategy, "--app", str(app),
           "--db", staging, "--yes", "--json", "--backup-dir", str(backups)]  # fmt: skip
    if strategy == "sync":
        cmd += ["--reference", _url(NAMES["prod"])]
    seconds, out = run(cmd, env, workdir)
    outcome = json.loads(out)
    assert outcome["ok"], outcome
    return seconds, outcome


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", default="sync,resume,reset,manual")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--laravel", action="store_true", help="the Laravel rendering instead")
    parser.add_argument("--no-settle", action="store_true", help="do not flush between runs")
    args = parser.parse_args()
    global SETTLE
    SETTLE = not args.no_settle
    only = set(args.only.split(","))
    workdir = Path(tempfile.mkdtemp(prefix="dbmedic-bench-fix-"))
    from pyenv import dbmedic_env

    env = dbmedic_env()
    times: dict[str, list[float]] = {}
    steps: dict[str, dict[str, list[float]]] = {}
    summary: dict[str, str] = {}
    load = os.getloadavg()[0]
    try:
        app, fixed = build_laravel(workdir) if args.laravel else build(workdir)

        def strategies() -> None:
            for strategy in (s for s in STRATEGIES if s in only):
                seconds, out = fix(strategy, fixed if strategy == "reset" else app, workdir, env)
                times.setdefault(strategy, []).append(seconds)
                summary[strategy] = f"tables {out['tables_before']} -> {out['tables_after']}"
                for s in out.get("steps", []):  # type: ignore[attr-defined]
                    key = f"{s['kind']}: {s['title'].split(' (')[0]}"[:56]
                    steps.setdefault(strategy, {}).setdefault(key, []).append(
                        float(s.get("seconds") or 0.0)
                    )

        def manual() -> None:
            c = _client_args()
            _copy(NAMES["template"], NAMES["staging"])
            dump = ["mariadb-dump", *c, "--no-data", NAMES["prod"]]
            times.setdefault("pipe", []).append(_pipe(dump, ["mariadb", *c, NAMES["staging"]]))
            staging = _copy(NAMES["template"], NAMES["staging"])
            backups = workdir / "backups-alone"
            shutil.rmtree(backups, ignore_errors=True)
            s, _ = run([sys.executable, "-c", BOOT, "backup", staging, "--dir", str(backups)],
                       env, workdir)  # fmt: skip
            times.setdefault("backup", []).append(s)
            if args.laravel:
                times.setdefault("migrate", []).append(artisan_migrate(fixed, workdir))
                return
            fresh = _recreate(NAMES["fresh"])
            s, _ = run([sys.executable, "-c", BOOT, "migrate", "--app", str(fixed), "--db", fresh],
                       env, workdir)  # fmt: skip
            times.setdefault("migrate", []).append(s)

        for round_ in range(args.runs):
            # the order alternates: a run leaves the server flushing pages for a while, which
            # would otherwise always slow the same route
            order = [strategies, manual] if round_ % 2 == 0 else [manual, strategies]
            for part in order:
                if part is strategies or "manual" in only:
                    part()
    finally:
        if not args.keep:
            engine = _admin()
            with engine.connect() as conn:  # type: ignore[attr-defined]
                for name in NAMES.values():
                    conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{name}`")
            engine.dispose()  # type: ignore[attr-defined]
            shutil.rmtree(workdir, ignore_errors=True)

    med = {k: statistics.median(v) for k, v in times.items()}
    print(
        f"\nmedians of {args.runs} runs, seconds; load average at start {load:.1f}, "
        f"at the end {os.getloadavg()[0]:.1f}; {'Laravel 8' if args.laravel else 'dbmate'}"
    )
    print(f"| {'route':<70} | {'median s':>8} |")
    print(f"|{'-' * 72}|{'-' * 10}:|")
    for strategy in (s for s in STRATEGIES if s in med):
        what = f"**dbmedic fix --strategy {strategy}, whole process** ({summary[strategy]})"
        print(f"| {what:<70} | {med[strategy]:8.2f} |")
        for key, values in steps.get(strategy, {}).items():
            print(f"|   {key:<68} | {statistics.median(values):8.2f} |")
    rows = (("pipe", "`mariadb-dump --no-data prod | mariadb staging` (manual)"),
            ("migrate", "php artisan migrate --force, all 185 migrations on an empty database"
             if args.laravel else "dbmedic migrate, all 185 migrations on an empty database"),
            ("backup", "dbmedic backup of staging"))  # fmt: skip
    for key, what in rows:
        if key in med:
            print(f"| {what:<70} | {med[key]:8.2f} |")
    print(
        "\nevery run, in order (s): "
        + "; ".join(
            f"{key} " + ", ".join(f"{v:.2f}" for v in values) for key, values in times.items()
        )
    )
    if "sync" in med and "pipe" in med:
        print(f"\nsync / dump-and-pipe = {med['sync'] / med['pipe']:.2f} (target <= 3)")
    if "resume" in med and "migrate" in med:
        print(f"resume / migrate = {med['resume'] / med['migrate']:.2f} (target <= 2)")
    if "reset" in med and "migrate" in med:
        ratio = med["reset"] / (med["migrate"] + med["backup"])
        print(f"reset / (migrate + backup) = {ratio:.2f} (target <= 1.2)")
        rounds = zip(times["reset"], times["migrate"], times["backup"], strict=True)
        paired = [r / (m + b) for r, m, b in rounds]
        print(
            f"the same ratio round by round (each round runs both routes back to back): median "
            f"{statistics.median(paired):.2f}, " + ", ".join(f"{p:.2f}" for p in paired)
        )


if __name__ == "__main__":
    main()
