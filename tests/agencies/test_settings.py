"""The platform admin's settings page (issue 16): the matching window, the maturity age and the switchboard
number, stored as overrides in the ``setting`` table, validated with the configuration's bounds, audited old →
new, in force from the next request, read through ``coordination.settings`` at most once per request.

Negatives first: who gets 404, then invalid values (refused beside the field, nothing stored), then a change."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from coordination import settings
from coordination.concerns.operations.matching import match_window_days
from coordination.consent.common import maturity_min_age
from coordination.database import db as database
from coordination.models import AuditEvent, Setting
from tests.agencies.test_admin_views import last_audit_id, page, sign_in
from tests.helpers import post_form

VALID = {"match_window": "21", "maturity_age": "13", "switchboard": "08-123 45 67"}


def stored(app: Flask) -> dict[str, str]:
    with app.app_context():
        rows = database.session.execute(select(Setting.key, Setting.value).where(Setting.key.in_(settings.SPECS)))
        return dict(rows.tuples().all())


def changes_since(app: Flask, last_id: int) -> list[AuditEvent]:
    with app.app_context():
        return list(
            database.session.scalars(
                select(AuditEvent)
                .where(AuditEvent.id > last_id, AuditEvent.action == "change_setting")
                .order_by(AuditEvent.id)
            )
        )


# == who gets in =================================================================================================
@pytest.mark.parametrize("username", ["lars", "maria", "bodil", "ida", "fia", "noah"])
def test_nobody_but_the_platform_admin_reaches_the_settings(app: Flask, client: FlaskClient, username: str) -> None:
    sign_in(client, username)
    assert client.get("/admin/settings").status_code == 404
    before = last_audit_id(app)
    assert post_form(client, "/admin/settings", VALID).status_code == 404
    assert stored(app) == {}, "nothing was stored"
    assert changes_since(app, before) == []


def test_an_anonymous_visitor_is_sent_to_the_login_page(client: FlaskClient) -> None:
    response = client.get("/admin/settings")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


# == invalid values ==============================================================================================
@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("match_window", "0", "whole number of days from 1 to 3650"),
        ("match_window", "-3", "whole number of days from 1 to 3650"),
        ("match_window", "1.5", "whole number of days from 1 to 3650"),
        ("match_window", "99999999999999", "whole number of days from 1 to 3650"),
        ("match_window", "", "whole number of days from 1 to 3650"),
        ("maturity_age", "19", "whole number of years from 1 to 18"),
        ("maturity_age", "0", "whole number of years from 1 to 18"),
        ("maturity_age", "tolv", "whole number of years from 1 to 18"),
        ("maturity_age", "١٢", "whole number of years from 1 to 18"),  # Arabic-Indic digits are not ASCII
        ("switchboard", "", "phone number of at most 40 characters"),
        ("switchboard", "ring oss", "phone number of at most 40 characters"),
        ("switchboard", "0" * 41, "phone number of at most 40 characters"),
        ("switchboard", "<script>", "phone number of at most 40 characters"),
    ],
)
def test_an_invalid_value_is_refused_beside_its_field_and_nothing_is_stored(
    app: Flask, client: FlaskClient, field: str, value: str, message: str
) -> None:
    sign_in(client, "admin")
    before = last_audit_id(app)
    response = post_form(client, "/admin/settings", {**VALID, field: value}, token_from="/admin/settings")
    assert response.status_code == 422
    text = page(response)
    assert f'<p class="ds-validation-message" id="{field}-error">' in text
    assert message in text.split(f'id="{field}-error">')[1].split("</p>")[0], "the message is beside the field"
    assert f'href="#{field}"' in text, "the summary links to the field"
    assert "<script>" not in text
    assert 'value="08-123 45 67"' in text or field == "switchboard", "the other typed values are kept"
    assert stored(app) == {}, "one refused field stores nothing, the valid ones neither"
    assert changes_since(app, before) == []


def test_a_post_without_a_csrf_token_stores_nothing(app: Flask, client: FlaskClient) -> None:
    sign_in(client, "admin")
    response = client.post("/admin/settings", data=VALID)
    assert response.status_code == 400
    assert stored(app) == {}


# == a change ====================================================================================================
def test_the_page_shows_the_values_in_force(app: Flask, client: FlaskClient) -> None:
    sign_in(client, "admin")
    text = page(client.get("/admin/settings"))
    assert f'value="{app.config["CONCERN_MATCH_WINDOW_DAYS"]}"' in text
    assert f'value="{app.config["MATURITY_MIN_AGE"]}"' in text
    assert f'value="{app.config["SWITCHBOARD_PHONE"]}"' in text


def test_a_change_is_stored_audited_and_in_force_from_the_next_request(app: Flask, client: FlaskClient) -> None:
    sign_in(client, "admin")
    before = last_audit_id(app)
    old_window, old_age = app.config["CONCERN_MATCH_WINDOW_DAYS"], app.config["MATURITY_MIN_AGE"]
    response = post_form(client, "/admin/settings", VALID, token_from="/admin/settings")
    assert response.status_code == 303 and response.headers["Location"].endswith("/admin/settings")
    assert stored(app) == {
        "CONCERN_MATCH_WINDOW_DAYS": "21",
        "MATURITY_MIN_AGE": "13",
        "SWITCHBOARD_PHONE": "08-123 45 67",
    }
    audited = {row.object_id: row.detail for row in changes_since(app, before)}
    assert audited == {
        "CONCERN_MATCH_WINDOW_DAYS": {"old": old_window, "new": 21},
        "MATURITY_MIN_AGE": {"old": old_age, "new": 13},
        "SWITCHBOARD_PHONE": {"old": app.config["SWITCHBOARD_PHONE"], "new": "08-123 45 67"},
    }
    assert all(row.legal_basis == "platform_administration" for row in changes_since(app, before))
    text = page(client.get("/admin/settings"))
    assert 'value="21"' in text and 'value="13"' in text and 'value="08-123 45 67"' in text
    with app.test_request_context("/"):
        assert match_window_days() == 21
        assert maturity_min_age() == 13
        assert settings.switchboard_phone() == "08-123 45 67"


def test_saving_unchanged_values_writes_nothing(app: Flask, client: FlaskClient) -> None:
    sign_in(client, "admin")
    post_form(client, "/admin/settings", VALID, token_from="/admin/settings")
    before = last_audit_id(app)
    response = post_form(client, "/admin/settings", VALID, token_from="/admin/settings", follow_redirects=True)
    assert "Nothing was changed." in page(response)
    assert changes_since(app, before) == []


def test_going_back_to_the_configured_value_removes_the_override(app: Flask, client: FlaskClient) -> None:
    sign_in(client, "admin")
    post_form(client, "/admin/settings", VALID, token_from="/admin/settings")
    back = {**VALID, "maturity_age": str(app.config["MATURITY_MIN_AGE"])}
    assert post_form(client, "/admin/settings", back, token_from="/admin/settings").status_code == 303
    assert "MATURITY_MIN_AGE" not in stored(app)
    with app.test_request_context("/"):
        assert maturity_min_age() == app.config["MATURITY_MIN_AGE"]


def test_the_overrides_are_read_once_per_request_and_only_when_asked(app: Flask, db: Any, count_queries: Any) -> None:
    with app.test_request_context("/"):
        with count_queries() as none_asked:
            pass
        with count_queries() as asked:
            for _ in range(3):
                settings.maturity_min_age(), settings.match_window_days(), settings.switchboard_phone()
    assert none_asked.count == 0
    assert asked.count == 1, asked.statements


def test_a_hand_written_row_that_does_not_parse_leaves_the_configuration_in_force(app: Flask, db: Any) -> None:
    with app.app_context():
        database.session.add(Setting(key="MATURITY_MIN_AGE", value="twelve"))
        database.session.flush()
        assert maturity_min_age() == app.config["MATURITY_MIN_AGE"]
        database.session.rollback()
