"""The Child's Plan in a real browser (issue 5): the worklist's inline update (htmx, by keyboard, and as a
plain form without JavaScript) reaching the plan and the chronology, and a keeper starting a plan and
publishing its first version.

On the demo (DEMO.md, coordination/demo_plans.py): johan keeps Omar's plan; karin (BUP) owns two of its
actions, 22 and 8 days overdue, and Noah's BUP action; maria is Maja's Child Contact and Maja has no plan.
The tests share one served demo database: each changes a different action (or Maja's plan), so they do not
meet. Pages are switched to English after login."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from sqlalchemy import select

from tests.browser.support import serve_demo
from tests.conftest import DatabaseFactory

pytestmark = pytest.mark.postgresql_only

FIRST_BUP_VISIT = "Ett första besök på BUP för Omar och Ahmed"  # karin's, 22 days overdue
SLEEP_DIARY = "Gå igenom Omars sömndagbok"  # karin's, 8 days overdue
NOAH_BUP_TALKS = "Samtal på BUP om Noahs nedstämdhet"  # karin's, due in 40 days


@pytest.fixture(scope="module")
def served(databases: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, str]]:
    """The demo app on a committed database of its own for the module; the app too, to read public ids and
    check what was written."""
    with serve_demo(databases, tmp_path_factory, "planjourney") as app_and_url:
        yield app_and_url


def log_in(browser, base_url: str, username: str, **options):  # type: ignore[no-untyped-def]
    """A fresh browser context for one persona (``options`` for the context, e.g. no JavaScript), logged in
    through the form at /login and switched to English; console errors are collected on the page."""
    context = browser.new_context(base_url=base_url, locale="sv-SE", **options)
    page = context.new_page()
    page.console_errors = []  # type: ignore[attr-defined]
    page.on("console", lambda m: page.console_errors.append(m.text) if m.type == "error" else None)  # type: ignore[attr-defined]
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", "demo")
    with page.expect_navigation():
        page.get_by_role("button", name="Logga in", exact=True).click()
    if page.locator("html").get_attribute("lang") != "en":  # the choice is remembered for the account
        with page.expect_navigation():
            page.get_by_role("button", name="English").click()
    assert page.locator("html").get_attribute("lang") == "en"
    return page


def assert_no_console_errors(page) -> None:  # type: ignore[no-untyped-def]
    """No console error, apart from the browser's notes on a refused form (422)."""
    errors = [text for text in page.console_errors if "status of 422" not in text]
    assert errors == [], errors


def child_public_id(app: Flask, given_name: str) -> str:
    from coordination.children.models import Child
    from coordination.database import db

    with app.app_context():
        return db.session.scalar(select(Child.public_id).where(Child.given_name == given_name).order_by(Child.id))


def action_state(app: Flask, what_starts_with: str) -> tuple[str, str, str | None]:
    """(public id, status, progress note) of the demo action whose text starts so."""
    from childplan.models import Action
    from coordination.database import db

    with app.app_context():
        action = db.session.scalars(select(Action).where(Action.what.startswith(what_starts_with))).one()
        return action.public_id, action.status, action.progress_note


def plan_of(app: Flask, given_name: str) -> tuple[str, int, int, int] | None:
    """(status, needs, actions, published versions) of the child's plan, or None."""
    from childplan.models import Plan, PlanVersion
    from coordination.children.models import Child
    from coordination.database import db

    with app.app_context():
        plan = db.session.scalar(
            select(Plan).join(Child, Child.id == Plan.child_id).where(Child.given_name == given_name)
        )
        if plan is None:
            return None
        versions = db.session.scalars(select(PlanVersion.number).where(PlanVersion.plan_id == plan.id)).all()
        return plan.status, len(plan.needs), len(plan.actions), len(versions)


def worklist_row(page, public_id: str):  # type: ignore[no-untyped-def]
    return page.locator(f"li.bk-worklist-row[data-action='{public_id}']")


