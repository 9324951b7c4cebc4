"""`dbmedic status` on the demo-sized incident on MariaDB, next to the tools a user would run.

Builds the seed incident (185 dbmate migrations, the run stopped at 2025_10_23_162250) on the
MariaDB server at 127.0.0.1:3306 with dbmedic's own runner, then times whole processes (start-up
included), each run N times, and prints medians:

    dbmedic status --app APP --db URL
    dbmate status                               (same database, same files)
    php artisan migrate:status                  (slot: needs the Laravel rendering of the app)

Usage: PYTHONPATH=src python bench/status.py [--runs 7] [--keep]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ADMIN = os.environ.get("DBMEDIC_BENCH_MARIADB", "mysql+pymysql://root@127.0.0.1:3306/mysql")
DATABASE = "dbmedic_bench_status"
# Until every dialect module is merged, the test stand-ins are loaded (a no-op afterwards).
BOOT = (
    "import sys\n"
    "try:\n import _fallback_dialects as f; f.ensure_dialects()\nexcept ImportError:\n pass\n"
    "from dbmedic.cli import main; main(sys.argv[1:])"
)


def build(app: Path) -> str:
    """Create the incident database on MariaDB; return its URL."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    sys.path.insert(0, str(ROOT / "tests"))
    try:
        import _fallback_dialects

        _fallback_dialects.ensure_dialects()
    except ImportError:
        pass
    from dbmedic.connect import open_target
    from dbmedic.demo.render_dbmate import render
    from dbmedic.demo.spec import incident_app
    from dbmedic.frameworks import get_framework

    folder = app / "db" / "migrations"
    folder.mkdir(parents=True)
    for name, text in render(incident_app(), "mysql").items():
        (folder / name).write_text(text)
    admin = make_url(ADMIN)
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{DATABASE}`")
        conn.exec_driver_sql(
            f"CREATE DATABASE `{DATABASE}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
        )
    engine.dispose()
    url = admin.set(database=DATABASE).render_as_string(hide_password=False)
    started = time.monotonic()
    with open_target(url) as db:
        result = get_framework("dbmate").migrate(db, app)
    print(
        f"built: {len(result.applied)} migrations applied, failed at {result.failed}: {result.error}"
        f" ({time.monotonic() - started:.1f} s)"
    )
    return url


def timed(cmd: list[str], env: dict[str, str], cwd: Path, runs: int) -> tuple[float, str]:
    times, out = [], ""
    for _ in range(runs):
        started = time.perf_counter()
        proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
        times.append(time.perf_counter() - started)
        out = proc.stdout + proc.stderr
        if proc.returncode not in (0, 1):
            raise SystemExit(f"{cmd[0]} failed: {out}")
    return statistics.median(times), out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="dbmedic-bench-status-"))
    app = workdir / "app"
    url = build(app)
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT / 'tests'}"}
    rows = []
    median, out = timed(
        [sys.executable, "-c", BOOT, "status", "--app", str(app), "--db", url, "--json"],
        env,
        app,
        args.runs,
    )
    import json

    counts = json.loads(out[out.index("{") :])["counts"]
    rows.append(
        (
            "dbmedic status",
            median,
            f"{counts['applied']} applied, {counts['failed']} failed, {counts['pending']} pending",
        )
    )
    dbmate = shutil.which("dbmate") or str(
        Path.home() / ".cache/dbmedic-ci/node_modules/.bin/dbmate"
    )
    if Path(dbmate).exists():
        dbmate_env = {**env, "DATABASE_URL": f"mysql://root@127.0.0.1:3306/{DATABASE}"}
        median, out = timed([dbmate, "status"], dbmate_env, app, args.runs)
        summary = " ".join(
            line for line in out.splitlines() if line.startswith(("Applied", "Pending"))
        )
        rows.append(("dbmate status", median, summary))
    else:
        rows.append(("dbmate status", float("nan"), "dbmate not installed"))
    rows.append(
        (
            "php artisan migrate:status",
            float("nan"),
            "slot: Laravel rendering of the app not built yet",
        )
    )
    print(
        f"\n{'command':32} {'median s':>9}  result   (runs: {args.runs}, 185 migrations, MariaDB)"
    )
    for name, seconds, note in rows:
        print(f"{name:32} {seconds:9.3f}  {note}")
    from sqlalchemy import create_engine

    if not args.keep:
        engine = create_engine(ADMIN, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{DATABASE}`")
        engine.dispose()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
