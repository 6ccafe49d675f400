"""The consent ledger's writes: request, record (a wider consent replaces the older one), add a giver,
withdraw (the whole consent, or one of its areas), record maturity.

``verb_noun(actor, ..., data)``: everything is validated before the session is touched, so a refusal
(``OperationError(message, field)``) writes nothing; each write flushes and is audited in the same
transaction; the caller commits once. "Now" and "today" come from the app clock.

What the writes check against (custodians, maturity assessments, overlapping consents, open requests)
is read in ``lookups``; the chronology entries and the ``role_needs_consent`` signal they cause are
made in ``announcements``."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy import select

from agencies.models import Agency, StaffPerson
from childplan.compass import AREA_CODES
from coordination.access import AnyActor
from coordination.audit import record_write, refusals_audited
from coordination.children.models import Child, age_in_years
from coordination.clock import current_clock, now, today
from coordination.consent.announcements import chronicle, coordination_in_effect, tell_role_holders
from coordination.consent.common import (
    ADULT_AGE,
    CONSENT_LEGAL_BASES,
    DEFAULT_TEXT_LANGUAGE,
    MAX_NOTE_LENGTH,
    MAX_VALIDITY_YEARS,
    giver_key,
    maturity_min_age,
)
from coordination.consent.lookups import (
    current_custodian_ids,
    has_maturity_assessment,
    newest_open_requests,
    overlapping_consent,
    overlapping_consents,
)
from coordination.consent.models import (
    CONSENT_METHODS,
    CONSENT_PURPOSES,
    Consent,
    ConsentArea,
    ConsentGiver,
    MaturityAssessment,
)
from coordination.consent.texts import consent_text
from coordination.database import db
from coordination.errors import OperationError
from coordination.errors import refusal_message as _


# -- input ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GiverData:
    """One person's part of a consent. ``guardian_id`` None means the young person."""

    guardian_id: int | None
    method: str  # one of CONSENT_METHODS
    evidence_note: str | None = None  # at most MAX_NOTE_LENGTH characters
    given_on: date | None = None  # None: today


@dataclass(frozen=True)
class ConsentData:
    purposes: Collection[str]  # a non-empty subset of CONSENT_PURPOSES; one Consent row per purpose
    areas: Collection[str]  # a non-empty subset of AREA_CODES
    valid_from: date | None
    valid_until: date | None  # required: on or after valid_from, not before today, at most 3 years on
    givers: Collection[GiverData]
    consent_text_version: int
    recorded_by: StaffPerson | None
    consent_text_language: str = DEFAULT_TEXT_LANGUAGE  # the language of the text shown to the family
    legal_basis: str = "consent"  # or "social_services_decision" (givers may then be empty)


# -- validation helpers -----------------------------------------------------------------------------------
def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _checked_codes(values: Collection[str], known: tuple[str, ...], field: str) -> frozenset[str]:
    chosen = frozenset(values or ())
    if not chosen:
        message = _("Choose at least one purpose") if field == "purposes" else _("Choose at least one area")
        raise OperationError(message, field)
    if not chosen <= set(known):
        raise OperationError(_("Unknown purpose") if field == "purposes" else _("Unknown area"), field)
    return chosen


def _check_period(valid_from: date | None, valid_until: date | None) -> None:
    if valid_from is None:
        raise OperationError(_("Enter the date the consent applies from"), "valid_from")
    if valid_until is None:
        raise OperationError(_("Enter the last day the consent applies"), "valid_until")
    if valid_until < valid_from:
        raise OperationError(_("The end date must be the same as or after the start date"), "valid_until")
    if valid_until < today():
        raise OperationError(_("That period has already ended: the end date must be today or later"), "valid_until")
    if valid_until > _add_years(valid_from, MAX_VALIDITY_YEARS):
        raise OperationError(
            _("A consent can apply for at most %(years)d years", years=MAX_VALIDITY_YEARS), "valid_until"
        )


def _check_recorder(recorded_by: StaffPerson | None) -> StaffPerson:
    if recorded_by is None or not recorded_by.is_active:
        raise OperationError(_("Say which active member of staff records this"), "recorded_by")
    return recorded_by