# -- (a) the owner updates an overdue action inline; the keeper sees it -----------------------------------
def test_karin_updates_her_most_overdue_action_inline_and_johan_sees_it_in_the_plan_and_chronology(
    browser, served
) -> None:  # type: ignore[no-untyped-def]
    app, base_url = served
    action_id, status, _note = action_state(app, FIRST_BUP_VISIT)
    assert status == "planned"
    note = "Booked for Thursday with an Arabic interpreter; Ahmed has confirmed."

    karin = log_in(browser, base_url, "karin")
    with karin.expect_navigation():
        karin.get_by_role("link", name="Worklist").first.click()
    rows = karin.locator("ul[data-section=my-actions] > li.bk-worklist-row")
    first = rows.first
    assert first.get_attribute("data-action") == action_id, "the most overdue action comes first"
    assert first.get_attribute("data-overdue") is not None
    assert first.locator("[data-due-words]").inner_text() == "22 days overdue"
    assert FIRST_BUP_VISIT in first.locator("[data-what]").inner_text()

    karin.evaluate("window.stillTheSamePage = true")  # gone if the page reloads
    first.get_by_label("Status").select_option("in_progress")
    first.get_by_label("Progress note").fill(note)
    with karin.expect_response(
        lambda r: r.request.method == "POST" and f"/worklist/actions/{action_id}" in r.url
    ) as answer:
        first.get_by_role("button", name="Save").click()
    assert answer.value.status == 200
    assert answer.value.request.headers.get("hx-request") == "true"
    row = worklist_row(karin, action_id)
    row.locator("[data-saved]").wait_for()
    assert karin.evaluate("window.stillTheSamePage") is True, "the row is swapped, not the page reloaded"
    assert row.get_attribute("data-status") == "in_progress"
    assert row.locator("[data-status-label]").inner_text() == "In progress"
    assert note in row.locator("[data-progress-note]").inner_text()
    assert row.get_by_label("Status").input_value() == "in_progress"
    assert rows.count() == karin.locator("ul[data-section=my-actions] > li").count(), "one row swapped for one"
    assert action_state(app, FIRST_BUP_VISIT) == (action_id, "in_progress", note)
    assert_no_console_errors(karin)
    karin.context.close()

    johan = log_in(browser, base_url, "johan")
    omar = child_public_id(app, "Omar")
    johan.goto(f"/children/{omar}/plan")
    in_plan = johan.locator(f"table[data-actions] tr[data-action='{action_id}']")
    assert in_plan.get_attribute("data-status") == "in_progress"
    assert "In progress" in in_plan.inner_text()
    assert note in in_plan.inner_text()
    with johan.expect_navigation():
        johan.get_by_role("navigation", name="About the child").get_by_role("link", name="Chronology").click()
    newest = johan.locator("li.bk-chronology__entry[data-kind]").first
    assert newest.get_attribute("data-kind") == "plan_action_changed"
    assert "Action updated" in newest.inner_text()
    assert "Karin Vik" in newest.inner_text()
    assert_no_console_errors(johan)
    johan.context.close()


