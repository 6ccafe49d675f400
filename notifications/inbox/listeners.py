"""The inbox's listeners (RULES.md §8): they turn the coordination domain's signals
(``coordination.events``) into inbox items.

Each listener writes ``InboxItem`` rows in the sender's transaction (``db.session.add``, no commit), one
per recipient and event; ``dedupe_key`` makes a repeated signal harmless. An item holds no case content:
a kind, the child's id, and which object it points at (rendered through the access core when read,
``notifications.inbox.rendering``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select

from agencies.models import Membership, StaffPerson, Unit
from coordination import events
from coordination.access import current_child_contact, plan_keeper
from coordination.children.models import Enrolment, RoleAssignment
from coordination.clock import now, today
from coordination.database import db
from coordination.registration.models import PendingLink
from coordination.teams.models import TeamMember
from notifications.models import InboxItem

DEDUPE_MAX = 200


def _add_items(
    recipients: Iterable[tuple[int | None, int | None]],
    kind: str,
    key: str,
    *,
    child_id: int | None,
    object_type: str | None,
    object_public_id: str | None,
) -> list[InboxItem]:
    """One item per (person, agency), unless an item with the same key exists already."""
    wanted: dict[str, tuple[int, int]] = {}
    for person_id, agency_id in recipients:
        if person_id is None or agency_id is None:
            continue
        dedupe_key = f"{key}:{person_id}:{agency_id}"[:DEDUPE_MAX]
        wanted.setdefault(dedupe_key, (person_id, agency_id))
    if not wanted:
        return []
    existing = set(db.session.scalars(select(InboxItem.dedupe_key).where(InboxItem.dedupe_key.in_(list(wanted)))))
    moment = now()
    added = []
    for dedupe_key, (person_id, agency_id) in wanted.items():
        if dedupe_key in existing:
            continue
        item = InboxItem(
            recipient_person_id=person_id,
            recipient_agency_id=agency_id,
            kind=kind,
            child_id=child_id,
            object_type=object_type,
            object_public_id=object_public_id,
            dedupe_key=dedupe_key,
            created_at=moment,
        )
        db.session.add(item)
        added.append(item)
    return added


def _members_with(flag: Any, agency_id: int | None) -> list[tuple[int, int]]:
    """The active staff of an agency holding a role flag now (agency admin, intake)."""
    if agency_id is None:
        return []
    rows = db.session.execute(
        select(Membership.staff_person_id, Membership.agency_id)
        .join(StaffPerson, StaffPerson.id == Membership.staff_person_id)
        .where(Membership.agency_id == agency_id, flag.is_(True), Membership.ended_at.is_(None), StaffPerson.is_active)
        .distinct()
        .order_by(Membership.staff_person_id)
    )
    return [(person_id, agency) for person_id, agency in rows]


def agency_admins(agency_id: int | None) -> list[tuple[int, int]]:
    return _members_with(Membership.is_agency_admin, agency_id)


def intake_members(agency_id: int | None) -> list[tuple[int, int]]:
    return _members_with(Membership.is_intake, agency_id)


def _child_contact_of(child_id: int) -> list[tuple[int, int]]:
    contact = current_child_contact(child_id)
    return [(contact.staff_person_id, contact.agency_id)] if contact is not None else []


def on_concern_routed(_sender: object, concern: Any, **_extra: Any) -> None:
    routing = concern.routing
    if routing in ("agency_admin", "unmatched"):
        kind = "concern_awaits_child_contact" if routing == "agency_admin" else "unmatched_concern"
        recipients = agency_admins(concern.recipient_agency_id)
    else:
        kind = "signal" if routing == "signal" else "concern"
        recipients = [(concern.recipient_person_id, concern.recipient_agency_id)]
    _add_items(
        recipients,
        kind,
        f"concern:{concern.public_id}",
        child_id=concern.child_id,
        object_type="concern",
        object_public_id=concern.public_id,
    )


def on_matching_alert_raised(_sender: object, alert: Any, **_extra: Any) -> None:
    _add_items(
        [(alert.recipient_person_id, alert.recipient_agency_id)],
        "matching_alert",
        f"alert:{alert.public_id}",
        child_id=alert.child_id,
        object_type="matching_alert",
        object_public_id=alert.public_id,
    )


def on_sibling_request_sent(_sender: object, request: Any, **_extra: Any) -> None:
    # Nothing about either child, not even an id: the item names only the request (RULES.md §5).
    _add_items(
        [(request.to_person_id, request.to_agency_id)],
        "sibling_request",
        f"sibling:{request.public_id}",
        child_id=None,
        object_type="sibling_contact_request",
        object_public_id=request.public_id,
    )


def on_coordinator_requested(_sender: object, request: Any, **_extra: Any) -> None:
    _add_items(
        [(request.nominee_person_id, request.nominee_agency_id)],
        "coordinator_request",
        f"coordinator-request:{request.public_id}",
        child_id=request.child_id,
        object_type="coordinator_request",
        object_public_id=request.public_id,
    )


def on_coordinator_request_answered(_sender: object, request: Any, **_extra: Any) -> None:
    _add_items(
        [(request.requested_by_id, request.requested_by_agency_id)],
        "coordinator_answer",
        f"coordinator-answer:{request.public_id}:{request.state}",
        child_id=request.child_id,
        object_type="coordinator_request",
        object_public_id=request.public_id,
    )


def on_coordinator_vacated(_sender: object, child: Any, agency_id: int, person_id: int, **_extra: Any) -> None:
    _add_items(
        _child_contact_of(child.id),
        "coordinator_vacated",
        f"vacated:{child.public_id}:{agency_id}:{person_id}:{today().isoformat()}",
        child_id=child.id,
        object_type="child",
        object_public_id=child.public_id,
    )


def on_report_filed(_sender: object, report: Any, **_extra: Any) -> None:
    # The intake queue is every intake member's; the item names no child (RULES.md §5).
    _add_items(
        intake_members(report.social_services_agency_id),
        "report",
        f"report:{report.public_id}",
        child_id=None,
        object_type="report_of_concern",
        object_public_id=report.public_id,
    )


def on_report_acknowledged(_sender: object, report: Any, **_extra: Any) -> None:
    _add_items(
        [(report.reporter_person_id, report.reporter_agency_id)],
        "report_acknowledged",
        f"report-acknowledged:{report.public_id}",
        child_id=None,
        object_type="report_of_concern",
        object_public_id=report.public_id,
    )


def link_deciders(link: PendingLink) -> list[tuple[int, int]]:
    """Who decides a pending link (``coordination.access``, "who decides a pending link"): the Child
    Contact; otherwise the agency admins of the agencies the child is enrolled at now; otherwise, for a
    child enrolled nowhere, the agency admins of the requesting unit's agency — never the requester."""
    contact = _child_contact_of(link.child_id)
    if contact:
        return contact
    enrolled_agencies: list[int | None] = list(
        db.session.scalars(
            select(Unit.agency_id)
            .join(Enrolment, Enrolment.unit_id == Unit.id)
            .where(Enrolment.child_id == link.child_id, Enrolment.ended_on.is_(None))
            .distinct()
        )
    )
    if not enrolled_agencies:
        enrolled_agencies = [db.session.scalar(select(Unit.agency_id).where(Unit.id == link.unit_id))]
    admins: list[tuple[int, int]] = []
    for agency_id in sorted(a for a in enrolled_agencies if a is not None):
        admins += [admin for admin in agency_admins(agency_id) if admin[0] != link.requested_by_id]
    return admins


