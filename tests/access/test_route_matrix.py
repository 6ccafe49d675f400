"""The authorization matrix for the pages that are not under a child: persona × route → status,
as data. Every persona of the demo is listed for every route; anything not allowed is 404 (deny by
default), and a family member, the platform admin and the analyst reach none of these staff pages."""

from __future__ import annotations

import pytest
from flask import Flask

from coordination.demo import PERSONAS
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


def test_the_intake_queue_is_for_intake_alone_even_inside_social_services(app: Flask, db) -> None:  # type: ignore[no-untyped-def]
    # johan works at social services (Children and families) without the intake role.
    client = app.test_client()
    login(client, "johan")
    assert client.get("/intake").status_code == 404
    ida = app.test_client()
    login(ida, "ida")
    html = ida.get("/intake").get_data(as_text=True)
    assert "data-report=" in html or "RC-" in html, "erik's report about Maja waits in the queue"
