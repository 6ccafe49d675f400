"""Reports of concern (the duty to report, RULES.md §5): the form (``/reports/new``), the reporter's
receipt (``/reports/<report_id>``) and list (``/reports``), and the intake queue (``/intake``) with one
report's page and intake's actions (``/intake/<report_id>/…``).

The receipt is the same page whether the child is known or not: it shows the reference, the date, the
status and nothing about the child. The identity number travels only in the POST body and is never
written back into a page, a URL, a log line or a flash message. Intake pages are for staff whose acting
membership holds the intake role in a social-services agency; everyone else gets 404 (audited). Every
write is a plain form (no JavaScript needed), one commit per request; a refusal shows the form again
with the message next to its field and status 422, nothing written.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from coordination.access import Actor
from coordination.children.models import Child
from coordination.database import db
from coordination.errors import OperationError
from coordination.form_writes import commit
from coordination.paging import page_number, paginate
from coordination.policies import current_actor, policy
from coordination.reports.access import (
    QUEUE_OPTIONS,
    RECEIPT_LIST_OPTIONS,
    IntakeReportView,
    ReceiptView,
    agency_units,
    candidates,
    child_to_match,
    get_intake_report_or_404,
    get_receipt_or_404,
    intake_actor_or_404,
    intake_queue_statement,
    is_staff,
    own_reports_statement,
    queue_rows,
    registered_child_with_number,
    report_by_reference,
    search_children,
    social_services_agencies,
)
from coordination.reports.forms import (
    AcknowledgeForm,
    AssignForm,
    DuplicateForm,
    MatchForm,
    RegisterChildForm,
    ReportForm,
    SearchChildForm,
)
from coordination.reports.models import ReportOfConcern
from coordination.reports.operations import (
    IntakeChildData,
    ReportData,
    acknowledge_report,
    assign_report,
    file_report,
    mark_report_duplicate,
    match_report,
    register_child_for_report,
)

reports = Blueprint("reports", __name__)

MAX_REFERENCE_QUERY = 20
# Audit actions of the reads (and refusals) on these pages; the writes are audited by the operations.
VIEW_RECEIPT = "view_report_receipt"
VIEW_QUEUE = "view_intake_queue"
VIEW_REPORT = "view_report"
INTAKE_ACTION = "intake_report_action"


def _staff() -> Actor:
    actor = current_actor()
    if not is_staff(actor):  # the policy has refused already; a backstop
        abort(404)
    assert actor is not None
    return actor


# -- filing ------------------------------------------------------------------------------------------------
def _report_form() -> ReportForm:
    return ReportForm(agencies=[(agency.public_id, agency.name) for agency in social_services_agencies()])


def _form_page(form: ReportForm, status: int = 200) -> tuple[str, int]:
    return render_template("reports/new.html", form=form, has_agency=bool(form.agency.choices)), status


@reports.get("/reports/new")
@policy("staff")
def new() -> ResponseReturnValue:
    _staff()
    return _form_page(_report_form())


@reports.post("/reports/new")
@policy("staff")
def create() -> ResponseReturnValue:
    actor = _staff()
    form = _report_form()
    if not form.validate_on_submit():
        return _form_page(form, 422)
    agency = next(agency for agency in social_services_agencies() if agency.public_id == form.agency.data)
    data = ReportData(
        social_services_agency=agency,
        what_happened=form.what_happened.data or "",
        identity_number=form.number,
        given_name=form.given_name.data or None,
        family_name=form.family_name.data or None,
        birth_date=form.parsed_birth_date,
        is_child_in_danger_now=bool(form.is_child_in_danger_now.data),
        reporter_phone=form.reporter_phone.data or None,
    )
    try:
        report = file_report(actor, data)
        public_id = report.public_id
        commit()
    except OperationError as error:
        # The form checks everything the operation checks; a backstop, never a 500.
        db.session.rollback()
        field = getattr(form, error.field or "", None) or form.what_happened
        field.errors = [*list(field.errors or ()), error.message]
        return _form_page(form, 422)
    return redirect(url_for("reports.receipt", report_id=public_id))


@reports.get("/reports/<report_id>")
@policy("staff")
def receipt(report_id: str) -> ResponseReturnValue:
    actor = _staff()
    report = get_receipt_or_404(actor, report_id, VIEW_RECEIPT)
    return render_template("reports/receipt.html", receipt=ReceiptView.of(report))


@reports.get("/reports")
@policy("staff")
def mine() -> ResponseReturnValue:
    actor = _staff()
    page = paginate(own_reports_statement(actor), page_number(), RECEIPT_LIST_OPTIONS)
    receipts = [ReceiptView.of(report) for report in page.items]
    return render_template("reports/mine.html", page=page, receipts=receipts)


# -- the intake queue --------------------------------------------------------------------------------------
@reports.get("/intake")
@policy("staff")
def intake() -> ResponseReturnValue:
    actor = intake_actor_or_404(current_actor(), VIEW_QUEUE)
    reference = (request.args.get("reference") or "").strip()[:MAX_REFERENCE_QUERY]
    page = paginate(intake_queue_statement(actor, reference), page_number(), QUEUE_OPTIONS)
    rows = queue_rows(actor, list(page.items), VIEW_QUEUE)
    return render_template("reports/intake.html", page=page, rows=rows, reference=reference)


def _report_page(
    actor: Actor,
    report: ReportOfConcern,
    status: int = 200,
    *,
    acknowledge: AcknowledgeForm | None = None,
    match: MatchForm | None = None,
    search: SearchChildForm | None = None,
    register: RegisterChildForm | None = None,
    duplicate: DuplicateForm | None = None,
    assign: AssignForm | None = None,
    found: list[Child] | None = None,
    searched: bool = False,
) -> tuple[str, int]:
    view = IntakeReportView.of(report)
    number_child = registered_child_with_number(actor, report)
    number_candidate = candidates([number_child])[0] if number_child is not None else None
    found_candidates = candidates(found or [])
    match = match or MatchForm(formdata=None)
    units = agency_units(report.social_services_agency_id)
    assign = assign or AssignForm(formdata=None, units=[(unit.public_id, unit.name) for unit in units])
    if assign.unit.data is None and view.assigned_unit_public_id:
        assign.unit.data = view.assigned_unit_public_id
    if register is None:
        register = RegisterChildForm(formdata=None, needs_birth_date=not view.has_number)
        register.register_given_name.data = report.given_name
        register.register_family_name.data = report.family_name
        if report.birth_date is not None and not view.has_number:
            register.register_birth_date.data = report.birth_date.isoformat()
    failed = next(
        (
            form
            for form in (acknowledge, match, search, register, duplicate, assign)
            if form is not None and status >= 400
        ),
        None,
    )
    return (
        render_template(
            "reports/intake_report.html",
            report=view,
            number_candidate=number_candidate,
            found=found_candidates,
            searched=searched,
            acknowledge_form=acknowledge or AcknowledgeForm(formdata=None),
            match_form=match,
            search_form=search or SearchChildForm(formdata=None),
            register_form=register,
            duplicate_form=duplicate or DuplicateForm(formdata=None),
            assign_form=assign,
            failed_form=failed,
        ),
        status,
    )


def _intake_report(report_id: str, action: str) -> tuple[Actor, ReportOfConcern]:
    actor = intake_actor_or_404(current_actor(), action, report_id)
    return actor, get_intake_report_or_404(actor, report_id, action)


@reports.get("/intake/<report_id>")
@policy("staff")
def intake_report(report_id: str) -> ResponseReturnValue:
    actor, report = _intake_report(report_id, VIEW_REPORT)
    return _report_page(actor, report)


def _write(form: FlaskForm, write: Callable[[], object]) -> bool:
    """Run one write and commit it; on a refusal roll back and put the message next to its field."""
    try:
        write()
        commit()
    except OperationError as error:
        db.session.rollback()
        field = form._fields.get(error.field) if error.field else None
        if field is not None:
            field.errors = [*list(field.errors or ()), error.message]
        else:
            form.form_errors.append(error.message)
        return False
    except IntegrityError:
        db.session.rollback()
        form.form_errors.append(_("Someone changed this report at the same moment, so nothing was saved. Try again."))
        return False
    return True


def _back(report_id: str) -> Response:
    return redirect(url_for("reports.intake_report", report_id=report_id))


@reports.post("/intake/<report_id>/acknowledge")
@policy("staff")
def acknowledge(report_id: str) -> ResponseReturnValue:
    actor, report = _intake_report(report_id, INTAKE_ACTION)
    form = AcknowledgeForm()
    if not form.validate_on_submit() or not _write(form, lambda: acknowledge_report(actor, report)):
        return _report_page(actor, report, 422, acknowledge=form)
    flash(_("Acknowledged. The reporter now sees this on their receipt."), "info")
    return _back(report_id)


@reports.post("/intake/<report_id>/search")
@policy("staff")
def search_child(report_id: str) -> ResponseReturnValue:
    """Find registered children by name and birth date: a POST that writes nothing but keeps names out of
    addresses; every child shown is audited."""
    actor, report = _intake_report(report_id, INTAKE_ACTION)
    form = SearchChildForm()
    if not form.validate_on_submit():
        return _report_page(actor, report, 422, search=form)
    found = search_children(actor, report, form.search_name.data or "", form.parsed_birth_date)
    return _report_page(actor, report, search=form, found=found, searched=True)


@reports.post("/intake/<report_id>/match")
@policy("staff")
def match(report_id: str) -> ResponseReturnValue:
    actor, report = _intake_report(report_id, INTAKE_ACTION)
    form = MatchForm()
    if not form.validate_on_submit():
        return _report_page(actor, report, 422, match=form)
    child = child_to_match(actor, report, form.match_child.data or "")
    if child is None:
        form.match_child.errors = [_("Choose the child the report is about.")]
        return _report_page(actor, report, 422, match=form)
    if not _write(form, lambda: match_report(actor, report, child)):
        return _report_page(actor, report, 422, match=form)
    flash(_("Matched. Intake can now open the child's page."), "info")
    return _back(report_id)


@reports.post("/intake/<report_id>/register")
@policy("staff")
def register(report_id: str) -> ResponseReturnValue:
    actor, report = _intake_report(report_id, INTAKE_ACTION)
    form = RegisterChildForm(needs_birth_date=report.identity_number_hash is None)
    if not form.validate_on_submit():
        return _report_page(actor, report, 422, register=form)
    data = IntakeChildData(
        given_name=form.register_given_name.data or "",
        family_name=form.register_family_name.data or "",
        birth_date=form.parsed_birth_date,
    )
    if not _write(form, lambda: register_child_for_report(actor, report, data)):
        return _report_page(actor, report, 422, register=form)
    flash(_("The child is registered and the report is matched to the child."), "info")
    return _back(report_id)


@reports.post("/intake/<report_id>/duplicate")
@policy("staff")
def duplicate(report_id: str) -> ResponseReturnValue:
    actor, report = _intake_report(report_id, INTAKE_ACTION)
    form = DuplicateForm()
    if not form.validate_on_submit():
        return _report_page(actor, report, 422, duplicate=form)
    original = report_by_reference(report.social_services_agency_id, form.duplicate_reference.data or "")
    if original is None:
        form.duplicate_reference.errors = [_("No report with that reference was sent to your agency.")]
        return _report_page(actor, report, 422, duplicate=form)
    if not _write(form, lambda: mark_report_duplicate(actor, report, original)):
        return _report_page(actor, report, 422, duplicate=form)
    flash(_("Linked as a duplicate."), "info")
    return _back(report_id)


@reports.post("/intake/<report_id>/assign")
@policy("staff")
def assign(report_id: str) -> ResponseReturnValue:
    actor, report = _intake_report(report_id, INTAKE_ACTION)
    units = agency_units(report.social_services_agency_id)
    form = AssignForm(units=[(unit.public_id, unit.name) for unit in units])
    if not form.validate_on_submit():
        return _report_page(actor, report, 422, assign=form)
    unit = next(unit for unit in units if unit.public_id == form.unit.data)
    unit_name = unit.name
    if not _write(form, lambda: assign_report(actor, report, unit)):
        return _report_page(actor, report, 422, assign=form)
    flash(_("Assigned to %(unit)s.", unit=unit_name), "info")
    return _back(report_id)
