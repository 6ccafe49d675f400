"""A concern's page and the Child Contact's handling of it; requests to become Support Coordinator.

Every page reaches the child through ``access.get_child_or_404`` and the concern through
``concerns.access.get_concern_or_404`` (by public id AND child; audited; out of scope is 404). The
actions (acknowledge, record a conversation, close, ask for a Support Coordinator) are for the child's
CURRENT Child Contact acting for the agency of the assignment: anyone else gets 404, the refusal
audited. A request to become Support Coordinator is opened by its nominee only (they have no relation
to the child yet: the request, by its public id and its child's, is their way in). Each action is a
plain form (no JavaScript needed): the error summary, the message next to the field, the input kept,
422 on a refusal with nothing written; one commit per request.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_wtf import FlaskForm
from sqlalchemy import select

from agencies.models import Agency, StaffPerson
from coordination.access import (
    Actor,
    ChildAccess,
    get_child_as_child_contact_or_404,
    get_child_or_404,
    may_know_other_agencies,
    staff_or_404,
)
from coordination.children.models import Child
from coordination.children.view import WITHHELD_REASONS
from coordination.children.views import child_tabs
from coordination.clock import today
from coordination.concerns.access.handling import (
    FULL,
    MAX_ID_LENGTH,
    ConcernView,
    agencies_without_coordination_consent,
    coordinator_candidates,
    coordinator_request_view,
    decide_concern,
    get_concern_or_404,
    get_coordinator_request_or_404,
    is_acting_child_contact,
)
from coordination.concerns.forms import (
    AcceptForm,
    AcknowledgeForm,
    CloseConcernForm,
    ConversationForm,
    CoordinatorRequestForm,
    DeclineForm,
    apply_operation_error,
)
from coordination.concerns.models import Concern, CoordinatorRequest
from coordination.concerns.operations.coordinators import (
    ACCEPTED,
    NomineeKey,
    accept_coordinator_request,
    consented_agency_ids,
    current_support_coordinator,
    decline_coordinator_request,
    request_support_coordinator,
)
from coordination.concerns.operations.handling import (
    ConversationData,
    acknowledge_concern,
    close_concern,
    record_conversation,
)
from coordination.consent.view import ChildHeading
from coordination.database import db
from coordination.form_writes import write_and_commit
from coordination.policies import policy, signed_in_actor

concern = Blueprint("concern", __name__)

T = TypeVar("T")

VIEW_CONCERN = "view_concern"
ACKNOWLEDGE = "acknowledge_concern_page"
CONVERSATION = "record_conversation_page"
CLOSE = "close_concern_page"
REQUEST_COORDINATOR = "request_coordinator_page"
VIEW_REQUEST = "view_coordinator_request"


# -- reaching the child and the concern ------------------------------------------------------------------
def _child_contact_access(child_id: str, action: str) -> tuple[Actor, ChildAccess]:
    """The child's current Child Contact acting for the assignment's agency; anyone else 404 (audited)."""
    actor = staff_or_404(signed_in_actor(), child_id, action)
    return actor, get_child_as_child_contact_or_404(actor, child_id, action)


def _areas_known(access: ChildAccess, item: Concern) -> frozenset[str]:
    """The concern's areas when the Child Contact may see the whole concern; none for a signal."""
    mode, _decision = decide_concern(access, item)
    return item.area_codes if mode == FULL else frozenset()


def _write(form: FlaskForm, write: Callable[[], T]) -> tuple[int | None, T | None]:
    """One write through ``write_and_commit``: (None, its result) on success; otherwise (422 or 409, None)
    with the refusal on the form and nothing written."""
    results: list[T] = []
    status = write_and_commit(form, lambda: results.append(write()), apply_operation_error)
    return status, (results[0] if status is None else None)


def _concern_url(child_id: str, concern_id: str) -> str:
    return url_for("concern.show", child_id=child_id, concern_id=concern_id)


