"""The in-app inbox and its unread-count badge."""

from __future__ import annotations

from flask import Blueprint

inbox = Blueprint("inbox", __name__)
