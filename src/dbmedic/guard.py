"""The production guard: nothing that changes a database runs on production by accident.

Every call that changes a database (``restore``, native ``migrate``, ``fix``, ``rollback``) calls
:func:`assert_may_change` first, before any statement is sent. A target is production when

- the configuration marks it ``protected = true`` (the selected environment, or any protected
  environment whose URL names the same database: host, port and database, or the same SQLite file);
- the app's own configuration says so (the framework adapter answers: Laravel ``APP_ENV=production``
  in ``.env`` / ``.env.<env>``, Django settings named like production without ``DEBUG = True``);
- the database name (SQLite: the file name) or the host name contains ``prod`` or ``production``
  as a token: the name is split at every character that is not a letter, so ``prod``,
  ``app_prod``, ``shop-production``, ``prod2`` and ``prod-db.example.com`` match, while
  ``product_catalog``, ``reproduce`` and ``shopprod`` do not (protect those with ``protected``).

Such a target is changed only with ``allow_production=True`` *and* a ``confirm`` callback that
returns the database name typed by a person. No callback (no terminal) means refused. The guard
reads files and the URL only: it never connects.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dbmedic.errors import RefusedError

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

    from dbmedic.config import ResolvedTarget
    from dbmedic.connect import Database
    from dbmedic.driver import DbUrl

PRODUCTION_WORDS = frozenset({"prod", "production"})
Confirm = Callable[[str], str]
"""confirm(prompt) -> what the person typed."""


def names_production(text: str) -> bool:
    """True when ``text`` has ``prod`` or ``production`` as a token delimited by non-letters."""
    return any(token in PRODUCTION_WORDS for token in re.split(r"[^a-z]+", text.lower()))


@dataclass(frozen=True, slots=True)
class Verdict:
    """Why a target counts as production (no reasons: it does not)."""

    target: str
    """The redacted URL."""
    database: str
    """The name a person must type to confirm (SQLite: the file name)."""
    reasons: tuple[str, ...]
    protected: bool
    """True when the configuration protects it (not only a guess from names)."""

    @property
    def production(self) -> bool:
        return bool(self.reasons)

    @property
    def summary(self) -> str:
        """``mysql+pymysql://app:***@prod-db/shop looks like production (host name ...)``."""
        how = "is protected" if self.protected else "looks like production"
        return f"{self.target} {how} ({'; '.join(self.reasons)})"


@dataclass(frozen=True, slots=True)
class Clearance:
    """What :func:`assert_may_change` returns when it lets a database be changed: pass it to
    the calls that change the same database later in the same operation (a fix's rollback
    restore), so a person confirms once. Only the guard makes one."""

    key: tuple[str, str, int | None, str]
    """The database it is for (:func:`dbmedic.config.same_database_key`)."""
    verdict: Verdict

    def covers(self, db: str | URL | DbUrl | Database) -> bool:
        """True when ``db`` is the database this clearance was given for."""
        from dbmedic.config import same_database_key

        return same_database_key(_url_of(db)) == self.key


def _url_of(db: str | URL | DbUrl | Database) -> URL | DbUrl:
    """The URL of ``db``, parsed without SQLAlchemy unless it is a SQLAlchemy URL (the guard
    runs first in every command that writes: it should not pay for that import)."""
    from dbmedic.connect import Database, normalise_url, parse_db_url
    from dbmedic.driver import DbUrl

    if isinstance(db, str):
        return parse_db_url(db)
    if isinstance(db, Database):
        return db.plain_url
    if isinstance(db, DbUrl):
        return normalise_url(db)
    return normalise_url(db)  # a SQLAlchemy URL, as given


def confirmation_name(url: URL | DbUrl) -> str:
    """What a person types to confirm: the database name, or the SQLite file's name."""
    from dbmedic.connect import url_family

    database = str(url.database or "")
    if url_family(url) == "sqlite":
        return Path(database).name or database
    return database


