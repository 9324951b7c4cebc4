"""Repair runs as recorded on disk: ``<state>/.dbmedic/runs/<id>/`` read back, listed, checked.

A run folder holds ``plan.json``, ``journal.jsonl`` (fsynced events, see
:class:`dbmedic.apply.Journal`), ``schema-<n>.json`` (the schema after step n; ``schema-0.json``
before the run) and ``report.md``. The state of a run is derived from its journal:

- ``finished``: a ``run-end`` with verdict ``done``;
- ``rolled-back``: failed, restored from the backup and proven (verdict ``rolled-back``);
- ``nothing-changed``: failed before anything was written;
- ``not-rolled-back``: failed and left as it was (``--no-rollback`` or a failed rollback);
- ``hook-failed``: repaired and verified, then a post-fix hook failed (the repair is kept);
- ``interrupted``: a ``run-start`` without ``run-end`` (killed, Ctrl-C, power cut).

A torn last line is the normal result of a crash and is skipped; a bad line anywhere else means
the journal was damaged and is refused (:class:`JournalError`), as is a run of another database.
Reads only.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dbmedic.errors import DbmedicError

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

    from dbmedic.connect import Database
    from dbmedic.model import Schema
    from dbmedic.plan import Plan

RUNS = Path(".dbmedic") / "runs"
INTERRUPTED = "interrupted"
FINISHED = "finished"
STATES = {
    "done": FINISHED,
    "rolled-back": "rolled-back",
    "nothing-changed": "nothing-changed",
    "not-rolled-back": "not-rolled-back",
    "hook-failed": "hook-failed",
}


class JournalError(DbmedicError):
    """A run that does not exist, a damaged journal, or one of another database (exit 2)."""


class RunMismatch(DbmedicError):
    """The database or the backup is not where the run's journal left them (exit 2; nothing
    was changed): a change by hand, a deleted or damaged backup, a half-done statement."""


def runs_dir(state_dir: Path | str) -> Path:
    """``<state>/.dbmedic/runs`` (a path ending in ``runs`` is taken as the folder itself)."""
    path = Path(state_dir)
    return path if path.name == "runs" and path.parent.name == ".dbmedic" else path / RUNS


def database_key(db: Database | Any) -> list[Any]:
    """[family, host, port, database]: the identity a journal records (no user, no password)."""
    from dbmedic.config import same_database_key

    url: URL = db.url if hasattr(db, "url") else db  # type: ignore[assignment]
    return list(same_database_key(url))


_FINGERPRINTS: list[tuple[Schema, str]] = []
"""The last few schemas fingerprinted (a repair compares the same read several times: its step
record, the promotion's digest and proof; ~20 ms each at 244 tables). Schemas are immutable."""


def fingerprint(schema: Schema) -> str:
    """sha256 of the schema's objects (tables, views, triggers), independent of when it was read."""
    from dbmedic.snapshot import snapshot_dict

    for known, digest in _FINGERPRINTS:
        if known is schema:
            return digest
    data = snapshot_dict(schema)
    objects = {k: data[k] for k in ("tables", "views", "triggers")}
    digest = hashlib.sha256(json.dumps(objects, sort_keys=True, default=str).encode()).hexdigest()
    _FINGERPRINTS.insert(0, (schema, digest))
    del _FINGERPRINTS[4:]  # each holds its schema: a few, not a growing list
    return digest


def record_schema(
    directory: Path, step: int, schema: Schema, same_as: int | None = None
) -> dict[str, Any]:
    """Save ``schema-<step>.json`` in the run folder; the journal fields that name it.
    ``same_as``: the step whose record is this very schema (a step that read nothing again: the
    backup, the verification, a framework's default hook), whose file is copied instead of
    dumped again (~25 ms at 244 tables)."""
    import shutil

    from dbmedic.snapshot import dump_snapshot

    path = directory / f"schema-{step}.json"
    earlier = directory / f"schema-{same_as}.json"
    if same_as is not None and earlier.is_file():
        shutil.copyfile(earlier, path)
    else:
        path.write_text(dump_snapshot(schema), encoding="utf-8")
    return {"fingerprint": fingerprint(schema), "tables": len(schema.tables)}


@dataclass(frozen=True, slots=True)
class RunSummary:
    """One run as ``dbmedic runs`` shows it."""

    id: str
    state: str
    target: str
    strategy: str
    started: str
    steps_done: int
    steps_total: int
    backup: str | None
    directory: str
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "state": self.state,
            "target": self.target,
            "strategy": self.strategy,
            "started": self.started,
            "steps_done": self.steps_done,
            "steps_total": self.steps_total,
            "backup": self.backup,
            "directory": self.directory,
            "error": self.error,
        }


