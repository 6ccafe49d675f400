"""The shell's tables: accounts and their people outside agencies (platform admins, analysts), login
sessions, the login back-off, settings and the audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from agencies.models import StaffPerson
from coordination.model_base import Base, PublicIdMixin, in_list

if TYPE_CHECKING:
    from coordination.children.models import Child, Guardian


ACCOUNT_KINDS: tuple[str, ...] = ("staff", "platform_admin", "analyst", "guardian", "young_person")


# -- people who log in -------------------------------------------------------------------------------
class PlatformAdmin(PublicIdMixin, Base):
    __tablename__ = "platform_admin"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[datetime]


class Analyst(PublicIdMixin, Base):
    __tablename__ = "analyst"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    scope: Mapped[str] = mapped_column(String(200), default="municipality")
    created_at: Mapped[datetime]


class Account(PublicIdMixin, Base):
    """A login. Exactly one person record matches its kind; a young person's account is linked to the
    child themself. Families never have a password outside demo and test mode."""

    __tablename__ = "account"
    __table_args__ = (
        CheckConstraint(f"kind IN ({in_list(ACCOUNT_KINDS)})", name="kind_known"),
        CheckConstraint(
            "(kind = 'staff') = (staff_person_id IS NOT NULL)"
            " AND (kind = 'platform_admin') = (platform_admin_id IS NOT NULL)"
            " AND (kind = 'analyst') = (analyst_id IS NOT NULL)"
            " AND (kind = 'guardian') = (guardian_id IS NOT NULL)"
            " AND (kind = 'young_person') = (child_id IS NOT NULL)",
            name="one_person",
        ),
        CheckConstraint("language IN ('sv', 'en')", name="language_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(150), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(20))
    staff_person_id: Mapped[int | None] = mapped_column(ForeignKey("staff_person.id"), unique=True)
    platform_admin_id: Mapped[int | None] = mapped_column(ForeignKey("platform_admin.id"), unique=True)
    analyst_id: Mapped[int | None] = mapped_column(ForeignKey("analyst.id"), unique=True)
    guardian_id: Mapped[int | None] = mapped_column(ForeignKey("guardian.id"), unique=True)
    child_id: Mapped[int | None] = mapped_column(ForeignKey("child.id"), unique=True)
    young_person_granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_person.id"), index=True)
    language: Mapped[str] = mapped_column(String(10), default="sv")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    deactivated_at: Mapped[datetime | None]

    staff_person: Mapped[StaffPerson | None] = relationship(foreign_keys=[staff_person_id])
    platform_admin: Mapped[PlatformAdmin | None] = relationship()
    analyst: Mapped[Analyst | None] = relationship()
    guardian: Mapped[Guardian | None] = relationship()
    child: Mapped[Child | None] = relationship()


class LoginSession(Base):
    """A server-side session: checked on every request, so logout and deactivation end it at once."""

    __tablename__ = "login_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    acting_membership_id: Mapped[int | None] = mapped_column(ForeignKey("membership.id"), index=True)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]

    account: Mapped[Account] = relationship()


class LoginThrottle(Base):
    """Failed-login back-off per username (known or not), kept in the database."""

    __tablename__ = "login_throttle"

    id: Mapped[int] = mapped_column(primary_key=True)
    username_key: Mapped[str] = mapped_column(String(64), unique=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime | None]
    blocked_until: Mapped[datetime | None]


class Setting(Base):
    """Platform settings and database markers (e.g. dataset = demo, refusing exports)."""

    __tablename__ = "setting"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


# -- audit (RULES.md §9) -----------------------------------------------------------------------------
class AuditEvent(Base):
    """Append-only. No foreign keys, so it can record what was rolled back or never existed."""

    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_child_id_occurred_at", "child_id", "occurred_at"),
        CheckConstraint("outcome IN ('allowed', 'denied')", name="outcome_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(index=True)
    actor_kind: Mapped[str] = mapped_column(String(20))
    actor_account_id: Mapped[int | None] = mapped_column(Integer, index=True)
    actor_staff_person_id: Mapped[int | None] = mapped_column(Integer)
    acting_agency_id: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(60))
    outcome: Mapped[str] = mapped_column(String(10), default="allowed")
    child_id: Mapped[int | None] = mapped_column(Integer)
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(64))
    legal_basis: Mapped[str | None] = mapped_column(String(40))
    request_id: Mapped[str | None] = mapped_column(String(40))
    detail: Mapped[dict | None] = mapped_column(JSON)
