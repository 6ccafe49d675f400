"""Registering a child and pending links (RULES.md §5 "Looking up by identity number", §9, §10).

Refusals and bad input first; every refusal writes nothing. Then: the same receipt for an unknown and
a known number, and afterwards the same nothing (both end in a pending link; a new child is not
enrolled); a pending link that grants nothing until the Child Contact — or, without one, an agency
admin of an agency where the child is enrolled, or (enrolled nowhere) of the requesting unit's agency,
never on their own request — approves it; the agency admin's queue; deciding twice; the rate limit;
lookups audited like search; and the identity number kept out of every response, URL and the
application log."""

from __future__ import annotations

import re
from datetime import date, timedelta
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from agencies.models import Unit
from coordination.access import IDENTITY_LOOKUP_ACTION, Actor
from coordination.children.models import Child, Custody, Enrolment, Guardian, RoleAssignment
from coordination.children.operations import ChildData, GuardianData
from coordination.clock import today as clock_today
from coordination.database import db as shared_db
from coordination.errors import OperationError
from coordination.identity_numbers import make_identity_number
from coordination.models import Account, AuditEvent
from coordination.registration.access import registrable_units
from coordination.registration.models import PendingLink
from coordination.registration.operations import (
    GuardianEntry,
    LinkAlreadyDecided,
    NotYourDecision,
    RegistrationData,
    approve_pending_link,
    links_awaiting_agency_admin,
    register_child_for_unit,
    reject_pending_link,
)
from tests.conftest import LOG_STATE
from tests.helpers import csrf_token, login

OMAR_NUMBER = "201701012393"  # Omar's in the demo (a published test number); his Child Contact is maria
CSRF_FIELD = re.compile(r'(name="csrf_token"[^>]*value=")[^"]*(")|("X-CSRFToken": ")[^"]*(")')


# -- helpers ------------------------------------------------------------------------------------------------
def fresh_number(serial: int = 901, born: date = date(2019, 5, 17)) -> str:
    """A valid number no demo child or guardian has (the demo uses serials below 600)."""
    return make_identity_number(born, serial).digits


def number_forms(digits: str) -> list[str]:
    """Every way the number could be written: 12 digits, with a dash, 10 digits, with a dash."""
    return [digits, f"{digits[:8]}-{digits[8:]}", digits[2:], f"{digits[2:8]}-{digits[8:]}"]


def unit_id(app: Flask, name: str) -> str:
    with app.app_context():
        found = shared_db.session.scalar(select(Unit.public_id).where(Unit.name == name))
    assert found, name
    return found


def child_id(app: Flask, given_name: str) -> str:
    with app.app_context():
        found = shared_db.session.scalar(select(Child.public_id).where(Child.given_name == given_name))
    assert found, given_name
    return found


def staff_id(app: Flask, username: str) -> int:
    with app.app_context():
        found = shared_db.session.scalar(select(Account.staff_person_id).where(Account.username == username))
    assert found, username
    return found


def counts(app: Flask) -> dict[str, int]:
    with app.app_context():
        session = shared_db.session
        numbers = {
            model.__name__: session.scalar(select(func.count()).select_from(model))
            for model in (Child, Guardian, Custody, Enrolment, PendingLink, RoleAssignment)
        }
        numbers["writes"] = session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action.in_(WRITE_ACTIONS), AuditEvent.outcome == "allowed")
        )
    return numbers


WRITE_ACTIONS = (
    "register_child",
    "add_guardian",
    "link_custody",
    "enrol_child",
    "request_child_link",
    "approve_child_link",
    "reject_child_link",
)


def links_of(app: Flask, given_name: str) -> list[tuple[str, str, int, str]]:
    """(unit name, state, requested by, public id) of a child's links."""
    with app.app_context():
        rows = shared_db.session.execute(
            select(Unit.name, PendingLink.state, PendingLink.requested_by_id, PendingLink.public_id)
            .join(Unit, Unit.id == PendingLink.unit_id)
            .join(Child, Child.id == PendingLink.child_id)
            .where(Child.given_name == given_name)
            .order_by(PendingLink.id)
        )
        return [tuple(row) for row in rows]


def enrolled_units(app: Flask, given_name: str) -> set[str]:
    with app.app_context():
        return set(
            shared_db.session.scalars(
                select(Unit.name)
                .join(Enrolment, Enrolment.unit_id == Unit.id)
                .join(Child, Child.id == Enrolment.child_id)
                .where(Child.given_name == given_name, Enrolment.ended_on.is_(None))
            )
        )


