"""Every write to a child's own team (Barnets eget team) and its meetings (RULES.md §3 "team meetings",
§4, §7). ``verb_noun(actor, child, ..., data)``: everything is validated before the session is touched,
so a refusal (``OperationError(message, field)``) writes nothing; each write flushes, is audited in the
same transaction (``record_write``, on the plan keeper's relation), lands in the chronology
(``record_event``) and sends its signal (``coordination.events``); the caller commits once. "Now" comes
from the app clock.

Who may do what: the **plan keeper** (the child's current Support Coordinator, otherwise the Child
Contact, acting for the agency of that assignment) adds and removes members, invites the family and
proposes, reschedules, cancels and records meetings. A member may leave the team themself. Views check
this first (404 for anyone else); the operations check it again.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select, update

from agencies.models import Membership, StaffPerson, Unit
from childplan.compass import AREA_CODES
from coordination import events
from coordination.access import consent_picture
from coordination.audit import record_write, refusals_audited
from coordination.chronology.record import record_event
from coordination.clock import current_clock, now, today
from coordination.consent import maturity_min_age
from coordination.consent.common import _
from coordination.database import db
from coordination.errors import OperationError
from coordination.models import Child, Custody, MaturityAssessment, RoleAssignment, age_in_years
from coordination.teams.models import (
    TEAM_TEXT_MAX,
    DecisionArea,
    Meeting,
    MeetingArea,
    MeetingAttendee,
    MeetingDecision,
    TeamFamilyInvitation,
    TeamMember,
)

PURPOSE = "team_meetings"
PLACE_MAX = 300
CANCEL_REASON_MAX = 1000
ROLE_NOTE_MAX = 200
MAX_DECISIONS = 20
KEEPER_BASES = {"support_coordinator": "relation_support_coordinator", "child_contact": "relation_child_contact"}


class StaleVersion(OperationError):
    """Someone changed the meeting since the form was shown (optimistic locking): the view answers 409."""


# -- the plan keeper ------------------------------------------------------------------------------------------
def plan_keeper(child_id: int) -> RoleAssignment | None:
    """The child's current Support Coordinator, otherwise the Child Contact (one statement)."""
    rows = db.session.scalars(
        select(RoleAssignment).where(
            RoleAssignment.child_id == child_id,
            RoleAssignment.ended_at.is_(None),
            RoleAssignment.role.in_(tuple(KEEPER_BASES)),
        )
    ).all()
    return next((r for r in rows if r.role == "support_coordinator"), None) or next(
        (r for r in rows if r.role == "child_contact"), None
    )


def is_keeper(actor, keeper: RoleAssignment | None) -> bool:  # type: ignore[no-untyped-def]
    return (
        keeper is not None
        and getattr(actor, "kind", None) == "staff"
        and actor.acting_agency is not None
        and keeper.staff_person_id == actor.account.staff_person_id
        and keeper.agency_id == actor.acting_agency.id
    )


def _keeper_or_refuse(actor, child: Child) -> RoleAssignment:  # type: ignore[no-untyped-def]
    keeper = plan_keeper(child.id)
    if keeper is None or not is_keeper(actor, keeper):
        raise OperationError(_("Only the plan keeper can do this"), "form")
    return keeper


def _text(value: str | None, field_name: str, maximum: int, *, required: bool = False, message: str = "") -> str | None:
    cleaned = (value or "").strip() or None
    if cleaned is None and required:
        raise OperationError(message or _("This field is required"), field_name)
    if cleaned is not None and len(cleaned) > maximum:
        raise OperationError(_("Write at most %(max)d characters", max=maximum), field_name)
    return cleaned


def _areas(values: Collection[str] | None, field_name: str = "areas") -> list[str]:
    chosen = set(values or ())
    if not chosen <= set(AREA_CODES):
        raise OperationError(_("Unknown area"), field_name)
    return [code for code in AREA_CODES if code in chosen]


def local_date(moment: datetime) -> date:
    return moment.astimezone(current_clock().zone).date()


def current_members(child_id: int) -> list[TeamMember]:
    return list(
        db.session.scalars(select(TeamMember).where(TeamMember.child_id == child_id, TeamMember.ended_at.is_(None)))
    )