def _check_maturity_age(child: Child, field: str) -> None:
    """A maturity assessment, and the young person's own consent under one, need a child of at least the
    configured minimum age today (RULES.md §3): an unborn child, or one without a birth date, never."""
    minimum = maturity_min_age()
    age = age_in_years(child.birth_date, today())
    if age is None:
        raise OperationError(
            _("The child's birth date is not known, so the young person cannot be recorded as mature enough to decide"),
            field,
        )
    if age < minimum:
        raise OperationError(
            _(
                "The young person must be at least %(age)d years old to decide about consent themselves",
                age=minimum,
            ),
            field,
        )


def _is_adult(child: Child) -> bool:
    age = age_in_years(child.birth_date, today())
    return age is not None and age >= ADULT_AGE


def _check_givers(
    child: Child,
    agency: Agency,
    givers: Iterable[GiverData],
    *,
    field: str = "givers",
    agency_hidden: bool = False,
) -> list[tuple[GiverData, str | None]]:
    """Each giver checked (method, note, date, custody, maturity and age); returns (giver, cleaned note).
    From 18 only the young person gives consent (the guardians no longer decide); before that the young
    person only for an agency with a maturity assessment, and only from the minimum age. The young
    person's consent always needs an evidence note. ``agency_hidden``: the recorder may not see the
    agency's maturity assessments, so the young person (under 18) is refused there whether or not one
    exists — the answer must not depend on what they may not see."""
    checked: list[tuple[GiverData, str | None]] = []
    seen: set[int | str] = set()
    custodians: set[int] | None = None
    adult = _is_adult(child)
    for giver in givers:
        if giver.method not in CONSENT_METHODS:
            raise OperationError(_("Choose how the consent was given"), field)
        note = (giver.evidence_note or "").strip() or None
        if note is not None and len(note) > MAX_NOTE_LENGTH:
            raise OperationError(
                _("The evidence note can be at most %(count)d characters", count=MAX_NOTE_LENGTH), "evidence_note"
            )
        if giver.given_on is not None and giver.given_on > today():
            raise OperationError(_("The date the consent was given cannot be in the future"), field)
        key = giver_key(giver.guardian_id)
        if key in seen:
            raise OperationError(_("Each person can give the consent only once"), field)
        seen.add(key)
        if giver.guardian_id is None:
            if not adult:
                if agency_hidden or not has_maturity_assessment(child.id, agency.id):
                    raise OperationError(young_person_not_mature(), field)
                _check_maturity_age(child, field)
            if note is None:
                raise OperationError(
                    _("Write an evidence note for the young person's consent: how and where they gave it"),
                    "evidence_note",
                )
        else:
            if adult:
                raise OperationError(
                    _("The young person is 18 or older and gives consent themselves: the guardians no longer do"),
                    field,
                )
            if custodians is None:
                custodians = current_custodian_ids(child.id)
            if giver.guardian_id not in custodians:
                raise OperationError(_("Only a guardian with custody of the child can give consent"), field)
        checked.append((giver, note))
    return checked


def young_person_not_mature() -> str:
    """The refusal for the young person's consent to an agency they do not decide for (the views use it
    too, so a refusal reads the same whatever the viewer may see)."""
    return _(
        "The young person can give consent only when staff have recorded that they are mature enough to decide "
        "for this agency"
    )


def _given_at(given_on: date | None) -> datetime:
    """When a giver gave it: now for today, otherwise midday of that local day."""
    if given_on is None or given_on == today():
        return now()
    return datetime.combine(given_on, time(12), tzinfo=current_clock().zone)


def _consent_detail(consent: Consent, **extra: object) -> dict[str, object]:
    return {"agency_id": consent.agency_id, "purpose": consent.purpose, **extra}


