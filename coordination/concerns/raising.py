"""Raising an early concern and routing it (RULES.md §5), matching alerts, sibling requests, and the agency
admin's handling of unmatched concerns.

``verb_noun(actor, ..., data)``: everything is validated before the session is touched, so a refusal
(``OperationError(message, field)``) writes nothing; each write flushes, is audited in the same
transaction (``record_write``), lands in the chronology (``record_event``) and is announced through
``coordination.events`` after the flush; the caller commits once. "Now" comes from the app clock.

Routing, in one place (``_route``):

* the child's current Child Contact is in the author's acting agency → ``same_agency`` (to the Child Contact);
* the Child Contact is in another agency and every current custodial guardian agreed (or the young person,
  where they decide for that agency) → ``shared``: a coordination consent for the Child Contact's agency,
  limited to the concern's areas, is recorded through the consent ledger and linked to the concern;
* otherwise → ``signal``: the Child Contact gets only a content-free request to contact the author;
* no Child Contact → ``agency_admin``: the agency admins of the agency of a unit the child is enrolled at
  (the first by name), or the author's own agency when the child is enrolled nowhere;
* an unknown identity number → ``unmatched``: the author's own agency admins' queue, the number stored
  encrypted with its keyed hash (exactly as a child's).

Agreement rows are stored whenever someone agreed, so that a concern waiting for a Child Contact is routed
by them once one is assigned (``reroute_waiting_concerns``, called from ``assign_child_contact``).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import current_app, has_app_context
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import selectinload

from agencies.models import Agency, Membership, StaffPerson, Unit
from agencies.operations import OperationError
from childplan.compass import AREA_CODES
from coordination import events
from coordination.access import current_child_contact
from coordination.audit import record_write, refusals_audited
from coordination.chronology.record import record_event
from coordination.clock import now, today
from coordination.concerns.models import (
    CONCERN_URGENCIES,
    TEXT_MAX,
    Concern,
    ConcernAgreement,
    ConcernArea,
    MatchingAlert,
    SiblingContactRequest,
)
from coordination.consent import ConsentData, GiverData, current_consent_text, maturity_min_age, record_consent
from coordination.consent.common import _
from coordination.consent.evaluation import in_effect, young_person_decides
from coordination.database import db
from coordination.identity_numbers import IdentityNumber, decrypt_identity_number
from coordination.models import (
    CONSENT_METHODS,
    Child,
    Consent,
    Custody,
    Enrolment,
    MaturityAssessment,
    RoleAssignment,
    SiblingLink,
)
from coordination.operations import ChildData, _keys, enrol_child, number_hash, protect_number, register_child

DEFAULT_MATCH_WINDOW_DAYS = 14
AGREED_NOTE = "Agreed when the concern was raised"
STATED_NOTE = "Agreed when the concern was raised (the practitioner stated that every guardian with custody agreed)"
MAX_AGREEMENT_AGE_DAYS = 365  # an agreement older than a year is not fresh enough to pass a concern on
CONCERN_BASIS = "own_agency_record"  # a concern is the author's agency's own record (RULES.md §4)
TEXT_FIELDS = ("observations", "strengths", "already_done", "child_said", "family_view")


def match_window_days() -> int:
    if has_app_context():
        return int(current_app.config.get("CONCERN_MATCH_WINDOW_DAYS", DEFAULT_MATCH_WINDOW_DAYS))
    return DEFAULT_MATCH_WINDOW_DAYS


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


def current_custodian_ids(child_id: int) -> set[int]:
    return set(
        db.session.scalars(select(Custody.guardian_id).where(Custody.child_id == child_id, Custody.ended_at.is_(None)))
    )


def young_person_may_agree(
    child: Child, contact: RoleAssignment | None, mature_agency_ids: Collection[int] | None = None
) -> bool:
    """The young person agrees instead of the guardians when they decide for the Child Contact's agency
    (18 or older; or a maturity assessment for that agency from the minimum age). ``mature_agency_ids``:
    the child's maturity assessments when the caller has them (the consent picture)."""
    if contact is None:
        return False
    mature = mature_agency_ids
    if mature is None:
        mature = set(
            db.session.scalars(select(MaturityAssessment.agency_id).where(MaturityAssessment.child_id == child.id))
        )
    return young_person_decides(
        contact.agency_id, mature, today(), birth_date=child.birth_date, maturity_min_age=maturity_min_age()
    )


