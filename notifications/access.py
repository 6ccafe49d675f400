"""Who may reach an inbox item: only its recipient, acting for the agency it was sent to (RULES.md §8).
Anything else is 404 with the attempt audited, as for every object in an address."""

from __future__ import annotations

from flask import abort
from sqlalchemy import select

from coordination import audit
from coordination.access import Actor
from coordination.database import db
from notifications.models import InboxItem

OPEN_ITEM = "open_inbox_item"
MAX_ID_LENGTH = 64


def get_item_or_404(actor: Actor, item_id: str) -> InboxItem:
    """The actor's own item for the acting agency, by its public id; anyone else's, or none: 404, audited."""
    assert actor.acting_agency is not None  # staff only: the inbox's policy
    item = db.session.scalar(
        select(InboxItem).where(
            InboxItem.public_id == (item_id or "")[:MAX_ID_LENGTH],
            InboxItem.recipient_person_id == actor.account.staff_person_id,
            InboxItem.recipient_agency_id == actor.acting_agency.id,
        )
    )
    if item is None:
        audit.note_denied(
            actor.audit_actor(), OPEN_ITEM, object_type="inbox_item", object_id=(item_id or "")[:MAX_ID_LENGTH]
        )
        abort(404)
    return item
