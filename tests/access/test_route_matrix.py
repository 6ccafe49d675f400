"""The authorization matrix for the pages that are not under a child: persona × route → status,
as data. Every persona of the demo is listed for every route; anything not allowed is 404 (deny by
default), and a family member, the platform admin and the analyst reach none of these staff pages."""

from __future__ import annotations

import pytest
from flask import Flask

from coordination.demo.ekby import PERSONAS
from tests.helpers import login

STAFF = ("anna", "sara", "maria", "lars", "nina", "johan", "ida", "erik", "karin", "bodil", "olle", "hanna", "mia")
AGENCY_ADMINS = ("maria", "bodil")
INTAKE = ("ida",)

# route → the personas who get 200 (everyone else: 404)
ROUTES: dict[str, tuple[str, ...]] = {
    "/inbox": STAFF,
    "/inbox/count": STAFF,
    "/concerns/new": STAFF,
    "/concerns/delivered": STAFF,
    "/reports/new": STAFF,
    "/reports": STAFF,
    "/intake": INTAKE,
    "/agency/concerns": AGENCY_ADMINS,
    "/worklist": STAFF,
    "/worklist?view=agency": STAFF,  # agency admins see their agency's actions, others their own list
    "/agency/actions": AGENCY_ADMINS,  # the same agency view, under "My agency" (UX.md)
    "/agency/staff": AGENCY_ADMINS,  # their own agency's staff and units (issue 16; the objects: tests/agencies)
    "/agency/staff?q=a&page=2": AGENCY_ADMINS,
    "/agency/units": AGENCY_ADMINS,
    "/agency/units/new": AGENCY_ADMINS,
}


def test_the_matrix_names_every_staff_persona_and_only_demo_personas() -> None:
    assert set(STAFF) <= set(PERSONAS)
    assert {persona for allowed in ROUTES.values() for persona in allowed} <= set(STAFF)
    assert set(PERSONAS) - set(STAFF) == {"admin", "fia", "lena", "ahmed", "petra", "tomas", "noah"}


@pytest.mark.parametrize("persona", PERSONAS)
def test_route_matrix(app: Flask, db, persona: str) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    assert login(client, persona).status_code == 302
    problems = []
    for route, allowed in ROUTES.items():
        expected = 200 if persona in allowed else 404
        status = client.get(route).status_code
        if status != expected:
            problems.append(f"{persona} → {route}: {status}, expected {expected}")
    assert not problems, "\n" + "\n".join(problems)


# POSTs about one action of a Child's Plan, from the worklist: route → persona → the status of a rightful request
# (everyone else: 404, a denied audit row, the action untouched). The action is the school's — lars's, in Class
# 4–6 — in a plan of the test's own child, whose Child Contact (and so plan keeper) is maria, the school's admin.
# The bodies choose nothing valid, so the rightful request stops at the form (422) and writes nothing either.
ACTION_POSTS: dict[str, dict[str, int]] = {
    "/worklist/actions/{action}": {"lars": 422, "maria": 422},  # the owner; the plan keeper
    "/worklist/actions/{action}/reassign": {"maria": 422},  # the owner agency's admin only
}
ACTION_BODIES: dict[str, dict[str, str]] = {
    "/worklist/actions/{action}": {"status": "nonsense", "version": "1"},
    "/worklist/actions/{action}/reassign": {"owner_unit": "", "owner_person": "", "version": "1"},
}


def _school_action(app: Flask) -> str:
    from datetime import timedelta

    from childplan.operations import ActionData, PlanData, add_action, start_plan
    from coordination.clock import today
    from coordination.database import db as database
    from tests.childplan.test_worklist import _actor_of
    from tests.teams.support import CLASS_4_6, SCHOOL, agency, make_family, person, unit

    family = make_family(app)
    with app.app_context():
        maria = _actor_of("maria")
        plan = start_plan(maria, family.child(), PlanData("Reading is hard"))
        action = add_action(
            maria,
            plan,
            ActionData(
                "Reading support",
                agency(SCHOOL).id,
                unit(CLASS_4_6).id,
                person("Lars").id,
                due_on=today() + timedelta(days=10),
                areas=["achieving"],
            ),
        )
        database.session.commit()
        return action.public_id


@pytest.mark.parametrize("persona", PERSONAS)
def test_action_posts(app: Flask, db, persona: str) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import func, select

    from childplan.models import Action
    from coordination.database import db as database
    from coordination.models import AuditEvent
    from tests.helpers import csrf_token

    public_id = _school_action(app)
    client = app.test_client()
    assert login(client, persona).status_code == 302
    problems = []
    for route, allowed in ACTION_POSTS.items():
        expected = allowed.get(persona, 404)
        with app.app_context():
            denials = database.session.scalar(
                select(func.count()).select_from(AuditEvent).where(AuditEvent.outcome == "denied")
            )
        data = {**ACTION_BODIES[route], "csrf_token": csrf_token(client, "/")}
        status = client.post(route.format(action=public_id), data=data).status_code
        if status != expected:
            problems.append(f"{persona} → POST {route}: {status}, expected {expected}")
        with app.app_context():
            action = database.session.scalar(select(Action).where(Action.public_id == public_id))
            assert action is not None
            if (action.version, action.status) != (1, "planned"):
                problems.append(f"{persona} → POST {route}: the action changed")
            after = database.session.scalar(
                select(func.count()).select_from(AuditEvent).where(AuditEvent.outcome == "denied")
            )
        if expected == 404 and after == denials:
            problems.append(f"{persona} → POST {route}: 404 without a denied audit row")
    assert not problems, "\n" + "\n".join(problems)


def test_the_intake_queue_is_for_intake_alone_even_inside_social_services(app: Flask, db) -> None:  # type: ignore[no-untyped-def]
    # johan works at social services (Barn och familj) without the intake role.
    client = app.test_client()
    login(client, "johan")
    assert client.get("/intake").status_code == 404
    ida = app.test_client()
    login(ida, "ida")
    html = ida.get("/intake").get_data(as_text=True)
    assert "data-report=" in html or "RC-" in html, "erik's report about Maja waits in the queue"


def test_my_agencys_actions_is_the_worklists_agency_view(app: Flask, db) -> None:  # type: ignore[no-untyped-def]
    """bodil (BUP's agency admin) finds the agency's actions under "My agency": karin's, with the reassign form;
    the link is on the agency page."""
    client = app.test_client()
    login(client, "bodil")
    assert "/agency/actions" in client.get("/agency/").get_data(as_text=True)
    html = client.get("/agency/actions").get_data(as_text=True)
    assert 'data-form="reassign-action"' in html
    assert "Ett första besök på BUP för Omar och Ahmed" in html
    assert 'name="view" value="agency"' in html, "filtering keeps the agency view"
