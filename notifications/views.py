"""The in-app inbox (``/inbox``) and its unread-count badge (``/inbox/count``).

The inbox lists the actor's items for the acting agency, unread first, then newest, paged; each item is
rendered through the access core when read (``notifications.inbox.render_items``). Opening an item is a
POST that marks it read and then leads to the item's page as the access core allows it now; no GET
changes anything. The badge is a polling endpoint: it reveals only a count, does not extend the session
and writes no audit row (RULES.md §9).
"""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from coordination.auth import polling
from coordination.form_writes import commit
from coordination.paging import page_number, paginate
from coordination.policies import policy, signed_in_actor
from notifications.access import get_item_or_404
from notifications.forms import OpenItemForm
from notifications.inbox import inbox_statement, mark_read, render_items, unread_count

inbox = Blueprint("inbox", __name__)

VIEW_INBOX = "view_inbox"


@inbox.get("/inbox")
@policy("staff")
def index() -> ResponseReturnValue:
    actor = signed_in_actor()
    page = paginate(inbox_statement(actor), page_number())
    entries = render_items(actor, list(page.items))
    return render_template("inbox/index.html", page=page, entries=entries, form=OpenItemForm())


@inbox.post("/inbox/<item_id>/open")
@policy("staff")
def open_item(item_id: str) -> ResponseReturnValue:
    """Mark the item read, then go where it leads now (the inbox when it no longer leads anywhere)."""
    actor = signed_in_actor()
    if not OpenItemForm().validate_on_submit():
        abort(400)
    item = get_item_or_404(actor, item_id)
    (entry,) = render_items(actor, [item])
    mark_read(actor, item)
    commit()
    return redirect(entry.target_url if entry.available and entry.target_url else url_for("inbox.index"))


@inbox.get("/inbox/count")
@polling
@policy("staff")
def count() -> ResponseReturnValue:
    """The unread count only (polled by the badge in the top navigation every 60 seconds)."""
    actor = signed_in_actor()
    return render_template("inbox/_count.html", unread=unread_count(actor))
