"""Administration in the browser (issue 16): the platform admin creates, edits and ends agencies, units, staff,
memberships and roles; the agency admin manages their own agency's staff and units (another agency's: 404);
the agencies without an agency admin are listed. Every write goes through ``agencies.operations`` (audited),
one transaction per request, with a confirmation before ending anything.

Negatives first. Pages are read in English; no assertion names a demo agency or unit (they are translated)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from agencies.models import Agency, Membership, StaffPerson, Unit
from agencies.operations import AgencyData, StaffData, add_membership, create_agency, create_staff_person, create_unit
from coordination.access import SYSTEM_ACTOR
from coordination.database import db as database
from coordination.models import Account, AuditEvent
from tests.agencies.test_admin_views import NOT_FOUND, audit_since, last_audit_id, page, sign_in, staff_id
from tests.helpers import post_form

SCRIPT = "<script>alert(1)</script>"


def session() -> Any:
    return database.session


def agency_ids_of(app: Flask, username: str) -> set[int]:
    with app.app_context():
        return set(
            session().scalars(
                select(Membership.agency_id)
                .join(Account, Account.staff_person_id == Membership.staff_person_id)
                .where(Account.username == username, Membership.ended_at.is_(None))
            )
        )


def unit_of(app: Flask, agency_ids: set[int]) -> str:
    with app.app_context():
        found = session().scalar(select(Unit.public_id).where(Unit.agency_id.in_(agency_ids)).order_by(Unit.id))
        assert found is not None
        return found


def a_stranger_to(app: Flask, agency_ids: set[int]) -> tuple[str, str, str]:
    """(public id, full name, unit public id) of a person with a membership only outside ``agency_ids``."""
    with app.app_context():
        inside = select(Membership.staff_person_id).where(Membership.agency_id.in_(agency_ids))
        membership = session().scalar(
            select(Membership)
            .where(Membership.ended_at.is_(None), ~Membership.staff_person_id.in_(inside))
            .order_by(Membership.id)
        )
        assert membership is not None
        return membership.staff_person.public_id, membership.staff_person.full_name, membership.unit.public_id


def new_testby(app: Flask, *, units: int = 2, member: bool = True) -> dict[str, str]:
    """A fresh agency of the test (not in the demo) with units and, optionally, one practitioner."""
    with app.app_context():
        agency = create_agency(SYSTEM_ACTOR, AgencyData("Testby förskola", "preschool"))
        made = [create_unit(SYSTEM_ACTOR, agency, f"Avdelning {index}") for index in range(1, units + 1)]
        ids = {"agency": agency.public_id, **{f"unit{index}": unit.public_id for index, unit in enumerate(made, 1)}}
        if member:
            person = create_staff_person(SYSTEM_ACTOR, StaffData("Tove", "Testsson"))
            add_membership(SYSTEM_ACTOR, person, made[0])
            ids["person"] = person.public_id
        session().commit()
        return ids


def agency_row(app: Flask, public_id: str) -> Agency:
    with app.app_context():
        found = session().scalar(select(Agency).where(Agency.public_id == public_id))
        assert found is not None
        session().expunge(found)
        return found


def unit_row(app: Flask, public_id: str) -> tuple[str, Any]:
    with app.app_context():
        found = session().scalar(select(Unit).where(Unit.public_id == public_id))
        assert found is not None
        return found.name, found.ended_at


WRITES = frozenset(
    {
        "create_agency",
        "update_agency",
        "end_agency",
        "create_unit",
        "update_unit",
        "end_unit",
        "create_staff_person",
        "create_account",
        "update_staff_person",
        "add_membership",
        "change_roles",
        "end_membership",
        "change_setting",
    }
)


def writes_since(app: Flask, last_id: int) -> list[tuple[str, str]]:
    return [
        (row.action, row.outcome)
        for row in audit_since(app, last_id)
        if row.outcome == "allowed" and row.action in WRITES
    ]


def is_read_only(url: str) -> bool:
    """A page that only shows (no POST route: 405 before anything else is asked)."""
    parts = url.strip("/").split("/")
    return parts in (["agency", "staff"], ["agency", "units"]) or (
        len(parts) == 3 and parts[0] in ("admin", "agency") and parts[1] in ("agencies", "staff") and parts[2] != "new"
    )


def admin_urls(ids: dict[str, str]) -> list[str]:
    person, unit = ids["person"], ids["unit1"]
    return [
        "/admin/agencies/new",
        f"/admin/agencies/{ids['agency']}",
        f"/admin/agencies/{ids['agency']}/edit",
        f"/admin/agencies/{ids['agency']}/end",
        f"/admin/agencies/{ids['agency']}/units/new",
        f"/admin/units/{unit}/edit",
        f"/admin/units/{unit}/end",
        "/admin/staff/new",
        f"/admin/staff/{person}/edit",
        f"/admin/staff/{person}/memberships/new",
        f"/admin/staff/{person}/memberships/{unit}",
        f"/admin/staff/{person}/memberships/{unit}/end",
        "/admin/settings",
    ]


# == 1. who gets in ==============================================================================================
@pytest.mark.parametrize("username", ["lars", "anna", "maria", "bodil", "ida", "fia", "noah"])
def test_nobody_but_the_platform_admin_reaches_the_new_admin_pages(
    app: Flask, client: FlaskClient, username: str
) -> None:
    ids = new_testby(app)
    sign_in(client, username)
    before = last_audit_id(app)
    for url in admin_urls(ids):
        assert client.get(url).status_code == 404, url
        response = post_form(
            client, url, {"name": "Kapad", "given_name": "X", "family_name": "Y", "unit": ids["unit2"]}
        )
        assert response.status_code == (405 if is_read_only(url) else 404), url
    assert writes_since(app, before) == [], "nothing was written"
    assert agency_row(app, ids["agency"]).name == "Testby förskola"
    assert unit_row(app, ids["unit1"]) == ("Avdelning 1", None)


@pytest.mark.parametrize("username", ["lars", "anna", "ida", "fia", "noah", "admin"])
def test_nobody_but_an_agency_admin_reaches_the_agency_staff_and_units(
    app: Flask, client: FlaskClient, username: str
) -> None:
    school = agency_ids_of(app, "maria")
    unit = unit_of(app, school)
    lars = staff_id(app, "lars")
    sign_in(client, username)
    for url in (
        "/agency/staff",
        "/agency/units",
        "/agency/units/new",
        f"/agency/units/{unit}/edit",
        f"/agency/units/{unit}/end",
        f"/agency/staff/{lars}",
        f"/agency/staff/{lars}/memberships/new",
        f"/agency/staff/{lars}/memberships/{unit}",
        f"/agency/staff/{lars}/memberships/{unit}/end",
    ):
        assert client.get(url).status_code == 404, url
        assert post_form(client, url, {"name": "Kapad"}).status_code == (405 if is_read_only(url) else 404), url


def test_an_agency_admin_gets_404_on_another_agencys_staff_and_units(app: Flask, client: FlaskClient) -> None:
    school = agency_ids_of(app, "maria")
    stranger, stranger_name, their_unit = a_stranger_to(app, school)
    ids = new_testby(app)
    sign_in(client, "maria")
    listing = page(client.get("/agency/staff"))
    assert stranger_name not in listing, "another agency's staff are not listed"
    assert f"/agency/staff/{stranger}" not in page(client.get("/agency/staff", query_string={"q": stranger_name}))
    before = last_audit_id(app)
    for url in (
        f"/agency/staff/{stranger}",
        f"/agency/staff/{stranger}/memberships/new",
        f"/agency/staff/{stranger}/memberships/{their_unit}",
        f"/agency/staff/{stranger}/memberships/{their_unit}/end",
        f"/agency/units/{their_unit}/edit",
        f"/agency/units/{their_unit}/end",
        f"/agency/units/{ids['unit1']}/edit",
        f"/agency/staff/{ids['person']}",
    ):
        response = client.get(url)
        assert response.status_code == 404 and NOT_FOUND in page(response), url
        expected = 405 if is_read_only(url) else 404
        assert post_form(client, url, {"name": "Kapad", "practitioner": "y"}).status_code == expected, url
    assert writes_since(app, before) == []
    denied = {row.action for row in audit_since(app, before) if row.outcome == "denied"}
    assert {"view_staff_person", "view_unit"} <= denied, "the refusals are audited"
    assert unit_row(app, ids["unit1"]) == ("Avdelning 1", None)
    # a unit of another agency cannot be smuggled into one of maria's own people's memberships either
    lars = staff_id(app, "lars")
    response = post_form(client, f"/agency/staff/{lars}/memberships/new", {"unit": ids["unit2"], "practitioner": "y"})
    assert response.status_code == 422 and "Choose a unit from the list" in page(response)
    assert writes_since(app, before) == []


# == 2. bad input: refused beside the field, what was typed kept, nothing written ================================
def test_creating_an_agency_refuses_bad_input_beside_the_fields(app: Flask, client: FlaskClient) -> None:
    new_testby(app, member=False)
    sign_in(client, "admin")
    before = last_audit_id(app)
    response = post_form(
        client, "/admin/agencies/new", {"name": "", "kind": "circus", "level": "state", "phone": SCRIPT}
    )
    assert response.status_code == 422
    text = page(response)
    assert 'id="name-error"' in text and "Give the agency a name" in text
    assert 'id="kind-error"' in text
    assert SCRIPT not in text
    response = post_form(
        client, "/admin/agencies/new", {"name": "Testby förskola", "kind": "school", "level": "region"}
    )
    assert response.status_code == 422
    text = page(response)
    assert "Another agency has that name" in text.split('id="name-error"')[1].split("</p>")[0]
    assert 'value="Testby förskola"' in text, "what was typed is kept"
    assert writes_since(app, before) == []
    with app.app_context():
        assert session().scalar(select(Agency.id).where(Agency.kind == "school", Agency.level == "region")) is None


def test_creating_staff_refuses_a_taken_username_and_a_bad_email(app: Flask, client: FlaskClient) -> None:
    sign_in(client, "admin")
    before = last_audit_id(app)
    data = {"given_name": "Ulla", "family_name": "Uppsson", "email": "ulla@", "username": "lars"}
    response = post_form(client, "/admin/staff/new", data)
    assert response.status_code == 422 and 'id="email-error"' in page(response)
    response = post_form(client, "/admin/staff/new", {**data, "email": "ulla@example.se"})
    assert response.status_code == 422
    text = page(response)
    assert "That username is taken" in text.split('id="username-error"')[1].split("</p>")[0]
    assert 'value="Uppsson"' in text
    assert writes_since(app, before) == [], "the person was not created without the account (one transaction)"
    with app.app_context():
        assert session().scalar(select(StaffPerson.id).where(StaffPerson.family_name == "Uppsson")) is None


def test_a_membership_needs_a_role_and_intake_only_in_social_services(app: Flask, client: FlaskClient) -> None:
    ids = new_testby(app)
    sign_in(client, "admin")
    before = last_audit_id(app)
    url = f"/admin/staff/{ids['person']}/memberships/new"
    response = post_form(client, url, {"unit": ids["unit2"]})
    assert response.status_code == 422 and "Choose at least one role" in page(response)
    response = post_form(client, url, {"unit": ids["unit2"], "intake": "y"})
    assert response.status_code == 422 and "Only social services staff can have the intake role" in page(response)
    response = post_form(client, url, {"unit": ids["unit1"], "practitioner": "y"})
    assert response.status_code == 422 and "already a member of that unit" in page(response)
    assert writes_since(app, before) == []


# == 3. ending: refused while something is carried, a confirmation first ==========================================
def test_a_unit_with_members_cannot_be_ended_and_the_page_says_why(app: Flask, client: FlaskClient) -> None:
    ids = new_testby(app)
    sign_in(client, "admin")
    before = last_audit_id(app)
    confirmation = client.get(f"/admin/units/{ids['unit1']}/end")
    assert confirmation.status_code == 200
    assert 'id="end-blocked"' in page(confirmation) and "1 member of staff is still a member" in page(confirmation)
    response = post_form(client, f"/admin/units/{ids['unit1']}/end", {})
    assert response.status_code == 409
    assert unit_row(app, ids["unit1"])[1] is None
    assert writes_since(app, before) == []


def test_ending_a_unit_asks_first_then_ends_it_audited(app: Flask, client: FlaskClient) -> None:
    ids = new_testby(app)
    sign_in(client, "admin")
    confirmation = page(client.get(f"/admin/units/{ids['unit2']}/end"))
    assert "What happens" in confirmation and 'id="end-blocked"' not in confirmation
    assert unit_row(app, ids["unit2"])[1] is None, "showing the confirmation changes nothing"
    before = last_audit_id(app)
    response = post_form(client, f"/admin/units/{ids['unit2']}/end", {})
    assert response.status_code == 303
    assert unit_row(app, ids["unit2"])[1] is not None
    assert writes_since(app, before) == [("end_unit", "allowed")]
    # the last current unit stays: the agency is ended instead
    post_form(client, f"/admin/staff/{ids['person']}/memberships/{ids['unit1']}/end", {})
    response = post_form(client, f"/admin/units/{ids['unit1']}/end", {})
    assert response.status_code == 409 and "last unit" in page(response)
    # nobody joins an ended unit: it is not offered, and refused if sent
    response = post_form(
        client, f"/admin/staff/{ids['person']}/memberships/new", {"unit": ids["unit2"], "practitioner": "y"}
    )
    assert response.status_code == 422


def test_ending_an_agency_is_refused_while_it_has_members_then_ends_it_with_its_units(
    app: Flask, client: FlaskClient
) -> None:
    ids = new_testby(app)
    sign_in(client, "admin")
    response = post_form(client, f"/admin/agencies/{ids['agency']}/end", {})
    assert response.status_code == 409 and "still a member" in page(response)
    assert agency_row(app, ids["agency"]).ended_at is None
    confirmation = page(client.get(f"/admin/staff/{ids['person']}/memberships/{ids['unit1']}/end"))
    assert "What happens" in confirmation
    assert post_form(client, f"/admin/staff/{ids['person']}/memberships/{ids['unit1']}/end", {}).status_code == 303
    before = last_audit_id(app)
    assert post_form(client, f"/admin/agencies/{ids['agency']}/end", {}).status_code == 303
    assert agency_row(app, ids["agency"]).ended_at is not None
    assert unit_row(app, ids["unit1"])[1] is not None and unit_row(app, ids["unit2"])[1] is not None
    assert writes_since(app, before) == [("end_agency", "allowed")]
    # an ended agency can no longer be edited or given units
    response = post_form(
        client, f"/admin/agencies/{ids['agency']}/edit", {"name": "Ny", "kind": "school", "level": "state"}
    )
    assert response.status_code == 303 and agency_row(app, ids["agency"]).name == "Testby förskola"
    assert post_form(client, f"/admin/agencies/{ids['agency']}/units/new", {"name": "Ny"}).status_code == 303
    with app.app_context():
        assert session().scalar(select(Unit.id).where(Unit.name == "Ny")) is None


# == 4. what works ===============================================================================================
def test_the_platform_admin_builds_an_agency_in_the_browser(app: Flask, client: FlaskClient) -> None:
    sign_in(client, "admin")
    before = last_audit_id(app)
    response = post_form(
        client, "/admin/agencies/new", {"name": "Nordby BVC", "kind": "child_health_centre", "level": "region"}
    )
    assert response.status_code == 303
    agency_url = response.headers["Location"]
    assert agency_url.endswith("/units/new")
    assert post_form(client, agency_url, {"name": "Mottagningen", "phone": "08-111 22 33"}).status_code == 303
    with app.app_context():
        agency = session().scalar(select(Agency).where(Agency.name == "Nordby BVC"))
        assert agency is not None and [unit.name for unit in agency.units] == ["Mottagningen"]
        agency_id, unit_id = agency.public_id, agency.units[0].public_id
    listing = page(client.get("/admin/agencies"))
    unadministered = listing.split('id="unadministered"')[1].split("</ul>")[0]
    assert "Nordby BVC" in unadministered, "an agency without an agency admin is listed"
    response = post_form(
        client,
        "/admin/staff/new",
        {"given_name": "Vera", "family_name": "Vårdsson", "title": "BVC-sjuksköterska", "username": "vera"},
    )
    assert response.status_code == 303
    membership_url = response.headers["Location"]
    response = post_form(client, membership_url, {"unit": unit_id, "practitioner": "y", "agency_admin": "y"})
    assert response.status_code == 303
    assert "Nordby BVC" not in page(client.get("/admin/agencies")).split('id="unadministered"')[1].split("</ul>")[0]
    vera = staff_id(app, "vera")
    response = post_form(client, f"/admin/staff/{vera}/memberships/{unit_id}", {"agency_admin": "y"})
    assert response.status_code == 303
    response = post_form(
        client,
        f"/admin/agencies/{agency_id}/edit",
        {"name": "Nordby BVC", "kind": "child_health_centre", "level": "municipality"},
    )
    assert response.status_code == 303 and agency_row(app, agency_id).level == "municipality"
    written = writes_since(app, before)
    assert [action for action, _ in written] == [
        "create_agency",
        "create_unit",
        "create_staff_person",
        "create_account",
        "add_membership",
        "change_roles",
        "update_agency",
    ]
    rows = audit_since(app, before)
    roles = next(row for row in rows if row.action == "change_roles")
    assert roles.detail["old"] == ["practitioner", "agency_admin"] and roles.detail["new"] == ["agency_admin"]
    assert all(row.legal_basis == "platform_administration" for row in rows if row.action in WRITES)


def test_an_edit_form_shows_the_values_and_saving_the_same_writes_nothing(app: Flask, client: FlaskClient) -> None:
    ids = new_testby(app)
    sign_in(client, "admin")
    form = page(client.get(f"/admin/units/{ids['unit1']}/edit"))
    assert 'value="Avdelning 1"' in form
    before = last_audit_id(app)
    response = post_form(client, f"/admin/units/{ids['unit1']}/edit", {"name": "Avdelning 1"}, follow_redirects=True)
    assert "Nothing was changed." in page(response)
    assert writes_since(app, before) == []
    response = post_form(client, f"/admin/units/{ids['unit1']}/edit", {"name": "Avdelning 2"})
    assert response.status_code == 422 and "has a unit with that name" in page(response)


def test_the_agency_admin_manages_their_own_units_and_staff(app: Flask, client: FlaskClient) -> None:
    school = agency_ids_of(app, "maria")
    lars = staff_id(app, "lars")
    sign_in(client, "maria")
    staff_page = page(client.get("/agency/staff"))
    assert f"/agency/staff/{lars}" in staff_page
    before = last_audit_id(app)
    assert post_form(client, "/agency/units/new", {"name": "Fritids"}).status_code == 303
    with app.app_context():
        new_unit = session().scalar(select(Unit).where(Unit.name == "Fritids"))
        assert new_unit is not None and new_unit.agency_id in school
        new_unit_id = new_unit.public_id
    assert "Fritids" in page(client.get("/agency/units"))
    response = post_form(client, f"/agency/staff/{lars}/memberships/new", {"unit": new_unit_id, "practitioner": "y"})
    assert response.status_code == 303
    assert "Fritids" in page(client.get(f"/agency/staff/{lars}"))
    blocked = post_form(client, f"/agency/units/{new_unit_id}/end", {})
    assert blocked.status_code == 409, "lars is still a member"
    assert post_form(client, f"/agency/staff/{lars}/memberships/{new_unit_id}/end", {}).status_code == 303
    assert post_form(client, f"/agency/units/{new_unit_id}/end", {}).status_code == 303
    written = [row for row in audit_since(app, before) if row.action in WRITES]
    assert [row.action for row in written if row.outcome == "allowed"] == [
        "create_unit",
        "add_membership",
        "end_membership",
        "end_unit",
    ]
    assert {row.legal_basis for row in written if row.outcome == "allowed"} == {"agency_administration"}


def test_the_homes_link_to_the_admin_pages(app: Flask, client: FlaskClient) -> None:
    sign_in(client, "admin")
    home = page(client.get("/"))
    for href in ("/admin/agencies", "/admin/staff", "/admin/settings"):
        assert f'href="{href}"' in home, href
    client.post("/logout", data={"csrf_token": ""})
    other = FlaskClient(app, app.response_class, use_cookies=True)
    sign_in(other, "maria")
    agency_home = page(other.get("/agency/"))
    assert 'href="/agency/staff"' in agency_home and 'href="/agency/units"' in agency_home


def test_the_agency_staff_list_does_not_grow_in_statements_with_its_rows(
    app: Flask, client: FlaskClient, count_queries: Any
) -> None:
    school = agency_ids_of(app, "maria")
    sign_in(client, "maria")
    client.get("/agency/staff")
    with count_queries() as few:
        assert client.get("/agency/staff").status_code == 200
    with app.app_context():
        unit = session().scalar(select(Unit).where(Unit.agency_id.in_(school)).order_by(Unit.id))
        for index in range(12):
            person = create_staff_person(SYSTEM_ACTOR, StaffData(f"Ny{index:02d}", "Aaberg"))
            add_membership(SYSTEM_ACTOR, person, unit)
        session().commit()
    with count_queries() as many:
        response = client.get("/agency/staff")
    assert "Ny00 Aaberg" in page(response)
    assert few.count == many.count, (few.statements, many.statements)


def test_no_child_data_on_the_admin_pages(app: Flask, client: FlaskClient) -> None:
    ids = new_testby(app)
    sign_in(client, "admin")
    with app.app_context():
        from coordination.children.models import Child

        names = [child.given_name for child in session().scalars(select(Child).limit(20))]
    for url in ("/admin/agencies", f"/admin/agencies/{ids['agency']}", "/admin/settings", "/admin/staff/new"):
        text = page(client.get(url))
        assert not [name for name in names if f">{name} " in text or f" {name}<" in text], url
    assert AuditEvent is not None
