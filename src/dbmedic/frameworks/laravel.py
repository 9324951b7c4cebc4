"""Laravel: the ``migrations`` table, ``database/migrations/*.php`` and ``php artisan migrate``.

Reading is done in Python (the tracking table joined with the file names, sorted as Laravel sorts
them), so ``status`` needs no PHP. Running goes through ``php artisan`` with the target database
in environment variables: Laravel's ``.env`` loader never overrides a variable that is already set
(phpdotenv's immutable repository), so ``DB_HOST``... from dbmedic win over the app's ``.env``
while everything else in ``.env`` still applies. The contract for an application: the connection
named by ``DB_CONNECTION`` reads ``DB_HOST``, ``DB_PORT``, ``DB_DATABASE``, ``DB_USERNAME`` and
``DB_PASSWORD`` through ``env()``, as Laravel's stock ``config/database.php`` does.

Output parsing knows Laravel 8 (``Migrating: X`` / ``Migrated:  X``, errors as Symfony blocks
``In File.php line N:`` on stdout, the statement in ``(SQL: ...)``) and the Laravel 9+ style
(``X .... 3ms DONE`` / ``FAIL``, ``(Connection: mysql, SQL: ...)``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from dbmedic.driver import DbUrl
from dbmedic.errors import ConfigError, FrameworkError, MigrationError
from dbmedic.frameworks.base import Framework, MigrateResult, Progress, register_framework
from dbmedic.frameworks.process import (
    Completed,
    find_file,
    read_tracking_table,
    run_command,
    table_exists,
    url_password,
)
from dbmedic.migration_model import Migration, MigrationState
from dbmedic.secrets import remember

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

    from dbmedic.connect import Database
    from dbmedic.driver import DbUrl

_GLOB = re.compile(r"(?s:.*_.*\.php)\Z")
"""Laravel's ``*_*.php`` (``fnmatch.translate``)."""
_WIDE = "100000"
"""COLUMNS for artisan: Symfony hard-wraps error blocks at the terminal width."""

_DRIVER_FAMILY = {"mysql": "mysql", "mariadb": "mysql", "pgsql": "postgresql", "sqlite": "sqlite"}
"""Laravel's stock connection names (= driver names) and the database family each reaches."""
_FAMILY_CONNECTION = {"mysql": "mysql", "postgresql": "pgsql", "sqlite": "sqlite"}
_SCHEME = {"mysql": "mysql+pymysql", "postgresql": "postgresql+psycopg"}
_DEFAULT_PORT = {"mysql": 3306, "postgresql": 5432}


