"""The Plan tab (``/children/<child_id>/plan``) and the plan keeper's forms. Negatives first: the police
and unrelated staff get 404 on the page and on every form (nothing written); staff with a relation who
do not keep the plan see it but get 404 on the keeper's forms; an agency without consent sees only its
own part; bad input is refused with 422, the input kept, nothing written; script is escaped. Then the
keeper's path through the pages, and the page's statement count."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from childplan.models import PLAN_TEXT_MAX, Action, ActionArea, Goal, Need, Plan, PlanVersion
from childplan.operations import ActionData, PlanData, add_action, start_plan
from coordination.children.models import Child, RoleAssignment
from coordination.clock import now, today
from coordination.database import db as database
from coordination.models import AuditEvent
from coordination.teams.models import MeetingDecision
from tests.childplan.test_plan_operations import _actor_of, _add_to_team
from tests.helpers import csrf_token
from tests.helpers import login as _login
from tests.teams.support import (
    BUP,
    CLASS_4_6,
    SCHOOL,
    SOCIAL,
    Family,
    agency,
    insert_meetings,
    make_family,
    person,
    unit,
)

PLAN_WRITES = (
    "start_plan",
    "add_plan_need",
    "add_plan_goal",
    "add_plan_action",
    "publish_plan_version",
    "close_plan",
    "adopt_meeting_decision",
)


@pytest.fixture()
def family(app: Flask, db: Any) -> Family:
    """A fresh child: maria (school) its Child Contact and so the plan keeper; karin (BUP) on its team;
    lars (school, Klass 4–6) related through the enrolment."""
    made = make_family(app)
    with app.app_context():
        _add_to_team(made, "Karin", BUP)
        database.session.commit()
    return made


def _start(app: Flask, family: Family) -> str:
    with app.app_context():
        plan = start_plan(_actor_of("maria"), family.child(), PlanData("Reading is hard", "Maria, the school"))
        database.session.commit()
        return plan.public_id


def _need(app: Flask, family: Family) -> str:
    from childplan.operations import NeedData, add_need

    with app.app_context():
        plan = database.session.scalar(select(Plan).where(Plan.child_id == family.child_id))
        need = add_need(_actor_of("maria"), plan, NeedData("Reading", ["achieving"]))
        database.session.commit()
        return need.public_id


def _decision(app: Flask, family: Family) -> str:
    insert_meetings(app, family, 1, decisions=1, held=True)
    with app.app_context():
        found = database.session.scalar(select(MeetingDecision).where(MeetingDecision.child_id == family.child_id))
        assert found is not None
        return found.public_id


def _counts(app: Flask, child_id: int) -> tuple[int, ...]:
    with app.app_context():
        session = database.session

        def count(model: Any, *conditions: Any) -> int:
            return session.scalar(select(func.count()).select_from(model).where(*conditions)) or 0

        return (
            count(Plan, Plan.child_id == child_id),
            count(Plan, Plan.child_id == child_id, Plan.status == "closed"),
            count(Need, Need.child_id == child_id),
            count(Goal, Goal.need_id.in_(select(Need.id).where(Need.child_id == child_id))),
            count(Action, Action.child_id == child_id),
            count(PlanVersion, PlanVersion.plan_id.in_(select(Plan.id).where(Plan.child_id == child_id))),
            count(MeetingDecision, MeetingDecision.child_id == child_id, MeetingDecision.adopted_at.is_not(None)),
            count(
                AuditEvent,
                AuditEvent.child_id == child_id,
                AuditEvent.outcome == "allowed",
                AuditEvent.action.in_(PLAN_WRITES),
                AuditEvent.object_type != "child",  # the writes, not the reads of the child on the way
            ),
        )


def login(client: FlaskClient, username: str) -> None:
    """Log in and read the pages in English (the messages are asserted in English)."""
    _login(client, username)
    assert _post(client, "/language", {"language": "en", "next": "/"}).status_code == 302


def _post(client: FlaskClient, path: str, data: dict[str, Any], prefix: str = ""):  # type: ignore[no-untyped-def]
    payload = {f"{prefix}{key}": value for key, value in data.items()}
    payload[f"{prefix}csrf_token"] = csrf_token(client, "/")
    return client.post(path, data=payload)


def _ids(app: Flask, **names: str) -> dict[str, str]:
    """Public ids of agencies/units/people for the action form."""
    with app.app_context():
        found: dict[str, str] = {}
        for key, value in names.items():
            if key.startswith("agency"):
                found[key] = agency(value).public_id
            elif key.startswith("unit"):
                found[key] = unit(value).public_id
            else:
                found[key] = person(value).public_id
        return found


def _forms(app: Flask, family: Family, need_id: str, decision_id: str) -> list[tuple[str, dict[str, Any], str]]:
    """Every keeper form with valid input: (path, data, prefix)."""
    base = f"/children/{family.public_id}/plan"
    ids = _ids(app, agency=SCHOOL)
    return [
        (base, {"why": "Why"}, ""),
        (f"{base}/needs", {"description": "Sleep", "areas": ["healthy"]}, "need-"),
        (f"{base}/needs/{need_id}/goals", {"outcome": "Reads on her own"}, f"goal-{need_id}-"),
        (f"{base}/actions", {"what": "Reading", "owner_agency": ids["agency"], "areas": ["achieving"]}, "action-"),
        (f"{base}/decisions/{decision_id}/adopt", {}, ""),
        (f"{base}/publish", {}, ""),
        (f"{base}/close", {"reason": "goals_met"}, ""),
    ]


# -- who may not ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("username", ["erik", "olle"])
def test_the_police_and_unrelated_staff_get_404_on_the_page_and_every_form(
    app: Flask, client: FlaskClient, family: Family, username: str
) -> None:
    _start(app, family)
    need_id = _need(app, family)
    decision_id = _decision(app, family)
    before = _counts(app, family.child_id)
    login(client, username)
    assert client.get(f"/children/{family.public_id}/plan").status_code == 404
    for path, data, prefix in _forms(app, family, need_id, decision_id):
        assert _post(client, path, data, prefix).status_code == 404, path
        if path.endswith(("/publish", "/close")):
            assert client.get(path).status_code == 404, path
    assert _counts(app, family.child_id) == before


@pytest.mark.parametrize("username", ["lars", "karin"])
def test_staff_with_a_relation_who_do_not_keep_the_plan_see_it_but_get_404_on_the_keepers_forms(
    app: Flask, client: FlaskClient, family: Family, username: str
) -> None:
    _start(app, family)
    need_id = _need(app, family)
    decision_id = _decision(app, family)
    before = _counts(app, family.child_id)
    login(client, username)
    page = client.get(f"/children/{family.public_id}/plan")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Reading is hard" in html
    assert 'data-form="add-need"' not in html and 'data-form="add-action"' not in html
    for path, data, prefix in _forms(app, family, need_id, decision_id):
        assert _post(client, path, data, prefix).status_code == 404, path
    assert _counts(app, family.child_id) == before
    with app.app_context():
        refused = database.session.scalar(
            select(func.count(AuditEvent.id)).where(
                AuditEvent.child_id == family.child_id,
                AuditEvent.outcome == "denied",
                AuditEvent.action == "add_plan_need",
            )
        )
        assert refused


def test_without_a_plan_others_are_told_the_keeper_starts_it(app: Flask, client: FlaskClient, family: Family) -> None:
    login(client, "lars")
    html = client.get(f"/children/{family.public_id}/plan").get_data(as_text=True)
    assert "There is no plan yet; the plan keeper starts it." in html
    assert 'data-form="start-plan"' not in html


def test_an_agency_without_consent_sees_only_its_own_actions(app: Flask, client: FlaskClient, db: Any) -> None:
    """Leo: the school's consent is withdrawn. The social services keep the plan; lars (school) sees the
    school's own action, not the social services', and no withheld lines."""
    with app.app_context():
        leo = database.session.scalar(select(Child).where(Child.given_name == "Leo"))
        assert leo is not None
        coordinator = database.session.scalar(
            select(RoleAssignment).where(
                RoleAssignment.child_id == leo.id,
                RoleAssignment.role == "support_coordinator",
                RoleAssignment.ended_at.is_(None),
            )
        )
        if coordinator is None:
            johan = _actor_of("johan")
            database.session.add(
                RoleAssignment(
                    child_id=leo.id,
                    role="support_coordinator",
                    staff_person_id=johan.account.staff_person_id,
                    agency_id=agency(SOCIAL).id,
                    started_at=now(),
                )
            )
            database.session.flush()
        plan = database.session.scalar(select(Plan).where(Plan.child_id == leo.id))
        if plan is None:
            plan = start_plan(_actor_of("johan"), leo, PlanData("Leo's plan"))
        school_action = add_action(
            _actor_of("maria"), plan, ActionData("School action for Leo", agency(SCHOOL).id, areas=["achieving"])
        )
        social_action = add_action(
            _actor_of("johan"), plan, ActionData("Social action for Leo", agency(SOCIAL).id, areas=["safe"])
        )
        database.session.commit()
        leo_id, school_id, social_id = leo.public_id, school_action.public_id, social_action.public_id
    login(client, "lars")
    html = client.get(f"/children/{leo_id}/plan").get_data(as_text=True)
    assert social_id not in html and "Social action for Leo" not in html
    assert 'data-withheld="' not in html.split('data-section="keeper"')[0].split('data-section="actions"')[1]
    assert 'data-section="withheld"' not in html
    assert f'data-action="{school_id}"' in html and "School action for Leo" in html
    assert "Contact the plan keeper" in html


# -- bad input ---------------------------------------------------------------------------------------------
def test_bad_input_on_each_form_is_refused_with_422_the_input_kept_and_nothing_written(
    app: Flask, client: FlaskClient, family: Family
) -> None:
    base = f"/children/{family.public_id}/plan"
    login(client, "maria")
    # start: no reason, then too long
    before = _counts(app, family.child_id)
    refused = _post(client, base, {"why": " ", "overall_responsibility": "Kept text"})
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "Say why there is a plan" in html and "Kept text" in html and "data-error-summary" in html
    assert _post(client, base, {"why": "x" * (PLAN_TEXT_MAX + 1)}).status_code == 422
    assert _counts(app, family.child_id) == before

    _start(app, family)
    need_id = _need(app, family)
    decision_id = _decision(app, family)
    before = _counts(app, family.child_id)
    ids = _ids(app, agency=SCHOOL, agency_social=SOCIAL, unit_bup="BUP öppenvårdsmottagning")
    cases: list[tuple[str, dict[str, Any], str, str, str]] = [
        (f"{base}/needs", {"description": "Kept need", "areas": []}, "need-", "Choose at least one area", "Kept need"),
        (f"{base}/needs", {"description": "", "areas": ["safe"]}, "need-", "Describe the need", "checked"),
        (f"{base}/needs", {"description": "Kept", "areas": ["nonsense"]}, "need-", "not a valid choice", "Kept"),
        (
            f"{base}/needs/{need_id}/goals",
            {"outcome": "", "evidence": "Kept evidence"},
            f"goal-{need_id}-",
            "Describe the outcome you want",
            "Kept evidence",
        ),
        (
            f"{base}/actions",
            {"what": "", "owner_agency": ids["agency"], "areas": ["achieving"]},
            "action-",
            "Say what will be done",
            "checked",
        ),
        (
            f"{base}/actions",
            {"what": "Kept what", "owner_agency": "", "areas": ["achieving"]},
            "action-",
            "Choose the agency that owns the action",
            "Kept what",
        ),
        (
            f"{base}/actions",
            {"what": "Kept what", "owner_agency": ids["agency_social"], "areas": ["achieving"]},
            "action-",
            "Choose the agency that owns the action",
            "Kept what",
        ),
        (
            f"{base}/actions",
            {"what": "Kept what", "owner_agency": ids["agency"]},
            "action-",
            "Choose a need, or at least one area",
            "Kept what",
        ),
        (
            f"{base}/actions",
            {
                "what": "Kept what",
                "owner_agency": ids["agency"],
                "areas": ["achieving"],
                "starts_on": "2030-05-10",
                "due_on": "2030-05-01",
            },
            "action-",
            "The due date cannot be before the start date",
            "2030-05-10",
        ),
        (
            f"{base}/actions",
            {"what": "Kept what", "owner_agency": ids["agency"], "owner_unit": ids["unit_bup"], "areas": ["achieving"]},
            "action-",
            "Choose a unit of the owning agency",
            "Kept what",
        ),
        (f"{base}/close", {"reason": "", "note": "Kept note"}, "", "Choose why the plan is closed", "Kept note"),
        (f"{base}/close", {"reason": "other", "note": ""}, "", "Say why the plan is closed", "selected"),
    ]
    for path, data, prefix, message, kept in cases:
        answer = _post(client, path, data, prefix)
        html = answer.get_data(as_text=True)
        assert answer.status_code == 422, (path, data)
        assert message in html, (path, message)
        assert kept in html, (path, kept)
        assert "data-error-summary" in html
    assert _counts(app, family.child_id) == before
    # a decision that is already adopted: 422 and the reason, nothing written
    assert _post(client, f"{base}/decisions/{decision_id}/adopt", {}).status_code == 302
    before = _counts(app, family.child_id)
    again = _post(client, f"{base}/decisions/{decision_id}/adopt", {})
    assert again.status_code == 422
    assert "already an action in the plan" in again.get_data(as_text=True)
    assert _counts(app, family.child_id) == before


def test_publishing_an_empty_plan_is_refused(app: Flask, client: FlaskClient, family: Family) -> None:
    _start(app, family)
    login(client, "maria")
    before = _counts(app, family.child_id)
    answer = _post(client, f"/children/{family.public_id}/plan/publish", {})
    assert answer.status_code == 422
    assert "Add a need or an action before publishing the plan" in answer.get_data(as_text=True)
    assert _counts(app, family.child_id) == before


def test_script_in_text_fields_is_escaped(app: Flask, client: FlaskClient, family: Family) -> None:
    script = "<script>alert(1)</script>"
    base = f"/children/{family.public_id}/plan"
    login(client, "maria")
    assert _post(client, base, {"why": script, "overall_responsibility": script}).status_code == 302
    ids = _ids(app, agency=SCHOOL)
    assert (
        _post(
            client, f"{base}/needs", {"description": script, "areas": ["safe"], "strengths": script}, "need-"
        ).status_code
        == 302
    )
    assert (
        _post(
            client, f"{base}/actions", {"what": script, "owner_agency": ids["agency"], "areas": ["safe"]}, "action-"
        ).status_code
        == 302
    )
    html = client.get(base).get_data(as_text=True)
    assert script not in html
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 4
    refused = _post(client, f"{base}/needs", {"description": script, "areas": []}, "need-")
    assert refused.status_code == 422 and script not in refused.get_data(as_text=True)


# -- the keeper's path -------------------------------------------------------------------------------------
def test_the_keeper_starts_the_plan_adds_a_need_a_goal_an_action_adopts_a_decision_and_publishes(
    app: Flask, client: FlaskClient, family: Family
) -> None:
    base = f"/children/{family.public_id}/plan"
    decision_id = _decision(app, family)
    login(client, "maria")
    html = client.get(base).get_data(as_text=True)
    assert 'data-form="start-plan"' in html
    assert _post(client, base, {"why": "Reading is hard", "overall_responsibility": "Maria"}).status_code == 302
    assert (
        _post(
            client,
            f"{base}/needs",
            {"description": "Learns to read", "areas": ["achieving", "included"], "strengths": "Loves stories"},
            "need-",
        ).status_code
        == 302
    )
    with app.app_context():
        need_id = database.session.scalar(select(Need.public_id).where(Need.child_id == family.child_id))
    assert (
        _post(
            client,
            f"{base}/needs/{need_id}/goals",
            {"outcome": "Reads a chapter book", "evidence": "Her teacher hears her"},
            f"goal-{need_id}-",
        ).status_code
        == 302
    )
    ids = _ids(app, agency=SCHOOL, unit=CLASS_4_6, person="Lars")
    with app.app_context():
        late = (today() - timedelta(days=3)).isoformat()
        start = (today() - timedelta(days=10)).isoformat()
    answer = _post(
        client,
        f"{base}/actions",
        {
            "what": "Reading support twice a week",
            "owner_agency": ids["agency"],
            "owner_unit": ids["unit"],
            "owner_person": ids["person"],
            "starts_on": start,
            "due_on": late,
            "need": need_id,
        },
        "action-",
    )
    assert answer.status_code == 302
    page = client.get(base).get_data(as_text=True)
    assert f'data-decision="{decision_id}"' in page
    assert _post(client, f"{base}/decisions/{decision_id}/adopt", {}).status_code == 302
    assert client.get(f"{base}/publish").status_code == 200
    assert _post(client, f"{base}/publish", {}).status_code == 302

    with app.app_context():
        plan = database.session.scalar(select(Plan).where(Plan.child_id == family.child_id))
        assert plan is not None and plan.why == "Reading is hard"
        actions = database.session.scalars(select(Action).where(Action.child_id == family.child_id)).all()
        assert {a.what for a in actions} == {"Reading support twice a week", "Decision 0"}
        assert database.session.scalar(select(func.count(PlanVersion.id)).where(PlanVersion.plan_id == plan.id)) == 1
    page = client.get(base).get_data(as_text=True)
    assert "Learns to read" in page and "Loves stories" in page and "Reads a chapter book" in page
    assert "bk-compass--achieving" in page and "bk-compass--included" in page
    assert "Overdue" in page and "Lars" in page and "Klass 4–6" in page and "Planned" in page
    assert f'data-decision="{decision_id}"' not in page

    # close: the confirmation step, then the plan is a record
    assert client.get(f"{base}/close").status_code == 200
    assert _post(client, f"{base}/close", {"reason": "goals_met", "note": ""}).status_code == 302
    page = client.get(base).get_data(as_text=True)
    assert "data-plan-closed" in page and 'data-form="add-need"' not in page
    assert _post(client, f"{base}/needs", {"description": "More", "areas": ["safe"]}, "need-").status_code == 404


# -- statement count ---------------------------------------------------------------------------------------
def _insert_actions(app: Flask, family: Family, count: int) -> None:
    with app.app_context():
        plan = database.session.scalar(select(Plan).where(Plan.child_id == family.child_id))
        assert plan is not None
        moment = now()
        school, bup = agency(SCHOOL), agency(BUP)
        for index in range(count):
            database.session.add(
                Action(
                    plan_id=plan.id,
                    child_id=family.child_id,
                    what=f"Action {index}",
                    owner_agency_id=(school if index % 2 else bup).id,
                    owner_unit_id=unit(CLASS_4_6).id if index % 2 else None,
                    due_on=today() + timedelta(days=index - 5),
                    status="planned",
                    is_withheld_from_guardians=False,
                    version=1,
                    created_at=moment,
                    changed_at=moment,
                    areas=[ActionArea(area="achieving")],
                )
            )
        database.session.commit()


PAGE_STATEMENTS = {
    "maria": 29,
    "lars": 22,
}  # +1 each: the settings (coordination.settings); the keeper's page also loads the form choices; both the reviews
# and the family's comments (one statement, two with item comments), the keeper also who has read each version


@pytest.mark.parametrize("username", ["maria", "lars"])
def test_the_page_sends_the_same_number_of_statements_for_10_and_100_actions(
    app: Flask, client: FlaskClient, count_queries: Any, username: str
) -> None:
    statements = []
    login(client, username)
    for size in (10, 100):
        made = make_family(app)
        with app.app_context():
            _add_to_team(made, "Karin", BUP)
            database.session.commit()
        _start(app, made)
        _need(app, made)
        _insert_actions(app, made, size)
        client.get(f"/children/{made.public_id}/plan")  # warm up
        with count_queries() as counter:
            answer = client.get(f"/children/{made.public_id}/plan")
        assert answer.status_code == 200
        assert answer.get_data(as_text=True).count("data-action=") == size
        statements.append(len(counter.statements))
    assert statements[0] == statements[1], statements
    assert statements[0] == PAGE_STATEMENTS[username], statements


# -- the latest review on the Plan tab (the demo's plans) -----------------------------------------------------
def _demo_child(app: Flask, given_name: str) -> str:
    with app.app_context():
        public_id = database.session.scalar(select(Child.public_id).where(Child.given_name == given_name))
    assert public_id is not None
    return public_id


def test_no_wheel_for_a_viewer_whose_agency_may_not_know_the_reviews(app: Flask, client: FlaskClient) -> None:
    """lars reaches Leo, whose school consent was withdrawn: Leo's plan has no review, and no agency other
    than the school's is named; on Omar (consent) he sees the wheel."""
    login(client, "lars")
    leo = client.get(f"/children/{_demo_child(app, 'Leo')}/plan").get_data(as_text=True)
    assert 'id="compass-wheel-latest"' not in leo
    omar = client.get(f"/children/{_demo_child(app, 'Omar')}/plan").get_data(as_text=True)
    assert 'id="compass-wheel-latest"' in omar


