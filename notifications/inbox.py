"""The in-app inbox (RULES.md §8, §9): listeners that turn the coordination domain's signals into inbox
items, and the rendering of those items through the access core when they are read.

Listeners (``connect``) write ``InboxItem`` rows in the sender's transaction (``db.session.add``, no
commit), one per recipient and event; ``dedupe_key`` makes a repeated signal harmless. An item holds no
case content: a kind, the child's id, and which object it points at.

Rendering (``render_items``) loads the objects of a page of items in one statement per kind of object,
the children with the viewer's relations and consent pictures in a fixed number more, and then decides
each item for the viewer *now*: a withdrawn consent or a lost relation turns an old item into "This item
is no longer available to you". Signals, sibling requests and reports carry no content at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.routing import BuildError

from agencies.models import Membership, StaffPerson, Unit
from childplan.compass import AREA_CODES, BY_CODE
from coordination import audit, events
from coordination.access import (
    STAFF,
    Actor,
    ChildAccess,
    ConsentPicture,
    Decision,
    current_child_contact,
    link_decision_basis,
    may_see_item,
    relations_for_children,
)
from coordination.clock import now, today
from coordination.database import db
from coordination.labels import AGENCY_KIND_LABELS
from coordination.models import Child, Consent, Custody, Enrolment, MaturityAssessment, PendingLink, RoleAssignment
from notifications.models import InboxItem

READ_ITEM = "view_inbox_item"
DEDUPE_MAX = 200


# == listeners =================================================================================================
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
    enrolled_agencies = list(
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
    from coordination.teams.models import TeamMember

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
)


def connect() -> None:
    """Connect every listener (blinker keeps one connection per receiver, so calling this again is
    harmless; strong references, since the functions live as long as the module)."""
    for signal, listener in LISTENERS:
        signal.connect(listener, weak=False)


# == reading ===================================================================================================
def inbox_statement(actor: Actor) -> Select[tuple[InboxItem]]:
    """The actor's items for the acting agency: unread first, then newest."""
    assert actor.acting_agency is not None
    return (
        select(InboxItem)
        .where(
            InboxItem.recipient_person_id == actor.account.staff_person_id,
            InboxItem.recipient_agency_id == actor.acting_agency.id,
        )
        .order_by(InboxItem.read_at.is_not(None), InboxItem.created_at.desc(), InboxItem.id.desc())
    )


def unread_count(actor: Actor) -> int:
    assert actor.acting_agency is not None
    return (
        db.session.scalar(
            select(func.count(InboxItem.id)).where(
                InboxItem.recipient_person_id == actor.account.staff_person_id,
                InboxItem.recipient_agency_id == actor.acting_agency.id,
                InboxItem.read_at.is_(None),
            )
        )
        or 0
    )


@dataclass(frozen=True)
class AreaChip:
    code: str
    label: object
    css_class: str


@dataclass(frozen=True)
class Contact:
    name: str
    phone: str | None
    email: str | None


@dataclass
class InboxEntry:
    """One item for this viewer, decided now. ``available`` False shows only that it is gone."""

    public_id: str
    kind: str
    created_at: datetime
    is_read: bool
    available: bool = True
    title: object = ""
    lines: list[object] = field(default_factory=list)
    areas: tuple[AreaChip, ...] = ()
    contact: Contact | None = None
    when: datetime | None = None
    target_url: str | None = None
    open_label: object = _l("Open")


UNAVAILABLE = _l("This item is no longer available to you.")
URGENCY_LABELS = {"routine": _l("Routine"), "soon": _l("Soon"), "urgent": _l("Urgent")}
ROLE_LABELS = {"child_contact": _l("Child Contact"), "support_coordinator": _l("Support Coordinator")}
REQUEST_STATE_LABELS = {
    "pending": _l("waiting for your answer"),
    "accepted": _l("accepted"),
    "declined": _l("declined"),
    "taken": _l("taken by someone else"),
    "withdrawn": _l("withdrawn"),
}
MEETING_STATE_LABELS = {"planned": _l("Planned"), "cancelled": _l("Cancelled"), "held": _l("Held")}