@register_framework("laravel")
class Laravel(Framework):
    tracking_table: ClassVar[str] = "migrations"
    """config/database.php ``'migrations'``; read from there when the app sets another name."""
    migrations_dir: ClassVar[str] = "database/migrations"
    post_fix_hooks: ClassVar[tuple[tuple[str, ...], ...]] = (
        ("php", "artisan", "cache:clear"),
        ("php", "artisan", "config:clear"),
    )

    # --- reading ------------------------------------------------------------------------------
    def detect(self, root: Path) -> bool:
        return (root / "artisan").is_file()

    def database_url(self, root: Path, environment: str | None = None) -> str | None:
        """Read-only: the URL the app's ``.env`` (or ``.env.<environment>``) points at.

        Like Laravel, variables already in the process environment win over the file. Returns
        None when no database is configured. The file's values never reach ``os.environ``.
        """
        values = self.env_values(root, environment or self.environment)
        url_text = values.get("DB_URL") or values.get("DATABASE_URL")
        if url_text:
            return url_text
        connection = values.get("DB_CONNECTION") or "mysql"
        family = _DRIVER_FAMILY.get(connection)
        if family is None:
            raise ConfigError(
                f"DB_CONNECTION={connection} in {root}/.env is not a connection dbmedic can read",
                hint="pass the database URL with --db",
            )
        database = values.get("DB_DATABASE")
        if family == "sqlite":
            path = Path(database) if database else Path("database/database.sqlite")
            if not path.is_absolute():
                path = root / path
            return f"sqlite:///{path}"
        if not database:
            return None
        password = values.get("DB_PASSWORD") or None
        remember(password)
        port = values.get("DB_PORT")
        url = DbUrl(
            _SCHEME[family],
            username=values.get("DB_USERNAME") or None,
            password=password,
            host=values.get("DB_HOST") or "127.0.0.1",
            port=int(port) if port and port.isdigit() else _DEFAULT_PORT[family],
            database=database,
        )
        return url.render_as_string(hide_password=False)

    def env_values(self, root: Path, environment: str | None) -> dict[str, str]:
        """The app's ``.env`` values as Laravel sees them (``.env.<env>`` instead when it exists).

        Process environment variables win, as in Laravel. Nothing is exported.
        """
        from dotenv import dotenv_values

        env_file = self.env_file(root, environment)
        values: dict[str, str] = {}
        if env_file.is_file():
            values = {k: v for k, v in dotenv_values(env_file).items() if v is not None}
        for key in list(values) + [k for k in os.environ if k.startswith("DB_")]:
            if key in os.environ:
                values[key] = os.environ[key]
        return values

    def env_file(self, root: Path, environment: str | None) -> Path:
        """``.env.<environment>`` (or ``.env.$APP_ENV``) when it exists, else ``.env``."""
        chosen = environment or os.environ.get("APP_ENV")
        if chosen and (root / f".env.{chosen}").is_file():
            return root / f".env.{chosen}"
        return root / ".env"

    def production_signs(self, root: Path, environment: str | None = None) -> tuple[str, ...]:
        """``APP_ENV=production`` in the process environment or the ``.env`` file Laravel reads."""
        if os.environ.get("APP_ENV"):
            value, where = os.environ["APP_ENV"], "the environment"
        else:
            env_file = self.env_file(root, environment or self.environment)
            value = self.env_values(root, environment or self.environment).get("APP_ENV", "")
            where = str(env_file)
        if value.strip().lower() in ("production", "prod"):
            return (f"APP_ENV={value.strip()} in {where}",)
        return ()

    def tracking_table_for(self, root: Path) -> str:
        """The tracking table's name: ``'migrations' => 'x'`` (or ``['table' => 'x']``) in config/database.php."""
        config = root / "config" / "database.php"
        if config.is_file():
            text = config.read_text(encoding="utf-8", errors="replace")
            m = re.search(
                r"""['"]migrations['"]\s*=>\s*['"]([A-Za-z0-9_]+)['"]""", text
            ) or re.search(
                r"""['"]migrations['"]\s*=>\s*(?:\[|array\().*?['"]table['"]\s*=>\s*['"]([A-Za-z0-9_]+)['"]""",
                text,
                re.S,
            )
            if m:
                return m.group(1)
        return self.tracking_table

    def tracking_tables(self, root: Path) -> tuple[str, ...]:
        return (self.tracking_table_for(root),)

    def migration_files(self, root: Path) -> dict[str, str]:
        """{stem: path relative to root} of ``database/migrations/*_*.php``, in Laravel's run order.

        Laravel globs ``*_*.php`` and sorts by file name (Migrator::getMigrationFiles). Paths that
        packages register with ``loadMigrationsFrom`` are not seen. Raises ConfigError when the
        folder is missing.
        """
        folder = root / self.migrations_dir
        if not folder.is_dir():
            raise ConfigError(
                f"no {self.migrations_dir} folder in {root}",
                hint="pass the Laravel application's root folder with --app",
            )
        with os.scandir(folder) as entries:  # no Path per file: 185 files in ~0.1 ms
            stems = sorted(e.name[:-4] for e in entries if _GLOB.match(e.name) and e.is_file())
        return {stem: f"{self.migrations_dir}/{stem}.php" for stem in stems}

    def read(self, db: Database, root: Path) -> list[Migration]:
        """Read-only: the tracking table joined with the migration files, in id order.

        Laravel records only successful migrations, so a migration that failed reads as pending
        (``migrate()`` names it). Rows whose file is gone are ``missing-file``.
        """
        files = self.migration_files(root)
        rows = read_tracking_table(
            db, self.tracking_table_for(root), ("migration", "batch"), framework="Laravel"
        )
        batches = {str(name): int(batch) for name, batch in rows or []}
        ids = sorted(set(files) | set(batches))
        out = []
        for mid in ids:
            if mid in batches:
                state = MigrationState.APPLIED if mid in files else MigrationState.MISSING_FILE
            else:
                state = MigrationState.PENDING
            out.append(Migration(mid, files.get(mid), state, batch=batches.get(mid)))
        return out

    # --- running ------------------------------------------------------------------------------
    def artisan(
        self,
        db: Database,
        root: Path,
        *args: str,
        on_line: Progress | None = None,
        total: int = 0,
    ) -> Completed:
        """Run ``php artisan ARGS`` against ``db`` (credentials in the environment, never argv)."""
        php = os.environ.get("DBMEDIC_PHP", "php")
        argv = [php, "artisan", *args, "--no-interaction", "--no-ansi"]
        env_name = self.environment
        if env_name:
            argv.append(f"--env={env_name}")
        done: list[str] = []

        def line_seen(line: str) -> None:
            name = _finished_migration(line)
            if name and on_line is not None:
                done.append(name)
                on_line(len(done), total, name)

        return run_command(
            argv, cwd=root, env=self.connection_env(db.plain_url, root), on_line=line_seen
        )

    def connection_env(self, url: URL | DbUrl, root: Path) -> dict[str, str]:
        """Environment variables that point the app's default connection at ``url``.

        The app's own ``DB_CONNECTION`` is kept when it reaches the same kind of database (a
        custom connection name keeps its other settings); ``DATABASE_URL``/``DB_URL`` are blanked
        so that they cannot override the target, and a cached configuration is bypassed.
        """
        family = _family(url)
        own = self.env_values(root, self.environment).get("DB_CONNECTION", "")
        connection = own if own and _DRIVER_FAMILY.get(own, family) == family else ""
        connection = connection or _FAMILY_CONNECTION[family]
        env = {
            "DB_CONNECTION": connection,
            "DB_URL": "",
            "DATABASE_URL": "",
            "DB_SOCKET": str(url.query.get("unix_socket", "")),
            "COLUMNS": _WIDE,
            # bootstrap/cache/config.php would make Laravel ignore .env and our variables.
            "APP_CONFIG_CACHE": str(Path(_tempdir()) / "dbmedic-no-config-cache.php"),
        }
        if family == "sqlite":
            env.update(DB_DATABASE=str(Path(str(url.database)).resolve()), DB_HOST="", DB_PORT="")
            env.update(DB_USERNAME="", DB_PASSWORD="")
            return env
        env.update(
            DB_HOST=url.host or "127.0.0.1",
            DB_PORT=str(url.port or _DEFAULT_PORT[family]),
            DB_DATABASE=str(url.database or ""),
            DB_USERNAME=url.username or "",
            DB_PASSWORD=url_password(url),
        )
        return env

    def hook_env(self, url: URL, root: Path) -> dict[str, str]:
        """The connection variables of :meth:`connection_env`, so that ``cache:clear`` with a
        database cache store reaches the repaired database; the cached configuration is not
        bypassed (``config:clear`` must delete the real one)."""
        env = self.connection_env(url, root)
        del env["APP_CONFIG_CACHE"]
        return env

    def migrate(
        self, db: Database, root: Path, *, progress: Progress | None = None
    ) -> MigrateResult:
        """Writes: ``php artisan migrate --force`` against ``db``.

        A failed migration is a result (``ok=False``, ``failed``, ``error``, ``statement``); a
        failure outside any migration (a PHP error while booting or loading files) raises
        FrameworkError with the file and line.
        """
        before = self.read(db, root)
        pending = [m.id for m in before if m.state is MigrationState.PENDING]
        run = self.artisan(db, root, "migrate", "--force", on_line=progress, total=len(pending))
        parsed = parse_migrate_output(run.stdout + "\n" + run.stderr)
        if run.returncode == 0:
            return MigrateResult(True, parsed.applied, output=run.output, seconds=run.seconds)
        after = {m.id: m.state for m in self.read(db, root)}
        applied = tuple(m for m in pending if after.get(m) is MigrationState.APPLIED)
        failed = parsed.running if parsed.running in pending else None
        error = parsed.error or _last_line(run.output)
        if failed is None:
            raise self._framework_error(root, "php artisan migrate", parsed, error)
        if parsed.file and parsed.line and not parsed.statement:
            error = f"{error} ({self._where(root, parsed.file)} line {parsed.line})"
        return MigrateResult(
            False,
            applied,
            failed=failed,
            error=error,
            statement=parsed.statement,
            output=run.output,
            seconds=run.seconds,
        )

    def pending_sql(self, db: Database, root: Path) -> dict[str, list[str]]:
        """SQL of each migration pending in ``db``, from ``php artisan migrate --pretend``.

        Writes only when ``db`` has no tracking table: Laravel then creates it (pass a shadow
        database). Raises FrameworkError when Laravel cannot pretend a migration (Doctrine column
        changes) or fails.
        """
        files = self.migration_files(root)
        names = {_class_name(stem): stem for stem in files}
        names.update({stem: stem for stem in files})
        run = self.artisan(db, root, "migrate", "--pretend", "--force")
        parsed = parse_migrate_output(run.stdout)
        if run.returncode != 0:
            raise self._framework_error(
                root,
                "php artisan migrate --pretend",
                parsed,
                parsed.error or _last_line(run.output),
            )
        return parse_pretend_output(run.stdout, names)

    def mark_applied(self, db: Database, root: Path, ids: Sequence[str]) -> None:
        """Writes: insert ``ids`` into the tracking table with the next batch number.

        Ids already recorded are skipped; the table is created by ``php artisan migrate:install``
        when missing. Raises MigrationError for an id with no migration file.
        """
        from sqlalchemy import column, insert, table

        files = self.migration_files(root)
        unknown = [i for i in ids if i not in files]
        if unknown:
            raise MigrationError(
                f"no migration file for {unknown[0]} in {root / self.migrations_dir}",
                migration=unknown[0],
            )
        name = self.tracking_table_for(root)
        if not table_exists(db, name):
            run = self.artisan(db, root, "migrate:install")
            if run.returncode != 0:
                parsed = parse_migrate_output(run.output)
                raise self._framework_error(
                    root, "php artisan migrate:install", parsed, parsed.error
                )
        rows = read_tracking_table(db, name, ("migration", "batch"), framework="Laravel") or []
        recorded = {str(r[0]) for r in rows}
        batch = max((int(r[1]) for r in rows), default=0) + 1
        new = [i for i in ids if i not in recorded]
        if not new:
            return
        tracking = table(name, column("migration"), column("batch"))
        with db.engine.begin() as conn:
            conn.execute(insert(tracking), [{"migration": i, "batch": batch} for i in new])

    def framework_status(self, db: Database, root: Path) -> dict[str, bool] | None:
        """Read-only: ``php artisan migrate:status`` as {migration: ran?} ({} without a table)."""
        run = self.artisan(db, root, "migrate:status")
        status = parse_status_output(run.stdout)
        if run.returncode != 0 and not status:
            if "table not found" in run.output.lower():
                return {}
            parsed = parse_migrate_output(run.output)
            raise self._framework_error(root, "php artisan migrate:status", parsed, parsed.error)
        return status

    # --- errors -------------------------------------------------------------------------------
    def _where(self, root: Path, basename: str) -> str:
        return find_file(root, basename) or basename

    def _framework_error(
        self, root: Path, command: str, parsed: ArtisanOutput, error: str | None
    ) -> FrameworkError:
        reason = (error or "no error message").rstrip(".")
        if parsed.file and parsed.line:
            where = self._where(root, parsed.file)
            stem = Path(where).stem
            return FrameworkError(
                f"{command} failed in {where} line {parsed.line}: {reason}",
                migration=stem if where.startswith(self.migrations_dir) else None,
                file=where,
                line=parsed.line,
                statement=parsed.statement,
                hint="fix that file and run dbmedic again",
            )
        return FrameworkError(f"{command} failed: {reason}", statement=parsed.statement)


