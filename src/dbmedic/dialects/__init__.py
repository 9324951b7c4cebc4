"""Dialect registry: one class per database kind, looked up by name, imported lazily."""

from dbmedic.dialects.base import Dialect, ServerInfo, SqlFiles, get_dialect, register

__all__ = ["Dialect", "ServerInfo", "SqlFiles", "get_dialect", "register"]
