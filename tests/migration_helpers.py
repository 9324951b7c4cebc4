"""Helpers for the migration tests: the CLI in a subprocess, the dbmate binary, dbmate URLs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

SRC = Path(__file__).resolve().parents[1] / "src"
TESTS = Path(__file__).resolve().parent
_BOOT = "import sys; from dbmedic.cli import main; main(sys.argv[1:])"


def run_cli(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, boot: str = _BOOT
) -> subprocess.CompletedProcess[str]:
    """``dbmedic ARGS`` in a fresh interpreter (exit codes and stderr exactly as a user sees them)."""
    full_env = {**os.environ, **(env or {})}
    full_env["PYTHONPATH"] = os.pathsep.join([str(SRC), str(TESTS)])
    full_env.setdefault("COLUMNS", "200")  # one error sentence on one line
    return subprocess.run(
        [sys.executable, "-c", boot, *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


_BOOT_MODULES = (
    "import os, sys\n"
    "try:\n"
    "    from dbmedic.cli import main; main(sys.argv[1:])\n"
    "finally:\n"
    "    with open(os.environ['DBMEDIC_TEST_MODULES'], 'w') as f: f.write('\\n'.join(sys.modules))\n"
)


def run_cli_modules(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """:func:`run_cli`, plus the names of the modules the process had imported when it ended."""
    with tempfile.TemporaryDirectory() as folder:
        listing = Path(folder) / "modules"
        env = {**(env or {}), "DBMEDIC_TEST_MODULES": str(listing)}
        out = run_cli(*args, cwd=cwd, env=env, boot=_BOOT_MODULES)
        return out, set(listing.read_text().split("\n"))


def dbmate_binary() -> str:
    """Path of the dbmate binary (PATH, then the CI cache), or skip the test saying why."""
    found = shutil.which("dbmate")
    cached = Path.home() / ".cache/dbmedic-ci/node_modules/.bin/dbmate"
    if found:
        return found
    if cached.exists():
        return str(cached)
    pytest.skip("dbmate not installed (npm install --prefix ~/.cache/dbmedic-ci dbmate)")


def dbmate_url(sqlalchemy_url: str) -> str:
    """The dbmate form of a test database URL."""
    url = make_url(sqlalchemy_url)
    if url.get_backend_name() == "sqlite":
        return f"sqlite:{url.database}"
    scheme = "mysql" if url.get_backend_name() == "mysql" else "postgres"
    auth = url.username or ""
    query = "?sslmode=disable" if scheme == "postgres" else ""
    return f"{scheme}://{auth}@{url.host}:{url.port}/{url.database}{query}"


def dbmate(project: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the real dbmate in ``project`` against ``url`` (given through the environment)."""
    env = {**os.environ, "DATABASE_URL": dbmate_url(url), "DBMATE_NO_DUMP_SCHEMA": "true"}
    return subprocess.run(
        [dbmate_binary(), *args], cwd=project, env=env, capture_output=True, text=True, timeout=60
    )


def dbmate_status(project: Path, url: str) -> dict[str, bool]:
    """{file name: applied} as ``dbmate status`` prints it."""
    out = dbmate(project, url, "status")
    assert out.returncode == 0, out.stderr
    status = {}
    for line in out.stdout.splitlines():
        if line.startswith(("[X] ", "[ ] ")):
            status[line[4:].strip()] = line.startswith("[X]")
    return status


def write_migrations(project: Path, files: dict[str, str]) -> None:
    folder = project / "db" / "migrations"
    folder.mkdir(parents=True, exist_ok=True)
    for name, body in files.items():
        (folder / name).write_text(body, encoding="utf-8")


FIXTURES = TESTS / "fixtures"
_SKELETONS = {"laravel8": "laravel_skeleton"}
"""Fixture apps whose framework files come from a skeleton bundled with dbmedic's demo."""


def copy_fixture_app(name: str, target: Path) -> Path:
    """A private copy of ``tests/fixtures/<name>`` at ``target`` (frameworks write into it).

    The Laravel fixture holds only its migrations and ``.env``: artisan, bootstrap and config
    are the demo's Laravel skeleton (``dbmedic/demo/laravel_skeleton``), copied in first.
    """
    if name in _SKELETONS:
        from dbmedic.demo import render_laravel

        shutil.copytree(render_laravel.SKELETON, target)
    shutil.copytree(FIXTURES / name, target, dirs_exist_ok=True)
    return target