def _author(actor) -> tuple[StaffPerson, Agency]:  # type: ignore[no-untyped-def]
    person = actor.account.staff_person
    if person is None or actor.acting_agency is None:
        raise OperationError(_("Only staff acting for an agency can raise a concern"))
    return person, actor.acting_agency


def _author_unit_id(actor) -> int | None:  # type: ignore[no-untyped-def]
    units = sorted((m.unit for m in actor.memberships if m.ended_at is None), key=lambda unit: (unit.name, unit.id))
    return units[0].id if units else None


def _author_ids(actor, data: ConcernData) -> tuple[int, int, int | None]:  # type: ignore[no-untyped-def]
    """(person, agency, unit) of the author: the staff actor, or ``data.author`` when the platform itself
    raises the concern (the demo loader)."""
    if data.author is not None:
        membership = data.author
        return membership.staff_person_id, membership.agency_id, membership.unit_id
    person, agency = _author(actor)
    return person.id, agency.id, _author_unit_id(actor)


def _new_concern(actor, areas: list[str], texts: dict[str, str | None], data: ConcernData, **columns) -> Concern:  # type: ignore[no-untyped-def]
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
def raise_concern(actor, child: Child, data: ConcernData) -> Concern:  # type: ignore[no-untyped-def]
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
def raise_concern_by_number(actor, data: ConcernByNumberData) -> Concern:  # type: ignore[no-untyped-def]
    """A concern by identity number (RULES.md §5): the caller has checked the rate limit; the lookup is
    audited as every lookup by number is. The caller answers "delivered" whatever happens here."""
    from coordination.access import look_up_identity_number

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
        _person, agency = _author(actor)
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
        _audit(actor, concern, child_id=None)
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


def _audit(actor, concern: Concern, *, child_id: int | None, action: str = "raise_concern") -> None:  # type: ignore[no-untyped-def]
    record_write(
        actor.audit_actor(),
        action,
        child_id=child_id,
        object_type="concern",
        object_id=concern.public_id,
        legal_basis=CONCERN_BASIS,
        detail={"routing": concern.routing},
    )


def _deliver(actor, concern: Concern, child: Child, contact: RoleAssignment | None, *, note: str) -> None:  # type: ignore[no-untyped-def]
    """Route a new concern, audit it, put it in the chronology, announce it, and look for a match."""
    _route(actor, concern, child, contact, note=note)
    db.session.flush()
    _audit(actor, concern, child_id=child.id)
    _record_raised(concern)
    if concern.routing == "signal":
        _record_signal(concern)
    db.session.flush()
    events.concern_routed.send(None, concern=concern)
    match_concern(actor, concern)


def _record_raised(concern: Concern) -> None:
    assert concern.child_id is not None
    record_event(
        concern.child_id,
        "concern_raised",
        owner_agency_id=concern.author_agency_id,
        audience="coordination",
        areas=[area.area for area in concern.areas],
        tone="worry",
        author_person_id=concern.author_person_id,
        object_type="concern",
        object_public_id=concern.public_id,
        occurred_at=concern.created_at,
    )
    if concern.strengths:
        # Strengths as well as worries (GIRFEC): the child's strengths as their own entry, under the same
        # rules as the concern (its agency, its areas)
        record_event(
            concern.child_id,
            "strength_noted",
            owner_agency_id=concern.author_agency_id,
            audience="coordination",
            areas=[area.area for area in concern.areas],
            tone="strength",
            summary=concern.strengths,
            author_person_id=concern.author_person_id,
            object_type="concern",
            object_public_id=concern.public_id,
            occurred_at=concern.created_at,
        )


