"""The driver path of inspection: URLs read like SQLAlchemy reads them, catalog read without it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from dbmedic.connect import open_reference, open_target
from dbmedic.driver import DbUrl, DriverConnection
from dbmedic.errors import ConnectError, InspectError
from dbmedic.inspect import inspect_schema
from dbtest import DatabaseFactory, run_sql

URLS = [
    "mysql+pymysql://root@127.0.0.1:3306/app",
    "mysql+pymysql://app:s%40cr%3At@db.example.com/app?charset=utf8mb4",
    "postgresql+psycopg://u:p@[::1]:5433/app?options=-csearch_path%3Dx&sslmode=require",
    "postgresql+psycopg://u@h1,h2/app?target_session_attrs=any&x=1&x=2",
    "postgresql+psycopg:///app",
    "sqlite:////tmp/some%20dir/app.db",
    "sqlite:///relative.db",
    "sqlite://",
    "mysql+pymysql://user:pa ss+word@host/db%2Fname",
]


@pytest.mark.parametrize("text", URLS)
def test_url_reads_like_sqlalchemy(text: str) -> None:
    ours, theirs = DbUrl.parse(text), make_url(text)
    for attr in ("drivername", "username", "password", "host", "port", "database"):
        assert getattr(ours, attr) == getattr(theirs, attr), attr
    assert dict(ours.query) == {
        k: tuple(v) if isinstance(v, tuple) else v for k, v in theirs.query.items()
    }
    for hide in (True, False):
        assert ours.render_as_string(hide) == theirs.render_as_string(hide)
    assert ours.to_sqlalchemy() == theirs


def _tables(backend: str, n: int) -> str:
    pk = {"mariadb": "INT AUTO_INCREMENT PRIMARY KEY", "postgresql": "SERIAL PRIMARY KEY"}.get(
        backend, "INTEGER PRIMARY KEY"
    )
    stmts = []
    for i in range(1, n + 1):
        ref = f", prev_id INT REFERENCES t{i - 1} (id)" if i > 1 else ""
        stmts.append(f"CREATE TABLE t{i} (id {pk}, name VARCHAR(50) NOT NULL UNIQUE{ref});")
        stmts.append(f"CREATE INDEX t{i}_name ON t{i} (name);")
    return "\n".join(stmts)


@pytest.mark.parametrize("side_by_side_from", [1, 1000])
def test_inspection_query_count_does_not_grow(
    db_factory: DatabaseFactory, side_by_side_from: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The driver connection sends one query per catalog file, for 3 tables as for 60; read
    on two connections (from 1 table here), PostgreSQL adds two to share its snapshot."""
    monkeypatch.setattr("dbmedic.driver.SIDE_BY_SIDE_FROM", side_by_side_from)
    counts = {}
    for n in (3, 60):
        url = db_factory.new(f"d{n}")
        run_sql(url, _tables(db_factory.backend, n))
        with open_reference(url) as db, db.driver_connect() as conn:
            assert isinstance(conn, DriverConnection)
            before = conn.statements  # the connection that read the server facts is reused
            schema = db.dialect.inspect(conn, db.info)
            counts[n] = conn.statements - before
        assert len(schema.tables) == n
        assert [fk.ref_table for fk in schema.tables[f"t{n}"].foreign_keys.values()] == [
            f"t{n - 1}"
        ]
    shared_snapshot = 2 if db.dialect.name == "postgresql" and side_by_side_from == 1 else 0
    assert counts[3] == counts[60] == len(db.dialect.catalog or ()) + shared_snapshot


