"""Who may see a concern, and how much of it (RULES.md §4, §5), and who may answer a request to become
Support Coordinator.

A concern is reached only through its child: ``get_concern_or_404(access, concern_id)`` takes the
``ChildAccess`` of ``access.get_child_or_404`` and looks the concern up by public id AND child id.
``decide_concern`` says how much the viewer may see:

* the whole concern when it is the viewer's own agency's record (the author's agency), when the viewer
  wrote it, or when the viewer's agency holds a coordination consent covering every area of it;
* otherwise, when the viewer received it (the Child Contact it was routed to, or the child's current
  Child Contact), only the content-free signal: "a practitioner at <agency kind> asks you to contact
  them" with the author's name, phone and e-mail (the author's contact is not case content) — and, when
  it was passed on as a full concern, the reason its text is withheld (a consent that lapsed);
* otherwise nothing: 404, the refusal audited.

Everything is decided per request from the consent picture of ``get_child_or_404`` (never cached), so a
withdrawn consent hides the text from the next page. View models carry only what the viewer may see.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask import abort
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from agencies.models import Agency, Membership, StaffPerson
from coordination import audit
from coordination.access import (
    STAFF,
    Actor,
    ChildAccess,
    Decision,
    consent_picture,
    mask_digits,
    may_see_chronology_entry,
    may_see_item,
    sees_protected_details,
)
from coordination.children.models import Child, age_in_years
from coordination.chronology.models import ChronologyEntry
from coordination.clock import today
from coordination.concerns.models import Concern, CoordinatorRequest
from coordination.consent.view import AreaChip, area_chips
from coordination.database import db
from coordination.labels import AGENCY_KIND_LABELS
from coordination.models import Account

MAX_ID_LENGTH = 64
FULL = "full"
SIGNAL = "signal"
VIEW_CONCERN = "view_concern"

URGENCY_LABELS = {
    "routine": _l("Routine"),
    "soon": _l("Soon"),
    "urgent": _l("Urgent"),
}
STATE_LABELS = {
    "open": lazy_pgettext("concern state", "Open"),
    "acknowledged": _l("Acknowledged"),
    "closed": _l("Closed"),
}
ROUTING_LABELS = {
    "same_agency": _l("Within the agency, to the Child Contact"),
    "shared": _l("To the Child Contact, with the family's agreement"),
    "signal": _l("As a request to make contact (no content)"),
    "agency_admin": _l("To the agency admin (the child has no Child Contact)"),
    "unmatched": _l("To the agency admin (child not yet identified)"),
}
CLOSE_REASON_LABELS = {
    "handled_within_agency": _l("Handled within my agency"),
    "coordinator_appointed": _l("A Support Coordinator was appointed"),
    "no_further_action": _l("No further action"),
    "other": _l("Other"),
}
AGREEMENT_METHOD_LABELS = {
    "in_person": _l("In person"),
    "phone": _l("By phone"),
    "written": _l("In writing"),
    "e_signed": _l("E-signed"),
}
WITHHELD_TEXT_REASONS = {
    "no_consent_for_your_agency": _l(
        "The text of this concern is withheld: your agency no longer holds a consent for coordination."
    ),
    "consent_does_not_cover_the_areas": _l(
        "The text of this concern is withheld: your agency's consent does not cover all of its areas."
    ),
}
HANDLING_KINDS = {
    "concern_acknowledged": _l("Acknowledged"),
    "conversation": _l("Conversation"),
    "concern_closed": _l("Closed"),
}


PROTECTED_PERSON = _l("A practitioner (the name is withheld: protected identity)")
PROTECTED_CHILD_CONTACT = _l("The child's Child Contact (the name is withheld: protected identity)")


def _person_id(access: ChildAccess) -> int | None:
    return access.actor.account.staff_person_id


def is_recipient(access: ChildAccess, concern: Concern) -> bool:
    """The person the concern was routed to (acting for that agency), or the child's current Child
    Contact for a concern that went to the Child Contact role (a new Child Contact takes it over)."""
    actor = access.actor
    if actor.kind != STAFF or actor.acting_agency is None:
        return False
    if concern.recipient_person_id == _person_id(access) and concern.recipient_agency_id == actor.acting_agency.id:
        return True
    # A concern kept within its agency ("same_agency") was never passed on: a later Child Contact of
    # another agency does not inherit it. One that went to the Child Contact role does: as a signal.
    return concern.routing in ("shared", "signal") and access.has_relation("child_contact")


def decide_concern(access: ChildAccess, concern: Concern) -> tuple[str | None, Decision]:
    """(FULL, SIGNAL or None, the decision with its reason and legal basis)."""
    actor = access.actor
    if actor.kind != STAFF or actor.acting_agency is None or not access.relations:
        return None, Decision(False, "not_staff")
    if concern.author_agency_id == actor.acting_agency.id:
        return FULL, Decision(True, "own_agency", "own_agency_record")
    # (the author sees it through the own-agency rule while acting for that agency: never the union of
    # agencies, RULES.md §1)
    decision = may_see_item(access, concern.author_agency_id, "coordination", concern.area_codes)
    if decision:
        return FULL, decision
    if is_recipient(access, concern):
        return SIGNAL, Decision(True, "recipient", access.legal_basis)
    return None, decision


def is_acting_child_contact(access: ChildAccess) -> bool:
    """The child's CURRENT Child Contact, acting for the agency of the assignment (the relation says
    exactly that: a current assignment of this person for the acting agency)."""
    return access.actor.kind == STAFF and access.has_relation("child_contact")


def get_concern_or_404(access: ChildAccess, concern_public_id: str, action: str = VIEW_CONCERN) -> Concern:
    """The concern of THIS child that the viewer may see (fully or as a signal): 404 otherwise, the read
    or the refusal audited."""
    wanted = (concern_public_id or "")[:MAX_ID_LENGTH]
    actor, child = access.actor, access.child
    concern = db.session.scalar(
        select(Concern)
        .where(Concern.public_id == wanted, Concern.child_id == child.id)
        .options(
            joinedload(Concern.author),
            joinedload(Concern.author_agency),
            selectinload(Concern.areas),
        )
    )
    if concern is None:
        audit.note_denied(
            actor.audit_actor(),
            action,
            child_id=child.id,
            object_type="concern",
            object_id=wanted,
            detail={"reason": "not_this_childs_concern"},
        )
        abort(404)
    mode, decision = decide_concern(access, concern)
    if mode is None:
        audit.note_denied(
            actor.audit_actor(),
            action,
            child_id=child.id,
            object_type="concern",
            object_id=concern.public_id,
            detail={"reason": decision.reason},
        )
        abort(404)
    audit.note_read(
        actor.audit_actor(),
        action,
        child_id=child.id,
        object_type="concern",
        object_id=concern.public_id,
        legal_basis=decision.legal_basis,
        detail={"shown": mode},
    )
    return concern


# -- the view model --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class HandlingStep:
    """One step of the Child Contact's handling, from the chronology, as far as the viewer may see it."""

    kind: str
    label: object
    occurred_at: datetime
    by: str | None
    text: str | None


