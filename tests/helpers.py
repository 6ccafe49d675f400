"""Small helpers for driving the app through its pages, the way a browser would."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    html = client.get(path).get_data(as_text=True)
    match = _CSRF.search(html)
    assert match, f"no CSRF token on {path}"
    return match.group(1) or match.group(2)


def login(client: FlaskClient, username: str, password: str = "demo", follow: bool = False):  # type: ignore[no-untyped-def]
    token = csrf_token(client, "/login")
    return client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}, follow_redirects=follow
    )


def logout(client: FlaskClient):  # type: ignore[no-untyped-def]
    token = csrf_token(client, "/")
    return client.post("/logout", data={"csrf_token": token})


def post_form(client: FlaskClient, path: str, data: dict[str, str], token_from: str = "/", **kwargs):  # type: ignore[no-untyped-def]
    payload = dict(data)
    payload["csrf_token"] = csrf_token(client, token_from)
    return client.post(path, data=payload, **kwargs)
