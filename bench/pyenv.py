"""The environment of the dbmedic processes a benchmark times: dbmedic as a user has it installed.

pip compiles an installed package's bytecode; a source checkout writes it on the first run. An
environment with ``PYTHONDONTWRITEBYTECODE=1`` (this workplace's sessions set it) would have
every timed run compile dbmedic's ~75 modules again, about 80 ms that no installed copy pays and
no C tool beside it does. So the children may write it (into ``src/**/__pycache__``, which git
ignores), and it is written once before the first timed run.
"""

from __future__ import annotations

import compileall
import os
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"


def dbmedic_env() -> dict[str, str]:
    """``os.environ`` for a dbmedic child: ``src`` on the path, its bytecode written and used."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(SRC)
    compileall.compile_dir(SRC, quiet=1)
    return env