@dataclass(frozen=True)
class ConcernView:
    """A concern as one viewer may see it. In SIGNAL mode every content field is None or empty."""

    public_id: str
    child_public_id: str
    mode: str  # FULL or SIGNAL
    agency_kind: object  # the author's agency kind, always (a signal names it)
    agency_name: str | None  # FULL only
    author_name: str
    author_phone: str | None
    author_email: str | None
    created_at: datetime
    state: str
    state_label: object
    withheld_reason: object | None  # SIGNAL for a concern passed on in full: why the text is withheld
    areas: tuple[AreaChip, ...] = ()
    observed_on: date | None = None
    observations: str | None = None
    strengths: str | None = None
    already_done: str | None = None
    child_said: str | None = None
    family_view: str | None = None
    urgency_label: object | None = None
    routing_label: object | None = None
    agreement_method_label: object | None = None
    agreement_on: date | None = None
    close_reason_label: object | None = None
    close_note: str | None = None
    closed_at: datetime | None = None
    acknowledged_at: datetime | None = None
    steps: tuple[HandlingStep, ...] = ()

    @property
    def is_full(self) -> bool:
        return self.mode == FULL

    @property
    def is_closed(self) -> bool:
        return self.state == "closed"

    @property
    def may_acknowledge(self) -> bool:
        return self.state == "open"

    @classmethod
    def for_actor(cls, concern: Concern, access: ChildAccess) -> ConcernView | None:
        """None when the viewer may not see the concern at all (the view answers 404)."""
        mode, _decision = decide_concern(access, concern)
        if mode is None:
            return None
        author = concern.author
        # staff names and contact channels of a child with protected identity stay within the child's
        # team (RULES.md §7): others learn only the kind of agency
        details = sees_protected_details(access)
        common = dict(
            public_id=concern.public_id,
            child_public_id=access.child.public_id,
            mode=mode,
            agency_kind=AGENCY_KIND_LABELS.get(concern.author_agency.kind, concern.author_agency.kind),
            author_name=author.full_name if details else str(PROTECTED_PERSON),
            author_phone=author.phone if details else None,
            author_email=author.email if details else None,
            created_at=concern.created_at,
            state=concern.state,
            state_label=STATE_LABELS[concern.state],
            steps=handling_steps(access, concern),
        )
        if mode == SIGNAL:
            withheld = None
            if concern.routing != "signal":
                decision = may_see_item(access, concern.author_agency_id, "coordination", concern.area_codes)
                withheld = WITHHELD_TEXT_REASONS.get(
                    decision.reason, WITHHELD_TEXT_REASONS["no_consent_for_your_agency"]
                )
            return cls(agency_name=None, withheld_reason=withheld, **common)
        return cls(
            agency_name=concern.author_agency.name,
            withheld_reason=None,
            areas=area_chips(concern.area_codes),
            observed_on=concern.observed_on,
            observations=concern.observations,
            strengths=concern.strengths,
            already_done=concern.already_done,
            child_said=concern.child_said,
            family_view=concern.family_view,
            urgency_label=URGENCY_LABELS.get(concern.urgency, concern.urgency),
            routing_label=ROUTING_LABELS.get(concern.routing, concern.routing),
            agreement_method_label=AGREEMENT_METHOD_LABELS.get(concern.agreement_method or "", None),
            agreement_on=concern.agreement_on,
            close_reason_label=CLOSE_REASON_LABELS.get(concern.close_reason or "", None),
            close_note=concern.close_note,
            closed_at=concern.closed_at,
            acknowledged_at=concern.acknowledged_at,
            **common,
        )


