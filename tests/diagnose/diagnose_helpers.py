"""Helpers for the diagnose tests (importable as ``from diagnose_helpers import ...``)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, text

from dbmedic.connect import open_reference
from dbmedic.diagnosis import Guard
from dbtest import ADMIN_URLS, server_problem


def shadow_databases() -> list[str]:
    """Every database whose name carries the shadow mark, on every server that answers."""
    found: list[str] = []
    queries = {
        "mariadb": "SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE '%dbmedic\\_shadow\\_%'",
        "postgresql": "SELECT datname FROM pg_database WHERE datname LIKE '%dbmedic\\_shadow\\_%'",
    }
    for backend, sql in queries.items():
        if server_problem(backend):
            continue
        engine = create_engine(ADMIN_URLS[backend])
        with engine.connect() as conn:
            found += [str(r[0]) for r in conn.execute(text(sql))]
        engine.dispose()
    return found


def write_dbmate(root: Path, files: dict[str, str]) -> Path:
    """A dbmate project: ``db/migrations/<name>.sql`` with ``-- migrate:up`` bodies."""
    folder = root / "db" / "migrations"
    folder.mkdir(parents=True, exist_ok=True)
    for name, body in files.items():
        (folder / f"{name}.sql").write_text(f"-- migrate:up\n{body.strip()}\n\n-- migrate:down\n")
    return root


def apply_guard(root: Path, guard: Guard) -> str:
    """Paste the snippet over the quoted statement; returns the new file text."""
    assert guard.file is not None and guard.original is not None, guard
    path = root / guard.file
    text = path.read_text()
    assert text.count(guard.original) == 1
    lines = text.split("\n")
    assert "\n".join(lines[guard.line - 1 : guard.end_line]).startswith(guard.original)  # type: ignore[operator]
    path.write_text(text.replace(guard.original, guard.snippet))
    return path.read_text()


def columns_of(url: str, table: str) -> list[str]:
    with open_reference(url) as db, db.connect() as conn:
        return list(db.dialect.inspect(conn, db.info).tables[table].columns)


def schema_and_tracking_rows(
    url: str, rows_sql: str = "SELECT version FROM schema_migrations ORDER BY 1"
) -> tuple[object, list[tuple[object, ...]]]:
    """Schema and tracking rows (dbmate's unless ``rows_sql`` reads another framework's): what
    diagnose and lint must leave exactly as found."""
    with open_reference(url) as db, db.connect() as conn:
        schema = db.dialect.inspect(conn, db.info)
        rows = [tuple(r) for r in conn.exec_driver_sql(rows_sql)]
    return schema.tables, rows
