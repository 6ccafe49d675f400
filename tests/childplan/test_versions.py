"""The plan's published versions and the difference between two of them (issue 5). Negatives first: the
police get 404 on both pages; a version of another child's plan is 404 (audited); an item of an agency whose
areas the viewer's consent does not cover is left out of the diff (and only counted). Then the changed
action's old and new status, the list of versions, and the statements each page sends."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from childplan.models import Action, ActionArea, Plan, PlanVersion
from childplan.operations import (
    ActionData,
    ActionUpdateData,
    PlanData,
    PlanTextsData,
    add_action,
    publish_version,
    start_plan,
    update_action,
    update_plan_texts,
)
from coordination.access import SYSTEM_ACTOR
from coordination.children.models import Child
from coordination.clock import now, today
from coordination.consent.ledger import ConsentData, GiverData, record_consent
from coordination.database import db as database
from coordination.errors import OperationError
from coordination.models import AuditEvent
from tests.childplan.test_plan_operations import _actor_of, _add_to_team
from tests.childplan.test_plan_page import _post, login
from tests.teams.support import BUP, SCHOOL, Family, agency, make_family, person

SCHOOL_SECRET = "School reading hour, achieving only"
SCHOOL_SHARED = "School nurse check, healthy"


def _bup_consent_for_healthy_only(family: Family) -> None:
    day = today()
    record_consent(
        SYSTEM_ACTOR,
        family.child(),
        agency(BUP),
        ConsentData(
            purposes=["coordination", "team_meetings"],
            areas=["healthy"],
            valid_from=day,
            valid_until=day + timedelta(days=300),
            givers=[GiverData(family.guardian_id, "in_person")],
            consent_text_version=1,
            recorded_by=person("Maria"),
        ),
    )


@pytest.fixture()
def versions(app: Flask, db: Any) -> tuple[Family, str, str]:
    """A fresh child: maria (school) keeps the plan; karin (BUP) on the team with a coordination consent for
    "healthy" only. v1: two school actions; then the "healthy" one and the "achieving" one change status; v2."""
    family = make_family(app, consents=(SCHOOL,))
    with app.app_context():
        _add_to_team(family, "Karin", BUP)
        _bup_consent_for_healthy_only(family)
        maria = _actor_of("maria")
        plan = start_plan(maria, family.child(), PlanData("Reading is hard", "Maria, the school"))
        secret = add_action(maria, plan, ActionData(SCHOOL_SECRET, agency(SCHOOL).id, areas=["achieving"]))
        shared = add_action(maria, plan, ActionData(SCHOOL_SHARED, agency(SCHOOL).id, areas=["healthy"]))
        first = publish_version(maria, plan)
        for action in (secret, shared):
            update_action(maria, action, action.version, ActionUpdateData("in_progress"))
        second = publish_version(maria, plan)
        database.session.commit()
        return family, first.public_id, second.public_id


def _paths(family: Family, first: str, second: str) -> tuple[str, str]:
    base = f"/children/{family.public_id}/plan/versions"
    return base, f"{base}/{first}...{second}"


def test_the_police_get_404_on_both_pages(app: Flask, client: FlaskClient, versions: tuple[Family, str, str]) -> None:
    family, first, second = versions
    login(client, "erik")
    for path in _paths(family, first, second):
        assert client.get(path).status_code == 404, path


def test_a_version_of_another_childs_plan_is_404_and_audited(
    app: Flask, client: FlaskClient, versions: tuple[Family, str, str]
) -> None:
    family, first, second = versions
    other = make_family(app)
    with app.app_context():
        maria = _actor_of("maria")
        plan = start_plan(maria, other.child(), PlanData("Another child's plan"))
        add_action(maria, plan, ActionData("Other action", agency(SCHOOL).id, areas=["healthy"]))
        foreign = publish_version(maria, plan).public_id
        database.session.commit()
    login(client, "maria")
    base = f"/children/{family.public_id}/plan/versions"
    assert client.get(f"{base}/{first}...{foreign}").status_code == 404
    assert client.get(f"{base}/{foreign}...{second}").status_code == 404
    assert client.get(f"{base}/{first}...no-such-version").status_code == 404
    assert client.get(f"{base}/{first}...{'x' * 200}").status_code == 404
    assert client.get(f"/children/{other.public_id}/plan/versions/{first}...{second}").status_code == 404
    with app.app_context():
        refused = database.session.scalar(
            select(func.count(AuditEvent.id)).where(
                AuditEvent.child_id == family.child_id,
                AuditEvent.outcome == "denied",
                AuditEvent.action == "view_plan_version_diff",
            )
        )
        assert refused == 4


def test_an_item_outside_the_viewers_consent_is_absent_from_the_diff(
    app: Flask, client: FlaskClient, versions: tuple[Family, str, str]
) -> None:
    family, first, second = versions
    with app.app_context():
        secret_id = database.session.scalar(select(Action.public_id).where(Action.what == SCHOOL_SECRET))
    login(client, "karin")
    page = client.get(_paths(family, first, second)[1])
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert SCHOOL_SECRET not in html and secret_id not in html
    assert SCHOOL_SHARED in html
    assert 'data-not-shown="1"' in html and "1 item you may not see is left out." in html


def test_without_coordination_consent_hidden_items_are_not_counted(app: Flask, client: FlaskClient, db: Any) -> None:
    family = make_family(app, consents=(BUP,))  # the school, which keeps the plan, has no consent
    with app.app_context():
        _add_to_team(family, "Karin", BUP)
        maria = _actor_of("maria")
        plan = start_plan(maria, family.child(), PlanData("Plan"))
        add_action(maria, plan, ActionData("BUP talks", agency(BUP).id, areas=["healthy"]))
        add_action(maria, plan, ActionData(SCHOOL_SECRET, agency(SCHOOL).id, areas=["achieving"]))
        first = publish_version(maria, plan)
        add_action(maria, plan, ActionData(SCHOOL_SHARED, agency(SCHOOL).id, areas=["healthy"]))
        second = publish_version(maria, plan)
        database.session.commit()
        path = f"/children/{family.public_id}/plan/versions/{first.public_id}...{second.public_id}"
    login(client, "maria")
    html = client.get(path).get_data(as_text=True)
    assert "BUP talks" not in html and "data-not-shown" not in html
    assert SCHOOL_SHARED in html


def test_the_changed_action_shows_its_old_and_new_status(
    app: Flask, client: FlaskClient, versions: tuple[Family, str, str]
) -> None:
    family, first, second = versions
    with app.app_context():
        shared_id = database.session.scalar(select(Action.public_id).where(Action.what == SCHOOL_SHARED))
    login(client, "maria")
    html = client.get(_paths(family, first, second)[1]).get_data(as_text=True)
    assert SCHOOL_SECRET in html  # the keeper's own agency's action
    part = html.split(f'data-action="{shared_id}"')[1].split("</li>")[0]
    assert 'data-change="changed"' in part
    status = part.split('data-field="status"')[1].split("</tr>")[0]
    assert "Planned" in status.split("data-new")[0] and "In progress" in status.split("data-new")[1]
    assert "data-not-shown" not in html


def test_the_versions_are_listed_with_number_and_a_link_to_what_changed(
    app: Flask, client: FlaskClient, versions: tuple[Family, str, str]
) -> None:
    family, first, second = versions
    login(client, "karin")
    page = client.get(_paths(family, first, second)[0])
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'data-version="{first}"' in html and f'data-version="{second}"' in html
    assert "Version 2, published" in html and "Version 1, published" in html
    assert f"/plan/versions/{first}...{second}" in html
    with app.app_context():
        plan_id = database.session.scalar(select(Plan.public_id).where(Plan.child_id == family.child_id))
        numbers = database.session.scalars(
            select(PlanVersion.number).join(Plan).where(Plan.public_id == plan_id).order_by(PlanVersion.number)
        ).all()
        assert numbers == [1, 2]


CHILD_VIEW = "Leo says reading aloud is the worst part"
GUARDIAN_VIEW = "The guardians want more time for homework"
DISAGREEMENT = "The school and the guardians differ on extra lessons"


@pytest.fixture()
def texts_changed(app: Flask, db: Any) -> tuple[Family, str, str]:
    """Like ``versions``, but between v1 and v2 only the plan's own texts change (views, disagreements and a
    next review on 5 March of next year); the actions stay as they were."""
    family = make_family(app, consents=(SCHOOL,))
    with app.app_context():
        _add_to_team(family, "Karin", BUP)
        _bup_consent_for_healthy_only(family)
        maria = _actor_of("maria")
        plan = start_plan(maria, family.child(), PlanData("Reading is hard", "Maria, the school"))
        add_action(maria, plan, ActionData(SCHOOL_SHARED, agency(SCHOOL).id, areas=["healthy"]))
        first = publish_version(maria, plan)
        review_on = today().replace(year=today().year + 1, month=3, day=5)
        update_plan_texts(
            maria,
            plan,
            plan.version,
            PlanTextsData("Reading is hard", "Maria, the school", CHILD_VIEW, GUARDIAN_VIEW, DISAGREEMENT, review_on),
        )
        second = publish_version(maria, plan)
        database.session.commit()
        return family, first.public_id, second.public_id


def test_a_viewer_whose_consent_does_not_cover_every_area_gets_no_plan_texts_in_the_diff(
    app: Flask, client: FlaskClient, texts_changed: tuple[Family, str, str]
) -> None:
    family, first, second = texts_changed
    login(client, "karin")  # BUP's consent covers "healthy" only; the plan's own texts cover every area
    html = client.get(_paths(family, first, second)[1]).get_data(as_text=True)
    for text in (CHILD_VIEW, GUARDIAN_VIEW, DISAGREEMENT):
        assert text not in html
    assert 'data-section="texts-diff"' not in html and 'data-field="next_review_on"' not in html
    assert "data-texts-withheld" in html


def test_the_diff_shows_the_plans_own_texts_and_dates_in_the_viewers_locale(
    app: Flask, client: FlaskClient, texts_changed: tuple[Family, str, str]
) -> None:
    family, first, second = texts_changed
    login(client, "maria")
    html = client.get(_paths(family, first, second)[1]).get_data(as_text=True)
    section = html.split('data-section="texts-diff"')[1].split("</section>")[0]
    for code, text in (("child_views", CHILD_VIEW), ("guardian_views", GUARDIAN_VIEW), ("disagreements", DISAGREEMENT)):
        row = section.split(f'data-field="{code}"')[1].split("</tr>")[0]
        assert "(none)" in row.split("data-new")[0] and text in row.split("data-new")[1]
    with app.app_context():
        year = today().year + 1
    review = section.split('data-field="next_review_on"')[1].split("</tr>")[0]
    assert f"5 Mar {year}" in review and f"{year}-03-05" not in review
    assert 'data-field="why"' not in section  # unchanged texts are not listed
    assert "data-diff-empty" not in html and "data-texts-withheld" not in html
    assert _post(client, "/language", {"language": "sv", "next": "/"}).status_code == 302
    swedish = client.get(_paths(family, first, second)[1]).get_data(as_text=True)
    review = swedish.split('data-field="next_review_on"')[1].split("</tr>")[0]
    assert f"5 mars {year}" in review


def test_action_dates_in_the_diff_are_not_iso(app: Flask, client: FlaskClient, db: Any) -> None:
    family = make_family(app, consents=(SCHOOL,))
    with app.app_context():
        due = today().replace(year=today().year + 1, month=11, day=20)
        maria = _actor_of("maria")
        plan = start_plan(maria, family.child(), PlanData("Plan"))
        add_action(maria, plan, ActionData("Old action", agency(SCHOOL).id, areas=["healthy"]))
        first = publish_version(maria, plan)
        add_action(maria, plan, ActionData("New action", agency(SCHOOL).id, areas=["healthy"], due_on=due))
        second = publish_version(maria, plan)
        database.session.commit()
        path = f"/children/{family.public_id}/plan/versions/{first.public_id}...{second.public_id}"
    login(client, "maria")
    html = client.get(path).get_data(as_text=True)
    row = html.split('data-field="due_on"')[1].split("</tr>")[0]
    assert f"20 Nov {due.year}" in row and due.isoformat() not in html


def test_publishing_with_no_change_since_the_last_version_is_refused_and_writes_nothing(
    app: Flask, client: FlaskClient, versions: tuple[Family, str, str]
) -> None:
    family, _first, _second = versions
    with app.app_context():
        before = database.session.scalar(select(func.count(PlanVersion.id)))
        plan = database.session.scalar(select(Plan).where(Plan.child_id == family.child_id))
        with pytest.raises(OperationError, match="Nothing has changed since version 2 was published"):
            publish_version(_actor_of("maria"), plan)
        database.session.rollback()
    login(client, "maria")
    answer = _post(client, f"/children/{family.public_id}/plan/publish", {})
    assert answer.status_code == 422, answer.status_code
    assert "Nothing has changed since version 2 was published" in answer.get_data(as_text=True)
    with app.app_context():
        assert database.session.scalar(select(func.count(PlanVersion.id))) == before


# -- one version on its own page -----------------------------------------------------------------------------
def _version_path(family: Family, version: str) -> str:
    return f"/children/{family.public_id}/plan/versions/{version}"


def test_someone_outside_the_plan_gets_404_on_a_single_version_and_the_refusal_is_audited(
    app: Flask, client: FlaskClient, versions: tuple[Family, str, str]
) -> None:
    family, first, _second = versions
    for outsider in ("erik", "ida", "anna"):  # the police; intake; a Child Contact of other children
        session = app.test_client()
        login(session, outsider)
        answer = session.get(_version_path(family, first))
        assert answer.status_code == 404, outsider
        html = answer.get_data(as_text=True)
        assert SCHOOL_SHARED not in html and SCHOOL_SECRET not in html
    with app.app_context():
        refused = database.session.scalar(
            select(func.count(AuditEvent.id)).where(
                AuditEvent.child_id == family.child_id,
                AuditEvent.outcome == "denied",
                AuditEvent.action == "view_plan_version",
            )
        )
        assert refused == 3


def test_a_version_of_another_childs_plan_or_an_unknown_id_is_404_on_the_single_version_page(
    app: Flask, client: FlaskClient, versions: tuple[Family, str, str]
) -> None:
    family, first, _second = versions
    other = make_family(app)
    with app.app_context():
        maria = _actor_of("maria")
        plan = start_plan(maria, other.child(), PlanData("Another child's plan"))
        add_action(maria, plan, ActionData("Other action", agency(SCHOOL).id, areas=["healthy"]))
        foreign = publish_version(maria, plan).public_id
        database.session.commit()
    login(client, "maria")
    assert client.get(_version_path(family, foreign)).status_code == 404
    assert client.get(_version_path(family, "no-such-version")).status_code == 404
    assert client.get(_version_path(family, "x" * 200)).status_code == 404
    assert client.get(_version_path(other, first)).status_code == 404
    with app.app_context():
        refused = database.session.scalar(
            select(func.count(AuditEvent.id)).where(
                AuditEvent.outcome == "denied",
                AuditEvent.action == "view_plan_version",
                AuditEvent.child_id.in_((family.child_id, other.child_id)),
            )
        )
        assert refused == 4


def test_a_guardian_gets_404_on_the_staff_version_pages(app: Flask, client: FlaskClient, db: Any) -> None:
    """The published versions hold what is withheld from guardians: the family reads the plan on its own pages
    (/family/...), never on the staff's version pages. ahmed is Omar's guardian; Omar's plan has two versions."""
    with app.app_context():
        omar = database.session.scalar(select(Child).where(Child.given_name == "Omar"))
        assert omar is not None
        plan_id = database.session.scalar(select(Plan.id).where(Plan.child_id == omar.id))
        ids = database.session.scalars(
            select(PlanVersion.public_id).where(PlanVersion.plan_id == plan_id).order_by(PlanVersion.number)
        ).all()
        child_id = omar.public_id
    assert len(ids) == 2
    login(client, "ahmed")
    base = f"/children/{child_id}/plan/versions"
    for path in (base, f"{base}/{ids[0]}", f"{base}/{ids[0]}...{ids[1]}"):
        assert client.get(path).status_code == 404, path


