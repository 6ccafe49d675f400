"""The coordination domain's backbone: children, guardians, custody, enrolments, Child Contact and
Support Coordinator assignments, consent, accounts, sessions and the audit trail."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from agencies.models import Agency, StaffPerson, Unit
from childplan.compass import AREA_CODES
from coordination.model_base import Base, PublicIdMixin, in_list

MISSING_NUMBER_REASONS: tuple[str, ...] = ("unborn", "newborn", "none")
PROTECTION_LEVELS: tuple[str, ...] = ("none", "confidentiality_marking", "protected_registration")
ACCOUNT_KINDS: tuple[str, ...] = ("staff", "platform_admin", "analyst", "guardian", "young_person")
ASSIGNMENT_ROLES: tuple[str, ...] = ("child_contact", "support_coordinator")
CONSENT_PURPOSES: tuple[str, ...] = ("coordination", "team_meetings")
CONSENT_METHODS: tuple[str, ...] = ("in_person", "phone", "written", "e_signed")
CONSENT_STATES: tuple[str, ...] = ("requested", "recorded", "withdrawn")
LANGUAGES: tuple[str, ...] = ("sv", "en", "ar", "fi", "so", "fa", "ti", "uk", "pl", "other")


# -- children and families -------------------------------------------------------------------------
def age_in_years(birth_date: date | None, on: date) -> int | None:
    """Completed years on ``on``; None when the child is not born yet (or the date is unknown)."""
    if birth_date is None or birth_date > on:
        return None
    return on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))


class Child(PublicIdMixin, Base):
    __tablename__ = "child"
    __table_args__ = (
        CheckConstraint(
            "(identity_number_hash IS NOT NULL AND identity_number_missing_reason IS NULL)"
            " OR (identity_number_hash IS NULL AND identity_number_missing_reason IS NOT NULL)",
            name="number_or_reason",
        ),
        CheckConstraint(
            "(identity_number_hash IS NULL) = (identity_number_encrypted IS NULL)", name="number_encrypted_with_hash"
        ),
        CheckConstraint(
            "identity_number_missing_reason IS NULL"
            f" OR identity_number_missing_reason IN ({in_list(MISSING_NUMBER_REASONS)})",
            name="missing_reason_known",
        ),
        CheckConstraint(f"protection_level IN ({in_list(PROTECTION_LEVELS)})", name="protection_level_known"),
        CheckConstraint(
            "birth_date IS NOT NULL OR identity_number_missing_reason = 'unborn'", name="birth_date_unless_unborn"
        ),
        CheckConstraint(
            "identity_number_missing_reason IS NULL OR reserve_number IS NOT NULL", name="reserve_number_without_number"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    given_name: Mapped[str] = mapped_column(String(100))
    family_name: Mapped[str] = mapped_column(String(100))
    birth_date: Mapped[date | None] = mapped_column(Date)
    expected_birth_date: Mapped[date | None] = mapped_column(Date)
    identity_number_encrypted: Mapped[str | None] = mapped_column(Text)
    identity_number_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    identity_number_missing_reason: Mapped[str | None] = mapped_column(String(20))
    reserve_number: Mapped[str | None] = mapped_column(String(40), unique=True)
    protection_level: Mapped[str] = mapped_column(String(30), default="none")
    preferred_language: Mapped[str | None] = mapped_column(String(10))
    created_at: Mapped[datetime]

    custody_links: Mapped[list[Custody]] = relationship(back_populates="child")
    enrolments: Mapped[list[Enrolment]] = relationship(back_populates="child")

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    @property
    def has_protected_identity(self) -> bool:
        return self.protection_level != "none"


class Guardian(PublicIdMixin, Base):
    __tablename__ = "guardian"
    __table_args__ = (
        CheckConstraint(
            "(identity_number_hash IS NULL) = (identity_number_encrypted IS NULL)", name="number_encrypted_with_hash"
        ),
        CheckConstraint(f"preferred_language IN ({in_list(LANGUAGES)})", name="language_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    given_name: Mapped[str] = mapped_column(String(100))
    family_name: Mapped[str] = mapped_column(String(100))
    identity_number_encrypted: Mapped[str | None] = mapped_column(Text)
    identity_number_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    preferred_language: Mapped[str] = mapped_column(String(10), default="sv")
    needs_interpreter: Mapped[bool] = mapped_column(Boolean, default=False)
    interpreter_language: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime]

    custody_links: Mapped[list[Custody]] = relationship(back_populates="guardian")

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"


class Custody(Base):
    """A guardian's custody of a child; a restriction hides protected details from that guardian."""

    __tablename__ = "custody"
    __table_args__ = (
        UniqueConstraint("child_id", "guardian_id"),
        CheckConstraint(
            "(identity_checked_at IS NULL) = (identity_checked_by_id IS NULL)", name="identity_check_recorded_by"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id"), index=True)
    guardian_id: Mapped[int] = mapped_column(ForeignKey("guardian.id"), index=True)
    is_restricted: Mapped[bool] = mapped_column(Boolean, default=False)
    restriction_note: Mapped[str | None] = mapped_column(String(500))
    identity_checked_at: Mapped[datetime | None]
    identity_checked_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_person.id"), index=True)
    created_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]

    child: Mapped[Child] = relationship(back_populates="custody_links")
    guardian: Mapped[Guardian] = relationship(back_populates="custody_links")
    identity_checked_by: Mapped[StaffPerson | None] = relationship()


class SiblingLink(Base):
    """An explicit sibling link entered by staff (the only way siblings are known, RULES.md §5)."""

    __tablename__ = "sibling_link"
    __table_args__ = (
        UniqueConstraint("child_id", "sibling_id"),
        CheckConstraint("child_id < sibling_id", name="ordered_pair"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id"), index=True)
    sibling_id: Mapped[int] = mapped_column(ForeignKey("child.id"), index=True)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_person.id"), index=True)
    created_at: Mapped[datetime]


class Enrolment(Base):
    """A child enrolled at (or registered with) a unit: the unit relation of RULES.md §2."""

    __tablename__ = "enrolment"
    __table_args__ = (
        CheckConstraint("ended_on IS NULL OR ended_on >= started_on", name="ends_after_start"),
        Index(
            "uq_enrolment_current",
            "child_id",
            "unit_id",
            unique=True,
            sqlite_where=text("ended_on IS NULL"),
            postgresql_where=text("ended_on IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    started_on: Mapped[date] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime]

    child: Mapped[Child] = relationship(back_populates="enrolments")
    unit: Mapped[Unit] = relationship()


class RoleAssignment(Base):
    """Child Contact and Support Coordinator assignments: the current one has no end; history stays."""

    __tablename__ = "role_assignment"
    __table_args__ = (
        CheckConstraint(f"role IN ({in_list(ASSIGNMENT_ROLES)})", name="role_known"),
        CheckConstraint("ended_at IS NULL OR ended_at >= started_at", name="ends_after_start"),
        Index(
            "uq_role_assignment_current",
            "child_id",
            "role",
            unique=True,
            sqlite_where=text("ended_at IS NULL"),
            postgresql_where=text("ended_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id"), index=True)
    role: Mapped[str] = mapped_column(String(30))
    staff_person_id: Mapped[int] = mapped_column(ForeignKey("staff_person.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_person.id"), index=True)
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(String(500))

    child: Mapped[Child] = relationship()
    staff_person: Mapped[StaffPerson] = relationship(foreign_keys=[staff_person_id])
    agency: Mapped[Agency] = relationship()


# -- consent (RULES.md §3) ---------------------------------------------------------------------------
class ConsentText(Base):
    """A version of the consent text shown to the family, per language."""

    __tablename__ = "consent_text"
    __table_args__ = (UniqueConstraint("version", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    language: Mapped[str] = mapped_column(String(10))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class Consent(PublicIdMixin, Base):
    """Consent to one agency for one purpose and a set of Needs Compass areas, valid from–until.

    It takes effect when every custodial guardian (or the young person judged mature enough for that
    agency) has given it; any one withdrawal ends it. A requested consent grants nothing."""

    __tablename__ = "consent"
    __table_args__ = (
        CheckConstraint(f"purpose IN ({in_list(CONSENT_PURPOSES)})", name="purpose_known"),
        CheckConstraint(f"state IN ({in_list(CONSENT_STATES)})", name="state_known"),
        CheckConstraint("valid_until IS NULL OR valid_until >= valid_from", name="ends_after_start"),
        CheckConstraint("(state = 'withdrawn') = (withdrawn_at IS NOT NULL)", name="withdrawn_when_withdrawn"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(30))
    state: Mapped[str] = mapped_column(String(20))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    consent_text_id: Mapped[int | None] = mapped_column(ForeignKey("consent_text.id"), index=True)
    legal_basis: Mapped[str] = mapped_column(String(40), default="consent")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_person.id"), index=True)
    requested_at: Mapped[datetime | None]
    recorded_at: Mapped[datetime | None]
    withdrawn_at: Mapped[datetime | None]
    created_at: Mapped[datetime]

    areas: Mapped[list[ConsentArea]] = relationship(back_populates="consent", cascade="all, delete-orphan")
    givers: Mapped[list[ConsentGiver]] = relationship(back_populates="consent", cascade="all, delete-orphan")


class ConsentArea(Base):
    __tablename__ = "consent_area"
    __table_args__ = (
        UniqueConstraint("consent_id", "area"),
        CheckConstraint(f"area IN ({in_list(AREA_CODES)})", name="area_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    consent_id: Mapped[int] = mapped_column(ForeignKey("consent.id"), index=True)
    area: Mapped[str] = mapped_column(String(20))

    consent: Mapped[Consent] = relationship(back_populates="areas")


class ConsentGiver(Base):
    """One guardian's (or the young person's) part of a consent: how, when, evidence; withdrawal."""

    __tablename__ = "consent_giver"
    __table_args__ = (
        CheckConstraint("(guardian_id IS NULL) = is_young_person", name="guardian_or_young_person"),
        CheckConstraint(f"method IN ({in_list(CONSENT_METHODS)})", name="method_known"),
        UniqueConstraint("consent_id", "guardian_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    consent_id: Mapped[int] = mapped_column(ForeignKey("consent.id"), index=True)
    guardian_id: Mapped[int | None] = mapped_column(ForeignKey("guardian.id"), index=True)
    is_young_person: Mapped[bool] = mapped_column(Boolean, default=False)
    method: Mapped[str] = mapped_column(String(20))
    evidence_note: Mapped[str | None] = mapped_column(String(1000))
    given_at: Mapped[datetime]
    withdrawn_at: Mapped[datetime | None]
    withdrawal_recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_person.id"), index=True)

    consent: Mapped[Consent] = relationship(back_populates="givers")
    guardian: Mapped[Guardian | None] = relationship()


class MaturityAssessment(Base):
    """Staff recorded that the young person is mature enough to decide for one agency (RULES.md §3)."""

    __tablename__ = "maturity_assessment"
    __table_args__ = (UniqueConstraint("child_id", "agency_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("staff_person.id"), index=True)
    note: Mapped[str | None] = mapped_column(String(1000))
    recorded_at: Mapped[datetime]


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


class PendingLink(PublicIdMixin, Base):
    """A unit asked to be linked to an already registered child (RULES.md §5): until the Child
    Contact (or, without one, the enrolling unit's agency admin) approves it, it grants nothing."""

    __tablename__ = "pending_link"
    __table_args__ = (
        CheckConstraint("state IN ('pending', 'approved', 'rejected')", name="state_known"),
        CheckConstraint("(state = 'pending') = (decided_at IS NULL)", name="decided_when_decided"),
        Index(
            "uq_pending_link_open",
            "child_id",
            "unit_id",
            unique=True,
            sqlite_where=text("state = 'pending'"),
            postgresql_where=text("state = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("staff_person.id"), index=True)
    requested_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(20), default="pending")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_person.id"), index=True)
    decided_at: Mapped[datetime | None]

    child: Mapped[Child] = relationship()
    unit: Mapped[Unit] = relationship()
    requested_by: Mapped[StaffPerson] = relationship(foreign_keys=[requested_by_id])
