"""One row per significant event in a child's life as the platform knows it. Each row says whose record
it is (``owner_agency_id``), its Needs Compass areas and its audience, so that the access core can
decide, per viewer, whether the entry may be shown (RULES.md §4)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from agencies.models import Agency, StaffPerson
from childplan.compass import AREA_CODES
from coordination.model_base import Base, PublicIdMixin, in_list

# Who may know of an entry (besides the rules every entry shares: a relation to the child first):
#   coordination  the owner agency's staff; others while their agency's coordination consent covers every area
#   team          the owner agency's staff; others while their agency's team-meeting consent covers every area
#   recipient     the owner agency's staff and the one recipient (a content-free signal, a request)
#   own_agency    the owner agency's staff only (reports of concern: social services)
#   agencies      the owner agency's staff; others while their agency may know the agencies involved
CHRONOLOGY_AUDIENCES: tuple[str, ...] = ("coordination", "team", "recipient", "own_agency", "agencies")
CHRONOLOGY_TONES: tuple[str, ...] = ("worry", "strength", "neutral")
CHRONOLOGY_KINDS: tuple[str, ...] = (
    "concern_raised",
    "strength_noted",
    "signal_received",
    "concern_acknowledged",
    "conversation",
    "concern_closed",
    "matching_alert",
    "sibling_request",
    "report_filed",
    "report_acknowledged",
    "report_matched",
    "report_assigned",
    "coordinator_requested",
    "coordinator_declined",
    "coordinator_appointed",
    "coordinator_vacated",
    "child_contact_assigned",
    "team_member_added",
    "team_member_left",
    "family_invited",
    "meeting_proposed",
    "meeting_rescheduled",
    "meeting_cancelled",
    "meeting_held",
    "decision_recorded",
    "consent_requested",
    "consent_recorded",
    "consent_withdrawn",
    "plan_started",
    "plan_need_added",
    "plan_action_added",
    "plan_action_changed",
    "plan_version_published",
    "plan_closed",
    "plan_reviewed",
    "plan_texts_changed",
    "withheld_from_guardians",
    "plan_version_agreed",
    "plan_version_read",
)
SUMMARY_MAX = 4000


class ChronologyEntry(PublicIdMixin, Base):
    __tablename__ = "chronology_entry"
    __table_args__ = (
        CheckConstraint(f"kind IN ({in_list(CHRONOLOGY_KINDS)})", name="kind_known"),
        CheckConstraint(f"audience IN ({in_list(CHRONOLOGY_AUDIENCES)})", name="audience_known"),
        CheckConstraint(f"tone IN ({in_list(CHRONOLOGY_TONES)})", name="tone_known"),
        CheckConstraint("audience <> 'recipient' OR recipient_person_id IS NOT NULL", name="recipient_named"),
        Index("ix_chronology_entry_child_occurred", "child_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    occurred_at: Mapped[datetime]
    owner_agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    author_person_id: Mapped[int | None] = mapped_column(ForeignKey("staff_person.id"), index=True)
    recipient_person_id: Mapped[int | None] = mapped_column(ForeignKey("staff_person.id"), index=True)
    audience: Mapped[str] = mapped_column(String(20))
    tone: Mapped[str] = mapped_column(String(20), default="neutral")
    # free text (a note, a decision); it inherits the entry's areas and agency (RULES.md §4)
    summary: Mapped[str | None] = mapped_column(Text)
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_public_id: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime]

    owner_agency: Mapped[Agency] = relationship()
    author: Mapped[StaffPerson | None] = relationship(foreign_keys=[author_person_id])
    areas: Mapped[list[ChronologyArea]] = relationship(back_populates="entry", cascade="all, delete-orphan")

    @property
    def area_codes(self) -> frozenset[str]:
        """Every area the entry is decided by (who may see it)."""
        return frozenset(area.area for area in self.areas)

    @property
    def shown_area_codes(self) -> frozenset[str]:
        """The areas the entry shows and is filed under: its context areas (e.g. the areas of the need an
        action serves, another agency's record) decide who sees it but are not shown."""
        return frozenset(area.area for area in self.areas if not area.is_context)


class ChronologyArea(Base):
    __tablename__ = "chronology_area"
    __table_args__ = (
        CheckConstraint(f"area IN ({in_list(AREA_CODES)})", name="area_known"),
        UniqueConstraint("entry_id", "area"),
        Index("ix_chronology_area_area_entry", "area", "entry_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("chronology_entry.id"), index=True)
    area: Mapped[str] = mapped_column(String(20))
    # decided by, not shown nor filed under: the areas of the need a plan action serves
    is_context: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    entry: Mapped[ChronologyEntry] = relationship(back_populates="areas")
