"""Reminders, the outbox and its channels (built in a later issue); the in-app inbox (``inbox``)."""

from __future__ import annotations

from flask import Flask

from notifications import inbox


def init_app(app: Flask) -> None:
    """Connect the inbox's listeners to the coordination domain's signals. Signals are process-wide, so
    this connects once however many apps are made (tests make several); connecting again is harmless."""

    inbox.connect()
    app.extensions["notifications"] = True
