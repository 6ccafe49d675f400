"""Registering a child at one's own unit, and the pending links a known identity number creates
(RULES.md §5 "Looking up by identity number" and the pending link; §9 audit; §10 identity numbers).

Registering answers the same — and leaves the registering person seeing the same nothing — whether
the identity number is unknown or belongs to a child who is already registered. Both end in a
**pending link** (child, unit, requester), which grants nothing until it is approved:

* an unknown number (or none, with a reason) registers the child and the guardians with custody, but
  NOT the enrolment: a pending link for the chosen unit is created instead, exactly as for a known
  number. Until it is approved the child shows nowhere for the registering person (My children,
  search), so registering and then searching cannot tell whether a number was known;
* a known number creates a pending link — or reuses the one already pending for that child and unit.
  The guardians typed in are not added to the existing child.

Who decides a link is ``coordination.access`` (``link_decision_basis``): the child's current Child
Contact; otherwise an agency admin of an agency where the child is currently enrolled; otherwise (the
child is enrolled nowhere, e.g. it was created by this registration) an agency admin of the requesting
unit's agency — never on their own request. Approving enrols the child at the unit.

Every lookup by number is audited like search audits it (``access.look_up_identity_number``: a read
when in scope, otherwise a denial; never the number) after the request ends, so a failed request
still counts towards the rate limit. Operations flush and audit their writes; the caller commits once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from flask import abort
from sqlalchemy import exists, select, update
from sqlalchemy.orm import joinedload

from agencies.models import Unit
from coordination import audit, events
from coordination.access import (
    Actor,
    ChildAccess,
    link_decision_basis,
    links_awaiting_agency_admin_statement,
    look_up_identity_number,
    pending_links_to_decide_statement,
    related_child_ids,
)
from coordination.audit import record_write, refusals_audited
from coordination.children.models import LANGUAGES, MISSING_NUMBER_REASONS, Child, Enrolment
from coordination.children.operations import (
    ChildData,
    GuardianData,
    add_guardian,
    enrol_child,
    link_custody,
    number_hash,
    register_child,
)
from coordination.clock import now, today
from coordination.database import db
from coordination.errors import OperationError
from coordination.registration.access import registrable_units
from coordination.registration.models import PendingLink

MAX_NAME_LENGTH = 100
MAX_RESTRICTION_NOTE_LENGTH = 500
MAX_GUARDIANS = 2

# Registration refused because the person looked up too many numbers: a different action from the
# lookup itself, so that refusals do not count as lookups (the window is "30 lookups in 10 minutes").
IDENTITY_LOOKUP_REFUSED_ACTION = "lookup_identity_number_refused"


class LinkAlreadyDecided(OperationError):
    """The pending link was approved or rejected before (perhaps a moment ago, by someone else)."""


class NotYourDecision(OperationError):
    """The actor does not decide this link (``access.link_decision_basis``)."""


class PossibleDuplicate(OperationError):
    """A child the actor may see has the same name and birth date, and the actor has not confirmed that
    this is another child (the form shows them first; this is the operation's backstop)."""


# -- what the registering person sends ------------------------------------------------------------------
@dataclass(frozen=True)
class GuardianEntry:
    """One guardian block of the form: custody is implied; a restriction needs a note."""

    data: GuardianData
    restricted: bool = False
    restriction_note: str | None = None


@dataclass(frozen=True)
class RegistrationData:
    unit: Unit
    child: ChildData
    guardians: tuple[GuardianEntry, ...]
    # The person was shown the children of the same name and birth date they may see and confirmed that
    # this is another child (``possible_duplicates``).
    confirmed_new_child: bool = False


@dataclass(frozen=True)
class RegistrationResult:
    """What happened, for the caller's bookkeeping and for tests.

    A view must show the SAME receipt whatever the outcome, and must never put ``child`` or
    ``pending_link`` (or anything derived from them) in a page, a URL or a log line: the difference
    between "registered" and "pending_link" is exactly what must not be revealed."""

    outcome: Literal["registered", "pending_link", "already_enrolled"]
    child: Child | None = None  # the newly registered child ("registered" only)
    pending_link: PendingLink | None = None  # the link created or reused ("registered", "pending_link")


# -- registering ------------------------------------------------------------------------------------------
def _check_child(data: ChildData) -> None:
    """The same checks whatever the number turns out to be, so an error never tells known from unknown."""
    for name, field in ((data.given_name, "given_name"), (data.family_name, "family_name")):
        if not name.strip():
            raise OperationError("Enter the name", field)
        if len(name.strip()) > MAX_NAME_LENGTH:
            raise OperationError("The name is too long", field)
    if (data.identity_number is None) == (data.missing_number_reason is None):
        raise OperationError("Give the identity number, or the reason there is none", "identity_number")
    if data.missing_number_reason is not None and data.missing_number_reason not in MISSING_NUMBER_REASONS:
        raise OperationError("Unknown reason", "missing_number_reason")
    birth_date = data.birth_date
    if data.identity_number is not None:
        if birth_date is not None and birth_date != data.identity_number.birth_date:
            raise OperationError("The birth date does not match the identity number", "birth_date")
        birth_date = data.identity_number.birth_date
    if data.missing_number_reason == "unborn":
        if data.birth_date is not None:
            raise OperationError("A child not born yet has no birth date", "birth_date")
        if data.expected_birth_date is None:
            raise OperationError("Enter the expected date", "expected_birth_date")
    elif data.expected_birth_date is not None:
        raise OperationError("Only a child not born yet has an expected date", "expected_birth_date")
    if birth_date is None and data.missing_number_reason != "unborn":
        raise OperationError("Enter the birth date", "birth_date")
    if birth_date is not None and birth_date > today():
        raise OperationError("The birth date cannot be in the future", "birth_date")


def _check_guardians(guardians: tuple[GuardianEntry, ...]) -> None:
    if not guardians:
        raise OperationError("Add at least one guardian", "guardians")
    if len(guardians) > MAX_GUARDIANS:
        raise OperationError("At most two guardians", "guardians")
    for entry in guardians:
        data = entry.data
        if not data.given_name.strip() or not data.family_name.strip():
            raise OperationError("Enter the guardian's name", "guardians")
        if len(data.given_name.strip()) > MAX_NAME_LENGTH or len(data.family_name.strip()) > MAX_NAME_LENGTH:
            raise OperationError("The guardian's name is too long", "guardians")
        if data.preferred_language not in LANGUAGES:
            raise OperationError("Unknown language", "guardians")
        if entry.restricted and not (entry.restriction_note or "").strip():
            raise OperationError("Say what the restriction is", "guardians")
        if entry.restriction_note and len(entry.restriction_note) > MAX_RESTRICTION_NOTE_LENGTH:
            raise OperationError("The restriction note is too long", "guardians")


# -- possible duplicates: the same name and birth date, for a child registered without a number ------------
@dataclass(frozen=True)
class PossibleDuplicates:
    """Registered children with the same name and the same birth date (or expected date) as typed.

    ``visible``: those the actor may see — shown to them, with a choice. ``hidden``: those they may not
    see — never shown, never counted to them: each becomes a pending link that the child's Child Contact
    (or agency admin) decides, exactly as for a known identity number (RULES.md §5). A hidden child
    whose link to this unit was rejected before is not asked about again, so a child who only shares
    the name and birth date can be registered after the decider said no."""

    visible: tuple[Child, ...] = ()
    hidden: tuple[Child, ...] = ()


def _name_key(given_name: str, family_name: str) -> tuple[str, str]:
    return (" ".join(given_name.split()).casefold(), " ".join(family_name.split()).casefold())


def possible_duplicates(actor: Actor, data: ChildData, unit: Unit) -> PossibleDuplicates:
    """Only for a child without an identity number (a number is matched by the number). Two statements
    whatever the outcome: the children born that day, then which of them the actor may see and which
    were refused for this unit; names are compared in Python (case and spacing aside, any alphabet)."""
    if data.identity_number is not None or (data.birth_date is None and data.expected_birth_date is None):
        return PossibleDuplicates()
    born = (
        Child.birth_date == data.birth_date
        if data.birth_date is not None
        else Child.expected_birth_date == data.expected_birth_date
    )
    wanted = _name_key(data.given_name, data.family_name)
    same = [
        child
        for child in db.session.scalars(select(Child).where(born).order_by(Child.id))
        if _name_key(child.given_name, child.family_name) == wanted
    ]
    if not same:
        return PossibleDuplicates()
    ids = [child.id for child in same]
    rows = db.session.execute(
        select(
            Child.id,
            Child.id.in_(related_child_ids(actor)),
            exists().where(
                PendingLink.child_id == Child.id, PendingLink.unit_id == unit.id, PendingLink.state == "rejected"
            ),
        ).where(Child.id.in_(ids))
    )
    seen = {row[0]: (bool(row[1]), bool(row[2])) for row in rows}
    return PossibleDuplicates(
        visible=tuple(child for child in same if seen[child.id][0]),
        hidden=tuple(child for child in same if not seen[child.id][0] and not seen[child.id][1]),
    )


@refusals_audited("register_child_for_unit")
def register_child_for_unit(actor: Actor, data: RegistrationData) -> RegistrationResult:
    """Register a child the actor's unit serves (RULES.md §5). See the module docstring.

    The caller has checked the rate limit of lookups by number (``access.identity_lookup_allowed``)."""
    if data.unit.id not in {unit.id for unit in registrable_units(actor)}:
        raise OperationError("Choose one of your units", "unit")
    _check_child(data.child)
    _check_guardians(data.guardians)
    number = data.child.identity_number
    if number is not None:
        existing, _in_scope = look_up_identity_number(actor, number_hash(number), detail={"purpose": "register_child"})
        if existing is not None:
            # Known number: nothing here may tell the registering person that the child exists. The
            # guardians typed in are NOT added to the existing child: whoever registers a known number
            # could otherwise attach anyone as a guardian with custody (and so family access) to a
            # child they cannot see. The Child Contact, who knows the family, checks the guardians
            # with them when deciding the link.
            return _request_link(actor, existing, data.unit)
    else:
        duplicates = possible_duplicates(actor, data.child, data.unit)
        if duplicates.visible and not data.confirmed_new_child:
            raise PossibleDuplicate("A child with this name and birth date is registered", "given_name")
        if duplicates.hidden:
            # Possibly a child the actor may not see: asked about as for a known number, and answered
            # with the same receipt. Nothing typed is added to that child (see above).
            asked = [
                _request_link(actor, existing, data.unit, possible_duplicate=True) for existing in duplicates.hidden
            ]
            return asked[0]
    child = register_child(actor, data.child)
    for entry in data.guardians:
        guardian = add_guardian(actor, entry.data)
        link_custody(
            actor,
            child,
            guardian,
            restricted=entry.restricted,
            restriction_note=((entry.restriction_note or "").strip() or None) if entry.restricted else None,
        )
    # Not enrolled: a new child waits for approval exactly like a known one (the same link, the same
    # audit row), so that nothing the registering person sees afterwards tells the two apart.
    requested = _request_link(actor, child, data.unit)
    return RegistrationResult("registered", child=child, pending_link=requested.pending_link)


def _current_enrolment_id(child_id: int, unit_id: int) -> int | None:
    return db.session.scalar(
        select(Enrolment.id).where(
            Enrolment.child_id == child_id, Enrolment.unit_id == unit_id, Enrolment.ended_on.is_(None)
        )
    )


def _request_link(actor: Actor, child: Child, unit: Unit, *, possible_duplicate: bool = False) -> RegistrationResult:
    if _current_enrolment_id(child.id, unit.id) is not None:
        # Already enrolled at that unit: the unit relation already reaches the child; nothing to ask for.
        record_write(
            actor.audit_actor(),
            "request_child_link",
            child_id=child.id,
            object_type="enrolment",
            object_id=unit.public_id,
            legal_basis="relation_unit",
            detail={"already_enrolled": True},
        )
        return RegistrationResult("already_enrolled")
    link = db.session.scalar(
        select(PendingLink).where(
            PendingLink.child_id == child.id, PendingLink.unit_id == unit.id, PendingLink.state == "pending"
        )
    )
    reused = link is not None
    if link is None:
        link = PendingLink(
            child_id=child.id,
            unit_id=unit.id,
            requested_by_id=actor.account.staff_person_id,
            requested_at=now(),
            state="pending",
        )
        db.session.add(link)
        db.session.flush()
        events.pending_link_requested.send(None, link=link)
    record_write(
        actor.audit_actor(),
        "request_child_link",
        child_id=child.id,
        object_type="pending_link",
        object_id=link.public_id,
        legal_basis="relation_unit",
        detail={"unit_id": unit.id, "reused": reused, **({"possible_duplicate": True} if possible_duplicate else {})},
    )
    return RegistrationResult("pending_link", pending_link=link)


@refusals_audited("link_visible_child")
def link_visible_child(actor: Actor, data: RegistrationData, public_id: str) -> tuple[Child, RegistrationResult]:
    """ "This is the same child": the actor chose one of the children of the same name and birth date they
    may see (``possible_duplicates``); ask for it to be linked to the chosen unit (a pending link, or
    nothing when it is already enrolled there). Any other child is refused."""
    if data.unit.id not in {unit.id for unit in registrable_units(actor)}:
        raise OperationError("Choose one of your units", "unit")
    chosen = next(
        (
            child
            for child in possible_duplicates(actor, data.child, data.unit).visible
            if child.public_id == (public_id or "")[:64]
        ),
        None,
    )
    if chosen is None:
        raise OperationError("Choose one of the children shown", "given_name")
    return chosen, _request_link(actor, chosen, data.unit)


# -- the links a person decides (who decides: ``access.link_decision_basis``) -------------------------
LINK_LOADING = (
    joinedload(PendingLink.child),
    joinedload(PendingLink.unit).joinedload(Unit.agency),
    joinedload(PendingLink.requested_by),
)


def pending_links_to_decide(actor: Actor, child_access: ChildAccess) -> list[PendingLink]:
    """The pending links of this child that this actor may approve or reject (oldest first)."""
    statement = pending_links_to_decide_statement(actor, child_access.child.id)
    return list(db.session.scalars(statement.options(*LINK_LOADING)))


def get_link_to_decide_or_404(actor: Actor, child_access: ChildAccess, public_id: str, action: str) -> PendingLink:
    """A link looked up THROUGH its child: another child's link, or one the actor may not decide, is 404
    (audited). An already decided link the actor could have decided is returned: deciding it again is
    refused with a clear message by the operation."""
    link = db.session.scalar(
        select(PendingLink)
        .where(PendingLink.public_id == (public_id or "")[:64], PendingLink.child_id == child_access.child.id)
        .options(joinedload(PendingLink.unit).joinedload(Unit.agency), joinedload(PendingLink.requested_by))
    )
    if link is None or link_decision_basis(actor, link) is None:
        audit.note_denied(
            actor.audit_actor(),
            action,
            child_id=child_access.child.id,
            object_type="pending_link",
            object_id=(public_id or "")[:64],
            detail={"reason": "unknown_link" if link is None else "not_the_decider"},
        )
        abort(404)
    return link


def links_awaiting_agency_admin(actor: Actor) -> list[PendingLink]:
    """Every pending link the acting agency admin decides, oldest first (the queue at ``/agency/links``
    pages ``access.links_awaiting_agency_admin_statement`` itself)."""
    return list(db.session.scalars(links_awaiting_agency_admin_statement(actor).options(*LINK_LOADING)))


# -- deciding ------------------------------------------------------------------------------------------------
def _decide(actor: Actor, link: PendingLink, state: Literal["approved", "rejected"]) -> str:
    basis = link_decision_basis(actor, link)
    if basis is None:
        raise NotYourDecision("You cannot decide this request", "link")
    if link.state != "pending":
        raise LinkAlreadyDecided("The request has already been decided", "link")
    # A conditional UPDATE, so that two people deciding at the same moment cannot both win.
    result = db.session.execute(
        update(PendingLink)
        .where(PendingLink.id == link.id, PendingLink.state == "pending")
        .values(state=state, decided_by_id=actor.account.staff_person_id, decided_at=now())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]  # an UPDATE's result is a CursorResult
        raise LinkAlreadyDecided("The request has already been decided", "link")
    db.session.refresh(link)
    return basis


@refusals_audited("approve_pending_link")
def approve_pending_link(actor: Actor, link: PendingLink) -> PendingLink:
    """Approve: the child is enrolled at the link's unit from today (the unit relation then reaches the
    child), and the link is approved. Refused, writing nothing, when decided before or not the actor's."""
    basis = _decide(actor, link, "approved")
    if _current_enrolment_id(link.child_id, link.unit_id) is None:
        enrol_child(actor, link.child, link.unit, today())
    record_write(
        actor.audit_actor(),
        "approve_child_link",
        child_id=link.child_id,
        object_type="pending_link",
        object_id=link.public_id,
        legal_basis=basis,
        detail={"unit_id": link.unit_id},
    )
    return link


@refusals_audited("reject_pending_link")
def reject_pending_link(actor: Actor, link: PendingLink) -> PendingLink:
    """Reject: the link is rejected and grants nothing. Refused, writing nothing, when decided before."""
    basis = _decide(actor, link, "rejected")
    record_write(
        actor.audit_actor(),
        "reject_child_link",
        child_id=link.child_id,
        object_type="pending_link",
        object_id=link.public_id,
        legal_basis=basis,
        detail={"unit_id": link.unit_id},
    )
    return link
