"""The plan's actions: who does what, and when. The keeper adds actions owned by an agency on the child's
team (or the keeper's own); an agency adds actions it owns itself (without consent it owns only its own);
the keeper adopts a meeting's decision as an action; the owner or the keeper changes an action's status
and progress, claiming its version in one conditional UPDATE (optimistic locking: ``StaleAction``)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from typing import Any, TypedDict, cast

from sqlalchemy import CursorResult, select, update

from agencies.models import Membership, StaffPerson, Unit
from childplan.access import action_change_basis, may_reassign
from childplan.models import ACTION_STATUSES, Action, ActionArea, Need, Plan
from childplan.operations.common import (
    PLAN_TEXT_MAX,
    REASON_MAX,
    active_or_refuse,
    audit_write,
    checked_areas,
    chronicle,
    clean_text,
    keeper_of_active_plan,
    touch,
)
from coordination import events
from coordination.access import AGENCY_ADMIN_DECIDES, KEEPER_BASES, Actor, is_keeper, plan_keeper, relations_basis
from coordination.audit import refusals_audited
from coordination.children.models import RoleAssignment
from coordination.clock import now
from coordination.database import db
from coordination.errors import OperationError, StaleRecord
from coordination.errors import refusal_message as _
from coordination.teams.models import MeetingDecision, TeamMember


class EntryAreas(TypedDict):
    areas: frozenset[str]
    context_areas: frozenset[str]


def _entry_areas(action: Action) -> EntryAreas:
    """A chronology entry about an action is decided by the action's areas and its need's (as the action is),
    but shows and is filed under the need's areas only when the need is the action's own agency's record."""
    own = frozenset(area.area for area in action.areas)
    if action.need is not None and action.need.agency_id == action.owner_agency_id:
        own |= action.need.area_codes
    return EntryAreas(areas=own, context_areas=action.area_codes - own)


class StaleAction(StaleRecord):
    """Someone changed the action since the form was shown (optimistic locking): the view answers 409."""


@dataclass(frozen=True)
class ActionData:
    what: str | None
    owner_agency_id: int | None
    owner_unit_id: int | None = None
    owner_person_id: int | None = None
    starts_on: date | None = None
    due_on: date | None = None
    need_id: int | None = None  # a need of this plan; without one the action names its own areas
    areas: Collection[str] = ()


@dataclass(frozen=True)
class ActionUpdateData:
    status: str | None
    stop_reason: str | None = None
    progress_note: str | None = None


def team_agency_ids(child_id: int, keeper: RoleAssignment | None) -> set[int]:
    """The agencies that may own the keeper's actions: those with a current team member, and the keeper's."""
    ids = set(
        db.session.scalars(
            select(TeamMember.agency_id).where(TeamMember.child_id == child_id, TeamMember.ended_at.is_(None))
        )
    )
    return ids | ({keeper.agency_id} if keeper is not None else set())


def _writer_basis(actor: Actor, plan: Plan, owner_agency_id: int | None) -> str:
    """Who may add this action, and on which legal basis: the keeper (for an agency on the team or the
    keeper's own), or staff with a relation to the child adding an action their own agency owns."""
    if owner_agency_id is None:
        raise OperationError(_("Choose the agency that owns the action"), "owner_agency")
    keeper = plan_keeper(plan.child_id)
    acting = getattr(actor, "acting_agency", None)
    own = getattr(actor, "kind", None) == "staff" and acting is not None and acting.id == owner_agency_id
    if own:
        basis = (
            KEEPER_BASES[keeper.role]
            if keeper is not None and is_keeper(actor, keeper)
            else relations_basis(actor, plan.child)
        )
        if basis is not None:
            return basis
        raise OperationError(_("Only the plan keeper can do this"), "form")
    if not is_keeper(actor, keeper):
        raise OperationError(_("You can add only actions your own agency owns"), "owner_agency")
    assert keeper is not None
    if owner_agency_id not in team_agency_ids(plan.child_id, keeper):
        raise OperationError(
            _("The owner must be an agency on the child's team, or the plan keeper's own"), "owner_agency"
        )
    return KEEPER_BASES[keeper.role]


def _check_owner(owner_agency_id: int, unit_id: int | None, person_id: int | None, field_prefix: str = "") -> None:
    if unit_id is not None:
        unit_agency = db.session.scalar(select(Unit.agency_id).where(Unit.id == unit_id))
        if unit_agency != owner_agency_id:
            raise OperationError(_("Choose a unit of the owning agency"), field_prefix + "owner_unit")
    if person_id is not None:
        conditions = [
            Membership.staff_person_id == person_id,
            Membership.agency_id == owner_agency_id,
            Membership.is_practitioner.is_(True),
            Membership.ended_at.is_(None),
        ]
        if unit_id is not None:
            conditions.append(Membership.unit_id == unit_id)
        active = db.session.scalar(
            select(StaffPerson.is_active)
            .join(Membership, Membership.staff_person_id == StaffPerson.id)
            .where(*conditions)
            .limit(1)
        )
        if not active:
            raise OperationError(
                _("Choose an active practitioner of the owning agency (and unit)"), field_prefix + "owner_person"
            )


