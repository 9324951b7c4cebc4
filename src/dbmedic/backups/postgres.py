"""PostgreSQL: server facts, table lists and order-independent content checksums.

The checksum of a table is the row count and the sum of a 64-bit slice of ``md5(ROW(r.*)::text)``
over its rows, computed by the server in one scan: independent of row order and the same after
``pg_restore`` or the built-in COPY loader.
"""

from __future__ import annotations

from typing import Any

from dbmedic.backups.families import Facts, Family, Source, connect_error, register_family
from dbmedic.backups.manifest import Part, TableEntry, combine
from dbmedic.errors import BackupError, ConnectError
from dbmedic.secrets import scrub

_USER_TABLES = """
SELECT n.nspname, c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\\_toast%%' AND n.nspname NOT LIKE 'pg\\_temp\\_%%'
ORDER BY n.nspname, c.relname
"""


def connect(source: Source, database: str | None = None) -> Any:
    """A psycopg connection (autocommit); raises ConnectError in one sentence."""
    import psycopg

    kwargs = source.connect_kwargs()
    if database is not None:
        kwargs["dbname"] = database
    kwargs.setdefault("connect_timeout", 10)
    try:
        return psycopg.connect(**kwargs, autocommit=True)
    except psycopg.Error as e:
        raise connect_error(source, e) from e


def ident(*names: str) -> str:
    return ".".join('"' + n.replace('"', '""') + '"' for n in names)


def user_tables(conn: Any, kinds: str = "rp") -> list[tuple[str, str]]:
    with conn.cursor() as cur:
        cur.execute(_USER_TABLES)
        return [(str(s), str(n)) for s, n, k in cur.fetchall() if str(k) in kinds]


def table_digest(conn: Any, schema: str, name: str) -> Part:
    with conn.cursor() as cur:
        cur.execute(
            "SELECT count(*), coalesce(sum(('x' || substr(md5(ROW(r.*)::text), 1, 16))"
            f"::bit(64)::bigint::numeric), 0)::text FROM {ident(schema, name)} AS r"
        )
        row = cur.fetchone()
    return Part(int(row[0]), str(row[1]))


def entry(schema: str, name: str, part: Part) -> TableEntry:
    return TableEntry(name, part.rows, combine([part]), "postgresql-md5sum", (part,), schema)


def checksums_in(conn: Any, schema_only: bool = False) -> list[TableEntry]:
    """Entries for every user table, read through ``conn`` (inside its snapshot, if any)."""
    out = []
    for schema, name in user_tables(conn):
        part = Part(0, "0") if schema_only else table_digest(conn, schema, name)
        out.append(entry(schema, name, part))
    return out


@register_family("postgresql")
class PostgresFamily(Family):
    """PostgreSQL: pg_dump where installed, else the built-in COPY dumper."""

    @property
    def methods(self) -> tuple[type, ...]:  # type: ignore[override]
        from dbmedic.backups.postgres_builtin import PostgresBuiltin
        from dbmedic.backups.tools import PgDump

        return (PgDump, PostgresBuiltin)

    def facts(self, source: Source) -> Facts:
        conn = connect(source)
        try:
            with conn.cursor() as cur:
                cur.execute(
                    "SELECT current_setting('server_version'), pg_encoding_to_char(encoding), "
                    "datcollate FROM pg_database WHERE datname = current_database()"
                )
                version, encoding, collate = cur.fetchone()
                cur.execute(
                    "SELECT DISTINCT grantee || ': ' || privilege_type || ' ON ' || table_name "
                    "FROM information_schema.role_table_grants WHERE table_schema NOT IN "
                    "('pg_catalog', 'information_schema') ORDER BY 1"
                )
                grants = tuple(str(r[0]) for r in cur.fetchall())
        finally:
            conn.close()
        return Facts("postgresql", str(version), str(encoding), str(collate), grants)

    def table_names(self, source: Source) -> list[str]:
        conn = connect(source)
        try:
            return [n if s == "public" else f"{s}.{n}" for s, n in user_tables(conn, "rpvmf")]
        finally:
            conn.close()

    def create_database(self, target: Source, charset: str | None, collation: str | None) -> None:
        from psycopg import sql

        conn = connect(target, database="postgres")
        try:
            stmt = sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(
                sql.Identifier(target.database)
            )
            if charset:
                stmt += sql.SQL(" ENCODING {}").format(sql.Literal(charset))
            if collation:
                stmt += sql.SQL(" LC_COLLATE {0} LC_CTYPE {0}").format(sql.Literal(collation))
            with conn.cursor() as cur:
                cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (target.database,))
                if cur.fetchone() is None:
                    cur.execute(stmt)
        except Exception as e:
            if isinstance(e, ConnectError):
                raise
            raise BackupError(
                f"cannot create database {target.database} ({scrub(str(e).strip())})"
            ) from e
        finally:
            conn.close()

    def drop_tables(self, target: Source, names: list[str]) -> None:
        conn = connect(target)
        try:
            with conn.cursor() as cur:
                for schema, name, kind in cur.execute(_USER_TABLES).fetchall():
                    if name in names or f"{schema}.{name}" in names:
                        what = {"v": "VIEW", "m": "MATERIALIZED VIEW", "f": "FOREIGN TABLE"}
                        cur.execute(
                            f"DROP {what.get(kind, 'TABLE')} IF EXISTS {ident(schema, name)} CASCADE"
                        )
        finally:
            conn.close()

    def checksums(
        self, target: Source, tables: tuple[TableEntry, ...], jobs: int
    ) -> list[TableEntry]:
        conn = connect(target)
        try:
            present = set(user_tables(conn))
            return [
                entry(
                    t.schema or "public", t.name, table_digest(conn, t.schema or "public", t.name)
                )
                for t in tables
                if (t.schema or "public", t.name) in present
            ]
        finally:
            conn.close()
