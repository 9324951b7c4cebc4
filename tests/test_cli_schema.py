"""dbmedic inspect / diff / verify through the CLI: exit codes, --json, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from typer.testing import CliRunner, Result

from dbmedic.cli import app
from dbmedic.inspect import save_snapshot
from dbtest import ADMIN_URLS, run_sql
from schema_builders import schema, table

SHOP = """
CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(255) NOT NULL, name VARCHAR(100));
CREATE UNIQUE INDEX users_email_unique ON users (email);
CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users (id), title VARCHAR(200));
CREATE INDEX posts_title_idx ON posts (title);
CREATE TABLE retell_agents (id INTEGER PRIMARY KEY);
CREATE TABLE retell_calls (id INTEGER PRIMARY KEY, agent_id INTEGER REFERENCES retell_agents (id));
"""


def run(*args: str) -> Result:
    return CliRunner(mix_stderr=False).invoke(app, list(args))


def one_sentence_error(result: Result, code: int = 2) -> str:
    assert result.exit_code == code, (result.stdout, result.stderr)
    err = result.stderr.strip()
    assert err.startswith("dbmedic: "), err
    assert len(err.splitlines()) == 1, err
    assert "Traceback" not in result.stdout + result.stderr
    return err


def statements(sql: str) -> str:
    """The SQL without its ``--`` comment lines."""
    return "\n".join(line for line in sql.splitlines() if not line.startswith("--"))


@pytest.fixture
def shop(tmp_path: Path) -> str:
    path = tmp_path / "shop.db"
    run_sql(f"sqlite:///{path}", SHOP)
    return f"sqlite:///{path}"


@pytest.fixture
def half_shop(tmp_path: Path) -> str:
    path = tmp_path / "half.db"
    run_sql(f"sqlite:///{path}", SHOP.split("CREATE TABLE retell_agents")[0])
    return f"sqlite:///{path}"


# --- inspect ----------------------------------------------------------------------------------


def test_inspect_shows_a_summary_table(shop: str) -> None:
    result = run("inspect", shop)
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    for name in ("users", "posts", "retell_agents", "retell_calls", "4 tables", "sqlite"):
        assert name in out
    assert result.stderr == ""


def test_inspect_json_and_snapshot_file_agree(shop: str, tmp_path: Path) -> None:
    snap = tmp_path / "snap.json"
    result = run("inspect", shop, "-o", str(snap), "--json")
    assert result.exit_code == 0, result.stderr
    printed = json.loads(result.stdout)
    written = json.loads(snap.read_text())
    assert printed == written
    assert printed["format"] == "dbmedic.schema/1"
    assert sorted(printed["tables"]) == ["posts", "retell_agents", "retell_calls", "users"]
    assert [c["name"] for c in printed["tables"]["users"]["columns"]] == ["id", "email", "name"]
    plain = run("inspect", shop, "-o", str(snap))
    assert plain.exit_code == 0 and f"wrote {snap}" in plain.stdout


# --- diff -------------------------------------------------------------------------------------


def test_diff_identical_exits_0(shop: str, tmp_path: Path) -> None:
    snap = tmp_path / "snap.json"
    assert run("inspect", shop, "-o", str(snap)).exit_code == 0
    result = run("diff", str(snap), shop)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "tables 4/4 (100.0%)" in result.stdout and "identical" in result.stdout
    data = json.loads(run("diff", shop, str(snap), "--json").stdout)
    assert data["identical"] is True and data["changes"] == []


def test_diff_different_exits_1_with_parity_first(shop: str, half_shop: str) -> None:
    result = run("diff", shop, half_shop)
    assert result.exit_code == 1, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "tables 2/4 (50.0%)"
    assert "retell_*" in result.stdout
    data = json.loads(run("diff", shop, half_shop, "--json").stdout)
    assert data["parity"]["tables"]["present"] == 2 and data["parity"]["tables"]["expected"] == 4
    assert data["missing_tables"] == ["retell_agents", "retell_calls"]
    assert data["missing_table_groups"] == {"retell_*": 2}


def test_diff_sql_creates_missing_tables_and_never_drops_unless_asked(
    shop: str, half_shop: str
) -> None:
    result = run("diff", shop, half_shop, "--sql")
    assert result.exit_code == 1
    sql = statements(result.stdout)
    assert sql.index("retell_agents") < sql.index("retell_calls")  # referenced table first
    assert "DROP" not in sql.upper()
    # the other way round the missing tables are extra: dropped only with --allow-drop
    reverse = run("diff", half_shop, shop, "--sql")
    assert "left out 2 drops" in reverse.stdout
    assert "DROP" not in statements(reverse.stdout).upper()
    dropping = run("diff", half_shop, shop, "--sql", "--allow-drop")
    assert statements(dropping.stdout).upper().count("DROP TABLE") == 2
    # applying the SQL makes the diff empty
    run_sql(half_shop, sql)
    assert run("diff", shop, half_shop).exit_code == 0


def test_diff_of_snapshots_reads_like_the_seed_incident(tmp_path: Path) -> None:
    present = [table(f"core_{i:03d}") for i in range(48)]
    retell = [table(f"retell_{n}") for n in "abcdefghijkl"]
    others = [table(f"misc{i:03d}") for i in range(244 - 48 - 12)]
    prod = save_snapshot(schema(*present, *retell, *others), tmp_path / "prod.json")
    staging = save_snapshot(schema(*present), tmp_path / "staging.json")
    result = run("diff", str(prod), str(staging))
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0] == "tables 48/244 (19.7%)"
    assert any(line.split()[:2] == ["retell_*", "12"] for line in result.stdout.splitlines())
    assert "missing tables (196)" in result.stdout


def test_strict_order(tmp_path: Path) -> None:
    from dataclasses import replace

    t = table("t", "a", "b")
    swapped = replace(
        t,
        columns={
            "id": t.columns["id"],
            "b": replace(t.columns["b"], ordinal=2),
            "a": replace(t.columns["a"], ordinal=3),
        },
    )
    one = save_snapshot(schema(t), tmp_path / "one.json")
    two = save_snapshot(schema(swapped), tmp_path / "two.json")
    loose = run("diff", str(one), str(two))
    assert loose.exit_code == 0 and "column order" in loose.stdout
    assert run("diff", str(one), str(two), "--strict-order").exit_code == 1


# --- verify -----------------------------------------------------------------------------------


def test_verify_passes_and_fails_by_check(shop: str, half_shop: str, tmp_path: Path) -> None:
    snap = tmp_path / "prod.json"
    assert run("inspect", shop, "-o", str(snap)).exit_code == 0
    ok = run(
        "verify",
        shop,
        "--reference",
        str(snap),
        "--expect-tables",
        "4",
        "--critical",
        "users,posts",
    )
    assert ok.exit_code == 0, ok.stdout
    bad = run(
        "verify",
        half_shop,
        "--reference",
        str(snap),
        "--expect-tables",
        "4",
        "--critical",
        "users,retell_calls",
    )
    assert bad.exit_code == 1
    assert "3 of 4 checks failed" in bad.stdout
    data = json.loads(
        run("verify", half_shop, "--reference", shop, "--critical", "retell_calls", "--json").stdout
    )
    assert data["in_sync"] is False
    status = {c["name"]: c["status"] for c in data["checks"]}
    assert status == {"connection": "ok", "critical tables": "failed", "parity": "failed"}
    assert "tables 2/4 (50.0%)" in next(
        c["detail"] for c in data["checks"] if c["name"] == "parity"
    )


# --- bad input: one sentence, exit 2, nothing written -----------------------------------------


BAD_URLS = [
    ("mysql+pymysql://u@127.0.0.1:1/db", "cannot connect to mysql+pymysql://u@127.0.0.1:1/db"),
    ("postgresql://u@127.0.0.1:1/db", "cannot connect to postgresql+psycopg://u@127.0.0.1:1/db"),
    ("mysql://u@host:notaport/db", "not a valid database URL"),
    ("not a url", "not a database URL"),
    ("oracle://u@host/db", "unsupported database kind 'oracle'"),
    ("sqlite:////nonexistent/x.db", "no such file"),
    ("mysql://u@127.0.0.1", "names no database"),
]


@pytest.mark.parametrize(("url", "sentence"), BAD_URLS, ids=[u for u, _ in BAD_URLS])
def test_bad_urls_are_one_sentence_exit_2_nothing_written(
    url: str, sentence: str, tmp_path: Path
) -> None:
    out = tmp_path / "snap.json"
    err = one_sentence_error(run("inspect", url, "-o", str(out)))
    assert sentence in err.replace("neither a database URL", "not a database URL")
    assert not out.exists() and list(tmp_path.iterdir()) == []
    assert sentence in one_sentence_error(run("diff", url, url)).replace(
        "neither a database URL", "not a database URL"
    )
    result = run("verify", url)
    assert sentence in one_sentence_error(result)


@pytest.mark.parametrize("backend_name", ["mariadb", "postgresql"])
def test_unknown_database(backend_name: str, tmp_path: Path) -> None:
    from dbtest import server_problem

    if server_problem(backend_name):
        pytest.skip(f"{backend_name} is not running")
    url = make_url(ADMIN_URLS[backend_name]).set(database="dbm_no_such_db_4711")
    text = url.render_as_string(hide_password=False)
    out = tmp_path / "snap.json"
    err = one_sentence_error(run("inspect", text, "-o", str(out)))
    assert "dbm_no_such_db_4711" in err and "cannot connect" in err
    assert not out.exists()


def test_wrong_password_mariadb(tmp_path: Path) -> None:
    from dbtest import server_problem

    if server_problem("mariadb"):
        pytest.skip("mariadb is not running")
    url = make_url(ADMIN_URLS["mariadb"]).set(username="dbm_nobody", password="Wr0ngPass!")
    err = one_sentence_error(run("inspect", url.render_as_string(hide_password=False)))
    assert "Wr0ngPass!" not in err and "***" in err
    assert "denied" in err.lower()


@pytest.mark.parametrize(
    ("content", "sentence"),
    [
        ("this is not json", "is not JSON"),
        (
            '{"format": "dbmedic.schema/1", "dialect": "sqlite", "tables": {"t": {"col',
            "is truncated",
        ),
        ('{"format": "dbmedic.schema/9", "dialect": "sqlite"}', "format version 9, newer than"),
        ('{"format": "dbmedic.schema/1"}', "has no 'dialect'"),
    ],
)
def test_bad_snapshots_exit_2(content: str, sentence: str, tmp_path: Path, shop: str) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    assert sentence in one_sentence_error(run("diff", str(bad), shop))
    assert sentence in one_sentence_error(run("diff", shop, str(bad), "--json"))
    assert sentence in one_sentence_error(run("verify", shop, "--reference", str(bad)))


def test_debug_shows_the_traceback() -> None:
    result = CliRunner(mix_stderr=False).invoke(app, ["--debug", "inspect", "oracle://u@h/db"])
    assert result.exception is not None
    assert type(result.exception).__name__ == "UnsupportedDialect"


def test_console_script_exit_codes(shop: str, half_shop: str) -> None:
    """Through the real entry point (not CliRunner): 0 identical, 1 different, 2 bad input."""
    import os
    import subprocess
    import sys

    src = str(Path(__file__).resolve().parent.parent / "src")
    env = {**os.environ, "PYTHONPATH": src}
    cmd = [sys.executable, "-c", "from dbmedic.cli import main; main()"]

    def code(*args: str) -> int:
        return subprocess.run([*cmd, *args], env=env, capture_output=True).returncode

    assert code("diff", shop, shop) == 0
    assert code("diff", shop, half_shop) == 1
    assert code("verify", half_shop, "--expect-tables", "4") == 1
    assert code("diff", shop, "oracle://u@h/db") == 2
