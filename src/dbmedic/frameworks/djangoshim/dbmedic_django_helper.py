"""dbmedic's helper run inside a Django project: prints JSON on stdout.

``python dbmedic_django_helper.py graph``: every migration Django's loader knows, in
``showmigrations --plan`` order, with file, dependencies and the migrations it replaces (no
database connection). ``sql APP.NAME...``: the SQL of each (Django's ``sqlmigrate``).
``mark APP.NAME...``: record them as applied in ``django_migrations``.

This file runs inside the user's project: standard library and Django only.
"""

import json
import os
import sys

sys.path.insert(0, os.getcwd())

import django

django.setup()

from django.db import connections  # noqa: E402
from django.db.migrations.loader import MigrationLoader  # noqa: E402


def _file(migration):
    module = sys.modules.get(type(migration).__module__)
    return getattr(module, "__file__", None)


def graph() -> list:
    loader = MigrationLoader(None, ignore_no_migrations=True)
    nodes, seen = [], set()
    for target in sorted(loader.graph.leaf_nodes()):
        for key in loader.graph.forwards_plan(target):
            if key in seen:
                continue
            seen.add(key)
            migration = loader.graph.nodes[key]
            nodes.append(
                {
                    "app": key[0],
                    "name": key[1],
                    "file": _file(migration),
                    "dependencies": [list(d) for d in migration.dependencies],
                    "replaces": [list(r) for r in migration.replaces],
                }
            )
    return nodes


def sql(ids: list) -> dict:
    loader = MigrationLoader(connections["default"], ignore_no_migrations=True)
    out = {}
    for mid in ids:
        app, name = mid.split(".", 1)
        migration = loader.get_migration(app, name)
        collect = getattr(loader, "collect_sql", None)
        if collect is None:  # Django < 4.2
            from django.db.migrations.executor import MigrationExecutor

            collect = MigrationExecutor(connections["default"]).collect_sql
        out[mid] = collect([(migration, False)])
    return out


def mark(ids: list) -> list:
    from django.db.migrations.recorder import MigrationRecorder

    recorder = MigrationRecorder(connections["default"])
    recorder.ensure_schema()
    done = set(recorder.applied_migrations())
    for mid in ids:
        app, name = mid.split(".", 1)
        if (app, name) not in done:
            recorder.record_applied(app, name)
    return ids


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    result = {"graph": lambda: graph(), "sql": lambda: sql(args), "mark": lambda: mark(args)}[
        command
    ]()
    sys.stdout.write("\n@@dbmedic-json@@\n" + json.dumps(result) + "\n")