def form(unit: str, **overrides: str) -> dict[str, str]:
    """A complete registration without a number (a newborn); ``overrides`` replace fields."""
    data = {
        "unit": unit,
        "given_name": "Tindra",
        "family_name": "Ekholm",
        "identity_number": "",
        "missing_number_reason": "newborn",
        "birth_date": (date.today() - timedelta(days=10)).isoformat(),
        "expected_birth_date": "",
        "guardians-0-given_name": "Greta",
        "guardians-0-family_name": "Ekholm",
        "guardians-0-phone": "070-174 06 60",
        "guardians-0-email": "greta.ekholm@mail.example",
        "guardians-0-preferred_language": "sv",
        "guardians-1-given_name": "",
        "guardians-1-family_name": "",
        "guardians-1-phone": "",
        "guardians-1-email": "",
        "guardians-1-preferred_language": "sv",
        "guardians-1-restriction_note": "",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def with_number(unit: str, number: str, **overrides: str) -> dict[str, str]:
    return form(unit, **{"identity_number": number, "missing_number_reason": "", "birth_date": "", **overrides})


def register(client: FlaskClient, data: dict[str, str]):  # type: ignore[no-untyped-def]
    payload = dict(data)
    payload["csrf_token"] = csrf_token(client, "/children/new")
    return client.post("/children/new", data=payload)


def as_user(app: Flask, username: str) -> FlaskClient:
    """Logged in, in English (the texts checked here are the English ones)."""
    browser = app.test_client()
    assert login(browser, username).status_code == 302, username
    assert browser.post("/language", data={"language": "en", "csrf_token": csrf_token(browser, "/")}).status_code == 302
    return browser


def decide(client: FlaskClient, child: str, link: str, verb: str):  # type: ignore[no-untyped-def]
    token = csrf_token(client, "/")
    return client.post(f"/children/{child}/links/{link}/{verb}", data={"csrf_token": token})


def without_tokens(html: str, *tokens: str) -> str:
    html = CSRF_FIELD.sub(lambda m: (m.group(1) or m.group(3)) + "TOKEN" + (m.group(2) or m.group(4)), html)
    for token in tokens:
        html = html.replace(token, "RECEIPT")
    return html


def html(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


def search_number(client: FlaskClient, number: str):  # type: ignore[no-untyped-def]
    """Search by identity number (a POST)."""
    token = csrf_token(client, "/search")
    return client.post("/search", data={"identity_number": number, "csrf_token": token})


def account_id(app: Flask, username: str) -> int:
    with app.app_context():
        found = shared_db.session.scalar(select(Account.id).where(Account.username == username))
    assert found, username
    return found


# -- who may register ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("username", ["lena", "admin", "fia", "noah"])
def test_a_guardian_a_platform_admin_an_analyst_and_a_young_person_get_404_on_register(
    app: Flask, db: Any, username: str
) -> None:
    before = counts(app)
    browser = as_user(app, username)
    assert browser.get("/children/new").status_code == 404
    response = browser.post("/children/new", data={**form("x"), "csrf_token": csrf_token(browser, "/")})
    assert response.status_code == 404
    assert counts(app) == before


def test_anonymous_is_sent_to_the_login_page(client: FlaskClient) -> None:
    response = client.get("/children/new")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_without_a_csrf_token_the_registration_is_refused_with_400(app: Flask, db: Any) -> None:
    before = counts(app)
    browser = as_user(app, "erik")
    response = browser.post("/children/new", data=form(unit_id(app, "Lokalpolisområde Ekby")))
    assert response.status_code == 400
    assert counts(app) == before


def test_the_form_offers_only_the_units_where_the_actor_is_a_practitioner(app: Flask, db: Any) -> None:
    police = as_user(app, "erik").get("/children/new")
    assert police.status_code == 200
    page = html(police)
    unit_select = re.search(r'<select[^>]*name="unit"[^>]*>(.*?)</select>', page, re.S)
    assert unit_select
    options = re.findall(r"<option([^>]*)>", unit_select.group(1))
    assert len(options) == 1, "his one unit"
    assert "selected" in options[0] and unit_id(app, "Lokalpolisområde Ekby") in options[0], "preselected"
    assert unit_id(app, "Klass 4–6") not in page
    school = html(as_user(app, "maria").get("/children/new"))
    for name in ("Klass 1–3", "Klass 4–6", "Klass 7–9"):
        assert unit_id(app, name) in school
    assert unit_id(app, "Lokalpolisområde Ekby") not in school


# -- bad input: a message next to the field, input kept, nothing written, never a 500 -------------------------
def _bad(unit: str) -> list[tuple[str, dict[str, str], str, str]]:
    """(case, form, field id, message)."""
    # The app's calendar is Stockholm's, up to a day ahead of this machine's UTC date: two days on is
    # in the future there whatever the hour (the parameters are built before any app exists).
    tomorrow = (date.today() + timedelta(days=2)).isoformat()
    number = fresh_number(902)
    wrong_check = number[:-1] + str((int(number[-1]) + 1) % 10)
    return [
        (
            "bad check digit",
            with_number(unit, wrong_check),
            "identity_number",
            "Check the identity number: the last digit does not match.",
        ),
        ("malformed number", with_number(unit, "12-34 5678"), "identity_number", "Enter 10 or 12 digits"),
        ("letters in the number", with_number(unit, "20190517ABCD"), "identity_number", "Enter 10 or 12 digits"),
        ("over-long number", with_number(unit, "2" * 40), "identity_number", "Enter 10 or 12 digits"),
        (
            "birth date that does not match the number",
            with_number(unit, number, birth_date="2019-05-18"),
            "birth_date",
            "The birth date does not match the identity number.",
        ),
        (
            "future birth date",
            form(unit, birth_date=tomorrow),
            "birth_date",
            "The birth date cannot be in the future.",
        ),
        (
            "neither number nor reason",
            form(unit, missing_number_reason=""),
            "identity_number",
            "Enter the identity number, or choose why there is none.",
        ),
        (
            "both number and reason",
            form(unit, identity_number=number),
            "missing_number_reason",
            "Either enter the identity number or choose why there is none – not both.",
        ),
        ("unknown reason", form(unit, missing_number_reason="lost"), "missing_number_reason", "Choose one of"),
        ("no birth date", form(unit, birth_date=""), "birth_date", "Enter the birth date."),
        ("not a date", form(unit, birth_date="31/02/2020"), "birth_date", "Enter a real date"),
        ("impossible date", form(unit, birth_date="2020-02-31"), "birth_date", "Enter a real date"),
        (
            "unborn without an expected date",
            form(unit, missing_number_reason="unborn", birth_date=""),
            "expected_birth_date",
            "Enter the expected date of birth.",
        ),
        (
            "unborn with a birth date",
            form(unit, missing_number_reason="unborn", expected_birth_date=tomorrow),
            "birth_date",
            "A child not born yet has no birth date",
        ),
        (
            "expected date far ahead",
            form(unit, missing_number_reason="unborn", birth_date="", expected_birth_date="2099-01-01"),
            "expected_birth_date",
            "within the coming ten months",
        ),
        (
            "expected date for a born child",
            form(unit, expected_birth_date=tomorrow),
            "expected_birth_date",
            "only for a child not born yet",
        ),
        ("over-long given name", form(unit, given_name="A" * 101), "given_name", "at most 100 characters"),
        ("over-long family name", form(unit, family_name="B" * 101), "family_name", "at most 100 characters"),
        ("no given name", form(unit, given_name="   "), "given_name", "Enter the child's given name."),
        (
            "over-long guardian name",
            form(unit, **{"guardians-0-family_name": "C" * 101}),
            "guardians-0-family_name",
            "at most 100 characters",
        ),
        (
            "no guardian",
            form(
                unit,
                **{
                    "guardians-0-given_name": "",
                    "guardians-0-family_name": "",
                    "guardians-0-phone": "",
                    "guardians-0-email": "",
                },
            ),
            "guardians-0-given_name",
            "Enter at least one guardian.",
        ),
        (
            "a second guardian without a name",
            form(unit, **{"guardians-1-phone": "070-174 06 61"}),
            "guardians-1-given_name",
            "Enter the guardian's given name.",
        ),
        ("bad e-mail", form(unit, **{"guardians-0-email": "greta"}), "guardians-0-email", "Enter an e-mail"),
        ("bad phone", form(unit, **{"guardians-0-phone": "call me"}), "guardians-0-phone", "Enter a phone"),
        (
            "unknown language",
            form(unit, **{"guardians-0-preferred_language": "xx"}),
            "guardians-0-preferred_language",
            "Choose one of the languages.",
        ),
        (
            "restricted without a note",
            form(unit, **{"guardians-0-is_restricted": "y"}),
            "guardians-0-restriction_note",
            "Say briefly what the restriction is.",
        ),
        (
            "over-long restriction note",
            form(unit, **{"guardians-0-is_restricted": "y", "guardians-0-restriction_note": "x" * 501}),
            "guardians-0-restriction_note",
            "at most 500 characters",
        ),
        ("unknown unit id", form("no-such-unit"), "unit", "Choose one of your units."),
        ("no unit", form(""), "unit", "Choose one of your units."),
    ]


BAD_CASES = [case[0] for case in _bad("x")]


@pytest.mark.parametrize("case", BAD_CASES)
def test_bad_input_gets_a_message_next_to_the_field_keeps_the_input_and_writes_nothing(
    app: Flask, db: Any, case: str
) -> None:
    unit = unit_id(app, "Lokalpolisområde Ekby")
    _case, data, field_id, message = next(item for item in _bad(unit) if item[0] == case)
    before = counts(app)
    browser = as_user(app, "erik")
    response = register(browser, data)
    page = html(response)
    assert response.status_code == 422, case
    assert counts(app) == before, "nothing written"
    # The message sits next to the field, and the error summary links to the field.
    assert f'id="{field_id}-error"' in page, case
    error_line = re.search(rf'id="{re.escape(field_id)}-error">([^<]*)<', page)
    assert error_line and message.lower() in unescape(error_line.group(1)).lower(), (case, error_line)
    target = field_id + ("-0" if field_id == "missing_number_reason" else "")
    assert f'href="#{target}"' in page
    # What was typed is kept (but never the identity number).
    if len(data["given_name"].strip()) <= 100 and data["given_name"].strip():
        assert f'value="{data["given_name"]}"' in page
    assert 'value="Greta"' in page or case == "no guardian"
    assert re.search(r'<input[^>]*name="identity_number"[^>]*value=""', page), "the number is not written back"
    typed = data.get("identity_number") or ""
    for written in [*number_forms(fresh_number(902)), typed] if len(typed) >= 10 else number_forms(fresh_number(902)):
        assert written not in page, "the typed number is not written back"


def test_another_agencys_unit_is_refused_like_an_unknown_one(app: Flask, db: Any) -> None:
    before = counts(app)
    response = register(as_user(app, "erik"), form(unit_id(app, "Klass 4–6")))
    assert response.status_code == 422
    assert "Choose one of your units." in html(response)
    assert counts(app) == before


def test_script_in_every_text_field_is_shown_escaped_and_never_run(app: Flask, db: Any) -> None:
    script = "<script>alert(1)</script>"
    unit = unit_id(app, "Lokalpolisområde Ekby")
    text_fields = [
        "given_name",
        "family_name",
        "birth_date",
        "expected_birth_date",
        "identity_number",
        "guardians-0-given_name",
        "guardians-0-family_name",
        "guardians-0-phone",
        "guardians-0-email",
        "guardians-0-restriction_note",
        "guardians-1-given_name",
        "guardians-1-family_name",
        "guardians-1-phone",
        "guardians-1-email",
        "guardians-1-restriction_note",
    ]
    before = counts(app)
    browser = as_user(app, "erik")
    response = register(browser, form(unit, **dict.fromkeys(text_fields, script)))
    page = html(response)
    assert response.status_code == 422
    assert "<script>alert" not in page
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= len(text_fields) - 1, "kept, escaped (not the number)"
    assert counts(app) == before
    # Names and a restriction note with script are stored as typed and shown escaped on the receipt.
    accepted = form(
        unit,
        given_name=script,
        family_name=script,
        **{
            "guardians-0-given_name": script,
            "guardians-0-family_name": script,
            "guardians-0-is_restricted": "y",
            "guardians-0-restriction_note": script,
        },
    )
    response = register(browser, accepted)
    assert response.status_code == 302
    receipt = html(browser.get(response.headers["Location"]))
    assert "<script>alert" not in receipt
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &lt;script&gt;alert(1)&lt;/script&gt;" in receipt
    with app.app_context():
        assert shared_db.session.scalar(select(func.count()).select_from(Child).where(Child.given_name == script)) == 1


def test_a_rate_limited_person_gets_a_clear_429_and_nothing_is_written(app: Flask, db: Any, clock: Any) -> None:
    with app.app_context():
        account = shared_db.session.scalar(select(Account).where(Account.username == "olle"))
        assert account is not None
        moment = clock.now()
        shared_db.session.add_all(
            AuditEvent(
                occurred_at=moment - timedelta(minutes=9),
                actor_kind="staff",
                actor_account_id=account.id,
                action=IDENTITY_LOOKUP_ACTION,
                outcome="allowed",
                object_type="identity_lookup",
            )
            for _ in range(30)
        )
        shared_db.session.commit()
    before = counts(app)
    browser = as_user(app, "olle")
    unit = unit_id(app, "Vårdcentralen Ekby")
    response = register(browser, with_number(unit, OMAR_NUMBER))
    assert response.status_code == 429
    assert "Wait 10 minutes and try again. Nothing was saved." in html(response)
    assert counts(app) == before
    with app.app_context():
        refused = shared_db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "lookup_identity_number_refused")
        )
        assert refused is not None and refused.outcome == "denied" and refused.actor_account_id == account.id
    # Without a number nothing is looked up, so registering still works.
    assert register(browser, form(unit)).status_code == 302
    # Ten minutes on, the window has moved.
    clock.set(moment + timedelta(minutes=2))
    assert register(browser, with_number(unit, fresh_number(903))).status_code == 302