# --- output parsing (pure) -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ArtisanOutput:
    """What one run of ``artisan migrate`` said."""

    applied: tuple[str, ...]
    running: str | None
    """The migration started but not finished (the one that failed)."""
    error: str | None
    statement: str | None
    file: str | None
    """Base name of the file the error was raised in, as Symfony/Collision print it."""
    line: int | None


_MIGRATING = re.compile(r"^\s*Migrating:\s+(\S+)\s*$")
_MIGRATED = re.compile(r"^\s*Migrated:\s+(\S+)")
_NEW_STYLE = re.compile(r"^\s*(\S+)\s\.+\s(?:[\d.]+\s?m?s\s)?(DONE|FAIL|RUNNING)\s*$")
_IN_BLOCK = re.compile(r"^In (\S+) line (\d+):\s*$")
_COLLISION_AT = re.compile(r"^\s*at (\S+?):(\d+)\s*$")
_SQL = re.compile(r"\s*\((?:Connection: [^,]+, )?SQL: (.*)\)\s*$", re.S)


def _finished_migration(line: str) -> str | None:
    m = _MIGRATED.match(line)
    if m:
        return m.group(1)
    n = _NEW_STYLE.match(line)
    return n.group(1) if n and n.group(2) == "DONE" else None


def parse_migrate_output(text: str) -> ArtisanOutput:
    """Pure: applied migrations, the one running at the failure, and the error of ``artisan migrate``."""
    lines = text.splitlines()
    applied: list[str] = []
    running: str | None = None
    for line in lines:
        if m := _MIGRATING.match(line):
            running = m.group(1)
        elif name := _finished_migration(line):
            applied.append(name)
            running = None
        elif (n := _NEW_STYLE.match(line)) and n.group(2) in ("FAIL", "RUNNING"):
            running = n.group(1)
    error, file, line_no = _error_block(lines)
    statement = None
    if error and (s := _SQL.search(error)):
        statement = s.group(1).strip()
        error = error[: s.start()].strip()
    return ArtisanOutput(tuple(applied), running, error, statement, file, line_no)


