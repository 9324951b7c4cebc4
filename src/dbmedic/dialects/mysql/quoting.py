"""Quoting a MySQL identifier: apart from :mod:`.normalize` (which re-exports it), whose regexes
``status`` need not compile to quote two names."""

from __future__ import annotations


def quote_ident(name: str) -> str:
    """A backquoted identifier: ``order`` -> `` `order` ``."""
    return "`" + name.replace("`", "``") + "`"
