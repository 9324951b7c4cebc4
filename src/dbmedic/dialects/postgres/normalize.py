"""PostgreSQL normal forms: types, defaults, check expressions, view definitions, error texts.

Normal form of a type (``Column.type``), every one of them valid PostgreSQL again:

=============================================  ======================
``format_type()`` prints                       normalised
=============================================  ======================
``integer`` / ``smallint`` / ``bigint``        ``int`` / ``smallint`` / ``bigint``
``character varying(255)``                     ``varchar(255)``
``character(3)``                               ``char(3)``
``bit varying(4)``                             ``varbit(4)``
``timestamp(3) without time zone``             ``timestamp(3)``
``timestamp with time zone``                   ``timestamptz``
``time without time zone`` / ``with``          ``time`` / ``timetz``
``numeric(8,2)``, ``double precision``, ...    unchanged
``character varying(20)[]``                    ``varchar(20)[]``
=============================================  ======================

Defaults keep PostgreSQL's own spelling (``now()`` and ``CURRENT_TIMESTAMP`` stay distinct: they
are different expressions to the server) but lose the cast the server adds to a literal:
``'abc'::character varying`` -> ``'abc'``, ``'-1'::integer`` -> ``-1``, ``NULL::text`` -> no
default. Casts inside larger expressions are kept: the server prints them the same way for the
same input, so they never make two equal schemas differ.
"""

from __future__ import annotations

import re
from functools import lru_cache

_TYPE_WORDS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p), r)
    for p, r in (
        (r"^integer$", "int"),
        (r"^character varying", "varchar"),
        (r"^character(?= *\(|$)", "char"),
        (r"^bit varying", "varbit"),
        (r"^timestamp(\(\d+\))? without time zone$", r"timestamp\1"),
        (r"^timestamp(\(\d+\))? with time zone$", r"timestamptz\1"),
        (r"^time(\(\d+\))? without time zone$", r"time\1"),
        (r"^time(\(\d+\))? with time zone$", r"timetz\1"),
    )
)

_NUMERIC_TYPES = frozenset(
    {"integer", "int", "bigint", "smallint", "numeric", "real", "double precision"}
)

_LITERAL_CAST = re.compile(r"^('(?:[^']|'')*')::(.+)$", re.S)
_NUMBER = re.compile(r"^-?\d+(\.\d+)?([eE][-+]?\d+)?$")
_NEXTVAL = re.compile(r"^nextval\('(?:[^']|'')+'::regclass\)$")


@lru_cache(maxsize=4096)
def normalize_type(printed: str) -> str:
    """``format_type()`` text -> dbmedic's normal form (see the module docstring)."""
    base, dims = printed, ""
    while base.endswith("[]"):
        base, dims = base[:-2], dims + "[]"
    for pattern, repl in _TYPE_WORDS:
        new = pattern.sub(repl, base)
        if new != base:
            base = new
            break
    return base + dims


def is_nextval(default: str | None) -> bool:
    """True for the ``nextval('seq'::regclass)`` default of a serial column."""
    return default is not None and default.startswith("nextval(") and bool(_NEXTVAL.match(default))


@lru_cache(maxsize=4096)
def normalize_default(expr: str | None) -> str | None:
    """``pg_get_expr(adbin)`` text -> normal default; None for no default or ``NULL``."""
    if expr is None:
        return None
    text = expr.strip()
    if text.upper() == "NULL" or text.upper().startswith("NULL::"):
        return None
    m = _LITERAL_CAST.match(text)
    if m:
        literal, cast = m.group(1), m.group(2).strip()
        inner = literal[1:-1]
        if cast in _NUMERIC_TYPES and _NUMBER.match(inner):
            return inner
        return literal
    return text


def normalize_check(definition: str) -> str:
    """``CHECK ((a > 0))`` (``pg_get_constraintdef``) -> ``a > 0``; NO INHERIT and NOT VALID kept out."""
    text = collapse(definition)
    text = re.sub(r"\s+NOT VALID$", "", text)
    text = re.sub(r"\s+NO INHERIT$", "", text)
    if text.upper().startswith("CHECK "):
        text = text[6:].strip()
    return strip_parens(text)


def normalize_view(definition: str) -> str:
    """``pg_get_viewdef`` text with whitespace collapsed and the trailing semicolon removed."""
    return collapse(definition).rstrip(";").strip()


def collapse(text: str) -> str:
    """Collapse runs of whitespace outside string literals to one space."""
    parts = re.split(r"('(?:[^']|'')*')", text)
    out = [p if i % 2 else re.sub(r"\s+", " ", p) for i, p in enumerate(parts)]
    return "".join(out).strip()


def strip_parens(text: str) -> str:
    """Remove parentheses that wrap the whole expression: ``((a > 0))`` -> ``a > 0``."""
    while text.startswith("(") and text.endswith(")") and _closes_at_end(text):
        text = text[1:-1].strip()
    return text


def _closes_at_end(text: str) -> bool:
    """Whether the parenthesis opened at position 0 closes at the last character."""
    depth, quoted = 0, False
    for i, ch in enumerate(text):
        if ch == "'":
            quoted = not quoted
        elif not quoted and ch == "(":
            depth += 1
        elif not quoted and ch == ")":
            depth -= 1
            if depth == 0:
                return i == len(text) - 1
    return False


_CONNECT_PREFIX = re.compile(
    r'^(?:connection (?:failed|is bad): )?(?:connection to server (?:at "([^"]*)"(?: \([^)]*\))?, port (\d+)|on socket "([^"]*)") failed: )?',
)


def describe_psycopg_error(message: str) -> str:
    """One sentence from a psycopg/libpq message: the server's words without libpq's framing."""
    text = message.strip()
    m = _CONNECT_PREFIX.match(text)
    host, port, socket = (m.group(1), m.group(2), m.group(3)) if m else (None, None, None)
    rest = text[m.end() :] if m else text
    lines = [ln.strip() for ln in rest.splitlines() if ln.strip()]
    first = lines[0] if lines else text
    first = re.sub(r"^(FATAL|ERROR):\s+", "", first)
    where = f"{host}:{port}" if host else socket
    if "Connection refused" in first:
        return f"connection refused at {where or 'the server'}; is PostgreSQL running there?"
    if "timeout expired" in first:
        return f"connection to {where or 'the server'} timed out"
    if socket and "No such file or directory" in first:
        return f"no server listening on socket {socket}"
    resolve = re.match(
        r"^(?:failed to resolve host|could not translate host name) ['\"]([^'\"]+)", first
    )
    if resolve:
        return f"cannot resolve host name {resolve.group(1)!r}"
    return first
