"""What the demo's story is told with: ``Ekby``, everything created so far by demo key and the dates the
facts hang on (a timeline replayed in order), and the helpers every part of the story shares (acting as a
persona, a local time on the story's calendar)."""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from agencies.models import Agency, Membership, StaffPerson, Unit
from coordination.access import Actor
from coordination.children.models import Child, Custody, Guardian
from coordination.clock import Clock
from coordination.concerns.models import Concern
from coordination.consent.models import Consent
from coordination.database import db
from coordination.identity_numbers import IdentityNumber
from coordination.models import Account
from coordination.teams.models import Meeting


@dataclass
class Ekby:
    """What has been created so far, by demo key, plus the dates the facts hang on."""

    clock: Clock
    load_time: datetime
    password_hash: str
    facts: list[tuple[datetime, int, Callable[[], None]]] = field(default_factory=list)
    agencies: dict[str, Agency] = field(default_factory=dict)
    units: dict[str, Unit] = field(default_factory=dict)
    staff: dict[str, StaffPerson] = field(default_factory=dict)
    memberships: dict[tuple[str, str], Membership] = field(default_factory=dict)
    guardians: dict[str, Guardian] = field(default_factory=dict)
    children: dict[str, Child] = field(default_factory=dict)
    custody: dict[tuple[str, str], Custody] = field(default_factory=dict)
    consents: dict[tuple[str, str, str], Consent] = field(default_factory=dict)  # (child, agency, purpose)
    numbers: dict[str, IdentityNumber] = field(default_factory=dict)  # by child, for the report of concern
    concerns: list[Concern] = field(default_factory=list)
    meetings: dict[tuple[str, datetime], Meeting] = field(default_factory=dict)
    accounts: int = 0
    added: int = 0

    @property
    def today(self) -> date:
        return self.load_time.astimezone(self.clock.zone).date()

    @property
    def setup(self) -> datetime:
        """When Ekby was set up (agencies, staff, accounts); the families were entered the next day."""
        day = self.today - timedelta(days=400)
        return datetime.combine(day, time(8), tzinfo=self.clock.zone).astimezone(UTC)

    @property
    def school_start(self) -> date:
        start = date(self.today.year, 8, 17)
        return start if start <= self.today else date(self.today.year - 1, 8, 17)

    def at_day(self, day: date, hour: int = 9) -> datetime:
        """A local working hour on ``day``, never before go-live (the day after setup) nor after the load."""
        moment = datetime.combine(day, time(hour), tzinfo=self.clock.zone).astimezone(UTC)
        return min(max(moment, self.setup + timedelta(days=1)), self.load_time)

    def days_ago(self, days: int, hour: int = 10) -> datetime:
        return self.at_day(self.today - timedelta(days=days), hour)

    def add(self, moment: datetime, action: Callable[[], None]) -> None:
        """A fact; equal moments keep the order they were added in (dependencies first). A fact may add
        later facts while it is replayed (a request, then its answer a few hours on)."""
        self.added += 1
        heapq.heappush(self.facts, (min(moment, self.load_time), self.added, action))

    def replay(self) -> None:
        while self.facts:
            moment, _, action = heapq.heappop(self.facts)
            self.clock.set(moment)
            action()


def persona(ekby: Ekby, username: str, unit: str | None = None) -> Actor:
    """The persona acting for the agency of ``unit`` (or of their first membership)."""
    person = ekby.staff[username]
    account = db.session.scalar(select(Account).where(Account.staff_person_id == person.id))
    assert account is not None
    memberships = [m for (name, _unit), m in ekby.memberships.items() if name == username]
    acting = next((m for m in memberships if unit is None or m.unit.name == unit), memberships[0])
    in_agency = tuple(sorted((m for m in memberships if m.agency_id == acting.agency_id), key=lambda m: m.unit.name))
    return Actor(account=account, acting_agency=acting.agency, memberships=in_agency)


def local_time(ekby: Ekby, days: int, hour: int, minute: int = 0) -> datetime:
    """A local time ``days`` from the load date (negative: in the past), not clamped to the load time."""
    local = datetime.combine(ekby.today + timedelta(days=days), datetime.min.time(), tzinfo=ekby.clock.zone)
    return local.replace(hour=hour, minute=minute).astimezone(ekby.load_time.tzinfo)
