"""The built-in PostgreSQL dumper: placeholder until implemented (pg_dump is used)."""

from __future__ import annotations

from dbmedic.backups.families import Method


class PostgresBuiltin(Method):
    name = "postgresql-builtin"

    def available(self) -> bool:
        return False
