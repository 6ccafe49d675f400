"""The words the plan's pages, the worklist and the PDF show for the plan's codes: an action's status and
the Needs Compass chips of an item (a leaf module beside ``compass``)."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext

from childplan.compass import AREA_CODES, BY_CODE

STATUS_LABELS: dict[str, object] = {
    "planned": lazy_pgettext("action status", "Planned"),
    "in_progress": _l("In progress"),
    "done": _l("Done"),
    "stopped": _l("Stopped"),
}
CLOSED_STATUSES = ("done", "stopped")


@dataclass(frozen=True)
class Chip:
    code: str
    label: object
    css_class: str


def chips(codes: tuple[str, ...]) -> tuple[Chip, ...]:
    return tuple(Chip(code, BY_CODE[code].label, BY_CODE[code].css_class) for code in AREA_CODES if code in codes)
