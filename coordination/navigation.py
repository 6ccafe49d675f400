"""The top navigation per kind of actor (UX.md). Items whose page is not built yet are left out."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, request, url_for
from flask_babel import lazy_gettext as _l

from coordination.access import Actor


@dataclass(frozen=True)
class NavItem:
    label: object
    endpoint: str

    @property
    def url(self) -> str:
        return url_for(self.endpoint)

    @property
    def is_current(self) -> bool:
        return request.endpoint == self.endpoint


_STAFF = (
    NavItem(_l("My children"), "children.home"),
    NavItem(_l("Inbox"), "inbox.index"),
    NavItem(_l("Worklist"), "worklist.index"),
    NavItem(_l("Search"), "children.search"),
    NavItem(_l("Raise a concern"), "concerns.new"),
    # Every member of staff has the duty to report; their own reports and the form are one page away
    # (the police have no child pages, so this is their way in).
    NavItem(_l("Reports of concern"), "reports.mine"),
)
_AGENCY_ADMIN_EXTRA = (NavItem(_l("My agency"), "agency.index"),)
_INTAKE_EXTRA = (NavItem(_l("Intake"), "reports.intake"),)
_FAMILY = (NavItem(_l("My children"), "children.home"),)
_YOUNG_PERSON = (NavItem(_l("Me"), "children.home"),)
_PLATFORM_ADMIN = (
    NavItem(_l("Home"), "children.home"),
    NavItem(_l("Agencies"), "admin.agencies"),
    NavItem(_l("Staff"), "admin.staff"),
    NavItem(_l("Settings"), "admin.settings"),
)
_ANALYST = (NavItem(_l("Home"), "children.home"), NavItem(_l("Statistics"), "stats.index"))


def nav_items(actor: Actor | None) -> list[NavItem]:
    if actor is None:
        return []
    items: tuple[NavItem, ...]
    if actor.kind == "staff":
        items = _STAFF + (_INTAKE_EXTRA if "intake" in actor.roles else ())
        items += _AGENCY_ADMIN_EXTRA if actor.is_agency_admin else ()
    elif actor.kind == "guardian":
        items = _FAMILY
    elif actor.kind == "young_person":
        items = _YOUNG_PERSON
    elif actor.kind == "platform_admin":
        items = _PLATFORM_ADMIN
    elif actor.kind == "analyst":
        items = _ANALYST
    else:
        items = ()
    built = current_app.view_functions
    return [item for item in items if item.endpoint in built]