# -- writes -----------------------------------------------------------------------------------------------
@refusals_audited("request_consent")
def request_consent(
    actor: AnyActor,
    child: Child,
    agency: Agency,
    purposes: Collection[str],
    areas: Collection[str],
    valid_from: date | None,
    valid_until: date | None,
    *,
    requested_by: StaffPerson | None = None,
    agency_hidden: bool = False,
) -> list[Consent]:
    """Ask for consent (state "requested", one row per purpose). It grants nothing. At most one open
    request per child, agency and purpose (field "purposes"); recording the consent later fulfils it.

    ``agency_hidden``: the person asking may not see this agency's consents (RULES.md §4), so refusing
    would tell them a request is open: a purpose already requested is then left as it is (no new row)
    and the others are requested; the answer looks the same either way. Returns the new rows."""
    chosen_purposes = _checked_codes(purposes, CONSENT_PURPOSES, "purposes")
    chosen_areas = _checked_codes(areas, AREA_CODES, "areas")
    _check_period(valid_from, valid_until)
    assert valid_from is not None
    open_requests = newest_open_requests(child, agency, chosen_purposes)
    if open_requests and not agency_hidden:
        raise OperationError(_("That consent has already been requested from this agency"), "purposes")
    moment = now()
    created: list[Consent] = []
    for purpose in _in_order(chosen_purposes):
        if purpose in open_requests:
            continue
        consent = Consent(
            child_id=child.id,
            agency_id=agency.id,
            purpose=purpose,
            state="requested",
            valid_from=valid_from,
            valid_until=valid_until,
            legal_basis="consent",
            recorded_by_id=requested_by.id if requested_by is not None else None,
            requested_at=moment,
            created_at=moment,
            areas=[ConsentArea(area=area) for area in _areas_in_order(chosen_areas)],
        )
        db.session.add(consent)
        created.append(consent)
    db.session.flush()
    for consent in created:
        record_write(
            actor.audit_actor(),
            "request_consent",
            child_id=child.id,
            object_type="consent",
            object_id=consent.public_id,
            legal_basis="consent",
            detail=_consent_detail(consent),
        )
        chronicle(actor, consent, "consent_requested", chosen_areas)
    return created


@refusals_audited("record_consent")
def record_consent(
    actor: AnyActor, child: Child, agency: Agency, data: ConsentData, *, agency_hidden: bool = False
) -> list[Consent]:
    """Record a consent given to ``agency``: one row per purpose, state "recorded", with its areas and
    each giver (each guardian separately; the young person only where a maturity assessment exists for
    this agency). A partial recording (one of two custodial guardians) is allowed: it is stored, shown
    as "partial", and takes effect when the other guardian is added (``add_consent_giver``).

    A requested consent for the same agency and purpose is **fulfilled in place**: that row (the newest
    open request, if several) becomes the recorded consent — its state, period, text, recorder and
    areas are replaced by this recording's and the givers are added — so the request's history
    (``requested_at``, its public id) stays with the consent it led to. Nothing is deleted.

    Refusals (nothing written): no purpose or area ("purposes"/"areas"); a missing start ("valid_from");
    a missing end, an end before the start, a period already ended or longer than three years
    ("valid_until"); no giver for a consent basis, a giver without current custody, the young person
    without a maturity assessment, a giver twice, a future date given, an unknown method ("givers"); an
    evidence note over 1000 characters, or none for the young person ("evidence_note"); the young person
    of a child under the minimum age, or a guardian once the child is 18 ("givers"); an unknown text
    version or language
    ("consent_text_version"); no active recorder ("recorded_by"); an overlap — a recorded, not withdrawn
    consent of the same child, agency and purpose sharing an area and a giver, whose period intersects
    ("valid_from") — unless it is a **widening**.

    Widening: when every such overlapping consent covers fewer areas than this recording (its current
    areas a strict subset of the new ones), the new consent **replaces** each of them: the older one gets
    ``replaced_by_id`` and ``replaced_from`` (the new one's first day), counts only until the day before,
    and stays in the ledger (audited "replace_consent"). Nothing is refused then. The new consent may
    still wait for another guardian: the older one ends all the same (the safer side).

    ``agency_hidden``: the recorder may not see this agency's consents (RULES.md §4), so an overlap is
    not refused (that would reveal them): the consent is recorded — evaluation takes the union of the
    consents in effect, so an overlapping row is harmless; and the young person (under 18) is refused
    for that agency whether or not a maturity assessment exists."""
    purposes = _checked_codes(data.purposes, CONSENT_PURPOSES, "purposes")
    areas = _checked_codes(data.areas, AREA_CODES, "areas")
    _check_period(data.valid_from, data.valid_until)
    assert data.valid_from is not None and data.valid_until is not None
    if data.legal_basis not in CONSENT_LEGAL_BASES:
        raise OperationError(_("Unknown legal basis"), "legal_basis")
    text = consent_text(data.consent_text_version, data.consent_text_language)
    if text is None:
        raise OperationError(_("That version of the consent text does not exist"), "consent_text_version")
    recorder = _check_recorder(data.recorded_by)
    if not data.givers and data.legal_basis == "consent":
        raise OperationError(_("Record who gave the consent"), "givers")
    givers = _check_givers(child, agency, data.givers, agency_hidden=agency_hidden)
    parties: set[int | str] = {giver_key(giver.guardian_id) for giver, _note in givers}
    if data.legal_basis == "social_services_decision":
        parties.add("decision")
    clashes = overlapping_consents(child, agency, purposes, areas, data.valid_from, data.valid_until, parties)
    widened = [c for c in clashes if c.area_codes < areas]
    if not agency_hidden and len(widened) < len(clashes):
        raise OperationError(
            _("A consent for this agency, purpose and area from the same person already covers part of this period"),
            "valid_from",
        )
    requests = newest_open_requests(child, agency, purposes)
    moment = now()
    recorded: list[Consent] = []
    for purpose in _in_order(purposes):
        consent = requests.get(purpose)
        fulfils = consent is not None
        if consent is None:
            consent = Consent(child_id=child.id, agency_id=agency.id, purpose=purpose, created_at=moment)
            db.session.add(consent)
        consent.state = "recorded"
        consent.valid_from = data.valid_from
        consent.valid_until = data.valid_until
        consent.consent_text_id = text.id
        consent.legal_basis = data.legal_basis
        consent.recorded_by_id = recorder.id
        consent.recorded_at = moment
        _replace_areas(consent, areas)
        for giver, note in givers:
            consent.givers.append(
                ConsentGiver(
                    guardian_id=giver.guardian_id,
                    is_young_person=giver.guardian_id is None,
                    method=giver.method,
                    evidence_note=note,
                    given_at=_given_at(giver.given_on),
                )
            )
        recorded.append(consent)
        db.session.flush()
        record_write(
            actor.audit_actor(),
            "record_consent",
            child_id=child.id,
            object_type="consent",
            object_id=consent.public_id,
            legal_basis=data.legal_basis,
            detail=_consent_detail(
                consent,
                givers=len(givers),
                young_person=any(giver.guardian_id is None for giver, _note in givers),
                fulfils_request=fulfils,
                text_version=text.version,
            ),
        )
        chronicle(actor, consent, "consent_recorded", areas)
    by_purpose = {consent.purpose: consent for consent in recorded}
    for older in widened:
        _replace(actor, older, by_purpose[older.purpose])
    return recorded