# -- members --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MemberData:
    staff_person_id: int
    unit_id: int  # the unit the person is added from (and so their agency)
    role_note: str | None = None


@refusals_audited("add_team_member")
def add_team_member(actor, child: Child, data: MemberData) -> TeamMember:  # type: ignore[no-untyped-def]
    """Add a practitioner of an agency whose consent for team meetings is in effect. Refused (field
    "member"): no such current practitioner membership, a deactivated person, no consent for team
    meetings for their agency, someone already on the team."""
    keeper = _keeper_or_refuse(actor, child)
    note = _text(data.role_note, "role_note", ROLE_NOTE_MAX)
    membership = db.session.scalar(
        select(Membership).where(
            Membership.staff_person_id == data.staff_person_id,
            Membership.unit_id == data.unit_id,
            Membership.ended_at.is_(None),
            Membership.is_practitioner.is_(True),
        )
    )
    if membership is None:
        raise OperationError(_("Choose a practitioner from the list"), "member")
    person = db.session.get(StaffPerson, data.staff_person_id)
    if person is None or not person.is_active:
        raise OperationError(_("That person's account is deactivated: choose someone else"), "member")
    if not consent_picture(child).areas_for(membership.agency_id, PURPOSE):
        raise OperationError(
            _("That agency has no consent for team meetings: record the consent with the family first"), "member"
        )
    if any(m.staff_person_id == person.id for m in current_members(child.id)):
        raise OperationError(_("That person is already on the team"), "member")
    moment = now()
    member = TeamMember(
        child_id=child.id,
        staff_person_id=person.id,
        agency_id=membership.agency_id,
        unit_id=membership.unit_id,
        role_note=note,
        added_by_id=actor.account.staff_person_id,
        joined_at=moment,
    )
    db.session.add(member)
    db.session.flush()
    record_write(
        actor.audit_actor(),
        "add_team_member",
        child_id=child.id,
        object_type="team_member",
        object_id=member.public_id,
        legal_basis=KEEPER_BASES[keeper.role],
        detail={"agency_id": member.agency_id, "staff_person_id": person.id},
    )
    # No names in the summary: staff names are protected for a child with protected identity (RULES.md §7).
    record_event(
        child.id,
        "team_member_added",
        owner_agency_id=keeper.agency_id,
        audience="team",
        author_person_id=actor.account.staff_person_id,
        object_type="team_member",
        object_public_id=member.public_id,
    )
    events.team_member_added.send(None, member=member)
    return member


def _end_member(actor, child: Child, member: TeamMember, reason: str, basis: str, owner_agency_id: int) -> None:  # type: ignore[no-untyped-def]
    if member.child_id != child.id:
        raise OperationError(_("That person is not on the team"), "member")
    if member.ended_at is not None:
        raise OperationError(_("That person has already left the team"), "member")
    member.ended_at = now()
    member.end_reason = reason
    member.ended_by_id = actor.account.staff_person_id
    db.session.flush()
    record_write(
        actor.audit_actor(),
        "remove_team_member" if reason == "removed" else "leave_team",
        child_id=child.id,
        object_type="team_member",
        object_id=member.public_id,
        legal_basis=basis,
        detail={"agency_id": member.agency_id, "reason": reason},
    )
    record_event(
        child.id,
        "team_member_left",
        owner_agency_id=owner_agency_id,
        audience="team",
        author_person_id=actor.account.staff_person_id,
        object_type="team_member",
        object_public_id=member.public_id,
    )


@refusals_audited("remove_team_member")
def remove_team_member(actor, child: Child, member: TeamMember) -> None:  # type: ignore[no-untyped-def]
    """The plan keeper removes a member: the relation ends, so the member loses access on the next request."""
    keeper = _keeper_or_refuse(actor, child)
    _end_member(actor, child, member, "removed", KEEPER_BASES[keeper.role], keeper.agency_id)


