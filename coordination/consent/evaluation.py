"""Consent evaluation: pure functions of one child's consents, custody and maturity assessments, the
child's birth date and a day (no database, no clock), plus the loader that gathers those facts for the
access core.

Age (RULES.md §3, §6): a maturity assessment counts only while the child is at least the configured
minimum age (``MATURITY_MIN_AGE``) on the day evaluated; from 18 the guardians no longer decide and the
young person — now an adult — decides for every agency. The evaluation functions take the child's
``birth_date`` and ``maturity_min_age`` as keyword arguments; a caller that passes no ``birth_date`` gets
the evaluation without the age rules (kept only so that existing callers go on working: pass it)."""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Final, Literal
from zoneinfo import ZoneInfo

from flask import has_app_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from coordination.children.models import Child, Custody, age_in_years
from coordination.clock import current_clock
from coordination.consent.common import ADULT_AGE, DEFAULT_MATURITY_MIN_AGE, EXPIRES_SOON_DAYS, maturity_min_age
from coordination.consent.models import Consent, MaturityAssessment
from coordination.database import db

LOCAL_ZONE = ZoneInfo("Europe/Stockholm")  # the calendar of a timestamp outside an app (pure tests)


class _Unchecked(enum.Enum):
    AGE_NOT_CHECKED = "age not checked"


# The default of ``birth_date``: the caller did not say, so no age rule is applied (backwards
# compatibility only). ``birth_date=None`` means "not born / not known": no maturity counts then.
AGE_NOT_CHECKED: Final = _Unchecked.AGE_NOT_CHECKED
BirthDate = date | None | Literal[_Unchecked.AGE_NOT_CHECKED]

# ``consent_status`` answers one of these per (agency, purpose), the most telling first.
CONSENT_STATUSES: tuple[str, ...] = (
    "active",  # in effect, more than EXPIRES_SOON_DAYS left
    "expires_soon",  # in effect, at most EXPIRES_SOON_DAYS left
    "partial",  # recorded and current, but someone who must give it has not (yet)
    "upcoming",  # recorded and given by the right people, but its period starts later
    "requested",  # asked for, not given: grants nothing
    "withdrawn",  # someone withdrew it (or the request was cancelled)
    "expired",  # its period has ended
    "replaced",  # a newer consent with more areas replaced it (widening)
)
CONSENT_STATUS_LABELS = {
    "active": _l("Consent given"),
    "expires_soon": _l("Consent given, ends soon"),
    "partial": _l("Waiting for consent from everyone who must give it"),
    "upcoming": _l("Consent given, starts later"),
    "requested": _l("Consent requested, not given yet"),
    "withdrawn": _l("Consent withdrawn"),
    "expired": _l("Consent has ended"),
    "replaced": _l("Replaced by a wider consent"),
}


# -- reading the ledger (for the access core) ----------------------------------------------------------------
@dataclass(frozen=True)
class ConsentFacts:
    """Everything consent evaluation needs about one child."""

    consents: tuple[Consent, ...]
    custodial_guardian_ids: frozenset[int]
    mature_agency_ids: frozenset[int]
    birth_date: BirthDate = AGE_NOT_CHECKED
    maturity_min_age: int = DEFAULT_MATURITY_MIN_AGE

    def effective_areas(self, day: date) -> dict[tuple[int, str], frozenset[str]]:
        return effective_areas(
            list(self.consents),
            set(self.custodial_guardian_ids),
            set(self.mature_agency_ids),
            day,
            birth_date=self.birth_date,
            maturity_min_age=self.maturity_min_age,
        )

    def status(self, day: date) -> dict[tuple[int, str], str]:
        return consent_status(
            list(self.consents),
            set(self.custodial_guardian_ids),
            set(self.mature_agency_ids),
            day,
            birth_date=self.birth_date,
            maturity_min_age=self.maturity_min_age,
        )


def consent_facts(child_ids: Collection[int]) -> dict[int, ConsentFacts]:
    """The consent facts of several children in five statements, however many children (consents, their
    areas and givers, current custody, the children's birth dates with their maturity assessments), with
    the configured minimum age for a maturity assessment. Meant for the access core, which decides who
    may see them; views never call it."""
    ids = sorted(set(child_ids))
    if not ids:
        return {}
    consents: dict[int, list[Consent]] = defaultdict(list)
    for consent in db.session.scalars(
        select(Consent)
        .where(Consent.child_id.in_(ids))
        .options(selectinload(Consent.areas), selectinload(Consent.givers))
        .order_by(Consent.id)
    ):
        consents[consent.child_id].append(consent)
    custody: dict[int, set[int]] = defaultdict(set)
    for child_id, guardian_id in db.session.execute(
        select(Custody.child_id, Custody.guardian_id).where(Custody.child_id.in_(ids), Custody.ended_at.is_(None))
    ):
        custody[child_id].add(guardian_id)
    mature: dict[int, set[int]] = defaultdict(set)
    born: dict[int, date | None] = {}
    for child_id, birth_date, agency_id in db.session.execute(
        select(Child.id, Child.birth_date, MaturityAssessment.agency_id)
        .outerjoin(MaturityAssessment, MaturityAssessment.child_id == Child.id)
        .where(Child.id.in_(ids))
    ):
        born[child_id] = birth_date
        if agency_id is not None:
            mature[child_id].add(agency_id)
    minimum = maturity_min_age()
    return {
        child_id: ConsentFacts(
            tuple(consents[child_id]),
            frozenset(custody[child_id]),
            frozenset(mature[child_id]),
            birth_date=born.get(child_id),
            maturity_min_age=minimum,
        )
        for child_id in ids
    }


