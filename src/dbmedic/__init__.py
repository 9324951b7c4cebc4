"""dbmedic: diagnose and repair databases whose schema migrations failed halfway.

The library API lives in :mod:`dbmedic.api`; its functions are also reachable here
(``dbmedic.inspect(url)``, ``dbmedic.diff(a, b)``, ...) and imported on first use, so that
``import dbmedic`` and the CLI start fast.
"""

from __future__ import annotations

import sys
import types
from typing import Any

__version__ = "0.1.0"

_SHADOWED = frozenset({"inspect", "diff", "verify"})
"""API functions named like a submodule (dbmedic/inspect.py, ...): ``dbmedic.inspect`` stays the
function even after the submodule is imported (the module remains in ``sys.modules``, so
``from dbmedic.inspect import load_snapshot`` works as usual; ``import dbmedic.inspect as m``
does not, write ``from dbmedic import inspect as ...`` only for the function)."""


class _Package(types.ModuleType):
    def __setattr__(self, name: str, value: Any) -> None:
        if name in _SHADOWED and isinstance(value, types.ModuleType):
            return  # the import system binds submodules on the package; keep the function
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def __getattr__(name: str) -> Any:
    """Resolve ``dbmedic.<api function>`` lazily; submodules import as usual."""
    import importlib

    if name.startswith("_") or name == "api":
        raise AttributeError(name)
    api = importlib.import_module("dbmedic.api")
    if name in getattr(api, "__all__", ()):
        return getattr(api, name)
    raise AttributeError(f"module 'dbmedic' has no attribute {name!r}")
