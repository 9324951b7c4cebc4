"""diagnose on dbmate-format SQL projects: failure kinds on SQLite and MariaDB, recorded
failures (permissions, locks) and read-only grants. Each case runs the real migrations with
dbmedic's runner, diagnoses, and checks failure point, class, cause and recommendation."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest
from diagnose_helpers import schema_and_tracking_rows, shadow_databases, write_dbmate
from sqlalchemy import create_engine, text

from dbmedic import api
from dbmedic.diagnosis import Evidence, Strategy
from dbmedic.errorclass import ErrorClass as E
from dbmedic.errors import ConfigError
from dbtest import DatabaseFactory

BASE = {
    "001_users": "CREATE TABLE users (id integer primary key, name varchar(50), email varchar(100));",
    "002_posts": (
        "CREATE TABLE posts (id integer primary key, user_id integer, title varchar(200));\n"
        "CREATE INDEX idx_posts_title ON posts (title);"
    ),
}
FAILING = "003"


@dataclass(frozen=True)
class Case:
    name: str
    failing_sql: str
    error_class: E
    cause_kind: str
    cause_object: str | None
    creators: tuple[str, ...] = ()
    recommended: Strategy | None = None
    reset_ok: bool = False
    later_sql: str = "CREATE TABLE later_things (id integer primary key);"
    before: str = ""
    """SQL run on the target before migrating (objects made outside the migrations)."""
    outside: bool = False
    conflicts: int = 0
    disagrees: bool = False
    """The simulation cannot see this failure (unparsable SQL, data): the rehearsal finds it."""
    extra: dict[str, str] = field(default_factory=dict)


SQLITE_CASES = [
    Case("duplicate_column", "ALTER TABLE users ADD COLUMN email varchar(100);", E.DUPLICATE_COLUMN,
         "duplicate", "users.email", ("001",), Strategy.RESUME),
    Case("duplicate_table", "CREATE TABLE posts (id integer primary key);", E.DUPLICATE_TABLE,
         "duplicate", "posts", ("002",), None, conflicts=1),
    Case("duplicate_key_name", "CREATE INDEX idx_posts_title ON posts (title);", E.DUPLICATE_KEY_NAME,
         "duplicate", "posts.idx_posts_title", ("002",), Strategy.RESUME),
    Case("unknown_column", "CREATE INDEX idx_users_phone ON users (phone);", E.UNKNOWN_COLUMN,
         "missing", "users.phone"),
    Case("unknown_table_created_later", "ALTER TABLE ghosts ADD COLUMN x integer;", E.UNKNOWN_TABLE,
         "missing", "ghosts", ("004",), later_sql="CREATE TABLE ghosts (id integer primary key);"),
    Case("syntax_error", "CREATE TABLEX foo (id integer);", E.SYNTAX_ERROR, "syntax", None,
         disagrees=True),
    Case("other", "CREATE TABLE checked (id integer CHECK (id > 0));\nINSERT INTO checked VALUES (-1);",
         E.OTHER, "other", None, disagrees=True),
    Case("created_outside_migrations", "CREATE TABLE audit_log (id integer primary key);",
         E.DUPLICATE_TABLE, "duplicate", "audit_log", (), Strategy.RESUME, reset_ok=True,
         before="CREATE TABLE audit_log (id integer primary key);", outside=True),
]  # fmt: skip

MARIADB_CASES = [
    Case("fk_incompatible",
         "CREATE TABLE comments (id int primary key, user_id varchar(10),"
         " CONSTRAINT fk_comments_user FOREIGN KEY (user_id) REFERENCES users (id)) ENGINE=InnoDB;",
         E.FOREIGN_KEY, "foreign_key", "comments.fk_comments_user"),
    Case("fk_missing_parent",
         "CREATE TABLE comments (id int primary key, ghost_id int,"
         " CONSTRAINT fk_comments_ghost FOREIGN KEY (ghost_id) REFERENCES ghosts (id)) ENGINE=InnoDB;",
         E.FOREIGN_KEY, "missing", "ghosts"),
    Case("invalid_default", "ALTER TABLE users ADD COLUMN age int DEFAULT 'abc';",
         E.DATA_TRUNCATION_OR_INVALID_DEFAULT, "data", "users", ("001",), disagrees=True),
    Case("duplicate_column", "ALTER TABLE users ADD COLUMN email varchar(100);", E.DUPLICATE_COLUMN,
         "duplicate", "users.email", ("001",), Strategy.RESUME),
]  # fmt: skip


def project(tmp_path: Path, case: Case) -> Path:
    files = dict(BASE)
    files[f"{FAILING}_{case.name}"] = case.failing_sql
    files["004_later"] = case.later_sql
    return write_dbmate(tmp_path / "app", files)


def run_case(tmp_path: Path, url: str, case: Case) -> None:
    root = project(tmp_path, case)
    if case.before:
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.exec_driver_sql(case.before)
        engine.dispose()
    migrated = api.migrate(root, url)
    assert not migrated.result.ok and migrated.result.failed == FAILING

    d = api.diagnose(root, url)

    assert d.failing is not None
    assert d.failing.migration.id == FAILING
    assert d.failing.error_class is case.error_class, d.failing.error
    assert d.failing.file == f"db/migrations/{FAILING}_{case.name}.sql"
    assert d.failing.line is not None and d.failing.line >= 2
    assert d.evidence is Evidence.REHEARSED
    assert d.cause is not None and d.cause.kind == case.cause_kind, d.cause
    if case.cause_object is not None:
        assert d.cause.object == case.cause_object
    creators = tuple(s.migration for s in d.cause.creators if not s.failed)
    assert creators == case.creators
    assert d.cause.outside_migrations is case.outside
    assert d.blocked.migrations == ("004",)
    assert d.recommendation.strategy is case.recommended, d.recommendation
    reset = d.option(Strategy.RESET)
    assert reset is not None and reset.predicted_ok is case.reset_ok and reset.rehearsed
    if not case.reset_ok:
        assert reset.fails_at == FAILING
    assert len(d.conflicts) == case.conflicts
    if case.recommended is not None:
        assert d.recommendation.command.startswith(
            f"dbmedic fix --strategy {case.recommended.value}"
        )
    if case.cause_kind == "duplicate" and not case.outside:
        assert d.guard is not None and d.guard.migration == FAILING
    assert (d.simulation.disagreement is not None) is case.disagrees


@pytest.mark.backend("sqlite")
@pytest.mark.parametrize("case", SQLITE_CASES, ids=lambda c: c.name)
def test_failure_kinds_sqlite(backend: str, db_url: str, tmp_path: Path, case: Case) -> None:
    run_case(tmp_path, db_url, case)


@pytest.mark.backend("mariadb")
@pytest.mark.parametrize("case", MARIADB_CASES, ids=lambda c: c.name)
def test_failure_kinds_mariadb(backend: str, db_url: str, tmp_path: Path, case: Case) -> None:
    run_case(tmp_path, db_url, case)


@pytest.mark.backend("mariadb")
def test_permission_denied_is_read_from_the_record(
    backend: str, db_url: str, tmp_path: Path, mariadb_user: object
) -> None:
    case = Case(
        "add_phone",
        "ALTER TABLE users ADD COLUMN phone varchar(20);",
        E.PERMISSION_DENIED,
        "permission",
        None,
    )
    root = project(tmp_path, case)
    no_alter = mariadb_user(  # type: ignore[operator]
        db_url, "GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, INDEX ON `{db}`.* TO {user}"
    )
    migrated = api.migrate(root, no_alter)
    assert not migrated.result.ok and migrated.result.failed == FAILING

    d = api.diagnose(root, db_url)

    assert d.failing is not None and d.failing.migration.id == FAILING
    assert d.failing.error_class is E.PERMISSION_DENIED
    assert d.failing.evidence is Evidence.RECORDED
    assert d.cause is not None and d.cause.kind == "permission"
    assert d.simulation.disagreement is not None and "privileges" in d.simulation.disagreement
    resume = d.option(Strategy.RESUME)
    assert resume is not None and resume.predicted_ok and resume.rehearsed


@pytest.mark.backend("mariadb")
def test_lock_wait_timeout_is_read_from_the_record(
    backend: str, db_url: str, tmp_path: Path
) -> None:
    case = Case(
        "add_phone",
        "SET SESSION lock_wait_timeout = 1;\nALTER TABLE users ADD COLUMN phone varchar(20);",
        E.LOCK_WAIT_TIMEOUT, "lock", None,
    )  # fmt: skip
    root = project(tmp_path, case)
    # first the base migrations alone, then 003 while another session holds a lock on users
    holder = create_engine(db_url)
    (root / "db/migrations/003_add_phone.sql").rename(tmp_path / "003.sql")
    (root / "db/migrations/004_later.sql").rename(tmp_path / "004.sql")
    assert api.migrate(root, db_url).result.ok
    (tmp_path / "003.sql").rename(root / "db/migrations/003_add_phone.sql")
    (tmp_path / "004.sql").rename(root / "db/migrations/004_later.sql")
    with holder.connect() as conn:
        conn.execute(text("BEGIN"))
        conn.execute(text("SELECT * FROM users FOR UPDATE"))
        migrated = api.migrate(root, db_url)
        conn.rollback()
    holder.dispose()
    assert not migrated.result.ok and migrated.result.failed == FAILING

    d = api.diagnose(root, db_url)

    assert d.failing is not None and d.failing.error_class is E.LOCK_WAIT_TIMEOUT
    assert d.failing.statement_number == 2
    assert d.cause is not None and d.cause.kind == "lock"
    assert d.recommendation.strategy is Strategy.RESUME


@pytest.mark.backend("mariadb")
def test_read_only_user_with_shadow_grants(
    backend: str, db_url: str, tmp_path: Path, mariadb_user: object
) -> None:
    case = SQLITE_CASES[0]
    root = project(tmp_path, case)
    assert not api.migrate(root, db_url).result.ok
    reader = mariadb_user(  # type: ignore[operator]
        db_url,
        "GRANT SELECT ON `{db}`.* TO {user}",
        "GRANT ALL ON `%\\_dbmedic\\_shadow\\_%`.* TO {user}",
    )
    before = schema_and_tracking_rows(db_url)

    d = api.diagnose(root, reader)
    lint = api.lint(root, reader)

    assert d.evidence is Evidence.REHEARSED and d.shadow_note is None
    assert d.failing is not None and d.failing.error_class is E.DUPLICATE_COLUMN
    assert d.recommendation.strategy is Strategy.RESUME
    assert lint.evidence is Evidence.REHEARSED and lint.failure_predicted
    assert "Pw-diag-" not in str(d.to_dict()) + str(lint.to_dict())
    assert schema_and_tracking_rows(db_url) == before


@pytest.mark.backend("mariadb")
def test_without_shadow_privilege_the_answer_is_simulated(
    backend: str, db_url: str, tmp_path: Path, mariadb_user: object
) -> None:
    case = SQLITE_CASES[0]
    root = project(tmp_path, case)
    assert not api.migrate(root, db_url).result.ok
    reader = mariadb_user(db_url, "GRANT SELECT ON `{db}`.* TO {user}")  # type: ignore[operator]
    before = schema_and_tracking_rows(db_url)

    d = api.diagnose(root, reader)
    lint = api.lint(root, reader)

    assert d.evidence is Evidence.SIMULATED
    assert d.shadow_note is not None and "cannot create a shadow database" in d.shadow_note
    assert d.failing is not None and d.failing.migration.id == FAILING
    assert d.failing.error_class is E.DUPLICATE_COLUMN
    assert all(not o.rehearsed for o in d.options)
    assert d.option(Strategy.RESET).predicted_ok is False  # type: ignore[union-attr]
    assert d.recommendation.strategy is Strategy.RESUME
    assert lint.evidence is Evidence.SIMULATED and lint.failure_predicted
    assert schema_and_tracking_rows(db_url) == before


def test_shadow_is_dropped_when_the_rehearsal_is_interrupted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C in the middle of a rehearsal: the shadow is gone afterwards (no_shadow_left)."""
    from dbtest import server_problem

    if server_problem("mariadb"):
        pytest.skip("mariadb server does not answer")
    factory = DatabaseFactory("mariadb", tmp_path)
    url = factory.new()
    try:
        root = project(tmp_path, SQLITE_CASES[0])
        assert not api.migrate(root, url).result.ok
        from dbmedic.frameworks.dbmate import Dbmate

        def interrupted(*a: object, **k: object) -> object:
            raise KeyboardInterrupt

        monkeypatch.setattr(Dbmate, "migrate", interrupted)
        with pytest.raises(KeyboardInterrupt):
            api.diagnose(root, url)
        name = url.rsplit("/", 1)[-1]
        assert [s for s in shadow_databases() if s.startswith(f"{name}_dbmedic_shadow_")] == []
    finally:
        factory.drop_all()


