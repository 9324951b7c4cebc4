"""Find, in a migration's own source, the statement that creates an object, and wrap it.

Guards are ready to paste: each locator returns the exact text of the creating statement
(``Located.text``, what the user replaces) and :func:`wrap` indents it under a condition, so the
snippet replaces that text in place. PHP is scanned (strings and comments skipped, brackets
counted); Python is read with :mod:`ast`. A locator returns None when it cannot tell which
statement it is; the caller then falls back to a template.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass

STEP = "    "


@dataclass(frozen=True, slots=True)
class Located:
    text: str
    """The statement exactly as in the file, from its first character (indentation excluded)."""
    line: int
    """1-based line of its first character."""
    end_line: int
    indent: str
    """The whitespace before it on its first line."""


def wrap(found: Located, head: str, tail: str = "", body_step: str = STEP) -> str:
    """``head``, the statement one level deeper, then ``tail``; replaces ``found.text`` in place."""
    lines = found.text.split("\n")
    body = "\n".join([found.indent + body_step + lines[0]] + [body_step + x for x in lines[1:]])
    out = f"{head}\n{body}"
    return f"{out}\n{found.indent}{tail}" if tail else out


def _located(text: str, start: int, end: int) -> Located:
    line_start = text.rfind("\n", 0, start) + 1
    indent = text[line_start:start]
    if indent.strip():
        indent = re.match(r"\s*", indent).group(0)  # type: ignore[union-attr]
    first = text.count("\n", 0, start) + 1
    return Located(text[start:end], first, first + text.count("\n", start, end), indent)


# --- PHP (Laravel) ---------------------------------------------------------------------------


def _php_events(text: str) -> list[tuple[int, str]]:
    """Positions of ``; { } ( ) [ ]`` outside strings and comments."""
    events: list[tuple[int, str]] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in "'\"":
            i += 1
            while i < n and text[i] != ch:
                i += 2 if text[i] == "\\" else 1
        elif ch == "#" or text.startswith("//", i):
            i = text.find("\n", i)
            i = n if i < 0 else i
        elif text.startswith("/*", i):
            i = text.find("*/", i + 2)
            i = n if i < 0 else i + 1
        elif ch in ";{}()[]":
            events.append((i, ch))
        i += 1
    return events


def _skip_blank(text: str, i: int) -> int:
    """Past whitespace and comments."""
    while i < len(text):
        if text[i].isspace():
            i += 1
        elif text[i] == "#" or text.startswith("//", i):
            nl = text.find("\n", i)
            i = len(text) if nl < 0 else nl + 1
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = len(text) if end < 0 else end + 2
        else:
            break
    return i


def _php_statement(text: str, events: list[tuple[int, str]], at: int) -> tuple[int, int] | None:
    """(start, end) of the statement containing offset ``at`` (end after its ``;``)."""
    before = [p for p, ch in events if p < at and ch in ";{}"]
    start = _skip_blank(text, before[-1] + 1 if before else 0)
    depth = 0
    for p, ch in events:
        if p < start:
            continue
        if ch in "({[":
            depth += 1
        elif ch in ")}]":
            depth -= 1
            if depth < 0:
                return None
        elif ch == ";" and depth == 0:
            return start, p + 1
    return None


def _php_up_body(text: str, events: list[tuple[int, str]]) -> tuple[int, int]:
    """Offsets of the ``up()`` method's body (the whole file when there is none)."""
    m = re.search(r"function\s+up\s*\(", text)
    if m is None:
        return 0, len(text)
    depth, begin = 0, None
    for p, ch in events:
        if p < m.end() or ch not in "{}":
            continue
        if ch == "{":
            depth += 1
            begin = p if begin is None else begin
        else:
            depth -= 1
            if depth == 0 and begin is not None:
                return begin, p
    return 0, len(text)


_SCHEMA_CALL = re.compile(
    r"Schema::(?:connection\([^)]*\)\s*->\s*)?(table|create)\(\s*['\"]([^'\"]+)['\"]"
)
_LARAVEL_INDEX_SUFFIX = ("_index", "_unique", "_foreign", "_primary", "_fulltext", "_spatialindex")


