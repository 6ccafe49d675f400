"""Matching alerts (RULES.md §5): when another agency's concern or signal about the same child arrives
within the window, the child's current Child Contact gets one alert per pair of concerns.

Called after a concern is routed (``raising``, ``unmatched``); it depends only on ``routing``."""

from __future__ import annotations

from datetime import timedelta

from flask import has_app_context
from sqlalchemy import and_, or_, select

from coordination import events, settings
from coordination.access import AnyActor, current_child_contact
from coordination.audit import record_write
from coordination.chronology.record import record_event
from coordination.clock import now
from coordination.concerns.models import Concern, MatchingAlert
from coordination.concerns.operations.routing import CONCERN_BASIS
from coordination.database import db

DEFAULT_MATCH_WINDOW_DAYS = 14


def match_window_days() -> int:
    """The window in force: the platform admin's setting, else the configuration (``coordination.settings``)."""
    if has_app_context():
        return settings.match_window_days()
    return DEFAULT_MATCH_WINDOW_DAYS


def match_concern(actor: AnyActor, concern: Concern) -> list[MatchingAlert]:
    """After routing: another agency's concern or signal about the same child within the window makes one
    alert per pair (the lower id first; never twice) to the current Child Contact (RULES.md §5)."""
    if concern.child_id is None or concern.routing == "unmatched":
        return []
    contact = current_child_contact(concern.child_id)
    if contact is None:
        return []  # matched again when a Child Contact is assigned (``reroute_waiting_concerns``)
    window = timedelta(days=match_window_days())
    others = db.session.scalars(
        select(Concern)
        .where(
            Concern.child_id == concern.child_id,
            Concern.id != concern.id,
            Concern.routing != "unmatched",
            Concern.author_agency_id != concern.author_agency_id,
            Concern.created_at >= concern.created_at - window,
            Concern.created_at <= concern.created_at + window,
        )
        .order_by(Concern.id)
    ).all()
    if not others:
        return []
    pairs = [(min(concern.id, other.id), max(concern.id, other.id)) for other in others]
    existing = set(
        db.session.execute(
            select(MatchingAlert.first_concern_id, MatchingAlert.second_concern_id).where(
                or_(
                    *(and_(MatchingAlert.first_concern_id == a, MatchingAlert.second_concern_id == b) for a, b in pairs)
                )
            )
        ).tuples()
    )
    made: list[MatchingAlert] = []
    for first, second in pairs:
        if (first, second) in existing:
            continue
        alert = MatchingAlert(
            child_id=concern.child_id,
            first_concern_id=first,
            second_concern_id=second,
            recipient_person_id=contact.staff_person_id,
            recipient_agency_id=contact.agency_id,
            created_at=now(),
        )
        db.session.add(alert)
        db.session.flush()
        record_write(
            actor.audit_actor(),
            "raise_matching_alert",
            child_id=concern.child_id,
            object_type="matching_alert",
            object_id=alert.public_id,
            legal_basis=CONCERN_BASIS,
        )
        record_event(
            concern.child_id,
            "matching_alert",
            owner_agency_id=contact.agency_id,
            audience="recipient",
            tone="worry",
            recipient_person_id=contact.staff_person_id,
            object_type="matching_alert",
            object_public_id=alert.public_id,
        )
        db.session.flush()
        events.matching_alert_raised.send(None, alert=alert)
        made.append(alert)
    return made
