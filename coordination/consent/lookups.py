"""What the consent ledger's writes check against: the child's current custodians and maturity
assessments, the consents a new one would overlap, and the open requests a recording fulfils."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from agencies.models import Agency
from coordination.children.models import Child, Custody
from coordination.clock import today
from coordination.consent.common import giver_key
from coordination.consent.models import Consent, MaturityAssessment
from coordination.database import db


def current_custodian_ids(child_id: int) -> set[int]:
    """The guardians with current custody of the child."""
    return set(
        db.session.scalars(select(Custody.guardian_id).where(Custody.child_id == child_id, Custody.ended_at.is_(None)))
    )


def has_maturity_assessment(child_id: int, agency_id: int) -> bool:
    return (
        db.session.scalar(
            select(MaturityAssessment.id).where(
                MaturityAssessment.child_id == child_id, MaturityAssessment.agency_id == agency_id
            )
        )
        is not None
    )


def _counting_until(consent: Consent) -> date | None:
    """The last day a consent counts: its end, or the day before a wider consent replaced it."""
    if consent.replaced_from is None:
        return consent.valid_until
    last = consent.replaced_from - timedelta(days=1)
    return last if consent.valid_until is None else min(last, consent.valid_until)


def _periods_intersect(consent: Consent, valid_from: date, valid_until: date | None) -> bool:
    until = _counting_until(consent)
    if until is not None and until < consent.valid_from:  # replaced before it began: never counts
        return False
    starts_in_time = valid_until is None or consent.valid_from <= valid_until
    ends_in_time = until is None or until >= valid_from
    return starts_in_time and ends_in_time


def _parties(consent: Consent) -> set[int | str]:
    """Who stands behind a consent: its non-withdrawn givers, and "decision" for a social-services one."""
    parties: set[int | str] = {giver_key(g.guardian_id) for g in consent.givers if g.withdrawn_at is None}
    if consent.legal_basis == "social_services_decision":
        parties.add("decision")
    return parties


def overlapping_consent(
    child: Child,
    agency: Agency,
    purposes: Collection[str],
    areas: Collection[str],
    valid_from: date,
    valid_until: date | None,
    parties: set[int | str],
    *,
    besides: Consent | None = None,
) -> Consent | None:
    """A recorded, not withdrawn consent of the same child, agency and purpose sharing an area and a
    party, whose period intersects."""
    clashes = overlapping_consents(child, agency, purposes, areas, valid_from, valid_until, parties, besides=besides)
    return clashes[0] if clashes else None


def overlapping_consents(
    child: Child,
    agency: Agency,
    purposes: Collection[str],
    areas: Collection[str],
    valid_from: date,
    valid_until: date | None,
    parties: set[int | str],
    *,
    besides: Consent | None = None,
) -> list[Consent]:
    """Every recorded, not withdrawn consent of the same child, agency and purpose sharing a current
    (not withdrawn) area and a party, whose period — up to a replacement by a wider consent —
    intersects."""
    existing = db.session.scalars(
        select(Consent)
        .where(
            Consent.child_id == child.id,
            Consent.agency_id == agency.id,
            Consent.purpose.in_(list(purposes)),
            Consent.state == "recorded",
        )
        .options(selectinload(Consent.areas), selectinload(Consent.givers))
    ).all()
    clashes: list[Consent] = []
    for consent in existing:
        if besides is not None and consent.id == besides.id:
            continue
        if consent.withdrawn_at is not None or not _periods_intersect(consent, valid_from, valid_until):
            continue
        if consent.area_codes & set(areas) and _parties(consent) & parties:
            clashes.append(consent)
    return clashes


def newest_open_requests(child: Child, agency: Agency, purposes: Collection[str]) -> dict[str, Consent]:
    """The newest requested consent per purpose (requests whose period has ended do not count)."""
    rows = db.session.scalars(
        select(Consent)
        .where(
            Consent.child_id == child.id,
            Consent.agency_id == agency.id,
            Consent.purpose.in_(list(purposes)),
            Consent.state == "requested",
        )
        .options(selectinload(Consent.areas), selectinload(Consent.givers))
        .order_by(Consent.created_at, Consent.id)
    ).all()
    day = today()
    return {row.purpose: row for row in rows if row.valid_until is None or row.valid_until >= day}
