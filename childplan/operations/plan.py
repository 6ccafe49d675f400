"""The plan itself: the keeper starts it (one per child), keeps its plan-level texts (why, overall
responsibility, the child's and the guardians' views, disagreements, the next review; optimistic locking
on ``Plan.version``: ``StalePlan``), publishes frozen versions of it and closes it with a reason."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, cast

from sqlalchemy import CursorResult, select, update

from agencies.models import Agency
from childplan.compass import AREA_CODES
from childplan.models import PLAN_CLOSE_REASONS, Action, Need, Plan, PlanVersion
from childplan.operations.common import (
    PLAN_TEXT_MAX,
    audit_write,
    chronicle,
    clean_text,
    keeper_of_active_plan,
    keeper_or_refuse,
    touch,
)
from coordination.access import KEEPER_BASES, Actor
from coordination.audit import refusals_audited
from coordination.children.models import Child
from coordination.chronology.record import record_event
from coordination.clock import now, today
from coordination.database import db
from coordination.errors import OperationError, StaleRecord
from coordination.errors import refusal_message as _


@dataclass(frozen=True)
class PlanData:
    why: str | None  # why there is a plan, in plain words
    overall_responsibility: str | None = None  # SIP: who has overall responsibility


class StalePlan(StaleRecord):
    """Someone changed the plan's texts since the form was shown (optimistic locking): the view answers 409."""


@dataclass(frozen=True)
class PlanTextsData:
    why: str | None
    overall_responsibility: str | None = None
    child_views: str | None = None
    guardian_views: str | None = None
    disagreements: str | None = None
    next_review_on: date | None = None


@refusals_audited("start_plan")
def start_plan(actor: Actor, child: Child, data: PlanData) -> Plan:
    """The plan keeper starts the child's plan; the plan-level texts are the keeper's agency's record."""
    keeper = keeper_or_refuse(actor, child)
    if db.session.scalar(select(Plan.id).where(Plan.child_id == child.id)) is not None:
        raise OperationError(_("This child already has a plan"), "form")
    why = clean_text(data.why, "why", PLAN_TEXT_MAX, required=True, message=_("Say why there is a plan"))
    responsibility = clean_text(data.overall_responsibility, "overall_responsibility", PLAN_TEXT_MAX)
    moment = now()
    plan = Plan(
        child_id=child.id,
        agency_id=keeper.agency_id,
        why=why,
        overall_responsibility=responsibility,
        status="active",
        version=1,
        created_by_id=actor.account.staff_person_id,
        created_at=moment,
        changed_at=moment,
    )
    db.session.add(plan)
    db.session.flush()
    audit_write(actor, "start_plan", child.id, "plan", plan.public_id, KEEPER_BASES[keeper.role])
    chronicle(
        actor, child.id, "plan_started", owner_agency_id=keeper.agency_id, object_type="plan", public_id=plan.public_id
    )
    return plan


def _named(thing: Any) -> dict[str, str] | None:
    if thing is None:
        return None
    name = thing.full_name if hasattr(thing, "full_name") else thing.name
    return {"public_id": thing.public_id, "name": name}


