"""Register a child (``/children/new``), the "registered, pending" receipt, and the pending link requests
a Child Contact (or, without one, an agency admin) decides (``/children/<child_id>/links``).

The receipt is the same page, with the same text, status and shape, whether the number was unknown
(the child is registered, not enrolled) or known: either way a pending link was created, and the
child shows nowhere for the registering person until it is approved. Its URL carries an opaque random
token kept in the person's session, never the child's id. The identity number travels only in the POST
body.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets

from cryptography.fernet import Fernet, InvalidToken
from flask import Blueprint, abort, current_app, flash, redirect, render_template, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from agencies.models import Unit
from coordination import audit
from coordination.access import (
    Actor,
    ChildAccess,
    admin_decides_for,
    current_child_contact,
    get_child_for_links_or_404,
    identity_lookup_allowed,
    relations_to,
    staff_or_404,
)
from coordination.children.models import Child
from coordination.database import db
from coordination.errors import OperationError
from coordination.form_writes import commit
from coordination.policies import policy, signed_in_actor
from coordination.registration.access import agency_has_link_approver, get_registrable_units_or_404
from coordination.registration.forms import DecisionForm, RegistrationForm
from coordination.registration.operations import (
    IDENTITY_LOOKUP_REFUSED_ACTION,
    LinkAlreadyDecided,
    NotYourDecision,
    RegistrationData,
    approve_pending_link,
    get_link_to_decide_or_404,
    link_visible_child,
    pending_links_to_decide,
    possible_duplicates,
    register_child_for_unit,
    reject_pending_link,
)

registration = Blueprint("registration", __name__)

RECEIPTS_KEY = "bk_registration_receipts"
POSSIBLE_DUPLICATE_ACTION = "registration_possible_duplicate"
MAX_RECEIPTS = 3
MAX_TOKEN_LENGTH = 64


# -- register a child ------------------------------------------------------------------------------------
def _form_page(
    form: RegistrationForm, status: int = 200, duplicates: list[dict[str, object]] | None = None
) -> ResponseReturnValue:
    return render_template("registration/new.html", form=form, duplicates=duplicates or []), status


def _shown_duplicates(actor: Actor, children: tuple[Child, ...], unit: Unit) -> list[dict[str, object]]:
    """The children of the same name and birth date the actor may see, as the warning shows them; each
    shown child is an audited read on the actor's relation to it."""
    rows: list[dict[str, object]] = []
    for child in children:
        relations = relations_to(actor, child.id)
        audit.note_read(
            actor.audit_actor(),
            POSSIBLE_DUPLICATE_ACTION,
            child_id=child.id,
            object_type="child",
            object_id=child.public_id,
            legal_basis=relations[0].legal_basis if relations else None,
        )
        rows.append(
            {
                "public_id": child.public_id,
                "name": child.full_name,
                "birth_date": child.birth_date,
                "expected_birth_date": child.expected_birth_date,
                "at_unit": any(e.unit_id == unit.id and e.ended_on is None for e in child.enrolments),
                "url": url_for("children.overview", child_id=child.public_id),
            }
        )
    return rows


def _link_same_child(actor: Actor, form: RegistrationForm, data: RegistrationData) -> ResponseReturnValue:
    """ "This is the same child": ask for the chosen child to be linked to the unit, then open it."""
    try:
        child, result = link_visible_child(actor, data, form.same_child.data or "")
        commit()
    except OperationError:
        db.session.rollback()
        form.add_error("given_name", _("This could not be registered. Check it and try again."))
        return _form_page(form, 422)
    if result.outcome == "already_enrolled":
        flash(_("%(name)s is already linked to %(unit)s.", name=child.full_name, unit=data.unit.name), "info")
    else:
        flash(
            _(
                "Nothing new was registered. You asked for %(name)s to be linked to %(unit)s: the child's Child "
                "Contact, or without one an agency admin, decides.",
                name=child.full_name,
                unit=data.unit.name,
            ),
            "info",
        )
    return redirect(url_for("children.overview", child_id=child.public_id))