def test_crafted_guardian_blocks_are_cut_to_two_and_never_a_500(app: Flask, db: Any) -> None:
    unit = unit_id(app, "Lokalpolisområde Ekby")
    data = {key: value for key, value in form(unit).items() if not key.startswith("guardians-")}
    data.update(
        {
            "guardians-5-given_name": "Xena",
            "guardians-5-family_name": "Ekholm",
            "guardians-9-given_name": "Zorro",
            "guardians-12-given_name": "Quintus",
            "guardians-x-given_name": "Wilhelm",
        }
    )
    before = counts(app)
    response = register(as_user(app, "erik"), data)
    assert response.status_code == 422
    assert "Quintus" not in html(response) and "Wilhelm" not in html(response), "at most two blocks"
    assert 'id="guardians-1-family_name-error"' in html(response)
    assert counts(app) == before
    # Nothing at all but the unit: every missing field is named, nothing is written.
    response = register(as_user(app, "erik"), {"unit": unit})
    assert response.status_code == 422
    for field_id in ("given_name", "family_name", "identity_number", "guardians-0-given_name"):
        assert f'id="{field_id}-error"' in html(response)
    assert counts(app) == before


def test_someone_in_several_units_chooses_one(app: Flask, db: Any) -> None:
    maria = as_user(app, "maria")
    page = html(maria.get("/children/new"))
    assert "Choose a unit" in page and "<option selected" not in page.split('name="unit"')[1].split("</select>")[0]
    response = register(maria, form(""))
    assert response.status_code == 422 and "Choose one of your units." in html(response)
    assert register(maria, form(unit_id(app, "Klass 1–3"))).status_code == 302
    assert [row[:3] for row in links_of(app, "Tindra")] == [("Klass 1–3", "pending", staff_id(app, "maria"))]
    assert enrolled_units(app, "Tindra") == set(), "waits for approval"


def test_the_session_cookie_does_not_carry_the_childs_name_in_the_clear(app: Flask, db: Any) -> None:
    browser = as_user(app, "erik")
    response = register(browser, form(unit_id(app, "Lokalpolisområde Ekby"), given_name="Vendela"))
    assert response.status_code == 302
    cookie = browser.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None
    content = app.session_interface.get_signing_serializer(app).loads(cookie.value)  # type: ignore[attr-defined]
    assert "Vendela" not in repr(content), "the receipt is sealed"
    assert "Vendela" in html(browser.get(response.headers["Location"]))


# -- pending links grant nothing; the receipt is the same ----------------------------------------------------
def test_a_known_number_out_of_scope_gets_the_same_receipt_as_an_unknown_one(app: Flask, db: Any) -> None:
    unit = unit_id(app, "Vårdcentralen Ekby")
    olle = as_user(app, "olle")
    same_typing = {"given_name": "Omid", "family_name": "Hassan"}  # typed alike; not Omar's demo name

    unknown = register(olle, with_number(unit, fresh_number(904), **same_typing))
    known = register(olle, with_number(unit, OMAR_NUMBER, **same_typing))
    assert unknown.status_code == known.status_code == 302
    unknown_token = unknown.headers["Location"].rsplit("/", 1)[1]
    known_token = known.headers["Location"].rsplit("/", 1)[1]
    assert unknown_token != known_token
    assert unknown.headers["Location"].replace(unknown_token, "") == known.headers["Location"].replace(known_token, "")
    assert without_tokens(html(unknown), unknown_token) == without_tokens(html(known), known_token)

    unknown_page = olle.get(unknown.headers["Location"])
    known_page = olle.get(known.headers["Location"])
    assert unknown_page.status_code == known_page.status_code == 200
    assert without_tokens(html(unknown_page), unknown_token) == without_tokens(html(known_page), known_token)
    assert "Registration received" in html(known_page) and "What happens next" in html(known_page)
    assert "You registered Omid Hassan at Vårdcentralen Ekby." in html(known_page)

    # The known number made a pending link; the guardians typed in were not added to Omar.
    assert [row[:3] for row in links_of(app, "Omar")] == [("Vårdcentralen Ekby", "pending", staff_id(app, "olle"))]
    with app.app_context():
        omar_guardians = shared_db.session.scalars(
            select(Guardian.given_name)
            .join(Custody, Custody.guardian_id == Guardian.id)
            .join(Child, Child.id == Custody.child_id)
            .where(Child.given_name == "Omar")
        ).all()
    assert omar_guardians == ["Ahmed"]
    # The link grants nothing: olle still gets 404 on Omar's pages.
    omar = child_id(app, "Omar")
    assert olle.get(f"/children/{omar}").status_code == 404
    assert olle.get(f"/children/{omar}/links").status_code == 404
    assert "Vårdcentralen Ekby" not in enrolled_units(app, "Omar")


