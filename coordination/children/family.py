"""What a family viewer (guardian, young person) sees of their children on the home page. The family
portal comes in a later issue; this is the list of children in custody with whom to call."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from coordination import settings
from coordination.access import GUARDIAN, Actor
from coordination.children.models import Child, Custody, RoleAssignment, age_in_years
from coordination.clock import today
from coordination.database import db


def family_child_rows(actor: Actor, children: Sequence[Child]) -> list[dict[str, object]]:

    ids = [child.id for child in children]
    if not ids:
        return []
    contacts = {
        assignment.child_id: assignment
        for assignment in db.session.scalars(
            select(RoleAssignment)
            .where(
                RoleAssignment.child_id.in_(ids),
                RoleAssignment.role == "child_contact",
                RoleAssignment.ended_at.is_(None),
            )
            .options(joinedload(RoleAssignment.staff_person))
        )
    }
    restricted: set[int] = set()
    if actor.kind == GUARDIAN:
        restricted = set(
            db.session.scalars(
                select(Custody.child_id).where(
                    Custody.guardian_id == actor.account.guardian_id,
                    Custody.child_id.in_(ids),
                    Custody.is_restricted.is_(True),
                )
            )
        )
    rows: list[dict[str, object]] = []
    for child in children:
        hidden = child.has_protected_identity or child.id in restricted
        contact = contacts.get(child.id)
        rows.append(
            {
                "name": child.full_name,
                "given_name": child.given_name,
                "age": age_in_years(child.birth_date, today()),
                "contact_name": None if hidden or contact is None else contact.staff_person.full_name,
                "contact_phone": None if hidden or contact is None else contact.staff_person.phone,
                "contact_email": None if hidden or contact is None else contact.staff_person.email,
                "switchboard": settings.switchboard_phone() if hidden else None,
            }
        )
    return rows
