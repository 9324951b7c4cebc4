"""Reading the CREATE statements SQLite keeps in ``sqlite_schema.sql``.

SQLite stores DDL as written; facts the ``pragma_*`` functions do not return (CHECK constraints,
generated-column expressions, AUTOINCREMENT, COLLATE, constraint names, trigger bodies) are read
from that text. sqlglot is not used here: it rejects valid SQLite DDL such as
``UNIQUE ON CONFLICT REPLACE`` and cannot read CREATE TRIGGER, so a small tokenizer that follows
https://www.sqlite.org/lang_createtable.html does the splitting, and :func:`canon` gives every
expression one spelling (keywords upper case, function names lower case, one space between
tokens, safe identifiers unquoted) so that cosmetic differences vanish.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import NamedTuple

_TOKEN = re.compile(
    r"""
     (?P<ws>\s+|--[^\n]*(?:\n|$)|/\*.*?(?:\*/|$))
    |(?P<blob>[xX]'[0-9a-fA-F]*')
    |(?P<str>'(?:[^']|'')*')
    |(?P<qid>"(?:[^"]|"")*"|`(?:[^`]|``)*`|\[[^\]]*\])
    |(?P<num>0[xX][0-9a-fA-F]+|(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)
    |(?P<word>[^\W\d][\w$]*)
    |(?P<op>\|\||<<|>>|<=|>=|==|!=|<>|->>|->|.)
    """,
    re.S | re.X,
)

# https://www.sqlite.org/lang_keywords.html
KEYWORDS = frozenset(
    """ABORT ACTION ADD AFTER ALL ALTER ALWAYS ANALYZE AND AS ASC ATTACH AUTOINCREMENT BEFORE BEGIN
    BETWEEN BY CASCADE CASE CAST CHECK COLLATE COLUMN COMMIT CONFLICT CONSTRAINT CREATE CROSS
    CURRENT CURRENT_DATE CURRENT_TIME CURRENT_TIMESTAMP DATABASE DEFAULT DEFERRABLE DEFERRED
    DELETE DESC DETACH DISTINCT DO DROP EACH ELSE END ESCAPE EXCEPT EXCLUDE EXCLUSIVE EXISTS
    EXPLAIN FAIL FILTER FIRST FOLLOWING FOR FOREIGN FROM FULL GENERATED GLOB GROUP GROUPS HAVING
    IF IGNORE IMMEDIATE IN INDEX INDEXED INITIALLY INNER INSERT INSTEAD INTERSECT INTO IS ISNULL
    JOIN KEY LAST LEFT LIKE LIMIT MATCH MATERIALIZED NATURAL NO NOT NOTHING NOTNULL NULL NULLS OF
    OFFSET ON OR ORDER OTHERS OUTER OVER PARTITION PLAN PRAGMA PRECEDING PRIMARY QUERY RAISE
    RANGE RECURSIVE REFERENCES REGEXP REINDEX RELEASE RENAME REPLACE RESTRICT RETURNING RIGHT
    ROLLBACK ROW ROWS SAVEPOINT SELECT SET TABLE TEMP TEMPORARY THEN TIES TO TRANSACTION TRIGGER
    UNBOUNDED UNION UNIQUE UPDATE USING VACUUM VALUES VIEW VIRTUAL WHEN WHERE WINDOW WITH WITHOUT
    TRUE FALSE STORED STRICT ROWID""".split()  # noqa: SIM905 - a list as the docs print it
)
_SIMPLE_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
LITERAL_KEYWORDS = frozenset(
    {"NULL", "TRUE", "FALSE", "CURRENT_TIME", "CURRENT_DATE", "CURRENT_TIMESTAMP"}
)


class Tok(NamedTuple):
    kind: str
    """ws, blob, str, qid, num, word, op."""
    text: str

    @property
    def upper(self) -> str:
        return self.text.upper() if self.kind == "word" else self.text

    def is_kw(self, *words: str) -> bool:
        return self.kind == "word" and self.text.upper() in words


def tokenize(sql: str) -> list[Tok]:
    """All tokens, whitespace and comments included (kind ``ws``); any other character is ``op``."""
    return [Tok(m.lastgroup or "op", m.group()) for m in _TOKEN.finditer(sql)]


def significant(sql: str) -> list[Tok]:
    """Tokens without whitespace and comments."""
    return [Tok(k, m.group()) for m in _TOKEN.finditer(sql) if (k := m.lastgroup or "op") != "ws"]


def ident(tok: Tok) -> str:
    """The name an identifier token stands for (quotes removed)."""
    text = tok.text
    if tok.kind == "qid":
        inner = text[1:-1]
        if text[0] == '"':
            return inner.replace('""', '"')
        if text[0] == "`":
            return inner.replace("``", "`")
        return inner
    if tok.kind == "str":
        return text[1:-1].replace("''", "'")
    return text


def _unary(prev: Tok | None) -> bool:
    return (
        prev is None
        or (prev.kind == "op" and prev.text != ")")
        or (prev.kind == "word" and prev.text.upper() in KEYWORDS - LITERAL_KEYWORDS)
    )


def canon(tokens: list[Tok], *, unquote: bool = True) -> str:
    """One spelling of an expression: see the module docstring. ``tokens`` are significant."""
    parts: list[str] = []
    prev: Tok | None = None
    glue = False  # no space before the next token
    for i, tok in enumerate(tokens):
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        text = tok.text
        if tok.kind == "word":
            up = text.upper()
            if up in KEYWORDS:
                text = up
            elif nxt is not None and nxt.text == "(":
                text = text.lower()
        elif tok.kind == "qid":
            name = ident(tok)
            if unquote and _SIMPLE_ID.match(name) and name.upper() not in KEYWORDS:
                text = name
            else:
                text = '"' + name.replace('"', '""') + '"'
        elif tok.kind == "blob":
            text = text.upper()
        space = bool(parts) and not glue and tok.text not in (")", ",", ".", ";")
        if tok.text == "(" and prev is not None and prev.kind in ("word", "qid"):
            space = prev.kind == "word" and prev.text.upper() in KEYWORDS
        if space:
            parts.append(" ")
        parts.append(text)
        glue = tok.text in ("(", ".") or (tok.text in ("-", "+", "~") and _unary(prev))
        prev = tok
    return "".join(parts)


def canon_sql(sql: str, *, unquote: bool = True) -> str:
    return canon(significant(sql), unquote=unquote)


def strip_parens(tokens: list[Tok]) -> list[Tok]:
    """Remove outer parentheses that enclose the whole expression: ``((1))`` -> ``1``."""
    while len(tokens) >= 2 and tokens[0].text == "(" and _close(tokens, 0) == len(tokens) - 1:
        tokens = tokens[1:-1]
    return tokens


def _close(tokens: list[Tok], start: int) -> int:
    """Index of the parenthesis closing the one at ``start``."""
    depth = 0
    for i in range(start, len(tokens)):
        if tokens[i].text == "(":
            depth += 1
        elif tokens[i].text == ")":
            depth -= 1
            if depth == 0:
                return i
    return len(tokens) - 1


def split_top(tokens: list[Tok], sep: str = ",") -> list[list[Tok]]:
    """Split at ``sep`` outside parentheses."""
    parts: list[list[Tok]] = [[]]
    depth = 0
    for tok in tokens:
        if tok.text == "(":
            depth += 1
        elif tok.text == ")":
            depth -= 1
        if depth == 0 and tok.text == sep and tok.kind == "op":
            parts.append([])
        else:
            parts[-1].append(tok)
    return [p for p in parts if p]


def normalize_default(text: str | None) -> str | None:
    """``(datetime('now'))`` -> ``datetime('now')``, ``current_timestamp`` -> ``CURRENT_TIMESTAMP``."""
    if text is None:
        return None
    tokens = strip_parens(significant(text))
    if not tokens or (len(tokens) == 1 and tokens[0].is_kw("NULL")):
        return None
    return canon(tokens, unquote=False)


def is_literal(expr: str) -> bool:
    """Whether a canonical default can be written without parentheses (a constant)."""
    tokens = significant(expr)
    if tokens and tokens[0].text in ("-", "+") and len(tokens) == 2:
        tokens = tokens[1:]
    if len(tokens) != 1:
        return False
    tok = tokens[0]
    return tok.kind in ("str", "num", "blob") or tok.is_kw(*LITERAL_KEYWORDS)


def is_constant(expr: str) -> bool:
    """A default ALTER TABLE ADD COLUMN accepts: a literal, not CURRENT_* (lang_altertable.html)."""
    return is_literal(expr) and expr.upper() not in (
        "CURRENT_TIME",
        "CURRENT_DATE",
        "CURRENT_TIMESTAMP",
    )


def mentions(expr: str, column: str) -> bool:
    """Whether an expression refers to ``column`` (any identifier token with that name)."""
    low = column.lower()
    return any(t.kind in ("word", "qid") and ident(t).lower() == low for t in significant(expr))


# --- CREATE TABLE -----------------------------------------------------------------------------


@dataclass(slots=True)
class ColumnDef:
    name: str
    collation: str | None = None
    generated: str | None = None
    stored: bool = False
    autoincrement: bool = False


@dataclass(slots=True)
class KeyDef:
    """A named-or-not constraint over columns (UNIQUE, FOREIGN KEY, PRIMARY KEY)."""

    name: str | None
    columns: tuple[str, ...]
    options: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class CheckDef:
    name: str | None
    expression: str
    column: str | None = None


@dataclass(slots=True)
class TableDef:
    columns: dict[str, ColumnDef] = field(default_factory=dict)
    """Keyed by lower-case name (SQLite names are case-insensitive)."""
    primary_key: KeyDef | None = None
    uniques: list[KeyDef] = field(default_factory=list)
    foreign_keys: list[KeyDef] = field(default_factory=list)
    checks: list[CheckDef] = field(default_factory=list)
    options: tuple[str, ...] = ()
    """Table options after the closing parenthesis, upper case: ``WITHOUT ROWID``, ``STRICT``."""


_COLUMN_STARTS = frozenset(
    {"CONSTRAINT", "PRIMARY", "NOT", "NULL", "UNIQUE", "CHECK", "DEFAULT", "COLLATE"}
    | {"REFERENCES", "GENERATED", "AS"}
)


def parse_create_table(sql: str) -> TableDef:
    """Constraint names, CHECKs, generated columns and options of a CREATE TABLE statement."""
    tokens = significant(sql)
    result = TableDef()
    try:
        open_at = next(i for i, t in enumerate(tokens) if t.text == "(")
    except StopIteration:  # CREATE TABLE ... AS SELECT
        return result
    close_at = _close(tokens, open_at)
    tail = tokens[close_at + 1 :]
    result.options = tuple(" ".join(t.upper for t in part) for part in split_top(tail))
    for item in split_top(tokens[open_at + 1 : close_at]):
        if item[0].is_kw("CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN"):
            _table_constraint(item, result)
        else:
            _column_def(item, result)
    return result


def _names_in_parens(tokens: list[Tok], start: int) -> tuple[tuple[str, ...], int]:
    """Column names of ``( a [COLLATE x] [ASC], b ... )`` at ``start``; index after it."""
    end = _close(tokens, start)
    names = tuple(ident(part[0]) for part in split_top(tokens[start + 1 : end]))
    return names, end + 1


def _conflict(tokens: list[Tok], i: int, options: dict[str, str]) -> int:
    if i + 2 < len(tokens) and tokens[i].is_kw("ON") and tokens[i + 1].is_kw("CONFLICT"):
        options["on_conflict"] = tokens[i + 2].upper
        return i + 3
    return i


def _references(tokens: list[Tok], i: int, options: dict[str, str]) -> int:
    """Skip a foreign-key clause after REFERENCES; keep DEFERRABLE in ``options``."""
    i += 2  # REFERENCES table
    if i < len(tokens) and tokens[i].text == "(":
        i = _close(tokens, i) + 1
    while i < len(tokens):
        tok = tokens[i]
        nxt = tokens[i + 1] if i + 1 < len(tokens) else Tok("op", "")
        if tok.is_kw("ON") and nxt.is_kw("DELETE", "UPDATE"):
            i += 4 if i + 2 < len(tokens) and tokens[i + 2].is_kw("SET", "NO") else 3
        elif tok.is_kw("MATCH"):
            i += 2
        elif tok.is_kw("DEFERRABLE") or (tok.is_kw("NOT") and nxt.is_kw("DEFERRABLE")):
            words: list[str] = []
            while i < len(tokens) and tokens[i].is_kw(
                "NOT", "DEFERRABLE", "INITIALLY", "DEFERRED", "IMMEDIATE"
            ):
                if tokens[i].is_kw("NOT") and words:
                    break
                words.append(tokens[i].upper)
                i += 1
            text = " ".join(words)
            if text == "DEFERRABLE INITIALLY DEFERRED":
                options["deferrable"] = text
        else:
            break
    return i


def _table_constraint(item: list[Tok], result: TableDef) -> None:
    name: str | None = None
    i = 0
    if item[0].is_kw("CONSTRAINT"):
        name = ident(item[1])
        i = 2
    head = item[i]
    options: dict[str, str] = {}
    if head.is_kw("PRIMARY"):
        cols, j = _names_in_parens(item, i + 2)
        _conflict(item, j, options)
        result.primary_key = KeyDef(name, cols, options)
    elif head.is_kw("UNIQUE"):
        cols, j = _names_in_parens(item, i + 1)
        _conflict(item, j, options)
        result.uniques.append(KeyDef(name, cols, options))
    elif head.is_kw("CHECK"):
        end = _close(item, i + 1)
        result.checks.append(CheckDef(name, canon(strip_parens(item[i + 2 : end]))))
    elif head.is_kw("FOREIGN"):
        cols, j = _names_in_parens(item, i + 2)
        _references(item, j, options)
        result.foreign_keys.append(KeyDef(name, cols, options))


def _column_def(item: list[Tok], result: TableDef) -> None:
    col = ColumnDef(ident(item[0]))
    result.columns[col.name.lower()] = col
    i = 1
    while i < len(item) and item[i].upper not in _COLUMN_STARTS:
        i += 1  # the declared type
    name: str | None = None
    while i < len(item):
        tok = item[i]
        options: dict[str, str] = {}
        if tok.is_kw("CONSTRAINT"):
            name = ident(item[i + 1])
            i += 2
            continue
        if tok.is_kw("PRIMARY"):
            i += 2
            if i < len(item) and item[i].is_kw("ASC", "DESC"):
                i += 1
            i = _conflict(item, i, options)
            if i < len(item) and item[i].is_kw("AUTOINCREMENT"):
                col.autoincrement = True
                i += 1
            result.primary_key = KeyDef(name, (col.name,), options)
        elif tok.is_kw("NOT"):
            i = _conflict(item, i + 2, options)
        elif tok.is_kw("NULL"):
            i = _conflict(item, i + 1, options)
        elif tok.is_kw("UNIQUE"):
            i = _conflict(item, i + 1, options)
            result.uniques.append(KeyDef(name, (col.name,), options))
        elif tok.is_kw("CHECK"):
            end = _close(item, i + 1)
            expr = canon(strip_parens(item[i + 2 : end]))
            result.checks.append(CheckDef(name, expr, col.name))
            i = end + 1
        elif tok.is_kw("DEFAULT"):
            i += 1
            if item[i].text in ("-", "+"):
                i += 1
            i = _close(item, i) + 1 if item[i].text == "(" else i + 1
        elif tok.is_kw("COLLATE"):
            col.collation = ident(item[i + 1]).upper()
            i += 2
        elif tok.is_kw("REFERENCES"):
            i = _references(item, i, options)
            result.foreign_keys.append(KeyDef(name, (col.name,), options))
        elif tok.is_kw("GENERATED", "AS"):
            while item[i].text != "(":
                i += 1
            end = _close(item, i)
            col.generated = canon(strip_parens(item[i + 1 : end]))
            i = end + 1
            if i < len(item) and item[i].is_kw("STORED", "VIRTUAL"):
                col.stored = item[i].is_kw("STORED")
                i += 1
        else:
            i += 1
        name = None


# --- CREATE INDEX / VIEW / TRIGGER ------------------------------------------------------------


@dataclass(slots=True)
class IndexDef:
    items: list[str]
    """Each indexed term in canonical spelling, without COLLATE/ASC/DESC."""
    expression: list[bool]
    where: str | None


def parse_create_index(sql: str) -> IndexDef:
    tokens = significant(sql)
    open_at = next(i for i, t in enumerate(tokens) if t.text == "(")
    close_at = _close(tokens, open_at)
    items: list[str] = []
    expression: list[bool] = []
    for part in split_top(tokens[open_at + 1 : close_at]):
        while part and part[-1].is_kw("ASC", "DESC"):
            part = part[:-1]
        if len(part) >= 2 and part[-2].is_kw("COLLATE"):
            part = part[:-2]
        is_expr = not (len(part) == 1 and part[0].kind in ("word", "qid", "str"))
        expression.append(is_expr)
        items.append(canon(strip_parens(part)) if is_expr else ident(part[0]))
    rest = tokens[close_at + 1 :]
    where = canon(rest[1:]) if rest and rest[0].is_kw("WHERE") else None
    return IndexDef(items, expression, where)


def parse_create_view(sql: str) -> tuple[str, str | None]:
    """(definition, column list or None) of a CREATE VIEW statement."""
    tokens = significant(sql)
    i = next(i for i, t in enumerate(tokens) if t.is_kw("VIEW")) + 1
    if tokens[i].is_kw("IF"):
        i += 3
    i += 1  # name
    if i < len(tokens) and tokens[i].text == ".":
        i += 2
    columns = None
    if tokens[i].text == "(":
        end = _close(tokens, i)
        columns = canon(tokens[i + 1 : end])
        i = end + 1
    return canon(tokens[i + 1 :]), columns


@dataclass(slots=True)
class TriggerDef:
    timing: str
    event: str
    of_columns: str | None
    when: str | None
    body: str


def parse_create_trigger(sql: str) -> TriggerDef:
    tokens = significant(sql)
    i = next(i for i, t in enumerate(tokens) if t.is_kw("TRIGGER")) + 1
    if tokens[i].is_kw("IF"):
        i += 3
    i += 1
    if i < len(tokens) and tokens[i].text == ".":
        i += 2
    timing = "BEFORE"
    if tokens[i].is_kw("BEFORE", "AFTER"):
        timing = tokens[i].upper
        i += 1
    elif tokens[i].is_kw("INSTEAD"):
        timing = "INSTEAD OF"
        i += 2
    event = tokens[i].upper
    i += 1
    of_columns = None
    if tokens[i].is_kw("OF"):
        j = next(j for j in range(i, len(tokens)) if tokens[j].is_kw("ON"))
        of_columns = canon(tokens[i + 1 : j])
        i = j
    begin = next(j for j in range(i, len(tokens)) if tokens[j].is_kw("BEGIN"))
    head = tokens[i:begin]
    when = None
    for j, tok in enumerate(head):
        if tok.is_kw("WHEN"):
            when = canon(head[j + 1 :])
            break
    body = tokens[begin + 1 : -1] if tokens[-1].is_kw("END") else tokens[begin + 1 :]
    return TriggerDef(timing, event, of_columns, when, canon(body))


def normalize_type(declared: str) -> str:
    """``VARCHAR ( 255 )`` -> ``varchar(255)``, ``DECIMAL(8, 2)`` -> ``decimal(8,2)``."""
    text = " ".join(declared.lower().split())
    return re.sub(r"\s*([(),])\s*", r"\1", text)
