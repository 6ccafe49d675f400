"""One meeting for one viewer: a meeting of this child the viewer may see (``meeting_or_404``, audited),
and its view model — attendees, views, notes and decisions, another agency's people and decisions only
through consent for team meetings, names withheld under protected identity."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask import abort, url_for
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from childplan.access import PURPOSE as PLAN_PURPOSE
from childplan.models import Action, ActionArea, NeedArea
from coordination import audit
from coordination.access import WITHHELD_NO_CONSENT, ChildAccess, is_keeper, may_see_item
from coordination.clock import now
from coordination.consent.view import AreaChip, ChildHeading, area_chips
from coordination.database import db
from coordination.teams.access.common import (
    PROTECTED,
    STATE_LABELS,
    in_team,
    keeper_assignments,
    keeper_of,
    may_see_meeting,
    meeting_state,
    own_agency_id,
    team_consent,
)
from coordination.teams.models import Meeting, MeetingAttendee, MeetingDecision
from coordination.teams.operations import PURPOSE


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
    is_adopted: bool = False  # adopted as an action of the Child's Plan (no longer a draft)
    action_url: str | None = None  # the adopted action on the Plan tab, when the viewer may see it


def _adopted_actions(access: ChildAccess, decision_ids: list[int]) -> dict[int, str | None]:
    """The actions adopted from these decisions: decision id → the action's place on the Plan tab, or None
    when the viewer may not see the action (its owner agency's, through consent for team meetings covering
    its areas and its need's, as the Plan tab decides). One statement, and only when a decision was adopted."""
    if not decision_ids:
        return {}
    rows = db.session.execute(
        select(Action.decision_id, Action.public_id, Action.owner_agency_id, ActionArea.area, NeedArea.area)
        .outerjoin(ActionArea, ActionArea.action_id == Action.id)
        .outerjoin(NeedArea, NeedArea.need_id == Action.need_id)
        .where(Action.decision_id.in_(decision_ids), Action.child_id == access.child.id)
    ).all()
    actions: dict[int, tuple[str, int, set[str]]] = {}
    for decision_id, public_id, agency_id, action_area, need_area in rows:
        _public_id, _agency_id, areas = actions.setdefault(decision_id, (public_id, agency_id, set()))
        areas.update(area for area in (action_area, need_area) if area is not None)
    found: dict[int, str | None] = {}
    for decision_id, (public_id, agency_id, areas) in actions.items():
        visible = may_see_item(access, agency_id, PLAN_PURPOSE, frozenset(areas))
        found[decision_id] = (
            f"{url_for('plan.index', child_id=access.child.public_id)}#action-{public_id}" if visible else None
        )
    return found


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
    own_id = own_agency_id(access)
    protected = child.has_protected_identity and not in_team(access)
    consented = team_consent(access)
    assignments = keeper_assignments(child.id)
    viewer_is_keeper = is_keeper(actor, keeper_of(assignments))
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
    adopted = _adopted_actions(access, [d.id for d in rows if d.adopted_at is not None])
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
                is_adopted=decision.adopted_at is not None or decision.id in adopted,
                action_url=adopted.get(decision.id),
            )
        )
    state = meeting_state(meeting, now())
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
