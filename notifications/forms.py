"""The inbox's forms."""

from __future__ import annotations

from flask_wtf import FlaskForm


class OpenItemForm(FlaskForm):
    """Only the CSRF token: the item is in the address."""
