"""The access core: who the actor is, and (from the access-core issue on) what they may see.

Deny by default. This module is the one place that decides; views and view models ask it. So far it
knows the actor; child data is reached through it in the next foundation issue.
"""

from __future__ import annotations

from dataclasses import dataclass

from agencies.models import Agency, Membership, Unit
from coordination.audit import AuditActor
from coordination.models import Account

STAFF = "staff"
AGENCY_ADMIN = "agency_admin"
PLATFORM_ADMIN = "platform_admin"
ANALYST = "analyst"
GUARDIAN = "guardian"
YOUNG_PERSON = "young_person"


@dataclass(frozen=True)
class Actor:
    """A logged-in person acting now: staff act for exactly one agency at a time (RULES.md §1)."""

    account: Account
    acting_agency: Agency | None
    memberships: tuple[Membership, ...]  # the memberships in the acting agency only

    @property
    def kind(self) -> str:
        return self.account.kind

    @property
    def home_kind(self) -> str:
        """Which home page this actor lands on."""
        if self.kind == "staff" and self.is_agency_admin:
            return AGENCY_ADMIN
        return self.kind

    @property
    def is_staff(self) -> bool:
        return self.kind == "staff"

    @property
    def is_family(self) -> bool:
        return self.kind in (GUARDIAN, YOUNG_PERSON)

    @property
    def units(self) -> tuple[Unit, ...]:
        return tuple(m.unit for m in self.memberships)

    @property
    def roles(self) -> tuple[str, ...]:
        seen: list[str] = []
        for membership in self.memberships:
            for role in membership.roles:
                if role not in seen:
                    seen.append(role)
        return tuple(seen)

    @property
    def is_agency_admin(self) -> bool:
        return any(m.is_agency_admin for m in self.memberships)

    @property
    def display_name(self) -> str:
        account = self.account
        if account.staff_person is not None:
            return account.staff_person.full_name
        if account.guardian is not None:
            return account.guardian.full_name
        if account.child is not None:
            return account.child.full_name
        if account.platform_admin is not None:
            return account.platform_admin.name
        if account.analyst is not None:
            return account.analyst.name
        return account.username

    def audit_actor(self) -> AuditActor:
        return AuditActor(
            kind=self.kind,
            account_id=self.account.id,
            staff_person_id=self.account.staff_person_id,
            acting_agency_id=self.acting_agency.id if self.acting_agency else None,
        )


@dataclass(frozen=True)
class SystemActor:
    """The platform itself (CLI, demo loader): audited as "system" with a platform-administration basis."""

    label: str = "system"

    kind = "system"

    def audit_actor(self) -> AuditActor:
        return AuditActor(kind="system")


SYSTEM_ACTOR = SystemActor()
