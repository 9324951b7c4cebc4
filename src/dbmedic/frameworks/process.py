"""What the framework adapters share: running the framework's own command, reading a tracking table.

Framework processes get the target database through environment variables (never argv); their
output is scrubbed of every known secret before anyone sees it.
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dbmedic.errors import FrameworkError
from dbmedic.secrets import remember, scrub

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

    from dbmedic.connect import Database
    from dbmedic.driver import DbUrl

DEFAULT_TIMEOUT = 3600.0
"""Seconds a framework command may run (a long migration on a big table takes a while)."""


@dataclass(frozen=True, slots=True)
class Completed:
    """A finished framework command: exit status and scrubbed output."""

    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def output(self) -> str:
        """stdout then stderr, as a user would have seen them."""
        return self.stdout + (("\n" + self.stderr) if self.stderr.strip() else "")


def run_command(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    on_line: Callable[[str], None] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> Completed:
    """Run ``argv`` in ``cwd`` with ``env`` added to our environment; never raises on exit status.

    ``on_line`` sees each stdout line as it comes (scrubbed), for progress. Raises FrameworkError
    when the program is missing or runs out of time.
    """
    import subprocess

    full_env = dict(os.environ)
    full_env.update(secret_env(env or {}))
    started = time.monotonic()
    try:
        proc = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=full_env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
        )
    except FileNotFoundError as e:
        raise FrameworkError(
            f"cannot run {argv[0]}: it is not installed or not on PATH",
            hint="install it, or point dbmedic at it (DBMEDIC_PHP / DBMEDIC_PYTHON)",
        ) from e
    except PermissionError as e:
        raise FrameworkError(f"cannot run {argv[0]}: permission denied") from e
    lines: list[str] = []
    assert proc.stdout is not None
    try:
        for line in proc.stdout:
            lines.append(line)
            if on_line is not None:
                on_line(scrub(line.rstrip("\n")))
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired as e:
        proc.kill()
        proc.communicate()
        raise FrameworkError(f"{' '.join(argv[:3])} did not finish within {timeout:.0f} s") from e
    except BaseException:  # Ctrl-C, SIGTERM, or on_line stopping the run: no orphan process
        proc.kill()
        proc.communicate()
        raise
    return Completed(
        tuple(argv),
        proc.returncode,
        scrub("".join(lines)),
        scrub(err or ""),
        time.monotonic() - started,
    )


_SECRET_KEYS = ("PASSWORD", "SECRET", "TOKEN", "_URL")


def secret_env(env: Mapping[str, str]) -> dict[str, str]:
    """``env`` as a dict, remembering every value whose name looks secret (so output is scrubbed)."""
    out = dict(env)
    for key, value in out.items():
        if any(mark in key.upper() for mark in _SECRET_KEYS):
            remember(value)
            if key.upper().endswith("_URL") and value:
                remember(_url_password(value))
    return out


def _url_password(text: str) -> str | None:
    from dbmedic.driver import DbUrl

    try:
        password = DbUrl.parse(text).password
    except ValueError:  # not a URL: nothing to remember
        return None
    return str(password) if password is not None else None


def url_password(url: URL | DbUrl) -> str:
    """The URL's password as plain text ('' when there is none)."""
    return "" if url.password is None else str(url.password)


def table_exists(db: Database, name: str) -> bool:
    """Read-only: is there a table ``name`` in the database's current schema?"""
    with db.reading() as conn:
        return name in db.dialect.table_names(conn)


def read_tracking_table(
    db: Database, name: str, columns: Sequence[str], *, framework: str
) -> list[tuple[Any, ...]] | None:
    """Read-only: ``columns`` of every row of tracking table ``name``; None when the table is missing.

    Raises FrameworkError when the table exists but lacks a column (not the framework's table).
    Reads on :meth:`Database.reading` (the driver's own connection: no SQLAlchemy).
    """
    from dbmedic.driver import driver_errors

    with db.reading() as conn:
        try:
            if name not in db.dialect.table_names(conn):
                return None
            present = {c.lower() for c in db.dialect.column_names(conn, name)}
            missing = [c for c in columns if c.lower() not in present]
            if missing:
                raise FrameworkError(
                    f"table {name} in {db.display} has no column {missing[0]}, "
                    f"so it is not {framework}'s tracking table",
                    hint="point dbmedic at the right database or framework with --db / --framework",
                )
            q = db.dialect.quote
            sql = f"SELECT {', '.join(q(c) for c in columns)} FROM {q(name)}"
            return [tuple(r) for r in conn.exec_driver_sql(sql)]
        except driver_errors() as e:
            reason = scrub(db.dialect.describe_error(e))
            raise FrameworkError(f"cannot read {name} in {db.display} ({reason})") from e


def find_file(root: Path, basename: str, *, skip: tuple[str, ...] = ()) -> str | None:
    """Path (relative to ``root``) of the first file called ``basename`` below ``root``, if any."""
    skipped = {"vendor", "node_modules", ".git", ".venv", "venv", "__pycache__", *skip}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in skipped)
        if basename in filenames:
            return str(Path(dirpath, basename).relative_to(root))
    return None


def project_python(root: Path) -> str:
    """A Python project's interpreter: ``DBMEDIC_PYTHON``, the project's .venv/venv, else ours."""
    chosen = os.environ.get("DBMEDIC_PYTHON")
    if chosen:
        return chosen
    for candidate in (".venv/bin/python", "venv/bin/python"):
        if (root / candidate).is_file():
            return str(root / candidate)
    return sys.executable


_FRAME = re.compile(r'^\s*File "(.+)", line (\d+)')


@dataclass(frozen=True, slots=True)
class Trace:
    """The end of a Python traceback: the error, and the deepest frame in the project."""

    error: str | None
    file: str | None
    line: int | None


def parse_traceback(text: str, root: Path) -> Trace:
    """Pure: the last ``Exception: message`` line and the deepest frame under ``root``.

    A SyntaxError names the broken file in its own ``File "...", line N`` line, which is the
    last frame printed, so it is found the same way.
    """
    lines = [line for line in text.splitlines() if line.strip()]
    error = None
    for line in reversed(lines):
        if not line.startswith((" ", "\t")) and not line.startswith(
            ("Traceback", "During", "The above")
        ):
            error = line.strip()
            break
    if error:
        error = re.sub(r"^(?:[a-z_][\w]*\.)+(?=[A-Z]\w*(?:Error|Exception|Warning)?:)", "", error)
    file = line_no = None
    for line in lines:
        m = _FRAME.match(line)
        if m:
            path = Path(m.group(1))
            if path.is_relative_to(root) and "site-packages" not in path.parts:
                file, line_no = str(path.relative_to(root)), int(m.group(2))
    return Trace(error, file, line_no)


def python_error(command: str, trace: Trace) -> FrameworkError:
    reason = (trace.error or "no error message").rstrip(".")
    if trace.file and trace.line:
        return FrameworkError(
            f"{command} failed in {trace.file} line {trace.line}: {reason}",
            file=trace.file,
            line=trace.line,
            hint="fix that file and run dbmedic again",
        )
    return FrameworkError(f"{command} failed: {reason}")
