"""The production guard: protected or production-looking targets are never changed by accident.

Every destructive library call and command (restore, native migrate, fix, fix --resume,
rollback) is tried against a protected target one by one, and the database is re-read
afterwards: same schema, same rows. A refusal for the same name on a port where nothing answers
shows that the guard decides before connecting.
"""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from dbmedic import api
from dbmedic.cli import app
from dbmedic.config import resolve_target
from dbmedic.errors import RefusedError, StepFailed
from dbmedic.guard import assert_may_change, inspect_target, names_production
from dbmedic.runs import read_run
from dbmedic.secrets import redact
from dbtest import ADMIN_URLS, DatabaseFactory, run_sql

CLI_APP = importlib.import_module("dbmedic.cli.app")
"""The module (``dbmedic.cli.app`` as an attribute is the Typer app)."""

# --- names ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["prod", "PROD", "production", "app_prod", "shop-production", "prod-db.example.com",
     "db.prod.internal", "prod2", "shop_prod_v2", "prod.db"],
)  # fmt: skip
def test_production_tokens(name: str) -> None:
    assert names_production(name)


@pytest.mark.parametrize(
    "name",
    ["product_catalog", "products", "reproduce", "shopprod", "staging", "db.example.com",
     "preprod_x", "", "127.0.0.1"],
)  # fmt: skip
def test_not_production_tokens(name: str) -> None:
    assert not names_production(name)


