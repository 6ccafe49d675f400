"""Raising a concern: on a child's page, and by identity number for a child the practitioner may not see
(always "delivered"); the agency admin's queue of unmatched concerns."""

from __future__ import annotations

from flask import Blueprint

concerns = Blueprint("concerns", __name__)
