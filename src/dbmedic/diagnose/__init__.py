"""Diagnosis of a failed migration run, and lint of pending migrations (see :mod:`dbmedic.diagnosis`)."""

from __future__ import annotations

from dbmedic.diagnose.lint import lint
from dbmedic.diagnose.pipeline import DiagnoseProgress, diagnose

__all__ = ["DiagnoseProgress", "diagnose", "lint"]
