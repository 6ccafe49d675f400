"""The individual child team: its members (staff of agencies whose consent covers team meetings), the
family invited to it, and its meetings with their outcome and decisions (draft actions for the plan)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from agencies.models import Agency, StaffPerson, Unit
from childplan.compass import AREA_CODES
from coordination.children.models import Child, Guardian
from coordination.model_base import Base, PublicIdMixin, in_list

MEMBER_END_REASONS: tuple[str, ...] = ("left", "removed", "deactivated", "consent_ended")
MEETING_STATES: tuple[str, ...] = ("planned", "cancelled", "held")
TEAM_TEXT_MAX = 4000


class TeamMember(PublicIdMixin, Base):
    """A staff member on one child's team, acting for one agency. The current membership has no end."""

    __tablename__ = "team_member"
    __table_args__ = (
        CheckConstraint(f"end_reason IS NULL OR end_reason IN ({in_list(MEMBER_END_REASONS)})", name="end_known"),
        CheckConstraint("(ended_at IS NULL) = (end_reason IS NULL)", name="ended_has_reason"),
        CheckConstraint("NOT is_withheld_from_guardians OR withheld_reason IS NOT NULL", name="withheld_has_reason"),
        Index(
            "uq_team_member_current",
            "child_id",
            "staff_person_id",
            unique=True,
            sqlite_where=text("ended_at IS NULL"),
            postgresql_where=text("ended_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id"), index=True)
    staff_person_id: Mapped[int] = mapped_column(ForeignKey("staff_person.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    role_note: Mapped[str | None] = mapped_column(String(200))
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_person.id"), index=True)
    joined_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(String(20))
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_person.id"), index=True)
    # the agency's team membership withheld from guardians (RULES.md §6; the plan issue)
    is_withheld_from_guardians: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    withheld_reason: Mapped[str | None] = mapped_column(String(1000))

    child: Mapped[Child] = relationship()
    staff_person: Mapped[StaffPerson] = relationship(foreign_keys=[staff_person_id])
    agency: Mapped[Agency] = relationship()
    unit: Mapped[Unit | None] = relationship()


class TeamFamilyInvitation(Base):
    """A guardian, or the child (by age and maturity), invited to the child's team."""

    __tablename__ = "team_family_invitation"
    __table_args__ = (
        CheckConstraint("(guardian_id IS NULL) = is_child", name="guardian_or_child"),
        UniqueConstraint("child_id", "guardian_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id"), index=True)
    guardian_id: Mapped[int | None] = mapped_column(ForeignKey("guardian.id"), index=True)
    is_child: Mapped[bool] = mapped_column(Boolean, default=False)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_person.id"), index=True)
    invited_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]

    guardian: Mapped[Guardian | None] = relationship()


class Meeting(PublicIdMixin, Base):
    __tablename__ = "meeting"
    __table_args__ = (
        CheckConstraint(f"state IN ({in_list(MEETING_STATES)})", name="state_known"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("state <> 'cancelled' OR cancel_reason IS NOT NULL", name="cancel_has_reason"),
        CheckConstraint("(state = 'held') = (recorded_at IS NOT NULL)", name="held_has_record"),
        CheckConstraint("NOT is_withheld_from_guardians OR withheld_reason IS NOT NULL", name="withheld_has_reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id"), index=True)
    # the agency of the person who convened it: its own record; others see it through team-meeting consent
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    proposed_by_id: Mapped[int] = mapped_column(ForeignKey("staff_person.id"), index=True)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    place: Mapped[str] = mapped_column(String(300))
    agenda: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(20), default="planned")
    cancel_reason: Mapped[str | None] = mapped_column(String(1000))
    child_views: Mapped[str | None] = mapped_column(Text)
    family_views: Mapped[str | None] = mapped_column(Text)
    disagreements: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_person.id"), index=True)
    recorded_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(Integer, default=1)
    is_withheld_from_guardians: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    withheld_reason: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime]
    changed_at: Mapped[datetime]

    agency: Mapped[Agency] = relationship()
    proposed_by: Mapped[StaffPerson] = relationship(foreign_keys=[proposed_by_id])
    areas: Mapped[list[MeetingArea]] = relationship(back_populates="meeting", cascade="all, delete-orphan")
    attendees: Mapped[list[MeetingAttendee]] = relationship(back_populates="meeting", cascade="all, delete-orphan")
    decisions: Mapped[list[MeetingDecision]] = relationship(
        back_populates="meeting", cascade="all, delete-orphan", order_by="MeetingDecision.id"
    )

    @property
    def area_codes(self) -> frozenset[str]:
        return frozenset(area.area for area in self.areas)


class MeetingArea(Base):
    """The Needs Compass areas on a meeting's agenda."""

    __tablename__ = "meeting_area"
    __table_args__ = (
        CheckConstraint(f"area IN ({in_list(AREA_CODES)})", name="area_known"),
        UniqueConstraint("meeting_id", "area"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id"), index=True)
    area: Mapped[str] = mapped_column(String(20))

    meeting: Mapped[Meeting] = relationship(back_populates="areas")


class MeetingAttendee(Base):
    """Who attended a held meeting: a staff member, a guardian or the child."""

    __tablename__ = "meeting_attendee"
    __table_args__ = (
        CheckConstraint(
            "(CASE WHEN staff_person_id IS NOT NULL THEN 1 ELSE 0 END)"
            " + (CASE WHEN guardian_id IS NOT NULL THEN 1 ELSE 0 END)"
            " + (CASE WHEN is_child THEN 1 ELSE 0 END) = 1",
            name="exactly_one_person",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id"), index=True)
    staff_person_id: Mapped[int | None] = mapped_column(ForeignKey("staff_person.id"), index=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"), index=True)
    guardian_id: Mapped[int | None] = mapped_column(ForeignKey("guardian.id"), index=True)
    is_child: Mapped[bool] = mapped_column(Boolean, default=False)

    meeting: Mapped[Meeting] = relationship(back_populates="attendees")
    staff_person: Mapped[StaffPerson | None] = relationship()
    agency: Mapped[Agency | None] = relationship()
    guardian: Mapped[Guardian | None] = relationship()


class MeetingDecision(PublicIdMixin, Base):
    """A decision recorded at a meeting; with an owner it is a draft action the Child's Plan adopts."""

    __tablename__ = "meeting_decision"
    __table_args__ = (
        CheckConstraint("owner_person_id IS NULL OR owner_agency_id IS NOT NULL", name="person_needs_agency"),
        CheckConstraint("owner_unit_id IS NULL OR owner_agency_id IS NOT NULL", name="unit_needs_agency"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id"), index=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    owner_agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"), index=True)
    owner_unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    owner_person_id: Mapped[int | None] = mapped_column(ForeignKey("staff_person.id"), index=True)
    due_on: Mapped[date | None] = mapped_column(Date)
    adopted_at: Mapped[datetime | None]  # set by the Child's Plan when it adopts the draft action
    created_at: Mapped[datetime]

    meeting: Mapped[Meeting] = relationship(back_populates="decisions")
    owner_agency: Mapped[Agency | None] = relationship()
    owner_unit: Mapped[Unit | None] = relationship()
    owner_person: Mapped[StaffPerson | None] = relationship()
    areas: Mapped[list[DecisionArea]] = relationship(back_populates="decision", cascade="all, delete-orphan")

    @property
    def area_codes(self) -> frozenset[str]:
        return frozenset(area.area for area in self.areas)

    @property
    def is_draft_action(self) -> bool:
        return self.owner_agency_id is not None


class DecisionArea(Base):
    __tablename__ = "decision_area"
    __table_args__ = (
        CheckConstraint(f"area IN ({in_list(AREA_CODES)})", name="area_known"),
        UniqueConstraint("decision_id", "area"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("meeting_decision.id"), index=True)
    area: Mapped[str] = mapped_column(String(20))

    decision: Mapped[MeetingDecision] = relationship(back_populates="areas")