def _record_signal(concern: Concern) -> None:
    assert concern.child_id is not None and concern.recipient_person_id is not None
    record_event(
        concern.child_id,
        "signal_received",
        owner_agency_id=concern.author_agency_id,
        audience="recipient",
        tone="neutral",
        author_person_id=concern.author_person_id,
        recipient_person_id=concern.recipient_person_id,
        object_type="concern",
        object_public_id=concern.public_id,
    )


def _enrolled_agency_id(child_id: int) -> int | None:
    """The agency of a unit the child is currently enrolled at, the first unit by name."""
    return db.session.scalar(
        select(Unit.agency_id)
        .join(Enrolment, Enrolment.unit_id == Unit.id)
        .where(Enrolment.child_id == child_id, Enrolment.ended_on.is_(None))
        .order_by(Unit.name, Unit.id)
        .limit(1)
    )


def everyone_agreed(concern: Concern, child: Child, contact: RoleAssignment) -> bool:
    """Every current custodial guardian agreed — or the young person, where they decide for the Child
    Contact's agency (then the guardians neither suffice nor are needed, as consent evaluation says)."""
    guardians = {a.guardian_id for a in concern.agreements if a.guardian_id is not None}
    young = any(a.is_young_person for a in concern.agreements)
    if concern.agreement_method is None or concern.agreement_on is None:
        return False
    if young_person_may_agree(child, contact):  # 18 or older, or mature enough for that agency
        return young
    custodians = current_custodian_ids(child.id)
    return bool(custodians) and custodians <= guardians


def _route(actor, concern: Concern, child: Child, contact: RoleAssignment | None, *, note: str) -> None:  # type: ignore[no-untyped-def]
    if contact is None:
        concern.routing = "agency_admin"
        concern.recipient_person_id = None
        concern.recipient_agency_id = _enrolled_agency_id(child.id) or concern.author_agency_id
        return
    concern.recipient_person_id = contact.staff_person_id
    concern.recipient_agency_id = contact.agency_id
    if contact.agency_id == concern.author_agency_id:
        concern.routing = "same_agency"
        return
    if everyone_agreed(concern, child, contact):
        consent = _record_agreement_consent(actor, concern, child, contact, note=note)
        if consent is not None:
            concern.routing = "shared"
            concern.consent_id = consent.id
            return
    concern.routing = "signal"


def _one_year_on(day: date) -> date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


def _consent_in_effect_covering(child: Child, agency_id: int, areas: set[str]) -> Consent | None:
    """A coordination consent for the agency that is in effect today and alone covers every area."""
    from coordination.access import consent_picture

    picture = consent_picture(child)
    for consent in reversed(picture.consents):
        if consent.agency_id != agency_id or consent.purpose != "coordination":
            continue
        if not areas <= {a.area for a in consent.areas}:
            continue
        if in_effect(
            consent,
            set(picture.custodial_guardian_ids),
            set(picture.mature_agency_ids),
            today(),
            birth_date=child.birth_date,
            maturity_min_age=maturity_min_age(),
        ):
            return consent
    return None


def _young_person_consent_in_place(child: Child, agency_id: int, areas: set[str], since: date) -> Consent | None:
    """A recorded, not withdrawn coordination consent the young person gave this agency that still runs
    and covers these areas: recording another would be refused as an overlap, so it is linked instead."""
    consents = db.session.scalars(
        select(Consent)
        .where(
            Consent.child_id == child.id,
            Consent.agency_id == agency_id,
            Consent.purpose == "coordination",
            Consent.state == "recorded",
            Consent.withdrawn_at.is_(None),
            or_(Consent.valid_until.is_(None), Consent.valid_until >= since),
        )
        .options(selectinload(Consent.areas), selectinload(Consent.givers))
        .order_by(Consent.id.desc())
    ).all()
    for consent in consents:
        young = any(g.guardian_id is None and g.withdrawn_at is None for g in consent.givers)
        if young and {a.area for a in consent.areas} & areas:
            return consent
    return None


