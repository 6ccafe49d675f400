"""Response headers for every page: CSP without inline script or style, no caching of personal data,
HSTS outside local development, and a request id."""

from __future__ import annotations

import logging
import re
import secrets
import time

from flask import Flask, Response, g, request

from coordination.database import mark_request_writes, reset_request_writes

WRITING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

log = logging.getLogger("barnkompass.request")
_DIGIT_RUN = re.compile(r"\d[\d+-]{5,}\d")


def loggable_path(path: str) -> str:
    """The path without long digit runs: a mistyped URL must not put an identity number in a log."""
    return _DIGIT_RUN.sub("<digits>", path[:200])


CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)


def init_app(app: Flask) -> None:
    @app.before_request
    def _start() -> None:
        # The first hook of every request (registered before CSRF and the user loader): a request id,
        # and whether the request writes (SQLite then begins its transactions with BEGIN IMMEDIATE).
        g.request_id = secrets.token_hex(8)
        g.request_started = time.perf_counter()
        g._bk_writes_token = mark_request_writes(request.method in WRITING_METHODS)

    @app.teardown_request
    def _end(_exc: BaseException | None) -> None:
        token = g.pop("_bk_writes_token", None)
        if token is not None:
            reset_request_writes(token)

    @app.after_request
    def _headers(response: Response) -> Response:
        headers = response.headers
        headers["Content-Security-Policy"] = CSP
        headers["X-Content-Type-Options"] = "nosniff"
        headers["X-Frame-Options"] = "DENY"
        headers["Referrer-Policy"] = "same-origin"
        headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=()"
        headers["Cross-Origin-Opener-Policy"] = "same-origin"
        headers["X-Request-ID"] = g.get("request_id", "-")
        if request.endpoint != "static":
            # Pages may carry personal data: never stored by the browser or a proxy.
            headers["Cache-Control"] = "no-store"
            headers["Pragma"] = "no-cache"
            headers.add("Vary", "HX-Request")
            headers.add("Vary", "Cookie")
        if app.config["ENVIRONMENT"] == "production":
            headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
        started = g.get("request_started")
        elapsed = (time.perf_counter() - started) * 1000 if started else 0.0
        log.info("%s %s %s %.1fms", request.method, loggable_path(request.path), response.status_code, elapsed)
        return response
