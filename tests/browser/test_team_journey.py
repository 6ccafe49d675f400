"""The individual child team in a real browser (UX.md journey 1, as far as issue 4 reaches): the Support
Coordinator proposes a meeting from the Team tab by keyboard, a team member sees it, the police get 404;
and a Child Contact asks a practitioner of a consented agency to become Support Coordinator, who accepts.

On the demo (DEMO.md): johan is Omar's Support Coordinator, karin (BUP) is on Omar's team, erik (police)
is not. Noah has no Support Coordinator; his school consent (maria's agency) and his own BUP consent are
both for coordination, so maria can ask karin. Pages are switched to English after login."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta

import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.serving import make_server

pytestmark = pytest.mark.postgresql_only

PLACE = "Ekby skola, meeting room 3"


@pytest.fixture()
def served(committed_db: Callable[..., Flask]) -> Iterator[tuple[Flask, str]]:
    """The demo app on a committed database of its own, served on a free port; the app too, to read public
    ids and check what was written."""
    app = committed_db("demo", DEMO_MODE=True)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield app, f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def log_in(browser, base_url: str, username: str, english: bool = True):  # type: ignore[no-untyped-def]
    """A fresh browser context for one persona, logged in through the form at /login (switched to English);
    console errors are collected on the page."""
    context = browser.new_context(base_url=base_url, locale="sv-SE")
    page = context.new_page()
    page.console_errors = []  # type: ignore[attr-defined]
    page.on("console", lambda m: page.console_errors.append(m.text) if m.type == "error" else None)  # type: ignore[attr-defined]
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", "demo")
    page.get_by_role("button", name="Logga in", exact=True).click()
    page.wait_for_url("**/")
    if english:
        with page.expect_navigation():
            page.get_by_role("button", name="English").click()
        assert page.locator("html").get_attribute("lang") == "en"
    return page


def assert_no_console_errors(page) -> None:  # type: ignore[no-untyped-def]
    """No console error, apart from the browser's notes on an expected 404 or a refused form (422)."""
    errors = [t for t in page.console_errors if "status of 422" not in t and "status of 404" not in t]
    assert errors == [], errors


def child_public_id(app: Flask, given_name: str) -> str:
    from coordination.children.models import Child
    from coordination.database import db

    with app.app_context():
        return db.session.scalar(select(Child.public_id).where(Child.given_name == given_name).order_by(Child.id))


def meetings_of(app: Flask, given_name: str) -> dict[str, tuple[str, str]]:
    """public id → (state, place) of the child's meetings."""
    from coordination.children.models import Child
    from coordination.database import db
    from coordination.teams.models import Meeting

    with app.app_context():
        rows = db.session.execute(
            select(Meeting.public_id, Meeting.state, Meeting.place)
            .join(Child, Child.id == Meeting.child_id)
            .where(Child.given_name == given_name)
        ).all()
        return {row.public_id: (row.state, row.place) for row in rows}


# -- typing into the browser's own date and time fields ---------------------------------------------------------
def _keys(order: str, moment: datetime) -> list[str]:
    """Keystrokes for a datetime-local field. Its segments follow the browser's locale (month/day/year and a
    12-hour clock in the test browser); a full segment moves on by itself, except the year (a Tab)."""
    if order == "mdy":
        hour = moment.hour % 12 or 12
        return [
            f"{moment.month:02d}{moment.day:02d}{moment.year:04d}",
            "Tab",
            f"{hour:02d}{moment.minute:02d}",
            "AM" if moment.hour < 12 else "PM",
        ]
    return [f"{moment.year:04d}", "Tab", f"{moment.month:02d}{moment.day:02d}", f"{moment.hour:02d}{moment.minute:02d}"]


def _press(page, keys: list[str]) -> None:  # type: ignore[no-untyped-def]
    for key in keys:
        if key == "Tab":
            page.keyboard.press("Tab")
        else:
            page.keyboard.type(key)