VOLATILE_HEADERS = {"X-Request-ID", "Set-Cookie", "Content-Length"}


def answer(response) -> tuple[int, str, list[tuple[str, str]]]:  # type: ignore[no-untyped-def]
    """A response with its CSRF tokens and request id taken out."""
    headers = sorted((key, value) for key, value in response.headers.items() if key not in VOLATILE_HEADERS)
    return response.status_code, without_tokens(html(response)), headers


def what_erik_sees(browser: FlaskClient, number: str) -> dict[str, Any]:
    return {
        "my children": answer(browser.get("/")),
        "search by name": answer(browser.get("/search?q=Omar+Hassan")),
        "search by number": answer(search_number(browser, number)),
    }


def test_after_registering_an_unknown_and_a_known_number_the_person_sees_the_same_nothing(app: Flask, db: Any) -> None:
    """Registering and then searching is no oracle for "is this number known": a new child waits for
    approval exactly like a known one, and until then neither shows anywhere."""
    unit = unit_id(app, "Lokalpolisområde Ekby")
    erik = as_user(app, "erik")  # no relation to Omar
    unknown = fresh_number(908, born=date(2017, 1, 1))  # born the same day as Omar
    typed = {"given_name": "Omar", "family_name": "Hassan"}  # typed alike for both
    before_unknown = what_erik_sees(erik, unknown)
    before_known = what_erik_sees(erik, OMAR_NUMBER)
    assert before_unknown == before_known

    counts_before = counts(app)
    unknown_receipt = register(erik, with_number(unit, unknown, **typed))
    after_unknown = what_erik_sees(erik, unknown)
    counts_between = counts(app)
    known_receipt = register(erik, with_number(unit, OMAR_NUMBER, **typed))
    after_known = what_erik_sees(erik, OMAR_NUMBER)
    counts_after = counts(app)

    for view in ("my children", "search by name", "search by number"):
        assert after_unknown[view] == after_known[view] == before_known[view], view
    with app.app_context():
        both = shared_db.session.scalars(select(Child.public_id).where(Child.given_name == "Omar")).all()
    assert len(both) == 2, "the new child and the demo's Omar"
    for public_id in both:
        for seen in (*after_unknown.values(), *after_known.values()):
            assert public_id not in seen[1]
    unknown_page, known_page = (erik.get(r.headers["Location"]) for r in (unknown_receipt, known_receipt))
    tokens = [r.headers["Location"].rsplit("/", 1)[1] for r in (unknown_receipt, known_receipt)]
    assert without_tokens(html(unknown_page), tokens[0]) == without_tokens(html(known_page), tokens[1])
    receipt = html(known_page)
    assert "under My children" not in receipt.replace("appears under My children and in search once", "")
    assert "appears under My children and in search once the request is approved" in receipt
    assert "Go to My children" not in receipt

    # Both paths wrote a pending link and its audit row; the new child was not enrolled.
    assert counts_between["PendingLink"] - counts_before["PendingLink"] == 1
    assert counts_after["PendingLink"] - counts_between["PendingLink"] == 1
    assert counts_between["Enrolment"] == counts_before["Enrolment"] == counts_after["Enrolment"]
    with app.app_context():
        requests = shared_db.session.scalars(
            select(AuditEvent.object_type).where(
                AuditEvent.action == "request_child_link", AuditEvent.actor_account_id == account_id(app, "erik")
            )
        ).all()
    assert requests == ["pending_link", "pending_link"]
    assert [row[:2] for row in links_of(app, "Omar")] == [
        ("Lokalpolisområde Ekby", "pending"),
        ("Lokalpolisområde Ekby", "pending"),
    ], "one for the new child (also typed Omar), one for the demo's Omar"


def test_a_receipt_token_is_random_and_only_good_in_its_own_session(app: Flask, db: Any) -> None:
    olle = as_user(app, "olle")
    response = register(olle, form(unit_id(app, "Vårdcentralen Ekby")))
    location = response.headers["Location"]
    token = location.rsplit("/", 1)[1]
    assert len(token) >= 24 and child_id(app, "Tindra") not in location
    assert olle.get(location).status_code == 200
    assert as_user(app, "olle").get(location).status_code == 404, "another session"
    assert olle.get("/children/registered/no-such-token").status_code == 404


def test_registering_a_known_number_again_reuses_the_pending_link(app: Flask, db: Any) -> None:
    unit = unit_id(app, "Vårdcentralen Ekby")
    olle = as_user(app, "olle")
    for _ in range(2):
        assert register(olle, with_number(unit, OMAR_NUMBER)).status_code == 302
    assert len(links_of(app, "Omar")) == 1


def test_the_identity_number_never_reaches_a_response_a_url_or_the_log(app: Flask, db: Any) -> None:
    unit = unit_id(app, "Vårdcentralen Ekby")
    olle = as_user(app, "olle")
    new_number = fresh_number(905)
    responses = [
        register(olle, with_number(unit, OMAR_NUMBER)),
        register(olle, with_number(unit, new_number)),
        register(olle, with_number(unit, f"{OMAR_NUMBER[2:8]}-{OMAR_NUMBER[8:]}", family_name="")),  # 422
        register(olle, with_number(unit, new_number, given_name="A" * 101)),  # 422
    ]
    assert [response.status_code for response in responses] == [302, 302, 422, 422]
    for response in list(responses):
        if response.status_code == 302:
            responses.append(olle.get(response.headers["Location"]))
    log_text = Path(LOG_STATE["app_log"]).read_text(encoding="utf-8")
    for digits in (OMAR_NUMBER, new_number):
        for written in number_forms(digits):
            assert written not in log_text
            for response in responses:
                assert written not in html(response)
                assert written not in response.headers.get("Location", "")
    # The lookups are audited, without the number.
    with app.app_context():
        lookups = shared_db.session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == IDENTITY_LOOKUP_ACTION, AuditEvent.actor_account_id == olle_account(app)
            )
        ).all()
        assert len(lookups) == 2
        assert {event.object_type for event in lookups} == {"identity_lookup"}
        assert {event.object_id for event in lookups} == {None}
        for event in lookups:
            for digits in (OMAR_NUMBER, new_number):
                assert digits[2:8] not in repr(event.detail)


def olle_account(app: Flask) -> int:
    with app.app_context():
        return shared_db.session.scalar(select(Account.id).where(Account.username == "olle"))  # type: ignore[return-value]


# -- a new child ----------------------------------------------------------------------------------------------
def test_a_new_child_is_registered_but_not_enrolled_and_waits_for_approval(app: Flask, db: Any) -> None:
    erik = as_user(app, "erik")
    unit = unit_id(app, "Lokalpolisområde Ekby")
    before = counts(app)
    data = with_number(
        unit,
        fresh_number(906),
        **{
            "guardians-1-given_name": "Gustav",
            "guardians-1-family_name": "Ekholm",
            "guardians-1-preferred_language": "ar",
            "guardians-1-needs_interpreter": "y",
            "guardians-1-is_restricted": "y",
            "guardians-1-restriction_note": "No contact details of the other guardian.",
        },
    )
    response = register(erik, data)
    assert response.status_code == 302
    after = counts(app)
    assert after["Child"] == before["Child"] + 1
    assert after["Guardian"] == before["Guardian"] + 2
    assert after["Custody"] == before["Custody"] + 2
    assert after["Enrolment"] == before["Enrolment"], "not enrolled: the link waits for approval"
    assert after["PendingLink"] == before["PendingLink"] + 1
    assert after["RoleAssignment"] == before["RoleAssignment"], "no Child Contact assigned here"
    assert enrolled_units(app, "Tindra") == set()
    assert [row[:3] for row in links_of(app, "Tindra")] == [("Lokalpolisområde Ekby", "pending", staff_id(app, "erik"))]
    with app.app_context():
        child = shared_db.session.scalar(select(Child).where(Child.given_name == "Tindra"))
        assert child is not None and child.birth_date == date(2019, 5, 17)
        custody = {
            c.guardian.given_name: c
            for c in shared_db.session.scalars(select(Custody).where(Custody.child_id == child.id))
        }
        assert set(custody) == {"Greta", "Gustav"}
        assert not custody["Greta"].is_restricted
        assert custody["Gustav"].is_restricted
        assert custody["Gustav"].restriction_note == "No contact details of the other guardian."
        assert custody["Gustav"].guardian.needs_interpreter and custody["Gustav"].guardian.preferred_language == "ar"
        public_id = child.public_id
        writes = shared_db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.child_id == child.id, AuditEvent.outcome == "allowed")
        ).all()
        assert {"register_child", "link_custody", "request_child_link"} <= set(writes)
        assert "enrol_child" not in writes
    # Until the link is approved nobody reaches the child: not erik, not lars (another agency).
    assert erik.get(f"/children/{public_id}").status_code == 404
    assert erik.get(f"/children/{public_id}/links").status_code == 404
    assert as_user(app, "lars").get(f"/children/{public_id}").status_code == 404


