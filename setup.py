"""The optional C part of dbmedic: ``dbmedic._rows``, the built-in MySQL dumper's row renderer.

Built only where the MariaDB client library's headers are found (``mariadb_config``, from
libmariadb-dev, the package mysqlclient needs too) and a compiler works; otherwise, or when the
build fails, dbmedic installs without it and the server renders the rows (``optional=True``).
Everything else about the package is in pyproject.toml.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess

from setuptools import Extension, setup


def _mariadb_flags() -> tuple[list[str], list[str]] | None:
    """(compile flags, link flags) of the MariaDB client library, or None when not installed."""
    for tool, cflags, libs in (
        ("mariadb_config", ["--include"], ["--libs"]),
        ("pkg-config", ["--cflags", "libmariadb"], ["--libs", "libmariadb"]),
    ):
        if shutil.which(tool) is None:
            continue
        try:
            found = [
                shlex.split(subprocess.run([tool, *args], capture_output=True, text=True,
                                           check=True).stdout)  # fmt: skip
                for args in (cflags, libs)
            ]
        except (OSError, subprocess.CalledProcessError):
            continue
        return found[0], found[1]
    return None


flags = _mariadb_flags()
setup(
    ext_modules=[
        Extension(
            "dbmedic._rows",
            ["src/dbmedic/_rows.c"],
            extra_compile_args=[*flags[0], "-O2"],
            extra_link_args=flags[1],
            optional=True,
        )
    ]
    if flags is not None
    else []
)
