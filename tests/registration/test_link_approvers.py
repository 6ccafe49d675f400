"""Who approves a pending link when an agency has no agency admin (RULES.md §5; issue 16 "nobody stuck").

RULES.md names the Child Contact, and without one "the enrolling unit's agency admin"; it is silent on
an agency without an agency admin. The access core then falls back to an agency admin of the requesting
unit's agency — never the requester — and the receipt tells the registering person who approves (role
and agency, from their own agency only) and when nobody can yet. Negatives first. Units and agencies are
found through the personas' memberships, never by their demo names."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import select

from agencies.models import Agency, Membership, StaffPerson, Unit
from coordination.children.models import Child
from coordination.clock import now
from coordination.database import db as shared_db
from coordination.models import Account
from coordination.registration.access import agencies_without_link_approver
from coordination.registration.models import PendingLink
from coordination.registration.operations import links_awaiting_agency_admin
from tests.registration.test_registration import (
    _end_child_contact,
    actor_for,
    as_user,
    decide,
    enrolled_units,
    form,
    html,
    register,
    without_tokens,
)


def persona_unit(app: Flask, username: str) -> tuple[int, str, int, str]:
    """(unit id, unit public id, agency id, agency name) of the persona's first current membership."""
    with app.app_context():
        row = shared_db.session.execute(
            select(Unit.id, Unit.public_id, Agency.id, Agency.name)
            .join(Membership, Membership.unit_id == Unit.id)
            .join(Agency, Agency.id == Unit.agency_id)
            .join(Account, Account.staff_person_id == Membership.staff_person_id)
            .where(Account.username == username, Membership.ended_at.is_(None))
            .order_by(Membership.id)
        ).first()
    assert row is not None, username
    return row[0], row[1], row[2], row[3]


def ask_for(app: Flask, given_name: str, username: str) -> tuple[str, str]:
    """A pending link of an existing child to the persona's unit, as registering its number makes one."""
    unit, _public, _agency, _name = persona_unit(app, username)
    with app.app_context():
        session = shared_db.session
        child = session.scalar(select(Child).where(Child.given_name == given_name))
        person = session.scalar(select(Account.staff_person_id).where(Account.username == username))
        assert child is not None and person is not None
        link = PendingLink(child_id=child.id, unit_id=unit, requested_by_id=person, requested_at=now(), state="pending")
        session.add(link)
        session.commit()
        return child.public_id, link.public_id


def test_a_child_enrolled_only_where_there_is_no_agency_admin_is_not_decided_by_the_requester_or_anyone_else(
    app: Flask, db: Any, clock: Any
) -> None:
    # Wilma: at BVC and a preschool (neither has an agency admin), her Child Contact gone; karin (BUP) asks.
    _end_child_contact(app, "Wilma", clock)
    wilma, link = ask_for(app, "Wilma", "karin")
    for username in ("karin", "maria", "anna", "sara", "lars"):
        browser = as_user(app, username)
        page = browser.get(f"/children/{wilma}/links")
        assert page.status_code in (200, 404), username
        assert link not in html(page), username
        for verb in ("approve", "reject"):
            assert decide(browser, wilma, link, verb).status_code == 404, username
    with app.app_context():
        for username in ("karin", "maria", "anna", "sara"):
            assert links_awaiting_agency_admin(actor_for(username)) == [], username
        assert shared_db.session.scalar(select(PendingLink.state).where(PendingLink.public_id == link)) == "pending"


def test_then_an_agency_admin_of_the_requesting_agency_decides(app: Flask, db: Any, clock: Any) -> None:
    _end_child_contact(app, "Wilma", clock)
    wilma, link = ask_for(app, "Wilma", "karin")
    with app.app_context():
        assert [found.public_id for found in links_awaiting_agency_admin(actor_for("bodil"))] == [link]
    bodil = as_user(app, "bodil")
    assert bodil.get(f"/children/{wilma}").status_code == 404, "the links page opens nothing else"
    page = html(bodil.get(f"/children/{wilma}/links"))
    assert link in page and "You decide this as an agency admin of" in page
    assert decide(bodil, wilma, link, "approve").status_code == 302
    karin_unit = persona_unit(app, "karin")
    with app.app_context():
        unit_name = shared_db.session.scalar(select(Unit.name).where(Unit.id == karin_unit[0]))
    assert unit_name in enrolled_units(app, "Wilma")


