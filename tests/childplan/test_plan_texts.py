"""The plan-level texts (issue 5): why there is a plan, overall responsibility, the child's and the
guardians' views, disagreements and the next review, kept by the plan keeper with optimistic locking on
the plan's version. Negatives first: nobody but the keeper writes them (404 at the route, nothing
written), a past review date and a missing "why" are refused at their field, a stale form gets 409 with
the current texts shown and the keeper's text kept. Then what a save does (audit, chronology)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from childplan.models import PLAN_TEXT_MAX, Plan
from childplan.operations import PlanTextsData, StalePlan, close_plan, update_plan_texts
from coordination.chronology.models import ChronologyEntry
from coordination.clock import today
from coordination.database import db as database
from coordination.errors import OperationError
from coordination.models import AuditEvent
from tests.childplan.test_plan_operations import _actor_of, _add_to_team, _started
from tests.childplan.test_plan_page import _post, login
from tests.helpers import logout
from tests.teams.support import BUP, Family, make_family


@pytest.fixture()
def family(app: Flask, db: Any) -> Family:
    """A fresh child whose plan maria (school, the Child Contact) keeps; karin (BUP) on its team."""
    made = make_family(app)
    with app.app_context():
        _add_to_team(made, "Karin", BUP)
        _started(made)
        database.session.commit()
    return made


def _plan(family: Family) -> Plan:
    found = database.session.scalar(select(Plan).where(Plan.child_id == family.child_id))
    assert found is not None
    return found


def _state(app: Flask, family: Family) -> tuple[Any, ...]:
    """The texts, the version and the writes' traces: unchanged by every refusal."""
    with app.app_context():
        plan = _plan(family)
        database.session.refresh(plan)
        audits = database.session.scalar(
            select(func.count(AuditEvent.id)).where(
                AuditEvent.child_id == family.child_id,
                AuditEvent.action == "update_plan_texts",
                AuditEvent.outcome == "allowed",
                AuditEvent.object_type == "plan",  # the write, not the read of the child on the way
            )
        )
        entries = database.session.scalar(
            select(func.count(ChronologyEntry.id)).where(
                ChronologyEntry.child_id == family.child_id, ChronologyEntry.kind == "plan_texts_changed"
            )
        )
        return (
            plan.why,
            plan.child_views,
            plan.guardian_views,
            plan.disagreements,
            plan.next_review_on,
            plan.version,
            audits,
            entries,
        )


def _data(**changes: Any) -> PlanTextsData:
    values: dict[str, Any] = {
        "why": "Reading is hard",
        "overall_responsibility": "Maria, the school",
        "child_views": "I like stories when someone reads them to me.",
        "guardian_views": "We want more help at school.",
        "disagreements": "The school thinks homework helps; the guardians do not.",
        "next_review_on": today() + timedelta(days=60),
    }
    values.update(changes)
    return PlanTextsData(**values)


def _form(app: Flask, version: int, **changes: str) -> dict[str, str]:
    with app.app_context():
        next_review = (today() + timedelta(days=30)).isoformat()
    values = {
        "version": str(version),
        "why": "Reading is hard",
        "overall_responsibility": "Maria, the school",
        "child_views": "Stories are fun.",
        "guardian_views": "We want more help.",
        "disagreements": "",
        "next_review_on": next_review,
    }
    values.update(changes)
    return values


def _url(family: Family) -> str:
    return f"/children/{family.public_id}/plan/texts"


# -- who may write ------------------------------------------------------------------------------------------
def test_nobody_but_the_keeper_updates_the_texts(app: Flask, family: Family) -> None:
    before = _state(app, family)
    with app.app_context():
        plan = _plan(family)
        for username in ("lars", "karin", "erik"):
            with pytest.raises(OperationError) as refused:
                update_plan_texts(_actor_of(username), plan, plan.version, _data())
            assert refused.value.field == "form"
        database.session.rollback()
    assert _state(app, family) == before


def test_the_route_answers_404_to_anyone_but_the_keeper_and_audits_the_refusal(
    app: Flask, client: FlaskClient, family: Family
) -> None:
    before = _state(app, family)
    for username in ("karin", "lars", "erik"):
        login(client, username)
        assert _post(client, _url(family), _form(app, 1), "texts-").status_code == 404, username
        logout(client)
    assert _state(app, family) == before
    with app.app_context():
        denied = database.session.scalar(
            select(func.count(AuditEvent.id)).where(
                AuditEvent.action == "update_plan_texts", AuditEvent.outcome == "denied"
            )
        )
    assert denied and denied >= 3


def test_a_closed_plan_keeps_its_texts(app: Flask, family: Family) -> None:
    with app.app_context():
        plan = _plan(family)
        close_plan(_actor_of("maria"), plan, "goals_met", None)
        with pytest.raises(OperationError):
            update_plan_texts(_actor_of("maria"), plan, plan.version, _data())


