"""Django: ``django_migrations``, the project's migration graph, ``manage.py migrate``.

The migration graph comes from Django itself (its ``MigrationLoader``, run by a small helper in
the project's own Python), never from re-implementing Django's loader. The target database
reaches Django through a settings override module: dbmedic runs every command with
``DJANGO_SETTINGS_MODULE=dbmedic_django_settings`` (from ``frameworks/djangoshim``, put on
``PYTHONPATH``), which imports the project's settings (``DBMEDIC_BASE_SETTINGS``, from the
environment or ``manage.py``) and replaces ``DATABASES['default']`` with the JSON in
``DBMEDIC_DJANGO_DATABASE``. Nothing in the project needs to change. The project's Python is
``DBMEDIC_PYTHON``, else ``.venv/bin/python`` or ``venv/bin/python`` in the project, else ours.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from dbmedic.errors import ConfigError, MigrationError
from dbmedic.frameworks.base import Framework, MigrateResult, Progress, register_framework
from dbmedic.frameworks.process import (
    Completed,
    parse_traceback,
    project_python,
    python_error,
    read_tracking_table,
    run_command,
    url_password,
)
from dbmedic.migration_model import Migration, MigrationState

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

    from dbmedic.connect import Database

SHIM = Path(__file__).resolve().parent / "djangoshim"
_JSON_MARK = "@@dbmedic-json@@"
_ENGINES = {
    "mysql": "django.db.backends.mysql",
    "postgresql": "django.db.backends.postgresql",
    "sqlite": "django.db.backends.sqlite3",
}


@dataclass(frozen=True, slots=True)
class Node:
    """One migration of Django's graph."""

    id: str
    file: str | None
    replaces: tuple[str, ...]


