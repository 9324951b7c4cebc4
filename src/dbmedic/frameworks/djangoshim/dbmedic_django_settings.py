"""Settings override dbmedic puts in front of a Django project's own settings.

Django imports this module (``DJANGO_SETTINGS_MODULE=dbmedic_django_settings``) in the project's
own Python; it imports the project's settings (``DBMEDIC_BASE_SETTINGS``), copies them, and
replaces ``DATABASES['default']`` with the target dbmedic was asked to work on, given as JSON in
``DBMEDIC_DJANGO_DATABASE`` (an environment variable, so the password never reaches argv). The
project's other settings for that connection (OPTIONS, TEST, ...) are kept when the engine is the
same. Without ``mysqlclient``, MySQL/MariaDB is reached through PyMySQL.

This file runs inside the user's project: standard library and Django only.
"""

import json
import os
from importlib import import_module

_base = import_module(os.environ["DBMEDIC_BASE_SETTINGS"])
globals().update({k: v for k, v in vars(_base).items() if k.isupper()})

_target = os.environ.get("DBMEDIC_DJANGO_DATABASE")
if _target:
    _wanted = json.loads(_target)
    _databases = dict(globals().get("DATABASES") or {})
    _own = dict(_databases.get("default") or {})
    _merged = _own if _own.get("ENGINE") == _wanted["ENGINE"] else {}
    _merged.update(_wanted)
    _databases["default"] = _merged
    DATABASES = _databases
    if _wanted["ENGINE"] == "django.db.backends.mysql":
        try:
            import MySQLdb  # noqa: F401
        except ImportError:
            import pymysql

            pymysql.install_as_MySQLdb()
