"""What every plan operation shares: the plan keeper (coordination.teams: the Support Coordinator,
otherwise the Child Contact, acting for that assignment's agency), the refusal of edits to a closed plan,
the checks of free text and areas, the write audit and the chronology."""

from __future__ import annotations

from collections.abc import Iterable

from childplan.models import PLAN_TEXT_MAX, Plan
from coordination.access import Actor
from coordination.audit import record_write
from coordination.children.models import RoleAssignment
from coordination.chronology.record import record_event
from coordination.clock import now
from coordination.errors import OperationError
from coordination.errors import refusal_message as _
from coordination.teams.operations.common import (
    checked_areas,
    clean_text,
    keeper_or_refuse,
)

REASON_MAX = 1000  # stop reasons and withheld reasons (the columns are String(1000))

__all__ = [
    "PLAN_TEXT_MAX",
    "REASON_MAX",
    "active_or_refuse",
    "audit_write",
    "checked_areas",
    "chronicle",
    "clean_text",
    "keeper_of_active_plan",
    "keeper_or_refuse",
    "required_areas",
    "touch",
]


def active_or_refuse(plan: Plan) -> None:
    """A closed plan is a record: nothing in it changes any more."""
    if plan.status != "active":
        raise OperationError(_("The plan is closed and can no longer be changed"), "form")


def keeper_of_active_plan(actor: Actor, plan: Plan) -> RoleAssignment:
    """The keeper's assignment when the plan is active and the actor keeps it; otherwise refused."""
    active_or_refuse(plan)
    return keeper_or_refuse(actor, plan.child)


def required_areas(values: Iterable[str] | None, field_name: str = "areas") -> list[str]:
    areas = checked_areas(list(values or ()), field_name)
    if not areas:
        raise OperationError(_("Choose at least one area"), field_name)
    return areas


def touch(plan: Plan) -> None:
    plan.changed_at = now()


def audit_write(
    actor: Actor, action: str, child_id: int, object_type: str, public_id: str, legal_basis: str, **detail: object
) -> None:
    record_write(
        actor.audit_actor(),
        action,
        child_id=child_id,
        object_type=object_type,
        object_id=public_id,
        legal_basis=legal_basis,
        detail=detail or None,
    )


# The plan's events in the chronology.
PLAN_CHRONOLOGY_KINDS: tuple[str, ...] = (
    "plan_started",
    "plan_need_added",
    "plan_action_added",
    "plan_action_changed",
    "plan_version_published",
    "plan_closed",
    "plan_reviewed",
    "plan_version_agreed",
    "plan_version_read",
)


def chronicle(
    actor: Actor,
    child_id: int,
    kind: str,
    *,
    owner_agency_id: int,
    object_type: str,
    public_id: str,
    areas: Iterable[str] = (),
    summary: str | None = None,
    audience: str = "coordination",
    context_areas: Iterable[str] = (),
) -> None:
    """A plan event in the chronology: coordination information, the owning agency's record, in the
    item's areas (free text inherits them, RULES.md §4); ``audience="own_agency"`` keeps it within the
    owning agency."""
    assert kind in PLAN_CHRONOLOGY_KINDS, kind
    record_event(
        child_id,
        kind,
        owner_agency_id=owner_agency_id,
        audience=audience,
        areas=areas,
        context_areas=context_areas,
        summary=summary,
        author_person_id=actor.account.staff_person_id,
        object_type=object_type,
        object_public_id=public_id,
    )