def _day(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _need_content(need: Need) -> dict[str, Any]:
    return {
        "public_id": need.public_id,
        "agency": _named(_need_agency(need)),
        "areas": sorted(need.area_codes),
        "description": need.description,
        "strengths": need.strengths,
        "getting_in_the_way": need.getting_in_the_way,
        "is_withheld_from_guardians": need.is_withheld_from_guardians,
        "withheld_reason": need.withheld_reason,
        "goals": [
            {"public_id": goal.public_id, "outcome": goal.outcome, "evidence": goal.evidence} for goal in need.goals
        ],
    }


def _need_agency(need: Need) -> Agency | None:
    return db.session.get(Agency, need.agency_id)


def _action_content(action: Action) -> dict[str, Any]:
    return {
        "public_id": action.public_id,
        "what": action.what,
        "need": action.need.public_id if action.need is not None else None,
        "owner_agency": _named(action.owner_agency),
        "owner_unit": _named(action.owner_unit),
        "owner_person": _named(action.owner_person),
        "starts_on": _day(action.starts_on),
        "due_on": _day(action.due_on),
        "status": action.status,
        "stop_reason": action.stop_reason,
        "progress_note": action.progress_note,
        "own_areas": sorted(area.area for area in action.areas),
        "areas": sorted(action.area_codes),
        "is_withheld_from_guardians": action.is_withheld_from_guardians,
        "withheld_reason": action.withheld_reason,
    }


def plan_content(plan: Plan) -> dict[str, Any]:
    """The plan as it stands, as plain JSON (public ids only), to freeze into a version."""
    return {
        "plan": {
            "agency": _named(plan.agency),
            "why": plan.why,
            "overall_responsibility": plan.overall_responsibility,
            "child_views": plan.child_views,
            "guardian_views": plan.guardian_views,
            "disagreements": plan.disagreements,
            "next_review_on": _day(plan.next_review_on),
        },
        "needs": [_need_content(need) for need in plan.needs],
        "actions": [_action_content(action) for action in plan.actions],
    }


@refusals_audited("publish_plan_version")
def publish_version(actor: Actor, plan: Plan) -> PlanVersion:
    """Freeze the plan as it stands into the next numbered version; an empty plan is not published, nor a
    plan that has not changed since its last published version (that would be an empty version)."""
    keeper = keeper_of_active_plan(actor, plan)
    if not plan.needs and not plan.actions:
        raise OperationError(_("Add a need or an action before publishing the plan"), "form")
    latest = db.session.execute(
        select(PlanVersion.number, PlanVersion.content)
        .where(PlanVersion.plan_id == plan.id)
        .order_by(PlanVersion.number.desc())
        .limit(1)
    ).first()
    content = plan_content(plan)
    if latest is not None and latest.content == content:
        raise OperationError(
            _(
                "Nothing has changed since version %(number)s was published: there is nothing new to publish",
                number=latest.number,
            ),
            "form",
        )
    previous = latest.number if latest is not None else 0
    version = PlanVersion(
        plan_id=plan.id,
        number=previous + 1,
        content=content,
        published_by_id=actor.account.staff_person_id,
        published_at=now(),
    )
    db.session.add(version)
    touch(plan)
    db.session.flush()
    audit_write(
        actor,
        "publish_plan_version",
        plan.child_id,
        "plan_version",
        version.public_id,
        KEEPER_BASES[keeper.role],
        number=version.number,
    )
    chronicle(
        actor,
        plan.child_id,
        "plan_version_published",
        owner_agency_id=keeper.agency_id,
        object_type="plan_version",
        public_id=version.public_id,
    )
    return version


@refusals_audited("close_plan")
def close_plan(actor: Actor, plan: Plan, reason: str | None, note: str | None) -> None:
    """Close the plan with a reason (goals met, moved away, turned 18, other — "other" says what)."""
    keeper = keeper_of_active_plan(actor, plan)
    if reason not in PLAN_CLOSE_REASONS:
        raise OperationError(_("Choose why the plan is closed"), "reason")
    cleaned = clean_text(
        note, "note", PLAN_TEXT_MAX, required=reason == "other", message=_("Say why the plan is closed")
    )
    moment = now()
    plan.status = "closed"
    plan.close_reason = reason
    plan.close_note = cleaned
    plan.closed_at = moment
    plan.changed_at = moment
    db.session.flush()
    audit_write(actor, "close_plan", plan.child_id, "plan", plan.public_id, KEEPER_BASES[keeper.role], reason=reason)
    chronicle(
        actor,
        plan.child_id,
        "plan_closed",
        owner_agency_id=keeper.agency_id,
        object_type="plan",
        public_id=plan.public_id,
    )


def _claim_plan_version(plan: Plan, version: int | None) -> None:
    """Optimistic locking: the form's version must be the plan's; the bump is one conditional UPDATE, so
    two editors of the same version cannot both win."""
    message = _("Someone changed the plan's texts after you opened them. Check them and try again.")
    if version is None or version != plan.version:
        raise StalePlan(message, "form")
    result = cast(  # an UPDATE always answers with a cursor result, which has the row count
        CursorResult[Any],
        db.session.execute(
            update(Plan)
            .where(Plan.id == plan.id, Plan.version == version)
            .values(version=version + 1, changed_at=now())
            .execution_options(synchronize_session="fetch")
        ),
    )
    if result.rowcount != 1:
        raise StalePlan(message, "form")


@refusals_audited("update_plan_texts")
def update_plan_texts(actor: Actor, plan: Plan, version: int | None, data: PlanTextsData) -> None:
    """The keeper of an active plan writes its plan-level texts: why there is a plan (required), who has
    overall responsibility, the child's and the guardians' views, where views differ, and the next review
    (not in the past). The form carries the plan's version: a stale one is refused (``StalePlan``)."""
    keeper = keeper_of_active_plan(actor, plan)
    why = clean_text(data.why, "why", PLAN_TEXT_MAX, required=True, message=_("Say why there is a plan"))
    responsibility = clean_text(data.overall_responsibility, "overall_responsibility", PLAN_TEXT_MAX)
    child_views = clean_text(data.child_views, "child_views", PLAN_TEXT_MAX)
    guardian_views = clean_text(data.guardian_views, "guardian_views", PLAN_TEXT_MAX)
    disagreements = clean_text(data.disagreements, "disagreements", PLAN_TEXT_MAX)
    if data.next_review_on is not None and data.next_review_on < today():
        raise OperationError(_("The next review cannot be in the past"), "next_review_on")
    _claim_plan_version(plan, version)
    changed = sorted(
        name
        for name, old, new in (
            ("why", plan.why, why),
            ("overall_responsibility", plan.overall_responsibility, responsibility),
            ("child_views", plan.child_views, child_views),
            ("guardian_views", plan.guardian_views, guardian_views),
            ("disagreements", plan.disagreements, disagreements),
            ("next_review_on", plan.next_review_on, data.next_review_on),
        )
        if old != new
    )
    plan.why = why
    plan.overall_responsibility = responsibility
    plan.child_views = child_views
    plan.guardian_views = guardian_views
    plan.disagreements = disagreements
    plan.next_review_on = data.next_review_on
    db.session.flush()
    audit_write(
        actor,
        "update_plan_texts",
        plan.child_id,
        "plan",
        plan.public_id,
        KEEPER_BASES[keeper.role],
        changed=changed,
        version=plan.version,
    )
    # The plan-level texts are the keeper agency's record in every area (childplan/access.py); the entry
    # names what changed, never the texts themselves.
    record_event(
        plan.child_id,
        "plan_texts_changed",
        owner_agency_id=plan.agency_id,
        audience="coordination",
        areas=AREA_CODES,
        author_person_id=actor.account.staff_person_id,
        object_type="plan",
        object_public_id=plan.public_id,
    )