def test_the_plan_tab_shows_the_latest_reviews_wheel_and_the_trend_across_reviews(
    app: Flask, client: FlaskClient
) -> None:
    """Omar has two reviews (14 and 2 days ago): the wheel is the newest's; the trend has both dates; the
    child's, the guardians' and the professionals' ratings stand side by side."""
    login(client, "johan")
    with app.app_context():
        before = database.session.scalar(select(func.max(AuditEvent.id))) or 0
    html = client.get(f"/children/{_demo_child(app, 'Omar')}/plan").get_data(as_text=True)
    with app.app_context():
        reads = database.session.scalars(
            select(AuditEvent.action).where(AuditEvent.id > before, AuditEvent.outcome == "allowed")
        ).all()
    assert "view_child_plan" in reads and "view_plan_review" in reads, "the review's ratings shown here are a read too"
    wheel = html[html.index('id="compass-wheel-latest"') : html.index('data-table="review-trend"')]
    assert len(re.findall(r'data-review-date="[0-9-]+"', html)) == 2
    for voice in ("child", "guardians", "professionals"):
        assert re.search(rf'class="bk-wheel__band bk-wheel__band--{voice}', wheel), voice
    # the professionals rated healthy 2 at the first review and 3 at the second: the wheel is the second's
    healthy = wheel[wheel.index('data-area="healthy"') :]
    healthy = healthy[: healthy.index("</g>")]
    band = re.search(r'<path class="bk-wheel__band bk-wheel__band--professionals[^>]*>', healthy)
    assert band is not None and 'data-scale="3"' in band.group(0)