# -- evaluation (pure: no database, no clock) ------------------------------------------------------------------
def _in_period(consent: Consent, day: date) -> bool:
    return consent.valid_from <= day and (consent.valid_until is None or day <= consent.valid_until)


def is_replaced(consent: Consent, day: date) -> bool:
    """Whether a wider consent has replaced this one by ``day`` (it counts only before the newer one's
    first day)."""
    return consent.replaced_from is not None and day >= consent.replaced_from


def _withdrawn(consent: Consent) -> bool:
    return consent.withdrawn_at is not None or any(g.withdrawn_at is not None for g in consent.givers)


def is_adult(birth_date: BirthDate, day: date) -> bool:
    """Whether the child is 18 or older on ``day`` (then the guardians no longer decide)."""
    if birth_date is AGE_NOT_CHECKED:
        return False
    age = age_in_years(birth_date, day)
    return age is not None and age >= ADULT_AGE


def young_person_decides(
    agency_id: int,
    mature_agency_ids: Collection[int],
    day: date,
    *,
    birth_date: BirthDate = AGE_NOT_CHECKED,
    maturity_min_age: int = DEFAULT_MATURITY_MIN_AGE,
) -> bool:
    """Whether the young person (not the guardians) decides about consent for ``agency_id`` on ``day``:
    always from 18; before that only with a maturity assessment for that agency, and only while the child
    is at least ``maturity_min_age`` (an assessment for a younger child, or a child not born or without a
    birth date, never counts)."""
    if birth_date is AGE_NOT_CHECKED:
        return agency_id in mature_agency_ids
    age = age_in_years(birth_date, day)
    if age is None:
        return False
    if age >= ADULT_AGE:
        return True
    return agency_id in mature_agency_ids and age >= maturity_min_age


def deciding_guardian_ids(
    custodial_guardian_ids: Collection[int], day: date, *, birth_date: BirthDate = AGE_NOT_CHECKED
) -> set[int]:
    """The custodial guardians who decide on ``day``: none once the child is 18."""
    return set() if is_adult(birth_date, day) else set(custodial_guardian_ids)


def _given_by_the_right_people(
    consent: Consent,
    custodial_guardian_ids: set[int],
    mature_agency_ids: set[int],
    day: date,
    birth_date: BirthDate = AGE_NOT_CHECKED,
    maturity_min_age: int = DEFAULT_MATURITY_MIN_AGE,
) -> bool:
    if consent.legal_basis == "social_services_decision":
        return True
    if young_person_decides(
        consent.agency_id, mature_agency_ids, day, birth_date=birth_date, maturity_min_age=maturity_min_age
    ):
        return any(g.guardian_id is None and g.withdrawn_at is None for g in consent.givers)
    custodial = deciding_guardian_ids(custodial_guardian_ids, day, birth_date=birth_date)
    if not custodial:  # nobody with custody: only a social-services decision opens anything
        return False
    given = {g.guardian_id for g in consent.givers if g.guardian_id is not None and g.withdrawn_at is None}
    return custodial <= given


def in_effect(
    consent: Consent,
    custodial_guardian_ids: set[int],
    mature_agency_ids: set[int],
    day: date,
    *,
    birth_date: BirthDate = AGE_NOT_CHECKED,
    maturity_min_age: int = DEFAULT_MATURITY_MIN_AGE,
) -> bool:
    """Whether one consent row is in effect on ``day`` (see ``effective_areas``)."""
    return (
        consent.state == "recorded"
        and not _withdrawn(consent)
        and _in_period(consent, day)
        and not is_replaced(consent, day)
        and bool(consent.area_codes)
        and _given_by_the_right_people(
            consent, custodial_guardian_ids, mature_agency_ids, day, birth_date, maturity_min_age
        )
    )


