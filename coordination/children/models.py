"""Children and their families: children, guardians, custody, sibling links, enrolments, and the Child
Contact and Support Coordinator assignments."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from agencies.models import Agency, StaffPerson, Unit
from coordination.model_base import Base, PublicIdMixin, in_list

MISSING_NUMBER_REASONS: tuple[str, ...] = ("unborn", "newborn", "none")
PROTECTION_LEVELS: tuple[str, ...] = ("none", "confidentiality_marking", "protected_registration")
ASSIGNMENT_ROLES: tuple[str, ...] = ("child_contact", "support_coordinator")
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
