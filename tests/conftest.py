"""Test fixtures: the same suite runs on SQLite and on PostgreSQL (``BARNKOMPASS_TEST_DB``).

Databases are built once per test session with ``alembic upgrade head`` (which proves the migrations)
into two templates — empty, and with the demo municipality loaded through the operations. Then:

* ``app`` / ``db`` / ``client``: one working copy of the demo database; every test runs inside a
  transaction that is rolled back (SQLAlchemy's "join a session into an external transaction"
  recipe; SQLite uses the documented pysqlite savepoint workaround in ``coordination.database``).
* ``committed_db``: a fresh database per test, copied from a template (a file copy on SQLite,
  ``CREATE DATABASE … TEMPLATE`` on PostgreSQL) for anything that commits for real.

Test databases are named ``bk_test_*`` and the suite drops only the ones it created.
"""

from __future__ import annotations

import glob
import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from flask import Flask
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url

DB_KIND = os.environ.get("BARNKOMPASS_TEST_DB", "sqlite")
PG_URL = os.environ.get("BARNKOMPASS_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
RUN_TOKEN = secrets.token_hex(4)

TEST_KEYS = {
    "SECRET_KEY": "test-secret-key-" + secrets.token_urlsafe(32),
    "IDENTITY_ENCRYPTION_KEY": Fernet.generate_key().decode(),
    "IDENTITY_HASH_KEY": "test-hash-key-" + secrets.token_urlsafe(40),
}

LOG_STATE: dict[str, Any] = {}
# The PostgreSQL server's log, scanned for identity numbers by tests/test_zz_log_scan.py.
PG_SERVER_LOGS = os.environ.get("BARNKOMPASS_TEST_POSTGRESQL_LOG", "/var/log/postgresql/postgresql-*-main.log")


def _file_sizes(pattern: str) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for path in glob.glob(pattern):
        try:
            sizes[path] = os.path.getsize(path)
        except OSError:
            continue
    return sizes


def pytest_report_header(config: pytest.Config) -> str:
    return f"barnkompass test database: {DB_KIND}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # The log scan runs last, after every other test has written its logs.
    last = [item for item in items if item.get_closest_marker("runs_last")]
    rest = [item for item in items if not item.get_closest_marker("runs_last")]
    items[:] = rest + last
    if DB_KIND != "sqlite":
        # SQLite's own locking (BEGIN IMMEDIATE, WAL): checked in the SQLite phase only.
        sqlite_only = [item for item in items if item.get_closest_marker("sqlite_only")]
        if sqlite_only:
            config.hook.pytest_deselected(items=sqlite_only)
            items[:] = [item for item in items if not item.get_closest_marker("sqlite_only")]
    if DB_KIND != "postgresql":
        # Not skipped: deselected here because they run in the PostgreSQL phase of `make test`.
        deselected = [item for item in items if item.get_closest_marker("postgresql_only")]
        if deselected:
            config.hook.pytest_deselected(items=deselected)
            items[:] = [item for item in items if not item.get_closest_marker("postgresql_only")]


SKIPPED: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped:
        SKIPPED.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Under CI nothing may be skipped: a skip fails the run."""
    if os.environ.get("CI") == "true" and SKIPPED and session.exitstatus == 0:
        session.exitstatus = 1
        print(f"\nCI=true and {len(SKIPPED)} test(s) were skipped; nothing may be skipped under CI:")
        for nodeid in SKIPPED:
            print(f"  {nodeid}")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "runs_last: run after every other test")
    config.addinivalue_line("markers", "sqlite_only: runs only in the SQLite phase (SQLite's own locking)")
    if DB_KIND not in ("sqlite", "postgresql"):
        raise pytest.UsageError("BARNKOMPASS_TEST_DB must be sqlite or postgresql")


def build_test_config(database_url: str, instance_path: Path, **overrides: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "ENVIRONMENT": "test",
        "DATABASE_URL": database_url,
        "INSTANCE_PATH": str(instance_path),
        "LOG_FILE": LOG_STATE.get("app_log"),
        "LOG_LEVEL": "INFO",
        **TEST_KEYS,
    }
    config.update(overrides)
    if config["ENVIRONMENT"] == "test" and "PASSWORD_HASH_METHOD" not in overrides:
        # scrypt at a lower cost: the suite logs in thousands of times (only the test configuration may)
        config["PASSWORD_HASH_METHOD"] = "scrypt:1024:8:1"
    return config


@dataclass
class DatabaseFactory:
    """Creates test databases from the session's templates and drops them at the end."""

    kind: str
    workdir: Path
    created: list[str] = field(default_factory=list)
    templates: dict[str, str] = field(default_factory=dict)

    # -- naming ---------------------------------------------------------------------------------------
    def _pg_url(self, name: str) -> str:
        return (
            make_url(PG_URL).set(database=name, drivername="postgresql+psycopg").render_as_string(hide_password=False)
        )

    def _admin_engine(self):  # type: ignore[no-untyped-def]
        return create_engine(self._pg_url(make_url(PG_URL).database or "postgres"), isolation_level="AUTOCOMMIT")

    def blank(self, label: str) -> str:
        name = f"bk_test_{RUN_TOKEN}_{label}_{secrets.token_hex(3)}"
        if self.kind == "sqlite":
            return f"sqlite:///{self.workdir / (name + '.sqlite')}"
        engine = self._admin_engine()
        with engine.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        self.created.append(name)
        return self._pg_url(name)

    def copy_of(self, template: str, label: str) -> str:
        source = self.templates[template]
        name = f"bk_test_{RUN_TOKEN}_{label}_{secrets.token_hex(3)}"
        if self.kind == "sqlite":
            target = self.workdir / (name + ".sqlite")
            shutil.copyfile(make_url(source).database, target)  # type: ignore[arg-type]
            return f"sqlite:///{target}"
        engine = self._admin_engine()
        with engine.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{make_url(source).database}"'))
        engine.dispose()
        self.created.append(name)
        return self._pg_url(name)

    def drop(self, url: str) -> None:
        if self.kind == "sqlite":
            path = make_url(url).database
            for suffix in ("", "-wal", "-shm"):
                if path and os.path.exists(path + suffix):
                    os.remove(path + suffix)
            return
        name = make_url(url).database
        assert name and name.startswith("bk_test_"), "the suite drops only its own databases"
        engine = self._admin_engine()
        with engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()
        if name in self.created:
            self.created.remove(name)

    def drop_all(self) -> None:
        for name in list(self.created):
            self.drop(self._pg_url(name))


def _check_postgresql() -> None:
    import psycopg

    try:
        with psycopg.connect(PG_URL.replace("postgresql+psycopg://", "postgresql://"), connect_timeout=5):
            pass
    except psycopg.Error as error:
        pytest.exit(
            f"PostgreSQL is not reachable at {PG_URL}: {type(error).__name__}. The PostgreSQL phase "
            "fails rather than skips.",
            returncode=3,
        )


@pytest.fixture(scope="session")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatabaseFactory]:
    from coordination.app import create_app
    from coordination.database import db as database
    from coordination.demo.loader import load_demo
    from coordination.migrate import upgrade

    if DB_KIND == "postgresql":
        _check_postgresql()
        LOG_STATE["pg_log_offsets"] = _file_sizes(PG_SERVER_LOGS)  # what the server logs from here on is ours
    workdir = tmp_path_factory.mktemp("databases")
    LOG_STATE["app_log"] = str(tmp_path_factory.getbasetemp() / "barnkompass-app.log")
    factory = DatabaseFactory(DB_KIND, workdir)
    try:
        empty = factory.blank("empty")
        upgrade(empty)
        factory.templates["empty"] = empty
        demo = factory.copy_of("empty", "demo")
        app = create_app(build_test_config(demo, workdir / "instance"))
        with app.app_context():
            load_demo()
            database.session.commit()
        app.extensions["database"].engine.dispose()
        factory.templates["demo"] = demo
        yield factory
    finally:
        factory.drop_all()


