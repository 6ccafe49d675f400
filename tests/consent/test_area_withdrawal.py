"""Withdrawing one Needs Compass area of a consent, and widening a consent by recording a wider one
(issue 16; docs/access-rules.md, consent). Who must no longer see what comes first; every refusal
writes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from agencies.models import Agency, StaffPerson
from childplan.compass import AREA_CODES
from coordination.access import SYSTEM_ACTOR
from coordination.children.models import Child, Guardian
from coordination.chronology.models import ChronologyEntry
from coordination.consent.evaluation import consent_facts
from coordination.consent.ledger import ConsentData, GiverData, record_consent, withdraw_consent, withdraw_consent_area
from coordination.consent.models import Consent, ConsentArea, ConsentGiver
from coordination.database import db as database
from coordination.demo.loader import loaded_at
from coordination.errors import OperationError
from coordination.models import Account, AuditEvent
from tests.access.object_fixtures import Session, demo_objects

ALL = frozenset(AREA_CODES)


# -- helpers ------------------------------------------------------------------------------------------------
def one(statement: Any) -> Any:
    found = database.session.scalar(statement)
    assert found is not None, str(statement)
    return found


def child(name: str) -> Child:
    return one(select(Child).where(Child.given_name == name))


def agency_of_kind(kind: str) -> Agency:  # the demo has one agency per kind (names are being translated)
    return one(select(Agency).where(Agency.kind == kind))


def staff(username: str) -> StaffPerson:
    return one(
        select(StaffPerson).join(Account, Account.staff_person_id == StaffPerson.id).where(Account.username == username)
    )


def guardian(given_name: str) -> Guardian:
    return one(select(Guardian).where(Guardian.given_name == given_name))


def consent_of(name: str, kind: str, purpose: str = "coordination") -> Consent:
    """The newest recorded, not withdrawn consent of a child for the agency of that kind."""
    return one(
        select(Consent)
        .where(
            Consent.child_id == child(name).id,
            Consent.agency_id == agency_of_kind(kind).id,
            Consent.purpose == purpose,
            Consent.state == "recorded",
        )
        .order_by(Consent.id.desc())
    )


def effective(name: str, kind: str, day: date, purpose: str = "coordination") -> frozenset[str]:
    found = child(name)
    return consent_facts([found.id])[found.id].effective_areas(day).get((agency_of_kind(kind).id, purpose), frozenset())


def status(name: str, kind: str, day: date, purpose: str = "coordination") -> str | None:
    found = child(name)
    return consent_facts([found.id])[found.id].status(day).get((agency_of_kind(kind).id, purpose))


def ledger() -> tuple[int, ...]:
    session = database.session
    return (
        session.scalar(select(func.count(Consent.id))) or 0,
        session.scalar(select(func.count(ConsentArea.id)).where(ConsentArea.withdrawn_at.is_not(None))) or 0,
        session.scalar(select(func.count(ConsentGiver.id)).where(ConsentGiver.withdrawn_at.is_not(None))) or 0,
        session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.outcome == "allowed")) or 0,
        session.scalar(select(func.count(ChronologyEntry.id))) or 0,
    )


def refused(call: Any, field: str) -> OperationError:
    before = ledger()
    with pytest.raises(OperationError) as error:
        call()
    assert error.value.field == field, (error.value.field, str(error.value))
    assert ledger() == before, "a refusal writes nothing"
    return error.value


@pytest.fixture()
def at_load(app: Flask, db: Any, clock: Any) -> Iterator[date]:
    with app.app_context():
        moment = loaded_at()
        assert moment is not None
        clock.set(moment)
        yield app.extensions["clock"].today()


def wider(givers: list[GiverData], areas: frozenset[str] | set[str], start: date, **kwargs: Any) -> ConsentData:
    values: dict[str, Any] = dict(
        purposes={"coordination"},
        areas=set(areas),
        valid_from=start,
        valid_until=start + timedelta(days=200),
        givers=givers,
        consent_text_version=1,
        recorded_by=staff("anna"),
    )
    values.update(kwargs)
    return ConsentData(**values)


# -- negatives first: after withdrawing an area, that area's data is withheld on the next request ----------
def test_after_withdrawing_an_area_the_agency_no_longer_sees_that_areas_concern(app: Flask, db: Any) -> None:
    """hanna (habilitation) sees sara's concern about Elsa (one area) through Lena's consent. Lena withdraws
    that one area from habilitation's coordination consent: on the next request the concern is 404 for
    hanna; its author (sara) and the Child Contact (anna) still see it; habilitation keeps the other seven
    areas, and the other agencies' consents are untouched."""
    objects = demo_objects(app)
    url = "/children/{Elsa}/concerns/{elsa_concern}".format(**objects)
    hanna = Session(app, "hanna")
    assert hanna.get(url).status_code == 200
    with app.app_context():
        from coordination.concerns.models import Concern

        concern = one(select(Concern).where(Concern.public_id == objects["elsa_concern"]))
        (area,) = concern.area_codes
        consent = consent_of("Elsa", "habilitation")
        others_before = {
            (c.agency_id, c.purpose): c.area_codes
            for c in database.session.scalars(select(Consent).where(Consent.child_id == consent.child_id))
            if c.id != consent.id
        }
        withdraw_consent_area(SYSTEM_ACTOR, consent, area, guardian("Lena").id, staff("anna"))
        database.session.commit()
    assert hanna.get(url).status_code == 404
    for persona in ("sara", "anna"):
        assert Session(app, persona).get(url).status_code == 200, persona
    with app.app_context():
        day = app.extensions["clock"].today()
        assert effective("Elsa", "habilitation", day) == ALL - {area}
        assert status("Elsa", "habilitation", day) in ("active", "expires_soon")
        assert effective("Elsa", "habilitation", day, "team_meetings") == ALL  # only that consent changed
        others_after = {
            (c.agency_id, c.purpose): c.area_codes
            for c in database.session.scalars(select(Consent).where(Consent.child_id == child("Elsa").id))
            if c.id != consent_of("Elsa", "habilitation").id
        }
        assert others_after == others_before