# Where an item leads, if that page is built: the first registered endpoint of each list wins.
TARGETS: dict[str, tuple[str, ...]] = {
    "concern": ("concern.show",),
    "coordinator_request": ("concern.coordinator_request",),
    "intake": ("reports.intake",),
    "receipt": ("reports.receipt",),
    "unmatched": ("concerns.unmatched",),
    "team": ("teams.index",),
    "meeting": ("teams.meeting",),
}


def _target(name: str, **values: str) -> str | None:
    for endpoint in TARGETS.get(name, ()):
        if endpoint in current_app.view_functions:
            try:
                return url_for(endpoint, **values)
            except BuildError:
                continue
    return None


def _endpoint_url(endpoint: str, **values: str) -> str | None:
    if endpoint not in current_app.view_functions:
        return None
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


def _chips(codes: Iterable[str]) -> tuple[AreaChip, ...]:
    chosen = set(codes)
    return tuple(AreaChip(code, BY_CODE[code].label, BY_CODE[code].css_class) for code in AREA_CODES if code in chosen)


def consent_pictures(children: dict[int, Child]) -> dict[int, ConsentPicture]:
    """``access.consent_picture`` for many children at once, in five statements whatever their number
    (evaluated for today: a withdrawal counts from the next request)."""
    from coordination.consent import effective_areas, maturity_min_age

    if not children:
        return {}
    ids = list(children)
    consents: dict[int, list[Consent]] = {child_id: [] for child_id in ids}
    for consent in db.session.scalars(
        select(Consent)
        .where(Consent.child_id.in_(ids))
        .options(selectinload(Consent.areas), selectinload(Consent.givers))
        .order_by(Consent.id)
    ):
        consents[consent.child_id].append(consent)
    guardians: dict[int, set[int]] = {child_id: set() for child_id in ids}
    for child_id, guardian_id in db.session.execute(
        select(Custody.child_id, Custody.guardian_id).where(Custody.child_id.in_(ids), Custody.ended_at.is_(None))
    ):
        guardians[child_id].add(guardian_id)
    mature: dict[int, set[int]] = {child_id: set() for child_id in ids}
    for child_id, agency_id in db.session.execute(
        select(MaturityAssessment.child_id, MaturityAssessment.agency_id).where(MaturityAssessment.child_id.in_(ids))
    ):
        mature[child_id].add(agency_id)
    day, minimum = today(), maturity_min_age()
    return {
        child_id: ConsentPicture(
            child_id=child_id,
            effective=effective_areas(
                consents[child_id],
                guardians[child_id],
                mature[child_id],
                day,
                birth_date=child.birth_date,
                maturity_min_age=minimum,
            ),
            consents=tuple(consents[child_id]),
            custodial_guardian_ids=frozenset(guardians[child_id]),
            mature_agency_ids=frozenset(mature[child_id]),
        )
        for child_id, child in children.items()
    }


def _load_objects(items: list[InboxItem]) -> dict[tuple[str, str], Any]:
    """The objects the items point at: one statement per kind of object on the page."""
    from coordination.concerns.models import Concern, CoordinatorRequest, MatchingAlert, SiblingContactRequest
    from coordination.reports.models import ReportOfConcern
    from coordination.teams.models import Meeting, TeamMember

    loaders: dict[str, tuple[Any, tuple[Any, ...]]] = {
        "concern": (
            Concern,
            (selectinload(Concern.areas), joinedload(Concern.author_agency), joinedload(Concern.author)),
        ),
        "matching_alert": (MatchingAlert, ()),
        "sibling_contact_request": (SiblingContactRequest, (joinedload(SiblingContactRequest.from_person),)),
        "coordinator_request": (
            CoordinatorRequest,
            (joinedload(CoordinatorRequest.nominee), joinedload(CoordinatorRequest.requested_by)),
        ),
        "report_of_concern": (ReportOfConcern, ()),
        "pending_link": (PendingLink, (joinedload(PendingLink.unit),)),
        "team_member": (TeamMember, ()),
        "meeting": (Meeting, (selectinload(Meeting.areas),)),
    }
    wanted: dict[str, set[str]] = {}
    for item in items:
        if item.object_type in loaders and item.object_public_id:
            wanted.setdefault(item.object_type, set()).add(item.object_public_id)
    found: dict[tuple[str, str], Any] = {}
    for object_type, public_ids in wanted.items():
        model, options = loaders[object_type]
        for row in db.session.scalars(select(model).where(model.public_id.in_(sorted(public_ids))).options(*options)):
            found[(object_type, row.public_id)] = row
    return found


