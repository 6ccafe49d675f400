"""The worklist: the actions I or my unit own across children (agency admins: their agency's), overdue first.

GET  /worklist                                 worklist.index            staff
POST /worklist/actions/<action_id>             worklist.update_action    staff: the owner (person or unit) or the
                                                                         plan keeper; anyone else 404 (audited)
POST /worklist/actions/<action_id>/reassign    worklist.reassign_action  staff: an agency admin of the action's
                                                                         owner agency, acting for it; anyone else
                                                                         404 (audited)

The inline update works as a plain form (redirect back to the worklist with a flash) and with htmx (the
row's form posts with hx-post and swaps the row: templates/worklist/_row.html). A stale version answers
409 with the action's current state and the text the user typed; bad input 422 with the message in the row.
Reassigning works the same way from the agency view's rows (templates/worklist/_agency_row.html).
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from childplan.access import ACTION_OWNER_BASIS, get_action_or_404, load_action
from childplan.forms import ActionUpdateForm, ReassignForm
from childplan.operations import ActionUpdateData, update_action
from childplan.operations.actions import reassign_action
from childplan.views.blueprints import worklist
from childplan.worklist_view import (
    DUE_FILTERS,
    FILTER_KEYS,
    STATUS_FILTERS,
    ReassignChoices,
    WorklistRow,
    agency_row_for,
    build_worklist,
    children_of,
    owner_ids,
    reassign_choices,
    row_for,
    team_child_ids,
)
from coordination import audit
from coordination.access import AGENCY_ADMIN_DECIDES
from coordination.errors import OperationError
from coordination.extensions import htmx
from coordination.form_writes import write_and_commit
from coordination.paging import page_number
from coordination.policies import policy, signed_in_actor

ROW_TEMPLATE = "worklist/_row.html"
AGENCY_ROW_TEMPLATE = "worklist/_agency_row.html"


def _reassign_form_for(row: WorklistRow) -> ReassignForm:
    return ReassignForm(
        formdata=None,
        data={
            "owner_unit": row.owner_unit_public_id,
            "owner_person": row.owner_person_public_id,
            "version": row.version,
        },
    )


def _kept_args(args: dict[str, str] | None = None) -> dict[str, Any]:
    """The worklist's filters and page, carried through the update and back."""
    given = request.args.to_dict() if args is None else args
    return {key: value for key, value in given.items() if key in (*FILTER_KEYS, "page") and value}


@worklist.get("/agency/actions")
@policy("agency_admin")
def agency_actions() -> ResponseReturnValue:
    """UX.md's address for the agency's actions under "My agency": the worklist's agency view."""
    return _worklist_page({**request.args.to_dict(), "view": "agency"})


@worklist.route("/worklist")
@policy("staff")
def index() -> ResponseReturnValue:
    return _worklist_page(request.args.to_dict())


def _worklist_page(args: dict[str, str]) -> ResponseReturnValue:
    actor = signed_in_actor()
    view = build_worklist(actor, args, page_number())
    # every child whose action is listed is a read of that child's data (one audit row per action shown; the
    # request's rows go out as one INSERT)
    basis = AGENCY_ADMIN_DECIDES if view.is_agency_view else ACTION_OWNER_BASIS
    for row in view.rows:
        audit.note_read(
            actor.audit_actor(),
            "view_worklist",
            child_id=row.child_id,
            object_type="plan_action",
            object_id=row.public_id,
            legal_basis=basis,
        )
    if view.is_agency_view:
        forms = {row.public_id: _reassign_form_for(row) for row in view.rows if row.may_reassign}
    else:
        forms = {row.public_id: _form_for(row) for row in view.rows}
    return render_template(
        "worklist/index.html",
        worklist=view,
        forms=forms,
        kept_args=_kept_args(args),
        status_filters=STATUS_FILTERS,
        due_filters=DUE_FILTERS,
    )


def _form_for(row: WorklistRow, data: dict[str, object] | None = None) -> ActionUpdateForm:
    form = ActionUpdateForm(
        formdata=None,
        data=data
        or {
            "status": row.status,
            "progress_note": row.progress_note or "",
            "stop_reason": row.stop_reason or "",
            "version": row.version,
        },
    )
    return form


def _apply(form: ActionUpdateForm, error: OperationError) -> None:
    field = getattr(form, error.field, None) if error.field in ("status", "progress_note", "stop_reason") else None
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)