@pytest.mark.backend("sqlite")
def test_only_the_named_rehearsals_run(backend: str, db_url: str, tmp_path: Path) -> None:
    """rehearse={"reset"} (what a reset plan needs): the fresh run is rehearsed, the failure
    point and resume are simulated, and no other shadow migrate runs."""
    root = project(tmp_path, SQLITE_CASES[0])
    assert not api.migrate(root, db_url).result.ok
    phases: list[str] = []

    d = api.diagnose(root, db_url, rehearse={"reset"}, progress=lambda p, m: phases.append(p))

    reset, resume = d.option(Strategy.RESET), d.option(Strategy.RESUME)
    assert reset is not None and reset.rehearsed and reset.predicted_ok is False
    assert reset.fails_at == FAILING
    assert resume is not None and not resume.rehearsed and resume.predicted_ok
    assert d.failing is not None and d.failing.migration.id == FAILING
    assert d.failing.evidence is Evidence.SIMULATED
    assert "reset" in phases and "rehearsal" not in phases and "resume" not in phases
    with pytest.raises(ConfigError, match="unknown rehearsal"):
        api.diagnose(root, db_url, rehearse={"fresh"})


def _resume_messages(root: Path, url: str) -> tuple[object, list[str]]:
    said: list[tuple[str, str]] = []
    d = api.diagnose(root, url, progress=lambda phase, message: said.append((phase, message)))
    return d, [m for p, m in said if p == "resume" and "_shadow_" in m]


