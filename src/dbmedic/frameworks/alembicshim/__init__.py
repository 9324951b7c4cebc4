"""Modules dbmedic runs inside an Alembic project's own Python."""
