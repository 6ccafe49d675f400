"""The Child Contact's handling of a concern (issue 4, item 5): acknowledge it, record a conversation
with the family and/or the child, close it with a reason.

``verb_noun(actor, concern, ..., data)``: only the child's CURRENT Child Contact acting for the agency
of the assignment may do these (the view checks first and answers 404; the operations check again);
everything is validated before the session is touched, so a refusal (``OperationError(message,
field)``) writes nothing; each write flushes, is audited (``record_write``, basis: the Child Contact
relation) and lands in the chronology (``record_event``) in the same transaction; the caller commits
once. "Now" and "today" come from the app clock.

Chronology entries are the Child Contact's agency's records (``owner_agency_id``), audience
"coordination", tone "neutral", linked to the concern (``object_type`` "concern"). They carry the
concern's Needs Compass areas only when the Child Contact may know them (``areas``: the view passes the
concern's areas when it shows the whole concern, none for a content-free signal — the areas of a
signal are content the Child Contact has not been given).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time

from flask_babel import lazy_gettext as _l

from coordination.access import Actor, current_child_contact
from coordination.audit import record_write, refusals_audited
from coordination.chronology.record import record_event
from coordination.clock import current_clock, now, today
from coordination.concerns.models import TEXT_MAX, Concern
from coordination.database import db
from coordination.errors import OperationError

LEGAL_BASIS = "relation_child_contact"
CLOSE_REASONS_BY_CHILD_CONTACT: tuple[str, ...] = ("handled_within_agency", "no_further_action", "other")


def _require_child_contact(actor: Actor, concern: Concern) -> None:
    """The current Child Contact, acting for the agency of the assignment."""
    contact = current_child_contact(concern.child_id) if concern.child_id is not None else None
    if (
        contact is None
        or actor.kind != "staff"
        or actor.acting_agency is None
        or contact.staff_person_id != actor.account.staff_person_id
        or contact.agency_id != actor.acting_agency.id
    ):
        raise OperationError(str(_l("Only the child's Child Contact can do this")))


def _text(value: str | None, field: str, *, required_message: object) -> str:
    text = (value or "").strip()
    if not text:
        raise OperationError(str(required_message), field)
    if len(text) > TEXT_MAX:
        raise OperationError(str(_l("Write at most %(max)d characters", max=TEXT_MAX)), field)
    return text


def _record(
    actor: Actor,
    concern: Concern,
    kind: str,
    areas: Iterable[str],
    *,
    summary: str | None = None,
    occurred_at: datetime | None = None,
) -> None:
    assert concern.child_id is not None
    # Every caller has passed ``_require_child_contact``, which refuses an actor acting for no agency.
    assert actor.acting_agency is not None
    codes = list(areas)
    record_event(
        concern.child_id,
        kind,
        owner_agency_id=actor.acting_agency.id,
        # Free text inherits the concern's areas (RULES.md §4). The Child Contact was given no areas of a
        # signal, so a note on one cannot be scoped by area: it stays the Child Contact's agency's own.
        audience="coordination" if codes else "own_agency",
        areas=codes,
        tone="neutral",
        author_person_id=actor.account.staff_person_id,
        object_type="concern",
        object_public_id=concern.public_id,
        summary=summary,
        occurred_at=occurred_at,
    )


@refusals_audited("acknowledge_concern")
def acknowledge_concern(actor: Actor, concern: Concern, areas: Iterable[str] = ()) -> None:
    _require_child_contact(actor, concern)
    if concern.state != "open":
        raise OperationError(str(_l("This concern has already been acknowledged")))
    concern.state = "acknowledged"
    concern.acknowledged_at = now()
    concern.acknowledged_by_id = actor.account.staff_person_id
    db.session.flush()
    record_write(
        actor.audit_actor(),
        "acknowledge_concern",
        child_id=concern.child_id,
        object_type="concern",
        object_id=concern.public_id,
        legal_basis=LEGAL_BASIS,
    )
    _record(actor, concern, "concern_acknowledged", areas)


@dataclass(frozen=True)
class ConversationData:
    with_family: bool
    with_child: bool
    held_on: date | None
    text: str | None


def _moment_of(day: date) -> datetime:
    """Today: now. An earlier day: noon that day, local time (the chronology orders by it)."""
    if day == today():
        return now()
    clock = current_clock()
    return datetime.combine(day, time(12, 0), tzinfo=clock.zone).astimezone(now().tzinfo)


@refusals_audited("record_conversation")
def record_conversation(actor: Actor, concern: Concern, data: ConversationData, areas: Iterable[str] = ()) -> None:
    """A conversation with the family and/or the child about the concern: a chronology entry whose
    summary is the text."""
    _require_child_contact(actor, concern)
    if concern.state == "closed":
        raise OperationError(str(_l("This concern is closed")))
    if not (data.with_family or data.with_child):
        raise OperationError(str(_l("Choose who the conversation was with")), "with_whom")
    if data.held_on is None:
        raise OperationError(str(_l("Enter the date of the conversation")), "held_on")
    if data.held_on > today():
        raise OperationError(str(_l("The date of the conversation cannot be in the future")), "held_on")
    text = _text(data.text, "text", required_message=_l("Write what was said"))
    db.session.flush()
    with_whom = [who for who, held in (("family", data.with_family), ("child", data.with_child)) if held]
    record_write(
        actor.audit_actor(),
        "record_conversation",
        child_id=concern.child_id,
        object_type="concern",
        object_id=concern.public_id,
        legal_basis=LEGAL_BASIS,
        detail={"with": with_whom},
    )
    _record(actor, concern, "conversation", areas, summary=text, occurred_at=_moment_of(data.held_on))


@refusals_audited("close_concern")
def close_concern(
    actor: Actor, concern: Concern, reason: str | None, note: str | None, areas: Iterable[str] = ()
) -> None:
    """Close the concern for good, with a reason and a required note (irreversible)."""
    _require_child_contact(actor, concern)
    if concern.state == "closed":
        raise OperationError(str(_l("This concern is already closed")))
    if reason not in CLOSE_REASONS_BY_CHILD_CONTACT:
        raise OperationError(str(_l("Choose why the concern is closed")), "reason")
    text = _text(note, "note", required_message=_l("Write the reason"))
    concern.state = "closed"
    concern.closed_at = now()
    concern.closed_by_id = actor.account.staff_person_id
    concern.close_reason = reason
    concern.close_note = text
    db.session.flush()
    record_write(
        actor.audit_actor(),
        "close_concern",
        child_id=concern.child_id,
        object_type="concern",
        object_id=concern.public_id,
        legal_basis=LEGAL_BASIS,
        detail={"reason": reason},
    )
    _record(actor, concern, "concern_closed", areas, summary=text)