def inspect_target(
    db: str | URL | DbUrl | Database,
    *,
    app: Path | str | None = None,
    environment: str | ResolvedTarget | None = None,
) -> Verdict:
    """Read-only, never connects: whether ``db`` is protected or looks like production, and why.

    ``environment`` is the selected :class:`~dbmedic.config.ResolvedTarget` or an environment
    name (of the configuration, else of the app: Laravel ``.env.<name>``). Raises ConfigError
    for a broken configuration file.
    """
    from dbmedic.config import load_config, protecting_environment
    from dbmedic.secrets import redact

    url = _url_of(db)
    reasons: list[str] = []
    protected = False
    target = environment if environment is not None and not isinstance(environment, str) else None
    app_dir = Path(app) if app is not None else (target.app if target is not None else None)
    config = load_config(start=app_dir)
    if target is not None and target.protected_reason:
        reasons.append(target.protected_reason)
        protected = True
    named = config.get(environment) if isinstance(environment, str) else None
    if named is not None and named.protected:
        reasons.append(f"protected = true for environment {named.name!r} in {config.path}")
        protected = True
    if not protected:
        match = protecting_environment(config, url)
        if match is not None:
            reasons.append(f"it is environment {match.name!r}, protected = true in {config.path}")
            protected = True
    reasons.extend(_app_signs(app_dir, environment, named is not None))
    database = confirmation_name(url)
    if database and names_production(database):
        reasons.append(f"database name {database!r} contains 'prod'")
    host = url.host or ""
    if host and names_production(host):
        reasons.append(f"host name {host!r} contains 'prod'")
    return Verdict(redact(url), database, tuple(reasons), protected)


def _app_signs(
    app_dir: Path | None, environment: str | ResolvedTarget | None, configured: bool
) -> list[str]:
    """What the app's framework says about its own environment (Laravel .env, Django settings)."""
    if app_dir is None or not Path(app_dir).is_dir():
        return []
    from dbmedic.errors import ConfigError
    from dbmedic.frameworks.base import detect_framework

    root = Path(app_dir).expanduser().resolve()
    try:
        framework = detect_framework(root)
    except ConfigError:
        return []
    if isinstance(environment, str):
        app_env = None if configured else environment
    else:
        app_env = environment.framework_environment if environment is not None else None
    return list(framework.production_signs(root, app_env))


def assert_may_change(
    db: str | URL | DbUrl | Database,
    *,
    app: Path | str | None = None,
    environment: str | ResolvedTarget | None = None,
    allow_production: bool = False,
    confirm: Confirm | None = None,
    clearance: Clearance | None = None,
) -> Clearance:
    """Raise :class:`RefusedError` (exit 3) unless ``db`` may be changed; call it before any
    statement is sent.

    A protected or production-looking target needs ``allow_production`` and a ``confirm``
    callback returning the database name typed by a person (the CLI passes one only when stdin
    is a terminal). A ``clearance`` this function returned earlier for the same database
    passes without asking again. Never connects. Returns the :class:`Clearance`; raises
    RefusedError, or ConfigError for a broken configuration file.
    """
    from dbmedic.config import same_database_key

    url = _url_of(db)
    if clearance is not None and clearance.covers(url):
        return clearance
    verdict = inspect_target(url, app=app, environment=environment)
    if not verdict.production:
        return Clearance(same_database_key(url), verdict)
    if not allow_production:
        raise RefusedError(
            f"refused: {verdict.summary}",
            hint="pass --allow-production and type the database name to continue; nothing was changed",
        )
    if confirm is None:
        raise RefusedError(
            f"refused: {verdict.summary}, and --allow-production needs the database name typed "
            "at a prompt, which is impossible without a terminal",
            hint="run it from a terminal; nothing was changed",
        )
    try:
        typed = confirm(
            f"{verdict.summary}.\nType the name of the database to change ({verdict.database})"
        )
    except EOFError:
        typed = ""
    if typed.strip() != verdict.database:
        from dbmedic.secrets import scrub

        shown = scrub(typed.strip())[:60]
        raise RefusedError(
            f"refused: {shown!r} is not the database name {verdict.database!r} of {verdict.target}",
            hint="nothing was changed",
        )
    return Clearance(same_database_key(url), verdict)
