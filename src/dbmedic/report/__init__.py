"""Reports: the same facts as Markdown (the seed report's shape), self-contained HTML, and JSON.

``render(facts, fmt)`` returns the text; ``write(facts, path)`` picks the format from the file's
suffix (``.md``, ``.html``, ``.json``) and writes atomically. ``facts`` is a result object with a
``to_dict()`` (a :class:`dbmedic.diagnosis.Diagnosis` now, a fix outcome later) or a ready
:class:`~dbmedic.report.view.ReportView`.

Markdown and HTML are Jinja2 templates (``templates/*.j2``, loaded with importlib.resources,
StrictUndefined, autoescaped for HTML) over a view model; templates format numbers and never count.
JSON is ``facts.to_dict()`` with ``"format": "dbmedic.report/1"``, described by
``docs/report.schema.json``. Every output passes a last scrub: known secrets and any password in
a URL become ``***``.
"""

from __future__ import annotations

import os
import re
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dbmedic.errors import ConfigError

if TYPE_CHECKING:
    import jinja2

__all__ = ["FORMATS", "JSON_FORMAT", "format_for", "render", "write"]

JSON_FORMAT = "dbmedic.report/1"
"""Version of the JSON report; bump the number on an incompatible change (docs/report.schema.json)."""

FORMATS: dict[str, str] = {
    ".md": "md",
    ".markdown": "md",
    ".html": "html",
    ".htm": "html",
    ".json": "json",
}
"""File suffix -> format."""

_URL_PASSWORD = re.compile(r"(?P<head>\b[a-z][a-z0-9+.-]*://[^\s:/@'\"<>]*):(?P<pw>[^\s@/'\"<>]+)@")


def format_for(path: Path | str) -> str:
    """The report format for a file name; raises ConfigError for an unknown suffix."""
    suffix = Path(path).suffix.lower()
    try:
        return FORMATS[suffix]
    except KeyError:
        raise ConfigError(
            f"cannot tell the report format of {Path(path).name!r} from its suffix",
            hint="name the report file .md, .html or .json",
        ) from None


def render(facts: Any, fmt: str) -> str:
    """The report of ``facts`` as ``md``, ``html`` or ``json`` text. Pure; raises ConfigError
    for an unknown format."""
    if fmt == "json":
        return _render_json(facts)
    if fmt not in ("md", "html"):
        raise ConfigError(f"unknown report format {fmt!r}", hint="use md, html or json")
    from dbmedic.report.adapt import kind_of, to_view

    if kind_of(facts) == "fix":
        from dbmedic.report.fixview import fix_view

        fix_template = _environment().get_template(f"fix.{fmt}.j2")
        return _clean(fix_template.render({"v": fix_view(facts)}))
    view = to_view(facts)
    template = _environment().get_template(f"report.{fmt}.j2")
    context: dict[str, Any] = {"v": view}
    if fmt == "html":
        from dbmedic.report import svg

        context["timeline"] = svg.timeline(view) if view.timeline else None
        context["parity"] = svg.parity(view.parity) if view.parity else None
        context["palette"] = svg.PALETTE
    return _clean(template.render(context))


def write(facts: Any, path: Path | str) -> Path:
    """Writes ``path`` (format from its suffix) atomically: a temporary file in the same folder,
    flushed, then renamed over the target. Raises ConfigError for an unknown suffix or a folder
    that does not exist."""
    target = Path(path)
    text = render(facts, format_for(target))
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise ConfigError(
            f"cannot write the report {target}: folder {folder} does not exist",
            hint="create the folder or choose another path",
        )
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def _render_json(facts: Any) -> str:
    import json

    to_dict = getattr(facts, "to_dict", None)
    if to_dict is None:
        raise ConfigError(
            f"a JSON report needs a result with to_dict(), not {type(facts).__name__}"
        )
    facts_dict = _scrub_tree(to_dict())
    payload = {
        "format": JSON_FORMAT,
        "kind": _kind(facts),
        "facts_format": facts_dict.pop("format", None),
        **facts_dict,
    }
    return json.dumps(payload, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _kind(facts: Any) -> str:
    from dbmedic.report.adapt import kind_of

    return kind_of(facts)


def _clean(text: str) -> str:
    """Last line of defence: known secrets and URL passwords become ``***``."""
    from dbmedic.secrets import scrub

    return _URL_PASSWORD.sub(r"\g<head>:***@", scrub(text))


def _scrub_tree(value: Any) -> Any:
    if isinstance(value, str):
        return _clean(value)
    if isinstance(value, dict):
        return {str(k): _scrub_tree(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub_tree(v) for v in value]
    return value


def preload(fmt: str = "md") -> None:
    """Import and compile what rendering a fix report in ``fmt`` needs (Jinja2, the view, the
    template), for a caller that waits anyway (see :func:`dbmedic.apply.preload`)."""
    if fmt == "json":
        return
    from dbmedic.report import adapt, fixview  # noqa: F401  (imported for their cost)

    _environment().get_template(f"fix.{fmt}.j2")


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    import jinja2

    from dbmedic.report import filters

    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(_load_template),
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html.j2",), default_for_string=False, default=False
        ),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(filters.FILTERS)
    return env


def _load_template(name: str) -> str | None:
    from importlib.resources import files

    resource = files("dbmedic.report").joinpath("templates", name)
    if not resource.is_file():
        return None
    return resource.read_text(encoding="utf-8")
