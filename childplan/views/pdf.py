"""The Child's Plan as a PDF download, on the Plan blueprint: ``/children/<child_id>/plan.pdf``.

Staff with a relation to the child only (others: 404, audited by ``get_child_or_404``); no plan: 404
with the refusal audited. The PDF holds what ``PlanView.for_actor`` gives this viewer (``childplan.pdf``)
in the viewer's language; the download is audited as a read of the plan. ``childplan.views`` imports this
module, so the route is registered with the blueprint."""

from __future__ import annotations

from flask import Response, abort

from childplan.access import plan_of
from childplan.pdf import DOWNLOAD_PLAN_PDF, PDF_MIMETYPE, ChildFacts, pdf_filename, staff_plan_pdf
from childplan.views.blueprints import plan
from coordination import audit
from coordination.access import STAFF, get_child_or_404, refuse_404
from coordination.clock import today
from coordination.policies import current_actor, policy


@plan.get("/children/<child_id>/plan.pdf")
@policy("staff")
def plan_pdf(child_id: str):  # type: ignore[no-untyped-def]
    actor = current_actor()
    if actor is None or actor.kind != STAFF or actor.acting_agency is None:
        abort(404)  # the policy has already refused (and audited) anyone but staff
    access = get_child_or_404(actor, child_id, action=DOWNLOAD_PLAN_PDF)
    the_plan = plan_of(access)
    if the_plan is None:
        refuse_404(access, DOWNLOAD_PLAN_PDF, "no_plan")
    audit.note_read(
        actor.audit_actor(),
        DOWNLOAD_PLAN_PDF,
        child_id=access.child.id,
        object_type="plan",
        object_id=the_plan.public_id,
        legal_basis=access.legal_basis,
    )
    document = staff_plan_pdf(access, the_plan)
    filename = pdf_filename(ChildFacts.of(access.child), today())
    response = Response(document, mimetype=PDF_MIMETYPE)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response
