"""The plan's needs (each in one or more Needs Compass areas, the keeper's agency's record) and their
goals; and marking a need or an action withheld from guardians by the agency whose record it is."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from childplan.models import Action, Goal, Need, NeedArea, Plan
from childplan.operations.common import (
    KEEPER_BASES,
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
from coordination.access import relations_to
from coordination.audit import refusals_audited
from coordination.clock import now
from coordination.consent.common import _
from coordination.database import db
from coordination.errors import OperationError


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
def add_need(actor, plan: Plan, data: NeedData) -> Need:  # type: ignore[no-untyped-def]
    keeper = keeper_of_active_plan(actor, plan)
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
def add_goal(actor, need: Need, data: GoalData) -> Goal:  # type: ignore[no-untyped-def]
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


@refusals_audited("withhold_plan_item")
def mark_withheld_from_guardians(actor, item: Need | Action, reason: str | None) -> None:  # type: ignore[no-untyped-def]
    """Staff of the agency whose record the item is (the need's agency, the action's owner) withhold it
    from guardians, with the reason recorded (RULES.md §6)."""
    active_or_refuse(item.plan)
    owner_agency_id = item.agency_id if isinstance(item, Need) else item.owner_agency_id
    acting = getattr(actor, "acting_agency", None)
    if (
        getattr(actor, "kind", None) != "staff"
        or acting is None
        or acting.id != owner_agency_id
        or not relations_to(actor, item.child_id)
    ):
        raise OperationError(_("Only staff of the agency that owns this item can withhold it from guardians"), "form")
    cleaned = clean_text(
        reason, "reason", REASON_MAX, required=True, message=_("Say why this is withheld from guardians")
    )
    item.is_withheld_from_guardians = True
    item.withheld_reason = cleaned
    touch(item.plan)
    db.session.flush()
    audit_write(
        actor,
        "withhold_plan_item",
        item.child_id,
        "plan_need" if isinstance(item, Need) else "plan_action",
        item.public_id,
        "own_agency_record",
    )
