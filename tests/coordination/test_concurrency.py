"""Requests in parallel, on a committed database with a live server thread per request: reading
requests never upgrade to a write (SQLite), writing requests take the lock up front, and login
back-off counts every parallel attempt (PostgreSQL)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, select

from coordination.models import LoginThrottle
from tests.helpers import csrf_token, login


def in_parallel(jobs: list[Callable[[], int]]) -> list[int]:
    results: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(len(jobs))

    def run(job: Callable[[], int]) -> None:
        start.wait()
        status = job()
        with lock:
            results.append(status)

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


@pytest.mark.sqlite_only
def test_writing_requests_begin_immediate_and_reading_ones_do_not(committed_db: Callable[..., Flask]) -> None:
    app = committed_db()
    begins: list[str] = []
    engine = app.extensions["database"].engine
    event.listen(
        engine,
        "before_cursor_execute",
        lambda _c, _cur, statement, *_a: begins.append(statement) if statement.startswith("BEGIN") else None,
    )
    client = app.test_client()
    client.get("/healthz")
    assert begins == ["BEGIN"], "a GET reads in a deferred transaction"
    begins.clear()
    login(client, "maria")
    assert "BEGIN IMMEDIATE" in begins, "the login POST takes the write lock before it reads"
    begins.clear()
    client.get("/")
    assert "BEGIN IMMEDIATE" not in begins[:1], begins


@pytest.mark.sqlite_only
def test_parallel_readers_and_writers_never_fail_with_a_locked_database(committed_db: Callable[..., Flask]) -> None:
    app = committed_db()
    clock = app.extensions["clock"]
    clients = []
    for username in ("maria", "anna", "lars", "sara", "nina", "johan"):
        client = app.test_client()
        assert login(client, username).status_code == 302
        clients.append(client)
    from datetime import timedelta

    clock.advance(timedelta(minutes=2))  # every session is due a "last seen" touch

    def reader(client: Any) -> Callable[[], int]:
        return lambda: client.get("/").status_code

    def writer(client: Any) -> Callable[[], int]:
        token = csrf_token(client, "/")
        return lambda: client.post("/language", data={"language": "en", "next": "/", "csrf_token": token}).status_code

    jobs = [reader(c) for c in clients[:4]] + [writer(c) for c in clients[4:]]
    statuses = in_parallel(jobs * 2)
    assert sorted(set(statuses)) <= [200, 302], statuses


@pytest.mark.postgresql_only
def test_parallel_wrong_passwords_are_all_counted_and_never_fail(committed_db: Callable[..., Flask]) -> None:
    app = committed_db(LOGIN_FREE_ATTEMPTS=1000)  # count them all; no blocking during the burst
    clients = [app.test_client() for _ in range(20)]
    tokens = [csrf_token(client, "/login") for client in clients]

    def attempt(index: int) -> Callable[[], int]:
        return lambda: (
            clients[index]
            .post("/login", data={"username": "newcomer", "password": "wrong", "csrf_token": tokens[index]})
            .status_code
        )

    statuses = in_parallel([attempt(index) for index in range(20)])
    assert statuses == [422] * 20, statuses
    with app.app_context():
        from coordination.database import db

        failures = db.session.scalars(select(LoginThrottle.failures)).all()
    assert failures == [20], "every parallel attempt was counted once"