@refusals_audited("leave_team")
def leave_team(actor, child: Child, member: TeamMember) -> None:  # type: ignore[no-untyped-def]
    """A member leaves the team themself (only their own membership, for the agency they act for)."""
    if member.staff_person_id != actor.account.staff_person_id or member.agency_id != actor.acting_agency.id:
        raise OperationError(_("You can only leave the team yourself"), "member")
    keeper = plan_keeper(child.id)
    _end_member(actor, child, member, "left", "relation_team", keeper.agency_id if keeper else member.agency_id)


# -- the family -------------------------------------------------------------------------------------------------
def child_may_be_invited(child: Child) -> bool:
    """The child from the configured maturity age, or whenever a maturity assessment exists."""
    age = age_in_years(child.birth_date, today())
    if age is not None and age >= maturity_min_age():
        return True
    return db.session.scalar(select(MaturityAssessment.id).where(MaturityAssessment.child_id == child.id)) is not None


@refusals_audited("invite_family")
def invite_family(actor, child: Child, guardian_id: int | None) -> TeamFamilyInvitation:  # type: ignore[no-untyped-def]
    """Invite a guardian with current custody (``guardian_id``), or the child (None) by age or maturity."""
    keeper = _keeper_or_refuse(actor, child)
    if guardian_id is not None:
        custody = db.session.scalar(
            select(Custody.id).where(
                Custody.child_id == child.id, Custody.guardian_id == guardian_id, Custody.ended_at.is_(None)
            )
        )
        if custody is None:
            raise OperationError(_("Only a guardian with custody of the child can be invited"), "invitee")
        existing = db.session.scalar(
            select(TeamFamilyInvitation).where(
                TeamFamilyInvitation.child_id == child.id, TeamFamilyInvitation.guardian_id == guardian_id
            )
        )
    else:
        if not child_may_be_invited(child):
            raise OperationError(
                _(
                    "The child can be invited from the age of %(age)d, or when staff have recorded that they are "
                    "mature enough",
                    age=maturity_min_age(),
                ),
                "invitee",
            )
        existing = db.session.scalar(
            select(TeamFamilyInvitation).where(
                TeamFamilyInvitation.child_id == child.id, TeamFamilyInvitation.is_child.is_(True)
            )
        )
    if existing is not None and existing.ended_at is None:
        raise OperationError(_("Already invited"), "invitee")
    moment = now()
    if existing is not None:
        invitation = existing
        invitation.ended_at = None
        invitation.invited_at = moment
        invitation.invited_by_id = actor.account.staff_person_id
    else:
        invitation = TeamFamilyInvitation(
            child_id=child.id,
            guardian_id=guardian_id,
            is_child=guardian_id is None,
            invited_by_id=actor.account.staff_person_id,
            invited_at=moment,
        )
        db.session.add(invitation)
    db.session.flush()
    record_write(
        actor.audit_actor(),
        "invite_family",
        child_id=child.id,
        object_type="team_family_invitation",
        object_id=str(invitation.id),
        legal_basis=KEEPER_BASES[keeper.role],
        detail={"guardian_id": guardian_id, "child": guardian_id is None},
    )
    record_event(
        child.id,
        "family_invited",
        owner_agency_id=keeper.agency_id,
        audience="team",
        author_person_id=actor.account.staff_person_id,
    )
    return invitation


# -- meetings ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MeetingData:
    starts_at: datetime | None
    ends_at: datetime | None
    place: str | None
    agenda: str | None = None
    areas: Collection[str] = ()


def _check_times(starts_at: datetime | None, ends_at: datetime | None) -> None:
    if starts_at is None:
        raise OperationError(_("Enter when the meeting starts"), "starts_at")
    if ends_at is None:
        raise OperationError(_("Enter when the meeting ends"), "ends_at")
    if starts_at <= now():
        raise OperationError(_("The meeting must start in the future"), "starts_at")
    if ends_at <= starts_at:
        raise OperationError(_("The meeting must end after it starts"), "ends_at")


def _place(value: str | None) -> str:
    place = _text(value, "place", PLACE_MAX, required=True, message=_("Enter where the meeting is held"))
    assert place is not None
    return place


