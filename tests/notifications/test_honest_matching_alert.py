"""Issue 16: a matching alert offers the next step where the viewer may take it (the other agency's
concern or signal on the Overview; a team, for the plan keeper roles), not only the chronology."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from coordination.children.models import Child
from coordination.database import db as database
from tests.helpers import login


def test_the_matching_alert_offers_the_next_step_to_the_child_contact(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        liam = database.session.scalar(select(Child.public_id).where(Child.given_name == "Liam"))
    assert login(client, "sara").status_code == 302
    assert "data-steps" not in client.get("/inbox").get_data(as_text=True), "sara got no alert"
    anna = app.test_client()
    assert login(anna, "anna").status_code == 302
    html = anna.get("/inbox").get_data(as_text=True)
    steps = re.findall(r'<ul class="ds-list" data-steps>(.*?)</ul>', html, re.S)
    assert len(steps) == 1, "one alert, one set of steps"
    assert f'href="/children/{liam}#concerns-title"' in steps[0]
    assert f'href="/children/{liam}/team"' in steps[0]