@pytest.mark.parametrize(
    ("reason", "extra"),
    [
        ("newborn", {}),
        ("none", {"birth_date": "2015-03-02"}),
        ("unborn", {"birth_date": "", "expected_birth_date": (date.today() + timedelta(days=40)).isoformat()}),
    ],
)
def test_a_child_without_a_number_is_registered_with_a_reason_and_a_reserve_number(
    app: Flask, db: Any, reason: str, extra: dict[str, str]
) -> None:
    response = register(as_user(app, "anna"), form(unit_id(app, "BVC Ekby"), missing_number_reason=reason, **extra))
    assert response.status_code == 302
    with app.app_context():
        child = shared_db.session.scalar(select(Child).where(Child.given_name == "Tindra"))
        assert child is not None
        assert child.identity_number_missing_reason == reason and child.reserve_number
        assert child.identity_number_hash is None
        assert (child.birth_date is None) == (reason == "unborn")
        assert (child.expected_birth_date is not None) == (reason == "unborn")
    # No lookup, so no lookup audit.
    with app.app_context():
        assert not shared_db.session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == IDENTITY_LOOKUP_ACTION)
        )


# -- deciding a pending link ----------------------------------------------------------------------------------
def _olle_asks_for_omar(app: Flask) -> tuple[FlaskClient, str, str]:
    """olle (primary care, no relation to Omar) registers Omar's number: a pending link."""
    olle = as_user(app, "olle")
    assert register(olle, with_number(unit_id(app, "Vårdcentralen Ekby"), OMAR_NUMBER)).status_code == 302
    (link,) = links_of(app, "Omar")
    return olle, child_id(app, "Omar"), link[3]


def test_someone_without_the_child_gets_404_on_its_links_and_on_deciding(app: Flask, db: Any) -> None:
    _olle, omar, link = _olle_asks_for_omar(app)
    elsa = child_id(app, "Elsa")
    before = counts(app)
    lars = as_user(app, "lars")
    assert lars.get(f"/children/{elsa}/links").status_code == 404, "a child he cannot see"
    assert decide(lars, elsa, link, "approve").status_code == 404, "another child's link through Elsa"
    # lars sees Omar through Klass 4–6 but is not his Child Contact: no requests shown, deciding is 404.
    page = lars.get(f"/children/{omar}/links")
    assert page.status_code == 200 and link not in html(page)
    assert "There are no requests for you to decide." in html(page)
    for verb in ("approve", "reject"):
        assert decide(lars, omar, link, verb).status_code == 404
    # erik (police) cannot see Omar at all; maria cannot decide a link through another child.
    erik = as_user(app, "erik")
    assert erik.get(f"/children/{omar}/links").status_code == 404
    assert decide(erik, omar, link, "approve").status_code == 404
    maria = as_user(app, "maria")
    assert decide(maria, child_id(app, "Noah"), link, "approve").status_code == 404
    assert decide(maria, omar, "no-such-link", "approve").status_code == 404
    # Guardians, platform admin and analyst get 404.
    for username in ("ahmed", "admin", "fia"):
        assert as_user(app, username).get(f"/children/{omar}/links").status_code == 404
    assert counts(app) == before
    assert links_of(app, "Omar")[0][1] == "pending"
    with app.app_context():
        denied = shared_db.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.outcome == "denied", AuditEvent.action.in_(("decide_child_link", "view_child_links")))
        )
    assert denied and denied >= 5, "the refusals are audited"


def test_decisions_need_a_csrf_token(app: Flask, db: Any) -> None:
    _olle, omar, link = _olle_asks_for_omar(app)
    before = counts(app)
    response = as_user(app, "maria").post(f"/children/{omar}/links/{link}/approve")
    assert response.status_code == 400
    assert counts(app) == before


def test_the_child_contact_approves_and_the_requester_then_sees_the_child(app: Flask, db: Any) -> None:
    olle, omar, link = _olle_asks_for_omar(app)
    maria = as_user(app, "maria")
    page = maria.get(f"/children/{omar}/links")
    assert page.status_code == 200
    text = html(page)
    assert "Vårdcentralen Ekby" in text and "Olle Nord" in text and link in text
    before = counts(app)
    response = decide(maria, omar, link, "approve")
    assert response.status_code == 302
    after = counts(app)
    assert after["Enrolment"] == before["Enrolment"] + 1
    assert after["writes"] == before["writes"] + 2, "enrol_child and approve_child_link"
    assert links_of(app, "Omar")[0][1] == "approved"
    assert "Vårdcentralen Ekby" in enrolled_units(app, "Omar")
    with app.app_context():
        decided_by = shared_db.session.scalar(select(PendingLink.decided_by_id).where(PendingLink.public_id == link))
        assert decided_by == staff_id(app, "maria")
        approval = shared_db.session.scalar(select(AuditEvent).where(AuditEvent.action == "approve_child_link"))
        assert approval is not None and approval.legal_basis == "relation_child_contact"
    assert olle.get(f"/children/{omar}").status_code == 200
    assert olle.get(f"/children/{omar}/links").status_code == 200
    # Deciding twice: a clear message, nothing written.
    before = counts(app)
    for verb in ("approve", "reject"):
        again = decide(maria, omar, link, verb)
        assert again.status_code == 409
        assert "This request has already been decided. Nothing was changed." in html(again)
    assert counts(app) == before
    assert links_of(app, "Omar")[0][1] == "approved"


def test_the_child_contact_rejects_and_the_requester_still_gets_404(app: Flask, db: Any) -> None:
    olle, omar, link = _olle_asks_for_omar(app)
    maria = as_user(app, "maria")
    before = counts(app)
    assert decide(maria, omar, link, "reject").status_code == 302
    after = counts(app)
    assert after["Enrolment"] == before["Enrolment"]
    assert after["writes"] == before["writes"] + 1
    assert links_of(app, "Omar")[0][1] == "rejected"
    assert olle.get(f"/children/{omar}").status_code == 404
    assert decide(maria, omar, link, "approve").status_code == 409
    assert links_of(app, "Omar")[0][1] == "rejected"
    # A new request after a rejection is a new pending link.
    assert register(olle, with_number(unit_id(app, "Vårdcentralen Ekby"), OMAR_NUMBER)).status_code == 302
    assert [row[1] for row in links_of(app, "Omar")] == ["rejected", "pending"]


def _end_child_contact(app: Flask, given_name: str, clock: Any) -> None:
    with app.app_context():
        session = shared_db.session
        assignment = session.scalar(
            select(RoleAssignment)
            .join(Child, Child.id == RoleAssignment.child_id)
            .where(
                Child.given_name == given_name,
                RoleAssignment.role == "child_contact",
                RoleAssignment.ended_at.is_(None),
            )
        )
        assert assignment is not None
        assignment.ended_at = clock.now()
        assignment.end_reason = "test: no Child Contact"
        session.commit()