@worklist.route("/worklist/actions/<action_id>", methods=["POST"], endpoint="update_action")
@policy("staff")
def update_action_view(action_id: str) -> ResponseReturnValue:
    actor = signed_in_actor()
    action, basis = get_action_or_404(actor, action_id, to="change")
    form = ActionUpdateForm()
    status = 200
    if not form.validate_on_submit():
        status = 422
    else:
        data = ActionUpdateData(
            status=form.status.data, stop_reason=form.stop_reason.data, progress_note=form.progress_note.data
        )
        status = (
            write_and_commit(form, lambda: update_action(actor, action, form.version.data, data, basis), _apply) or 200
        )
    is_htmx = bool(htmx)
    if status == 200 and not is_htmx:
        flash(_("The action is saved."), "info")
        return redirect(url_for("worklist.index", **_kept_args()))
    reloaded = load_action(action.public_id)
    assert reloaded is not None  # it was just found, and nothing removes an action
    action = reloaded
    if status != 200:  # the action's current state is shown again
        audit.note_read(
            actor.audit_actor(),
            "view_plan_action",
            child_id=action.child_id,
            object_type="plan_action",
            object_id=action.public_id,
            legal_basis=basis,
        )
    row = row_for(action, children_of([action])[action.child_id], owner_view=True)
    if status == 200:
        form = _form_for(row)
        saved = True
    else:
        form.version.data = row.version  # the current version: saving again overwrites what is shown now
        form.version.raw_data = None
        saved = False
    template = ROW_TEMPLATE if is_htmx else "worklist/action.html"
    return (
        render_template(
            template, row=row, form=form, kept_args=_kept_args(), saved=saved, conflict=status == 409, errors=True
        ),
        status,
    )


def _apply_reassign(form: ReassignForm, field_name: str, message: str) -> None:
    field = getattr(form, field_name, None) if field_name in ("owner_unit", "owner_person") else None
    if field is not None:
        field.errors = [*field.errors, message]
    else:
        form.form_errors.append(message)


@worklist.route("/worklist/actions/<action_id>/reassign", methods=["POST"], endpoint="reassign_action")
@policy("staff")
def reassign_action_view(action_id: str) -> ResponseReturnValue:
    """The agency admin gives an action of their agency to another unit and/or person of it."""
    actor = signed_in_actor()
    action, basis = get_action_or_404(actor, action_id, to="reassign")
    form = ReassignForm()
    status = 200
    if not form.validate_on_submit():
        status = 422
    else:
        unit_id, person_id, unknown = owner_ids(form.owner_unit.data or "", form.owner_person.data or "")
        for field_name, message in unknown.items():
            _apply_reassign(form, field_name, message)
        if unknown:
            status = 422
        else:
            status = (
                write_and_commit(
                    form,
                    lambda: reassign_action(actor, action, form.version.data, unit_id, person_id),
                    lambda form, error: _apply_reassign(form, error.field or "form", error.message),
                )
                or 200
            )
    is_htmx = bool(htmx)
    if status == 200 and not is_htmx:
        flash(_("The action is reassigned."), "info")
        return redirect(url_for("worklist.index", **_kept_args()))
    reloaded = load_action(action.public_id)
    assert reloaded is not None  # it was just found, and nothing removes an action
    action = reloaded
    if status != 200:  # the action's current state is shown again
        audit.note_read(
            actor.audit_actor(),
            "view_plan_action",
            child_id=action.child_id,
            object_type="plan_action",
            object_id=action.public_id,
            legal_basis=basis,
        )
    choices: ReassignChoices = reassign_choices(actor)
    children = children_of([action])
    in_team = action.child_id in team_child_ids(actor, children)
    row = agency_row_for(actor, action, children[action.child_id], choices, in_team)
    if status == 200:
        form = _reassign_form_for(row)
    else:  # the admin's choice is kept; the version is the current one, so saving again replaces what is shown
        form.version.data = row.version
        form.version.raw_data = None
    template = AGENCY_ROW_TEMPLATE if is_htmx else "worklist/reassign.html"
    return (
        render_template(
            template,
            row=row,
            form=form,
            choices=choices,
            kept_args=_kept_args(),
            saved=status == 200,
            conflict=status == 409,
            errors=status != 200,
        ),
        status,
    )
