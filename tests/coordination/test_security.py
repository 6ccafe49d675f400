"""Security headers, page markup that a strict CSP allows, error pages without internals, the health
check, "GET never changes state", request logging without identity numbers, and pinned query counts."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.conftest import DB_KIND, LOG_STATE
from tests.helpers import login

REQUEST_ID = re.compile(r"[0-9a-f]{16}")
HOME_PERSONAS = ("anna", "maria", "admin", "fia", "lena", "noah")  # staff, agency admin, platform admin,
# analyst, guardian, young person: one of each kind of home page


# -- what a page is made of ---------------------------------------------------------------------------
@dataclass
class PageShape:
    """What the HTML parser saw: enough to check the rules a strict CSP and the layout impose."""

    tags: list[tuple[str, dict[str, str | None]]] = field(default_factory=list)
    script_bodies: list[str] = field(default_factory=list)

    def all(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.tags if name == tag]


class _ShapeParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.shape = PageShape()
        self._in_script = False
        self._script: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.shape.tags.append((tag, dict(attrs)))
        if tag == "script":
            self._in_script = True
            self._script = []

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.shape.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._in_script:
            self.shape.script_bodies.append("".join(self._script))
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self._script.append(data)


def page_shape(html: str) -> PageShape:
    parser = _ShapeParser()
    parser.feed(html)
    parser.close()
    return parser.shape


def assert_security_headers(response: TestResponse, *, static: bool = False) -> None:
    headers = response.headers
    csp = headers.get("Content-Security-Policy", "")
    directives = {part.strip().split(" ", 1)[0]: part.strip() for part in csp.split(";") if part.strip()}
    assert directives.get("default-src") == "default-src 'self'", csp
    assert directives.get("script-src") == "script-src 'self'", csp
    assert directives.get("style-src") == "style-src 'self'", csp
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp, csp
    assert headers.get("X-Content-Type-Options") == "nosniff"
    assert headers.get("X-Frame-Options") == "DENY"
    assert headers.get("Referrer-Policy"), "a Referrer-Policy"
    assert REQUEST_ID.fullmatch(headers.get("X-Request-ID", "")), f"a request id, got {headers.get('X-Request-ID')!r}"
    if not static:
        assert "no-store" in headers.get("Cache-Control", ""), "pages may carry personal data: never stored"
        vary = {value.strip().lower() for line in headers.getlist("Vary") for value in line.split(",")}
        assert "hx-request" in vary, headers.getlist("Vary")


def assert_page_markup(html: str, *, logged_in: bool) -> None:
    shape = page_shape(html)
    # No inline script: every <script> is empty and loads a file.
    scripts = shape.all("script")
    assert scripts, "the page loads htmx"
    assert all(attrs.get("src") for attrs in scripts), "every script comes from a file"
    assert all(not body.strip() for body in shape.script_bodies), "no inline script content"
    # No inline style and no inline event handlers (the CSP blocks both; hx-on needs eval).
    for tag, attrs in shape.tags:
        assert "style" not in attrs, f"<{tag} style=…>"
        handlers = [name for name in attrs if name.startswith(("on", "hx-on"))]
        assert not handlers, f"<{tag}> has inline handlers {handlers}"
    assert not re.search(r"\sstyle\s*=", html), "no style attribute anywhere"
    assert "<style" not in html.lower(), "no inline <style> block"
    # Layout landmarks.
    html_tags = shape.all("html")
    assert len(html_tags) == 1 and html_tags[0].get("lang"), "<html lang=…>"
    assert len(shape.all("main")) == 1, "exactly one <main>"
    assert shape.all("main")[0].get("id") == "main"
    assert len(shape.all("header")) == 1, "one <header>"
    links = shape.all("a")
    assert links and links[0].get("href") == "#main", "the first link skips to the main content"
    if logged_in:
        assert len(shape.all("nav")) == 1, "a logged-in page has the main menu"
    # htmx configured for the CSP: no indicator styles injected, no eval.
    metas = [attrs for attrs in shape.all("meta") if attrs.get("name") == "htmx-config"]
    assert len(metas) == 1, "one htmx-config meta"
    config = json.loads(metas[0]["content"] or "")
    assert config["includeIndicatorStyles"] is False
    assert config["allowEval"] is False
    # The CSRF token for htmx requests rides on <body>, and it is the page's own token.
    bodies = shape.all("body")
    assert len(bodies) == 1
    token = json.loads(bodies[0].get("hx-headers") or "{}").get("X-CSRFToken")
    assert token, "<body hx-headers> carries the CSRF token"
    form_tokens = {attrs.get("value") for attrs in shape.all("input") if attrs.get("name") == "csrf_token"}
    assert token in form_tokens, "hx-headers carries the same token as the page's forms"


def fetch_every_page_type(app: Flask) -> dict[str, TestResponse]:
    """One response of each kind of page, each from a fresh browser (the rollback fixture is active)."""
    pages: dict[str, TestResponse] = {}
    anonymous = app.test_client()
    pages["login"] = anonymous.get("/login")
    pages["404 (anonymous)"] = anonymous.get("/no-such-page")
    pages["400 CSRF"] = anonymous.post("/logout")  # no token
    pages["405"] = anonymous.get("/logout")
    for username in HOME_PERSONAS:
        browser = app.test_client()
        assert login(browser, username).status_code == 302, f"{username} logs in"
        pages[f"home ({username})"] = browser.get("/")
        if username == "anna":
            pages["404 (logged in)"] = browser.get("/no-such-page")
    return pages


EXPECTED_STATUS = {
    "login": 200,
    "404 (anonymous)": 404,
    "400 CSRF": 400,
    "405": 405,
    "404 (logged in)": 404,
    **{f"home ({username})": 200 for username in HOME_PERSONAS},
}


# -- headers --------------------------------------------------------------------------------------------
def test_every_page_type_sends_the_security_headers(app: Flask, db: Any) -> None:
    pages = fetch_every_page_type(app)
    assert {name: response.status_code for name, response in pages.items()} == EXPECTED_STATUS
    for name, response in pages.items():
        try:
            assert_security_headers(response)
        except AssertionError as error:
            raise AssertionError(f"{name}: {error}") from error


def test_the_health_check_and_a_static_file_send_the_security_headers(app: Flask, db: Any) -> None:
    client = app.test_client()
    health = client.get("/healthz")
    assert health.status_code == 200
    assert_security_headers(health)
    static = client.get("/static/css/barnkompass.css")
    try:
        assert static.status_code == 200
        assert_security_headers(static, static=True)
        assert "no-store" not in static.headers.get("Cache-Control", ""), "static files may be cached"
    finally:
        static.close()


def test_requests_get_distinct_request_ids(app: Flask, db: Any) -> None:
    client = app.test_client()
    ids = {client.get("/login").headers["X-Request-ID"] for _ in range(3)}
    assert len(ids) == 3


def test_no_hsts_outside_production(app: Flask, db: Any, committed_db) -> None:  # type: ignore[no-untyped-def]
    assert "Strict-Transport-Security" not in app.test_client().get("/login").headers
    development = committed_db("empty", ENVIRONMENT="development")
    assert "Strict-Transport-Security" not in development.test_client().get("/login").headers


def test_production_sends_hsts(committed_db) -> None:  # type: ignore[no-untyped-def]
    production = committed_db("empty", ENVIRONMENT="production")
    assert production.config["SESSION_COOKIE_SECURE"] is True
    client = production.test_client()
    for path in ("/login", "/healthz"):
        response = client.get(path)
        assert response.status_code == 200, path
        hsts = response.headers.get("Strict-Transport-Security", "")
        max_age = re.search(r"max-age=(\d+)", hsts)
        assert max_age and int(max_age.group(1)) >= 31536000, f"{path}: {hsts!r}"
        assert "includeSubDomains" in hsts
        assert_security_headers(response)


# -- markup ---------------------------------------------------------------------------------------------
def test_no_page_type_has_inline_script_style_or_handlers_and_all_have_the_landmarks(app: Flask, db: Any) -> None:
    pages = fetch_every_page_type(app)
    for name, response in pages.items():
        try:
            assert response.mimetype == "text/html"
            assert_page_markup(
                response.get_data(as_text=True), logged_in=name.startswith("home") or name == "404 (logged in)"
            )
        except AssertionError as error:
            raise AssertionError(f"{name}: {error}") from error


def test_the_markup_check_catches_inline_script_and_style() -> None:
    """The page checks above would fail on a page that breaks the rules (they are not vacuous)."""
    good = (
        '<!doctype html><html lang="sv"><head><meta name="htmx-config" content=\'{"includeIndicatorStyles": '
        'false, "allowEval": false}\'><script src="/static/x.js"></script></head>'
        '<body hx-headers=\'{"X-CSRFToken": "t"}\'><a href="#main">skip</a><header><nav></nav></header>'
        '<main id="main"><form><input name="csrf_token" value="t"></form></main></body></html>'
    )
    assert_page_markup(good, logged_in=True)
    for bad in (
        good.replace("</head>", "<script>alert(1)</script></head>"),
        good.replace("<main id", '<main style="color: red" id'),
        good.replace('<a href="#main">', '<a href="#main" onclick="x()">'),
        good.replace("<form>", '<form hx-on:click="x()">'),
        good.replace('"allowEval": false', '"allowEval": true'),
        good.replace('<a href="#main">skip</a>', ""),
        good.replace("<nav></nav>", ""),
    ):
        with pytest.raises(AssertionError):
            assert_page_markup(bad, logged_in=True)


# -- errors ---------------------------------------------------------------------------------------------
def test_an_unexpected_error_shows_a_friendly_page_with_the_request_id_and_no_traceback(committed_db) -> None:  # type: ignore[no-untyped-def]
    app = committed_db("empty")
    app.add_url_rule("/boom", "boom", lambda: 1 / 0)  # before the first request: Flask allows it then
    response = app.test_client().get("/boom")
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    for internal in ("Traceback", "ZeroDivisionError", "division by zero", 'File "'):
        assert internal not in body, internal
    assert "Något gick fel" in body
    request_id = response.headers["X-Request-ID"]
    assert REQUEST_ID.fullmatch(request_id)
    assert request_id in body, "the page shows the code to give support"
    assert_security_headers(response)
    assert_page_markup(body, logged_in=False)


def test_a_csrf_refusal_has_a_request_id_in_the_log(app: Flask, db: Any) -> None:
    response = app.test_client().post("/logout")
    assert response.status_code == 400
    request_id = response.headers["X-Request-ID"]
    assert REQUEST_ID.fullmatch(request_id)
    log_text = Path(LOG_STATE["app_log"]).read_text(encoding="utf-8")
    assert any(f"[{request_id}]" in line and "POST /logout 400" in line for line in log_text.splitlines())


# -- the health check -------------------------------------------------------------------------------------
def test_the_health_check_answers_503_without_a_traceback_when_the_database_is_down(committed_db) -> None:  # type: ignore[no-untyped-def]
    broken_url = (
        "postgresql+psycopg://postgres@127.0.0.1:1/nowhere"
        if DB_KIND == "postgresql"
        else "sqlite:////nonexistent-directory/barnkompass/nowhere.sqlite"
    )
    app = committed_db("empty", DATABASE_URL=broken_url)
    response = app.test_client().get("/healthz")
    body = response.get_data(as_text=True)
    assert response.status_code == 503
    assert "unavailable" in body
    for internal in ("Traceback", "OperationalError", "Error", "127.0.0.1", "nowhere"):
        assert internal not in body, internal
    assert_security_headers(response)


def test_the_health_check_answers_ok(app: Flask, db: Any) -> None:
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_data(as_text=True).strip() == "ok"
    assert response.mimetype == "text/plain"


# -- GET never changes state -------------------------------------------------------------------------------
def _rules_accepting_get_and_a_write(app: Flask) -> set[str]:
    writes = {"POST", "PUT", "PATCH", "DELETE"}
    return {
        rule.rule
        for rule in app.url_map.iter_rules()
        if "GET" in (rule.methods or set()) and writes & (rule.methods or set())
    }


FORM_PAGES = {
    "/login",
    "/admin/staff/<public_id>/deactivate",
    "/children/<child_id>/consent/record",
    "/children/<child_id>/consent/request",
    "/children/<child_id>/consent/<consent_id>/withdraw",
    "/children/<child_id>/consent/<consent_id>/withdraw-area",
    "/children/<child_id>/consent/maturity",
    # administration in the browser (issue 16): each GET shows the form or the confirmation, writing nothing
    "/admin/settings",
    "/admin/agencies/new",
    "/admin/agencies/<agency_id>/edit",
    "/admin/agencies/<agency_id>/end",
    "/admin/agencies/<agency_id>/units/new",
    "/admin/units/<unit_id>/edit",
    "/admin/units/<unit_id>/end",
    "/admin/staff/new",
    "/admin/staff/<public_id>/edit",
    "/admin/staff/<public_id>/memberships/new",
    "/admin/staff/<public_id>/memberships/<unit_id>",
    "/admin/staff/<public_id>/memberships/<unit_id>/end",
    "/agency/staff/<public_id>/memberships/new",
    "/agency/staff/<public_id>/memberships/<unit_id>",
    "/agency/staff/<public_id>/memberships/<unit_id>/end",
    "/agency/units/new",
    "/agency/units/<unit_id>/edit",
    "/agency/units/<unit_id>/end",
}


def test_no_route_accepts_both_get_and_a_writing_method_except_the_form_pages(app: Flask, committed_db) -> None:  # type: ignore[no-untyped-def]
    # Form pages whose GET shows the form (or a confirmation) and whose POST to the same address does
    # it; each is listed on purpose, so a new one is a conscious choice (its GET must not write).
    assert _rules_accepting_get_and_a_write(app) == FORM_PAGES
    writing_rules = {rule.rule for rule in app.url_map.iter_rules() if "POST" in (rule.methods or set())}
    assert {"/login", "/logout", "/language"} <= writing_rules, "the walk sees the app's write routes"
    # Demo mode adds routes of its own (the persona picker); the same holds there.
    demo = committed_db("empty", DEMO_MODE=True)
    assert any(rule.rule.startswith("/demo/") for rule in demo.url_map.iter_rules())
    assert _rules_accepting_get_and_a_write(demo) == FORM_PAGES


def test_the_login_form_does_not_log_in_on_get(app: Flask, db: Any) -> None:
    client = app.test_client()
    response = client.get("/login?username=maria&password=demo")
    assert response.status_code == 200
    assert client.get("/").status_code == 302, "still logged out"


# -- the request log --------------------------------------------------------------------------------------
def test_the_request_log_line_has_the_request_id_and_masks_digit_runs(app: Flask, db: Any) -> None:
    client = app.test_client()
    login(client, "maria")
    response = client.get("/children/201701012393")
    assert response.status_code == 404
    request_id = response.headers["X-Request-ID"]
    log_text = Path(LOG_STATE["app_log"]).read_text(encoding="utf-8")
    assert "201701012393" not in log_text
    lines = [line for line in log_text.splitlines() if f"[{request_id}]" in line]
    assert lines, "the request's log line carries its id"
    assert any("GET /children/<digits> 404" in line for line in lines), lines


# -- query counts -----------------------------------------------------------------------------------------
def test_the_login_page_sends_no_sql(client: FlaskClient, count_queries) -> None:  # type: ignore[no-untyped-def]
    with count_queries() as counter:
        response = client.get("/login")
    assert response.status_code == 200
    # No session cookie, so no session lookup; demo personas are listed only in demo mode.
    assert counter.count == 0, counter.statements