def _leave_team(app: Flask, given_name: str, member_given_name: str, clock: Any) -> None:
    from agencies.models import StaffPerson
    from coordination.teams.models import TeamMember

    with app.app_context():
        session = shared_db.session
        member = session.scalar(
            select(TeamMember)
            .join(Child, Child.id == TeamMember.child_id)
            .join(StaffPerson, StaffPerson.id == TeamMember.staff_person_id)
            .where(
                Child.given_name == given_name,
                StaffPerson.given_name == member_given_name,
                TeamMember.ended_at.is_(None),
            )
        )
        assert member is not None
        member.ended_at, member.end_reason = clock.now(), "left"
        session.commit()
    _hand_back_actions(app, given_name, member.agency_id)


def _hand_back_actions(app: Flask, given_name: str, agency_id: int) -> None:
    """The agency's actions in the child's plan go back to it without a named unit or person: owning an
    action (as its person, or its unit's practitioner) is a relation to the child too (RULES.md §2)."""
    from childplan.models import Action

    with app.app_context():
        session = shared_db.session
        child = session.scalar(select(Child.id).where(Child.given_name == given_name))
        session.execute(
            update(Action)
            .where(Action.child_id == child, Action.owner_agency_id == agency_id)
            .values(owner_unit_id=None, owner_person_id=None)
        )
        session.commit()


def test_without_a_child_contact_the_requesting_agencys_admin_does_not_decide_for_a_child_enrolled_elsewhere(
    app: Flask, db: Any, clock: Any
) -> None:
    """Omar (no Child Contact now) is enrolled at the school and pupil health, not at BUP: BUP asking
    does not make BUP's admin the decider; the school's agency admin (maria) decides."""
    _end_child_contact(app, "Omar", clock)
    _leave_team(app, "Omar", "Karin", clock)
    omar = child_id(app, "Omar")
    karin = as_user(app, "karin")  # BUP practitioner: no relation to Omar (she left his team)
    assert register(karin, with_number(unit_id(app, "BUP öppenvårdsmottagning"), OMAR_NUMBER)).status_code == 302
    olle = as_user(app, "olle")
    assert register(olle, with_number(unit_id(app, "Vårdcentralen Ekby"), OMAR_NUMBER)).status_code == 302
    links = {row[0]: row[3] for row in links_of(app, "Omar")}
    assert karin.get(f"/children/{omar}").status_code == 404

    # bodil (BUP's agency admin) is refused: 404 on the links page and on deciding, nothing written.
    before = counts(app)
    bodil = as_user(app, "bodil")
    assert bodil.get(f"/children/{omar}/links").status_code == 404
    for verb in ("approve", "reject"):
        for link in links.values():
            assert decide(bodil, omar, link, verb).status_code == 404
    assert bodil.get(f"/children/{omar}").status_code == 404
    assert omar not in html(bodil.get("/agency/links"))
    with app.app_context():
        assert links_awaiting_agency_admin(actor_for("bodil")) == [], "not BUP's decision"
        assert links_awaiting_agency_admin(actor_for("karin")) == [], "not an agency admin"
        maria_awaits = [link.public_id for link in links_awaiting_agency_admin(actor_for("maria"))]
    assert counts(app) == before
    assert [row[1] for row in links_of(app, "Omar")] == ["pending", "pending"]
    with app.app_context():
        refused = shared_db.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(
                AuditEvent.outcome == "denied",
                AuditEvent.action.in_(("view_child_links", "decide_child_link")),
                AuditEvent.actor_account_id == account_id(app, "bodil"),
            )
        )
    assert refused and refused >= 5, "the refusals are audited"

    # maria is no longer the Child Contact, but she is the agency admin of the school, where Omar is
    # enrolled: both requests are hers to decide.
    assert maria_awaits == [links["BUP öppenvårdsmottagning"], links["Vårdcentralen Ekby"]]
    maria = as_user(app, "maria")
    page = html(maria.get(f"/children/{omar}/links"))
    assert links["BUP öppenvårdsmottagning"] in page and links["Vårdcentralen Ekby"] in page
    assert decide(maria, omar, links["BUP öppenvårdsmottagning"], "approve").status_code == 302
    assert "BUP öppenvårdsmottagning" in enrolled_units(app, "Omar")
    assert karin.get(f"/children/{omar}").status_code == 200
    with app.app_context():
        approval = shared_db.session.scalar(select(AuditEvent).where(AuditEvent.action == "approve_child_link"))
        assert approval is not None and approval.legal_basis == "agency_administration"
        assert approval.actor_account_id == account_id(app, "maria")
    again = decide(maria, omar, links["BUP öppenvårdsmottagning"], "approve")
    assert again.status_code == 409
    # Omar is now enrolled at BUP too: from now on BUP's admin is an admin of an agency where he is
    # enrolled, and may decide the primary care centre's request (not one of her own).
    with app.app_context():
        assert [link.public_id for link in links_awaiting_agency_admin(actor_for("bodil"))] == [
            links["Vårdcentralen Ekby"]
        ]


def test_an_ended_enrolment_does_not_make_an_agency_admin_the_decider(app: Flask, db: Any, clock: Any) -> None:
    _end_child_contact(app, "Omar", clock)
    omar = child_id(app, "Omar")
    with app.app_context():
        session = shared_db.session
        omar_row = session.scalar(select(Child).where(Child.given_name == "Omar"))
        bup = session.scalar(select(Unit).where(Unit.name == "BUP öppenvårdsmottagning"))
        assert omar_row is not None and bup is not None
        bup_agency = bup.agency_id
        session.add(
            Enrolment(
                child_id=omar_row.id,
                unit_id=bup.id,
                started_on=date(2023, 1, 9),
                ended_on=date(2024, 6, 1),
                created_at=clock.now(),
            )
        )
        session.commit()
    _hand_back_actions(app, "Omar", bup_agency)  # bodil is a practitioner of the unit that owns karin's actions
    olle = as_user(app, "olle")
    assert register(olle, with_number(unit_id(app, "Vårdcentralen Ekby"), OMAR_NUMBER)).status_code == 302
    ((_unit, _state, _by, link),) = links_of(app, "Omar")
    bodil = as_user(app, "bodil")
    assert bodil.get(f"/children/{omar}/links").status_code == 404
    assert decide(bodil, omar, link, "approve").status_code == 404
    assert links_of(app, "Omar")[0][1] == "pending"


def _karin_registers_a_new_child(app: Flask) -> tuple[FlaskClient, str, str]:
    """karin (BUP) registers an unknown number: a new child, enrolled nowhere, with a pending link."""
    karin = as_user(app, "karin")
    assert register(karin, with_number(unit_id(app, "BUP öppenvårdsmottagning"), fresh_number(912))).status_code == 302
    ((_unit, _state, _by, link),) = links_of(app, "Tindra")
    return karin, child_id(app, "Tindra"), link


