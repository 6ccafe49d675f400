"""The Team tab for one viewer: the plan keeper, the members, the invited family and the meetings, each
withheld with a reason where the viewer may not see it; for the plan keeper also the member picker and
the family invitation choices. Loaded in a fixed number of statements however many members or meetings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from coordination.access import WITHHELD_NO_CONSENT, ChildAccess, is_keeper
from coordination.clock import now
from coordination.consent.view import AreaChip, ChildHeading, area_chips
from coordination.database import db
from coordination.teams.access.choices import Choice, family_invitees, member_candidates
from coordination.teams.access.common import (
    KEEPER_LABELS,
    PROTECTED,
    STATE_LABELS,
    PersonLine,
    in_team,
    keeper_assignments,
    keeper_of,
    may_see_meeting,
    meeting_state,
    meeting_url,
    own_agency_id,
    person_line,
    team_consent,
)
from coordination.teams.models import Meeting, MeetingDecision, TeamFamilyInvitation, TeamMember
from coordination.teams.operations import local_date


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
    # which of the lists holds a meeting withheld from this viewer: an empty list then says "withheld", not
    # "no meeting is planned" (issue 16)
    upcoming_withheld: bool = False
    past_withheld: bool = False
    # only the Child Contact records consent (the Consent tab's forms: get_child_as_child_contact_or_404);
    # a Support Coordinator keeping the plan is sent to the Child Contact instead (issue 16)
    may_record_consent: bool = False
    # for the plan keeper only
    candidates: list[Choice] = field(default_factory=list)
    not_offered: list[str] = field(default_factory=list)
    not_offered_hidden: bool = False
    invitees: list[Choice] = field(default_factory=list)


def build_team_view(access: ChildAccess, *, with_keeper_choices: bool = True) -> TeamView:
    """The Team tab for one viewer."""
    actor, child = access.actor, access.child
    own_id = own_agency_id(access)
    protected = child.has_protected_identity and not in_team(access)
    consented = team_consent(access)
    assignments = keeper_assignments(child.id)
    keeper = keeper_of(assignments)
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
    upcoming_withheld = past_withheld = False
    for meeting in meetings:
        state = meeting_state(meeting, moment)
        if not may_see_meeting(access, meeting):
            meetings_withheld = WITHHELD_NO_CONSENT
            if state == "planned":
                upcoming_withheld = True
            else:
                past_withheld = True
            continue
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
        upcoming_withheld=upcoming_withheld,
        past_withheld=past_withheld,
        may_record_consent=access.has_relation("child_contact"),
        person_withheld=PROTECTED if protected else None,
    )
    if viewer_is_keeper and with_keeper_choices:
        _keeper_choices(access, view, {m.staff_person_id for m in rows})
    return view


def _keeper_choices(access: ChildAccess, view: TeamView, on_team: set[int]) -> None:
    """The member picker and the family invitation choices (the plan keeper only)."""
    view.candidates, view.not_offered, view.not_offered_hidden = member_candidates(access, on_team)
    view.invitees = family_invitees(access)
