"""Reviews of the Child's Plan: compass ratings from every voice, and the wheel."""

from __future__ import annotations

from flask import Blueprint

reviews = Blueprint("reviews", __name__)