def test_a_viewer_sees_only_the_items_its_consent_covers_in_a_single_version(
    app: Flask, client: FlaskClient, versions: tuple[Family, str, str]
) -> None:
    family, _first, second = versions
    with app.app_context():
        secret_id = database.session.scalar(select(Action.public_id).where(Action.what == SCHOOL_SECRET))
    login(client, "karin")  # BUP: coordination consent for "healthy" only
    page = client.get(_version_path(family, second))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert SCHOOL_SECRET not in html and secret_id not in html
    assert "Reading is hard" not in html and "data-texts-withheld" in html  # the plan's own texts: every area
    assert SCHOOL_SHARED in html and 'data-not-shown="1"' in html
    with app.app_context():
        read = database.session.scalar(
            select(func.count(AuditEvent.id)).where(
                AuditEvent.child_id == family.child_id,
                AuditEvent.outcome != "denied",
                AuditEvent.action == "view_plan_version",
                AuditEvent.object_id == second,
            )
        )
        assert read == 1, "the read is audited"


def test_the_keeper_opens_one_version_with_its_texts_dates_in_her_locale_and_no_double_colons(
    app: Flask, client: FlaskClient, texts_changed: tuple[Family, str, str]
) -> None:
    family, first, second = texts_changed
    login(client, "maria")
    listing = client.get(f"/children/{family.public_id}/plan/versions").get_data(as_text=True)
    assert _version_path(family, first) in listing and _version_path(family, second) in listing
    html = client.get(_version_path(family, second)).get_data(as_text=True)
    assert "Version 2 of the plan" in html and "::" not in html.split("<main")[-1]
    texts = html.split('data-section="texts"')[1].split("</section>")[0]
    assert CHILD_VIEW in texts and GUARDIAN_VIEW in texts and DISAGREEMENT in texts
    with app.app_context():
        year = today().year + 1
    review = texts.split('data-field="next_review_on"')[1].split("</dd>")[0]
    assert f"5 Mar {year}" in review and f"{year}-03-05" not in review
    assert SCHOOL_SHARED in html.split('data-section="actions"')[1]
    older = client.get(_version_path(family, first)).get_data(as_text=True)
    assert CHILD_VIEW not in older and "Version 1 of the plan" in older
    assert _post(client, "/language", {"language": "sv", "next": "/"}).status_code == 302
    swedish = client.get(_version_path(family, second)).get_data(as_text=True)
    assert f"5 mars {year}" in swedish.split('data-field="next_review_on"')[1].split("</dd>")[0]