@dataclass
class _Context:
    actor: Actor
    children: dict[int, Child]
    accesses: dict[int, ChildAccess]  # the children the viewer has a relation to now
    enrolled_here: set[int]  # children enrolled now at a unit of the acting agency (agency admins)
    objects: dict[tuple[str, str], Any]


def _context(actor: Actor, items: list[InboxItem]) -> _Context:
    child_ids = sorted({item.child_id for item in items if item.child_id is not None})
    children: dict[int, Child] = {}
    accesses: dict[int, ChildAccess] = {}
    enrolled_here: set[int] = set()
    if child_ids:
        children = {child.id: child for child in db.session.scalars(select(Child).where(Child.id.in_(child_ids)))}
        relations = relations_for_children(actor, child_ids)
        related = {child_id: children[child_id] for child_id in relations if child_id in children}
        pictures = consent_pictures(related)
        for child_id, child in related.items():
            accesses[child_id] = ChildAccess(
                child=child,
                actor=actor,
                relations=relations[child_id],
                legal_basis=relations[child_id][0].legal_basis,
                picture=pictures[child_id],
            )
        if actor.is_agency_admin and any(item.kind == "concern_awaits_child_contact" for item in items):
            assert actor.acting_agency is not None
            enrolled_here = set(
                db.session.scalars(
                    select(Enrolment.child_id)
                    .join(Unit, Unit.id == Enrolment.unit_id)
                    .where(
                        Enrolment.child_id.in_(child_ids),
                        Enrolment.ended_on.is_(None),
                        Unit.agency_id == actor.acting_agency.id,
                    )
                )
            )
    return _Context(actor, children, accesses, enrolled_here, _load_objects(items))


