"""Issue 16, on a phone (360 × 740): the header is compact (the navigation folds behind "Meny", a <details>
that works without JavaScript), the child's tabs are one row that scrolls on its own, the Plan tab shows each
action as a card whose due date and status are on screen, and the worklist's filters fold behind a disclosure
that names the filters in force, so the first action is near the top. On a wide screen the menu and the
filters show as before, with no disclosure to open. Demo: johan keeps Omar's plan, karin owns Omar's BUP
actions (DEMO.md)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import select

from tests.browser.support import assert_accessible, assert_no_console_errors, log_in, new_page, serve_demo
from tests.conftest import DatabaseFactory

pytestmark = pytest.mark.postgresql_only

PHONE = {"width": 360, "height": 740}
WIDE = {"width": 1280, "height": 900}
TOLERANCE = 2  # px: sub-pixel rounding of the layout
HEADER_MAX = 120  # px, on a phone with the menu closed
SCREENS = 2  # the first action starts within the first two screens


@pytest.fixture(scope="module")
def served(databases: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, str]]:
    with serve_demo(databases, tmp_path_factory, "phone") as app_and_url:
        yield app_and_url


@pytest.fixture()
def device(browser, served):  # type: ignore[no-untyped-def]
    """A page of its own per viewport and persona: ``device("karin", PHONE)``."""
    _app, base_url = served
    opened = []

    def open_as(persona: str, viewport: dict[str, int]):  # type: ignore[no-untyped-def]
        page = new_page(browser, base_url, viewport=viewport)
        opened.append(page)
        log_in(page, persona)
        return page

    yield open_as
    for page in opened:
        page.context.close()


def omar_plan(app: Flask) -> str:
    from coordination.children.models import Child
    from coordination.database import db

    with app.app_context():
        public_id = db.session.scalar(
            select(Child.public_id).where(Child.given_name == "Omar").order_by(Child.id).limit(1)
        )
    return f"/children/{public_id}/plan"


def go(page, path: str):  # type: ignore[no-untyped-def]
    response = page.goto(path)
    assert response is not None and response.status == 200, (path, response and response.status)
    page.wait_for_load_state()
    return page


def page_width(page) -> int:  # type: ignore[no-untyped-def]
    return page.evaluate("document.scrollingElement.scrollWidth")


def label_of(cell) -> str:  # type: ignore[no-untyped-def]
    """What a card's cell shows before its value (its ::before content, read by screen readers too)."""
    return cell.evaluate("e => getComputedStyle(e, '::before').content")


def assert_on_screen_sideways(locator, what: str) -> None:  # type: ignore[no-untyped-def]
    """Visible, and wholly within 0..360 px of the page (the page itself not scrolled sideways)."""
    assert locator.is_visible(), f"{what} is not shown"
    box = locator.bounding_box()
    assert box is not None, what
    assert box["x"] >= -TOLERANCE and box["x"] + box["width"] <= PHONE["width"] + TOLERANCE, (what, box)


def assert_within_first_screens(locator, what: str) -> None:  # type: ignore[no-untyped-def]
    box = locator.bounding_box()
    assert box is not None, what
    top = box["y"] + locator.page.evaluate("window.scrollY")
    assert top < SCREENS * PHONE["height"], f"{what} starts {top:.0f}px down"


# -- the header ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("persona", ["johan", "karin"])
def test_on_a_phone_the_header_is_compact_and_the_menu_opens_without_javascript(device, persona: str) -> None:  # type: ignore[no-untyped-def]
    page = device(persona, PHONE)
    go(page, "/worklist")
    header = page.locator("header.bk-header")
    nav = header.locator("nav.bk-nav")
    menu = header.locator("details[data-section=menu]")
    # closed at first: the navigation and the log-out button are not shown, the header is one short row
    assert menu.get_attribute("open") is None
    assert not nav.is_visible()
    assert not header.get_by_role("button", name="Logga ut").is_visible()
    height = header.bounding_box()["height"]
    assert height < HEADER_MAX, f"the header is {height:.0f}px high on a phone"
    assert page.locator(".bk-demo-banner").bounding_box()["height"] < HEADER_MAX
    # the summary is the disclosure button screen readers announce (collapsed), reached by keyboard
    toggle = menu.locator("summary")
    assert toggle.inner_text().strip() == "Meny"
    toggle.focus()
    page.keyboard.press("Enter")
    assert menu.get_attribute("open") is not None
    assert nav.is_visible()
    for link in nav.get_by_role("link").all():
        assert_on_screen_sideways(link, "a menu link")
    assert_on_screen_sideways(header.get_by_role("button", name="Logga ut"), "log out")
    assert page_width(page) <= PHONE["width"] + TOLERANCE
    assert_accessible(page)
    page.keyboard.press("Enter")
    assert not nav.is_visible()
    assert_no_console_errors(page)


@pytest.mark.parametrize("width", [320, 360, 375, 414])
def test_the_closed_menu_never_widens_the_page(device, served, width: int) -> None:  # type: ignore[no-untyped-def]
    app, _base_url = served
    page = device("johan", {"width": width, "height": 740})
    for path in ("/", "/worklist", omar_plan(app), omar_plan(app) + "/versions"):
        go(page, path)
        assert page_width(page) <= width + TOLERANCE, (path, page_width(page))


