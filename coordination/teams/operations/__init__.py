"""Every write to a child's own team (Barnets eget team) and its meetings (RULES.md §3 "team meetings",
§4, §7). ``verb_noun(actor, child, ..., data)``: everything is validated before the session is touched,
so a refusal (``OperationError(message, field)``) writes nothing; each write flushes, is audited in the
same transaction (``record_write``, on the plan keeper's relation), lands in the chronology
(``record_event``) and sends its signal (``coordination.events``); the caller commits once. "Now" comes
from the app clock.

Who may do what: the **plan keeper** (the child's current Support Coordinator, otherwise the Child
Contact, acting for the agency of that assignment) adds and removes members, invites the family and
proposes, reschedules, cancels and records meetings. A member may leave the team themself. Views check
this first (404 for anyone else); the operations check it again.

By purpose: ``common`` (the plan keeper and the checks every operation shares), ``members`` (the team's
members and the family's invitations) and ``meetings`` (proposing, rescheduling, cancelling and
recording meetings).
"""

from __future__ import annotations

from coordination.teams.operations.common import (
    PURPOSE,
    current_members,
    local_date,
)
from coordination.teams.operations.meetings import (
    CANCEL_REASON_MAX,
    MAX_DECISIONS,
    PLACE_MAX,
    DecisionData,
    MeetingData,
    OutcomeData,
    StaleVersion,
    attendee_staff,
    cancel_meeting,
    decision_owner_agency_ids,
    invited_guardian_ids,
    propose_meeting,
    record_meeting_outcome,
    reschedule_meeting,
)
from coordination.teams.operations.members import (
    ROLE_NOTE_MAX,
    MemberData,
    add_team_member,
    child_may_be_invited,
    invite_family,
    join_team_as_support_coordinator,
    leave_team,
    remove_team_member,
)

__all__ = [
    "CANCEL_REASON_MAX",
    "MAX_DECISIONS",
    "PLACE_MAX",
    "PURPOSE",
    "ROLE_NOTE_MAX",
    "DecisionData",
    "MeetingData",
    "MemberData",
    "OutcomeData",
    "StaleVersion",
    "add_team_member",
    "attendee_staff",
    "cancel_meeting",
    "child_may_be_invited",
    "current_members",
    "decision_owner_agency_ids",
    "invite_family",
    "invited_guardian_ids",
    "join_team_as_support_coordinator",
    "leave_team",
    "local_date",
    "propose_meeting",
    "record_meeting_outcome",
    "remove_team_member",
    "reschedule_meeting",
]
