"""The Plan tab: the Child's Plan as the viewer may see it, and the plan keeper's forms."""

from __future__ import annotations

from flask import Blueprint

plan = Blueprint("plan", __name__)
