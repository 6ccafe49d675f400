"""Agencies, units, staff people and their memberships (roles per unit)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, ForeignKeyConstraint, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coordination.model_base import Base, PublicIdMixin, in_list

AGENCY_KINDS: tuple[str, ...] = (
    "maternity_clinic",
    "child_health_centre",
    "preschool",
    "school",
    "pupil_health",
    "social_services",
    "police",
    "primary_care",
    "bup",
    "habilitation",
)
AGENCY_LEVELS: tuple[str, ...] = ("municipality", "region", "state")
ROLES: tuple[str, ...] = ("practitioner", "agency_admin", "intake")


class Agency(PublicIdMixin, Base):
    __tablename__ = "agency"
    __table_args__ = (
        CheckConstraint(f"kind IN ({in_list(AGENCY_KINDS)})", name="kind_known"),
        CheckConstraint(f"level IN ({in_list(AGENCY_LEVELS)})", name="level_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    level: Mapped[str] = mapped_column(String(20))
    phone: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]  # ended: kept for the record, closed to new memberships and work

    units: Mapped[list[Unit]] = relationship(back_populates="agency", order_by="Unit.name")


class Unit(PublicIdMixin, Base):
    __tablename__ = "unit"
    __table_args__ = (
        UniqueConstraint("agency_id", "name"),
        UniqueConstraint("id", "agency_id"),  # target of (unit_id, agency_id) foreign keys
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]  # ended: kept for the record, closed to new memberships and work

    agency: Mapped[Agency] = relationship(back_populates="units")


class StaffPerson(PublicIdMixin, Base):
    __tablename__ = "staff_person"

    id: Mapped[int] = mapped_column(primary_key=True)
    given_name: Mapped[str] = mapped_column(String(100))
    family_name: Mapped[str] = mapped_column(String(100))
    title: Mapped[str | None] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    employee_id: Mapped[str | None] = mapped_column(String(100), unique=True)  # the staff IdP's immutable claim
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    deactivated_at: Mapped[datetime | None]
    created_at: Mapped[datetime]

    memberships: Mapped[list[Membership]] = relationship(back_populates="staff_person")

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"


class Membership(Base):
    """A staff person's place in a unit (and so in the unit's agency), with the roles they hold there."""

    __tablename__ = "membership"
    __table_args__ = (
        # One current membership per person and unit; an ended one may be followed by a new one.
        Index(
            "uq_membership_current",
            "staff_person_id",
            "unit_id",
            unique=True,
            sqlite_where=text("ended_at IS NULL"),
            postgresql_where=text("ended_at IS NULL"),
        ),
        ForeignKeyConstraint(["unit_id", "agency_id"], ["unit.id", "unit.agency_id"]),
        CheckConstraint("is_practitioner OR is_agency_admin OR is_intake", name="has_role"),
        Index("ix_membership_unit_id_agency_id", "unit_id", "agency_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_person_id: Mapped[int] = mapped_column(ForeignKey("staff_person.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    unit_id: Mapped[int] = mapped_column()
    is_practitioner: Mapped[bool] = mapped_column(Boolean, default=True)
    is_agency_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    is_intake: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]

    staff_person: Mapped[StaffPerson] = relationship(back_populates="memberships")
    agency: Mapped[Agency] = relationship()
    unit: Mapped[Unit] = relationship(foreign_keys=[unit_id], primaryjoin="Membership.unit_id == Unit.id")

    @property
    def roles(self) -> tuple[str, ...]:
        flags = (self.is_practitioner, self.is_agency_admin, self.is_intake)
        return tuple(role for role, held in zip(ROLES, flags, strict=False) if held)