@registration.get("/children/new")
@policy("staff")
def new() -> ResponseReturnValue:
    units = get_registrable_units_or_404(signed_in_actor())
    return _form_page(RegistrationForm(units=units))


@registration.post("/children/new")
@policy("staff")
def create() -> ResponseReturnValue:
    actor = signed_in_actor()
    units = get_registrable_units_or_404(actor)
    form = RegistrationForm(units=units)
    if not form.validate_on_submit():
        return _form_page(form, 422)
    data = form.registration_data
    if data.child.identity_number is not None and not identity_lookup_allowed(actor):
        audit.note_denied(
            actor.audit_actor(),
            IDENTITY_LOOKUP_REFUSED_ACTION,
            object_type="identity_lookup",
            detail={"reason": "rate_limited"},
        )
        return render_template("registration/too_many_lookups.html"), 429
    if data.child.identity_number is None:
        if form.same_child.data:
            return _link_same_child(actor, form, data)
        if not data.confirmed_new_child:
            # Only children the actor may see are shown; a match they may not see changes nothing here
            # (the operation routes it to that child's decider as a pending link, with the same receipt).
            visible = possible_duplicates(actor, data.child, data.unit).visible
            if visible:
                return _form_page(form, 200, _shown_duplicates(actor, visible, data.unit))
    for attempt in (1, 2):
        try:
            register_child_for_unit(actor, data)
            commit()
            break
        except OperationError as error:
            # The form checks everything the operation checks; this is a backstop, never a 500.
            db.session.rollback()
            form.add_error(error.field, _("This could not be registered. Check it and try again."))
            return _form_page(form, 422)
        except IntegrityError:
            # Someone registered the same number (or asked for the same link) at the same moment: the
            # second attempt sees their row and takes the pending-link path.
            db.session.rollback()
            if attempt == 2:
                raise
    token = _remember_receipt(form, data.unit)
    return redirect(url_for("registration.receipt", token=token))


def _receipt_cipher() -> Fernet:
    """The session cookie is signed, not encrypted: the child's name in it is sealed with a key derived
    from the app's secret key for this purpose only."""
    secret = str(current_app.config["SECRET_KEY"]).encode()
    key = hashlib.sha256(b"barnkompass registration receipt\x00" + secret).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def _remember_receipt(form: RegistrationForm, unit: Unit) -> str:
    """Keep what the person typed that is safe to show again (the child's name, the unit they chose and
    its agency) under a random token in their session. The same for a new child and a pending link."""
    token = secrets.token_urlsafe(24)
    entry = {
        "given_name": form.given_name.data or "",
        "family_name": form.family_name.data or "",
        "unit": unit.name,
        "agency": unit.agency.public_id,
    }
    sealed = _receipt_cipher().encrypt(json.dumps(entry).encode()).decode("ascii")
    receipts = dict(session.get(RECEIPTS_KEY) or {})
    receipts[token] = sealed
    session[RECEIPTS_KEY] = dict(list(receipts.items())[-MAX_RECEIPTS:])
    return token


def _receipt_entry(token: str) -> dict[str, str] | None:
    receipts = session.get(RECEIPTS_KEY)
    sealed = receipts.get(token[:MAX_TOKEN_LENGTH]) if isinstance(receipts, dict) else None
    if not isinstance(sealed, str):
        return None
    lifetime = int(current_app.config["SESSION_ABSOLUTE_HOURS"]) * 3600
    try:
        entry = json.loads(_receipt_cipher().decrypt(sealed.encode("ascii"), ttl=lifetime))
    except (InvalidToken, UnicodeError, ValueError):
        return None
    return entry if isinstance(entry, dict) else None


