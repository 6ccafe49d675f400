"""Sibling requests (RULES.md §5): the siblings a child's Child Contact may know of (``siblings_of``),
whether a child has concerns at all (``has_concerns``), and the content-free request to a sibling's Child
Contact to get in touch (``send_sibling_request``, ``sent_sibling_requests``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select

from coordination import events
from coordination.access import Actor
from coordination.audit import record_write, refusals_audited
from coordination.children.models import Child, RoleAssignment, SiblingLink
from coordination.chronology.record import record_event
from coordination.clock import now
from coordination.concerns.models import Concern, SiblingContactRequest
from coordination.concerns.operations.routing import staff_author
from coordination.database import db
from coordination.errors import OperationError
from coordination.errors import refusal_message as _


@dataclass(frozen=True)
class Sibling:
    """A registered sibling as the Child Contact may know of it: a number on the page, whether it has a
    Child Contact to ask (and whether that is the viewer), nothing else (RULES.md §5)."""

    number: int
    child_id: int
    contact: RoleAssignment | None


def siblings_of(child_id: int) -> list[Sibling]:
    """The child's siblings through explicit sibling links, in the order the links were made."""
    links = db.session.execute(
        select(SiblingLink.child_id, SiblingLink.sibling_id)
        .where(or_(SiblingLink.child_id == child_id, SiblingLink.sibling_id == child_id))
        .order_by(SiblingLink.id)
    ).all()
    ids = [row.sibling_id if row.child_id == child_id else row.child_id for row in links]
    contacts = (
        {
            assignment.child_id: assignment
            for assignment in db.session.scalars(
                select(RoleAssignment).where(
                    RoleAssignment.child_id.in_(ids),
                    RoleAssignment.role == "child_contact",
                    RoleAssignment.ended_at.is_(None),
                )
            )
        }
        if ids
        else {}
    )
    return [Sibling(index, sibling_id, contacts.get(sibling_id)) for index, sibling_id in enumerate(ids, start=1)]


def has_concerns(child_id: int) -> bool:
    return db.session.scalar(select(Concern.id).where(Concern.child_id == child_id).limit(1)) is not None


@refusals_audited("send_sibling_request")
def send_sibling_request(actor: Actor, child: Child, sibling: Sibling) -> SiblingContactRequest:
    """The Child Contact of a child with concerns asks a sibling's Child Contact, content-free, to get in
    touch. The caller has established that the actor is the child's Child Contact."""
    person, agency = staff_author(actor)
    if not has_concerns(child.id):
        raise OperationError(_("A request can be sent only about a child with a concern"), "sibling")
    contact = sibling.contact
    if contact is None:
        raise OperationError(_("That sibling has no Child Contact to ask"), "sibling")
    if contact.staff_person_id == person.id and contact.agency_id == agency.id:
        raise OperationError(_("You are that sibling's Child Contact yourself"), "sibling")
    moment = now()
    request = SiblingContactRequest(
        from_child_id=child.id,
        to_child_id=sibling.child_id,
        from_person_id=person.id,
        from_agency_id=agency.id,
        to_person_id=contact.staff_person_id,
        to_agency_id=contact.agency_id,
        created_at=moment,
    )
    db.session.add(request)
    db.session.flush()
    record_write(
        actor.audit_actor(),
        "send_sibling_request",
        child_id=child.id,
        object_type="sibling_contact_request",
        object_id=request.public_id,
        legal_basis="relation_child_contact",
    )
    record_event(
        child.id,
        "sibling_request",
        owner_agency_id=agency.id,
        audience="own_agency",
        author_person_id=person.id,
        object_type="sibling_contact_request",
        object_public_id=request.public_id,
    )
    db.session.flush()
    events.sibling_request_sent.send(None, request=request)
    return request


def sent_sibling_requests(child_id: int) -> dict[int, datetime]:
    """When each sibling was last asked about (by any Child Contact of this child)."""
    rows = db.session.execute(
        select(SiblingContactRequest.to_child_id, SiblingContactRequest.created_at).where(
            SiblingContactRequest.from_child_id == child_id
        )
    ).all()
    latest: dict[int, datetime] = {}
    for to_child_id, created_at in rows:
        if to_child_id not in latest or created_at > latest[to_child_id]:
            latest[to_child_id] = created_at
    return latest