@pytest.fixture(autouse=True)
def _no_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No configuration file or production variable leaks in from the machine running the tests."""
    monkeypatch.delenv("DBMEDIC_CONFIG", raising=False)
    monkeypatch.delenv("APP_ENV", raising=False)
    monkeypatch.delenv("DJANGO_SETTINGS_MODULE", raising=False)
    monkeypatch.chdir(tmp_path)


def test_database_and_host_names() -> None:
    verdict = inspect_target("mysql+pymysql://app:pw-123@prod-db.example.com/shop")
    assert verdict.reasons == ("host name 'prod-db.example.com' contains 'prod'",)
    assert verdict.target == "mysql+pymysql://app:***@prod-db.example.com/shop"
    assert verdict.database == "shop"
    verdict = inspect_target("postgresql://app@db.example.com/app_prod")
    assert verdict.reasons == ("database name 'app_prod' contains 'prod'",)
    assert not inspect_target("postgresql://app@db.example.com/product_catalog").production
    assert not inspect_target("mysql://app@staging-db/shop").production


def test_sqlite_file_name(tmp_path: Path) -> None:
    assert inspect_target(f"sqlite:///{tmp_path / 'prod.db'}").database == "prod.db"
    assert inspect_target(f"sqlite:///{tmp_path / 'prod.db'}").production
    assert not inspect_target(f"sqlite:///{tmp_path / 'products.db'}").production


# --- what the app says ----------------------------------------------------------------------------


def laravel_app(root: Path, env: str, **files: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "artisan").write_text("<?php\n")
    (root / ".env").write_text(env)
    for name, body in files.items():
        (root / name.replace("_env_", ".env.")).write_text(body)
    return root


def test_laravel_app_env_production(tmp_path: Path) -> None:
    root = laravel_app(tmp_path / "app", "APP_ENV=production\nDB_DATABASE=shop\n")
    verdict = inspect_target("mysql://app@db/shop", app=root)
    assert verdict.reasons == (f"APP_ENV=production in {root / '.env'}",)


def test_laravel_env_file_of_the_environment(tmp_path: Path) -> None:
    root = laravel_app(
        tmp_path / "app", "APP_ENV=local\n", _env_staging="APP_ENV=staging\n",
        _env_live="APP_ENV=production\n",
    )  # fmt: skip
    assert not inspect_target("mysql://app@db/shop", app=root).production
    assert not inspect_target("mysql://app@db/shop", app=root, environment="staging").production
    verdict = inspect_target("mysql://app@db/shop", app=root, environment="live")
    assert verdict.reasons == (f"APP_ENV=production in {root / '.env.live'}",)


def test_laravel_process_environment_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = laravel_app(tmp_path / "app", "APP_ENV=local\n")
    monkeypatch.setenv("APP_ENV", "production")
    assert inspect_target("mysql://app@db/shop", app=root).reasons == (
        "APP_ENV=production in the environment",
    )


def django_app(root: Path, module: str, settings: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "manage.py").write_text(
        "import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'shop.settings.dev')\n"
    )
    path = root / Path(*module.split(".")).with_suffix(".py")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(settings)
    return path


def test_django_production_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "app"
    django_app(root, "shop.settings.dev", "DEBUG = True\n")
    prod = django_app(root, "shop.settings.production", "from .base import *\nDEBUG = False\n")
    url = "postgresql://app@db/shop"
    assert not inspect_target(url, app=root).production  # manage.py says dev
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "shop.settings.production")
    assert inspect_target(url, app=root).reasons == (
        f"DJANGO_SETTINGS_MODULE=shop.settings.production (DEBUG = False in {prod})",
    )


@pytest.mark.parametrize(
    ("module", "settings", "production"),
    [
        ("shop.prod", "DEBUG = False\n", True),
        ("shop.settings_prod", "import os\nDEBUG = os.environ.get('DEBUG') == '1'\n", True),
        ("shop.settings.production", "SECRET_KEY = 'x'\n", True),  # Django's default is False
        ("shop.settings.production", "DEBUG = False\nDEBUG = True\n", False),
        ("shop.settings.dev", "DEBUG = False\n", False),
        ("shop.settings.product_site", "DEBUG = False\n", False),
    ],
)
def test_django_settings_cases(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, module: str, settings: str, production: bool
) -> None:
    root = tmp_path / "app"
    django_app(root, module, settings)
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", module)
    assert inspect_target("postgresql://app@db/shop", app=root).production is production


# --- configuration ---------------------------------------------------------------------------------


def protect(folder: Path, url: str, name: str = "production") -> Path:
    path = folder / "dbmedic.toml"
    path.write_text(f'[environments.{name}]\nurl = "{redact(url)}"\nprotected = true\n')
    return path


def test_protected_environment_by_name_by_target_and_by_url(tmp_path: Path) -> None:
    url = "postgresql://app@db.example.com/shop"
    config = protect(tmp_path, url, "live")
    expected = f"protected = true for environment 'live' in {config}"
    assert inspect_target(url, environment="live").reasons == (expected,)
    assert inspect_target(url, environment=resolve_target("live")).reasons == (expected,)
    # the same database spelled another way, with no --env at all
    verdict = inspect_target("postgresql+psycopg://app@DB.example.com:5432/shop")
    assert verdict.protected
    assert verdict.reasons == (f"it is environment 'live', protected = true in {config}",)
    assert not inspect_target("postgresql://app@db.example.com/shop2").production


def test_assert_may_change_messages() -> None:
    url = "mysql+pymysql://app:pw-123@prod-db/shop"
    with pytest.raises(RefusedError) as e:
        assert_may_change(url)
    assert str(e.value) == (
        "refused: mysql+pymysql://app:***@prod-db/shop looks like production (host name "
        "'prod-db' contains 'prod'); pass --allow-production and type the database name to "
        "continue; nothing was changed"
    )
    assert e.value.exit_code == 3
    with pytest.raises(RefusedError, match="impossible without a terminal"):
        assert_may_change(url, allow_production=True)
    with pytest.raises(RefusedError, match="'shopx' is not the database name 'shop'"):
        assert_may_change(url, allow_production=True, confirm=lambda prompt: "shopx")
    prompts: list[str] = []
    assert_may_change(url, allow_production=True, confirm=lambda p: prompts.append(p) or " shop\n")
    assert "Type the name of the database to change (shop)" in prompts[0]
    assert "pw-123" not in prompts[0]
    assert not assert_may_change("mysql://app@staging/shop").verdict.production  # no prompt


# --- every destructive call against a protected target, on real servers -------------------------


def state(url: str) -> tuple[dict[str, Any], dict[str, list[tuple[Any, ...]]]]:
    """Schema (tables, columns, indexes) and every row, to compare before and after."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            insp = inspect(conn)
            schema: dict[str, Any] = {}
            rows: dict[str, list[tuple[Any, ...]]] = {}
            for table in sorted(insp.get_table_names()):
                cols = insp.get_columns(table)
                schema[table] = (
                    [(c["name"], str(c["type"]), c["nullable"]) for c in cols],
                    sorted(str(i) for i in insp.get_indexes(table)),
                )
                quoted = engine.dialect.identifier_preparer.quote(table)
                rows[table] = sorted(
                    (tuple(r) for r in conn.execute(text(f"SELECT * FROM {quoted}"))), key=repr
                )
    finally:
        engine.dispose()
    return schema, rows


SEED = """
CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(100) NOT NULL);
INSERT INTO users (id, email) VALUES (1, 'a@example.com'), (2, 'b@example.com');
CREATE INDEX users_email ON users (email)
"""


