"""The Child's Plan in brief on the child's Overview (UX.md: "what happens next"): whether there is a plan,
its next review, and the compass wheel of the latest review with a link to the trend — each decided for the
viewer exactly as on the Plan tab (the plan-level texts under ``may_see_item`` in every area; the reviews
for the viewers ``may_see_reviews`` lets see them, each rating by ``ReviewView.for_actor``). Registered with
the Overview at import (coordination does not import childplan)."""

from __future__ import annotations

from flask import url_for

from childplan.access import ALL_AREAS, PURPOSE, plan_of, reviews_listed
from childplan.review_view import ReviewView
from coordination import audit
from coordination.access import ChildAccess, may_see_item
from coordination.children.views import OverviewSection, register_overview_section

TEMPLATE = "childplan/_overview_section.html"
VIEW_PLAN = "view_child_plan"  # as the Plan tab notes it


@register_overview_section
def plan_in_brief(access: ChildAccess) -> OverviewSection | None:
    the_plan = plan_of(access)
    if the_plan is None:
        return None
    texts_shown = bool(may_see_item(access, the_plan.agency_id, PURPOSE, ALL_AREAS))
    if texts_shown:  # its status and next review are the plan's own texts: a read of the plan
        audit.note_read(
            access.actor.audit_actor(),
            VIEW_PLAN,
            child_id=access.child.id,
            object_type="plan",
            object_id=the_plan.public_id,
            legal_basis=access.legal_basis,
        )
    latest = None
    listed = reviews_listed(access, the_plan)
    if listed:
        latest = ReviewView.for_actor(access, the_plan, listed[0][0])
    if latest is not None:  # its ratings are shown: a read of the review (the Overview's own read is noted)
        audit.note_read(
            access.actor.audit_actor(),
            "view_plan_review",
            child_id=access.child.id,
            object_type="plan_review",
            object_id=latest.public_id,
            legal_basis=access.legal_basis,
        )
    child_id = access.child.public_id
    return OverviewSection(
        TEMPLATE,
        {
            "plan_url": url_for("plan.index", child_id=child_id),
            "status": the_plan.status if texts_shown else None,
            "next_review_on": the_plan.next_review_on if texts_shown else None,
            "latest_review": latest,
            "review_url": url_for("reviews.show", child_id=child_id, review_id=latest.public_id) if latest else None,
        },
    )