def _replace(actor: AnyActor, older: Consent, newer: Consent) -> None:
    """A wider consent replaces an older one: the older counts until the day before the newer starts."""
    older.replaced_by_id = newer.id
    older.replaced_from = newer.valid_from
    db.session.flush()
    record_write(
        actor.audit_actor(),
        "replace_consent",
        child_id=older.child_id,
        object_type="consent",
        object_id=older.public_id,
        legal_basis=older.legal_basis,
        detail=_consent_detail(older, replaced_by=newer.public_id, replaced_from=newer.valid_from.isoformat()),
    )


@refusals_audited("add_consent_giver")
def add_consent_giver(
    actor: AnyActor, consent: Consent, data: GiverData, recorded_by: StaffPerson | None
) -> ConsentGiver:
    """Add one more person's consent to a recorded consent (the second guardian in joint custody, or the
    young person): the same checks as recording; field "giver" for problems with the consent itself."""
    _check_recorder(recorded_by)
    if consent.state == "withdrawn":
        raise OperationError(_("The consent has been withdrawn: record a new one"), "giver")
    if consent.state != "recorded":
        raise OperationError(_("Record the consent first"), "giver")
    if consent.valid_until is not None and consent.valid_until < today():
        raise OperationError(_("The consent has ended: record a new one"), "giver")
    child = db.session.get(Child, consent.child_id)
    agency = db.session.get(Agency, consent.agency_id)
    assert child is not None and agency is not None
    key = giver_key(data.guardian_id)
    if key in {giver_key(g.guardian_id) for g in consent.givers}:
        raise OperationError(_("That person has already given this consent"), "giver")
    ((giver, note),) = _check_givers(child, agency, [data], field="giver")
    areas = {a.area for a in consent.areas}
    clash = overlapping_consent(
        child, agency, (consent.purpose,), areas, consent.valid_from, consent.valid_until, {key}, besides=consent
    )
    if clash is not None:
        raise OperationError(
            _("A consent for this agency, purpose and area from the same person already covers part of this period"),
            "giver",
        )
    added = ConsentGiver(
        guardian_id=giver.guardian_id,
        is_young_person=giver.guardian_id is None,
        method=giver.method,
        evidence_note=note,
        given_at=_given_at(giver.given_on),
    )
    consent.givers.append(added)
    db.session.flush()
    record_write(
        actor.audit_actor(),
        "add_consent_giver",
        child_id=consent.child_id,
        object_type="consent",
        object_id=consent.public_id,
        legal_basis=consent.legal_basis,
        detail=_consent_detail(consent, young_person=giver.guardian_id is None),
    )
    return added


