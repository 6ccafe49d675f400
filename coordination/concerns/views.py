"""A concern's page and the Child Contact's handling of it; requests to become Support Coordinator."""

from __future__ import annotations

from flask import Blueprint

concern = Blueprint("concern", __name__)