def _check_dates(starts_on: date | None, due_on: date | None) -> None:
    if starts_on is not None and due_on is not None and due_on < starts_on:
        raise OperationError(_("The due date cannot be before the start date"), "due_on")


def _tell_the_owner(actor: Actor, action: Action) -> None:
    """The person an action is given to is told (content-free), unless they gave it to themselves."""
    if action.owner_person_id is not None and action.owner_person_id != actor.account.staff_person_id:
        events.plan_action_assigned.send(None, action=action)


def _record_added(actor: Actor, plan: Plan, action: Action, basis: str, **detail: object) -> None:
    audit_write(
        actor,
        "add_plan_action",
        plan.child_id,
        "plan_action",
        action.public_id,
        basis,
        owner_agency_id=action.owner_agency_id,
        **detail,
    )
    # the action's own words: the entry has the action's agency and areas, so it reaches whoever sees the action
    chronicle(
        actor,
        plan.child_id,
        "plan_action_added",
        owner_agency_id=action.owner_agency_id,
        object_type="plan_action",
        public_id=action.public_id,
        **_entry_areas(action),
        summary=action.what,
    )
    _tell_the_owner(actor, action)


@refusals_audited("add_plan_action")
def add_action(actor: Actor, plan: Plan, data: ActionData) -> Action:
    active_or_refuse(plan)
    basis = _writer_basis(actor, plan, data.owner_agency_id)
    assert data.owner_agency_id is not None
    what = clean_text(data.what, "what", PLAN_TEXT_MAX, required=True, message=_("Say what will be done"))
    assert what is not None
    _check_owner(data.owner_agency_id, data.owner_unit_id, data.owner_person_id)
    _check_dates(data.starts_on, data.due_on)
    need = None
    if data.need_id is not None:
        need = db.session.get(Need, data.need_id)
        if need is None or need.plan_id != plan.id:
            raise OperationError(_("Choose a need of this plan"), "need")
    areas = checked_areas(list(data.areas or ()))
    if need is None and not areas:
        raise OperationError(_("Choose a need, or at least one area"), "areas")
    moment = now()
    action = Action(
        plan_id=plan.id,
        child_id=plan.child_id,
        need=need,
        what=what,
        owner_agency_id=data.owner_agency_id,
        owner_unit_id=data.owner_unit_id,
        owner_person_id=data.owner_person_id,
        starts_on=data.starts_on,
        due_on=data.due_on,
        status="planned",
        is_withheld_from_guardians=False,
        version=1,
        created_by_id=actor.account.staff_person_id,
        created_at=moment,
        changed_at=moment,
        areas=[ActionArea(area=code) for code in areas],
    )
    plan.actions.append(action)
    touch(plan)
    db.session.flush()
    _record_added(actor, plan, action, basis)
    return action


@refusals_audited("adopt_meeting_decision")
def adopt_decision(actor: Actor, plan: Plan, decision: MeetingDecision) -> Action:
    """The keeper adopts a meeting's decision (a draft action) as an action of the plan: the same owner,
    due date and areas (the meeting's when the decision names none), its text as what is done."""
    keeper = keeper_of_active_plan(actor, plan)
    if decision.child_id != plan.child_id:
        raise OperationError(_("That decision is not this child's"), "form")
    if decision.adopted_at is not None or db.session.scalar(select(Action.id).where(Action.decision_id == decision.id)):
        raise OperationError(_("This decision is already an action in the plan"), "form")
    if decision.owner_agency_id is None:
        raise OperationError(_("The decision has no owner: add it as an action instead"), "form")
    if decision.owner_agency_id not in team_agency_ids(plan.child_id, keeper):
        raise OperationError(
            _("The owner must be an agency on the child's team, or the plan keeper's own"), "owner_agency"
        )
    _check_owner(decision.owner_agency_id, decision.owner_unit_id, decision.owner_person_id)
    areas = [area.area for area in decision.areas] or sorted(decision.meeting.area_codes)
    if not areas:
        raise OperationError(_("The decision has no areas: add it as an action instead"), "form")
    what = clean_text(decision.text, "what", PLAN_TEXT_MAX, required=True)
    assert what is not None
    moment = now()
    action = Action(
        plan_id=plan.id,
        child_id=plan.child_id,
        what=what,
        owner_agency_id=decision.owner_agency_id,
        owner_unit_id=decision.owner_unit_id,
        owner_person_id=decision.owner_person_id,
        due_on=decision.due_on,
        status="planned",
        decision_id=decision.id,
        is_withheld_from_guardians=False,
        version=1,
        created_by_id=actor.account.staff_person_id,
        created_at=moment,
        changed_at=moment,
        areas=[ActionArea(area=code) for code in sorted(set(areas))],
    )
    plan.actions.append(action)
    decision.adopted_at = moment
    touch(plan)
    db.session.flush()
    _record_added(actor, plan, action, KEEPER_BASES[keeper.role], decision=decision.public_id)
    return action


