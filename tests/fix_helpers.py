"""Helpers of the fix tests: the seed incident built on any backend, and row checksums."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import MetaData, create_engine, select

from dbtest import DatabaseFactory

FAMILY = {"sqlite": "sqlite", "mariadb": "mysql", "postgresql": "postgresql"}


@dataclass(frozen=True)
class Incident:
    app: Path
    staging: str
    production: str


def build_incident(factory: DatabaseFactory, tmp: Path) -> Incident:
    """The demo incident rendered as dbmate files for the backend: production with the whole
    history, staging stopped at the duplicate ``priority`` column (both by dbmedic's runner)."""
    from dbmedic.connect import open_target
    from dbmedic.demo.render_dbmate import render
    from dbmedic.demo.spec import incident_app
    from dbmedic.frameworks import get_framework

    spec = incident_app()
    family = FAMILY[factory.backend]
    app, history = tmp / "app", tmp / "production-history"
    for root, era in ((app, "current"), (history, "production")):
        folder = root / "db" / "migrations"
        folder.mkdir(parents=True)
        for name, text in render(spec, family, era=era).items():
            (folder / name).write_text(text, encoding="utf-8")
    production, staging = factory.new("prod"), factory.new("stage")
    fw = get_framework("dbmate")
    with open_target(production) as db:
        assert fw.migrate(db, history).ok
    with open_target(staging) as db:
        assert not fw.migrate(db, app).ok
    return Incident(app, staging, production)


def row_digest(url: str) -> dict[str, str]:
    """{table: sha256 of its rows in primary-key order}: what a user would compare by hand."""
    engine = create_engine(url)
    meta = MetaData()
    out: dict[str, str] = {}
    try:
        meta.reflect(engine)
        with engine.connect() as conn:
            for name, table in sorted(meta.tables.items()):
                order = list(table.primary_key.columns) or list(table.columns)
                h = hashlib.sha256()
                for row in conn.execute(select(table).order_by(*order)):
                    h.update(repr(tuple(row)).encode())
                out[name] = h.hexdigest()
    finally:
        engine.dispose()
    return out