def make_test_app(url: str, instance_path: Path, **overrides: Any) -> Flask:
    from coordination.app import create_app

    return create_app(build_test_config(url, instance_path, **overrides))


@pytest.fixture(scope="session")
def app(databases: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """The app on a working copy of the demo database, shared by the rollback tests."""
    url = databases.copy_of("demo", "work")
    application = make_test_app(url, tmp_path_factory.mktemp("instance"))
    yield application
    application.extensions["database"].engine.dispose()


@pytest.fixture()
def db(app: Flask) -> Iterator[Any]:
    """Each test inside one transaction on one connection, rolled back at the end."""
    from coordination.database import db as shared_db

    database = app.extensions["database"]
    clock = app.extensions["clock"]
    connection = database.engine.connect()
    transaction = connection.begin()
    database.bind_to_connection(connection)
    try:
        # No app context stays pushed here: a request would reuse it (and its ``g``). Tests that call
        # operations directly use ``with app.app_context():``.
        yield shared_db
    finally:
        database.bind_to_connection(None)
        transaction.rollback()
        connection.close()
        clock.reset()


@pytest.fixture()
def client(app: Flask, db: Any):  # type: ignore[no-untyped-def]
    return app.test_client()


@pytest.fixture()
def clock(app: Flask):  # type: ignore[no-untyped-def]
    return app.extensions["clock"]


@pytest.fixture()
def committed_db(databases: DatabaseFactory, tmp_path: Path) -> Iterator[Callable[..., Flask]]:
    """Make an app on a fresh database of its own (``template`` "demo" or "empty"), committed for real."""
    made: list[tuple[Flask, str]] = []

    def make(template: str = "demo", **overrides: Any) -> Flask:
        url = databases.copy_of(template, "committed")
        application = make_test_app(url, tmp_path / f"instance{len(made)}", **overrides)
        made.append((application, url))
        return application

    yield make
    for application, url in made:
        application.extensions["database"].engine.dispose()
        databases.drop(url)


class QueryCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture()
def count_queries(app: Flask, db: Any):  # type: ignore[no-untyped-def]
    """``with count_queries() as counter: ...`` counts the SQL statements the app sends."""

    @contextmanager
    def counting() -> Iterator[QueryCounter]:
        counter = QueryCounter()
        database = app.extensions["database"]
        target = database._bound_connection or database.engine  # connections copy engine events when made

        def before(_conn, _cursor, statement, _params, _context, _many):  # type: ignore[no-untyped-def]
            if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK TO")):
                counter.statements.append(statement)

        event.listen(target, "before_cursor_execute", before)
        try:
            yield counter
        finally:
            event.remove(target, "before_cursor_execute", before)

    return counting