@refusals_audited("withdraw_consent")
def withdraw_consent(
    actor: AnyActor, consent: Consent, giver_guardian_id: int | None, recorded_by: StaffPerson | None
) -> None:
    """Any one withdrawal ends a consent at once: the giver's ``withdrawn_at``, and the consent's state
    "withdrawn" with ``withdrawn_at``. ``giver_guardian_id`` None means the young person. Withdrawing a
    requested consent cancels the request (the giver is then ignored). Refused, with nothing written
    (field "giver"): a consent already withdrawn; a person who has not given this consent."""
    _check_recorder(recorded_by)
    assert recorded_by is not None
    if consent.state == "withdrawn":
        raise OperationError(_("The consent has already been withdrawn"), "giver")
    moment = now()
    if consent.state == "requested":
        consent.state = "withdrawn"
        consent.withdrawn_at = moment
        db.session.flush()
        record_write(
            actor.audit_actor(),
            "cancel_consent_request",
            child_id=consent.child_id,
            object_type="consent",
            object_id=consent.public_id,
            legal_basis="consent",
            detail=_consent_detail(consent, recorded_by_id=recorded_by.id),
        )
        return
    key = giver_key(giver_guardian_id)
    giver = next((g for g in consent.givers if giver_key(g.guardian_id) == key), None)
    if giver is None:
        raise OperationError(_("That person has not given this consent"), "giver")
    had_coordination = coordination_in_effect(consent)
    giver.withdrawn_at = moment
    giver.withdrawal_recorded_by_id = recorded_by.id
    consent.state = "withdrawn"
    consent.withdrawn_at = moment
    db.session.flush()
    record_write(
        actor.audit_actor(),
        "withdraw_consent",
        child_id=consent.child_id,
        object_type="consent",
        object_id=consent.public_id,
        legal_basis=consent.legal_basis,
        detail=_consent_detail(consent, young_person=giver_guardian_id is None, recorded_by_id=recorded_by.id),
    )
    chronicle(actor, consent, "consent_withdrawn", consent.area_codes)
    if had_coordination and not coordination_in_effect(consent):
        tell_role_holders(consent)


