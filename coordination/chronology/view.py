"""The Chronology tab's view model (RULES.md §4): a child's significant events, newest first, built for
one viewer and holding only what that viewer may see.

Two steps, so that pages count right and the page does not grow with the list:

1. SQL decides what SQL can: the child, the filters (Needs Compass areas through EXISTS on
   ``chronology_area``; one agency), and that "own_agency" and "recipient" entries of another agency do
   not exist for the viewer at all — not even as withheld (a report of concern must not be hinted at) —
   unless the viewer wrote them or, for "recipient", is the one they are addressed to. Paging counts
   what is left.
2. Python decides each entry of the page with ``access.may_see_chronology_entry`` (consent is computed
   for today, never cached): a visible entry shows its date, kind, agency, author, areas, tone, summary
   and a link to its object; a withheld one only its day and the reason.

The agency filter is itself cross-agency information: it offers only the viewer's own agency unless
``access.may_know_other_agencies`` allows knowing the others. Templates get these dataclasses, never a
model object.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, and_, exists, or_, select
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.routing import BuildError

from agencies.models import Agency
from childplan.compass import AREA_CODES, BY_CODE
from coordination import audit
from coordination.access import (
    WITHHELD_AREAS,
    WITHHELD_NO_CONSENT,
    ChildAccess,
    Decision,
    may_know_other_agencies,
    may_see_chronology_entry,
    sees_protected_details,
)
from coordination.chronology.models import CHRONOLOGY_KINDS, ChronologyArea, ChronologyEntry
from coordination.clock import current_clock
from coordination.database import db
from coordination.labels import AGENCY_KIND_LABELS
from coordination.paging import Page, paginate

READ_ENTRY = "view_chronology_entry"
# The audiences that do not exist for other agencies (chronology/models.py): never even withheld.
HIDDEN_AUDIENCES = ("own_agency", "recipient")
MAX_AREA_FILTERS = len(AREA_CODES)
MAX_ID_LENGTH = 64

KIND_LABELS: dict[str, object] = {
    "concern_raised": _l("Concern raised"),
    "strength_noted": _l("Strengths noted"),
    "signal_received": _l("Request to get in touch"),
    "concern_acknowledged": _l("Concern acknowledged"),
    "conversation": _l("Conversation with the family"),
    "concern_closed": _l("Concern closed"),
    "matching_alert": _l("Concerns from two agencies"),
    "sibling_request": _l("Request to a sibling's Child Contact"),
    "report_filed": _l("Report of concern received"),
    "report_acknowledged": _l("Report of concern acknowledged"),
    "report_matched": _l("Report of concern matched to the child"),
    "report_assigned": _l("Report of concern assigned to a unit"),
    "coordinator_requested": _l("Support Coordinator requested"),
    "coordinator_declined": _l("Support Coordinator request declined"),
    "coordinator_appointed": _l("Support Coordinator appointed"),
    "coordinator_vacated": _l("Support Coordinator role vacant"),
    "child_contact_assigned": _l("Child Contact assigned"),
    "team_member_added": _l("Added to the child's team"),
    "team_member_left": _l("Left the child's team"),
    "family_invited": _l("Family invited to the team"),
    "meeting_proposed": _l("Meeting proposed"),
    "meeting_rescheduled": _l("Meeting rescheduled"),
    "meeting_cancelled": _l("Meeting cancelled"),
    "meeting_held": _l("Meeting held"),
    "decision_recorded": _l("Decision recorded"),
    "consent_requested": _l("Consent requested"),
    "consent_recorded": _l("Consent recorded"),
    "consent_withdrawn": _l("Consent withdrawn"),
    "plan_started": _l("Child's Plan started"),
    "plan_need_added": _l("Need added to the plan"),
    "plan_action_added": _l("Action added to the plan"),
    "plan_action_changed": _l("Action updated"),
    "plan_version_published": _l("Plan version published"),
    "plan_closed": _l("Child's Plan closed"),
    "plan_reviewed": _l("Child's Plan reviewed"),
    "plan_texts_changed": _l("The plan's views and next review updated"),
    "withheld_from_guardians": _l("Withheld from guardians"),
    "plan_version_agreed": _l("The family read a plan version and agreed"),
    "plan_version_read": _l("The family read a plan version and did not agree"),
}
assert set(KIND_LABELS) == set(CHRONOLOGY_KINDS), "one label per chronology kind"

TONE_LABELS: dict[str, object] = {"worry": _l("Worry"), "strength": _l("Strength")}

WITHHELD_ENTRY_REASONS: dict[str, object] = {
    WITHHELD_NO_CONSENT: _l("your agency has no consent for this"),
    WITHHELD_AREAS: _l("your agency's consent does not cover all its areas"),
    "addressed_to_someone_else": _l("it is addressed to someone else"),
    "own_agency_only": _l("it belongs to another agency's own records"),
    "not_staff": _l("it is for staff only"),
}

# Where an entry's object is shown, if that page is built: (endpoint, the keyword of the object's id).
# object type → (endpoint, the URL keyword that takes the object's public id, or None: the page is the child's
# and the object is an anchor "<prefix><public id>" on it, or the page itself)
OBJECT_PAGES: dict[str, tuple[str, str | None, str | None]] = {
    "concern": ("concern.show", "concern_id", None),
    "meeting": ("teams.meeting", "meeting_id", None),
    "plan": ("plan.index", None, None),
    "plan_need": ("plan.index", None, "need-"),
    "plan_action": ("plan.index", None, "action-"),
    "plan_version": ("plan.versions", None, None),
    "plan_review": ("reviews.show", "review_id", None),
}


@dataclass(frozen=True)
class AreaChip:
    code: str
    label: object
    css_class: str


def area_chips(codes: frozenset[str] | set[str]) -> tuple[AreaChip, ...]:
    return tuple(AreaChip(code, BY_CODE[code].label, BY_CODE[code].css_class) for code in AREA_CODES if code in codes)


@dataclass(frozen=True)
class EntryView:
    """One entry for this viewer. When ``withheld`` is set, only ``day`` and the reason are filled in."""

    public_id: str
    day: date
    withheld: str | None = None
    withheld_reason: object | None = None
    occurred_at: datetime | None = None
    kind: str | None = None
    kind_label: object | None = None
    agency: str | None = None
    author: str | None = None
    areas: tuple[AreaChip, ...] = ()
    tone: str = "neutral"
    tone_label: object | None = None
    summary: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class AgencyOption:
    public_id: str
    name: str
    selected: bool


@dataclass(frozen=True)
class AreaOption:
    code: str
    label: object
    css_class: str
    selected: bool


@dataclass(frozen=True)
class ChronologyView:
    child_public_id: str
    page: Page[EntryView]
    entries: list[EntryView]
    areas: list[AreaOption]
    agencies: list[AgencyOption]
    agencies_withheld: str | None  # WITHHELD_NO_CONSENT when other agencies are not offered
    filtered: bool


# -- the statement ------------------------------------------------------------------------------------------
def not_hidden(access: ChildAccess) -> ColumnElement[bool]:
    """SQL: the entries that exist for this viewer (RULES.md §4). Another agency's "own_agency" and
    "recipient" entries are left out altogether, except for a "recipient" entry the one it is
    addressed to (``may_see_chronology_entry`` shows them those)."""
    actor = access.actor
    assert actor.acting_agency is not None
    person_id = actor.account.staff_person_id
    return or_(
        ChronologyEntry.audience.not_in(HIDDEN_AUDIENCES),
        ChronologyEntry.owner_agency_id == actor.acting_agency.id,
        and_(ChronologyEntry.audience == "recipient", ChronologyEntry.recipient_person_id == person_id),
    )


def chronology_statement(
    access: ChildAccess, areas: frozenset[str] = frozenset(), agency_id: int | None = None
) -> Select[tuple[ChronologyEntry]]:
    statement = select(ChronologyEntry).where(ChronologyEntry.child_id == access.child.id, not_hidden(access))
    if areas:
        statement = statement.where(
            exists().where(
                ChronologyArea.entry_id == ChronologyEntry.id,
                ChronologyArea.area.in_(sorted(areas)),
                ChronologyArea.is_context.is_(False),
            )
        )
    if agency_id is not None:
        statement = statement.where(ChronologyEntry.owner_agency_id == agency_id)
    return statement.order_by(ChronologyEntry.occurred_at.desc(), ChronologyEntry.id.desc())


def agency_options(access: ChildAccess) -> tuple[list[Agency], bool]:
    """The agencies the filter may offer, and whether the others are withheld: the viewer's own agency
    always; the others with entries about the child only while the viewer may know of them."""
    actor = access.actor
    assert actor.acting_agency is not None
    if not may_know_other_agencies(access):
        return [actor.acting_agency], True
    owners = (
        select(ChronologyEntry.owner_agency_id)
        .where(ChronologyEntry.child_id == access.child.id, not_hidden(access))
        .distinct()
    )
    agencies = list(
        db.session.scalars(
            select(Agency).where(or_(Agency.id.in_(owners), Agency.id == actor.acting_agency.id)).order_by(Agency.name)
        )
    )
    return agencies, False


def clean_areas(values: list[str]) -> frozenset[str]:
    """The area codes asked for (unknown values are ignored)."""
    return frozenset(value for value in values[: MAX_AREA_FILTERS * 2] if value in BY_CODE)


# -- the view model -----------------------------------------------------------------------------------------
def _object_url(entry: ChronologyEntry, child_public_id: str) -> str | None:
    target = OBJECT_PAGES.get(entry.object_type or "")
    if target is None or not entry.object_public_id:
        return None
    endpoint, keyword, anchor = target
    if endpoint not in current_app.view_functions:
        return None
    # url_for takes its values as Any (its own keywords, such as _anchor, among them)
    arguments: dict[str, Any] = {"child_id": child_public_id}
    if keyword is not None:
        arguments[keyword] = entry.object_public_id
    if anchor is not None:
        arguments["_anchor"] = anchor + entry.object_public_id
    try:
        return url_for(endpoint, **arguments)
    except BuildError:
        return None


def _local_day(moment: datetime) -> date:
    return moment.astimezone(current_clock().zone).date()


def entry_view(access: ChildAccess, entry: ChronologyEntry, decision: Decision, knows_agencies: bool) -> EntryView:
    day = _local_day(entry.occurred_at)
    if not decision:
        return EntryView(
            public_id=entry.public_id,
            day=day,
            withheld=decision.reason,
            withheld_reason=WITHHELD_ENTRY_REASONS.get(decision.reason, WITHHELD_ENTRY_REASONS[WITHHELD_NO_CONSENT]),
        )
    actor = access.actor
    assert actor.acting_agency is not None
    own = entry.owner_agency_id == actor.acting_agency.id
    # Other agencies' names and people are cross-agency information (RULES.md §4): named only while the
    # viewer may know the agencies involved; otherwise the kind of agency, and no name.
    if own or knows_agencies:
        agency = entry.owner_agency.name
        # staff names of a child with protected identity stay within the child's team (RULES.md §7)
        author = entry.author.full_name if entry.author is not None and sees_protected_details(access) else None
    else:
        agency = str(AGENCY_KIND_LABELS.get(entry.owner_agency.kind, ""))
        author = None
    return EntryView(
        public_id=entry.public_id,
        day=day,
        occurred_at=entry.occurred_at,
        kind=entry.kind,
        kind_label=KIND_LABELS.get(entry.kind, entry.kind),
        agency=agency,
        author=author,
        areas=area_chips(entry.shown_area_codes),
        tone=entry.tone,
        tone_label=TONE_LABELS.get(entry.tone),
        summary=entry.summary,
        url=_object_url(entry, access.child.public_id),
    )


def build_chronology(
    access: ChildAccess, number: int, area_values: list[str], agency_value: str | None
) -> ChronologyView:
    """One page of the child's chronology for the viewer, with its filters. Every entry shown is
    audited as a read on its own legal basis; every withheld one as a denial with the reason."""
    actor = access.actor
    agencies, others_withheld = agency_options(access)
    chosen_areas = clean_areas(area_values)
    chosen_agency = next((a for a in agencies if agency_value and a.public_id == agency_value[:MAX_ID_LENGTH]), None)
    statement = chronology_statement(access, chosen_areas, chosen_agency.id if chosen_agency else None)
    page = paginate(
        statement,
        number,
        options=(
            selectinload(ChronologyEntry.areas),
            joinedload(ChronologyEntry.owner_agency),
            joinedload(ChronologyEntry.author),
        ),
    )
    knows_agencies = not others_withheld
    entries: list[EntryView] = []
    reads: list[tuple[ChronologyEntry, Decision]] = []
    denials: list[tuple[ChronologyEntry, Decision]] = []
    for entry in page.items:
        decision = may_see_chronology_entry(
            access,
            owner_agency_id=entry.owner_agency_id,
            audience=entry.audience,
            areas=entry.area_codes,
            author_person_id=entry.author_person_id,
            recipient_person_id=entry.recipient_person_id,
        )
        (reads if decision else denials).append((entry, decision))
        entries.append(entry_view(access, entry, decision, knows_agencies))
    # Reads first, then denials: rows of one shape go to the database as one batch, so the page's
    # statements do not grow with the number of entries.
    for entry, decision in reads:
        audit.note_read(
            actor.audit_actor(),
            READ_ENTRY,
            child_id=access.child.id,
            object_type="chronology_entry",
            object_id=entry.public_id,
            legal_basis=decision.legal_basis,
            detail={"kind": entry.kind},
        )
    for entry, decision in denials:
        audit.note_denied(
            actor.audit_actor(),
            READ_ENTRY,
            child_id=access.child.id,
            object_type="chronology_entry",
            object_id=entry.public_id,
            detail={"reason": decision.reason},
        )
    shown_page: Page[EntryView] = Page(items=entries, number=page.number, per_page=page.per_page, total=page.total)
    return ChronologyView(
        child_public_id=access.child.public_id,
        page=shown_page,
        entries=entries,
        areas=[AreaOption(a.code, a.label, a.css_class, a.code in chosen_areas) for a in BY_CODE.values()],
        agencies=[
            AgencyOption(a.public_id, a.name, chosen_agency is not None and a.id == chosen_agency.id) for a in agencies
        ],
        agencies_withheld=WITHHELD_NO_CONSENT if others_withheld else None,
        filtered=bool(chosen_areas or chosen_agency),
    )
