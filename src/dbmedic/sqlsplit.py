"""Split a migration script into statements, keeping each statement's original text.

The boundaries come from a dialect-aware lexer, not from sqlglot's parser: sqlglot parses a
``CREATE TRIGGER ... BEGIN ...; ...; END`` body as several statements (it falls back to a
``Command`` at the first inner semicolon), and it knows nothing of the MySQL client's
``DELIMITER`` directive. The lexer knows what matters for boundaries and nothing more:

- quotes: ``'...'`` (``''``; backslash escapes on MySQL and in PostgreSQL ``E'...'``),
  ``"..."``, MySQL/SQLite backticks, SQLite ``[...]``, PostgreSQL dollar quotes ``$tag$...$tag$``;
- comments: ``--`` (MySQL: only when followed by a space, as the server reads it), MySQL ``#``,
  ``/* ... */`` (nested on PostgreSQL);
- compound bodies of ``CREATE TRIGGER/PROCEDURE/FUNCTION/EVENT``: ``BEGIN``/``CASE`` open a block,
  ``END`` closes one (``END IF/LOOP/WHILE/REPEAT/FOR`` close nothing that was counted);
- MySQL's ``DELIMITER //`` lines (https://dev.mysql.com/doc/refman/8.0/en/stored-programs-defining.html).

sqlglot then reads each statement (``read=`` the dialect) only to describe it; what runs is always
the original text, never sqlglot's regenerated SQL.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from dbmedic.errors import MigrationError


@dataclass(frozen=True, slots=True)
class Statement:
    """One statement of a migration, as written in the file."""

    text: str
    line: int
    """1-based line in the file where the statement starts."""

    @property
    def sha(self) -> str:
        """SHA-256 of the statement text: the journal compares it to detect an edited file."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


_ROUTINE = re.compile(
    r"\s*CREATE\s+(?:OR\s+REPLACE\s+)?(?:DEFINER\s*=\s*\S+\s+)?(?:TEMP(?:ORARY)?\s+)?"
    r"(?:AGGREGATE\s+)?(?:TRIGGER|PROCEDURE|FUNCTION|EVENT)\b",
    re.IGNORECASE,
)
_DELIMITER = re.compile(r"DELIMITER[ \t]+(\S+)[^\n]*(?:\n|$)", re.IGNORECASE)
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")
_DOLLAR_TAG = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$")
_NOT_COUNTED_AFTER_END = {"IF", "LOOP", "WHILE", "REPEAT", "FOR"}


@dataclass(frozen=True, slots=True)
class _Rules:
    backslash: bool
    hash_comment: bool
    strict_dash_comment: bool
    backtick: bool
    brackets: bool
    dollar: bool
    nested_comments: bool
    delimiter_directive: bool


_RULES = {
    "mysql": _Rules(True, True, True, True, False, False, False, True),
    "postgresql": _Rules(False, False, False, False, False, True, True, False),
    "sqlite": _Rules(False, False, False, True, True, False, False, False),
}


def split_statements(
    script: str, family: str, *, file: str | None = None, first_line: int = 1
) -> list[Statement]:
    """Split ``script`` into statements for a dialect family (``mysql``, ``postgresql``, ``sqlite``).

    Pure. Empty and comment-only pieces are dropped. Raises MigrationError naming ``file`` and
    the line of an unterminated quote, comment or ``BEGIN`` block.
    """
    return _Splitter(script, _RULES.get(family, _RULES["sqlite"]), file, first_line).run()


