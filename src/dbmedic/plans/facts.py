"""The I/O edge of planning: facts read from the target and the framework, for the planners.

- :func:`database_facts`: name, charset, collation, owner and database-level grants of the
  target, which a reset must give the recreated database.
- :func:`pending_migrations`: every pending migration's statements, in run order (SQL files are
  read directly; code migrations print their SQL through the framework on a shadow copy).

Reading is per database family; the tables at the bottom are the registry.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dbmedic.effects_sql import Statement

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from dbmedic.connect import Database
    from dbmedic.frameworks.base import Framework
    from dbmedic.model import Migration, Schema


@dataclass(frozen=True, slots=True)
class DatabaseFacts:
    """What a recreated database must have again (read before it is dropped)."""

    name: str
    family: str
    charset: str | None = None
    """MySQL character set / PostgreSQL encoding."""
    collation: str | None = None
    """MySQL collation / PostgreSQL LC_COLLATE."""
    ctype: str | None = None
    """PostgreSQL LC_CTYPE."""
    owner: str | None = None
    """PostgreSQL owner (DROP DATABASE takes ownership and grants with it)."""
    grants: tuple[str, ...] = ()
    """Statements that give the database-level privileges back, as they were."""
    objects: tuple[tuple[str, str], ...] = ()
    """SQLite (a database is a file, kept with its permissions): (kind, name) of every table,
    view and trigger, which the reset drops instead of the file."""


@dataclass(frozen=True, slots=True)
class PendingMigration:
    """One pending migration and the statements it would run, in order."""

    id: str
    statements: tuple[str | Statement, ...]
    file: str | None = None


def database_facts(db: Database) -> DatabaseFacts:
    """Read-only: the facts of ``db`` a reset needs (one or two catalog queries)."""
    reader = _READERS[db.dialect.family or db.dialect.name]
    with db.connect() as conn:
        return reader(db, conn)


def pending_migrations(
    fw: Framework, target: Database, root: Path, migrations: Sequence[Migration], live: Schema
) -> list[PendingMigration]:
    """Every not-applied migration of ``migrations`` with its statements, in run order.

    SQL-file frameworks are read without a database. Code frameworks print the SQL of their
    pending migrations on a shadow copy of the target (its structure and tracking rows), never on
    the target itself (Laravel's ``--pretend`` creates its tracking table). Raises
    ShadowUnavailable when no shadow can be made, MigrationError when the framework fails.
    """
    from dbmedic.diagnose.history import (
        not_applied,
        statements_from_files,
        statements_from_framework,
    )
    from dbmedic.shadow import shadow_database

    todo = not_applied(migrations)
    h = statements_from_files(fw, root, target.dialect.family or target.dialect.name)
    if h is None:
        with shadow_database(target, schema=live, rows_of=fw.tracking_tables(root)) as sh:
            h = statements_from_framework(fw, sh, root, migrations, complete=False)
    return [PendingMigration(m.id, tuple(h.statements.get(m.id, ())), m.file) for m in todo]


# --- per family --------------------------------------------------------------------------------


def _mysql(db: Database, conn: Connection) -> DatabaseFacts:
    from sqlalchemy import text

    row = conn.execute(
        text(
            "SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM "
            "information_schema.SCHEMATA WHERE SCHEMA_NAME = DATABASE()"
        )
    ).one()
    # DROP DATABASE keeps MySQL's database-level grants (mysql.db); restating them is harmless
    # and keeps the plan honest where they were granted on a pattern that no longer matches:
    # https://dev.mysql.com/doc/refman/8.0/en/drop-database.html
    rows = conn.execute(
        text(
            "SELECT GRANTEE, PRIVILEGE_TYPE FROM information_schema.SCHEMA_PRIVILEGES "
            "WHERE TABLE_SCHEMA = DATABASE() ORDER BY GRANTEE, PRIVILEGE_TYPE"
        )
    ).all()
    by_grantee: dict[str, list[str]] = {}
    for grantee, privilege in rows:
        by_grantee.setdefault(str(grantee), []).append(str(privilege))
    q = db.dialect.quote
    grants = tuple(
        f"GRANT {', '.join(privs)} ON {q(db.name)}.* TO {grantee}"
        for grantee, privs in sorted(by_grantee.items())
        if _mysql_grantee(grantee)
    )
    return DatabaseFacts(db.name, "mysql", row[0], row[1], grants=grants)


def _mysql_grantee(text: str) -> bool:
    """``'user'@'host'`` exactly as information_schema prints it (quoted, no stray SQL)."""
    import re

    return re.fullmatch(r"'[^'\\]*'@'[^'\\]*'", text) is not None


def _postgres(db: Database, conn: Connection) -> DatabaseFacts:
    from sqlalchemy import text

    row = conn.execute(
        text(
            "SELECT pg_get_userbyid(datdba), pg_encoding_to_char(encoding), datcollate, "
            "datctype, coalesce(datacl::text[], '{}'::text[]) "
            "FROM pg_database WHERE datname = current_database()"
        )
    ).one()
    owner, encoding, collate, ctype, acl = row
    q = db.dialect.quote
    grants = []
    # aclitem: grantee=privileges/grantor; an empty grantee is PUBLIC; C create, T temp, c connect:
    # https://www.postgresql.org/docs/current/ddl-priv.html#PRIVILEGE-ABBREVS-TABLE
    letters = {"C": "CREATE", "T": "TEMPORARY", "c": "CONNECT"}
    for item in acl or []:
        grantee, _, rest = str(item).partition("=")
        privileges = rest.partition("/")[0]
        names = [letters[ch] for ch in privileges if ch in letters]
        if not names or grantee == owner:
            continue
        who = "PUBLIC" if grantee == "" else q(grantee.strip('"'))
        grants.append(f"GRANT {', '.join(names)} ON DATABASE {q(db.name)} TO {who}")
    return DatabaseFacts(
        db.name, "postgresql", encoding, collate, ctype, owner, grants=tuple(grants)
    )


def _sqlite(db: Database, conn: Connection) -> DatabaseFacts:
    from sqlalchemy import text

    rows = conn.execute(
        text(
            "SELECT type, name FROM sqlite_master WHERE type IN ('table', 'view', 'trigger') "
            "AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
    ).all()
    return DatabaseFacts(db.name, "sqlite", objects=tuple((str(k), str(n)) for k, n in rows))


_READERS: dict[str, Callable[[Database, Connection], DatabaseFacts]] = {
    "mysql": _mysql,
    "postgresql": _postgres,
    "sqlite": _sqlite,
}
