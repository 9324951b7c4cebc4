"""Configuration: ``dbmedic.toml`` (or ``[tool.dbmedic]`` in ``pyproject.toml``) and its environments.

The file is searched from the app folder (or the current directory) upward; ``DBMEDIC_CONFIG``
names one explicitly. It holds defaults (``state_dir``, ``backup_dir``) and named environments::

    [environments.staging]
    url = "mysql://app@staging-db/shop"     # never a password here
    password_env = "STAGING_DB_PASSWORD"    # ... but by reference (or option_file = "~/.my.cnf")
    app = "."
    reference = "production"                # another environment, a URL or a snapshot file
    critical = ["users", "orders"]
    protected = false

Every mistake (unknown key, wrong type, a password in a URL, a variable that is not set) is one
:class:`ConfigError` sentence naming the file and the key. :func:`resolve_target` turns
``--env NAME`` plus explicit ``--db`` / ``--app`` into the :class:`ResolvedTarget` commands use;
explicit options win over the environment. Nothing here connects to a database.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dbmedic.errors import ConfigError

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

    from dbmedic.driver import DbUrl

CONFIG_NAME = "dbmedic.toml"
CONFIG_ENV = "DBMEDIC_CONFIG"
"""Environment variable naming the configuration file (skips the search)."""

TOP_KEYS = ("state_dir", "backup_dir", "environments")
ENV_KEYS = (
    "url",
    "password_env",
    "option_file",
    "app",
    "framework",
    "reference",
    "critical",
    "expected_tables",
    "hooks",
    "protected",
)

Hooks = tuple[tuple[str, ...], ...]


@dataclass(frozen=True, slots=True)
class Environment:
    """One ``[environments.<name>]`` table, validated; paths resolved against the file's folder."""

    name: str
    url: str | None = None
    """Without password (checked); the password comes from ``password_env`` or ``option_file``."""
    password_env: str | None = None
    option_file: Path | None = None
    app: Path | None = None
    framework: str | None = None
    reference: str | None = None
    """A database URL, a snapshot path, or the name of another environment."""
    critical: tuple[str, ...] = ()
    expected_tables: int | None = None
    hooks: Hooks | None = None
    """Post-fix commands (argv lists); None: the framework's defaults; (): none at all."""
    protected: bool = False


