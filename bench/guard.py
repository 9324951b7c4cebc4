"""What the production guard costs before a destructive command: config search and parsing,
resolving --env, and the checks (names, Laravel .env, Django settings), next to parsing the URL
alone (the least any command does) and opening a SQLite database (the least a change does).

    PYTHONPATH=src python bench/guard.py
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

RUNS = 200


def median_ms(fn: Callable[[], object]) -> float:
    fn()
    times = []
    for _ in range(RUNS):
        began = time.perf_counter()
        fn()
        times.append(time.perf_counter() - began)
    return statistics.median(times) * 1000


def main() -> None:
    from dbmedic.config import load_config, resolve_target
    from dbmedic.connect import open_reference, parse_url
    from dbmedic.guard import inspect_target

    root = Path(tempfile.mkdtemp(prefix="dbmedic-bench-guard-"))
    deep = root / "a" / "b" / "c" / "d"
    deep.mkdir(parents=True)
    envs = "".join(
        f'[environments.e{i}]\nurl = "mysql://app@db{i}.internal/shop"\n'
        f'password_env = "BENCH_PW"\ncritical = ["users"]\nprotected = {str(i % 2 == 0).lower()}\n'
        for i in range(20)
    )
    (root / "dbmedic.toml").write_text(envs)
    os.environ["BENCH_PW"] = "bench-secret"
    laravel = root / "laravel"
    laravel.mkdir()
    (laravel / "artisan").write_text("<?php\n")
    (laravel / ".env").write_text("APP_ENV=production\nDB_DATABASE=shop\n" + "X=1\n" * 40)
    django = root / "django"
    (django / "shop" / "settings").mkdir(parents=True)
    (django / "manage.py").write_text(
        "import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'shop.settings.production')\n"
    )
    (django / "shop" / "settings" / "production.py").write_text(
        "from .base import *\n" + "X = 1\n" * 200 + "DEBUG = False\n"
    )
    sqlite = root / "app.db"
    import sqlite3

    sqlite3.connect(sqlite).close()
    os.chdir(deep)
    url = "mysql+pymysql://app@db3.internal/shop"

    def open_sqlite() -> None:
        with open_reference(f"sqlite:///{sqlite}"):
            pass

    rows = [
        ("parse the URL (baseline)", lambda: parse_url(url)),
        ("open a SQLite database (baseline)", open_sqlite),
        ("find + load dbmedic.toml, 20 envs, 4 folders up", lambda: load_config()),
        ("resolve --env e3 (password from variable)", lambda: resolve_target("e3")),
        ("guard: plain URL, config matched by URL", lambda: inspect_target(url)),
        ("guard: Laravel app (.env)", lambda: inspect_target(url, app=laravel)),
        ("guard: Django app (settings parsed)", lambda: inspect_target(url, app=django)),
    ]
    print(f"median of {RUNS} runs, Python {sys.version.split()[0]}")
    print(f"{'what':52} {'ms':>8}")
    for label, fn in rows:
        print(f"{label:52} {median_ms(fn):8.3f}")


if __name__ == "__main__":
    main()
