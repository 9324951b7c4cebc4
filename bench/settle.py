"""Start every timed run of a benchmark from the same MariaDB server state: a clean buffer pool.

With the default ``innodb_max_dirty_pages_pct`` (90) and ``innodb_io_capacity`` (200), MariaDB
leaves the pages a run dirtied in its buffer pool (~5,000 after the 185 migrations of the
demo-sized incident, not written back 10 s later), and whichever run comes next pays for
flushing them when the pool or the redo log fills up: artisan's own migrate of the same files
took 5.1 to 8.9 s from one round to the next. :func:`settle` sets the limit to 0 until the
pool is clean (a few seconds), then puts it back. It changes a global variable for that
moment: for a benchmark server, not a shared one.
"""

from __future__ import annotations

import time
from typing import Any


def settle(connect: Any, timeout: float = 60.0, clean_below: int = 64) -> None:
    """Flush InnoDB's dirty pages now; ``connect()`` returns a DB-API connection to the server."""
    conn = connect()
    try:
        cur = conn.cursor()
        cur.execute("SELECT @@GLOBAL.innodb_max_dirty_pages_pct")
        (limit,) = cur.fetchone()
        cur.execute("SET GLOBAL innodb_max_dirty_pages_pct = 0")
        try:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                cur.execute(
                    "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS "
                    "WHERE VARIABLE_NAME = 'INNODB_BUFFER_POOL_PAGES_DIRTY'"
                )
                (dirty,) = cur.fetchone()
                if int(dirty or 0) < clean_below:
                    break
                time.sleep(0.25)
        finally:
            cur.execute(f"SET GLOBAL innodb_max_dirty_pages_pct = {float(limit)}")
    finally:
        conn.close()
