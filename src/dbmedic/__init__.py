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


def _api_names() -> frozenset[str]:
    import importlib

    api = sys.modules.get("dbmedic.api") or importlib.import_module("dbmedic.api")
    return frozenset(getattr(api, "__all__", ()))


class _Package(types.ModuleType):
    """Keeps ``dbmedic.<name>`` the API function when a submodule has the same name.

    ``dbmedic.inspect``, ``dbmedic.diff``, ``dbmedic.verify``, ``dbmedic.snapshot``,
    ``dbmedic.backup``, ``dbmedic.demo`` are both API functions and submodules. The import system
    binds every imported submodule on its package, which would turn ``dbmedic.inspect(url)`` into
    "module is not callable" once anything imported ``dbmedic.inspect``. The submodules stay in
    ``sys.modules``, so ``from dbmedic.inspect import load_snapshot`` works as usual; only
    ``import dbmedic.inspect as m`` (attribute access) gives the function.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if name != "api" and isinstance(value, types.ModuleType) and name in _api_names():
            return
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
