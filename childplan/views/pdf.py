"""The Child's Plan as a PDF download, on the Plan blueprint: ``/children/<child_id>/plan.pdf``.

Staff with a relation to the child only (others: 404, audited by ``get_child_or_404``); no plan: 404
with the refusal audited. The PDF holds what ``PlanView.for_actor`` gives this viewer (``childplan.pdf``)
in the viewer's language; the download is audited as a read of the plan. ``childplan.views`` imports this
module, so the route is registered with the blueprint."""

from __future__ import annotations

from flask import Response
from flask.typing import ResponseReturnValue

from childplan.access import get_plan_or_404
from childplan.pdf import DOWNLOAD_PLAN_PDF, PDF_MIMETYPE, ChildFacts, pdf_filename, staff_plan_pdf
from childplan.views.blueprints import plan
from coordination import audit
from coordination.access import get_child_or_404
from coordination.clock import today
from coordination.policies import policy, signed_in_actor


@plan.get("/children/<child_id>/plan.pdf")
@policy("staff")
def plan_pdf(child_id: str) -> ResponseReturnValue:
    actor = signed_in_actor()
    access = get_child_or_404(actor, child_id, action=DOWNLOAD_PLAN_PDF)
    the_plan = get_plan_or_404(access, DOWNLOAD_PLAN_PDF)
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
