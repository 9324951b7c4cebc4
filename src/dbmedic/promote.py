"""Promote the reset rehearsal's shadow into the target instead of running every migration twice.

Before ``fix --strategy reset`` drops anything, its rehearsal runs every migration from zero with
the framework on an empty shadow database (same server, credentials, charset and collation; the
same adapter and environment as the real run). When that run succeeded, the shadow already holds
what the real run would produce, so the repair moves it into the recreated target:

- MySQL / MariaDB: one ``RENAME TABLE shadow.t TO target.t, ...`` for every base table (atomic:
  all tables move or none, https://mariadb.com/kb/en/atomic-ddl/; InnoDB moves the rows, indexes
  and foreign keys, whose names and references follow the tables). A table with triggers cannot
  change database (ER_TRG_IN_WRONG_SCHEMA), so the triggers are dropped in the shadow first and
  created again in the target, each under the ``sql_mode`` and character set it was created with;
  views cannot change database either, so they are created again from ``SHOW CREATE VIEW`` with
  the shadow's name replaced by the target's, in dependency order. Both are idempotent
  (``CREATE OR REPLACE VIEW``, ``CREATE TRIGGER IF NOT EXISTS``) so an interrupted promotion can
  be finished. Routines, events, sequences: not promoted.
- SQLite: the shadow file is copied over the target with the backup API (one write transaction).
- PostgreSQL: not promoted. Tables cannot change database, and renaming the shadow database
  needs every other session on both databases closed; the migrations run again.

What keeps it honest: the promotion is refused at plan time (the plan then runs the migrations
again and says why) when the shadow's schema or rows contain the shadow's own name (a migration
that embeds the database name would differ from the real run), when a foreign key leaves the
shadow, or when the shadow's charset or collation differ from the target's. When the step runs,
the shadow and the migration files must still have the digest the plan recorded (else the step
runs the migrations instead); after the move the target, re-inspected, must have exactly the
schema fingerprint the shadow had when the plan read it and the same tracking-table rows, or the
step fails and the run rolls back from its backup. In the process that made the plan the shadow's
schema is not read a second time before the move (~0.08 s at 244 tables): the proof after the move
compares the target with the schema the plan read, so a shadow changed since then fails the step
and is rolled back; a run resumed by another process reads the shadow again.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from dbmedic.errors import StepFailed

if TYPE_CHECKING:
    from dbmedic.connect import Database
    from dbmedic.frameworks.base import Framework
    from dbmedic.model import Migration, Schema
    from dbmedic.plan import Step
    from dbmedic.recreate import DatabaseFacts
    from dbmedic.shadow import ShadowKeeper

RunStatements = Callable[[Sequence[str], Sequence[int]], Any]
"""run(statements, numbers): the run's journaled statement runner (see ``apply``)."""
Migrate = Callable[[], str]
"""The fallback: the framework's migrate on the target; returns the step detail."""

SECONDS_PER_TABLE = 0.015
"""RENAME TABLE across databases, measured on MariaDB 10.11 here: 244 tables in 2.8 to 4.6 s at
load 7 to 8 (file renames and the DDL log's syncs), about a third of that on a quiet machine."""
_SETTING = re.compile(r"^[A-Za-z0-9_,]*$")
_TRIGGER_HEAD = re.compile(
    r"^(\s*CREATE\s+(?:DEFINER\s*=\s*(?:`(?:[^`]|``)*`|'[^']*'|[^\s@]+)"
    r"@(?:`(?:[^`]|``)*`|'[^']*'|\S+)\s+)?TRIGGER\s+)",
    re.IGNORECASE,
)
_UTF8 = frozenset({"utf8", "utf8mb3", "utf8mb4"})


@dataclass(frozen=True, slots=True)
class Promotion:
    """What the PROMOTE_SHADOW step of a reset plan moves, read from the kept shadow."""

    shadow: str
    """The shadow database's name (its file for SQLite)."""
    statements: tuple[str, ...]
    tables: int
    views: int
    triggers: int
    digest: str
    how: str
    """``one RENAME TABLE of 244 tables, 2 views and 1 trigger created again``."""

    @property
    def seconds(self) -> float:
        return round(0.2 + SECONDS_PER_TABLE * self.tables, 2)