# -- statement count ---------------------------------------------------------------------------------------
def _plan_with_versions(app: Flask, size: int) -> tuple[Family, str, str]:
    """A fresh child like ``versions``' (karin's BUP consents for "healthy" only) whose plan holds ``size``
    actions, half the school's "achieving" ones (left out for karin), half BUP's "healthy" ones; every action
    changes status between version 1 and version 2. Returns the family and the two versions' public ids."""
    family = make_family(app, consents=(SCHOOL,))
    with app.app_context():
        _add_to_team(family, "Karin", BUP)
        _bup_consent_for_healthy_only(family)
        maria = _actor_of("maria")
        plan = start_plan(maria, family.child(), PlanData("Reading is hard", "Maria, the school"))
        school, bup = agency(SCHOOL), agency(BUP)
        for index in range(size):
            owner, area = (school, "achieving") if index % 2 else (bup, "healthy")
            database.session.add(
                Action(
                    plan_id=plan.id,
                    child_id=family.child_id,
                    what=f"Action {index}",
                    owner_agency_id=owner.id,
                    due_on=today() + timedelta(days=index - 5),
                    status="planned",
                    is_withheld_from_guardians=False,
                    version=1,
                    created_at=now(),
                    changed_at=now(),
                    areas=[ActionArea(area=area)],
                )
            )
        database.session.flush()
        database.session.refresh(plan)
        first = publish_version(maria, plan)
        for action in plan.actions:
            action.status = "in_progress"
        database.session.flush()
        second = publish_version(maria, plan)
        database.session.commit()
        return family, first.public_id, second.public_id


