"""Another agency's professional ratings at a review (issue 5; the demo's "a review with karin's
ratings"): staff of an agency with a current member on the child's team add their agency's ratings to a
review of the active plan. Negatives first: an agency not on the team cannot (404 at the route, audited,
nothing written), only the professionals' voice, one rating per area and agency, the scale 1–5. Then what
is added, and what the review page shows."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from childplan.models import Plan, Rating, Review
from childplan.operations import close_plan
from childplan.operations.reviews import RatingData, ReviewData, add_agency_ratings, rating_field, record_review
from coordination.chronology.models import ChronologyEntry
from coordination.clock import today
from coordination.database import db as database
from coordination.errors import OperationError
from coordination.models import AuditEvent
from tests.childplan.test_plan_operations import _actor_of, _add_to_team, _started
from tests.childplan.test_plan_page import _post, login
from tests.helpers import logout
from tests.teams.support import BUP, SCHOOL, Family, agency, make_family, person


@pytest.fixture()
def family(app: Flask, db: Any) -> Family:
    """maria (school) keeps the plan and recorded a review; karin (BUP) is on the team."""
    made = make_family(app)
    with app.app_context():
        _add_to_team(made, "Karin", BUP)
        plan = _started(made)
        record_review(
            _actor_of("maria"),
            plan,
            ReviewData(today(), "Met at school", [RatingData("achieving", "professionals", 2)]),
        )
        database.session.commit()
    return made


def _plan_and_review(family: Family) -> tuple[Plan, Review]:
    plan = database.session.scalar(select(Plan).where(Plan.child_id == family.child_id))
    assert plan is not None
    review = database.session.scalar(select(Review).where(Review.plan_id == plan.id))
    assert review is not None
    return plan, review


def _written(app: Flask, family: Family) -> tuple[int, int, int]:
    with app.app_context():
        session = database.session
        return (
            session.scalar(select(func.count(Rating.id)).join(Review).where(Review.child_id == family.child_id)) or 0,
            session.scalar(
                select(func.count(AuditEvent.id)).where(
                    AuditEvent.child_id == family.child_id,
                    AuditEvent.action == "add_plan_review_ratings",
                    AuditEvent.outcome == "allowed",
                    AuditEvent.object_type == "plan_review",
                )
            )
            or 0,
            session.scalar(
                select(func.count(ChronologyEntry.id)).where(
                    ChronologyEntry.child_id == family.child_id, ChronologyEntry.kind == "plan_reviewed"
                )
            )
            or 0,
        )


def _refused(app: Flask, family: Family, username: str, ratings: list[RatingData]) -> OperationError:
    before = _written(app, family)
    with app.app_context():
        plan, review = _plan_and_review(family)
        with pytest.raises(OperationError) as refused:
            add_agency_ratings(_actor_of(username), plan, review, ratings)
        database.session.rollback()
    assert _written(app, family) == before
    return refused.value


# -- who may add ----------------------------------------------------------------------------------------------
def test_an_agency_not_on_the_team_cannot_add_ratings(app: Flask, family: Family) -> None:
    for username in ("lars", "maria", "erik"):  # the school has nobody on the team; the police no relation
        refused = _refused(app, family, username, [RatingData("healthy", "professionals", 3)])
        assert refused.field == "form", username


def test_a_closed_plan_and_another_plans_review_are_refused(app: Flask, family: Family) -> None:
    other = make_family(app)
    with app.app_context():
        _add_to_team(other, "Karin", BUP)
        other_plan = _started(other)
        database.session.commit()
        plan, review = _plan_and_review(family)
        with pytest.raises(OperationError):
            add_agency_ratings(_actor_of("karin"), other_plan, review, [RatingData("healthy", "professionals", 3)])
        close_plan(_actor_of("maria"), plan, "goals_met", None)
        with pytest.raises(OperationError):
            add_agency_ratings(_actor_of("karin"), plan, review, [RatingData("healthy", "professionals", 3)])


# -- bad input ------------------------------------------------------------------------------------------------
def test_only_the_professionals_voice_and_the_scale_1_to_5(app: Flask, family: Family) -> None:
    assert _refused(app, family, "karin", [RatingData("healthy", "child", 3)]).field == "ratings"
    assert _refused(app, family, "karin", [RatingData("healthy", "guardians", 3)]).field == "ratings"
    for scale in (0, 6, -1):
        refused = _refused(app, family, "karin", [RatingData("healthy", "professionals", scale)])
        assert refused.field == rating_field("healthy", "professionals")
    assert _refused(app, family, "karin", []).field == "ratings"
    assert _refused(app, family, "karin", [RatingData("nowhere", "professionals", 3)]).field == "ratings"


def test_one_rating_per_area_and_agency(app: Flask, family: Family) -> None:
    with app.app_context():
        plan, review = _plan_and_review(family)
        add_agency_ratings(_actor_of("karin"), plan, review, [RatingData("healthy", "professionals", 2)])
        database.session.commit()
    refused = _refused(
        app,
        family,
        "karin",
        [RatingData("nurtured", "professionals", 3), RatingData("healthy", "professionals", 4)],
    )
    assert refused.field == rating_field("healthy", "professionals")
    assert "already rated" in refused.message
    # BUP may rate the area the school rated: one per area AND agency
    with app.app_context():
        plan, review = _plan_and_review(family)
        add_agency_ratings(_actor_of("karin"), plan, review, [RatingData("achieving", "professionals", 3)])


# -- the routes -----------------------------------------------------------------------------------------------
def _review_url(app: Flask, family: Family) -> str:
    with app.app_context():
        _plan, review = _plan_and_review(family)
        return f"/children/{family.public_id}/plan/reviews/{review.public_id}"


def test_the_route_is_404_for_an_agency_not_on_the_team_and_audited(
    app: Flask, client: FlaskClient, family: Family
) -> None:
    url = _review_url(app, family) + "/ratings"
    before = _written(app, family)
    for username in ("lars", "maria"):
        login(client, username)
        page = client.get(_review_url(app, family)).get_data(as_text=True)
        assert 'data-form="agency-ratings"' not in page, username
        assert _post(client, url, {"rating_healthy_professionals": "3"}).status_code == 404, username
        logout(client)
    assert _written(app, family) == before
    with app.app_context():
        denied = database.session.scalar(
            select(func.count(AuditEvent.id)).where(
                AuditEvent.action == "add_plan_review_ratings", AuditEvent.outcome == "denied"
            )
        )
    assert denied and denied >= 2


def test_a_duplicate_area_at_the_route_is_422_with_the_input_kept(
    app: Flask, client: FlaskClient, family: Family
) -> None:
    url = _review_url(app, family) + "/ratings"
    login(client, "karin")
    first = {"rating_healthy_professionals": "2", "comment_healthy_professionals": "Low mood"}
    assert _post(client, url, first).status_code == 302
    before = _written(app, family)
    again = _post(
        client,
        url,
        {"rating_healthy_professionals": "4", "comment_healthy_professionals": "Kept comment"},
    )
    assert again.status_code == 422
    html = again.get_data(as_text=True)
    assert "already rated this area" in html and "Kept comment" in html
    assert _written(app, family) == before
    bad = _post(client, url, {"rating_safe_professionals": "9", "comment_safe_professionals": "Kept too"})
    assert bad.status_code == 422 and "Kept too" in bad.get_data(as_text=True)
    assert _written(app, family) == before


def test_karin_adds_bups_ratings_audited_and_in_the_chronology(app: Flask, client: FlaskClient, family: Family) -> None:
    login(client, "karin")
    page = client.get(_review_url(app, family)).get_data(as_text=True)
    assert "Add your agency&#39;s ratings" in page or "Add your agency's ratings" in page
    answer = _post(
        client,
        _review_url(app, family) + "/ratings",
        {
            "rating_healthy_professionals": "2",
            "comment_healthy_professionals": "Low mood most days",
            "rating_nurtured_professionals": "3",
        },
    )
    assert answer.status_code == 302
    with app.app_context():
        _plan, review = _plan_and_review(family)
        added = {
            (r.area, r.scale, r.comment, r.agency_id, r.rated_by_id)
            for r in review.ratings
            if r.agency_id == agency(BUP).id
        }
        karin = person("Karin").id
        assert added == {
            ("healthy", 2, "Low mood most days", agency(BUP).id, karin),
            ("nurtured", 3, None, agency(BUP).id, karin),
        }
        audit = database.session.scalar(
            select(AuditEvent).where(
                AuditEvent.action == "add_plan_review_ratings",
                AuditEvent.outcome == "allowed",
                AuditEvent.object_type == "plan_review",
            )
        )
        assert audit is not None and audit.legal_basis == "relation_team"
        entry = database.session.scalar(
            select(ChronologyEntry)
            .where(ChronologyEntry.child_id == family.child_id, ChronologyEntry.kind == "plan_reviewed")
            .order_by(ChronologyEntry.id.desc())
        )
        assert entry is not None and entry.owner_agency_id == agency(BUP).id
        assert entry.area_codes == {"healthy", "nurtured"}
    html = client.get(_review_url(app, family)).get_data(as_text=True)
    assert 'data-table="agency-ratings"' in html and "Low mood most days" in html
    # the rated areas are no longer offered to BUP
    assert 'name="rating_healthy_professionals"' not in html
    assert 'name="rating_safe_professionals"' in html


def test_the_keeper_sees_bups_rating_only_under_consent_covering_its_area(
    app: Flask, client: FlaskClient, db: Any
) -> None:
    """Negatives first: the school without a coordination consent does not see BUP's rating; with one
    (every area) it sees it beside its own, by agency."""
    for consents, shown in (((BUP,), False), ((SCHOOL, BUP), True)):
        made = make_family(app, consents=consents)
        with app.app_context():
            _add_to_team(made, "Karin", BUP)
            plan = _started(made)
            review = record_review(
                _actor_of("maria"), plan, ReviewData(today(), None, [RatingData("achieving", "professionals", 2)])
            )
            add_agency_ratings(
                _actor_of("karin"), plan, review, [RatingData("healthy", "professionals", 2, "Low mood")]
            )
            url = f"/children/{made.public_id}/plan/reviews/{review.public_id}"
            database.session.commit()
        login(client, "maria")
        html = client.get(url).get_data(as_text=True)
        assert ("Low mood" in html) is shown, consents
        logout(client)
