"""Reports of concern (the duty to report): filed by anyone with a valid identity number or none, always
answered with the same receipt, seen only inside social services."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from agencies.models import Agency, StaffPerson, Unit
from coordination.children.models import Child
from coordination.model_base import Base, PublicIdMixin, in_list

REPORT_STATES: tuple[str, ...] = ("received", "acknowledged")
REPORT_TEXT_MAX = 8000


class ReportOfConcern(PublicIdMixin, Base):
    __tablename__ = "report_of_concern"
    __table_args__ = (
        CheckConstraint(f"state IN ({in_list(REPORT_STATES)})", name="state_known"),
        CheckConstraint("(state = 'acknowledged') = (acknowledged_at IS NOT NULL)", name="acknowledged_has_time"),
        CheckConstraint(
            "(identity_number_hash IS NULL) = (identity_number_encrypted IS NULL)", name="number_encrypted_with_hash"
        ),
        CheckConstraint("duplicate_of_id IS NULL OR duplicate_of_id <> id", name="not_its_own_duplicate"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # a short reference the reporter can quote on the phone (not secret, not guessable as a sequence)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    reporter_person_id: Mapped[int] = mapped_column(ForeignKey("staff_person.id"), index=True)
    reporter_agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    reporter_phone: Mapped[str | None] = mapped_column(String(40))
    social_services_agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    identity_number_encrypted: Mapped[str | None] = mapped_column(Text)
    identity_number_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    given_name: Mapped[str | None] = mapped_column(String(100))
    family_name: Mapped[str | None] = mapped_column(String(100))
    birth_date: Mapped[date | None] = mapped_column(Date)
    what_happened: Mapped[str] = mapped_column(Text)
    is_child_in_danger_now: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(20), default="received")
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_person.id"), index=True)
    child_id: Mapped[int | None] = mapped_column(ForeignKey("child.id"), index=True)
    matched_at: Mapped[datetime | None]
    matched_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_person.id"), index=True)
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("report_of_concern.id"), index=True)
    assigned_unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    assigned_at: Mapped[datetime | None]
    created_at: Mapped[datetime]

    reporter: Mapped[StaffPerson] = relationship(foreign_keys=[reporter_person_id])
    reporter_agency: Mapped[Agency] = relationship(foreign_keys=[reporter_agency_id])
    social_services_agency: Mapped[Agency] = relationship(foreign_keys=[social_services_agency_id])
    child: Mapped[Child | None] = relationship()
    assigned_unit: Mapped[Unit | None] = relationship()
    duplicate_of: Mapped[ReportOfConcern | None] = relationship(remote_side=[id])