def handling_steps(access: ChildAccess, concern: Concern) -> tuple[HandlingStep, ...]:
    """The Child Contact's steps on this concern (acknowledged, conversations, closed), oldest first,
    each only as far as the chronology's rules let the viewer see it (one statement, plus its areas)."""
    entries = db.session.scalars(
        select(ChronologyEntry)
        .where(
            ChronologyEntry.child_id == access.child.id,
            ChronologyEntry.object_type == "concern",
            ChronologyEntry.object_public_id == concern.public_id,
            ChronologyEntry.kind.in_(tuple(HANDLING_KINDS)),
        )
        .options(selectinload(ChronologyEntry.areas), joinedload(ChronologyEntry.author))
        .order_by(ChronologyEntry.occurred_at, ChronologyEntry.id)
    ).all()
    steps = []
    for entry in entries:
        seen = may_see_chronology_entry(
            access,
            owner_agency_id=entry.owner_agency_id,
            audience=entry.audience,
            areas=entry.area_codes,
            author_person_id=entry.author_person_id,
            recipient_person_id=entry.recipient_person_id,
        )
        if not seen:
            continue
        steps.append(
            HandlingStep(
                kind=entry.kind,
                label=HANDLING_KINDS[entry.kind],
                occurred_at=entry.occurred_at,
                by=entry.author.full_name if entry.author is not None else None,
                text=entry.summary,
            )
        )
    return tuple(steps)


# -- requests to become Support Coordinator --------------------------------------------------------------
def nominee_may_open(actor: Actor, request: CoordinatorRequest) -> bool:
    """Only the nominee, acting for the nominee agency."""
    return (
        actor.kind == STAFF
        and actor.acting_agency is not None
        and request.nominee_person_id == actor.account.staff_person_id
        and request.nominee_agency_id == actor.acting_agency.id
    )


@dataclass(frozen=True)
class Candidate:
    key: str  # "<person public id>.<agency public id>"
    person_id: int
    agency_id: int
    label: str


@dataclass(frozen=True)
class CandidateAgency:
    name: str
    kind: object
    candidates: tuple[Candidate, ...]