def _value(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M")


def field_order(page) -> str:  # type: ignore[no-untyped-def]
    """The order of a datetime-local field's segments in this browser, found on a scratch page."""
    probe = datetime(2026, 11, 22, 13, 30)
    scratch = page.context.new_page()
    try:
        for order in ("mdy", "ymd"):
            scratch.set_content('<input type="datetime-local" id="probe">')
            scratch.focus("#probe")
            _press(scratch, _keys(order, probe))
            if scratch.input_value("#probe") == _value(probe):
                return order
    finally:
        scratch.close()
    raise AssertionError("the browser's datetime-local field takes neither order")


def type_moment(page, selector: str, moment: datetime, order: str) -> None:  # type: ignore[no-untyped-def]
    page.focus(selector)
    _press(page, _keys(order, moment))
    assert page.input_value(selector) == _value(moment)


def open_team_tab(page, given_name: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"/search?q={given_name}")
    page.locator("main").get_by_role("link", name=given_name, exact=False).first.click()
    page.wait_for_load_state()
    with page.expect_navigation():
        page.get_by_role("navigation", name="About the child").get_by_role("link", name="Team").click()


# -- the tests -------------------------------------------------------------------------------------------------
def test_the_police_get_404_for_omars_team_tab_and_his_meeting(browser, served) -> None:  # type: ignore[no-untyped-def]
    app, base_url = served
    omar = child_public_id(app, "Omar")
    (held,) = [public_id for public_id, (state, _place) in meetings_of(app, "Omar").items() if state == "held"]
    erik = log_in(browser, base_url, "erik", english=False)
    for path in (f"/children/{omar}/team", f"/children/{omar}/meetings/{held}", f"/children/{omar}/meetings/new"):
        response = erik.goto(path)
        assert response is not None and response.status == 404, path
        assert "meeting room" not in erik.content()
    erik.context.close()


def test_the_support_coordinator_proposes_a_meeting_the_team_sees_it_and_the_police_do_not(browser, served) -> None:  # type: ignore[no-untyped-def]
    app, base_url = served
    omar = child_public_id(app, "Omar")
    before = meetings_of(app, "Omar")
    day = date.today() + timedelta(days=14)
    starts, ends = datetime.combine(day, time(9, 30)), datetime.combine(day, time(11, 0))

    johan = log_in(browser, base_url, "johan")
    open_team_tab(johan, "Omar")
    assert johan.url == f"{base_url}/children/{omar}/team"
    assert johan.locator("[data-you-keep-the-plan]").is_visible()
    with johan.expect_navigation():
        johan.get_by_role("link", name="Propose a meeting").click()
    order = field_order(johan)

    # By keyboard: an end before the start → refused next to the field, what was typed kept
    type_moment(johan, "#starts_at", starts, order)
    type_moment(johan, "#ends_at", starts - timedelta(hours=1), order)
    johan.focus("#place")
    johan.keyboard.press("Control+A")
    johan.keyboard.type(PLACE)
    johan.focus("form[data-form=propose-meeting] button[type=submit]")
    with johan.expect_navigation() as refused:
        johan.keyboard.press("Enter")
    assert refused.value is not None and refused.value.status == 422
    summary_link = johan.locator(".ds-error-summary").get_by_role("link", name="The meeting must end after it starts")
    assert summary_link.get_attribute("href") == "#ends_at"
    assert johan.input_value("#starts_at") == _value(starts)
    assert johan.input_value("#place") == PLACE
    assert meetings_of(app, "Omar") == before, "nothing was written"

    # Corrected by keyboard and proposed
    type_moment(johan, "#ends_at", ends, order)
    johan.focus("form[data-form=propose-meeting] button[type=submit]")
    with johan.expect_navigation():
        johan.keyboard.press("Enter")
    (meeting_id,) = set(meetings_of(app, "Omar")) - set(before)
    assert meetings_of(app, "Omar")[meeting_id] == ("planned", PLACE)
    assert johan.url == f"{base_url}/children/{omar}/meetings/{meeting_id}"
    assert "Meeting proposed" in johan.locator("main .ds-alert[role=status]").inner_text()
    with johan.expect_navigation():
        johan.get_by_role("link", name="Back to the Team tab").first.click()
    listed = johan.locator(f"[data-list=upcoming] li[data-meeting='{meeting_id}']")
    assert listed.get_attribute("data-state") == "planned"
    assert listed.locator("[data-place]").inner_text() == PLACE
    assert_no_console_errors(johan)
    johan.context.close()

    # karin (BUP, on Omar's team) sees it
    karin = log_in(browser, base_url, "karin")
    open_team_tab(karin, "Omar")
    seen = karin.locator(f"[data-list=upcoming] li[data-meeting='{meeting_id}']")
    assert seen.locator("[data-place]").inner_text() == PLACE
    assert karin.get_by_role("link", name="Propose a meeting").count() == 0, "only the plan keeper proposes"
    with karin.expect_navigation():
        seen.get_by_role("link").click()
    assert karin.url == f"{base_url}/children/{omar}/meetings/{meeting_id}"
    assert PLACE in karin.locator("main").inner_text()
    assert_no_console_errors(karin)
    karin.context.close()

    # erik (police) gets 404 on the meeting's address
    erik = log_in(browser, base_url, "erik")
    response = erik.goto(f"/children/{omar}/meetings/{meeting_id}")
    assert response is not None and response.status == 404
    assert PLACE not in erik.content()
    erik.context.close()


def test_a_child_contact_asks_a_consented_agencys_practitioner_to_become_support_coordinator(browser, served) -> None:  # type: ignore[no-untyped-def]
    app, base_url = served
    noah = child_public_id(app, "Noah")
    maria = log_in(browser, base_url, "maria")
    response = maria.goto(f"/children/{noah}/coordinator-requests/new")
    assert response is not None and response.status == 200
    picker = maria.locator("form[data-form=request-coordinator]")
    # nobody chosen → refused next to the field, nothing sent
    with maria.expect_navigation() as refused:
        picker.get_by_role("button", name="Send the requests").click()
    assert refused.value is not None and refused.value.status == 422
    assert "Choose at least one person to ask" in maria.locator(".ds-error-summary").inner_text()
    picker = maria.locator("form[data-form=request-coordinator]")
    karin_box = picker.get_by_label("Karin Vik", exact=False)
    assert karin_box.count() == 1, picker.inner_text()
    karin_box.check()
    maria.fill("#message", "Noah would like BUP to keep his plan together. Could you take it on?")
    with maria.expect_navigation():
        picker.get_by_role("button", name="Send the requests").click()
    assert "1 person asked to become Support Coordinator" in maria.locator("main .ds-alert[role=status]").inner_text()
    assert_no_console_errors(maria)
    maria.context.close()

    karin = log_in(browser, base_url, "karin")
    item = karin.locator("li.bk-inbox__item[data-kind=coordinator_request]")
    karin.goto("/inbox")
    assert item.count() >= 1
    with karin.expect_navigation():
        item.first.get_by_role("button").click()
    assert f"/children/{noah}/coordinator-requests/" in karin.url
    assert "Noah would like BUP" in karin.locator("[data-field=message]").inner_text()
    with karin.expect_navigation():
        karin.locator("form[data-form=accept]").get_by_role("button", name="Accept").click()
    assert "You are now the Support Coordinator" in karin.locator("main .ds-alert[role=status]").inner_text()
    open_team_tab(karin, "Noah")
    assert "Karin Vik" in karin.locator("[data-section=keeper]").inner_text()
    assert karin.locator("[data-you-keep-the-plan]").is_visible()
    assert_no_console_errors(karin)
    karin.context.close()
