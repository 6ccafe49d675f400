"""The worklist: the actions I or my unit own across children (agency admins: their agency's), overdue first."""

from __future__ import annotations

from flask import Blueprint

worklist = Blueprint("worklist", __name__)
