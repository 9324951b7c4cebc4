"""Helpers for the report tests: a tiny JSON Schema validator and a headless Chromium screenshot.

The validator covers the subset ``docs/report.schema.json`` uses (type, const, enum, required,
properties, additionalProperties, items, oneOf, minimum, local ``$ref``); it raises on a keyword it
does not know, so the schema cannot silently outgrow it.

Chromium: Debian's ``chromium`` takes the screenshot with ``--screenshot`` and, with
``--enable-logging=stderr --v=0``, logs every console message of the page as a line with
``:CONSOLE`` (``INFO:CONSOLE:1] "Uncaught ReferenceError: ..."``, ``console.error`` output, and
Content-Security-Policy refusals, which is how a reference to the network would show, since the
report's CSP is ``default-src 'none'``). Any such line is a console error for the tests.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

KNOWN = {
    "$schema", "$id", "$defs", "title", "description", "type", "const", "enum", "required",
    "properties", "additionalProperties", "items", "oneOf", "minimum", "$ref",
}  # fmt: skip

_TYPES: dict[str, Any] = {
    "object": dict,
    "array": list,
    "string": str,
    "boolean": bool,
    "null": type(None),
}


def validate(instance: Any, schema: dict[str, Any], root: dict[str, Any] | None = None) -> None:
    """Raise AssertionError naming the JSON path of the first violation."""
    _check(instance, schema, root or schema, "$")


def _is_type(value: Any, name: str) -> bool:
    if name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if name == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, _TYPES[name])


def _check(value: Any, schema: dict[str, Any], root: dict[str, Any], path: str) -> None:
    unknown = set(schema) - KNOWN
    assert not unknown, f"{path}: schema keyword(s) the test validator does not know: {unknown}"
    if "$ref" in schema:
        ref = schema["$ref"]
        assert ref.startswith("#/$defs/"), f"{path}: only local $ref supported, got {ref}"
        _check(value, root["$defs"][ref.split("/")[-1]], root, path)
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        assert any(_is_type(value, t) for t in types), f"{path}: {value!r} is not {types}"
    if "const" in schema:
        assert value == schema["const"], f"{path}: {value!r} != {schema['const']!r}"
    if "enum" in schema:
        assert value in schema["enum"], f"{path}: {value!r} not in {schema['enum']}"
    if "minimum" in schema and value is not None and _is_type(value, "number"):
        assert value >= schema["minimum"], f"{path}: {value} < {schema['minimum']}"
    if "oneOf" in schema:
        passed = 0
        for option in schema["oneOf"]:
            try:
                _check(value, option, root, path)
                passed += 1
            except AssertionError:
                pass
        assert passed == 1, f"{path}: {value!r} matches {passed} of the oneOf schemas, not 1"
    if isinstance(value, dict):
        for key in schema.get("required", ()):
            assert key in value, f"{path}: required property {key!r} missing"
        props = schema.get("properties", {})
        for key, item in value.items():
            if key in props:
                _check(item, props[key], root, f"{path}.{key}")
            elif isinstance(schema.get("additionalProperties"), dict):
                _check(item, schema["additionalProperties"], root, f"{path}.{key}")
            elif schema.get("additionalProperties") is False:
                raise AssertionError(f"{path}: property {key!r} not allowed")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            _check(item, schema["items"], root, f"{path}[{i}]")


CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
    "--v=0",
]


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@dataclass(frozen=True)
class Shot:
    png: Path
    console: list[str]
    """Console lines the page logged (errors, uncaught exceptions, CSP refusals)."""
    stderr: str


def screenshot(html: Path, png: Path, size: str = "1280,2000") -> Shot:
    """Open ``html`` in headless Chromium, write ``png``, return the console lines."""
    exe = chromium()
    assert exe, "chromium is not installed"
    with tempfile.TemporaryDirectory(prefix="dbmedic-chromium-") as profile:
        run = subprocess.run(
            [
                exe,
                *CHROMIUM_FLAGS,
                f"--user-data-dir={profile}",
                f"--screenshot={png}",
                f"--window-size={size}",
                html.resolve().as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
    console = [
        line
        for line in run.stderr.splitlines()
        if re.search(r":CONSOLE\b|Uncaught|Refused to", line)
    ]
    return Shot(png, console, run.stderr)


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk."""
    data = path.read_bytes()[:24]
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


NUMBER = r"(?<![\w.])\d[\d,]*(?:\.\d+)?(?![\w])"
"""A number standing alone (not the digits of an id such as ``create_table_136``)."""


def numbers_in(value: object) -> set[str]:
    """Numeric values of a JSON tree, lengths of its lists, and numbers standing alone in its
    texts; an ISO date counts by its parts, a float also rounded as reports show it."""
    if isinstance(value, bool) or value is None:
        return set()
    if isinstance(value, float):  # durations are shown rounded
        return {str(value), f"{value:.1f}", f"{value:.0f}"}
    if isinstance(value, int):
        return {str(value)}
    if isinstance(value, str):
        if re.match(r"\d{4}-\d\d-\d\dT", value):
            return set(re.findall(r"\d+", value))
        return {n.replace(",", "") for n in re.findall(NUMBER, value)}
    if isinstance(value, dict):
        return set().union(*(numbers_in(v) for v in value.values()))
    if isinstance(value, list):
        return {str(len(value))}.union(*(numbers_in(v) for v in value))
    return set()


def prose_numbers(markdown: str) -> list[str]:
    """Numbers in a Markdown report outside code (ids, files, commands) and the footer."""
    prose = re.sub(r"```.*?```", "", markdown, flags=re.S)
    prose = re.sub(r"`[^`]*`", "", prose).rsplit("\n---\n", 1)[0]
    return [n.replace(",", "") for n in re.findall(NUMBER, prose)]
