"""Withheld from guardians (RULES.md §6): staff of the owning agency mark a need, an action, their
agency's team membership or their agency's professional rating as withheld from guardians, with a reason.
Negatives first: another agency's staff cannot (refused in the operation; 404 at the route, audited,
nothing written), a rating without an agency cannot be withheld this way, the reason is required (422,
the input kept). Then: what is withheld never reaches a guardian through ``PlanView.for_family`` or
``ReviewView.for_family``, while the young person sees it; the owning agency's staff see the reason."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from childplan.access import PlanView
from childplan.models import Action, Need, Plan, Rating, Review
from childplan.operations import NeedData, add_action, add_need, mark_withheld_from_guardians
from childplan.operations.reviews import RatingData, ReviewData, add_agency_ratings, record_review
from childplan.review_view import ReviewView
from coordination.chronology.models import ChronologyEntry
from coordination.clock import today
from coordination.database import db as database
from coordination.errors import OperationError
from coordination.models import AuditEvent
from coordination.teams.models import TeamMember
from tests.childplan.test_plan_operations import _actor_of, _add_to_team, _bup_action, _school_action, _started
from tests.childplan.test_plan_page import _post, login
from tests.helpers import logout
from tests.teams.support import BUP, Family, make_family

REASON = "Noah asked that his parents do not see this; heard by karin"


@pytest.fixture()
def family(app: Flask, db: Any) -> Family:
    """maria (school) keeps the plan; karin (BUP) on the team; a BUP action, a school need and action; a
    review with the school's and BUP's professional ratings and the child's own."""
    made = make_family(app)
    with app.app_context():
        _add_to_team(made, "Karin", BUP)
        plan = _started(made)
        maria = _actor_of("maria")
        add_need(maria, plan, NeedData("Reading", ["achieving"]))
        add_action(maria, plan, _school_action())
        add_action(maria, plan, _bup_action())
        review = record_review(
            maria,
            plan,
            ReviewData(
                today(),
                "Met at school",
                [RatingData("achieving", "professionals", 2), RatingData("healthy", "child", 3)],
            ),
        )
        add_agency_ratings(_actor_of("karin"), plan, review, [RatingData("healthy", "professionals", 2, "Low mood")])
        database.session.commit()
    return made


def _plan(family: Family) -> Plan:
    found = database.session.scalar(select(Plan).where(Plan.child_id == family.child_id))
    assert found is not None
    return found


def _items(family: Family) -> dict[str, Any]:
    plan = _plan(family)
    review = database.session.scalar(select(Review).where(Review.plan_id == plan.id))
    assert review is not None
    ratings = {(r.area, r.voice): r for r in review.ratings}
    return {
        "plan": plan,
        "review": review,
        "bup_action": next(a for a in plan.actions if a.what.startswith("An assessment")),
        "school_action": next(a for a in plan.actions if a.what.startswith("Reading support")),
        "need": plan.needs[0],
        "karin": database.session.scalar(
            select(TeamMember).where(TeamMember.child_id == family.child_id, TeamMember.ended_at.is_(None))
        ),
        "bup_rating": ratings[("healthy", "professionals")],
        "school_rating": ratings[("achieving", "professionals")],
        "child_rating": ratings[("healthy", "child")],
    }


def _withheld(app: Flask, family: Family) -> tuple[int, ...]:
    """How many items of each kind are withheld, the write audits and the chronology entries."""
    with app.app_context():
        session = database.session

        def count(model: Any, *conditions: Any) -> int:
            return session.scalar(select(func.count()).select_from(model).where(*conditions)) or 0

        review_ids = select(Review.id).where(Review.child_id == family.child_id)
        return (
            count(Need, Need.child_id == family.child_id, Need.is_withheld_from_guardians.is_(True)),
            count(Action, Action.child_id == family.child_id, Action.is_withheld_from_guardians.is_(True)),
            count(TeamMember, TeamMember.child_id == family.child_id, TeamMember.is_withheld_from_guardians.is_(True)),
            count(Rating, Rating.review_id.in_(review_ids), Rating.is_withheld_from_guardians.is_(True)),
            count(
                AuditEvent,
                AuditEvent.child_id == family.child_id,
                AuditEvent.action == "withhold_plan_item",
                AuditEvent.outcome == "allowed",
            ),
            count(
                ChronologyEntry,
                ChronologyEntry.child_id == family.child_id,
                ChronologyEntry.kind == "withheld_from_guardians",
            ),
        )


