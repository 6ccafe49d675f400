"""Appending to a child's chronology: every operation that makes a significant event calls
``record_event`` in its own transaction (the caller commits)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from coordination.chronology.models import (
    CHRONOLOGY_AUDIENCES,
    CHRONOLOGY_KINDS,
    CHRONOLOGY_TONES,
    ChronologyArea,
    ChronologyEntry,
)
from coordination.clock import now
from coordination.database import db


def record_event(
    child_id: int,
    kind: str,
    *,
    owner_agency_id: int,
    audience: str,
    areas: Iterable[str] = (),
    context_areas: Iterable[str] = (),
    tone: str = "neutral",
    summary: str | None = None,
    author_person_id: int | None = None,
    recipient_person_id: int | None = None,
    object_type: str | None = None,
    object_public_id: str | None = None,
    occurred_at: datetime | None = None,
) -> ChronologyEntry:
    if kind not in CHRONOLOGY_KINDS:
        raise ValueError(f"unknown chronology kind {kind!r}")
    if audience not in CHRONOLOGY_AUDIENCES:
        raise ValueError(f"unknown chronology audience {audience!r}")
    if tone not in CHRONOLOGY_TONES:
        raise ValueError(f"unknown chronology tone {tone!r}")
    moment = now()
    entry = ChronologyEntry(
        child_id=child_id,
        kind=kind,
        occurred_at=occurred_at or moment,
        owner_agency_id=owner_agency_id,
        author_person_id=author_person_id,
        recipient_person_id=recipient_person_id,
        audience=audience,
        tone=tone,
        summary=summary,
        object_type=object_type,
        object_public_id=object_public_id,
        created_at=moment,
        areas=[ChronologyArea(area=area, is_context=False) for area in sorted(set(areas))]
        + [ChronologyArea(area=area, is_context=True) for area in sorted(set(context_areas) - set(areas))],
    )
    db.session.add(entry)
    return entry