@dataclass(frozen=True, slots=True)
class RunRecord:
    """A run folder read back: its plan (as data), events and what they say."""

    id: str
    directory: Path
    plan: dict[str, Any]
    events: tuple[dict[str, Any], ...]

    @property
    def start(self) -> dict[str, Any]:
        return self.events[0]

    @property
    def end(self) -> dict[str, Any] | None:
        return next((e for e in reversed(self.events) if e.get("event") == "run-end"), None)

    @property
    def state(self) -> str:
        end = self.end
        undone = [e for e in self.events if e.get("event") == "rollback-end"]
        if undone and undone[-1].get("verified") and undone[-1].get("by") == "rollback":
            return "rolled-back"
        if end is None:
            return INTERRUPTED
        return STATES.get(str(end.get("verdict")), str(end.get("verdict")))

    @property
    def backup(self) -> str | None:
        found = [e.get("path") for e in self.events if e.get("event") == "backup"]
        return str(found[-1]) if found else None

    def step_ends(self) -> dict[int, dict[str, Any]]:
        """The last ``step-end`` of each step number."""
        return {int(e["step"]): e for e in self.events if e.get("event") == "step-end"}

    def finished_steps(self) -> list[int]:
        return sorted(n for n, e in self.step_ends().items() if e.get("status") == "ok")

    def statements_done(self, step: int) -> set[int]:
        return {
            int(e["statement"])
            for e in self.events
            if e.get("event") == "step-statement" and e.get("step") == step
        }

    def error(self) -> str | None:
        failed = [e.get("error") for e in self.step_ends().values() if e.get("status") == "failed"]
        return str(failed[-1]) if failed else None

    def load_plan(self) -> Plan:
        from dbmedic.plan import Plan, Step, StepKind

        d = self.plan
        try:
            steps = tuple(
                Step(
                    int(s["number"]),
                    StepKind(s["kind"]),
                    str(s["title"]),
                    statements=tuple(s.get("statements", ())),
                    reverse_statements=tuple(s.get("reverse_statements", ())),
                    command=tuple(s.get("command", ())),
                    migrations=tuple(s.get("migrations", ())),
                    destructive=bool(s.get("destructive", False)),
                    transactional=bool(s.get("transactional", False)),
                    checks=tuple(s.get("checks", ())),
                    shadow=s.get("shadow"),
                    digest=s.get("digest"),
                    keeps_schema=bool(s.get("keeps_schema", False)),
                )
                for s in d["steps"]
            )
            return Plan(
                str(d["strategy"]), str(d["target"]), str(d["dialect"]), steps,
                framework=d.get("framework"), app=d.get("app"), reference=d.get("reference"),
                expected_tables=d.get("expected_tables"), critical=tuple(d.get("critical", ())),
                accepted_differences=tuple(d.get("accepted_differences", ())),
            )  # fmt: skip
        except (KeyError, TypeError, ValueError) as e:
            raise JournalError(
                f"the plan of run {self.id} in {self.directory / 'plan.json'} is damaged ({e})",
                hint="rollback the run from its backup instead",
            ) from e

    def schema_after(self, step: int) -> Schema:
        """The schema recorded after ``step`` (0: before the run)."""
        from dbmedic.snapshot import load_snapshot

        return load_snapshot(self.directory / f"schema-{step}.json")

    def summary(self) -> RunSummary:
        steps = self.plan.get("steps", [])
        return RunSummary(
            id=self.id,
            state=self.state,
            target=str(self.start.get("target", "?")),
            strategy=str(self.start.get("strategy", self.plan.get("strategy", "?"))),
            started=str(self.start.get("time", "")),
            steps_done=len(self.finished_steps()),
            steps_total=len(steps) if isinstance(steps, list) else 0,
            backup=self.backup,
            directory=str(self.directory),
            error=self.error(),
        )

    def check_database(self, db: Database) -> None:
        """Raise JournalError when this run was made on another database than ``db``."""
        mine, theirs = database_key(db), self.start.get("database")
        if theirs is not None and list(theirs) != mine:
            raise JournalError(
                f"run {self.id} was made on {self.start.get('target', 'another database')}, "
                f"not on {db.display}",
                hint="pass the database of that run (--db / --env); nothing was changed",
            )


def read_journal(path: Path) -> list[dict[str, Any]]:
    """Every event of ``journal.jsonl``; a torn LAST line is skipped, any other bad line raises."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise JournalError(f"cannot read the run journal {path} ({e})") from e
    events: list[dict[str, Any]] = []
    for number, line in enumerate(lines, start=1):
        try:
            event = json.loads(line)
            if not isinstance(event, dict) or "event" not in event:
                raise ValueError("not an event")
        except ValueError:
            if number == len(lines):
                break  # torn by a crash while writing: the event did not happen
            raise JournalError(
                f"the run journal {path} is corrupt at line {number}",
                hint="it was edited or damaged; nothing was changed",
            ) from None
        events.append(event)
    if not events or events[0].get("event") != "run-start":
        raise JournalError(f"the run journal {path} does not begin with the start of a run")
    return events


def read_run(state_dir: Path | str, run_id: str) -> RunRecord:
    """The run ``run_id`` under ``state_dir``; raises JournalError when it does not exist or is
    damaged."""
    folder = runs_dir(state_dir)
    directory = folder / run_id
    if "/" in run_id or run_id in ("", ".", "..") or not (directory / "journal.jsonl").is_file():
        raise JournalError(
            f"there is no run {run_id!r} in {folder}",
            hint="`dbmedic runs` lists the runs (pass --dir for another state folder)",
        )
    events = read_journal(directory / "journal.jsonl")
    try:
        plan = json.loads((directory / "plan.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise JournalError(f"the plan of run {run_id} in {directory} is missing or damaged") from e
    return RunRecord(run_id, directory, plan, tuple(events))


def list_runs(state_dir: Path | str) -> list[RunSummary]:
    """Every run under ``state_dir``, oldest first; raises JournalError for a damaged one."""
    folder = runs_dir(state_dir)
    if not folder.is_dir():
        return []
    records = [
        read_run(state_dir, d.name) for d in folder.iterdir() if (d / "journal.jsonl").is_file()
    ]
    # Run ids carry the start second only, so two runs in one second sort by their journals'
    # millisecond start times.
    records.sort(key=lambda r: (str(r.events[0].get("time", "")), r.id))
    return [r.summary() for r in records]
