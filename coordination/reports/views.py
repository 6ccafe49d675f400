"""Reports of concern: the form, the receipt, and the intake queue."""

from __future__ import annotations

from flask import Blueprint

reports = Blueprint("reports", __name__)
