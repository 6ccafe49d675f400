"""Backstop: every endpoint declares its access policy, in demo mode and out of it, so a new page
cannot forget its check (ARCHITECTURE.md "Access")."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from coordination.policies import POLICIES, policy_of


def undeclared(app: Flask) -> list[str]:
    missing = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue  # files under static/ carry no personal data
        view = app.view_functions[rule.endpoint]
        if policy_of(view) not in POLICIES:
            missing.append(f"{rule.endpoint} ({rule.rule})")
    return missing


def test_every_endpoint_outside_demo_mode_declares_a_policy(app: Flask, db: Any) -> None:
    assert not app.config["DEMO_MODE"]
    assert undeclared(app) == []


def test_every_endpoint_in_demo_mode_declares_a_policy(committed_db: Any) -> None:
    demo = committed_db(DEMO_MODE=True)
    assert "demo.login_as" in demo.view_functions
    assert undeclared(demo) == []


def test_demo_endpoints_exist_only_in_demo_mode(app: Flask, db: Any) -> None:
    demo_rules = [
        rule.rule for rule in app.url_map.iter_rules() if policy_of(app.view_functions[rule.endpoint]) == "demo"
    ]
    assert demo_rules == []
    assert not [endpoint for endpoint in app.view_functions if endpoint.startswith("demo.")]


@pytest.mark.parametrize("name", ["everyone", "", "Staff"])
def test_an_unknown_policy_name_is_refused_at_import(name: str) -> None:
    from coordination.policies import policy

    with pytest.raises(ValueError):
        policy(name)


def test_a_caller_outside_the_policy_gets_404_and_leaves_a_denial(app: Flask, db: Any) -> None:
    from sqlalchemy import select

    from coordination.children.models import Child
    from coordination.database import db as database
    from coordination.models import AuditEvent
    from tests.helpers import login

    client = app.test_client()
    login(client, "fia")
    with app.app_context():
        omar = database.session.scalar(select(Child.public_id).where(Child.given_name == "Omar"))
    assert client.get(f"/children/{omar}").status_code == 404
    assert client.get("/search").status_code == 404
    with app.app_context():
        rows = database.session.scalars(
            select(AuditEvent).where(AuditEvent.outcome == "denied", AuditEvent.action.like("open:%"))
        ).all()
    assert {(row.action, row.object_id) for row in rows} >= {
        ("open:children.overview", omar),
        ("open:children.search", None),
    }