def _decide(context: _Context, item: InboxItem, entry: InboxEntry) -> tuple[bool, str, str | None]:
    """Fill in ``entry`` for the viewer and say whether it may be shown: (shown, reason, legal basis)."""
    actor = context.actor
    obj = context.objects.get((item.object_type or "", item.object_public_id or ""))
    access = context.accesses.get(item.child_id) if item.child_id is not None else None
    child_name = access.child.full_name if access is not None else None
    kind = item.kind

    if kind == "sibling_request":
        if obj is None:
            return False, "missing", None
        person = obj.from_person
        entry.title = _l("A colleague asks you to contact them about a family you both know.")
        entry.contact = Contact(person.full_name, person.phone, person.email)
        entry.open_label = _l("Mark as read")
        return True, "addressed_to_you", None

    if kind == "report":
        if "intake" not in actor.roles or obj is None:
            return False, "not_intake", None
        entry.title = _l("A new report of concern")
        entry.target_url = _target("intake")
        return True, "intake", "duty_to_report"

    if kind == "report_acknowledged":
        if obj is None or obj.reporter_person_id != actor.account.staff_person_id:
            return False, "missing", None
        entry.title = _l(
            "Social services have acknowledged your report of concern %(reference)s.", reference=obj.reference
        )
        entry.target_url = _target("receipt", report_id=obj.public_id)
        return True, "reporter", None

    if kind == "unmatched_concern":
        if not actor.is_agency_admin or obj is None:
            return False, "not_agency_admin", None
        entry.title = _l("A concern about a child who is not registered awaits you: register the child or pass it on.")
        entry.target_url = _target("unmatched")
        return True, "agency_admin", "agency_administration"

    if kind == "concern_awaits_child_contact":
        if obj is None or item.child_id is None:
            return False, "missing", None
        if access is None and not (actor.is_agency_admin and item.child_id in context.enrolled_here):
            return False, "no_relation", None
        child = context.children.get(item.child_id)
        entry.title = _l(
            "A concern about %(name)s awaits a Child Contact: assign one.", name=child.full_name if child else ""
        )
        entry.target_url = _endpoint_url("agency.children_without_child_contact")
        return True, "agency_admin", access.legal_basis if access is not None else "agency_administration"

    if kind == "role_needs_consent":
        role = ROLE_LABELS.get(item.object_public_id or "", "")
        if access is not None:
            entry.title = _l(
                "The %(role)s role for %(name)s needs a consented agency: record consent with the family, or "
                "let the agency admin reassign the role.",
                role=role,
                name=child_name,
            )
            entry.target_url = _endpoint_url("children.overview", child_id=access.child.public_id)
            return True, "relation", access.legal_basis
        if actor.is_agency_admin:
            entry.title = _l("A %(role)s role at your agency needs a consented agency.", role=role)
            entry.target_url = _endpoint_url("agency.reassign")
            return True, "agency_admin", "agency_administration"
        return False, "no_relation", None

    if kind == "pending_link":
        basis = link_decision_basis(actor, obj) if obj is not None and obj.state == "pending" else None
        if basis is None:
            return False, "not_deciding", None
        child = context.children.get(obj.child_id)
        entry.title = _l(
            "%(unit)s asks to be linked to %(name)s: approve or reject.",
            unit=obj.unit.name,
            name=child.full_name if child else "",
        )
        if child is not None:
            entry.target_url = _endpoint_url("registration.links", child_id=child.public_id)
        return True, "decides_link", basis

    if kind == "coordinator_request":
        if obj is None or obj.nominee_person_id != actor.account.staff_person_id:
            return False, "missing", None
        state = REQUEST_STATE_LABELS.get(obj.state, obj.state)
        if access is not None:
            entry.title = _l(
                "%(person)s asks you to become Support Coordinator for %(name)s (%(state)s).",
                person=obj.requested_by.full_name,
                name=child_name,
                state=state,
            )
        else:
            entry.title = _l(
                "%(person)s asks you to become Support Coordinator for a child (%(state)s).",
                person=obj.requested_by.full_name,
                state=state,
            )
        child = context.children.get(obj.child_id)
        if child is not None:
            entry.target_url = _target("coordinator_request", child_id=child.public_id, request_id=obj.public_id)
        return True, "addressed_to_you", access.legal_basis if access is not None else None

    # Everything else is about a child the viewer must still reach (a relation, now).
    if access is None:
        return False, "no_relation", None

    if kind in ("concern", "signal"):
        if obj is None:
            return False, "missing", None
        if kind == "signal":
            # Content-free (RULES.md §5): the kind of agency and the practitioner's contact, nothing else.
            author = obj.author
            entry.title = _l(
                "A practitioner at %(agency_kind)s asks you to contact them.",
                agency_kind=AGENCY_KIND_LABELS.get(obj.author_agency.kind, ""),
            )
            entry.contact = Contact(author.full_name, author.phone, author.email)
            entry.target_url = _target("concern", child_id=access.child.public_id, concern_id=obj.public_id)
            if entry.target_url is None:
                entry.open_label = _l("Mark as read")
            return True, "recipient", access.legal_basis
        decision = _may_see_concern(access, obj)
        if not decision:
            return False, decision.reason, None
        entry.title = _l("A new concern about %(name)s", name=child_name)
        entry.areas = _chips(obj.area_codes)
        entry.lines.append(_l("Urgency: %(urgency)s", urgency=URGENCY_LABELS.get(obj.urgency, obj.urgency)))
        entry.target_url = _target(
            "concern", child_id=access.child.public_id, concern_id=obj.public_id
        ) or _endpoint_url("children.overview", child_id=access.child.public_id)
        return True, decision.reason, decision.legal_basis

    if kind == "matching_alert":
        if obj is None:
            return False, "missing", None
        entry.title = _l("Concerns about %(name)s from two agencies within a short time.", name=child_name)
        entry.target_url = _endpoint_url("chronology.index", child_id=access.child.public_id) or _endpoint_url(
            "children.overview", child_id=access.child.public_id
        )
        return True, "recipient", access.legal_basis

    if kind == "coordinator_answer":
        if obj is None:
            return False, "missing", None
        entry.title = _l(
            "Your request to %(person)s to become Support Coordinator for %(name)s: %(state)s.",
            person=obj.nominee.full_name,
            name=child_name,
            state=REQUEST_STATE_LABELS.get(obj.state, obj.state),
        )
        entry.target_url = _endpoint_url("children.overview", child_id=access.child.public_id)
        return True, "relation", access.legal_basis

    if kind == "coordinator_vacated":
        entry.title = _l("%(name)s has no Support Coordinator any more: ask someone new.", name=child_name)
        entry.target_url = _endpoint_url("children.overview", child_id=access.child.public_id)
        return True, "relation", access.legal_basis

    if kind == "team_invitation":
        if obj is None or obj.ended_at is not None:
            return False, "left_the_team", None
        entry.title = _l("You were added to the team around %(name)s.", name=child_name)
        entry.target_url = _target("team", child_id=access.child.public_id) or _endpoint_url(
            "children.overview", child_id=access.child.public_id
        )
        return True, "relation", access.legal_basis

    if kind == "meeting":
        if obj is None:
            return False, "missing", None
        decision = may_see_item(access, obj.agency_id, "team_meetings", obj.area_codes)
        if not decision:
            return False, decision.reason, None
        # No place: a meeting place may be protected (RULES.md §7); the meeting page decides.
        entry.title = _l("A meeting about %(name)s", name=child_name)
        entry.lines.append(MEETING_STATE_LABELS.get(obj.state, obj.state))
        entry.when = obj.starts_at
        entry.target_url = _target("meeting", child_id=access.child.public_id, meeting_id=obj.public_id)
        return True, decision.reason, decision.legal_basis

    return False, "unknown_kind", None


