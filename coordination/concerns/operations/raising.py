"""Raising an early concern (RULES.md §5): on a child's page (``raise_concern``) or by identity number
(``raise_concern_by_number``), validated, written, routed, audited, put in the chronology, announced and
matched.

``verb_noun(actor, ..., data)``: everything is validated before the session is touched, so a refusal
(``OperationError(message, field)``) writes nothing; each write flushes, is audited in the same
transaction (``record_write``), lands in the chronology (``record_event``) and is announced through
``coordination.events`` after the flush; the caller commits once. "Now" comes from the app clock.

An unknown identity number → ``unmatched``: the author's own agency admins' queue, the number stored
encrypted with its keyed hash (exactly as a child's). Every other concern is routed by ``routing.route``.

The concern modules, each depending only on those above it:

* ``routing``: where a concern goes, the agreement consent, and the audit row and chronology entries;
* ``matching``: matching alerts (``match_concern``);
* ``unmatched``: re-routing concerns once a Child Contact is assigned, and the agency admin's queue;
* ``siblings``: sibling requests;
* ``raising`` (this module): raising a concern. It also re-exports the others' public names, so
  ``from coordination.concerns.operations.raising import ...`` keeps working for all of them.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, timedelta

from agencies.models import Membership
from childplan.compass import AREA_CODES
from coordination import events
from coordination.access import Actor, AnyActor, current_child_contact, look_up_identity_number
from coordination.audit import refusals_audited
from coordination.children.models import Child, RoleAssignment
from coordination.children.operations import number_hash, protect_number
from coordination.clock import now, today
from coordination.concerns.models import CONCERN_URGENCIES, TEXT_MAX, Concern, ConcernAgreement, ConcernArea
from coordination.concerns.operations.matching import match_concern
from coordination.concerns.operations.routing import (
    AGREED_NOTE,
    STATED_NOTE,
    audit_concern,
    current_custodian_ids,
    record_raised,
    record_signal,
    route,
    staff_author,
    young_person_may_agree,
)
from coordination.consent.models import CONSENT_METHODS
from coordination.database import db
from coordination.errors import OperationError
from coordination.errors import refusal_message as _
from coordination.identity_numbers import IdentityNumber

MAX_AGREEMENT_AGE_DAYS = 365  # an agreement older than a year is not fresh enough to pass a concern on
TEXT_FIELDS = ("observations", "strengths", "already_done", "child_said", "family_view")


# -- input ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ConcernData:
    """What the discoverer writes. ``agreed_guardian_ids``: the custodial guardians who agreed that it is
    passed on; ``young_person_agreed``: the young person did (only where they decide); how and when."""

    areas: Collection[str]
    observed_on: date | None
    observations: str
    strengths: str | None = None
    already_done: str | None = None
    child_said: str | None = None
    family_view: str | None = None
    urgency: str = "routine"
    agreed_guardian_ids: Collection[int] = field(default_factory=tuple)
    young_person_agreed: bool = False
    agreement_method: str | None = None
    agreement_on: date | None = None
    # Only when the platform itself raises it (the demo loader, with SYSTEM_ACTOR): the author's membership.
    author: Membership | None = None


@dataclass(frozen=True)
class ConcernByNumberData:
    """A concern by identity number for a child the practitioner may not see: they cannot pick guardians,
    so they state whether every guardian with custody agreed."""

    number: IdentityNumber
    concern: ConcernData  # its agreed_guardian_ids and young_person_agreed are ignored
    everyone_agreed: bool = False


def _clean(text: str | None) -> str | None:
    value = (text or "").strip()
    return value or None


def _check_concern(data: ConcernData) -> tuple[list[str], dict[str, str | None]]:
    """Every refusal a form may miss, before anything is written: (areas in compass order, cleaned texts)."""
    chosen = set(data.areas or ())
    if not chosen:
        raise OperationError(_("Choose at least one Needs Compass area"), "areas")
    if not chosen <= set(AREA_CODES):
        raise OperationError(_("Unknown area"), "areas")
    if data.observed_on is None:
        raise OperationError(_("Enter the date you observed it"), "observed_on")
    if data.observed_on > today():
        raise OperationError(_("The date observed cannot be in the future"), "observed_on")
    texts = {name: _clean(getattr(data, name)) for name in TEXT_FIELDS}
    if texts["observations"] is None:
        raise OperationError(_("Write what you observed"), "observations")
    for name, value in texts.items():
        if value is not None and len(value) > TEXT_MAX:
            raise OperationError(_("Write at most %(max)d characters", max=TEXT_MAX), name)
    if data.urgency not in CONCERN_URGENCIES:
        raise OperationError(_("Choose how urgent it is"), "urgency")
    return [code for code in AREA_CODES if code in chosen], texts


def _check_agreement(method: str | None, on: date | None) -> None:
    if method not in CONSENT_METHODS:
        raise OperationError(_("Choose how they agreed"), "agreement_method")
    if on is None:
        raise OperationError(_("Enter the date they agreed"), "agreement_on")
    if on > today():
        raise OperationError(_("The date they agreed cannot be in the future"), "agreement_on")
    if on < today() - timedelta(days=MAX_AGREEMENT_AGE_DAYS):
        raise OperationError(_("The agreement must be from the last 12 months"), "agreement_on")


def _author_unit_id(actor: Actor) -> int | None:
    units = sorted((m.unit for m in actor.memberships if m.ended_at is None), key=lambda unit: (unit.name, unit.id))
    return units[0].id if units else None


def _author_ids(actor: AnyActor, data: ConcernData) -> tuple[int, int, int | None]:
    """(person, agency, unit) of the author: the staff actor, or ``data.author`` when the platform itself
    raises the concern (the demo loader)."""
    if data.author is not None:
        membership = data.author
        return membership.staff_person_id, membership.agency_id, membership.unit_id
    # The platform (``SystemActor``) raises a concern only with ``data.author`` given (the demo loader).
    assert isinstance(actor, Actor)
    person, agency = staff_author(actor)
    return person.id, agency.id, _author_unit_id(actor)


def _new_concern(
    actor: AnyActor, areas: list[str], texts: dict[str, str | None], data: ConcernData, **columns: object
) -> Concern:
    person_id, agency_id, unit_id = _author_ids(actor, data)
    concern = Concern(
        author_person_id=person_id,
        author_agency_id=agency_id,
        author_unit_id=unit_id,
        observed_on=data.observed_on,
        observations=texts["observations"],
        strengths=texts["strengths"],
        already_done=texts["already_done"],
        child_said=texts["child_said"],
        family_view=texts["family_view"],
        urgency=data.urgency,
        state="open",
        created_at=now(),
        areas=[ConcernArea(area=code) for code in areas],
        **columns,
    )
    db.session.add(concern)
    return concern


# -- raising ----------------------------------------------------------------------------------------------
@refusals_audited("raise_concern")
def raise_concern(actor: AnyActor, child: Child, data: ConcernData) -> Concern:
    """A concern about a child the practitioner may see (the view reached it through
    ``access.get_child_or_404``), routed as RULES.md §5 says."""
    areas, texts = _check_concern(data)
    contact = current_child_contact(child.id)
    agreed = set(data.agreed_guardian_ids or ())
    young = bool(data.young_person_agreed)
    if agreed or young:
        _check_agreement(data.agreement_method, data.agreement_on)
        if not agreed <= current_custodian_ids(child.id):
            raise OperationError(_("Only a guardian with custody of the child can agree"), "agreed")
        if young and not young_person_may_agree(child, contact):
            raise OperationError(_("The young person does not decide about this themselves"), "agreed")
    concern = _new_concern(
        actor,
        areas,
        texts,
        data,
        child_id=child.id,
        routing="signal",  # decided below
        agreement_method=data.agreement_method if (agreed or young) else None,
        agreement_on=data.agreement_on if (agreed or young) else None,
    )
    for guardian_id in sorted(agreed):
        concern.agreements.append(ConcernAgreement(guardian_id=guardian_id, is_young_person=False))
    if young:
        concern.agreements.append(ConcernAgreement(guardian_id=None, is_young_person=True))
    db.session.flush()
    _deliver(actor, concern, child, contact, note=AGREED_NOTE)
    return concern


@refusals_audited("raise_concern_by_number")
def raise_concern_by_number(actor: Actor, data: ConcernByNumberData) -> Concern:
    """A concern by identity number (RULES.md §5): the caller has checked the rate limit; the lookup is
    audited as every lookup by number is. The caller answers "delivered" whatever happens here."""

    areas, texts = _check_concern(data.concern)
    if data.everyone_agreed:
        _check_agreement(data.concern.agreement_method, data.concern.agreement_on)
    child, _in_scope = look_up_identity_number(actor, number_hash(data.number), detail={"purpose": "raise_concern"})
    agreement = {
        "agreement_method": data.concern.agreement_method if data.everyone_agreed else None,
        "agreement_on": data.concern.agreement_on if data.everyone_agreed else None,
    }
    if child is None:
        encrypted, hashed = protect_number(data.number)
        _person, agency = staff_author(actor)
        concern = _new_concern(
            actor,
            areas,
            texts,
            data.concern,
            child_id=None,
            identity_number_encrypted=encrypted,
            identity_number_hash=hashed,
            routing="unmatched",
            recipient_agency_id=agency.id,
            **agreement,
        )
        db.session.flush()
        audit_concern(actor, concern, child_id=None)
        events.concern_routed.send(None, concern=concern)
        return concern
    contact = current_child_contact(child.id)
    concern = _new_concern(actor, areas, texts, data.concern, child_id=child.id, routing="signal", **agreement)
    if data.everyone_agreed:
        # The practitioner's statement stands for every guardian with custody now (kept in the evidence note).
        for guardian_id in sorted(current_custodian_ids(child.id)):
            concern.agreements.append(ConcernAgreement(guardian_id=guardian_id, is_young_person=False))
    db.session.flush()
    _deliver(actor, concern, child, contact, note=STATED_NOTE)
    return concern


def _deliver(actor: AnyActor, concern: Concern, child: Child, contact: RoleAssignment | None, *, note: str) -> None:
    """Route a new concern, audit it, put it in the chronology, announce it, and look for a match."""
    route(actor, concern, child, contact, note=note)
    db.session.flush()
    audit_concern(actor, concern, child_id=child.id)
    record_raised(concern)
    if concern.routing == "signal":
        record_signal(concern)
    db.session.flush()
    events.concern_routed.send(None, concern=concern)
    match_concern(actor, concern)
