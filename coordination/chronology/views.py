"""The Chronology tab."""

from __future__ import annotations

from flask import Blueprint

chronology = Blueprint("chronology", __name__)
