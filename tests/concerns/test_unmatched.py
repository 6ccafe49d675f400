"""The agency admin's queue (``/agency/concerns``): concerns by an unknown number land in the author's own
agency admin's queue and nobody else's; the admin sees only name and age, registers the child with the
stored number, and a Child Contact assigned later receives the waiting concerns, routed as when raised."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from coordination import events
from coordination.access import SYSTEM_ACTOR, consent_picture
from coordination.children.models import Child, Enrolment
from coordination.children.operations import assign_child_contact
from coordination.chronology.models import ChronologyEntry
from coordination.concerns.models import Concern
from coordination.database import db as database
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
    person_pk,
    post,
    staff_membership,
)

QUEUE = "/agency/concerns"


def raise_unknown(app: Flask, username: str = "lars") -> tuple[str, Concern]:
    number = fresh_number().digits
    client = as_user(app, username)
    response = post(client, "/concerns/new", concern_form(identity_number=number, everyone_agreed="no"))
    assert response.status_code == 303
    concern = concerns_of(app)[-1]
    assert concern.routing == "unmatched"
    return number, concern


# -- negatives ------------------------------------------------------------------------------------------------
def test_an_unmatched_concern_reaches_only_the_authors_agency_admin(app: Flask, db: Any) -> None:
    number, concern = raise_unknown(app, "lars")  # the school
    assert concern.recipient_agency_id == agency_pk(app, SCHOOL)
    bodil = as_user(app, "bodil").get(QUEUE)  # BUP's agency admin
    assert bodil.status_code == 200 and concern.public_id not in bodil.get_data(as_text=True)
    for username in ("lars", "anna", "erik"):  # not agency admins
        assert as_user(app, username).get(QUEUE).status_code == 404, username
    maria = as_user(app, "maria").get(QUEUE).get_data(as_text=True)  # the school's agency admin
    assert concern.public_id in maria
    assert number not in maria and number[2:] not in maria
    assert "Loves to sing." not in maria and "few words" not in maria, "never the concern itself"


def test_a_second_unmatched_concern_with_the_same_number_finds_the_child_registered_for_the_first(
    app: Flask, db: Any
) -> None:
    number = fresh_number().digits
    for username in ("lars", "sara"):  # the school and the preschool
        client = as_user(app, username)
        data = concern_form(identity_number=number, everyone_agreed="no")
        assert post(client, "/concerns/new", data).status_code == 303
    first, second = concerns_of(app)[-2:]
    assert (first.routing, second.routing) == ("unmatched", "unmatched")
    assert second.recipient_agency_id != first.recipient_agency_id
    maria = as_user(app, "maria")
    url = f"{QUEUE}/{first.public_id}/register"
    data = {"given_name": "Dubbel", "family_name": "Barnsson", "unit": _unit_id(app, "Klass 1–3")}
    assert post(maria, url, data, token_from=url).status_code == 303
    with app.app_context():
        both = database.session.scalars(select(Concern).where(Concern.id.in_([first.id, second.id]))).all()
        assert {c.routing for c in both} == {"agency_admin"} and len({c.child_id for c in both}) == 1
        assert all(c.identity_number_hash is None for c in both)
        assert {c.recipient_agency_id for c in both} == {agency_pk(app, SCHOOL)}, "the enrolling unit's agency"


def test_another_agencys_admin_cannot_open_or_post_the_register_form(app: Flask, db: Any) -> None:
    _number, concern = raise_unknown(app, "lars")
    before = counts(app)
    bodil = as_user(app, "bodil")
    url = f"{QUEUE}/{concern.public_id}/register"
    assert bodil.get(url).status_code == 404
    assert post(bodil, url, {"given_name": "A", "family_name": "B", "unit": "x"}, token_from=QUEUE).status_code == 404
    assert as_user(app, "lars").get(url).status_code == 404
    assert as_user(app, "maria").get(f"{QUEUE}/no-such-concern/register").status_code == 404
    assert counts(app) == before


@pytest.mark.parametrize(
    "change",
    [{"given_name": ""}, {"family_name": "  "}, {"unit": ""}, {"unit": "not-a-unit"}, {"given_name": "x" * 101}],
    ids=["no given name", "no family name", "no unit", "an unknown unit", "over-long name"],
)
def test_registering_with_bad_input_writes_nothing(app: Flask, db: Any, change: dict[str, str]) -> None:
    _number, concern = raise_unknown(app, "lars")
    maria = as_user(app, "maria")
    url = f"{QUEUE}/{concern.public_id}/register"
    unit = _unit_id(app, "Klass 4–6")
    before = counts(app)
    data = {"given_name": "Nyfunnen", "family_name": "Barnsson", "unit": unit, **change}
    response = post(maria, url, data, token_from=url)
    assert response.status_code == 422
    assert "ds-error-summary" in response.get_data(as_text=True)
    assert counts(app) == before


def _unit_id(app: Flask, name: str) -> str:
    from agencies.models import Unit

    with app.app_context():
        found = database.session.scalar(select(Unit.public_id).where(Unit.name == name))
    assert found is not None
    return found


# -- registering, then a Child Contact ---------------------------------------------------------------------------
def test_the_admin_registers_the_child_and_the_concern_then_waits_for_a_child_contact(app: Flask, db: Any) -> None:
    number, concern = raise_unknown(app, "lars")
    maria = as_user(app, "maria")
    url = f"{QUEUE}/{concern.public_id}/register"
    form = maria.get(url)
    assert form.status_code == 200 and number not in form.get_data(as_text=True)
    response = post(
        maria,
        url,
        {"given_name": "Nyfunnen", "family_name": "Barnsson", "unit": _unit_id(app, "Klass 4–6")},
        token_from=url,
    )
    assert response.status_code == 303
    with app.app_context():
        child = database.session.scalar(select(Child).where(Child.given_name == "Nyfunnen"))
        assert child is not None and child.identity_number_hash is not None
        assert database.session.scalar(select(Enrolment.id).where(Enrolment.child_id == child.id)) is not None
        row = database.session.get(Concern, concern.id)
        assert row is not None
        assert row.child_id == child.id and row.routing == "agency_admin"
        assert row.identity_number_hash is None and row.identity_number_encrypted is None
        child_id = child.id
    queue = maria.get(QUEUE).get_data(as_text=True)
    assert "Nyfunnen Barnsson" in queue and concern.public_id not in queue
    # the admin assigns lars (the school) as Child Contact: the author's own agency
    with app.app_context():
        child_row = database.session.get(Child, child_id)
        assign_child_contact(SYSTEM_ACTOR, child_row, staff_membership("Lars", SCHOOL))
        database.session.commit()
    (routed,) = concerns_of(app, child_id)
    assert routed.routing == "same_agency" and routed.recipient_person_id == person_pk(app, "Lars")
    with app.app_context():
        kinds = database.session.scalars(
            select(ChronologyEntry.kind).where(ChronologyEntry.child_id == child_id).order_by(ChronologyEntry.id)
        ).all()
    assert kinds == ["concern_raised", "strength_noted", "child_contact_assigned"]  # the form gave strengths
    assert "Nyfunnen Barnsson" not in as_user(app, "maria").get(QUEUE).get_data(as_text=True)


def test_a_waiting_concern_with_every_guardians_agreement_is_shared_once_a_child_contact_is_assigned(
    app: Flask, db: Any
) -> None:
    family = make_family(app, guardians=2, contact=None)  # enrolled at Solrosen, no Child Contact
    sara = as_user(app, "sara")
    response = post(
        sara,
        f"/children/{family.public_id}/concerns/new",
        concern_form(
            agreed=list(family.guardian_public_ids),
            agreement_method="written",
            agreement_on=local_today().isoformat(),
            areas=["nurtured"],
        ),
        token_from=f"/children/{family.public_id}/concerns/new",
    )
    assert response.status_code == 303
    (waiting,) = concerns_of(app, family.child_id)
    assert waiting.routing == "agency_admin" and waiting.consent_id is None
    received: list[str] = []

    def listener(_sender: Any, **payload: Any) -> None:
        received.append(payload["concern"].routing)

    events.concern_routed.connect(listener)
    try:
        with app.app_context():
            child = database.session.get(Child, family.child_id)
            assign_child_contact(SYSTEM_ACTOR, child, staff_membership("Anna", BVC))
            database.session.commit()
    finally:
        events.concern_routed.disconnect(listener)
    assert received == ["shared"], "announced again"
    (shared,) = concerns_of(app, family.child_id)
    assert shared.routing == "shared" and shared.recipient_person_id == person_pk(app, "Anna")
    with app.app_context():
        assert consent_picture(family.child_id).areas_for(agency_pk(app, BVC), "coordination") == frozenset(
            {"nurtured"}
        )


def test_a_waiting_concern_without_agreement_becomes_a_signal(app: Flask, db: Any) -> None:
    family = make_family(app, guardians=1, contact=None)
    sara = as_user(app, "sara")
    url = f"/children/{family.public_id}/concerns/new"
    assert post(sara, url, concern_form(), token_from=url).status_code == 303
    with app.app_context():
        child = database.session.get(Child, family.child_id)
        assign_child_contact(SYSTEM_ACTOR, child, staff_membership("Anna", BVC))
        database.session.commit()
    (signal,) = concerns_of(app, family.child_id)
    assert signal.routing == "signal" and signal.consent_id is None


# The queue: the session (2); the unmatched concerns; the waiting concerns with their children; the audit
# rows of the reads (1 INSERT, whatever mix of rows) — whatever the number of rows.
QUEUE_STATEMENTS = 5


def test_the_queue_sends_a_fixed_number_of_statements(app: Flask, db: Any, count_queries: Any) -> None:
    raise_unknown(app, "lars")
    raise_unknown(app, "lars")
    family = make_family(app, units=("Klass 4–6",), contact=None)
    url = f"/children/{family.public_id}/concerns/new"
    assert post(as_user(app, "lars"), url, concern_form(), token_from=url).status_code == 303
    maria = as_user(app, "maria")
    maria.get(QUEUE)
    with count_queries() as counter:
        assert maria.get(QUEUE).status_code == 200
    assert counter.count == QUEUE_STATEMENTS, "\n".join(s[:160] for s in counter.statements)
