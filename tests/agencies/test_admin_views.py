"""The administration pages (RULES.md §1, §2, §9, §10): the platform admin's staff list with
deactivation and the agency list (no child data), and the agency admin's lists of its own agency's
children without a Child Contact and of Child Contact duties to reassign (name and age only).

Negatives first: who gets 404, then bad input, then what works. Pages are read in English (the
account's language is switched after login), so the assertions do not depend on the Swedish catalogue.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from agencies.models import Agency, StaffPerson, Unit
from agencies.operations import StaffData, add_membership, create_staff_person
from coordination.access import SYSTEM_ACTOR
from coordination.children.models import Child, RoleAssignment
from coordination.children.operations import (
    ChildData,
    GuardianData,
    add_guardian,
    assign_child_contact,
    enrol_child,
    link_custody,
    register_child,
)
from coordination.database import db as database
from coordination.demo.ekby import NAMED_CHILDREN
from coordination.identity_numbers import make_identity_number
from coordination.models import Account, AuditEvent, LoginSession
from tests.helpers import csrf_token, login, post_form

SCRIPT = "<script>alert(1)</script>"
NOT_FOUND = "Page not found"


# -- small helpers ---------------------------------------------------------------------------------------
def page(response: Any) -> str:
    return response.get_data(as_text=True)


def sign_in(client: FlaskClient, username: str) -> None:
    """Log in and read the pages in English."""
    assert login(client, username).status_code == 302, username
    response = post_form(client, "/language", {"language": "en", "next": "/"})
    assert response.status_code == 302


def session() -> Any:
    return database.session


def staff_id(app: Flask, username: str) -> str:
    with app.app_context():
        found = session().scalar(
            select(StaffPerson.public_id)
            .join(Account, Account.staff_person_id == StaffPerson.id)
            .where(Account.username == username)
        )
        assert found is not None, username
        return found


def child_id(app: Flask, given_name: str) -> str:
    with app.app_context():
        found = session().scalar(select(Child.public_id).where(Child.given_name == given_name))
        assert found is not None, given_name
        return found


def count(app: Flask, model: Any, *where: Any) -> int:
    with app.app_context():
        return session().scalar(select(func.count()).select_from(model).where(*where)) or 0


def audit_rows(app: Flask) -> int:
    return count(app, AuditEvent)


def last_audit_id(app: Flask) -> int:
    with app.app_context():
        return session().scalar(select(func.max(AuditEvent.id))) or 0


def page_statements(statements: list[str]) -> list[str]:
    return [statement for statement in statements if not statement.lstrip().startswith("INSERT INTO audit_event")]


def audit_since(app: Flask, last_id: int) -> list[AuditEvent]:
    with app.app_context():
        return list(session().scalars(select(AuditEvent).where(AuditEvent.id > last_id).order_by(AuditEvent.id)))


def _person(username: str) -> StaffPerson:
    person = session().scalar(
        select(StaffPerson).join(Account, Account.staff_person_id == StaffPerson.id).where(Account.username == username)
    )
    assert person is not None
    return person


def _membership(username: str, unit_name: str):  # type: ignore[no-untyped-def]
    person = _person(username)
    return next(m for m in person.memberships if m.unit.name == unit_name and m.ended_at is None)


def _unit(name: str) -> Unit:
    unit = session().scalar(select(Unit).where(Unit.name == name))
    assert unit is not None, name
    return unit


def new_child(
    app: Flask,
    given_name: str,
    family_name: str,
    unit_name: str,
    *,
    age: int = 8,
    serial: int | None = None,
    guardian: tuple[str, str] | None = None,
) -> tuple[str, str | None]:
    """A child enrolled at ``unit_name`` without a Child Contact; returns (public id, identity number)."""
    with app.app_context():
        birth = date.today() - timedelta(days=365 * age + 40)
        number = make_identity_number(birth, serial) if serial is not None else None
        child = register_child(
            SYSTEM_ACTOR,
            ChildData(
                given_name=given_name,
                family_name=family_name,
                birth_date=birth,
                identity_number=number,
                missing_number_reason=None if number else "none",
            ),
        )
        if guardian is not None:
            parent = add_guardian(SYSTEM_ACTOR, GuardianData(given_name=guardian[0], family_name=guardian[1]))
            link_custody(SYSTEM_ACTOR, child, parent)
        enrol_child(SYSTEM_ACTOR, child, _unit(unit_name), birth + timedelta(days=365 * 6))
        session().commit()
        return child.public_id, number.digits if number else None


def give_child_contact(app: Flask, given_name: str, username: str, unit_name: str) -> None:
    with app.app_context():
        child = session().scalar(select(Child).where(Child.given_name == given_name))
        assert child is not None
        assign_child_contact(SYSTEM_ACTOR, child, _membership(username, unit_name))
        session().commit()


def current_child_contact(app: Flask, given_name: str) -> str | None:
    with app.app_context():
        return session().scalar(
            select(Account.username)
            .join(RoleAssignment, RoleAssignment.staff_person_id == Account.staff_person_id)
            .join(Child, Child.id == RoleAssignment.child_id)
            .where(
                Child.given_name == given_name,
                RoleAssignment.role == "child_contact",
                RoleAssignment.ended_at.is_(None),
            )
        )


def is_active(app: Flask, username: str) -> bool:
    with app.app_context():
        return _person(username).is_active


ADMIN_GET_PATHS = ("/admin/staff", "/admin/staff?q=lars&page=2", "/admin/agencies")
AGENCY_GET_PATHS = (
    "/agency/",
    "/agency/children-without-child-contact?page=2",
    "/agency/reassign",
    "/agency/links?page=2",
)


def admin_paths(app: Flask) -> list[str]:
    lars = staff_id(app, "lars")
    return [*ADMIN_GET_PATHS, f"/admin/staff/{lars}", f"/admin/staff/{lars}/deactivate"]


# == 1. who gets in: everyone else gets 404 ===============================================================
@pytest.mark.parametrize("path", [*ADMIN_GET_PATHS, *AGENCY_GET_PATHS])
def test_anonymous_visitors_are_sent_to_the_login_page(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("username", ["erik", "lars", "anna", "lena", "fia", "noah", "maria", "bodil"])
def test_everyone_but_the_platform_admin_gets_404_on_every_admin_page(
    app: Flask, client: FlaskClient, username: str
) -> None:
    paths = admin_paths(app)
    sign_in(client, username)
    for path in paths:
        response = client.get(path)
        assert response.status_code == 404, (username, path, response.status_code)
        assert NOT_FOUND in page(response)
    token = csrf_token(client, "/")
    before = last_audit_id(app)
    response = client.post(f"/admin/staff/{staff_id(app, 'lars')}/deactivate", data={"csrf_token": token})
    assert response.status_code == 404
    assert is_active(app, "lars"), "nothing was written"
    written = [(row.action, row.outcome) for row in audit_since(app, before)]
    assert written == [("open_platform_admin_page", "denied")], "the refusal is audited, nothing else"


@pytest.mark.parametrize("username", ["erik", "lars", "anna", "lena", "fia", "noah", "admin"])
def test_everyone_but_an_agency_admin_gets_404_on_every_agency_page(
    app: Flask, client: FlaskClient, username: str
) -> None:
    omar = child_id(app, "Omar")
    new, _number = new_child(app, "Nova", "Utankontakt", "Klass 4–6")
    sign_in(client, username)
    for path in AGENCY_GET_PATHS:
        response = client.get(path)
        assert response.status_code == 404, (username, path, response.status_code)
    lars = staff_id(app, "lars")
    for path in (f"/agency/children-without-child-contact/{new}", f"/agency/reassign/{omar}"):
        response = post_form(client, path, {"staff": lars})
        assert response.status_code == 404, (username, path)
    assert current_child_contact(app, "Nova") is None
    assert current_child_contact(app, "Omar") == "maria"


def test_the_nav_links_admins_to_their_pages_and_nobody_else(app: Flask, client: FlaskClient) -> None:
    sign_in(client, "admin")
    home = page(client.get("/"))
    assert 'href="/admin/staff"' in home and 'href="/admin/agencies"' in home
    assert 'href="/agency/"' not in home
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    sign_in(client, "maria")
    home = page(client.get("/"))
    assert 'href="/agency/"' in home and "/admin/" not in home
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    sign_in(client, "lars")
    home = page(client.get("/"))
    assert 'href="/agency/"' not in home and "/admin/" not in home


# == 2. platform admin: bad input ==========================================================================
@pytest.mark.parametrize("public_id", ["unknown", "x" * 5000, "Leo", "201701012393", "%2e%2e", "' OR 1=1 --"])
def test_an_unknown_staff_id_is_404(app: Flask, client: FlaskClient, public_id: str) -> None:
    sign_in(client, "admin")
    for suffix in ("", "/deactivate"):
        response = client.get(f"/admin/staff/{public_id}{suffix}")
        assert response.status_code == 404, (public_id, suffix)
    token = csrf_token(client, "/admin/staff")
    before = last_audit_id(app)
    response = client.post(f"/admin/staff/{public_id}/deactivate", data={"csrf_token": token})
    assert response.status_code == 404
    assert [(row.action, row.outcome) for row in audit_since(app, before)] == [("view_staff_person", "denied")]


def test_a_child_id_is_not_a_staff_id(app: Flask, client: FlaskClient) -> None:
    sign_in(client, "admin")
    assert client.get(f"/admin/staff/{child_id(app, 'Leo')}").status_code == 404


def test_deactivation_without_a_csrf_token_is_refused_and_writes_nothing(app: Flask, client: FlaskClient) -> None:
    sign_in(client, "admin")
    lars = staff_id(app, "lars")
    before = audit_rows(app)
    response = client.post(f"/admin/staff/{lars}/deactivate", data={})
    assert response.status_code == 400
    assert "Nothing was saved" in page(response)
    response = client.post(f"/admin/staff/{lars}/deactivate", data={"csrf_token": "forged"})
    assert response.status_code == 400
    assert is_active(app, "lars")
    assert audit_rows(app) == before


def test_deactivation_by_get_changes_nothing(app: Flask, client: FlaskClient) -> None:
    sign_in(client, "admin")
    response = client.get(f"/admin/staff/{staff_id(app, 'lars')}/deactivate")
    assert response.status_code == 200
    assert is_active(app, "lars")


@pytest.mark.parametrize(
    "search",
    [SCRIPT, '"><img src=x onerror=alert(1)>', "%", "_", "\\", "' OR 1=1 --", "ÅÄÖ åäö", "x" * 100],
)
def test_search_text_is_escaped_and_never_fails(client: FlaskClient, search: str) -> None:
    sign_in(client, "admin")
    response = client.get("/admin/staff", query_string={"q": search})
    assert response.status_code == 200, search
    text = page(response)
    assert SCRIPT not in text and "<img src=x" not in text
    if search in ("%", "_", "\\"):
        assert "Nobody&#39;s name contains" in text or "Nobody's name contains" in text, "wildcards are literal"


def test_an_over_long_search_is_refused_next_to_the_field_and_kept(client: FlaskClient) -> None:
    sign_in(client, "admin")
    search = SCRIPT + "x" * 10_000
    response = client.get("/admin/staff", query_string={"q": search})
    assert response.status_code == 422
    text = page(response)
    assert "Search with at most 100 characters" in text
    assert 'class="ds-error-summary"' in text and 'href="#q"' in text
    assert html.escape(search, quote=True)[:200] in text, "what was typed is kept, escaped"
    assert SCRIPT not in text


@pytest.mark.parametrize("number", ["abc", "-1", "0", "99999999999", "1.5", ""])
def test_a_strange_page_number_shows_a_page_and_never_fails(client: FlaskClient, number: str) -> None:
    sign_in(client, "admin")
    response = client.get("/admin/staff", query_string={"page": number})
    assert response.status_code == 200
    assert "Lars Ek" in page(response)


# == 3. platform admin: the staff list and the agencies ====================================================
def test_the_staff_list_shows_name_title_agency_unit_roles_and_status(app: Flask, client: FlaskClient) -> None:
    sign_in(client, "admin")
    response = client.get("/admin/staff")
    assert response.status_code == 200
    text = page(response)
    for name in ("Anna Berg", "Maria Holm", "Lars Ek", "Bodil Ek", "Erik Falk", "Hanna Åberg"):
        assert name in text
    assert "rektor" in text and "Ekby skola – Klass 1–3" in text and "Agency admin" in text
    assert "BUP Ekby – BUP öppenvårdsmottagning" in text
    assert text.index("Anna Berg") < text.index("Johan Dahl") < text.index("Lars Ek") < text.index("Maria Holm")
    assert f'href="/admin/staff/{staff_id(app, "lars")}"' in text
    for child in NAMED_CHILDREN:
        assert f"{child} " not in text, f"the platform admin sees no child: {child}"


def test_the_staff_search_finds_by_any_part_of_the_name(app: Flask, client: FlaskClient) -> None:
    sign_in(client, "admin")
    text = page(client.get("/admin/staff", query_string={"q": "  EK "}))
    assert "Lars Ek" in text and "Bodil Ek" in text and "Maria Holm" not in text
    text = page(client.get("/admin/staff", query_string={"q": "maria holm"}))
    assert "Maria Holm" in text and "Lars Ek" not in text
    text = page(client.get("/admin/staff", query_string={"q": "Åberg"}))
    assert "Hanna Åberg" in text
    text = page(client.get("/admin/staff", query_string={"q": "nobody-is-called-this"}))
    assert "Nobody" in text and "Lars Ek" not in text


def test_the_staff_list_pages_25_at_a_time_and_keeps_the_search(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        for index in range(30):
            create_staff_person(SYSTEM_ACTOR, StaffData(given_name=f"Pager{index:02d}", family_name="Zetterlund"))
        session().commit()
    sign_in(client, "admin")
    first = page(client.get("/admin/staff", query_string={"q": "zetterlund"}))
    assert "Showing 1–25 of 30" in first
    assert "Pager00 Zetterlund" in first and "Pager25 Zetterlund" not in first
    assert "/admin/staff?q=zetterlund&amp;page=2" in first
    second = page(client.get("/admin/staff", query_string={"q": "zetterlund", "page": "2"}))
    assert "Showing 26–30 of 30" in second and "Pager29 Zetterlund" in second and "Pager00 Zetterlund" not in second
    beyond = page(client.get("/admin/staff", query_string={"q": "zetterlund", "page": "9"}))
    assert "Showing 26–30 of 30" in beyond, "a page past the end shows the last page"
    everyone = page(client.get("/admin/staff"))
    assert "Showing 1–25 of 43" in everyone


def test_the_staff_page_shows_memberships_and_offers_deactivation(app: Flask, client: FlaskClient) -> None:
    sign_in(client, "admin")
    maria = staff_id(app, "maria")
    text = page(client.get(f"/admin/staff/{maria}"))
    assert "Maria Holm" in text and "maria@" not in text or "maria.holm@ekby.example" in text
    assert text.count("Ekby skola") == 3 and "Klass 7–9" in text and "EKBY-0003" in text
    assert f'href="/admin/staff/{maria}/deactivate"' in text
    for child in NAMED_CHILDREN:
        assert f"{child} " not in text


def test_the_confirmation_says_what_will_happen_in_counts_never_names(app: Flask, client: FlaskClient) -> None:
    give_child_contact(app, "Leo", "lars", "Klass 4–6")
    give_child_contact(app, "Omar", "lars", "Klass 4–6")
    sign_in(client, "admin")
    response = client.get(f"/admin/staff/{staff_id(app, 'lars')}/deactivate")
    assert response.status_code == 200
    text = page(response)
    assert "logged out at once" in text
    assert "2 children need a new Child Contact from Ekby skola" in text
    assert "no other active agency admin" not in text, "maria will see the list"
    for child in (*NAMED_CHILDREN, "Andersson", "Hassan"):
        assert child not in text, f"no child data on an admin page: {child}"
    maria = page(client.get(f"/admin/staff/{staff_id(app, 'maria')}/deactivate"))
    assert re.search(r"\d+ children need a new Child Contact from Ekby skola", maria)
    assert "Ekby skola has no other active agency admin" in maria
    for child in NAMED_CHILDREN:
        assert child not in maria


def test_the_agencies_page_lists_agencies_and_units_without_child_data(app: Flask, client: FlaskClient) -> None:
    sign_in(client, "admin")
    response = client.get("/admin/agencies")
    assert response.status_code == 200
    text = page(response)
    assert "Ekby skola" in text and "Klass 4–6" in text and "BUP öppenvårdsmottagning" in text and "Region" in text
    assert text.index("BUP Ekby") < text.index("Ekby skola")
    for child in NAMED_CHILDREN:
        assert f"{child} " not in text


# == 4. deactivation ========================================================================================
def test_deactivation_ends_the_session_at_once_and_the_duties_land_on_the_agency_admins_list(
    app: Flask, client: FlaskClient
) -> None:
    give_child_contact(app, "Leo", "lars", "Klass 4–6")
    lars_client = app.test_client()
    sign_in(lars_client, "lars")
    assert lars_client.get("/").status_code == 200

    sign_in(client, "admin")
    lars = staff_id(app, "lars")
    response = post_form(client, f"/admin/staff/{lars}/deactivate", {}, token_from=f"/admin/staff/{lars}/deactivate")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/admin/staff/{lars}"
    followed = page(client.get(response.headers["Location"]))
    assert "Lars Ek is deactivated and logged out everywhere." in followed
    assert "1 Child Contact duty is now on the agency admin" in followed
    assert "Leo" not in followed

    assert not is_active(app, "lars")
    with app.app_context():
        account = session().scalar(select(Account).where(Account.username == "lars"))
        assert account is not None and not account.is_active
        assert session().scalar(select(func.count()).where(LoginSession.account_id == account.id)) == 0
        written = session().scalar(select(AuditEvent).where(AuditEvent.action == "deactivate_staff_person"))
        assert written is not None and written.actor_kind == "platform_admin"
    after = lars_client.get("/")
    assert after.status_code == 302 and after.headers["Location"].startswith("/login"), "his next request"
    assert login(lars_client, "lars").status_code == 422, "and he cannot log in again"

    maria = app.test_client()
    sign_in(maria, "maria")
    reassign = page(maria.get("/agency/reassign"))
    needs = reassign.split('id="needs-title"')[1].split('id="all-duties-title"')[0]
    assert "Leo Andersson" in needs and "Lars Ek" in needs and "deactivated" in needs
    index = page(maria.get("/agency/"))
    assert "1 Child Contact duty is held by someone who has been deactivated" in index


def test_deactivating_twice_says_so_and_writes_nothing(app: Flask, client: FlaskClient) -> None:
    sign_in(client, "admin")
    lars = staff_id(app, "lars")
    path = f"/admin/staff/{lars}/deactivate"
    assert post_form(client, path, {}, token_from=path).status_code == 303
    with app.app_context():
        deactivated_at = _person("lars").deactivated_at
    before = audit_rows(app)
    again = post_form(client, path, {}, token_from=f"/admin/staff/{lars}")
    assert again.status_code == 409
    assert "Lars Ek is already deactivated. Nothing was changed." in page(again)
    assert audit_rows(app) == before
    with app.app_context():
        assert _person("lars").deactivated_at == deactivated_at
    confirm = client.get(path)
    assert confirm.status_code == 200 and "already deactivated" in page(confirm)
    assert '<form method="post" action="/admin/staff/' not in page(confirm)


# == 5. agency admin: children without a Child Contact =====================================================
def test_an_agency_admin_sees_only_their_own_agencys_children_without_a_child_contact(
    app: Flask, client: FlaskClient
) -> None:
    school_child, number = new_child(
        app, "Tove", "Utankontakt", "Klass 4–6", age=9, serial=871, guardian=("Gunnel", "Vårdnadsson")
    )
    bup_child, _ = new_child(app, "Bruno", "Psykbarn", "BUP öppenvårdsmottagning", age=12)
    assert number is not None
    sign_in(client, "maria")
    response = client.get("/agency/children-without-child-contact")
    assert response.status_code == 200
    text = page(response)
    assert "Tove Utankontakt" in text and "9 years" in text
    assert "Bruno" not in text and "Psykbarn" not in text, "another agency's child"
    for hidden in ("Gunnel", "Vårdnadsson", number, number[2:], f"{number[:8]}-{number[8:]}", f"{number[2:8]}-"):
        assert hidden not in text, f"only name and age: {hidden}"
    for child in NAMED_CHILDREN:
        assert f"{child} " not in text, "demo children all have a Child Contact"
    assert f'action="/agency/children-without-child-contact/{school_child}?page=1"' in text
    with app.app_context():
        read = (
            session()
            .scalars(
                select(AuditEvent).where(AuditEvent.action == "agency_admin_list", AuditEvent.outcome == "allowed")
            )
            .all()
        )
        tove = session().scalar(select(Child.id).where(Child.public_id == school_child))
        assert [(row.child_id, row.legal_basis) for row in read] == [(tove, "agency_administration")]
        assert read[0].acting_agency_id == session().scalar(select(Agency.id).where(Agency.name == "Ekby skola"))

    bodil = app.test_client()
    sign_in(bodil, "bodil")
    text = page(bodil.get("/agency/children-without-child-contact"))
    assert "Bruno Psykbarn" in text and "12 years" in text
    assert "Tove" not in text, "bodil (BUP) does not see school children"
    assert f"/agency/children-without-child-contact/{bup_child}" in text


def test_an_agency_without_such_children_says_what_to_do(client: FlaskClient) -> None:
    sign_in(client, "maria")
    text = page(client.get("/agency/children-without-child-contact"))
    assert "Every child enrolled at the agency has a Child Contact" in text
    assert "<table" not in text


def test_assigning_refuses_bad_choices_with_a_message_next_to_the_field(app: Flask, client: FlaskClient) -> None:
    school_child, _ = new_child(app, "Tove", "Utankontakt", "Klass 4–6")
    bup_child, _ = new_child(app, "Bruno", "Psykbarn", "BUP öppenvårdsmottagning")
    with app.app_context():
        other = create_staff_person(SYSTEM_ACTOR, StaffData(given_name="Olga", family_name="Adminonly"))
        add_membership(SYSTEM_ACTOR, other, _unit("Klass 1–3"), practitioner=False, agency_admin=True)
        session().commit()
        admin_only = other.public_id
    sign_in(client, "maria")
    path = f"/agency/children-without-child-contact/{school_child}"
    before = last_audit_id(app)
    cases = {
        "": "Choose who will be the Child Contact",
        staff_id(app, "karin"): "Choose a person from the list",  # BUP, another agency
        admin_only: "Choose a person from the list",  # not a practitioner
        SCRIPT: "Choose a person from the list",
        "x" * 5000: "Choose a person from the list",
    }
    for value, message in cases.items():
        response = post_form(client, path, {"staff": value}, token_from="/agency/children-without-child-contact")
        assert response.status_code == 422, value[:20]
        text = page(response)
        assert message in text
        assert f"Tove Utankontakt: {message}" in text, "the summary says which child"
        assert 'class="ds-error-summary"' in text and f'href="#staff-{school_child}"' in text
        assert f'id="staff-{school_child}-error"' in text
        assert SCRIPT not in text
    assert current_child_contact(app, "Tove") is None
    assert not [row for row in audit_since(app, before) if row.action.startswith("assign_")], "nothing written"

    # Another agency's child, an unknown child, a child that has a Child Contact: 404 or a clear message.
    lars = staff_id(app, "lars")
    assert post_form(client, f"/agency/children-without-child-contact/{bup_child}", {"staff": lars}).status_code == 404
    assert post_form(client, "/agency/children-without-child-contact/nobody", {"staff": lars}).status_code == 404
    assert current_child_contact(app, "Bruno") is None
    omar = post_form(client, f"/agency/children-without-child-contact/{child_id(app, 'Omar')}", {"staff": lars})
    assert omar.status_code == 303
    assert "That child has a Child Contact now. Nothing was changed." in page(client.get(omar.headers["Location"]))
    assert current_child_contact(app, "Omar") == "maria"

    # No CSRF token: 400, nothing written.
    response = client.post(path, data={"staff": lars})
    assert response.status_code == 400
    assert current_child_contact(app, "Tove") is None


def test_assigning_a_child_contact_takes_the_child_off_the_list(app: Flask, client: FlaskClient) -> None:
    school_child, _ = new_child(app, "Tove", "Utankontakt", "Klass 4–6")
    sign_in(client, "maria")
    response = post_form(
        client,
        f"/agency/children-without-child-contact/{school_child}?page=1",
        {"staff": staff_id(app, "lars")},
        token_from="/agency/children-without-child-contact",
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/agency/children-without-child-contact?page=1"
    text = page(client.get(response.headers["Location"]))
    assert "Lars Ek is now the Child Contact." in text
    assert "Tove" not in text
    assert current_child_contact(app, "Tove") == "lars"
    with app.app_context():
        written = session().scalar(
            select(AuditEvent).where(AuditEvent.action == "assign_child_contact").order_by(AuditEvent.id.desc())
        )
        assert written is not None and written.legal_basis == "agency_administration"
        assert written.actor_kind == "staff" and written.actor_staff_person_id == _person("maria").id


def test_the_children_list_pages_by_25(app: Flask, client: FlaskClient) -> None:
    for index in range(27):
        new_child(app, f"Kid{index:02d}", "Sidbarn", "Klass 7–9", age=13)
    sign_in(client, "maria")
    first = page(client.get("/agency/children-without-child-contact"))
    assert "Showing 1–25 of 27" in first and "Kid00 Sidbarn" in first and "Kid26" not in first
    second = page(client.get("/agency/children-without-child-contact?page=2"))
    assert "Showing 26–27 of 27" in second and "Kid26 Sidbarn" in second and "Kid00" not in second
    assert 'action="/agency/children-without-child-contact/' in second and "?page=2" in second


def test_the_childrens_page_does_not_grow_in_statements_with_its_rows(
    app: Flask, client: FlaskClient, clock: Any, count_queries: Any
) -> None:
    clock.set(datetime.now(UTC))  # fixed: no "last seen" update in between
    for index in range(10):
        new_child(app, f"Tio{index:02d}", "Mangdbarn", "Klass 1–3", age=7)
    sign_in(client, "maria")
    client.get("/agency/children-without-child-contact")
    with count_queries() as ten:
        response = client.get("/agency/children-without-child-contact")
    assert response.status_code == 200 and page(response).count("Mangdbarn</th>") == 10
    for index in range(30):
        new_child(app, f"Fyrtio{index:02d}", "Mangdbarn", "Klass 1–3", age=7)
    with count_queries() as forty:
        response = client.get("/agency/children-without-child-contact")
    assert response.status_code == 200 and page(response).count("Mangdbarn</th>") == 25
    # The audit rows of the children shown are written after the request by coordination.audit (one
    # INSERT per row today); the page's own statements are what must not grow.
    ten_page, forty_page = page_statements(ten.statements), page_statements(forty.statements)
    assert len(ten_page) == len(forty_page), (ten_page, forty_page)
    # The session with its account and person, the memberships (2); the count and the page of
    # children (2); the people to choose from (1).
    assert len(forty_page) == 5, forty_page
    assert len(forty.statements) - len(forty_page) in (1, 25), "the 25 audit rows of the children shown"


def test_the_reassign_page_does_not_grow_in_statements_with_its_rows(
    app: Flask, client: FlaskClient, clock: Any, count_queries: Any
) -> None:
    clock.set(datetime.now(UTC))
    give_child_contact(app, "Leo", "lars", "Klass 4–6")
    with app.app_context():
        _person("lars").is_active = False
        session().commit()
    sign_in(client, "maria")
    client.get("/agency/reassign")
    with count_queries() as few:
        assert client.get("/agency/reassign").status_code == 200
    for index in range(20):
        new_child(app, f"Tjugo{index:02d}", "Uppdragsbarn", "Klass 7–9", age=14)
        give_child_contact(app, f"Tjugo{index:02d}", "maria", "Klass 7–9")
    with count_queries() as many:
        response = client.get("/agency/reassign")
    assert response.status_code == 200 and page(response).count("Uppdragsbarn</th>") >= 8
    few_page, many_page = page_statements(few.statements), page_statements(many.statements)
    assert len(few_page) == len(many_page), (few_page, many_page)
    # Session and memberships (2), count and page of each list with child and holder joined (4), people (1).
    assert len(many_page) == 7, many_page


def test_the_staff_list_does_not_grow_in_statements_with_its_rows(
    app: Flask, client: FlaskClient, clock: Any, count_queries: Any
) -> None:
    clock.set(datetime.now(UTC))
    sign_in(client, "admin")
    client.get("/admin/staff")
    with count_queries() as few:
        assert client.get("/admin/staff").status_code == 200
    with app.app_context():
        for index in range(20):
            person = create_staff_person(SYSTEM_ACTOR, StaffData(given_name=f"Ny{index:02d}", family_name="Aaberg"))
            add_membership(SYSTEM_ACTOR, person, _unit("Solrosen"))
        session().commit()
    with count_queries() as many:
        response = client.get("/admin/staff")
    assert response.status_code == 200 and "Ny00 Aaberg" in page(response)
    assert few.count == many.count, (few.statements, many.statements)
    # Session and actor (1), the count, the page, and the page's memberships with units and agencies (3).
    assert many.count == 4, many.statements


# == 6. agency admin: reassigning Child Contact duties ======================================================
def test_reassigning_a_deactivated_persons_duty_moves_it_and_keeps_the_history(app: Flask, client: FlaskClient) -> None:
    give_child_contact(app, "Leo", "lars", "Klass 4–6")
    sign_in(client, "admin")
    lars = staff_id(app, "lars")
    assert post_form(client, f"/admin/staff/{lars}/deactivate", {}).status_code == 303

    maria = app.test_client()
    sign_in(maria, "maria")
    text = page(maria.get("/agency/reassign"))
    assert f'value="{lars}"' not in text, "a deactivated person is not offered"
    leo = child_id(app, "Leo")
    response = post_form(
        maria,
        f"/agency/reassign/{leo}?section=needs&needs_page=1&page=1",
        {"staff": staff_id(app, "maria")},
        token_from="/agency/reassign",
    )
    assert response.status_code == 303
    followed = page(maria.get(response.headers["Location"]))
    assert "Maria Holm is now the Child Contact." in followed
    assert "Nothing needs reassigning" in followed
    assert current_child_contact(app, "Leo") == "maria"
    with app.app_context():
        history = (
            session()
            .scalars(
                select(RoleAssignment)
                .join(Child, Child.id == RoleAssignment.child_id)
                .where(Child.given_name == "Leo", RoleAssignment.role == "child_contact")
                .order_by(RoleAssignment.id)
            )
            .all()
        )
        assert len(history) == 3, "maria (demo), lars, maria again"
        assert [row.ended_at is None for row in history] == [False, False, True]
        assert history[1].staff_person_id == _person("lars").id and history[1].end_reason


def test_an_agency_admin_moves_an_active_persons_duty(app: Flask, client: FlaskClient) -> None:
    sign_in(client, "maria")
    text = page(client.get("/agency/reassign"))
    duties = text.split('id="all-duties-title"')[1]
    assert "Omar Hassan" in duties and "Maria Holm" in duties
    assert "Elsa" not in text, "the BVC's duty, not the school's"
    omar = child_id(app, "Omar")
    path = f"/agency/reassign/{omar}?section=all"
    response = post_form(client, path, {"staff": staff_id(app, "maria")}, token_from="/agency/reassign")
    assert response.status_code == 422, "she is the Child Contact already"
    assert "Omar Hassan: Maria Holm is already the Child Contact. Choose someone else." in page(response)
    assert f'href="#all-staff-{omar}"' in page(response)
    response = post_form(client, path, {"staff": staff_id(app, "lars")}, token_from="/agency/reassign")
    assert response.status_code == 303
    assert current_child_contact(app, "Omar") == "lars"


def test_reassigning_outside_the_agency_is_404_and_writes_nothing(app: Flask, client: FlaskClient) -> None:
    sign_in(client, "maria")
    lars = staff_id(app, "lars")
    token = csrf_token(client, "/agency/")
    before = last_audit_id(app)
    for target in (child_id(app, "Elsa"), "unknown", "x" * 3000):  # Elsa's Child Contact is anna (BVC)
        response = client.post(f"/agency/reassign/{target}", data={"staff": lars, "csrf_token": token})
        assert response.status_code == 404
    assert current_child_contact(app, "Elsa") == "anna"
    new_rows = audit_since(app, before)
    assert [(row.action, row.outcome) for row in new_rows] == [("reassign_child_contact", "denied")] * 3
    assert not [row for row in new_rows if row.action.startswith("assign_")]


def test_a_duty_held_by_someone_who_left_the_agency_needs_reassigning(app: Flask, client: FlaskClient) -> None:
    give_child_contact(app, "Leo", "lars", "Klass 4–6")
    with app.app_context():
        _membership("lars", "Klass 4–6").ended_at = datetime.now(UTC)
        session().commit()
    sign_in(client, "maria")
    text = page(client.get("/agency/reassign"))
    needs = text.split('id="needs-title"')[1].split('id="all-duties-title"')[0]
    assert "Leo Andersson" in needs and "Lars Ek (no longer in the agency)" in needs


def test_staff_names_around_a_protected_child_are_withheld_from_the_agency_admin(
    app: Flask, client: FlaskClient
) -> None:
    give_child_contact(app, "Alva", "lars", "Klass 4–6")
    with app.app_context():
        alva = session().scalar(select(Child).where(Child.given_name == "Alva"))
        assert alva is not None
        alva.protection_level = "protected_registration"
        session().commit()
    sign_in(client, "maria")
    text = page(client.get("/agency/reassign"))
    row = text.split("Alva Nilsson</th>")[1].split("</tr>")[0]
    # The choices of the reassign form list every member alike for a protected child (leaving the
    # holder out would name them by elimination), so the holder's name is looked for outside them.
    outside_choices = re.sub(r"<select.*?</select>", "", row, flags=re.S)
    assert "Withheld: protected identity" in row and "Lars Ek" not in outside_choices
    assert "Lars Ek" in row and "Maria Holm" in row, "everyone is offered"
    omar_row = text.split("Omar Hassan</th>")[1].split("</tr>")[0]
    assert "Maria Holm" in omar_row, "other children's holders are shown"
    give_child_contact(app, "Alva", "maria", "Klass 1–3")
    row = page(client.get("/agency/reassign")).split("Alva Nilsson</th>")[1].split("</tr>")[0]
    assert "Maria Holm" in row, "the admin holding the duty herself sees her own name"


def test_bodil_cannot_reassign_to_or_from_the_school(app: Flask, client: FlaskClient) -> None:
    sign_in(client, "bodil")
    text = page(client.get("/agency/reassign"))
    assert "Omar" not in text and "Leo" not in text
    assert (
        post_form(client, f"/agency/reassign/{child_id(app, 'Omar')}", {"staff": staff_id(app, "karin")}).status_code
        == 404
    )
    assert current_child_contact(app, "Omar") == "maria"


def test_the_agency_home_links_to_the_lists_with_counts(app: Flask, client: FlaskClient) -> None:
    new_child(app, "Tove", "Utankontakt", "Klass 4–6")
    sign_in(client, "maria")
    text = page(client.get("/agency/"))
    assert "Ekby skola" in text
    assert "1 child enrolled at the agency has no Child Contact." in text
    assert 'href="/agency/children-without-child-contact"' in text and 'href="/agency/reassign"' in text
    assert "No Child Contact duty needs reassigning." in text
    assert "Tove" not in text, "counts only on the agency home"
