"""Schema commands: inspect, diff, verify."""

from __future__ import annotations
