"""Diagnosis of a failed migration run, and lint of pending migrations (see :mod:`dbmedic.diagnosis`).

``diagnose`` lives in :mod:`.pipeline`, ``lint`` in :mod:`.lint`; nothing is imported here, so a
reset plan, which reads only the fresh-run rehearsal, does not load the cause analysis, the
simulator and lint (~0.1-0.25 s) before the framework can start.
"""

from __future__ import annotations

from typing import Any

__all__ = ["DiagnoseProgress", "diagnose"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from dbmedic.diagnose import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