def _record_agreement_consent(
    actor, concern: Concern, child: Child, contact: RoleAssignment, *, note: str
) -> Consent | None:  # type: ignore[no-untyped-def]
    """The coordination consent for the Child Contact's agency, limited to the concern's areas (RULES.md
    §5), given by those who agreed, on the agreement date, recorded by the author. None when the ledger
    refuses it (nothing is then written, and the concern goes as a signal: the safer way)."""
    areas = {area.area for area in concern.areas}
    young = any(a.is_young_person for a in concern.agreements)
    assert concern.agreement_method is not None and concern.agreement_on is not None
    in_place = _consent_in_effect_covering(child, contact.agency_id, areas)
    if in_place is not None:
        return in_place  # the family's consent already covers it: linked, not recorded twice
    if young:
        existing = _young_person_consent_in_place(child, contact.agency_id, areas, concern.agreement_on)
        if existing is not None:
            return existing
        givers = [GiverData(None, concern.agreement_method, note, concern.agreement_on)]
    else:
        givers = [
            GiverData(a.guardian_id, concern.agreement_method, note, concern.agreement_on)
            for a in concern.agreements
            if a.guardian_id is not None
        ]
    recorder = concern.author if concern.author is not None and concern.author.is_active else None
    if recorder is None:
        return None
    text = current_consent_text("sv")
    agency = db.session.get(Agency, contact.agency_id)
    assert agency is not None
    data = ConsentData(
        purposes=["coordination"],
        areas=sorted(areas),
        valid_from=concern.agreement_on,
        valid_until=_one_year_on(today()),
        givers=givers,
        consent_text_version=text.version,
        consent_text_language=text.language,
        recorded_by=recorder,
    )
    try:
        # The author may not see the agency's consents (RULES.md §4): an overlap is not refused. The young
        # person's consent needs the maturity check, so it is recorded with the agency in view.
        recorded = record_consent(actor, child, agency, data, agency_hidden=not young)
    except OperationError:
        return None
    return recorded[0]


# -- matching ---------------------------------------------------------------------------------------------
def match_concern(actor, concern: Concern) -> list[MatchingAlert]:  # type: ignore[no-untyped-def]
    """After routing: another agency's concern or signal about the same child within the window makes one
    alert per pair (the lower id first; never twice) to the current Child Contact (RULES.md §5)."""
    if concern.child_id is None or concern.routing == "unmatched":
        return []
    contact = current_child_contact(concern.child_id)
    if contact is None:
        return []  # matched again when a Child Contact is assigned (``reroute_waiting_concerns``)
    window = timedelta(days=match_window_days())
    others = db.session.scalars(
        select(Concern)
        .where(
            Concern.child_id == concern.child_id,
            Concern.id != concern.id,
            Concern.routing != "unmatched",
            Concern.author_agency_id != concern.author_agency_id,
            Concern.created_at >= concern.created_at - window,
            Concern.created_at <= concern.created_at + window,
        )
        .order_by(Concern.id)
    ).all()
    if not others:
        return []
    pairs = [(min(concern.id, other.id), max(concern.id, other.id)) for other in others]
    existing = set(
        db.session.execute(
            select(MatchingAlert.first_concern_id, MatchingAlert.second_concern_id).where(
                or_(
                    *(and_(MatchingAlert.first_concern_id == a, MatchingAlert.second_concern_id == b) for a, b in pairs)
                )
            )
        ).tuples()
    )
    made: list[MatchingAlert] = []
    for first, second in pairs:
        if (first, second) in existing:
            continue
        alert = MatchingAlert(
            child_id=concern.child_id,
            first_concern_id=first,
            second_concern_id=second,
            recipient_person_id=contact.staff_person_id,
            recipient_agency_id=contact.agency_id,
            created_at=now(),
        )
        db.session.add(alert)
        db.session.flush()
        record_write(
            actor.audit_actor(),
            "raise_matching_alert",
            child_id=concern.child_id,
            object_type="matching_alert",
            object_id=alert.public_id,
            legal_basis=CONCERN_BASIS,
        )
        record_event(
            concern.child_id,
            "matching_alert",
            owner_agency_id=contact.agency_id,
            audience="recipient",
            tone="worry",
            recipient_person_id=contact.staff_person_id,
            object_type="matching_alert",
            object_public_id=alert.public_id,
        )
        db.session.flush()
        events.matching_alert_raised.send(None, alert=alert)
        made.append(alert)
    return made


