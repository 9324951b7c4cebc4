"""Schema snapshots: a :class:`~dbmedic.model.Schema` as stable, versioned JSON.

``"format": "dbmedic.schema/1"``, sorted keys, columns in ordinal order (each keeping its
ordinal), one column, index or key per line; the law ``load(dump(s)) == s`` holds. Loading
validates format, version and fields and fails with one sentence (:class:`SnapshotError`).
Snapshots carry the dialect, server version, database name and time taken, never a secret.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from dbmedic.bulk import bulk_objects
from dbmedic.errors import SnapshotError
from dbmedic.model import (
    CheckConstraint,
    Column,
    Extra,
    ForeignKey,
    Index,
    IndexColumn,
    PrimaryKey,
    Schema,
    Table,
    Trigger,
    UniqueConstraint,
    View,
)

FORMAT = "dbmedic.schema"
VERSION = 1
FORMAT_TAG = f"{FORMAT}/{VERSION}"


# --- snapshot: writing ------------------------------------------------------------------------


def _extra(bag: Extra) -> list[list[str]]:
    return [[k, v] for k, v in bag]


def _column(c: Column) -> dict[str, Any]:
    """Name, type, nullability and ordinal always; other fields only when set (a snapshot of
    5,000 tables stays small and fast). ``raw_type`` only when it differs from ``type``."""
    d: dict[str, Any] = {
        "name": c.name,
        "type": c.type,
        "nullable": c.nullable,
        "ordinal": c.ordinal,
    }
    if c.raw_type != c.type:
        d["raw_type"] = c.raw_type
    if c.default is not None:
        d["default"] = c.default
    if c.auto_increment:
        d["auto_increment"] = True
    if c.generated is not None:
        d["generated"] = c.generated
    if c.charset is not None:
        d["charset"] = c.charset
    if c.collation is not None:
        d["collation"] = c.collation
    if c.comment is not None:
        d["comment"] = c.comment
    if c.extra:
        d["extra"] = _extra(c.extra)
    return d


def _index_column(c: IndexColumn) -> dict[str, Any]:
    d: dict[str, Any] = {"name": c.name}
    if c.descending:
        d["descending"] = True
    if c.prefix is not None:
        d["prefix"] = c.prefix
    if c.expression:
        d["expression"] = True
    return d


def _index(i: Index) -> dict[str, Any]:
    return {
        "name": i.name,
        "columns": [_index_column(c) for c in i.columns],
        "unique": i.unique,
        "kind": i.kind,
        "where": i.where,
        "extra": _extra(i.extra),
    }


def _table(t: Table) -> dict[str, Any]:
    columns = sorted(t.columns.values(), key=lambda c: c.ordinal)  # stable: dict order on ties
    pk = t.primary_key
    return {
        "name": t.name,
        "columns": [_column(c) for c in columns],
        "primary_key": None if pk is None else {"name": pk.name, "columns": list(pk.columns)},
        "uniques": {
            n: {"name": u.name, "columns": list(u.columns), "extra": _extra(u.extra)}
            for n, u in t.uniques.items()
        },
        "indexes": {n: _index(i) for n, i in t.indexes.items()},
        "foreign_keys": {
            n: {
                "name": f.name,
                "columns": list(f.columns),
                "ref_table": f.ref_table,
                "ref_columns": list(f.ref_columns),
                "on_update": f.on_update,
                "on_delete": f.on_delete,
                "extra": _extra(f.extra),
            }
            for n, f in t.foreign_keys.items()
        },
        "checks": {n: {"name": c.name, "expression": c.expression} for n, c in t.checks.items()},
        "engine": t.engine,
        "charset": t.charset,
        "collation": t.collation,
        "comment": t.comment,
        "extra": _extra(t.extra),
    }


def snapshot_dict(schema: Schema) -> dict[str, Any]:
    """The snapshot of ``schema`` as plain JSON data (see :func:`dump_snapshot`)."""
    return {
        "format": FORMAT_TAG,
        "dialect": schema.dialect,
        "server_version": schema.server_version,
        "database": schema.database,
        "charset": schema.charset,
        "collation": schema.collation,
        "taken_at": schema.taken_at,
        "inspect_seconds": schema.inspect_seconds,
        "tables": {n: _table(t) for n, t in schema.tables.items()},
        "views": {
            n: {"name": v.name, "definition": v.definition, "extra": _extra(v.extra)}
            for n, v in schema.views.items()
        },
        "triggers": {
            n: {
                "name": t.name,
                "table": t.table,
                "timing": t.timing,
                "event": t.event,
                "body": t.body,
                "extra": _extra(t.extra),
            }
            for n, t in schema.triggers.items()
        },
    }


def dump_snapshot(schema: Schema) -> str:
    """``schema`` as stable JSON text: sorted keys, one line per column, index, key, view...

    Objects are indented down to each table's fields; a column, index or key is written on one
    line (so a changed column is a one-line change in git). Contains no URL and no credential:
    only the dialect, server version, database name and the objects. Byte-identical for equal
    schemas with equal provenance.
    """
    out: list[str] = []
    with bulk_objects():
        _write(snapshot_dict(schema), 0, out)
    out.append("\n")
    return "".join(out)


_PRETTY_DEPTH = 4
"""Containers nested deeper than this are written compactly (by the C encoder: fast)."""


def _make_compact() -> Callable[[Any], str]:
    """Compact, key-sorted JSON of one value. Uses the C encoder built once: ``json.dumps``
    builds a new one per call, which dominates when called for 100,000 columns. Strings,
    None, booleans and integers (most values) skip even that call."""
    from json import encoder as std

    c_make = getattr(std, "c_make_encoder", None)
    c_string = getattr(std, "c_encode_basestring", None)
    if c_make is None or c_string is None:
        dumps = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(", ", ": ")).encode
        return dumps
    make = c_make(
        None, None, c_string, None, ": ", ", ", True, False, True
    )  # markers, default, encoder, indent, key_sep, item_sep, sort_keys, skipkeys, allow_nan
    literals = {None: "null", True: "true", False: "false"}

    def compact(value: Any) -> str:
        kind = type(value)
        if kind is str:
            return str(c_string(value))
        if value is None or kind is bool:
            return literals[value]
        if kind is int:
            return int.__repr__(value)
        return "".join(make(value, 0))

    return compact


_compact = _make_compact()


class _Keys(dict[str, str]):
    """Encoded object keys, each encoded once (a snapshot repeats a few dozen keys)."""

    def __missing__(self, key: str) -> str:
        encoded = self[key] = _compact(key)
        return encoded


_keys = _Keys()


def _write(value: Any, depth: int, out: list[str]) -> None:
    if depth >= _PRETTY_DEPTH or not isinstance(value, dict | list) or not value:
        out.append(_compact(value))
        return
    pad = "\n" + "  " * (depth + 1)
    last = depth + 1 >= _PRETTY_DEPTH  # children are written compactly: no recursion per item
    deeper = depth + 1
    if isinstance(value, dict):
        keys = sorted(value)
        if last:
            out.append("{" + pad)
            out.append(("," + pad).join([f"{_keys[k]}: {_compact(value[k])}" for k in keys]))
        else:
            out.append("{")
            sep = pad
            for key in keys:
                item = value[key]
                out.append(sep + _keys[key] + ": ")
                sep = "," + pad
                if item and isinstance(item, dict | list):
                    _write(item, deeper, out)
                else:
                    out.append(_compact(item))
        out.append("\n" + "  " * depth + "}")
    else:
        if last:
            out.append("[" + pad)
            out.append(("," + pad).join(map(_compact, value)))
        else:
            out.append("[")
            sep = pad
            for item in value:
                out.append(sep)
                sep = "," + pad
                _write(item, deeper, out)
        out.append("\n" + "  " * depth + "]")


def save_snapshot(schema: Schema, path: str | os.PathLike[str]) -> Path:
    """Write the snapshot of ``schema`` to ``path`` atomically (temporary file, then rename).

    A device or pipe (``/dev/null``, ``/dev/stdout``) is written directly. Raises SnapshotError
    when the file cannot be written; a half-written file is never left behind.
    """
    target = Path(path)
    text = dump_snapshot(schema)
    try:
        if target.exists() and not target.is_file():
            with open(target, "w", encoding="utf-8") as fh:
                fh.write(text)
            return target
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as e:
        raise SnapshotError(
            f"cannot write snapshot {target} ({e.strerror or e})", path=str(target)
        ) from e
    return target


# --- snapshot: reading ------------------------------------------------------------------------


class _Reader:
    """Typed access to snapshot JSON with one-sentence errors naming the place."""

    def __init__(self, origin: str) -> None:
        self.origin = origin

    def fail(self, where: str, problem: str) -> SnapshotError:
        return SnapshotError(
            f"snapshot {self.origin} is invalid: {where} {problem}",
            path=self.origin,
            hint="take it again with `dbmedic inspect URL -o FILE`",
        )

    def obj(self, value: Any, where: str) -> Mapping[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, "is not a JSON object")
        return value

    def get(self, d: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
        if key not in d:
            raise self.fail(where, f"has no {key!r}")
        return self.check(d[key], kind, f"{where} field {key!r}")

    def opt(
        self,
        d: Mapping[str, Any],
        key: str,
        kind: type | tuple[type, ...],
        where: str,
        default: Any,
    ) -> Any:
        value = d.get(key)
        if value is None:
            return default
        return self.check(value, kind, f"{where} field {key!r}")

    def check(self, value: Any, kind: type | tuple[type, ...], where: str) -> Any:
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
            raise self.fail(where, f"is not of type {_JSON_NAMES.get(names, names)}")
        return value

    def strs(self, d: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
        items = self.get(d, key, list, where)
        return tuple(self.check(s, str, f"{where} {key!r} item") for s in items)

    def extra(self, d: Mapping[str, Any], where: str) -> Extra:
        items = self.opt(d, "extra", list, where, [])
        pairs = []
        for item in items:
            if not (
                isinstance(item, list) and len(item) == 2 and all(isinstance(s, str) for s in item)
            ):
                raise self.fail(f"{where} 'extra'", "is not a list of [name, value] pairs")
            pairs.append((item[0], item[1]))
        return tuple(sorted(pairs))

    def named(self, d: Mapping[str, Any], key: str, where: str) -> dict[str, Mapping[str, Any]]:
        items = self.opt(d, key, dict, where, {})
        return {
            self.check(n, str, f"{where} {key!r} key"): self.obj(v, f"{where} {key[:-1]} {n!r}")
            for n, v in sorted(items.items())
        }


_JSON_NAMES = {
    "str": "string",
    "int": "integer",
    "bool": "boolean",
    "dict": "object",
    "list": "array",
}


def _read_column(r: _Reader, d: Mapping[str, Any], where: str, position: int) -> Column:
    ordinal = r.opt(d, "ordinal", int, where, position)
    type_ = r.get(d, "type", str, where)
    return Column(
        name=r.get(d, "name", str, where),
        type=type_,
        nullable=r.opt(d, "nullable", bool, where, True),
        default=r.opt(d, "default", str, where, None),
        auto_increment=r.opt(d, "auto_increment", bool, where, False),
        generated=r.opt(d, "generated", str, where, None),
        charset=r.opt(d, "charset", str, where, None),
        collation=r.opt(d, "collation", str, where, None),
        comment=r.opt(d, "comment", str, where, None),
        extra=r.extra(d, where),
        ordinal=ordinal,
        raw_type=r.get(d, "raw_type", str, where) if "raw_type" in d else type_,
    )


def _read_index(r: _Reader, name: str, d: Mapping[str, Any], where: str) -> Index:
    columns = []
    for i, c in enumerate(r.get(d, "columns", list, where), 1):
        cw = f"{where} column #{i}"
        c = r.obj(c, cw)
        columns.append(
            IndexColumn(
                name=r.get(c, "name", str, cw),
                descending=r.opt(c, "descending", bool, cw, False),
                prefix=r.opt(c, "prefix", int, cw, None),
                expression=r.opt(c, "expression", bool, cw, False),
            )
        )
    return Index(
        name=name,
        columns=tuple(columns),
        unique=r.opt(d, "unique", bool, where, False),
        kind=r.opt(d, "kind", str, where, "btree"),
        where=r.opt(d, "where", str, where, None),
        extra=r.extra(d, where),
    )


def _read_table(r: _Reader, name: str, d: Mapping[str, Any]) -> Table:
    where = f"table {name!r}"
    columns: dict[str, Column] = {}
    for i, c in enumerate(r.get(d, "columns", list, where), 1):
        column = _read_column(r, r.obj(c, f"{where} column #{i}"), f"{where} column #{i}", i)
        columns[column.name] = column
    pk_data = d.get("primary_key")
    pk = None
    if pk_data is not None:
        pw = f"{where} primary key"
        pk_data = r.obj(pk_data, pw)
        pk = PrimaryKey(r.strs(pk_data, "columns", pw), r.opt(pk_data, "name", str, pw, None))
    uniques = {
        n: UniqueConstraint(
            r.opt(u, "name", str, where, n),
            r.strs(u, "columns", f"{where} unique {n!r}"),
            r.extra(u, where),
        )
        for n, u in r.named(d, "uniques", where).items()
    }
    indexes = {
        n: _read_index(r, r.opt(i, "name", str, where, n), i, f"{where} index {n!r}")
        for n, i in r.named(d, "indexes", where).items()
    }
    fks = {}
    for n, f in r.named(d, "foreign_keys", where).items():
        fw = f"{where} foreign key {n!r}"
        fks[n] = ForeignKey(
            name=r.opt(f, "name", str, fw, n),
            columns=r.strs(f, "columns", fw),
            ref_table=r.get(f, "ref_table", str, fw),
            ref_columns=r.strs(f, "ref_columns", fw),
            on_update=r.opt(f, "on_update", str, fw, "NO ACTION"),
            on_delete=r.opt(f, "on_delete", str, fw, "NO ACTION"),
            extra=r.extra(f, fw),
        )
    checks = {
        n: CheckConstraint(
            r.opt(c, "name", str, where, n), r.get(c, "expression", str, f"{where} check {n!r}")
        )
        for n, c in r.named(d, "checks", where).items()
    }
    return Table(
        name=name,
        columns=columns,
        primary_key=pk,
        uniques=uniques,
        indexes=indexes,
        foreign_keys=fks,
        checks=checks,
        engine=r.opt(d, "engine", str, where, None),
        charset=r.opt(d, "charset", str, where, None),
        collation=r.opt(d, "collation", str, where, None),
        comment=r.opt(d, "comment", str, where, None),
        extra=r.extra(d, where),
    )


def schema_from_dict(data: Any, origin: str = "<data>") -> Schema:
    """Build a Schema from parsed snapshot JSON, validating format, version and fields."""
    r = _Reader(origin)
    if not isinstance(data, dict):
        raise r.fail("the top level", "is not a JSON object")
    tag = data.get("format")
    if not isinstance(tag, str) or "/" not in tag or tag.rsplit("/", 1)[0] != FORMAT:
        raise SnapshotError(
            f"{origin} is not a dbmedic schema snapshot (format is {tag!r}, expected {FORMAT_TAG!r})",
            path=origin,
        )
    version_text = tag.rsplit("/", 1)[1]
    if not version_text.isdigit():
        raise r.fail("the format tag", f"{tag!r} has no version number")
    if int(version_text) > VERSION:
        from dbmedic import __version__

        raise SnapshotError(
            f"snapshot {origin} has format version {version_text}, newer than this dbmedic "
            f"({__version__}) reads (version {VERSION})",
            path=origin,
            hint="upgrade dbmedic",
        )
    seconds = data.get("inspect_seconds")
    if seconds is not None:
        seconds = float(r.check(seconds, (int, float), "field 'inspect_seconds'"))
    top = "the snapshot"
    tables = {
        n: _read_table(r, r.opt(t, "name", str, top, n), t)
        for n, t in r.named(data, "tables", top).items()
    }
    views = {
        n: View(
            r.opt(v, "name", str, top, n),
            r.get(v, "definition", str, f"view {n!r}"),
            r.extra(v, f"view {n!r}"),
        )
        for n, v in r.named(data, "views", top).items()
    }
    triggers = {}
    for n, t in r.named(data, "triggers", top).items():
        tw = f"trigger {n!r}"
        triggers[n] = Trigger(
            name=r.opt(t, "name", str, tw, n),
            table=r.get(t, "table", str, tw),
            timing=r.get(t, "timing", str, tw),
            event=r.get(t, "event", str, tw),
            body=r.get(t, "body", str, tw),
            extra=r.extra(t, tw),
        )
    return Schema(
        dialect=r.get(data, "dialect", str, top),
        tables=tables,
        views=views,
        triggers=triggers,
        database=r.opt(data, "database", str, top, None),
        server_version=r.opt(data, "server_version", str, top, None),
        charset=r.opt(data, "charset", str, top, None),
        collation=r.opt(data, "collation", str, top, None),
        taken_at=r.opt(data, "taken_at", str, top, None),
        inspect_seconds=seconds,
    )


def parse_snapshot(text: str, origin: str = "<text>") -> Schema:
    """A Schema from snapshot JSON text; raises SnapshotError with one sentence."""
    if not text.strip():
        raise SnapshotError(f"snapshot {origin} is empty", path=origin)
    try:
        with bulk_objects():
            data = json.loads(text)
    except json.JSONDecodeError as e:
        at_end = e.pos >= len(text.rstrip())
        if at_end or (e.msg.startswith(("Unterminated", "Expecting")) and _truncated(text)):
            raise SnapshotError(
                f"snapshot {origin} is truncated (the JSON ends at line {e.lineno} before it is complete)",
                path=origin,
                hint="take it again with `dbmedic inspect URL -o FILE`",
            ) from None
        raise SnapshotError(
            f"snapshot {origin} is not JSON ({e.msg} at line {e.lineno}, column {e.colno})",
            path=origin,
        ) from None
    with bulk_objects():
        return schema_from_dict(data, origin)


def _truncated(text: str) -> bool:
    """JSON that starts like an object or array but whose brackets never close."""
    stripped = text.strip()
    return stripped.startswith(("{", "[")) and stripped.count("{") + stripped.count(
        "["
    ) > stripped.count("}") + stripped.count("]")


def load_snapshot(path: str | os.PathLike[str]) -> Schema:
    """Read and validate a snapshot file; raises SnapshotError (missing, not JSON, truncated,
    wrong format, newer version, missing fields)."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise SnapshotError(f"snapshot {p} does not exist", path=str(p)) from None
    except OSError as e:
        raise SnapshotError(f"cannot read snapshot {p} ({e.strerror or e})", path=str(p)) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise SnapshotError(f"snapshot {p} is not JSON (not UTF-8 text)", path=str(p)) from None
    return parse_snapshot(text, str(p))
