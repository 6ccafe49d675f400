"""Browser journeys: Playwright driving the system's Chromium against a live server on a committed
PostgreSQL database with the demo loaded (RULES.md §10 lets the test configuration do that)."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from werkzeug.serving import make_server

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    configured = os.environ.get("BARNKOMPASS_CHROMIUM")
    if configured:
        return configured if os.path.exists(configured) else None
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    path = chromium_path()
    if path is None:
        message = "Chromium is missing: install it with `apt-get install -y chromium` (make test does so as root)"
        if os.environ.get("CI") == "true":
            pytest.fail(message + "; under CI browser tests may not be skipped")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=path, args=CHROMIUM_FLAGS)
        yield instance
        instance.close()


@pytest.fixture()
def live_server(committed_db: Callable[..., Flask]) -> Iterator[str]:
    app = committed_db("demo", DEMO_MODE=True)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture()
def page(browser, live_server):  # type: ignore[no-untyped-def]
    """A fresh browser context per test; collects console errors (a CSP violation is one)."""
    context = browser.new_context(base_url=live_server, locale="sv-SE")
    new_page = context.new_page()
    new_page.console_errors = []  # type: ignore[attr-defined]
    new_page.on(
        "console",
        lambda message: (
            new_page.console_errors.append(message.text)  # type: ignore[attr-defined]
            if message.type == "error"
            else None
        ),
    )
    yield new_page
    context.close()


@pytest.fixture(scope="module")
def signed_in(browser, served) -> Iterator[Callable[[str], object]]:  # type: ignore[no-untyped-def]
    """A logged-in page per persona on the module's ``served`` demo, made on first use and kept for the
    module (console errors reset)."""
    from tests.browser.support import log_in, new_page

    _app, base_url = served
    pages: dict[str, object] = {}

    def page_for(persona: str):  # type: ignore[no-untyped-def]
        if persona not in pages:
            page = new_page(browser, base_url)
            log_in(page, persona)
            pages[persona] = page
        page = pages[persona]
        page.console_errors.clear()  # type: ignore[attr-defined]
        return page

    yield page_for
    for page in pages.values():
        page.context.close()  # type: ignore[attr-defined]
