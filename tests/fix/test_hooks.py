"""Post-fix hooks for real: declared in dbmedic.toml, run by ``dbmedic fix`` after verification.

Each hook here is a Python one-liner that appends what it saw (folder, arguments, the database
variable it got) to a ``hooked`` file, so the test checks what a user would: the file is there,
in the app folder, once per hook. ``hooks = []`` runs nothing (not the framework's defaults); a
failing hook keeps the verified repair and exits 5.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url
from strategy_helpers import (
    framework_pending,
    laravel_incident,
    migrate,
    stale_config_cache,
    tables,
    write_dbmate,
)
from typer.testing import CliRunner

from dbmedic import api
from dbmedic.cli import app as cli
from dbmedic.errors import ConfigError
from dbmedic.plan import StepKind
from dbmedic.plans.sync import plan_sync
from dbtest import DatabaseFactory, run_sql

RECORD = (
    "import json, os, sys; open('hooked', 'a').write(json.dumps({'cwd': os.getcwd(), "
    "'argv': sys.argv[1:], 'db': os.environ.get('DB_DATABASE')}) + '\\n')"
)
"""A hook that records where it ran, its arguments and the DB_DATABASE it was given."""


def hook(*args: str) -> list[str]:
    return [sys.executable, "-c", RECORD, *args]


def toml_list(argvs: list[list[str]]) -> str:
    return json.dumps(argvs)  # a JSON list of lists of strings is valid TOML


def hooked(folder: Path) -> list[dict[str, Any]]:
    path = folder / "hooked"
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def fix(*args: str) -> tuple[int, dict[str, Any]]:
    """``dbmedic fix ARGS --json`` in process: (exit code, the JSON printed)."""
    result = CliRunner().invoke(cli, ["fix", *args, "--json"])
    assert result.stdout.strip(), (result.exit_code, result.output)
    return result.exit_code, json.loads(result.stdout)


def hook_steps(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The hook steps of a plan (``--dry-run``) or of the plan behind an outcome."""
    steps = data["plan"]["steps"] if "plan" in data else data["steps"]
    return [s for s in steps if s["kind"] == "hook"]


def hooks_ran(outcome: dict[str, Any]) -> list[str]:
    """The status of each hook step of an outcome."""
    return [s["status"] for s in outcome["steps"] if s["kind"] == "hook"]


# --- dbmate SQL on SQLite: sync and resume, configured hooks ------------------------------------


