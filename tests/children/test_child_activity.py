"""The Overview's concerns and next meeting, on the demo (DEMO.md): each shown only as the concern and
meeting pages themselves would allow (RULES.md §4, §7)."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from coordination.children.models import Child
from coordination.database import db as database
from coordination.demo.concerns import ALVA_MEETING_PLACE
from tests.helpers import login


def child_id(app: Flask, name: str) -> str:
    with app.app_context():
        return database.session.scalar(select(Child.public_id).where(Child.given_name == name))


def as_user(app: Flask, persona: str) -> FlaskClient:
    client = app.test_client()
    login(client, persona)
    return client


def concerns_section(client: FlaskClient, child: str) -> str:
    html = client.get(f"/children/{child}").get_data(as_text=True)
    match = re.search(r'data-section="concerns">(.*?)</section>', html, re.S)
    assert match, "the Overview has a concerns section"
    return match.group(1)


def test_a_concern_from_an_agency_without_consent_is_not_even_listed(app: Flask, client: FlaskClient) -> None:
    # Liam: BVC's own concern; the preschool's consent is only requested, so sara does not learn of it.
    login(client, "sara")
    section = concerns_section(client, child_id(app, "Liam"))
    assert section.count("<li data-concern=") == 1, "only her own concern"
    assert 'data-concern="signal"' not in section


def test_the_signal_reaches_the_child_contact_as_a_request_without_areas(app: Flask, client: FlaskClient) -> None:
    login(client, "anna")
    section = concerns_section(client, child_id(app, "Liam"))
    assert section.count("<li data-concern=") == 2
    signal = next(item for item in section.split("<li ") if 'data-concern="signal"' in item)
    assert "data-area" not in signal, "a signal carries no areas"


def test_a_shared_concern_shows_its_areas_to_the_consented_team(app: Flask, client: FlaskClient) -> None:
    elsa = child_id(app, "Elsa")
    for persona in ("anna", "sara", "hanna"):
        section = concerns_section(as_user(app, persona), elsa)
        assert 'data-area="achieving"' in section and "/concerns/" in section, persona
        assert f"/children/{elsa}/concerns/new" in section, "and a way to raise another"


def test_the_next_meeting_is_shown_without_its_place(app: Flask, client: FlaskClient) -> None:
    omar, alva = child_id(app, "Omar"), child_id(app, "Alva")
    html = as_user(app, "lars").get(f"/children/{omar}").get_data(as_text=True)
    assert f"/children/{omar}/meetings/" in html and "mötesrum 2" not in html
    html = as_user(app, "maria").get(f"/children/{alva}").get_data(as_text=True)
    assert f"/children/{alva}/meetings/" in html and ALVA_MEETING_PLACE not in html


def test_only_the_child_contact_is_offered_the_siblings_page(app: Flask, client: FlaskClient) -> None:
    liam = child_id(app, "Liam")
    assert "/siblings" not in concerns_section(as_user(app, "sara"), liam)
    assert f"/children/{liam}/siblings" in concerns_section(as_user(app, "anna"), liam)


def test_the_child_contact_is_offered_to_ask_for_a_support_coordinator_only_while_there_is_none(
    app: Flask, client: FlaskClient
) -> None:
    noah, omar = child_id(app, "Noah"), child_id(app, "Omar")
    maria = as_user(app, "maria")
    assert f"/children/{noah}/coordinator-requests/new" in maria.get(f"/children/{noah}").get_data(as_text=True)
    assert "/coordinator-requests/new" not in maria.get(f"/children/{omar}").get_data(as_text=True), "johan is"
    assert "/coordinator-requests/new" not in as_user(app, "karin").get(f"/children/{noah}").get_data(as_text=True)
