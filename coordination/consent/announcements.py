"""What the consent ledger's writes tell the rest of the platform: the child's chronology entry for a
consent requested, recorded or withdrawn (``chronicle``), and — when a withdrawal ends an agency's
coordination consent — the ``role_needs_consent`` signal for that agency's role holders
(``coordination_in_effect``, ``tell_role_holders``). The ledger calls these after its flush and audit."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select

from coordination import events
from coordination.access import AnyActor, consent_picture
from coordination.children.models import Child, RoleAssignment
from coordination.chronology.record import record_event
from coordination.consent.models import Consent
from coordination.database import db


def chronicle(actor: AnyActor, consent: Consent, kind: str, areas: Collection[str]) -> None:
    """A consent change in the child's chronology: the consent's agency owns it, and whoever may know
    the agencies involved with the child may know of it (audience "agencies")."""

    account = getattr(actor, "account", None)
    author_id = account.staff_person_id if account is not None else None
    if author_id is None:
        author_id = consent.recorded_by_id
    record_event(
        consent.child_id,
        kind,
        owner_agency_id=consent.agency_id,
        audience="agencies",
        areas=areas,
        tone="neutral",
        author_person_id=author_id,
        object_type="consent",
        object_public_id=consent.public_id,
    )


def coordination_in_effect(consent: Consent) -> bool:
    """Whether the consent's agency holds a coordination consent in effect today (any area)."""
    if consent.purpose != "coordination":
        return False

    return bool(consent_picture(consent.child_id).areas_for(consent.agency_id, "coordination"))


def tell_role_holders(consent: Consent) -> None:
    """RULES.md §4: the withdrawal ended the coordination consent of the agency: every current Child
    Contact and Support Coordinator of that agency is told that the role needs a consented agency (the
    listener tells the role holder, the plan keeper and the agency admins)."""

    child = db.session.get(Child, consent.child_id)
    assignments = db.session.scalars(
        select(RoleAssignment)
        .where(
            RoleAssignment.child_id == consent.child_id,
            RoleAssignment.agency_id == consent.agency_id,
            RoleAssignment.role.in_(("child_contact", "support_coordinator")),
            RoleAssignment.ended_at.is_(None),
        )
        .order_by(RoleAssignment.id)
    ).all()
    for assignment in assignments:
        events.role_needs_consent.send(
            None,
            child=child,
            agency_id=assignment.agency_id,
            person_id=assignment.staff_person_id,
            role=assignment.role,
        )