# -- a Child Contact is assigned ----------------------------------------------------------------------------
def reroute_waiting_concerns(actor, child: Child) -> list[Concern]:  # type: ignore[no-untyped-def]
    """The child has just got a Child Contact: concerns still waiting for one ("agency_admin", open) are
    routed as when raised — same agency, or across agencies shared when the agreement rows say everyone
    agreed, otherwise a signal — announced again, and matched."""
    contact = current_child_contact(child.id)
    if contact is None:
        return []
    waiting = db.session.scalars(
        select(Concern)
        .where(Concern.child_id == child.id, Concern.routing == "agency_admin", Concern.state == "open")
        .options(selectinload(Concern.areas), selectinload(Concern.agreements))
        .order_by(Concern.id)
    ).all()
    for concern in waiting:
        _route(actor, concern, child, contact, note=AGREED_NOTE)
        db.session.flush()
        _audit(actor, concern, child_id=child.id, action="route_concern")
        if concern.routing == "signal":
            _record_signal(concern)
        db.session.flush()
        events.concern_routed.send(None, concern=concern)
    for concern in waiting:
        match_concern(actor, concern)
    return list(waiting)


# -- the agency admin's queue -------------------------------------------------------------------------------
@dataclass(frozen=True)
class UnmatchedRegistration:
    given_name: str
    family_name: str
    unit: Unit


def concern_birth_date(concern: Concern) -> date | None:
    """The birth date in an unmatched concern's identity number (its age is all the queue shows)."""
    if concern.identity_number_encrypted is None:
        return None
    return decrypt_identity_number(concern.identity_number_encrypted, _keys()[0]).birth_date


@refusals_audited("register_unmatched_concern_child")
def register_unmatched_child(actor, concern: Concern, data: UnmatchedRegistration) -> Child:  # type: ignore[no-untyped-def]
    """The agency admin registers the child of an unmatched concern with the stored number and enrols it at
    one of the agency's units; the concern then waits for a Child Contact ("agency_admin").

    If the number was registered meanwhile, the concern is routed to that child as a concern by number
    would be (nothing is registered)."""
    if concern.routing != "unmatched" or concern.identity_number_encrypted is None:
        raise OperationError(_("This concern has already been matched to a child"))
    if actor.acting_agency is None or data.unit.agency_id != actor.acting_agency.id:
        raise OperationError(_("Choose one of your agency's units"), "unit")
    given, family = data.given_name.strip(), data.family_name.strip()
    if not given:
        raise OperationError(_("Enter the given name"), "given_name")
    if not family:
        raise OperationError(_("Enter the family name"), "family_name")
    number = decrypt_identity_number(concern.identity_number_encrypted, _keys()[0])
    existing = db.session.scalar(select(Child).where(Child.identity_number_hash == concern.identity_number_hash))
    if existing is None:
        child = register_child(
            actor, ChildData(given_name=given, family_name=family, birth_date=None, identity_number=number)
        )
        enrol_child(actor, child, data.unit, today())
    else:
        child = existing
    # Every open unmatched concern with this number (from any agency) now has its child.
    same_number = db.session.scalars(
        select(Concern)
        .where(
            Concern.routing == "unmatched",
            Concern.child_id.is_(None),
            Concern.identity_number_hash == concern.identity_number_hash,
            Concern.id != concern.id,
        )
        .order_by(Concern.id)
    ).all()
    for matched in [concern, *same_number]:
        _match_to_child(actor, matched, child)
    return child


def _match_to_child(actor, concern: Concern, child: Child) -> None:  # type: ignore[no-untyped-def]
    concern.child_id = child.id
    concern.identity_number_encrypted = None  # the child holds the number now (minimisation)
    concern.identity_number_hash = None
    concern.routing = "agency_admin"
    _route(actor, concern, child, current_child_contact(child.id), note=STATED_NOTE)
    db.session.flush()
    _audit(actor, concern, child_id=child.id, action="match_unmatched_concern")
    _record_raised(concern)
    if concern.routing == "signal":
        _record_signal(concern)
    db.session.flush()
    events.concern_routed.send(None, concern=concern)
    match_concern(actor, concern)