# -- (b) a keeper starts a plan and publishes version 1 -----------------------------------------------------
def test_maria_starts_majas_plan_adds_a_need_and_an_action_and_publishes_version_1(browser, served) -> None:  # type: ignore[no-untyped-def]
    app, base_url = served
    assert plan_of(app, "Maja") is None
    maja = child_public_id(app, "Maja")
    maria = log_in(browser, base_url, "maria")
    maria.goto(f"/children/{maja}")
    with maria.expect_navigation():
        maria.get_by_role("navigation", name="About the child").get_by_role("link", name="Plan").click()
    assert maria.url == f"{base_url}/children/{maja}/plan"

    # starting without saying why → refused at the field, nothing written
    start = maria.locator("form[data-form=start-plan]")
    start.get_by_label("Who has overall responsibility").fill("Maria Holm (school) keeps the plan.")
    with maria.expect_navigation() as refused:
        start.get_by_role("button", name="Start the plan").click()
    assert refused.value is not None and refused.value.status == 422
    assert "Say why there is a plan" in maria.locator(".ds-error-summary").inner_text()
    assert plan_of(app, "Maja") is None
    start = maria.locator("form[data-form=start-plan]")
    assert start.get_by_label("Who has overall responsibility").input_value() == "Maria Holm (school) keeps the plan."
    start.get_by_label("Why there is a plan").fill("Maja needs to feel safe on school nights and at school.")
    with maria.expect_navigation():
        start.get_by_role("button", name="Start the plan").click()
    assert "The plan is started" in maria.locator("main").inner_text()
    assert plan_of(app, "Maja") == ("active", 0, 0, 0)

    keeper = maria.locator("[data-section=keeper-forms]")
    keeper.locator("summary", has_text="Add a need").click()
    need = maria.locator("form[data-form=add-need]")
    need.get_by_label("The need", exact=True).fill("Maja needs an adult to talk to in the evenings.")
    need.locator("input[type=checkbox][value=safe]").check()
    need.locator("input[type=checkbox][value=nurtured]").check()
    need.get_by_label("Strengths").fill("Maja is open with her class teacher.")
    with maria.expect_navigation():
        need.get_by_role("button", name="Add the need").click()
    assert "The need is added" in maria.locator("main").inner_text()
    assert plan_of(app, "Maja") == ("active", 1, 0, 0)

    keeper = maria.locator("[data-section=keeper-forms]")
    keeper.locator("summary", has_text="Add an action").click()
    action = maria.locator("form[data-form=add-action]")
    action.get_by_label("What will be done").fill("A short talk with Maja every Monday morning.")
    agency = action.get_by_label("Owning agency")
    agency.select_option(label="Ekby skola")
    person = action.get_by_label("Person (optional)")
    maria_option = person.locator("option", has_text="Maria Holm").first.get_attribute("value")
    person.select_option(maria_option)
    action.get_by_label("Start date (optional)").fill(date.today().isoformat())
    action.get_by_label("Due date (optional)").fill((date.today() + timedelta(days=30)).isoformat())
    action.get_by_label("The need it serves (optional)").select_option(index=1)
    with maria.expect_navigation():
        action.get_by_role("button", name="Add the action").click()
    assert "The action is added" in maria.locator("main").inner_text()
    assert plan_of(app, "Maja") == ("active", 1, 1, 0)
    added = maria.locator("table[data-actions] tbody tr")
    assert added.count() == 1
    assert "A short talk with Maja every Monday morning." in added.inner_text()
    assert "Maria Holm" in added.inner_text()

    # publishing asks first; the version is made only when confirmed
    with maria.expect_navigation():
        maria.get_by_role("link", name="Publish a version of the plan").click()
    assert maria.url == f"{base_url}/children/{maja}/plan/publish"
    assert plan_of(app, "Maja") == ("active", 1, 1, 0)
    with maria.expect_navigation():
        maria.get_by_role("button", name="Publish the version").click()
    assert "A new version of the plan is published" in maria.locator("main").inner_text()
    assert plan_of(app, "Maja") == ("active", 1, 1, 1)
    with maria.expect_navigation():
        maria.get_by_role("link", name="Published versions of the plan").click()
    versions = maria.locator("[data-section=versions] > li")
    assert versions.count() == 1
    assert versions.first.inner_text().startswith("Version 1, published")
    assert_no_console_errors(maria)
    maria.context.close()


