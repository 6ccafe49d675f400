"""The actor's own items: the inbox's list and its unread count (for the acting agency), and marking an
item read when it is opened."""

from __future__ import annotations

from sqlalchemy import Select, func, select

from coordination import audit
from coordination.access import Actor
from coordination.clock import now
from coordination.database import db
from notifications.models import InboxItem


def inbox_statement(actor: Actor) -> Select[tuple[InboxItem]]:
    """The actor's items for the acting agency: unread first, then newest."""
    assert actor.acting_agency is not None
    return (
        select(InboxItem)
        .where(
            InboxItem.recipient_person_id == actor.account.staff_person_id,
            InboxItem.recipient_agency_id == actor.acting_agency.id,
        )
        .order_by(InboxItem.read_at.is_not(None), InboxItem.created_at.desc(), InboxItem.id.desc())
    )


def unread_count(actor: Actor) -> int:
    assert actor.acting_agency is not None
    return (
        db.session.scalar(
            select(func.count(InboxItem.id)).where(
                InboxItem.recipient_person_id == actor.account.staff_person_id,
                InboxItem.recipient_agency_id == actor.acting_agency.id,
                InboxItem.read_at.is_(None),
            )
        )
        or 0
    )


def mark_read(actor: Actor, item: InboxItem) -> None:
    """Opening an item marks it read (once), audited in the same transaction; the caller commits."""
    if item.read_at is not None:
        return
    item.read_at = now()
    db.session.flush()
    audit.record_write(
        actor.audit_actor(),
        "read_inbox_item",
        child_id=item.child_id,
        object_type="inbox_item",
        object_id=item.public_id,
        detail={"kind": item.kind},
    )
