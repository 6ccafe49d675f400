"""What one page of inbox items needs to be decided, loaded in a fixed number of statements however many
items it holds: the objects the items point at (one statement per kind of object), the children, the
viewer's relations to them and their consent pictures (evaluated today: a withdrawal counts from the
next request)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from agencies.models import Unit
from childplan.comment_view import comment_facts, keepers_of
from childplan.models import Action
from coordination.access import Actor, ChildAccess, ConsentPicture, relations_for_children
from coordination.children.models import Child, Custody, Enrolment
from coordination.clock import today
from coordination.concerns.models import Concern, CoordinatorRequest, MatchingAlert, SiblingContactRequest
from coordination.consent.common import maturity_min_age
from coordination.consent.evaluation import effective_areas
from coordination.consent.models import Consent, MaturityAssessment
from coordination.database import db
from coordination.registration.models import PendingLink
from coordination.reports.models import ReportOfConcern
from coordination.teams.models import Meeting, TeamMember
from notifications.models import InboxItem


def consent_pictures(children: dict[int, Child]) -> dict[int, ConsentPicture]:
    """``access.consent_picture`` for many children at once, in five statements whatever their number
    (evaluated for today: a withdrawal counts from the next request)."""

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


def load_objects(items: list[InboxItem]) -> dict[tuple[str, str], Any]:
    """The objects the items point at: one statement per kind of object on the page."""

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
        "plan_action": (Action, ()),
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
class ItemContext:
    """Everything the items of one page are decided against, for one viewer."""

    actor: Actor
    children: dict[int, Child]
    accesses: dict[int, ChildAccess]  # the children the viewer has a relation to now
    enrolled_here: set[int]  # children enrolled now at a unit of the acting agency (agency admins)
    objects: dict[tuple[str, str], Any]
    # the family's comments on a plan (childplan.comment_view.CommentFacts) and their children's plan keepers
    plan_comments: dict[str, Any] = field(default_factory=dict)
    keepers: dict[int, Any] = field(default_factory=dict)


def load_context(actor: Actor, items: list[InboxItem]) -> ItemContext:
    """The children the items name, the viewer's relations to them now (with their consent pictures),
    which of them are enrolled at the acting agency (for agency admins) and the objects the items point at."""
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
    context = ItemContext(actor, children, accesses, enrolled_here, load_objects(items))
    comments = [item for item in items if item.kind == "plan_comment" and item.object_public_id]
    if comments:
        context.plan_comments = comment_facts(item.object_public_id for item in comments if item.object_public_id)
        context.keepers = keepers_of(item.child_id for item in comments if item.child_id in accesses)
    return context
