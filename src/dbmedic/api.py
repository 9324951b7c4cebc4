"""The library API: one function per command. Never prints, prompts or exits.

Functions return result dataclasses and raise :class:`dbmedic.errors.DbmedicError`; progress
is reported through an optional ``progress`` callback. The CLI is a thin layer over this module.
"""

from __future__ import annotations

__all__: list[str] = []
