"""One thread per database connection, all taking tasks from one shared queue.

Used by every parallel dump, load and checksum scan: the connections usually share one snapshot,
so the work is spread over connections, not over a pool that opens its own. A task may add more
tasks (a large table found to need splitting); the first error stops the others and is raised.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any


class Stopped(Exception):
    """Raised by :meth:`TaskQueue.check` in a task of a run that was interrupted."""


class TaskQueue:
    """Tasks taken in order by :meth:`run`; :meth:`add` may be called from inside a task."""

    def __init__(self, tasks: Iterable[Any] = ()) -> None:
        self.lock = threading.Lock()
        self._stack = list(tasks)[::-1]
        self._errors: list[BaseException] = []
        self._stopping = threading.Event()

    def check(self) -> None:
        """Raise :class:`Stopped` once the run was interrupted: long tasks call it between
        chunks, so that Ctrl-C takes effect within one."""
        if self._stopping.is_set():
            raise Stopped

    def add(self, tasks: Iterable[Any]) -> None:
        with self.lock:
            self._stack.extend(list(tasks)[::-1])

    def run(self, conns: list[Any], fn: Callable[[Any, Any], None]) -> None:
        """``fn(conn, task)`` until the queue is empty, one thread per connection.

        Interrupted (Ctrl-C), it returns only once every thread has stopped: no task starts any
        more and running ones stop at their next :meth:`check`. The caller closes the
        connections after that, since closing one that a thread reads from in C can crash the
        process. Each thread signals its end with an Event: an interrupted ``Thread.join``
        marks a running thread as stopped on Python 3.11 (bpo-45274)."""

        def worker(conn: Any, finished: threading.Event) -> None:
            try:
                while True:
                    with self.lock:
                        if self._errors or not self._stack or self._stopping.is_set():
                            return
                        task = self._stack.pop()
                    try:
                        fn(conn, task)
                    except BaseException as e:
                        with self.lock:
                            self._errors.append(e)
                        return
            finally:
                finished.set()

        ends = [threading.Event() for _ in conns]
        threads = [
            threading.Thread(target=worker, args=(c, end), daemon=True)
            for c, end in zip(conns, ends, strict=True)
        ]
        with _interrupts_held():  # every thread runs, or none: none is left half-started
            for t in threads:
                t.start()
        try:
            for end in ends:
                end.wait()
        except BaseException:
            self._stopping.set()
            for end in ends:
                end.wait()
            raise
        if self._errors:
            raise self._errors[0]


@contextlib.contextmanager
def _interrupts_held() -> Iterator[None]:
    """SIGINT held back (delivered on leaving) in this thread, where the platform allows."""
    block = getattr(signal, "pthread_sigmask", None)
    if block is None:
        yield
        return
    before = block(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        block(signal.SIG_SETMASK, before)


def run_on(conns: list[Any], tasks: list[Any], fn: Callable[[Any, Any], Any]) -> list[Any]:
    """``fn(conn, task)`` for every task over ``conns``; the results in task order."""
    results: list[Any] = [None] * len(tasks)

    def one(conn: Any, item: tuple[int, Any]) -> None:
        results[item[0]] = fn(conn, item[1])

    TaskQueue(enumerate(tasks)).run(conns, one)
    return results