# -- siblings ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Sibling:
    """A registered sibling as the Child Contact may know of it: a number on the page, whether it has a
    Child Contact to ask (and whether that is the viewer), nothing else (RULES.md §5)."""

    number: int
    child_id: int
    contact: RoleAssignment | None


def siblings_of(child_id: int) -> list[Sibling]:
    """The child's siblings through explicit sibling links, in the order the links were made."""
    links = db.session.execute(
        select(SiblingLink.child_id, SiblingLink.sibling_id)
        .where(or_(SiblingLink.child_id == child_id, SiblingLink.sibling_id == child_id))
        .order_by(SiblingLink.id)
    ).all()
    ids = [row.sibling_id if row.child_id == child_id else row.child_id for row in links]
    contacts = (
        {
            assignment.child_id: assignment
            for assignment in db.session.scalars(
                select(RoleAssignment).where(
                    RoleAssignment.child_id.in_(ids),
                    RoleAssignment.role == "child_contact",
                    RoleAssignment.ended_at.is_(None),
                )
            )
        }
        if ids
        else {}
    )
    return [Sibling(index, sibling_id, contacts.get(sibling_id)) for index, sibling_id in enumerate(ids, start=1)]


def has_concerns(child_id: int) -> bool:
    return db.session.scalar(select(Concern.id).where(Concern.child_id == child_id).limit(1)) is not None


@refusals_audited("send_sibling_request")
def send_sibling_request(actor, child: Child, sibling: Sibling) -> SiblingContactRequest:  # type: ignore[no-untyped-def]
    """The Child Contact of a child with concerns asks a sibling's Child Contact, content-free, to get in
    touch. The caller has established that the actor is the child's Child Contact."""
    person, agency = _author(actor)
    if not has_concerns(child.id):
        raise OperationError(_("A request can be sent only about a child with a concern"), "sibling")
    contact = sibling.contact
    if contact is None:
        raise OperationError(_("That sibling has no Child Contact to ask"), "sibling")
    if contact.staff_person_id == person.id and contact.agency_id == agency.id:
        raise OperationError(_("You are that sibling's Child Contact yourself"), "sibling")
    moment = now()
    request = SiblingContactRequest(
        from_child_id=child.id,
        to_child_id=sibling.child_id,
        from_person_id=person.id,
        from_agency_id=agency.id,
        to_person_id=contact.staff_person_id,
        to_agency_id=contact.agency_id,
        created_at=moment,
    )
    db.session.add(request)
    db.session.flush()
    record_write(
        actor.audit_actor(),
        "send_sibling_request",
        child_id=child.id,
        object_type="sibling_contact_request",
        object_id=request.public_id,
        legal_basis="relation_child_contact",
    )
    record_event(
        child.id,
        "sibling_request",
        owner_agency_id=agency.id,
        audience="own_agency",
        author_person_id=person.id,
        object_type="sibling_contact_request",
        object_public_id=request.public_id,
    )
    db.session.flush()
    events.sibling_request_sent.send(None, request=request)
    return request


def sent_sibling_requests(child_id: int) -> dict[int, datetime]:
    """When each sibling was last asked about (by any Child Contact of this child)."""
    rows = db.session.execute(
        select(SiblingContactRequest.to_child_id, SiblingContactRequest.created_at).where(
            SiblingContactRequest.from_child_id == child_id
        )
    ).all()
    latest: dict[int, datetime] = {}
    for to_child_id, created_at in rows:
        if to_child_id not in latest or created_at > latest[to_child_id]:
            latest[to_child_id] = created_at
    return latest


__all__ = [
    "ConcernByNumberData",
    "ConcernData",
    "Sibling",
    "UnmatchedRegistration",
    "everyone_agreed",
    "match_concern",
    "raise_concern",
    "raise_concern_by_number",
    "register_unmatched_child",
    "reroute_waiting_concerns",
    "send_sibling_request",
    "siblings_of",
]
