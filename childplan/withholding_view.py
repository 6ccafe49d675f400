"""Items withheld from guardians (RULES.md §6), as the owning agency's staff reach them: the lookups the
"Withhold from guardians" controls use (an item of the viewer's own acting agency, looked up through the
child — and the plan, for a need or an action — or nothing, which the page answers with 404), and the
recorded reasons shown to that agency's staff beside the "Withheld from guardians" badge.

Scoped queries only: every function takes the ``ChildAccess`` the page reached the child with and never
returns another agency's item or reason."""

from __future__ import annotations

from sqlalchemy import select, union_all

from childplan.models import Action, Need, Plan
from coordination.access import ChildAccess
from coordination.database import db
from coordination.teams.models import TeamMember


def _own_agency_id(access: ChildAccess) -> int | None:
    acting = access.actor.acting_agency
    return acting.id if acting is not None else None


def own_need(access: ChildAccess, plan: Plan, public_id: str) -> Need | None:
    """A need of this child's plan that is the viewer's own agency's record."""
    return db.session.scalar(
        select(Need).where(
            Need.public_id == public_id,
            Need.plan_id == plan.id,
            Need.child_id == access.child.id,
            Need.agency_id == _own_agency_id(access),
        )
    )


def own_action(access: ChildAccess, plan: Plan, public_id: str) -> Action | None:
    """An action of this child's plan that the viewer's own agency owns."""
    return db.session.scalar(
        select(Action).where(
            Action.public_id == public_id,
            Action.plan_id == plan.id,
            Action.child_id == access.child.id,
            Action.owner_agency_id == _own_agency_id(access),
        )
    )


def own_team_member(access: ChildAccess, public_id: str) -> TeamMember | None:
    """A current membership of the child's team for the viewer's own agency."""
    return db.session.scalar(
        select(TeamMember).where(
            TeamMember.public_id == public_id,
            TeamMember.child_id == access.child.id,
            TeamMember.agency_id == _own_agency_id(access),
            TeamMember.ended_at.is_(None),
        )
    )


def own_withheld_plan_reasons(access: ChildAccess, plan: Plan) -> dict[str, str]:
    """The reasons recorded for the viewer's own agency's needs and actions withheld from guardians, by
    public id (one statement)."""
    own = _own_agency_id(access)
    needs = select(Need.public_id, Need.withheld_reason).where(
        Need.plan_id == plan.id, Need.agency_id == own, Need.is_withheld_from_guardians.is_(True)
    )
    actions = select(Action.public_id, Action.withheld_reason).where(
        Action.plan_id == plan.id, Action.owner_agency_id == own, Action.is_withheld_from_guardians.is_(True)
    )
    rows = db.session.execute(union_all(needs, actions))
    return {public_id: reason or "" for public_id, reason in rows}


def own_withheld_member_reasons(access: ChildAccess) -> dict[str, str]:
    """The reasons recorded for the viewer's own agency's current team memberships withheld from
    guardians, by public id (one statement)."""
    rows = db.session.execute(
        select(TeamMember.public_id, TeamMember.withheld_reason).where(
            TeamMember.child_id == access.child.id,
            TeamMember.agency_id == _own_agency_id(access),
            TeamMember.ended_at.is_(None),
            TeamMember.is_withheld_from_guardians.is_(True),
        )
    )
    return {public_id: reason or "" for public_id, reason in rows}