def test_the_latest_review_adds_the_same_statements_for_2_and_12_reviews(
    app: Flask, client: FlaskClient, count_queries: Any
) -> None:
    from childplan.operations.reviews import RatingData, ReviewData, record_review

    omar = _demo_child(app, "Omar")
    login(client, "johan")
    counts = []
    for more in (0, 10):
        with app.app_context():
            plan = database.session.scalar(
                select(Plan).join(Child, Child.id == Plan.child_id).where(Child.public_id == omar)
            )
            assert plan is not None
            for n in range(more):
                ratings = [RatingData("healthy", "professionals", 1 + n % 5), RatingData("safe", "child", 3)]
                record_review(_actor_of("johan"), plan, ReviewData(today() - timedelta(days=20 + n), None, ratings))
            database.session.commit()
        client.get(f"/children/{omar}/plan")
        with count_queries() as counter:
            html = client.get(f"/children/{omar}/plan").get_data(as_text=True)
        assert 'id="compass-wheel-latest"' in html
        counts.append(counter.count)
    assert counts[0] == counts[1], counts


def test_the_chronology_says_which_action_changed_and_links_to_it_on_the_plan(app: Flask, client: FlaskClient) -> None:
    """lars's progress on Omar's weekly check-in (demo): the entry names the action and the new note (the
    entry carries the action's agency and areas, so it reaches exactly who sees the action), and opens the
    action on the Plan tab."""
    omar = _demo_child(app, "Omar")
    login(client, "johan")
    html = client.get(f"/children/{omar}/chronology").get_data(as_text=True)
    assert "En veckovis avstämning mellan Omar och hans klasslärare" in html
    assert "Två avstämningar hittills; Omar valde måndagsmorgnar." in html
    assert re.search(rf'href="/children/{re.escape(omar)}/plan#action-[A-Za-z0-9_-]+"', html)


