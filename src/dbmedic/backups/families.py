"""Per-family behaviour of backups, in one registry keyed by ``family`` (mysql, postgresql, sqlite).

A :class:`Family` answers the questions backup and restore ask of a database kind: server facts,
table names, how to create the database, how to compute table checksums; it owns the dump
:class:`Method` s (built-in dumper, external tool, SQLite online backup). Nothing else in the
backup package asks which database it is talking to.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from dbmedic.backups.manifest import FileEntry, TableEntry
from dbmedic.errors import BackupError, ConnectError

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

    from dbmedic.driver import DbUrl


@dataclass(frozen=True, slots=True)
class Progress:
    """What a backup or restore has done so far (sent to the ``progress`` callback)."""

    phase: str
    tables_done: int
    tables_total: int
    rows: int
    bytes: int


ProgressFn = Callable[[Progress], None]


class Tracker:
    """Thread-safe progress counters that call the user's callback (at most every 64 KiB/step)."""

    def __init__(self, callback: ProgressFn | None, phase: str, tables_total: int = 0) -> None:
        self.callback = callback
        self.phase = phase
        self.tables_total = tables_total
        self.tables_done = 0
        self.rows = 0
        self.bytes = 0
        self._lock = threading.Lock()

    def add(self, rows: int = 0, nbytes: int = 0, tables: int = 0) -> None:
        with self._lock:
            self.rows += rows
            self.bytes += nbytes
            self.tables_done += tables
            snapshot = Progress(
                self.phase, self.tables_done, self.tables_total, self.rows, self.bytes
            )
        if self.callback is not None:
            self.callback(snapshot)


@dataclass
class Source:
    """A database to back up or restore into: parsed URL (with password), family, safe name.

    A URL given as text stays a :class:`~dbmedic.driver.DbUrl`, so that a backup, which talks
    to its drivers directly, never imports SQLAlchemy (0.2 s of every run); ``sa_url`` gives
    SQLAlchemy's ``URL`` to the code that needs an engine."""

    url: URL | DbUrl
    family: str
    display: str
    database: str

    @property
    def sa_url(self) -> URL:
        from dbmedic.driver import DbUrl

        return self.url.to_sqlalchemy() if isinstance(self.url, DbUrl) else self.url

    def connect_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of the DBAPI ``connect()`` for this URL, as SQLAlchemy computes
        them (by the dialect itself for plain URLs, through SQLAlchemy for the others)."""
        from dbmedic.dialects import get_dialect
        from dbmedic.driver import DbUrl

        if isinstance(self.url, DbUrl):
            kwargs = get_dialect(self.family).driver_args(self.url)
            if kwargs is not None:
                return kwargs
        url = self.sa_url
        _args, options = url.get_dialect()().create_connect_args(url)
        return dict(options)


def connect_error(source: Source, e: BaseException) -> ConnectError:
    """``cannot connect to <redacted URL> (<reason>)``, worded by the dialect like every other
    dbmedic command (``dbmedic.connect``)."""
    from dbmedic.dialects import get_dialect
    from dbmedic.secrets import scrub

    reason = scrub(get_dialect(source.family).describe_error(e))
    return ConnectError(f"cannot connect to {source.display} ({reason})", url=source.display)


def describe(family: str, e: BaseException | None) -> str:
    """A driver error as the dialect words it, without secrets."""
    if e is None:
        return "unknown error"
    from dbmedic.dialects import get_dialect
    from dbmedic.secrets import scrub

    return scrub(get_dialect(family).describe_error(e))


@dataclass(frozen=True, slots=True)
class Facts:
    dialect: str
    version: str
    charset: str | None = None
    collation: str | None = None
    grants: tuple[str, ...] = ()


@dataclass
class DumpJob:
    """Inputs of one dump: where to write, how, and whom to tell."""

    source: Source
    root: Path
    compression: str
    jobs: int
    schema_only: bool
    tracker: Tracker


@dataclass
class DumpOutput:
    tables: list[TableEntry]
    files: list[FileEntry]
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class RestoreJob:
    """Inputs of one restore: the checked backup directory, its manifest, the target."""

    root: Path
    tables: tuple[TableEntry, ...]
    files: tuple[FileEntry, ...]
    extra: dict[str, Any]
    target: Source
    jobs: int
    force: bool
    tracker: Tracker


class Method:
    """One way of dumping and restoring (recorded as ``method`` in the manifest)."""

    name: ClassVar[str] = ""
    tool: ClassVar[str] = "dbmedic"
    builtin: ClassVar[bool] = True
    compresses: ClassVar[bool] = False
    """True when the method writes compressed files itself (pg_dump's custom format)."""

    def available(self) -> bool:
        return True

    def tool_version(self) -> str:
        from dbmedic import __version__

        return __version__

    def dump(self, job: DumpJob) -> DumpOutput:
        raise NotImplementedError

    def restore(self, job: RestoreJob) -> None:
        raise NotImplementedError


class Family:
    """Backup behaviour of one database family; subclasses register with :func:`register_family`."""

    name: ClassVar[str] = ""
    methods: ClassVar[tuple[type[Method], ...]] = ()
    """Methods in order of preference for ``tool="auto"``."""

    def facts(self, source: Source) -> Facts:
        raise NotImplementedError

    def table_names(self, source: Source) -> list[str]:
        raise NotImplementedError

    def create_database(self, target: Source, charset: str | None, collation: str | None) -> None:
        raise NotImplementedError

    def drop_tables(self, target: Source, names: list[str]) -> None:
        raise NotImplementedError

    def checksums(
        self, target: Source, tables: tuple[TableEntry, ...], jobs: int
    ) -> list[TableEntry]:
        """Recompute the manifest's table entries on ``target`` with the same method and parts."""
        raise NotImplementedError

    def method(self, tool: str) -> Method:
        """The method for ``tool``: ``auto`` (first available), ``builtin`` or ``external``."""
        for cls in self.methods:
            candidate = cls()
            if tool == "builtin" and not candidate.builtin:
                continue
            if tool == "external" and candidate.builtin:
                continue
            if candidate.available():
                return candidate
        wanted = {"builtin": "a built-in dumper", "external": "a dump tool"}.get(tool, "a dumper")
        raise BackupError(
            f"no {wanted} is available for {self.name} databases",
            hint="install mariadb-dump / pg_dump or use the built-in dumper (--builtin)",
        )

    def method_named(self, name: str) -> Method:
        for cls in self.methods:
            if cls.name == name:
                candidate = cls()
                if not candidate.available():
                    raise BackupError(
                        f"this backup needs {candidate.tool} to be restored, and it is not installed"
                    )
                return candidate
        raise BackupError(f"this backup was made by {name!r}, which this dbmedic cannot restore")


_FAMILIES: dict[str, type[Family]] = {}
_MODULES = {
    "mysql": "dbmedic.backups.mysql",
    "postgresql": "dbmedic.backups.postgres",
    "sqlite": "dbmedic.backups.sqlite",
}
F = TypeVar("F", bound=type[Family])


def register_family(name: str) -> Callable[[F], F]:
    def deco(cls: F) -> F:
        cls.name = name
        _FAMILIES[name] = cls
        return cls

    return deco


def get_family(name: str) -> Family:
    if name not in _FAMILIES:
        import importlib

        module = _MODULES.get(name)
        if module is None:
            raise BackupError(f"dbmedic cannot back up {name!r} databases")
        importlib.import_module(module)
    return _FAMILIES[name]()
