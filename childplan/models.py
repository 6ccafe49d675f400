"""The Child's Plan (GIRFEC's Child's Plan, SIP's "who has overall responsibility"): one plan per child,
its needs (each tied to Needs Compass areas), goals, actions across agencies, published frozen versions,
the family's acknowledgements and comments, and reviews with compass ratings from every voice.

Every item carries the agency whose record it is and its Needs Compass areas, so the access core can decide
per viewer what crosses to other agencies (RULES.md §4), and a flag for items withheld from guardians
(RULES.md §6)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

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
    event,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from agencies.models import Agency, StaffPerson, Unit
from childplan.compass import AREA_CODES
from coordination.children.models import Child, Guardian
from coordination.model_base import Base, PublicIdMixin, in_list

PLAN_STATUSES: tuple[str, ...] = ("active", "closed")
PLAN_CLOSE_REASONS: tuple[str, ...] = ("goals_met", "moved_away", "turned_18", "other")
ACTION_STATUSES: tuple[str, ...] = ("planned", "in_progress", "done", "stopped")
RATING_VOICES: tuple[str, ...] = ("professionals", "child", "guardians")
PLAN_TEXT_MAX = 4000


def _withheld_checks() -> tuple[CheckConstraint, ...]:
    return (
        CheckConstraint("NOT is_withheld_from_guardians OR withheld_reason IS NOT NULL", name="withheld_has_reason"),
    )


class Plan(PublicIdMixin, Base):
    """One plan per child, kept by the plan keeper (the Support Coordinator, otherwise the Child Contact)."""

    __tablename__ = "plan"
    __table_args__ = (
        CheckConstraint(f"status IN ({in_list(PLAN_STATUSES)})", name="status_known"),
        CheckConstraint(
            f"close_reason IS NULL OR close_reason IN ({in_list(PLAN_CLOSE_REASONS)})", name="close_reason_known"
        ),
        CheckConstraint("(status = 'closed') = (closed_at IS NOT NULL)", name="closed_has_time"),
        CheckConstraint("status <> 'closed' OR close_reason IS NOT NULL", name="closed_has_reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id"), unique=True)
    # the keeper's agency when the plan was started: the plan-level texts are its record
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    why: Mapped[str | None] = mapped_column(Text)  # why there is a plan, in plain words
    overall_responsibility: Mapped[str | None] = mapped_column(Text)  # SIP: who has overall responsibility
    child_views: Mapped[str | None] = mapped_column(Text)
    guardian_views: Mapped[str | None] = mapped_column(Text)
    disagreements: Mapped[str | None] = mapped_column(Text)
    next_review_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="active")
    close_reason: Mapped[str | None] = mapped_column(String(20))
    close_note: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(Integer, default=1)  # optimistic locking: the form carries it
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_person.id"), index=True)
    created_at: Mapped[datetime]
    changed_at: Mapped[datetime]

    child: Mapped[Child] = relationship()
    agency: Mapped[Agency] = relationship()
    needs: Mapped[list[Need]] = relationship(back_populates="plan", order_by="Need.position, Need.id")
    actions: Mapped[list[Action]] = relationship(back_populates="plan", order_by="Action.due_on, Action.id")


class Need(PublicIdMixin, Base):
    __tablename__ = "plan_need"
    __table_args__ = _withheld_checks()

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id"), index=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)  # whose record it is
    description: Mapped[str] = mapped_column(Text)
    strengths: Mapped[str | None] = mapped_column(Text)
    getting_in_the_way: Mapped[str | None] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, default=0)
    is_withheld_from_guardians: Mapped[bool] = mapped_column(Boolean, default=False)
    withheld_reason: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime]

    plan: Mapped[Plan] = relationship(back_populates="needs")
    areas: Mapped[list[NeedArea]] = relationship(back_populates="need", cascade="all, delete-orphan")
    goals: Mapped[list[Goal]] = relationship(back_populates="need", order_by="Goal.position, Goal.id")

    @property
    def area_codes(self) -> frozenset[str]:
        return frozenset(area.area for area in self.areas)


class NeedArea(Base):
    __tablename__ = "plan_need_area"
    __table_args__ = (
        CheckConstraint(f"area IN ({in_list(AREA_CODES)})", name="area_known"),
        UniqueConstraint("need_id", "area"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("plan_need.id"), index=True)
    area: Mapped[str] = mapped_column(String(20))

    need: Mapped[Need] = relationship(back_populates="areas")


class Goal(PublicIdMixin, Base):
    """A desired outcome for a need, and how achieving it will be seen (the evidence)."""

    __tablename__ = "plan_goal"

    id: Mapped[int] = mapped_column(primary_key=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("plan_need.id"), index=True)
    outcome: Mapped[str] = mapped_column(Text)
    evidence: Mapped[str | None] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]

    need: Mapped[Need] = relationship(back_populates="goals")


class Action(PublicIdMixin, Base):
    """Who does what, and when: owned by an agency (and optionally a unit and a person of it)."""

    __tablename__ = "plan_action"
    __table_args__ = (
        CheckConstraint(f"status IN ({in_list(ACTION_STATUSES)})", name="status_known"),
        CheckConstraint("status <> 'stopped' OR stop_reason IS NOT NULL", name="stopped_has_reason"),
        CheckConstraint("starts_on IS NULL OR due_on IS NULL OR due_on >= starts_on", name="due_after_start"),
        *_withheld_checks(),
        # the worklists: open actions of a person / of a unit, by due date
        Index("ix_plan_action_person_status_due", "owner_person_id", "status", "due_on"),
        Index("ix_plan_action_unit_status_due", "owner_unit_id", "status", "due_on"),
        Index("ix_plan_action_agency_status_due", "owner_agency_id", "status", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id"), index=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id"), index=True)
    need_id: Mapped[int | None] = mapped_column(ForeignKey("plan_need.id"), index=True)
    what: Mapped[str] = mapped_column(Text)
    owner_agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    owner_unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    owner_person_id: Mapped[int | None] = mapped_column(ForeignKey("staff_person.id"), index=True)
    starts_on: Mapped[date | None] = mapped_column(Date)
    due_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="planned")
    stop_reason: Mapped[str | None] = mapped_column(String(1000))
    progress_note: Mapped[str | None] = mapped_column(Text)
    # adopted from a team meeting's decision (a draft action)
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("meeting_decision.id"), unique=True)
    is_withheld_from_guardians: Mapped[bool] = mapped_column(Boolean, default=False)
    withheld_reason: Mapped[str | None] = mapped_column(String(1000))
    version: Mapped[int] = mapped_column(Integer, default=1)  # optimistic locking: the form carries it
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_person.id"), index=True)
    created_at: Mapped[datetime]
    changed_at: Mapped[datetime]

    plan: Mapped[Plan] = relationship(back_populates="actions")
    need: Mapped[Need | None] = relationship()
    owner_agency: Mapped[Agency] = relationship(foreign_keys=[owner_agency_id])
    owner_unit: Mapped[Unit | None] = relationship()
    owner_person: Mapped[StaffPerson | None] = relationship(foreign_keys=[owner_person_id])
    areas: Mapped[list[ActionArea]] = relationship(back_populates="action", cascade="all, delete-orphan")

    @property
    def area_codes(self) -> frozenset[str]:
        """The action's own areas; an action that serves a need is also in the need's areas."""
        own = frozenset(area.area for area in self.areas)
        return own | (self.need.area_codes if self.need is not None else frozenset())


class ActionArea(Base):
    __tablename__ = "plan_action_area"
    __table_args__ = (
        CheckConstraint(f"area IN ({in_list(AREA_CODES)})", name="area_known"),
        UniqueConstraint("action_id", "area"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("plan_action.id"), index=True)
    area: Mapped[str] = mapped_column(String(20))

    action: Mapped[Action] = relationship(back_populates="areas")


class PlanVersion(PublicIdMixin, Base):
    """A published version: frozen. ``content`` is the plan as published (needs, goals, actions with their
    agencies, areas and withheld flags), so each side of a diff can be filtered for the viewer."""

    __tablename__ = "plan_version"
    __table_args__ = (UniqueConstraint("plan_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    published_by_id: Mapped[int] = mapped_column(ForeignKey("staff_person.id"), index=True)
    published_at: Mapped[datetime]


class FrozenVersionError(Exception):
    """Something tried to change a published version: a bug, never user input (no page offers it)."""


@event.listens_for(PlanVersion, "before_update")
def _published_versions_are_frozen(_mapper: object, _connection: object, version: PlanVersion) -> None:
    raise FrozenVersionError(f"plan version {version.public_id} is published and frozen")


@event.listens_for(PlanVersion, "before_delete")
def _published_versions_are_kept(_mapper: object, _connection: object, version: PlanVersion) -> None:
    raise FrozenVersionError(f"plan version {version.public_id} is published and cannot be deleted")


class VersionAcknowledgement(Base):
    """A guardian (or the young person) marked a published version as read, and agreed or not."""

    __tablename__ = "plan_version_acknowledgement"
    __table_args__ = (
        CheckConstraint("(guardian_id IS NULL) = is_young_person", name="guardian_or_young_person"),
        UniqueConstraint("version_id", "guardian_id"),
        # NULLs are distinct in the constraint above (SQLite and PostgreSQL): one young person's row per version
        Index(
            "uq_plan_version_acknowledgement_young_person",
            "version_id",
            unique=True,
            sqlite_where=text("is_young_person"),
            postgresql_where=text("is_young_person"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("plan_version.id"), index=True)
    guardian_id: Mapped[int | None] = mapped_column(ForeignKey("guardian.id"), index=True)
    is_young_person: Mapped[bool] = mapped_column(Boolean, default=False)
    has_agreed: Mapped[bool] = mapped_column(Boolean, default=False)
    read_at: Mapped[datetime]

    guardian: Mapped[Guardian | None] = relationship()


class PlanComment(PublicIdMixin, Base):
    """A comment on the plan or on one of its items. Free text inherits the item's areas and agency
    (RULES.md §4); a plan-level comment goes to the plan keeper only."""

    __tablename__ = "plan_comment"
    __table_args__ = (
        CheckConstraint(
            "(CASE WHEN staff_person_id IS NOT NULL THEN 1 ELSE 0 END)"
            " + (CASE WHEN guardian_id IS NOT NULL THEN 1 ELSE 0 END)"
            " + (CASE WHEN is_young_person THEN 1 ELSE 0 END) = 1",
            name="exactly_one_author",
        ),
        CheckConstraint("need_id IS NULL OR action_id IS NULL", name="one_item_at_most"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id"), index=True)
    version_id: Mapped[int | None] = mapped_column(ForeignKey("plan_version.id"), index=True)
    need_id: Mapped[int | None] = mapped_column(ForeignKey("plan_need.id"), index=True)
    action_id: Mapped[int | None] = mapped_column(ForeignKey("plan_action.id"), index=True)
    staff_person_id: Mapped[int | None] = mapped_column(ForeignKey("staff_person.id"), index=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"), index=True)
    guardian_id: Mapped[int | None] = mapped_column(ForeignKey("guardian.id"), index=True)
    is_young_person: Mapped[bool] = mapped_column(Boolean, default=False)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class Review(PublicIdMixin, Base):
    """A review of the plan: each Needs Compass area rated by the professionals and, optionally, the child
    and the guardians — side by side, never averaged."""

    __tablename__ = "plan_review"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id"), index=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id"), index=True)
    held_on: Mapped[date] = mapped_column(Date)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("staff_person.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]

    ratings: Mapped[list[Rating]] = relationship(back_populates="review", cascade="all, delete-orphan")


class Rating(Base):
    __tablename__ = "plan_rating"
    __table_args__ = (
        CheckConstraint(f"area IN ({in_list(AREA_CODES)})", name="area_known"),
        CheckConstraint(f"voice IN ({in_list(RATING_VOICES)})", name="voice_known"),
        CheckConstraint("scale BETWEEN 1 AND 5", name="scale_1_to_5"),
        CheckConstraint("voice <> 'professionals' OR agency_id IS NOT NULL", name="professional_has_agency"),
        *_withheld_checks(),
        UniqueConstraint("review_id", "area", "voice", "agency_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("plan_review.id"), index=True)
    area: Mapped[str] = mapped_column(String(20))
    voice: Mapped[str] = mapped_column(String(20))
    scale: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    # the professionals' rating is their agency's record (cross-agency: consent-scoped)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"), index=True)
    rated_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_person.id"), index=True)
    is_withheld_from_guardians: Mapped[bool] = mapped_column(Boolean, default=False)
    withheld_reason: Mapped[str | None] = mapped_column(String(1000))

    review: Mapped[Review] = relationship(back_populates="ratings")
