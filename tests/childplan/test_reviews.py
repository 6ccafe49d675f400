"""Reviews of the Child's Plan (issue 5): the plan keeper records a review with Needs Compass ratings from
the professionals, the child and the guardians; the review page shows the compass wheel and the trend
across the plan's reviews, each rating as the viewer's agency's consent allows (RULES.md §4).

Negatives first: the police and staff who are not the plan keeper get 404; a viewer whose consent does not
cover an area does not see another agency's rating for it; every bad input is refused (422, the input
kept, nothing written). Then what the keeper records and what the page shows, and its statement count."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from childplan.models import Plan, Rating, Review
from childplan.operations import PlanData, start_plan
from childplan.operations.reviews import RatingData, ReviewData, record_review
from coordination.access import SYSTEM_ACTOR
from coordination.clock import today
from coordination.consent.ledger import ConsentData, GiverData, record_consent
from coordination.database import db as database
from coordination.errors import OperationError
from coordination.models import AuditEvent
from tests.childplan.test_plan_operations import _actor_of, _add_to_team
from tests.helpers import login, post_form
from tests.teams.support import BUP, SCHOOL, Family, agency, make_family, person


def _give_coordination_consent(family: Family, agency_name: str, areas: list[str]) -> None:
    day = today()
    record_consent(
        SYSTEM_ACTOR,
        family.child(),
        agency(agency_name),
        ConsentData(
            purposes=["coordination"],
            areas=areas,
            valid_from=day,
            valid_until=day + timedelta(days=300),
            givers=[GiverData(family.guardian_id, "in_person")],
            consent_text_version=1,
            recorded_by=person("Maria"),
        ),
    )


@pytest.fixture()
def family(app: Flask, db: Any) -> Family:
    """A fresh child with a plan kept by maria (school, the Child Contact); karin (BUP) on its team, BUP's
    coordination consent covering "healthy" only."""
    made = make_family(app, consents=(SCHOOL,))
    with app.app_context():
        _add_to_team(made, "Karin", BUP)
        _give_coordination_consent(made, BUP, ["healthy"])
        start_plan(_actor_of("maria"), made.child(), PlanData("Reading is hard", "Maria, the school"))
        database.session.commit()
    return made


def _in_english(client: FlaskClient) -> None:
    """The messages below are matched in English (the app speaks Swedish by default)."""
    assert post_form(client, "/language", {"language": "en", "next": "/"}).status_code == 302


def _new_url(family: Family) -> str:
    return f"/children/{family.public_id}/plan/reviews/new"


def _show_url(family: Family, review_id: str) -> str:
    return f"/children/{family.public_id}/plan/reviews/{review_id}"


def _record(app: Flask, family: Family, held_on: Any = None, ratings: list[RatingData] | None = None) -> str:
    with app.app_context():
        plan = database.session.scalar(select(Plan).where(Plan.child_id == family.child_id))
        review = record_review(
            _actor_of("maria"),
            plan,
            ReviewData(
                held_on=held_on or today(),
                note="Met at school with the family",
                ratings=ratings
                or [
                    RatingData("achieving", "professionals", 2, "Reading still behind"),
                    RatingData("healthy", "professionals", 4, "Sleeping better"),
                    RatingData("achieving", "child", 3),
                    RatingData("healthy", "guardians", 5),
                ],
            ),
        )
        public_id = review.public_id
        database.session.commit()
        return public_id


def _written(app: Flask, family: Family) -> tuple[int, int, int]:
    with app.app_context():
        session = database.session
        return (
            session.scalar(select(func.count(Review.id)).where(Review.child_id == family.child_id)) or 0,
            session.scalar(select(func.count(Rating.id)).join(Review).where(Review.child_id == family.child_id)) or 0,
            session.scalar(
                select(func.count(AuditEvent.id)).where(
                    AuditEvent.child_id == family.child_id,
                    AuditEvent.action == "record_plan_review",
                    AuditEvent.outcome == "allowed",
                )
            )
            or 0,
        )


def _today(app: Flask):  # type: ignore[no-untyped-def]
    with app.app_context():
        return today()


def _valid_form(app: Flask, **changes: str) -> dict[str, str]:
    data = {
        "held_on": _today(app).isoformat(),
        "note": "Met at school",
        "rating_achieving_professionals": "2",
        "comment_achieving_professionals": "Reading still behind",
        "rating_healthy_child": "4",
    }
    data.update(changes)
    return data


# -- who may see and record ---------------------------------------------------------------------------------
def test_the_police_get_404_on_the_form_the_post_and_the_review(
    app: Flask, client: FlaskClient, family: Family
) -> None:
    review_id = _record(app, family)
    login(client, "erik")
    assert client.get(_new_url(family)).status_code == 404
    assert post_form(client, _new_url(family), _valid_form(app)).status_code == 404
    assert client.get(_show_url(family, review_id)).status_code == 404
    assert _written(app, family) == (1, 4, 1)


@pytest.mark.parametrize("username", ["karin", "lars"])
def test_staff_who_are_not_the_plan_keeper_get_404_on_the_form_and_the_post(
    app: Flask, client: FlaskClient, family: Family, username: str
) -> None:
    login(client, username)
    assert client.get(_new_url(family)).status_code == 404
    assert post_form(client, _new_url(family), _valid_form(app)).status_code == 404
    assert _written(app, family) == (0, 0, 0)
    with app.app_context():
        denied = database.session.scalar(
            select(func.count(AuditEvent.id)).where(
                AuditEvent.child_id == family.child_id,
                AuditEvent.action == "plan_review_new_page",
                AuditEvent.outcome == "denied",
            )
        )
    assert denied == 2


def test_the_operation_refuses_anyone_but_the_keeper(app: Flask, family: Family) -> None:
    with app.app_context():
        plan = database.session.scalar(select(Plan).where(Plan.child_id == family.child_id))
        with pytest.raises(OperationError) as refused:
            record_review(
                _actor_of("karin"), plan, ReviewData(today(), None, [RatingData("healthy", "professionals", 3)])
            )
        assert refused.value.field == "form"
    assert _written(app, family) == (0, 0, 0)


def test_a_review_in_another_childs_plan_is_not_found(app: Flask, client: FlaskClient, family: Family) -> None:
    other = make_family(app)
    with app.app_context():
        start_plan(_actor_of("maria"), other.child(), PlanData("Another plan"))
        database.session.commit()
    review_id = _record(app, family)
    login(client, "maria")
    assert client.get(_show_url(other, review_id)).status_code == 404
    assert client.get(_show_url(family, "nonsense")).status_code == 404


def test_a_viewer_without_consent_for_an_area_does_not_see_another_agencys_rating_for_it(
    app: Flask, client: FlaskClient, family: Family
) -> None:
    review_id = _record(app, family)
    login(client, "karin")  # BUP: consent for "healthy" only
    _in_english(client)
    response = client.get(_show_url(family, review_id))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Reading still behind" not in html
    assert 'data-area="achieving" data-voice="professionals" data-scale="2"' not in html
    wheel = html[html.index("<svg") : html.index("</svg>")]
    assert 'data-voice="professionals" data-scale="2"' not in wheel
    assert 'data-voice="child" data-scale="3"' not in wheel, "the child's rating of achieving is the school's item"
    assert 'data-voice="professionals" data-scale="4"' in wheel
    assert "Sleeping better" in html
    trend = html[html.index('data-table="review-trend"') :]
    row = re.search(r'<tr data-area="achieving" data-voice="professionals">(.*?)</tr>', trend, re.S)
    assert row and "withheld" in row.group(1) and "does not cover this area" in row.group(1)
    assert "Met at school with the family" not in html, "the note is the keeper agency's, covering every area"


# -- bad input ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"rating_achieving_professionals": "0"}, "rating_achieving_professionals"),
        ({"rating_achieving_professionals": "6"}, "rating_achieving_professionals"),
        ({"rating_achieving_professionals": "²"}, "rating_achieving_professionals"),  # a digit int() refuses
        ({"rating_achieving_professionals": "--3"}, "rating_achieving_professionals"),
        ({"held_on": "tomorrow"}, "held_on"),
        (
            {"rating_achieving_professionals": "", "comment_achieving_professionals": "", "rating_healthy_child": ""},
            None,
        ),
        ({"comment_achieving_professionals": "x" * 1001}, "comment_achieving_professionals"),
        (
            {"comment_healthy_child": "<script>alert(1)</script>", "rating_achieving_professionals": "6"},
            "rating_achieving_professionals",
        ),
    ],
    ids=[
        "rating_0",
        "rating_6",
        "rating_superscript_two",
        "rating_double_minus",
        "future_date",
        "no_rating",
        "comment_too_long",
        "script_in_comment",
    ],
)
def test_bad_input_is_refused_with_the_input_kept_and_nothing_written(
    app: Flask, client: FlaskClient, family: Family, changes: dict[str, str], field: str | None
) -> None:
    login(client, "maria")
    _in_english(client)
    if changes.get("held_on") == "tomorrow":
        changes = {"held_on": (_today(app) + timedelta(days=1)).isoformat()}
    data = _valid_form(app, **changes)
    response = post_form(client, _new_url(family), data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'class="ds-error-summary"' in html
    if field is None:
        assert "Rate at least one area" in html  # at the top: no single field holds it
    else:
        assert f'id="{field}-error"' in html
    assert _written(app, family) == (0, 0, 0)
    # every choice is kept
    assert f'value="{data["held_on"]}"' in html
    assert "Met at school" in html
    for name, value in data.items():
        if name.startswith("rating_") and value in {"1", "2", "3", "4", "5"}:  # 0 and 6 are no option to keep
            select = re.search(rf'<select[^>]*name="{name}".*?</select>', html, re.S)
            assert select and re.search(rf'<option selected value="{value}">', select.group(0)), name
    if "comment_achieving_professionals" in changes and changes["comment_achieving_professionals"]:
        assert changes["comment_achieving_professionals"] in html
    if "comment_healthy_child" in changes:
        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_an_unknown_area_or_voice_is_refused(app: Flask, family: Family) -> None:
    with app.app_context():
        plan = database.session.scalar(select(Plan).where(Plan.child_id == family.child_id))
        for rating in (RatingData("happy", "professionals", 3), RatingData("healthy", "teachers", 3)):
            with pytest.raises(OperationError) as refused:
                record_review(_actor_of("maria"), plan, ReviewData(today(), None, [rating]))
            assert refused.value.field == "ratings"
    assert _written(app, family) == (0, 0, 0)


# -- recording and showing ----------------------------------------------------------------------------------
def test_the_keeper_records_a_review_and_the_page_shows_the_wheel_and_the_table(
    app: Flask, client: FlaskClient, family: Family
) -> None:
    login(client, "maria")
    form = client.get(_new_url(family))
    assert form.status_code == 200
    assert 'name="rating_safe_guardians"' in form.get_data(as_text=True)
    data = _valid_form(app, comment_healthy_child="<script>alert(1)</script>")
    response = post_form(client, _new_url(family), data)
    assert response.status_code == 302
    assert _written(app, family) == (1, 2, 1)
    with app.app_context():
        review = database.session.scalar(select(Review).where(Review.child_id == family.child_id))
        assert review is not None
        ratings = {(r.area, r.voice): r for r in review.ratings}
        school, maria = agency(SCHOOL).id, person("Maria").id
        assert (ratings["achieving", "professionals"].agency_id, ratings["achieving", "professionals"].rated_by_id) == (
            school,
            maria,
        )
        assert ratings["healthy", "child"].agency_id is None
        assert response.headers["Location"].endswith(_show_url(family, review.public_id))
        from coordination.chronology.models import ChronologyEntry

        entry = database.session.scalar(
            select(ChronologyEntry).where(
                ChronologyEntry.kind == "plan_reviewed", ChronologyEntry.object_public_id == review.public_id
            )
        )
        assert entry is not None and entry.area_codes == {area for area, _voice in ratings}
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<svg class="bk-wheel__svg"' in html and 'role="img"' in html
    assert 'data-voice="professionals" data-scale="2"' in html
    assert 'data-table="review-trend"' in html
    assert "Reading still behind" in html
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_two_reviews_show_both_dates_in_the_trend(app: Flask, client: FlaskClient, family: Family) -> None:
    day = _today(app)
    earlier = day - timedelta(days=60)
    _record(app, family, held_on=earlier)
    latest = _record(app, family, ratings=[RatingData("achieving", "professionals", 4)])
    login(client, "maria")
    html = client.get(_show_url(family, latest)).get_data(as_text=True)
    assert f'data-review-date="{earlier.isoformat()}"' in html
    assert f'data-review-date="{day.isoformat()}"' in html
    row = re.search(r'<tr data-area="achieving" data-voice="professionals">(.*?)</tr>', html, re.S)
    assert row and "2 – " in row.group(1) and "4 – " in row.group(1)


def _statements(app: Flask, client: FlaskClient, count_queries: Any, url: str) -> int:
    with count_queries() as counter:
        response = client.get(url)
    assert response.status_code == 200
    return len(counter.statements)


def test_the_review_page_runs_a_fixed_number_of_statements(
    app: Flask, client: FlaskClient, family: Family, count_queries: Any
) -> None:
    login(client, "karin")
    latest, day = "", _today(app)
    for days in range(10):
        latest = _record(app, family, held_on=day - timedelta(days=10 - days))
        if days == 1:
            two = _statements(app, client, count_queries, _show_url(family, latest))
    ten = _statements(app, client, count_queries, _show_url(family, latest))
    assert two == ten
    assert ten == REVIEW_PAGE_STATEMENTS


# the child, relations, consent, the plan, reviews + ratings, the names of the agencies whose ratings are
# shown, whether the viewer's agency is on the team (the "Add your agency's ratings" form), the keeper, audit
REVIEW_PAGE_STATEMENTS = 17  # with the settings' overrides (1: coordination.settings, once per request)


def test_the_plan_tab_lists_the_reviews_and_offers_the_keeper_a_new_one(
    app: Flask, client: FlaskClient, family: Family
) -> None:
    review_id = _record(app, family)
    login(client, "maria")  # the keeper
    html = client.get(f"/children/{family.public_id}/plan").get_data(as_text=True)
    assert _show_url(family, review_id) in html and _new_url(family) in html


def test_an_agency_without_consent_gets_404_on_a_review_by_its_address(
    app: Flask, client: FlaskClient, db: Any
) -> None:
    """lars reaches Leo, whose school consent was withdrawn; had Leo's plan a review, its address must not
    show him the review (the Plan tab does not list it). Omar's review, under the school's consent, he sees."""
    from coordination.children.models import Child

    with app.app_context():
        leo = database.session.scalar(select(Child).where(Child.given_name == "Leo"))
        assert leo is not None
        plan = database.session.scalar(select(Plan).where(Plan.child_id == leo.id))
        assert plan is not None
        review = record_review(
            _actor_of("johan"), plan, ReviewData(_today(app), None, [RatingData("nurtured", "professionals", 3)])
        )
        database.session.commit()
        leo_review = f"/children/{leo.public_id}/plan/reviews/{review.public_id}"
        omar = database.session.scalar(select(Child).where(Child.given_name == "Omar"))
        assert omar is not None
        omars = database.session.scalar(
            select(Review.public_id).join(Plan, Plan.id == Review.plan_id).where(Plan.child_id == omar.id).limit(1)
        )
    login(client, "lars")
    assert client.get(leo_review).status_code == 404
    assert client.get(f"/children/{omar.public_id}/plan/reviews/{omars}").status_code == 200
