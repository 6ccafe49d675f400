"""What a viewer may see of a child's team and its meetings, as view models built for that viewer
(templates never get a raw object), and the scoped queries behind them (RULES.md §3, §4, §7).

* Own agency's members and meetings: always (the viewer already has a relation to the child).
* Other agencies' members, meetings and the invited family: only while the viewer's agency's consent for
  team meetings is in effect (and, for a meeting, covers its areas); otherwise a note with the reason.
* Protected identity (the child's ``protection_level`` is not "none"): meeting places, unit names and
  staff names and contact channels are withheld from staff outside the child's team (the Child Contact,
  the Support Coordinator and the current members).

Every list is loaded in a fixed number of statements, however many members, meetings or decisions.

By purpose: ``common`` (who is in the team, consent for team meetings, protected identity, a person as
the viewer may see them), ``team_view`` (the Team tab), ``meeting_view`` (one meeting) and ``choices``
(what the plan keeper's forms offer: members, the family, attendees and owners, the agenda's areas).
"""

from __future__ import annotations

from coordination.teams.access.choices import (
    Choice,
    OutcomeChoices,
    agenda_text,
    family_invitees,
    member_candidates,
    open_concern_areas,
    outcome_choices,
)
from coordination.teams.access.common import (
    CHILD_KEY,
    KEEPER_LABELS,
    PROTECTED,
    STATE_LABELS,
    TEAM_RELATIONS,
    WITHHELD_REASONS,
    PersonLine,
    in_team,
    may_see_meeting,
    meeting_url,
    person_line,
    team_consent,
)
from coordination.teams.access.meeting_view import (
    AttendeeLine,
    DecisionLine,
    MeetingView,
    build_meeting_view,
    meeting_or_404,
)
from coordination.teams.access.members import get_own_team_member_or_404, get_team_member_or_404
from coordination.teams.access.team_view import FamilyLine, MeetingLine, MemberLine, TeamView, build_team_view

__all__ = [
    "CHILD_KEY",
    "KEEPER_LABELS",
    "PROTECTED",
    "STATE_LABELS",
    "TEAM_RELATIONS",
    "WITHHELD_REASONS",
    "AttendeeLine",
    "Choice",
    "DecisionLine",
    "FamilyLine",
    "MeetingLine",
    "MeetingView",
    "MemberLine",
    "OutcomeChoices",
    "PersonLine",
    "TeamView",
    "agenda_text",
    "build_meeting_view",
    "build_team_view",
    "family_invitees",
    "get_own_team_member_or_404",
    "get_team_member_or_404",
    "in_team",
    "may_see_meeting",
    "meeting_or_404",
    "meeting_url",
    "member_candidates",
    "open_concern_areas",
    "outcome_choices",
    "person_line",
    "team_consent",
]