@pytest.fixture
def project(db_factory: DatabaseFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """tmp/app (dbmate): staging has 001 applied and 002 pending, production both; cwd tmp/cwd."""
    app = write_dbmate(tmp_path / "app", {"001_users": "CREATE TABLE users (id integer primary key, email varchar(100));"})  # fmt: skip
    staging, production = db_factory.new("stage"), db_factory.new("ref")
    assert migrate(app, staging, "dbmate").ok  # type: ignore[attr-defined]
    write_dbmate(app, {"002_posts": "CREATE TABLE posts (id integer primary key, title text);"})
    assert migrate(app, production, "dbmate").ok  # type: ignore[attr-defined]
    run_sql(staging, "INSERT INTO users (id, email) VALUES (1, 'ada@example.org')")
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    monkeypatch.delenv("DBMEDIC_CONFIG", raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    (tmp_path / "urls.json").write_text(json.dumps({"staging": staging, "production": production}))
    return tmp_path


def urls(project: Path) -> dict[str, str]:
    return json.loads((project / "urls.json").read_text())  # type: ignore[no-any-return]


def configure(project: Path, environments: str) -> Path:
    """dbmedic.toml in the project folder (above cwd and app: found from either)."""
    path = project / "dbmedic.toml"
    path.write_text(environments)
    return path


def staging_env(project: Path, hooks: str | None, *, app: bool = True) -> str:
    u = urls(project)
    return (
        f'[environments.staging]\nurl = "{u["staging"]}"\nreference = "{u["production"]}"\n'
        + ('app = "app"\n' if app else "")
        + (f"hooks = {hooks}\n" if hooks is not None else "")
    )


@pytest.mark.backend("sqlite")
def test_configured_hooks_run_after_sync_and_resume(project: Path) -> None:
    config = configure(project, staging_env(project, toml_list([hook("after-fix")])))
    app = project / "app"

    code, plan = fix("--env", "staging", "--strategy", "sync", "--dry-run")
    assert code == 0
    [step] = hook_steps(plan)
    assert step["command"] == hook("after-fix") and step == plan["steps"][-1]
    assert f"environment 'staging' in {config}" in step["reason"]
    assert hooked(app) == []  # a dry run runs no hook

    code, done = fix("--env", "staging", "--strategy", "sync", "--yes")

    assert code == 0 and done["verdict"] == "done", done["error"]
    assert hooks_ran(done) == ["ok"]
    assert hooked(app) == [{"cwd": str(app), "argv": ["after-fix"], "db": None}]
    assert {"users", "posts"} <= tables(urls(project)["staging"])

    write_dbmate(app, {"003_tags": "CREATE TABLE tags (id integer primary key);"})
    assert migrate(app, urls(project)["production"], "dbmate").ok  # type: ignore[attr-defined]
    code, done = fix("--env", "staging", "--strategy", "resume", "--yes")

    assert code == 0 and done["verdict"] == "done", done["error"]
    assert len(hooked(app)) == 2  # once more, after the resume's verification
    assert "tags" in tables(urls(project)["staging"])
    assert framework_pending(app, urls(project)["staging"], "dbmate") == []


@pytest.mark.backend("sqlite")
def test_without_env_the_environment_naming_the_database_gives_the_hooks(project: Path) -> None:
    configure(project, staging_env(project, toml_list([hook()])))
    staging = urls(project)["staging"]
    spelled_otherwise = f"sqlite:///{Path(make_url(staging).database or '')}"
    code, plan = fix("--strategy", "sync", "--db", spelled_otherwise, "--app",
                     str(project / "app"), "--reference", urls(project)["production"],
                     "--dry-run")  # fmt: skip
    assert code == 0
    [step] = hook_steps(plan)
    assert "'staging'" in step["reason"] and "its url names this database" in step["reason"]


@pytest.mark.backend("sqlite")
def test_empty_hooks_list_runs_none(project: Path) -> None:
    configure(project, staging_env(project, "[]"))
    code, done = fix("--env", "staging", "--strategy", "sync", "--yes")
    assert code == 0 and done["verdict"] == "done", done["error"]
    assert hook_steps(done) == []
    assert any("no post-fix hooks: hooks = [] in environment 'staging'" in n
               for n in done["plan"]["notes"])  # fmt: skip


@pytest.mark.backend("sqlite")
def test_sync_without_app_runs_only_configured_hooks(project: Path) -> None:
    u = urls(project)
    # nothing configured: no framework defaults, even for a framework that has some
    code, plan = fix("--strategy", "sync", "--db", u["staging"], "--reference", u["production"],
                     "--framework", "laravel", "--dry-run")  # fmt: skip
    assert code == 0 and hook_steps(plan) == []
    assert "no post-fix hooks: sync without --app runs only hooks from the configuration, and none are configured" in plan["notes"]  # fmt: skip

    configure(project, staging_env(project, toml_list([hook("schema-only")]), app=False))
    code, done = fix("--env", "staging", "--strategy", "sync", "--yes")

    assert code == 0 and done["verdict"] == "done", done["error"]
    assert "the tracking table was left as it was (no --app given)" in done["plan"]["notes"]
    cwd = project / "cwd"  # without an app folder the hook runs where dbmedic was started
    assert hooked(cwd) == [{"cwd": str(cwd), "argv": ["schema-only"], "db": None}]


@pytest.mark.backend("sqlite")
def test_a_failing_hook_keeps_the_verified_repair_and_exits_5(project: Path) -> None:
    failing = [sys.executable, "-c", "import sys; sys.exit('cache store unreachable')"]
    configure(project, staging_env(project, toml_list([failing, hook("second")])))
    app, staging = project / "app", urls(project)["staging"]

    result = CliRunner().invoke(cli, ["fix", "--env", "staging", "--strategy", "sync", "--yes"])

    assert result.exit_code == 5, result.output
    assert "hook-failed" in result.stdout
    assert "cache store unreachable" in result.stdout
    assert "kept, not rolled back" in result.stdout
    # the repair stays: the reference's tables, nothing pending, the staging row
    assert {"users", "posts"} <= tables(staging)
    assert framework_pending(app, staging, "dbmate") == []
    assert [h["argv"] for h in hooked(app)] == [["second"]]  # the next hook still ran
    runs = api.runs(app)
    assert [r.state for r in runs] == ["hook-failed"]
    report = (Path(runs[0].directory) / "report.md").read_text()
    assert "post-fix hook FAILED" in report and "Not rolled back" in report
    assert "exited with 1: cache store unreachable" in report


@pytest.mark.backend("sqlite")
def test_library_hooks_argument_wins_and_is_checked(project: Path) -> None:
    configure(project, staging_env(project, toml_list([hook("configured")])))
    app, u = project / "app", urls(project)
    plan = api.fix("sync", app, u["staging"], reference=u["production"], dry_run=True,
                   hooks=[hook("given")])  # fmt: skip
    [step] = [s for s in plan.steps if s.kind is StepKind.HOOK]
    assert step.command == tuple(hook("given")) and "the hooks given to fix" in (step.reason or "")
    plan = api.fix("sync", app, u["staging"], reference=u["production"], dry_run=True, hooks=[])
    assert not any(s.kind is StepKind.HOOK for s in plan.steps)
    with pytest.raises(ConfigError, match="hooks must be a list of commands"):
        api.fix("sync", app, u["staging"], reference=u["production"], dry_run=True,
                hooks=["php artisan cache:clear"])  # fmt: skip


@pytest.mark.backend("sqlite")
def test_a_configured_hook_that_changes_the_schema_is_recorded_after_it(project: Path) -> None:
    """A configured hook may do anything, so the run reads the schema after it (what `fix
    --resume` compares with); the framework's own default hooks only clear caches and are
    recorded without a catalog read (``keeps_schema``)."""
    staging = make_url(urls(project)["staging"]).database
    create = ("import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
              "c.execute('CREATE TABLE made_by_hook (id integer)'); c.commit()")  # fmt: skip
    hooks = toml_list([[sys.executable, "-c", create, str(staging)]])
    configure(project, staging_env(project, hooks))

    code, done = fix("--env", "staging", "--strategy", "sync", "--yes")

    assert code == 0 and done["verdict"] == "done", done["error"]
    journal = Path(done["run_dir"]) / "journal.jsonl"
    ends = {e["step"]: e for e in map(json.loads, journal.read_text().splitlines())
            if e["event"] == "step-end"}  # fmt: skip
    kinds = {s["number"]: s["kind"] for s in done["plan"]["steps"]}
    verified = next(e["tables"] for n, e in ends.items() if kinds[n] == "verify")
    after_hook = next(e["tables"] for n, e in ends.items() if kinds[n] == "hook")
    assert after_hook == verified + 1 and "made_by_hook" in tables(urls(project)["staging"])
    assert [s["keeps_schema"] for s in hook_steps(done)] == [False]


def test_sync_plans_the_frameworks_defaults_only_when_nothing_is_configured() -> None:
    from dbmedic.model import Column, Schema, Table

    def schema(*names: str) -> Schema:
        cols = {"id": Column("id", "integer", nullable=False)}
        return Schema("sqlite", {n: Table(n, cols) for n in names})

    target, reference = schema("users"), schema("users", "posts")
    defaults = plan_sync(target, reference, framework="laravel", environment="staging")
    assert [s.command for s in defaults.steps if s.kind is StepKind.HOOK] == [
        ("php", "artisan", "cache:clear", "--env=staging"),
        ("php", "artisan", "config:clear", "--env=staging"),
    ]
    assert all(s.keeps_schema for s in defaults.steps if s.kind is StepKind.HOOK)
    none = plan_sync(target, reference, framework="laravel", hooks=(), hooks_source="x")
    assert not any(s.kind is StepKind.HOOK for s in none.steps)
    assert "no post-fix hooks: hooks = [] in x" in none.notes


# --- Laravel on MariaDB: configured hooks replace the defaults, [] runs none --------------------


@pytest.mark.backend("mariadb")
@pytest.mark.parametrize("configured", ["record", "none"])
def test_laravel_configured_hooks_replace_the_defaults(
    backend: str,
    php: str,
    db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    configured: str,
) -> None:
    app = laravel_incident(tmp_path, db_url)
    config_cache = stale_config_cache(app)
    hooks = toml_list([hook("laravel")]) if configured == "record" else "[]"
    (tmp_path / "dbmedic.toml").write_text(
        f'[environments.staging]\nurl = "{db_url}"\napp = "laravel8"\nhooks = {hooks}\n'
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DBMEDIC_CONFIG", raising=False)

    code, done = fix("--env", "staging", "--strategy", "resume", "--yes")

    assert code == 0 and done["verdict"] == "done", done["error"]
    assert framework_pending(app, db_url, "laravel") == []
    assert config_cache.exists()  # php artisan config:clear (a default) did not run
    name = make_url(db_url).database
    if configured == "record":
        [step] = hook_steps(done)
        assert step["command"] == hook("laravel") and hooks_ran(done) == ["ok"]
        # in the app folder, with exactly the configured arguments; the connection only
        # through the environment
        assert hooked(app) == [{"cwd": str(app), "argv": ["laravel"], "db": name}]
    else:
        assert hook_steps(done) == [] and hooked(app) == []
        assert any("hooks = [] in environment 'staging'" in n for n in done["plan"]["notes"])
    assert os.environ.get("DB_DATABASE") != name  # nothing leaked into dbmedic's own process


@pytest.mark.backend("mariadb")
def test_laravel_default_hooks_run_side_by_side_and_both_clear(
    backend: str, php: str, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The defaults are independent cache clears: config:clear starts while cache:clear still
    runs (here made to take a second), and each still does its job and gets its own step."""
    import shutil
    import time

    app = laravel_incident(tmp_path, db_url)
    config_cache = stale_config_cache(app)
    log, real = tmp_path / "php.log", shutil.which(php)
    wrapper = tmp_path / "bin" / "php"
    wrapper.parent.mkdir()
    wrapper.write_text(
        "#!/bin/sh\n"
        f'[ "$2" = cache:clear ] && sleep 1\necho "start $2 $(date +%s%N)" >> {log}\n'
        f'{real} "$@"\nrc=$?\necho "end $2 $(date +%s%N)" >> {log}\nexit $rc\n'
    )
    wrapper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{wrapper.parent}{os.pathsep}{os.environ['PATH']}")

    began = time.monotonic()
    outcome = api.fix("resume", app, db_url, yes=True, state_dir=tmp_path / "state")

    assert outcome.ok, (outcome.error, outcome.steps)
    hooks = [(s.title, s.status) for s in outcome.steps if s.kind == StepKind.HOOK.value]
    assert hooks == [("Run php artisan cache:clear", "ok"), ("Run php artisan config:clear", "ok")]
    assert not config_cache.exists()  # config:clear ran in the app
    times = {tuple(line.split()[:2]): int(line.split()[2]) for line in log.read_text().splitlines()}
    assert times["start", "config:clear"] < times["end", "cache:clear"]
    assert time.monotonic() - began > 1  # the wrapper did run