@register_framework("django")
class Django(Framework):
    tracking_table: ClassVar[str] = "django_migrations"
    ordered_history: ClassVar[bool] = True
    """``migrate`` raises InconsistentMigrationHistory for a migration recorded before its dependency."""

    def detect(self, root: Path) -> bool:
        return (root / "manage.py").is_file()

    def settings_module(self, root: Path) -> str:
        """``DJANGO_SETTINGS_MODULE`` from the environment, else the default ``manage.py`` sets."""
        from_env = os.environ.get("DJANGO_SETTINGS_MODULE")
        if from_env and from_env != "dbmedic_django_settings":
            return from_env
        manage = root / "manage.py"
        text = manage.read_text(encoding="utf-8", errors="replace") if manage.is_file() else ""
        m = re.search(r"""DJANGO_SETTINGS_MODULE['"]\s*,\s*['"]([\w.]+)['"]""", text)
        if not m:
            raise ConfigError(
                f"cannot find DJANGO_SETTINGS_MODULE in {manage}",
                hint="set DJANGO_SETTINGS_MODULE in the environment",
            )
        return m.group(1)

    def production_signs(self, root: Path, environment: str | None = None) -> tuple[str, ...]:
        """The settings module in use is named like production (``settings/production.py``,
        ``prod.py``, ``settings_prod``) and does not set ``DEBUG = True``."""
        from dbmedic.guard import names_production

        try:
            module = self.settings_module(root)
        except ConfigError:
            return ()
        if not names_production(module):
            return ()
        relative = Path(*module.split("."))
        candidates = [base / relative.with_suffix(".py") for base in (root, root / "src")] + [
            base / relative / "__init__.py" for base in (root, root / "src")
        ]
        path = next((p for p in candidates if p.is_file()), None)
        debug = _debug_setting(path) if path is not None else None
        if debug is True:
            return ()
        said = "DEBUG = False" if debug is False else "DEBUG not set to True"
        return (f"DJANGO_SETTINGS_MODULE={module} ({said} in {path or 'its settings'})",)

    # --- reading ------------------------------------------------------------------------------
    def graph(self, root: Path) -> list[Node]:
        """Read-only: every migration Django knows, in ``showmigrations --plan`` order.

        Runs Django's loader in the project's Python (no database connection). Raises
        FrameworkError with the file and line when the project cannot be loaded.
        """
        data = self._helper(root, None, "graph")
        nodes = []
        for item in data:
            file = item.get("file")
            if file:
                path = Path(file)
                file = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
            replaces = tuple(f"{a}.{n}" for a, n in item.get("replaces", []))
            nodes.append(Node(f"{item['app']}.{item['name']}", file, replaces))
        return nodes

    def read(self, db: Database, root: Path) -> list[Migration]:
        """Read-only: ``django_migrations`` joined with Django's graph, in plan order.

        Django records only successful migrations, so one that failed reads as pending
        (``migrate()`` names it). A squashed migration is applied when it or everything it
        replaces is recorded; recorded rows Django no longer knows are ``missing-file``.
        """
        nodes = self.graph(root)
        rows = read_tracking_table(
            db, self.tracking_table, ("app", "name", "applied"), framework="Django"
        )
        applied = {f"{app}.{name}": _iso(when) for app, name, when in rows or []}
        out = []
        covered: set[str] = set()
        for node in nodes:
            covered.update(node.replaces)
            done = node.id in applied or bool(
                node.replaces and all(r in applied for r in node.replaces)
            )
            state = MigrationState.APPLIED if done else MigrationState.PENDING
            when = applied.get(node.id) or (
                max(applied[r] or "" for r in node.replaces) if done and node.replaces else None
            )
            out.append(Migration(node.id, node.file, state, applied_at=when or None))
        for mid, when in applied.items():
            if mid not in covered and all(m.id != mid for m in out):
                out.append(Migration(mid, None, MigrationState.MISSING_FILE, applied_at=when))
        return out

    # --- running ------------------------------------------------------------------------------
    def env(self, root: Path, url: URL | None) -> dict[str, str]:
        """Environment of a Django process: our settings override, the target in JSON."""
        env = {
            "DJANGO_SETTINGS_MODULE": "dbmedic_django_settings",
            "DBMEDIC_BASE_SETTINGS": self.settings_module(root),
            "PYTHONPATH": os.pathsep.join(
                p for p in (str(SHIM), str(root), os.environ.get("PYTHONPATH", "")) if p
            ),
            "PYTHONUNBUFFERED": "1",
            "DBMEDIC_DJANGO_DATABASE": "",
        }
        if url is not None:
            env["DBMEDIC_DJANGO_DATABASE"] = json.dumps(django_database(url))
        return env

    def manage(
        self, db: Database, root: Path, *args: str, progress: Progress | None = None, total: int = 0
    ) -> Completed:
        """Run ``python manage.py ARGS`` against ``db`` (credentials in the environment only)."""
        done: list[str] = []

        def line_seen(line: str) -> None:
            for name, ok in _APPLYING.findall(line):
                if ok and progress is not None:
                    done.append(name)
                    progress(len(done), total, name)

        argv = [project_python(root), "manage.py", *args]
        return run_command(argv, cwd=root, env=self.env(root, db.url), on_line=line_seen)

    def migrate(
        self, db: Database, root: Path, *, progress: Progress | None = None
    ) -> MigrateResult:
        """Writes: ``manage.py migrate --noinput`` against ``db``.

        A failed migration is a result (``ok=False``, ``failed``, ``error``); a Python error
        outside any migration raises FrameworkError with the file and line.
        """
        before = self.read(db, root)
        pending = [m.id for m in before if m.state is MigrationState.PENDING]
        run = self.manage(db, root, "migrate", "--noinput", progress=progress, total=len(pending))
        applied = tuple(name for name, ok in _APPLYING.findall(run.stdout) if ok)
        if run.returncode == 0:
            return MigrateResult(True, applied, output=run.output, seconds=run.seconds)
        started = [name for name, _ok in _APPLYING.findall(run.stdout)]
        failed = started[-1] if started and started[-1] not in applied else None
        trace = parse_traceback(run.stderr, root)
        if failed is None:
            raise python_error("manage.py migrate", trace)
        return MigrateResult(
            False,
            applied,
            failed=failed,
            error=trace.error,
            output=run.output,
            seconds=run.seconds,
        )

    def pending_sql(self, db: Database, root: Path) -> dict[str, list[str]]:
        """SQL of each migration pending in ``db``, as ``manage.py sqlmigrate`` prints it.

        Read-only (Django renders the SQL from its migration state; the database is only asked
        for its version). Operations Django cannot write as SQL (RunPython) appear as a
        ``-- MIGRATION NOW PERFORMS OPERATION THAT CANNOT BE WRITTEN AS SQL`` comment statement.
        """
        pending = [m.id for m in self.read(db, root) if m.state is MigrationState.PENDING]
        if not pending:
            return {}
        raw = self._helper(root, db.url, "sql", *pending)
        return {mid: _statements(raw[mid]) for mid in pending}

    def mark_applied(self, db: Database, root: Path, ids: Sequence[str]) -> None:
        """Writes: record ``ids`` in ``django_migrations`` through Django's own recorder.

        Ids already recorded are skipped. Raises MigrationError for an id Django does not know.
        """
        known = {n.id for n in self.graph(root)}
        unknown = [i for i in ids if i not in known]
        if unknown:
            raise MigrationError(
                f"Django knows no migration {unknown[0]} in {root}", migration=unknown[0]
            )
        if ids:
            self._helper(root, db.url, "mark", *ids)

    def framework_status(self, db: Database, root: Path) -> dict[str, bool] | None:
        """Read-only: ``manage.py showmigrations --plan`` as {migration: applied?}."""
        run = self.manage(db, root, "showmigrations", "--plan")
        if run.returncode != 0:
            raise python_error("manage.py showmigrations", parse_traceback(run.stderr, root))
        return {m.group(2): m.group(1) == "X" for m in _SHOWN.finditer(run.stdout)}

    def _helper(self, root: Path, url: URL | None, *args: str) -> Any:
        argv = [project_python(root), str(SHIM / "dbmedic_django_helper.py"), *args]
        run = run_command(argv, cwd=root, env=self.env(root, url))
        _, mark, payload = run.stdout.rpartition(_JSON_MARK)
        if run.returncode != 0 or not mark:
            raise python_error(f"Django ({args[0]})", parse_traceback(run.stderr, root))
        return json.loads(payload)


