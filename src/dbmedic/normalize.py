"""Normalisation of column types, defaults and referential actions: the one place it happens.

The model compares with ``==``, so a column read from a live server and a column derived from a
migration statement must be normalised by the same rules. Statement effects
(:mod:`dbmedic.effects`) use these functions; the dialect inspectors are to use them too (or the
two are aligned here), so that "present with the same definition" means the same on both sides.

Rules (per family: ``mysql`` covers MySQL and MariaDB):

- types: lower case, single spaces, no spaces inside parentheses; integer display widths dropped
  on MySQL (``int(11)`` -> ``int``, ``tinyint(1)`` -> ``tinyint``); synonyms folded to the name
  the server itself reports: ``integer`` -> ``int``, ``character varying`` -> ``varchar``,
  ``bool``/``boolean`` -> ``tinyint`` (MySQL) or ``boolean``, ``timestamp with time zone`` ->
  ``timestamptz``, ``decimal`` -> ``numeric`` (PostgreSQL) and the reverse on MySQL,
  ``serial`` -> ``int`` (the auto-increment is a separate flag). SQLite keeps the declared type
  (lower-cased), folding only spellings sqlglot cannot tell apart (``int``/``integer``).
- defaults: an SQL expression; ``NULL`` is ``None``; a quoted number on a numeric column is the
  number (``'999'`` -> ``999``, as MySQL stores it); ``now()``, ``current_timestamp()`` and
  ``CURRENT_TIMESTAMP`` are ``CURRENT_TIMESTAMP``; PostgreSQL casts on literals are dropped
  (``'a'::character varying`` -> ``'a'``); booleans are ``true``/``false`` (``1``/``0`` on MySQL).
- referential actions: upper case, single spaces; missing means ``NO ACTION``.
"""

from __future__ import annotations

import re

_SPACES = re.compile(r"\s+")
_PAREN_SPACES = re.compile(r"\s*([(),])\s*")
_INT_WIDTH = re.compile(r"^(tinyint|smallint|mediumint|int|bigint)\(\d+\)")
_PG_CAST = re.compile(r"^(.*?)::[a-z_ ]+(\[\])?(\(\d+(,\d+)?\))?$", re.IGNORECASE | re.DOTALL)
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")

_NUMERIC_TYPES = (
    "tinyint",
    "smallint",
    "mediumint",
    "int",
    "bigint",
    "decimal",
    "numeric",
    "float",
    "double",
    "real",
    "integer",
    "bit",
    "year",
)

_SYNONYMS: dict[str, dict[str, str]] = {
    "mysql": {
        "integer": "int",
        "bool": "tinyint",
        "boolean": "tinyint",
        "dec": "decimal",
        "numeric": "decimal",
        "fixed": "decimal",
        "real": "double",
        "double precision": "double",
        "character varying": "varchar",
        "character": "char",
        "int4": "int",
        "int8": "bigint",
    },
    "postgresql": {
        "integer": "int",
        "int4": "int",
        "int8": "bigint",
        "int2": "smallint",
        "serial": "int",
        "serial4": "int",
        "bigserial": "bigint",
        "serial8": "bigint",
        "smallserial": "smallint",
        "serial2": "smallint",
        "bool": "boolean",
        "character varying": "varchar",
        "character": "char",
        "bpchar": "char",
        "decimal": "numeric",
        "double precision": "double precision",
        "double": "double precision",
        "float8": "double precision",
        "float4": "real",
        "timestamp with time zone": "timestamptz",
        "timestamp without time zone": "timestamp",
        "time with time zone": "timetz",
        "time without time zone": "time",
    },
    "sqlite": {
        # sqlglot prints SQLite's own spellings in its generic names; fold both to SQLite's.
        "int": "integer",
        "varbinary": "blob",
        "double precision": "real",
        "double": "real",
        "float": "real",
        "decimal": "numeric",
    },
}
_AUTO_INCREMENT_TYPES = frozenset({"serial", "serial4", "bigserial", "serial8", "smallserial"})


