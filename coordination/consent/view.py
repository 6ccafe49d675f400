"""The Consent tab's view model (RULES.md §3, §4, §7): the child's consents per agency, in plain words,
built for one viewer and holding only what that viewer may see.

Consent-scoped (RULES.md §4: the list of agencies involved and their consent states is itself
cross-agency information): the viewer always sees their **own** agency's consents; other agencies'
consents only while the viewer's agency holds a consent for coordination that is in effect today.
Otherwise one line says they are withheld, with the reason — shown whether or not other agencies are
involved, so the line itself reveals nothing. A protected identity (RULES.md §7) changes nothing about
which rows are shown (they carry no contact details), but outside the child's team (Child Contact,
Support Coordinator) the names of guardians and staff on them are withheld. Evidence notes are free
text; only the team sees them. Templates get these dataclasses, never a raw model object.

Staff names are cross-agency information too: who recorded, requested or withdrew a consent is named only
when that person belongs to the viewer's agency, or while the viewer's agency holds a consent for
coordination. Otherwise the row says "by the Child Contact" (no name) when it was the child's current
Child Contact, and nothing when it was someone else — so the preschool never learns that BVC's nurse
asked for its consent.

Age (RULES.md §3, §6): the status is evaluated with the child's birth date and the configured minimum
age for a maturity assessment; from 18 the young person decides for every agency.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, select

from agencies.models import Agency, Membership, StaffPerson
from childplan.compass import AREA_CODES, BY_CODE
from coordination.access import STAFF, WITHHELD_NO_CONSENT, ChildAccess, may_know_other_agencies
from coordination.children.models import Guardian, RoleAssignment, age_in_years
from coordination.clock import current_clock, today
from coordination.consent.common import EXPIRES_SOON_DAYS, maturity_min_age
from coordination.consent.evaluation import (
    CONSENT_STATUS_LABELS,
    awaiting_guardian_ids,
    consent_status,
    deciding_guardian_ids,
    young_person_decides,
)
from coordination.consent.forms import METHOD_LABELS, PURPOSE_HINTS, PURPOSE_LABELS
from coordination.consent.models import CONSENT_PURPOSES, Consent, ConsentText
from coordination.database import db
from coordination.labels import AGENCY_KIND_LABELS, language_name, system_note

PROTECTED = "protected_identity"
YOUNG_PERSON_LABEL = _l("the young person")
# The order rows are shown in, within one agency and purpose: what counts now first.
STATUS_ORDER = {
    "active": 0,
    "expires_soon": 0,
    "partial": 1,
    "upcoming": 2,
    "requested": 3,
    "withdrawn": 4,
    "expired": 5,
    "replaced": 6,
}
# What a grid cell shows: the consents that count now or may soon; the others are history (a disclosure),
# except that a cell with none of these shows its most recent ended consent (so it never reads as blank).
CURRENT_STATUSES = frozenset({"active", "expires_soon", "partial", "upcoming", "requested"})


@dataclass(frozen=True)
class AreaChip:
    code: str
    label: object
    css_class: str  # bk-compass--<code>


@dataclass(frozen=True)
class WithdrawnArea:
    """One area withdrawn on its own from a consent that goes on for its other areas."""

    chip: AreaChip
    withdrawn_on: date
    by: object | None  # the giver who withdrew it, as far as the viewer may know the name


@dataclass(frozen=True)
class GiverLine:
    """One person's part of a consent. ``name`` is None when withheld (see ``ConsentRow.names_withheld``)."""

    name: object | None
    is_young_person: bool
    method: object
    given_on: date
    withdrawn_on: date | None
    evidence_note: str | None  # the team only


@dataclass(frozen=True)
class ConsentRow:
    public_id: str
    purpose: str
    purpose_label: object
    purpose_hint: object
    status: str  # one of CONSENT_STATUSES (data-consent-status)
    status_label: object
    areas: tuple[AreaChip, ...]  # the areas it covers now (less those withdrawn one by one)
    all_areas: bool
    withdrawn_areas: tuple[WithdrawnArea, ...]
    valid_from: date
    valid_until: date | None
    expires_in_days: int | None  # in effect and at most EXPIRES_SOON_DAYS left
    givers: tuple[GiverLine, ...]
    awaiting: tuple[str, ...]  # custodial guardians who have not given it ("partial")
    names_withheld: str | None  # a reason code when guardian and staff names are withheld
    by_decision: bool  # a social-services decision (no givers needed)
    is_request: bool
    recorded_by: str | None  # named only as far as the viewer may know (see the module's docstring)
    recorded_by_child_contact: bool  # not named, but the child's current Child Contact
    recorded_on: date | None
    requested_on: date | None
    withdrawn_on: date | None
    withdrawal_recorded_by: str | None
    withdrawal_recorded_by_child_contact: bool
    text_version: int | None
    text_language: str | None
    may_withdraw: bool  # the Child Contact, and the consent is not withdrawn
    may_withdraw_area: bool  # the Child Contact; recorded, current, not replaced, and more than one area left
    replaced_from: date | None  # a wider consent replaced it from this day
    created_at: datetime
    id: int  # for ordering only (never rendered)


