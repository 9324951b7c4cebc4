"""Alembic: ``alembic_version``, the script directory's revision graph, ``alembic upgrade``.

Everything about revisions comes from Alembic's own API (``Config``, ``ScriptDirectory``,
``command``), run by a small helper in the project's own Python (``DBMEDIC_PYTHON``, else the
project's ``.venv``/``venv``, else ours), so revision files may import the project's code.

The contract for a project: the target reaches Alembic as ``sqlalchemy.url`` in the config
(the helper sets it from ``DBMEDIC_DATABASE_URL``, an environment variable; never argv), which a
stock ``env.py`` reads with ``config.get_main_option("sqlalchemy.url")`` or
``engine_from_config``. An ``env.py`` that builds its URL elsewhere must honour
``DBMEDIC_DATABASE_URL`` itself, or dbmedic would run against the database it names.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from dbmedic.errors import FrameworkError, MigrationError
from dbmedic.frameworks.base import Framework, MigrateResult, Progress, register_framework
from dbmedic.frameworks.process import (
    Completed,
    project_python,
    read_tracking_table,
    run_command,
)
from dbmedic.migration_model import Migration, MigrationState

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

    from dbmedic.connect import Database

HELPER = Path(__file__).resolve().parent / "alembicshim" / "dbmedic_alembic_helper.py"
_JSON_MARK = "@@dbmedic-json@@"
_RUNNING = re.compile(r"^@@dbmedic-running@@ (\S+)\s*$")


@dataclass(frozen=True, slots=True)
class Revision:
    """One revision of the script directory."""

    id: str
    down: tuple[str, ...]
    doc: str
    file: str | None


@register_framework("alembic")
class Alembic(Framework):
    tracking_table: ClassVar[str] = "alembic_version"
    """``version_table`` in env.py's ``context.configure``; override in a subclass if renamed."""
    ordered_history: ClassVar[bool] = True
    """The version table holds heads only: stamping a revision marks its ancestors."""
    ini_name: ClassVar[str] = "alembic.ini"

    def detect(self, root: Path) -> bool:
        return (root / self.ini_name).is_file()

    # --- reading ------------------------------------------------------------------------------
    def graph(self, root: Path) -> list[Revision]:
        """Read-only: every revision, base to heads (Alembic's ``walk_revisions``)."""
        out = []
        for item in self._helper(root, None, "graph"):
            path = Path(item["path"]) if item.get("path") else None
            file = None
            if path is not None:
                file = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
            out.append(Revision(item["revision"], tuple(item["down"]), item["doc"] or "", file))
        return out

    def read(self, db: Database, root: Path) -> list[Migration]:
        """Read-only: ``alembic_version`` against the revision graph, base to heads.

        A revision is applied when it is a current head or an ancestor of one (Alembic keeps
        only heads). A version Alembic cannot find in the script directory is ``missing-file``;
        Alembic records no failures, so a failed revision reads as pending.
        """
        revisions = self.graph(root)
        rows = read_tracking_table(db, self.tracking_table, ("version_num",), framework="Alembic")
        heads = [str(r[0]) for r in rows or []]
        by_id = {r.id: r for r in revisions}
        applied: set[str] = set()
        todo = [h for h in heads if h in by_id]
        while todo:
            rev = todo.pop()
            if rev not in applied:
                applied.add(rev)
                todo.extend(d for d in by_id[rev].down if d in by_id)
        out = [
            Migration(
                r.id,
                r.file,
                MigrationState.APPLIED if r.id in applied else MigrationState.PENDING,
                name=r.doc or None,
            )
            for r in revisions
        ]
        out += [Migration(h, None, MigrationState.MISSING_FILE) for h in heads if h not in by_id]
        return out

    # --- running ------------------------------------------------------------------------------
    def migrate(
        self, db: Database, root: Path, *, progress: Progress | None = None
    ) -> MigrateResult:
        """Writes: ``alembic upgrade heads`` against ``db``.

        On PostgreSQL a stock env.py runs all revisions in one transaction, so a failure rolls
        back the revisions before it too: ``applied`` is read back from the database.
        """
        before = self.read(db, root)
        pending = [m.id for m in before if m.state is MigrationState.PENDING]
        running: list[str] = []

        def line_seen(line: str) -> None:
            m = _RUNNING.match(line)
            if m:
                running.append(m.group(1))
                if progress is not None and len(running) > 1:
                    progress(len(running) - 1, len(pending), running[-2])

        run = self._run(root, db.url, "upgrade", "heads", on_line=line_seen)
        outcome = _outcome(run)
        if "result" in outcome:
            if progress is not None and running:
                progress(len(running), len(pending), running[-1])
            return MigrateResult(True, tuple(running), output=run.output, seconds=run.seconds)
        failure = outcome["failure"]
        after = {m.id: m.state for m in self.read(db, root)}
        applied = tuple(m for m in pending if after.get(m) is MigrationState.APPLIED)
        failed = running[-1] if running and running[-1] not in applied else None
        if failed is None:
            raise _error("alembic upgrade", failure)
        return MigrateResult(
            False,
            applied,
            failed=failed,
            error=failure.get("error"),
            statement=failure.get("statement"),
            output=run.output,
            seconds=run.seconds,
        )

    def pending_sql(self, db: Database, root: Path) -> dict[str, list[str]]:
        """Read-only: offline ``alembic upgrade CURRENT:heads --sql`` split per revision.

        The statements that maintain ``alembic_version`` are left out. Raises FrameworkError
        when the database has several heads (offline mode takes one starting point).
        """
        heads = [
            str(r[0])
            for r in read_tracking_table(
                db, self.tracking_table, ("version_num",), framework="Alembic"
            )
            or []
        ]
        if len(heads) > 1:
            raise FrameworkError(
                f"{db.display} is at several Alembic heads ({', '.join(heads)}); "
                "offline SQL needs one starting revision"
            )
        span = f"{heads[0]}:heads" if heads else "heads"
        text = self._helper(root, db.url, "sql", span)
        return split_offline_sql(str(text), self.tracking_table)

    def mark_applied(self, db: Database, root: Path, ids: Sequence[str]) -> None:
        """Writes: ``alembic stamp`` so that ``ids`` (and nothing else pending) count as applied.

        Alembic records heads only, so stamping a revision marks all its ancestors: raises
        MigrationError when one of them is pending and not in ``ids``.
        """
        migrations = {m.id: m for m in self.read(db, root)}
        graph = {r.id: r for r in self.graph(root)}
        unknown = [i for i in ids if i not in graph]
        if unknown:
            raise MigrationError(
                f"Alembic knows no revision {unknown[0]} in {root}", migration=unknown[0]
            )
        wanted = set(ids)
        applied = {i for i, m in migrations.items() if m.state is MigrationState.APPLIED}
        for rev in ids:
            ancestors = _ancestors(graph, rev)
            for ancestor in (r for r in graph if r in ancestors):  # base first: stable message
                if ancestor not in applied and ancestor not in wanted:
                    raise MigrationError(
                        f"cannot mark {rev} applied alone: its ancestor {ancestor} is pending",
                        migration=rev,
                        hint="mark both, or run the ancestor first",
                    )
        done = applied | wanted
        new_heads = sorted(
            r for r in done if not any(r in _ancestors(graph, o) for o in done if o != r)
        )
        if wanted - applied:
            self._helper(root, db.url, "stamp", *new_heads)

    def framework_status(self, db: Database, root: Path) -> dict[str, bool] | None:
        """Read-only: ``alembic current``'s heads, with their ancestors, as {revision: applied?}."""
        heads = set(self._helper(root, db.url, "current"))
        graph = {r.id: r for r in self.graph(root)}
        applied = set(heads)
        for head in heads & set(graph):
            applied |= _ancestors(graph, head)
        return {rev: rev in applied for rev in graph}

    # --- helper process ---------------------------------------------------------------------
    def _run(self, root: Path, url: URL | None, *args: str, on_line: Any = None) -> Completed:
        argv = [project_python(root), str(HELPER), str(root / self.ini_name), *args]
        env = {
            "DBMEDIC_DATABASE_URL": "" if url is None else url.render_as_string(hide_password=False)
        }
        return run_command(argv, cwd=root, env=env, on_line=on_line)

    def _helper(self, root: Path, url: URL | None, *args: str) -> Any:
        run = self._run(root, url, *args)
        outcome = _outcome(run)
        if "result" not in outcome:
            raise _error(f"alembic {args[0]}", outcome["failure"])
        return outcome["result"]