def on_pending_link_requested(_sender: object, link: Any, **_extra: Any) -> None:
    _add_items(
        link_deciders(link),
        "pending_link",
        f"link:{link.public_id}",
        child_id=link.child_id,
        object_type="pending_link",
        object_public_id=link.public_id,
    )


def on_role_needs_consent(
    _sender: object, child: Any, agency_id: int, person_id: int, role: str, **_extra: Any
) -> None:
    assignments = db.session.scalars(
        select(RoleAssignment).where(
            RoleAssignment.child_id == child.id,
            RoleAssignment.role.in_(("child_contact", "support_coordinator")),
            RoleAssignment.ended_at.is_(None),
        )
    ).all()
    keeper = next((a for a in assignments if a.role == "support_coordinator"), None) or next(
        (a for a in assignments if a.role == "child_contact"), None
    )
    recipients: list[tuple[int | None, int | None]] = [(person_id, agency_id)]
    if keeper is not None:
        recipients.append((keeper.staff_person_id, keeper.agency_id))
    recipients += agency_admins(agency_id)
    _add_items(
        recipients,
        "role_needs_consent",
        f"role:{child.public_id}:{agency_id}:{role}:{person_id}:{today().isoformat()}",
        child_id=child.id,
        object_type="role",
        object_public_id=role,
    )


