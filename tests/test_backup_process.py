"""Backups under hostile conditions: killed halfway, watched in the process list, full disk."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from dbmedic.backups import backup, list_backups, restore, verify_backup
from dbmedic.errors import BackupError
from dbtest import ADMIN_URLS, DatabaseFactory, run_sql

SRC = str(Path(__file__).resolve().parents[1] / "src")


def _fill(url: str, rows: int, blob: int = 200) -> None:
    """A table of incompressible rows, built by the server in one statement."""
    run_sql(
        url,
        f"""
CREATE TABLE big (id INT PRIMARY KEY, payload VARBINARY({blob * 2}), note VARCHAR(40));
INSERT INTO big SELECT seq, RANDOM_BYTES({min(blob, 1024)}), CONCAT('row ', seq) FROM seq_1_to_{rows}
""",
    )


def _dbmedic(args: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    code = "import sys; from dbmedic.cli import main; main(sys.argv[1:])"
    full_env = {**os.environ, "PYTHONPATH": SRC, **(env or {})}
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=full_env,
    )


@pytest.mark.backend("mariadb")
def test_backup_killed_halfway_leaves_only_a_partial(
    db_factory: DatabaseFactory, tmp_path: Path
) -> None:
    url = db_factory.new()
    _fill(url, 400_000)
    out = tmp_path / "bk"
    out.mkdir()
    proc = _dbmedic(["backup", url, "--dir", str(out), "--jobs", "1"])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        partials = list(out.glob("*.partial/data/*"))
        if partials and any(p.stat().st_size > 0 for p in partials):
            break
        time.sleep(0.02)
    else:
        proc.kill()
        pytest.fail("the backup never started writing data")
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    entries = list(out.iterdir())
    assert entries and all(e.name.endswith(".partial") for e in entries)
    assert list_backups(out) == []
    check = verify_backup(entries[0])
    assert not check.ok and "incomplete" in check.problems[0]


@pytest.mark.backend("mariadb")
@pytest.mark.parametrize("tool", ["--external", "--builtin"])
def test_no_password_in_the_process_list(
    db_factory: DatabaseFactory, tmp_path: Path, tool: str
) -> None:
    url = db_factory.new()
    _fill(url, 300_000)
    database = make_url(url).database
    user, password = f"dbm_pw_{uuid.uuid4().hex[:8]}", f"S3cret-{uuid.uuid4().hex}"
    admin = create_engine(ADMIN_URLS["mariadb"], isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for host in ("127.0.0.1", "localhost", "%"):
            conn.execute(text(f"CREATE USER '{user}'@'{host}' IDENTIFIED BY '{password}'"))
            conn.execute(text(f"GRANT ALL ON `{database}`.* TO '{user}'@'{host}'"))
            conn.execute(text(f"GRANT RELOAD, PROCESS ON *.* TO '{user}'@'{host}'"))
    scratch = tmp_path / "tmp"  # its own TMPDIR: other tests' dumps write option files too
    scratch.mkdir()
    try:
        proc = _dbmedic(
            ["backup", f"mysql://{user}@127.0.0.1:3306/{database}", "--dir", str(tmp_path), tool],
            env={"DBMEDIC_PASSWORD": password, "TMPDIR": str(scratch)},
        )
        seen_dump, leaks = False, []
        while proc.poll() is None:
            for pid in os.listdir("/proc"):
                if not pid.isdigit():
                    continue
                try:
                    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
                except OSError:
                    continue
                if password.encode() in cmdline:
                    leaks.append(("cmdline", cmdline[:80]))
                if b"mariadb-dump" in cmdline or b"mysqldump" in cmdline:
                    seen_dump = True
                    try:
                        environ = Path(f"/proc/{pid}/environ").read_bytes()
                    except OSError:
                        continue
                    if password.encode() in environ:
                        leaks.append(("environ", cmdline[:80]))
            time.sleep(0.005)
        stdout, stderr = proc.communicate()
        assert proc.returncode == 0, stderr.decode()
        assert leaks == []
        if tool == "--external":
            assert seen_dump, "the dump finished before the process list could be sampled"
        (made,) = list_backups(tmp_path)
        assert password not in (made.path / "manifest.json").read_text()
        assert password.encode() not in stdout + stderr
        assert not list(scratch.glob("**/client.cnf"))  # the 0600 option file is gone
    finally:
        with admin.connect() as conn:
            for host in ("127.0.0.1", "localhost", "%"):
                conn.execute(text(f"DROP USER IF EXISTS '{user}'@'{host}'"))
        admin.dispose()


@pytest.mark.backend("mariadb")
def test_full_disk_is_one_sentence_and_leaves_nothing(
    db_factory: DatabaseFactory, tmp_path: Path
) -> None:
    url = db_factory.new()
    _fill(url, 6000, blob=1024)
    # not under tmp_path: other pytest runs on this machine rotate /tmp/pytest-of-<user> and
    # would rename the folder under a mounted tmpfs
    small = Path(tempfile.mkdtemp(prefix="dbmedic-tiny-"))
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(small)], capture_output=True
    )
    if mounted.returncode != 0:
        small.rmdir()
        pytest.skip(f"cannot mount a tiny tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        with pytest.raises(BackupError, match="is full") as caught:
            backup(url, small, tool="builtin")
        assert "\n" not in str(caught.value)
        assert list(small.iterdir()) == []
    finally:
        done = subprocess.run(["umount", str(small)], capture_output=True)
        small.rmdir()
        assert done.returncode == 0, done.stderr


@pytest.mark.backend("mariadb")
@pytest.mark.parametrize("tool", ["external", "builtin"])
def test_checksums_come_from_the_dumped_snapshot_while_others_write(
    db_factory: DatabaseFactory, tmp_path: Path, tool: str
) -> None:
    """Rows written during the dump are either in both the dump and the manifest or in neither:
    the restore's checksum comparison proves it."""
    url = db_factory.new()
    _fill(url, 60_000)
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    stop, writes = threading.Event(), [0]

    def write() -> None:
        with engine.connect() as conn:
            n = 1_000_000
            while not stop.is_set():
                n += 1
                conn.execute(text("INSERT INTO big VALUES (:n, RANDOM_BYTES(20), 'new')"), {"n": n})
                conn.execute(
                    text("UPDATE big SET note = :n WHERE id = :i"), {"n": n, "i": n % 60_000}
                )
                writes[0] += 1

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    try:
        while writes[0] < 10:
            time.sleep(0.01)
        before = writes[0]
        made = backup(url, tmp_path / "bk", tool=tool)
        during = writes[0] - before
    finally:
        stop.set()
        writer.join()
        engine.dispose()
    assert during > 0, "nothing was written while the dump ran"
    target = db_factory.new()
    result = restore(made.path, target, force=True)  # raises when a checksum differs
    assert result.rows == made.manifest.rows > 60_000


