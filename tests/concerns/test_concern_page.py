"""A concern's page (RULES.md §4, §5; issue 4, item 5), over fresh children of their own on both
databases (the demo's own concerns come later and are not counted on). Negatives first: who gets 404
(audited), what a signal's recipient does NOT see, that a withdrawn consent hides the text on the very
next request; then what each viewer sees, script rendered escaped, and the pinned statement count.

The helpers here (a fresh child with its Child Contact and consents, a concern row, logged-in clients)
are shared with ``test_handling.py`` and ``test_coordinators.py``."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from agencies.models import Agency, Membership, StaffPerson, Unit
from childplan.compass import AREA_CODES, BY_CODE
from coordination.access import SYSTEM_ACTOR
from coordination.children.models import Child
from coordination.children.operations import (
    ChildData,
    GuardianData,
    add_guardian,
    assign_child_contact,
    enrol_child,
    link_custody,
    register_child,
)
from coordination.chronology.models import ChronologyEntry
from coordination.clock import now
from coordination.concerns.models import Concern, ConcernArea, CoordinatorRequest
from coordination.consent.ledger import ConsentData, GiverData, record_consent, withdraw_consent
from coordination.consent.models import Consent
from coordination.database import db as database
from coordination.models import Account, AuditEvent
from tests.helpers import csrf_token, login

BVC, PRESCHOOLS, HABILITATION, SCHOOL = (
    "Barnavårdscentralen Ekby (BVC)",
    "Ekby förskolor",
    "Habiliteringen Ekby",
    "Ekby skola",
)
OBSERVED = "Says few words for her age; points instead of asking"
STRENGTHS = "Loves building with blocks"
# The concern page for the Child Contact: the session row with its account and person, the person's
# memberships (2); the child; my relations to it; the consent picture (consents, their areas, their
# givers, custody, maturity: 5); the concern with its author and agency, its areas (2); its steps in
# the chronology, with their areas (2); the audit rows of the read (1).
CONCERN_PAGE_STATEMENTS = 15  # with the settings' overrides (1: coordination.settings, once per request)
WRITE_ACTIONS = (
    "acknowledge_concern",
    "record_conversation",
    "close_concern",
    "request_support_coordinator",
    "accept_coordinator_request",
    "decline_coordinator_request",
    "close_coordinator_request",
    "assign_support_coordinator",
)


# -- the world of one test -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class World:
    child: str  # public id
    child_pk: int
    guardian_pk: int


def session():  # type: ignore[no-untyped-def]
    return database.session


def staff(username: str) -> StaffPerson:
    person = session().scalar(
        select(StaffPerson).join(Account, Account.staff_person_id == StaffPerson.id).where(Account.username == username)
    )
    assert person is not None, username
    return person


def agency_named(name: str) -> Agency:
    found = session().scalar(select(Agency).where(Agency.name == name))
    assert found is not None, name
    return found


def membership_of(username: str, agency_name: str | None = None) -> Membership:
    statement = select(Membership).where(
        Membership.staff_person_id == staff(username).id, Membership.ended_at.is_(None)
    )
    if agency_name is not None:
        statement = statement.where(Membership.agency_id == agency_named(agency_name).id)
    found = session().scalars(statement.order_by(Membership.id)).first()
    assert found is not None, username
    return found


def unit_named(name: str) -> Unit:
    found = session().scalar(select(Unit).where(Unit.name == name))
    assert found is not None, name
    return found


def app_today(app: Flask) -> date:
    return app.extensions["clock"].today()


def give_consent(app: Flask, world: World, agency_name: str, areas: Sequence[str] = AREA_CODES) -> str:
    """A coordination consent for the agency, given by the guardian today, recorded by anna."""
    with app.app_context():
        day = app_today(app)
        child = session().get(Child, world.child_pk)
        data = ConsentData(
            purposes=["coordination"],
            areas=list(areas),
            valid_from=day,
            valid_until=day.replace(year=day.year + 1),
            givers=[GiverData(world.guardian_pk, "in_person", "At the BVC")],
            consent_text_version=1,
            recorded_by=staff("anna"),
        )
        made = record_consent(SYSTEM_ACTOR, child, agency_named(agency_name), data)
        session().commit()
        return made[0].public_id


def withdraw(app: Flask, world: World, consent_public_id: str) -> None:
    with app.app_context():
        consent = session().scalar(select(Consent).where(Consent.public_id == consent_public_id))
        withdraw_consent(SYSTEM_ACTOR, consent, world.guardian_pk, staff("anna"))
        session().commit()


def make_child(
    app: Flask,
    *,
    consents: Sequence[str] = (BVC, PRESCHOOLS, HABILITATION),
    given_name: str = "Testa",
    child_contact: tuple[str, str] = ("anna", BVC),
) -> World:
    """A fresh child (three years old), enrolled at Solrosen (sara's) and BVC Ekby (anna's), with one
    guardian in custody, a Child Contact (anna at BVC unless said) and coordination consents (all eight
    areas) for the named agencies."""
    with app.app_context():
        day = app_today(app)
        child = register_child(
            SYSTEM_ACTOR,
            ChildData(given_name, "Orolig", day.replace(year=day.year - 3, day=1), missing_number_reason="none"),
        )
        guardian = add_guardian(SYSTEM_ACTOR, GuardianData("Gun", "Orolig"))
        link_custody(SYSTEM_ACTOR, child, guardian)
        enrol_child(SYSTEM_ACTOR, child, unit_named("Solrosen"), day)
        enrol_child(SYSTEM_ACTOR, child, unit_named("BVC Ekby"), day)
        assign_child_contact(SYSTEM_ACTOR, child, membership_of(*child_contact))
        session().commit()
        world = World(child.public_id, child.id, guardian.id)
    for agency_name in consents:
        give_consent(app, world, agency_name)
    return world


def make_concern(
    app: Flask,
    world: World,
    *,
    author: str = "sara",
    routing: str = "shared",
    recipient: str | None = "anna",
    areas: Sequence[str] = ("achieving",),
    observations: str = OBSERVED,
    **fields: Any,
) -> str:
    """A concern row as raising would leave it (routing and recipient consistent)."""
    with app.app_context():
        author_membership = membership_of(author)
        recipient_membership = membership_of(recipient) if recipient else None
        concern = Concern(
            child_id=world.child_pk,
            author_person_id=author_membership.staff_person_id,
            author_agency_id=author_membership.agency_id,
            author_unit_id=author_membership.unit_id,
            routing=routing,
            recipient_person_id=recipient_membership.staff_person_id if recipient_membership else None,
            recipient_agency_id=recipient_membership.agency_id if recipient_membership else None,
            observed_on=fields.pop("observed_on", app_today(app)),
            observations=observations,
            strengths=fields.pop("strengths", STRENGTHS),
            urgency=fields.pop("urgency", "routine"),
            agreement_method="in_person" if routing == "shared" else None,
            agreement_on=app_today(app) if routing == "shared" else None,
            state="open",
            created_at=now(),
            areas=[ConcernArea(area=area) for area in areas],
            **fields,
        )
        session().add(concern)
        session().commit()
        return concern.public_id


def concern_row(app: Flask, public_id: str) -> dict[str, Any]:
    with app.app_context():
        found = session().scalar(select(Concern).where(Concern.public_id == public_id))
        assert found is not None
        return {
            "state": found.state,
            "close_reason": found.close_reason,
            "close_note": found.close_note,
            "acknowledged_by_id": found.acknowledged_by_id,
        }


def chronology(app: Flask, world: World, kind: str | None = None) -> list[dict[str, Any]]:
    with app.app_context():
        statement = select(ChronologyEntry).where(ChronologyEntry.child_id == world.child_pk)
        if kind is not None:
            statement = statement.where(ChronologyEntry.kind == kind)
        return [
            {
                "kind": entry.kind,
                "audience": entry.audience,
                "owner": entry.owner_agency.name,
                "areas": set(entry.area_codes),
                "tone": entry.tone,
                "summary": entry.summary,
                "object": entry.object_public_id,
                "recipient_person_id": entry.recipient_person_id,
                "occurred_on": entry.occurred_at.date(),
            }
            for entry in session().scalars(statement.order_by(ChronologyEntry.id))
        ]


def audit_rows(app: Flask, world: World, outcome: str | None = None) -> list[tuple[str, str, str | None]]:
    """(action, outcome, reason) of every audit row about the child."""
    with app.app_context():
        statement = select(AuditEvent).where(AuditEvent.child_id == world.child_pk)
        if outcome is not None:
            statement = statement.where(AuditEvent.outcome == outcome)
        return [
            (row.action, row.outcome, (row.detail or {}).get("reason"))
            for row in session().scalars(statement.order_by(AuditEvent.id))
        ]


def write_counts(app: Flask, world: World) -> tuple[int, int, int, int]:
    """Chronology entries, coordinator requests, allowed write audit rows about the child, and concerns
    not open: what the handling and requests write."""
    with app.app_context():
        return (
            session().scalar(select(func.count(ChronologyEntry.id)).where(ChronologyEntry.child_id == world.child_pk))
            or 0,
            session().scalar(
                select(func.count(CoordinatorRequest.id)).where(CoordinatorRequest.child_id == world.child_pk)
            )
            or 0,
            session().scalar(
                select(func.count(AuditEvent.id)).where(
                    AuditEvent.child_id == world.child_pk,
                    AuditEvent.outcome == "allowed",
                    AuditEvent.action.in_(WRITE_ACTIONS),
                )
            )
            or 0,
            session().scalar(
                select(func.count(Concern.id)).where(Concern.child_id == world.child_pk, Concern.state != "open")
            )
            or 0,
        )


def post(client: FlaskClient, path: str, data: dict[str, Any]) -> Any:
    payload = dict(data)
    payload["csrf_token"] = csrf_token(client, "/")
    return client.post(path, data=payload)


def field_error(html: str, name: str) -> str | None:
    match = re.search(rf'data-field-error="{re.escape(name)}"[^>]*>([^<]*)<', html)
    return match.group(1).strip() if match else None


def concern_url(world: World, concern_id: str, suffix: str = "") -> str:
    return f"/children/{world.child}/concerns/{concern_id}{suffix}"


def client_maker(app: Flask) -> Callable[[str], FlaskClient]:
    """``make("anna")``: a logged-in test client in English (each module's ``as_user`` fixture)."""

    def make(username: str) -> FlaskClient:
        client = app.test_client()
        assert login(client, username).status_code == 302, username
        assert post(client, "/language", {"language": "en", "next": "/"}).status_code == 302
        return client

    return make


@pytest.fixture()
def as_user(app: Flask, db: Any) -> Callable[[str], FlaskClient]:
    return client_maker(app)


# -- who gets 404 ----------------------------------------------------------------------------------------------
def test_the_police_get_404_on_the_concern_page_and_every_action_and_each_refusal_is_audited(
    app: Flask, as_user: Any
) -> None:
    world = make_child(app)
    concern_id = make_concern(app, world)
    police = as_user("erik")
    paths_get = [
        concern_url(world, concern_id),
        concern_url(world, concern_id, "/close"),
        f"/children/{world.child}/coordinator-requests/new",
    ]
    paths_post = [
        concern_url(world, concern_id, "/acknowledge"),
        concern_url(world, concern_id, "/conversations"),
        concern_url(world, concern_id, "/close"),
        f"/children/{world.child}/coordinator-requests/new",
    ]
    for path in paths_get:
        assert police.get(path).status_code == 404, path
    for path in paths_post:
        assert post(police, path, {"text": "x", "note": "x", "reason": "other", "confirm": "y"}).status_code == 404
    denied = audit_rows(app, world, "denied")
    assert len(denied) == len(paths_get) + len(paths_post)
    assert {reason for _action, _outcome, reason in denied} == {"no_relation"}
    assert concern_row(app, concern_id)["state"] == "open"


@pytest.mark.parametrize("username", ["hanna", "lars", "johan", "olle"])
def test_staff_without_a_relation_to_the_child_get_404(app: Flask, as_user: Any, username: str) -> None:
    world = make_child(app)
    concern_id = make_concern(app, world)
    assert as_user(username).get(concern_url(world, concern_id)).status_code == 404


def test_staff_with_a_relation_but_neither_consent_nor_the_concern_addressed_to_them_get_404(
    app: Flask, as_user: Any
) -> None:
    world = make_child(app, consents=())
    # BVC's own concern, within BVC: sara (preschool, the child's unit) has no consent for coordination
    concern_id = make_concern(app, world, author="anna", routing="same_agency", recipient="anna")
    assert as_user("sara").get(concern_url(world, concern_id)).status_code == 404
    assert ("view_concern", "denied", "no_consent_for_your_agency") in audit_rows(app, world, "denied")


def test_a_concern_is_looked_up_through_its_own_child(app: Flask, as_user: Any) -> None:
    first = make_child(app, given_name="Första")
    second = make_child(app, given_name="Andra")
    concern_id = make_concern(app, first)
    anna = as_user("anna")
    assert anna.get(concern_url(first, concern_id)).status_code == 200
    assert anna.get(concern_url(second, concern_id)).status_code == 404
    assert anna.get(concern_url(first, "no-such-concern")).status_code == 404
    assert ("view_concern", "denied", "not_this_childs_concern") in audit_rows(app, second, "denied")


# -- a signal is content-free ------------------------------------------------------------------------------
def test_a_signal_recipient_sees_only_who_asks_to_be_contacted(app: Flask, as_user: Any) -> None:
    world = make_child(app, consents=(PRESCHOOLS,))  # BVC, anna's agency, holds no consent
    concern_id = make_concern(
        app, world, routing="signal", areas=("achieving", "healthy"), child_said="I don't want to go home"
    )
    response = as_user("anna").get(concern_url(world, concern_id))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert OBSERVED not in html and STRENGTHS not in html and "go home" not in html
    assert "bk-compass-chip" not in html and "data-area=" not in html
    for code in ("achieving", "healthy"):
        assert str(BY_CODE[code].label) not in html
    assert "Ekby förskolor" not in html  # the agency kind only
    assert "A practitioner at Preschool asks you to contact them." in html
    assert "Sara Lind" in html
    assert 'data-mode="signal"' in html
    assert ("view_concern", "allowed", None) in audit_rows(app, world, "allowed")


def test_withdrawing_the_consent_that_made_a_shared_concern_visible_hides_its_text_on_the_next_request(
    app: Flask, as_user: Any
) -> None:
    world = make_child(app, consents=(PRESCHOOLS,))
    bvc_consent = give_consent(app, world, BVC, areas=("achieving",))  # limited to the concern's areas
    concern_id = make_concern(app, world, routing="shared", areas=("achieving",))
    anna = as_user("anna")
    before = anna.get(concern_url(world, concern_id)).get_data(as_text=True)
    assert OBSERVED in before and 'data-mode="full"' in before
    withdraw(app, world, bvc_consent)
    after = anna.get(concern_url(world, concern_id))
    html = after.get_data(as_text=True)
    assert after.status_code == 200
    assert OBSERVED not in html and STRENGTHS not in html and "bk-compass-chip" not in html
    assert 'data-mode="signal"' in html and 'data-withheld="concern_text"' in html
    assert "no longer holds a consent for coordination" in html


def test_a_consent_that_does_not_cover_every_area_shows_the_recipient_no_text(app: Flask, as_user: Any) -> None:
    world = make_child(app, consents=(PRESCHOOLS,))
    give_consent(app, world, BVC, areas=("healthy",))
    concern_id = make_concern(app, world, routing="shared", areas=("achieving", "healthy"))
    html = as_user("anna").get(concern_url(world, concern_id)).get_data(as_text=True)
    assert OBSERVED not in html
    assert "does not cover all of its areas" in html


# -- who sees the whole concern ---------------------------------------------------------------------------
def test_the_author_and_a_consented_child_contact_see_the_whole_concern(app: Flask, as_user: Any) -> None:
    world = make_child(app)
    concern_id = make_concern(
        app,
        world,
        areas=("achieving", "included"),
        already_done="Talked with the mother",
        family_view="The mother is worried too",
        urgency="soon",
    )
    for username in ("sara", "anna"):
        html = as_user(username).get(concern_url(world, concern_id)).get_data(as_text=True)
        assert 'data-mode="full"' in html, username
        for text in (OBSERVED, STRENGTHS, "Talked with the mother", "The mother is worried too", "Soon"):
            assert text in html, (username, text)
        assert re.findall(r'data-area="([^"]+)"', html) == ["achieving", "included"]


def test_script_in_every_field_of_a_concern_is_rendered_escaped(app: Flask, as_user: Any) -> None:
    world = make_child(app)
    script = "<script>alert('x')</script>"
    concern_id = make_concern(
        app,
        world,
        observations=script,
        strengths=script,
        already_done=script,
        child_said=script,
        family_view=script,
    )
    html = as_user("anna").get(concern_url(world, concern_id)).get_data(as_text=True)
    assert "<script>alert" not in html
    assert html.count("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;") == 5


def test_only_the_child_contact_is_offered_the_actions(app: Flask, as_user: Any) -> None:
    world = make_child(app)
    concern_id = make_concern(app, world)
    author = as_user("sara").get(concern_url(world, concern_id)).get_data(as_text=True)
    assert 'data-section="actions"' not in author and 'data-form="acknowledge"' not in author
    contact = as_user("anna").get(concern_url(world, concern_id)).get_data(as_text=True)
    for marker in (
        'data-form="acknowledge"',
        'data-form="conversation"',
        "/consent/record",
        "/coordinator-requests/new",
    ):
        assert marker in contact, marker


# -- statements ------------------------------------------------------------------------------------------------
def test_the_concern_page_sends_a_pinned_number_of_statements(
    app: Flask, as_user: Any, clock: Any, count_queries: Any
) -> None:
    clock.set(datetime.now(UTC))
    world = make_child(app)
    concern_id = make_concern(app, world, areas=("achieving", "healthy"))
    anna = as_user("anna")
    post(anna, concern_url(world, concern_id, "/acknowledge"), {})
    path = concern_url(world, concern_id)
    with count_queries() as counter:
        assert anna.get(path).status_code == 200
    few = counter.count
    for number in range(5):
        post(
            anna,
            concern_url(world, concern_id, "/conversations"),
            {"with_whom": "family", "held_on": app_today(app).isoformat(), "text": f"Talk {number}"},
        )
    with count_queries() as counter:
        html = anna.get(path).get_data(as_text=True)
    assert html.count('data-step="conversation"') == 5
    assert few == counter.count == CONCERN_PAGE_STATEMENTS, counter.statements