# -- who may withhold ----------------------------------------------------------------------------------------
def test_staff_of_another_agency_cannot_withhold_and_nothing_is_written(app: Flask, family: Family) -> None:
    before = _withheld(app, family)
    with app.app_context():
        items = _items(family)
        refusals = [
            ("maria", items["bup_action"]),  # the keeper too: it is BUP's record
            ("lars", items["bup_action"]),
            ("maria", items["karin"]),
            ("maria", items["bup_rating"]),
            ("karin", items["need"]),
            ("karin", items["school_action"]),
            ("karin", items["school_rating"]),
            ("erik", items["bup_action"]),
        ]
        for username, item in refusals:
            with pytest.raises(OperationError) as refused:
                mark_withheld_from_guardians(_actor_of(username), item, REASON)
            assert refused.value.field == "form", (username, item)
        database.session.rollback()
    assert _withheld(app, family) == before


def test_a_rating_without_an_agency_cannot_be_withheld_this_way(app: Flask, family: Family) -> None:
    before = _withheld(app, family)
    with app.app_context():
        child_rating = _items(family)["child_rating"]
        for username in ("maria", "karin"):
            with pytest.raises(OperationError):
                mark_withheld_from_guardians(_actor_of(username), child_rating, REASON)
        database.session.rollback()
    assert _withheld(app, family) == before


def test_the_reason_is_required_and_not_too_long(app: Flask, family: Family) -> None:
    before = _withheld(app, family)
    with app.app_context():
        items = _items(family)
        for item in (items["karin"], items["bup_rating"], items["bup_action"]):
            for reason in (None, "   ", "x" * 1001):
                with pytest.raises(OperationError) as refused:
                    mark_withheld_from_guardians(_actor_of("karin"), item, reason)
                assert refused.value.field == "reason"
        database.session.rollback()
    assert _withheld(app, family) == before


def test_a_withheld_items_recorded_reason_is_not_rewritten(app: Flask, family: Family) -> None:
    with app.app_context():
        action = _items(family)["bup_action"]
        mark_withheld_from_guardians(_actor_of("karin"), action, REASON)
        database.session.commit()
        with pytest.raises(OperationError) as refused:
            mark_withheld_from_guardians(_actor_of("karin"), _items(family)["bup_action"], "Another reason")
        assert refused.value.field == "reason"
        database.session.rollback()
        assert _items(family)["bup_action"].withheld_reason == REASON


# -- the routes ------------------------------------------------------------------------------------------------
def _urls(app: Flask, family: Family) -> dict[str, tuple[str, str]]:
    """The withhold route of each item, and the prefix of its form."""
    with app.app_context():
        items = _items(family)
        base = f"/children/{family.public_id}"
        review = items["review"].public_id
        return {
            "bup_action": (
                f"{base}/plan/actions/{items['bup_action'].public_id}/withhold",
                f"withhold-{items['bup_action'].public_id}-",
            ),
            "school_action": (
                f"{base}/plan/actions/{items['school_action'].public_id}/withhold",
                f"withhold-{items['school_action'].public_id}-",
            ),
            "need": (f"{base}/plan/needs/{items['need'].public_id}/withhold", f"withhold-{items['need'].public_id}-"),
            "karin": (
                f"{base}/team/members/{items['karin'].public_id}/withhold",
                f"withhold-{items['karin'].public_id}-",
            ),
            "bup_rating": (f"{base}/plan/reviews/{review}/ratings/healthy/withhold", "withhold-healthy-"),
            "school_rating": (f"{base}/plan/reviews/{review}/ratings/achieving/withhold", "withhold-achieving-"),
        }


def _denials(app: Flask) -> int:
    with app.app_context():
        return (
            database.session.scalar(
                select(func.count(AuditEvent.id)).where(
                    AuditEvent.outcome == "denied", AuditEvent.action.like("withhold_%")
                )
            )
            or 0
        )


def test_another_agencys_item_is_404_at_the_route_audited_and_nothing_is_written(
    app: Flask, client: FlaskClient, family: Family
) -> None:
    urls = _urls(app, family)
    before = _withheld(app, family)
    cases = [
        ("maria", "bup_action"),
        ("maria", "karin"),
        ("maria", "bup_rating"),
        ("karin", "need"),
        ("karin", "school_action"),
        ("karin", "school_rating"),
        ("lars", "bup_action"),
    ]
    for username, key in cases:
        login(client, username)
        url, prefix = urls[key]
        denied = _denials(app)
        assert _post(client, url, {"reason": REASON}, prefix).status_code == 404, (username, key)
        assert _denials(app) > denied, (username, key)
        logout(client)
    # the police have no relation at all
    login(client, "erik")
    url, prefix = urls["bup_action"]
    assert _post(client, url, {"reason": REASON}, prefix).status_code == 404
    assert _withheld(app, family) == before