def _claim_version(action: Action, version: int | None) -> None:
    """Optimistic locking: the form's version must be the action's; the bump is one conditional UPDATE,
    so two editors of the same version cannot both win."""
    message = _("Someone changed this action after you opened it. Check it and try again.")
    if version is None or version != action.version:
        raise StaleAction(message, "form")
    result = cast(  # an UPDATE always answers with a cursor result, which has the row count
        CursorResult[Any],
        db.session.execute(
            update(Action)
            .where(Action.id == action.id, Action.version == version)
            .values(version=version + 1, changed_at=now())
            .execution_options(synchronize_session="fetch")
        ),
    )
    if result.rowcount != 1:
        raise StaleAction(message, "form")


@refusals_audited("update_plan_action")
def update_action(
    actor: Actor, action: Action, version: int | None, data: ActionUpdateData, basis: str | None = None
) -> None:
    """A new status (stopped says why) and progress note, from the owner or the keeper: ``basis`` is the
    decision the caller was given by ``childplan.access.get_action_or_404`` / ``action_change_basis``; a
    caller without one (the demo, a test) gets it decided by that same function, refused when it is None."""
    active_or_refuse(action.plan)
    if basis is None:
        basis = action_change_basis(actor, action)
    if basis is None:
        raise OperationError(_("Only the action's owner or the plan keeper can change this action"), "form")
    if data.status not in ACTION_STATUSES:
        raise OperationError(_("Choose a status"), "status")
    stop_reason = clean_text(
        data.stop_reason,
        "stop_reason",
        REASON_MAX,
        required=data.status == "stopped",
        message=_("Say why the action is stopped"),
    )
    note = clean_text(data.progress_note, "progress_note", PLAN_TEXT_MAX)
    _claim_version(action, version)
    previous, previous_note = action.status, action.progress_note
    action.status = data.status
    action.stop_reason = stop_reason if data.status == "stopped" else None
    action.progress_note = note
    touch(action.plan)
    db.session.flush()
    audit_write(
        actor,
        "update_plan_action",
        action.child_id,
        "plan_action",
        action.public_id,
        basis,
        status=action.status,
        previous=previous,
        version=action.version,
    )
    chronicle(
        actor,
        action.child_id,
        "plan_action_changed",
        owner_agency_id=action.owner_agency_id,
        object_type="plan_action",
        public_id=action.public_id,
        **_entry_areas(action),
        summary=action.what if not note or note == previous_note else f"{action.what} — {note}",
    )


REASSIGNABLE_STATUSES: tuple[str, ...] = ("planned", "in_progress")


@refusals_audited("reassign_plan_action")
def reassign_action(
    actor: Actor, action: Action, version: int | None, unit_id: int | None, person_id: int | None
) -> None:
    """The owner agency's admin moves an open action to another unit and/or person of the same agency (an
    active practitioner of it, and of the unit when both are given). The owner agency never changes. Giving
    the action to whom it already has is recorded like any other reassignment (a new version): the answer
    must not differ, since the admin may not see the owner of a protected child's action (RULES.md §7)."""
    if not may_reassign(actor, action):
        raise OperationError(_("Only an agency admin of the agency that owns the action can reassign it"), "form")
    active_or_refuse(action.plan)
    if action.status not in REASSIGNABLE_STATUSES:
        raise OperationError(_("A finished or stopped action keeps its owner"), "form")
    if unit_id is None and person_id is None:
        raise OperationError(_("Choose a unit or a person"), "owner_unit")
    _check_owner(action.owner_agency_id, unit_id, person_id)
    _claim_version(action, version)
    previous_unit, previous_person = action.owner_unit_id, action.owner_person_id
    action.owner_unit_id = unit_id
    action.owner_person_id = person_id
    touch(action.plan)
    db.session.flush()
    db.session.expire(action, ["owner_unit", "owner_person"])
    unit_ids = [i for i in (previous_unit, unit_id) if i is not None]
    person_ids = [i for i in (previous_person, person_id) if i is not None]
    units = dict(db.session.execute(select(Unit.id, Unit.public_id).where(Unit.id.in_(unit_ids))).tuples().all())
    people = dict(
        db.session.execute(select(StaffPerson.id, StaffPerson.public_id).where(StaffPerson.id.in_(person_ids)))
        .tuples()
        .all()
    )
    audit_write(
        actor,
        "reassign_plan_action",
        action.child_id,
        "plan_action",
        action.public_id,
        AGENCY_ADMIN_DECIDES,
        unit=units.get(unit_id) if unit_id is not None else None,
        person=people.get(person_id) if person_id is not None else None,
        previous_unit=units.get(previous_unit) if previous_unit is not None else None,
        previous_person=people.get(previous_person) if previous_person is not None else None,
        version=action.version,
    )
    chronicle(
        actor,
        action.child_id,
        "plan_action_changed",
        owner_agency_id=action.owner_agency_id,
        object_type="plan_action",
        public_id=action.public_id,
        **_entry_areas(action),
        summary=action.what,
    )
    _tell_the_owner(actor, action)