def _error_block(lines: list[str]) -> tuple[str | None, str | None, int | None]:
    """The outermost exception: (message, file base name, line)."""
    for i, line in enumerate(lines):
        m = _IN_BLOCK.match(line)
        if m:
            body: list[str] = []
            for follow in lines[i + 1 :]:
                if _IN_BLOCK.match(follow) or follow.startswith("Exception trace"):
                    break
                if follow.strip():
                    body.append(follow.strip())
                elif body:
                    break
            return " ".join(body) or None, m.group(1), int(m.group(2))
    # Collision (dev installs, Laravel 9+): "  Exception\Class \n\n  message\n\n  at path:line"
    for i, line in enumerate(lines):
        m = _COLLISION_AT.match(line)
        if m:
            body = [prev.strip() for prev in lines[max(0, i - 12) : i] if prev.strip()]
            message = body[-1] if body else None
            return message, Path(m.group(1)).name, int(m.group(2))
    return None, None, None


def _last_line(text: str) -> str | None:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else None


def _class_name(stem: str) -> str:
    """The class Laravel expects in a migration file: Str::studly of the part after the date."""
    words = re.sub(r"[-_]", " ", "_".join(stem.split("_")[4:])).split(" ")
    return "".join(w[:1].upper() + w[1:] for w in words)


