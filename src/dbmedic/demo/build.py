"""Build the seed incident on SQLite: the example app, production and a staging stopped at the failure.

Both databases are made by running the app's migrations with dbmedic's own runner, exactly as a
user's deployment would: production with the files as they were when production ran them (the
early ``create_policy_configurations`` migration without ``priority``), staging with the files
as they are now. Nothing is typed in: every count the demo shows is read back from the databases.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from dbmedic.errors import ConfigError, DbmedicError
from dbmedic.frameworks.base import MigrateResult, Progress

MARKER = ".dbmedic-demo"


@dataclass(frozen=True, slots=True)
class DemoResult:
    directory: Path
    app: Path
    """The application as it is now (the files staging ran)."""
    production_app: Path
    """The files as production ran them (the early migration before its edit)."""
    production_url: str
    staging_url: str
    failing_id: str
    """Laravel-style id of the migration that fails on a fresh run."""
    failing_version: str
    duplicate: tuple[str, str]
    edited_id: str
    """Id of the early migration that was edited after production ran it."""
    production: MigrateResult
    staging: MigrateResult
    temporary: bool


def _prepare(directory: Path | str | None) -> tuple[Path, bool]:
    if directory is None:
        return Path(tempfile.mkdtemp(prefix="dbmedic-demo-")), True
    path = Path(directory).expanduser().resolve()
    if path.exists() and any(path.iterdir()):
        if not (path / MARKER).is_file():
            raise ConfigError(
                f"{path} is not empty and holds no earlier demo",
                hint="pass --dir with a new or empty folder",
            )
        shutil.rmtree(path)
    path.mkdir(parents=True, exist_ok=True)
    return path, False


def _write_app(root: Path, files: dict[str, str], env: str) -> None:
    folder = root / "db" / "migrations"
    folder.mkdir(parents=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    (root / ".env").write_text(env, encoding="utf-8")


def _migrate(app: Path, database: Path, progress: Progress | None) -> MigrateResult:
    import sqlite3

    from dbmedic.connect import open_target
    from dbmedic.frameworks import get_framework

    sqlite3.connect(database).close()
    with open_target(f"sqlite:///{database}") as db:
        return get_framework("dbmate").migrate(db, app, progress=progress)


def build_demo(
    directory: Path | str | None = None, *, progress: Progress | None = None
) -> DemoResult:
    """Writes inside ``directory`` (a new temporary folder by default) only.

    Raises ConfigError when ``directory`` holds other files; DbmedicError if the bundled app does
    not behave as its story says (a bug in the demo data).
    """
    from dbmedic.demo.render_dbmate import render
    from dbmedic.demo.spec import incident_app

    spec = incident_app()
    path, temporary = _prepare(directory)
    (path / MARKER).write_text("built by dbmedic demo\n", encoding="utf-8")
    app, production_app = path / "app", path / "production-history"
    _write_app(app, render(spec, "sqlite"), "DATABASE_URL=sqlite:db/staging.sqlite3\n")
    _write_app(
        production_app,
        render(spec, "sqlite", era="production"),
        "DATABASE_URL=sqlite:../production.sqlite3\n",
    )
    production_db, staging_db = path / "production.sqlite3", app / "db" / "staging.sqlite3"
    production = _migrate(production_app, production_db, progress)
    staging = _migrate(app, staging_db, progress)
    failing = next(m for m in spec.migrations if m.id == spec.failing)
    edited = next(m for m in spec.migrations if m.original_steps is not None)
    if not production.ok or staging.ok or staging.failed != failing.version:
        raise DbmedicError(
            "the demo application did not fail where its story says"
            f" (production: {production.error or 'ok'}; staging failed at {staging.failed})"
        )
    return DemoResult(
        directory=path,
        app=app,
        production_app=production_app,
        production_url=f"sqlite:///{production_db}",
        staging_url=f"sqlite:///{staging_db}",
        failing_id=failing.id,
        failing_version=failing.version,
        duplicate=spec.duplicate,
        edited_id=edited.id,
        production=production,
        staging=staging,
        temporary=temporary,
    )