def prod_url(factory: DatabaseFactory) -> str:
    """A throwaway database whose name says production (``dbm_prod_<hex>``), seeded."""
    url = factory.new("prod")
    run_sql(url, SEED)
    return url


def exists(url: str) -> bool:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return Path(str(parsed.database)).exists()
    engine = create_engine(ADMIN_URLS["mariadb" if "mysql" in parsed.drivername else "postgresql"])
    with engine.connect() as conn:
        if engine.dialect.name == "mysql":
            found = conn.execute(text("SHOW DATABASES LIKE :n"), {"n": parsed.database}).first()
        else:
            q = text("SELECT 1 FROM pg_database WHERE datname = :n")
            found = conn.execute(q, {"n": parsed.database}).first()
    engine.dispose()
    return found is not None


@pytest.fixture
def a_backup(db_factory: DatabaseFactory, tmp_path: Path) -> Path:
    source = db_factory.new("src")
    run_sql(source, SEED.replace("a@example.com", "restored@example.com"))
    return Path(api.backup(source, tmp_path / "backups").path)


def cli(*args: str, input: str | None = None) -> tuple[int, str, str]:
    result = CliRunner(mix_stderr=False).invoke(
        app, list(args), input=input, env={"COLUMNS": "300"}
    )
    return result.exit_code, result.stdout, result.stderr


def after_echo(out: str) -> str:
    """stdout without the typed line: CliRunner echoes input into stdout, where a terminal echoes
    it on the screen."""
    first, _, rest = out.partition("\n")
    assert not first.startswith("{")
    return rest


def test_restore_library_refused(db_factory: DatabaseFactory, a_backup: Path) -> None:
    url = prod_url(db_factory)
    before = state(url)
    with pytest.raises(RefusedError, match="looks like production"):
        api.restore(a_backup, url, force=True)
    with pytest.raises(RefusedError, match="impossible without a terminal"):
        api.restore(a_backup, url, force=True, allow_production=True)
    with pytest.raises(RefusedError, match="is not the database name"):
        api.restore(a_backup, url, force=True, allow_production=True, confirm=lambda p: "x")
    assert state(url) == before


def test_restore_create_refused_creates_nothing(
    db_factory: DatabaseFactory, a_backup: Path
) -> None:
    url = db_factory.unmade("prod")
    with pytest.raises(RefusedError):
        api.restore(a_backup, url, create=True)
    assert not exists(url)


def test_restore_library_with_the_typed_name_proceeds(
    db_factory: DatabaseFactory, a_backup: Path
) -> None:
    url = prod_url(db_factory)
    name = inspect_target(url).database
    result = api.restore(
        a_backup, url, force=True, allow_production=True, confirm=lambda prompt: name
    )
    assert result.tables == 1
    assert state(url)[1]["users"][0][1] == "restored@example.com"


