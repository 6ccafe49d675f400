"""Issue 16: a receipt whose next step has already happened shows the current state — once intake has
acknowledged the report, the receipt no longer says intake "reads the report and acknowledges it"."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from tests.reports.test_reports import acknowledge, filed, logged_in


def test_the_receipt_shows_the_acknowledgement_as_done_once_it_is(app: Flask, client: FlaskClient) -> None:
    erik = logged_in(app, "erik")
    report_id = filed(erik, given_name="Vera")
    before = erik.get(f"/reports/{report_id}").get_data(as_text=True)
    assert 'data-step="acknowledge"' in before and 'data-step="acknowledged"' not in before
    assert acknowledge(logged_in(app, "ida"), report_id).status_code == 302
    after = erik.get(f"/reports/{report_id}").get_data(as_text=True)
    assert 'data-step="acknowledge"' not in after, "the step that has happened is not promised again"
    assert "reads the report and acknowledges it" not in after
    assert 'data-step="acknowledged"' in after and "has read the report and acknowledged it" in after
