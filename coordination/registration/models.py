"""Pending links: a request to link a child to a unit, waiting for the Child Contact's or the agency
admin's decision (RULES.md §5)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from agencies.models import StaffPerson, Unit
from coordination.children.models import Child
from coordination.model_base import Base, PublicIdMixin


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