_PLANNED: dict[str, Schema] = {}
"""The shadow schema each promotion planned in this process read, by the promotion's digest:
what :func:`promote` proves the moved tables against without reading the shadow again."""


# --- what both families share ---------------------------------------------------------------------


def digest(schema: Schema, root: Path, migrations: Sequence[Migration]) -> str:
    """sha256 of the schema's fingerprint and every migration file's bytes."""
    from dbmedic.runs import fingerprint

    h = hashlib.sha256(fingerprint(schema).encode())
    for m in migrations:
        h.update(f"\0{m.id}\0{m.file or ''}\0".encode())
        path = root / m.file if m.file else None
        if path is not None and path.is_file():
            h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def tracking_rows(db: Database, fw: Framework, root: Path) -> dict[str, list[list[str]]]:
    """Read-only: every row of the framework's tracking tables that exist, sorted, as text."""
    with db.connect() as conn:
        have = set(db.dialect.table_names(conn))
        found: dict[str, list[list[str]]] = {}
        for name in fw.tracking_tables(root):
            if name in have:
                rows = conn.exec_driver_sql(f"SELECT * FROM {db.dialect.quote(name)}")
                found[name] = sorted([str(v) for v in r] for r in rows)
    return found


def _objects_text(schema: Schema) -> str:
    from dbmedic.snapshot import snapshot_dict

    data = snapshot_dict(schema)
    return json.dumps({k: data[k] for k in ("tables", "views", "triggers")}, default=str)


def _rows_naming(
    db: Database, schema: Schema, name: str, searchable: Callable[[str], bool]
) -> str | None:
    """Read-only: the first table with a row that contains ``name`` in a searchable column."""
    from sqlalchemy import text

    q = db.dialect.quote
    probes = []
    for table_name, table in sorted(schema.tables.items()):
        columns = [c for c in table.columns.values() if searchable(c.type)]
        if columns:
            where = " OR ".join(f"INSTR({q(c.name)}, :n) > 0" for c in columns)
            probes.append((table_name, f"EXISTS (SELECT 1 FROM {q(table_name)} WHERE {where})"))
    with db.connect() as conn:
        for start in range(0, len(probes), 200):
            chunk = probes[start : start + 200]
            row = conn.execute(text("SELECT " + ", ".join(p for _, p in chunk)), {"n": name}).one()
            hit = next((t for (t, _), v in zip(chunk, row, strict=True) if v), None)
            if hit is not None:
                return hit
    return None


class _Promoter:
    family: ClassVar[str] = ""

    def refuse(self, shadow: Database, target: Database, facts: DatabaseFacts,
               schema: Schema) -> str | None:  # fmt: skip
        """Why this shadow cannot be moved into the target (None: it can)."""
        return None

    def statements(
        self, shadow: Database, target: Database
    ) -> tuple[list[str], int, int, int, str]:
        """(statements, tables, views, triggers, how) of the move; raises _Refused."""
        raise NotImplementedError

    def searchable(self, column_type: str) -> bool:
        return True

    def move(self, db: Database, shadow: Database, step: Step, run: RunStatements) -> None:
        raise NotImplementedError

    def finish(self, db: Database, step: Step, run: RunStatements) -> None:
        """Complete a move that was interrupted after its tables arrived in ``db``."""

    def drop_leftover(self, db: Database, name: str) -> None:
        raise NotImplementedError


class _Refused(Exception):
    """A promotion that cannot be built; the message is the reason, one phrase."""


# --- MySQL / MariaDB ---------------------------------------------------------------------------