@dataclass(frozen=True, slots=True)
class Config:
    """A configuration file (``path`` None: none was found, every value is a default)."""

    path: Path | None = None
    section: str = ""
    """``""`` for dbmedic.toml, ``"tool.dbmedic."`` for pyproject.toml (used in messages)."""
    state_dir: Path | None = None
    backup_dir: Path | None = None
    environments: tuple[Environment, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(e.name for e in self.environments)

    def get(self, name: str) -> Environment | None:
        return next((e for e in self.environments if e.name == name), None)

    def environment(self, name: str) -> Environment:
        """The environment ``name``; ConfigError naming the closest one when it is not defined."""
        found = self.get(name)
        if found is not None:
            return found
        if self.path is None:
            raise ConfigError(
                f"--env {name} names an environment but no {CONFIG_NAME} (or [tool.dbmedic] in "
                f"pyproject.toml) was found from {Path.cwd()} upward",
                hint=f"create {CONFIG_NAME} (see docs/configuration.md) or set {CONFIG_ENV}",
            )
        known = ", ".join(self.names) or "none"
        raise ConfigError(
            f"no environment {name!r} in {self.path}{_suggest(name, self.names)}",
            hint=f"defined: {known}",
        )

    def where(self, env: str | None = None, key: str | None = None) -> str:
        """``key in [environments.staging] of /x/dbmedic.toml``: where a value sits, for messages."""
        table = (
            f"[{self.section}environments.{env}]"
            if env
            else (f"[{self.section[:-1]}]" if self.section else "the top level")
        )
        return f"{key + ' in ' if key else ''}{table} of {self.path}"


@dataclass(frozen=True, slots=True)
class ResolvedTarget:
    """What a command works on: explicit options merged over the selected environment."""

    name: str | None
    """The environment's name (None without ``--env``)."""
    url: str | None = field(default=None, repr=False)
    """The database URL, password filled in from its reference: never show it, use ``display``."""
    app: Path | None = None
    framework: str | None = None
    framework_environment: str | None = None
    """The app's own environment (Laravel ``.env.<env>``, dbmate ``<ENV>_DATABASE_URL``)."""
    reference: str | None = field(default=None, repr=False)
    critical: tuple[str, ...] = ()
    expected_tables: int | None = None
    hooks: Hooks | None = None
    protected: bool = False
    config_path: Path | None = None
    state_dir: Path | None = None
    backup_dir: Path | None = None

    @property
    def display(self) -> str:
        """The URL with its password hidden (``""`` without a URL)."""
        from dbmedic.secrets import redact

        return redact(self.url) if self.url else ""

    @property
    def protected_reason(self) -> str | None:
        """Why the configuration protects this target, for the guard's message."""
        if not self.protected:
            return None
        return f"protected = true for environment {self.name!r} in {self.config_path}"


# --- finding and reading ----------------------------------------------------------------------


def find_config(start: Path | str | None = None) -> Path | None:
    """The first ``dbmedic.toml``, or ``pyproject.toml`` with ``[tool.dbmedic]``, from ``start``
    (the app folder) upward, then from the current directory upward; ``DBMEDIC_CONFIG`` wins
    when set. Read-only."""
    named = os.environ.get(CONFIG_ENV)
    if named:
        return Path(named).expanduser()
    starts = [Path(start).expanduser()] if start is not None else []
    for begin in (*starts, Path.cwd()):
        here = begin.resolve()
        if here.is_file():
            here = here.parent
        for folder in (here, *here.parents):
            candidate = folder / CONFIG_NAME
            if candidate.is_file():
                return candidate
            pyproject = folder / "pyproject.toml"
            if pyproject.is_file() and "[tool.dbmedic" in _read_text(pyproject):
                return pyproject
    return None


def load_config(path: Path | str | None = None, *, start: Path | str | None = None) -> Config:
    """Read and validate a configuration file: ``path``, else the one found from ``start`` upward.

    No file found: an empty :class:`Config`. Raises ConfigError (missing named file, TOML syntax,
    unknown key, wrong type, password in a URL). Environment variables are checked later, by
    :func:`resolve_target` / :func:`check_references`, only for the environments used.
    """
    chosen = Path(path).expanduser() if path is not None else find_config(start)
    if chosen is None:
        return Config()
    if not chosen.is_file():
        raise ConfigError(f"configuration file {chosen} does not exist")
    import tomllib  # only with a file: every command loads the configuration

    try:
        data = tomllib.loads(_read_text(chosen))
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{chosen} is not valid TOML ({e})") from e
    section = ""
    if chosen.name == "pyproject.toml":
        tool = data.get("tool", {})
        data = tool.get("dbmedic", {}) if isinstance(tool, dict) else {}
        section = "tool.dbmedic."
    return parse_config(data, chosen.resolve(), section)


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"cannot read configuration file {path} ({e})") from e


def parse_config(data: Mapping[str, Any], path: Path, section: str = "") -> Config:
    """Validate parsed TOML ``data`` read from ``path``; pure apart from resolving paths."""
    shell = Config(path=path, section=section)
    base = path.parent
    _unknown(data, TOP_KEYS, shell.where())
    state_dir = _path(_typed(data, "state_dir", str, "a folder path", shell.where()), base)
    backup_dir = _path(_typed(data, "backup_dir", str, "a folder path", shell.where()), base)
    envs_data = data.get("environments", {})
    if not isinstance(envs_data, dict):
        raise ConfigError(
            f"environments in {shell.where()} must be a table of environments",
            hint="write [environments.staging] with url = ... below it",
        )
    environments = []
    for name, table in envs_data.items():
        if not isinstance(table, dict):
            raise ConfigError(
                f"environments.{name} in {shell.where()} must be a table",
                hint=f"write [{section}environments.{name}] followed by its keys",
            )
        environments.append(_environment(name, table, shell, base))
    names = {e.name for e in environments}
    for i, env in enumerate(environments):  # a reference: a URL, an environment, else a file
        ref = env.reference
        if ref is None or "://" in ref or ref in names:
            continue
        snapshot = _path(ref, base)
        if snapshot is None or not snapshot.exists():
            raise ConfigError(
                f"reference {ref!r} in {shell.where(env.name)} is neither a URL, an environment "
                f"nor an existing snapshot file{_suggest(ref, sorted(names))}"
            )
        environments[i] = replace(env, reference=str(snapshot))
    return Config(path, section, state_dir, backup_dir, tuple(environments))