@pytest.mark.backend("sqlite", "mariadb")
def test_resume_continues_on_the_copy_the_failed_run_left_as_it_was(
    backend: str, db_url: str, tmp_path: Path
) -> None:
    """The failing migration fails at its first statement on the copy: the resume rehearsal
    records it and migrates on that same copy (no second copy of the target), and its
    prediction holds on the target."""
    root = project(tmp_path, SQLITE_CASES[0])  # duplicate column, resume recommended
    assert not api.migrate(root, db_url).result.ok

    d, messages = _resume_messages(root, db_url)

    resume = d.option(Strategy.RESUME)  # type: ignore[attr-defined]
    assert resume is not None and resume.rehearsed and resume.predicted_ok
    assert resume.mark_applied == (FAILING,)
    assert len(messages) == 1 and "the copy the failed run left as it was" in messages[0]
    from dbmedic.connect import open_target
    from dbmedic.frameworks import get_framework

    with open_target(db_url) as db:
        get_framework("dbmate").mark_applied(db, root, [FAILING])
    assert api.migrate(root, db_url).result.ok


@pytest.mark.backend("mariadb")
def test_resume_takes_a_new_copy_when_the_failed_run_changed_it(
    backend: str, db_url: str, tmp_path: Path
) -> None:
    """On MariaDB a migration's statements before the failing one stay in effect: here a row
    lands in the copy before the duplicate column fails, so the copy is no longer the target's
    and the resume rehearsal takes a fresh one (same prediction)."""
    case = Case(
        "insert_then_duplicate",
        "INSERT INTO users (id, name) VALUES (1, 'a');\n"
        "ALTER TABLE users ADD COLUMN email varchar(100);",
        E.DUPLICATE_COLUMN, "duplicate", "users.email", ("001",), Strategy.RESUME,
    )  # fmt: skip
    root = project(tmp_path, case)
    assert not api.migrate(root, db_url).result.ok

    d, messages = _resume_messages(root, db_url)

    resume = d.option(Strategy.RESUME)  # type: ignore[attr-defined]
    assert resume is not None and resume.rehearsed and resume.predicted_ok
    assert len(messages) == 1 and "left as it was" not in messages[0]