def test_the_reason_is_required_at_the_route_422_with_the_input_kept(
    app: Flask, client: FlaskClient, family: Family
) -> None:
    urls = _urls(app, family)
    before = _withheld(app, family)
    login(client, "karin")
    for key in ("bup_action", "karin", "bup_rating"):
        url, prefix = urls[key]
        answer = _post(client, url, {"reason": "  "}, prefix)
        assert answer.status_code == 422, key
        html = answer.get_data(as_text=True)
        assert f'data-field-error="{prefix}reason"' in html, key
        assert "Guardians will not see this in any channel" in html
        too_long = _post(client, url, {"reason": "Kept text " + "x" * 1000}, prefix)
        assert too_long.status_code == 422, key
        assert "Kept text " in too_long.get_data(as_text=True)
    assert _withheld(app, family) == before


def test_the_owning_agency_withholds_through_the_pages_and_sees_the_reason(
    app: Flask, client: FlaskClient, family: Family
) -> None:
    urls = _urls(app, family)
    login(client, "karin")
    plan_page = client.get(f"/children/{family.public_id}/plan").get_data(as_text=True)
    assert plan_page.count('data-form="withhold"') == 1, "only BUP's own action offers the control"
    for key in ("bup_action", "karin", "bup_rating"):
        url, prefix = urls[key]
        assert _post(client, url, {"reason": REASON}, prefix).status_code == 302, key
    assert _withheld(app, family) == (0, 1, 1, 1, 3, 3)
    badge = f"Withheld from guardians: {REASON}"
    assert badge in client.get(f"/children/{family.public_id}/plan").get_data(as_text=True)
    assert badge in client.get(f"/children/{family.public_id}/team").get_data(as_text=True)
    review_page = client.get(urls["bup_rating"][0].rsplit("/ratings/", 1)[0]).get_data(as_text=True)
    assert badge in review_page
    logout(client)
    login(client, "maria")  # another agency: the plain tag at most, never the reason
    page = client.get(f"/children/{family.public_id}/plan").get_data(as_text=True)
    assert REASON not in page
    assert REASON not in client.get(f"/children/{family.public_id}/team").get_data(as_text=True)
    with app.app_context():
        entries = database.session.scalars(
            select(ChronologyEntry).where(
                ChronologyEntry.child_id == family.child_id, ChronologyEntry.kind == "withheld_from_guardians"
            )
        ).all()
        assert {entry.audience for entry in entries} == {"own_agency"}
        assert all(entry.summary is None for entry in entries), "content-free"
    chronology = client.get(f"/children/{family.public_id}/chronology").get_data(as_text=True)
    assert "Withheld from guardians" not in chronology, "another agency is not even told it exists"


# -- families --------------------------------------------------------------------------------------------------
def test_what_is_withheld_never_reaches_a_guardian_but_reaches_the_young_person(app: Flask, family: Family) -> None:
    with app.app_context():
        items = _items(family)
        karin = _actor_of("karin")
        for key in ("bup_action", "karin", "bup_rating"):
            mark_withheld_from_guardians(karin, items[key], REASON)
        database.session.commit()

        plan, child = _plan(family), family.child()
        guardian = PlanView.for_family(plan, child, "guardian", family.guardian_id)
        assert [line.what for line in guardian.actions] == ["Reading support twice a week"]
        assert "BUP" not in " ".join(guardian.agencies), "no agency involved only through withheld items"
        young = PlanView.for_family(plan, child, "young_person")
        bup = [line for line in young.actions if line.what == "An assessment at BUP"]
        assert bup and bup[0].withheld_from_guardians, "the young person sees it, marked"

        review_id = items["review"].public_id
        seen = ReviewView.for_family(plan, child, "guardian", review_id)
        assert seen is not None
        assert [line.area for line in seen.agency_ratings] == ["achieving"], "the school's rating only"
        assert not seen.withheld, "not even a withheld cell: it does not exist for a guardian"
        healthy = next(area for area in seen.trend if area.code == "healthy")
        professionals = [line for line in healthy.lines if line.voice == "professionals"]
        assert all(cell.scale is None for line in professionals for cell in line.cells)
        wheel_healthy = next(segment for segment in seen.wheel.segments if segment.code == "healthy")
        assert not any(band.is_rated for band in wheel_healthy.bands if band.voice == "professionals")

        youth = ReviewView.for_family(plan, child, "young_person", review_id)
        assert youth is not None
        marked = [line for line in youth.agency_ratings if line.area == "healthy"]
        assert marked and marked[0].withheld_from_guardians and marked[0].withheld_reason is None
        assert marked[0].comment == "Low mood"
