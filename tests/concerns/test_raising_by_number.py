"""Raising a concern by identity number for a child the practitioner may not see (RULES.md §5): always
"delivered" — byte-identical for an unknown number, a known one out of scope and one in scope — routed
as on the child's page, audited and rate-limited as a lookup; only a bad number or bad input is an
error, and the number never comes back in a page."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from coordination.access import IDENTITY_LOOKUP_ACTION, IDENTITY_LOOKUPS_PER_10_MINUTES, consent_picture
from coordination.clock import now
from coordination.concerns.models import TEXT_MAX
from coordination.consent.models import Consent
from coordination.database import db as database
from coordination.models import Account, AuditEvent
from tests.concerns.test_raising_support import (
    BVC,
    SCHOOL,
    agency_pk,
    as_user,
    concern_form,
    concerns_of,
    counts,
    fresh_number,
    local_today,
    make_family,
    number_of,
    number_of_child,
    person_pk,
    post,
    without_tokens,
)

URL = "/concerns/new"


def by_number(number: str, **overrides: Any) -> dict[str, Any]:
    return concern_form(**{"identity_number": number, "everyone_agreed": "no", **overrides})


def test_a_bad_check_digit_is_a_field_error_that_never_shows_the_number(app: Flask, db: Any) -> None:
    lars = as_user(app, "lars")
    good = fresh_number().digits
    bad = good[:-1] + str((int(good[-1]) + 1) % 10)
    before = counts(app)
    response = post(lars, URL, by_number(bad))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="identity_number-error"' in html and "ds-error-summary" in html
    assert bad not in html and bad[2:] not in html, "the number is never written back"
    assert "Loves to sing." in html, "the rest of the input is kept"
    assert counts(app) == before


@pytest.mark.parametrize(
    "change",
    [
        {"areas": None},
        {"observations": ""},
        {"observed_on": (local_today() + timedelta(days=1)).isoformat()},
        {"child_said": "x" * (TEXT_MAX + 1)},
        {"everyone_agreed": None},
        {"everyone_agreed": "yes", "agreement_method": "", "agreement_on": ""},
        {"identity_number": ""},
        {"identity_number": "1" * 25},
    ],
    ids=[
        "no area",
        "no observation",
        "future date",
        "over-long",
        "no answer",
        "agreed without how",
        "no number",
        "too long",
    ],
)
def test_bad_input_is_refused_without_a_lookup(app: Flask, db: Any, change: dict[str, Any]) -> None:
    lars = as_user(app, "lars")
    before = counts(app)
    data = by_number(number_of(app, "Elsa"))
    data.update(change)
    response = post(lars, URL, {k: v for k, v in data.items() if v is not None})
    assert response.status_code == 422
    assert counts(app) == before
    with app.app_context():
        lookups = database.session.scalars(select(AuditEvent).where(AuditEvent.action == IDENTITY_LOOKUP_ACTION)).all()
    assert lookups == [], "bad input never reaches the lookup"


def test_known_unknown_and_out_of_scope_numbers_get_byte_identical_answers(app: Flask, db: Any) -> None:
    lars = as_user(app, "lars")  # the school, Klass 4–6: Omar is in scope, Elsa is not
    numbers = {
        "unknown": fresh_number().digits,
        "known, out of scope": number_of(app, "Elsa"),
        "known, in scope": number_of(app, "Omar"),
    }
    answers = {}
    for case, number in numbers.items():
        response = post(lars, URL, by_number(number))
        assert response.status_code == 303, case
        followed = lars.get(response.headers["Location"])
        answers[case] = (
            response.status_code,
            response.headers["Location"],
            response.get_data(),
            followed.status_code,
            without_tokens(followed.get_data(as_text=True)),
        )
    first = answers["unknown"]
    assert all(answer == first for answer in answers.values()), "the same answer whatever the number"
    assert first[3] == 200
    school = agency_pk(app, SCHOOL)
    concerns = concerns_of(app)[-3:]
    assert [c.routing for c in concerns] == ["unmatched", "signal", "same_agency"]
    unmatched, signal, same = concerns
    assert unmatched.child_id is None and unmatched.recipient_agency_id == school
    assert unmatched.identity_number_hash is not None and unmatched.identity_number_encrypted is not None
    assert numbers["unknown"] not in unmatched.identity_number_encrypted, "stored encrypted"
    assert signal.recipient_person_id == person_pk(app, "Anna") and signal.consent_id is None
    assert same.recipient_person_id == person_pk(app, "Maria")
    with app.app_context():
        lookups = database.session.scalars(
            select(AuditEvent).where(AuditEvent.action == IDENTITY_LOOKUP_ACTION).order_by(AuditEvent.id)
        ).all()
    assert [row.outcome for row in lookups] == ["denied", "denied", "allowed"], "audited as every lookup"
    assert all((row.detail or {}).get("purpose") == "raise_concern" for row in lookups)
    for row in lookups:
        for number in numbers.values():
            assert number not in str(row.detail) and number not in str(row.object_id)


def test_everyone_agreed_shares_it_and_records_agreement_for_every_guardian_with_custody(app: Flask, db: Any) -> None:
    family = make_family(app, guardians=2, units=(), contact=("Anna", BVC))  # lars cannot see the child
    digits = number_of_child(app, family.child_id)
    lars = as_user(app, "lars")
    response = post(
        lars,
        URL,
        by_number(
            digits,
            everyone_agreed="yes",
            agreement_method="phone",
            agreement_on=local_today().isoformat(),
            areas=["safe"],
        ),
    )
    assert response.status_code == 303
    (concern,) = concerns_of(app, family.child_id)
    assert concern.routing == "shared"
    assert sorted(a.guardian_id for a in concern.agreements) == sorted(family.guardian_ids)
    with app.app_context():
        assert consent_picture(family.child_id).areas_for(agency_pk(app, BVC), "coordination") == frozenset({"safe"})
        consent = database.session.get(Consent, concern.consent_id)
        assert consent is not None
        assert all("stated that every guardian" in (g.evidence_note or "") for g in consent.givers)


def test_a_known_child_without_a_child_contact_goes_to_the_agency_admin_of_its_unit(app: Flask, db: Any) -> None:
    family = make_family(app, units=("Klass 7–9",), contact=None)
    digits = number_of_child(app, family.child_id)
    sara = as_user(app, "sara")
    assert post(sara, URL, by_number(digits)).status_code == 303
    (concern,) = concerns_of(app, family.child_id)
    assert concern.routing == "agency_admin" and concern.recipient_agency_id == agency_pk(app, SCHOOL)


def test_lookups_are_rate_limited(app: Flask, db: Any) -> None:
    lars = as_user(app, "lars")
    with app.app_context():
        lars_account = database.session.scalar(select(Account.id).where(Account.username == "lars"))
        for _index in range(IDENTITY_LOOKUPS_PER_10_MINUTES):
            database.session.add(
                AuditEvent(
                    occurred_at=now(),
                    actor_kind="staff",
                    actor_account_id=lars_account,
                    action=IDENTITY_LOOKUP_ACTION,
                    outcome="denied",
                )
            )
        database.session.commit()
    before = counts(app)
    response = post(lars, URL, by_number(fresh_number().digits))
    assert response.status_code == 429
    assert counts(app) == before


def test_the_form_and_the_delivered_page_are_for_staff_only(app: Flask, db: Any) -> None:
    assert as_user(app, "lars").get(URL).status_code == 200
    assert as_user(app, "lena").get(URL).status_code == 404
    assert as_user(app, "admin").get("/concerns/delivered").status_code == 404
    assert app.test_client().get(URL).status_code in (302, 401)
