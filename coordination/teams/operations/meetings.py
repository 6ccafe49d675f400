"""A child's team meetings: the plan keeper proposes, reschedules and cancels a meeting and records its
outcome (attendees, views, notes and decisions, each decision a possible draft action). Changing a meeting
claims its version in one conditional UPDATE (optimistic locking: ``StaleVersion``). Each write is audited
on the plan keeper's relation, recorded in the chronology (never the place) and sent as
``events.meeting_changed``."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import CursorResult, select, update

from agencies.models import Membership, StaffPerson, Unit
from coordination import events
from coordination.access import KEEPER_BASES, Actor
from coordination.audit import record_write, refusals_audited
from coordination.children.models import Child, RoleAssignment
from coordination.chronology.record import record_event
from coordination.clock import now
from coordination.database import db
from coordination.errors import OperationError, StaleRecord
from coordination.errors import refusal_message as _
from coordination.teams.models import (
    TEAM_TEXT_MAX,
    DecisionArea,
    Meeting,
    MeetingArea,
    MeetingAttendee,
    MeetingDecision,
    TeamFamilyInvitation,
)
from coordination.teams.operations.common import (
    checked_areas,
    clean_text,
    current_members,
    keeper_or_refuse,
    local_date,
)

PLACE_MAX = 300
CANCEL_REASON_MAX = 1000
MAX_DECISIONS = 20


class StaleVersion(StaleRecord):
    """Someone changed the meeting since the form was shown (optimistic locking): the view answers 409."""


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
    place = clean_text(value, "place", PLACE_MAX, required=True, message=_("Enter where the meeting is held"))
    assert place is not None
    return place


@refusals_audited("propose_meeting")
def propose_meeting(actor: Actor, child: Child, data: MeetingData) -> Meeting:
    keeper = keeper_or_refuse(actor, child)
    _check_times(data.starts_at, data.ends_at)
    place = _place(data.place)
    agenda = clean_text(data.agenda, "agenda", TEAM_TEXT_MAX)
    areas = checked_areas(data.areas)
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
    _chronicle(actor, keeper, meeting, "meeting_proposed", areas=areas)
    events.meeting_changed.send(None, meeting=meeting, change="proposed")
    return meeting


def _chronicle(
    actor: Actor,
    keeper: RoleAssignment,
    meeting: Meeting,
    kind: str,
    areas: Collection[str] | None = None,
    occurred_at: datetime | None = None,
) -> None:
    """A meeting's entry in the chronology: team information, the keeper's agency's record, never the
    place (protected identity keeps places within the team, RULES.md §7)."""
    record_event(
        meeting.child_id,
        kind,
        owner_agency_id=keeper.agency_id,
        audience="team",
        areas=meeting.area_codes if areas is None else areas,
        author_person_id=actor.account.staff_person_id,
        object_type="meeting",
        object_public_id=meeting.public_id,
        occurred_at=occurred_at,
    )


def _audit_meeting(actor: Actor, keeper: RoleAssignment, meeting: Meeting, action: str, **detail: object) -> None:
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
    # An UPDATE's result is a CursorResult (Session.execute is typed with the general Result): its rowcount.
    result = cast(
        CursorResult[Any],
        db.session.execute(
            update(Meeting)
            .where(Meeting.id == meeting.id, Meeting.version == version)
            .values(version=version + 1, changed_at=now())
            .execution_options(synchronize_session="fetch")
        ),
    )
    if result.rowcount != 1:
        raise StaleVersion(_("Someone changed this meeting after you opened it. Check it and try again."), "form")


def _meeting_of(child: Child, meeting: Meeting) -> None:
    if meeting.child_id != child.id:
        raise OperationError(_("That meeting is not this child's"), "form")


@refusals_audited("reschedule_meeting")
def reschedule_meeting(actor: Actor, child: Child, meeting: Meeting, version: int | None, data: MeetingData) -> None:
    """A planned meeting gets a new (future) time, and a new place if given."""
    keeper = keeper_or_refuse(actor, child)
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
    _chronicle(actor, keeper, meeting, "meeting_rescheduled")
    events.meeting_changed.send(None, meeting=meeting, change="rescheduled")


@refusals_audited("cancel_meeting")
def cancel_meeting(actor: Actor, child: Child, meeting: Meeting, version: int | None, reason: str | None) -> None:
    keeper = keeper_or_refuse(actor, child)
    _meeting_of(child, meeting)
    if meeting.state != "planned":
        raise OperationError(_("Only a planned meeting can be cancelled"), "form")
    cleaned = clean_text(
        reason, "reason", CANCEL_REASON_MAX, required=True, message=_("Say why the meeting is cancelled")
    )
    _claim_version(meeting, version)
    meeting.state = "cancelled"
    meeting.cancel_reason = cleaned
    db.session.flush()
    _audit_meeting(actor, keeper, meeting, "cancel_meeting")
    _chronicle(actor, keeper, meeting, "meeting_cancelled")
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
    text = clean_text(decision.text, prefix + "text", TEAM_TEXT_MAX, required=True, message=_("Write the decision"))
    assert text is not None
    areas = checked_areas(decision.areas, prefix + "areas")
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
def record_meeting_outcome(
    actor: Actor, child: Child, meeting: Meeting, version: int | None, data: OutcomeData
) -> None:
    """Record a meeting that has started: who attended, the child's and family's views, disagreements,
    notes and decisions (each with areas, optionally an owner and a due date: a draft action)."""
    keeper = keeper_or_refuse(actor, child)
    _meeting_of(child, meeting)
    if meeting.state == "cancelled":
        raise OperationError(_("The meeting was cancelled"), "form")
    if meeting.state == "held":
        raise OperationError(_("The outcome of this meeting is already recorded"), "form")
    if meeting.starts_at > now():
        raise OperationError(_("The outcome can be recorded once the meeting has started"), "form")
    texts = {
        name: clean_text(getattr(data, name), name, TEAM_TEXT_MAX)
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
    _chronicle(actor, keeper, meeting, "meeting_held", occurred_at=meeting.starts_at)
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
            audience="team",  # a meeting's decisions are team information, as on the meeting page
            areas=row.area_codes,
            summary=row.text,
            author_person_id=actor.account.staff_person_id,
            object_type="meeting_decision",
            object_public_id=row.public_id,
            occurred_at=meeting.starts_at,
        )
