"""Who may register a child, and where (RULES.md §5): practitioners of the acting agency, in their units.
Also which agencies have nobody to decide the pending links that fall to their agency admin."""

from __future__ import annotations

from flask import abort
from sqlalchemy import ColumnElement, exists, select

from agencies.models import Agency, Membership, StaffPerson, Unit
from coordination.access import STAFF, Actor
from coordination.database import db


def registrable_units(actor: Actor) -> list[Unit]:
    """The units of the acting agency where the actor is a practitioner, by name."""
    if actor.kind != STAFF or actor.acting_agency is None:
        return []
    units = {m.unit_id: m.unit for m in actor.memberships if m.is_practitioner and m.ended_at is None}
    return sorted(units.values(), key=lambda unit: (unit.name, unit.id))


def may_register(actor: Actor) -> bool:
    return bool(registrable_units(actor))


def get_registrable_units_or_404(actor: Actor) -> list[Unit]:
    """The units the actor may register a child in; none (not a practitioner of the acting agency): 404."""
    units = registrable_units(actor)
    if not units:
        abort(404)
    return units


# -- agencies whose pending links nobody can decide ------------------------------------------------------
def _has_active_agency_admin(excluding_person_id: int | None = None) -> ColumnElement[bool]:
    """A condition on ``Agency``: it has a current agency-admin membership of an active person (other than
    ``excluding_person_id``: nobody decides their own request, ``access._admin_decides_link``)."""
    conditions = [
        Membership.agency_id == Agency.id,
        Membership.is_agency_admin.is_(True),
        Membership.ended_at.is_(None),
        StaffPerson.id == Membership.staff_person_id,
        StaffPerson.is_active.is_(True),
    ]
    if excluding_person_id is not None:
        conditions.append(Membership.staff_person_id != excluding_person_id)
    return exists().where(*conditions)


def agencies_without_link_approver() -> list[Agency]:
    """Open agencies without an active agency admin, by name: a pending link that falls to their agency
    admin (a child registered there and enrolled nowhere, or enrolled only at agencies without one, and
    without a Child Contact) waits until one is appointed. For the platform admin's agency list; names
    only, no child data."""
    return list(
        db.session.scalars(
            select(Agency).where(Agency.ended_at.is_(None), ~_has_active_agency_admin()).order_by(Agency.name)
        )
    )


def agency_has_link_approver(agency: Agency, requester_id: int | None) -> bool:
    """Whether someone other than the requester can decide, as the agency's admin, a request it makes."""
    return bool(
        db.session.scalar(select(Agency.id).where(Agency.id == agency.id, _has_active_agency_admin(requester_id)))
    )
