"""Concerns, the Child Contact's handling of them, matching alerts, sibling requests and requests to
become Support Coordinator."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from agencies.models import Agency, StaffPerson, Unit
from childplan.compass import AREA_CODES
from coordination.children.models import Child, Guardian
from coordination.consent.models import CONSENT_METHODS, Consent
from coordination.model_base import Base, PublicIdMixin, in_list

# How a concern travelled (RULES.md §5):
#   same_agency   the discoverer and the Child Contact are in one agency: the Child Contact gets it
#   shared        across agencies with every custodial guardian's (or the mature young person's) agreement:
#                 the text goes to the Child Contact, a coordination consent limited to its areas is recorded
#   signal        across agencies without that agreement: the Child Contact gets a content-free signal
#   agency_admin  the child has no Child Contact: the agency admin of the unit the child is enrolled at
#   unmatched     an unknown identity number: the reporter's own agency admin's queue
CONCERN_ROUTINGS: tuple[str, ...] = ("same_agency", "shared", "signal", "agency_admin", "unmatched")
CONCERN_STATES: tuple[str, ...] = ("open", "acknowledged", "closed")
CONCERN_URGENCIES: tuple[str, ...] = ("routine", "soon", "urgent")
CONCERN_CLOSE_REASONS: tuple[str, ...] = (
    "handled_within_agency",
    "coordinator_appointed",
    "no_further_action",
    "other",
)
TEXT_MAX = 4000  # every free-text field of a concern


class Concern(PublicIdMixin, Base):
    __tablename__ = "concern"
    __table_args__ = (
        CheckConstraint(f"routing IN ({in_list(CONCERN_ROUTINGS)})", name="routing_known"),
        CheckConstraint(f"state IN ({in_list(CONCERN_STATES)})", name="state_known"),
        CheckConstraint(f"urgency IN ({in_list(CONCERN_URGENCIES)})", name="urgency_known"),
        CheckConstraint(
            f"close_reason IS NULL OR close_reason IN ({in_list(CONCERN_CLOSE_REASONS)})", name="close_reason_known"
        ),
        CheckConstraint(
            f"agreement_method IS NULL OR agreement_method IN ({in_list(CONSENT_METHODS)})",
            name="agreement_method_known",
        ),
        CheckConstraint("(state = 'closed') = (closed_at IS NOT NULL)", name="closed_has_time"),
        CheckConstraint("routing = 'unmatched' OR child_id IS NOT NULL", name="matched_has_child"),
        CheckConstraint(
            "routing <> 'unmatched' OR child_id IS NOT NULL OR identity_number_hash IS NOT NULL",
            name="unmatched_has_number",
        ),
        CheckConstraint(
            "(identity_number_hash IS NULL) = (identity_number_encrypted IS NULL)", name="number_encrypted_with_hash"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int | None] = mapped_column(ForeignKey("child.id"), index=True)
    # only for a concern raised by number for an unknown child (until the agency admin registers it)
    identity_number_encrypted: Mapped[str | None] = mapped_column(Text)
    identity_number_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    author_person_id: Mapped[int] = mapped_column(ForeignKey("staff_person.id"), index=True)
    author_agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    author_unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    routing: Mapped[str] = mapped_column(String(20))
    # who received it: the Child Contact (person and agency), or the agency whose admins' queue holds it
    recipient_person_id: Mapped[int | None] = mapped_column(ForeignKey("staff_person.id"), index=True)
    recipient_agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"), index=True)
    observed_on: Mapped[date] = mapped_column(Date)
    observations: Mapped[str] = mapped_column(Text)
    strengths: Mapped[str | None] = mapped_column(Text)
    already_done: Mapped[str | None] = mapped_column(Text)
    child_said: Mapped[str | None] = mapped_column(Text)
    family_view: Mapped[str | None] = mapped_column(Text)
    urgency: Mapped[str] = mapped_column(String(20), default="routine")
    agreement_method: Mapped[str | None] = mapped_column(String(20))
    agreement_on: Mapped[date | None] = mapped_column(Date)
    consent_id: Mapped[int | None] = mapped_column(ForeignKey("consent.id"), index=True)
    state: Mapped[str] = mapped_column(String(20), default="open")
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_person.id"), index=True)
    closed_at: Mapped[datetime | None]
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_person.id"), index=True)
    close_reason: Mapped[str | None] = mapped_column(String(30))
    close_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]

    child: Mapped[Child | None] = relationship()
    author: Mapped[StaffPerson] = relationship(foreign_keys=[author_person_id])
    author_agency: Mapped[Agency] = relationship(foreign_keys=[author_agency_id])
    author_unit: Mapped[Unit | None] = relationship()
    recipient: Mapped[StaffPerson | None] = relationship(foreign_keys=[recipient_person_id])
    recipient_agency: Mapped[Agency | None] = relationship(foreign_keys=[recipient_agency_id])
    consent: Mapped[Consent | None] = relationship()
    areas: Mapped[list[ConcernArea]] = relationship(back_populates="concern", cascade="all, delete-orphan")
    agreements: Mapped[list[ConcernAgreement]] = relationship(back_populates="concern", cascade="all, delete-orphan")

    @property
    def area_codes(self) -> frozenset[str]:
        return frozenset(area.area for area in self.areas)


class ConcernArea(Base):
    __tablename__ = "concern_area"
    __table_args__ = (
        CheckConstraint(f"area IN ({in_list(AREA_CODES)})", name="area_known"),
        UniqueConstraint("concern_id", "area"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    concern_id: Mapped[int] = mapped_column(ForeignKey("concern.id"), index=True)
    area: Mapped[str] = mapped_column(String(20))

    concern: Mapped[Concern] = relationship(back_populates="areas")


class ConcernAgreement(Base):
    """A guardian (or the young person) agreed that the concern is passed on to another agency."""

    __tablename__ = "concern_agreement"
    __table_args__ = (
        CheckConstraint("(guardian_id IS NULL) = is_young_person", name="guardian_or_young_person"),
        UniqueConstraint("concern_id", "guardian_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    concern_id: Mapped[int] = mapped_column(ForeignKey("concern.id"), index=True)
    guardian_id: Mapped[int | None] = mapped_column(ForeignKey("guardian.id"), index=True)
    is_young_person: Mapped[bool] = mapped_column(Boolean, default=False)

    concern: Mapped[Concern] = relationship(back_populates="agreements")
    guardian: Mapped[Guardian | None] = relationship()


class MatchingAlert(PublicIdMixin, Base):
    """Concerns or signals from two agencies about one child within the window (RULES.md §5): one alert
    to the Child Contact per pair (the lower concern id first)."""

    __tablename__ = "matching_alert"
    __table_args__ = (
        CheckConstraint("first_concern_id < second_concern_id", name="pair_ordered"),
        UniqueConstraint("first_concern_id", "second_concern_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id"), index=True)
    first_concern_id: Mapped[int] = mapped_column(ForeignKey("concern.id"), index=True)
    second_concern_id: Mapped[int] = mapped_column(ForeignKey("concern.id"), index=True)
    recipient_person_id: Mapped[int | None] = mapped_column(ForeignKey("staff_person.id"), index=True)
    recipient_agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"), index=True)
    created_at: Mapped[datetime]


class SiblingContactRequest(PublicIdMixin, Base):
    """A content-free request from the Child Contact of one child to the Child Contact of a registered
    sibling: "a colleague asks you to contact them about a family you both know" (RULES.md §5)."""

    __tablename__ = "sibling_contact_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    from_child_id: Mapped[int] = mapped_column(ForeignKey("child.id"), index=True)
    to_child_id: Mapped[int] = mapped_column(ForeignKey("child.id"), index=True)
    from_person_id: Mapped[int] = mapped_column(ForeignKey("staff_person.id"), index=True)
    from_agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    to_person_id: Mapped[int] = mapped_column(ForeignKey("staff_person.id"), index=True)
    to_agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    created_at: Mapped[datetime]

    from_person: Mapped[StaffPerson] = relationship(foreign_keys=[from_person_id])
    from_agency: Mapped[Agency] = relationship(foreign_keys=[from_agency_id])


COORDINATOR_REQUEST_STATES: tuple[str, ...] = ("pending", "accepted", "declined", "taken", "withdrawn")


class CoordinatorRequest(PublicIdMixin, Base):
    """The Child Contact asks a nominee from a consented agency to become Support Coordinator. The
    first to accept wins (the current Support Coordinator assignment is unique per child); the other
    requests close as "taken"; a decline carries a reason."""

    __tablename__ = "coordinator_request"
    __table_args__ = (
        CheckConstraint(f"state IN ({in_list(COORDINATOR_REQUEST_STATES)})", name="state_known"),
        CheckConstraint("state <> 'declined' OR decline_reason IS NOT NULL", name="decline_has_reason"),
        CheckConstraint("(state = 'pending') = (decided_at IS NULL)", name="decided_has_time"),
        Index(
            "uq_coordinator_request_pending",
            "child_id",
            "nominee_person_id",
            unique=True,
            sqlite_where=text("state = 'pending'"),
            postgresql_where=text("state = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id"), index=True)
    concern_id: Mapped[int | None] = mapped_column(ForeignKey("concern.id"), index=True)
    nominee_person_id: Mapped[int] = mapped_column(ForeignKey("staff_person.id"), index=True)
    nominee_agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("staff_person.id"), index=True)
    requested_by_agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    message: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(20), default="pending")
    decline_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]

    child: Mapped[Child] = relationship()
    nominee: Mapped[StaffPerson] = relationship(foreign_keys=[nominee_person_id])
    nominee_agency: Mapped[Agency] = relationship(foreign_keys=[nominee_agency_id])
    requested_by: Mapped[StaffPerson] = relationship(foreign_keys=[requested_by_id])
