"""The in-app inbox (``/inbox``) and its unread-count badge (``/inbox/count``).

The inbox lists the actor's items for the acting agency, unread first, then newest, paged; each item is
rendered through the access core when read (``notifications.inbox.render_items``). Opening an item is a
POST that marks it read and then leads to the item's page as the access core allows it now; no GET
changes anything. The badge is a polling endpoint: it reveals only a count, does not extend the session
and writes no audit row (RULES.md §9).
"""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, url_for
from sqlalchemy import select

from coordination import audit
from coordination.access import STAFF, Actor
from coordination.auth import polling
from coordination.database import db
from coordination.paging import page_number, paginate
from coordination.policies import current_actor, policy
from notifications.forms import OpenItemForm
from notifications.inbox import inbox_statement, mark_read, render_items, unread_count
from notifications.models import InboxItem

inbox = Blueprint("inbox", __name__)

VIEW_INBOX = "view_inbox"
OPEN_ITEM = "open_inbox_item"
MAX_ID_LENGTH = 64


def _staff_actor() -> Actor:
    actor = current_actor()
    if actor is None or actor.kind != STAFF or actor.acting_agency is None:
        abort(404)  # the policy already refuses (and audits) anyone else
    return actor


@inbox.get("/inbox")
@policy("staff")
def index():  # type: ignore[no-untyped-def]
    actor = _staff_actor()
    page = paginate(inbox_statement(actor), page_number())
    entries = render_items(actor, list(page.items))
    return render_template("inbox/index.html", page=page, entries=entries, form=OpenItemForm())


@inbox.post("/inbox/<item_id>/open")
@policy("staff")
def open_item(item_id: str):  # type: ignore[no-untyped-def]
    """Mark the item read, then go where it leads now (the inbox when it no longer leads anywhere)."""
    actor = _staff_actor()
    if not OpenItemForm().validate_on_submit():
        abort(400)
    assert actor.acting_agency is not None
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
    (entry,) = render_items(actor, [item])
    mark_read(actor, item)
    db.session.commit()
    return redirect(entry.target_url if entry.available and entry.target_url else url_for("inbox.index"))


@inbox.get("/inbox/count")
@polling
@policy("staff")
def count():  # type: ignore[no-untyped-def]
    """The unread count only (polled by the badge in the top navigation every 60 seconds)."""
    actor = _staff_actor()
    return render_template("inbox/_count.html", unread=unread_count(actor))
