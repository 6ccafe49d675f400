"""A current member of the child's team, as the page that removes them loads it."""

from __future__ import annotations

from flask import abort
from sqlalchemy import select

from childplan.withholding_view import own_team_member
from coordination import audit
from coordination.access import Actor, ChildAccess
from coordination.database import db
from coordination.teams.models import TeamMember

MAX_ID_LENGTH = 64


def get_team_member_or_404(actor: Actor, access: ChildAccess, member_id: str, action: str) -> TeamMember:
    """A current member of the child's team, by public id (the read is audited); anything else: 404
    (audited: ``not_a_current_member``)."""
    wanted = (member_id or "")[:MAX_ID_LENGTH]
    member = db.session.scalar(
        select(TeamMember).where(
            TeamMember.public_id == wanted, TeamMember.child_id == access.child.id, TeamMember.ended_at.is_(None)
        )
    )
    if member is None:
        audit.note_denied(
            actor.audit_actor(),
            action,
            child_id=access.child.id,
            object_type="team_member",
            object_id=wanted,
            detail={"reason": "not_a_current_member"},
        )
        abort(404)
    audit.note_read(
        actor.audit_actor(),
        action,
        child_id=access.child.id,
        object_type="team_member",
        object_id=member.public_id,
        legal_basis=access.legal_basis,
    )
    return member


def get_own_team_member_or_404(actor: Actor, access: ChildAccess, member_id: str, action: str) -> TeamMember:
    """A current membership of the child's team for the viewer's own agency (what its staff may withhold
    from guardians, RULES.md §6); another agency's membership, or none: 404 (audited:
    ``not_a_member_of_your_agency``)."""
    wanted = (member_id or "")[:MAX_ID_LENGTH]
    member = own_team_member(access, wanted)
    if member is None:
        audit.note_denied(
            actor.audit_actor(),
            action,
            child_id=access.child.id,
            object_type="team_member",
            object_id=wanted,
            detail={"reason": "not_a_member_of_your_agency"},
        )
        abort(404)
    return member
