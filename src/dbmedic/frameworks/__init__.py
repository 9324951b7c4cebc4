"""Framework adapters: each reads a tracking table and migration files into ``list[Migration]``."""

from dbmedic.frameworks.base import (
    Framework,
    MigrateResult,
    detect_framework,
    get_framework,
    known_frameworks,
    register_framework,
)

__all__ = [
    "Framework",
    "MigrateResult",
    "detect_framework",
    "get_framework",
    "known_frameworks",
    "register_framework",
]