@refusals_audited("propose_meeting")
def propose_meeting(actor, child: Child, data: MeetingData) -> Meeting:  # type: ignore[no-untyped-def]
    keeper = _keeper_or_refuse(actor, child)
    _check_times(data.starts_at, data.ends_at)
    place = _place(data.place)
    agenda = _text(data.agenda, "agenda", TEAM_TEXT_MAX)
    areas = _areas(data.areas)
    assert data.starts_at is not None and data.ends_at is not None
    moment = now()
    meeting = Meeting(
        child_id=child.id,
        agency_id=keeper.agency_id,
        proposed_by_id=actor.account.staff_person_id,
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        place=place,
        agenda=agenda,
        state="planned",
        version=1,
        created_at=moment,
        changed_at=moment,
        areas=[MeetingArea(area=code) for code in areas],
    )
    db.session.add(meeting)
    db.session.flush()
    _audit_meeting(actor, keeper, meeting, "propose_meeting")
    # Never the place in a chronology summary (RULES.md §7).
    record_event(
        child.id,
        "meeting_proposed",
        owner_agency_id=keeper.agency_id,
        audience="team",
        areas=areas,
        author_person_id=actor.account.staff_person_id,
        object_type="meeting",
        object_public_id=meeting.public_id,
    )
    events.meeting_changed.send(None, meeting=meeting, change="proposed")
    return meeting


def _audit_meeting(actor, keeper: RoleAssignment, meeting: Meeting, action: str, **detail: object) -> None:  # type: ignore[no-untyped-def]
    record_write(
        actor.audit_actor(),
        action,
        child_id=meeting.child_id,
        object_type="meeting",
        object_id=meeting.public_id,
        legal_basis=KEEPER_BASES[keeper.role],
        detail={"version": meeting.version, **detail},
    )


