"""``dbmedic status`` without Typer (``dbmedic.cli.fast``) parses, prints and exits exactly as
the Typer command: the same options from the same definitions, the same parameters for every
command line it accepts, and Typer for every other one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest
import typer

from dbmedic.cli import ExitCode, app_for, options
from dbmedic.cli.fast import parse, parse_status, run_fast
from migration_helpers import SRC, run_cli_modules, write_migrations

ACCEPTED = [
    ["status"],
    ["status", "--json"],
    ["--debug", "status", "--app", "x", "--db", "sqlite:///a.db"],
    ["status", "--app=x", "--db=mysql://u@h/db", "--framework", "laravel", "--env", "staging"],
    ["status", "--json", "--env=prod", "--app", "a b/c", "--framework=dbmate"],
    ["status", "--db", ""],
    ["status", "--app", "~/app", "--db", "postgresql://u@h/d?options=-csearch_path%3Dx"],
    ["status", "--db", "mysql://u@h/d?x=a=b"],
]
DECLINED = [
    [],
    ["--help"],
    ["--version", "status"],
    ["status", "--help"],
    ["status", "-h"],
    ["status", "--json", "--json"],
    ["status", "--app", "x", "--app", "y"],
    ["status", "--app"],
    ["status", "--app", "--json"],
    ["status", "--db", "-x"],
    ["status", "--db=-x"],
    ["status", "--json=1"],
    ["status", "--nope"],
    ["status", "--ap", "x"],
    ["status", "extra"],
    ["status", "--"],
    ["status", "--debug"],
    ["stat"],
    ["migrate", "--app", "x"],
    ["--debug", "--debug", "status"],
]


def _calls(
    args: list[str], monkeypatch: pytest.MonkeyPatch, command: str = "status"
) -> tuple[list[Any], list[Any]]:
    """The arguments the command's ``run_*`` function gets from the fast path and from the
    Typer command."""
    import dbmedic.cli.backup_cmds
    import dbmedic.cli.backup_view
    import dbmedic.cli.migration_cmds
    import dbmedic.cli.status_view
    from dbmedic.cli.output import state

    view, typer_module, name, params = {
        "status": (dbmedic.cli.status_view, dbmedic.cli.migration_cmds, "run_status",
                   [o.param for o in options.STATUS]),
        "backup": (dbmedic.cli.backup_view, dbmedic.cli.backup_cmds, "run_backup",
                   ["url", *(o.param for o in options.BACKUP)]),
    }[command]  # fmt: skip
    monkeypatch.setitem(state, "debug", False)  # --debug sets it for the process
    fast: list[Any] = []
    slow: list[Any] = []

    def spy(calls: list[Any]) -> Any:
        return lambda *a, **k: calls.append((a, k)) or ExitCode.OK

    monkeypatch.setattr(view, name, spy(fast))
    monkeypatch.setattr(typer_module, name, spy(slow))
    assert run_fast(args) == 0
    app_for(args)(args=args, standalone_mode=False, prog_name="dbmedic")
    assert fast[0][0] == () and slow[0][1] == {}  # by name here, in order there
    return [fast[0][1][p] for p in params], list(slow[0][0])


def test_the_options_are_the_status_commands_own() -> None:
    group = typer.main.get_command(app_for(["status"]))
    assert isinstance(group, click.Group)
    command = group.commands["status"]
    theirs = {
        p.name: (p.opts, getattr(p, "is_flag", False)) for p in command.params if p.name != "help"
    }
    ours = {o.param: ([o.flag], o.kind is bool) for o in options.STATUS}
    assert theirs == ours
    assert [p.opts for p in group.params if p.name == "debug"] == [[options.DEBUG.flag]]


@pytest.mark.parametrize("args", ACCEPTED, ids=" ".join)
def test_accepted_command_lines_parse_as_typer_parses_them(
    args: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    fast, typer_ = _calls(args, monkeypatch)
    assert fast == typer_
    assert [type(v) for v in fast] == [type(v) for v in typer_]


@pytest.mark.parametrize("args", DECLINED, ids=" ".join)
def test_other_command_lines_are_left_to_typer(args: list[str]) -> None:
    assert parse_status(args) is None


_TYPER = "import sys; from dbmedic.cli.commands import app; app(sys.argv[1:], prog_name='dbmedic')"


def _typer_run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(SRC), "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-c", _TYPER, *args], env=env, capture_output=True, text=True, timeout=120
    )


def test_output_and_exit_codes_are_typers(tmp_path: Path) -> None:
    write_migrations(
        tmp_path,
        {
            f"2024010100000{n}_m{n}.sql": f"-- migrate:up\nCREATE TABLE t{n} (id INT);\n"
            for n in (1, 2)
        },
    )
    db = tmp_path / "app.sqlite3"
    db.touch()
    url = f"sqlite:///{db}"
    for args in (
        ["status", "--app", str(tmp_path), "--db", url, "--json"],
        ["status", "--app", str(tmp_path), "--db", url],
        ["status", "--app", str(tmp_path / "missing"), "--db", url],
        ["status", "--app", str(tmp_path), "--db", "oracle://x/y", "--json"],
    ):
        fast, modules = run_cli_modules(*args, env={"COLUMNS": "200"})
        slow = _typer_run(*args)
        assert "typer" not in modules, args
        assert (fast.returncode, fast.stderr) == (slow.returncode, slow.stderr), args
        if "--json" in args and fast.returncode != 2:
            mine, theirs = json.loads(fast.stdout), json.loads(slow.stdout)
            mine.pop("seconds"), theirs.pop("seconds")
            assert mine == theirs
        else:
            assert fast.stdout == slow.stdout, args


# --- backup -------------------------------------------------------------------------------------

BACKUP_ACCEPTED = [
    ["backup"],
    ["backup", "mysql://u@h/db"],
    ["backup", "sqlite:///a.db", "--json"],
    ["--debug", "backup", "--env", "staging"],
    ["backup", "--dir", "bk", "postgresql://u@h/d", "--jobs", "4"],
    ["backup", "--dir=bk dir", "--schema-only", "--builtin", "--gzip", "--jobs=1", "x://y"],
    ["backup", "--external", "--no-compress", "--env=prod", "mysql://u@h/d?x=a=b"],
    ["backup", "--jobs", "03"],
    ["backup", ""],
]
BACKUP_DECLINED = [
    ["backup", "--help"],
    ["backup", "a", "b"],
    ["backup", "--jobs", "0"],
    ["backup", "--jobs", "x"],
    ["backup", "--jobs", "-1"],
    ["backup", "--jobs", "1.5"],
    ["backup", "--jobs"],
    ["backup", "--dir"],
    ["backup", "--dir", ""],
    ["backup", "--json", "--json"],
    ["backup", "--json=yes"],
    ["backup", "--app", "x"],
    ["backup", "-"],
    ["backup", "--"],
    ["backups", "list"],
    ["restore", "bk", "--db", "x"],
]


def test_the_options_are_the_backup_commands_own() -> None:
    group = typer.main.get_command(app_for(["backup"]))
    assert isinstance(group, click.Group)
    command = group.commands["backup"]
    theirs = {
        p.name: (p.opts, getattr(p, "is_flag", False), p.default)
        for p in command.params
        if p.name not in ("help", "url")
    }
    ours = {o.param: ([o.flag], o.kind is bool, o.default) for o in options.BACKUP}
    assert theirs == ours


@pytest.mark.parametrize("args", BACKUP_ACCEPTED, ids=" ".join)
def test_accepted_backup_command_lines_parse_as_typer_parses_them(
    args: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    fast, typer_ = _calls(args, monkeypatch, "backup")
    assert fast == typer_
    assert [type(v) for v in fast] == [type(v) for v in typer_]


@pytest.mark.parametrize("args", BACKUP_DECLINED, ids=" ".join)
def test_other_backup_command_lines_are_left_to_typer(args: list[str]) -> None:
    assert parse(args) is None


def test_a_backup_runs_without_typer_and_says_what_typer_says(tmp_path: Path) -> None:
    db = tmp_path / "app.sqlite3"
    import sqlite3

    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        conn.execute("INSERT INTO t VALUES (1, 'a')")
    url = f"sqlite:///{db}"
    for args in (
        ["backup", url, "--dir", str(tmp_path / "fast"), "--json"],
        ["backup", "oracle://x/y", "--dir", str(tmp_path / "fast")],
        ["backup", "--dir", str(tmp_path / "fast")],
    ):
        fast, modules = run_cli_modules(*args, env={"COLUMNS": "200"})
        slow = _typer_run(*[a.replace("fast", "slow") for a in args])
        assert "typer" not in modules, args
        assert (fast.returncode, fast.stderr) == (slow.returncode, slow.stderr), args
        if fast.returncode == 0:
            mine, theirs = json.loads(fast.stdout), json.loads(slow.stdout)
            for moment in ("path", "started", "finished"):  # when and where: not the same
                mine.pop(moment), theirs.pop(moment)
            assert mine == theirs
    fast, _ = run_cli_modules("backup", url, "--dir", str(tmp_path / "plain"))
    assert fast.returncode == 0 and fast.stdout.startswith("backed up "), fast.stdout