# the session, the actor and the child's access (relations, consents) as every child page; then the plan, and
# the versions (the list) or the two versions and their agencies (the diff) — the same for the keeper and karin
VERSION_PAGES_STATEMENTS = {"list": 13, "diff": 14}  # +1 each: the settings (coordination.settings)


@pytest.mark.parametrize("username", ["maria", "karin"])
def test_the_versions_list_and_the_diff_send_the_same_number_of_statements_for_10_and_100_actions(
    app: Flask, client: FlaskClient, count_queries: Any, username: str
) -> None:
    login(client, username)
    counts: dict[str, list[int]] = {"list": [], "diff": []}
    for size in (10, 100):
        family, first, second = _plan_with_versions(app, size)
        listing, diff = _paths(family, first, second)
        for page, path in (("list", listing), ("diff", diff)):
            client.get(path)  # warm up
            with count_queries() as counter:
                answer = client.get(path)
            assert answer.status_code == 200, path
            counts[page].append(counter.count)
        html = answer.get_data(as_text=True)
        shown = size if username == "maria" else size // 2  # karin: BUP's half only
        assert html.count('data-change="changed"') == shown
    assert counts["list"][0] == counts["list"][1], counts
    assert counts["diff"][0] == counts["diff"][1], counts
    assert counts["list"][0] == VERSION_PAGES_STATEMENTS["list"], counts
    assert counts["diff"][0] == VERSION_PAGES_STATEMENTS["diff"], counts
