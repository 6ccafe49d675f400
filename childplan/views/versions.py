"""The plan's published versions, on the Plan blueprint: ``/children/<child_id>/plan/versions`` lists them
(number, date), ``/children/<child_id>/plan/versions/<version_id>`` shows one of them as it was published
(``childplan.version_view.build_version``) and ``/children/<child_id>/plan/versions/<from_id>...<to_id>``
shows what changed from one to the other (``childplan.version_view.build_diff``: each side filtered for the
viewer). Staff with a relation to
the child only (others: 404, audited by ``get_child_or_404``); a version is looked up by its public id AND
the child's plan, anything else is 404 with the refusal audited."""

from __future__ import annotations

from flask import render_template
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from childplan.access import get_version_or_404, get_versions_or_404, plan_of
from childplan.labels import STATUS_LABELS, chips
from childplan.models import PlanVersion
from childplan.version_view import ACTION_FIELDS, build_diff, build_version
from childplan.views.blueprints import plan
from coordination import audit
from coordination.access import ChildAccess, get_child_or_404
from coordination.children.views import child_tabs
from coordination.consent.view import ChildHeading
from coordination.database import db
from coordination.policies import policy, signed_in_actor

VIEW_VERSIONS = "view_plan_versions"
VIEW_VERSION_DIFF = "view_plan_version_diff"
VIEW_VERSION = "view_plan_version"
MAX_ID_LENGTH = 64


def _context(access: ChildAccess) -> dict[str, object]:
    return {"child": ChildHeading.of(access), "tabs": child_tabs(access.child.public_id, "plan")}


@plan.get("/children/<child_id>/plan/versions")
@policy("staff")
def versions(child_id: str) -> ResponseReturnValue:
    actor = signed_in_actor()
    access = get_child_or_404(actor, child_id, action=VIEW_VERSIONS)
    the_plan = plan_of(access)
    rows = []
    if the_plan is not None:
        audit.note_read(
            actor.audit_actor(),
            VIEW_VERSIONS,
            child_id=access.child.id,
            object_type="plan",
            object_id=the_plan.public_id,
            legal_basis=access.legal_basis,
        )
        rows = [
            {"public_id": row.public_id, "number": row.number, "published_at": row.published_at}
            for row in db.session.execute(
                select(PlanVersion.public_id, PlanVersion.number, PlanVersion.published_at)
                .where(PlanVersion.plan_id == the_plan.id)
                .order_by(PlanVersion.number.desc())
            )
        ]
    return render_template("childplan/versions.html", versions=rows, diff=None, **_context(access))


@plan.get("/children/<child_id>/plan/versions/<from_id>...<to_id>")
@policy("staff")
def version_diff(child_id: str, from_id: str, to_id: str) -> ResponseReturnValue:
    actor = signed_in_actor()
    access = get_child_or_404(actor, child_id, action=VIEW_VERSION_DIFF)
    older, newer = get_versions_or_404(access, from_id, to_id, VIEW_VERSION_DIFF)
    audit.note_read(
        actor.audit_actor(),
        VIEW_VERSION_DIFF,
        child_id=access.child.id,
        object_type="plan_version",
        object_id=newer.public_id,
        legal_basis=access.legal_basis,
        detail={"from": older.public_id},
    )
    return render_template(
        "childplan/versions.html",
        versions=None,
        diff=build_diff(access, older, newer),
        status_labels=STATUS_LABELS,
        chips=chips,
        action_fields=ACTION_FIELDS,
        **_context(access),
    )


@plan.get("/children/<child_id>/plan/versions/<version_id>")
@policy("staff")
def version(child_id: str, version_id: str) -> ResponseReturnValue:
    actor = signed_in_actor()
    access = get_child_or_404(actor, child_id, action=VIEW_VERSION)
    found = get_version_or_404(access, version_id, VIEW_VERSION)
    audit.note_read(
        actor.audit_actor(),
        VIEW_VERSION,
        child_id=access.child.id,
        object_type="plan_version",
        object_id=found.public_id,
        legal_basis=access.legal_basis,
    )
    return render_template(
        "childplan/version.html",
        version=build_version(access, found),
        status_labels=STATUS_LABELS,
        chips=chips,
        **_context(access),
    )
