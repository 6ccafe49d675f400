"""The plan's needs (each in one or more Needs Compass areas, the keeper's agency's record) and their
goals; and marking an item (a need, an action, a team membership, a professional rating) withheld from
guardians by the agency whose record it is."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from childplan.models import Action, Goal, Need, NeedArea, Plan, Rating
from childplan.operations.common import (
    PLAN_TEXT_MAX,
    REASON_MAX,
    active_or_refuse,
    audit_write,
    chronicle,
    clean_text,
    keeper_of_active_plan,
    required_areas,
    touch,
)
from coordination.access import KEEPER_BASES, Actor, relations_to
from coordination.audit import refusals_audited
from coordination.chronology.record import record_event
from coordination.clock import now
from coordination.database import db
from coordination.errors import OperationError
from coordination.errors import refusal_message as _
from coordination.teams.models import TeamMember


@dataclass(frozen=True)
class NeedData:
    description: str | None
    areas: Collection[str] = ()
    strengths: str | None = None
    getting_in_the_way: str | None = None


@dataclass(frozen=True)
class GoalData:
    outcome: str | None
    evidence: str | None = None  # how achieving it will be seen


@refusals_audited("add_plan_need")
def add_need(actor: Actor, plan: Plan, data: NeedData) -> Need:
    keeper = keeper_of_active_plan(actor, plan)
    assert actor.acting_agency is not None  # the keeper acts for the keeper's agency
    description = clean_text(
        data.description, "description", PLAN_TEXT_MAX, required=True, message=_("Describe the need")
    )
    areas = required_areas(data.areas)
    strengths = clean_text(data.strengths, "strengths", PLAN_TEXT_MAX)
    in_the_way = clean_text(data.getting_in_the_way, "getting_in_the_way", PLAN_TEXT_MAX)
    assert description is not None
    need = Need(
        plan_id=plan.id,
        child_id=plan.child_id,
        agency_id=actor.acting_agency.id,
        description=description,
        strengths=strengths,
        getting_in_the_way=in_the_way,
        position=len(plan.needs),
        is_withheld_from_guardians=False,
        created_at=now(),
        areas=[NeedArea(area=code) for code in areas],
    )
    plan.needs.append(need)
    touch(plan)
    db.session.flush()
    audit_write(
        actor, "add_plan_need", plan.child_id, "plan_need", need.public_id, KEEPER_BASES[keeper.role], areas=areas
    )
    chronicle(
        actor,
        plan.child_id,
        "plan_need_added",
        owner_agency_id=need.agency_id,
        object_type="plan_need",
        public_id=need.public_id,
        areas=areas,
    )
    return need


@refusals_audited("add_plan_goal")
def add_goal(actor: Actor, need: Need, data: GoalData) -> Goal:
    keeper = keeper_of_active_plan(actor, need.plan)
    outcome = clean_text(
        data.outcome, "outcome", PLAN_TEXT_MAX, required=True, message=_("Describe the outcome you want")
    )
    evidence = clean_text(data.evidence, "evidence", PLAN_TEXT_MAX)
    assert outcome is not None
    goal = Goal(outcome=outcome, evidence=evidence, position=len(need.goals), created_at=now())
    need.goals.append(goal)
    touch(need.plan)
    db.session.flush()
    audit_write(
        actor,
        "add_plan_goal",
        need.child_id,
        "plan_goal",
        goal.public_id,
        KEEPER_BASES[keeper.role],
        need=need.public_id,
    )
    return goal


def _withheld_item(item: Need | Action | TeamMember | Rating) -> tuple[int, int, str, str, Plan | None]:
    """The item's owning agency, child, audit object type and id, and the plan it belongs to (None for a
    team membership, which is not part of the plan). A rating without an agency (the child's or the
    guardians' voice) is not an agency's record: refused."""
    if isinstance(item, Need):
        return item.agency_id, item.child_id, "plan_need", item.public_id, item.plan
    if isinstance(item, Action):
        return item.owner_agency_id, item.child_id, "plan_action", item.public_id, item.plan
    if isinstance(item, TeamMember):
        return item.agency_id, item.child_id, "team_member", item.public_id, None
    if isinstance(item, Rating):
        if item.agency_id is None:
            raise OperationError(
                _("Only a professional rating of an agency can be withheld from guardians this way"), "form"
            )
        review = item.review
        plan = db.session.get(Plan, review.plan_id)
        return item.agency_id, review.child_id, "plan_rating", f"{review.public_id}:{item.area}", plan
    raise TypeError(f"cannot withhold {type(item).__name__} from guardians")


@refusals_audited("withhold_plan_item")
def mark_withheld_from_guardians(actor: Actor, item: Need | Action | TeamMember | Rating, reason: str | None) -> None:
    """Staff of the agency whose record the item is (the need's agency, the action's owner, the team
    member's agency, the professional rating's agency) withhold it from guardians, with the reason
    recorded (RULES.md §6). The chronology gets a content-free entry for the owning agency only."""
    owner_agency_id, child_id, object_type, object_id, plan = _withheld_item(item)
    if plan is not None:
        active_or_refuse(plan)
    acting = getattr(actor, "acting_agency", None)
    if (
        getattr(actor, "kind", None) != "staff"
        or acting is None
        or acting.id != owner_agency_id
        or not relations_to(actor, child_id)
    ):
        raise OperationError(_("Only staff of the agency that owns this item can withhold it from guardians"), "form")
    if item.is_withheld_from_guardians:  # the recorded reason stands; a second POST must not rewrite it
        raise OperationError(_("This is already withheld from guardians"), "reason")
    cleaned = clean_text(
        reason, "reason", REASON_MAX, required=True, message=_("Say why this is withheld from guardians")
    )
    item.is_withheld_from_guardians = True
    item.withheld_reason = cleaned
    if plan is not None:
        touch(plan)
    db.session.flush()
    audit_write(actor, "withhold_plan_item", child_id, object_type, object_id, "own_agency_record")
    # "own_agency": the entry does not exist for other agencies (nor, as staff-only, for families); it
    # says only that something of this kind was withheld, not what or why.
    record_event(
        child_id,
        "withheld_from_guardians",
        owner_agency_id=owner_agency_id,
        audience="own_agency",
        author_person_id=actor.account.staff_person_id,
        object_type="plan_review" if isinstance(item, Rating) else object_type,
        object_public_id=item.review.public_id if isinstance(item, Rating) else object_id,
    )
