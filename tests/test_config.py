"""Configuration: dbmedic.toml / [tool.dbmedic], environments, passwords by reference, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from dbmedic.cli import app
from dbmedic.config import (
    HookChoice,
    check_config,
    find_config,
    hooks_for,
    load_config,
    resolve_target,
)
from dbmedic.errors import ConfigError
from dbmedic.plans.steps import default_hooks

PASSWORD = "Tr0ub4dor-s3cret"
"""A test password: it must never appear in any output."""

GOOD = """
state_dir = ".dbmedic"
backup_dir = "/var/backups/dbmedic"

[environments.staging]
url = "mysql://app@staging-db.example.com/shop"
password_env = "DBMEDIC_TEST_STAGING_PW"
app = "app"
framework = "laravel"
reference = "production"
critical = ["users", "retell_agents"]
expected_tables = 244
hooks = [["php", "artisan", "cache:clear"], ["php", "artisan", "queue:restart"]]

[environments.production]
url = "mysql://app@prod-db.example.com/shop"
option_file = "prod.cnf"
protected = true

[environments.local]
url = "sqlite:///local.db"
reference = "snapshots/prod.json"
hooks = []
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder with the GOOD configuration, its option file and snapshot; cwd is elsewhere."""
    (tmp_path / "dbmedic.toml").write_text(GOOD)
    (tmp_path / "prod.cnf").write_text("[client]\nuser = app\npassword = prodpw-xyz\n")
    (tmp_path / "snapshots").mkdir()
    (tmp_path / "snapshots" / "prod.json").write_text("{}")
    (tmp_path / "app" / "sub").mkdir(parents=True)
    monkeypatch.delenv("DBMEDIC_CONFIG", raising=False)
    monkeypatch.setenv("DBMEDIC_TEST_STAGING_PW", PASSWORD)
    monkeypatch.chdir(tmp_path / "app" / "sub")
    return tmp_path


def test_a_full_file_is_read_with_paths_resolved_against_it(project: Path) -> None:
    config = load_config()
    assert config.path == project / "dbmedic.toml"
    assert config.state_dir == project / ".dbmedic"
    assert config.backup_dir == Path("/var/backups/dbmedic")
    assert config.names == ("staging", "production", "local")
    staging = config.environment("staging")
    assert staging.app == project / "app"
    assert staging.framework == "laravel"
    assert staging.critical == ("users", "retell_agents")
    assert staging.expected_tables == 244
    assert staging.hooks == (("php", "artisan", "cache:clear"), ("php", "artisan", "queue:restart"))
    assert staging.protected is False
    assert config.environment("production").protected is True
    assert config.environment("production").option_file == project / "prod.cnf"
    local = config.environment("local")
    assert local.hooks == ()
    assert local.reference == str(project / "snapshots" / "prod.json")


def test_the_file_is_found_from_a_subfolder_upward_and_by_variable(
    project: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert find_config() == project / "dbmedic.toml"
    assert find_config(project / "app") == project / "dbmedic.toml"
    other = tmp_path_factory.mktemp("other") / "elsewhere.toml"
    other.write_text("[environments.x]\nurl = 'sqlite:///x.db'\n")
    monkeypatch.setenv("DBMEDIC_CONFIG", str(other))
    assert load_config().names == ("x",)


def test_pyproject_tool_section(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DBMEDIC_CONFIG", raising=False)
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.dbmedic.environments.ci]\n'
        'url = "postgresql://ci@localhost/app"\nprotected = false\n'
    )
    config = load_config(start=tmp_path)
    assert config.path == tmp_path / "pyproject.toml"
    assert config.environment("ci").url == "postgresql://ci@localhost/app"
    (tmp_path / "pyproject.toml").write_text('[tool.dbmedic]\nbackupdir = "b"\n')
    with pytest.raises(ConfigError) as e:
        load_config(start=tmp_path)
    assert "[tool.dbmedic] of" in str(e.value) and "'backup_dir'" in str(e.value)


def test_no_file_is_an_empty_configuration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DBMEDIC_CONFIG", raising=False)
    config = load_config(start=tmp_path)
    assert config.path is None and config.environments == ()


def test_resolve_fills_the_password_from_its_variable_and_explicit_options_win(
    project: Path,
) -> None:
    target = resolve_target("staging")
    assert target.name == "staging"
    assert target.url is not None and PASSWORD in target.url
    assert PASSWORD not in target.display and "***" in target.display
    assert PASSWORD not in repr(target)
    assert target.app == project / "app"
    assert target.critical == ("users", "retell_agents")
    # reference = "production": that environment's URL, its password from the option file
    assert target.reference is not None and "prodpw-xyz" in target.reference
    explicit = resolve_target("staging", db="sqlite:///other.db", app="/tmp")
    assert explicit.url == "sqlite:///other.db"
    assert explicit.app == Path("/tmp")
    assert explicit.critical == ("users", "retell_agents")  # the rest still from the environment


def test_option_file_password_for_mysql_and_pgpass(project: Path) -> None:
    production = resolve_target("production")
    assert production.protected is True
    assert production.url is not None and ":prodpw-xyz@" in production.url
    (project / "pgpass").write_text("db.example.com:5432:app:ci:pg-pass-1\n")
    (project / "pg.toml").write_text(
        '[environments.ci]\nurl = "postgresql://ci@db.example.com/app"\noption_file = "pgpass"\n'
    )
    target = resolve_target("ci", config=load_config(project / "pg.toml"))
    assert target.url is not None and ":pg-pass-1@" in target.url


def test_sqlite_paths_are_relative_to_the_file(project: Path) -> None:
    assert resolve_target("local").url == f"sqlite:///{project / 'local.db'}"


def test_without_env_only_the_defaults_apply(project: Path) -> None:
    target = resolve_target(None, db="sqlite:///x.db")
    assert (target.name, target.url, target.protected) == (None, "sqlite:///x.db", False)
    assert target.backup_dir == Path("/var/backups/dbmedic")


def test_without_a_configuration_env_is_the_apps_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DBMEDIC_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    target = resolve_target("testing", app=tmp_path)
    assert target.name is None and target.framework_environment == "testing"


def test_hooks_come_from_the_chosen_or_matching_environment(project: Path) -> None:
    staging_hooks = (("php", "artisan", "cache:clear"), ("php", "artisan", "queue:restart"))
    where = f"environment 'staging' in {project / 'dbmedic.toml'}"
    staging = resolve_target("staging")
    assert hooks_for(make_url(staging.url or ""), environment=staging) == HookChoice(
        staging_hooks, where
    )
    production = resolve_target("production")  # no hooks key: the framework's defaults
    assert hooks_for(make_url(production.url or ""), environment=production) == HookChoice()
    assert hooks_for(make_url("sqlite:///x.db"), environment="local").commands == ()
    # without --env: the environment whose url names the database (spelled differently) ...
    by_url = hooks_for(make_url(f"sqlite:///{project / 'local.db'}"))
    assert by_url.commands == () and "its url names this database" in (by_url.source or "")
    other_spelling = make_url("mysql+pymysql://someone@staging-db.example.com:3306/shop")
    assert hooks_for(other_spelling).commands == staging_hooks
    # ... else the one whose app is the app folder, else the framework's defaults
    by_app = hooks_for(make_url("sqlite:///elsewhere.db"), app=project / "app")
    assert by_app.commands == staging_hooks and f"its app is {project / 'app'}" in (
        by_app.source or ""
    )
    assert hooks_for(make_url("sqlite:///elsewhere.db"), app=project) == HookChoice()
    assert default_hooks("laravel") == (
        ("php", "artisan", "cache:clear"),
        ("php", "artisan", "config:clear"),
    )
    assert default_hooks("django") == () and default_hooks(None) == ()


def test_environments_sharing_an_app_with_other_hooks_need_env(project: Path) -> None:
    (project / "dbmedic.toml").write_text(
        GOOD + '\n[environments.qa]\nurl = "sqlite:///qa.db"\napp = "app"\nhooks = []\n'
    )
    with pytest.raises(ConfigError, match=r"'staging', 'qa' in .* declare different post-fix") as e:
        hooks_for(make_url("sqlite:///elsewhere.db"), app=project / "app")
    assert "--env NAME" in (e.value.hint or "")
    qa = resolve_target("qa")  # choosing one settles it
    assert hooks_for(make_url(qa.url or ""), app=project / "app", environment=qa).commands == ()


BAD: list[tuple[str, str, tuple[str, ...]]] = [
    ("unknown top key", 'backupdir = "x"\n', ("unknown key 'backupdir'", "'backup_dir'")),
    (
        "unknown env key",
        '[environments.staging]\nurl = "sqlite:///x.db"\nprotect = true\n',
        ("unknown key 'protect'", "[environments.staging]", "did you mean 'protected'"),
    ),
    (
        "password in url",
        f'[environments.staging]\nurl = "mysql://app:{PASSWORD}@db/shop"\n',
        ("url in [environments.staging]", "contains a password", "password_env"),
    ),
    (
        "password in reference",
        f'[environments.s]\nurl = "sqlite:///x.db"\nreference = "mysql://r:{PASSWORD}@db/shop"\n',
        ("reference in [environments.s]", "contains a password"),
    ),
    (
        "critical is a string",
        '[environments.s]\ncritical = "users"\n',
        ("critical in [environments.s]", "must be a list of table names, not a string"),
    ),
    (
        "protected is a string",
        '[environments.s]\nprotected = "yes"\n',
        ("protected in [environments.s]", "must be true or false, not a string"),
    ),
    (
        "expected_tables negative",
        "[environments.s]\nexpected_tables = -1\n",
        ("expected_tables in [environments.s]", "0 or more"),
    ),
    (
        "expected_tables boolean",
        "[environments.s]\nexpected_tables = true\n",
        ("expected_tables in [environments.s]", "whole number"),
    ),
    (
        "hooks a string",
        '[environments.s]\nhooks = "php artisan cache:clear"\n',
        ("hooks in [environments.s]", "each a list of arguments"),
    ),
    (
        "hooks a flat list",
        '[environments.s]\nhooks = ["php", "artisan"]\n',
        ("hooks in [environments.s]", "each a list of arguments"),
    ),
    (
        "unknown framework",
        '[environments.s]\nframework = "laraval"\n',
        ("unknown framework 'laraval'", "did you mean 'laravel'"),
    ),
    (
        "both password sources",
        '[environments.s]\nurl = "mysql://a@h/d"\npassword_env = "X"\noption_file = "y"\n',
        ("sets both password_env and option_file",),
    ),
    (
        "password source without url",
        '[environments.s]\npassword_env = "X"\n',
        ("names a password source but no url",),
    ),
    (
        "reference to nothing",
        '[environments.production]\nurl = "sqlite:///p.db"\n[environments.s]\nreference = "prodution"\n',
        ("reference 'prodution'", "did you mean 'production'"),
    ),
    (
        "environments not a table",
        'environments = "staging"\n',
        ("environments in the top level", "must be a table"),
    ),
    ("empty url", '[environments.s]\nurl = ""\n', ("url in [environments.s] of", "is empty")),
    ("not toml", "[environments.s\nurl = 1\n", ("is not valid TOML",)),
    ("bad url", '[environments.s]\nurl = "::nonsense::"\n', ("is not a valid database URL",)),
]


@pytest.mark.parametrize(("text", "expected"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_files_are_one_sentence_naming_file_and_key(
    tmp_path: Path, text: str, expected: tuple[str, ...]
) -> None:
    path = tmp_path / "dbmedic.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as e:
        load_config(path)
    message = str(e.value)
    assert str(path) in message
    for part in expected:
        assert part in message, message
    assert PASSWORD not in message
    assert "\n" not in message


def test_a_missing_variable_names_it_with_file_and_key(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DBMEDIC_TEST_STAGING_PW")
    with pytest.raises(ConfigError) as e:
        resolve_target("staging")
    message = str(e.value)
    assert "DBMEDIC_TEST_STAGING_PW is not set" in message
    assert f"password_env in [environments.staging] of {project / 'dbmedic.toml'}" in message
    resolve_target("production")  # other environments are not affected


def test_a_missing_option_file_and_one_without_password(project: Path) -> None:
    (project / "prod.cnf").unlink()
    with pytest.raises(ConfigError, match=r"option file .*prod.cnf does not exist"):
        resolve_target("production")
    (project / "prod.cnf").write_text("[client]\nuser = app\n")
    with pytest.raises(ConfigError, match="has no password for mysql"):
        resolve_target("production")


def test_unknown_environment_suggests_the_closest(project: Path) -> None:
    with pytest.raises(ConfigError) as e:
        resolve_target("stagin")
    assert "no environment 'stagin'" in str(e.value)
    assert "did you mean 'staging'" in str(e.value)
    assert "staging, production, local" in str(e.value)


def test_env_with_a_file_that_defines_none_and_missing_named_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DBMEDIC_CONFIG", raising=False)
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.toml")
    (tmp_path / "dbmedic.toml").write_text('[environments.a]\nurl = "sqlite:///a.db"\n')
    with pytest.raises(ConfigError, match="no environment 'b'"):
        resolve_target("b", app=tmp_path)


# --- dbmedic config check --------------------------------------------------------------------


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner(mix_stderr=False).invoke(app, list(args), env={"COLUMNS": "200"})
    return result.exit_code, result.stdout, result.stderr


def test_config_check_lists_environments_redacted(project: Path) -> None:
    code, out, err = run("config", "check")
    assert code == 0, err
    assert "staging" in out and "production" in out and "local" in out
    assert PASSWORD not in out + err and "prodpw-xyz" not in out + err
    code, out, err = run("config", "check", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["format"] == "dbmedic.config/1" and data["valid"] is True
    rows = {r["name"]: r for r in data["environments"]}
    assert rows["production"]["protected"] is True
    assert rows["staging"]["url"] == "mysql://app@staging-db.example.com/shop"
    assert rows["staging"]["password"] == "$DBMEDIC_TEST_STAGING_PW"
    assert rows["staging"]["hooks"][0] == ["php", "artisan", "cache:clear"]
    assert rows["local"]["hooks"] == [] and rows["production"]["hooks"] is None
    assert PASSWORD not in out and "prodpw-xyz" not in out


def test_config_check_bad_file_is_exit_2_and_one_sentence(tmp_path: Path) -> None:
    path = tmp_path / "dbmedic.toml"
    path.write_text(f'[environments.staging]\nurl = "mysql://app:{PASSWORD}@db/shop"\n')
    code, out, err = run("config", "check", "--file", str(path))
    assert code == 2
    assert out == ""
    assert err.startswith("dbmedic: url in [environments.staging]")
    assert "put the password in an environment variable and name it with password_env" in err
    assert PASSWORD not in err
    assert err.count("\n") == 1


def test_config_check_missing_variable_and_env_filter(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DBMEDIC_TEST_STAGING_PW")
    code, _out, err = run("config", "check")
    assert code == 2
    assert "DBMEDIC_TEST_STAGING_PW is not set" in err and "dbmedic.toml" in err
    code, out, err = run("config", "check", "--env", "production", "--json")
    assert code == 0, err
    checked = {r["name"]: r["checked"] for r in json.loads(out)["environments"]}
    assert checked == {"staging": False, "production": True, "local": False}
    code, _out, err = run("config", "check", "--env", "prod")
    assert code == 2 and "no environment 'prod'" in err


def test_config_check_without_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DBMEDIC_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    code, _out, err = run("config", "check")
    assert code == 2 and "no dbmedic.toml" in err


def test_check_config_library_call(project: Path) -> None:
    result = check_config()
    assert result.checked == ("staging", "production", "local")
    assert all(PASSWORD not in json.dumps(r) for r in result.rows())


def test_the_documented_example_is_valid(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import re

    doc = (Path(__file__).resolve().parents[1] / "docs" / "configuration.md").read_text()
    example = re.search(r"```toml\n(.*?)```", doc, re.S)
    assert example is not None
    (tmp_path / "dbmedic.toml").write_text(example.group(1))
    (tmp_path / "snapshots").mkdir()
    (tmp_path / "snapshots" / "production.json").write_text("{}")
    monkeypatch.setenv("STAGING_DB_PASSWORD", PASSWORD)
    result = check_config(tmp_path / "dbmedic.toml", environments=("staging", "local"))
    assert [r["name"] for r in result.rows()] == ["staging", "production", "local"]
    assert result.config.environment("production").protected


def test_backup_and_restore_take_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`backup --env` writes into backup_dir; `restore --env` targets the environment's url."""
    import sqlite3

    monkeypatch.delenv("DBMEDIC_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    with sqlite3.connect(tmp_path / "source.db") as conn:
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
        conn.execute("INSERT INTO t VALUES (1), (2)")
    (tmp_path / "dbmedic.toml").write_text(
        'backup_dir = "kept"\n[environments.src]\nurl = "sqlite:///source.db"\n'
        '[environments.copy]\nurl = "sqlite:///copy.db"\n'
    )
    code, out, err = run("backup", "--env", "src", "--json")
    assert code == 0, err
    made = Path(json.loads(out)["path"])
    assert made.parent == tmp_path / "kept"
    code, out, err = run("restore", str(made), "--env", "copy", "--create", "--json")
    assert code == 0, err
    with sqlite3.connect(tmp_path / "copy.db") as conn:
        assert conn.execute("SELECT count(*) FROM t").fetchone() == (2,)
    code, _out, err = run("restore", str(made))
    assert code == 2 and "no database given" in err