# -- the concern's page ------------------------------------------------------------------------------------
def _show(
    access: ChildAccess,
    item: Concern,
    *,
    conversation_form: ConversationForm | None = None,
    close_form: CloseConcernForm | None = None,
    status: int = 200,
) -> tuple[str, int]:
    view = ConcernView.for_actor(item, access)
    assert view is not None  # get_concern_or_404 let it through
    may_act = is_acting_child_contact(access)
    actor = access.actor
    assert actor.acting_agency is not None
    form = conversation_form
    if may_act and form is None and close_form is None and not view.is_closed:
        form = ConversationForm(formdata=None)
        form.held_on.data = today()
    return (
        render_template(
            "concerns/show.html",
            child=ChildHeading.of(access),
            tabs=child_tabs(access.child.public_id, "overview"),
            concern=view,
            may_act=may_act,
            acknowledge_form=AcknowledgeForm(formdata=None) if may_act else None,
            conversation_form=form if may_act else None,
            close_form=close_form if may_act else None,
            own_agency_public_id=actor.acting_agency.public_id,
            withheld_reasons=WITHHELD_REASONS,
        ),
        status,
    )


@concern.get("/children/<child_id>/concerns/<concern_id>")
@policy("staff")
def show(child_id: str, concern_id: str) -> ResponseReturnValue:
    actor = staff_or_404(signed_in_actor(), child_id, VIEW_CONCERN)
    access = get_child_or_404(actor, child_id, action=VIEW_CONCERN)
    item = get_concern_or_404(access, concern_id, VIEW_CONCERN)
    return _show(access, item)


@concern.post("/children/<child_id>/concerns/<concern_id>/acknowledge")
@policy("staff")
def acknowledge(child_id: str, concern_id: str) -> ResponseReturnValue:
    actor, access = _child_contact_access(child_id, ACKNOWLEDGE)
    item = get_concern_or_404(access, concern_id, ACKNOWLEDGE)
    form = AcknowledgeForm()
    if not form.validate_on_submit():
        abort(400)
    areas = _areas_known(access, item)
    status, _result = _write(form, lambda: acknowledge_concern(actor, item, areas))
    if status:
        flash("; ".join(str(message) for message in form.form_errors), "error")
    else:
        flash(_("Concern acknowledged."))
    return redirect(_concern_url(access.child.public_id, item.public_id))


@concern.post("/children/<child_id>/concerns/<concern_id>/conversations")
@policy("staff")
def add_conversation(child_id: str, concern_id: str) -> ResponseReturnValue:
    actor, access = _child_contact_access(child_id, CONVERSATION)
    item = get_concern_or_404(access, concern_id, CONVERSATION)
    form = ConversationForm()
    if not form.validate_on_submit():
        return _show(access, item, conversation_form=form, status=422)
    chosen = set(form.with_whom.data or ())
    data = ConversationData(
        with_family="family" in chosen, with_child="child" in chosen, held_on=form.held_on.data, text=form.text.data
    )
    areas = _areas_known(access, item)
    status, _result = _write(form, lambda: record_conversation(actor, item, data, areas))
    if status:
        item = get_concern_or_404(access, concern_id, CONVERSATION)
        return _show(access, item, conversation_form=form, status=status)
    flash(_("Conversation recorded."))
    return redirect(_concern_url(access.child.public_id, item.public_id))


def _close_page(access: ChildAccess, item: Concern, form: CloseConcernForm, status: int = 200) -> tuple[str, int]:
    """The concern's page with the confirmation step for closing it at the place of the actions."""
    return _show(access, item, close_form=form, status=status)


@concern.get("/children/<child_id>/concerns/<concern_id>/close")
@policy("staff")
def close(child_id: str, concern_id: str) -> ResponseReturnValue:
    _actor, access = _child_contact_access(child_id, CLOSE)
    item = get_concern_or_404(access, concern_id, CLOSE)
    return _close_page(access, item, CloseConcernForm(formdata=None))


@concern.post("/children/<child_id>/concerns/<concern_id>/close")
@policy("staff")
def close_post(child_id: str, concern_id: str) -> ResponseReturnValue:
    actor, access = _child_contact_access(child_id, CLOSE)
    item = get_concern_or_404(access, concern_id, CLOSE)
    form = CloseConcernForm()
    if not form.validate_on_submit():
        return _close_page(access, item, form, 422)
    areas = _areas_known(access, item)
    status, _result = _write(form, lambda: close_concern(actor, item, form.reason.data, form.note.data, areas))
    if status:
        item = get_concern_or_404(access, concern_id, CLOSE)
        return _close_page(access, item, form, status)
    flash(_("The concern is closed."))
    return redirect(_concern_url(access.child.public_id, item.public_id))


