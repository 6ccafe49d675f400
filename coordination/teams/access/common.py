"""The rules every team view model shares (RULES.md §4, §7): who is in the child's team, whether the
viewer's agency's consent for team meetings is in effect, which meetings the viewer may see, the plan
keeper's assignment, and a member of staff as the viewer may see them (protected identity withholds
names, units and contact channels from staff outside the team)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from agencies.models import Agency, StaffPerson, Unit
from coordination.access import WITHHELD_NO_CONSENT, ChildAccess, may_see_item
from coordination.children.models import RoleAssignment
from coordination.database import db
from coordination.teams.models import Meeting
from coordination.teams.operations import PURPOSE

PROTECTED = "protected_identity"
CHILD_KEY = "child"
TEAM_RELATIONS = ("child_contact", "support_coordinator", "team_member")
WITHHELD_REASONS = {
    WITHHELD_NO_CONSENT: _l("withheld: no consent for team meetings for your agency"),
    PROTECTED: _l("withheld: protected identity"),
}
STATE_LABELS = {
    "planned": _l("Planned"),
    "awaiting_outcome": _l("Awaiting the outcome"),
    "cancelled": _l("Cancelled"),
    "held": _l("Held"),
}
KEEPER_LABELS = {"support_coordinator": _l("Support Coordinator"), "child_contact": _l("Child Contact")}


def in_team(access: ChildAccess) -> bool:
    """The child's team in the sense of RULES.md §7: the Child Contact, the Support Coordinator and the
    current members."""
    return any(access.has_relation(name) for name in TEAM_RELATIONS)


def team_consent(access: ChildAccess) -> bool:
    """Whether the viewer's agency's consent for team meetings is in effect (any area)."""
    own = access.actor.acting_agency
    return own is not None and bool(access.picture.areas_for(own.id, PURPOSE))


def own_agency_id(access: ChildAccess) -> int:
    own = access.actor.acting_agency
    assert own is not None
    return own.id


def may_see_meeting(access: ChildAccess, meeting: Meeting) -> bool:
    return bool(may_see_item(access, meeting.agency_id, PURPOSE, meeting.area_codes))


def keeper_assignments(child_id: int) -> list[RoleAssignment]:
    return list(
        db.session.scalars(
            select(RoleAssignment)
            .where(
                RoleAssignment.child_id == child_id,
                RoleAssignment.ended_at.is_(None),
                RoleAssignment.role.in_(tuple(KEEPER_LABELS)),
            )
            .options(joinedload(RoleAssignment.staff_person), joinedload(RoleAssignment.agency))
        )
    )


def keeper_of(assignments: list[RoleAssignment]) -> RoleAssignment | None:
    return next((a for a in assignments if a.role == "support_coordinator"), None) or next(
        (a for a in assignments if a.role == "child_contact"), None
    )


@dataclass(frozen=True)
class PersonLine:
    """A member of staff as the viewer may see them: ``name`` None when withheld (protected identity)."""

    name: str | None
    title: str | None
    agency: str | None
    unit: str | None
    phone: str | None
    email: str | None


def person_line(
    person: StaffPerson, agency: Agency | None, unit: Unit | None, *, protected: bool, show_agency: bool = True
) -> PersonLine:
    if protected:
        return PersonLine(None, None, agency.name if agency and show_agency else None, None, None, None)
    return PersonLine(
        person.full_name,
        person.title,
        agency.name if agency and show_agency else None,
        unit.name if unit else None,
        person.phone,
        person.email,
    )


def meeting_state(meeting: Meeting, moment: datetime) -> str:
    if meeting.state == "planned" and meeting.starts_at <= moment:
        return "awaiting_outcome"
    return meeting.state


def meeting_url(child_public_id: str, meeting: Meeting) -> str:
    return url_for("teams.meeting", child_id=child_public_id, meeting_id=meeting.public_id)
