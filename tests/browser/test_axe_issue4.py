"""axe-core scans of issue 4's pages (concerns, reports of concern and intake, the Chronology and Team tabs,
meetings, the inbox, the agency admin's queue, siblings, Support Coordinator requests) with zero violations,
with the same rules and configuration as tests/browser/test_journeys.py; and the two phone-sized pages
(375 px) without sideways scrolling. The demo's third part (DEMO.md) gives every page something to show."""

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
    """One demo app for the whole module (the scans only read; logging in and the audit rows of the reads
    are all they write); the app too, to look up the public ids of the demo's concerns, meetings and reports."""
    with serve_demo(databases, tmp_path_factory, "axe") as app_and_url:
        yield app_and_url


# -- where each page is ------------------------------------------------------------------------------------
def _child(given_name: str) -> str:
    from coordination.children.models import Child
    from coordination.database import db

    return db.session.scalar(select(Child.public_id).where(Child.given_name == given_name).order_by(Child.id).limit(1))


def _elsa_concern() -> str:
    from coordination.children.models import Child
    from coordination.concerns.models import Concern
    from coordination.database import db

    return db.session.scalar(
        select(Concern.public_id).join(Child, Child.id == Concern.child_id).where(Child.given_name == "Elsa")
    )


def _omar_held_meeting() -> str:
    from coordination.children.models import Child
    from coordination.database import db
    from coordination.teams.models import Meeting

    return db.session.scalar(
        select(Meeting.public_id)
        .join(Child, Child.id == Meeting.child_id)
        .where(Child.given_name == "Omar", Meeting.state == "held")
    )


def _maja_report() -> str:
    from coordination.database import db
    from coordination.models import Account
    from coordination.reports.models import ReportOfConcern

    erik = db.session.scalar(select(Account.staff_person_id).where(Account.username == "erik"))
    return db.session.scalar(select(ReportOfConcern.public_id).where(ReportOfConcern.reporter_person_id == erik))


TARGETS: dict[str, Callable[[], str]] = {
    "concern_by_number": lambda: "/concerns/new",
    "concern_for_elsa": lambda: f"/children/{_child('Elsa')}/concerns/new",
    "elsa_concern": lambda: f"/children/{_child('Elsa')}/concerns/{_elsa_concern()}",
    "elsa_chronology": lambda: f"/children/{_child('Elsa')}/chronology",
    "omar_team": lambda: f"/children/{_child('Omar')}/team",
    "omar_held_meeting": lambda: f"/children/{_child('Omar')}/meetings/{_omar_held_meeting()}",
    "omar_new_meeting": lambda: f"/children/{_child('Omar')}/meetings/new",
    "report_new": lambda: "/reports/new",
    "report_receipt": lambda: f"/reports/{_maja_report()}",
    "intake": lambda: "/intake",
    "intake_report": lambda: f"/intake/{_maja_report()}",
    "inbox": lambda: "/inbox",
    "unmatched_queue": lambda: "/agency/concerns",
    "liam_siblings": lambda: f"/children/{_child('Liam')}/siblings",
    "elsa_coordinator_request": lambda: f"/children/{_child('Elsa')}/coordinator-requests/new",
    "noah_coordinator_request": lambda: f"/children/{_child('Noah')}/coordinator-requests/new",
}


def path_of(app: Flask, target: str) -> str:
    with app.app_context():
        return TARGETS[target]()


PAGES_TO_SCAN = [
    ("sara", "concern_by_number"),
    ("sara", "concern_for_elsa"),
    ("anna", "elsa_concern"),
    ("anna", "elsa_chronology"),
    ("johan", "omar_team"),
    ("johan", "omar_held_meeting"),
    ("johan", "omar_new_meeting"),
    ("erik", "report_new"),
    ("erik", "report_receipt"),
    ("ida", "intake"),
    ("ida", "intake_report"),
    ("anna", "inbox"),
    ("maria", "unmatched_queue"),
    ("anna", "liam_siblings"),
    ("anna", "elsa_coordinator_request"),
    ("maria", "noah_coordinator_request"),
]


@pytest.mark.parametrize(("persona", "target"), PAGES_TO_SCAN)
def test_issue_4_pages_are_accessible(served, signed_in, persona: str, target: str) -> None:  # type: ignore[no-untyped-def]
    app, _base_url = served
    page = signed_in(persona)
    path = path_of(app, target)
    response = page.goto(path)
    assert response is not None and response.status == 200, (path, response and response.status)
    page.wait_for_load_state()
    assert page.locator("main h1").count() == 1
    assert_accessible(page)
    assert_no_console_errors(page)


def test_a_refused_concern_form_with_its_error_summary_is_accessible(served, signed_in) -> None:  # type: ignore[no-untyped-def]
    app, _base_url = served
    page = signed_in("sara")
    page.goto(path_of(app, "concern_for_elsa"))
    with page.expect_navigation() as refused:
        page.locator("form[data-form=raise-concern] button[type=submit]").click()
    assert refused.value is not None and refused.value.status == 422
    assert page.locator(".ds-error-summary").is_visible()
    assert_accessible(page)
    assert_no_console_errors(page)


@pytest.mark.parametrize(("persona", "target"), [("sara", "concern_by_number"), ("anna", "elsa_concern")])
def test_on_a_phone_the_concern_pages_do_not_scroll_sideways(browser, served, persona: str, target: str) -> None:  # type: ignore[no-untyped-def]
    app, base_url = served
    phone = new_page(browser, base_url, viewport={"width": PHONE_WIDTH, "height": 800})
    log_in(phone, persona)
    phone.goto(path_of(app, target))
    phone.wait_for_load_state()
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE_WIDTH, f"{target} scrolls sideways on a phone ({width}px)"
    assert_accessible(phone)
    assert_no_console_errors(phone)
    phone.context.close()
