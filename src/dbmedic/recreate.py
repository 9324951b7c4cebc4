"""Drop and create a database again with the same charset, collation, owner and grants.

Used by the RECREATE_DATABASE step of a reset and by rollback when the target is gone. The facts
are read before anything is dropped (:func:`read_database_facts`), so the new database is made
exactly like the old one. One small class per database family, in a registry:

- MySQL / MariaDB: ``DROP DATABASE`` keeps the privileges granted on it (rows of ``mysql.db``),
  so they apply again to the new database: https://dev.mysql.com/doc/refman/8.0/en/drop-database.html
  ("DROP DATABASE does not remove any GRANT statements").
- PostgreSQL: the owner, encoding, collation and the database-level ACL (``datacl``) are read and
  applied to the new database; the drop uses ``WITH (FORCE)`` from the maintenance database.
- SQLite: the file (and its ``-wal`` / ``-shm``) is replaced by a new empty file.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from dbmedic.errors import StepFailed
from dbmedic.secrets import scrub

if TYPE_CHECKING:
    from dbmedic.connect import Database


@dataclass(frozen=True, slots=True)
class DatabaseFacts:
    """What a recreated database must have again."""

    name: str
    charset: str | None = None
    collation: str | None = None
    ctype: str | None = None
    owner: str | None = None
    grants: tuple[str, ...] = ()
    """Statements that re-grant the database-level privileges (PostgreSQL)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "charset": self.charset,
            "collation": self.collation,
            "owner": self.owner,
            "grants": list(self.grants),
        }


class _Recreator:
    family: ClassVar[str] = ""

    def facts(self, db: Database) -> DatabaseFacts:
        raise NotImplementedError

    def recreate(self, db: Database, facts: DatabaseFacts) -> None:
        raise NotImplementedError

    def exists(self, db: Database) -> bool:
        raise NotImplementedError


def _admin(db: Database, database: str | None) -> Any:
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    return create_engine(
        db.url.set(database=database), isolation_level="AUTOCOMMIT", poolclass=NullPool
    )


def _run(db: Database, engine: Any, statements: list[str]) -> None:
    from sqlalchemy.exc import DBAPIError

    try:
        with engine.connect() as conn:
            for sql in statements:
                conn.exec_driver_sql(sql)
    except DBAPIError as e:
        reason = scrub(db.dialect.describe_error(e))
        raise StepFailed(f"cannot recreate {db.display} ({reason})", statement=sql) from e
    finally:
        engine.dispose()


class _MySQL(_Recreator):
    family = "mysql"

    def facts(self, db: Database) -> DatabaseFacts:
        from sqlalchemy import text

        with db.connect() as conn:
            row = conn.execute(
                text(
                    "SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME "
                    "FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = DATABASE()"
                )
            ).one()
        return DatabaseFacts(db.name, str(row[0]), str(row[1]))

    def recreate(self, db: Database, facts: DatabaseFacts) -> None:
        db.engine.dispose()
        d = db.dialect
        _run(db, _admin(db, None), [*d.drop_database_sql(facts.name),
             *d.create_database_sql(facts.name, facts.charset, facts.collation)])  # fmt: skip

    def exists(self, db: Database) -> bool:
        from sqlalchemy import text

        engine = _admin(db, None)
        try:
            with engine.connect() as conn:
                return (
                    conn.execute(
                        text("SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = :n"),
                        {"n": db.name},
                    ).first()
                    is not None
                )
        finally:
            engine.dispose()


class _Postgres(_Recreator):
    family = "postgresql"

    def facts(self, db: Database) -> DatabaseFacts:
        from sqlalchemy import text

        q = db.dialect.quote
        with db.connect() as conn:
            row = conn.execute(
                text(
                    "SELECT pg_encoding_to_char(encoding), datcollate, datctype, "
                    "pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()"
                )
            ).one()
            acl = conn.execute(
                text(
                    "SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END,"
                    " a.privilege_type, a.is_grantable FROM pg_database d, aclexplode(d.datacl) a "
                    "WHERE d.datname = current_database() AND a.grantee <> d.datdba ORDER BY 1, 2"
                )
            ).all()
        grants = []
        for grantee, privilege, grantable in acl:
            who = "PUBLIC" if grantee == "PUBLIC" else q(str(grantee))
            grants.append(
                f"GRANT {privilege} ON DATABASE {q(db.name)} TO {who}"
                + (" WITH GRANT OPTION" if grantable else "")
            )
        return DatabaseFacts(
            db.name, str(row[0]), str(row[1]), str(row[2]), str(row[3]), tuple(grants)
        )

    def recreate(self, db: Database, facts: DatabaseFacts) -> None:
        db.engine.dispose()
        q = db.dialect.quote
        create = f"CREATE DATABASE {q(facts.name)} TEMPLATE template0"
        if facts.charset and facts.charset.replace("_", "").isalnum():
            create += f" ENCODING '{facts.charset}'"
        for option, value in (("LC_COLLATE", facts.collation), ("LC_CTYPE", facts.ctype)):
            if value and all(ch.isalnum() or ch in "._-@" for ch in value):
                create += f" {option} '{value}'"
        if facts.owner:
            create += f" OWNER {q(facts.owner)}"
        _run(
            db,
            _admin(db, "postgres"),
            [*db.dialect.drop_database_sql(facts.name), create, *facts.grants],
        )

    def exists(self, db: Database) -> bool:
        from sqlalchemy import text

        engine = _admin(db, "postgres")
        try:
            with engine.connect() as conn:
                return (
                    conn.execute(
                        text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": db.name}
                    ).first()
                    is not None
                )
        finally:
            engine.dispose()


class _SQLite(_Recreator):
    family = "sqlite"

    def _path(self, db: Database) -> Path:
        return Path(str(db.url.database))

    def facts(self, db: Database) -> DatabaseFacts:
        return DatabaseFacts(str(self._path(db)))

    def recreate(self, db: Database, facts: DatabaseFacts) -> None:
        db.engine.dispose()
        path = self._path(db)
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        sqlite3.connect(path).close()

    def exists(self, db: Database) -> bool:
        return self._path(db).is_file()


_RECREATORS: dict[str, type[_Recreator]] = {r.family: r for r in (_MySQL, _Postgres, _SQLite)}


def _for(db: Database) -> _Recreator:
    return _RECREATORS[db.dialect.family or db.dialect.name]()


def read_database_facts(db: Database) -> DatabaseFacts:
    """Read-only: charset, collation, owner and database-level grants of ``db``."""
    return _for(db).facts(db)


def recreate_database(db: Database, facts: DatabaseFacts) -> None:
    """Writes: drop ``db`` and create it again as ``facts`` say. Raises StepFailed."""
    _for(db).recreate(db, facts)


def database_exists(db: Database) -> bool:
    """Whether the database of ``db`` exists on its server (the file, for SQLite)."""
    return _for(db).exists(db)