def parse_pretend_output(text: str, names: dict[str, str]) -> dict[str, list[str]]:
    """Pure: ``Name: statement`` lines of ``migrate --pretend`` as {migration id: [statements]}.

    ``names`` maps every name Laravel may print (class name, or the file stem for anonymous
    classes) to the migration id. Lines that start with no known name continue the previous
    statement (a raw statement spanning lines).
    """
    out: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        name, sep, rest = line.partition(": ")
        mid = names.get(name.strip()) if sep else None
        if mid is not None:
            if rest.startswith("failed to dump queries"):
                raise FrameworkError(
                    f"Laravel cannot show the SQL of {mid} ({rest.strip()})", migration=mid
                )
            current = out.setdefault(mid, [])
            current.append(rest)
        elif current and line.strip() and not line.startswith("Migration table created"):
            current[-1] += "\n" + line
    return out


def parse_status_output(text: str) -> dict[str, bool]:
    """Pure: ``migrate:status`` as {migration: ran?} (Laravel 8 table or Laravel 9+ dotted list)."""
    status: dict[str, bool] = {}
    for line in text.splitlines():
        m = re.match(r"^\|\s*(Yes|No)\s*\|\s*(\S+)\s*\|", line)
        if m:
            status[m.group(2)] = m.group(1) == "Yes"
            continue
        n = re.match(r"^\s*(\S+)\s\.+\s(?:\[\d+\]\s)?(Ran|Pending)\s*$", line)
        if n:
            status[n.group(1)] = n.group(2) == "Ran"
    return status


def _tempdir() -> str:
    import tempfile

    return tempfile.gettempdir()


def _family(url: URL | DbUrl) -> str:
    from dbmedic.connect import url_family

    return url_family(url)