@pytest.mark.backend("mariadb")
def test_an_error_while_rehearsing_leaves_no_shadow(
    backend: str, db_url: str, tmp_path: Path
) -> None:
    """The reference cannot be read (parity runs while the rehearsals run on their threads):
    diagnose fails with one sentence and every shadow is gone (no_shadow_left)."""
    from dbmedic.errors import DbmedicError

    root = project(tmp_path, SQLITE_CASES[0])
    assert not api.migrate(root, db_url).result.ok
    missing = db_url.rsplit("/", 1)[0] + "/dbmedic_no_such_database_here"

    with pytest.raises(DbmedicError, match="dbmedic_no_such_database_here"):
        api.diagnose(root, db_url, reference=missing)


@pytest.mark.backend("mariadb")
def test_sigterm_stops_the_rehearsals_and_drops_their_shadows(
    backend: str, db_url: str, tmp_path: Path
) -> None:
    """SIGTERM while the resume rehearsal runs on its thread (here: six slow migrations after
    the failure): diagnose stops at the next migration instead of finishing the run, and no
    shadow is left."""
    import signal
    import subprocess
    import sys
    import time

    files = {**BASE, f"{FAILING}_dup": SQLITE_CASES[0].failing_sql}
    files.update({f"{n:03}_slow": "DO SLEEP(3);" for n in range(4, 10)})
    root = write_dbmate(tmp_path / "app", files)
    assert not api.migrate(root, db_url).result.ok
    name = db_url.rsplit("/", 1)[-1]
    boot = "import sys\nfrom dbmedic.cli import main; main(sys.argv[1:])"
    proc = subprocess.Popen(
        [sys.executable, "-c", boot, "diagnose", "--app", str(root), "--db", db_url, "--json"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not any(s.startswith(f"{name}_dbmedic_shadow_") for s in shadow_databases()):
            assert proc.poll() is None and time.monotonic() < deadline, "no rehearsal seen"
            time.sleep(0.2)
        time.sleep(4)  # the copy, the failed run, then into the slow migrations
        assert proc.poll() is None
        proc.send_signal(signal.SIGTERM)
        stopped = time.monotonic()
        proc.wait(timeout=60)
        waited = time.monotonic() - stopped
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.stderr is not None
    err = proc.stderr.read()
    assert proc.returncode != 0, err
    assert waited < 10, f"diagnose took {waited:.1f} s to stop (the slow run alone takes 18 s)"
    left = [s for s in shadow_databases() if s.startswith(f"{name}_dbmedic_shadow_")]
    assert left == [], err