class _MySQL(_Promoter):
    family = "mysql"
    TEXT_TYPES = ("char", "text", "json", "blob", "binary")

    def searchable(self, column_type: str) -> bool:
        return any(word in column_type.lower() for word in self.TEXT_TYPES)

    def refuse(self, shadow: Database, target: Database, facts: DatabaseFacts,
               schema: Schema) -> str | None:  # fmt: skip
        from sqlalchemy import text

        s = {"s": shadow.name}
        with shadow.connect() as conn:
            kinds = conn.execute(
                text(
                    "SELECT TABLE_TYPE, MIN(TABLE_NAME) FROM information_schema.TABLES "
                    "WHERE TABLE_SCHEMA = :s AND TABLE_TYPE NOT IN ('BASE TABLE', 'VIEW') "
                    "GROUP BY TABLE_TYPE"
                ),
                s,
            ).first()
            routine = conn.execute(
                text(
                    "SELECT ROUTINE_NAME FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = :s "
                    "UNION ALL SELECT EVENT_NAME FROM information_schema.EVENTS "
                    "WHERE EVENT_SCHEMA = :s LIMIT 1"
                ),
                s,
            ).first()
            charset = conn.execute(
                text(
                    "SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME "
                    "FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = :s"
                ),
                s,
            ).one()
            # Views and triggers are created again with their DEFINER clause: another account
            # than this session's would need SET USER (SUPER) privileges.
            other = conn.execute(
                text(
                    "SELECT TRIGGER_NAME, DEFINER FROM information_schema.TRIGGERS "
                    "WHERE TRIGGER_SCHEMA = :s AND DEFINER <> CURRENT_USER() UNION ALL "
                    "SELECT TABLE_NAME, DEFINER FROM information_schema.VIEWS "
                    "WHERE TABLE_SCHEMA = :s AND DEFINER <> CURRENT_USER() LIMIT 1"
                ),
                s,
            ).first()
        if kinds is not None:
            return f"the migrations made a {str(kinds[0]).lower()} ({kinds[1]}), which is not moved"
        if routine is not None:
            return f"the migrations made a routine or event ({routine[0]}), which is not moved"
        if (charset[0], charset[1]) != (facts.charset, facts.collation):
            return (
                f"the shadow's charset and collation ({charset[0]}/{charset[1]}) differ from "
                f"{facts.name}'s ({facts.charset}/{facts.collation})"
            )
        for t in schema.tables.values():
            for fk in t.foreign_keys.values():
                if dict(fk.extra).get("ref_schema"):
                    return f"foreign key {t.name}.{fk.name} refers to another database"
        named = re.compile(r"(?<![\w$`])`?" + re.escape(target.name) + r"`?\.")
        for view in schema.views.values():
            if named.search(view.definition):
                return f"view {view.name} names {target.name} itself"
        if other is not None:
            return f"{other[0]} was created by {other[1]}, not by the account dbmedic connects as"
        return None

    def statements(
        self, shadow: Database, target: Database
    ) -> tuple[list[str], int, int, int, str]:
        from sqlalchemy import text

        q = shadow.dialect.quote
        src, dst = q(shadow.name), q(target.name)
        with shadow.connect() as conn:
            tables = [str(r[0]) for r in conn.execute(text(
                "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = :s "
                "AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME"), {"s": shadow.name})]  # fmt: skip
            trigger_names = [str(r[0]) for r in conn.execute(text(
                "SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = :s "
                "ORDER BY EVENT_OBJECT_TABLE, ACTION_TIMING, EVENT_MANIPULATION, ACTION_ORDER"),
                {"s": shadow.name})]  # fmt: skip
            view_names = [str(r[0]) for r in conn.execute(text(
                "SELECT TABLE_NAME FROM information_schema.VIEWS WHERE TABLE_SCHEMA = :s "
                "ORDER BY TABLE_NAME"), {"s": shadow.name})]  # fmt: skip
            triggers = [conn.exec_driver_sql(f"SHOW CREATE TRIGGER {src}.{q(n)}").one()
                        for n in trigger_names]  # fmt: skip
        # Read from another database's session: the server then qualifies every name of the
        # shadow in the view's text (it leaves names of the session's own database bare).
        with target.connect() as conn:
            views = {n: conn.exec_driver_sql(f"SHOW CREATE VIEW {src}.{q(n)}").one()
                     for n in view_names}  # fmt: skip
        out = [f"DROP TRIGGER IF EXISTS {src}.{q(n)}" for n in trigger_names]
        if tables:
            out.append("RENAME TABLE " + ", ".join(f"{src}.{q(t)} TO {dst}.{q(t)}" for t in tables))
        for name in _view_order(views, src, q):
            _, create, client, collation = (str(v) for v in views[name][:4])
            _check_charset(f"view {name}", create, client, collation)
            body = create.replace(src, dst)
            if not body.upper().startswith("CREATE "):
                raise _Refused(f"SHOW CREATE VIEW {name} printed no CREATE statement")
            out.append(f"SET SESSION character_set_client = '{client}', "
                       f"collation_connection = '{collation}'")  # fmt: skip
            out.append("CREATE OR REPLACE " + body[len("CREATE ") :])
        for row in triggers:
            name, mode, create, client, collation = (str(v) for v in row[:5])
            _check_charset(f"trigger {name}", create, client, collation)
            head = _TRIGGER_HEAD.match(create)
            if head is None or not _SETTING.match(mode):
                raise _Refused(f"the statement of trigger {name} cannot be read back")
            out.append(f"SET SESSION sql_mode = '{mode}', character_set_client = '{client}', "
                       f"collation_connection = '{collation}'")  # fmt: skip
            out.append(head.group(1) + "IF NOT EXISTS " + create[head.end() :])
        how = f"one RENAME TABLE of {len(tables)} table(s)"
        extra = [f"{n} {w}(s)" for n, w in ((len(views), "view"), (len(triggers), "trigger")) if n]
        if extra:
            how += f", {' and '.join(extra)} created again"
        return out, len(tables), len(views), len(triggers), how

    def move(self, db: Database, shadow: Database, step: Step, run: RunStatements) -> None:
        shadow.close()  # no session of ours may hold a metadata lock on a table of the shadow
        try:
            run(step.statements, range(1, len(step.statements) + 1))
        finally:
            db.engine.dispose()  # the sessions that changed sql_mode and character sets

    def finish(self, db: Database, step: Step, run: RunStatements) -> None:
        """After the RENAME: the (idempotent) views and triggers again."""
        at = next((i for i, s in enumerate(step.statements) if s.startswith("RENAME TABLE")), -1)
        rest = list(step.statements[at + 1 :])
        try:
            run(rest, range(at + 2, at + 2 + len(rest)))
        finally:
            db.engine.dispose()

    def drop_leftover(self, db: Database, name: str) -> None:
        from dbmedic.execute import run_statements

        run_statements(db, [f"DROP DATABASE IF EXISTS {db.dialect.quote(name)}"])


