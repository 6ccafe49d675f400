"""The individual child team and its meetings."""

from __future__ import annotations

from flask import Blueprint

teams = Blueprint("teams", __name__)