def test_an_area_withdrawal_is_refused_when_it_would_mean_something_else(at_load: date) -> None:
    consent = consent_of("Elsa", "habilitation")
    lena, anna = guardian("Lena").id, staff("anna")
    refused(lambda: withdraw_consent_area(SYSTEM_ACTOR, consent, "nowhere", lena, anna), "area")
    refused(lambda: withdraw_consent_area(SYSTEM_ACTOR, consent, "safe", lena, None), "recorded_by")
    # someone who did not give it
    refused(lambda: withdraw_consent_area(SYSTEM_ACTOR, consent, "safe", guardian("Ahmed").id, anna), "giver")
    refused(lambda: withdraw_consent_area(SYSTEM_ACTOR, consent, "safe", None, anna), "giver")
    # one by one down to the last area, which only the whole withdrawal may end
    codes = list(AREA_CODES)
    for code in codes[:-1]:
        withdraw_consent_area(SYSTEM_ACTOR, consent, code, lena, anna)
    refused(lambda: withdraw_consent_area(SYSTEM_ACTOR, consent, codes[0], lena, anna), "area")  # already
    error = refused(lambda: withdraw_consent_area(SYSTEM_ACTOR, consent, codes[-1], lena, anna), "area")
    assert "whole" in str(error)
    assert consent.area_codes == {codes[-1]}
    withdraw_consent(SYSTEM_ACTOR, consent, lena, anna)
    refused(lambda: withdraw_consent_area(SYSTEM_ACTOR, consent, codes[-1], lena, anna), "giver")


def test_a_request_has_no_area_to_withdraw(at_load: date) -> None:
    from coordination.consent.ledger import request_consent

    (requested,) = request_consent(
        SYSTEM_ACTOR,
        child("Omar"),
        agency_of_kind("habilitation"),
        {"coordination"},
        {"safe", "healthy"},
        at_load,
        at_load + timedelta(days=30),
    )
    refused(lambda: withdraw_consent_area(SYSTEM_ACTOR, requested, "safe", None, staff("maria")), "giver")


def test_an_area_withdrawal_is_recorded_audited_and_in_the_chronology(at_load: date) -> None:
    consent = consent_of("Elsa", "habilitation")
    lena = guardian("Lena")
    before = ledger()
    withdraw_consent_area(SYSTEM_ACTOR, consent, "safe", lena.id, staff("anna"))
    after = ledger()
    assert after[0] == before[0]  # no new consent row: the same consent goes on
    assert after[1] == before[1] + 1 and after[2] == before[2]  # one area withdrawn, no giver withdrawn
    assert after[3] == before[3] + 1 and after[4] == before[4] + 1
    row = one(select(ConsentArea).where(ConsentArea.consent_id == consent.id, ConsentArea.area == "safe"))
    giver = one(select(ConsentGiver).where(ConsentGiver.consent_id == consent.id, ConsentGiver.guardian_id == lena.id))
    assert row.withdrawn_at is not None and row.withdrawn_by_giver_id == giver.id
    assert row.withdrawal_recorded_by_id == staff("anna").id
    assert consent.state == "recorded" and consent.withdrawn_at is None
    event = one(select(AuditEvent).where(AuditEvent.action == "withdraw_consent_area").order_by(AuditEvent.id.desc()))
    assert event.object_id == consent.public_id and (event.detail or {}).get("area") == "safe"
    entry = one(select(ChronologyEntry).order_by(ChronologyEntry.id.desc()))
    assert entry.kind == "consent_withdrawn" and entry.area_codes == {"safe"}