def test_on_a_wide_screen_the_navigation_shows_without_a_menu(device) -> None:  # type: ignore[no-untyped-def]
    page = device("karin", WIDE)
    go(page, "/worklist")
    header = page.locator("header.bk-header")
    assert not header.locator("details[data-section=menu] > summary").is_visible()
    assert header.locator("nav.bk-nav").is_visible()
    assert header.locator("nav.bk-nav a").first.is_visible()
    assert header.get_by_role("button", name="Logga ut").is_visible()
    assert header.bounding_box()["height"] < HEADER_MAX
    assert_accessible(page)


# -- the Plan tab --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("persona", ["johan", "karin"])
def test_on_a_phone_the_plan_tab_shows_the_first_actions_due_date_and_status(device, served, persona: str) -> None:  # type: ignore[no-untyped-def]
    app, _base_url = served
    page = go(device(persona, PHONE), omar_plan(app))
    assert page_width(page) <= PHONE["width"] + TOLERANCE, "the page scrolls sideways"
    first = page.locator("table[data-actions] tr[data-action]").first
    # the plan's texts and needs come first; the action itself is a card that fits on one screen
    assert first.bounding_box()["height"] < PHONE["height"], "an action's card is taller than the screen"
    assert_on_screen_sideways(first.locator("[data-cell=what]"), "what")
    assert_on_screen_sideways(first.locator("[data-cell=owner]"), "who")
    due = first.locator("[data-cell=due]")
    status = first.locator("[data-cell=status]")
    assert_on_screen_sideways(due, "the due date")
    assert_on_screen_sideways(status, "the status")
    # each value after its label (the table's header row is there for screen readers only)
    assert label_of(due) == '"Klart senast: "', label_of(due)
    assert label_of(status) == '"Status: "', label_of(status)
    # the table scrolls nowhere: not the page, not its own region
    region = page.locator("[data-section=actions] .bk-table-scroll")
    assert region.evaluate("e => e.scrollWidth <= e.clientWidth + 2")
    # the child's tabs: one row, which may scroll on its own, never the page
    tabs = page.locator("nav.bk-tabs li")
    tops = {round(tab.bounding_box()["y"]) for tab in tabs.all()}
    assert len(tops) == 1, f"the tabs wrap onto {len(tops)} rows"
    assert page.locator("nav.bk-tabs [aria-current=page]").count() == 1
    assert_accessible(page)
    assert_no_console_errors(page)


def test_on_a_wide_screen_the_actions_stay_a_table(device, served) -> None:  # type: ignore[no-untyped-def]
    app, _base_url = served
    page = go(device("johan", WIDE), omar_plan(app))
    table = page.locator("table[data-actions]")
    assert table.evaluate("e => getComputedStyle(e).display") == "table"
    assert table.locator("thead th").first.is_visible()
    first = table.locator("tr[data-action]").first
    due, status = first.locator("[data-cell=due]"), first.locator("[data-cell=status]")
    assert abs(due.bounding_box()["y"] - status.bounding_box()["y"]) < 2, "due and status on one row"
    assert label_of(status) == "none", "no card labels in the table"


# -- the worklist --------------------------------------------------------------------------------------------
def test_on_a_phone_the_worklist_filters_fold_and_the_first_action_is_near_the_top(device) -> None:  # type: ignore[no-untyped-def]
    page = go(device("karin", PHONE), "/worklist")
    assert page_width(page) <= PHONE["width"] + TOLERANCE, "the page scrolls sideways"
    disclosure = page.locator("details[data-section=worklist-filter-disclosure]")
    form = page.locator("form[data-section=worklist-filters]")
    assert not form.is_visible(), "the filters start folded on a phone"
    # the summary names the filters in force (the default status filter at least)
    chosen_status = form.locator("#filter-status option:checked").text_content().strip()
    summary = disclosure.locator("summary")
    assert chosen_status in summary.inner_text()
    first = page.locator("li.bk-worklist-row").first
    assert_within_first_screens(first, "the first action")
    assert_on_screen_sideways(first.locator("[data-dates]"), "the due date")
    assert_on_screen_sideways(first.locator("[data-status-label]"), "the status")
    summary.click()
    assert form.is_visible()
    assert_on_screen_sideways(form.get_by_role("button", name="Filtrera"), "the filter button")
    assert_accessible(page)
    assert_no_console_errors(page)


def test_the_folded_filters_say_which_filters_are_active(device) -> None:  # type: ignore[no-untyped-def]
    page = go(device("karin", PHONE), "/worklist?due=overdue&child=Omar")
    summary = page.locator("details[data-section=worklist-filter-disclosure] summary")
    due_label = page.locator("#filter-due option:checked").text_content().strip()
    assert due_label in summary.inner_text()
    assert "Omar" in summary.inner_text()
    # a default filter is not listed as chosen: with none, only the status shows
    go(page, "/worklist")
    assert due_label not in page.locator("details[data-section=worklist-filter-disclosure] summary").inner_text()


def test_on_a_wide_screen_the_worklist_filters_show_without_opening(device) -> None:  # type: ignore[no-untyped-def]
    page = go(device("karin", WIDE), "/worklist")
    assert page.locator("form[data-section=worklist-filters]").is_visible()
    assert not page.locator("details[data-section=worklist-filter-disclosure] > summary").is_visible()
    assert_accessible(page)