class _Splitter:
    def __init__(self, text: str, rules: _Rules, file: str | None, first_line: int) -> None:
        self.s = text
        self.r = rules
        self.file = file
        self.first_line = first_line
        self.out: list[Statement] = []

    def line_at(self, pos: int) -> int:
        return self.first_line + self.s.count("\n", 0, pos)

    def fail(self, what: str, pos: int) -> MigrationError:
        line = self.line_at(pos)
        where = f"{self.file}:{line}" if self.file else f"line {line}"
        return MigrationError(
            f"{where}: {what}", file=self.file, line=line, hint="check the migration's SQL"
        )

    def run(self) -> list[Statement]:
        s, r, n = self.s, self.r, len(self.s)
        delimiter = ";"
        code_at = -1  # position of the first code character of the current statement
        depth = 0
        routine: bool | None = None
        after_end = False
        block_opened_at: list[int] = []
        i = 0
        while i < n:
            c = s[i]
            # The MySQL client's DELIMITER directive: a line of its own, between statements.
            if (
                r.delimiter_directive
                and code_at < 0
                and c in "dD"
                and (i == 0 or s[i - 1] == "\n" or s[:i].rsplit("\n", 1)[-1].strip() == "")
            ):
                m = _DELIMITER.match(s, i)
                if m:
                    delimiter = m.group(1)
                    i = m.end()
                    continue
            if c.isspace():
                i += 1
                continue
            # comments
            if c == "-" and s.startswith("--", i) and self._dash_comment(i):
                j = s.find("\n", i)
                i = n if j < 0 else j + 1
                continue
            if c == "#" and r.hash_comment:
                j = s.find("\n", i)
                i = n if j < 0 else j + 1
                continue
            if c == "/" and s.startswith("/*", i):
                if r.hash_comment and (s.startswith("/*!", i) or s.startswith("/*M!", i)):
                    # MySQL/MariaDB executable comment: code for the server
                    code_at = i if code_at < 0 else code_at
                i = self._block_comment(i)
                continue
            # the statement's delimiter
            if delimiter != ";" and s.startswith(delimiter, i):
                self._emit(code_at, i)
                i += len(delimiter)
                code_at, depth, routine, after_end = -1, 0, None, False
                block_opened_at = []
                continue
            if c == ";" and delimiter == ";" and depth == 0:
                self._emit(code_at, i)
                i += 1
                code_at, depth, routine, after_end = -1, 0, None, False
                block_opened_at = []
                continue
            if code_at < 0:
                code_at = i
            # quoted text
            if c == "'":
                escapes = r.backslash or (
                    r.dollar and i > 0 and s[i - 1] in "eE" and not _ident_char(s, i - 2)
                )
                i = self._quoted(i, "'", escapes, "string")
                after_end = False
                continue
            if c == '"':
                i = self._quoted(i, '"', r.backslash, "quoted name")
                after_end = False
                continue
            if c == "`" and r.backtick:
                i = self._quoted(i, "`", False, "quoted name")
                after_end = False
                continue
            if c == "[" and r.brackets:
                j = s.find("]", i + 1)
                if j < 0:
                    raise self.fail("unterminated [quoted name]", i)
                i = j + 1
                continue
            if c == "$" and r.dollar and not _ident_char(s, i - 1):
                m = _DOLLAR_TAG.match(s, i)
                if m:
                    j = s.find(m.group(0), m.end())
                    if j < 0:
                        raise self.fail(f"unterminated dollar-quoted string {m.group(0)}", i)
                    i = j + len(m.group(0))
                    continue
            m = _WORD.match(s, i)
            if m and delimiter != ";" and delimiter in m.group(0):
                # `END$$` with DELIMITER $$: `$` may be part of a MySQL name, not of the delimiter
                m = _WORD.match(s[: i + m.group(0).index(delimiter)], i)
            if m:
                word = m.group(0).upper()
                if delimiter == ";" and word in ("BEGIN", "CASE", "END"):
                    if routine is None:
                        routine = bool(_ROUTINE.match(s, code_at))
                    if routine:
                        if after_end:
                            after_end = False
                            if word == "CASE":  # END CASE closes the CASE block
                                i = m.end()
                                continue
                        if word in ("BEGIN", "CASE"):
                            depth += 1
                            block_opened_at.append(i)
                        else:
                            depth = max(depth - 1, 0)
                            if block_opened_at:
                                block_opened_at.pop()
                            after_end = True
                        i = m.end()
                        continue
                if after_end:
                    after_end = False
                    if word in _NOT_COUNTED_AFTER_END and routine:
                        # END IF / END LOOP: that END closed nothing we counted
                        depth += 1
                        block_opened_at.append(i)
                i = m.end()
                continue
            after_end = False
            i += 1
        if depth > 0 and block_opened_at:
            raise self.fail("BEGIN block has no matching END", block_opened_at[0])
        self._emit(code_at, n)
        return self.out

    def _dash_comment(self, i: int) -> bool:
        if not self.r.strict_dash_comment:
            return True
        nxt = self.s[i + 2 : i + 3]
        return nxt == "" or nxt.isspace()

    def _block_comment(self, i: int) -> int:
        s = self.s
        depth, j = 1, i + 2
        while depth:
            end = s.find("*/", j)
            if end < 0:
                raise self.fail("unterminated /* comment", i)
            if self.r.nested_comments:
                opened = s.find("/*", j, end)
                if opened >= 0:
                    depth += 1
                    j = opened + 2
                    continue
            depth -= 1
            j = end + 2
        return j

    def _quoted(self, i: int, quote: str, backslash: bool, what: str) -> int:
        s, j = self.s, i + 1
        n = len(s)
        while j < n:
            ch = s[j]
            if backslash and ch == "\\":
                j += 2
                continue
            if ch == quote:
                if s.startswith(quote, j + 1):  # doubled quote
                    j += 2
                    continue
                return j + 1
            j += 1
        raise self.fail(f"unterminated {what} starting with {quote}", i)

    def _emit(self, code_at: int, end: int) -> None:
        if code_at < 0:
            return
        text = self.s[code_at:end].strip()
        if text:
            self.out.append(Statement(text, self.line_at(code_at)))


def _ident_char(s: str, i: int) -> bool:
    return 0 <= i < len(s) and (s[i].isalnum() or s[i] in "_$")


def describe(statement: Statement, sqlglot_dialect: str) -> str:
    """A short description of a statement (``CREATE TABLE users``) via sqlglot, for progress lines.

    Falls back to the statement's first words when sqlglot cannot parse it; never used to execute.
    """
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import SqlglotError

    head = " ".join(statement.text.split()[:3])
    try:
        tree = sqlglot.parse_one(statement.text, read=sqlglot_dialect or None)
    except SqlglotError:
        return head
    if isinstance(tree, exp.Command) or tree is None:
        return head
    table = tree.find(exp.Table)
    kind = tree.key.upper()
    if isinstance(tree, exp.Create | exp.Alter | exp.Drop):
        kind = f"{kind} {tree.args.get('kind') or ''}".strip()
    return f"{kind} {table.name}" if table is not None else kind