def _outcome(run: Completed) -> dict[str, Any]:
    _, mark, payload = run.stdout.rpartition(_JSON_MARK)
    if not mark:
        last = [line for line in run.output.splitlines() if line.strip()]
        return {"failure": {"error": last[-1].strip() if last else f"exit status {run.returncode}"}}
    data: dict[str, Any] = json.loads(payload)
    return data


def _error(command: str, failure: dict[str, Any]) -> FrameworkError:
    reason = str(failure.get("error") or "no error message").rstrip(".")
    file, line = failure.get("file"), failure.get("line")
    if file and line:
        return FrameworkError(
            f"{command} failed in {file} line {line}: {reason}",
            file=file,
            line=int(line),
            statement=failure.get("statement"),
            hint="fix that file and run dbmedic again",
        )
    return FrameworkError(f"{command} failed: {reason}", statement=failure.get("statement"))


def _ancestors(graph: dict[str, Revision], rev: str) -> set[str]:
    seen: set[str] = set()
    todo = list(graph[rev].down) if rev in graph else []
    while todo:
        r = todo.pop()
        if r not in seen and r in graph:
            seen.add(r)
            todo.extend(graph[r].down)
    return seen


_RUNNING_SQL = re.compile(r"^-- Running upgrade .*?-> (\S+?),?\s", re.M)


def split_offline_sql(text: str, version_table: str) -> dict[str, list[str]]:
    """Pure: offline ``upgrade --sql`` output as {revision: [statements]}.

    Sections start at ``-- Running upgrade A -> B``; statements end with ``;`` and a blank line.
    Statements on the version table, and BEGIN/COMMIT, are left out.
    """
    out: dict[str, list[str]] = {}
    marks = list(_RUNNING_SQL.finditer(text + "\n"))
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        body = text[m.end() : end]
        statements = []
        for part in re.split(r";\s*\n\s*\n", body):
            stmt = part.strip().rstrip(";").strip()
            if not stmt or stmt.upper() in ("BEGIN", "COMMIT"):
                continue
            if re.search(rf"\b{re.escape(version_table)}\b", stmt):
                continue
            statements.append(stmt)
        out[m.group(1)] = statements
    return out
