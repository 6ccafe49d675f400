"""The plan's action form offers only the chosen agency's units and people (issue 16). Negatives first:
before an agency is chosen no unit or person is offered; showing an agency's units writes nothing; a
unit of another agency is still refused next to its field."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from agencies.models import Agency, Unit
from coordination.database import db as database
from tests.childplan.test_plan_operations import _add_to_team
from tests.childplan.test_plan_page import _counts, _ids, _post, _start, login
from tests.teams.support import BUP, CLASS_4_6, SCHOOL, Family, make_family


@pytest.fixture()
def kept(app: Flask, db: Any) -> Family:
    """A fresh child with a started plan: maria (school) keeps it, karin (BUP) on its team."""
    made = make_family(app)
    with app.app_context():
        _add_to_team(made, "Karin", BUP)
        database.session.commit()
    _start(app, made)
    return made


def _options(html: str, name: str) -> list[str]:
    match = re.search(rf'<select[^>]*name="{re.escape(name)}"[^>]*>(.*?)</select>', html, re.S)
    assert match is not None, name
    return re.findall(r'<option[^>]*value="([^"]*)"', match.group(1))


def _bup_unit(app: Flask) -> str:
    with app.app_context():
        bup = database.session.scalar(select(Agency.id).where(Agency.name == BUP))
        found = database.session.scalar(select(Unit.public_id).where(Unit.agency_id == bup).order_by(Unit.id))
        assert found is not None
        return found


def test_before_an_agency_is_chosen_no_unit_and_no_person_is_offered(
    app: Flask, client: FlaskClient, kept: Family
) -> None:
    family = kept
    login(client, "maria")
    html = client.get(f"/children/{family.public_id}/plan").get_data(as_text=True)
    assert _options(html, "action-owner_unit") == [""]
    assert _options(html, "action-owner_person") == [""]
    assert f'hx-post="/children/{family.public_id}/plan/actions"' in html
    assert 'name="action-refresh"' in html  # without JavaScript: the button


def test_showing_an_agencys_units_writes_nothing_keeps_the_input_and_offers_only_that_agency(
    app: Flask, client: FlaskClient, kept: Family
) -> None:
    family = kept
    login(client, "maria")
    ids = _ids(app, agency=SCHOOL, unit=CLASS_4_6, karin="Karin", lars="Lars")
    before = _counts(app, family.child_id)
    response = _post(
        client,
        f"/children/{family.public_id}/plan/actions",
        {"what": "Kept what <script>", "owner_agency": ids["agency"], "refresh": "1"},
        "action-",
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert _counts(app, family.child_id) == before
    assert "Kept what &lt;script&gt;" in html and "Kept what <script>" not in html
    units = _options(html, "action-owner_unit")
    assert ids["unit"] in units and _bup_unit(app) not in units
    people = _options(html, "action-owner_person")
    assert ids["lars"] in people and ids["karin"] not in people


def test_a_unit_of_another_agency_is_refused_next_to_its_field(app: Flask, client: FlaskClient, kept: Family) -> None:
    family = kept
    login(client, "maria")
    ids = _ids(app, agency=SCHOOL)
    before = _counts(app, family.child_id)
    data: dict[str, Any] = {
        "what": "Kept what",
        "owner_agency": ids["agency"],
        "owner_unit": _bup_unit(app),
        "areas": ["achieving"],
    }
    response = _post(client, f"/children/{family.public_id}/plan/actions", data, "action-")
    assert response.status_code == 422
    assert "Choose a unit of the owning agency" in response.get_data(as_text=True)
    assert _counts(app, family.child_id) == before