def coordinator_candidates(agency_ids: set[int], exclude_person_ids: set[int]) -> list[CandidateAgency]:
    """Active practitioners (an active person with an active account and a current practitioner
    membership) of these agencies, by agency and name (one statement)."""

    if not agency_ids:
        return []
    rows = db.session.execute(
        select(
            StaffPerson.id,
            StaffPerson.public_id,
            StaffPerson.given_name,
            StaffPerson.family_name,
            StaffPerson.title,
            Agency.id,
            Agency.public_id,
            Agency.name,
            Agency.kind,
        )
        .join(Membership, Membership.staff_person_id == StaffPerson.id)
        .join(Agency, Agency.id == Membership.agency_id)
        .join(Account, Account.staff_person_id == StaffPerson.id)
        .where(
            Membership.agency_id.in_(agency_ids),
            Membership.ended_at.is_(None),
            Membership.is_practitioner.is_(True),
            StaffPerson.is_active.is_(True),
            Account.is_active.is_(True),
        )
        .distinct()
        .order_by(Agency.name, StaffPerson.family_name, StaffPerson.given_name, StaffPerson.id)
    ).all()
    grouped: dict[int, tuple[str, str, list[Candidate]]] = {}
    for person_id, person_public, given, family, title, agency_id, agency_public, agency_name, kind in rows:
        if person_id in exclude_person_ids:
            continue
        label = f"{given} {family}" + (f", {title}" if title else "")
        entry = grouped.setdefault(agency_id, (agency_name, kind, []))
        entry[2].append(Candidate(f"{person_public}.{agency_public}", person_id, agency_id, label))
    return [
        CandidateAgency(name, AGENCY_KIND_LABELS.get(kind, kind), tuple(people))
        for name, kind, people in grouped.values()
        if people
    ]


def agencies_without_coordination_consent(consented: set[int]) -> list[str]:
    """The names of the other agencies (not child data; shown only to a viewer who may know other
    agencies' consents) — offered nobody: "no consent for coordination"."""

    return list(db.session.scalars(select(Agency.name).where(Agency.id.not_in(consented or {0})).order_by(Agency.name)))


@dataclass(frozen=True)
class CoordinatorRequestView:
    """What the nominee sees: the child's name and age, who asks, the message, the state."""

    public_id: str
    child_public_id: str
    child_name: str
    child_age: int | None
    asked_by: str
    asked_by_agency: str
    asked_by_phone: str | None
    asked_by_email: str | None
    message: str | None
    state: str
    decline_reason: str | None
    created_at: datetime

    @property
    def is_pending(self) -> bool:
        return self.state == "pending"


def get_coordinator_request_or_404(
    actor: Actor, child_public_id: str, request_public_id: str, action: str
) -> tuple[Child, CoordinatorRequest]:
    """The request, reached by its public id AND its child's, for the nominee acting for the nominee
    agency only, and only while that agency's coordination consent for the child is in effect (it is
    the basis on which the nominee learns the child's name). Everyone else: 404, the refusal audited."""

    wanted_child = (child_public_id or "")[:MAX_ID_LENGTH]
    wanted = (request_public_id or "")[:MAX_ID_LENGTH]
    child = db.session.scalar(select(Child).where(Child.public_id == wanted_child)) if wanted_child else None
    request = None
    if child is not None:
        request = db.session.scalar(
            select(CoordinatorRequest)
            .where(CoordinatorRequest.public_id == wanted, CoordinatorRequest.child_id == child.id)
            .options(joinedload(CoordinatorRequest.requested_by))
        )
    reason = None
    if child is None or request is None:  # (no child: no request either)
        reason = "not_this_childs_request"
    elif not nominee_may_open(actor, request):
        reason = "not_the_nominee"
    elif not consent_picture(child).areas_for(request.nominee_agency_id, "coordination"):
        reason = "no_consent_for_your_agency"
    if reason is not None:
        audit.note_denied(
            actor.audit_actor(),
            action,
            child_id=child.id if child is not None else None,
            object_type="coordinator_request",
            object_id=request.public_id if request is not None else mask_digits(wanted),
            detail={"reason": reason},
        )
        abort(404)
    assert child is not None and request is not None
    audit.note_read(
        actor.audit_actor(),
        action,
        child_id=child.id,
        object_type="coordinator_request",
        object_id=request.public_id,
        legal_basis="consent",
    )
    return child, request


def coordinator_request_view(child: Child, request: CoordinatorRequest) -> CoordinatorRequestView:

    asked_by = request.requested_by
    agency_name = db.session.scalar(select(Agency.name).where(Agency.id == request.requested_by_agency_id)) or ""
    # The nominee is not on the team of a child with protected identity yet: the asker's name and contact
    # channels stay within it (RULES.md §7) until the nominee accepts.
    details = not child.has_protected_identity
    return CoordinatorRequestView(
        public_id=request.public_id,
        child_public_id=child.public_id,
        child_name=child.full_name,
        child_age=age_in_years(child.birth_date, today()),
        asked_by=asked_by.full_name if details else str(PROTECTED_CHILD_CONTACT),
        asked_by_agency=agency_name,
        asked_by_phone=asked_by.phone if details else None,
        asked_by_email=asked_by.email if details else None,
        message=request.message,
        state=request.state,
        decline_reason=request.decline_reason,
        created_at=request.created_at,
    )
