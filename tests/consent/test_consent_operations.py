"""The consent ledger (RULES.md §3): its writes, the consent texts, the pure evaluation the access core
builds on, the forms, and the demo's consent table. Refusals first; every refusal writes nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from agencies.models import Agency, StaffPerson
from childplan.compass import AREA_CODES
from coordination.access import SYSTEM_ACTOR
from coordination.children.models import Child, Custody, Guardian
from coordination.consent.common import YOUNG_PERSON
from coordination.consent.evaluation import (
    CONSENT_STATUSES,
    awaiting_guardian_ids,
    consent_facts,
    consent_status,
    effective_areas,
)
from coordination.consent.ledger import (
    ConsentData,
    GiverData,
    add_consent_giver,
    record_consent,
    record_maturity,
    request_consent,
    withdraw_consent,
)
from coordination.consent.models import Consent, ConsentArea, ConsentGiver, ConsentText, MaturityAssessment
from coordination.consent.texts import DEFAULT_CONSENT_TEXTS, current_consent_text, ensure_consent_text
from coordination.database import db as shared_db
from coordination.demo.loader import loaded_at
from coordination.errors import OperationError
from coordination.models import Account, AuditEvent

BOTH = {"coordination", "team_meetings"}
ALL = set(AREA_CODES)
SCHOOL, BUP, SOCIAL, PUPIL_HEALTH = "Ekby skola", "BUP Ekby", "Socialtjänsten Ekby", "Elevhälsan Ekby"
BVC, PRESCHOOLS, HABILITATION, POLICE = (
    "Barnavårdscentralen Ekby (BVC)",
    "Ekby förskolor",
    "Habiliteringen Ekby",
    "Lokalpolisen Ekby",
)


# -- helpers ------------------------------------------------------------------------------------------------
def session() -> Any:
    return shared_db.session


def child(given_name: str) -> Child:
    found = session().scalar(select(Child).where(Child.given_name == given_name))
    assert found is not None, given_name
    return found


def agency(name: str) -> Agency:
    found = session().scalar(select(Agency).where(Agency.name == name))
    assert found is not None, name
    return found


def staff(username: str) -> StaffPerson:
    person = session().scalar(
        select(StaffPerson).join(Account, Account.staff_person_id == StaffPerson.id).where(Account.username == username)
    )
    assert person is not None, username
    return person


def guardian(given: str, family: str) -> Guardian:
    found = session().scalar(select(Guardian).where(Guardian.given_name == given, Guardian.family_name == family))
    assert found is not None, (given, family)
    return found


def rows(model: Any) -> int:
    return session().scalar(select(func.count()).select_from(model)) or 0


LEDGER = (Consent, ConsentArea, ConsentGiver, MaturityAssessment, ConsentText, AuditEvent)


def ledger() -> tuple[int, ...]:
    return tuple(rows(model) for model in LEDGER)


def today_of(app: Flask) -> date:
    return app.extensions["clock"].today()


def load_day(app: Flask) -> date:
    moment = loaded_at()
    assert moment is not None
    return moment.astimezone(ZoneInfo(app.config["TIME_ZONE"])).date()


def giver(person: Guardian | None, note: str | None = "Given at a meeting", **kwargs: Any) -> GiverData:
    return GiverData(person.id if person is not None else None, kwargs.pop("method", "in_person"), note, **kwargs)


def data(
    givers: list[GiverData],
    *,
    start: date,
    days: int = 90,
    purposes: set[str] | None = None,
    areas: set[str] | None = None,
    **kwargs: Any,
) -> ConsentData:
    values: dict[str, Any] = dict(
        purposes=purposes if purposes is not None else {"coordination"},
        areas=areas if areas is not None else ALL,
        valid_from=start,
        valid_until=start + timedelta(days=days),
        givers=givers,
        consent_text_version=1,
        recorded_by=staff("maria"),
    )
    values.update(kwargs)
    return ConsentData(**values)


def facts(name: str) -> Any:
    found = child(name)
    return consent_facts([found.id])[found.id]


def effective(name: str, day: date) -> dict[tuple[int, str], frozenset[str]]:
    return facts(name).effective_areas(day)


def status(name: str, day: date) -> dict[tuple[int, str], str]:
    return facts(name).status(day)


@pytest.fixture()
def at_load(app: Flask, db: Any, clock: Any) -> Iterator[date]:
    """The app clock at the demo's load moment (the demo's relative dates hold exactly), in an app context."""
    with app.app_context():
        moment = loaded_at()
        assert moment is not None
        clock.set(moment)
        yield load_day(app)


def refused(call: Callable[[], Any], field: str) -> OperationError:
    """The call is refused on ``field`` and writes nothing."""
    before = ledger()
    with pytest.raises(OperationError) as error:
        call()
    assert error.value.field == field, (error.value.field, str(error.value))
    assert str(error.value), "a refusal says why"
    assert ledger() == before, "a refusal writes nothing"
    return error.value


# -- refusals: periods --------------------------------------------------------------------------------------------
def test_an_expired_consent_period_is_refused(at_load: date) -> None:
    omar, ahmed, place = child("Omar"), guardian("Ahmed", "Hassan"), agency(HABILITATION)
    ended = at_load - timedelta(days=1)
    refused(
        lambda: record_consent(
            SYSTEM_ACTOR, omar, place, data([giver(ahmed)], start=ended - timedelta(days=30), days=30)
        ),
        "valid_until",
    )
    refused(
        lambda: request_consent(SYSTEM_ACTOR, omar, place, {"coordination"}, ALL, ended - timedelta(days=5), ended),
        "valid_until",
    )
    # Ending today is still fine.
    assert record_consent(SYSTEM_ACTOR, omar, place, data([giver(ahmed)], start=at_load - timedelta(days=9), days=9))


def test_an_end_before_a_start_is_refused(at_load: date) -> None:
    omar, ahmed, place = child("Omar"), guardian("Ahmed", "Hassan"), agency(HABILITATION)
    refused(
        lambda: record_consent(SYSTEM_ACTOR, omar, place, data([giver(ahmed)], start=at_load, days=-1)), "valid_until"
    )
    refused(
        lambda: request_consent(
            SYSTEM_ACTOR, omar, place, {"coordination"}, ALL, at_load + timedelta(days=10), at_load + timedelta(days=9)
        ),
        "valid_until",
    )


def test_a_missing_date_or_a_period_over_three_years_is_refused(at_load: date) -> None:
    omar, ahmed, place = child("Omar"), guardian("Ahmed", "Hassan"), agency(HABILITATION)
    base = data([giver(ahmed)], start=at_load)
    refused(lambda: record_consent(SYSTEM_ACTOR, omar, place, replace(base, valid_from=None)), "valid_from")
    refused(lambda: record_consent(SYSTEM_ACTOR, omar, place, replace(base, valid_until=None)), "valid_until")
    refused(
        lambda: record_consent(SYSTEM_ACTOR, omar, place, data([giver(ahmed)], start=at_load, days=3 * 366)),
        "valid_until",
    )
    three_years = at_load.replace(year=at_load.year + 3) if (at_load.month, at_load.day) != (2, 29) else None
    if three_years is not None:
        assert record_consent(
            SYSTEM_ACTOR, omar, place, data([giver(ahmed)], start=at_load, days=(three_years - at_load).days)
        )


# -- refusals: overlap --------------------------------------------------------------------------------------------
def test_an_overlapping_consent_is_refused(at_load: date) -> None:
    """The same agency, purpose, area and giver with intersecting dates."""
    omar, ahmed, place = child("Omar"), guardian("Ahmed", "Hassan"), agency(HABILITATION)
    (first,) = record_consent(
        SYSTEM_ACTOR, omar, place, data([giver(ahmed)], start=at_load, days=30, areas={"safe", "healthy"})
    )
    # Intersecting dates, one shared area among others, same giver: refused on the start date.
    refused(
        lambda: record_consent(
            SYSTEM_ACTOR,
            omar,
            place,
            data([giver(ahmed)], start=at_load + timedelta(days=30), days=60, areas={"healthy", "achieving"}),
        ),
        "valid_from",
    )
    # The demo's own consent (the school, all areas, Ahmed, 12 months) refuses a second one too.
    refused(
        lambda: record_consent(SYSTEM_ACTOR, omar, agency(SCHOOL), data([giver(ahmed)], start=at_load)), "valid_from"
    )
    # Not overlapping: the day after it ends, another area, another purpose.
    assert record_consent(SYSTEM_ACTOR, omar, place, data([giver(ahmed)], start=at_load + timedelta(days=31), days=30))
    assert record_consent(SYSTEM_ACTOR, omar, place, data([giver(ahmed)], start=at_load, days=30, areas={"active"}))
    assert record_consent(
        SYSTEM_ACTOR, omar, place, data([giver(ahmed)], start=at_load, days=30, purposes={"team_meetings"})
    )
    # Once withdrawn, the same consent can be recorded again.
    withdraw_consent(SYSTEM_ACTOR, first, ahmed.id, staff("maria"))
    assert record_consent(
        SYSTEM_ACTOR, omar, place, data([giver(ahmed)], start=at_load, days=30, areas={"safe", "healthy"})
    )


def test_a_different_giver_is_not_an_overlap(at_load: date) -> None:
    """Tomas and Sofia each recorded separately for the same agency: two partial consents, no overlap."""
    alva, tomas, sofia, place = (
        child("Alva"),
        guardian("Tomas", "Nilsson"),
        guardian("Sofia", "Nilsson"),
        agency(PUPIL_HEALTH),
    )
    record_consent(SYSTEM_ACTOR, alva, place, data([giver(tomas)], start=at_load))
    assert record_consent(SYSTEM_ACTOR, alva, place, data([giver(sofia)], start=at_load))
    refused(
        lambda: record_consent(SYSTEM_ACTOR, alva, place, data([giver(sofia), giver(tomas)], start=at_load)),
        "valid_from",
    )


# -- refusals: givers ---------------------------------------------------------------------------------------------
def test_consent_from_a_person_without_custody_is_refused(at_load: date) -> None:
    omar, place = child("Omar"), agency(HABILITATION)
    lena = guardian("Lena", "Karlsson")  # Elsa's guardian, not Omar's
    error = refused(lambda: record_consent(SYSTEM_ACTOR, omar, place, data([giver(lena)], start=at_load)), "givers")
    assert "custody" in str(error)
    # One giver without custody spoils the recording: nothing of it is written.
    refused(
        lambda: record_consent(
            SYSTEM_ACTOR, omar, place, data([giver(guardian("Ahmed", "Hassan")), giver(lena)], start=at_load)
        ),
        "givers",
    )


def test_consent_from_a_guardian_whose_custody_has_ended_is_refused(at_load: date, clock: Any) -> None:
    leo, karl, place = child("Leo"), guardian("Karl", "Andersson"), agency(HABILITATION)
    custody = session().scalar(select(Custody).where(Custody.child_id == leo.id, Custody.guardian_id == karl.id))
    custody.ended_at = clock.now()
    session().flush()
    refused(lambda: record_consent(SYSTEM_ACTOR, leo, place, data([giver(karl)], start=at_load)), "givers")


def test_the_young_person_without_a_maturity_assessment_is_refused(at_load: date) -> None:
    noah = child("Noah")
    refused(lambda: record_consent(SYSTEM_ACTOR, noah, agency(SCHOOL), data([giver(None)], start=at_load)), "givers")
    refused(
        lambda: record_consent(SYSTEM_ACTOR, child("Omar"), agency(BUP), data([giver(None)], start=at_load)), "givers"
    )


def years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def born_on(name: str, birth_date: date | None) -> Child:
    """Give a demo child another birth date (inside the test's transaction)."""
    found = child(name)
    found.birth_date = birth_date
    session().flush()
    return found


def test_a_maturity_assessment_for_an_unborn_child_is_refused(at_load: date) -> None:
    """mia's Baby Lund: not born, no birth date: never "mature enough to decide" — not for the police,
    not for anyone."""
    baby = child("Baby")
    assert baby.birth_date is None
    for place in (POLICE, SOCIAL, BUP):
        error = refused(lambda p=place: record_maturity(SYSTEM_ACTOR, baby, agency(p), staff("mia"), "Heard"), "agency")
        assert "birth date" in str(error)


def test_a_maturity_assessment_under_the_minimum_age_is_refused(at_load: date) -> None:
    omar = child("Omar")  # 9
    error = refused(lambda: record_maturity(SYSTEM_ACTOR, omar, agency(BUP), staff("maria"), "Heard"), "agency")
    assert "at least 12" in str(error)
    # The boundary: one day short of twelve is refused; the twelfth birthday itself is enough.
    born_on("Omar", years_before(at_load, 12) + timedelta(days=1))
    refused(lambda: record_maturity(SYSTEM_ACTOR, omar, agency(BUP), staff("maria"), "Heard"), "agency")
    born_on("Omar", years_before(at_load, 12))
    assert record_maturity(SYSTEM_ACTOR, omar, agency(BUP), staff("maria"), "Heard").agency_id == agency(BUP).id


def test_the_minimum_age_for_a_maturity_assessment_is_configurable(
    app: Flask, at_load: date, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    from cryptography.fernet import Fernet

    from coordination.config import DEFAULTS, ConfigError, load_config

    assert DEFAULTS["MATURITY_MIN_AGE"] == 12 and app.config["MATURITY_MIN_AGE"] == 12
    monkeypatch.setitem(app.config, "MATURITY_MIN_AGE", 16)
    noah = child("Noah")  # 15
    error = refused(lambda: record_maturity(SYSTEM_ACTOR, noah, agency(SCHOOL), staff("maria"), "Heard"), "agency")
    assert "at least 16" in str(error)
    # Evaluation follows the configuration too: Noah's own BUP consent no longer counts at 15.
    assert (agency(BUP).id, "coordination") not in effective("Noah", at_load)
    monkeypatch.setitem(app.config, "MATURITY_MIN_AGE", 9)
    assert record_maturity(SYSTEM_ACTOR, child("Omar"), agency(BUP), staff("maria"), "Heard")
    keys = {
        "SECRET_KEY": "s" * 48,
        "IDENTITY_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "IDENTITY_HASH_KEY": "h" * 48,
    }
    for bad in (0, 19):
        with pytest.raises(ConfigError, match="MATURITY_MIN_AGE"):
            load_config(tmp_path, {"ENVIRONMENT": "production", **keys, "MATURITY_MIN_AGE": bad})


def test_the_young_persons_consent_needs_an_evidence_note(at_load: date) -> None:
    noah, bup = child("Noah"), agency(BUP)
    for note in (None, "", "   "):
        refused(
            lambda n=note: record_consent(
                SYSTEM_ACTOR, noah, bup, data([giver(None, n)], start=at_load, areas={"safe"})
            ),
            "evidence_note",
        )
    # Adding the young person to a recorded consent needs it too.
    record_maturity(SYSTEM_ACTOR, noah, agency(HABILITATION), staff("maria"), "Heard")
    (consent,) = record_consent(
        SYSTEM_ACTOR, noah, agency(HABILITATION), data([giver(guardian("Petra", "Svensson"))], start=at_load)
    )
    refused(lambda: add_consent_giver(SYSTEM_ACTOR, consent, giver(None, None), staff("maria")), "evidence_note")
    # With a note it is recorded.
    (own,) = record_consent(SYSTEM_ACTOR, noah, bup, data([giver(None, "Noah told me")], start=at_load, areas={"safe"}))
    assert own.givers[0].is_young_person and own.givers[0].evidence_note == "Noah told me"


def test_the_young_person_under_the_minimum_age_cannot_give_consent_even_with_an_assessment(
    at_load: date, clock: Any
) -> None:
    """Bad data (an assessment recorded before the age rule, or for a child whose birth date changed) does
    not let the ledger record the young person's consent."""
    omar = child("Omar")  # 9
    session().add(
        MaturityAssessment(
            child_id=omar.id,
            agency_id=agency(HABILITATION).id,
            recorded_by_id=staff("maria").id,
            recorded_at=clock.now(),
        )
    )
    session().flush()
    error = refused(
        lambda: record_consent(SYSTEM_ACTOR, omar, agency(HABILITATION), data([giver(None)], start=at_load)), "givers"
    )
    assert "at least 12" in str(error)


def test_bad_givers_are_refused(at_load: date) -> None:
    omar, ahmed, place = child("Omar"), guardian("Ahmed", "Hassan"), agency(HABILITATION)
    refused(lambda: record_consent(SYSTEM_ACTOR, omar, place, data([], start=at_load)), "givers")
    refused(
        lambda: record_consent(SYSTEM_ACTOR, omar, place, data([giver(ahmed), giver(ahmed)], start=at_load)), "givers"
    )
    refused(
        lambda: record_consent(SYSTEM_ACTOR, omar, place, data([giver(ahmed, method="telepathy")], start=at_load)),
        "givers",
    )
    refused(
        lambda: record_consent(
            SYSTEM_ACTOR, omar, place, data([giver(ahmed, given_on=at_load + timedelta(days=1))], start=at_load)
        ),
        "givers",
    )


def test_over_long_text_is_refused(at_load: date) -> None:
    omar, ahmed, place = child("Omar"), guardian("Ahmed", "Hassan"), agency(HABILITATION)
    refused(
        lambda: record_consent(SYSTEM_ACTOR, omar, place, data([giver(ahmed, "x" * 1001)], start=at_load)),
        "evidence_note",
    )
    refused(lambda: record_maturity(SYSTEM_ACTOR, omar, place, staff("maria"), "x" * 1001), "note")
    refused(lambda: ensure_consent_text(9, "sv", "x" * 20_001), "body")
    # 1000 characters is fine.
    (consent,) = record_consent(SYSTEM_ACTOR, omar, place, data([giver(ahmed, "x" * 1000)], start=at_load))
    assert len(consent.givers[0].evidence_note) == 1000


def test_bad_purposes_areas_texts_and_recorders_are_refused(at_load: date) -> None:
    omar, ahmed, place = child("Omar"), guardian("Ahmed", "Hassan"), agency(HABILITATION)
    record = lambda **kw: lambda: record_consent(SYSTEM_ACTOR, omar, place, data([giver(ahmed)], start=at_load, **kw))  # noqa: E731
    refused(record(purposes=set()), "purposes")
    refused(record(purposes={"everything"}), "purposes")
    refused(record(areas=set()), "areas")
    refused(record(areas={"safe", "wealthy"}), "areas")
    refused(record(consent_text_version=99), "consent_text_version")
    refused(record(consent_text_language="fi"), "consent_text_version")
    refused(record(legal_basis="emergency"), "legal_basis")
    refused(record(recorded_by=None), "recorded_by")
    maria = staff("maria")
    maria.is_active = False
    session().flush()
    refused(record(), "recorded_by")


# -- refusals: withdrawal, maturity, requests, adding a giver ------------------------------------------------------
def test_withdrawing_twice_is_refused(at_load: date) -> None:
    leo, eva, karl = child("Leo"), guardian("Eva", "Andersson"), guardian("Karl", "Andersson")
    school = (
        session()
        .scalars(select(Consent).where(Consent.child_id == leo.id, Consent.agency_id == agency(SCHOOL).id))
        .all()
    )
    assert school and all(c.state == "withdrawn" for c in school), "the demo's withdrawn consent"
    moments = [(c.withdrawn_at, [g.withdrawn_at for g in c.givers]) for c in school]
    for consent in school:
        error = refused(lambda c=consent: withdraw_consent(SYSTEM_ACTOR, c, eva.id, staff("maria")), "giver")
        assert "already" in str(error)
        refused(lambda c=consent: withdraw_consent(SYSTEM_ACTOR, c, karl.id, staff("maria")), "giver")
    assert [(c.withdrawn_at, [g.withdrawn_at for g in c.givers]) for c in school] == moments
    # And twice in a row on a fresh one.
    (fresh,) = record_consent(SYSTEM_ACTOR, leo, agency(HABILITATION), data([giver(karl), giver(eva)], start=at_load))
    withdraw_consent(SYSTEM_ACTOR, fresh, karl.id, staff("maria"))
    refused(lambda: withdraw_consent(SYSTEM_ACTOR, fresh, eva.id, staff("maria")), "giver")


def test_withdrawal_by_someone_who_did_not_give_it_is_refused(at_load: date) -> None:
    omar = child("Omar")
    consent = session().scalar(
        select(Consent).where(Consent.child_id == omar.id, Consent.agency_id == agency(SCHOOL).id)
    )
    refused(lambda: withdraw_consent(SYSTEM_ACTOR, consent, guardian("Lena", "Karlsson").id, staff("maria")), "giver")
    refused(lambda: withdraw_consent(SYSTEM_ACTOR, consent, None, staff("maria")), "giver")
    assert consent.state == "recorded"


def test_a_maturity_assessment_twice_is_refused(at_load: date) -> None:
    noah = child("Noah")
    refused(lambda: record_maturity(SYSTEM_ACTOR, noah, agency(BUP), staff("maria"), "again"), "agency")
    assessment = record_maturity(SYSTEM_ACTOR, noah, agency(SCHOOL), staff("maria"), " Heard at a meeting ")
    assert assessment.note == "Heard at a meeting" and assessment.recorded_by_id == staff("maria").id
    refused(lambda: record_maturity(SYSTEM_ACTOR, noah, agency(SCHOOL), staff("maria"), None), "agency")


def test_a_second_open_request_is_refused(at_load: date) -> None:
    liam = child("Liam")
    refused(
        lambda: request_consent(
            SYSTEM_ACTOR, liam, agency(BVC), {"coordination"}, ALL, at_load, at_load + timedelta(days=30)
        ),
        "purposes",
    )
    refused(lambda: request_consent(SYSTEM_ACTOR, liam, agency(HABILITATION), set(), ALL, at_load, at_load), "purposes")
    refused(
        lambda: request_consent(SYSTEM_ACTOR, liam, agency(HABILITATION), {"coordination"}, set(), at_load, at_load),
        "areas",
    )
    # Another purpose for the same agency is a new request.
    (team,) = request_consent(
        SYSTEM_ACTOR, liam, agency(BVC), {"team_meetings"}, ALL, at_load, at_load + timedelta(days=30)
    )
    assert team.state == "requested" and team.purpose == "team_meetings"


def test_for_an_agency_the_recorder_may_not_see_a_refusal_reveals_nothing(at_load: date) -> None:
    """``agency_hidden`` (RULES.md §4): maria's school has no consent for Leo, so she may not see social
    services' consents — a refusal because of them would reveal them. What would be refused is instead
    done harmlessly (or left as it is), and the young person gets the same answer whether or not a
    hidden maturity assessment exists."""
    leo, karl, eva, social = child("Leo"), guardian("Karl", "Andersson"), guardian("Eva", "Andersson"), agency(SOCIAL)
    # The same overlap is refused for an agency the recorder may see ...
    refused(
        lambda: record_consent(SYSTEM_ACTOR, leo, social, data([giver(karl), giver(eva)], start=at_load)), "valid_from"
    )
    # ... and recorded for one they may not: evaluation takes the union, so the extra row is harmless.
    before = rows_for(leo, social)
    (extra,) = record_consent(
        SYSTEM_ACTOR, leo, social, data([giver(karl), giver(eva)], start=at_load), agency_hidden=True
    )
    assert extra.state == "recorded" and rows_for(leo, social) == before + 1
    assert effective("Leo", at_load)[(social.id, "coordination")] == frozenset(ALL)

    # An open request: kept as it is (no new row); a purpose not yet requested is requested.
    liam, bvc = child("Liam"), agency(BVC)
    before = rows_for(liam, bvc)
    until = at_load + timedelta(days=30)
    assert request_consent(SYSTEM_ACTOR, liam, bvc, {"coordination"}, ALL, at_load, until, agency_hidden=True) == []
    assert rows_for(liam, bvc) == before
    made = request_consent(SYSTEM_ACTOR, liam, bvc, BOTH, ALL, at_load, until, agency_hidden=True)
    assert [c.purpose for c in made] == ["team_meetings"] and rows_for(liam, bvc) == before + 1

    # A maturity assessment already recorded: the same one back, nothing written.
    noah, bup = child("Noah"), agency(BUP)
    existing = session().scalar(
        select(MaturityAssessment).where(MaturityAssessment.child_id == noah.id, MaturityAssessment.agency_id == bup.id)
    )
    assert existing is not None
    before_ledger = ledger()
    assert record_maturity(SYSTEM_ACTOR, noah, bup, staff("maria"), "Again", agency_hidden=True) is existing
    assert ledger() == before_ledger

    # The young person for a hidden agency: BUP (an assessment) and social services (none) answer alike.
    messages = {
        str(
            refused(
                lambda p=place: record_consent(
                    SYSTEM_ACTOR,
                    noah,
                    agency(p),
                    data([giver(None)], start=at_load, areas={"safe"}),
                    agency_hidden=True,
                ),
                "givers",
            )
        )
        for place in (BUP, SOCIAL)
    }
    assert len(messages) == 1 and "mature enough to decide for this agency" in messages.pop()


def test_adding_a_giver_is_refused_where_it_cannot_apply(at_load: date) -> None:
    alva, tomas, sofia = child("Alva"), guardian("Tomas", "Nilsson"), guardian("Sofia", "Nilsson")
    school = session().scalar(
        select(Consent).where(
            Consent.child_id == alva.id, Consent.agency_id == agency(SCHOOL).id, Consent.purpose == "coordination"
        )
    )
    maria = staff("maria")
    refused(lambda: add_consent_giver(SYSTEM_ACTOR, school, giver(sofia), maria), "giver")  # already given
    (partial,) = record_consent(SYSTEM_ACTOR, alva, agency(PUPIL_HEALTH), data([giver(tomas)], start=at_load))
    refused(lambda: add_consent_giver(SYSTEM_ACTOR, partial, giver(guardian("Lena", "Karlsson")), maria), "giver")
    refused(lambda: add_consent_giver(SYSTEM_ACTOR, partial, giver(None), maria), "giver")  # no maturity
    refused(lambda: add_consent_giver(SYSTEM_ACTOR, partial, giver(sofia, "x" * 1001), maria), "evidence_note")
    withdraw_consent(SYSTEM_ACTOR, partial, tomas.id, maria)
    refused(lambda: add_consent_giver(SYSTEM_ACTOR, partial, giver(sofia), maria), "giver")
    liam_request = session().scalar(select(Consent).where(Consent.child_id == child("Liam").id))
    refused(lambda: add_consent_giver(SYSTEM_ACTOR, liam_request, giver(guardian("Jonas", "Persson")), maria), "giver")


def test_a_consent_text_version_keeps_its_wording(at_load: date) -> None:
    refused(lambda: ensure_consent_text(1, "sv", "Ett annat samtycke"), "body")
    refused(lambda: ensure_consent_text(0, "sv", "Text"), "version")
    refused(lambda: ensure_consent_text(2, "xx", "Text"), "language")
    refused(lambda: ensure_consent_text(2, "sv", "   "), "body")
    same = ensure_consent_text(1, "sv", DEFAULT_CONSENT_TEXTS["sv"])
    assert same.version == 1 and same.language == "sv"


# -- the rules ---------------------------------------------------------------------------------------------------
def test_joint_custody_one_guardians_consent_is_not_in_effect_until_the_other_gives_it(at_load: date) -> None:
    alva, tomas, sofia, place = (
        child("Alva"),
        guardian("Tomas", "Nilsson"),
        guardian("Sofia", "Nilsson"),
        agency(PUPIL_HEALTH),
    )
    (consent,) = record_consent(SYSTEM_ACTOR, alva, place, data([giver(tomas)], start=at_load))
    key = (place.id, "coordination")
    assert key not in effective("Alva", at_load)
    assert status("Alva", at_load)[key] == "partial"
    assert awaiting_guardian_ids(consent, facts("Alva").custodial_guardian_ids) == {sofia.id}
    added = add_consent_giver(SYSTEM_ACTOR, consent, giver(sofia, method="phone"), staff("maria"))
    assert added.method == "phone" and added.guardian_id == sofia.id
    assert effective("Alva", at_load)[key] == frozenset(ALL)
    assert status("Alva", at_load)[key] == "active"
    # Recording both at once takes effect at once.
    (both,) = record_consent(
        SYSTEM_ACTOR, alva, place, data([giver(tomas), giver(sofia)], start=at_load, purposes={"team_meetings"})
    )
    assert effective("Alva", at_load)[(place.id, "team_meetings")] == frozenset(ALL)
    assert {g.guardian_id for g in both.givers} == {tomas.id, sofia.id}


def test_a_new_custodian_must_give_it_too(at_load: date, clock: Any) -> None:
    """Consent follows current custody: a guardian who gains custody later must also give it."""
    omar, place = child("Omar"), agency(SCHOOL)
    key = (place.id, "coordination")
    assert key in effective("Omar", at_load)
    other = Guardian(given_name="Ny", family_name="Vårdnadshavare", created_at=clock.now())
    session().add(other)
    session().flush()
    session().add(Custody(child_id=omar.id, guardian_id=other.id, created_at=clock.now()))
    session().flush()
    assert key not in effective("Omar", at_load)
    assert status("Omar", at_load)[key] == "partial"


def test_any_one_withdrawal_ends_it_at_once(at_load: date, clock: Any) -> None:
    alva, tomas, sofia, place = (
        child("Alva"),
        guardian("Tomas", "Nilsson"),
        guardian("Sofia", "Nilsson"),
        agency(SCHOOL),
    )
    key = (place.id, "coordination")
    assert effective("Alva", at_load)[key] == frozenset(ALL)
    consent = session().scalar(
        select(Consent).where(
            Consent.child_id == alva.id, Consent.agency_id == place.id, Consent.purpose == "coordination"
        )
    )
    withdraw_consent(SYSTEM_ACTOR, consent, sofia.id, staff("maria"))
    assert key not in effective("Alva", at_load), "the same day, with the other guardian's consent still on record"
    assert (place.id, "team_meetings") in effective("Alva", at_load), "a consent per purpose: the other stands"
    assert status("Alva", at_load)[key] == "withdrawn"
    assert consent.state == "withdrawn" and consent.withdrawn_at == clock.now()
    by = {g.guardian_id: g for g in consent.givers}
    assert by[sofia.id].withdrawn_at == clock.now() and by[sofia.id].withdrawal_recorded_by_id == staff("maria").id
    assert by[tomas.id].withdrawn_at is None


def test_expiry_takes_effect_the_day_after_valid_until(app: Flask, db: Any, clock: Any) -> None:
    clock.set(datetime(2026, 3, 10, 9, 0, tzinfo=UTC))
    with app.app_context():
        omar, ahmed, place = child("Omar"), guardian("Ahmed", "Hassan"), agency(HABILITATION)
        record_consent(SYSTEM_ACTOR, omar, place, data([giver(ahmed)], start=date(2026, 3, 10), days=5))  # to 15 March
        key = (place.id, "coordination")
        clock.set(datetime(2026, 3, 15, 22, 30, tzinfo=UTC))  # 23:30 on 15 March in Stockholm
        assert key in effective("Omar", today_of(app))
        assert status("Omar", today_of(app))[key] == "expires_soon"
        clock.advance(timedelta(hours=1))  # 00:30 on 16 March
        assert today_of(app) == date(2026, 3, 16)
        assert key not in effective("Omar", today_of(app))
        assert status("Omar", today_of(app))[key] == "expired"


def test_a_consent_that_starts_later_is_not_in_effect_yet(at_load: date) -> None:
    omar, ahmed, place = child("Omar"), guardian("Ahmed", "Hassan"), agency(HABILITATION)
    record_consent(SYSTEM_ACTOR, omar, place, data([giver(ahmed)], start=at_load + timedelta(days=3)))
    key = (place.id, "coordination")
    assert key not in effective("Omar", at_load)
    assert status("Omar", at_load)[key] == "upcoming"
    assert key in effective("Omar", at_load + timedelta(days=3))


def test_a_requested_consent_grants_nothing_and_recording_fulfils_it_in_place(at_load: date) -> None:
    omar, ahmed, place = child("Omar"), guardian("Ahmed", "Hassan"), agency(HABILITATION)
    requested = request_consent(
        SYSTEM_ACTOR, omar, place, BOTH, {"safe"}, at_load, at_load + timedelta(days=60), requested_by=staff("maria")
    )
    assert {c.state for c in requested} == {"requested"} and all(not c.givers for c in requested)
    for purpose in BOTH:
        assert (place.id, purpose) not in effective("Omar", at_load)
        assert status("Omar", at_load)[(place.id, purpose)] == "requested"
    ids = {c.purpose: (c.id, c.public_id, c.requested_at) for c in requested}
    recorded = record_consent(
        SYSTEM_ACTOR, omar, place, data([giver(ahmed)], start=at_load, days=365, areas={"healthy", "safe"})
    )
    assert len(recorded) == 1 and recorded[0].purpose == "coordination"
    (consent,) = recorded
    assert (consent.id, consent.public_id, consent.requested_at) == ids["coordination"], "the request became it"
    assert consent.state == "recorded" and consent.recorded_at is not None
    assert {a.area for a in consent.areas} == {"healthy", "safe"}
    assert consent.valid_until == at_load + timedelta(days=365)
    assert effective("Omar", at_load)[(place.id, "coordination")] == frozenset({"healthy", "safe"})
    assert status("Omar", at_load)[(place.id, "team_meetings")] == "requested", "the other purpose still waits"
    assert rows_for(omar, place) == 2, "nothing was deleted, nothing duplicated"


def rows_for(person: Child, place: Agency) -> int:
    return (
        session().scalar(
            select(func.count())
            .select_from(Consent)
            .where(Consent.child_id == person.id, Consent.agency_id == place.id)
        )
        or 0
    )


def test_withdrawing_a_request_cancels_it(at_load: date) -> None:
    liam = child("Liam")
    request = session().scalar(select(Consent).where(Consent.child_id == liam.id, Consent.agency_id == agency(BVC).id))
    withdraw_consent(SYSTEM_ACTOR, request, None, staff("anna"))
    assert request.state == "withdrawn" and request.withdrawn_at is not None
    assert status("Liam", at_load)[(agency(BVC).id, "coordination")] == "withdrawn"
    # A new request may follow.
    assert request_consent(
        SYSTEM_ACTOR, liam, agency(BVC), {"coordination"}, ALL, at_load, at_load + timedelta(days=30)
    )


def test_a_social_services_decision_is_its_own_basis(at_load: date) -> None:
    leo, place = child("Leo"), agency(PUPIL_HEALTH)
    (decision,) = record_consent(
        SYSTEM_ACTOR, leo, place, data([], start=at_load, legal_basis="social_services_decision", areas={"safe"})
    )
    assert decision.legal_basis == "social_services_decision" and not decision.givers
    assert effective("Leo", at_load)[(place.id, "coordination")] == frozenset({"safe"})
    event = session().scalar(
        select(AuditEvent).where(AuditEvent.action == "record_consent", AuditEvent.object_id == decision.public_id)
    )
    assert event is not None and event.legal_basis == "social_services_decision"
    refused(
        lambda: record_consent(
            SYSTEM_ACTOR, leo, place, data([], start=at_load, legal_basis="social_services_decision", areas={"safe"})
        ),
        "valid_from",
    )


def test_the_mature_young_person_decides_for_that_agency_only(at_load: date) -> None:
    noah, petra = child("Noah"), guardian("Petra", "Svensson")
    bup, school, habilitation = agency(BUP), agency(SCHOOL), agency(HABILITATION)
    now_in_effect = effective("Noah", at_load)
    assert now_in_effect[(bup.id, "coordination")] == frozenset({"healthy", "nurtured"})
    # For BUP the guardian's consent neither suffices ...
    record_consent(SYSTEM_ACTOR, noah, bup, data([giver(petra)], start=at_load, areas={"safe"}))
    assert effective("Noah", at_load)[(bup.id, "coordination")] == frozenset({"healthy", "nurtured"})
    # ... nor is needed; elsewhere the young person cannot decide and the guardian does.
    refused(lambda: record_consent(SYSTEM_ACTOR, noah, habilitation, data([giver(None)], start=at_load)), "givers")
    record_consent(SYSTEM_ACTOR, noah, habilitation, data([giver(petra)], start=at_load, areas={"active"}))
    assert effective("Noah", at_load)[(habilitation.id, "coordination")] == frozenset({"active"})
    assert effective("Noah", at_load)[(school.id, "coordination")] == frozenset(ALL)
    # The young person's withdrawal ends BUP's consent; the guardian's consent does not bring it back.
    noah_bup = session().scalar(
        select(Consent)
        .where(
            Consent.child_id == noah.id,
            Consent.agency_id == bup.id,
            Consent.purpose == "coordination",
            Consent.state == "recorded",
            Consent.legal_basis == "consent",
        )
        .where(Consent.recorded_by_id == staff("maria").id, Consent.valid_until > at_load + timedelta(days=200))
    )
    assert noah_bup is not None and noah_bup.givers[0].is_young_person
    withdraw_consent(SYSTEM_ACTOR, noah_bup, None, staff("maria"))
    assert (bup.id, "coordination") not in effective("Noah", at_load)


def _young_persons_consent(person: Child, place: Agency, day: date, moment: datetime) -> Consent:
    """A young person's consent written straight into the tables (as old or imported data might be)."""
    consent = Consent(
        child_id=person.id,
        agency_id=place.id,
        purpose="coordination",
        state="recorded",
        valid_from=day,
        valid_until=day + timedelta(days=365),
        legal_basis="consent",
        recorded_at=moment,
        created_at=moment,
        areas=[ConsentArea(area=area) for area in AREA_CODES],
        givers=[ConsentGiver(guardian_id=None, is_young_person=True, method="in_person", given_at=moment)],
    )
    session().add(consent)
    session().flush()
    return consent


def test_bad_data_never_lets_the_young_person_of_an_unborn_or_young_child_decide(at_load: date, clock: Any) -> None:
    """mia's Baby Lund "mature enough to decide for the police", and a consent "from the young person":
    even written past the ledger's checks, it opens nothing."""
    baby, police, mia = child("Baby"), agency(POLICE), staff("mia")
    session().add(
        MaturityAssessment(child_id=baby.id, agency_id=police.id, recorded_by_id=mia.id, recorded_at=clock.now())
    )
    _young_persons_consent(baby, police, at_load, clock.now())
    baby_facts = facts("Baby")
    assert police.id in baby_facts.mature_agency_ids and baby_facts.birth_date is None
    assert effective("Baby", at_load) == {}, "no area, no agency: nothing in effect"
    assert status("Baby", at_load)[(police.id, "coordination")] == "partial"
    # Omar (9) with an assessment for BUP: it does not count, so his guardian still decides there.
    omar, bup = child("Omar"), agency(BUP)
    session().add(
        MaturityAssessment(child_id=omar.id, agency_id=bup.id, recorded_by_id=mia.id, recorded_at=clock.now())
    )
    _young_persons_consent(omar, agency(HABILITATION), at_load, clock.now())
    session().flush()
    assert effective("Omar", at_load)[(bup.id, "coordination")] == frozenset(ALL), "Ahmed's consent still counts"
    assert (agency(HABILITATION).id, "coordination") not in effective("Omar", at_load)
    # The old call (no birth date) does not apply the age rules — why the access core must pass it.
    unchecked = effective_areas(list(baby_facts.consents), set(), set(baby_facts.mature_agency_ids), at_load)
    assert (police.id, "coordination") in unchecked
    checked = effective_areas(
        list(baby_facts.consents),
        set(),
        set(baby_facts.mature_agency_ids),
        at_load,
        birth_date=None,
        maturity_min_age=12,
    )
    assert checked == {}


def test_from_18_the_young_person_decides_for_every_agency(at_load: date) -> None:
    """RULES.md §6: guardian access ends at 18, and so does their say: the custodial set is empty and the
    young person (an adult) decides for every agency, with no maturity assessment."""
    leo = born_on("Leo", years_before(at_load, 18))
    karl, eva, social, habilitation = (
        guardian("Karl", "Andersson"),
        guardian("Eva", "Andersson"),
        agency(SOCIAL),
        agency(HABILITATION),
    )
    key = (social.id, "coordination")
    assert facts("Leo").custodial_guardian_ids, "custody rows may remain ..."
    assert key not in effective("Leo", at_load), "... but Karl and Eva's consent no longer decides"
    assert status("Leo", at_load)[key] == "partial"
    # The ledger: the guardians are refused; the young person needs no assessment, only an evidence note.
    refused(lambda: record_consent(SYSTEM_ACTOR, leo, habilitation, data([giver(karl)], start=at_load)), "givers")
    refused(
        lambda: record_consent(SYSTEM_ACTOR, leo, habilitation, data([giver(None), giver(eva)], start=at_load)),
        "givers",
    )
    refused(
        lambda: record_consent(SYSTEM_ACTOR, leo, habilitation, data([giver(None, None)], start=at_load)),
        "evidence_note",
    )
    record_consent(SYSTEM_ACTOR, leo, habilitation, data([giver(None, "Leo came to the office")], start=at_load))
    assert effective("Leo", at_load)[(habilitation.id, "coordination")] == frozenset(ALL)
    assert status("Leo", at_load)[(habilitation.id, "coordination")] == "active"
    # The day before the eighteenth birthday the guardians still decide; on the birthday they no longer do.
    born_on("Leo", years_before(at_load, 18) + timedelta(days=1))
    assert key in effective("Leo", at_load)
    assert (habilitation.id, "coordination") not in effective("Leo", at_load)
    assert key not in effective("Leo", at_load + timedelta(days=1))
    assert (habilitation.id, "coordination") in effective("Leo", at_load + timedelta(days=1))


def test_a_withdrawal_just_before_midnight_utc_counts_on_the_local_day(app: Flask, db: Any, clock: Any) -> None:
    """A withdrawal at 23:30 UTC on 15 March is 00:30 on 16 March in Stockholm: it ended the consent
    after another one expired at the start of 16 March, so "withdrawn" is the most recent end."""
    from coordination.consent.evaluation import local_date

    clock.set(datetime(2026, 3, 10, 9, 0, tzinfo=UTC))
    with app.app_context():
        omar, ahmed, place = child("Omar"), guardian("Ahmed", "Hassan"), agency(HABILITATION)
        record_consent(SYSTEM_ACTOR, omar, place, data([giver(ahmed)], start=date(2026, 3, 10), days=5, areas={"safe"}))
        (later,) = record_consent(
            SYSTEM_ACTOR, omar, place, data([giver(ahmed)], start=date(2026, 3, 10), days=10, areas={"healthy"})
        )
        clock.set(datetime(2026, 3, 15, 23, 30, tzinfo=UTC))
        assert today_of(app) == date(2026, 3, 16)
        withdraw_consent(SYSTEM_ACTOR, later, ahmed.id, staff("maria"))
        assert local_date(later.withdrawn_at) == date(2026, 3, 16)
        assert status("Omar", today_of(app))[(place.id, "coordination")] == "withdrawn"


# -- audit: every write in its own transaction --------------------------------------------------------------------
WRITES: dict[str, Callable[[date], Any]] = {
    "request_consent": lambda day: request_consent(
        SYSTEM_ACTOR, child("Omar"), agency(HABILITATION), {"coordination"}, ALL, day, day + timedelta(days=9)
    ),
    "record_consent": lambda day: record_consent(
        SYSTEM_ACTOR, child("Omar"), agency(HABILITATION), data([giver(guardian("Ahmed", "Hassan"))], start=day)
    ),
    "add_consent_giver": lambda day: add_consent_giver(
        SYSTEM_ACTOR,
        record_consent(
            SYSTEM_ACTOR, child("Alva"), agency(PUPIL_HEALTH), data([giver(guardian("Tomas", "Nilsson"))], start=day)
        )[0],
        giver(guardian("Sofia", "Nilsson")),
        staff("maria"),
    ),
    "withdraw_consent": lambda day: withdraw_consent(
        SYSTEM_ACTOR,
        session().scalar(
            select(Consent).where(Consent.child_id == child("Omar").id, Consent.agency_id == agency(SCHOOL).id)
        ),
        guardian("Ahmed", "Hassan").id,
        staff("maria"),
    ),
    "cancel_consent_request": lambda day: withdraw_consent(
        SYSTEM_ACTOR, session().scalar(select(Consent).where(Consent.child_id == child("Liam").id)), None, staff("anna")
    ),
    "record_maturity": lambda day: record_maturity(
        SYSTEM_ACTOR, child("Noah"), agency(SCHOOL), staff("maria"), "Heard"
    ),
    "create_consent_text": lambda day: ensure_consent_text(2, "sv", "Version två"),
}


@pytest.mark.parametrize("action", sorted(WRITES))
def test_every_write_leaves_an_audit_event_in_the_same_transaction(at_load: date, action: str) -> None:
    audited = select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
    before_events, before_ledger = session().scalar(audited), ledger()
    WRITES[action](at_load)
    session().flush()
    events = session().scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()
    assert len(events) > before_events
    latest = events[-1]
    assert latest.outcome == "allowed" and latest.actor_kind == "system" and latest.legal_basis
    if action != "create_consent_text":
        assert latest.child_id is not None and latest.object_id
    session().rollback()
    assert session().scalar(audited) == before_events, "rolling the write back takes its audit row with it"
    assert ledger() == before_ledger


def test_a_refusal_leaves_no_audit_row(at_load: date) -> None:
    before = rows(AuditEvent)
    with pytest.raises(OperationError):
        record_consent(
            SYSTEM_ACTOR,
            child("Omar"),
            agency(HABILITATION),
            data([giver(guardian("Lena", "Karlsson"))], start=at_load),
        )
    assert rows(AuditEvent) == before


def test_audit_rows_hold_no_text_of_the_consent(at_load: date) -> None:
    (consent,) = record_consent(
        SYSTEM_ACTOR,
        child("Omar"),
        agency(HABILITATION),
        data([giver(guardian("Ahmed", "Hassan"), "Evidence: met at the library")], start=at_load),
    )
    event = session().scalar(select(AuditEvent).where(AuditEvent.object_id == consent.public_id))
    assert "library" not in str(event.detail)


# -- consent texts ---------------------------------------------------------------------------------------------------
def test_the_current_consent_text_is_the_newest_version_falling_back_to_swedish(at_load: date) -> None:
    english = current_consent_text("en")
    assert (english.version, english.language) == (1, "en") and english.body == DEFAULT_CONSENT_TEXTS["en"]
    arabic = current_consent_text("ar")
    assert (arabic.version, arabic.language) == (1, "sv"), "no Arabic text: Swedish"
    ensure_consent_text(2, "sv", "Version två av samtyckestexten.")
    newer = current_consent_text("en")
    assert (newer.version, newer.language) == (2, "sv"), "a newer Swedish version wins over an older translation"
    ensure_consent_text(2, "en", "Version two of the consent text.")
    assert (current_consent_text("en").version, current_consent_text("en").language) == (2, "en")


def test_a_fresh_database_has_the_built_in_texts_from_its_migration(committed_db: Callable[..., Flask]) -> None:
    app = committed_db("empty")
    with app.app_context():
        for language, body in DEFAULT_CONSENT_TEXTS.items():
            stored = session().scalar(select(ConsentText).where(ConsentText.language == language))
            assert stored is not None and stored.body == body and stored.version == 1
        before = rows(AuditEvent)
        assert (current_consent_text("en").version, current_consent_text("en").language) == (1, "en")
        assert current_consent_text("ar").language == "sv", "a language without a text falls back to Swedish"
        assert rows(ConsentText) == 2 and rows(AuditEvent) == before, "reading the text writes nothing"


def test_the_built_in_texts_say_what_is_shared_with_whom_and_that_it_can_be_withdrawn() -> None:
    swedish, english = DEFAULT_CONSENT_TEXTS["sv"], DEFAULT_CONSENT_TEXTS["en"]
    for words in ("Vad som delas", "Med vem", "Till vad", "ta tillbaka samtycket när som helst"):
        assert words in swedish
    for words in ("What is shared", "With whom", "For what", "withdraw the consent at any time"):
        assert words in english


# -- the pure evaluation ----------------------------------------------------------------------------------------------
DAY = date(2026, 5, 4)
MUM, DAD, OTHER = 11, 12, 13


def pure(
    *,
    agency_id: int = 1,
    purpose: str = "coordination",
    areas: tuple[str, ...] = ("safe", "healthy"),
    givers: tuple[int | None, ...] = (MUM, DAD),
    withdrawn: tuple[int | None, ...] = (),
    state: str = "recorded",
    start: date = DAY - timedelta(days=10),
    until: date | None = DAY + timedelta(days=100),
    basis: str = "consent",
) -> Consent:
    consent = Consent(
        agency_id=agency_id, purpose=purpose, state=state, valid_from=start, valid_until=until, legal_basis=basis
    )
    consent.areas = [ConsentArea(area=area) for area in areas]
    moment = datetime(2026, 5, 1, 10, tzinfo=UTC)
    consent.givers = [
        ConsentGiver(
            guardian_id=g,
            is_young_person=g is None,
            method="in_person",
            given_at=moment,
            withdrawn_at=moment if g in withdrawn else None,
        )
        for g in givers
    ]
    if withdrawn:
        consent.withdrawn_at = moment
        consent.state = "withdrawn"
    return consent


PURE_CASES: list[tuple[str, list[Consent], set[int], set[int], dict[tuple[int, str], frozenset[str]]]] = [
    ("both guardians gave it", [pure()], {MUM, DAD}, set(), {(1, "coordination"): frozenset({"safe", "healthy"})}),
    ("one of two guardians", [pure(givers=(MUM,))], {MUM, DAD}, set(), {}),
    ("sole custody", [pure(givers=(MUM,))], {MUM}, set(), {(1, "coordination"): frozenset({"safe", "healthy"})}),
    (
        "an extra giver without custody now",
        [pure(givers=(MUM, OTHER))],
        {MUM},
        set(),
        {(1, "coordination"): frozenset({"safe", "healthy"})},
    ),
    ("withdrawn by one", [pure(withdrawn=(DAD,))], {MUM, DAD}, set(), {}),
    ("a giver withdrawn, the consent row not marked", [pure(givers=(MUM, DAD))], {MUM, DAD}, set(), None),
    ("requested", [pure(state="requested", givers=())], {MUM, DAD}, set(), {}),
    ("starts tomorrow", [pure(start=DAY + timedelta(days=1))], {MUM, DAD}, set(), {}),
    ("ends today", [pure(until=DAY)], {MUM, DAD}, set(), {(1, "coordination"): frozenset({"safe", "healthy"})}),
    ("ended yesterday", [pure(until=DAY - timedelta(days=1))], {MUM, DAD}, set(), {}),
    ("no end", [pure(until=None)], {MUM, DAD}, set(), {(1, "coordination"): frozenset({"safe", "healthy"})}),
    ("nobody has custody", [pure(givers=(MUM,))], set(), set(), {}),
    (
        "a social-services decision",
        [pure(givers=(), basis="social_services_decision")],
        {MUM, DAD},
        set(),
        {(1, "coordination"): frozenset({"safe", "healthy"})},
    ),
    ("a withdrawn decision", [pure(givers=(), basis="social_services_decision", state="withdrawn")], {MUM}, set(), {}),
    (
        "mature: the young person gave it",
        [pure(givers=(None,))],
        {MUM, DAD},
        {1},
        {(1, "coordination"): frozenset({"safe", "healthy"})},
    ),
    ("mature: only the guardians gave it", [pure()], {MUM, DAD}, {1}, {}),
    ("mature elsewhere: the young person alone", [pure(givers=(None,))], {MUM, DAD}, {2}, {}),
    ("mature: the young person withdrew", [pure(givers=(None, MUM, DAD), withdrawn=(None,))], {MUM, DAD}, {1}, {}),
    (
        "areas are a union per agency and purpose",
        [
            pure(areas=("safe",)),
            pure(areas=("active",)),
            pure(purpose="team_meetings", areas=("included",)),
            pure(agency_id=2, areas=("respected",)),
        ],
        {MUM, DAD},
        set(),
        {
            (1, "coordination"): frozenset({"safe", "active"}),
            (1, "team_meetings"): frozenset({"included"}),
            (2, "coordination"): frozenset({"respected"}),
        },
    ),
]


@pytest.mark.parametrize(
    ("case", "consents", "custody", "mature", "expected"), PURE_CASES, ids=[c[0] for c in PURE_CASES]
)
def test_effective_areas(
    case: str, consents: list[Consent], custody: set[int], mature: set[int], expected: dict[Any, Any] | None
) -> None:
    if expected is None:  # a giver's withdrawal alone (however it came about) ends the consent
        consents[0].givers[1].withdrawn_at = datetime(2026, 5, 2, tzinfo=UTC)
        expected = {}
    assert effective_areas(consents, custody, mature, DAY) == expected


STATUS_CASES: list[tuple[str, list[Consent], str]] = [
    ("active", [pure()], "active"),
    ("30 days left", [pure(until=DAY + timedelta(days=30))], "expires_soon"),
    ("31 days left", [pure(until=DAY + timedelta(days=31))], "active"),
    (
        "renewed: the later end counts",
        [pure(until=DAY + timedelta(days=5)), pure(areas=("active",), until=DAY + timedelta(days=200))],
        "active",
    ),
    ("partial", [pure(givers=(MUM,))], "partial"),
    ("partial beats requested", [pure(givers=(MUM,)), pure(state="requested", givers=())], "partial"),
    ("upcoming", [pure(start=DAY + timedelta(days=3))], "upcoming"),
    ("requested", [pure(state="requested", givers=())], "requested"),
    ("withdrawn", [pure(withdrawn=(MUM,))], "withdrawn"),
    ("expired", [pure(until=DAY - timedelta(days=1))], "expired"),
    ("a stale request is expired", [pure(state="requested", givers=(), until=DAY - timedelta(days=1))], "expired"),
    ("active beats withdrawn", [pure(withdrawn=(MUM,)), pure()], "active"),
    (
        "the most recent end: withdrawn after an older expiry",
        [pure(until=DAY - timedelta(days=40), start=DAY - timedelta(days=90)), pure(withdrawn=(DAD,))],
        "withdrawn",
    ),
    (
        "the most recent end: expired after an older withdrawal",
        [
            pure(withdrawn=(DAD,), start=DAY - timedelta(days=90), until=DAY - timedelta(days=1)),
            pure(until=DAY - timedelta(days=1)),
        ],
        "expired",
    ),
]


@pytest.mark.parametrize(("case", "consents", "expected"), STATUS_CASES, ids=[c[0] for c in STATUS_CASES])
def test_consent_status(case: str, consents: list[Consent], expected: str) -> None:
    if case == "the most recent end: expired after an older withdrawal":
        consents[0].withdrawn_at = datetime(2026, 3, 1, tzinfo=UTC)
    assert expected in CONSENT_STATUSES
    assert consent_status(consents, {MUM, DAD}, set(), DAY) == {(1, "coordination"): expected}


EIGHTEEN_TODAY = date(2008, 5, 4)  # DAY is 4 May 2026
TWELVE_TODAY = date(2014, 5, 4)
IN_EFFECT = {(1, "coordination"): frozenset({"safe", "healthy"})}
AGE_CASES: list[tuple[str, list[Consent], set[int], set[int], Any, dict[tuple[int, str], frozenset[str]]]] = [
    ("mature, 12 today: the young person", [pure(givers=(None,))], {MUM, DAD}, {1}, TWELVE_TODAY, IN_EFFECT),
    ("mature, 12 tomorrow: not yet", [pure(givers=(None,))], {MUM, DAD}, {1}, TWELVE_TODAY + timedelta(days=1), {}),
    ("mature at 11: the guardians decide", [pure()], {MUM, DAD}, {1}, date(2015, 1, 1), IN_EFFECT),
    ("mature but not born", [pure(givers=(None,))], {MUM, DAD}, {1}, None, {}),
    ("mature but born later than the day", [pure(givers=(None,))], {MUM, DAD}, {1}, DAY + timedelta(days=9), {}),
    ("not born: the guardians decide", [pure()], {MUM, DAD}, {1}, None, IN_EFFECT),
    (
        "18 today: the young person alone, no assessment",
        [pure(givers=(None,))],
        {MUM, DAD},
        set(),
        EIGHTEEN_TODAY,
        IN_EFFECT,
    ),
    ("18 today: the guardians no longer", [pure()], {MUM, DAD}, set(), EIGHTEEN_TODAY, {}),
    (
        "18 today: the guardians and the young person",
        [pure(givers=(MUM, None))],
        {MUM},
        set(),
        EIGHTEEN_TODAY,
        IN_EFFECT,
    ),
    ("17 today: the guardians still", [pure()], {MUM, DAD}, set(), EIGHTEEN_TODAY + timedelta(days=1), IN_EFFECT),
    (
        "17 today: the young person alone, no assessment",
        [pure(givers=(None,))],
        {MUM},
        set(),
        EIGHTEEN_TODAY + timedelta(days=1),
        {},
    ),
    ("18, nobody has custody: the young person", [pure(givers=(None,))], set(), set(), EIGHTEEN_TODAY, IN_EFFECT),
    (
        "18: a social-services decision stands",
        [pure(givers=(), basis="social_services_decision")],
        set(),
        set(),
        EIGHTEEN_TODAY,
        IN_EFFECT,
    ),
    ("18: the young person withdrew", [pure(givers=(None,), withdrawn=(None,))], set(), set(), EIGHTEEN_TODAY, {}),
]


@pytest.mark.parametrize(
    ("case", "consents", "custody", "mature", "born", "expected"), AGE_CASES, ids=[c[0] for c in AGE_CASES]
)
def test_effective_areas_by_age(
    case: str, consents: list[Consent], custody: set[int], mature: set[int], born: Any, expected: dict[Any, Any]
) -> None:
    assert effective_areas(consents, custody, mature, DAY, birth_date=born, maturity_min_age=12) == expected
    assert consent_status(consents, custody, mature, DAY, birth_date=born, maturity_min_age=12)[
        (1, "coordination")
    ] == ("active" if expected else ("withdrawn" if "withdrew" in case else "partial"))


def test_the_minimum_age_is_a_parameter_of_the_evaluation() -> None:
    consents = [pure(givers=(None,))]
    assert effective_areas(consents, {MUM}, {1}, DAY, birth_date=TWELVE_TODAY, maturity_min_age=12) == IN_EFFECT
    assert effective_areas(consents, {MUM}, {1}, DAY, birth_date=TWELVE_TODAY, maturity_min_age=13) == {}


def test_an_upcoming_consent_is_judged_by_the_age_on_its_first_day() -> None:
    """Given by the young person, starting on the eighteenth birthday: upcoming, not partial."""
    starts = DAY + timedelta(days=3)
    consents = [pure(givers=(None,), start=starts)]
    born = date(starts.year - 18, starts.month, starts.day)
    assert consent_status(consents, {MUM}, set(), DAY, birth_date=born, maturity_min_age=12) == {
        (1, "coordination"): "upcoming"
    }
    assert effective_areas(consents, {MUM}, set(), starts, birth_date=born, maturity_min_age=12) == IN_EFFECT


def test_the_most_recent_end_counts_local_days_not_utc_days() -> None:
    """Pure (no app): a withdrawal at 23:30 UTC on 1 May is 01:30 on 2 May in Stockholm, after the other
    consent stopped counting at the start of 2 May."""
    expired = pure(start=DAY - timedelta(days=40), until=date(2026, 5, 1))
    withdrawn = pure(areas=("active",), withdrawn=(DAD,))
    late = datetime(2026, 5, 1, 23, 30, tzinfo=UTC)
    withdrawn.withdrawn_at = late
    for g in withdrawn.givers:
        if g.withdrawn_at is not None:
            g.withdrawn_at = late
    assert consent_status([expired, withdrawn], {MUM, DAD}, set(), DAY) == {(1, "coordination"): "withdrawn"}
    withdrawn.withdrawn_at = datetime(2026, 5, 1, 21, 30, tzinfo=UTC)  # 23:30 on 1 May: before the expiry
    assert consent_status([expired, withdrawn], {MUM, DAD}, set(), DAY) == {(1, "coordination"): "expired"}


def test_consent_facts_take_the_same_statements_for_one_child_or_all(app: Flask, db: Any, count_queries: Any) -> None:
    with app.app_context():
        ids = list(session().scalars(select(Child.id)))
        one = [child("Omar").id]
        with count_queries() as single:
            consent_facts(one)
        with count_queries() as everyone:
            everything = consent_facts(ids)
        assert single.count == everyone.count <= 6  # 6: with the settings' overrides (coordination.settings)
        assert set(everything) == set(ids)
        assert consent_facts([]) == {}


# -- the forms ------------------------------------------------------------------------------------------------------
def test_the_record_form_checks_its_fields_without_queries(app: Flask) -> None:
    from coordination.consent.forms import RecordConsentForm

    good = {
        "agency": "a1",
        "purposes": ["coordination", "team_meetings"],
        "areas": list(AREA_CODES),
        "valid_from": "2026-05-04",
        "valid_until": "2027-05-03",
        "consent_text_version": "1",
        "consent_text_language": "sv",
        "text_shown": "y",
        "givers-0-giver": "g-tomas",
        "givers-0-given": "y",
        "givers-0-method": "in_person",
        "givers-0-given_on": "2026-05-04",
        "givers-0-evidence_note": "Met at school",
        "givers-1-giver": "g-sofia",
        "givers-1-method": "in_person",
    }

    def check(changes: dict[str, Any]) -> RecordConsentForm:
        payload = MultiDict()
        for key, value in {**good, **changes}.items():
            if value is None:
                continue
            for item in value if isinstance(value, list) else [value]:
                payload.add(key, item)
        with app.test_request_context(method="POST", data=payload):
            form = RecordConsentForm(meta={"csrf": False})
            form.set_choices([("a1", "Ekby skola")], [("g-tomas", "Tomas"), ("g-sofia", "Sofia")], [("sv", "Svenska")])
            form.validate()
            return form

    ok = check({})
    assert not ok.errors, ok.errors
    (block,) = ok.given_blocks()
    assert (block.giver, block.method, block.given_on, block.evidence_note) == (
        "g-tomas",
        "in_person",
        date(2026, 5, 4),
        "Met at school",
    )
    assert check({"valid_until": "2026-05-03"}).valid_until.errors
    assert check({"purposes": None}).purposes.errors
    assert check({"areas": ["safe", "wealthy"]}).areas.errors
    assert check({"givers-0-evidence_note": "x" * 1001}).givers.entries[0].form.evidence_note.errors
    assert check({"givers-0-given": None}).form_errors, "somebody must have given it"
    assert check({"givers-0-giver": "g-stranger"}).form_errors, "only the offered givers"
    assert check({"givers-0-given_on": None}).givers.entries[0].form.given_on.errors
    assert check({"givers-0-method": "telepathy"}).givers.entries[0].form.method.errors
    assert check({"agency": "a2"}).agency.errors
    assert check({"text_shown": None}).text_shown.errors


def test_the_record_form_offers_all_eight_areas_and_one_block_per_giver(app: Flask) -> None:
    from coordination.consent.forms import RecordConsentForm

    with app.test_request_context():
        form = RecordConsentForm(meta={"csrf": False})
        form.set_choices([("a1", "Ekby skola")], [("g1", "Tomas"), (YOUNG_PERSON, "Noah")], [("sv", "Svenska")])
        form.add_giver_blocks()
        assert form.areas.data == list(AREA_CODES)
        assert [entry.form.giver.data for entry in form.givers.entries] == ["g1", YOUNG_PERSON]
        assert form.giver_label(form.givers.entries[1].form) == "Noah"
        html = form.areas()
        assert html.count('type="checkbox"') == 8 and html.count("checked") == 8
        assert 'maxlength="1000"' in form.givers.entries[0].form.evidence_note()


def test_the_withdraw_form_needs_the_confirmation(app: Flask) -> None:
    from coordination.consent.forms import WithdrawConsentForm, apply_operation_error

    with app.test_request_context(method="POST", data={"giver": "g1"}):
        form = WithdrawConsentForm(meta={"csrf": False})
        form.set_choices([("g1", "Eva"), ("g2", "Karl")])
        assert not form.validate() and form.confirm.errors
        apply_operation_error(form, OperationError("The consent has already been withdrawn", "giver"))
        assert form.giver.errors == ["The consent has already been withdrawn"]
        apply_operation_error(form, OperationError("Nope", "givers"))
        assert "Nope" in form.form_errors
    with app.test_request_context(method="POST", data={"giver": "g1", "confirm": "y"}):
        form = WithdrawConsentForm(meta={"csrf": False})
        form.set_choices([("g1", "Eva")])
        assert form.validate()


def test_the_request_and_maturity_forms(app: Flask) -> None:
    from coordination.consent.forms import MaturityForm, RequestConsentForm

    with app.test_request_context(
        method="POST",
        data=MultiDict(
            [
                ("agency", "a1"),
                ("purposes", "coordination"),
                ("areas", "safe"),
                ("valid_from", "2026-05-04"),
                ("valid_until", "2026-06-04"),
            ]
        ),
    ):
        form = RequestConsentForm(meta={"csrf": False})
        form.set_choices([("a1", "BVC")])
        assert form.validate(), form.errors
    with app.test_request_context(method="POST", data={"agency": "a1", "note": "x" * 1001, "confirm": "y"}):
        maturity = MaturityForm(meta={"csrf": False})
        maturity.set_choices([("a1", "BUP")])
        assert not maturity.validate() and maturity.note.errors


# -- the demo --------------------------------------------------------------------------------------------------------
def demo_consents(name: str, agency_name: str) -> list[Consent]:
    return list(
        session().scalars(
            select(Consent)
            .where(Consent.child_id == child(name).id, Consent.agency_id == agency(agency_name).id)
            .order_by(Consent.purpose)
        )
    )


def test_the_demo_consent_table(app: Flask, db: Any) -> None:
    with app.app_context():
        day = load_day(app)
        expected_active = {
            "Elsa": {BVC, PRESCHOOLS, HABILITATION},
            "Omar": {SCHOOL, PUPIL_HEALTH, BUP, SOCIAL},
            "Noah": {SCHOOL, BUP},
            "Alva": {SCHOOL},
            "Leo": {SOCIAL},
            "Liam": set(),
        }
        for name, agencies in expected_active.items():
            in_effect = effective(name, day)
            names = {session().get(Agency, agency_id).name for agency_id, _ in in_effect}
            assert names == agencies, name
            for agency_name in agencies:
                for purpose in BOTH:
                    assert (agency(agency_name).id, purpose) in in_effect, (name, agency_name, purpose)
        for name in ("Maja", "Ella"):
            assert facts(name).consents == ()
        text = session().scalar(select(ConsentText).where(ConsentText.version == 1, ConsentText.language == "sv"))
        every = session().scalars(select(Consent)).all()
        assert every and all(c.consent_text_id == text.id for c in every if c.state != "requested")
        assert all(g.method == "in_person" for c in every for g in c.givers)
        assert {lang for lang in session().scalars(select(ConsentText.language).where(ConsentText.version == 1))} == {
            "sv",
            "en",
        }


def test_the_demo_elsa_is_active_for_twelve_months_given_by_lena(app: Flask, db: Any) -> None:
    with app.app_context():
        day, lena, anna = load_day(app), guardian("Lena", "Karlsson"), staff("anna")
        for agency_name in (BVC, PRESCHOOLS, HABILITATION):
            consents = demo_consents("Elsa", agency_name)
            assert {c.purpose for c in consents} == BOTH
            for consent in consents:
                assert consent.state == "recorded" and consent.recorded_by_id == anna.id
                assert {a.area for a in consent.areas} == ALL
                assert [g.guardian_id for g in consent.givers] == [lena.id]
                assert consent.valid_until == consent.valid_from.replace(year=consent.valid_from.year + 1)
                assert day - timedelta(days=42) <= consent.valid_from < day, "recorded a few weeks ago"
        assert set(status("Elsa", day).values()) == {"active"}


def test_the_demo_omars_bup_consent_is_active_and_expires_in_20_days(app: Flask, db: Any) -> None:
    with app.app_context():
        day, bup = load_day(app), agency(BUP)
        statuses = status("Omar", day)
        for purpose in BOTH:
            assert statuses[(bup.id, purpose)] == "expires_soon"
            assert effective("Omar", day)[(bup.id, purpose)] == frozenset(ALL)
        for consent in demo_consents("Omar", BUP):
            assert consent.valid_until == day + timedelta(days=20)
            assert [g.guardian_id for g in consent.givers] == [guardian("Ahmed", "Hassan").id]
            assert consent.recorded_by_id == staff("maria").id
        assert (bup.id, "coordination") in effective("Omar", day + timedelta(days=20))
        assert (bup.id, "coordination") not in effective("Omar", day + timedelta(days=21))
        for agency_name in (SCHOOL, PUPIL_HEALTH, SOCIAL):
            assert statuses[(agency(agency_name).id, "coordination")] == "active"


def test_the_demo_leos_school_consent_was_withdrawn_by_eva_last_week(app: Flask, db: Any) -> None:
    with app.app_context():
        day = load_day(app)
        eva, karl = guardian("Eva", "Andersson"), guardian("Karl", "Andersson")
        zone = ZoneInfo(app.config["TIME_ZONE"])
        school = demo_consents("Leo", SCHOOL)
        assert {c.purpose for c in school} == BOTH
        for consent in school:
            assert consent.state == "withdrawn"
            assert consent.withdrawn_at.astimezone(zone).date() == day - timedelta(days=7)
            assert consent.recorded_at < consent.withdrawn_at, "recorded first, withdrawn later"
            by = {g.guardian_id: g for g in consent.givers}
            assert set(by) == {karl.id, eva.id}
            assert by[eva.id].withdrawn_at == consent.withdrawn_at and by[karl.id].withdrawn_at is None
            assert by[eva.id].withdrawal_recorded_by_id == staff("maria").id
            assert status("Leo", day)[(agency(SCHOOL).id, consent.purpose)] == "withdrawn"
        social = agency(SOCIAL)
        assert status("Leo", day)[(social.id, "coordination")] == "active"
        assert {g.guardian_id for c in demo_consents("Leo", SOCIAL) for g in c.givers} == {karl.id, eva.id}


def test_the_demo_liams_consents_are_requested_only(app: Flask, db: Any) -> None:
    with app.app_context():
        day = load_day(app)
        consents = facts("Liam").consents
        assert consents and {c.state for c in consents} == {"requested"}
        assert all(not c.givers and c.requested_at is not None for c in consents)
        assert {(session().get(Agency, c.agency_id).name, c.purpose) for c in consents} == {
            (BVC, "coordination"),
            (PRESCHOOLS, "coordination"),
        }
        assert all({a.area for a in c.areas} == ALL for c in consents)
        assert effective("Liam", day) == {}
        assert set(status("Liam", day).values()) == {"requested"}


def test_the_demo_noahs_bup_consent_is_his_own_for_healthy_and_nurtured(app: Flask, db: Any) -> None:
    with app.app_context():
        day, noah, bup, maria = load_day(app), child("Noah"), agency(BUP), staff("maria")
        assessment = session().scalar(
            select(MaturityAssessment).where(
                MaturityAssessment.child_id == noah.id, MaturityAssessment.agency_id == bup.id
            )
        )
        assert assessment is not None and assessment.recorded_by_id == maria.id and assessment.note
        assert facts("Noah").mature_agency_ids == frozenset({bup.id})
        for consent in demo_consents("Noah", BUP):
            assert {a.area for a in consent.areas} == {"healthy", "nurtured"}
            (only,) = consent.givers
            assert only.is_young_person and only.guardian_id is None
            assert consent.recorded_by_id == maria.id
            assert assessment.recorded_at < consent.recorded_at, "the maturity assessment came first"
            assert effective("Noah", day)[(bup.id, consent.purpose)] == frozenset({"healthy", "nurtured"})
        petra = guardian("Petra", "Svensson")
        assert [g.guardian_id for c in demo_consents("Noah", SCHOOL) for g in c.givers] == [petra.id, petra.id]
        assert set(status("Noah", day).values()) == {"active"}


def test_the_demo_alva_has_protected_identity_and_both_guardians_consent(app: Flask, db: Any) -> None:
    with app.app_context():
        day, alva = load_day(app), child("Alva")
        assert alva.protection_level == "protected_registration" and alva.has_protected_identity
        others = session().scalars(select(Child).where(Child.protection_level != "none")).all()
        assert [c.given_name for c in others] == ["Alva"], "nobody else is protected"
        tomas, sofia = guardian("Tomas", "Nilsson"), guardian("Sofia", "Nilsson")
        for consent in demo_consents("Alva", SCHOOL):
            assert {g.guardian_id for g in consent.givers} == {tomas.id, sofia.id}
        assert effective("Alva", day)[(agency(SCHOOL).id, "coordination")] == frozenset(ALL)
        assert set(status("Alva", day).values()) == {"active"}


def test_the_demo_consents_were_recorded_after_the_child_contact_took_the_child_on(app: Flask, db: Any) -> None:
    from coordination.children.models import RoleAssignment

    with app.app_context():
        for consent in session().scalars(select(Consent)):
            contact = session().scalar(
                select(RoleAssignment).where(
                    RoleAssignment.child_id == consent.child_id, RoleAssignment.role == "child_contact"
                )
            )
            moment = consent.recorded_at or consent.requested_at
            assert contact is not None and moment is not None and contact.started_at < moment
            events = (
                session()
                .scalars(
                    select(AuditEvent.occurred_at)
                    .where(AuditEvent.object_id == consent.public_id)
                    .order_by(AuditEvent.id)
                )
                .all()
            )
            assert events and events == sorted(events), "replayed in date order"
        assert not any(c.areas == [] for c in session().scalars(select(Consent))), "every consent names its areas"
        # Two purposes a line, Liam's one. Elsa's concern, passed on with Lena's agreement, records none:
        # BVC's consent for coordination in every area was already in effect, and the concern links to it.
        assert rows(Consent) == 2 * (3 + 4 + 1 + 1 + 1 + 1 + 1) + 2
        police = agency(POLICE)
        assert session().scalar(select(Consent.id).where(Consent.agency_id == police.id)) is None


def test_a_refusal_is_plain_text_for_the_cli_and_the_viewers_language_in_a_request(app: Flask, db: Any) -> None:
    """Outside a request (the CLI, the demo loader) no locale can be chosen: the message is plain English;
    inside one it is translated for the person who asked (a ``str`` either way, never a lazy string)."""
    with app.app_context():
        omar, lena = child("Omar"), guardian("Lena", "Karlsson")
        start = today_of(app)
        with pytest.raises(OperationError) as outside:
            record_consent(SYSTEM_ACTOR, omar, agency(HABILITATION), data([giver(lena)], start=start))
        assert type(outside.value.message) is str and "custody" in outside.value.message
    with app.test_request_context():
        with pytest.raises(OperationError) as inside:
            record_consent(SYSTEM_ACTOR, child("Omar"), agency(HABILITATION), data([giver(lena)], start=start))
        assert type(inside.value.message) is str and inside.value.field == "givers"
