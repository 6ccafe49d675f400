"""The ``barnkompass`` commands on committed databases: seed-demo, demo-needs-reload, create-admin and
db upgrade."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import func, select, text

from coordination.children.models import Child
from coordination.database import db
from coordination.migrate import alembic_config
from coordination.models import Account, AuditEvent, PlatformAdmin
from tests.conftest import DatabaseFactory
from tests.helpers import login

ADMIN_PASSWORD = "a-long-enough-admin-password"


def run(app: Flask, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=list(args))


def count(app: Flask, model: Any) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model)) or 0


# -- seed-demo -----------------------------------------------------------------------------------------
def test_seed_demo_refuses_a_database_that_holds_data(committed_db: Callable[..., Flask]) -> None:
    app = committed_db("demo")
    children = count(app, Child)
    result = run(app, "seed-demo")
    assert result.exit_code != 0
    assert "already holds data" in result.output
    assert count(app, Child) == children, "nothing was added"


def test_seed_demo_needs_demo_mode_outside_the_test_configuration(committed_db: Callable[..., Flask]) -> None:
    app = committed_db("empty", ENVIRONMENT="development")
    result = run(app, "seed-demo")
    assert result.exit_code != 0
    assert "demo mode" in result.output
    assert count(app, Child) == 0


def test_seed_demo_fills_an_empty_database_once(committed_db: Callable[..., Flask]) -> None:
    app = committed_db("empty")
    result = run(app, "seed-demo")
    assert result.exit_code == 0, result.output
    children = count(app, Child)
    assert children >= 29
    assert f"{children} children" in result.output
    again = run(app, "seed-demo")
    assert again.exit_code != 0
    assert "already holds data" in again.output
    assert count(app, Child) == children


# -- demo-needs-reload ---------------------------------------------------------------------------------
def test_demo_needs_reload_when_there_is_no_database_yet(
    committed_db: Callable[..., Flask], databases: DatabaseFactory
) -> None:
    url = databases.blank("cli")
    try:
        app = committed_db("empty", DATABASE_URL=url)
        result = run(app, "demo-needs-reload")
        assert result.exit_code == 0, result.output
        assert "no database yet" in result.output
        app.extensions["database"].engine.dispose()
    finally:
        databases.drop(url)


def test_demo_needs_reload_follows_the_age_of_the_demo(committed_db: Callable[..., Flask]) -> None:
    app = committed_db("empty")
    empty = run(app, "demo-needs-reload")
    assert empty.exit_code == 0, "an empty database needs the demo"
    assert run(app, "seed-demo").exit_code == 0
    fresh = run(app, "demo-needs-reload")
    assert fresh.exit_code == 10, "a demo loaded just now is fresh"
    assert "fresh" in fresh.output
    app.extensions["clock"].advance(timedelta(hours=23))
    assert run(app, "demo-needs-reload").exit_code == 10, "less than a day old"
    app.extensions["clock"].advance(timedelta(hours=2))
    stale = run(app, "demo-needs-reload")
    assert stale.exit_code == 0, "more than a day old"
    assert "more than a day old" in stale.output


def test_demo_needs_reload_when_an_older_loader_loaded_it(committed_db: Callable[..., Flask]) -> None:
    """A demo loaded before a part of the story was added (e.g. the plans) is reloaded by ``make demo``."""
    from coordination.database import db as database
    from coordination.demo.loader import STORY_KEY
    from coordination.models import Setting

    app = committed_db("empty")
    assert run(app, "seed-demo").exit_code == 0
    assert run(app, "demo-needs-reload").exit_code == 10
    with app.app_context():
        database.session.merge(Setting(key=STORY_KEY, value="skeleton, access core, concerns and teams"))
        database.session.commit()
    older = run(app, "demo-needs-reload")
    assert older.exit_code == 0, older.output
    assert "older loader" in older.output


# -- create-admin --------------------------------------------------------------------------------------
def test_create_admin_refuses_a_short_password(
    committed_db: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = committed_db("empty")
    monkeypatch.setenv("BARNKOMPASS_ADMIN_PASSWORD", "elevenchars")  # 11
    result = run(app, "create-admin", "--username", "root", "--name", "Root")
    assert result.exit_code != 0
    assert "at least 12 characters" in result.output
    assert "elevenchars" not in result.output
    assert count(app, Account) == 0 and count(app, PlatformAdmin) == 0


def test_create_admin_refuses_a_taken_username_and_writes_nothing(
    committed_db: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = committed_db("demo")
    monkeypatch.setenv("BARNKOMPASS_ADMIN_PASSWORD", ADMIN_PASSWORD)
    before = (count(app, Account), count(app, PlatformAdmin), count(app, AuditEvent))
    result = run(app, "create-admin", "--username", "  ADMIN ", "--name", "Another admin")
    assert result.exit_code != 0
    assert "That username is taken" in result.output
    assert "Traceback" not in result.output
    assert (count(app, Account), count(app, PlatformAdmin), count(app, AuditEvent)) == before


def test_create_admin_makes_a_platform_admin_who_can_log_in(
    committed_db: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = committed_db("empty")
    monkeypatch.setenv("BARNKOMPASS_ADMIN_PASSWORD", ADMIN_PASSWORD)
    result = run(app, "create-admin", "--username", " Root ", "--name", "Rut Admin", "--email", "rut@ekby.example")
    assert result.exit_code == 0, result.output
    assert "root" in result.output
    assert ADMIN_PASSWORD not in result.output
    with app.app_context():
        account = db.session.scalar(select(Account).where(Account.username == "root"))
        assert account is not None
        assert account.kind == "platform_admin" and account.is_active and not account.is_demo
        assert account.password_hash and ADMIN_PASSWORD not in account.password_hash
        assert account.platform_admin is not None and account.platform_admin.name == "Rut Admin"
        audit = db.session.scalars(select(AuditEvent.action)).all()
        assert "create_account" in audit
    client = app.test_client()
    assert login(client, "root", "the-wrong-password-entirely").status_code == 422
    response = login(client, "root", ADMIN_PASSWORD)
    assert response.status_code == 302
    home = client.get("/")
    assert home.status_code == 200
    assert "Rut Admin" in home.get_data(as_text=True)


# -- db upgrade ----------------------------------------------------------------------------------------
def test_db_upgrade_is_idempotent(committed_db: Callable[..., Flask]) -> None:
    app = committed_db("empty")
    head = ScriptDirectory.from_config(alembic_config(app.config["DATABASE_URL"])).get_current_head()
    for _ in range(2):
        result = run(app, "db", "upgrade")
        assert result.exit_code == 0, result.output
        assert "up to date" in result.output
        with app.app_context():
            assert db.session.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [head]