def laravel_statement(
    text: str, kind: str, table: str, name: str, line: int | None
) -> Located | None:
    """The ``$table->...;`` (or, for a table, ``Schema::create(...);``) statement in ``up()``."""
    events = _php_events(text)
    lo, hi = _php_up_body(text, events)
    if kind == "table":
        for m in _SCHEMA_CALL.finditer(text, lo, hi):
            if m.group(1) == "create" and m.group(2).lower() == table.lower():
                span = _php_statement(text, events, m.start())
                if span is not None:
                    return _located(text, *span)
        return None
    names = [name]
    low = name.lower()
    if kind != "column" and low.startswith(table.lower() + "_"):
        for suffix in _LARAVEL_INDEX_SUFFIX:
            if low.endswith(suffix):  # Laravel's own name: {table}_{columns}_{type}
                names.append(name[len(table) + 1 : -len(suffix)])
    for candidate in names:
        for m in re.finditer(rf"""['"]{re.escape(candidate)}['"]""", text[lo:hi]):
            at = lo + m.start()
            span = _php_statement(text, events, at)
            if span is None or not re.match(r"\$\w+\s*->", text[span[0] : span[1]]):
                continue
            stmt = text[span[0] : span[1]]
            if kind == "column" and not re.match(
                rf"""\$\w+\s*->\s*\w+\(\s*['"]{re.escape(name)}['"]""", stmt
            ):
                continue  # ->after('priority') names the column without creating it
            calls = list(_SCHEMA_CALL.finditer(text, lo, span[0]))
            if calls and calls[-1].group(2).lower() != table.lower():
                continue
            return _located(text, *span)
    if line is not None:
        offsets = [0] + [m.end() for m in re.finditer("\n", text)]
        if 0 < line <= len(offsets):
            at = _skip_blank(text, offsets[line - 1])
            span = _php_statement(text, events, at)
            if span is not None and text[span[0]] == "$":
                return _located(text, *span)
    return None


def php_string(value: str) -> str:
    """A PHP string literal: single-quoted unless the value holds a quote."""
    if "'" not in value:
        return "'" + value.replace("\\", "\\\\") + "'"
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$")
    return f'"{escaped}"'


# --- Python (Alembic, Django) ----------------------------------------------------------------


def _strings(node: ast.AST) -> set[str]:
    return {n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)}  # fmt: skip


def _simple_statements(body: list[ast.stmt], context: tuple[str, ...] = ()) -> Iterator[tuple[ast.stmt, tuple[str, ...]]]:  # fmt: skip
    """Statements in ``body`` and nested blocks, each with the strings of its enclosing ``with``s."""
    for stmt in body:
        if isinstance(stmt, (ast.With, ast.If, ast.For, ast.Try)):
            extra = tuple(s for item in getattr(stmt, "items", ()) for s in _strings(item))
            for block in ("body", "orelse", "finalbody"):
                yield from _simple_statements(getattr(stmt, block, []) or [], context + extra)
        else:
            yield stmt, context


def _node_text(text: str, node: ast.AST) -> Located | None:
    lines = text.split("\n")
    first, last = getattr(node, "lineno", 0), getattr(node, "end_lineno", None)
    col, end_col = getattr(node, "col_offset", 0), getattr(node, "end_col_offset", None)
    if not first or last is None or end_col is None:
        return None
    starts = [0]
    for x in lines:
        starts.append(starts[-1] + len(x.encode("utf-8")) + 1)
    raw = text.encode("utf-8")
    start, end = starts[first - 1] + col, starts[last - 1] + end_col
    head = raw[:start].decode("utf-8")
    return _located(text, len(head), len(head) + len(raw[start:end].decode("utf-8")))


def alembic_statement(text: str, kind: str, table: str, name: str) -> Located | None:
    """The ``op.add_column(...)`` / ``op.create_table(...)`` / ``batch_op...`` statement in
    ``upgrade()`` that creates the object."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return None
    up = next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "upgrade"), None)  # fmt: skip
    if up is None:
        return None
    for stmt, context in _simple_statements(up.body):
        calls = [n for n in ast.walk(stmt) if isinstance(n, ast.Call)]
        first = calls[0] if calls else None
        func = (
            first.func.attr if first is not None and isinstance(first.func, ast.Attribute) else ""
        )
        strings = _strings(stmt) | set(context)
        if kind == "table":
            args = first.args if first is not None else []
            arg0 = args[0].value if args and isinstance(args[0], ast.Constant) else None
            if func == "create_table" and arg0 == table:
                return _node_text(text, stmt)
        elif name in strings and table in strings and not func.startswith(("drop", "alter")):
            return _node_text(text, stmt)
    return None


def django_operation(text: str, kind: str, name: str, model_names: set[str]) -> Located | None:
    """The element of ``operations = [...]`` that creates the object (``AddField(..., name)``,
    ``CreateModel(name=...)``, ``AddIndex``...)."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return None
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Assign) and isinstance(node.value, (ast.List, ast.Tuple))):
            continue
        if not any(isinstance(t, ast.Name) and t.id == "operations" for t in node.targets):
            continue
        for element in node.value.elts:
            if not isinstance(element, ast.Call):
                continue
            op = element.func.attr if isinstance(element.func, ast.Attribute) else getattr(element.func, "id", "")  # fmt: skip
            strings = {s.lower() for s in _strings(element)}
            if kind == "table" and op == "CreateModel" and strings & model_names:
                return _node_text(text, element)
            field = name.lower()
            fields = {field, field.removesuffix("_id")}  # a ForeignKey's column is <field>_id
            if kind == "column" and op in ("AddField", "RenameField") and strings & fields:
                return _node_text(text, element)
            if kind not in ("table", "column") and name.lower() in strings:
                return _node_text(text, element)
    return None
