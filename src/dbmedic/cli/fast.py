"""``dbmedic status`` without Typer: the command line parsed from the same option definitions.

Importing Typer and Click, and building a command from a function signature, cost ~40 ms, a
third of a status run (bench/status.py; everything else had been cut first). :func:`parse_status`
accepts only the plain shapes of a status command line: ``[--debug] status`` followed by options
of :data:`dbmedic.cli.options.STATUS`, each at most once, as ``--opt VALUE``, ``--opt=VALUE``
or ``--flag``. Anything else (``--help``, another command, an unknown or repeated option, a
missing value, a value that starts with ``-``) returns None and Typer parses it, so its help
and error messages stay the only ones. tests/test_cli_fast.py checks that both parses agree.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dbmedic.cli import options


def parse_status(args: list[str]) -> dict[str, Any] | None:
    """The keyword arguments of ``status_cmd`` for command line ``args``, or None (see above)."""
    rest = args[1:] if args[:1] == [options.DEBUG.flag] else args
    if rest[:1] != ["status"]:
        return None
    by_flag = {o.flag: o for o in options.STATUS}
    values: dict[str, Any] = {}
    tokens = iter(rest[1:])
    for token in tokens:
        flag, equals, value = token.partition("=")
        option = by_flag.get(flag)
        if option is None or option.param in values:
            return None
        if option.kind is bool:
            if equals:
                return None
            values[option.param] = True
            continue
        if not equals:
            value = next(tokens, "-")
        if value.startswith("-"):
            return None
        values[option.param] = Path(value) if option.kind is Path else value
    return {o.param: values.get(o.param, False if o.kind is bool else None) for o in options.STATUS}


def run_fast(args: list[str]) -> int | None:
    """Run ``args`` when it is a status command line :func:`parse_status` accepts: its exit code;
    None otherwise (Typer runs it). Raises DbmedicError like the Typer command."""
    parsed = parse_status(args)
    if parsed is None:
        return None
    from dbmedic.cli.status_view import run_status

    return int(run_status(**parsed))
