"""dbmedic: diagnose and repair databases whose schema migrations failed halfway.

The library API lives in :mod:`dbmedic.api`; its functions are also reachable here
(``dbmedic.inspect(url)``, ``dbmedic.diff(a, b)``, ...) and imported on first use, so that
``import dbmedic`` and the CLI start fast.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    """Resolve ``dbmedic.<api function>`` lazily; submodules import as usual."""
    import importlib

    if name.startswith("_") or name == "api":
        raise AttributeError(name)
    api = importlib.import_module("dbmedic.api")
    if name in getattr(api, "__all__", ()):
        return getattr(api, name)
    raise AttributeError(f"module 'dbmedic' has no attribute {name!r}")
