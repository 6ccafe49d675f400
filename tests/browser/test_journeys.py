"""The skeleton's journeys in a real browser: pick a persona, see who you are, switch language, log
out; the keyboard alone; a phone; and an axe-core scan of every page kind with zero violations."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

pytestmark = pytest.mark.postgresql_only


def assert_accessible(page) -> None:  # type: ignore[no-untyped-def]
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()


def assert_no_console_errors(page) -> None:  # type: ignore[no-untyped-def]
    assert page.console_errors == [], page.console_errors


def test_a_persona_logs_in_switches_language_and_logs_out(page) -> None:  # type: ignore[no-untyped-def]
    page.goto("/")
    assert page.url.endswith("/login?next=%2F")
    assert_accessible(page)
    page.get_by_role("button", name="maria").click()
    page.wait_for_url("**/")
    assert page.get_by_role("heading", level=1).inner_text() == "Mina barn"
    assert "Omar Hassan" in page.locator("#child-list").inner_text()
    assert "Ekby skola" in (page.locator("#who-am-i").text_content() or "")
    assert page.get_by_role("navigation", name="Huvudmeny").get_by_role("link", name="Mina barn").is_visible()
    assert_accessible(page)

    page.get_by_role("button", name="English").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == "My children"
    assert page.locator("html").get_attribute("lang") == "en"

    page.get_by_role("button", name="Log out").click()
    page.wait_for_load_state()
    assert "/login" in page.url
    page.goto("/")
    assert "/login" in page.url, "after logout the home page asks for a login again"
    assert_no_console_errors(page)


def test_logging_in_with_the_keyboard_alone(page) -> None:  # type: ignore[no-untyped-def]
    page.goto("/login")
    page.keyboard.press("Tab")
    skip_link = page.locator(":focus")
    assert skip_link.inner_text() == "Hoppa till huvudinnehållet"
    page.keyboard.press("Enter")
    page.locator("#username").focus()
    page.keyboard.type("anna")
    page.keyboard.press("Tab")
    page.keyboard.type("demo")
    page.keyboard.press("Enter")
    page.wait_for_url("**/")
    assert page.get_by_role("heading", level=1).inner_text() == "Mina barn"
    assert "Elsa Karlsson" in page.locator("#child-list").inner_text()
    assert_no_console_errors(page)


def test_a_wrong_password_is_shown_next_to_the_form_and_keeps_the_username(page) -> None:  # type: ignore[no-untyped-def]
    page.goto("/login")
    page.fill("#username", "anna")
    page.fill("#password", "not-the-password")
    page.get_by_role("button", name="Logga in", exact=True).click()
    page.wait_for_load_state()
    summary = page.locator(".ds-error-summary")
    assert "Användarnamnet eller lösenordet är fel." in summary.inner_text()
    assert page.input_value("#username") == "anna"
    assert page.input_value("#password") == ""
    assert_accessible(page)


@pytest.mark.parametrize("persona", ["admin", "fia", "lena", "noah", "bodil"])
def test_every_kind_of_home_page_is_accessible(page, persona: str) -> None:  # type: ignore[no-untyped-def]
    page.goto("/login")
    page.get_by_role("button", name=persona, exact=False).first.click()
    page.wait_for_url("**/")
    assert_accessible(page)
    assert_no_console_errors(page)


def test_a_guardian_on_a_phone(browser, live_server) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=live_server, viewport={"width": 390, "height": 800}, locale="sv-SE")
    phone = context.new_page()
    phone.goto("/login")
    phone.fill("#username", "lena")
    phone.fill("#password", "demo")
    phone.get_by_role("button", name="Logga in", exact=True).click()
    phone.wait_for_url("**/")
    assert phone.get_by_role("heading", level=1).inner_text() == "Välkommen, Lena"
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways on a phone ({width}px)"
    context.close()


PAGES_TO_SCAN = [
    ("maria", "/search?q=Omar"),
    ("maria", "child:Omar"),
    ("maria", "child:Omar/consent"),
    ("maria", "child:Omar/consent/record"),
    ("maria", "child:Leo"),
    ("maria", "/children/new"),
    ("maria", "/agency/"),
    ("maria", "/agency/children-without-child-contact"),
    ("maria", "/agency/reassign"),
    ("admin", "/admin/staff"),
    ("admin", "/admin/agencies"),
    ("sara", "child:Liam/consent"),
]


@pytest.mark.parametrize(("persona", "target"), PAGES_TO_SCAN)
def test_the_access_core_pages_are_accessible(page, persona: str, target: str) -> None:  # type: ignore[no-untyped-def]
    page.goto("/login")
    page.get_by_role("button", name=persona, exact=False).first.click()
    page.wait_for_url("**/")
    if target.startswith("child:"):
        name, _, rest = target[len("child:") :].partition("/")
        if persona == "admin":
            raise AssertionError("admin sees no child")
        page.goto("/search?q=" + name)
        page.get_by_role("link", name=name, exact=False).first.click()
        page.wait_for_load_state()
        if rest:
            page.goto(page.url.rstrip("/") + "/" + rest)
    else:
        page.goto(target)
    page.wait_for_load_state()
    assert page.locator("main h1").count() == 1
    assert_accessible(page)
    assert_no_console_errors(page)
