"""axe-core scans of issue 5's pages (the Child's Plan: the Plan tab for the keeper and for a team member,
the start form, the published versions and a diff, a review with the compass wheel and the new-review
form, the worklist and the agency's view of it, the publish and close confirmation steps) with zero
violations, with the same helper as tests/browser/test_axe_issue4.py; and the Plan tab and the worklist on
a phone (375 px) without sideways scrolling. The demo's fourth part (DEMO.md, coordination/demo_plans.py)
gives every page something to show: johan keeps Omar's plan (two published versions, two reviews), lars
(school) is on Omar's team, karin owns Omar's overdue BUP actions, maria is Maja's Child Contact and Maja
has no plan."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from sqlalchemy import select

from tests.browser.support import (
    PHONE_WIDTH,
    assert_accessible,
    assert_no_console_errors,
    log_in,
    new_page,
    serve_demo,
)
from tests.conftest import DatabaseFactory

pytestmark = pytest.mark.postgresql_only


@pytest.fixture(scope="module")
def served(databases: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, str]]:
    """One demo app for the whole module (the scans only read); the app too, to look up the public ids of
    the demo's children and reviews."""
    with serve_demo(databases, tmp_path_factory, "axe5") as app_and_url:
        yield app_and_url


# -- where each page is ------------------------------------------------------------------------------------
def _child(given_name: str) -> str:
    from coordination.children.models import Child
    from coordination.database import db

    return db.session.scalar(select(Child.public_id).where(Child.given_name == given_name).order_by(Child.id).limit(1))


def _omar_versions() -> tuple[str, str]:
    """The public ids of Omar's published versions 1 and 2."""
    from childplan.models import Plan, PlanVersion
    from coordination.children.models import Child
    from coordination.database import db

    rows = db.session.execute(
        select(PlanVersion.number, PlanVersion.public_id)
        .join(Plan, Plan.id == PlanVersion.plan_id)
        .join(Child, Child.id == Plan.child_id)
        .where(Child.given_name == "Omar")
        .order_by(PlanVersion.number)
    ).all()
    assert [row.number for row in rows] == [1, 2], rows
    return rows[0].public_id, rows[1].public_id


def _omar_latest_review() -> str:
    from childplan.models import Review
    from coordination.children.models import Child
    from coordination.database import db

    return db.session.scalar(
        select(Review.public_id)
        .join(Child, Child.id == Review.child_id)
        .where(Child.given_name == "Omar")
        .order_by(Review.held_on.desc(), Review.id.desc())
        .limit(1)
    )


def _omar_diff() -> str:
    first, second = _omar_versions()
    return f"/children/{_child('Omar')}/plan/versions/{first}...{second}"


TARGETS: dict[str, Callable[[], str]] = {
    "omar_plan": lambda: f"/children/{_child('Omar')}/plan",
    "omar_versions": lambda: f"/children/{_child('Omar')}/plan/versions",
    "omar_diff": _omar_diff,
    "omar_review": lambda: f"/children/{_child('Omar')}/plan/reviews/{_omar_latest_review()}",
    "omar_new_review": lambda: f"/children/{_child('Omar')}/plan/reviews/new",
    "omar_publish": lambda: f"/children/{_child('Omar')}/plan/publish",
    "omar_close": lambda: f"/children/{_child('Omar')}/plan/close",
    "maja_plan": lambda: f"/children/{_child('Maja')}/plan",
    "worklist": lambda: "/worklist",
    "agency_worklist": lambda: "/worklist?view=agency",
}


def path_of(app: Flask, target: str) -> str:
    with app.app_context():
        return TARGETS[target]()


def open_page(page, app: Flask, target: str):  # type: ignore[no-untyped-def]
    path = path_of(app, target)
    response = page.goto(path)
    assert response is not None and response.status == 200, (path, response and response.status)
    page.wait_for_load_state()
    assert page.locator("main h1").count() == 1
    return page


# -- the scans -----------------------------------------------------------------------------------------------
def test_the_plan_tab_with_the_keepers_forms_is_accessible(served, signed_in) -> None:  # type: ignore[no-untyped-def]
    app, _base_url = served
    page = open_page(signed_in("johan"), app, "omar_plan")
    keeper_forms = page.locator("[data-section=keeper-forms]")
    assert keeper_forms.count() == 1, "johan keeps Omar's plan"
    assert_accessible(page)
    # the keeper's forms are folded away in <details>: open them and scan them as well
    for summary in keeper_forms.locator("details > summary").all():
        summary.click()
    assert keeper_forms.locator("form[data-form=add-action]").is_visible()
    assert_accessible(page)
    assert_no_console_errors(page)


PAGES_TO_SCAN = [
    ("lars", "omar_plan"),
    ("lars", "omar_versions"),
    ("johan", "omar_versions"),
    ("johan", "omar_diff"),
    ("johan", "omar_review"),
    ("johan", "omar_new_review"),
    ("johan", "omar_publish"),
    ("johan", "omar_close"),
    ("maria", "maja_plan"),
    ("karin", "worklist"),
    ("maria", "agency_worklist"),
]


@pytest.mark.parametrize(("persona", "target"), PAGES_TO_SCAN)
def test_issue_5_pages_are_accessible(served, signed_in, persona: str, target: str) -> None:  # type: ignore[no-untyped-def]
    app, _base_url = served
    page = open_page(signed_in(persona), app, target)
    assert_accessible(page)
    assert_no_console_errors(page)


def test_what_the_scanned_pages_show(served, signed_in) -> None:  # type: ignore[no-untyped-def]
    """The scans above are of pages with something on them: a team member without the keeper's forms, the
    diff with changes, the wheel, the start form, overdue rows and the agency's rows."""
    app, _base_url = served
    lars = open_page(signed_in("lars"), app, "omar_plan")
    assert lars.locator("[data-section=keeper-forms]").count() == 0
    assert lars.locator("table[data-actions] tr[data-action]").count() > 0

    johan = open_page(signed_in("johan"), app, "omar_diff")
    assert johan.locator("[data-change]").count() > 0
    open_page(johan, app, "omar_review")
    assert johan.locator("main svg").count() >= 1, "the compass wheel"
    open_page(johan, app, "omar_new_review")
    assert johan.locator("main form").count() >= 1

    maria = open_page(signed_in("maria"), app, "maja_plan")
    assert maria.locator("form[data-form=start-plan]").is_visible()
    open_page(maria, app, "agency_worklist")
    assert maria.locator("table[data-section=agency-actions] tbody tr").count() > 0

    karin = open_page(signed_in("karin"), app, "worklist")
    assert karin.locator("li.bk-worklist-row[data-overdue]").count() >= 2


@pytest.mark.parametrize(
    ("persona", "target"),
    [
        ("johan", "omar_plan"),
        ("karin", "worklist"),
        ("maria", "agency_worklist"),
        ("johan", "omar_review"),
        ("johan", "omar_diff"),
    ],
)
def test_on_a_phone_the_plan_tab_and_the_worklist_do_not_scroll_sideways(
    browser, served, persona: str, target: str
) -> None:  # type: ignore[no-untyped-def]
    app, base_url = served
    phone = new_page(browser, base_url, viewport={"width": PHONE_WIDTH, "height": 800})
    try:
        log_in(phone, persona)
        open_page(phone, app, target)
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE_WIDTH, f"{target} scrolls sideways on a phone ({width}px)"
        assert_accessible(phone)
        assert_no_console_errors(phone)
    finally:
        phone.context.close()