def _environment(name: str, table: Mapping[str, Any], config: Config, base: Path) -> Environment:
    where = config.where(name)
    _unknown(table, ENV_KEYS, where)
    url = _typed(table, "url", str, "a database URL", where)
    if url is not None:
        _check_url(url, "url", where)
    password_env = _typed(table, "password_env", str, "an environment variable name", where)
    option_file = _typed(table, "option_file", str, "a file path", where)
    if password_env and option_file:
        raise ConfigError(
            f"{where} sets both password_env and option_file",
            hint="keep one: the password comes from one place",
        )
    if (password_env or option_file) and not url:
        raise ConfigError(f"{where} names a password source but no url", hint="add url = ...")
    framework = _typed(table, "framework", str, "a framework name", where)
    if framework is not None:
        from dbmedic.frameworks.base import known_frameworks

        if framework not in known_frameworks():
            raise ConfigError(
                f"unknown framework {framework!r} in {where}"
                f"{_suggest(framework, known_frameworks())}",
                hint=f"use one of: {', '.join(known_frameworks())}",
            )
    reference = _typed(table, "reference", str, "a URL, snapshot path or environment name", where)
    if reference is not None and "://" in reference:
        _check_url(reference, "reference", where)
    critical = _typed(table, "critical", list, "a list of table names", where)
    if critical is not None and not all(isinstance(c, str) and c for c in critical):
        raise ConfigError(f"critical in {where} must be a list of table names (strings)")
    expected = _typed(table, "expected_tables", int, "a whole number", where)
    if isinstance(expected, bool) or (expected is not None and expected < 0):
        raise ConfigError(f"expected_tables in {where} must be a whole number of tables, 0 or more")
    protected = _typed(table, "protected", bool, "true or false", where)
    return Environment(
        name=name,
        url=url,
        password_env=password_env,
        option_file=_path(option_file, base),
        app=_path(_typed(table, "app", str, "a folder path", where), base),
        framework=framework,
        reference=reference,
        critical=tuple(critical or ()),
        expected_tables=expected,
        hooks=_hooks(table.get("hooks"), where),
        protected=bool(protected),
    )


def _hooks(value: Any, where: str) -> Hooks | None:
    if value is None:
        return None
    shape = (
        'a list of commands, each a list of arguments: hooks = [["php", "artisan", "cache:clear"]]'
    )
    if not isinstance(value, list):
        raise ConfigError(f"hooks in {where} must be {shape}")
    hooks = []
    for command in value:
        if not isinstance(command, list) or not command:
            raise ConfigError(f"hooks in {where} must be {shape}")
        if not all(isinstance(arg, str) and arg for arg in command):
            raise ConfigError(f"hooks in {where} must be {shape} (non-empty strings)")
        hooks.append(tuple(command))
    return tuple(hooks)


_GOT = {"str": "a string", "list": "a list", "int": "a number", "float": "a number",
        "bool": "true/false", "dict": "a table", "datetime": "a date", "date": "a date"}  # fmt: skip


def _typed(table: Mapping[str, Any], key: str, kind: type, what: str, where: str) -> Any:
    """``table[key]`` checked to be of ``kind`` (None when absent)."""
    value = table.get(key)
    if value is None:
        return None
    ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
    if not ok:
        got = _GOT.get(type(value).__name__, type(value).__name__)
        raise ConfigError(f"{key} in {where} must be {what}, not {got}")
    if kind is str and not value.strip():
        raise ConfigError(f"{key} in {where} is empty", hint=f"write {what} or remove the key")
    return value