def _check_charset(what: str, create: str, client: str, collation: str) -> None:
    if not (_SETTING.match(client) and _SETTING.match(collation)):
        raise _Refused(f"the character set of {what} cannot be read back")
    if not create.isascii() and client.lower() not in _UTF8:
        raise _Refused(f"{what} has non-ASCII text in character set {client}")


def _view_order(views: dict[str, Any], src: str, q: Callable[[str], str]) -> list[str]:
    """Views so that each comes after the views it selects from (``src``.``name`` in its text)."""
    needs = {n: {m for m in views if m != n and f"{src}.{q(m)}" in str(views[n][1])} for n in views}
    done: list[str] = []
    while len(done) < len(views):
        ready = sorted(n for n in views if n not in done and needs[n] <= set(done))
        if not ready:
            raise _Refused("the views depend on each other in a cycle")
        done += ready
    return done


# --- SQLite ----------------------------------------------------------------------------------------


class _SQLite(_Promoter):
    family = "sqlite"

    def statements(
        self, shadow: Database, target: Database
    ) -> tuple[list[str], int, int, int, str]:
        with shadow.connect() as conn:
            tables = len(shadow.dialect.table_names(conn))
        return [], tables, 0, 0, "copy the file with SQLite's backup API"

    def move(self, db: Database, shadow: Database, step: Step, run: RunStatements) -> None:
        shadow.close()
        db.close()
        source = sqlite3.connect(str(shadow.url.database))
        try:
            target = sqlite3.connect(str(db.url.database))
            try:
                source.backup(target)  # every page in one step: one write transaction
            finally:
                target.close()
        except sqlite3.Error as e:
            raise StepFailed(f"cannot copy the shadow {step.shadow} into {db.display} ({e})") from e
        finally:
            source.close()

    def drop_leftover(self, db: Database, name: str) -> None:
        import shutil
        import tempfile

        from dbmedic.shadow import SHADOW_MARK

        folder = Path(name).parent
        if (
            SHADOW_MARK in Path(name).name
            and folder.name.startswith("dbmedic_shadow_")
            and folder.parent == Path(tempfile.gettempdir())
        ):
            shutil.rmtree(folder, ignore_errors=True)


