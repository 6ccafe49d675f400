"""The signals the coordination domain emits (blinker). Domain code never imports ``notifications``;
``notifications`` connects its listeners to these at app start and writes inbox rows in the same
transaction as the change (so a rolled-back request leaves no inbox item).

Every signal is sent as ``signal.send(None, **payload)`` from inside an operation, after its flush.
The payload names model objects (flushed, so they have ids and public ids):

- ``concern_routed(concern)``: a concern was raised and routed (``concern.routing`` says how); the
  listener tells the recipient (the Child Contact, or the agency admins of ``recipient_agency_id``).
- ``matching_alert_raised(alert)``: two agencies' concerns or signals within the window.
- ``sibling_request_sent(request)``: a content-free request to a sibling's Child Contact.
- ``coordinator_requested(request)``, ``coordinator_request_answered(request)``: a request to become
  Support Coordinator, and its answer (accepted, declined, taken) back to the one who asked.
- ``coordinator_vacated(child, agency_id, person_id)``: the Support Coordinator role was vacated
  (deactivation, leaving); the Child Contact is told and asks for a new one.
- ``report_filed(report)``: a report of concern reached social services (every intake member is told).
- ``report_acknowledged(report)``: intake acknowledged it (the reporter is told).
- ``child_contact_assigned(actor, child)``: a Child Contact was assigned; concerns that waited for one
  are routed to them now (RULES.md §5). The concerns package listens to this one
  (``coordination.concerns.operations.unmatched.connect_listeners``, connected at app start), because
  children sit below concerns; every other listener is in ``notifications``.
- ``pending_link_requested(link)``: a pending link awaits a decision.
- ``role_needs_consent(child, agency_id, person_id, role)``: a role holder's agency lost its
  coordination consent (RULES.md §4): the role holder, the plan keeper and the agency admin are told.
- ``team_member_added(member)``: a staff member was added to a child's team.
- ``meeting_changed(meeting, change)``: a meeting was proposed, rescheduled or cancelled
  (``change`` is "proposed", "rescheduled" or "cancelled"); the team's members are told.
- ``plan_comment_added(comment, child_id)``: a guardian or the young person commented on the Child's Plan
  (or one of its items); the plan keeper is told, content-free.
- ``plan_action_assigned(action)``: a plan action was given to a person (added, adopted from a meeting's
  decision, or reassigned by the agency admin); that person is told, content-free, unless they did it.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

concern_routed = _signals.signal("concern-routed")
matching_alert_raised = _signals.signal("matching-alert-raised")
sibling_request_sent = _signals.signal("sibling-request-sent")
coordinator_requested = _signals.signal("coordinator-requested")
coordinator_request_answered = _signals.signal("coordinator-request-answered")
coordinator_vacated = _signals.signal("coordinator-vacated")
report_filed = _signals.signal("report-filed")
report_acknowledged = _signals.signal("report-acknowledged")
child_contact_assigned = _signals.signal("child-contact-assigned")
pending_link_requested = _signals.signal("pending-link-requested")
role_needs_consent = _signals.signal("role-needs-consent")
team_member_added = _signals.signal("team-member-added")
meeting_changed = _signals.signal("meeting-changed")
plan_comment_added = _signals.signal("plan-comment-added")
plan_action_assigned = _signals.signal("plan-action-assigned")
