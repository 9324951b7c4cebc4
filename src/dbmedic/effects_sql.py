"""Reading migration SQL: statement splitting with line numbers, and the per-family rules that
statement effects need (sqlglot dialect names, identifier folding, the names servers give to
unnamed keys, which keys imply which others).

The rules are data in one registry keyed by family, the only place effects and the simulation
look at the dialect. They belong with the dialect classes eventually; they are here until the
dialect packages grow the matching narrow methods.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dbmedic.normalize import family_of


@dataclass(frozen=True, slots=True)
class Statement:
    sql: str
    line: int
    """1-based line of the statement's first significant character in its script."""


def _suffix(base: str, taken: set[str], start: int = 2, sep: str = "_") -> str:
    if base not in taken:
        return base
    n = start
    while f"{base}{sep}{n}" in taken:
        n += 1
    return f"{base}{sep}{n}"


@dataclass(frozen=True)
class Rules:
    family: str
    read: str
    """sqlglot ``read=`` dialect."""
    generate: str
    """sqlglot dialect used to print a column type before normalising it."""
    fold_unquoted: Callable[[str], str]
    pk_implies_not_null: bool
    """MySQL and PostgreSQL make primary key columns NOT NULL; SQLite does not."""
    unique_index_is_constraint: bool
    """MySQL/MariaDB: every unique index is a unique constraint (model.UniqueConstraint)."""
    fk_auto_index: bool
    """InnoDB creates an index named after a foreign key when no index starts with its columns
    (https://dev.mysql.com/doc/refman/8.0/en/create-table-foreign-keys.html)."""
    fk_checked_at_create: bool
    """SQLite does not check the parent of a foreign key when the table is created."""
    names_case_insensitive: bool
    """Column and index names compare without case (MySQL, SQLite)."""
    pk_name: Callable[[str], str | None]
    unique_name: Callable[[str, tuple[str, ...], set[str]], str]
    index_name: Callable[[str, tuple[str, ...], set[str]], str]
    fk_name: Callable[[str, tuple[str, ...], set[str]], str]
    check_name: Callable[[str, tuple[str, ...] | None, set[str]], str]

    def name(self, node: Any) -> str:
        """The name of a sqlglot Identifier (folded when unquoted, as the server does)."""
        text = str(node.this) if hasattr(node, "this") else str(node)
        if getattr(node, "args", {}).get("quoted"):
            return text
        return self.fold_unquoted(text)

    def ident(self, raw: str) -> str:
        """An identifier as written in SQL text: quotes removed, schema prefix dropped, folded."""
        part = re.split(r"\.(?=(?:[^\"`]*[\"`][^\"`]*[\"`])*[^\"`]*$)", raw.strip())[-1]
        if len(part) >= 2 and part[0] in '`"[' and part[-1] in '`"]':
            return part[1:-1]
        return self.fold_unquoted(part)

    def sql(self, node: Any) -> str:
        """``node`` printed in the read dialect (a cached generator: 5x faster than ``.sql()``)."""
        return str(_generator(self.read).generate(node, copy=False))

    def type_sql(self, node: Any) -> str:
        """A column type printed for :func:`dbmedic.normalize.normalize_type`."""
        return str(_generator(self.generate).generate(node, copy=False))

    def key(self, name: str) -> str:
        """Lookup key of a column or index name."""
        return name.lower() if self.names_case_insensitive else name


_GENERATORS: dict[str, Any] = {}


def _generator(dialect: str) -> Any:
    gen = _GENERATORS.get(dialect)
    if gen is None:
        from sqlglot.dialects.dialect import Dialect

        gen = _GENERATORS[dialect] = Dialect.get_or_raise(dialect or None).generator()
    return gen


def _mysql_fk_name(table: str, cols: tuple[str, ...], taken: set[str]) -> str:
    n = 1
    while f"{table}_ibfk_{n}" in taken:
        n += 1
    return f"{table}_ibfk_{n}"


