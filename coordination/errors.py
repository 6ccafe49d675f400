"""Errors every domain package's operations share, and the message helper their refusals use."""

from __future__ import annotations

from flask import has_request_context
from flask_babel import gettext


def refusal_message(message: str, **variables: object) -> str:
    """A refusal's message: translated inside a request (it is shown to the person who asked), plain
    English outside one (the CLI, the demo loader), where no locale can be chosen. Operations import it
    as ``_`` so that the message catalogue extracts the strings."""
    if has_request_context():
        return gettext(message, **variables)
    return message % variables if variables else message


class OperationError(ValueError):
    """A write that cannot be done as asked; ``field`` names the form field it belongs to."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class StaleRecord(OperationError):
    """Someone changed the record since the form was shown (optimistic locking): the page answers 409 and
    shows the record as it is now, with the user's input kept."""
