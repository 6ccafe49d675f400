"""Raising a concern: on a child's page, and by identity number for a child the practitioner may not see
(always "delivered"); the agency admin's queue of unmatched concerns; the sibling page of the Child Contact.

Every child page reaches the child through ``access.get_child_or_404`` (audited; out of scope is 404).
Forms work without JavaScript: on a refusal the form comes back with 422, the message next to the field,
an error summary at the top and the input kept (never the identity number); one commit per request.
GET pages never write; each form posts to its own endpoint (``create_*``/``send_*``/``register_*``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NoReturn

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError

from coordination import audit
from coordination.access import (
    Actor,
    ChildAccess,
    current_child_contact,
    get_child_as_child_contact_or_404,
    get_child_or_404,
    identity_lookup_allowed,
    mask_digits,
)
from coordination.children.models import Custody, Guardian
from coordination.clock import today
from coordination.concerns.access import raising as raise_access
from coordination.concerns.forms import (
    RaiseConcernByNumberForm,
    RaiseConcernForm,
    RegisterUnmatchedForm,
    SiblingRequestForm,
)
from coordination.concerns.models import Concern
from coordination.concerns.operations.raising import ConcernByNumberData, raise_concern, raise_concern_by_number
from coordination.concerns.operations.routing import young_person_may_agree
from coordination.concerns.operations.siblings import (
    has_concerns,
    send_sibling_request,
    sent_sibling_requests,
    siblings_of,
)
from coordination.concerns.operations.unmatched import UnmatchedRegistration, register_unmatched_child
from coordination.consent.evaluation import is_adult
from coordination.consent.view import ChildHeading
from coordination.database import db
from coordination.errors import OperationError
from coordination.form_writes import commit
from coordination.policies import policy, signed_in_actor
from coordination.registration.operations import IDENTITY_LOOKUP_REFUSED_ACTION

concerns = Blueprint("concerns", __name__)

# Audit actions of the reads and refusals on these pages (the writes are audited by the operations).
NEW_PAGE = "concern_new_page"
SIBLINGS_PAGE = "concern_siblings_page"
QUEUE_PAGE = "concern_unmatched_queue"
YOUNG_PERSON_KEY = "young_person"
MAX_ID_LENGTH = 64


def _report_url() -> str | None:
    return url_for("reports.new") if "reports.new" in current_app.view_functions else None


def _concern_url(child_public_id: str, concern: Concern) -> str:
    if "concern.show" in current_app.view_functions:
        return url_for("concern.show", child_id=child_public_id, concern_id=concern.public_id)
    return url_for("children.overview", child_id=child_public_id)


def _where_it_went(concern: Concern) -> str:
    """Where a concern went, in plain words (the flash after raising it on the child's page)."""
    return {
        "same_agency": lambda: _("Sent to the Child Contact."),
        "shared": lambda: _(
            "Sent to the Child Contact, with the family's agreement. A consent for coordination in the "
            "concern's areas was recorded for the Child Contact's agency."
        ),
        "signal": lambda: _(
            "The Child Contact was asked to contact you. They did not get the concern's content, because not "
            "every guardian with custody agreed that it is passed on."
        ),
        "agency_admin": lambda: _(
            "The child has no Child Contact yet. The concern was sent to the agency admin, who assigns one."
        ),
        "unmatched": lambda: _("The concern was delivered."),
    }[concern.routing]()


# -- on the child's page ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Situation:
    """What the form says about where the concern will go (no names of other agencies' staff)."""

    has_child_contact: bool
    same_agency: bool
    adult: bool


def _agreement_offer(access: ChildAccess) -> tuple[Situation, list[tuple[str, object]], dict[str, int | None]]:
    """Who may agree (a checkbox each): the guardians with custody by name — or the young person where they
    decide for the Child Contact's agency (18 or older, or mature enough for that agency)."""
    actor, child = access.actor, access.child
    assert actor.acting_agency is not None
    contact = current_child_contact(child.id)
    adult = is_adult(child.birth_date, today())
    situation = Situation(
        has_child_contact=contact is not None,
        same_agency=contact is not None and contact.agency_id == actor.acting_agency.id,
        adult=adult,
    )
    pairs: list[tuple[str, object]] = []
    keys: dict[str, int | None] = {}
    if not adult:
        rows = db.session.execute(
            select_guardians().where(Custody.child_id == child.id, Custody.ended_at.is_(None))
        ).all()
        for row in rows:
            pairs.append((row.public_id, f"{row.given_name} {row.family_name}"))
            keys[row.public_id] = row.id
    if young_person_may_agree(child, contact, access.picture.mature_agency_ids):
        label = (
            _("%(name)s (18 or older: decides themselves)", name=child.given_name)
            if adult
            else _("%(name)s, the young person (decides for the Child Contact's agency)", name=child.given_name)
        )
        pairs.append((YOUNG_PERSON_KEY, label))
        keys[YOUNG_PERSON_KEY] = None
    return situation, pairs, keys


def select_guardians() -> Select[tuple[int, str, str, str]]:
    return (
        select(Guardian.id, Guardian.public_id, Guardian.given_name, Guardian.family_name)
        .join(Custody, Custody.guardian_id == Guardian.id)
        .order_by(Guardian.family_name, Guardian.given_name, Guardian.id)
    )


def _new_for_child_page(
    child_id: str, form: RaiseConcernForm | None, status: int = 200
) -> tuple[Actor, ChildAccess, ChildHeading, Situation, dict[str, int | None], RaiseConcernForm]:
    actor = signed_in_actor()
    access = get_child_or_404(actor, child_id, action=NEW_PAGE)
    heading = ChildHeading.of(access)
    situation, pairs, keys = _agreement_offer(access)
    if form is None:
        form = RaiseConcernForm()
    form.set_agreement_choices(pairs)
    return actor, access, heading, situation, keys, form


def _render_new_for_child(
    heading: ChildHeading, situation: Situation, form: RaiseConcernForm, status: int = 200
) -> tuple[str, int]:
    return (
        render_template(
            "concerns/new.html",
            child=heading,
            situation=situation,
            form=form,
            report_url=_report_url(),
            has_agreement_choices=bool(form.agreed.choices),
        ),
        status,
    )


@concerns.get("/children/<child_id>/concerns/new")
@policy("staff")
def new_for_child(child_id: str) -> ResponseReturnValue:
    _actor, _access, heading, situation, _keys, form = _new_for_child_page(child_id, None)
    return _render_new_for_child(heading, situation, form)


@concerns.post("/children/<child_id>/concerns/new")
@policy("staff")
def create_for_child(child_id: str) -> ResponseReturnValue:
    actor, access, heading, situation, keys, form = _new_for_child_page(child_id, None)
    if not form.validate_on_submit():
        return _render_new_for_child(heading, situation, form, 422)
    chosen = list(form.agreed.data or ())
    data = form.concern_data(
        agreed_guardian_ids=[guardian_id for key in chosen if (guardian_id := keys.get(key)) is not None],
        young_person_agreed=YOUNG_PERSON_KEY in chosen,
    )
    child_public_id = heading.public_id
    try:
        concern = raise_concern(actor, access.child, data)
        message, target = _where_it_went(concern), _concern_url(child_public_id, concern)
        commit()
    except OperationError as error:
        db.session.rollback()
        form.show_refusal(error)
        return _render_new_for_child(heading, situation, form, 422)
    except IntegrityError:
        db.session.rollback()
        form.form_errors.append(_("Someone changed this at the same moment, so nothing was saved. Try again."))
        return _render_new_for_child(heading, situation, form, 409)
    flash(message)
    return redirect(target, 303)


# -- by identity number --------------------------------------------------------------------------------------
def _render_by_number(form: RaiseConcernByNumberForm, status: int = 200) -> tuple[str, int]:
    return render_template("concerns/new_by_number.html", form=form, report_url=_report_url()), status


@concerns.get("/concerns/new")
@policy("staff")
def new() -> ResponseReturnValue:
    signed_in_actor()
    return _render_by_number(RaiseConcernByNumberForm())


@concerns.post("/concerns/new")
@policy("staff")
def create() -> ResponseReturnValue:
    """Always "delivered" (RULES.md §5): the same redirect and the same page whether the number is unknown,
    known but out of the practitioner's scope, or in scope. Only a bad number or bad input is an error."""
    actor = signed_in_actor()
    form = RaiseConcernByNumberForm()
    if not form.validate_on_submit() or form.number is None:
        return _render_by_number(form, 422)
    if not identity_lookup_allowed(actor):
        audit.note_denied(
            actor.audit_actor(),
            IDENTITY_LOOKUP_REFUSED_ACTION,
            object_type="identity_lookup",
            detail={"reason": "rate_limited"},
        )
        return render_template("registration/too_many_lookups.html"), 429
    data = ConcernByNumberData(
        number=form.number, concern=form.concern_data(), everyone_agreed=form.everyone_agreed.data == "yes"
    )
    try:
        raise_concern_by_number(actor, data)
        commit()
    except OperationError as error:
        db.session.rollback()
        form.show_refusal(error)
        return _render_by_number(form, 422)
    except IntegrityError:
        db.session.rollback()
        form.form_errors.append(_("Someone changed this at the same moment, so nothing was saved. Try again."))
        return _render_by_number(form, 409)
    return redirect(url_for("concerns.delivered"), 303)


@concerns.get("/concerns/delivered")
@policy("staff")
def delivered() -> ResponseReturnValue:
    signed_in_actor()
    return render_template("concerns/delivered.html", report_url=_report_url())


# -- the agency admin's queue ------------------------------------------------------------------------------------
@concerns.get("/agency/concerns")
@policy("agency_admin")
def unmatched() -> ResponseReturnValue:
    actor = raise_access.agency_admin_or_404(signed_in_actor())
    unmatched_rows = db.session.scalars(raise_access.unmatched_concerns(actor)).all()
    waiting_rows = [tuple(row) for row in db.session.execute(raise_access.waiting_concerns(actor)).all()]
    basis = "agency_administration"
    for concern in unmatched_rows:
        audit.note_read(
            actor.audit_actor(),
            QUEUE_PAGE,
            child_id=None,
            object_type="concern",
            object_id=concern.public_id,
            legal_basis=basis,
        )
    for concern, child in waiting_rows:
        audit.note_read(
            actor.audit_actor(),
            QUEUE_PAGE,
            child_id=child.id,
            object_type="concern",
            object_id=concern.public_id,
            legal_basis=basis,
        )
    return render_template(
        "concerns/unmatched.html",
        unmatched=[raise_access.UnmatchedLine.of(concern) for concern in unmatched_rows],
        waiting=raise_access.waiting_lines(waiting_rows),
    )


def audit_safe(text: str) -> str:
    return mask_digits((text or "")[:MAX_ID_LENGTH])


def _render_register(
    line: raise_access.UnmatchedLine, form: RegisterUnmatchedForm, status: int = 200
) -> tuple[str, int]:
    return render_template("concerns/unmatched_register.html", line=line, form=form), status


@concerns.get("/agency/concerns/<concern_id>/register")
@policy("agency_admin")
def register_unmatched_form(concern_id: str) -> ResponseReturnValue:
    actor = raise_access.agency_admin_or_404(signed_in_actor())
    concern = raise_access.get_unmatched_concern_or_404(actor, concern_id)
    form = RegisterUnmatchedForm().set_units(raise_access.agency_units(actor))
    return _render_register(raise_access.UnmatchedLine.of(concern), form)


@concerns.post("/agency/concerns/<concern_id>/register")
@policy("agency_admin")
def register_unmatched(concern_id: str) -> ResponseReturnValue:
    actor = raise_access.agency_admin_or_404(signed_in_actor())
    concern = raise_access.get_unmatched_concern_or_404(actor, concern_id)
    line = raise_access.UnmatchedLine.of(concern)
    form = RegisterUnmatchedForm().set_units(raise_access.agency_units(actor))
    if not form.validate_on_submit():
        return _render_register(line, form, 422)
    unit = raise_access.agency_unit_or_none(actor, form.unit.data)
    if unit is None:
        form.unit.errors = [_("Choose a unit")]
        return _render_register(line, form, 422)
    data = UnmatchedRegistration(form.given_name.data or "", form.family_name.data or "", unit)
    try:
        register_unmatched_child(actor, concern, data)
        commit()
    except OperationError as error:
        db.session.rollback()
        field = getattr(form, error.field, None) if error.field else None
        if field is not None:
            field.errors = [*list(field.errors or ()), error.message]
        else:
            form.form_errors.append(error.message)
        return _render_register(line, form, 422)
    except IntegrityError:
        db.session.rollback()
        form.form_errors.append(_("Someone changed this at the same moment, so nothing was saved. Try again."))
        return _render_register(line, form, 409)
    flash(
        _(
            "The child is registered and the concern now waits for a Child Contact. Assign one on the page "
            "Children without a Child Contact."
        )
    )
    return redirect(url_for("concerns.unmatched"), 303)


# -- siblings --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SiblingLine:
    """A registered sibling as the Child Contact may know of it: its number on the page and what can be
    done, nothing about the sibling itself (RULES.md §5)."""

    number: int
    can_ask: bool
    is_mine: bool
    asked_on: object  # the date of the last request, or None


def _child_contact_access(child_id: str, action: str) -> tuple[Actor, ChildAccess]:
    actor = signed_in_actor()
    return actor, get_child_as_child_contact_or_404(actor, child_id, action)


def _sibling_lines(actor: Actor, child_id: int) -> list[SiblingLine]:
    assert actor.acting_agency is not None
    asked = sent_sibling_requests(child_id)
    lines = []
    for sibling in siblings_of(child_id):
        contact = sibling.contact
        mine = (
            contact is not None
            and contact.staff_person_id == actor.account.staff_person_id
            and contact.agency_id == actor.acting_agency.id
        )
        moment = asked.get(sibling.child_id)
        lines.append(SiblingLine(sibling.number, contact is not None and not mine, mine, moment))
    return lines


def _render_siblings(
    actor: Actor,
    access: ChildAccess,
    status: int = 200,
    confirm: int | None = None,
    form: SiblingRequestForm | None = None,
    error: str | None = None,
) -> tuple[str, int]:
    lines = _sibling_lines(actor, access.child.id)
    audit.note_read(
        actor.audit_actor(),
        SIBLINGS_PAGE,
        child_id=access.child.id,
        object_type="child",
        object_id=access.child.public_id,
        legal_basis=access.legal_basis,
        detail={"siblings": len(lines)},
    )
    return (
        render_template(
            "concerns/siblings.html",
            child=ChildHeading.of(access),
            lines=lines,
            with_concerns=has_concerns(access.child.id),
            confirm=confirm,
            form=form or SiblingRequestForm(),
            error=error,
        ),
        status,
    )


@concerns.get("/children/<child_id>/siblings")
@policy("staff")
def siblings(child_id: str) -> ResponseReturnValue:
    actor, access = _child_contact_access(child_id, SIBLINGS_PAGE)
    return _render_siblings(actor, access)


def _sibling_number(text: str) -> int | None:
    return int(text) if text.isdecimal() and len(text) <= 4 else None


def _no_such_sibling(actor: Actor, access: ChildAccess, number: str) -> NoReturn:
    audit.note_denied(
        actor.audit_actor(),
        SIBLINGS_PAGE,
        child_id=access.child.id,
        object_type="sibling",
        object_id=audit_safe(number),
        detail={"reason": "no_such_sibling"},
    )
    abort(404)


@concerns.get("/children/<child_id>/siblings/<number>/request")
@policy("staff")
def confirm_sibling_request(child_id: str, number: str) -> ResponseReturnValue:
    actor, access = _child_contact_access(child_id, SIBLINGS_PAGE)
    chosen = _sibling_number(number)
    if chosen is None or chosen not in {line.number for line in _sibling_lines(actor, access.child.id) if line.can_ask}:
        _no_such_sibling(actor, access, number)
    return _render_siblings(actor, access, confirm=chosen)


@concerns.post("/children/<child_id>/siblings/<number>/request")
@policy("staff")
def send_sibling_request_view(child_id: str, number: str) -> ResponseReturnValue:
    actor, access = _child_contact_access(child_id, SIBLINGS_PAGE)
    chosen = _sibling_number(number)
    sibling = next((s for s in siblings_of(access.child.id) if s.number == chosen), None)
    if sibling is None:
        _no_such_sibling(actor, access, number)
    form = SiblingRequestForm()
    if not form.validate_on_submit() or form.sibling.data != str(chosen):
        return _render_siblings(
            actor, access, 422, confirm=chosen, form=form, error=_("Confirm the request with the button below.")
        )
    try:
        send_sibling_request(actor, access.child, sibling)
        commit()
    except OperationError as error:
        db.session.rollback()
        return _render_siblings(actor, access, 422, error=error.message)
    flash(_("Your request was sent. The sibling's Child Contact will get in touch with you."))
    return redirect(url_for("concerns.siblings", child_id=access.child.public_id), 303)
