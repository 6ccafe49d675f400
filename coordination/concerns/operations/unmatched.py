"""Concerns waiting for a child or a Child Contact: re-routing the concerns that waited for a Child
Contact once one is assigned (``reroute_waiting_concerns``, called from ``assign_child_contact``), and the
agency admin's queue of unmatched concerns (an unknown identity number): the age it shows
(``concern_birth_date``) and registering the child (``register_unmatched_child``).

Agreement rows are stored whenever someone agreed, so a waiting concern is routed by them once it can be
(``routing.route``), then audited, put in the chronology, announced and matched as a new concern is."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from agencies.models import Unit
from coordination import events
from coordination.access import Actor, AnyActor, current_child_contact
from coordination.audit import refusals_audited
from coordination.children.models import Child
from coordination.children.operations import ChildData, _keys, enrol_child, register_child
from coordination.clock import today
from coordination.concerns.models import Concern
from coordination.concerns.operations.matching import match_concern
from coordination.concerns.operations.routing import (
    AGREED_NOTE,
    STATED_NOTE,
    audit_concern,
    record_raised,
    record_signal,
    route,
)
from coordination.database import db
from coordination.errors import OperationError
from coordination.errors import refusal_message as _
from coordination.identity_numbers import decrypt_identity_number


# -- a Child Contact is assigned ----------------------------------------------------------------------------
def reroute_waiting_concerns(actor: AnyActor, child: Child) -> list[Concern]:
    """The child has just got a Child Contact: concerns still waiting for one ("agency_admin", open) are
    routed as when raised — same agency, or across agencies shared when the agreement rows say everyone
    agreed, otherwise a signal — announced again, and matched."""
    contact = current_child_contact(child.id)
    if contact is None:
        return []
    waiting = db.session.scalars(
        select(Concern)
        .where(Concern.child_id == child.id, Concern.routing == "agency_admin", Concern.state == "open")
        .options(selectinload(Concern.areas), selectinload(Concern.agreements))
        .order_by(Concern.id)
    ).all()
    for concern in waiting:
        route(actor, concern, child, contact, note=AGREED_NOTE)
        db.session.flush()
        audit_concern(actor, concern, child_id=child.id, action="route_concern")
        if concern.routing == "signal":
            record_signal(concern)
        db.session.flush()
        events.concern_routed.send(None, concern=concern)
    for concern in waiting:
        match_concern(actor, concern)
    return list(waiting)


# -- the agency admin's queue -------------------------------------------------------------------------------
@dataclass(frozen=True)
class UnmatchedRegistration:
    given_name: str
    family_name: str
    unit: Unit


def concern_birth_date(concern: Concern) -> date | None:
    """The birth date in an unmatched concern's identity number (its age is all the queue shows)."""
    if concern.identity_number_encrypted is None:
        return None
    return decrypt_identity_number(concern.identity_number_encrypted, _keys()[0]).birth_date


@refusals_audited("register_unmatched_concern_child")
def register_unmatched_child(actor: Actor, concern: Concern, data: UnmatchedRegistration) -> Child:
    """The agency admin registers the child of an unmatched concern with the stored number and enrols it at
    one of the agency's units; the concern then waits for a Child Contact ("agency_admin").

    If the number was registered meanwhile, the concern is routed to that child as a concern by number
    would be (nothing is registered)."""
    if concern.routing != "unmatched" or concern.identity_number_encrypted is None:
        raise OperationError(_("This concern has already been matched to a child"))
    if actor.acting_agency is None or data.unit.agency_id != actor.acting_agency.id:
        raise OperationError(_("Choose one of your agency's units"), "unit")
    given, family = data.given_name.strip(), data.family_name.strip()
    if not given:
        raise OperationError(_("Enter the given name"), "given_name")
    if not family:
        raise OperationError(_("Enter the family name"), "family_name")
    number = decrypt_identity_number(concern.identity_number_encrypted, _keys()[0])
    existing = db.session.scalar(select(Child).where(Child.identity_number_hash == concern.identity_number_hash))
    if existing is None:
        child = register_child(
            actor, ChildData(given_name=given, family_name=family, birth_date=None, identity_number=number)
        )
        enrol_child(actor, child, data.unit, today())
    else:
        child = existing
    # Every open unmatched concern with this number (from any agency) now has its child.
    same_number = db.session.scalars(
        select(Concern)
        .where(
            Concern.routing == "unmatched",
            Concern.child_id.is_(None),
            Concern.identity_number_hash == concern.identity_number_hash,
            Concern.id != concern.id,
        )
        .order_by(Concern.id)
    ).all()
    for matched in [concern, *same_number]:
        _match_to_child(actor, matched, child)
    return child


def _match_to_child(actor: AnyActor, concern: Concern, child: Child) -> None:
    concern.child_id = child.id
    concern.identity_number_encrypted = None  # the child holds the number now (minimisation)
    concern.identity_number_hash = None
    concern.routing = "agency_admin"
    route(actor, concern, child, current_child_contact(child.id), note=STATED_NOTE)
    db.session.flush()
    audit_concern(actor, concern, child_id=child.id, action="match_unmatched_concern")
    record_raised(concern)
    if concern.routing == "signal":
        record_signal(concern)
    db.session.flush()
    events.concern_routed.send(None, concern=concern)
    match_concern(actor, concern)


def _reroute_on_assignment(_sender: object, *, actor: AnyActor, child: Child, **_payload: object) -> None:
    reroute_waiting_concerns(actor, child)


def connect_listeners() -> None:
    """Concerns waiting for a Child Contact follow the assignment (``events.child_contact_assigned``).
    Signals are process-wide: connecting again (tests make several apps) is harmless."""
    events.child_contact_assigned.connect(_reroute_on_assignment)