@dataclass(frozen=True)
class PurposeCell:
    """One cell of the grid: an agency's consents for one purpose that count now (see CURRENT_STATUSES)."""

    purpose: str
    purpose_label: object
    rows: tuple[ConsentRow, ...]


@dataclass(frozen=True)
class AgencyConsents:
    public_id: str
    name: str
    kind: object
    is_own: bool
    young_person_decides: bool  # a maturity assessment for this agency that counts, or 18 or older
    rows: tuple[ConsentRow, ...]
    cells: tuple[PurposeCell, ...]  # one per purpose, in CONSENT_PURPOSES order
    history: tuple[ConsentRow, ...]  # ended, withdrawn and replaced consents not shown in a cell


@dataclass
class ConsentView:
    """The child page's Consent tab, for one member of staff with a relation to the child."""

    public_id: str
    name: str
    age: int | None
    birth_date: date | None
    expected_birth_date: date | None
    has_protected_identity: bool
    own_agency: AgencyConsents
    agencies: list[AgencyConsents]  # other agencies, only when the viewer may see them
    others_withheld: str | None  # a reason code of WITHHELD_REASONS
    is_child_contact: bool

    @property
    def all_agencies(self) -> list[AgencyConsents]:
        return [self.own_agency, *self.agencies]

    @property
    def purposes(self) -> list[tuple[str, object]]:
        """The grid's columns: (purpose, label)."""
        return [(purpose, PURPOSE_LABELS.get(purpose, purpose)) for purpose in CONSENT_PURPOSES]

    @property
    def history_count(self) -> int:
        return sum(len(agency.history) for agency in self.all_agencies)

    @classmethod
    def for_actor(cls, access: ChildAccess) -> ConsentView:
        actor, child, picture = access.actor, access.child, access.picture
        if actor.kind != STAFF or actor.acting_agency is None:
            raise ValueError("the Consent tab is for staff acting for an agency")
        own = actor.acting_agency
        day = today()
        in_team = access.has_relation("child_contact") or access.has_relation("support_coordinator")
        is_child_contact = access.has_relation("child_contact")
        may_see_others = bool(may_know_other_agencies(access))
        names_withheld = PROTECTED if child.has_protected_identity and not in_team else None

        shown = [c for c in picture.consents if c.agency_id == own.id or may_see_others]
        minimum = maturity_min_age()
        mature = {a for a in picture.mature_agency_ids if a == own.id or may_see_others}
        custodial = set(picture.custodial_guardian_ids)
        deciding = deciding_guardian_ids(custodial, day, birth_date=child.birth_date)

        def decides(agency_id: int) -> bool:
            """The young person decides for this agency today (asked only for agencies the viewer sees)."""
            return young_person_decides(
                agency_id, picture.mature_agency_ids, day, birth_date=child.birth_date, maturity_min_age=minimum
            )

        # The names and labels the rows need, in at most four statements however many rows.
        agency_ids = {c.agency_id for c in shown} | mature | {own.id}
        agencies = {a.id: a for a in db.session.scalars(select(Agency).where(Agency.id.in_(agency_ids)))}
        guardian_names: dict[int, str] = {}
        staff: dict[int, tuple[str, bool, bool]] = {}  # id → (name, in my agency, the current Child Contact)
        if names_withheld is None:
            guardian_ids = {g.guardian_id for c in shown for g in c.givers if g.guardian_id is not None}
            if any(c.state == "recorded" for c in shown):
                guardian_ids |= custodial
            if guardian_ids:
                guardian_names = {
                    row.id: f"{row.given_name} {row.family_name}"
                    for row in db.session.execute(
                        select(Guardian.id, Guardian.given_name, Guardian.family_name).where(
                            Guardian.id.in_(guardian_ids)
                        )
                    )
                }
            staff_ids = (
                {c.recorded_by_id for c in shown if c.recorded_by_id is not None}
                | {
                    g.withdrawal_recorded_by_id
                    for c in shown
                    for g in c.givers
                    if g.withdrawal_recorded_by_id is not None
                }
                | {
                    a.withdrawal_recorded_by_id
                    for c in shown
                    for a in c.areas
                    if a.withdrawal_recorded_by_id is not None
                }
            )
            if staff_ids:
                in_own_agency = exists().where(
                    and_(
                        Membership.staff_person_id == StaffPerson.id,
                        Membership.agency_id == own.id,
                        Membership.ended_at.is_(None),
                    )
                )
                is_child_contact_now = exists().where(
                    and_(
                        RoleAssignment.staff_person_id == StaffPerson.id,
                        RoleAssignment.child_id == child.id,
                        RoleAssignment.role == "child_contact",
                        RoleAssignment.ended_at.is_(None),
                    )
                )
                staff = {
                    row.id: (f"{row.given_name} {row.family_name}", bool(row.in_own), bool(row.contact))
                    for row in db.session.execute(
                        select(
                            StaffPerson.id,
                            StaffPerson.given_name,
                            StaffPerson.family_name,
                            in_own_agency.label("in_own"),
                            is_child_contact_now.label("contact"),
                        ).where(StaffPerson.id.in_(staff_ids))
                    )
                }

        def staff_name(staff_id: int | None) -> tuple[str | None, bool]:
            """(the name, if the viewer may know it; whether it was the current Child Contact otherwise)."""
            if staff_id is None or staff_id not in staff:
                return None, False
            name, in_own, contact = staff[staff_id]
            if in_own or may_see_others:
                return name, False
            return None, contact

        text_ids = {c.consent_text_id for c in shown if c.consent_text_id is not None}
        texts = (  # (version, language): the bodies are not needed here
            {
                row.id: (row.version, row.language)
                for row in db.session.execute(
                    select(ConsentText.id, ConsentText.version, ConsentText.language).where(
                        ConsentText.id.in_(text_ids)
                    )
                )
            }
            if text_ids
            else {}
        )

        def row(consent: Consent) -> ConsentRow:
            status = consent_status(
                [consent],
                custodial,
                set(picture.mature_agency_ids),
                day,
                birth_date=child.birth_date,
                maturity_min_age=minimum,
            )[(consent.agency_id, consent.purpose)]
            expires_in = None
            if status in ("active", "expires_soon") and consent.valid_until is not None:
                left = (consent.valid_until - day).days
                expires_in = left if left <= EXPIRES_SOON_DAYS else None
            codes = set(consent.area_codes)
            text = texts.get(consent.consent_text_id) if consent.consent_text_id is not None else None
            givers = tuple(
                GiverLine(
                    name=(
                        YOUNG_PERSON_LABEL
                        if giver.guardian_id is None
                        else None
                        if names_withheld
                        else guardian_names.get(giver.guardian_id)
                    ),
                    is_young_person=giver.guardian_id is None,
                    method=METHOD_LABELS.get(giver.method, giver.method),
                    given_on=_local_day(giver.given_at),
                    withdrawn_on=_local_day(giver.withdrawn_at) if giver.withdrawn_at else None,
                    evidence_note=system_note(giver.evidence_note) if in_team else None,
                )
                for giver in sorted(consent.givers, key=lambda g: (g.given_at, g.id or 0))
            )
            awaiting: tuple[str, ...] = ()
            if (
                status == "partial"
                and names_withheld is None
                and not decides(consent.agency_id)
                and consent.legal_basis == "consent"
            ):
                waiting_for = awaiting_guardian_ids(consent, deciding)
                awaiting = tuple(sorted(guardian_names[i] for i in waiting_for if i in guardian_names))
            by_giver = {
                g.id: line
                for g, line in zip(sorted(consent.givers, key=lambda g: (g.given_at, g.id or 0)), givers, strict=True)
            }
            withdrawn_areas = tuple(
                WithdrawnArea(
                    chip=area_chips({a.area})[0],
                    withdrawn_on=_local_day(a.withdrawn_at),
                    by=by_giver[a.withdrawn_by_giver_id].name if a.withdrawn_by_giver_id in by_giver else None,
                )
                for a in sorted(consent.areas, key=lambda a: AREA_CODES.index(a.area))
                if a.withdrawn_at is not None
            )
            withdrawal_by = next(
                (g.withdrawal_recorded_by_id for g in consent.givers if g.withdrawal_recorded_by_id is not None), None
            )
            recorder, recorder_is_contact = staff_name(consent.recorded_by_id)
            withdrawer, withdrawer_is_contact = staff_name(withdrawal_by)
            return ConsentRow(
                public_id=consent.public_id,
                purpose=consent.purpose,
                purpose_label=PURPOSE_LABELS.get(consent.purpose, consent.purpose),
                purpose_hint=PURPOSE_HINTS.get(consent.purpose, ""),
                status=status,
                status_label=CONSENT_STATUS_LABELS[status],
                areas=area_chips(codes),
                all_areas=codes >= set(AREA_CODES),
                withdrawn_areas=withdrawn_areas,
                valid_from=consent.valid_from,
                valid_until=consent.valid_until,
                expires_in_days=expires_in,
                givers=givers,
                awaiting=awaiting,
                names_withheld=names_withheld,
                by_decision=consent.legal_basis == "social_services_decision",
                is_request=consent.recorded_at is None,
                recorded_by=recorder,
                recorded_by_child_contact=recorder_is_contact,
                recorded_on=_local_day(consent.recorded_at) if consent.recorded_at else None,
                requested_on=_local_day(consent.requested_at) if consent.requested_at else None,
                withdrawn_on=_local_day(consent.withdrawn_at) if consent.withdrawn_at else None,
                withdrawal_recorded_by=withdrawer,
                withdrawal_recorded_by_child_contact=withdrawer_is_contact,
                text_version=text[0] if text is not None else None,
                text_language=language_name(text[1]) if text is not None else None,
                may_withdraw=is_child_contact and consent.state != "withdrawn",
                may_withdraw_area=(
                    is_child_contact
                    and consent.state == "recorded"
                    and status in CURRENT_STATUSES
                    and len(codes) > 1
                    and not any(g.withdrawn_at is not None for g in consent.givers)
                ),
                replaced_from=consent.replaced_from,
                created_at=consent.created_at,
                id=consent.id or 0,
            )

        def block(agency: Agency) -> AgencyConsents:
            consents = [c for c in shown if c.agency_id == agency.id]
            rows = [row(c) for c in consents]
            purpose_order = {p: i for i, p in enumerate(CONSENT_PURPOSES)}
            created = {c.public_id: (c.created_at, c.id or 0) for c in consents}
            rows.sort(key=lambda r: created[r.public_id], reverse=True)  # newest first, then (stable):
            rows.sort(key=lambda r: (purpose_order.get(r.purpose, 99), STATUS_ORDER[r.status]))
            cells: list[PurposeCell] = []
            history: list[ConsentRow] = []
            for purpose in CONSENT_PURPOSES:
                mine = [r for r in rows if r.purpose == purpose]
                current = [r for r in mine if r.status in CURRENT_STATUSES]
                ended = [r for r in mine if r.status not in CURRENT_STATUSES]
                if not current and ended:  # the cell shows the most recent of them
                    latest = max(ended, key=lambda r: (r.created_at, r.id))
                    current, ended = [latest], [r for r in ended if r is not latest]
                cells.append(PurposeCell(purpose, PURPOSE_LABELS.get(purpose, purpose), tuple(current)))
                history.extend(ended)
            return AgencyConsents(
                public_id=agency.public_id,
                name=agency.name,
                kind=AGENCY_KIND_LABELS.get(agency.kind, agency.kind),
                is_own=agency.id == own.id,
                young_person_decides=decides(agency.id),
                rows=tuple(rows),
                cells=tuple(cells),
                history=tuple(history),
            )

        others = sorted((a for a in agencies.values() if a.id != own.id), key=lambda a: a.name)
        return cls(
            public_id=child.public_id,
            name=child.full_name,
            age=age_in_years(child.birth_date, day),
            birth_date=child.birth_date,
            expected_birth_date=child.expected_birth_date,
            has_protected_identity=child.has_protected_identity,
            own_agency=block(agencies.get(own.id, own)),
            agencies=[block(a) for a in others] if may_see_others else [],
            others_withheld=None if may_see_others else WITHHELD_NO_CONSENT,
            is_child_contact=is_child_contact,
        )


def _local_day(moment: datetime) -> date:
    return moment.astimezone(current_clock().zone).date()


@dataclass(frozen=True)
class ChildHeading:
    """What the Consent action pages show about the child: the heading only."""

    public_id: str
    name: str
    age: int | None
    birth_date: date | None
    expected_birth_date: date | None
    has_protected_identity: bool

    @classmethod
    def of(cls, access: ChildAccess) -> ChildHeading:
        child = access.child
        return cls(
            public_id=child.public_id,
            name=child.full_name,
            age=age_in_years(child.birth_date, today()),
            birth_date=child.birth_date,
            expected_birth_date=child.expected_birth_date,
            has_protected_identity=child.has_protected_identity,
        )


def area_chips(codes: set[str] | frozenset[str]) -> tuple[AreaChip, ...]:
    return tuple(AreaChip(code, BY_CODE[code].label, BY_CODE[code].css_class) for code in AREA_CODES if code in codes)
