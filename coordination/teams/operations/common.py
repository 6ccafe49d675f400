"""What every team operation shares: the plan keeper (the child's current Support Coordinator, otherwise
the Child Contact, acting for the agency of that assignment), the refusal for anyone else, and the
checks of free text and Needs Compass areas (``OperationError(message, field)``, before anything is
written)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime

from sqlalchemy import select

from childplan.compass import AREA_CODES
from coordination.access import Actor, is_keeper, plan_keeper
from coordination.children.models import Child, RoleAssignment
from coordination.clock import current_clock
from coordination.database import db
from coordination.errors import OperationError
from coordination.errors import refusal_message as _
from coordination.teams.models import TeamMember

PURPOSE = "team_meetings"


def keeper_or_refuse(actor: Actor, child: Child) -> RoleAssignment:
    """The plan keeper's assignment when the actor is the plan keeper; otherwise refused (field "form")."""
    keeper = plan_keeper(child.id)
    if keeper is None or not is_keeper(actor, keeper):
        raise OperationError(_("Only the plan keeper can do this"), "form")
    return keeper


def clean_text(
    value: str | None, field_name: str, maximum: int, *, required: bool = False, message: str = ""
) -> str | None:
    """Stripped text (None when empty), refused when required and empty or longer than ``maximum``."""
    cleaned = (value or "").strip() or None
    if cleaned is None and required:
        raise OperationError(message or _("This field is required"), field_name)
    if cleaned is not None and len(cleaned) > maximum:
        raise OperationError(_("Write at most %(max)d characters", max=maximum), field_name)
    return cleaned


def checked_areas(values: Collection[str] | None, field_name: str = "areas") -> list[str]:
    """Needs Compass area codes, in compass order; an unknown code is refused."""
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