@pytest.mark.backend("postgresql")
@pytest.mark.parametrize("tool", ["builtin", "external"])
def test_postgres_parts_share_one_snapshot_while_others_write(
    db_factory: DatabaseFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tool: str
) -> None:
    """A table split into block ranges over two connections, rows changing meanwhile: the
    restore's checksums (computed in the exported snapshot) still match."""
    from dbmedic.backups import postgres_builtin

    monkeypatch.setattr(postgres_builtin, "PART_BYTES", 256 << 10)
    url = db_factory.new()
    run_sql(
        url,
        """CREATE TABLE big (id INT PRIMARY KEY, payload BYTEA, note TEXT);
INSERT INTO big SELECT g, decode(md5(g::text) || md5((g * 7)::text), 'hex'), 'row ' || g
FROM generate_series(1, 40000) AS g""",
    )
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    stop, writes = threading.Event(), [0]

    def write() -> None:
        with engine.connect() as conn:
            n = 1_000_000
            while not stop.is_set():
                n += 1
                conn.execute(text("INSERT INTO big VALUES (:n, '\\x00', 'new')"), {"n": n})
                conn.execute(
                    text("UPDATE big SET note = :n WHERE id = :i"), {"n": str(n), "i": n % 40_000}
                )
                writes[0] += 1

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    try:
        while writes[0] < 10:
            time.sleep(0.01)
        before = writes[0]
        made = backup(url, tmp_path / "bk", tool=tool, jobs=2)
        during = writes[0] - before
    finally:
        stop.set()
        writer.join()
        engine.dispose()
    assert during > 0, "nothing was written while the dump ran"
    if tool == "builtin":
        big_files = [p for p, m in made.manifest.extra["data_files"].items() if m["table"] == "big"]
        assert len(big_files) > 4
    target = db_factory.new()
    result = restore(made.path, target, force=True)  # raises when a checksum differs
    assert result.rows == made.manifest.rows > 40_000


@pytest.mark.backend("postgresql")
def test_postgres_workers_read_the_exported_snapshot(db_factory: DatabaseFactory) -> None:
    """A worker that starts after a write still sees the data as of the first worker's export."""
    from dbmedic.backups import _source, postgres, postgres_builtin

    url = db_factory.new()
    run_sql(url, "CREATE TABLE t (id INT)")
    source = _source(url)
    first, second = postgres.connect(source), postgres.connect(source)
    try:
        snapshot = postgres_builtin._begin(first, None)
        run_sql(url, "INSERT INTO t VALUES (1)")  # committed after the export
        postgres_builtin._begin(second, snapshot)
        counts = [c.execute("SELECT count(*) FROM t").fetchone()[0] for c in (first, second)]
    finally:
        first.close()
        second.close()
    assert counts == [0, 0]


