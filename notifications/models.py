"""The in-app inbox: one row per item for one staff member acting for one agency. An item holds no case
content: it points at an object and is rendered through the access core when read (RULES.md §8)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from coordination.model_base import Base, PublicIdMixin, in_list

INBOX_KINDS: tuple[str, ...] = (
    "concern",
    "signal",
    "unmatched_concern",
    "concern_awaits_child_contact",
    "matching_alert",
    "sibling_request",
    "coordinator_request",
    "coordinator_answer",
    "report",
    "report_acknowledged",
    "pending_link",
    "role_needs_consent",
    "coordinator_vacated",
    "team_invitation",
    "meeting",
    "plan_comment",
    "plan_action",
)


class InboxItem(PublicIdMixin, Base):
    __tablename__ = "inbox_item"
    __table_args__ = (
        CheckConstraint(f"kind IN ({in_list(INBOX_KINDS)})", name="kind_known"),
        Index("ix_inbox_item_recipient_unread", "recipient_person_id", "recipient_agency_id", "read_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_person_id: Mapped[int] = mapped_column(ForeignKey("staff_person.id"), index=True)
    recipient_agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    child_id: Mapped[int | None] = mapped_column(ForeignKey("child.id"), index=True)
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_public_id: Mapped[str | None] = mapped_column(String(32))
    # makes a repeated signal idempotent (one item per recipient and event)
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime]
    read_at: Mapped[datetime | None]
