"""Modules dbmedic runs inside a Django project (its folder goes on the project's PYTHONPATH)."""