def on_team_member_added(_sender: object, member: Any, **_extra: Any) -> None:
    _add_items(
        [(member.staff_person_id, member.agency_id)],
        "team_invitation",
        f"team-member:{member.public_id}",
        child_id=member.child_id,
        object_type="team_member",
        object_public_id=member.public_id,
    )


def on_meeting_changed(_sender: object, meeting: Any, change: str, **_extra: Any) -> None:

    members = db.session.execute(
        select(TeamMember.staff_person_id, TeamMember.agency_id)
        .where(TeamMember.child_id == meeting.child_id, TeamMember.ended_at.is_(None))
        .order_by(TeamMember.id)
    ).all()
    stamp = int(meeting.changed_at.timestamp()) if meeting.changed_at is not None else 0
    _add_items(
        [(person_id, agency_id) for person_id, agency_id in members],
        "meeting",
        f"meeting:{meeting.public_id}:{change}:{meeting.version}:{stamp}",
        child_id=meeting.child_id,
        object_type="meeting",
        object_public_id=meeting.public_id,
    )


def on_plan_comment_added(_sender: object, comment: Any, child_id: int, **_extra: Any) -> None:
    # The plan keeper (the Support Coordinator, otherwise the Child Contact) is told; the item holds no text.

    keeper = plan_keeper(child_id)
    _add_items(
        [(keeper.staff_person_id, keeper.agency_id)] if keeper is not None else [],
        "plan_comment",
        f"plan-comment:{comment.public_id}",
        child_id=child_id,
        object_type="plan_comment",
        object_public_id=comment.public_id,
    )


def on_plan_action_assigned(_sender: object, action: Any, **_extra: Any) -> None:
    # The person the action is given to is told (once per version of it); the item holds no text.
    _add_items(
        [(action.owner_person_id, action.owner_agency_id)],
        "plan_action",
        f"plan-action:{action.public_id}:{action.version}",
        child_id=action.child_id,
        object_type="plan_action",
        object_public_id=action.public_id,
    )


LISTENERS = (
    (events.concern_routed, on_concern_routed),
    (events.matching_alert_raised, on_matching_alert_raised),
    (events.sibling_request_sent, on_sibling_request_sent),
    (events.coordinator_requested, on_coordinator_requested),
    (events.coordinator_request_answered, on_coordinator_request_answered),
    (events.coordinator_vacated, on_coordinator_vacated),
    (events.report_filed, on_report_filed),
    (events.report_acknowledged, on_report_acknowledged),
    (events.pending_link_requested, on_pending_link_requested),
    (events.role_needs_consent, on_role_needs_consent),
    (events.team_member_added, on_team_member_added),
    (events.meeting_changed, on_meeting_changed),
    (events.plan_comment_added, on_plan_comment_added),
    (events.plan_action_assigned, on_plan_action_assigned),
)


def connect() -> None:
    """Connect every listener (blinker keeps one connection per receiver, so calling this again is
    harmless; strong references, since the functions live as long as the module)."""
    for signal, listener in LISTENERS:
        signal.connect(listener, weak=False)