# -- widening -----------------------------------------------------------------------------------------------------
def _narrow_consent(at_load: date, areas: set[str]) -> Consent:
    """Elsa's habilitation coordination consent, withdrawn and recorded again for fewer areas by Lena."""
    old = consent_of("Elsa", "habilitation")
    withdraw_consent(SYSTEM_ACTOR, old, guardian("Lena").id, staff("anna"))
    (narrow,) = record_consent(
        SYSTEM_ACTOR,
        child("Elsa"),
        agency_of_kind("habilitation"),
        wider([GiverData(guardian("Lena").id, "in_person")], areas, at_load),
    )
    return narrow


def test_the_same_or_fewer_areas_are_still_an_overlap(at_load: date) -> None:
    narrow = _narrow_consent(at_load, {"safe", "healthy"})
    lena = [GiverData(guardian("Lena").id, "in_person")]
    elsa, place = child("Elsa"), agency_of_kind("habilitation")
    for areas in ({"safe", "healthy"}, {"safe"}, {"safe", "achieving"}):  # not a strict widening
        refused(
            lambda areas=areas: record_consent(SYSTEM_ACTOR, elsa, place, wider(lena, areas, at_load)), "valid_from"
        )
    assert narrow.replaced_by_id is None


def test_a_wider_consent_replaces_the_older_one_and_both_stay_in_the_ledger(at_load: date) -> None:
    narrow = _narrow_consent(at_load, {"safe", "healthy"})
    assert effective("Elsa", "habilitation", at_load) == {"safe", "healthy"}
    before = ledger()
    (wide,) = record_consent(
        SYSTEM_ACTOR,
        child("Elsa"),
        agency_of_kind("habilitation"),
        wider([GiverData(guardian("Lena").id, "in_person")], {"safe", "healthy", "achieving"}, at_load),
    )
    assert ledger()[0] == before[0] + 1  # the older row is kept
    assert narrow.replaced_by_id == wide.id and narrow.replaced_from == wide.valid_from == at_load
    assert narrow.state == "recorded" and narrow.withdrawn_at is None  # replaced, not withdrawn
    assert effective("Elsa", "habilitation", at_load) == {"safe", "healthy", "achieving"}
    found = child("Elsa")
    facts = consent_facts([found.id])[found.id]
    from coordination.consent.evaluation import consent_status

    alone = consent_status([narrow], set(facts.custodial_guardian_ids), set(facts.mature_agency_ids), at_load)
    assert alone[(narrow.agency_id, "coordination")] == "replaced"
    event = one(select(AuditEvent).where(AuditEvent.action == "replace_consent").order_by(AuditEvent.id.desc()))
    assert event.object_id == narrow.public_id and (event.detail or {}).get("replaced_by") == wide.public_id


def test_a_wider_consent_from_a_later_day_leaves_the_older_one_until_the_day_before(at_load: date) -> None:
    narrow = _narrow_consent(at_load, {"safe"})
    later = at_load + timedelta(days=10)
    record_consent(
        SYSTEM_ACTOR,
        child("Elsa"),
        agency_of_kind("habilitation"),
        wider([GiverData(guardian("Lena").id, "in_person")], {"safe", "nurtured"}, later),
    )
    assert narrow.replaced_from == later
    assert effective("Elsa", "habilitation", later - timedelta(days=1)) == {"safe"}
    assert effective("Elsa", "habilitation", later) == {"safe", "nurtured"}


def test_widening_gives_back_an_area_withdrawn_before(at_load: date) -> None:
    consent = consent_of("Elsa", "habilitation")
    withdraw_consent_area(SYSTEM_ACTOR, consent, "safe", guardian("Lena").id, staff("anna"))
    assert effective("Elsa", "habilitation", at_load) == ALL - {"safe"}
    (again,) = record_consent(
        SYSTEM_ACTOR,
        child("Elsa"),
        agency_of_kind("habilitation"),
        wider([GiverData(guardian("Lena").id, "in_person")], ALL, at_load),
    )
    assert consent.replaced_by_id == again.id
    assert effective("Elsa", "habilitation", at_load) == ALL
    # the replaced consent has no area left to withdraw
    refused(
        lambda: withdraw_consent_area(SYSTEM_ACTOR, consent, "healthy", guardian("Lena").id, staff("anna")), "giver"
    )
