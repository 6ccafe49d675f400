"""What the browser tests share: a demo app served for a module, a page per persona, and the checks every
page gets (axe, console errors)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from axe_playwright_python.sync_playwright import Axe
from flask import Flask
from werkzeug.serving import make_server

from tests.conftest import DatabaseFactory, make_test_app

PHONE_WIDTH = 375


@contextmanager
def serve_demo(
    databases: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory, label: str
) -> Iterator[tuple[Flask, str]]:
    """The demo app on a committed database of its own, served on a free port; the app too, to look up public
    ids and check what was written. The database is dropped afterwards."""
    url = databases.copy_of("demo", label)
    app = make_test_app(url, tmp_path_factory.mktemp(f"{label}-instance"), DEMO_MODE=True)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield app, f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        app.extensions["database"].engine.dispose()
        databases.drop(url)


def log_in(page, persona: str) -> None:  # type: ignore[no-untyped-def]
    page.goto("/login")
    page.get_by_role("button", name=persona, exact=False).first.click()
    page.wait_for_url("**/")


def assert_accessible(page) -> None:  # type: ignore[no-untyped-def]
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()


def assert_no_console_errors(page) -> None:  # type: ignore[no-untyped-def]
    errors = [text for text in page.console_errors if "status of 422" not in text]
    assert errors == [], errors


def new_page(browser, base_url: str, **options):  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=base_url, locale="sv-SE", **options)
    page = context.new_page()
    page.console_errors = []  # type: ignore[attr-defined]
    page.on("console", lambda m: page.console_errors.append(m.text) if m.type == "error" else None)  # type: ignore[attr-defined]
    return page
