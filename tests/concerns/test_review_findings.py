"""Access defects a review found in issue 4, kept as regressions (negatives: each must stay closed)."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from sqlalchemy import select

from agencies.models import Membership, StaffPerson, Unit
from coordination.access import SYSTEM_ACTOR
from coordination.children.models import Child
from coordination.children.operations import ChildData, assign_child_contact, enrol_child, register_child
from coordination.chronology.models import ChronologyEntry
from coordination.clock import now, today
from coordination.concerns.models import Concern, ConcernArea
from coordination.database import db as database
from tests.helpers import login


def _membership(given_name: str, unit_name: str) -> Membership:
    return database.session.scalar(
        select(Membership)
        .join(StaffPerson, StaffPerson.id == Membership.staff_person_id)
        .join(Unit, Unit.id == Membership.unit_id)
        .where(StaffPerson.given_name == given_name, Unit.name == unit_name)
    )


def _child(units: tuple[str, ...], contact: tuple[str, str]) -> Child:
    child = register_child(
        SYSTEM_ACTOR, ChildData("Granskad", "Testbarn", today() - timedelta(days=900), missing_number_reason="none")
    )
    for name in units:
        enrol_child(SYSTEM_ACTOR, child, database.session.scalar(select(Unit).where(Unit.name == name)), today())
    assign_child_contact(SYSTEM_ACTOR, child, _membership(*contact))
    return child


def _concern(child: Child, author: Membership, routing: str, areas: tuple[str, ...], text: str) -> Concern:
    concern = Concern(
        child_id=child.id,
        author_person_id=author.staff_person_id,
        author_agency_id=author.agency_id,
        author_unit_id=author.unit_id,
        routing=routing,
        recipient_person_id=author.staff_person_id,
        recipient_agency_id=author.agency_id,
        observed_on=today(),
        observations=text,
        created_at=now(),
        areas=[ConcernArea(area=area) for area in areas],
    )
    database.session.add(concern)
    database.session.flush()
    return concern


def test_a_concern_kept_within_its_agency_does_not_pass_to_a_later_child_contact_elsewhere(app: Flask, db) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        child = _child(("Solrosen", "BVC Ekby"), ("Anna", "BVC Ekby"))
        concern = _concern(child, _membership("Anna", "BVC Ekby"), "same_agency", ("safe",), "Kept within BVC")
        # the Child Contact role moves to the preschool (no consent anywhere)
        assign_child_contact(SYSTEM_ACTOR, child, _membership("Sara", "Solrosen"))
        ids = child.public_id, concern.public_id
        database.session.commit()
    sara = app.test_client()
    login(sara, "sara")
    assert sara.get(f"/children/{ids[0]}/concerns/{ids[1]}").status_code == 404
    assert "/concerns/" + ids[1] not in sara.get(f"/children/{ids[0]}").get_data(as_text=True)


def test_a_meeting_decision_is_team_information_in_the_chronology_too(app: Flask, db) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        entries = database.session.scalars(
            select(ChronologyEntry.audience).where(ChronologyEntry.kind == "decision_recorded")
        ).all()
    assert entries and set(entries) == {"team"}, "as on the meeting page: under consent for team meetings"


def test_a_note_on_a_signal_stays_within_the_child_contacts_agency(app: Flask, db) -> None:  # type: ignore[no-untyped-def]
    from coordination.concerns.operations.handling import ConversationData, record_conversation
    from tests.chronology.support import give_coordination_consent
    from tests.teams.test_meetings import _actor_of

    with app.app_context():
        child = _child(("Solrosen", "BVC Ekby"), ("Anna", "BVC Ekby"))
        give_coordination_consent(child, "Habiliteringen Ekby", {"healthy"})  # one unrelated area
        signal = _concern(child, _membership("Sara", "Solrosen"), "signal", ("safe",), "Seen at preschool")
        signal.recipient_person_id = _membership("Anna", "BVC Ekby").staff_person_id
        record_conversation(
            _actor_of("anna"), signal, ConversationData(True, False, today(), "Talked with the father about it")
        )
        audiences = database.session.scalars(
            select(ChronologyEntry.audience).where(
                ChronologyEntry.child_id == child.id, ChronologyEntry.kind == "conversation"
            )
        ).all()
    assert audiences == ["own_agency"]