# -- bad input ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"next_review_on": "past"}, "next_review_on"),
        ({"why": "  "}, "why"),
        ({"child_views": "x" * (PLAN_TEXT_MAX + 1)}, "child_views"),
        ({"disagreements": "x" * (PLAN_TEXT_MAX + 1)}, "disagreements"),
    ],
)
def test_bad_input_is_refused_at_its_field_and_nothing_is_written(
    app: Flask, family: Family, changes: dict[str, Any], field: str
) -> None:
    before = _state(app, family)
    with app.app_context():
        if changes.get("next_review_on") == "past":
            changes = {"next_review_on": today() - timedelta(days=1)}
        plan = _plan(family)
        with pytest.raises(OperationError) as refused:
            update_plan_texts(_actor_of("maria"), plan, plan.version, _data(**changes))
        assert refused.value.field == field
        database.session.rollback()
    assert _state(app, family) == before


def test_a_stale_or_missing_version_is_refused(app: Flask, family: Family) -> None:
    before = _state(app, family)
    with app.app_context():
        plan = _plan(family)
        for version in (None, plan.version + 1, plan.version - 1):
            with pytest.raises(StalePlan):
                update_plan_texts(_actor_of("maria"), plan, version, _data())
        database.session.rollback()
    assert _state(app, family) == before


def test_the_route_refuses_bad_input_with_422_at_the_field_and_keeps_the_input(
    app: Flask, client: FlaskClient, family: Family
) -> None:
    before = _state(app, family)
    login(client, "maria")
    with app.app_context():
        past = (today() - timedelta(days=3)).isoformat()
    answer = _post(client, _url(family), _form(app, 1, next_review_on=past, child_views="Kept words"), "texts-")
    assert answer.status_code == 422
    html = answer.get_data(as_text=True)
    assert 'data-field-error="texts-next_review_on"' in html and "cannot be in the past" in html
    assert "Kept words" in html
    answer = _post(client, _url(family), _form(app, 1, why="", child_views="Still kept"), "texts-")
    assert answer.status_code == 422
    html = answer.get_data(as_text=True)
    assert 'data-field-error="texts-why"' in html and "Still kept" in html
    # a version that is no number (a superscript two is a digit to str.isdigit, not to int) is no version
    answer = _post(client, _url(family), {**_form(app, 1, child_views="Kept again"), "version": "²"}, "texts-")
    assert answer.status_code in (409, 422), answer.status_code
    assert "Kept again" in answer.get_data(as_text=True)
    assert _state(app, family) == before


def test_a_stale_form_gets_409_with_the_current_texts_and_the_keepers_text_kept(
    app: Flask, client: FlaskClient, family: Family
) -> None:
    with app.app_context():
        plan = _plan(family)
        update_plan_texts(_actor_of("maria"), plan, plan.version, _data(child_views="Saved by someone else"))
        database.session.commit()
    before = _state(app, family)
    login(client, "maria")
    answer = _post(client, _url(family), _form(app, 1, child_views="My unsaved words"), "texts-")
    assert answer.status_code == 409
    html = answer.get_data(as_text=True)
    assert "Saved by someone else" in html, "the current texts are shown"
    assert "My unsaved words" in html, "the keeper's text is kept"
    assert 'name="texts-version" type="hidden" value="2"' in html or 'value="2"' in html
    assert _state(app, family) == before
    # sent again from the 409 page (at the current version), it is saved on purpose
    assert _post(client, _url(family), _form(app, 2, child_views="My unsaved words"), "texts-").status_code == 302
    assert _state(app, family)[1] == "My unsaved words"


# -- what a save does ---------------------------------------------------------------------------------------
def test_the_keeper_saves_the_texts_audited_and_in_the_chronology(
    app: Flask, client: FlaskClient, family: Family
) -> None:
    login(client, "maria")
    page = client.get(f"/children/{family.public_id}/plan").get_data(as_text=True)
    assert 'data-form="plan-texts"' in page and "Views, disagreements and next review" in page
    answer = _post(client, _url(family), _form(app, 1, disagreements="The guardians want fewer meetings."), "texts-")
    assert answer.status_code == 302
    with app.app_context():
        plan = _plan(family)
        assert (plan.child_views, plan.disagreements, plan.version) == (
            "Stories are fun.",
            "The guardians want fewer meetings.",
            2,
        )
        assert plan.next_review_on == today() + timedelta(days=30)
        audit = database.session.scalar(
            select(AuditEvent).where(
                AuditEvent.action == "update_plan_texts",
                AuditEvent.outcome == "allowed",
                AuditEvent.child_id == family.child_id,
            )
        )
        assert audit is not None and audit.legal_basis == "relation_child_contact"
        entry = database.session.scalar(
            select(ChronologyEntry).where(
                ChronologyEntry.child_id == family.child_id, ChronologyEntry.kind == "plan_texts_changed"
            )
        )
        assert entry is not None and entry.audience == "coordination" and entry.summary is None
    shown = client.get(f"/children/{family.public_id}/plan").get_data(as_text=True)
    assert "The guardians want fewer meetings." in shown


def test_two_saves_of_the_same_version_cannot_both_win(app: Flask, family: Family) -> None:
    """The version check is one conditional UPDATE: a save that read version 1 loses when the row moved
    on underneath it, even though the plan in memory still says 1."""
    with app.app_context():
        plan = _plan(family)
        assert plan.version == 1
        database.session.execute(
            update(Plan).where(Plan.id == plan.id).values(version=2).execution_options(synchronize_session=False)
        )
        assert plan.version == 1
        with pytest.raises(StalePlan):
            update_plan_texts(_actor_of("maria"), plan, 1, _data(child_views="Second"))