@pytest.mark.backend("mariadb")
@pytest.mark.parametrize("stall_seconds", [1, 30])
def test_a_paused_backup_keeps_its_connections_for_stall_seconds(
    db_factory: DatabaseFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    stall_seconds: int,
) -> None:
    """A part streams in one query: while dbmedic stops reading (paused, a stalled disk), the
    server waits up to STALL_SECONDS (net_write_timeout), then drops the connection. With 1 s a
    3 s pause fails the backup; with the 30 s the pause is survived and the backup restores."""
    pytest.importorskip("MySQLdb")
    from dbmedic.backups import mysql, streams

    if mysql.native_renderer() is None and os.environ.get("CI") != "true":
        pytest.skip("dbmedic._rows is not built: chunk queries do not stream")
    url = db_factory.new()
    _fill(url, 60_000, blob=300)  # ~40 MB of SQL: more than the socket buffers hold
    monkeypatch.setattr(mysql, "STALL_SECONDS", stall_seconds)
    statement = streams.Writer.statement
    paused = []

    def pause_once(self: streams.Writer, *pieces: bytes) -> None:
        if not paused:
            paused.append(True)
            time.sleep(3)
        statement(self, *pieces)

    monkeypatch.setattr(streams.Writer, "statement", pause_once)
    if stall_seconds == 1:
        with pytest.raises(
            BackupError, match=r"reading table big failed \(the connection to the server was lost\)"
        ):
            backup(url, tmp_path / "bk", tool="builtin", jobs=1)
        assert list((tmp_path / "bk").iterdir()) == []
    else:
        made = backup(url, tmp_path / "bk", tool="builtin", jobs=1)
        assert made.manifest.rows == 60_000
        restore(made.path, db_factory.new())


PG_BIG = """
CREATE TABLE big (id INT PRIMARY KEY, payload BYTEA, note TEXT);
INSERT INTO big SELECT g, decode(md5(g::text) || md5((g + 1)::text), 'hex'), 'row ' || g
FROM generate_series(1, 300000) AS g
"""


@pytest.mark.backend("mariadb", "postgresql")
def test_ctrl_c_stops_a_backup_cleanly(
    backend: str, db_factory: DatabaseFactory, tmp_path: Path
) -> None:
    """Ctrl-C while the workers stream: each thread stops at its next chunk before the
    connections close (closing one under a read in C crashed the process, about one run in
    four), the ``.partial`` folder is removed, and the exit is 130 with one sentence."""
    url = db_factory.new()
    if backend == "mariadb":
        _fill(url, 300_000)  # two parts: two threads streaming when the signal comes
    else:
        run_sql(url, PG_BIG)
    code = "import sys; from dbmedic.cli import main; main(sys.argv[1:])"
    env = {**os.environ, "PYTHONPATH": SRC, "PYTHONFAULTHANDLER": "1"}
    for attempt in range(4):
        out = tmp_path / f"bk{attempt}"
        out.mkdir()
        proc = subprocess.Popen(
            [sys.executable, "-c", code, "backup", url, "--dir", str(out), "--builtin"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # pytest's is ignored
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if any(p.stat().st_size > 0 for p in out.glob("*.partial/data/*")):
                break
            time.sleep(0.01)
        time.sleep(0.05 * attempt)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        if proc.returncode == 0:  # it finished first: nothing to check this time
            continue
        assert proc.returncode == 130, err.decode()[-2000:]
        assert err.decode().strip().splitlines()[-1] == "dbmedic: interrupted"
        assert list(out.iterdir()) == []


@pytest.mark.backend("mariadb")
def test_ctrl_c_stops_a_restore_with_one_sentence(
    db_factory: DatabaseFactory, tmp_path: Path
) -> None:
    """Ctrl-C while tables load: no table starts loading any more, a loading one stops at its
    next statement, and the exit is 130 with ``dbmedic: interrupted`` (Typer hands the
    interrupt on as exit code 130, which printed nothing)."""
    source = db_factory.new()
    _fill(source, 200_000)
    made = backup(source, tmp_path / "bk")
    target = db_factory.new()
    code = "import sys; from dbmedic.cli import main; main(sys.argv[1:])"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "restore", str(made.path), "--db", target, "--force"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": SRC, "PYTHONFAULTHANDLER": "1"},
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    engine = create_engine(make_url(target).set(drivername="mysql+pymysql"))
    deadline = time.monotonic() + 60
    with engine.connect() as conn:  # until the load has begun (its rows are not visible yet)
        while time.monotonic() < deadline:
            if conn.execute(text("SHOW TABLES LIKE 'big'")).first():
                break
            time.sleep(0.01)
    engine.dispose()
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err.decode()[-2000:]
    assert err.decode().strip().splitlines()[-1] == "dbmedic: interrupted"
