"""Text normalisation for MySQL and MariaDB catalog values (pure functions, no I/O).

The two servers print the same schema differently: MariaDB quotes string defaults in
``COLUMN_DEFAULT`` and writes ``NULL`` as a string, MySQL does not; MariaDB writes
``current_timestamp()`` where MySQL writes ``CURRENT_TIMESTAMP``; MySQL 8 prefixes string literals in
expressions with charset introducers (``_utf8mb4'a'``) and wraps them in parentheses; both qualify view
columns with the database name and backquote every identifier. These functions map all of that onto
one canonical text so that equal schemas compare equal.
"""

from __future__ import annotations

import re

from dbmedic.dialects.mysql.quoting import quote_ident as quote_ident

# MySQL 8.0 reserved words (https://dev.mysql.com/doc/refman/8.0/en/keywords.html) plus MariaDB's
# own (https://mariadb.com/kb/en/reserved-words/): an identifier in this set keeps its backquotes.
RESERVED = frozenset(
    [
        "accessible",
        "add",
        "all",
        "alter",
        "analyze",
        "and",
        "as",
        "asc",
        "asensitive",
        "before",
        "between",
        "bigint",
        "binary",
        "blob",
        "both",
        "by",
        "call",
        "cascade",
        "case",
        "change",
        "char",
        "character",
        "check",
        "collate",
        "column",
        "condition",
        "constraint",
        "continue",
        "convert",
        "create",
        "cross",
        "cube",
        "cume_dist",
        "current_date",
        "current_role",
        "current_time",
        "current_timestamp",
        "current_user",
        "cursor",
        "database",
        "databases",
        "day_hour",
        "day_microsecond",
        "day_minute",
        "day_second",
        "dec",
        "decimal",
        "declare",
        "default",
        "delayed",
        "delete",
        "delete_domain_id",
        "dense_rank",
        "desc",
        "describe",
        "deterministic",
        "distinct",
        "distinctrow",
        "div",
        "do_domain_ids",
        "double",
        "drop",
        "dual",
        "each",
        "else",
        "elseif",
        "empty",
        "enclosed",
        "escaped",
        "except",
        "exists",
        "exit",
        "explain",
        "false",
        "fetch",
        "first_value",
        "float",
        "float4",
        "float8",
        "for",
        "force",
        "foreign",
        "from",
        "fulltext",
        "function",
        "general",
        "generated",
        "get",
        "grant",
        "group",
        "grouping",
        "groups",
        "having",
        "high_priority",
        "hour_microsecond",
        "hour_minute",
        "hour_second",
        "if",
        "ignore",
        "ignore_domain_ids",
        "ignore_server_ids",
        "in",
        "index",
        "infile",
        "inner",
        "inout",
        "insensitive",
        "insert",
        "int",
        "int1",
        "int2",
        "int3",
        "int4",
        "int8",
        "integer",
        "intersect",
        "interval",
        "into",
        "io_after_gtids",
        "io_before_gtids",
        "is",
        "iterate",
        "join",
        "json_table",
        "key",
        "keys",
        "kill",
        "lag",
        "last_value",
        "lateral",
        "lead",
        "leading",
        "leave",
        "left",
        "like",
        "limit",
        "linear",
        "lines",
        "load",
        "localtime",
        "localtimestamp",
        "lock",
        "long",
        "longblob",
        "longtext",
        "loop",
        "low_priority",
        "master_bind",
        "master_heartbeat_period",
        "master_ssl_verify_server_cert",
        "match",
        "maxvalue",
        "mediumblob",
        "mediumint",
        "mediumtext",
        "middleint",
        "minute_microsecond",
        "minute_second",
        "mod",
        "modifies",
        "natural",
        "no_write_to_binlog",
        "not",
        "nth_value",
        "ntile",
        "null",
        "numeric",
        "of",
        "offset",
        "on",
        "optimize",
        "optimizer_costs",
        "option",
        "optionally",
        "or",
        "order",
        "out",
        "outer",
        "outfile",
        "over",
        "page_checksum",
        "parse_vcol_expr",
        "partition",
        "percent_rank",
        "position",
        "precision",
        "primary",
        "procedure",
        "purge",
        "range",
        "rank",
        "read",
        "read_write",
        "reads",
        "real",
        "recursive",
        "ref_system_id",
        "references",
        "regexp",
        "release",
        "rename",
        "repeat",
        "replace",
        "require",
        "resignal",
        "restrict",
        "return",
        "returning",
        "revoke",
        "right",
        "rlike",
        "row",
        "row_number",
        "rownum",
        "rows",
        "schema",
        "schemas",
        "second_microsecond",
        "select",
        "sensitive",
        "separator",
        "set",
        "show",
        "signal",
        "slow",
        "smallint",
        "spatial",
        "specific",
        "sql",
        "sql_big_result",
        "sql_calc_found_rows",
        "sql_small_result",
        "sqlexception",
        "sqlstate",
        "sqlwarning",
        "ssl",
        "starting",
        "stats_auto_recalc",
        "stats_persistent",
        "stats_sample_pages",
        "stored",
        "straight_join",
        "system",
        "system_time",
        "table",
        "terminated",
        "then",
        "tinyblob",
        "tinyint",
        "tinytext",
        "to",
        "trailing",
        "trigger",
        "true",
        "undo",
        "union",
        "unique",
        "unlock",
        "unsigned",
        "update",
        "usage",
        "use",
        "using",
        "utc_date",
        "utc_time",
        "utc_timestamp",
        "values",
        "varbinary",
        "varchar",
        "varcharacter",
        "varying",
        "virtual",
        "when",
        "where",
        "while",
        "window",
        "with",
        "write",
        "xor",
        "year_month",
        "zerofill",
    ]
)

