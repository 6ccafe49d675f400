"""Requests to become Support Coordinator (issue 4, item 5; RULES.md §2, §4, §10).

The child's Child Contact asks one or several nominees — active practitioners of agencies whose
coordination consent for the child is in effect — to become Support Coordinator. The first to accept
wins: the current Support Coordinator is unique per child in the database (``uq_role_assignment_current``),
and the assignment is made inside a SAVEPOINT, so when two nominees accept at once the loser's insert
fails (or finds the winner's assignment) and their request is marked "taken"; the winner's other
pending requests for the child close as "taken". A decline carries a reason.

``verb_noun(actor, ..., data)``: validated before the session is touched (a refusal writes nothing),
flushed, audited with ``record_write`` and put in the chronology in the same transaction, the signals of
``coordination.events`` sent after the flush; the caller commits once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from agencies.models import Membership, StaffPerson
from coordination import events
from coordination.access import Actor, ConsentPicture, consent_picture, current_child_contact
from coordination.audit import record_write, refusals_audited
from coordination.children.models import Child, RoleAssignment
from coordination.chronology.record import record_event
from coordination.clock import now
from coordination.concerns.models import Concern, CoordinatorRequest
from coordination.database import db
from coordination.errors import OperationError
from coordination.models import Account
from coordination.teams.operations import join_team_as_support_coordinator

MESSAGE_MAX = 1000
DECLINE_REASON_MAX = 1000
MAX_NOMINEES = 20
ACCEPTED = "accepted"
TAKEN = "taken"


def current_support_coordinator(child_id: int) -> RoleAssignment | None:
    return db.session.scalar(
        select(RoleAssignment).where(
            RoleAssignment.child_id == child_id,
            RoleAssignment.role == "support_coordinator",
            RoleAssignment.ended_at.is_(None),
        )
    )


def active_membership(person_id: int, agency_id: int) -> Membership | None:
    """A current practitioner membership of an active person with an active account, in that agency."""
    return db.session.scalar(
        select(Membership)
        .join(StaffPerson, StaffPerson.id == Membership.staff_person_id)
        .join(Account, Account.staff_person_id == StaffPerson.id)
        .where(
            Membership.staff_person_id == person_id,
            Membership.agency_id == agency_id,
            Membership.ended_at.is_(None),
            Membership.is_practitioner.is_(True),
            StaffPerson.is_active.is_(True),
            Account.is_active.is_(True),
        )
        .order_by(Membership.id)
        .limit(1)
    )


def consented_agency_ids(picture: ConsentPicture) -> set[int]:
    """The agencies whose coordination consent for the child is in effect today (any area)."""
    return {
        agency_id for (agency_id, purpose), areas in picture.effective.items() if purpose == "coordination" and areas
    }


def _require_child_contact(actor: Actor, child_id: int) -> None:
    contact = current_child_contact(child_id)
    if (
        contact is None
        or actor.kind != "staff"
        or actor.acting_agency is None
        or contact.staff_person_id != actor.account.staff_person_id
        or contact.agency_id != actor.acting_agency.id
    ):
        raise OperationError(str(_l("Only the child's Child Contact can do this")))


# -- asking --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class NomineeKey:
    """Whom to ask, acting for which agency (a person may belong to several)."""

    person_id: int
    agency_id: int


@refusals_audited("request_support_coordinator")
def request_support_coordinator(
    actor: Actor,
    child: Child,
    nominees: Sequence[NomineeKey],
    message: str | None = None,
    concern: Concern | None = None,
) -> list[CoordinatorRequest]:
    _require_child_contact(actor, child.id)
    assert actor.acting_agency is not None
    if not nominees:
        raise OperationError(str(_l("Choose at least one person to ask")), "nominees")
    if len(nominees) > MAX_NOMINEES:
        raise OperationError(str(_l("Ask at most %(max)d people at a time", max=MAX_NOMINEES)), "nominees")
    text = (message or "").strip() or None
    if text is not None and len(text) > MESSAGE_MAX:
        raise OperationError(str(_l("Write at most %(max)d characters", max=MESSAGE_MAX)), "message")
    if concern is not None and concern.child_id != child.id:
        raise OperationError(str(_l("The concern is not about this child")))
    picture = consent_picture(child)
    consented = consented_agency_ids(picture)
    if actor.acting_agency.id not in consented:
        # Without it the Child Contact may not know other agencies' consents (RULES.md §4), so nobody is
        # offered and every nominee is refused the same way.
        raise OperationError(
            str(_l("Your agency holds no consent for coordination for this child: record or request consent first")),
            "nominees",
        )
    if current_support_coordinator(child.id) is not None:
        raise OperationError(str(_l("The child already has a Support Coordinator")), "nominees")
    unique = list(dict.fromkeys(nominees))
    people = {
        person.id: person
        for person in db.session.scalars(
            select(StaffPerson).where(StaffPerson.id.in_([key.person_id for key in unique]))
        )
    }
    pending = set(
        db.session.scalars(
            select(CoordinatorRequest.nominee_person_id).where(
                CoordinatorRequest.child_id == child.id, CoordinatorRequest.state == "pending"
            )
        )
    )
    for key in unique:
        person = people.get(key.person_id)
        if person is None:
            raise OperationError(str(_l("Choose among the people offered")), "nominees")
        name = person.full_name
        if key.person_id == actor.account.staff_person_id:
            raise OperationError(str(_l("You cannot ask yourself")), "nominees")
        if key.agency_id not in consented:
            raise OperationError(
                str(_l("%(name)s cannot be asked: that agency has no consent for coordination", name=name)),
                "nominees",
            )
        if active_membership(key.person_id, key.agency_id) is None:
            raise OperationError(
                str(_l("%(name)s cannot be asked: they are no longer active in that agency", name=name)), "nominees"
            )
        if key.person_id in pending:
            raise OperationError(
                str(_l("%(name)s has already been asked and has not answered yet", name=name)), "nominees"
            )
    moment = now()
    made = [
        CoordinatorRequest(
            child_id=child.id,
            concern_id=concern.id if concern is not None else None,
            nominee_person_id=key.person_id,
            nominee_agency_id=key.agency_id,
            requested_by_id=actor.account.staff_person_id,
            requested_by_agency_id=actor.acting_agency.id,
            message=text,
            state="pending",
            created_at=moment,
        )
        for key in unique
    ]
    db.session.add_all(made)
    db.session.flush()
    for request in made:
        record_write(
            actor.audit_actor(),
            "request_support_coordinator",
            child_id=child.id,
            object_type="coordinator_request",
            object_id=request.public_id,
            legal_basis="relation_child_contact",
            detail={"nominee_agency_id": request.nominee_agency_id},
        )
        record_event(
            child.id,
            "coordinator_requested",
            owner_agency_id=actor.acting_agency.id,
            audience="coordination",
            tone="neutral",
            author_person_id=actor.account.staff_person_id,
            object_type="coordinator_request",
            object_public_id=request.public_id,
        )
    db.session.flush()
    for request in made:
        events.coordinator_requested.send(None, request=request)
    return made


# -- answering -----------------------------------------------------------------------------------------
def _require_nominee(actor: Actor, request: CoordinatorRequest) -> None:
    if (
        actor.kind != "staff"
        or actor.acting_agency is None
        or request.nominee_person_id != actor.account.staff_person_id
        or request.nominee_agency_id != actor.acting_agency.id
    ):
        raise OperationError(str(_l("Only the person asked can answer this request")))


def _require_pending(request: CoordinatorRequest) -> None:
    if request.state == TAKEN:
        raise OperationError(str(_l("Someone else has already accepted")))
    if request.state != "pending":
        raise OperationError(str(_l("This request has already been answered")))


def _mark_taken(actor: Actor, request: CoordinatorRequest, moment: datetime) -> None:
    request.state = TAKEN
    request.decided_at = moment
    record_write(
        actor.audit_actor(),
        "close_coordinator_request",
        child_id=request.child_id,
        object_type="coordinator_request",
        object_id=request.public_id,
        legal_basis="consent",
        detail={"state": TAKEN},
    )


@refusals_audited("accept_coordinator_request")
def accept_coordinator_request(actor: Actor, request: CoordinatorRequest) -> str:
    """ACCEPTED: the actor is now the child's Support Coordinator. TAKEN: someone else accepted first
    (the request is marked "taken"; the caller commits that and says so)."""
    _require_nominee(actor, request)
    _require_pending(request)
    if not consent_picture(request.child_id).areas_for(request.nominee_agency_id, "coordination"):
        raise OperationError(str(_l("Your agency no longer holds a consent for coordination for this child")))
    membership = active_membership(request.nominee_person_id, request.nominee_agency_id)
    if membership is None:
        raise OperationError(str(_l("You are no longer active as a practitioner in that agency")))
    moment = now()
    won = current_support_coordinator(request.child_id) is None
    if won:
        # The insert first (a SAVEPOINT), before any row of another request is touched, so that two
        # acceptances at once never wait on each other's rows: the second waits on the unique index only,
        # and fails there. (Not ``operations.assign_support_coordinator``: it ends a current coordinator
        # and takes over, so a winner committing between our check and its own would be replaced.)
        try:
            with db.session.begin_nested():
                db.session.add(
                    RoleAssignment(
                        child_id=request.child_id,
                        role="support_coordinator",
                        staff_person_id=membership.staff_person_id,
                        agency_id=membership.agency_id,
                        assigned_by_id=request.requested_by_id,
                        started_at=moment,
                    )
                )
                db.session.flush()
        except IntegrityError:
            won = False
    if not won:
        _mark_taken(actor, request, moment)
        db.session.flush()
        events.coordinator_request_answered.send(None, request=request)
        return TAKEN
    request.state = ACCEPTED
    request.decided_at = moment
    others = db.session.scalars(
        select(CoordinatorRequest)
        .where(
            CoordinatorRequest.child_id == request.child_id,
            CoordinatorRequest.state == "pending",
            CoordinatorRequest.id != request.id,
        )
        .order_by(CoordinatorRequest.id)
    ).all()
    record_write(
        actor.audit_actor(),
        "assign_support_coordinator",
        child_id=request.child_id,
        object_type="role_assignment",
        legal_basis="consent",
        detail={"agency_id": request.nominee_agency_id},
    )
    record_write(
        actor.audit_actor(),
        "accept_coordinator_request",
        child_id=request.child_id,
        object_type="coordinator_request",
        object_id=request.public_id,
        legal_basis="consent",
    )
    for other in others:
        _mark_taken(actor, other, moment)
    record_event(
        request.child_id,
        "coordinator_appointed",
        owner_agency_id=request.nominee_agency_id,
        audience="coordination",
        tone="neutral",
        author_person_id=request.nominee_person_id,
        object_type="coordinator_request",
        object_public_id=request.public_id,
    )
    # she is a member of the team she now coordinates (in this transaction; no-op when she already is)
    join_team_as_support_coordinator(actor, request.child_id, membership)
    db.session.flush()
    for answered in (request, *others):
        events.coordinator_request_answered.send(None, request=answered)
    return ACCEPTED


@refusals_audited("decline_coordinator_request")
def decline_coordinator_request(actor: Actor, request: CoordinatorRequest, reason: str | None) -> None:
    _require_nominee(actor, request)
    _require_pending(request)
    text = (reason or "").strip()
    if not text:
        raise OperationError(str(_l("Write why you decline")), "reason")
    if len(text) > DECLINE_REASON_MAX:
        raise OperationError(str(_l("Write at most %(max)d characters", max=DECLINE_REASON_MAX)), "reason")
    request.state = "declined"
    request.decline_reason = text
    request.decided_at = now()
    db.session.flush()
    record_write(
        actor.audit_actor(),
        "decline_coordinator_request",
        child_id=request.child_id,
        object_type="coordinator_request",
        object_id=request.public_id,
        legal_basis="consent",
    )
    # The reason is for the one who asked (and the nominee's own agency), not for every agency.
    record_event(
        request.child_id,
        "coordinator_declined",
        owner_agency_id=request.nominee_agency_id,
        audience="recipient",
        tone="neutral",
        summary=text,
        author_person_id=request.nominee_person_id,
        recipient_person_id=request.requested_by_id,
        object_type="coordinator_request",
        object_public_id=request.public_id,
    )
    db.session.flush()
    events.coordinator_request_answered.send(None, request=request)
