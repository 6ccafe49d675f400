"""The Chronology tab (``/children/<child_id>/chronology``): the child's significant events, newest
first, paged and filterable by Needs Compass area and by agency (GET parameters; nothing is written).
The child is reached through ``access.get_child_or_404`` (audited; out of scope is 404); each entry is
decided for the viewer in ``coordination.chronology.view``."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, render_template, request, url_for
from flask.typing import ResponseReturnValue

from coordination import audit
from coordination.access import STAFF, get_child_or_404
from coordination.children.view import WITHHELD_BECAUSE, WITHHELD_REASONS
from coordination.children.views import child_tabs
from coordination.chronology.view import build_chronology
from coordination.consent.view import ChildHeading
from coordination.paging import page_number
from coordination.policies import current_actor, policy

chronology = Blueprint("chronology", __name__)

VIEW_TAB = "view_child_chronology"


@chronology.get("/children/<child_id>/chronology")
@policy("staff")
def index(child_id: str) -> ResponseReturnValue:
    actor = current_actor()
    if actor is None or actor.kind != STAFF or actor.acting_agency is None:  # the policy already says so
        if actor is not None:
            audit.note_denied(actor.audit_actor(), VIEW_TAB, object_type="child", detail={"reason": "not_staff"})
        abort(404)
    access = get_child_or_404(actor, child_id, action=VIEW_TAB)
    view = build_chronology(
        access,
        page_number(),
        request.args.getlist("area"),
        request.args.get("agency"),
    )

    def page_url(number: int) -> str:
        # every chosen area is kept (paging.Page.url_for_page keeps one value per parameter)
        args: dict[str, Any] = {"page": number}  # url_for takes its values as Any
        chosen = [area.code for area in view.areas if area.selected]
        if chosen:
            args["area"] = chosen
        agency = next((option.public_id for option in view.agencies if option.selected), None)
        if agency:
            args["agency"] = agency
        return url_for("chronology.index", child_id=access.child.public_id, **args)

    return render_template(
        "chronology/index.html",
        child=ChildHeading.of(access),
        chronology=view,
        page_url=page_url,
        tabs=child_tabs(access.child.public_id, "chronology"),
        withheld_reasons=WITHHELD_REASONS,
        withheld_because=WITHHELD_BECAUSE,
    )