def test_a_new_child_is_decided_by_an_agency_admin_of_the_registering_units_agency_only(app: Flask, db: Any) -> None:
    karin, tindra, link = _karin_registers_a_new_child(app)
    before = counts(app)
    # Negatives first: the registering person, another agency's admin, anyone else.
    for username in ("karin", "maria", "erik", "olle", "lars"):
        browser = karin if username == "karin" else as_user(app, username)
        assert browser.get(f"/children/{tindra}/links").status_code == 404, username
        assert decide(browser, tindra, link, "approve").status_code == 404, username
        assert browser.get(f"/children/{tindra}").status_code == 404, username
    assert counts(app) == before
    # BUP's agency admin decides (the child is enrolled nowhere; a BUP unit asked, not she).
    bodil = as_user(app, "bodil")
    page = bodil.get(f"/children/{tindra}/links")
    assert page.status_code == 200 and link in html(page) and "Karin Vik" in html(page)
    assert bodil.get(f"/children/{tindra}").status_code == 404, "the links page opens nothing else"
    response = decide(bodil, tindra, link, "approve")
    assert response.status_code == 302
    assert "BUP öppenvårdsmottagning" in enrolled_units(app, "Tindra")
    with app.app_context():
        approval = shared_db.session.scalar(select(AuditEvent).where(AuditEvent.action == "approve_child_link"))
        assert approval is not None and approval.legal_basis == "agency_administration"
    # Now karin's unit reaches the child: My children and search show it.
    assert karin.get(f"/children/{tindra}").status_code == 200
    assert tindra in html(karin.get("/")) and tindra in html(karin.get("/search?q=Tindra"))
    assert tindra in html(search_number(karin, fresh_number(912)))


def test_once_the_request_is_decided_the_agency_admin_loses_sight_of_the_child(app: Flask, db: Any) -> None:
    _karin, tindra, link = _karin_registers_a_new_child(app)
    bodil = as_user(app, "bodil")
    assert bodil.get(f"/children/{tindra}/links").status_code == 200
    response = decide(bodil, tindra, link, "reject")
    assert response.status_code == 302 and response.headers["Location"] == "/agency/links"
    assert links_of(app, "Tindra")[0][1] == "rejected"
    before = counts(app)
    assert bodil.get(f"/children/{tindra}/links").status_code == 404, "decided: no longer hers to see"
    for verb in ("approve", "reject"):
        assert decide(bodil, tindra, link, verb).status_code == 404
    assert tindra not in html(bodil.get("/agency/links"))
    assert counts(app) == before
    with app.app_context():
        assert not shared_db.session.scalar(
            select(func.count()).select_from(Enrolment).join(Child).where(Child.given_name == "Tindra")
        )


def test_an_agency_admin_never_decides_their_own_request(app: Flask, db: Any, clock: Any) -> None:
    # bodil registers a new child at BUP: enrolled nowhere, so BUP's admins decide — never bodil herself.
    bodil = as_user(app, "bodil")
    assert register(bodil, form(unit_id(app, "BUP öppenvårdsmottagning"))).status_code == 302
    ((_unit, _state, _by, link),) = links_of(app, "Tindra")
    tindra = child_id(app, "Tindra")
    before = counts(app)
    assert bodil.get(f"/children/{tindra}/links").status_code == 404
    for verb in ("approve", "reject"):
        assert decide(bodil, tindra, link, verb).status_code == 404
    assert tindra not in html(bodil.get("/agency/links"))
    # maria asks for Omar (without a Child Contact, enrolled at her school) at Klass 1–3: an admin of an
    # agency where he is enrolled, but it is her own request.
    _end_child_contact(app, "Omar", clock)
    maria = as_user(app, "maria")
    assert register(maria, with_number(unit_id(app, "Klass 1–3"), OMAR_NUMBER)).status_code == 302
    ((_unit, _state, _by, omar_link),) = links_of(app, "Omar")
    omar = child_id(app, "Omar")
    page = maria.get(f"/children/{omar}/links")
    assert page.status_code == 200, "her unit relation to Omar"
    assert omar_link not in html(page)
    for verb in ("approve", "reject"):
        assert decide(maria, omar, omar_link, verb).status_code == 404
    with app.app_context():
        assert links_awaiting_agency_admin(actor_for("maria")) == []
        assert links_awaiting_agency_admin(actor_for("bodil")) == []
    assert [row[1] for row in links_of(app, "Tindra") + links_of(app, "Omar")] == ["pending", "pending"]
    assert counts(app)["writes"] == before["writes"] + 1, "only maria's request"


# -- the agency admin's queue (/agency/links) ---------------------------------------------------------------
@pytest.mark.parametrize("username", ["karin", "olle", "lars", "lena", "admin", "fia", "noah"])
def test_the_link_queue_is_404_for_everyone_but_an_agency_admin(app: Flask, db: Any, username: str) -> None:
    _karin_registers_a_new_child(app)
    response = as_user(app, username).get("/agency/links")
    assert response.status_code == 404
    assert "Tindra" not in html(response)


def test_the_agency_admins_queue_lists_what_they_decide_with_the_childs_name_only(app: Flask, db: Any) -> None:
    maria = as_user(app, "maria")
    index = html(maria.get("/agency/"))
    assert 'href="/agency/links"' in index and "No link request is waiting for you." in index
    assert "There are no link requests for you to decide." in html(maria.get("/agency/links"))

    _karin, tindra, _link = _karin_registers_a_new_child(app)
    bodil = as_user(app, "bodil")
    index = html(bodil.get("/agency/"))
    assert 'href="/agency/links"' in index
    assert "1 request to link a unit to a child is waiting for you." in index
    response = bodil.get("/agency/links")
    assert response.status_code == 200
    page = html(response)
    assert "Tindra Ekholm" in page and "BUP öppenvårdsmottagning" in page
    assert f'href="/children/{tindra}/links"' in page
    with app.app_context():
        requested_at = shared_db.session.scalar(select(PendingLink.requested_at).where(PendingLink.public_id == _link))
    assert requested_at is not None and str(requested_at.year) in page
    # Nothing else about the child: no guardian, no identity number, not who asked or how to reach them.
    for hidden in ("Greta", "070-174 06 60", "greta.ekholm", "Karin Vik", *number_forms(fresh_number(912))):
        assert hidden not in page, hidden
    assert "Tindra" not in html(maria.get("/agency/links")), "another agency's admin"
    with app.app_context():
        read = shared_db.session.scalar(
            select(AuditEvent).where(
                AuditEvent.action == "agency_admin_list",
                AuditEvent.actor_account_id == account_id(app, "bodil"),
            )
        )
        tindra_id = shared_db.session.scalar(select(Child.id).where(Child.public_id == tindra))
    assert read is not None and read.outcome == "allowed" and read.child_id == tindra_id
    assert read.legal_basis == "agency_administration" and read.detail == {"list": "links_to_decide"}


# -- lookups by number are audited like search ----------------------------------------------------------
def _lookup_rows(app: Flask, username: str) -> list[tuple[Any, ...]]:
    with app.app_context():
        rows = shared_db.session.execute(
            select(
                AuditEvent.outcome,
                AuditEvent.child_id,
                AuditEvent.object_type,
                AuditEvent.object_id,
                AuditEvent.legal_basis,
            )
            .where(
                AuditEvent.action == IDENTITY_LOOKUP_ACTION, AuditEvent.actor_account_id == account_id(app, username)
            )
            .order_by(AuditEvent.id)
        )
        return [tuple(row) for row in rows]


def test_a_registration_lookup_is_audited_exactly_like_a_search(app: Flask, db: Any) -> None:
    with app.app_context():
        omar_id = shared_db.session.scalar(select(Child.id).where(Child.given_name == "Omar"))
    omar = child_id(app, "Omar")
    # Known but out of scope (olle): a denial, without legal basis, in both.
    olle = as_user(app, "olle")
    assert register(olle, with_number(unit_id(app, "Vårdcentralen Ekby"), OMAR_NUMBER)).status_code == 302
    assert search_number(olle, OMAR_NUMBER).status_code == 200
    registered, searched = _lookup_rows(app, "olle")
    assert registered == searched == ("denied", omar_id, "identity_lookup", None, None)
    # Unknown: a denial without a child, in both.
    unknown = fresh_number(913)
    assert register(olle, with_number(unit_id(app, "Vårdcentralen Ekby"), unknown)).status_code == 302
    assert search_number(olle, fresh_number(914)).status_code == 200
    _, _, registered, searched = _lookup_rows(app, "olle")
    assert registered == searched == ("denied", None, "identity_lookup", None, None)
    # In scope (lars, through Klass 4–6): a read on his legal basis, in both.
    lars = as_user(app, "lars")
    assert register(lars, with_number(unit_id(app, "Klass 4–6"), OMAR_NUMBER)).status_code == 302
    assert search_number(lars, OMAR_NUMBER).status_code == 200
    registered, searched = _lookup_rows(app, "lars")
    assert registered == searched == ("allowed", omar_id, "child", omar, "relation_unit")