_PROMOTERS: dict[str, type[_Promoter]] = {p.family: p for p in (_MySQL, _SQLite)}


def _for(db: Database) -> _Promoter | None:
    cls = _PROMOTERS.get(db.dialect.family or db.dialect.name)
    return cls() if cls is not None else None


# --- planning ----------------------------------------------------------------------------------


def can_promote(db: Database) -> bool:
    """Whether a rehearsed shadow of ``db``'s family can be moved into it."""
    return _for(db) is not None


def promotion_for(
    target: Database, keeper: ShadowKeeper, facts: DatabaseFacts, fw: Framework, root: Path
) -> Promotion | str:
    """Read-only on ``target``: the promotion of the shadow ``keeper`` holds, or why there is
    none (one phrase; a refused shadow is dropped at once)."""
    promoter, shadow = _for(target), keeper.shadow
    if promoter is None:
        return (
            f"{target.dialect.name} cannot move tables between databases, and renaming the "
            "rehearsed database needs every other session closed"
        )
    if shadow is None:
        return "the rehearsal's shadow database was not kept"
    try:
        result = _prepare(promoter, shadow, target, facts, fw, root)
    except _Refused as e:
        result = str(e)
    if isinstance(result, str):
        keeper.drop()
    return result


def _prepare(
    promoter: _Promoter, shadow: Database, target: Database, facts: DatabaseFacts,
    fw: Framework, root: Path,
) -> Promotion | str:  # fmt: skip
    from dbmedic.inspect import inspect_schema
    from dbmedic.model import MigrationState

    schema = inspect_schema(shadow)
    migrations = fw.read(shadow, root)
    open_ = [m.id for m in migrations if m.file and m.state is not MigrationState.APPLIED]
    if open_:
        return f"the shadow does not record {open_[0]} as applied"
    name = shadow.name
    if name and name in _objects_text(schema):
        return "a migration wrote the database's name into the schema, so the shadow differs"
    hit = _rows_naming(shadow, schema, name, promoter.searchable) if name else None
    if hit is not None:
        return f"a migration wrote the database's name into rows of {hit}"
    refused = promoter.refuse(shadow, target, facts, schema)
    if refused is not None:
        return refused
    statements, tables, views, triggers, how = promoter.statements(shadow, target)
    planned = digest(schema, root, migrations)
    _PLANNED.clear()  # one plan at a time: each entry holds a whole schema
    _PLANNED[planned] = schema
    return Promotion(
        str(shadow.url.database) if target.dialect.databases_are_files else name,
        tuple(statements), tables, views, triggers, planned, how,
    )  # fmt: skip


# --- applying ----------------------------------------------------------------------------------


def promote(
    db: Database,
    shadow: Database | None,
    step: Step,
    *,
    fw: Framework,
    root: Path,
    folder: Path,
    run: RunStatements,
    migrate: Migrate,
    moved: Callable[[], object] | None = None,
    proven: Callable[[Schema], object] | None = None,
) -> str:
    """Writes: move the rehearsed ``shadow`` into the (recreated, empty) target ``db`` and prove
    it equal; the step's detail. Runs ``migrate`` instead when the shadow is not this step's or
    its files changed since the plan (a shadow this process did not plan: its schema too; see
    the module docstring). ``moved`` is called between the move and the proof (the fault tests
    break the run there); ``proven`` gets the target's schema the proof read (the step's
    record, read once). Raises StepFailed (the run then rolls back)."""
    from dbmedic.inspect import inspect_schema

    promoter = _for(db)
    expected = None
    if shadow is not None and _held(shadow, step):
        expected = _PLANNED.pop(step.digest or "", None) or inspect_schema(shadow)
    why = _not_usable(db, shadow, expected, step, fw, root, promoter)
    if why is not None or shadow is None or expected is None or promoter is None:
        return f"{migrate()} (the shadow was not promoted: {why})"
    rows = tracking_rows(shadow, fw, root)
    _save(folder, step.number, expected, rows)
    promoter.move(db, shadow, step, run)
    if moved is not None:
        moved()
    return _prove(db, expected, rows, fw, root, step, proven)


