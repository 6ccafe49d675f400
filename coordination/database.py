"""The database: one engine per app, one session per app context, one commit per request.

SQLite gets WAL, foreign keys, a busy timeout and explicit ``BEGIN`` (``BEGIN IMMEDIATE`` for requests
that write) through SQLAlchemy's documented pysqlite recipe; PostgreSQL runs through psycopg 3. Errors
never carry bound parameters (``hide_parameters=True``): identity numbers must not reach a log.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

_begin_immediate: contextvars.ContextVar[bool] = contextvars.ContextVar("bk_begin_immediate", default=False)


def normalise_url(url: str) -> str:
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str, **kwargs: Any) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, hide_parameters=True, connect_args={"timeout": 15}, **kwargs)
        _configure_sqlite(engine)
    else:
        engine = create_engine(url, hide_parameters=True, pool_pre_ping=True, **kwargs)
    return engine


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, decide when transactions begin (savepoints work then).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=15000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if _begin_immediate.get() else "BEGIN")


@contextmanager
def writing() -> Iterator[None]:
    """Transactions started inside take the SQLite write lock at once (no SQLITE_BUSY on upgrade)."""
    token = _begin_immediate.set(True)
    try:
        yield
    finally:
        _begin_immediate.reset(token)


def mark_request_writes(flag: bool) -> contextvars.Token[bool]:
    return _begin_immediate.set(flag)


def reset_request_writes(token: contextvars.Token[bool]) -> None:
    _begin_immediate.reset(token)


def request_writes() -> bool:
    """Does the current request write (its transactions begin with BEGIN IMMEDIATE on SQLite)?"""
    return _begin_immediate.get()


class AppDatabase:
    """One app's engine and session factory (kept in ``app.extensions["database"]``)."""

    def __init__(self, url: str) -> None:
        self.engine: Engine = make_engine(url)
        self._factory: sessionmaker[Session] = sessionmaker(bind=self.engine, expire_on_commit=False, autoflush=True)
        self._bound_connection: Connection | None = None

    def new_session(self) -> Session:
        return self._factory()

    def independent_session(self) -> Session:
        """A session outside the request's transaction (audit of reads and denials).

        Under the rollback test fixture it joins the test's connection through a savepoint, so the
        test still sees what it wrote and nothing outlives the test."""
        if self._bound_connection is not None:
            return Session(
                bind=self._bound_connection, join_transaction_mode="create_savepoint", expire_on_commit=False
            )
        return Session(bind=self.engine, expire_on_commit=False)

    def bind_to_connection(self, connection: Connection | None) -> None:
        """Tests: run every session on one external connection whose outer transaction is rolled back."""
        self._bound_connection = connection
        if connection is None:
            self._factory = sessionmaker(bind=self.engine, expire_on_commit=False, autoflush=True)
        else:
            self._factory = sessionmaker(
                bind=connection, expire_on_commit=False, autoflush=True, join_transaction_mode="create_savepoint"
            )


class Database:
    """The Flask extension: ``db.session`` is the current app context's session."""

    def init_app(self, app: Flask) -> None:
        app.extensions["database"] = AppDatabase(app.config["DATABASE_URL"])
        app.teardown_appcontext(self._remove_session)

    @staticmethod
    def _state() -> AppDatabase:
        return current_app.extensions["database"]

    @property
    def engine(self) -> Engine:
        return self._state().engine

    @property
    def session(self) -> Session:
        session = g.get("_bk_db_session")
        if session is None:
            session = self._state().new_session()
            g._bk_db_session = session
        return session

    def independent_session(self) -> Session:
        return self._state().independent_session()

    def _remove_session(self, _exc: BaseException | None) -> None:
        self.end_request_session()

    def end_request_session(self) -> None:
        """Close the app context's session; whatever was not committed is rolled back."""
        session = g.pop("_bk_db_session", None)
        if session is not None:
            session.close()


db = Database()
