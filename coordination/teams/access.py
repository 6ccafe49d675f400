"""What a viewer may see of a child's team and its meetings, as view models built for that viewer
(templates never get a raw object), and the scoped queries behind them (RULES.md §3, §4, §7).

* Own agency's members and meetings: always (the viewer already has a relation to the child).
* Other agencies' members, meetings and the invited family: only while the viewer's agency's consent for
  team meetings is in effect (and, for a meeting, covers its areas); otherwise a note with the reason.
* Protected identity (the child's ``protection_level`` is not "none"): meeting places, unit names and
  staff names and contact channels are withheld from staff outside the child's team (the Child Contact,
  the Support Coordinator and the current members).

Every list is loaded in a fixed number of statements, however many members, meetings or decisions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from flask import abort, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from agencies.models import Agency, Membership, StaffPerson, Unit
from childplan.compass import AREA_CODES, BY_CODE
from coordination import audit
from coordination.access import WITHHELD_NO_CONSENT, ChildAccess, may_see_item
from coordination.clock import now
from coordination.concerns.models import Concern
from coordination.consent_view import AreaChip, ChildHeading, area_chips
from coordination.database import db
from coordination.models import Custody, Guardian, RoleAssignment
from coordination.teams.models import Meeting, MeetingAttendee, MeetingDecision, TeamFamilyInvitation, TeamMember
from coordination.teams.operations import PURPOSE, child_may_be_invited, is_keeper, local_date

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


def _own_agency_id(access: ChildAccess) -> int:
    own = access.actor.acting_agency
    assert own is not None
    return own.id


def may_see_meeting(access: ChildAccess, meeting: Meeting) -> bool:
    return bool(may_see_item(access, meeting.agency_id, PURPOSE, meeting.area_codes))


def _assignments(child_id: int) -> list[RoleAssignment]:
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


def _keeper(assignments: list[RoleAssignment]) -> RoleAssignment | None:
    return next((a for a in assignments if a.role == "support_coordinator"), None) or next(
        (a for a in assignments if a.role == "child_contact"), None
    )


# -- view models -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PersonLine:
    """A member of staff as the viewer may see them: ``name`` None when withheld (protected identity)."""

    name: str | None
    title: str | None
    agency: str | None
    unit: str | None
    phone: str | None
    email: str | None


@dataclass(frozen=True)
class MemberLine:
    public_id: str
    person: PersonLine
    role_note: str | None
    is_own_agency: bool
    is_me: bool


@dataclass(frozen=True)
class FamilyLine:
    name: object
    is_child: bool
    invited_on: date


@dataclass(frozen=True)
class MeetingLine:
    public_id: str
    url: str
    starts_at: datetime
    ends_at: datetime
    place: str | None  # None: withheld (protected identity)
    state: str
    state_label: object
    areas: tuple[AreaChip, ...]
    decisions: int


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass
class TeamView:
    child: ChildHeading
    keeper_role: object | None
    keeper: PersonLine | None
    is_keeper: bool
    my_member_id: str | None
    members: list[MemberLine]
    members_withheld: str | None
    family: list[FamilyLine]
    family_withheld: str | None
    upcoming: list[MeetingLine]
    past: list[MeetingLine]
    meetings_withheld: str | None
    person_withheld: str | None  # PROTECTED when names, units and places are withheld from this viewer
    # for the plan keeper only
    candidates: list[Choice] = field(default_factory=list)
    not_offered: list[str] = field(default_factory=list)
    not_offered_hidden: bool = False
    invitees: list[Choice] = field(default_factory=list)


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


def _meeting_state(meeting: Meeting, moment: datetime) -> str:
    if meeting.state == "planned" and meeting.starts_at <= moment:
        return "awaiting_outcome"
    return meeting.state


def meeting_url(child_public_id: str, meeting: Meeting) -> str:
    return url_for("teams.meeting", child_id=child_public_id, meeting_id=meeting.public_id)


def build_team_view(access: ChildAccess, *, with_keeper_choices: bool = True) -> TeamView:
    """The Team tab for one viewer."""
    actor, child = access.actor, access.child
    own_id = _own_agency_id(access)
    protected = child.has_protected_identity and not in_team(access)
    consented = team_consent(access)
    assignments = _assignments(child.id)
    keeper = _keeper(assignments)
    viewer_is_keeper = is_keeper(actor, keeper)

    keeper_line = None
    if keeper is not None:
        keeper_line = person_line(
            keeper.staff_person,
            keeper.agency,
            None,
            protected=protected,
            show_agency=keeper.agency_id == own_id or consented,
        )

    members: list[MemberLine] = []
    members_withheld: str | None = None
    my_member_id: str | None = None
    rows = db.session.scalars(
        select(TeamMember)
        .where(TeamMember.child_id == child.id, TeamMember.ended_at.is_(None))
        .options(joinedload(TeamMember.staff_person), joinedload(TeamMember.agency), joinedload(TeamMember.unit))
        .order_by(TeamMember.joined_at, TeamMember.id)
    ).all()
    me = actor.account.staff_person_id
    for member in rows:
        is_me = member.staff_person_id == me and member.agency_id == own_id
        if is_me:
            my_member_id = member.public_id
        if member.agency_id != own_id and not consented:
            members_withheld = WITHHELD_NO_CONSENT
            continue
        members.append(
            MemberLine(
                public_id=member.public_id,
                person=person_line(member.staff_person, member.agency, member.unit, protected=protected),
                role_note=None if protected else member.role_note,
                is_own_agency=member.agency_id == own_id,
                is_me=is_me,
            )
        )

    # The family's invitations are the plan keeper's record: others see them through team-meeting consent.
    family: list[FamilyLine] = []
    family_withheld: str | None = None
    keeper_agency = keeper.agency_id if keeper is not None else None
    invitations = db.session.scalars(
        select(TeamFamilyInvitation)
        .where(TeamFamilyInvitation.child_id == child.id, TeamFamilyInvitation.ended_at.is_(None))
        .options(joinedload(TeamFamilyInvitation.guardian))
        .order_by(TeamFamilyInvitation.invited_at, TeamFamilyInvitation.id)
    ).all()
    if invitations and keeper_agency != own_id and not consented:
        family_withheld = WITHHELD_NO_CONSENT
    else:
        for invitation in invitations:
            name: object = (
                child.given_name
                if invitation.is_child
                else (invitation.guardian.full_name if invitation.guardian is not None else "")
            )
            family.append(FamilyLine(name, invitation.is_child, local_date(invitation.invited_at)))

    upcoming: list[MeetingLine] = []
    past: list[MeetingLine] = []
    meetings_withheld: str | None = None
    moment = now()
    meetings = db.session.scalars(
        select(Meeting)
        .where(Meeting.child_id == child.id)
        .options(selectinload(Meeting.areas), selectinload(Meeting.decisions).load_only(MeetingDecision.id))
        .order_by(Meeting.starts_at, Meeting.id)
    ).all()
    for meeting in meetings:
        if not may_see_meeting(access, meeting):
            meetings_withheld = WITHHELD_NO_CONSENT
            continue
        state = _meeting_state(meeting, moment)
        line = MeetingLine(
            public_id=meeting.public_id,
            url=meeting_url(child.public_id, meeting),
            starts_at=meeting.starts_at,
            ends_at=meeting.ends_at,
            place=None if protected else meeting.place,
            state=state,
            state_label=STATE_LABELS[state],
            areas=area_chips(meeting.area_codes),
            decisions=len(meeting.decisions),
        )
        (upcoming if state == "planned" else past).append(line)
    past.reverse()  # newest first

    view = TeamView(
        child=ChildHeading.of(access),
        keeper_role=KEEPER_LABELS[keeper.role] if keeper is not None else None,
        keeper=keeper_line,
        is_keeper=viewer_is_keeper,
        my_member_id=my_member_id,
        members=members,
        members_withheld=members_withheld,
        family=family,
        family_withheld=family_withheld,
        upcoming=upcoming,
        past=past,
        meetings_withheld=meetings_withheld,
        person_withheld=PROTECTED if protected else None,
    )
    if viewer_is_keeper and with_keeper_choices:
        _keeper_choices(access, view, {m.staff_person_id for m in rows})
    return view


def _keeper_choices(access: ChildAccess, view: TeamView, on_team: set[int]) -> None:
    """The member picker and the family invitation choices (the plan keeper only)."""
    view.candidates, view.not_offered, view.not_offered_hidden = member_candidates(access, on_team)
    view.invitees = family_invitees(access)


def member_candidates(access: ChildAccess, on_team: set[int]) -> tuple[list[Choice], list[str], bool]:
    """Active practitioners (current membership, active person) of agencies whose consent for team
    meetings is in effect, not already on the team; value "<person public id>.<unit public id>".

    Which agencies hold consent is itself cross-agency information (RULES.md §4): other agencies are
    offered — and the ones not offered named — only while the keeper's own agency holds a consent for
    team meetings or coordination. Returns (choices, agencies not offered, whether that list is hidden)."""
    own_id = _own_agency_id(access)
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


# -- one meeting --------------------------------------------------------------------------------------------
def meeting_or_404(access: ChildAccess, meeting_id: str, action: str) -> Meeting:
    """A meeting of THIS child that the viewer may see (own agency's, or through team-meeting consent
    covering its areas); anything else is 404, audited either way."""
    wanted = (meeting_id or "")[:64]
    meeting = db.session.scalar(
        select(Meeting)
        .where(Meeting.public_id == wanted, Meeting.child_id == access.child.id)
        .options(selectinload(Meeting.areas))
    )
    reason = None
    if meeting is None:
        reason = "not_this_childs_meeting"
    elif not may_see_meeting(access, meeting):
        reason = WITHHELD_NO_CONSENT
    if reason is not None:
        audit.note_denied(
            access.actor.audit_actor(),
            action,
            child_id=access.child.id,
            object_type="meeting",
            object_id=wanted,
            detail={"reason": reason},
        )
        abort(404)
    assert meeting is not None
    audit.note_read(
        access.actor.audit_actor(),
        action,
        child_id=access.child.id,
        object_type="meeting",
        object_id=meeting.public_id,
        legal_basis=access.legal_basis,
    )
    return meeting


@dataclass(frozen=True)
class AttendeeLine:
    name: object | None  # None: withheld
    agency: str | None
    kind: str  # staff, guardian, child


@dataclass(frozen=True)
class DecisionLine:
    public_id: str
    text: str
    areas: tuple[AreaChip, ...]
    owner_agency: str | None
    owner_unit: str | None
    owner_person: str | None
    due_on: date | None
    is_draft_action: bool
    withheld: str | None


@dataclass
class MeetingView:
    child: ChildHeading
    public_id: str
    version: int
    starts_at: datetime
    ends_at: datetime
    place: str | None
    agenda: str | None
    areas: tuple[AreaChip, ...]
    state: str
    state_label: object
    cancel_reason: str | None
    convened_by: str | None
    attendees: list[AttendeeLine]
    child_views: str | None
    family_views: str | None
    disagreements: str | None
    notes: str | None
    decisions: list[DecisionLine]
    decisions_withheld: str | None
    person_withheld: str | None
    is_keeper: bool
    may_reschedule: bool
    may_cancel: bool
    may_record: bool


def build_meeting_view(access: ChildAccess, meeting: Meeting) -> MeetingView:
    """One meeting for one viewer (the meeting itself is visible: ``meeting_or_404``)."""
    actor, child = access.actor, access.child
    own_id = _own_agency_id(access)
    protected = child.has_protected_identity and not in_team(access)
    consented = team_consent(access)
    assignments = _assignments(child.id)
    viewer_is_keeper = is_keeper(actor, _keeper(assignments))
    attendees_rows = db.session.scalars(
        select(MeetingAttendee)
        .where(MeetingAttendee.meeting_id == meeting.id)
        .options(
            joinedload(MeetingAttendee.staff_person),
            joinedload(MeetingAttendee.agency),
            joinedload(MeetingAttendee.guardian),
        )
        .order_by(MeetingAttendee.id)
    ).all()
    attendees: list[AttendeeLine] = []
    for row in attendees_rows:
        if row.is_child:
            attendees.append(AttendeeLine(child.given_name, None, "child"))
        elif row.guardian is not None:
            attendees.append(AttendeeLine(row.guardian.full_name, None, "guardian"))
        elif row.staff_person is not None:
            other = row.agency_id != own_id
            if other and not consented:
                continue  # another agency's person: team information under consent
            attendees.append(
                AttendeeLine(
                    None if protected else row.staff_person.full_name, row.agency.name if row.agency else None, "staff"
                )
            )
    decisions: list[DecisionLine] = []
    decisions_withheld: str | None = None
    rows = db.session.scalars(
        select(MeetingDecision)
        .where(MeetingDecision.meeting_id == meeting.id)
        .options(
            selectinload(MeetingDecision.areas),
            joinedload(MeetingDecision.owner_agency),
            joinedload(MeetingDecision.owner_unit),
            joinedload(MeetingDecision.owner_person),
        )
        .order_by(MeetingDecision.id)
    ).all()
    for decision in rows:
        # A decision is the keeper's record in the meeting's agency; others see it through team-meeting
        # consent covering its areas (the meeting's notes are team information).
        if not may_see_item(access, meeting.agency_id, PURPOSE, decision.area_codes):
            decisions_withheld = WITHHELD_NO_CONSENT
            continue
        decisions.append(
            DecisionLine(
                public_id=decision.public_id,
                text=decision.text,
                areas=area_chips(decision.area_codes),
                owner_agency=decision.owner_agency.name if decision.owner_agency else None,
                owner_unit=None if protected or decision.owner_unit is None else decision.owner_unit.name,
                owner_person=None if protected or decision.owner_person is None else decision.owner_person.full_name,
                due_on=decision.due_on,
                is_draft_action=decision.is_draft_action,
                withheld=PROTECTED if protected and (decision.owner_unit_id or decision.owner_person_id) else None,
            )
        )
    state = _meeting_state(meeting, now())
    return MeetingView(
        child=ChildHeading.of(access),
        public_id=meeting.public_id,
        version=meeting.version,
        starts_at=meeting.starts_at,
        ends_at=meeting.ends_at,
        place=None if protected else meeting.place,
        agenda=meeting.agenda,
        areas=area_chips(meeting.area_codes),
        state=state,
        state_label=STATE_LABELS[state],
        cancel_reason=meeting.cancel_reason,
        convened_by=meeting.agency.name if meeting.agency_id == own_id or consented else None,
        attendees=attendees,
        child_views=meeting.child_views,
        family_views=meeting.family_views,
        disagreements=meeting.disagreements,
        notes=meeting.notes,
        decisions=decisions,
        decisions_withheld=decisions_withheld,
        person_withheld=PROTECTED if protected else None,
        is_keeper=viewer_is_keeper,
        may_reschedule=viewer_is_keeper and state == "planned",
        may_cancel=viewer_is_keeper and meeting.state == "planned",
        may_record=viewer_is_keeper and state == "awaiting_outcome",
    )


# -- choices for the keeper's forms ----------------------------------------------------------------------
@dataclass
class OutcomeChoices:
    attendees: list[Choice]
    agencies: list[Choice]
    units: list[Choice]
    persons: list[Choice]
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
    from coordination.teams.operations import attendee_staff, decision_owner_agency_ids, invited_guardian_ids
    from coordination.teams.operations import plan_keeper as find_keeper

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
            select(Unit, Agency.name)
            .join(Agency, Agency.id == Unit.agency_id)
            .where(Unit.agency_id.in_(list(owner_ids)))
            .order_by(Agency.name, Unit.name)
        ).all()
        if owner_ids
        else []
    )
    persons = (
        db.session.execute(
            select(StaffPerson, Agency.name)
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
    for person, agency_name in persons:
        if person.public_id in seen_persons:
            continue
        seen_persons[person.public_id] = person.id
        person_choices.append(Choice(person.public_id, f"{person.full_name} – {agency_name}"))
    return OutcomeChoices(
        attendees=attendees,
        agencies=[Choice(a.public_id, a.name) for a in agencies],
        units=[Choice(u.public_id, f"{u.name} – {agency_name}") for u, agency_name in units],
        persons=person_choices,
        staff_ids=staff_ids,
        guardian_ids=guardian_ids,
        agency_ids={a.public_id: a.id for a in agencies},
        unit_ids={u.public_id: u.id for u, _name in units},
        person_ids=seen_persons,
    )


# -- the agenda -------------------------------------------------------------------------------------------
def open_concern_areas(access: ChildAccess) -> list[str]:
    """The Needs Compass areas of the child's open concerns that the viewer may see (own agency's, or
    another agency's through coordination consent covering its areas), in compass order."""
    own_id = _own_agency_id(access)
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
