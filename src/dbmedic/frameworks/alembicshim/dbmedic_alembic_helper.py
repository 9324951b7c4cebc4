"""dbmedic's helper run in an Alembic project's Python: Alembic's own API, JSON on stdout.

``python dbmedic_alembic_helper.py INI COMMAND ARGS``. The target database comes from
``DBMEDIC_DATABASE_URL`` (environment, never argv) and replaces ``sqlalchemy.url`` in the
config, which a stock ``env.py`` reads with ``config.get_main_option("sqlalchemy.url")``.

Commands: ``graph`` (revisions base to head), ``upgrade TARGET``, ``sql RANGE`` (offline
``upgrade --sql``), ``stamp REV...``, ``current``. While upgrading, each revision is announced on
stdout as ``@@dbmedic-running@@ REV`` before it runs. Errors end with a JSON object.

This file runs inside the user's project: standard library and Alembic only.
"""

import io
import json
import os
import sys
import traceback

MARK = "@@dbmedic-json@@"


def _spy_on_steps():
    """Announce each migration step (wraps the logger alembic.runtime.migration uses)."""
    import alembic.runtime.migration as rm

    class Spy:
        def __init__(self, inner):
            self._inner = inner

        def info(self, msg, *args, **kw):
            if msg == "Running %s" and args:
                rev = getattr(getattr(args[0], "revision", None), "revision", None)
                if rev:
                    sys.stdout.write(f"@@dbmedic-running@@ {rev}\n")
                    sys.stdout.flush()
            return self._inner.info(msg, *args, **kw)

        def __getattr__(self, name):
            return getattr(self._inner, name)

    rm.log = Spy(rm.log)


def _config(ini):
    from alembic.config import Config

    cfg = Config(ini, stdout=sys.stdout)
    location = cfg.get_main_option("script_location") or ""
    if location and ":" not in location and not os.path.isabs(location):
        here = os.path.dirname(os.path.abspath(ini))
        cfg.set_main_option("script_location", os.path.join(here, location).replace("%", "%%"))
    url = os.environ.get("DBMEDIC_DATABASE_URL")
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def graph(cfg):
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(cfg)
    out = []
    for rev in reversed(list(script.walk_revisions("base", "heads"))):
        down = rev.down_revision
        out.append(
            {
                "revision": rev.revision,
                "down": [] if down is None else ([down] if isinstance(down, str) else list(down)),
                "doc": rev.doc,
                "path": rev.path,
                "is_head": rev.is_head,
            }
        )
    return out


def current(cfg):
    from alembic import command

    buf = io.StringIO()
    cfg.stdout = buf
    command.current(cfg)
    return [line.split()[0] for line in buf.getvalue().splitlines() if line.strip()]


def offline_sql(cfg, rng):
    from alembic import command

    buf = io.StringIO()
    cfg.output_buffer = buf
    _spy_on_steps()
    command.upgrade(cfg, rng, sql=True)
    return buf.getvalue()


def _error(exc):
    root = os.getcwd()
    frames = traceback.extract_tb(exc.__traceback__)
    file = line = None
    for frame in frames:
        path = os.path.abspath(frame.filename)
        if path.startswith(root + os.sep) and "site-packages" not in path and os.path.isfile(path):
            file, line = os.path.relpath(path, root), frame.lineno
    if isinstance(exc, SyntaxError) and exc.filename:
        path = os.path.abspath(exc.filename)
        if path.startswith(root + os.sep):
            file, line = os.path.relpath(path, root), exc.lineno
    orig = getattr(exc, "orig", None)
    message = str(orig if orig is not None else exc).strip().splitlines()
    return {
        "error": f"{type(orig if orig is not None else exc).__name__}: {message[0] if message else ''}",
        "statement": getattr(exc, "statement", None),
        "file": file,
        "line": line,
    }


def main(argv):
    ini, command_name, args = argv[0], argv[1], argv[2:]
    cfg = _config(ini)
    from alembic import command

    if command_name == "graph":
        return graph(cfg)
    if command_name == "current":
        return current(cfg)
    if command_name == "sql":
        return offline_sql(cfg, args[0])
    if command_name == "upgrade":
        _spy_on_steps()
        command.upgrade(cfg, args[0])
        return "ok"
    if command_name == "stamp":
        command.stamp(cfg, args)
        return "ok"
    raise SystemExit(f"unknown command {command_name}")


if __name__ == "__main__":
    sys.path.insert(0, os.getcwd())
    try:
        result = main(sys.argv[1:])
    except Exception as exc:  # reported to dbmedic as JSON, exit 1
        traceback.print_exc()
        sys.stdout.write(f"\n{MARK}\n" + json.dumps({"failure": _error(exc)}) + "\n")
        sys.exit(1)
    sys.stdout.write(f"\n{MARK}\n" + json.dumps({"result": result}) + "\n")
