"""The app clock: every operation reads "now" from here, so the demo loader and tests can set it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app


class Clock:
    def __init__(self, time_zone: str = "Europe/Stockholm") -> None:
        self.zone = ZoneInfo(time_zone)
        self._fixed: datetime | None = None
        self._offset = timedelta(0)

    def now(self) -> datetime:
        """Aware UTC datetime."""
        if self._fixed is not None:
            return self._fixed + self._offset
        return datetime.now(UTC) + self._offset

    def today(self) -> date:
        """The calendar date in the configured time zone."""
        return self.now().astimezone(self.zone).date()

    def set(self, moment: datetime) -> None:
        if moment.tzinfo is None:
            raise ValueError("the clock needs an aware datetime")
        self._fixed = moment.astimezone(UTC)
        self._offset = timedelta(0)

    def advance(self, delta: timedelta) -> None:
        self._offset += delta

    def snapshot(self) -> tuple[datetime | None, timedelta]:
        """The clock's state, to put back with ``restore`` (the demo loader moves it while replaying)."""
        return self._fixed, self._offset

    def restore(self, state: tuple[datetime | None, timedelta]) -> None:
        self._fixed, self._offset = state

    def reset(self) -> None:
        self._fixed = None
        self._offset = timedelta(0)


def current_clock() -> Clock:

    return current_app.extensions["clock"]


def now() -> datetime:
    return current_clock().now()


def today() -> date:
    return current_clock().today()
