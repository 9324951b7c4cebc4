"""Run a list of DDL statements against a database, safely, in one place.

- Statements go to the DBAPI cursor without parameters (``no_parameters``), so a ``%`` in DDL
  (a default ``'100%'``, a LIKE pattern in a view) is never read as a placeholder by PyMySQL or
  psycopg: https://docs.sqlalchemy.org/en/20/core/connections.html#sqlalchemy.engine.Connection.execution_options.params.no_parameters
- On dialects with transactional DDL the statements run in one transaction (all or nothing),
  except those the dialect says must run outside any transaction (SQLite ``PRAGMA
  foreign_keys``, a no-op inside one): the transaction is committed before such a statement and
  a new one begun after it, on the same connection.
- On MySQL/MariaDB every DDL statement commits implicitly; they run one by one in autocommit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from dbmedic.errors import StepFailed
from dbmedic.secrets import scrub

if TYPE_CHECKING:
    from dbmedic.connect import Database

StatementProgress = Callable[[int, int, str], None]
"""progress(done, total, statement)."""


def run_statements(
    db: Database,
    statements: Sequence[str],
    *,
    transactional: bool = True,
    progress: StatementProgress | None = None,
) -> int:
    """Writes: run ``statements`` in order against ``db``; returns how many ran.

    ``transactional`` (where the dialect has transactional DDL) rolls the whole list back on a
    failure. Raises StepFailed naming the statement number and the server's reason (scrubbed).
    """
    from sqlalchemy.exc import DBAPIError

    in_tx = transactional and db.dialect.transactional_ddl
    total = len(statements)
    with db.connect() as raw:
        conn = raw.execution_options(isolation_level="AUTOCOMMIT", no_parameters=True)
        open_tx = False
        number = 0
        try:
            for number, sql in enumerate(statements, start=1):
                outside = db.dialect.outside_transaction(sql)
                if in_tx and outside and open_tx:
                    conn.exec_driver_sql("COMMIT")
                    open_tx = False
                if in_tx and not outside and not open_tx:
                    conn.exec_driver_sql("BEGIN")
                    open_tx = True
                conn.exec_driver_sql(sql)
                if progress is not None:
                    progress(number, total, sql)
            if open_tx:
                conn.exec_driver_sql("COMMIT")
                open_tx = False
        except DBAPIError as e:
            if open_tx:
                conn.exec_driver_sql("ROLLBACK")
            reason = scrub(db.dialect.describe_error(e))
            raise StepFailed(
                f"statement {number} of {total} failed on {db.display}: {reason}",
                statement=scrub(statements[number - 1]),
            ) from e
    return total
