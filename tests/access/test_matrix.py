"""The authorization matrix (tests/access/matrix.py) run over the demo data on both databases."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from coordination.children.models import Child
from coordination.database import db as database
from coordination.demo.ekby import NAMED_CHILDREN, PERSONAS
from tests.access.matrix import ROUTES, cases, expectation
from tests.helpers import login


def child_ids(app: Flask) -> dict[str, str]:
    with app.app_context():
        rows = database.session.execute(
            select(Child.given_name, Child.public_id).where(Child.given_name.in_(NAMED_CHILDREN))
        )
        return {name: public_id for name, public_id in rows}


def withheld(html: str, section: str) -> str | None:
    match = re.search(rf'data-section="{section}".*?(?:data-withheld="([^"]+)"|</section>)', html, re.S)
    return match.group(1) if match else None


def test_every_allowed_case_names_a_real_persona_and_child() -> None:
    from tests.access.matrix import ALLOWED

    assert {persona for persona, _child in ALLOWED} <= set(PERSONAS)
    assert {child for _persona, child in ALLOWED} <= set(NAMED_CHILDREN)
    assert len(cases()) == len(PERSONAS) * len(NAMED_CHILDREN) * len(ROUTES)


@pytest.mark.parametrize("persona", PERSONAS)
def test_matrix(app: Flask, client: FlaskClient, persona: str) -> None:
    ids = child_ids(app)
    assert set(ids) == set(NAMED_CHILDREN)
    assert login(client, persona).status_code == 302
    problems: list[str] = []
    for name in NAMED_CHILDREN:
        expect = expectation(persona, name)
        for route, pattern in ROUTES.items():
            response = client.get(pattern.format(child=ids[name]))
            where = f"{persona} → {name} {route}"
            if response.status_code != expect.status:
                problems.append(f"{where}: {response.status_code}, expected {expect.status}")
                continue
            if expect.status != 200:
                continue
            html = response.get_data(as_text=True)
            main = html[html.find("<main") : html.find("</main>")]
            for agency in expect.hides_agencies:
                if agency in main:
                    problems.append(f"{where}: {agency} shown but should be withheld")
            if route != "overview":
                continue
            if withheld(html, "guardians") != expect.guardians_withheld:
                problems.append(f"{where}: guardians withheld {withheld(html, 'guardians')!r}")
            if withheld(html, "agencies") != expect.agencies_withheld:
                problems.append(
                    f"{where}: agencies withheld {withheld(html, 'agencies')!r}, expected {expect.agencies_withheld!r}"
                )
            if ('data-notice="role_needs_consent"' in html) != expect.role_notice:
                problems.append(f"{where}: role notice {'shown' if not expect.role_notice else 'missing'}")
            agencies_section = html[html.find('data-section="agencies"') :]
            agencies_section = agencies_section[: agencies_section.find("</section>")]
            for agency in expect.sees_agencies:
                if agency not in agencies_section:
                    problems.append(f"{where}: {agency} not listed")
    assert not problems, "\n" + "\n".join(problems)


def test_out_of_scope_is_404_and_leaves_a_denial_in_the_audit(app: Flask, client: FlaskClient) -> None:
    from coordination.models import AuditEvent

    ids = child_ids(app)
    login(client, "erik")
    assert client.get(f"/children/{ids['Omar']}").status_code == 404
    with app.app_context():
        omar = database.session.scalar(select(Child.id).where(Child.public_id == ids["Omar"]))
        denial = database.session.scalars(
            select(AuditEvent).where(AuditEvent.child_id == omar, AuditEvent.outcome == "denied")
        ).all()
    assert denial and denial[-1].action == "view_child_overview" and denial[-1].acting_agency_id is not None


def test_an_unknown_child_id_is_404_and_audited_without_a_child(app: Flask, client: FlaskClient) -> None:
    from coordination.models import AuditEvent

    login(client, "maria")
    assert client.get("/children/no-such-child").status_code == 404
    with app.app_context():
        row = database.session.scalars(
            select(AuditEvent).where(AuditEvent.object_id == "no-such-child").order_by(AuditEvent.id.desc())
        ).first()
    assert row is not None and row.outcome == "denied" and row.child_id is None


def test_a_staff_member_of_an_agency_holding_consent_without_a_relation_gets_404(
    app: Flask, client: FlaskClient
) -> None:
    # Social services holds consent for Omar (coordination, all areas), but ida (intake) has no relation
    # to him: no report about him reached her agency.
    ids = child_ids(app)
    login(client, "ida")
    assert client.get(f"/children/{ids['Omar']}").status_code == 404


def test_a_guardian_home_lists_only_the_children_in_their_custody(app: Flask, client: FlaskClient) -> None:
    expected = {
        "lena": ["Elsa Karlsson"],
        "ahmed": ["Omar Hassan"],
        "petra": ["Noah Svensson"],
        "tomas": ["Alva Nilsson"],
    }
    everyone = [
        "Elsa Karlsson",
        "Omar Hassan",
        "Noah Svensson",
        "Alva Nilsson",
        "Leo Andersson",
        "Liam Persson",
        "Ella Persson",
    ]
    for guardian, children in expected.items():
        other = app.test_client()
        login(other, guardian)
        html = other.get("/").get_data(as_text=True)
        for name in everyone:
            assert (name in html) == (name in children), f"{guardian}: {name}"


def test_protected_identity_and_a_restriction_hide_contact_details_from_tomas(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        from coordination.children.models import Guardian

        sofia = database.session.scalar(select(Guardian).where(Guardian.given_name == "Sofia"))
        secrets = [value for value in (sofia.phone, sofia.email) if value]
    assert secrets
    login(client, "tomas")
    html = client.get("/").get_data(as_text=True)
    assert "Alva Nilsson" in html
    for value in secrets:
        assert value not in html
    assert app.config["SWITCHBOARD_PHONE"] in html, "a restricted guardian sees the neutral switchboard number"
    assert "Maria Holm" not in html, "no staff name reaches tomas for a protected child"


def test_protected_identity_hides_guardian_contacts_from_unit_staff_outside_the_team(
    app: Flask, client: FlaskClient
) -> None:
    from agencies.models import Unit
    from agencies.operations import StaffData, add_membership, create_staff_person
    from coordination.access import SYSTEM_ACTOR
    from coordination.children.models import Guardian
    from coordination.children.operations import create_staff_account

    with app.app_context():
        unit = database.session.scalar(select(Unit).where(Unit.name == "Klass 1–3"))
        person = create_staff_person(SYSTEM_ACTOR, StaffData("Greta", "Grön", title="teacher"))
        add_membership(SYSTEM_ACTOR, person, unit)
        create_staff_account(SYSTEM_ACTOR, person, "greta", "a long staff password 42")
        sofia = database.session.scalar(select(Guardian).where(Guardian.given_name == "Sofia"))
        secrets = [value for value in (sofia.phone, sofia.email) if value]
        database.session.commit()
    ids = child_ids(app)

    login(client, "greta", "a long staff password 42")
    alva = client.get(f"/children/{ids['Alva']}")
    assert alva.status_code == 200, "Alva is enrolled at greta's unit"
    html = alva.get_data(as_text=True)
    assert withheld(html, "guardians") == "protected_identity"
    assert withheld(html, "contacts") == "protected_identity"
    for value in secrets:
        assert value not in html
    assert "Maria Holm" not in html

    maria = app.test_client()
    login(maria, "maria")
    html = maria.get(f"/children/{ids['Alva']}").get_data(as_text=True)
    assert any(value in html for value in secrets), "her Child Contact sees the guardians' contact details"


def test_identity_number_lookups_answer_alike_for_unknown_and_out_of_scope(
    app: Flask, client: FlaskClient, clock: Any
) -> None:
    from coordination.identity_numbers import make_identity_number
    from tests.helpers import post_form

    unknown = make_identity_number(clock.today().replace(year=clock.today().year - 8), 977).digits
    login(client, "erik")

    def answer(number: str) -> str:
        response = post_form(client, "/search", {"identity_number": number}, token_from="/search")
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        return re.sub(r'(csrf_token[^>]*value=|X-CSRFToken": )"[^"]+"', "TOKEN", html)

    assert answer("201701012393") == answer(unknown)
    assert "Omar" not in answer("201701012393")
    maria = app.test_client()
    login(maria, "maria")
    found = post_form(maria, "/search", {"identity_number": "201701012393"}, token_from="/search")
    assert "Omar Hassan" in found.get_data(as_text=True), "in scope, the same lookup finds the child"


def test_a_restricted_guardian_keeps_contact_details_within_the_team(app: Flask, client: FlaskClient) -> None:
    from coordination.children.models import Custody, Guardian

    with app.app_context():
        eva = database.session.scalar(select(Guardian).where(Guardian.given_name == "Eva"))
        link = database.session.scalar(select(Custody).where(Custody.guardian_id == eva.id))
        link.is_restricted = True
        database.session.commit()
        secrets = [value for value in (eva.phone, eva.email) if value]
    ids = child_ids(app)
    login(client, "lars")  # Leo is in his class: a relation, but not the child's team
    html = client.get(f"/children/{ids['Leo']}").get_data(as_text=True)
    assert withheld(html, "guardians") == "restricted"
    assert not any(value in html for value in secrets)
    maria = app.test_client()
    login(maria, "maria")  # Leo's Child Contact
    html = maria.get(f"/children/{ids['Leo']}").get_data(as_text=True)
    assert withheld(html, "guardians") is None and all(value in html for value in secrets)