# -- asking for a Support Coordinator ----------------------------------------------------------------------
def _request_page(
    access: ChildAccess, form: CoordinatorRequestForm, concern_id: str | None, status: int = 200
) -> tuple[str, int]:
    """The picker: active practitioners of agencies whose coordination consent is in effect; the other
    agencies named with the reason, but only to a viewer who may know other agencies' consents."""
    actor = access.actor
    assert actor.acting_agency is not None
    child = access.child
    consented = consented_agency_ids(access.picture)
    own_consent = actor.acting_agency.id in consented
    coordinator = current_support_coordinator(child.id)
    pending = {
        row.nominee_person_id: row
        for row in db.session.scalars(
            select(CoordinatorRequest).where(
                CoordinatorRequest.child_id == child.id, CoordinatorRequest.state == "pending"
            )
        )
    }
    # A staff account always has its staff person (a check constraint on the account table), and only
    # staff reach this page (``_child_contact_access``).
    assert actor.account.staff_person_id is not None
    agencies = (
        coordinator_candidates(consented, {actor.account.staff_person_id, *pending})
        if own_consent and coordinator is None
        else []
    )
    form.set_choices((c.key, c.label) for agency in agencies for c in agency.candidates)
    not_offered = (
        agencies_without_coordination_consent(consented) if own_consent and may_know_other_agencies(access) else []
    )
    asked: list[str] = []
    if pending and own_consent:
        names: dict[int, str] = dict(
            db.session.execute(
                select(StaffPerson.id, StaffPerson.given_name + " " + StaffPerson.family_name).where(
                    StaffPerson.id.in_(list(pending))
                )
            )
            .tuples()
            .all()
        )
        asked = sorted(names.values())
    return (
        render_template(
            "concerns/coordinator_new.html",
            child=ChildHeading.of(access),
            form=form,
            agencies=agencies,
            not_offered=not_offered,
            asked=asked,
            own_consent=own_consent,
            has_coordinator=coordinator is not None,
            concern_id=concern_id,
            back_url=_concern_url(child.public_id, concern_id)
            if concern_id
            else url_for("children.overview", child_id=child.public_id),
        ),
        status,
    )


def _linked_concern(access: ChildAccess, concern_id: str | None, action: str) -> Concern | None:
    if not concern_id:
        return None
    return get_concern_or_404(access, concern_id, action)


@concern.get("/children/<child_id>/coordinator-requests/new")
@policy("staff")
def request_coordinator(child_id: str) -> ResponseReturnValue:
    _actor, access = _child_contact_access(child_id, REQUEST_COORDINATOR)
    concern_id = (request.args.get("concern") or "")[:MAX_ID_LENGTH] or None
    linked = _linked_concern(access, concern_id, REQUEST_COORDINATOR)
    return _request_page(access, CoordinatorRequestForm(formdata=None), linked.public_id if linked else None)


@concern.post("/children/<child_id>/coordinator-requests/new")
@policy("staff")
def send_coordinator_requests(child_id: str) -> ResponseReturnValue:
    actor, access = _child_contact_access(child_id, REQUEST_COORDINATOR)
    concern_id = (request.form.get("concern") or "")[:MAX_ID_LENGTH] or None
    linked = _linked_concern(access, concern_id, REQUEST_COORDINATOR)
    form = CoordinatorRequestForm()
    if not form.validate_on_submit():
        return _request_page(access, form, concern_id, 422)
    keys = _nominee_keys(list(form.nominees.data or ()))
    if keys is None:
        form.nominees.errors = [*list(form.nominees.errors or ()), _("Choose among the people offered")]
        return _request_page(access, form, concern_id, 422)
    status, made = _write(
        form, lambda: request_support_coordinator(actor, access.child, keys, form.message.data, linked)
    )
    if status:
        return _request_page(access, form, concern_id, status)
    count = len(made or [])
    flash(
        ngettext(
            "%(num)d person asked to become Support Coordinator.",
            "%(num)d people asked to become Support Coordinator.",
            count,
        )
    )
    if linked is not None:
        return redirect(_concern_url(access.child.public_id, linked.public_id))
    return redirect(url_for("children.overview", child_id=access.child.public_id))