# -- the plan in brief on the Overview --------------------------------------------------------------------------
def test_the_overview_shows_the_plan_in_brief_and_the_latest_reviews_wheel(app: Flask, client: FlaskClient) -> None:
    """The child page (UX.md: what happens next): the plan, its next review and the latest review's wheel."""
    login(client, "johan")
    with app.app_context():
        before = database.session.scalar(select(func.max(AuditEvent.id))) or 0
    html = client.get(f"/children/{_demo_child(app, 'Omar')}").get_data(as_text=True)
    with app.app_context():
        reads = database.session.scalars(
            select(AuditEvent.object_type).where(AuditEvent.id > before, AuditEvent.outcome == "allowed")
        ).all()
    assert "plan" in reads and "plan_review" in reads, "the plan's texts and the review's ratings are reads too"
    brief = html[html.index('data-section="plan-brief"') :]
    assert "Open the plan" in brief and "data-next-review" in brief
    assert re.search(r'<time datetime="\d{4}-\d{2}-\d{2}">', brief)
    assert "Nothing is planned yet" not in html
    assert 'id="compass-wheel-overview"' in brief and "The review and the trend across reviews" in brief


def test_the_overview_holds_no_wheel_for_an_agency_the_plan_tab_lists_no_reviews_to(
    app: Flask, client: FlaskClient
) -> None:
    """lars reaches Leo without the school's consent: the plan's own texts (its next review) are another
    agency's record, and there is no review he may see."""
    login(client, "lars")
    html = client.get(f"/children/{_demo_child(app, 'Leo')}").get_data(as_text=True)
    brief = html[html.index('data-section="plan-brief"') :]
    assert "Open the plan" in brief
    assert "data-next-review" not in brief and "compass-wheel" not in brief