def _held(shadow: Database, step: Step) -> bool:
    """Whether ``shadow`` is the one the step names."""
    return step.shadow in (shadow.name, str(shadow.url.database))


def _not_usable(
    db: Database, shadow: Database | None, schema: Schema | None, step: Step, fw: Framework,
    root: Path, promoter: _Promoter | None,
) -> str | None:  # fmt: skip
    if promoter is None:
        return f"{db.dialect.name} has no promotion"
    if shadow is None or schema is None:
        return "the rehearsed shadow is not held by this run"
    with db.connect() as conn:
        if db.dialect.table_names(conn):
            raise StepFailed(f"{db.display} is not empty; the shadow is moved only into a new one")
    if digest(schema, root, fw.read(shadow, root)) != step.digest:
        return "the shadow or the migration files changed since the plan"
    return None


def _save(folder: Path, number: int, schema: Schema, rows: dict[str, list[list[str]]]) -> None:
    from dbmedic.snapshot import dump_snapshot

    (folder / f"shadow-{number}.json").write_text(dump_snapshot(schema), encoding="utf-8")
    (folder / f"shadow-{number}-rows.json").write_text(json.dumps(rows), encoding="utf-8")


def _prove(
    db: Database, expected: Schema, rows: dict[str, list[list[str]]], fw: Framework, root: Path,
    step: Step, proven: Callable[[Schema], object] | None = None,
) -> str:  # fmt: skip
    from dbmedic.apply import difference_key
    from dbmedic.diff import diff_schemas
    from dbmedic.inspect import inspect_schema
    from dbmedic.runs import fingerprint

    db.engine.dispose()
    after = inspect_schema(db)
    if fingerprint(after) != fingerprint(expected):
        changes = diff_schemas(expected, after).changes
        shown = ", ".join(difference_key(c) for c in changes[:5]) or "details only"
        raise StepFailed(
            f"after promoting the shadow, {db.display} differs from the rehearsed schema ({shown})"
        )
    moved = tracking_rows(db, fw, root)
    if moved != rows:
        raise StepFailed(
            f"after promoting the shadow, the tracking rows of {db.display} differ from the "
            "rehearsal's"
        )
    if proven is not None:
        proven(after)
    count = sum(len(r) for r in rows.values())
    return (
        f"promoted {step.shadow}: {len(after.tables)} tables, {len(after.views)} views, "
        f"{len(after.triggers)} triggers, {count} tracking rows; equal to the rehearsal"
    )


def resume_promotion(
    db: Database, step: Step, *, fw: Framework, root: Path, folder: Path, run: RunStatements,
    migrate: Migrate, proven: Callable[[Schema], object] | None = None,
) -> str:  # fmt: skip
    """Writes: finish a promotion whose run was interrupted. When no table arrived yet, the
    shadow is dropped and the migrations run instead (a shadow that outlived its run is not
    trusted); else the views and triggers are created again and the result proven against the
    schema and tracking rows saved before the move. Raises StepFailed."""
    from dbmedic.snapshot import load_snapshot

    promoter = _for(db)
    if promoter is None:
        return migrate()
    with db.connect() as conn:
        arrived = bool(db.dialect.table_names(conn))
    if not arrived:
        drop_leftover(db, step)
        return f"{migrate()} (resumed: the shadow of the interrupted run is not reused)"
    saved = folder / f"shadow-{step.number}.json"
    if not saved.is_file():
        raise StepFailed(f"{db.display} has tables but the run saved no shadow schema to prove")
    expected = load_snapshot(saved)
    rows = json.loads((folder / f"shadow-{step.number}-rows.json").read_text(encoding="utf-8"))
    promoter.finish(db, step, run)
    detail = _prove(db, expected, rows, fw, root, step, proven)
    drop_leftover(db, step)
    return f"resumed: {detail}"


def drop_leftover(db: Database, step: Step) -> None:
    """Writes: drop the shadow a PROMOTE_SHADOW step names when it is still there (a run killed
    before its shadow was dropped). Only a name made by :func:`dbmedic.shadow.shadow_name`."""
    from dbmedic.shadow import SHADOW_MARK

    promoter = _for(db)
    if promoter is not None and step.shadow and SHADOW_MARK in step.shadow:
        promoter.drop_leftover(db, step.shadow)
