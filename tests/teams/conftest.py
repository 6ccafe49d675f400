"""Fixtures of the team tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.helpers import csrf_token, login


@pytest.fixture()
def as_user(app: Flask, db: Any) -> Iterator[Any]:
    """``as_user("maria")``: a logged-in test client, in English."""

    def make(username: str) -> FlaskClient:
        client = app.test_client()
        assert login(client, username).status_code == 302, username
        token = csrf_token(client, "/")
        assert client.post("/language", data={"language": "en", "next": "/", "csrf_token": token}).status_code == 302
        return client

    yield make
