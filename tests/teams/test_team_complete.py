"""The plan and the team, complete (issue 16): a meeting's typed texts keep their line breaks (escaped);
a decision adopted as an action is shown as adopted, with a link to the action only for a viewer who may
see it. Negatives first."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from childplan.models import Action
from childplan.operations import PlanData, adopt_decision, start_plan
from coordination.database import db as database
from coordination.teams.models import MeetingDecision
from tests.childplan.test_plan_operations import _actor_of, _add_to_team
from tests.teams.support import (
    BUP,
    CLASS_4_6,
    SCHOOL,
    add_member,
    counts,
    field_error,
    give_consent,
    insert_meetings,
    local,
    make_family,
    post,
    proposed_meeting,
)
from tests.teams.test_meetings import _now

SCRIPT = "<script>alert(1)</script>"
CSS = Path(__file__).resolve().parents[2] / "static" / "css" / "barnkompass.css"


def _decision_html(html: str, decision_id: str) -> str:
    match = re.search(rf'<li data-decision="{decision_id}">(.*?)</li>', html, re.S)
    assert match is not None
    return match.group(1)


# -- line breaks -------------------------------------------------------------------------------------------
def test_an_agenda_keeps_its_line_breaks_and_stays_escaped(app: Flask, db: Any, as_user) -> None:  # type: ignore[no-untyped-def]
    family = make_family(app)
    maria = as_user("maria")
    agenda = f"First: reading\r\n{SCRIPT}\r\nThen: the summer"
    start = _now(app) + timedelta(days=3)
    response = post(
        maria,
        f"/children/{family.public_id}/meetings/new",
        {
            "starts_at": local(start),
            "ends_at": local(start + timedelta(hours=1)),
            "place": "Room 12",
            "areas": ["safe"],
            "agenda": agenda,
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    html = maria.get(response.headers["Location"]).get_data(as_text=True)
    assert SCRIPT not in html
    match = re.search(r'<dd class="bk-text-lines" data-text="agenda">(.*?)</dd>', html, re.S)
    assert match is not None
    assert match.group(1) == "First: reading\r\n&lt;script&gt;alert(1)&lt;/script&gt;\r\nThen: the summer"
    assert re.search(r"\.bk-text-lines\s*\{\s*white-space:\s*pre-line;", CSS.read_text())


# -- adopted decisions -------------------------------------------------------------------------------------
def _adopted(app: Flask, family: Any, decisions: int = 1) -> tuple[str, list[str], list[str]]:
    """A held meeting with ``decisions`` decisions (owned by the school), each adopted by maria's plan."""
    (meeting_id,) = insert_meetings(app, family, 1, decisions=decisions, held=True)
    with app.app_context():
        actor = _actor_of("maria")
        plan = start_plan(actor, family.child(), PlanData("Reading is hard", "Maria, the school"))
        found = database.session.scalars(
            select(MeetingDecision).where(MeetingDecision.child_id == family.child_id).order_by(MeetingDecision.id)
        ).all()
        actions = [adopt_decision(actor, plan, decision).public_id for decision in found]
        database.session.commit()
        return meeting_id, [d.public_id for d in found], actions


def test_an_adopted_decision_is_not_a_draft_and_a_viewer_without_consent_for_the_plan_gets_no_link(
    app: Flask, db: Any, as_user
) -> None:  # type: ignore[no-untyped-def]
    family = make_family(app, consents=(SCHOOL,))
    with app.app_context():
        give_consent(family, BUP, ("team_meetings",))  # BUP sees the meeting, not the plan's actions
        _add_to_team(family, "Karin", BUP)
        database.session.commit()
    meeting_id, (decision_id,), (action_id,) = _adopted(app, family)
    html = as_user("karin").get(f"/children/{family.public_id}/meetings/{meeting_id}").get_data(as_text=True)
    line = _decision_html(html, decision_id)
    assert "data-adopted" in line
    assert "data-draft" not in line and "Draft action" not in line
    assert "data-action-link" not in line and action_id not in html


def test_a_decision_not_adopted_stays_a_draft(app: Flask, db: Any, as_user) -> None:  # type: ignore[no-untyped-def]
    family = make_family(app)
    (meeting_id,) = insert_meetings(app, family, 1, decisions=1, held=True)
    html = as_user("maria").get(f"/children/{family.public_id}/meetings/{meeting_id}").get_data(as_text=True)
    assert "data-draft" in html and "Draft action for the Child's Plan" in html
    assert "data-adopted" not in html and "data-action-link" not in html


def test_an_adopted_decision_links_to_its_action_on_the_plan_tab(app: Flask, db: Any, as_user) -> None:  # type: ignore[no-untyped-def]
    family = make_family(app)
    meeting_id, (decision_id,), (action_id,) = _adopted(app, family)
    maria = as_user("maria")
    html = maria.get(f"/children/{family.public_id}/meetings/{meeting_id}").get_data(as_text=True)
    line = _decision_html(html, decision_id)
    assert "data-adopted" in line and "Adopted as an action in the Child's Plan" in line
    assert "data-draft" not in line
    link = f'href="/children/{family.public_id}/plan#action-{action_id}"'
    assert link in line
    plan = maria.get(f"/children/{family.public_id}/plan").get_data(as_text=True)
    assert f'id="action-{action_id}"' in plan
    with app.app_context():
        assert database.session.scalar(select(Action.decision_id).where(Action.public_id == action_id))


