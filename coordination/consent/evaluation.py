"""Consent evaluation: pure functions of one child's consents, custody and maturity assessments and
a day (no database, no clock), plus the loader that gathers those facts for the access core."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from coordination.consent.common import EXPIRES_SOON_DAYS
from coordination.database import db
from coordination.models import Consent, Custody, MaturityAssessment

# ``consent_status`` answers one of these per (agency, purpose), the most telling first.
CONSENT_STATUSES: tuple[str, ...] = (
    "active",  # in effect, more than EXPIRES_SOON_DAYS left
    "expires_soon",  # in effect, at most EXPIRES_SOON_DAYS left
    "partial",  # recorded and current, but someone who must give it has not (yet)
    "upcoming",  # recorded and given by the right people, but its period starts later
    "requested",  # asked for, not given: grants nothing
    "withdrawn",  # someone withdrew it (or the request was cancelled)
    "expired",  # its period has ended
)
CONSENT_STATUS_LABELS = {
    "active": _l("Consent given"),
    "expires_soon": _l("Consent given, ends soon"),
    "partial": _l("Waiting for consent from everyone who must give it"),
    "upcoming": _l("Consent given, starts later"),
    "requested": _l("Consent requested, not given yet"),
    "withdrawn": _l("Consent withdrawn"),
    "expired": _l("Consent has ended"),
}


# -- reading the ledger (for the access core) ----------------------------------------------------------------
@dataclass(frozen=True)
class ConsentFacts:
    """Everything consent evaluation needs about one child."""

    consents: tuple[Consent, ...]
    custodial_guardian_ids: frozenset[int]
    mature_agency_ids: frozenset[int]

    def effective_areas(self, day: date) -> dict[tuple[int, str], frozenset[str]]:
        return effective_areas(list(self.consents), set(self.custodial_guardian_ids), set(self.mature_agency_ids), day)

    def status(self, day: date) -> dict[tuple[int, str], str]:
        return consent_status(list(self.consents), set(self.custodial_guardian_ids), set(self.mature_agency_ids), day)


def consent_facts(child_ids: Collection[int]) -> dict[int, ConsentFacts]:
    """The consent facts of several children in five statements, however many children (consents, their
    areas and givers, current custody, maturity assessments). Meant for the access core, which decides
    who may see them; views never call it."""
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
    for child_id, agency_id in db.session.execute(
        select(MaturityAssessment.child_id, MaturityAssessment.agency_id).where(MaturityAssessment.child_id.in_(ids))
    ):
        mature[child_id].add(agency_id)
    return {
        child_id: ConsentFacts(tuple(consents[child_id]), frozenset(custody[child_id]), frozenset(mature[child_id]))
        for child_id in ids
    }


# -- evaluation (pure: no database, no clock) ------------------------------------------------------------------
def _in_period(consent: Consent, day: date) -> bool:
    return consent.valid_from <= day and (consent.valid_until is None or day <= consent.valid_until)


def _withdrawn(consent: Consent) -> bool:
    return consent.withdrawn_at is not None or any(g.withdrawn_at is not None for g in consent.givers)


def _given_by_the_right_people(consent: Consent, custodial_guardian_ids: set[int], mature_agency_ids: set[int]) -> bool:
    if consent.legal_basis == "social_services_decision":
        return True
    if consent.agency_id in mature_agency_ids:
        return any(g.guardian_id is None and g.withdrawn_at is None for g in consent.givers)
    if not custodial_guardian_ids:  # nobody with custody: only a social-services decision opens anything
        return False
    given = {g.guardian_id for g in consent.givers if g.guardian_id is not None and g.withdrawn_at is None}
    return custodial_guardian_ids <= given


def in_effect(consent: Consent, custodial_guardian_ids: set[int], mature_agency_ids: set[int], day: date) -> bool:
    """Whether one consent row is in effect on ``day`` (see ``effective_areas``)."""
    return (
        consent.state == "recorded"
        and not _withdrawn(consent)
        and _in_period(consent, day)
        and _given_by_the_right_people(consent, custodial_guardian_ids, mature_agency_ids)
    )


def effective_areas(
    consents: Iterable[Consent], custodial_guardian_ids: set[int], mature_agency_ids: set[int], today: date
) -> dict[tuple[int, str], frozenset[str]]:
    """For one child's consents: (agency_id, purpose) → the union of the areas of the consents in
    effect on ``today``. A consent is in effect when its state is "recorded"; valid_from ≤ today ≤
    valid_until (no end: open); neither it nor any giver is withdrawn; and either its legal basis is a
    social-services decision, or — for an agency in ``mature_agency_ids`` — a not withdrawn young-person
    giver exists (the young person decides: guardians neither suffice nor are needed), or otherwise every
    current custodial guardian is among its not withdrawn givers (joint custody: all of them; a child with
    no custodial guardian gets nothing but a social-services decision). Keys with no area in effect are
    absent. Pure: the caller passes the day."""
    result: dict[tuple[int, str], set[str]] = defaultdict(set)
    for consent in consents:
        if in_effect(consent, custodial_guardian_ids, mature_agency_ids, today):
            result[(consent.agency_id, consent.purpose)].update(a.area for a in consent.areas)
    return {key: frozenset(areas) for key, areas in result.items() if areas}


def awaiting_guardian_ids(consent: Consent, custodial_guardian_ids: set[int]) -> set[int]:
    """The custodial guardians who have not (or no longer) given this consent (for "waiting for ...")."""
    given = {g.guardian_id for g in consent.givers if g.guardian_id is not None and g.withdrawn_at is None}
    return set(custodial_guardian_ids) - given


def _ended_on(consent: Consent) -> date:
    """When a consent stopped counting, for choosing the most recent of several ended ones."""
    if consent.state == "withdrawn" and consent.withdrawn_at is not None:
        return consent.withdrawn_at.date()
    return (consent.valid_until or consent.valid_from) + timedelta(days=1)


def consent_status(
    consents: Iterable[Consent], custodial_guardian_ids: set[int], mature_agency_ids: set[int], today: date
) -> dict[tuple[int, str], str]:
    """For one child's consents: (agency_id, purpose) → one of CONSENT_STATUSES, for plain words.

    The most telling state wins: "active" or "expires_soon" (in effect; at most 30 days left, counted to
    the latest end among the consents in effect) › "partial" (recorded, current and not withdrawn, but
    not everyone who must give it has) › "upcoming" (given, starts later) › "requested" (open request) ›
    otherwise the most recently ended: "withdrawn" (a withdrawal, or a cancelled request) or "expired"
    (its period is over; also a request whose period passed)."""
    grouped: dict[tuple[int, str], list[Consent]] = defaultdict(list)
    for consent in consents:
        grouped[(consent.agency_id, consent.purpose)].append(consent)
    result: dict[tuple[int, str], str] = {}
    for key, group in grouped.items():
        result[key] = _status_of(group, custodial_guardian_ids, mature_agency_ids, today)
    return result


def _status_of(group: list[Consent], custodial: set[int], mature: set[int], day: date) -> str:
    effective = [c for c in group if in_effect(c, custodial, mature, day)]
    if effective:
        ends = [c.valid_until for c in effective]
        if any(end is None for end in ends):
            return "active"
        latest = max(end for end in ends if end is not None)
        return "expires_soon" if (latest - day).days <= EXPIRES_SOON_DAYS else "active"
    live = [c for c in group if c.state == "recorded" and not _withdrawn(c)]
    if any(_in_period(c, day) for c in live):
        return "partial"
    if any(c.valid_from > day and _given_by_the_right_people(c, custodial, mature) for c in live):
        return "upcoming"
    if any(c.valid_from > day for c in live):
        return "partial"
    if any(c.state == "requested" and (c.valid_until is None or c.valid_until >= day) for c in group):
        return "requested"
    latest = max(group, key=lambda c: (_ended_on(c), c.state == "withdrawn", c.id or 0))
    return "withdrawn" if latest.state == "withdrawn" or _withdrawn(latest) else "expired"
