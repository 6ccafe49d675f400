"""What the plan keeper's forms offer, scoped to what the keeper may know (RULES.md §4): practitioners of
agencies with consent for team meetings, the family to invite, who may be recorded as attending a
meeting and who may own a decision, and the areas of the child's open concerns for a meeting's agenda."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from agencies.models import Agency, Membership, StaffPerson, Unit
from childplan.compass import AREA_CODES, BY_CODE
from coordination.access import ChildAccess, may_see_item
from coordination.access import plan_keeper as find_keeper
from coordination.children.models import Custody, Guardian
from coordination.concerns.models import Concern
from coordination.database import db
from coordination.teams.access.common import CHILD_KEY, own_agency_id
from coordination.teams.models import TeamFamilyInvitation
from coordination.teams.operations import (
    PURPOSE,
    attendee_staff,
    child_may_be_invited,
    decision_owner_agency_ids,
    invited_guardian_ids,
)


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


def member_candidates(access: ChildAccess, on_team: set[int]) -> tuple[list[Choice], list[str], bool]:
    """Active practitioners (current membership, active person) of agencies whose consent for team
    meetings is in effect, not already on the team; value "<person public id>.<unit public id>".

    Which agencies hold consent is itself cross-agency information (RULES.md §4): other agencies are
    offered — and the ones not offered named — only while the keeper's own agency holds a consent for
    team meetings or coordination. Returns (choices, agencies not offered, whether that list is hidden)."""
    own_id = own_agency_id(access)
    picture = access.picture
    may_know = bool(picture.areas_for(own_id, PURPOSE) or picture.areas_for(own_id, "coordination"))
    agencies = db.session.scalars(select(Agency).order_by(Agency.name)).all()
    consented = [a for a in agencies if picture.areas_for(a.id, PURPOSE) and (a.id == own_id or may_know)]
    not_offered = [a.name for a in agencies if a not in consented] if may_know else []
    if not consented:
        return [], not_offered, not may_know
    rows = db.session.execute(
        select(StaffPerson, Unit, Agency)
        .join(Membership, Membership.staff_person_id == StaffPerson.id)
        .join(Unit, Unit.id == Membership.unit_id)
        .join(Agency, Agency.id == Membership.agency_id)
        .where(
            Membership.agency_id.in_([a.id for a in consented]),
            Membership.ended_at.is_(None),
            Membership.is_practitioner.is_(True),
            StaffPerson.is_active.is_(True),
        )
        .order_by(Agency.name, StaffPerson.family_name, StaffPerson.given_name, Unit.name)
    ).all()
    me = access.actor.account.staff_person_id
    choices = [
        Choice(f"{person.public_id}.{unit.public_id}", f"{person.full_name} – {agency.name}, {unit.name}")
        for person, unit, agency in rows
        if person.id not in on_team and person.id != me
    ]
    return choices, not_offered, not may_know


def family_invitees(access: ChildAccess) -> list[Choice]:
    """Guardians with current custody (by name) not invited yet, and the child by age or maturity."""
    child = access.child
    invited = db.session.execute(
        select(TeamFamilyInvitation.guardian_id, TeamFamilyInvitation.is_child).where(
            TeamFamilyInvitation.child_id == child.id, TeamFamilyInvitation.ended_at.is_(None)
        )
    ).all()
    invited_guardians = {row.guardian_id for row in invited if row.guardian_id is not None}
    child_invited = any(row.is_child for row in invited)
    guardians = db.session.scalars(
        select(Guardian)
        .join(Custody, Custody.guardian_id == Guardian.id)
        .where(Custody.child_id == child.id, Custody.ended_at.is_(None))
        .order_by(Guardian.family_name, Guardian.given_name, Guardian.id)
    ).all()
    choices = [Choice(g.public_id, g.full_name) for g in guardians if g.id not in invited_guardians]
    if not child_invited and child_may_be_invited(child):
        choices.append(Choice(CHILD_KEY, str(_l("%(name)s (the child)", name=child.given_name))))
    return choices


@dataclass
class OutcomeChoices:
    attendees: list[Choice]
    agencies: list[Choice]
    units: list[Choice]
    persons: list[Choice]
    # agency public id → its units / its active staff: a decision block offers only its chosen agency's
    units_by_agency: dict[str, list[Choice]]
    persons_by_agency: dict[str, list[Choice]]
    # value → id maps, so that a post is parsed without reloading after a rollback
    staff_ids: dict[str, int]
    guardian_ids: dict[str, int]
    agency_ids: dict[str, int]
    unit_ids: dict[str, int]
    person_ids: dict[str, int]


def outcome_choices(access: ChildAccess) -> OutcomeChoices:
    """Who may be recorded as attending (team members, the Child Contact and Support Coordinator, the
    invited family, the child) and who may own a decision (agencies on the team and the keeper's own,
    their units and active staff) — for the plan keeper's outcome form."""
    child = access.child
    staff = attendee_staff(child.id)
    keeper = find_keeper(child.id)
    people = (
        {p.id: p for p in db.session.scalars(select(StaffPerson).where(StaffPerson.id.in_(list(staff))))}
        if staff
        else {}
    )
    guardian_rows = db.session.scalars(
        select(Guardian).where(Guardian.id.in_(list(invited_guardian_ids(child.id))))
    ).all()
    attendees: list[Choice] = []
    staff_ids: dict[str, int] = {}
    for person in sorted(people.values(), key=lambda p: (p.family_name, p.given_name)):
        key = f"s.{person.public_id}"
        staff_ids[key] = person.id
        attendees.append(Choice(key, person.full_name))
    guardian_ids: dict[str, int] = {}
    for guardian in guardian_rows:
        key = f"g.{guardian.public_id}"
        guardian_ids[key] = guardian.id
        attendees.append(Choice(key, guardian.full_name))
    attendees.append(Choice(CHILD_KEY, str(_l("%(name)s (the child)", name=child.given_name))))
    owner_ids = decision_owner_agency_ids(child.id, keeper) if keeper is not None else set()
    agencies = db.session.scalars(select(Agency).where(Agency.id.in_(list(owner_ids))).order_by(Agency.name)).all()
    units = (
        db.session.execute(
            select(Unit, Agency.name, Agency.public_id)
            .join(Agency, Agency.id == Unit.agency_id)
            .where(Unit.agency_id.in_(list(owner_ids)))
            .order_by(Agency.name, Unit.name)
        ).all()
        if owner_ids
        else []
    )
    persons = (
        db.session.execute(
            select(StaffPerson, Agency.name, Agency.public_id)
            .join(Membership, Membership.staff_person_id == StaffPerson.id)
            .join(Agency, Agency.id == Membership.agency_id)
            .where(
                Membership.agency_id.in_(list(owner_ids)),
                Membership.ended_at.is_(None),
                StaffPerson.is_active.is_(True),
            )
            .order_by(Agency.name, StaffPerson.family_name, StaffPerson.given_name)
        ).all()
        if owner_ids
        else []
    )
    seen_persons: dict[str, int] = {}
    person_choices: list[Choice] = []
    persons_by_agency: dict[str, list[Choice]] = {}
    for person, agency_name, agency_key in persons:
        in_agency = persons_by_agency.setdefault(agency_key, [])
        if all(choice.value != person.public_id for choice in in_agency):
            in_agency.append(Choice(person.public_id, person.full_name))
        if person.public_id in seen_persons:
            continue
        seen_persons[person.public_id] = person.id
        person_choices.append(Choice(person.public_id, f"{person.full_name} – {agency_name}"))
    units_by_agency: dict[str, list[Choice]] = {}
    for unit, _agency_name, agency_key in units:
        units_by_agency.setdefault(agency_key, []).append(Choice(unit.public_id, unit.name))
    return OutcomeChoices(
        attendees=attendees,
        agencies=[Choice(a.public_id, a.name) for a in agencies],
        units=[Choice(u.public_id, f"{u.name} – {agency_name}") for u, agency_name, _key in units],
        persons=person_choices,
        units_by_agency=units_by_agency,
        persons_by_agency=persons_by_agency,
        staff_ids=staff_ids,
        guardian_ids=guardian_ids,
        agency_ids={a.public_id: a.id for a in agencies},
        unit_ids={u.public_id: u.id for u, _name, _key in units},
        person_ids=seen_persons,
    )


# -- the agenda -------------------------------------------------------------------------------------------
def open_concern_areas(access: ChildAccess) -> list[str]:
    """The Needs Compass areas of the child's open concerns that the viewer may see (own agency's, or
    another agency's through coordination consent covering its areas), in compass order."""
    own_id = own_agency_id(access)
    concerns = db.session.scalars(
        select(Concern)
        .where(Concern.child_id == access.child.id, Concern.state != "closed")
        .options(selectinload(Concern.areas))
    ).all()
    codes: set[str] = set()
    for concern in concerns:
        areas = concern.area_codes
        if concern.author_agency_id == own_id or may_see_item(access, concern.author_agency_id, "coordination", areas):
            codes |= set(areas)
    return [code for code in AREA_CODES if code in codes]


def agenda_text(codes: list[str]) -> str:
    if not codes:
        return ""
    lines = [str(_l("Open concerns and areas to talk about:"))]
    lines.extend(f"– {BY_CODE[code].label}" for code in codes)
    return "\n".join(lines)