def test_an_agency_admin_of_the_requesting_agency_never_decides_their_own_request(
    app: Flask, db: Any, clock: Any
) -> None:
    _end_child_contact(app, "Wilma", clock)
    wilma, link = ask_for(app, "Wilma", "bodil")
    bodil = as_user(app, "bodil")
    assert bodil.get(f"/children/{wilma}/links").status_code == 404
    for verb in ("approve", "reject"):
        assert decide(bodil, wilma, link, verb).status_code == 404
    with app.app_context():
        assert links_awaiting_agency_admin(actor_for("bodil")) == []


def test_an_admin_where_the_child_is_enrolled_still_decides_before_the_requesting_agencys(
    app: Flask, db: Any, clock: Any
) -> None:
    # Omar is enrolled at the school, whose agency admin (maria) decides; BUP's admin does not.
    _end_child_contact(app, "Omar", clock)
    _omar, link = ask_for(app, "Omar", "olle")
    with app.app_context():
        assert links_awaiting_agency_admin(actor_for("bodil")) == []
        assert [found.public_id for found in links_awaiting_agency_admin(actor_for("maria"))] == [link]


def test_a_deactivated_agency_admin_does_not_count_as_one(app: Flask, db: Any, clock: Any) -> None:
    _end_child_contact(app, "Omar", clock)
    _omar, link = ask_for(app, "Omar", "bodil")  # BUP asks; bodil cannot decide her own request
    _a, _b, school, _n = persona_unit(app, "maria")
    with app.app_context():
        assert school not in {agency.id for agency in agencies_without_link_approver()}
        maria = shared_db.session.scalar(
            select(StaffPerson)
            .join(Account, Account.staff_person_id == StaffPerson.id)
            .where(Account.username == "maria")
        )
        assert maria is not None
        maria.is_active = False
        shared_db.session.commit()
        assert school in {agency.id for agency in agencies_without_link_approver()}


def test_agencies_without_an_agency_admin_are_listed_and_those_with_one_are_not(app: Flask, db: Any) -> None:
    with app.app_context():
        listed = {agency.id for agency in agencies_without_link_approver()}
    for username in ("anna", "sara", "olle"):
        assert persona_unit(app, username)[2] in listed, username
    for username in ("maria", "bodil"):
        assert persona_unit(app, username)[2] not in listed, username


# -- the receipt says who approves ---------------------------------------------------------------------
def test_the_receipt_says_who_approves_and_when_the_own_agency_has_no_agency_admin(app: Flask, db: Any) -> None:
    _unit, karin_unit, _agency, bup = persona_unit(app, "karin")
    karin = as_user(app, "karin")
    response = register(karin, form(karin_unit))
    receipt = html(karin.get(response.headers["Location"]))
    assert f"an agency admin of {bup} (never the person who asked)" in receipt
    assert 'data-approver="missing"' not in receipt
    _unit, sara_unit, _agency, preschools = persona_unit(app, "sara")
    sara = as_user(app, "sara")
    first = register(sara, form(sara_unit))
    receipt = html(sara.get(first.headers["Location"]))
    assert 'data-approver="missing"' in receipt
    assert f"{preschools} has no agency admin who can approve your request at the moment." in receipt
    # The same receipt for a child already registered elsewhere: it depends on her own agency only.
    second = register(sara, form(sara_unit, given_name="Omar", family_name="Hassan", birth_date="2017-01-01"))
    again = html(sara.get(second.headers["Location"]))
    token_a, token_b = first.headers["Location"].rsplit("/", 1)[1], second.headers["Location"].rsplit("/", 1)[1]
    assert without_tokens(receipt, token_a).replace("Tindra Ekholm", "NAME") == without_tokens(again, token_b).replace(
        "Omar Hassan", "NAME"
    )