def _claim_version(meeting: Meeting, version: int | None) -> None:
    """Optimistic locking: the form's version must be the meeting's; the bump is one conditional UPDATE,
    so two editors of the same version cannot both win."""
    if version is None or version != meeting.version:
        raise StaleVersion(_("Someone changed this meeting after you opened it. Check it and try again."), "form")
    result = db.session.execute(
        update(Meeting)
        .where(Meeting.id == meeting.id, Meeting.version == version)
        .values(version=version + 1, changed_at=now())
        .execution_options(synchronize_session="fetch")
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise StaleVersion(_("Someone changed this meeting after you opened it. Check it and try again."), "form")


def _meeting_of(child: Child, meeting: Meeting) -> None:
    if meeting.child_id != child.id:
        raise OperationError(_("That meeting is not this child's"), "form")


@refusals_audited("reschedule_meeting")
def reschedule_meeting(actor, child: Child, meeting: Meeting, version: int | None, data: MeetingData) -> None:  # type: ignore[no-untyped-def]
    """A planned meeting gets a new (future) time, and a new place if given."""
    keeper = _keeper_or_refuse(actor, child)
    _meeting_of(child, meeting)
    if meeting.state != "planned":
        raise OperationError(_("Only a planned meeting can be rescheduled"), "form")
    _check_times(data.starts_at, data.ends_at)
    place = _place(data.place) if data.place is not None else meeting.place
    _claim_version(meeting, version)
    assert data.starts_at is not None and data.ends_at is not None
    meeting.starts_at = data.starts_at
    meeting.ends_at = data.ends_at
    meeting.place = place
    db.session.flush()
    _audit_meeting(actor, keeper, meeting, "reschedule_meeting")
    record_event(
        child.id,
        "meeting_rescheduled",
        owner_agency_id=keeper.agency_id,
        audience="team",
        areas=meeting.area_codes,
        author_person_id=actor.account.staff_person_id,
        object_type="meeting",
        object_public_id=meeting.public_id,
    )
    events.meeting_changed.send(None, meeting=meeting, change="rescheduled")


@refusals_audited("cancel_meeting")
def cancel_meeting(actor, child: Child, meeting: Meeting, version: int | None, reason: str | None) -> None:  # type: ignore[no-untyped-def]
    keeper = _keeper_or_refuse(actor, child)
    _meeting_of(child, meeting)
    if meeting.state != "planned":
        raise OperationError(_("Only a planned meeting can be cancelled"), "form")
    cleaned = _text(reason, "reason", CANCEL_REASON_MAX, required=True, message=_("Say why the meeting is cancelled"))
    _claim_version(meeting, version)
    meeting.state = "cancelled"
    meeting.cancel_reason = cleaned
    db.session.flush()
    _audit_meeting(actor, keeper, meeting, "cancel_meeting")
    record_event(
        child.id,
        "meeting_cancelled",
        owner_agency_id=keeper.agency_id,
        audience="team",
        areas=meeting.area_codes,
        author_person_id=actor.account.staff_person_id,
        object_type="meeting",
        object_public_id=meeting.public_id,
    )
    events.meeting_changed.send(None, meeting=meeting, change="cancelled")


@dataclass(frozen=True)
class DecisionData:
    text: str | None
    areas: Collection[str] = ()
    owner_agency_id: int | None = None
    owner_unit_id: int | None = None
    owner_person_id: int | None = None
    due_on: date | None = None


@dataclass(frozen=True)
class OutcomeData:
    staff_person_ids: Collection[int] = ()
    guardian_ids: Collection[int] = ()
    child_attended: bool = False
    child_views: str | None = None
    family_views: str | None = None
    disagreements: str | None = None
    notes: str | None = None
    decisions: list[DecisionData] = field(default_factory=list)


def decision_owner_agency_ids(child_id: int, keeper: RoleAssignment) -> set[int]:
    """Agencies a decision may be owned by: those with a current team member, and the keeper's own."""
    return {m.agency_id for m in current_members(child_id)} | {keeper.agency_id}


def attendee_staff(child_id: int) -> dict[int, int]:
    """Staff who may be recorded as attending (person id → agency id): the current members and the
    Child Contact and Support Coordinator."""
    found: dict[int, int] = {m.staff_person_id: m.agency_id for m in current_members(child_id)}
    for row in db.session.scalars(
        select(RoleAssignment).where(
            RoleAssignment.child_id == child_id,
            RoleAssignment.ended_at.is_(None),
            RoleAssignment.role.in_(tuple(KEEPER_BASES)),
        )
    ):
        found.setdefault(row.staff_person_id, row.agency_id)
    return found


def invited_guardian_ids(child_id: int) -> set[int]:
    return {
        guardian_id
        for guardian_id in db.session.scalars(
            select(TeamFamilyInvitation.guardian_id).where(
                TeamFamilyInvitation.child_id == child_id,
                TeamFamilyInvitation.ended_at.is_(None),
                TeamFamilyInvitation.guardian_id.is_not(None),
            )
        )
        if guardian_id is not None
    }


def _check_decision(index: int, decision: DecisionData, owners: set[int], meeting_day: date) -> tuple[str, list[str]]:
    prefix = f"decisions-{index}-"
    text = _text(decision.text, prefix + "text", TEAM_TEXT_MAX, required=True, message=_("Write the decision"))
    assert text is not None
    areas = _areas(decision.areas, prefix + "areas")
    if decision.owner_agency_id is None:
        if decision.owner_unit_id is not None or decision.owner_person_id is not None:
            raise OperationError(_("Choose the agency that owns the action first"), prefix + "owner_agency")
    elif decision.owner_agency_id not in owners:
        raise OperationError(
            _("The owner must be an agency on the team, or the plan keeper's own"), prefix + "owner_agency"
        )
    if decision.owner_unit_id is not None:
        unit_agency = db.session.scalar(select(Unit.agency_id).where(Unit.id == decision.owner_unit_id))
        if unit_agency != decision.owner_agency_id:
            raise OperationError(_("Choose a unit of the owning agency"), prefix + "owner_unit")
    if decision.owner_person_id is not None:
        conditions = [
            Membership.staff_person_id == decision.owner_person_id,
            Membership.agency_id == decision.owner_agency_id,
            Membership.ended_at.is_(None),
        ]
        if decision.owner_unit_id is not None:
            conditions.append(Membership.unit_id == decision.owner_unit_id)
        active = db.session.scalar(
            select(StaffPerson.is_active)
            .join(Membership, Membership.staff_person_id == StaffPerson.id)
            .where(*conditions)
            .limit(1)
        )
        if not active:
            raise OperationError(
                _("Choose an active member of staff of the owning agency (and unit)"), prefix + "owner_person"
            )
    if decision.due_on is not None and decision.due_on < meeting_day:
        raise OperationError(_("The due date cannot be before the meeting"), prefix + "due_on")
    return text, areas


@refusals_audited("record_meeting_outcome")
def record_meeting_outcome(actor, child: Child, meeting: Meeting, version: int | None, data: OutcomeData) -> None:  # type: ignore[no-untyped-def]
    """Record a meeting that has started: who attended, the child's and family's views, disagreements,
    notes and decisions (each with areas, optionally an owner and a due date: a draft action)."""
    keeper = _keeper_or_refuse(actor, child)
    _meeting_of(child, meeting)
    if meeting.state == "cancelled":
        raise OperationError(_("The meeting was cancelled"), "form")
    if meeting.state == "held":
        raise OperationError(_("The outcome of this meeting is already recorded"), "form")
    if meeting.starts_at > now():
        raise OperationError(_("The outcome can be recorded once the meeting has started"), "form")
    texts = {
        name: _text(getattr(data, name), name, TEAM_TEXT_MAX)
        for name in ("child_views", "family_views", "disagreements", "notes")
    }
    staff = attendee_staff(child.id)
    if not set(data.staff_person_ids) <= set(staff):
        raise OperationError(_("Choose attendees from the team"), "attendees")
    if not set(data.guardian_ids) <= invited_guardian_ids(child.id):
        raise OperationError(_("Choose attendees from the team"), "attendees")
    if len(data.decisions) > MAX_DECISIONS:
        raise OperationError(_("At most %(count)d decisions at a time", count=MAX_DECISIONS), "form")
    owners = decision_owner_agency_ids(child.id, keeper)
    meeting_day = local_date(meeting.starts_at)
    checked = [_check_decision(index, d, owners, meeting_day) for index, d in enumerate(data.decisions)]
    _claim_version(meeting, version)
    moment = now()
    meeting.state = "held"
    meeting.recorded_at = moment
    meeting.recorded_by_id = actor.account.staff_person_id
    for name, value in texts.items():
        setattr(meeting, name, value)
    for person_id in sorted(set(data.staff_person_ids)):
        meeting.attendees.append(MeetingAttendee(staff_person_id=person_id, agency_id=staff[person_id]))
    for guardian_id in sorted(set(data.guardian_ids)):
        meeting.attendees.append(MeetingAttendee(guardian_id=guardian_id))
    if data.child_attended:
        meeting.attendees.append(MeetingAttendee(is_child=True))
    decisions: list[MeetingDecision] = []
    for decision, (text, areas) in zip(data.decisions, checked, strict=True):
        row = MeetingDecision(
            child_id=child.id,
            text=text,
            owner_agency_id=decision.owner_agency_id,
            owner_unit_id=decision.owner_unit_id,
            owner_person_id=decision.owner_person_id,
            due_on=decision.due_on,
            created_at=moment,
            areas=[DecisionArea(area=code) for code in areas],
        )
        meeting.decisions.append(row)
        decisions.append(row)
    db.session.flush()
    _audit_meeting(actor, keeper, meeting, "record_meeting_outcome", decisions=len(decisions))
    record_event(
        child.id,
        "meeting_held",
        owner_agency_id=keeper.agency_id,
        audience="team",
        areas=meeting.area_codes,
        author_person_id=actor.account.staff_person_id,
        object_type="meeting",
        object_public_id=meeting.public_id,
        occurred_at=meeting.starts_at,
    )
    for row in decisions:
        record_write(
            actor.audit_actor(),
            "record_meeting_decision",
            child_id=child.id,
            object_type="meeting_decision",
            object_id=row.public_id,
            legal_basis=KEEPER_BASES[keeper.role],
            detail={"meeting": meeting.public_id, "owner_agency_id": row.owner_agency_id},
        )
        record_event(
            child.id,
            "decision_recorded",
            owner_agency_id=keeper.agency_id,
            audience="coordination",
            areas=row.area_codes,
            summary=row.text,
            author_person_id=actor.account.staff_person_id,
            object_type="meeting_decision",
            object_public_id=row.public_id,
            occurred_at=meeting.starts_at,
        )