# -- (c) the inline update by keyboard ------------------------------------------------------------------------
def test_the_worklist_update_can_be_done_by_keyboard(browser, served) -> None:  # type: ignore[no-untyped-def]
    app, base_url = served
    action_id, status, _note = action_state(app, SLEEP_DIARY)
    assert status == "planned"
    note = "Went through the diary with Omar and Ahmed."

    karin = log_in(browser, base_url, "karin")
    karin.goto("/worklist")
    row = worklist_row(karin, action_id)
    row.locator("[data-child]").focus()  # the row's first stop: the child's name
    karin.keyboard.press("Tab")
    status_select = row.get_by_label("Status")
    assert status_select.evaluate("element => element === document.activeElement")
    while status_select.input_value() != "done":  # planned → in progress → done
        karin.keyboard.press("ArrowDown")
    karin.keyboard.press("Tab")
    assert row.get_by_label("Progress note").evaluate("element => element === document.activeElement")
    karin.keyboard.type(note)
    assert not row.get_by_label("Why it stopped").is_visible(), "only asked for when the action is stopped"
    karin.keyboard.press("Tab")  # straight to Save: "why it stopped" is not shown for Done
    save = row.get_by_role("button", name="Save")
    assert save.evaluate("element => element === document.activeElement")
    with karin.expect_response(lambda r: r.request.method == "POST" and f"/worklist/actions/{action_id}" in r.url):
        karin.keyboard.press("Enter")
    row.locator("[data-saved]").wait_for()
    # the row is swapped; the keyboard user stays where they were (htmx keeps focus on the same id)
    assert row.get_by_role("button", name="Save").evaluate("element => element === document.activeElement")
    assert row.get_attribute("data-status") == "done"
    assert note in row.locator("[data-progress-note]").inner_text()
    assert action_state(app, SLEEP_DIARY) == (action_id, "done", note)
    assert_no_console_errors(karin)
    karin.context.close()


def test_why_it_stopped_is_asked_for_only_when_stopped_is_chosen(browser, served) -> None:  # type: ignore[no-untyped-def]
    app, base_url = served
    action_id, _status, _note = action_state(app, "Samtal på BUP om Noah")
    karin = log_in(browser, base_url, "karin")
    karin.goto("/worklist")
    row = worklist_row(karin, action_id)
    reason = row.get_by_label("Why it stopped")
    assert not reason.is_visible()
    row.get_by_label("Status").select_option("stopped")
    assert reason.is_visible()
    row.get_by_label("Status").select_option("in_progress")
    assert not reason.is_visible()
    karin.context.close()


# -- (d) without JavaScript: a plain form post, back to the worklist with the filters kept --------------------
def test_without_javascript_the_worklist_update_posts_and_returns_with_the_filters(browser, served) -> None:  # type: ignore[no-untyped-def]
    app, base_url = served
    action_id, status, _note = action_state(app, NOAH_BUP_TALKS)
    assert status == "planned"
    note = "Two talks so far; Noah comes on his own."

    karin = log_in(browser, base_url, "karin", java_script_enabled=False)
    karin.goto("/worklist?status=open&child=Noah")
    rows = karin.locator("ul[data-section=my-actions] > li.bk-worklist-row")
    assert [rows.nth(i).get_attribute("data-action") for i in range(rows.count())] == [action_id]
    row = worklist_row(karin, action_id)
    row.get_by_label("Status").select_option("in_progress")
    row.get_by_label("Progress note").fill(note)
    with karin.expect_navigation() as posted:
        row.get_by_role("button", name="Save").click()
    assert posted.value is not None and posted.value.status == 200
    assert posted.value.request.redirected_from is not None, "a plain post, answered with a redirect"
    assert posted.value.request.redirected_from.method == "POST"
    back = urlsplit(karin.url)
    assert back.path == "/worklist"
    assert parse_qs(back.query) == {"status": ["open"], "child": ["Noah"]}, "the filters are kept"
    assert "The action is saved." in karin.locator("main").inner_text()
    assert karin.locator("#filter-child").input_value() == "Noah"
    assert karin.locator("#filter-status").input_value() == "open"
    row = worklist_row(karin, action_id)
    assert row.get_attribute("data-status") == "in_progress"
    assert note in row.locator("[data-progress-note]").inner_text()
    assert action_state(app, NOAH_BUP_TALKS) == (action_id, "in_progress", note)
    assert_no_console_errors(karin)
    karin.context.close()
