"""Scoped queries for raising concerns: what the agency admin's queue holds, and the view models of the
pages (built for the actor: templates never get a raw object)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask import abort
from sqlalchemy import Select, false, select

from agencies.models import Unit
from coordination import audit
from coordination.access import STAFF, Actor, mask_digits
from coordination.children.models import Child, age_in_years
from coordination.clock import today
from coordination.concerns.models import Concern
from coordination.concerns.operations.unmatched import concern_birth_date
from coordination.database import db

MAX_ID_LENGTH = 64
REGISTER_UNMATCHED_ACTION = "register_unmatched_concern_child"


def _admin_agency_id(actor: Actor) -> int | None:
    if actor.kind != STAFF or actor.acting_agency is None or not actor.is_agency_admin:
        return None
    return actor.acting_agency.id


def unmatched_concerns(actor: Actor) -> Select[tuple[Concern]]:
    """Concerns by an unknown number routed to the acting agency admin's agency, still open, oldest first."""
    agency_id = _admin_agency_id(actor)
    statement = select(Concern).where(
        Concern.routing == "unmatched", Concern.child_id.is_(None), Concern.state == "open"
    )
    if agency_id is None:
        return statement.where(false())
    return statement.where(Concern.recipient_agency_id == agency_id).order_by(Concern.created_at, Concern.id)


def waiting_concerns(actor: Actor) -> Select[tuple[Concern, Child]]:
    """Open concerns waiting for a Child Contact ("agency_admin") routed to the admin's agency."""
    agency_id = _admin_agency_id(actor)
    statement = (
        select(Concern, Child)
        .join(Child, Child.id == Concern.child_id)
        .where(Concern.routing == "agency_admin", Concern.state == "open")
    )
    if agency_id is None:
        return statement.where(false())
    return statement.where(Concern.recipient_agency_id == agency_id).order_by(
        Child.family_name, Child.given_name, Child.id, Concern.created_at
    )


def unmatched_concern_or_none(actor: Actor, public_id: str | None) -> Concern | None:
    if not public_id or len(public_id) > MAX_ID_LENGTH:
        return None
    return db.session.scalar(unmatched_concerns(actor).where(Concern.public_id == public_id))


def agency_admin_or_404(actor: Actor) -> Actor:
    """The actor, when they administer the agency they act for; anyone else: 404."""
    if actor.kind != STAFF or actor.acting_agency is None or not actor.is_agency_admin:
        abort(404)
    return actor


def get_unmatched_concern_or_404(actor: Actor, public_id: str) -> Concern:
    """A report of concern not yet matched to a child, for the administrator of the agency it went to
    (the read is audited); anything else: 404 (audited, with the id as given, digits masked)."""
    concern = unmatched_concern_or_none(actor, public_id)
    if concern is None:
        audit.note_denied(
            actor.audit_actor(),
            REGISTER_UNMATCHED_ACTION,
            object_type="concern",
            object_id=mask_digits((public_id or "")[:MAX_ID_LENGTH]),
        )
        abort(404)
    audit.note_read(
        actor.audit_actor(),
        REGISTER_UNMATCHED_ACTION,
        child_id=concern.child_id,
        object_type="concern",
        object_id=concern.public_id,
        legal_basis="agency_administration",
    )
    return concern


def agency_units(actor: Actor) -> list[tuple[str, str]]:
    """The acting agency's units, by name, as (public id, name)."""
    agency_id = _admin_agency_id(actor)
    if agency_id is None:
        return []
    return [
        (unit.public_id, unit.name)
        for unit in db.session.scalars(select(Unit).where(Unit.agency_id == agency_id).order_by(Unit.name, Unit.id))
    ]


def agency_unit_or_none(actor: Actor, public_id: str | None) -> Unit | None:
    agency_id = _admin_agency_id(actor)
    if agency_id is None or not public_id:
        return None
    return db.session.scalar(
        select(Unit).where(Unit.public_id == public_id[:MAX_ID_LENGTH], Unit.agency_id == agency_id)
    )


# -- view models ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class UnmatchedLine:
    """An unmatched concern as the agency admin sees it: when it came and the child's age (from the
    number), nothing of its content (RULES.md §2)."""

    public_id: str
    received_at: datetime
    age: int | None

    @classmethod
    def of(cls, concern: Concern) -> UnmatchedLine:
        born: date | None = concern_birth_date(concern)
        return cls(concern.public_id, concern.created_at, age_in_years(born, today()))


@dataclass(frozen=True)
class WaitingLine:
    """A child whose concerns wait for a Child Contact: name, age and how many, nothing else."""

    child_public_id: str
    name: str
    age: int | None
    concerns: int
    first_received_at: datetime


def waiting_lines(rows: list[tuple[Concern, Child]]) -> list[WaitingLine]:
    lines: dict[int, WaitingLine] = {}
    for concern, child in rows:
        line = lines.get(child.id)
        if line is None:
            lines[child.id] = WaitingLine(
                child.public_id, child.full_name, age_in_years(child.birth_date, today()), 1, concern.created_at
            )
        else:
            lines[child.id] = WaitingLine(
                line.child_public_id,
                line.name,
                line.age,
                line.concerns + 1,
                min(line.first_received_at, concern.created_at),
            )
    return list(lines.values())
