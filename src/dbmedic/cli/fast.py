"""``dbmedic status`` and ``dbmedic backup`` without Typer: the command line parsed from the same
option definitions.

Importing Typer and Click, and building a command from a function signature, cost ~40 ms, a
third of a status run (bench/status.py; everything else had been cut first), and ~0.08 s of
every backup. :func:`parse` accepts only the plain shapes of these command lines: ``[--debug]
status`` or ``[--debug] backup`` followed by options of :data:`dbmedic.cli.options.STATUS` /
:data:`~dbmedic.cli.options.BACKUP`, each at most once, as ``--opt VALUE``, ``--opt=VALUE`` or
``--flag``, and for ``backup`` at most one database URL. Anything else (``--help``, another
command, an unknown or repeated option, a missing value, a value that starts with ``-``, a
count that is not a whole number of at least 1) returns None and Typer parses it, so its help
and error messages stay the only ones. tests/test_cli_fast.py checks that both parses agree.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dbmedic.cli import options

_COMMANDS: dict[str, tuple[tuple[options.Option, ...], str | None]] = {
    "status": (options.STATUS, None),
    "backup": (options.BACKUP, "url"),
}
"""Command -> (its options, the parameter of its one argument or None)."""


def parse(args: list[str]) -> tuple[str, dict[str, Any]] | None:
    """The command and keyword arguments of command line ``args``, or None (see above)."""
    rest = args[1:] if args[:1] == [options.DEBUG.flag] else args
    if not rest or rest[0] not in _COMMANDS:
        return None
    command = rest[0]
    opts, argument = _COMMANDS[command]
    by_flag = {o.flag: o for o in opts}
    values: dict[str, Any] = {}
    tokens = iter(rest[1:])
    for token in tokens:
        if argument is not None and not token.startswith("-") and argument not in values:
            values[argument] = token
            continue
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
        if option.kind is int:
            if not value.isascii() or not value.isdigit() or int(value) < 1:
                return None
            values[option.param] = int(value)
        elif option.kind is Path:
            if not value:
                return None
            values[option.param] = Path(value)
        else:
            values[option.param] = value
    parsed = {o.param: values.get(o.param, o.default) for o in opts}
    if argument is not None:
        parsed = {argument: values.get(argument), **parsed}
    return command, parsed


def parse_status(args: list[str]) -> dict[str, Any] | None:
    """The keyword arguments of ``status_cmd`` for command line ``args``, or None."""
    parsed = parse(args)
    return parsed[1] if parsed is not None and parsed[0] == "status" else None


def run_fast(args: list[str]) -> int | None:
    """Run ``args`` when it is a command line :func:`parse` accepts: its exit code; None
    otherwise (Typer runs it). Raises DbmedicError like the Typer command."""
    parsed = parse(args)
    if parsed is None:
        return None
    command, kwargs = parsed
    if command == "backup":
        from dbmedic.cli.backup_view import run_backup

        return int(run_backup(**kwargs))
    from dbmedic.cli.status_view import run_status

    return int(run_status(**kwargs))