@refusals_audited("withdraw_consent_area")
def withdraw_consent_area(
    actor: AnyActor,
    consent: Consent,
    area: str,
    giver_guardian_id: int | None,
    recorded_by: StaffPerson | None,
) -> None:
    """Withdraw one Needs Compass area of a recorded consent: the consent goes on for its other areas.
    One giver's withdrawal is enough (as for the whole consent); it takes effect on the next request —
    data shared under that area is withheld again from the agency unless another consent in effect
    covers it (RULES.md §3, §4). The area row keeps when, by which giver and who recorded it; audited
    "withdraw_consent_area", and a "consent_withdrawn" chronology entry for that area only.

    Refused, nothing written: a consent withdrawn, requested (cancel the request), ended or replaced
    ("giver"); an area it does not cover, or no longer ("area"); its last area (withdraw the whole
    consent: "area"); a person who has not given it, or has withdrawn ("giver")."""
    _check_recorder(recorded_by)
    assert recorded_by is not None
    if consent.state == "withdrawn":
        raise OperationError(_("The consent has already been withdrawn"), "giver")
    if consent.state != "recorded":
        raise OperationError(_("A request gives no access: cancel the request instead"), "giver")
    day = today()
    if consent.valid_until is not None and consent.valid_until < day:
        raise OperationError(_("The consent has ended: there is nothing to withdraw"), "giver")
    if consent.replaced_from is not None and consent.replaced_from <= day:
        raise OperationError(_("A wider consent has replaced this one: withdraw the area there"), "giver")
    row = next((a for a in consent.areas if a.area == area), None)
    if row is None:
        raise OperationError(_("This consent does not cover that area"), "area")
    if row.withdrawn_at is not None:
        raise OperationError(_("That area has already been withdrawn"), "area")
    if consent.area_codes == {area}:
        raise OperationError(_("This is the consent's last area: withdraw the whole consent instead"), "area")
    key = giver_key(giver_guardian_id)
    giver = next((g for g in consent.givers if giver_key(g.guardian_id) == key and g.withdrawn_at is None), None)
    if giver is None:
        raise OperationError(_("That person has not given this consent"), "giver")
    row.withdrawn_at = now()
    row.withdrawn_by_giver_id = giver.id
    row.withdrawal_recorded_by_id = recorded_by.id
    db.session.flush()
    record_write(
        actor.audit_actor(),
        "withdraw_consent_area",
        child_id=consent.child_id,
        object_type="consent",
        object_id=consent.public_id,
        legal_basis=consent.legal_basis,
        detail=_consent_detail(
            consent, area=area, young_person=giver_guardian_id is None, recorded_by_id=recorded_by.id
        ),
    )
    chronicle(actor, consent, "consent_withdrawn", {area})


@refusals_audited("record_maturity")
def record_maturity(
    actor: AnyActor,
    child: Child,
    agency: Agency,
    recorded_by: StaffPerson | None,
    note: str | None,
    *,
    agency_hidden: bool = False,
) -> MaturityAssessment:
    """Record that the young person is mature enough to decide about consent for ``agency`` (one per
    child and agency; twice is refused on field "agency"). From then on the young person decides for
    that agency: the guardians' consent neither suffices nor is needed there. Refused on field "agency"
    for a child without a birth date (not born yet) or younger than the configured ``MATURITY_MIN_AGE``.

    ``agency_hidden``: the recorder may not see this agency's consents and assessments (RULES.md §4), so
    refusing a second assessment would reveal the first: the existing one is returned, nothing written."""
    recorder = _check_recorder(recorded_by)
    cleaned = (note or "").strip() or None
    if cleaned is not None and len(cleaned) > MAX_NOTE_LENGTH:
        raise OperationError(_("The note can be at most %(count)d characters", count=MAX_NOTE_LENGTH), "note")
    _check_maturity_age(child, "agency")
    existing = db.session.scalar(
        select(MaturityAssessment).where(
            MaturityAssessment.child_id == child.id, MaturityAssessment.agency_id == agency.id
        )
    )
    if existing is not None:
        if agency_hidden:
            return existing
        raise OperationError(
            _("The young person is already recorded as mature enough to decide for this agency"), "agency"
        )
    assessment = MaturityAssessment(
        child_id=child.id, agency_id=agency.id, recorded_by_id=recorder.id, note=cleaned, recorded_at=now()
    )
    db.session.add(assessment)
    db.session.flush()
    record_write(
        actor.audit_actor(),
        "record_maturity",
        child_id=child.id,
        object_type="maturity_assessment",
        object_id=agency.public_id,
        legal_basis="platform_administration" if actor.kind == "system" else "relation_child_contact",
        detail={"agency_id": agency.id},
    )
    return assessment


def _in_order(purposes: Collection[str]) -> list[str]:
    return [purpose for purpose in CONSENT_PURPOSES if purpose in purposes]


def _areas_in_order(areas: Collection[str]) -> list[str]:
    return [area for area in AREA_CODES if area in areas]


def _replace_areas(consent: Consent, areas: Collection[str]) -> None:
    """Keep the rows of areas that stay (the unique (consent, area) key forbids delete-and-insert)."""
    wanted = set(areas)
    for row in list(consent.areas):
        if row.area not in wanted:
            consent.areas.remove(row)
    have = {row.area for row in consent.areas}
    for area in _areas_in_order(wanted - have):
        consent.areas.append(ConsentArea(area=area))
