"""One thread per database connection, all taking tasks from one shared queue.

Used by every parallel dump, load and checksum scan: the connections usually share one snapshot,
so the work is spread over connections, not over a pool that opens its own. A task may add more
tasks (a large table found to need splitting); the first error stops the others and is raised.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any


class TaskQueue:
    """Tasks taken in order by :meth:`run`; :meth:`add` may be called from inside a task."""

    def __init__(self, tasks: Iterable[Any] = ()) -> None:
        self.lock = threading.Lock()
        self._stack = list(tasks)[::-1]
        self._errors: list[BaseException] = []

    def add(self, tasks: Iterable[Any]) -> None:
        with self.lock:
            self._stack.extend(list(tasks)[::-1])

    def run(self, conns: list[Any], fn: Callable[[Any, Any], None]) -> None:
        """``fn(conn, task)`` until the queue is empty, one thread per connection."""

        def worker(conn: Any) -> None:
            while True:
                with self.lock:
                    if self._errors or not self._stack:
                        return
                    task = self._stack.pop()
                try:
                    fn(conn, task)
                except BaseException as e:
                    with self.lock:
                        self._errors.append(e)
                    return

        threads = [threading.Thread(target=worker, args=(c,), daemon=True) for c in conns]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if self._errors:
            raise self._errors[0]


def run_on(conns: list[Any], tasks: list[Any], fn: Callable[[Any, Any], Any]) -> list[Any]:
    """``fn(conn, task)`` for every task over ``conns``; the results in task order."""
    results: list[Any] = [None] * len(tasks)

    def one(conn: Any, item: tuple[int, Any]) -> None:
        results[item[0]] = fn(conn, item[1])

    TaskQueue(enumerate(tasks)).run(conns, one)
    return results