def test_restore_cli_refused_then_confirmed(
    db_factory: DatabaseFactory, a_backup: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = prod_url(db_factory)
    before = state(url)
    code, out, err = cli("restore", str(a_backup), "--db", url, "--force")
    assert code == 3, err
    assert err.startswith("dbmedic: refused:") and "looks like production" in err
    code, out, err = cli("restore", str(a_backup), "--db", url, "--force", "--allow-production")
    assert code == 3 and "without a terminal" in err  # CliRunner's stdin is not a TTY
    assert state(url) == before
    monkeypatch.setattr(CLI_APP, "stdin_is_terminal", lambda: True)
    code, out, err = cli(
        "restore", str(a_backup), "--db", url, "--force", "--allow-production", input="wrong\n"
    )
    assert code == 3 and "'wrong' is not the database name" in err
    assert state(url) == before
    name = inspect_target(url).database
    code, out, err = cli(
        "restore", str(a_backup), "--db", url, "--force", "--allow-production", "--json",
        input=f"{name}\n",
    )  # fmt: skip
    assert code == 0, err
    assert json.loads(after_echo(out))["verified"] is True  # the prompt went to stderr
    assert "Type the name of the database" in err
    assert state(url)[1]["users"][0][1] == "restored@example.com"


def test_restore_cli_protected_environment(
    db_factory: DatabaseFactory, a_backup: Path, tmp_path: Path
) -> None:
    url = db_factory.new("live")  # a name that does not look like production
    run_sql(url, SEED)
    before = state(url)
    protect(tmp_path, url)
    code, _out, err = cli("restore", str(a_backup), "--env", "production", "--force")
    assert code == 3 and "is protected" in err and "environment 'production'" in err
    code, _out, err = cli("restore", str(a_backup), "--db", url, "--force")  # by URL, no --env
    assert code == 3 and "is protected" in err
    assert state(url) == before


MIGRATIONS = {
    "20240101000000_users_status.sql": "-- migrate:up\nALTER TABLE users ADD COLUMN status INT;\n"
    "UPDATE users SET status = 1;\n-- migrate:down\nALTER TABLE users DROP COLUMN status;\n",
    "20240102000000_orders.sql": "-- migrate:up\nCREATE TABLE orders (id INT PRIMARY KEY);\n"
    "-- migrate:down\nDROP TABLE orders;\n",
}


def sql_app(root: Path) -> Path:
    folder = root / "db" / "migrations"
    folder.mkdir(parents=True)
    for name, body in MIGRATIONS.items():
        (folder / name).write_text(body)
    return root


def test_migrate_library_refused(db_factory: DatabaseFactory, tmp_path: Path) -> None:
    url = prod_url(db_factory)
    root = sql_app(tmp_path / "app")
    before = state(url)
    with pytest.raises(RefusedError, match="looks like production"):
        api.migrate(root, url)
    with pytest.raises(RefusedError, match="impossible without a terminal"):
        api.migrate(root, url, allow_production=True)
    with pytest.raises(RefusedError, match="is not the database name"):
        api.migrate(root, url, allow_production=True, confirm=lambda p: "nope")
    assert state(url) == before
    assert "schema_migrations" not in before[0]  # not even the tracking table was made


def test_migrate_library_laravel_production_app(
    db_factory: DatabaseFactory, tmp_path: Path
) -> None:
    url = db_factory.new("app")  # an innocent name: the app's .env is what says production
    run_sql(url, SEED)
    root = sql_app(tmp_path / "app")
    (root / "artisan").write_text("<?php\n")  # a Laravel app ... whose migrations are SQL here
    (root / ".env").write_text("APP_ENV=production\n")
    before = state(url)
    with pytest.raises(RefusedError, match=r"APP_ENV=production in .*\.env"):
        api.migrate(root, url, framework="dbmate")
    assert state(url) == before


def test_migrate_library_with_the_typed_name_proceeds(
    db_factory: DatabaseFactory, tmp_path: Path
) -> None:
    url = prod_url(db_factory)
    root = sql_app(tmp_path / "app")
    name = inspect_target(url).database
    report = api.migrate(root, url, allow_production=True, confirm=lambda p: name)
    assert report.result.ok and len(report.result.applied) == 2
    assert "orders" in state(url)[0]


def test_migrate_cli_refused_then_confirmed(
    db_factory: DatabaseFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = prod_url(db_factory)
    root = sql_app(tmp_path / "app")
    before = state(url)
    code, _out, err = cli("migrate", "--app", str(root), "--db", url)
    assert code == 3 and "refused:" in err and "nothing was changed" in err
    code, _out, err = cli("migrate", "--app", str(root), "--db", url, "--allow-production")
    assert code == 3 and "without a terminal" in err
    assert state(url) == before
    monkeypatch.setattr(CLI_APP, "stdin_is_terminal", lambda: True)
    args = ("migrate", "--app", str(root), "--db", url, "--allow-production", "--json")
    code, _out, err = cli(*args, input="shop\n")
    assert code == 3 and "'shop' is not the database name" in err
    assert state(url) == before
    code, out, err = cli(*args, input=inspect_target(url).database + "\n")
    assert code == 0, err
    assert json.loads(after_echo(out))["ok"] is True
    assert "orders" in state(url)[0]


def test_migrate_cli_protected_environment_with_password_env(
    db_factory: DatabaseFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--env selects the database and app; protected = true refuses; the password (a test
    variable) never shows, in the refusal or anywhere."""
    url = db_factory.new("app")
    run_sql(url, SEED)
    sql_app(tmp_path / "app")
    secret = "Sup3r-s3cret-pw"
    parsed = make_url(url)
    (tmp_path / "dbmedic.toml").write_text(
        f'[environments.production]\nurl = "{redact(parsed)}"\npassword_env = "DBMEDIC_TEST_PW"\n'
        'app = "app"\nprotected = true\n'
    )
    monkeypatch.setenv("DBMEDIC_TEST_PW", secret)
    before = state(url)
    code, out, err = cli("migrate", "--env", "production")
    assert code == 3 and "is protected" in err
    assert secret not in out + err
    assert state(url) == before


@pytest.mark.backend("sqlite")
def test_status_and_diagnose_take_the_environment(
    db_factory: DatabaseFactory, tmp_path: Path
) -> None:
    """Read-only commands accept --env (database and app from the configuration)."""
    url = db_factory.new("app")
    root = sql_app(tmp_path / "app")
    (tmp_path / "dbmedic.toml").write_text(
        f'[environments.staging]\nurl = "{url}"\napp = "app"\ncritical = ["orders"]\n'
    )
    code, out, err = cli("status", "--env", "staging", "--json")
    assert code == 1, err  # pending migrations
    data = json.loads(out)
    assert data["counts"]["pending"] == 2 and data["app"] == str(root.resolve())
    code, out, err = cli("diagnose", "--env", "staging", "--json", "--no-rehearse")
    assert code in (0, 1), err
    assert [c["table"] for c in json.loads(out)["critical"]] == ["orders"]


def test_a_clearance_covers_its_own_database_only(
    db_factory: DatabaseFactory, a_backup: Path
) -> None:
    """A fix confirms once at its start; its rollback restore passes the guard's clearance."""
    url = prod_url(db_factory)
    other = prod_url(db_factory)
    name = inspect_target(url).database
    clearance = assert_may_change(url, allow_production=True, confirm=lambda p: name)
    before_other = state(other)
    with pytest.raises(RefusedError, match="looks like production"):
        api.restore(a_backup, other, force=True, clearance=clearance)
    assert state(other) == before_other
    result = api.restore(a_backup, url, force=True, clearance=clearance)  # no second prompt
    assert result.tables == 1
    assert state(url)[1]["users"][0][1] == "restored@example.com"


# --- fix, fix --resume and rollback: the repair commands -------------------------------------------

REFERENCE = SEED + ";\nCREATE TABLE orders (id INTEGER PRIMARY KEY)"
"""The production database's reference: the same users plus a table sync creates."""


def unreachable(url: str, tmp_path: Path) -> str:
    """The same database name on a port (SQLite: a folder) where nothing answers: a refusal
    there, instead of a connection error, shows the guard decided before connecting."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return str(parsed.set(database=str(tmp_path / "missing" / Path(str(parsed.database)).name)))
    return parsed.set(host="127.0.0.1", port=1).render_as_string(hide_password=False)


@dataclass(frozen=True)
class ProdRun:
    """An interrupted sync run on a production-looking database (confirmed when it started)."""

    url: str
    reference: str
    state_dir: Path
    run_id: str
    before: Any
    """The database before the run."""
    interrupted: Any
    """The database as the run left it (the new table created, the run not finished)."""

    def events(self) -> list[str]:
        return [e["event"] for e in read_run(self.state_dir, self.run_id).events]


@pytest.fixture
def prod_run(
    db_factory: DatabaseFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> ProdRun:
    url = prod_url(db_factory)
    reference = db_factory.new("ref")
    run_sql(reference, REFERENCE)
    before = state(url)
    name = inspect_target(url).database
    monkeypatch.setenv("DBMEDIC_FAULT", "3:after:error")  # after step 3 created the table
    with pytest.raises(StepFailed, match="injected fault"):
        api.fix("sync", None, url, reference=reference, yes=True, state_dir=tmp_path,
                backup_dir=tmp_path / "backups", allow_production=True,
                confirm_production=lambda prompt: name)  # fmt: skip
    monkeypatch.delenv("DBMEDIC_FAULT")
    (run,) = api.runs(tmp_path)
    assert run.state == "interrupted" and run.backup
    interrupted = state(url)
    assert "orders" in interrupted[0] and "orders" not in before[0]
    return ProdRun(url, reference, tmp_path, run.id, before, interrupted)


def test_fix_library_refused(db_factory: DatabaseFactory, tmp_path: Path) -> None:
    url = prod_url(db_factory)
    reference = db_factory.new("ref")
    run_sql(reference, REFERENCE)
    before = state(url)
    with pytest.raises(RefusedError, match="looks like production"):
        api.fix("sync", None, url, reference=reference, yes=True)
    with pytest.raises(RefusedError, match="impossible without a terminal"):
        api.fix("sync", None, url, reference=reference, yes=True, allow_production=True)
    with pytest.raises(RefusedError, match="is not the database name"):
        api.fix("sync", None, url, reference=reference, yes=True, allow_production=True,
                confirm_production=lambda prompt: "nope")  # fmt: skip
    with pytest.raises(RefusedError, match="looks like production"):  # not a connection error
        api.fix("sync", None, unreachable(url, tmp_path), reference=reference, yes=True)
    assert state(url) == before
    assert not (tmp_path / ".dbmedic").exists()  # no run was started


def test_fix_cli_refused(db_factory: DatabaseFactory, tmp_path: Path) -> None:
    url = prod_url(db_factory)
    reference = db_factory.new("ref")
    run_sql(reference, REFERENCE)
    before = state(url)
    args = ("fix", "--strategy", "sync", "--db", url, "--reference", reference, "--yes")
    code, _out, err = cli(*args)
    assert code == 3 and "refused:" in err and "looks like production" in err
    code, _out, err = cli(*args, "--allow-production")
    assert code == 3 and "without a terminal" in err  # CliRunner's stdin is not a TTY
    assert state(url) == before
    assert not (tmp_path / ".dbmedic").exists()


def test_resume_library_refused(prod_run: ProdRun, tmp_path: Path) -> None:
    p = prod_run
    with pytest.raises(RefusedError, match="looks like production"):
        api.resume(p.run_id, db=p.url, state_dir=p.state_dir)
    with pytest.raises(RefusedError, match="impossible without a terminal"):
        api.resume(p.run_id, db=p.url, state_dir=p.state_dir, allow_production=True)
    with pytest.raises(RefusedError, match="is not the database name"):
        api.resume(p.run_id, db=p.url, state_dir=p.state_dir, allow_production=True,
                   confirm_production=lambda prompt: "nope")  # fmt: skip
    with pytest.raises(RefusedError, match="looks like production"):
        api.resume(p.run_id, db=unreachable(p.url, tmp_path), state_dir=p.state_dir)
    assert state(p.url) == p.interrupted
    assert "resume-start" not in p.events()


def test_resume_cli_refused(prod_run: ProdRun) -> None:
    p = prod_run
    args = ("fix", "--resume", p.run_id, "--db", p.url, "--dir", str(p.state_dir))
    code, _out, err = cli(*args)
    assert code == 3 and "looks like production" in err
    code, _out, err = cli(*args, "--allow-production")
    assert code == 3 and "without a terminal" in err
    assert state(p.url) == p.interrupted
    assert "resume-start" not in p.events()


def test_rollback_library_refused_then_confirmed(prod_run: ProdRun, tmp_path: Path) -> None:
    p = prod_run
    with pytest.raises(RefusedError, match="looks like production"):
        api.rollback(p.run_id, p.url, state_dir=p.state_dir)
    with pytest.raises(RefusedError, match="impossible without a terminal"):
        api.rollback(p.run_id, p.url, state_dir=p.state_dir, allow_production=True)
    with pytest.raises(RefusedError, match="is not the database name"):
        api.rollback(p.run_id, p.url, state_dir=p.state_dir, allow_production=True,
                     confirm_production=lambda prompt: "nope")  # fmt: skip
    with pytest.raises(RefusedError, match="looks like production"):
        api.rollback(p.run_id, unreachable(p.url, tmp_path), state_dir=p.state_dir)
    assert state(p.url) == p.interrupted
    assert "rollback-start" not in p.events()
    name = inspect_target(p.url).database
    result = api.rollback(p.run_id, p.url, state_dir=p.state_dir, allow_production=True,
                          confirm_production=lambda prompt: name)  # fmt: skip
    assert "row checksums equal" in result.detail
    assert state(p.url) == p.before


def test_rollback_cli_refused_then_confirmed(
    prod_run: ProdRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = prod_run
    args = ("rollback", p.run_id, "--db", p.url, "--dir", str(p.state_dir))
    code, _out, err = cli(*args)
    assert code == 3 and err.startswith("dbmedic: refused:") and "looks like production" in err
    code, _out, err = cli(*args, "--allow-production")
    assert code == 3 and "without a terminal" in err
    assert state(p.url) == p.interrupted
    assert "rollback-start" not in p.events()
    monkeypatch.setattr(CLI_APP, "stdin_is_terminal", lambda: True)
    code, _out, err = cli(*args, "--allow-production", input="wrong\n")
    assert code == 3 and "'wrong' is not the database name" in err
    assert state(p.url) == p.interrupted
    code, out, err = cli(*args, "--allow-production", "--json",
                         input=inspect_target(p.url).database + "\n")  # fmt: skip
    assert code == 0, err
    assert json.loads(after_echo(out))["verified"] is True
    assert state(p.url) == p.before