_TOKEN = re.compile(
    r"""
     (?P<ws>\s+)
    |(?P<comment>--(?=\s|$)[^\n]*|\#[^\n]*|/\*(?!!)[\s\S]*?\*/)
    |(?P<str>'(?:[^'\\]|\\[\s\S]|'')*'|"(?:[^"\\]|\\[\s\S]|"")*")
    |(?P<ident>`(?:[^`]|``)*`)
    |(?P<word>[A-Za-z0-9_$@.]*[A-Za-z0-9_$@])
    |(?P<other>[\s\S])
    """,
    re.VERBOSE,
)
_PLAIN_IDENT = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_INTRODUCER = re.compile(r"_[A-Za-z0-9]+")
_ESCAPES = {"0": "\0", "b": "\b", "n": "\n", "r": "\r", "t": "\t", "Z": "\x1a"}


def quote_string(value: str) -> str:
    """The canonical SQL literal of ``value``: single quotes, ``''`` and ``\\\\`` escapes.

    Assumes the default sql_mode (no NO_BACKSLASH_ESCAPES).
    """
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def parse_string(literal: str) -> str:
    """The value of a quoted SQL string literal (``'it''s'``, ``'a\\'b'``, ``"x"``)."""
    quote, body = literal[0], literal[1:-1]
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            out.append(_ESCAPES.get(nxt, nxt))
            i += 2
        elif ch == quote and i + 1 < len(body) and body[i + 1] == quote:
            out.append(quote)
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def unescape_catalog(text: str) -> str:
    """Undo the backslash escaping MySQL 8 applies to expressions in information_schema.

    MySQL prints ``concat(_utf8mb4\\'a\\')`` in ``COLUMNS.GENERATION_EXPRESSION`` and in expression
    defaults (see shopware/shopware-cli#846); MariaDB prints plain SQL. Only applied when the
    escaped quote is present.
    """
    if "\\'" not in text:
        return text
    return re.sub(r"\\(.)", lambda m: m.group(1), text, flags=re.DOTALL)


def _unwrap_parens(text: str) -> str:
    """Remove parentheses that enclose the whole text, repeatedly: ``((a > 0))`` -> ``a > 0``."""
    while text.startswith("(") and _first_paren_closes_at_end(text):
        text = text[1:-1].strip()
    return text


def _first_paren_closes_at_end(text: str) -> bool:
    depth = 0
    position = 0
    for kind, tok in _tokens(text):
        position += len(tok)
        if kind == "other" and tok == "(":
            depth += 1
        elif kind == "other" and tok == ")":
            depth -= 1
            if depth == 0:
                return position == len(text)
    return False


def _tokens(text: str) -> list[tuple[str, str]]:
    return [(m.lastgroup or "other", m.group()) for m in _TOKEN.finditer(text)]


def normalize_sql(text: str, *, database: str | None = None, unwrap: bool = False) -> str:
    """Canonical text of an SQL expression, view body or trigger body.

    Comments go (except ``/*! ... */`` version comments, which execute), runs of whitespace become
    one space, string literals are re-quoted canonically without charset introducers, backquotes
    are dropped from identifiers that need none, and ``database.`` qualifiers naming ``database``
    (the current database, which MySQL writes into view definitions) are removed.
    """
    toks = _tokens(text.strip())
    out: list[str] = []
    i = 0
    while i < len(toks):
        kind, tok = toks[i]
        if kind in ("ws", "comment"):
            if out and out[-1] != " ":
                out.append(" ")
        elif kind == "str":
            if out and _INTRODUCER.fullmatch(out[-1]):
                out.pop()
            out.append(quote_string(parse_string(tok)))
        elif kind == "ident":
            name = tok[1:-1].replace("``", "`")
            if (
                database is not None
                and name == database
                and i + 1 < len(toks)
                and toks[i + 1] == ("other", ".")
            ):
                i += 2
                continue
            out.append(name if _bare_ok(name) else quote_ident(name))
        else:
            out.append(tok)
        i += 1
    result = "".join(out).strip()
    return _unwrap_parens(result) if unwrap else result


def _bare_ok(name: str) -> bool:
    return (
        bool(_PLAIN_IDENT.fullmatch(name))
        and name.lower() not in RESERVED
        and not name.replace("$", "").isdigit()
    )


# --- types ----------------------------------------------------------------------------------

