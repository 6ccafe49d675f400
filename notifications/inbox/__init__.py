"""The in-app inbox (RULES.md §8, §9), by purpose:

* ``listeners`` turn the coordination domain's signals into inbox items (``connect``), one per recipient
  and event, in the sender's transaction; an item holds no case content.
* ``reading`` lists and counts the actor's own items and marks one read when it is opened.
* ``loading`` loads what one page of items needs, in a fixed number of statements.
* ``rendering`` decides each item for the viewer *now*, through the access core, and audits it
  (``render_items``): a withdrawn consent or a lost relation turns an old item into "This item is no
  longer available to you".
"""

from __future__ import annotations

from notifications.inbox.listeners import LISTENERS, agency_admins, connect, intake_members, link_deciders
from notifications.inbox.loading import consent_pictures
from notifications.inbox.reading import inbox_statement, mark_read, unread_count
from notifications.inbox.rendering import READ_ITEM, UNAVAILABLE, InboxEntry, render_items

__all__ = [
    "LISTENERS",
    "READ_ITEM",
    "UNAVAILABLE",
    "InboxEntry",
    "agency_admins",
    "connect",
    "consent_pictures",
    "inbox_statement",
    "intake_members",
    "link_deciders",
    "mark_read",
    "render_items",
    "unread_count",
]
