"""Consent: the texts shown to the family, consents per agency and purpose with their Needs Compass
areas and givers, and maturity assessments."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from childplan.compass import AREA_CODES
from coordination.children.models import Guardian
from coordination.model_base import Base, PublicIdMixin, in_list

CONSENT_PURPOSES: tuple[str, ...] = ("coordination", "team_meetings")
CONSENT_METHODS: tuple[str, ...] = ("in_person", "phone", "written", "e_signed")
CONSENT_STATES: tuple[str, ...] = ("requested", "recorded", "withdrawn")


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
        CheckConstraint("(replaced_by_id IS NULL) = (replaced_from IS NULL)", name="replaced_from_when_replaced"),
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
    # Widening (RULES.md §3, docs/access-rules.md): a newer consent of the same child, agency and purpose
    # with more areas replaced this one; it stops counting on ``replaced_from`` (the newer one's first day).
    replaced_by_id: Mapped[int | None] = mapped_column(ForeignKey("consent.id"), index=True)
    replaced_from: Mapped[date | None] = mapped_column(Date)

    areas: Mapped[list[ConsentArea]] = relationship(back_populates="consent", cascade="all, delete-orphan")
    givers: Mapped[list[ConsentGiver]] = relationship(back_populates="consent", cascade="all, delete-orphan")

    @property
    def area_codes(self) -> frozenset[str]:
        """The areas the consent covers now: its areas less those withdrawn one by one."""
        return frozenset(row.area for row in self.areas if row.withdrawn_at is None)


class ConsentArea(Base):
    """One Needs Compass area of a consent. An area may be withdrawn on its own (``withdrawn_at``, by one
    of the consent's givers, recorded by staff): the consent then goes on for its other areas."""

    __tablename__ = "consent_area"
    __table_args__ = (
        UniqueConstraint("consent_id", "area"),
        CheckConstraint(f"area IN ({in_list(AREA_CODES)})", name="area_known"),
        CheckConstraint(
            "(withdrawn_at IS NULL) = (withdrawal_recorded_by_id IS NULL)", name="withdrawal_recorded_when_withdrawn"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    consent_id: Mapped[int] = mapped_column(ForeignKey("consent.id"), index=True)
    area: Mapped[str] = mapped_column(String(20))
    withdrawn_at: Mapped[datetime | None]
    withdrawn_by_giver_id: Mapped[int | None] = mapped_column(ForeignKey("consent_giver.id"), index=True)
    withdrawal_recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_person.id"), index=True)

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
