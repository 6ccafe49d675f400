"""The Child Contact's handling of a concern (issue 4, item 5): acknowledge, record a conversation, close
with a reason. Negatives first: only the CURRENT Child Contact acting for the assignment's agency may act
(everyone else 404, the refusal audited, nothing written); every bad input is refused with the message
next to its field, the input kept, status 422, nothing written. Then each step and its chronology entry."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from coordination.access import SYSTEM_ACTOR
from coordination.children.models import Child
from coordination.children.operations import assign_child_contact
from coordination.concerns.models import TEXT_MAX
from tests.concerns.test_concern_page import (
    BVC,
    PRESCHOOLS,
    audit_rows,
    chronology,
    client_maker,
    concern_row,
    concern_url,
    field_error,
    make_child,
    make_concern,
    membership_of,
    post,
    session,
    write_counts,
)
from tests.helpers import csrf_token

SCRIPT = "<script>alert('x')</script>"
ESCAPED = "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"


@pytest.fixture()
def as_user(app: Flask, db: Any) -> Callable[[str], FlaskClient]:
    return client_maker(app)


def conversation(app: Flask, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "with_whom": ["family", "child"],
        "held_on": app.extensions["clock"].today().isoformat(),
        "text": "We talked about speech; the mother agrees to a hearing test",
    }
    data.update(overrides)
    return data


def closing(**overrides: Any) -> dict[str, Any]:
    data = {"reason": "handled_within_agency", "note": "Speech therapy at BVC is enough", "confirm": "y"}
    data.update(overrides)
    return data


# -- only the current Child Contact ---------------------------------------------------------------------------
def test_staff_with_a_relation_who_are_not_the_child_contact_get_404_on_every_action(app: Flask, as_user: Any) -> None:
    world = make_child(app)
    concern_id = make_concern(app, world)
    before = write_counts(app, world)
    sara = as_user("sara")  # the author, and the child's preschool: a relation, not the Child Contact
    assert sara.get(concern_url(world, concern_id)).status_code == 200
    assert post(sara, concern_url(world, concern_id, "/acknowledge"), {}).status_code == 404
    assert post(sara, concern_url(world, concern_id, "/conversations"), conversation(app)).status_code == 404
    assert sara.get(concern_url(world, concern_id, "/close")).status_code == 404
    assert post(sara, concern_url(world, concern_id, "/close"), closing()).status_code == 404
    assert write_counts(app, world) == before
    refusals = [row for row in audit_rows(app, world, "denied") if row[2] == "not_child_contact"]
    assert len(refusals) == 4


def test_a_former_child_contact_can_no_longer_act_and_the_new_one_can(app: Flask, as_user: Any) -> None:
    world = make_child(app)
    concern_id = make_concern(app, world, author="hanna", recipient="anna")  # habilitation's concern
    with app.app_context():
        child = session().get(Child, world.child_pk)
        assign_child_contact(SYSTEM_ACTOR, child, membership_of("sara", PRESCHOOLS))
        session().commit()
    anna = as_user("anna")  # still BVC's unit: sees the child, but is no longer the Child Contact
    assert anna.get(concern_url(world, concern_id)).status_code == 200
    assert post(anna, concern_url(world, concern_id, "/acknowledge"), {}).status_code == 404
    sara = as_user("sara")
    assert post(sara, concern_url(world, concern_id, "/acknowledge"), {}).status_code == 302
    assert concern_row(app, concern_id)["state"] == "acknowledged"


def test_a_post_without_the_csrf_token_is_refused(app: Flask, as_user: Any) -> None:
    world = make_child(app)
    concern_id = make_concern(app, world)
    anna = as_user("anna")
    assert anna.post(concern_url(world, concern_id, "/acknowledge"), data={}).status_code == 400
    assert concern_row(app, concern_id)["state"] == "open"


# -- bad input ---------------------------------------------------------------------------------------------
def test_a_conversation_in_the_future_is_refused_with_the_input_kept_and_nothing_written(
    app: Flask, as_user: Any
) -> None:
    world = make_child(app)
    concern_id = make_concern(app, world)
    before = write_counts(app, world)
    tomorrow = (app.extensions["clock"].today() + timedelta(days=1)).isoformat()
    response = post(
        as_user("anna"), concern_url(world, concern_id, "/conversations"), conversation(app, held_on=tomorrow)
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert field_error(html, "held_on") == "The date of the conversation cannot be in the future"
    assert "data-error-summary" in html
    assert f'value="{tomorrow}"' in html and "the mother agrees to a hearing test" in html
    assert write_counts(app, world) == before


def test_an_over_long_conversation_is_refused(app: Flask, as_user: Any) -> None:
    world = make_child(app)
    concern_id = make_concern(app, world)
    before = write_counts(app, world)
    response = post(
        as_user("anna"), concern_url(world, concern_id, "/conversations"), conversation(app, text="a" * (TEXT_MAX + 1))
    )
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "text") == f"Write at most {TEXT_MAX} characters"
    assert write_counts(app, world) == before


def test_a_conversation_needs_whom_it_was_with_and_what_was_said(app: Flask, as_user: Any) -> None:
    world = make_child(app)
    concern_id = make_concern(app, world)
    before = write_counts(app, world)
    anna = as_user("anna")
    response = post(anna, concern_url(world, concern_id, "/conversations"), conversation(app, with_whom=[], text=" "))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert field_error(html, "with_whom") == "Choose who the conversation was with"
    assert field_error(html, "text") == "Write what was said"
    response = post(anna, concern_url(world, concern_id, "/conversations"), conversation(app, held_on="not a date"))
    assert response.status_code == 422
    assert write_counts(app, world) == before


def test_script_in_every_field_of_a_refused_conversation_is_kept_escaped(app: Flask, as_user: Any) -> None:
    world = make_child(app)
    concern_id = make_concern(app, world)
    before = write_counts(app, world)
    response = post(
        as_user("anna"),
        concern_url(world, concern_id, "/conversations"),
        conversation(app, with_whom=[SCRIPT], held_on=SCRIPT, text=SCRIPT),
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "<script>alert" not in html and ESCAPED in html
    assert write_counts(app, world) == before


def test_closing_needs_a_reason_a_note_and_the_confirmation(app: Flask, as_user: Any) -> None:
    world = make_child(app)
    concern_id = make_concern(app, world)
    before = write_counts(app, world)
    anna = as_user("anna")
    path = concern_url(world, concern_id, "/close")
    for data, field, message in [
        (closing(confirm=""), "confirm", "Tick the box to confirm that closing cannot be undone"),
        (closing(note=""), "note", "Write the reason"),
        (closing(note="n" * (TEXT_MAX + 1)), "note", f"Write at most {TEXT_MAX} characters"),
        (closing(reason=""), "reason", "Choose why the concern is closed"),
        (closing(reason="coordinator_appointed"), "reason", "Not a valid choice."),
    ]:
        response = post(anna, path, data)
        html = response.get_data(as_text=True)
        assert response.status_code == 422, data
        assert field_error(html, field) == message, (data, html[:0])
        assert 'data-form="close-concern"' in html
    response = post(anna, path, closing(reason="other", note=SCRIPT, confirm=""))
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and ESCAPED in html and "<script>alert" not in html
    assert write_counts(app, world) == before
    assert concern_row(app, concern_id)["state"] == "open"


# -- the steps ------------------------------------------------------------------------------------------------
def test_acknowledging_marks_the_concern_and_lands_in_the_chronology(app: Flask, as_user: Any) -> None:
    world = make_child(app)
    concern_id = make_concern(app, world, areas=("achieving", "healthy"))
    anna = as_user("anna")
    response = post(anna, concern_url(world, concern_id, "/acknowledge"), {})
    assert response.status_code == 302 and response.headers["Location"].endswith(concern_url(world, concern_id))
    assert concern_row(app, concern_id)["state"] == "acknowledged"
    [entry] = chronology(app, world, "concern_acknowledged")
    assert entry["owner"] == BVC and entry["audience"] == "coordination"
    assert entry["areas"] == {"achieving", "healthy"} and entry["object"] == concern_id
    assert ("acknowledge_concern", "allowed", None) in audit_rows(app, world, "allowed")
    # a second time: told, nothing written
    before = write_counts(app, world)
    page = anna.get(concern_url(world, concern_id)).get_data(as_text=True)
    assert 'data-form="acknowledge"' not in page
    post(anna, concern_url(world, concern_id, "/acknowledge"), {})
    assert write_counts(app, world) == before


def test_a_conversation_lands_in_the_chronology_and_on_the_page(app: Flask, as_user: Any) -> None:
    world = make_child(app)
    concern_id = make_concern(app, world, areas=("achieving",))
    anna = as_user("anna")
    yesterday = app.extensions["clock"].today() - timedelta(days=1)
    response = post(
        anna,
        concern_url(world, concern_id, "/conversations"),
        conversation(app, held_on=yesterday.isoformat(), text=SCRIPT),
    )
    assert response.status_code == 302
    [entry] = chronology(app, world, "conversation")
    assert entry["owner"] == BVC and entry["audience"] == "coordination" and entry["tone"] == "neutral"
    assert entry["areas"] == {"achieving"} and entry["summary"] == SCRIPT
    assert entry["occurred_on"] in (yesterday, yesterday + timedelta(days=1))  # noon local, stored in UTC
    html = anna.get(concern_url(world, concern_id)).get_data(as_text=True)
    assert ESCAPED in html and "<script>alert" not in html
    # the preschool's consent covers the areas of BVC's record of the talk: the author sees it too
    assert ESCAPED in as_user("sara").get(concern_url(world, concern_id)).get_data(as_text=True)


def test_a_conversation_about_a_signal_carries_no_areas(app: Flask, as_user: Any) -> None:
    world = make_child(app, consents=(PRESCHOOLS,))
    concern_id = make_concern(app, world, routing="signal", areas=("safe",))
    assert post(as_user("anna"), concern_url(world, concern_id, "/conversations"), conversation(app)).status_code == 302
    [entry] = chronology(app, world, "conversation")
    assert entry["areas"] == set(), "the areas of a signal are content the Child Contact was not given"


def test_closing_is_confirmed_irreversible_and_lands_in_the_chronology(app: Flask, as_user: Any) -> None:
    world = make_child(app)
    concern_id = make_concern(app, world)
    anna = as_user("anna")
    page = anna.get(concern_url(world, concern_id, "/close"))
    assert page.status_code == 200 and 'data-form="close-concern"' in page.get_data(as_text=True)
    assert concern_row(app, concern_id)["state"] == "open", "the confirmation page writes nothing"
    assert post(anna, concern_url(world, concern_id, "/close"), closing()).status_code == 302
    row = concern_row(app, concern_id)
    assert row["state"] == "closed" and row["close_reason"] == "handled_within_agency"
    [entry] = chronology(app, world, "concern_closed")
    assert entry["summary"] == "Speech therapy at BVC is enough" and entry["owner"] == BVC
    html = anna.get(concern_url(world, concern_id)).get_data(as_text=True)
    assert "Handled within my agency" in html and 'data-form="conversation"' not in html
    before = write_counts(app, world)
    again = post(anna, concern_url(world, concern_id, "/close"), closing(reason="other"))
    assert again.status_code == 422 and "This concern is already closed" in again.get_data(as_text=True)
    refused = post(anna, concern_url(world, concern_id, "/conversations"), conversation(app))
    assert refused.status_code == 422 and "This concern is closed" in refused.get_data(as_text=True)
    assert write_counts(app, world) == before


def test_the_csrf_token_of_the_page_is_what_the_forms_carry(app: Flask, as_user: Any) -> None:
    world = make_child(app)
    concern_id = make_concern(app, world)
    anna = as_user("anna")
    token = csrf_token(anna, concern_url(world, concern_id))
    response = anna.post(concern_url(world, concern_id, "/acknowledge"), data={"csrf_token": token})
    assert response.status_code == 302
