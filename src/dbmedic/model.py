"""The immutable schema model every stage of dbmedic reads.

Inspection normalises once, at the boundary (``int(11)`` -> ``int``, quoted defaults, case of
keywords); everything downstream compares these objects with ``==`` and never re-normalises.
Provenance (ordinal position, the type as the server printed it) does not take part in equality.

Collections are dicts keyed by name, built in a stable order (columns by ordinal, everything else
sorted by name), so a diff is set arithmetic and every rendering is byte-stable.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

# The migration half of the model lives apart, so that ``status`` does not build the schema
# classes below; it is re-exported here, its historic home.
from dbmedic.migration_model import INTERNAL_TABLES as INTERNAL_TABLES
from dbmedic.migration_model import JOURNAL_TABLE as JOURNAL_TABLE
from dbmedic.migration_model import Extra as Extra
from dbmedic.migration_model import Migration as Migration
from dbmedic.migration_model import MigrationState as MigrationState
from dbmedic.migration_model import extra as extra


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    type: str
    """Normalised type: lower case, no display widths: ``int``, ``varchar(255)``, ``decimal(8,2)``."""
    nullable: bool = True
    default: str | None = None
    """Normalised default as an SQL expression: ``'abc'``, ``0``, ``CURRENT_TIMESTAMP``, ``NULL`` is None."""
    auto_increment: bool = False
    """MySQL AUTO_INCREMENT, PostgreSQL serial/identity, SQLite INTEGER PRIMARY KEY AUTOINCREMENT."""
    generated: str | None = None
    """Expression of a generated column (``extra`` tells stored/virtual)."""
    charset: str | None = None
    collation: str | None = None
    comment: str | None = None
    extra: Extra = ()
    ordinal: int = field(default=0, compare=False)
    raw_type: str = field(default="", compare=False)
    """The type as the server printed it: ``int(11) unsigned``."""


@dataclass(frozen=True, slots=True)
class IndexColumn:
    name: str
    """A column name, or an expression for an expression index."""
    descending: bool = False
    prefix: int | None = None
    """MySQL prefix length: ``KEY (title(20))``."""
    expression: bool = False


@dataclass(frozen=True, slots=True)
class Index:
    name: str
    columns: tuple[IndexColumn, ...]
    unique: bool = False
    kind: str = "btree"
    """btree, hash, fulltext, spatial, gin, gist, brin, ..."""
    where: str | None = None
    """Predicate of a partial index (PostgreSQL, SQLite)."""
    extra: Extra = ()


@dataclass(frozen=True, slots=True)
class PrimaryKey:
    columns: tuple[str, ...]
    name: str | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class UniqueConstraint:
    """A UNIQUE constraint; on MySQL/MariaDB every unique index is one."""

    name: str
    columns: tuple[str, ...]
    extra: Extra = ()


@dataclass(frozen=True, slots=True)
class ForeignKey:
    name: str
    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]
    on_update: str = "NO ACTION"
    on_delete: str = "NO ACTION"
    """Normalised referential actions, upper case: NO ACTION, RESTRICT, CASCADE, SET NULL, SET DEFAULT."""
    extra: Extra = ()


@dataclass(frozen=True, slots=True)
class CheckConstraint:
    name: str
    expression: str


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    columns: Mapping[str, Column]
    """In ordinal order (dict order), compared as a mapping (order ignored)."""
    primary_key: PrimaryKey | None = None
    uniques: Mapping[str, UniqueConstraint] = field(default_factory=dict)
    indexes: Mapping[str, Index] = field(default_factory=dict)
    """Non-constraint indexes (MySQL: non-unique keys; PostgreSQL/SQLite: CREATE INDEX)."""
    foreign_keys: Mapping[str, ForeignKey] = field(default_factory=dict)
    checks: Mapping[str, CheckConstraint] = field(default_factory=dict)
    engine: str | None = None
    charset: str | None = None
    collation: str | None = None
    comment: str | None = None
    extra: Extra = ()

    def column_order(self) -> tuple[str, ...]:
        """Column names in ordinal order."""
        return tuple(c.name for c in sorted(self.columns.values(), key=lambda c: c.ordinal))


@dataclass(frozen=True, slots=True)
class View:
    name: str
    definition: str
    """Normalised SELECT text (whitespace collapsed, identifiers unquoted where safe)."""
    extra: Extra = ()


@dataclass(frozen=True, slots=True)
class Trigger:
    name: str
    table: str
    timing: str
    """BEFORE, AFTER, INSTEAD OF."""
    event: str
    """INSERT, UPDATE, DELETE (several joined with ' OR ')."""
    body: str
    """Normalised action statement (MySQL body, PostgreSQL ``EXECUTE FUNCTION f()``, SQLite body)."""
    extra: Extra = ()


@dataclass(frozen=True, slots=True)
class Schema:
    dialect: str
    """Registry name of the dialect: ``mysql``, ``mariadb``, ``postgresql``, ``sqlite``."""
    tables: Mapping[str, Table] = field(default_factory=dict)
    views: Mapping[str, View] = field(default_factory=dict)
    triggers: Mapping[str, Trigger] = field(default_factory=dict)
    database: str | None = field(default=None, compare=False)
    server_version: str | None = field(default=None, compare=False)
    charset: str | None = field(default=None, compare=False)
    collation: str | None = field(default=None, compare=False)
    taken_at: str | None = field(default=None, compare=False)
    """ISO-8601 UTC time the schema was read."""
    inspect_seconds: float | None = field(default=None, compare=False)

    @property
    def family(self) -> str:
        """``mysql`` for MySQL and MariaDB, else the dialect name: schemas of one family compare."""
        return "mysql" if self.dialect in ("mysql", "mariadb") else self.dialect

    def without_internal_tables(self) -> Schema:
        """This schema without dbmedic's own bookkeeping tables (:data:`INTERNAL_TABLES`)."""
        if not any(name in INTERNAL_TABLES for name in self.tables):
            return self
        from dataclasses import replace

        kept = {k: v for k, v in self.tables.items() if k not in INTERNAL_TABLES}
        return replace(self, tables=kept)