@registration.get("/children/registered/<token>")
@policy("staff")
def receipt(token: str) -> ResponseReturnValue:
    actor = signed_in_actor()
    entry = _receipt_entry(token)
    if entry is None:
        abort(404)
    # Who approves is told from the registering person's own agency only (the same whatever the number).
    agency = next(
        (m.agency for m in actor.memberships if m.agency.public_id == entry.get("agency") and m.ended_at is None),
        None,
    )
    return render_template(
        "registration/receipt.html",
        given_name=entry.get("given_name", ""),
        family_name=entry.get("family_name", ""),
        unit=entry.get("unit", ""),
        agency=agency,
        agency_has_approver=agency is None or agency_has_link_approver(agency, actor.account.staff_person_id),
    )


# -- pending links ---------------------------------------------------------------------------------------
def _agency_queue_url(actor: Actor) -> str | None:
    """The agency admin's list of link requests to decide (``/agency/links``), for an agency admin."""
    if actor.is_agency_admin and "agency.links" in current_app.view_functions:
        return url_for("agency.links")
    return None


def _links_page(actor: Actor, access: ChildAccess, status: int = 200, error: str | None = None) -> ResponseReturnValue:
    child_url = None
    if access.relations and "children.overview" in current_app.view_functions:
        child_url = url_for("children.overview", child_id=access.child.public_id)
    to_decide = pending_links_to_decide(actor, access)
    # Who the actor decides them as: the links listed are the actor's to decide, so with a current
    # Child Contact the actor is that Child Contact, otherwise an agency admin of the acting agency.
    as_child_contact = bool(to_decide) and current_child_contact(access.child.id) is not None
    return (
        render_template(
            "registration/links.html",
            child=access.child,
            links=to_decide,
            as_child_contact=as_child_contact,
            acting_agency=actor.acting_agency,
            child_url=child_url,
            queue_url=_agency_queue_url(actor),
            error=error,
        ),
        status,
    )


@registration.get("/children/<child_id>/links")
@policy("child")
def links(child_id: str) -> ResponseReturnValue:
    actor = staff_or_404(signed_in_actor(), child_id, "view_child_links")
    access = get_child_for_links_or_404(actor, child_id, "view_child_links")
    return _links_page(actor, access)


@registration.post("/children/<child_id>/links/<link_id>/approve")
@policy("child")
def approve(child_id: str, link_id: str) -> ResponseReturnValue:
    return _decide(child_id, link_id, approving=True)


@registration.post("/children/<child_id>/links/<link_id>/reject")
@policy("child")
def reject(child_id: str, link_id: str) -> ResponseReturnValue:
    return _decide(child_id, link_id, approving=False)


def _decide(child_id: str, link_id: str, *, approving: bool) -> ResponseReturnValue:
    actor = staff_or_404(signed_in_actor(), child_id, "decide_child_link")
    # Reads and refusals on the way are audited as "decide_child_link"; the decision itself is written
    # as "approve_child_link" or "reject_child_link".
    access = get_child_for_links_or_404(actor, child_id, "decide_child_link")
    link = get_link_to_decide_or_404(actor, access, link_id, "decide_child_link")
    if not DecisionForm().validate_on_submit():
        abort(400)
    unit_name = link.unit.name
    try:
        (approve_pending_link if approving else reject_pending_link)(actor, link)
        commit()
    except LinkAlreadyDecided:
        db.session.rollback()
        return _links_page(
            actor,
            access,
            409,
            _("This request has already been decided. Nothing was changed."),
        )
    except NotYourDecision:  # the lookup above already refuses; kept as a backstop
        db.session.rollback()
        abort(404)
    if approving:
        flash(_("Approved. %(unit)s is now linked to the child.", unit=unit_name), "info")
    else:
        flash(_("Rejected. %(unit)s is not linked to the child.", unit=unit_name), "info")
    child = access.child
    if relations_to(actor, child.id) or admin_decides_for(actor, child.id):
        return redirect(url_for("registration.links", child_id=child.public_id))
    # An agency admin without a relation loses sight of the child once its request is decided.
    return redirect(_agency_queue_url(actor) or url_for("children.home"))
