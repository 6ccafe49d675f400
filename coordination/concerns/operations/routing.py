"""Routing a concern (RULES.md §5), in one place (``route``), and what raising, re-routing and matching an
unmatched concern share: the author, the audit row, the chronology entries.

* the child's current Child Contact is in the author's acting agency → ``same_agency`` (to the Child Contact);
* the Child Contact is in another agency and every current custodial guardian agreed (or the young person,
  where they decide for that agency) → ``shared``: a coordination consent for the Child Contact's agency,
  limited to the concern's areas, is recorded through the consent ledger and linked to the concern;
* otherwise → ``signal``: the Child Contact gets only a content-free request to contact the author;
* no Child Contact → ``agency_admin``: the agency admins of the agency of a unit the child is enrolled at
  (the first by name), or the author's own agency when the child is enrolled nowhere.

(An unknown identity number → ``unmatched`` is decided where the number is looked up: ``raising``.)
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from agencies.models import Agency, StaffPerson, Unit
from coordination.access import Actor, AnyActor, consent_picture
from coordination.audit import record_write
from coordination.children.models import Child, Custody, Enrolment, RoleAssignment
from coordination.chronology.record import record_event
from coordination.clock import today
from coordination.concerns.models import Concern
from coordination.consent.common import maturity_min_age
from coordination.consent.evaluation import in_effect, young_person_decides
from coordination.consent.ledger import ConsentData, GiverData, record_consent
from coordination.consent.models import Consent, MaturityAssessment
from coordination.consent.texts import current_consent_text
from coordination.database import db
from coordination.errors import OperationError
from coordination.errors import refusal_message as _
from coordination.labels import AGREED_WHEN_RAISED, STATED_WHEN_RAISED

# The consent evidence notes written when a concern is passed on with the family's agreement: stored as these
# keys, shown in the reader's language (labels.system_note)
AGREED_NOTE = AGREED_WHEN_RAISED
STATED_NOTE = STATED_WHEN_RAISED
CONCERN_BASIS = "own_agency_record"  # a concern is the author's agency's own record (RULES.md §4)


# -- who agreed, who writes -------------------------------------------------------------------------------
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


def staff_author(actor: Actor) -> tuple[StaffPerson, Agency]:
    """The staff person and acting agency of the actor (who raises a concern, or sends a sibling request)."""
    person = actor.account.staff_person
    if person is None or actor.acting_agency is None:
        raise OperationError(_("Only staff acting for an agency can raise a concern"))
    return person, actor.acting_agency


# -- the audit row and the chronology entries ---------------------------------------------------------------
def audit_concern(actor: AnyActor, concern: Concern, *, child_id: int | None, action: str = "raise_concern") -> None:
    record_write(
        actor.audit_actor(),
        action,
        child_id=child_id,
        object_type="concern",
        object_id=concern.public_id,
        legal_basis=CONCERN_BASIS,
        detail={"routing": concern.routing},
    )


def record_raised(concern: Concern) -> None:
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


def record_signal(concern: Concern) -> None:
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


# -- routing ------------------------------------------------------------------------------------------------
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


def route(actor: AnyActor, concern: Concern, child: Child, contact: RoleAssignment | None, *, note: str) -> None:
    """Set the concern's routing and recipient (the module's docstring says how); ``note`` is the evidence
    note of an agreement consent recorded on the way."""
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


# -- the agreement consent ------------------------------------------------------------------------------------
def _one_year_on(day: date) -> date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


def _consent_in_effect_covering(child: Child, agency_id: int, areas: set[str]) -> Consent | None:
    """A coordination consent for the agency that is in effect today and alone covers every area."""

    picture = consent_picture(child)
    for consent in reversed(picture.consents):
        if consent.agency_id != agency_id or consent.purpose != "coordination":
            continue
        if not areas <= consent.area_codes:  # the areas not withdrawn one by one
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
        # it must cover every area of the concern and be in effect now; one that only overlaps is not
        # linked (recording another is then refused as an overlap, and the concern goes as a signal)
        replaced = consent.replaced_from is not None and consent.replaced_from <= today()
        if young and not replaced and areas <= consent.area_codes and consent.valid_from <= today():
            return consent
    return None


def _record_agreement_consent(
    actor: AnyActor, concern: Concern, child: Child, contact: RoleAssignment, *, note: str
) -> Consent | None:
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