_INT_TYPE = re.compile(r"(tinyint|smallint|mediumint|int|bigint)\((\d+)\)(.*)")
NUMERIC_TYPES = frozenset(
    [
        "tinyint",
        "smallint",
        "mediumint",
        "int",
        "integer",
        "bigint",
        "decimal",
        "numeric",
        "float",
        "double",
        "real",
        "year",
    ]
)
_TEXT_LIKE = frozenset(
    [
        "tinytext",
        "text",
        "mediumtext",
        "longtext",
        "tinyblob",
        "blob",
        "mediumblob",
        "longblob",
        "json",
        "geometry",
        "point",
        "linestring",
        "polygon",
        "multipoint",
        "multilinestring",
        "multipolygon",
        "geometrycollection",
    ]
)


def normalize_type(column_type: str) -> str:
    """Normalised column type.

    Lower case (enum/set values keep their case); integer display widths are dropped
    (``int(11)`` -> ``int``, ``int(10) unsigned`` -> ``int unsigned``) as MySQL 8.0.19 does, with
    its two exceptions kept: ``tinyint(1)`` (the boolean convention ORMs and connectors rely on) and
    a width together with ``zerofill``, where the width changes what a client sees
    (https://dev.mysql.com/doc/relnotes/mysql/8.0/en/news-8-0-19.html). ``year(4)`` -> ``year``.
    """
    text = " ".join(column_type.strip().split())
    head = text.split("(", 1)[0].lower()
    # enum/set values keep their case; everything else is case-insensitive
    text = head + text[len(head) :] if head in ("enum", "set") else text.lower()
    m = _INT_TYPE.fullmatch(text)
    if m:
        name, width, rest = m.groups()
        if not ("zerofill" in rest or (name == "tinyint" and width == "1")):
            text = name + rest
    if text.startswith("year(4)"):
        text = "year" + text[7:]
    return text


def base_type(normalized: str) -> str:
    """``int unsigned`` -> ``int``, ``varchar(10)`` -> ``varchar``."""
    return normalized.split("(", 1)[0].split(" ", 1)[0]


def needs_expression_default(normalized_type: str) -> bool:
    """MySQL 8 accepts defaults on TEXT/BLOB/JSON/GEOMETRY only as ``DEFAULT (expr)``."""
    return base_type(normalized_type) in _TEXT_LIKE


# --- defaults -------------------------------------------------------------------------------

_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_NOW = re.compile(r"(?i)(?:current_timestamp|now|localtime|localtimestamp)(?:\((\d*)\))?")


def canonical_expression(text: str) -> str:
    """A default or generated expression: unwrapped, ``now()``/``current_timestamp()`` as
    ``CURRENT_TIMESTAMP`` (with a precision when it has one)."""
    expr = normalize_sql(text, unwrap=True)
    m = _NOW.fullmatch(expr)
    if m:
        precision = m.group(1)
        return (
            f"CURRENT_TIMESTAMP({precision})"
            if precision not in (None, "", "0")
            else ("CURRENT_TIMESTAMP")
        )
    return expr


def _literal(value: str, data_type: str) -> str:
    if data_type in NUMERIC_TYPES and _NUMBER.fullmatch(value.strip()):
        return value.strip()
    return quote_string(value)


def normalize_default(raw: str | None, *, extra: str, data_type: str, quoted: bool) -> str | None:
    """Canonical default: ``'abc'``, ``0``, ``b'101'``, ``CURRENT_TIMESTAMP(6)``, or an expression.

    ``quoted`` is MariaDB >= 10.2.7, whose ``COLUMN_DEFAULT`` is an SQL expression (strings quoted,
    ``NULL`` for no default: https://mariadb.com/kb/en/information-schema-columns-table/); MySQL
    prints literals bare and marks expression defaults with ``DEFAULT_GENERATED`` in ``EXTRA``
    (https://dev.mysql.com/doc/refman/8.0/en/information-schema-columns-table.html).
    None means no default (or DEFAULT NULL, which is the same).
    """
    if raw is None:
        return None
    data_type = data_type.lower()
    if _NUMBER.fullmatch(raw) and data_type in NUMERIC_TYPES:
        return raw  # both servers print numeric defaults bare
    if quoted:
        if raw == "NULL":
            return None
        if raw.startswith("'"):
            return _literal(parse_string(raw), data_type)
        return canonical_expression(raw)
    if "default_generated" in extra.lower():
        return canonical_expression(unescape_catalog(raw))
    if _NOW.fullmatch(raw) and data_type in ("timestamp", "datetime"):
        return canonical_expression(raw)  # MySQL 5.7 prints CURRENT_TIMESTAMP bare, no flag
    if data_type == "bit" and raw.startswith("b'"):
        return raw
    return _literal(raw, data_type)


def is_literal_default(default: str) -> bool:
    """Whether a canonical default can follow ``DEFAULT`` without parentheses."""
    return (
        default.startswith("'")
        or bool(_NUMBER.fullmatch(default))
        or default.startswith("b'")
        or default.startswith("CURRENT_TIMESTAMP")
        or default.upper() == "NULL"
    )
