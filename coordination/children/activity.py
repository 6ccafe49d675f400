"""What the Overview shows of the child's concerns and meetings, and what the viewer can do next — built
for the viewer through the same decisions as the concern and meeting pages (RULES.md §4, §7)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from childplan.compass import AREAS
from coordination.access import WITHHELD_AREAS, WITHHELD_NO_CONSENT, ChildAccess, may_see_item
from coordination.clock import now
from coordination.concerns.access.handling import FULL, decide_concern
from coordination.concerns.models import Concern
from coordination.database import db
from coordination.teams.models import Meeting

CONCERN_STATE_LABELS = {
    "open": lazy_pgettext("concern state", "Open"),
    "acknowledged": _l("Acknowledged"),
    "closed": _l("Closed"),
}
_AREA_ORDER = {area.code: index for index, area in enumerate(AREAS)}
# An upcoming meeting the viewer may not see is said to exist, with the reason (RULES.md §4: another
# agency's team information is shown as withheld), never "nothing is planned" (issue 16). Its time and
# place are not shown.
MEETING_WITHHELD = {
    WITHHELD_NO_CONSENT: _l("A team meeting is planned; it is withheld: your agency has no consent for team meetings."),
    WITHHELD_AREAS: _l(
        "A team meeting is planned; it is withheld: your agency's consent does not cover the areas of the meeting."
    ),
}


@dataclass(frozen=True)
class ConcernLine:
    url: str
    raised_on: datetime
    is_signal: bool  # the viewer knows only that someone asks to be contacted
    areas: tuple[str, ...]
    state: object


@dataclass(frozen=True)
class NextMeeting:
    starts_at: datetime
    url: str | None


@dataclass(frozen=True)
class ChildActivity:
    concerns: list[ConcernLine]
    next_meeting: NextMeeting | None
    may_raise_concern: bool
    siblings_url: str | None
    ask_coordinator_url: str | None  # for the Child Contact (the page says when there already is one)
    meeting_withheld: str | None = None  # a reason code: an upcoming meeting exists that this viewer may not see

    @property
    def meeting_withheld_text(self) -> object | None:
        return MEETING_WITHHELD[self.meeting_withheld] if self.meeting_withheld else None

    @classmethod
    def for_actor(cls, access: ChildAccess) -> ChildActivity:
        child = access.child
        endpoints = current_app.view_functions
        concerns: list[ConcernLine] = []
        if "concern.show" in endpoints:
            rows = db.session.scalars(
                select(Concern)
                .where(Concern.child_id == child.id, Concern.state != "closed")
                .options(selectinload(Concern.areas))
                .order_by(Concern.created_at.desc(), Concern.id.desc())
            )
            for concern in rows:
                kind, decision = decide_concern(access, concern)
                if kind is None:
                    continue  # not even its existence reaches this viewer
                full = kind == FULL
                concerns.append(
                    ConcernLine(
                        url=url_for("concern.show", child_id=child.public_id, concern_id=concern.public_id),
                        raised_on=concern.created_at,
                        is_signal=not full,
                        areas=tuple(sorted(concern.area_codes, key=_AREA_ORDER.__getitem__)) if full else (),
                        state=CONCERN_STATE_LABELS[concern.state],
                    )
                )
        next_meeting = None
        meeting_withheld: str | None = None
        upcoming = db.session.scalars(
            select(Meeting)
            .where(Meeting.child_id == child.id, Meeting.state == "planned", Meeting.starts_at > now())
            .options(selectinload(Meeting.areas))
            .order_by(Meeting.starts_at)
        )
        for meeting in upcoming:
            # another agency's meeting only under the viewer's agency's consent for team meetings; the place
            # is never shown here (protected identity keeps it within the team: the meeting page decides)
            decision = may_see_item(access, meeting.agency_id, "team_meetings", meeting.area_codes)
            if not decision:
                meeting_withheld = meeting_withheld or decision.reason
                continue
            url = None
            if "teams.meeting" in endpoints:
                url = url_for("teams.meeting", child_id=child.public_id, meeting_id=meeting.public_id)
            next_meeting = NextMeeting(meeting.starts_at, url)
            break
        siblings_url = ask_coordinator_url = None
        if access.has_relation("child_contact") and "concerns.siblings" in endpoints:
            siblings_url = url_for("concerns.siblings", child_id=child.public_id)
        if access.has_relation("child_contact") and "concern.request_coordinator" in endpoints:
            ask_coordinator_url = url_for("concern.request_coordinator", child_id=child.public_id)
        return cls(
            concerns=concerns,
            next_meeting=next_meeting,
            may_raise_concern="concerns.new_for_child" in endpoints and access.actor.kind == "staff",
            siblings_url=siblings_url,
            ask_coordinator_url=ask_coordinator_url,
            meeting_withheld=None if next_meeting is not None else meeting_withheld,
        )
