"""Time simulate() on a generated 185-migration history (~1,000 statements), medians of 5.

Side by side: the same statements executed on an in-memory SQLite (the cheapest real engine a
rehearsal could use). Run: PYTHONPATH=src /work/main/.venv/bin/python bench/simulate.py
"""

from __future__ import annotations

import sqlite3
import statistics
import time

from dbmedic.simulate import simulate

MIGRATIONS = 185


def history() -> list[tuple[str, list[str]]]:
    out: list[tuple[str, list[str]]] = []
    for i in range(MIGRATIONS):
        t = f"table_{i:03d}"
        stmts = [
            f"create table {t} (id bigint not null primary key, name varchar(255) not null, "
            f"email varchar(255) null, status varchar(20) not null default 'new', amount decimal(8, 2) "
            f"null, priority int not null default '999', parent_id bigint null, created_at timestamp "
            f"null, updated_at timestamp null)",
            f"create index {t}_name_index on {t} (name)",
            f"create unique index {t}_email_unique on {t} (email)",
            f"alter table {t} add column notes text null",
        ]
        if i:
            stmts.append(
                f"create table {t}_links (id bigint not null primary key, {t}_id bigint not null, "
                f"table_{i - 1:03d}_id bigint not null, foreign key ({t}_id) references {t} (id), "
                f"foreign key (table_{i - 1:03d}_id) references table_{i - 1:03d} (id))"
            )
        if i % 3 == 0:
            stmts.append(f"insert into {t} (id, name) values (1, 'seed')")
        out.append((f"2025_01_01_{i:06d}_create_{t}", stmts))
    return out


def median_seconds(fn: object, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def run_sqlite(h: list[tuple[str, list[str]]]) -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("PRAGMA foreign_keys=ON")
    for _, stmts in h:
        for sql in stmts:
            conn.execute(sql)
    conn.close()


def main() -> None:
    h = history()
    n = sum(len(s) for _, s in h)
    simulate(h[:2], "mariadb")  # import sqlglot once, outside the timing
    rows = [
        ("simulate (mariadb)", median_seconds(lambda: simulate(h, "mariadb"))),
        ("simulate (postgresql)", median_seconds(lambda: simulate(h, "postgresql"))),
        ("simulate (sqlite)", median_seconds(lambda: simulate(h, "sqlite"))),
        ("execute on SQLite :memory:", median_seconds(lambda: run_sqlite(h))),
    ]
    sim = simulate(h, "mariadb")
    assert sim.ok, sim.first_failure
    print(f"{MIGRATIONS} migrations, {n} statements, median of 5 runs")
    print(f"{'what':32} {'seconds':>8} {'ms/statement':>13}")
    for name, secs in rows:
        print(f"{name:32} {secs:8.3f} {secs / n * 1000:13.3f}")


if __name__ == "__main__":
    main()