def test_the_meeting_page_reads_the_adopted_actions_in_one_statement_for_1_and_for_10(
    app: Flask, db: Any, as_user, count_queries
) -> None:  # type: ignore[no-untyped-def]
    maria = as_user("maria")

    def counted(url: str) -> int:
        maria.get(url)  # warm the session's housekeeping
        with count_queries() as counter:
            assert maria.get(url).status_code == 200
        return counter.count

    family = make_family(app)
    (drafts_only,) = insert_meetings(app, family, 1, decisions=3, held=True)
    baseline = counted(f"/children/{family.public_id}/meetings/{drafts_only}")  # no decision adopted: no extra
    found = []
    for number in (1, 10):
        family = make_family(app)
        meeting_id, _decisions, _actions = _adopted(app, family, number)
        found.append(counted(f"/children/{family.public_id}/meetings/{meeting_id}"))
    assert found == [baseline + 1, baseline + 1]


# -- the decision block's owner: only the chosen agency's units and people --------------------------------
@pytest.fixture()
def awaiting_outcome(app: Flask, db: Any, as_user, clock):  # type: ignore[no-untyped-def]
    """A meeting of a fresh child (karin of BUP on the team) whose start has passed: its outcome is due."""
    family = make_family(app)
    maria = as_user("maria")
    assert add_member(maria, family, "Karin", BUP).status_code == 302
    meeting_id = proposed_meeting(maria, family, _now(app) + timedelta(days=2))
    clock.advance(timedelta(days=2, hours=2))
    return family, meeting_id


def _options(html: str, name: str) -> list[str]:
    match = re.search(rf'<select[^>]*name="{re.escape(name)}"[^>]*>(.*?)</select>', html, re.S)
    assert match is not None, name
    return re.findall(r'<option[^>]*value="([^"]*)"', match.group(1))


def _public_ids(app: Flask) -> dict[str, str]:
    from agencies.models import Agency, StaffPerson, Unit

    with app.app_context():
        school = database.session.scalar(select(Agency).where(Agency.name == SCHOOL))
        bup = database.session.scalar(select(Agency).where(Agency.name == BUP))
        assert school is not None and bup is not None
        return {
            "school": school.public_id,
            "class": database.session.scalar(select(Unit.public_id).where(Unit.name == CLASS_4_6)) or "",
            "bup_unit": database.session.scalar(select(Unit.public_id).where(Unit.agency_id == bup.id)) or "",
            "karin": database.session.scalar(select(StaffPerson.public_id).where(StaffPerson.given_name == "Karin"))
            or "",
        }


def test_before_an_agency_is_chosen_a_decision_block_offers_no_unit_and_no_person(
    app: Flask, db: Any, as_user, awaiting_outcome
) -> None:  # type: ignore[no-untyped-def]
    family, meeting_id = awaiting_outcome
    html = as_user("maria").get(f"/children/{family.public_id}/meetings/{meeting_id}").get_data(as_text=True)
    assert _options(html, "decisions-0-owner_unit") == [""]
    assert _options(html, "decisions-0-owner_person") == [""]
    url = f"/children/{family.public_id}/meetings/{meeting_id}/outcome"
    assert f'hx-post="{url}"' in html and 'hx-select="[data-decision-block=&#34;0&#34;]"' in html
    assert 'name="refresh" value="0"' in html  # without JavaScript: the button


def test_showing_the_agencys_units_writes_nothing_keeps_the_input_and_offers_only_that_agency(
    app: Flask, db: Any, as_user, awaiting_outcome
) -> None:  # type: ignore[no-untyped-def]
    family, meeting_id = awaiting_outcome
    maria = as_user("maria")
    ids = _public_ids(app)
    before = counts(app, family.child_id)
    data = {
        "version": "1",
        "notes": f"Kept notes {SCRIPT}",
        "decisions-0-text": "Kept decision",
        "decisions-0-owner_agency": ids["school"],
        "refresh": "0",
    }
    response = post(maria, f"/children/{family.public_id}/meetings/{meeting_id}/outcome", data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert counts(app, family.child_id) == before
    assert "Kept notes &lt;script&gt;" in html and "Kept decision" in html and SCRIPT not in html
    units = _options(html, "decisions-0-owner_unit")
    assert ids["class"] in units and ids["bup_unit"] not in units
    assert ids["karin"] not in _options(html, "decisions-0-owner_person")
    assert _options(html, "decisions-1-owner_unit") == [""], "another block, no agency chosen"


def test_a_unit_of_another_agency_is_still_refused_by_the_server(
    app: Flask, db: Any, as_user, awaiting_outcome
) -> None:  # type: ignore[no-untyped-def]
    family, meeting_id = awaiting_outcome
    maria = as_user("maria")
    ids = _public_ids(app)
    before = counts(app, family.child_id)
    data = {
        "version": "1",
        "decisions-0-text": "Kept decision",
        "decisions-0-areas": ["achieving"],
        "decisions-0-owner_agency": ids["school"],
        "decisions-0-owner_unit": ids["bup_unit"],
    }
    response = post(maria, f"/children/{family.public_id}/meetings/{meeting_id}/outcome", data)
    assert response.status_code == 422
    assert (
        field_error(response.get_data(as_text=True), "decisions-0-owner_unit") == "Choose a unit of the owning agency"
    )
    assert counts(app, family.child_id) == before