def effective_areas(
    consents: Iterable[Consent],
    custodial_guardian_ids: set[int],
    mature_agency_ids: set[int],
    today: date,
    *,
    birth_date: BirthDate = AGE_NOT_CHECKED,
    maturity_min_age: int = DEFAULT_MATURITY_MIN_AGE,
) -> dict[tuple[int, str], frozenset[str]]:
    """For one child's consents: (agency_id, purpose) → the union of the areas of the consents in
    effect on ``today`` (an area withdrawn on its own no longer counts). A consent is in effect when its
    state is "recorded"; valid_from ≤ today ≤ valid_until (no end: open); no wider consent has replaced it
    by today (``replaced_from``); neither it nor any giver is withdrawn; and either its legal basis is a
    social-services decision, or — where the young person decides (see ``young_person_decides``: for an
    agency in ``mature_agency_ids`` while the child is at least ``maturity_min_age``, and for every agency
    from 18) — a not withdrawn young-person giver exists (guardians neither suffice nor are needed), or
    otherwise every current custodial guardian is among its not withdrawn givers (joint custody: all of
    them; a child with no custodial guardian, or 18 or older, gets nothing from the guardians). Keys with
    no area in effect are absent. Pure: the caller passes the day.

    ``birth_date`` (the child's; None when not born or not known) and ``maturity_min_age`` (the
    configured ``MATURITY_MIN_AGE``) switch on the age rules; without ``birth_date`` they are not applied
    (backwards compatibility only)."""
    result: dict[tuple[int, str], set[str]] = defaultdict(set)
    for consent in consents:
        if in_effect(
            consent,
            custodial_guardian_ids,
            mature_agency_ids,
            today,
            birth_date=birth_date,
            maturity_min_age=maturity_min_age,
        ):
            result[(consent.agency_id, consent.purpose)].update(consent.area_codes)
    return {key: frozenset(areas) for key, areas in result.items() if areas}


def awaiting_guardian_ids(consent: Consent, custodial_guardian_ids: set[int]) -> set[int]:
    """The custodial guardians who have not (or no longer) given this consent (for "waiting for ...")."""
    given = {g.guardian_id for g in consent.givers if g.guardian_id is not None and g.withdrawn_at is None}
    return set(custodial_guardian_ids) - given


def local_date(moment: datetime) -> date:
    """The calendar date of a (UTC) timestamp in the app's time zone (Europe/Stockholm): a withdrawal at
    23:30 UTC in winter happened on the next local day."""
    zone = current_clock().zone if has_app_context() else LOCAL_ZONE
    if moment.tzinfo is None:  # the columns are aware; a naive value is UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone).date()


def _ended_on(consent: Consent) -> date:
    """When a consent stopped counting (a local calendar day), for choosing the most recent of several
    ended ones."""
    if consent.state == "withdrawn" and consent.withdrawn_at is not None:
        return local_date(consent.withdrawn_at)
    if consent.replaced_from is not None:
        return consent.replaced_from
    return (consent.valid_until or consent.valid_from) + timedelta(days=1)


def consent_status(
    consents: Iterable[Consent],
    custodial_guardian_ids: set[int],
    mature_agency_ids: set[int],
    today: date,
    *,
    birth_date: BirthDate = AGE_NOT_CHECKED,
    maturity_min_age: int = DEFAULT_MATURITY_MIN_AGE,
) -> dict[tuple[int, str], str]:
    """For one child's consents: (agency_id, purpose) → one of CONSENT_STATUSES, for plain words.

    The most telling state wins: "active" or "expires_soon" (in effect; at most 30 days left, counted to
    the latest end among the consents in effect) › "partial" (recorded, current and not withdrawn, but
    not everyone who must give it has) › "upcoming" (given, starts later) › "requested" (open request) ›
    otherwise the most recently ended: "withdrawn" (a withdrawal, or a cancelled request), "replaced" (a
    wider consent replaced it) or "expired" (its period is over; also a request whose period passed).
    ``birth_date`` and ``maturity_min_age`` as for ``effective_areas``; an upcoming consent is judged by
    the child's age on its first day."""
    grouped: dict[tuple[int, str], list[Consent]] = defaultdict(list)
    for consent in consents:
        grouped[(consent.agency_id, consent.purpose)].append(consent)
    result: dict[tuple[int, str], str] = {}
    for key, group in grouped.items():
        result[key] = _status_of(group, custodial_guardian_ids, mature_agency_ids, today, birth_date, maturity_min_age)
    return result


def _status_of(
    group: list[Consent], custodial: set[int], mature: set[int], day: date, birth_date: BirthDate, minimum: int
) -> str:
    effective = [
        c for c in group if in_effect(c, custodial, mature, day, birth_date=birth_date, maturity_min_age=minimum)
    ]
    if effective:
        ends = [c.valid_until for c in effective]
        if any(end is None for end in ends):
            return "active"
        last_day = max(end for end in ends if end is not None)
        return "expires_soon" if (last_day - day).days <= EXPIRES_SOON_DAYS else "active"
    live = [c for c in group if c.state == "recorded" and not _withdrawn(c) and not is_replaced(c, day)]
    if any(_in_period(c, day) for c in live):
        return "partial"
    if any(
        c.valid_from > day and _given_by_the_right_people(c, custodial, mature, c.valid_from, birth_date, minimum)
        for c in live
    ):
        return "upcoming"
    if any(c.valid_from > day for c in live):
        return "partial"
    if any(c.state == "requested" and (c.valid_until is None or c.valid_until >= day) for c in group):
        return "requested"
    latest = max(group, key=lambda c: (_ended_on(c), c.state == "withdrawn", c.id or 0))
    if latest.state == "withdrawn" or _withdrawn(latest):
        return "withdrawn"
    return "replaced" if is_replaced(latest, day) else "expired"