def test_a_pending_link_is_not_visible_to_anyone_but_those_who_decide(app: Flask, db: Any) -> None:
    _olle, omar, link = _olle_asks_for_omar(app)
    # nina (pupil health) sees Omar through her unit but is not his Child Contact.
    nina = as_user(app, "nina")
    page = nina.get(f"/children/{omar}/links")
    assert page.status_code == 200
    assert link not in html(page) and "Vårdcentralen" not in html(page)


def test_get_pages_write_nothing(app: Flask, db: Any) -> None:
    olle, omar, _link = _olle_asks_for_omar(app)
    before = counts(app)
    maria = as_user(app, "maria")
    for browser, path in ((maria, f"/children/{omar}/links"), (olle, "/children/new"), (maria, "/children/new")):
        assert browser.get(path).status_code == 200
    assert counts(app) == before


def test_a_refused_decision_leaves_its_denial_in_the_audit(app: Flask, db: Any) -> None:
    """A refused decision leaves its denial row even though the request wrote nothing (RULES.md §9)."""
    _olle, omar, link = _olle_asks_for_omar(app)
    lars = as_user(app, "lars")
    assert decide(lars, omar, link, "approve").status_code == 404
    with app.app_context():
        row = shared_db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "decide_child_link", AuditEvent.outcome == "denied")
        )
        assert row is not None and row.object_type == "pending_link" and row.object_id == link


def test_registering_at_a_unit_where_the_child_already_is_creates_no_link(app: Flask, db: Any) -> None:
    lars = as_user(app, "lars")  # Klass 4–6, where Omar is enrolled
    before = counts(app)
    response = register(lars, with_number(unit_id(app, "Klass 4–6"), OMAR_NUMBER))
    assert response.status_code == 302
    assert "Registration received" in html(lars.get(response.headers["Location"]))
    after = counts(app)
    assert after["PendingLink"] == before["PendingLink"] and after["Child"] == before["Child"]


# -- the operations on their own ---------------------------------------------------------------------------
def actor_for(username: str) -> Actor:
    account = shared_db.session.scalar(select(Account).where(Account.username == username))
    assert account is not None and account.staff_person is not None
    memberships = tuple(m for m in account.staff_person.memberships if m.ended_at is None)
    return Actor(account=account, acting_agency=memberships[0].agency, memberships=memberships)


def _data(unit: Unit, number: str | None = None, **child: Any) -> RegistrationData:
    from coordination.identity_numbers import parse_identity_number

    parsed = parse_identity_number(number, today=date.today()) if number else None
    values: dict[str, Any] = {
        "given_name": "Tindra",
        "family_name": "Ekholm",
        "birth_date": None if parsed else date(2020, 1, 2),
        "identity_number": parsed,
        "missing_number_reason": None if parsed else "none",
    }
    values.update(child)
    return RegistrationData(
        unit=unit,
        child=ChildData(**values),
        guardians=(GuardianEntry(GuardianData("Greta", "Ekholm")),),
    )


def test_the_operations_refuse_what_the_form_would_and_write_nothing(app: Flask, db: Any) -> None:
    before = counts(app)
    with app.app_context():
        session = shared_db.session
        olle = actor_for("olle")
        own = session.scalar(select(Unit).where(Unit.name == "Vårdcentralen Ekby"))
        other = session.scalar(select(Unit).where(Unit.name == "Klass 4–6"))
        assert own is not None and other is not None
        refusals = [
            (_data(other), "unit"),
            (RegistrationData(unit=own, child=_data(own).child, guardians=()), "guardians"),
            (_data(own, fresh_number(907), missing_number_reason="none"), "identity_number"),
            (_data(own, birth_date=clock_today() + timedelta(days=1)), "birth_date"),
            (_data(own, given_name="A" * 101), "given_name"),
            (
                RegistrationData(
                    unit=own,
                    child=_data(own).child,
                    guardians=(GuardianEntry(GuardianData("Greta", "Ekholm"), restricted=True),),
                ),
                "guardians",
            ),
        ]
        for data, field in refusals:
            with pytest.raises(OperationError) as refused:
                register_child_for_unit(olle, data)
            assert refused.value.field == field
        assert registrable_units(olle) == [own]
        session.rollback()
    assert counts(app) == before


def test_the_operation_answers_a_known_number_with_a_pending_link_and_adds_no_guardian(app: Flask, db: Any) -> None:
    with app.app_context():
        session = shared_db.session
        olle = actor_for("olle")
        unit = session.scalar(select(Unit).where(Unit.name == "Vårdcentralen Ekby"))
        assert unit is not None
        guardians_before = session.scalar(select(func.count()).select_from(Guardian))
        result = register_child_for_unit(olle, _data(unit, OMAR_NUMBER))
        assert result.outcome == "pending_link" and result.child is None and result.pending_link is not None
        again = register_child_for_unit(olle, _data(unit, OMAR_NUMBER))
        assert again.pending_link is not None and again.pending_link.id == result.pending_link.id, "reused"
        assert session.scalar(select(func.count()).select_from(Guardian)) == guardians_before
        link = result.pending_link
        with pytest.raises(NotYourDecision):
            approve_pending_link(actor_for("lars"), link)
        with pytest.raises(NotYourDecision):
            approve_pending_link(olle, link)
        maria = actor_for("maria")
        approve_pending_link(maria, link)
        assert link.state == "approved" and link.decided_at is not None
        with pytest.raises(LinkAlreadyDecided):
            reject_pending_link(maria, link)
        session.rollback()


def test_the_operation_registers_an_unknown_number_with_a_pending_link_and_no_enrolment(app: Flask, db: Any) -> None:
    with app.app_context():
        session = shared_db.session
        karin = actor_for("karin")
        unit = session.scalar(select(Unit).where(Unit.name == "BUP öppenvårdsmottagning"))
        assert unit is not None
        result = register_child_for_unit(karin, _data(unit, fresh_number(915)))
        assert result.outcome == "registered" and result.child is not None and result.pending_link is not None
        link = result.pending_link
        assert (link.child_id, link.unit_id, link.state) == (result.child.id, unit.id, "pending")
        assert not session.scalar(
            select(func.count()).select_from(Enrolment).where(Enrolment.child_id == link.child_id)
        )
        with pytest.raises(NotYourDecision):
            approve_pending_link(karin, link)  # the registering person is not an agency admin
        with pytest.raises(NotYourDecision):
            approve_pending_link(actor_for("maria"), link)  # another agency's admin
        approve_pending_link(actor_for("bodil"), link)
        assert link.state == "approved"
        assert session.scalar(select(func.count()).select_from(Enrolment).where(Enrolment.child_id == link.child_id))
        session.rollback()


def test_a_refusal_from_the_operation_is_shown_next_to_the_field_never_a_500(
    app: Flask, db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import coordination.registration.views as views

    def refuse(_actor: Any, _data: Any) -> None:
        raise OperationError("refused", "guardians")

    monkeypatch.setattr(views, "register_child_for_unit", refuse)
    before = counts(app)
    response = register(as_user(app, "erik"), form(unit_id(app, "Lokalpolisområde Ekby")))
    assert response.status_code == 422
    assert 'id="guardians-0-given_name-error">This could not be registered.' in html(response)
    assert counts(app) == before