def _nominee_keys(values: list[str]) -> list[NomineeKey] | None:
    """ "<person public id>.<agency public id>" → ids; None when any is not a (person, agency) pair at all
    (the operation then decides about each real pair: active, consented, not yet asked)."""
    pairs: list[tuple[str, str]] = []
    for value in values:
        person_public, _sep, agency_public = (value or "")[: 2 * MAX_ID_LENGTH + 1].partition(".")
        if not person_public or not agency_public:
            return None
        pairs.append((person_public, agency_public))
    if not pairs:
        return []
    people: dict[str, int] = dict(
        db.session.execute(
            select(StaffPerson.public_id, StaffPerson.id).where(StaffPerson.public_id.in_([p for p, _a in pairs]))
        )
        .tuples()
        .all()
    )
    agencies: dict[str, int] = dict(
        db.session.execute(select(Agency.public_id, Agency.id).where(Agency.public_id.in_([a for _p, a in pairs])))
        .tuples()
        .all()
    )
    keys: list[NomineeKey] = []
    for person_public, agency_public in pairs:
        if person_public not in people or agency_public not in agencies:
            return None
        keys.append(NomineeKey(people[person_public], agencies[agency_public]))
    return keys


# -- the nominee's page -------------------------------------------------------------------------------------
def _nominee_page(
    child: Child, item: CoordinatorRequest, decline_form: DeclineForm, status: int = 200, error: str | None = None
) -> tuple[str, int]:
    return (
        render_template(
            "concerns/coordinator_request.html",
            request_view=coordinator_request_view(child, item),
            accept_form=AcceptForm(formdata=None),
            decline_form=decline_form,
            error=error,
        ),
        status,
    )


@concern.get("/children/<child_id>/coordinator-requests/<request_id>")
@policy("staff")
def coordinator_request(child_id: str, request_id: str) -> ResponseReturnValue:
    actor = staff_or_404(signed_in_actor(), child_id, VIEW_REQUEST)
    child, item = get_coordinator_request_or_404(actor, child_id, request_id, VIEW_REQUEST)
    return _nominee_page(child, item, DeclineForm(formdata=None))


@concern.post("/children/<child_id>/coordinator-requests/<request_id>/accept")
@policy("staff")
def accept(child_id: str, request_id: str) -> ResponseReturnValue:
    actor = staff_or_404(signed_in_actor(), child_id, "accept_coordinator_request_page")
    child, item = get_coordinator_request_or_404(actor, child_id, request_id, "accept_coordinator_request_page")
    form = AcceptForm()
    if not form.validate_on_submit():
        abort(400)
    child_public_id = child.public_id
    status, outcome = _write(form, lambda: accept_coordinator_request(actor, item))
    if status:
        child, item = get_coordinator_request_or_404(actor, child_id, request_id, "accept_coordinator_request_page")
        return _nominee_page(child, item, DeclineForm(formdata=None), status, error=form.form_errors[0])
    if outcome == ACCEPTED:
        flash(_("You are now the Support Coordinator."))
        return redirect(url_for("children.overview", child_id=child_public_id))
    return _nominee_page(child, item, DeclineForm(formdata=None), 409, error=_("Someone else has already accepted."))


@concern.post("/children/<child_id>/coordinator-requests/<request_id>/decline")
@policy("staff")
def decline(child_id: str, request_id: str) -> ResponseReturnValue:
    actor = staff_or_404(signed_in_actor(), child_id, "decline_coordinator_request_page")
    child, item = get_coordinator_request_or_404(actor, child_id, request_id, "decline_coordinator_request_page")
    form = DeclineForm()
    if not form.validate_on_submit():
        return _nominee_page(child, item, form, 422)
    status, _result = _write(form, lambda: decline_coordinator_request(actor, item, form.reason.data))
    if status:
        child, item = get_coordinator_request_or_404(actor, child_id, request_id, "decline_coordinator_request_page")
        return _nominee_page(child, item, form, status)
    flash(_("You declined. The Child Contact who asked is told, with your reason."))
    return redirect(url_for("children.home"))