def _mysql_check_name(table: str, cols: tuple[str, ...] | None, taken: set[str]) -> str:
    if cols:  # MariaDB names a column-level check after its column
        return cols[0]
    n = 1
    while f"CONSTRAINT_{n}" in taken:
        n += 1
    return f"CONSTRAINT_{n}"


def _pg_name(suffix: str) -> Callable[[str, tuple[str, ...], set[str]], str]:
    # PostgreSQL: table_col1_col2_suffix, then a number appended (ChooseRelationName).
    def name(table: str, cols: tuple[str, ...], taken: set[str]) -> str:
        base = "_".join((table, *cols, suffix)) if cols else f"{table}_{suffix}"
        return _suffix(base, taken, start=1, sep="")

    return name


def _pg_check_name(table: str, cols: tuple[str, ...] | None, taken: set[str]) -> str:
    return _pg_name("check")(table, cols or (), taken)


def _sqlite_unique_name(table: str, cols: tuple[str, ...], taken: set[str]) -> str:
    n = 1
    while f"sqlite_autoindex_{table}_{n}" in taken:
        n += 1
    return f"sqlite_autoindex_{table}_{n}"


FAMILY_RULES: dict[str, Rules] = {
    "mysql": Rules(
        family="mysql",
        read="mysql",
        generate="mysql",
        fold_unquoted=lambda s: s,
        pk_implies_not_null=True,
        unique_index_is_constraint=True,
        fk_auto_index=True,
        fk_checked_at_create=True,
        names_case_insensitive=True,
        pk_name=lambda table: "PRIMARY",
        unique_name=lambda table, cols, taken: _suffix(cols[0] if cols else "key", taken),
        index_name=lambda table, cols, taken: _suffix(cols[0] if cols else "key", taken),
        fk_name=_mysql_fk_name,
        check_name=_mysql_check_name,
    ),
    "postgresql": Rules(
        family="postgresql",
        read="postgres",
        generate="postgres",
        fold_unquoted=str.lower,
        pk_implies_not_null=True,
        unique_index_is_constraint=False,
        fk_auto_index=False,
        fk_checked_at_create=True,
        names_case_insensitive=False,
        pk_name=lambda table: f"{table}_pkey",
        unique_name=_pg_name("key"),
        index_name=_pg_name("idx"),
        fk_name=_pg_name("fkey"),
        check_name=_pg_check_name,
    ),
    "sqlite": Rules(
        family="sqlite",
        read="sqlite",
        generate="",
        fold_unquoted=lambda s: s,
        pk_implies_not_null=False,
        unique_index_is_constraint=False,
        fk_auto_index=False,
        fk_checked_at_create=False,
        names_case_insensitive=True,
        pk_name=lambda table: None,
        unique_name=_sqlite_unique_name,
        index_name=_pg_name("idx"),
        fk_name=_pg_name("fkey"),
        check_name=_pg_check_name,
    ),
}


def rules_for(dialect: str) -> Rules:
    return FAMILY_RULES[family_of(dialect)]


# --- splitting --------------------------------------------------------------------------------

_ROUTINE_HEAD = re.compile(
    r"\s*CREATE\s+(?:OR\s+REPLACE\s+)?(?:DEFINER\s*=\s*\S+\s+)?(?:TEMP(?:ORARY)?\s+)?"
    r"(?:TRIGGER|PROCEDURE|FUNCTION|EVENT)\b",
    re.IGNORECASE,
)
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DOLLAR = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$")


def split_statements(script: str, dialect: str) -> list[Statement]:
    """Split a SQL script into statements with their line numbers.

    The runner's splitter (:mod:`dbmedic.sqlsplit`) does the work, so simulation and execution
    always agree on statement boundaries. An unterminated quote, comment or block, which the
    runner refuses, is kept here as one statement: the simulation then reports it as unknown.
    """
    from dbmedic.errors import MigrationError
    from dbmedic.sqlsplit import split_statements as split

    try:
        pieces = split(script, family_of(dialect))
    except MigrationError:
        text = script.strip()
        return [Statement(text, 1 + script[: script.index(text[0])].count("\n"))] if text else []
    return [Statement(p.text, p.line) for p in pieces]