def _unknown(table: Mapping[str, Any], known: tuple[str, ...], where: str) -> None:
    for key in table:
        if key not in known:
            raise ConfigError(
                f"unknown key {key!r} in {where}{_suggest(key, known)}",
                hint=f"valid keys: {', '.join(known)}",
            )


def _suggest(word: str, choices: tuple[str, ...] | list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _path(value: str | None, base: Path) -> Path | None:
    if value is None:
        return None
    path = Path(value).expanduser()
    return path if path.is_absolute() else (base / path).resolve()


def _check_url(text: str, key: str, where: str) -> None:
    """A URL must parse and carry no password (it would sit in a file anyone may read)."""
    from dbmedic.driver import DbUrl

    try:
        url = DbUrl.parse(text)
    except ValueError as e:  # not a URL, or a port that is not a number
        from dbmedic.secrets import redact

        raise ConfigError(f"{key} in {where} is not a valid database URL ({redact(text)})") from e
    if url.password:
        from dbmedic.secrets import remember

        remember(str(url.password))
        hint = (
            "put the password in an environment variable and name it with password_env "
            "(or use option_file)"
            if key == "url"
            else "name another environment as the reference, or use ~/.my.cnf / ~/.pgpass"
        )
        raise ConfigError(f"{key} in {where} contains a password", hint=hint)


# --- passwords by reference ---------------------------------------------------------------------


def environment_url(config: Config, env: Environment) -> str | None:
    """The environment's URL with its password filled in from ``password_env`` / ``option_file``.

    The password is registered with :func:`dbmedic.secrets.remember`, so it is scrubbed from any
    text shown later. Raises ConfigError (variable not set, option file missing or without a
    password for this database). The result contains the password: pass it on, never show it.
    """
    if env.url is None:
        return None
    from dbmedic.connect import parse_db_url, url_family
    from dbmedic.secrets import remember

    url = parse_db_url(env.url)
    family = url_family(url)
    if family == "sqlite" and url.database and not Path(str(url.database)).is_absolute():
        base = config.path.parent if config.path else Path.cwd()
        url = url.set(database=str(base / str(url.database)))
    password = _referenced_password(config, env, url, family)
    if password is not None:
        remember(password)
        url = url.set(password=password)
    return url.render_as_string(hide_password=False)


def _referenced_password(
    config: Config, env: Environment, url: URL | DbUrl, family: str
) -> str | None:
    if env.password_env:
        value = os.environ.get(env.password_env)
        if not value:
            raise ConfigError(
                f"environment variable {env.password_env} is not set "
                f"(password_env in {config.where(env.name)})",
                hint=f"export {env.password_env} with the database password before running dbmedic",
            )
        return value
    if env.option_file is None:
        return None
    path = env.option_file
    if not path.is_file():
        raise ConfigError(
            f"option file {path} does not exist (option_file in {config.where(env.name)})"
        )
    from dbmedic.secrets import password_from_my_cnf, password_from_pgpass

    if family == "mysql":
        _user, password = password_from_my_cnf(path)
    elif family == "postgresql":
        password = password_from_pgpass(
            url.host or "localhost", url.port or 5432, str(url.database or "*"),
            url.username or "*", path,
        )  # fmt: skip
    else:
        return None
    if not password:
        raise ConfigError(
            f"option file {path} has no password for {url.render_as_string(hide_password=True)} "
            f"(option_file in {config.where(env.name)})",
            hint="a [client] password= line (MySQL) or a host:port:db:user:password line (PostgreSQL)",
        )
    return password


def check_references(config: Config, names: tuple[str, ...] | None = None) -> None:
    """Check that the passwords of the environments ``names`` (default: all) can be found.

    Raises the ConfigError of the first one that cannot. Reads variables and option files only.
    """
    for env in config.environments:
        if names is None or env.name in names:
            environment_url(config, env)


# --- resolving a command's target ----------------------------------------------------------------


def resolve_target(
    env: str | None = None,
    db: str | None = None,
    app: Path | str | None = None,
    *,
    config: Config | None = None,
) -> ResolvedTarget:
    """Merge explicit ``db`` / ``app`` over the environment ``env`` of the configuration.

    Explicit values win. Without ``env`` the configuration only contributes its defaults
    (``state_dir``, ``backup_dir``). When ``env`` names no configured environment but no
    configuration defines environments at all, it keeps its older meaning: the app's own
    environment (Laravel ``.env.<env>``, dbmate ``<ENV>_DATABASE_URL``). Raises ConfigError.
    """
    if config is None:
        config = load_config(start=app)
    app_path = Path(app).expanduser() if app is not None else None
    if env is None or (config.get(env) is None and not config.environments):
        return ResolvedTarget(
            name=None, url=db, app=app_path, framework_environment=env,
            config_path=config.path, state_dir=config.state_dir, backup_dir=config.backup_dir,
        )  # fmt: skip
    chosen = config.environment(env)
    url = db if db is not None else environment_url(config, chosen)
    reference = chosen.reference
    named = config.get(reference) if reference else None
    if named is not None:
        reference = environment_url(config, named)
    return ResolvedTarget(
        name=chosen.name,
        url=url,
        app=app_path if app_path is not None else chosen.app,
        framework=chosen.framework,
        # Without a URL of its own, the app's configuration decides: for its environment NAME.
        framework_environment=None if chosen.url else chosen.name,
        reference=reference,
        critical=chosen.critical,
        expected_tables=chosen.expected_tables,
        hooks=chosen.hooks,
        protected=chosen.protected,
        config_path=config.path,
        state_dir=config.state_dir,
        backup_dir=config.backup_dir,
    )


def environments_naming(config: Config, url: URL | DbUrl) -> list[Environment]:
    """The environments whose URL names the same database as ``url`` (host, port, database;
    SQLite: the file, relative paths taken from the configuration's folder). Reads no password."""
    from dbmedic.connect import parse_db_url as parse_url

    wanted = same_database_key(url)
    found = []
    for env in config.environments:
        if not env.url:
            continue
        other = parse_url(env.url)
        if (
            other.get_backend_name() == "sqlite"
            and other.database
            and not Path(str(other.database)).is_absolute()
            and config.path is not None
        ):
            other = other.set(database=str(config.path.parent / str(other.database)))
        if same_database_key(other) == wanted:
            found.append(env)
    return found


def protecting_environment(config: Config, url: URL | DbUrl) -> Environment | None:
    """The protected environment whose URL names the same database as ``url``, or None."""
    return next((env for env in environments_naming(config, url) if env.protected), None)


def same_database_key(url: URL | DbUrl) -> tuple[str, str, int | None, str]:
    """(family, host, port, database) identifying a database whatever the URL's spelling."""
    from dbmedic.connect import url_family

    family = url_family(url)
    if family == "sqlite":
        database = str(url.database or "")
        if database and database != ":memory:":
            database = str(Path(database).expanduser().resolve())
        return (family, "", None, database)
    default_port = {"mysql": 3306, "postgresql": 5432}.get(family)
    host = (url.host or "localhost").lower()
    if host in ("127.0.0.1", "::1"):
        host = "localhost"
    return (family, host, url.port or default_port, str(url.database or ""))


@dataclass(frozen=True, slots=True)
class HookChoice:
    """The post-fix hooks of a repair and where they were declared."""

    commands: Hooks | None = None
    """argv lists; None: the framework's defaults; (): no hooks at all."""
    source: str | None = None
    """``environment 'staging' in /x/dbmedic.toml``; None for the framework's defaults."""


def hooks_for(
    url: URL | DbUrl,
    *,
    app: Path | None = None,
    environment: str | ResolvedTarget | None = None,
    config: Config | None = None,
) -> HookChoice:
    """Read-only: the configured post-fix hooks of a repair of ``url``.

    The selected environment decides (a :class:`ResolvedTarget` from ``--env``, or a configured
    environment's name); without one, the environment whose URL names the same database, else
    the one whose ``app`` is ``app`` (like the production guard). An environment without a
    ``hooks`` key, or none found: ``HookChoice()``, the framework's defaults. Raises ConfigError
    when several environments match with different hooks (``--env`` must choose).
    """
    if isinstance(environment, ResolvedTarget) and environment.name is not None:
        where = f"environment {environment.name!r} in {environment.config_path}"
        return HookChoice(environment.hooks, where if environment.hooks is not None else None)
    if config is None:
        path = environment.config_path if isinstance(environment, ResolvedTarget) else None
        config = load_config(path, start=app)
    named = config.get(environment) if isinstance(environment, str) else None
    if named is not None:
        return _choice(config, [named], "")
    matched = environments_naming(config, url)
    if matched:
        return _choice(config, matched, "its url names this database")
    if app is not None:
        root = Path(app).expanduser().resolve()
        matched = [e for e in config.environments if e.app is not None and e.app == root]
        return _choice(config, matched, f"its app is {root}")
    return HookChoice()


def _choice(config: Config, matched: list[Environment], why: str) -> HookChoice:
    if not matched:
        return HookChoice()
    distinct = {e.hooks for e in matched}
    if len(distinct) > 1:
        names = ", ".join(repr(e.name) for e in matched)
        raise ConfigError(
            f"environments {names} in {config.path} all match this repair and declare different "
            "post-fix hooks",
            hint="pass --env NAME to choose the environment whose hooks run; nothing was changed",
        )
    chosen = matched[0]
    if chosen.hooks is None:
        return HookChoice()
    because = f" ({why})" if why else ""
    return HookChoice(chosen.hooks, f"environment {chosen.name!r} in {config.path}{because}")


# --- checking a file (``dbmedic config check``) ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConfigCheck:
    """A validated configuration, as ``dbmedic config check`` shows it: nothing secret in it."""

    config: Config
    checked: tuple[str, ...]
    """The environments whose password references were checked."""

    def rows(self) -> list[dict[str, Any]]:
        """One dict per environment: name, redacted URL, password source, app, reference..."""
        from dbmedic.secrets import redact

        out = []
        for env in self.config.environments:
            password = (
                f"${env.password_env}" if env.password_env
                else f"option file {env.option_file}" if env.option_file else None
            )  # fmt: skip
            reference = env.reference
            if reference and "://" in reference:
                reference = redact(reference)
            out.append(
                {
                    "name": env.name,
                    "url": redact(env.url) if env.url else None,
                    "password": password,
                    "app": str(env.app) if env.app else None,
                    "framework": env.framework,
                    "reference": reference,
                    "critical": list(env.critical),
                    "expected_tables": env.expected_tables,
                    "hooks": None if env.hooks is None else [list(h) for h in env.hooks],
                    "protected": env.protected,
                    "checked": env.name in self.checked,
                }
            )
        return out

    def to_dict(self) -> dict[str, Any]:
        c = self.config
        return {
            "format": "dbmedic.config/1",
            "file": str(c.path),
            "valid": True,
            "state_dir": str(c.state_dir) if c.state_dir else None,
            "backup_dir": str(c.backup_dir) if c.backup_dir else None,
            "environments": self.rows(),
        }


def check_config(
    path: Path | str | None = None,
    *,
    environments: tuple[str, ...] | None = None,
    start: Path | str | None = None,
) -> ConfigCheck:
    """Read-only: validate the configuration file (given, else found from ``start`` upward) and
    the password references of ``environments`` (default: all). Raises ConfigError, also when no
    file is found."""
    config = load_config(path, start=start)
    if config.path is None:
        raise ConfigError(
            f"no {CONFIG_NAME} (or [tool.dbmedic] in pyproject.toml) found from "
            f"{Path(start or Path.cwd()).resolve()} upward",
            hint="pass --file PATH or create one (see docs/configuration.md)",
        )
    names = environments if environments is not None else config.names
    for name in names:
        config.environment(name)  # unknown names: one sentence with the closest one
    check_references(config, names)
    return ConfigCheck(config, tuple(names))
