"""Errors every domain package's operations share."""

from __future__ import annotations


class OperationError(ValueError):
    """A write that cannot be done as asked; ``field`` names the form field it belongs to."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class StaleRecord(OperationError):
    """Someone changed the record since the form was shown (optimistic locking): the page answers 409 and
    shows the record as it is now, with the user's input kept."""