# -- another agency's need areas are not shown with an action that serves the need ------------------------------
LEO_SCHOOL_ACTION = "Ett kort samtal med Leo varje fredag om hans vecka."  # serves social services' need


def _entry_chips(html: str, text: str) -> set[str]:
    """The area codes shown with the chronology entry or worklist row that holds ``text``."""
    start = html.rfind("<li", 0, html.index(text))
    end = html.index("</li>", html.index(text))
    return set(re.findall(r'data-area="([a-z]+)"', html[start:end]))


def test_lars_sees_his_leo_action_without_social_services_need_areas(app: Flask, client: FlaskClient) -> None:
    """Leo's school action serves social services' need (nurtured, achieving); the school's consent was
    withdrawn, so the need and its areas are another agency's record lars may not see (RULES.md §4). His Plan
    tab, his chronology and his worklist show the action without them, and filtering by them does not find it."""
    leo = _demo_child(app, "Leo")
    login(client, "lars")
    plan = client.get(f"/children/{leo}/plan").get_data(as_text=True)
    row = plan[plan.index(LEO_SCHOOL_ACTION) :]
    row = row[: row.index("</tr>")]
    assert "data-area=" not in row
    chronology = client.get(f"/children/{leo}/chronology").get_data(as_text=True)
    assert LEO_SCHOOL_ACTION in chronology
    assert _entry_chips(chronology, LEO_SCHOOL_ACTION) == set()
    filtered = client.get(f"/children/{leo}/chronology", query_string={"area": "nurtured"}).get_data(as_text=True)
    assert LEO_SCHOOL_ACTION not in filtered
    worklist = client.get("/worklist").get_data(as_text=True)
    assert LEO_SCHOOL_ACTION in worklist and _entry_chips(worklist, LEO_SCHOOL_ACTION) == set()
    by_area = client.get("/worklist", query_string={"area": "nurtured"}).get_data(as_text=True)
    assert LEO_SCHOOL_ACTION not in by_area


def test_johan_sees_the_need_areas_of_an_action_serving_his_agencys_need(app: Flask, client: FlaskClient) -> None:
    """The Plan tab decides per viewer: johan (social services owns the need) sees the action with the need's
    areas; the chronology files the entry under the action's own areas only, for everyone."""
    leo = _demo_child(app, "Leo")
    login(client, "johan")
    plan = client.get(f"/children/{leo}/plan").get_data(as_text=True)
    row = plan[plan.index(LEO_SCHOOL_ACTION) :]
    row = row[: row.index("</tr>")]
    assert {"nurtured", "achieving"} <= set(re.findall(r'data-area="([a-z]+)"', row))
    chronology = client.get(f"/children/{leo}/chronology").get_data(as_text=True)
    assert LEO_SCHOOL_ACTION in chronology and _entry_chips(chronology, LEO_SCHOOL_ACTION) == set()
