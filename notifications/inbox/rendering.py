"""Rendering inbox items (RULES.md §8, §9): each item is decided for the viewer *now*, through the access
core, and audited — a read when it shows something of a child, a denial when it no longer may. A withdrawn
consent or a lost relation turns an old item into "This item is no longer available to you". Signals,
sibling requests and reports carry no content at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from werkzeug.routing import BuildError

from childplan.comment_view import ACTION, NEED, may_see_comment
from childplan.compass import AREA_CODES, BY_CODE
from coordination import audit
from coordination.access import (
    STAFF,
    Actor,
    ChildAccess,
    Decision,
    is_keeper,
    link_decision_basis,
    may_see_item,
    sees_protected_details,
)
from coordination.concerns.access.handling import FULL, decide_concern
from coordination.labels import AGENCY_KIND_LABELS
from notifications.inbox.loading import ItemContext, load_context
from notifications.models import InboxItem

READ_ITEM = "view_inbox_item"


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
    # next steps the viewer may take, as (label, url): links beside the item's own "Open"
    steps: list[tuple[object, str]] = field(default_factory=list)


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


def _target(name: str, **values: Any) -> str | None:
    for endpoint in TARGETS.get(name, ()):
        if endpoint in current_app.view_functions:
            try:
                return url_for(endpoint, **values)
            except BuildError:
                continue
    return None


def _endpoint_url(endpoint: str, **values: Any) -> str | None:
    if endpoint not in current_app.view_functions:
        return None
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


def _chips(codes: Iterable[str]) -> tuple[AreaChip, ...]:
    chosen = set(codes)
    return tuple(AreaChip(code, BY_CODE[code].label, BY_CODE[code].css_class) for code in AREA_CODES if code in chosen)


def _decide(context: ItemContext, item: InboxItem, entry: InboxEntry) -> tuple[bool, str, str | None]:
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
        assert obj is not None  # a basis is decided only for a link that exists
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
        child = context.children.get(obj.child_id)
        # the asker's name stays within the team of a child with protected identity (RULES.md §7)
        protected = (child is None or child.has_protected_identity) and not (
            access is not None and sees_protected_details(access)
        )
        asker = _l("The Child Contact") if protected else obj.requested_by.full_name
        if access is not None:
            entry.title = _l(
                "%(person)s asks you to become Support Coordinator for %(name)s (%(state)s).",
                person=asker,
                name=child_name,
                state=state,
            )
        else:
            entry.title = _l(
                "%(person)s asks you to become Support Coordinator for a child (%(state)s).",
                person=asker,
                state=state,
            )
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
        # the next step, where this viewer may take it (issue 16): the other agency's concern or signal, with
        # how to reach whoever raised it, is on the Overview as far as the viewer may see it; the plan keeper
        # roles gather a team on the Team tab (which says what consent that needs)
        overview = _endpoint_url("children.overview", child_id=access.child.public_id, _anchor="concerns-title")
        if overview is not None:
            entry.steps.append((_l("Contact the other agency: see the concerns on the Overview"), overview))
        team = _target("team", child_id=access.child.public_id)
        if team is not None and (access.has_relation("child_contact") or access.has_relation("support_coordinator")):
            entry.steps.append((_l("Propose a team around the child"), team))
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

    if kind == "plan_comment":
        facts = context.plan_comments.get(item.object_public_id or "")
        if facts is None or facts.child_id != access.child.id:
            return False, "missing", None
        keeps = is_keeper(actor, context.keepers.get(access.child.id))
        decision = may_see_comment(access, facts, keeps_the_plan=keeps)
        if not decision:
            return False, decision.reason, None
        # No text: the Plan tab shows the comment, decided there again.
        entry.title = _l("The family commented on the plan for %(name)s.", name=child_name)
        if facts.item_kind in (NEED, ACTION):
            entry.areas = _chips(facts.areas)
        entry.target_url = _endpoint_url("plan.index", child_id=access.child.public_id)
        return True, decision.reason, decision.legal_basis

    if kind == "plan_action":
        # Still this person's, in a plan they reach: the owner sees their own agency's action (RULES.md §4).
        if obj is None:
            return False, "missing", None
        if obj.owner_person_id != actor.account.staff_person_id or obj.owner_agency_id != (
            actor.acting_agency.id if actor.acting_agency is not None else None
        ):
            return False, "no_longer_yours", None
        entry.title = _l("An action in the plan for %(name)s is yours.", name=child_name)
        entry.target_url = _endpoint_url(
            "plan.index", child_id=access.child.public_id, _anchor=f"action-{obj.public_id}"
        )
        return True, "relation", access.legal_basis

    return False, "unknown_kind", None


def _may_see_concern(access: ChildAccess, concern: Any) -> Decision:
    """The concern's content, as the concerns package decides it (``decide_concern``: own agency, author,
    or another agency's concern under a consent covering its areas). Its recipient alone, without that
    consent, sees only a signal: the inbox item is then no longer available (RULES.md §8)."""
    level, decision = decide_concern(access, concern)
    if level == FULL and decision:
        return decision
    return Decision(False, decision.reason if not decision else "content_withheld")


def render_items(actor: Actor, items: list[InboxItem]) -> list[InboxEntry]:
    """Each item decided for the viewer now, and audited: a read when it shows something of a child, a
    denial when it no longer may."""
    if actor.kind != STAFF or actor.acting_agency is None:
        return []
    context = load_context(actor, items)
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
    # Reads first, then denials; the audit writes them all in one statement however they mix.
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
