"""Pausing the cyclic garbage collector around work that makes many short-lived objects."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def bulk_objects() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many small objects.

    A 5,000-table schema is about a million tuples, dicts and dataclasses, none in a cycle; with
    the collector on, its full passes over the growing heap cost more than building them
    (https://docs.python.org/3/library/gc.html#gc.disable). A dump or checksum scan makes a
    tuple per row (millions, freed a chunk at a time): the collector ran ~2,400 times per 500 MB
    and found nothing, 4 % of the client's CPU (bench/RESULTS.md).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
