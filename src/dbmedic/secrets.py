"""Credentials and redaction.

Passwords come from the URL, an environment variable, ``~/.my.cnf`` or ``~/.pgpass``. Whatever
their source, they never reach a log, a report, an error message or another process's argv: every
URL that is shown passes :func:`redact`, and every error text passes :func:`scrub`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

    from dbmedic.driver import DbUrl

_U = TypeVar("_U", "URL", "DbUrl")

PASSWORD_ENV = "DBMEDIC_PASSWORD"
"""Environment variable read for the password when the URL has none (then MYSQL_PWD / PGPASSWORD)."""

_known_secrets: set[str] = set()


def remember(secret: str | None) -> None:
    """Register a secret so that :func:`scrub` removes it from any text shown later."""
    if secret and len(secret) >= 3:
        _known_secrets.add(secret)


def scrub(text: str) -> str:
    """Replace every known secret in ``text`` with ``***``."""
    for secret in sorted(_known_secrets, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def redact(url: URL | DbUrl | str) -> str:
    """The URL as text with its password replaced by ``***``: ``mysql+pymysql://app:***@db/x``."""
    if isinstance(url, str):
        from dbmedic.driver import DbUrl

        try:
            parsed = DbUrl.parse(url)
        except Exception:
            return scrub(url.split("@")[-1]) if "@" in url else scrub(url)
        return scrub(parsed.render_as_string(hide_password=True))
    return scrub(url.render_as_string(hide_password=True))


def password_from_environment(family: str) -> str | None:
    """``DBMEDIC_PASSWORD``, then the client's own variable (``MYSQL_PWD``, ``PGPASSWORD``)."""
    value = os.environ.get(PASSWORD_ENV)
    if value:
        return value
    own = {"mysql": "MYSQL_PWD", "postgresql": "PGPASSWORD"}.get(family)
    return os.environ.get(own) if own else None


def password_from_my_cnf(path: Path | None = None) -> tuple[str | None, str | None]:
    """(user, password) from the ``[client]`` (or ``[mysql]``) group of ``~/.my.cnf``."""
    path = path or Path.home() / ".my.cnf"
    if not path.is_file():
        return None, None
    import configparser

    parser = configparser.ConfigParser(allow_no_value=True, interpolation=None, strict=False)
    try:
        parser.read(path)
    except configparser.Error:
        return None, None
    for group in ("client", "mysql", "mariadb", "client-mariadb"):
        if parser.has_section(group):
            user = parser.get(group, "user", fallback=None)
            password = parser.get(group, "password", fallback=None)
            if password is not None:
                password = password.strip().strip("'\"")
            if user or password:
                return user, password
    return None, None


def password_from_pgpass(
    host: str, port: int, database: str, user: str, path: Path | None = None
) -> str | None:
    """The first matching line of ``~/.pgpass`` (``host:port:db:user:password``, ``*`` wildcards)."""
    path = path or Path(os.environ.get("PGPASSFILE", Path.home() / ".pgpass"))
    if not path.is_file():
        return None
    for line in path.read_text().splitlines():
        if not line or line.startswith("#"):
            continue
        fields = _split_pgpass(line)
        if len(fields) != 5:
            continue
        wanted = (host, str(port), database, user)
        if all(f == "*" or f == w for f, w in zip(fields[:4], wanted, strict=True)):
            return fields[4]
    return None


def _split_pgpass(line: str) -> list[str]:
    fields, current, escaped = [], "", False
    for ch in line:
        if escaped:
            current += ch
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == ":":
            fields.append(current)
            current = ""
        else:
            current += ch
    fields.append(current)
    return fields


def fill_password(url: _U, family: str) -> _U:
    """Return ``url`` with a password from the environment or option files when it has none."""
    if url.password is not None or family == "sqlite":
        remember(str(url.password) if url.password is not None else None)
        return url
    password = password_from_environment(family)
    user = url.username
    if password is None and family == "mysql":
        cnf_user, password = password_from_my_cnf()
        user = user or cnf_user
    if password is None and family == "postgresql":
        password = password_from_pgpass(
            url.host or "localhost", url.port or 5432, url.database or "*", user or "*"
        )
    remember(password)
    if password is None:
        return url.set(username=user) if user != url.username else url
    return url.set(username=user, password=password)