def family_of(dialect: str) -> str:
    """``mysql`` for MySQL and MariaDB, ``postgresql`` for PostgreSQL (also ``postgres``), else as is."""
    if dialect in ("mysql", "mariadb"):
        return "mysql"
    if dialect in ("postgres", "postgresql", "pg"):
        return "postgresql"
    return dialect


def is_serial(raw_type: str) -> bool:
    """Whether a PostgreSQL type name is a serial pseudo-type (an int with a sequence default)."""
    return raw_type.strip().lower() in _AUTO_INCREMENT_TYPES


def normalize_type(raw: str, family: str) -> str:
    """The normalised type of a column as the model stores it (see module docstring)."""
    text = _lower_outside_quotes(_SPACES.sub(" ", raw.strip()))
    text = re.sub(r"\s*([(,])\s*", r"\1", text)
    text = re.sub(r"\s*\)", ")", text)
    synonyms = _SYNONYMS.get(family_of(family), {})
    # PostgreSQL prints the precision in the middle: "timestamp(0) without time zone".
    m = re.match(r"^(timestamp|time)(\(\d+\))? (with|without) time zone(.*)$", text)
    if m:
        name = synonyms.get(f"{m.group(1)} {m.group(3)} time zone", m.group(1))
        text = name + (m.group(2) or "") + m.group(4)
    else:
        for key in sorted(synonyms, key=len, reverse=True):
            if text == key or (text.startswith(key) and text[len(key)] in "( ["):
                text = synonyms[key] + text[len(key) :]
                break
    if family_of(family) == "mysql":
        text = _INT_WIDTH.sub(lambda m: m.group(1), text)
        if text == "decimal" or text.startswith("decimal "):
            text = "decimal(10,0)" + text[len("decimal") :]
    return text


def _lower_outside_quotes(text: str) -> str:
    parts = re.split(r"('(?:[^']|'')*')", text)
    return "".join(p if p.startswith("'") else p.lower() for p in parts)


def _is_numeric(type_: str) -> bool:
    return type_.split("(")[0].split(" ")[0] in _NUMERIC_TYPES


def normalize_default(raw: str | None, family: str, type_: str = "") -> str | None:
    """The normalised default expression of a column of (normalised) type ``type_``."""
    if raw is None:
        return None
    text = raw.strip()
    fam = family_of(family)
    if fam == "postgresql":
        m = _PG_CAST.match(text)
        while m and not text.startswith("("):
            text = m.group(1).strip()
            m = _PG_CAST.match(text)
    while text.startswith("(") and text.endswith(")") and _balanced(text[1:-1]):
        text = text[1:-1].strip()
    upper = text.upper()
    if upper == "NULL":
        return None
    if upper in ("CURRENT_TIMESTAMP", "CURRENT_TIMESTAMP()", "NOW()", "LOCALTIMESTAMP"):
        return "CURRENT_TIMESTAMP"
    m = re.match(r"^(?:CURRENT_TIMESTAMP|NOW|LOCALTIMESTAMP)\s*\((\d+)\)$", upper)
    if m:
        return f"CURRENT_TIMESTAMP({m.group(1)})"
    if upper in ("TRUE", "FALSE"):
        if fam == "mysql":
            return "1" if upper == "TRUE" else "0"
        return upper.lower()
    if (
        _is_numeric(type_)
        and len(text) >= 2
        and text[0] == text[-1] == "'"
        and _NUMBER.match(text[1:-1])
    ):
        text = text[1:-1]
    return text


def _balanced(text: str) -> bool:
    depth = 0
    for ch in text:
        depth += ch == "("
        depth -= ch == ")"
        if depth < 0:
            return False
    return depth == 0


def normalize_action(raw: str | None) -> str:
    """A referential action, upper case (``cascade`` -> ``CASCADE``); None is ``NO ACTION``."""
    if not raw:
        return "NO ACTION"
    return _SPACES.sub(" ", raw.strip().upper())


def quote_literal(value: str) -> str:
    """An SQL string literal: ``it's`` -> ``'it''s'``."""
    return "'" + value.replace("'", "''") + "'"