_APPLYING = re.compile(r"Applying (\S+?)\.\.\.( OK)?")
_SHOWN = re.compile(r"^\[( |X|-)\]\s+(\S+)", re.M)


def django_database(url: URL) -> dict[str, Any]:
    """``DATABASES['default']`` for ``url`` (includes the password: pass it through env only)."""
    from dbmedic.connect import url_family

    family = url_family(url)
    if family == "sqlite":
        return {"ENGINE": _ENGINES[family], "NAME": str(Path(str(url.database)).resolve())}
    return {
        "ENGINE": _ENGINES[family],
        "NAME": str(url.database or ""),
        "USER": url.username or "",
        "PASSWORD": url_password(url),
        "HOST": url.host or "",
        "PORT": str(url.port or ""),
    }


def _statements(collected: list[str]) -> list[str]:
    """sqlmigrate's collected lines without the ``-- description`` comments and final ``;``."""
    out = []
    for item in collected:
        text = item.strip()
        if not text:
            continue
        if text.startswith("--"):
            if "CANNOT BE WRITTEN AS SQL" in text:
                out.append(text)
            continue
        out.append(text[:-1].rstrip() if text.endswith(";") else text)
    return out


def _iso(value: object) -> str | None:
    if value is None:
        return None
    iso = getattr(value, "isoformat", None)
    return str(iso(sep=" ")) if callable(iso) else str(value)


def _debug_setting(path: Path) -> bool | None:
    """The literal value of a module-level ``DEBUG = ...`` in a settings file (None: absent or
    computed). Parsed, never imported: a production settings module may read secrets."""
    import ast

    try:
        tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"))
    except (OSError, SyntaxError, ValueError):
        return None
    value: bool | None = None
    for node in tree.body:
        target_value = None
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "DEBUG" for t in node.targets)
        ) or (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and node.target.id == "DEBUG"
        ):
            target_value = node.value
        if target_value is not None:  # the last assignment wins, as at import
            value = (
                target_value.value
                if isinstance(target_value, ast.Constant) and isinstance(target_value.value, bool)
                else None
            )
    return value