def test_driver_and_engine_read_the_same_schema(
    db_factory: DatabaseFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two driver connections side by side read what one engine connection reads."""
    monkeypatch.setattr("dbmedic.driver.SIDE_BY_SIDE_FROM", 1)
    url = db_factory.new()
    run_sql(url, _tables(db_factory.backend, 4))
    with open_reference(url) as db:
        through_driver = inspect_schema(db)
    with open_reference(make_url(url)) as db:  # a URL object: the engine path
        assert db._driver is None
        through_engine = inspect_schema(db)
    assert through_driver.tables == through_engine.tables
    assert through_driver.database == through_engine.database


def test_reference_is_read_only_through_the_driver(db_factory: DatabaseFactory) -> None:
    url = db_factory.new()
    run_sql(url, _tables(db_factory.backend, 1))
    with (
        open_reference(url) as db,
        db.driver_connect() as conn,
        pytest.raises(Exception, match=r"(?i)read.only|readonly|1792"),
    ):
        conn.exec_driver_sql("INSERT INTO t1 (name) VALUES ('x')")


def test_target_engine_is_made_on_first_use(db_factory: DatabaseFactory) -> None:
    url = db_factory.new()
    with open_target(url) as db:
        assert db._engine is None
        with db.connect() as conn:
            conn.exec_driver_sql("CREATE TABLE made (id INT PRIMARY KEY)")
            conn.commit()
        assert list(inspect_schema(db).tables) == ["made"]


def test_unreachable_server_is_one_sentence() -> None:
    with pytest.raises(
        ConnectError, match=r"^cannot connect to mysql\+pymysql://nobody@127\.0\.0\.1:1/x"
    ):
        open_reference("mysql://nobody@127.0.0.1:1/x")


def test_inspect_command_does_not_import_sqlalchemy(db_factory: DatabaseFactory) -> None:
    """Start-up: reading a schema loads the driver, not SQLAlchemy (~0.2 s of every run)."""
    url = db_factory.new()
    run_sql(url, _tables(db_factory.backend, 2))
    code = (
        "import sys, json; from dbmedic.cli import main\n"
        "try:\n    main(['inspect', sys.argv[1], '--json'])\n"
        "except SystemExit:\n    pass\n"
        "print(json.dumps('sqlalchemy' in sys.modules), file=sys.stderr)"
    )
    src = str(Path(__file__).resolve().parent.parent / "src")
    env = {**os.environ, "PYTHONPATH": src}
    proc = subprocess.run(
        [sys.executable, "-c", code, url], capture_output=True, text=True, env=env, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert sorted(json.loads(proc.stdout)["tables"]) == ["t1", "t2"]
    assert json.loads(proc.stderr.strip().splitlines()[-1]) is False


def test_side_by_side_raises_the_error_of_either_side_after_both_finish() -> None:
    from dbmedic.driver import side_by_side

    done: list[str] = []

    def here() -> None:
        done.append("here")

    def beside() -> None:
        raise InspectError("postgresql: reading indexes failed (boom)")

    with pytest.raises(InspectError, match="boom"):
        side_by_side(here, beside)
    assert done == ["here"]


def test_mysql_preferred_tls_context_verifies_what_pymysqls_own_does() -> None:
    """No ``ssl*`` option: TLS if the server offers it, nothing verified, as PyMySQL itself does,
    without loading the CA store; any ``ssl*`` option gets PyMySQL's own context."""
    import ssl

    import pymysql

    from dbmedic.dialects.mysql import _connection_class

    ours = _connection_class()(host="127.0.0.1", defer_connect=True)
    theirs = pymysql.connections.Connection(host="127.0.0.1", defer_connect=True)
    assert (ours.ssl, ours._ssl_required) == (theirs.ssl, theirs._ssl_required) == (True, False)
    for attr in ("verify_mode", "check_hostname", "minimum_version", "protocol"):
        assert getattr(ours.ctx, attr) == getattr(theirs.ctx, attr), attr
    assert ours.ctx.options & theirs.ctx.options == theirs.ctx.options
    assert ours.ctx.cert_store_stats()["x509_ca"] == 0

    asked = _connection_class()(host="127.0.0.1", ssl_verify_cert=True, defer_connect=True)
    assert asked._ssl_required and asked.ctx.verify_mode == ssl.CERT_REQUIRED


@pytest.mark.backend("mariadb")
def test_engine_connections_use_the_driver_paths_connection_class(db_url: str) -> None:
    """Pooled SQLAlchemy connections (migrate, fix, backups) get the same TLS context shortcut."""
    from dbmedic.connect import open_target
    from dbmedic.dialects.mysql import _connection_class

    with open_target(db_url) as db, db.engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        assert type(raw) is _connection_class()
        assert conn.exec_driver_sql("SELECT 1").scalar() == 1


@pytest.mark.parametrize(
    ("kwargs", "suits"),
    [
        ({"host": "127.0.0.1", "port": 3306, "user": "root"}, True),
        ({"host": "::1", "user": "app", "password": "p", "database": "d"}, True),
        ({"host": "localhost", "unix_socket": "/run/mysqld/mysqld.sock"}, True),
        ({"host": "localhost", "user": "root"}, False),  # Connector/C: the socket; PyMySQL: TCP
        ({"host": "db.example.com", "user": "app"}, False),  # PyMySQL would prefer TLS
        ({"user": "root"}, False),  # no host: PyMySQL means TCP to localhost
        ({"host": "127.0.0.1", "ssl_ca": "/ca.pem"}, False),
    ],
)
def test_mysqlclient_is_used_only_where_it_connects_like_pymysql(
    kwargs: dict[str, object], suits: bool
) -> None:
    from dbmedic.dialects.mysql import cdriver

    assert cdriver.suits(kwargs) is suits


@pytest.mark.backend("mariadb")
def test_both_mysql_drivers_read_the_same_schema_and_status(
    db_factory: DatabaseFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With mysqlclient installed a loopback URL is read through it (C row decoding, a quarter
    of ``status``'s start-up saved); without it through PyMySQL. Schema, migration states and
    table count are the same either way, NULLs, booleans, dates and unicode included."""
    pytest.importorskip("MySQLdb")
    from dbmedic import api
    from dbmedic.dialects.mysql import cdriver

    url = db_factory.new()
    assert DbUrl.parse(url).host == "127.0.0.1"
    run_sql(
        url,
        _tables("mariadb", 3)
        + """
CREATE TABLE odd (id BIGINT UNSIGNED PRIMARY KEY, flag TINYINT(1) DEFAULT 1,
  price DECIMAL(12,4) DEFAULT '0.5000', born DATE DEFAULT '2000-01-01',
  note VARCHAR(20) COMMENT 'naïve 🚀', blob_col VARBINARY(8) DEFAULT NULL,
  kind ENUM('a','b') NOT NULL DEFAULT 'a');
CREATE TABLE schema_migrations (version VARCHAR(128) PRIMARY KEY);
INSERT INTO schema_migrations VALUES ('20250101000000');""",
    )
    app = tmp_path / "app"
    (app / "db" / "migrations").mkdir(parents=True)
    for version in ("20250101000000", "20250102000000"):
        (app / "db" / "migrations" / f"{version}_step.sql").write_text(
            f"-- migrate:up\nCREATE TABLE s{version} (id INT);\n-- migrate:down\n"
        )

    def read() -> tuple[object, object, str]:
        with open_reference(url) as db, db.driver_connect() as conn:
            assert isinstance(conn, DriverConnection)
            import pymysql

            module = (
                "pymysql"
                if isinstance(conn.dbapi_connection, pymysql.Connection)
                else (type(conn.dbapi_connection).__module__)
            )
            schema = db.dialect.inspect(conn, db.info)
        report = api.status(app, url, framework="dbmate").to_dict()
        report.pop("seconds")
        return schema, report, module

    c_schema, c_status, c_module = read()
    monkeypatch.setattr(cdriver, "driver", lambda: None)
    py_schema, py_status, py_module = read()
    assert c_module.startswith("MySQLdb") and py_module.startswith("pymysql")
    assert c_schema == py_schema
    assert c_status == py_status
    assert [m["state"] for m in c_status["migrations"]] == ["applied", "pending"]  # type: ignore[index]


def test_a_connect_timeout_is_one_sentence_with_either_driver() -> None:
    """PyMySQL says 2003 "(timed out)"; Connector/C says 2013 "Lost connection ... at
    'handshake ...', system error: 110". Both read as a server that cannot be reached."""
    from dbmedic.dialects.mysql import MySQL

    c_side = type("OperationalError", (Exception,), {})(
        2013,
        "Lost connection to server at 'handshake: reading initial communication packet', "
        "system error: 110",
    )
    py_side = type("OperationalError", (Exception,), {})(
        2003, "Can't connect to MySQL server on 'db.example.com' (timed out)"
    )
    assert MySQL().describe_error(c_side) == (
        "cannot reach the server (no answer within the connect timeout)"
    )
    assert MySQL().describe_error(py_side) == (
        "cannot reach the server at 'db.example.com' (timed out)"
    )


@pytest.mark.backend("mariadb")
def test_a_named_socket_is_used_by_both_mysql_drivers(db_url: str) -> None:
    """PyMySQL connects through ``unix_socket`` whatever the host says; Connector/C only when
    the host is ``localhost`` (else TCP). dbmedic's mysqlclient connections follow PyMySQL."""
    pytest.importorskip("MySQLdb")
    from dbmedic.backups import mysqlc
    from dbmedic.dialects.mysql import cdriver

    url = DbUrl.parse(db_url)
    with open_reference(db_url) as db, db.driver_connect() as conn:
        socket_path = str(conn.exec_driver_sql("SELECT @@socket").scalar())
    assert Path(socket_path).exists(), f"the server's socket {socket_path} is not on this machine"
    kwargs = {"host": "127.0.0.1", "user": url.username or "root", "unix_socket": socket_path}
    how = "SELECT HOST FROM information_schema.PROCESSLIST WHERE ID = CONNECTION_ID()"
    for raw in (cdriver.connect(kwargs), mysqlc.connect(kwargs)):
        cursor = raw.cursor()
        cursor.execute(how)
        assert cursor.fetchone()[0] in ("localhost", b"localhost")  # not 127.0.0.1:<port>
        raw.close()


def test_only_connector_c_errors_are_tried_again_with_pymysql() -> None:
    from dbmedic.dialects.mysql import cdriver

    def error(code: int) -> Exception:
        return type("OperationalError", (Exception,), {})(code, "message")

    assert cdriver.retry_with_pymysql(error(2002))  # refused port, reported as errno 115
    assert cdriver.retry_with_pymysql(error(2061))  # MySQL 8: needs a secure connection
    assert not cdriver.retry_with_pymysql(error(2013))  # a timeout: PyMySQL would wait again
    assert not cdriver.retry_with_pymysql(error(1045))  # access denied: the same for both
    assert not cdriver.retry_with_pymysql(error(1049))  # unknown database
    assert not cdriver.retry_with_pymysql(ValueError("no code"))
