"""Raising a concern on a child's page (RULES.md §5): who gets 404, every bad input, then the routing —
a signal without every guardian's agreement, shared with it (and the consent it records), the same
agency, no Child Contact — with its chronology, audit and signal."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from coordination import events
from coordination.access import consent_picture
from coordination.chronology.models import ChronologyEntry
from coordination.concerns.models import TEXT_MAX
from coordination.consent.models import Consent
from coordination.database import db as database
from coordination.models import AuditEvent
from tests.concerns.test_raising_support import (
    BVC,
    PRESCHOOLS,
    agency_pk,
    as_user,
    child_public_id,
    concern_form,
    concerns_of,
    counts,
    local_today,
    make_family,
    person_pk,
    post,
)

TEXT_FIELDS = ("observations", "strengths", "already_done", "child_said", "family_view")


def new_url(public_id: str) -> str:
    return f"/children/{public_id}/concerns/new"


# -- who may raise one ----------------------------------------------------------------------------------------
def test_the_police_cannot_open_or_post_the_concern_form_for_elsa(app: Flask, db: Any) -> None:
    before = counts(app)
    erik = as_user(app, "erik")
    elsa = child_public_id(app, "Elsa")
    assert erik.get(new_url(elsa)).status_code == 404
    assert post(erik, new_url(elsa), concern_form()).status_code == 404
    assert counts(app) == before
    with app.app_context():
        denied = database.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "concern_new_page", AuditEvent.outcome == "denied")
        ).all()
    assert len(denied) == 2 and all(row.child_id is not None for row in denied)


def test_staff_without_a_relation_and_unknown_children_get_404(app: Flask, db: Any) -> None:
    lars = as_user(app, "lars")  # the school: no relation to Elsa
    assert lars.get(new_url(child_public_id(app, "Elsa"))).status_code == 404
    assert lars.get(new_url("no-such-child")).status_code == 404
    assert as_user(app, "admin").get(new_url(child_public_id(app, "Elsa"))).status_code == 404


# -- bad input ------------------------------------------------------------------------------------------------
BAD_INPUT = {
    "no area": ({"areas": None}, "areas"),
    "an unknown area": ({"areas": ["everything"]}, "areas"),
    "no observation": ({"observations": "   "}, "observations"),
    "no observation date": ({"observed_on": ""}, "observed_on"),
    "a future observation date": ({"observed_on": (local_today() + timedelta(days=3)).isoformat()}, "observed_on"),
    "not a date": ({"observed_on": "tomorrow"}, "observed_on"),
    "no urgency": ({"urgency": None}, "urgency"),
    **{f"over-long {name}": ({name: "x" * (TEXT_MAX + 1)}, name) for name in TEXT_FIELDS},
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_is_refused_next_to_its_field_with_the_input_kept_and_nothing_written(
    app: Flask, db: Any, case: str
) -> None:
    family = make_family(app, guardians=2)
    sara = as_user(app, "sara")
    before = counts(app)
    change, field = BAD_INPUT[case]
    response = post(sara, new_url(family.public_id), concern_form(**change))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "ds-error-summary" in html and f'id="{field}-error"' in html or f'href="#{field}-0"' in html
    assert "Loves to sing." in html or case == "over-long strengths", "the input is kept"
    assert counts(app) == before


def test_an_agreement_without_how_or_when_is_refused(app: Flask, db: Any) -> None:
    family = make_family(app, guardians=2)
    sara = as_user(app, "sara")
    before = counts(app)
    response = post(
        sara,
        new_url(family.public_id),
        concern_form(agreed=list(family.guardian_public_ids), agreement_method="", agreement_on=""),
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="agreement_method-error"' in html and 'id="agreement_on-error"' in html
    assert html.count("checked") >= 2, "the ticked guardians stay ticked"
    response = post(
        sara,
        new_url(family.public_id),
        concern_form(
            agreed=list(family.guardian_public_ids),
            agreement_method="in_person",
            agreement_on=(local_today() + timedelta(days=1)).isoformat(),
        ),
    )
    assert response.status_code == 422 and 'id="agreement_on-error"' in response.get_data(as_text=True)
    response = post(sara, new_url(family.public_id), concern_form(agreed=["someone-else"], agreement_method="phone"))
    assert response.status_code == 422
    assert counts(app) == before


def test_script_in_every_text_field_comes_back_escaped_and_nothing_is_written(app: Flask, db: Any) -> None:
    family = make_family(app)
    sara = as_user(app, "sara")
    before = counts(app)
    script = "<script>alert('x')</script>"
    response = post(
        sara, new_url(family.public_id), concern_form(areas=None, **{name: f"{name} {script}" for name in TEXT_FIELDS})
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "<script>alert" not in html
    for name in TEXT_FIELDS:
        assert f"{name} &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html, name
    assert counts(app) == before


# -- routing ---------------------------------------------------------------------------------------------------
@pytest.fixture()
def routed(app: Flask) -> Any:
    received: list[Any] = []

    def listener(_sender: Any, **payload: Any) -> None:
        received.append(payload["concern"].routing)

    events.concern_routed.connect(listener)
    yield received
    events.concern_routed.disconnect(listener)


def test_without_every_guardians_agreement_another_agency_gets_only_a_signal(
    app: Flask, db: Any, routed: list[str]
) -> None:
    family = make_family(app, guardians=2)  # Child Contact anna at BVC; sara at the preschool
    sara = as_user(app, "sara")
    before = counts(app)
    response = post(
        sara,
        new_url(family.public_id),
        concern_form(
            agreed=[family.guardian_public_ids[0]], agreement_method="in_person", agreement_on=local_today().isoformat()
        ),
    )
    assert response.status_code == 303
    (concern,) = concerns_of(app, family.child_id)
    assert concern.routing == "signal"
    assert concern.recipient_person_id == person_pk(app, "Anna")
    assert concern.consent_id is None
    assert counts(app)["consents"] == before["consents"], "no consent is recorded"
    assert [a.guardian_id for a in concern.agreements] == [family.guardian_ids[0]]
    assert routed == ["signal"]
    with app.app_context():
        entries = database.session.scalars(
            select(ChronologyEntry).where(ChronologyEntry.child_id == family.child_id).order_by(ChronologyEntry.id)
        ).all()
        kinds = {entry.kind: entry for entry in entries}
        signal = kinds["signal_received"]
        assert signal.audience == "recipient" and signal.recipient_person_id == person_pk(app, "Anna")
        assert signal.areas == [] and signal.summary is None, "a signal carries no content"
        raised = kinds["concern_raised"]
        assert raised.audience == "coordination" and raised.tone == "worry" and raised.summary is None
        assert raised.area_codes == {"achieving", "healthy"}
        write = database.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "raise_concern", AuditEvent.object_id == concern.public_id)
        )
        assert write is not None and write.legal_basis == "own_agency_record"


def test_with_every_guardians_agreement_it_is_shared_with_a_consent_limited_to_its_areas(
    app: Flask, db: Any, routed: list[str]
) -> None:
    family = make_family(app, guardians=2)
    bvc = agency_pk(app, BVC)
    with app.app_context():
        assert consent_picture(family.child_id).areas_for(bvc, "coordination") == frozenset()
    sara = as_user(app, "sara")
    agreed_on = local_today() - timedelta(days=1)
    response = post(
        sara,
        new_url(family.public_id),
        concern_form(
            agreed=list(family.guardian_public_ids), agreement_method="in_person", agreement_on=agreed_on.isoformat()
        ),
    )
    assert response.status_code == 303
    (concern,) = concerns_of(app, family.child_id)
    assert concern.routing == "shared"
    assert concern.recipient_person_id == person_pk(app, "Anna") and concern.recipient_agency_id == bvc
    assert sorted(a.guardian_id for a in concern.agreements) == sorted(family.guardian_ids)
    assert routed == ["shared"]
    with app.app_context():
        picture = consent_picture(family.child_id)
        assert picture.areas_for(bvc, "coordination") == frozenset({"achieving", "healthy"}), "exactly its areas"
        assert picture.areas_for(bvc, "team_meetings") == frozenset()
        consent = database.session.get(Consent, concern.consent_id)
        assert consent is not None and consent.agency_id == bvc and consent.purpose == "coordination"
        assert consent.recorded_by_id == person_pk(app, "Sara") and consent.valid_from == agreed_on
        assert sorted(g.guardian_id for g in consent.givers) == sorted(family.guardian_ids)
        assert {g.evidence_note for g in consent.givers} == {"Agreed when the concern was raised"}
        assert {g.method for g in consent.givers} == {"in_person"}
        kinds = database.session.scalars(
            select(ChronologyEntry.kind).where(ChronologyEntry.child_id == family.child_id)
        ).all()
        assert "concern_raised" in kinds and "signal_received" not in kinds


def test_the_same_agency_goes_to_the_child_contact(app: Flask, db: Any, routed: list[str]) -> None:
    family = make_family(app, units=("Solrosen", "BVC Ekby"))
    anna = as_user(app, "anna")  # the Child Contact herself, at BVC
    response = post(anna, new_url(family.public_id), concern_form())
    assert response.status_code == 303
    (concern,) = concerns_of(app, family.child_id)
    assert concern.routing == "same_agency" and concern.recipient_person_id == person_pk(app, "Anna")
    assert routed == ["same_agency"]


def test_without_a_child_contact_it_goes_to_the_agency_admin_of_the_enrolling_unit(
    app: Flask, db: Any, routed: list[str]
) -> None:
    family = make_family(app, contact=None)
    sara = as_user(app, "sara")
    response = post(sara, new_url(family.public_id), concern_form())
    assert response.status_code == 303
    assert (
        response.headers["Location"].endswith(f"/children/{family.public_id}")
        or "/concerns/" in response.headers["Location"]
    )
    (concern,) = concerns_of(app, family.child_id)
    assert concern.routing == "agency_admin" and concern.recipient_person_id is None
    assert concern.recipient_agency_id == agency_pk(app, PRESCHOOLS)
    assert routed == ["agency_admin"]


def test_the_form_offers_each_guardian_with_custody_by_name(app: Flask, db: Any) -> None:
    family = make_family(app, guardians=2)
    html = as_user(app, "sara").get(new_url(family.public_id)).get_data(as_text=True)
    for public_id in family.guardian_public_ids:
        assert f'value="{public_id}"' in html
    assert "Vårdnad0 Provsson" in html and "Vårdnad1 Provsson" in html
    assert 'value="young_person"' not in html, "no maturity assessment: the young person is not offered"
    assert "data-routing-note" in html


def test_consent_not_recorded_when_agreement_is_given_in_the_same_agency(app: Flask, db: Any) -> None:
    family = make_family(app, guardians=1, units=("Solrosen", "BVC Ekby"))
    anna = as_user(app, "anna")
    before = counts(app)
    response = post(
        anna,
        new_url(family.public_id),
        concern_form(
            agreed=list(family.guardian_public_ids), agreement_method="phone", agreement_on=local_today().isoformat()
        ),
    )
    assert response.status_code == 303
    (concern,) = concerns_of(app, family.child_id)
    assert concern.routing == "same_agency" and concern.consent_id is None
    assert counts(app)["consents"] == before["consents"]


def test_where_the_young_person_decides_for_the_child_contacts_agency_their_agreement_shares_it(
    app: Flask, db: Any
) -> None:
    from datetime import date

    from agencies.models import Agency, StaffPerson
    from coordination.access import SYSTEM_ACTOR
    from coordination.children.models import Child
    from coordination.consent.ledger import record_maturity

    family = make_family(app, guardians=2, birth=date(local_today().year - 15, 1, 10))
    with app.app_context():
        session = database.session
        record_maturity(
            SYSTEM_ACTOR,
            session.get(Child, family.child_id),
            session.scalar(select(Agency).where(Agency.name == BVC)),
            session.scalar(select(StaffPerson).where(StaffPerson.given_name == "Anna")),
            "Talked with Testa alone.",
        )
        session.commit()
    sara = as_user(app, "sara")
    html = sara.get(new_url(family.public_id)).get_data(as_text=True)
    assert 'value="young_person"' in html
    # both guardians agreeing is not enough where the young person decides
    guardians_only = concern_form(
        agreed=list(family.guardian_public_ids), agreement_method="in_person", agreement_on=local_today().isoformat()
    )
    assert post(sara, new_url(family.public_id), guardians_only).status_code == 303
    young = concern_form(agreed=["young_person"], agreement_method="in_person", agreement_on=local_today().isoformat())
    assert post(sara, new_url(family.public_id), young).status_code == 303
    first, second = concerns_of(app, family.child_id)
    assert first.routing == "signal" and second.routing == "shared"
    with app.app_context():
        consent = database.session.get(Consent, second.consent_id)
        assert consent is not None and [g.guardian_id for g in consent.givers] == [None]
        assert consent_picture(family.child_id).areas_for(agency_pk(app, BVC), "coordination") == frozenset(
            {"achieving", "healthy"}
        )


# The form on the child's page for a practitioner: the session (its account and person, the memberships: 2);
# the child, the relations to it, the consent picture (consents, custody, maturity: 3 with no consents); the
# Child Contact; the guardians with custody; the audit rows of the read (1).
NEW_FORM_STATEMENTS = 11  # with the settings' overrides (1: coordination.settings, once per request)


def test_the_form_on_the_childs_page_sends_a_fixed_number_of_statements(
    app: Flask, db: Any, count_queries: Any
) -> None:
    family = make_family(app, guardians=2)
    sara = as_user(app, "sara")
    sara.get(new_url(family.public_id))
    with count_queries() as counter:
        assert sara.get(new_url(family.public_id)).status_code == 200
    assert counter.count == NEW_FORM_STATEMENTS, counter.statements
    with count_queries() as counter:
        assert sara.get("/concerns/new").status_code == 200
    assert counter.count == 2, "the form by number reads only the session"


def test_a_consent_already_in_effect_for_the_areas_is_linked_not_recorded_twice(app: Flask, db: Any) -> None:
    from agencies.models import Agency, StaffPerson
    from coordination.access import SYSTEM_ACTOR
    from coordination.children.models import Child
    from coordination.consent.ledger import ConsentData, GiverData, record_consent

    family = make_family(app, guardians=1)
    with app.app_context():
        session = database.session
        (existing,) = record_consent(
            SYSTEM_ACTOR,
            session.get(Child, family.child_id),
            session.scalar(select(Agency).where(Agency.name == BVC)),
            ConsentData(
                purposes=["coordination"],
                areas=["achieving", "healthy", "safe"],
                valid_from=local_today(),
                valid_until=local_today() + timedelta(days=200),
                givers=[GiverData(family.guardian_ids[0], "in_person")],
                consent_text_version=1,
                recorded_by=session.scalar(select(StaffPerson).where(StaffPerson.given_name == "Anna")),
            ),
        )
        existing_id = existing.id
        session.commit()
    before = counts(app)
    sara = as_user(app, "sara")
    agreed = concern_form(
        agreed=list(family.guardian_public_ids), agreement_method="phone", agreement_on=local_today().isoformat()
    )
    assert post(sara, new_url(family.public_id), agreed).status_code == 303
    (concern,) = concerns_of(app, family.child_id)
    assert concern.routing == "shared" and concern.consent_id == existing_id
    assert counts(app)["consents"] == before["consents"]
