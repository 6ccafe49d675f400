"""Data the chronology and inbox tests make for themselves (fresh children, entries, consents), so that
they hold whatever the demo later adds for Elsa, Omar, Leo and the others."""

from __future__ import annotations

import secrets
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from agencies.models import Agency, Membership, StaffPerson, Unit
from coordination.access import SYSTEM_ACTOR
from coordination.children.models import Child
from coordination.children.operations import ChildData, assign_child_contact, enrol_child, register_child
from coordination.chronology.record import record_event
from coordination.consent.ledger import ConsentData, record_consent
from coordination.consent.models import Consent
from coordination.database import db as database

SCHOOL, BVC, SOCIAL, POLICE = (
    "Ekby skola",
    "Barnavårdscentralen Ekby (BVC)",
    "Socialtjänsten Ekby",
    "Lokalpolisen Ekby",
)


def person(given_name: str) -> StaffPerson:
    found = database.session.scalar(select(StaffPerson).where(StaffPerson.given_name == given_name))
    assert found is not None, given_name
    return found


def agency(name: str) -> Agency:
    found = database.session.scalar(select(Agency).where(Agency.name == name))
    assert found is not None, name
    return found


def unit(name: str) -> Unit:
    found = database.session.scalar(select(Unit).where(Unit.name == name))
    assert found is not None, name
    return found


def membership(given_name: str, agency_name: str) -> Membership:
    found = database.session.scalar(
        select(Membership)
        .join(StaffPerson, StaffPerson.id == Membership.staff_person_id)
        .join(Agency, Agency.id == Membership.agency_id)
        .where(StaffPerson.given_name == given_name, Agency.name == agency_name, Membership.ended_at.is_(None))
        .order_by(Membership.id)
    )
    assert found is not None, (given_name, agency_name)
    return found


def fresh_child(
    units: tuple[str, ...] = ("Klass 4–6", "BVC Ekby"), child_contact: tuple[str, str] | None = None
) -> Child:
    """A new child (no identity number) enrolled at these units, optionally with a Child Contact."""
    child = register_child(
        SYSTEM_ACTOR,
        ChildData(f"Testbarn{secrets.token_hex(3)}", "Kronolog", date(2016, 3, 1), missing_number_reason="none"),
    )
    for name in units:
        enrol_child(SYSTEM_ACTOR, child, unit(name), date(2025, 8, 18))
    if child_contact is not None:
        assign_child_contact(SYSTEM_ACTOR, child, membership(*child_contact))
    database.session.flush()
    return child


def entry(child: Child, kind: str, owner: str, audience: str, **values: Any):  # type: ignore[no-untyped-def]
    made = record_event(child.id, kind, owner_agency_id=agency(owner).id, audience=audience, **values)
    database.session.flush()
    return made


def give_coordination_consent(
    child: Child, agency_name: str, areas: set[str], purpose: str = "coordination"
) -> list[Consent]:
    """A consent in effect today, by a social-services decision (no givers needed)."""
    from coordination.clock import today

    day = today()
    return record_consent(
        SYSTEM_ACTOR,
        child,
        agency(agency_name),
        ConsentData(
            purposes=[purpose],
            areas=sorted(areas),
            valid_from=day,
            valid_until=day + timedelta(days=300),
            givers=[],
            consent_text_version=1,
            recorded_by=person("Maria"),
            legal_basis="social_services_decision",
        ),
    )