def _may_see_concern(access: ChildAccess, concern: Any) -> Decision:
    """The concern's content, as the concerns package decides it (``decide_concern``: own agency, author,
    or another agency's concern under a consent covering its areas). Its recipient alone, without that
    consent, sees only a signal: the inbox item is then no longer available (RULES.md §8)."""
    try:
        from coordination.concerns.access import FULL, decide_concern
    except ImportError:  # the concerns package without its access rules: the access core alone
        return may_see_item(access, concern.author_agency_id, "coordination", concern.area_codes)
    level, decision = decide_concern(access, concern)
    if level == FULL and decision:
        return decision
    return Decision(False, decision.reason if not decision else "content_withheld")


def render_items(actor: Actor, items: list[InboxItem]) -> list[InboxEntry]:
    """Each item decided for the viewer now, and audited: a read when it shows something of a child, a
    denial when it no longer may."""
    if actor.kind != STAFF or actor.acting_agency is None:
        return []
    context = _context(actor, items)
    entries = []
    reads: list[tuple[InboxItem, str | None]] = []
    denials: list[tuple[InboxItem, str]] = []
    for item in items:
        entry = InboxEntry(item.public_id, item.kind, item.created_at, item.read_at is not None)
        shown, reason, basis = _decide(context, item, entry)
        if not shown:
            entry = InboxEntry(item.public_id, item.kind, item.created_at, item.read_at is not None, available=False)
            entry.title = UNAVAILABLE
            entry.open_label = _l("Mark as read")
            denials.append((item, reason))
        elif item.child_id is not None:
            reads.append((item, basis))
        entries.append(entry)
    # Reads first, then denials: rows of one shape are written as one batch (the page does not grow).
    for item, basis in reads:
        audit.note_read(
            actor.audit_actor(),
            READ_ITEM,
            child_id=item.child_id,
            object_type="inbox_item",
            object_id=item.public_id,
            legal_basis=basis,
            detail={"kind": item.kind},
        )
    for item, reason in denials:
        audit.note_denied(
            actor.audit_actor(),
            READ_ITEM,
            child_id=item.child_id,
            object_type="inbox_item",
            object_id=item.public_id,
            detail={"reason": reason},
        )
    return entries


def mark_read(actor: Actor, item: InboxItem) -> None:
    """Opening an item marks it read (once), audited in the same transaction; the caller commits."""
    if item.read_at is not None:
        return
    item.read_at = now()
    db.session.flush()
    audit.record_write(
        actor.audit_actor(),
        "read_inbox_item",
        child_id=item.child_id,
        object_type="inbox_item",
        object_id=item.public_id,
        detail={"kind": item.kind},
    )
