"""The access core (RULES.md §1–§4): who the actor is, how they relate to a child, what consent lets
their agency see, and one decision function that says yes or no with its reason and legal basis.

Deny by default. Views reach child data only through ``get_child_or_404`` (one child) and
``visible_children`` (a ``Select``); view models (``coordination.children.view.ChildView``) carry only
what the viewer may see. Out of scope is 404, never 403. Relations are a small registry that later
issues add to (team member, action owner, intake).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import NoReturn

from flask import abort
from sqlalchemy import ColumnElement, Select, and_, exists, false, func, literal, or_, select, union_all
from sqlalchemy.orm import aliased, selectinload

from agencies.models import Agency, Membership, StaffPerson, Unit
from coordination import audit
from coordination.audit import AuditActor
from coordination.children.models import Child, Custody, Enrolment, RoleAssignment
from coordination.clock import now, today
from coordination.consent.common import maturity_min_age
from coordination.consent.evaluation import effective_areas
from coordination.consent.models import Consent, MaturityAssessment
from coordination.database import db
from coordination.models import Account, AuditEvent
from coordination.registration.models import PendingLink
from coordination.security import loggable_path

STAFF = "staff"
AGENCY_ADMIN = "agency_admin"
PLATFORM_ADMIN = "platform_admin"
ANALYST = "analyst"
GUARDIAN = "guardian"
YOUNG_PERSON = "young_person"


@dataclass(frozen=True)
class Actor:
    """A logged-in person acting now: staff act for exactly one agency at a time (RULES.md §1)."""

    account: Account
    acting_agency: Agency | None
    memberships: tuple[Membership, ...]  # the memberships in the acting agency only

    @property
    def kind(self) -> str:
        return self.account.kind

    @property
    def home_kind(self) -> str:
        """Which home page this actor lands on."""
        if self.kind == "staff" and self.is_agency_admin:
            return AGENCY_ADMIN
        return self.kind

    @property
    def is_staff(self) -> bool:
        return self.kind == "staff"

    @property
    def is_family(self) -> bool:
        return self.kind in (GUARDIAN, YOUNG_PERSON)

    @property
    def units(self) -> tuple[Unit, ...]:
        return tuple(m.unit for m in self.memberships)

    @property
    def roles(self) -> tuple[str, ...]:
        seen: list[str] = []
        for membership in self.memberships:
            for role in membership.roles:
                if role not in seen:
                    seen.append(role)
        return tuple(seen)

    @property
    def agencies(self) -> tuple[Agency, ...]:
        """Every agency the person belongs to now (for the agency switcher); access stays per agency."""
        person = self.account.staff_person
        if person is None:
            return ()
        found = {m.agency_id: m.agency for m in person.memberships if m.ended_at is None}
        return tuple(sorted(found.values(), key=lambda agency: agency.name))

    @property
    def is_agency_admin(self) -> bool:
        return any(m.is_agency_admin for m in self.memberships)

    @property
    def display_name(self) -> str:
        account = self.account
        if account.staff_person is not None:
            return account.staff_person.full_name
        if account.guardian is not None:
            return account.guardian.full_name
        if account.child is not None:
            return account.child.full_name
        if account.platform_admin is not None:
            return account.platform_admin.name
        if account.analyst is not None:
            return account.analyst.name
        return account.username

    def audit_actor(self) -> AuditActor:
        return AuditActor(
            kind=self.kind,
            account_id=self.account.id,
            staff_person_id=self.account.staff_person_id,
            acting_agency_id=self.acting_agency.id if self.acting_agency else None,
        )


@dataclass(frozen=True)
class SystemActor:
    """The platform itself (CLI, demo loader): audited as "system" with a platform-administration basis."""

    label: str = "system"

    kind = "system"

    def audit_actor(self) -> AuditActor:
        return AuditActor(kind="system")


SYSTEM_ACTOR = SystemActor()

# Who an operation may be called by: a person acting (staff, family), or the platform itself (the CLIs,
# the demo loader's setup of agencies, staff and accounts).
AnyActor = Actor | SystemActor


def mask_digits(text: str) -> str:

    return loggable_path(text)


# -- relations (RULES.md §2) -------------------------------------------------------------------------
# The ids of the children an actor has a relation to (a nullable column where the id comes from a record that
# may not be matched to a child yet, such as a report of concern: such rows are filtered out by the query).
ChildIds = Select[tuple[int]] | Select[tuple[int | None]]


@dataclass(frozen=True)
class Relation:
    """A reason a staff member may reach a child. ``child_ids`` selects the ids of the children this
    actor has the relation to, scoped to the acting agency (access is never the union of agencies)."""

    name: str
    legal_basis: str
    child_ids: Callable[[Actor], ChildIds]


RELATIONS: list[Relation] = []


def register_relation(relation: Relation) -> None:
    if any(existing.name == relation.name for existing in RELATIONS):
        raise ValueError(f"relation {relation.name} is registered twice")
    RELATIONS.append(relation)


def _assignment_child_ids(role: str) -> Callable[[Actor], Select[tuple[int]]]:
    def child_ids(actor: Actor) -> Select[tuple[int]]:
        assert actor.acting_agency is not None
        return select(RoleAssignment.child_id).where(
            RoleAssignment.role == role,
            RoleAssignment.ended_at.is_(None),
            RoleAssignment.staff_person_id == actor.account.staff_person_id,
            RoleAssignment.agency_id == actor.acting_agency.id,
        )

    return child_ids


def _unit_child_ids(actor: Actor) -> Select[tuple[int]]:
    unit_ids = [membership.unit_id for membership in actor.memberships if membership.is_practitioner]
    return select(Enrolment.child_id).where(Enrolment.unit_id.in_(unit_ids), Enrolment.ended_on.is_(None))


register_relation(Relation("child_contact", "relation_child_contact", _assignment_child_ids("child_contact")))
register_relation(
    Relation("support_coordinator", "relation_support_coordinator", _assignment_child_ids("support_coordinator"))
)
register_relation(Relation("unit", "relation_unit", _unit_child_ids))


def _team_child_ids(actor: Actor) -> Select[tuple[int]]:
    """A current member of the child's own team, acting for the agency they were added for; removal
    ends the membership and with it the relation, on the next request."""
    from coordination.teams.models import TeamMember

    assert actor.acting_agency is not None
    return select(TeamMember.child_id).where(
        TeamMember.staff_person_id == actor.account.staff_person_id,
        TeamMember.agency_id == actor.acting_agency.id,
        TeamMember.ended_at.is_(None),
    )


def _intake_child_ids(actor: Actor) -> ChildIds:
    """Intake (every intake member of the social-services agency the report went to) for the children
    its reports were matched to."""
    from coordination.reports.models import ReportOfConcern

    assert actor.acting_agency is not None
    if not any(membership.is_intake for membership in actor.memberships):
        return select(ReportOfConcern.child_id).where(false())
    return select(ReportOfConcern.child_id).where(
        ReportOfConcern.social_services_agency_id == actor.acting_agency.id,
        ReportOfConcern.child_id.is_not(None),
    )


def _investigating_unit_child_ids(actor: Actor) -> ChildIds:
    """Staff of the social-services unit intake assigned a report to, for the child it is about."""
    from coordination.reports.models import ReportOfConcern

    unit_ids = [membership.unit_id for membership in actor.memberships if membership.is_practitioner]
    return select(ReportOfConcern.child_id).where(
        ReportOfConcern.assigned_unit_id.in_(unit_ids), ReportOfConcern.child_id.is_not(None)
    )


def _action_owner_child_ids(actor: Actor) -> Select[tuple[int]]:
    """The owner of one of the child's actions in the Child's Plan — the person, or a practitioner of the
    owning unit — acting for the owning agency."""
    from childplan.models import Action

    assert actor.acting_agency is not None
    unit_ids = [membership.unit_id for membership in actor.memberships if membership.is_practitioner]
    return select(Action.child_id).where(
        Action.owner_agency_id == actor.acting_agency.id,
        or_(Action.owner_person_id == actor.account.staff_person_id, Action.owner_unit_id.in_(unit_ids)),
    )


register_relation(Relation("team_member", "relation_team", _team_child_ids))
register_relation(Relation("action_owner", "relation_action_owner", _action_owner_child_ids))
register_relation(Relation("intake", "duty_to_report", _intake_child_ids))
register_relation(Relation("investigating_unit", "duty_to_report", _investigating_unit_child_ids))


def _adult_cutoff() -> date:
    """Children born on or before this date are 18: guardian access ends (RULES.md §6)."""
    day = today()
    try:
        return day.replace(year=day.year - 18)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 18, day=28)


def related_child_ids(actor: Actor) -> Select[tuple[int]]:
    """The ids of every child the actor may open, as one SELECT (deny by default: nothing)."""
    if actor.kind == STAFF and actor.acting_agency is not None:
        parts = [relation.child_ids(actor) for relation in RELATIONS]
        return select(union_all(*parts).subquery().c[0])
    if actor.kind == GUARDIAN:
        return (
            select(Custody.child_id)
            .join(Child, Child.id == Custody.child_id)
            .where(
                Custody.guardian_id == actor.account.guardian_id,
                Custody.ended_at.is_(None),
                Custody.identity_checked_at.is_not(None),  # checked by the Child Contact first (RULES.md §6)
                (Child.birth_date.is_(None)) | (Child.birth_date > _adult_cutoff()),
            )
        )
    if actor.kind == YOUNG_PERSON:
        return select(Child.id).where(Child.id == actor.account.child_id)
    return select(Child.id).where(false())


def visible_children(actor: Actor) -> Select[tuple[Child]]:
    """The children the actor may see (My children, search), as a Select to filter, order and page."""
    return select(Child).where(Child.id.in_(related_child_ids(actor)))


def relations_to(actor: Actor, child_id: int) -> list[Relation]:
    """Which relations the actor has to one child, in one statement."""
    if actor.kind != STAFF or actor.acting_agency is None:
        return []
    parts = [
        select(literal(relation.name).label("relation")).where(literal(child_id).in_(relation.child_ids(actor)))
        for relation in RELATIONS
    ]
    names = set(db.session.scalars(select(union_all(*parts).subquery().c.relation)))
    return [relation for relation in RELATIONS if relation.name in names]


def relations_for_children(actor: Actor, child_ids: list[int]) -> dict[int, list[Relation]]:
    """The actor's relations to each of a page of children, in one statement (lists do not grow)."""
    if actor.kind != STAFF or actor.acting_agency is None or not child_ids:
        return {}
    parts = []
    for relation in RELATIONS:
        related = relation.child_ids(actor).subquery()
        parts.append(
            select(literal(relation.name).label("relation"), related.c[0].label("child_id")).where(
                related.c[0].in_(child_ids)
            )
        )
    combined = union_all(*parts).subquery()
    found: dict[int, set[str]] = {}
    for name, child_id in db.session.execute(select(combined.c.relation, combined.c.child_id)):
        found.setdefault(child_id, set()).add(name)
    return {
        child_id: [relation for relation in RELATIONS if relation.name in names] for child_id, names in found.items()
    }


IDENTITY_LOOKUP_ACTION = "lookup_identity_number"
IDENTITY_LOOKUPS_PER_10_MINUTES = 30


def identity_lookup_allowed(actor: Actor) -> bool:
    """Lookups by identity number are rate-limited per person: the audit trail is the counter."""

    since = now() - timedelta(minutes=10)
    count = db.session.scalar(
        select(func.count(AuditEvent.id)).where(
            AuditEvent.actor_account_id == actor.account.id,
            AuditEvent.action == IDENTITY_LOOKUP_ACTION,
            AuditEvent.occurred_at >= since,
        )
    )
    return (count or 0) < IDENTITY_LOOKUPS_PER_10_MINUTES


def look_up_identity_number(
    actor: Actor, number_hash: str, detail: dict[str, str] | None = None
) -> tuple[Child | None, bool]:
    """The child with this number, in the actor's scope or not, and whether it is in scope — audited the
    one way every lookup by number is (search, registration): a read on the actor's legal basis when in
    scope, otherwise a denial (the child's id when known, never the number), after the request ends, so
    a failed request keeps it and the rate limit counts it. Only ``find_child_by_identity_number`` and
    registration (which must tell known from unknown, but never shows it) call this."""
    child = db.session.scalar(select(Child).where(Child.identity_number_hash == number_hash))
    in_scope = child is not None and bool(
        db.session.scalar(select(literal(True)).where(literal(child.id).in_(related_child_ids(actor))))
    )
    outcome_child = child.id if child is not None else None
    if in_scope:
        audit.note_read(
            actor.audit_actor(),
            IDENTITY_LOOKUP_ACTION,
            child_id=outcome_child,
            object_type="child",
            object_id=child.public_id if child else None,
            legal_basis=relations_basis(actor, child),
            detail=detail,
        )
        return child, True
    audit.note_denied(
        actor.audit_actor(),
        IDENTITY_LOOKUP_ACTION,
        child_id=outcome_child,
        object_type="identity_lookup",
        detail=detail,
    )
    return child, False


def find_child_by_identity_number(actor: Actor, number_hash: str) -> Child | None:
    """Look up a child by keyed hash WITHIN the actor's scope. Unknown and out of scope answer the same
    (None); the lookup is audited either way (``look_up_identity_number``)."""
    child, in_scope = look_up_identity_number(actor, number_hash)
    return child if in_scope else None


def relations_basis(actor: Actor, child: Child | None) -> str | None:
    if child is None:
        return None
    if actor.kind == STAFF:
        relations = relations_to(actor, child.id)
        return relations[0].legal_basis if relations else None
    return "custody" if actor.kind == GUARDIAN else "young_person"


# -- consent (RULES.md §3) ---------------------------------------------------------------------------
@dataclass(frozen=True)
class ConsentPicture:
    """Everything consent says about one child today: areas in effect per (agency id, purpose)."""

    child_id: int
    effective: dict[tuple[int, str], frozenset[str]]
    consents: tuple[Consent, ...]
    custodial_guardian_ids: frozenset[int]
    mature_agency_ids: frozenset[int]

    def areas_for(self, agency_id: int, purpose: str) -> frozenset[str]:
        return self.effective.get((agency_id, purpose), frozenset())

    def covers(self, agency_id: int, purpose: str, areas: frozenset[str] | set[str]) -> bool:
        granted = self.areas_for(agency_id, purpose)
        return bool(granted) and set(areas) <= granted


def consent_picture(child: Child | int) -> ConsentPicture:
    """Load the child's consents, custody and maturity assessments and evaluate them for today (three
    statements). Expiry and withdrawal therefore take effect on the very next request."""

    if isinstance(child, Child):
        child_id, birth_date = child.id, child.birth_date
    else:
        child_id = child
        birth_date = db.session.scalar(select(Child.birth_date).where(Child.id == child_id))

    consents = tuple(
        db.session.scalars(
            select(Consent)
            .where(Consent.child_id == child_id)
            .options(selectinload(Consent.areas), selectinload(Consent.givers))
            .order_by(Consent.id)
        )
    )
    guardians = frozenset(
        db.session.scalars(select(Custody.guardian_id).where(Custody.child_id == child_id, Custody.ended_at.is_(None)))
    )
    mature = frozenset(
        db.session.scalars(select(MaturityAssessment.agency_id).where(MaturityAssessment.child_id == child_id))
    )
    return ConsentPicture(
        child_id=child_id,
        effective=effective_areas(
            list(consents),
            set(guardians),
            set(mature),
            today(),
            # the young person decides only from the minimum age, and alone from 18 (RULES.md §3)
            birth_date=birth_date,
            maturity_min_age=maturity_min_age(),
        ),
        consents=consents,
        custodial_guardian_ids=guardians,
        mature_agency_ids=mature,
    )


# -- decisions (RULES.md §4) -------------------------------------------------------------------------
@dataclass(frozen=True)
class Decision:
    """Yes or no, with the reason (a code the view model turns into words) and the legal basis."""

    allowed: bool
    reason: str
    legal_basis: str | None = None

    def __bool__(self) -> bool:
        return self.allowed


WITHHELD_NO_CONSENT = "no_consent_for_your_agency"
WITHHELD_AREAS = "consent_does_not_cover_the_areas"


def may_see_item(access: ChildAccess, owner_agency_id: int, purpose: str, areas: frozenset[str] | set[str]) -> Decision:
    """May the viewer of this child (``access``: the relation is already established by
    ``get_child_or_404``) see an item owned by ``owner_agency_id`` with these Needs Compass areas?

    Own agency's records: yes (own agency's record). Another agency's: only while a consent for the
    viewer's agency covers the purpose and every area of the item. Roles do not override consent."""
    actor = access.actor
    if actor.kind != STAFF or actor.acting_agency is None or not access.relations:
        return Decision(False, "not_staff")
    if owner_agency_id == actor.acting_agency.id:
        return Decision(True, "own_agency", "own_agency_record")
    granted = access.picture.areas_for(actor.acting_agency.id, purpose)
    if not granted:
        return Decision(False, WITHHELD_NO_CONSENT)
    if not set(areas) <= granted:
        return Decision(False, WITHHELD_AREAS)
    return Decision(True, "consent", "consent")


def may_know_other_agencies(access: ChildAccess) -> Decision:
    """The list of agencies involved with a child, their consents and their people, is itself
    cross-agency information (RULES.md §4): open while the viewer's agency holds a consent for
    coordination, in any area."""
    actor = access.actor
    if actor.kind != STAFF or actor.acting_agency is None or not access.relations:
        return Decision(False, "not_staff")
    if access.picture.areas_for(actor.acting_agency.id, "coordination"):
        return Decision(True, "consent", "consent")
    return Decision(False, WITHHELD_NO_CONSENT)


def may_see_chronology_entry(
    access: ChildAccess,
    *,
    owner_agency_id: int,
    audience: str,
    areas: frozenset[str] | set[str],
    author_person_id: int | None = None,
    recipient_person_id: int | None = None,
) -> Decision:
    """One chronology entry (``coordination.chronology.models`` names the audiences): the owner agency's
    staff always; others as the audience says (RULES.md §4)."""
    actor = access.actor
    if actor.kind != STAFF or actor.acting_agency is None or not access.relations:
        return Decision(False, "not_staff")
    person_id = actor.account.staff_person_id
    if owner_agency_id == actor.acting_agency.id:
        return Decision(True, "own_agency", "own_agency_record")
    # The author keeps sight of their entry through the own-agency rule while acting for the agency they
    # wrote it for; acting for another agency they see it as that agency may (never the union, RULES.md §1).
    if audience == "coordination":
        return may_see_item(access, owner_agency_id, "coordination", areas)
    if audience == "team":
        return may_see_item(access, owner_agency_id, "team_meetings", areas)
    if audience == "recipient":
        if recipient_person_id is not None and recipient_person_id == person_id:
            return Decision(True, "recipient", access.legal_basis)
        return Decision(False, "addressed_to_someone_else")
    if audience == "agencies":
        return may_know_other_agencies(access)
    return Decision(False, "own_agency_only")


TEAM_RELATIONS: tuple[str, ...] = ("child_contact", "support_coordinator", "team_member")


def sees_protected_details(access: ChildAccess) -> bool:
    """RULES.md §7: for a child with protected identity, meeting places, unit and staff names and contact
    channels (and guardians' contact details) stay within the child's team — the Child Contact, the
    Support Coordinator and the current team members. Everyone else (other staff with a relation, family
    viewers) gets them withheld, in every channel."""
    if not access.child.has_protected_identity:
        return True
    return any(access.has_relation(name) for name in TEAM_RELATIONS)


@dataclass
class ChildAccess:
    """What the actor has to this child: the relations (staff) or the family link, and the consent."""

    child: Child
    actor: Actor
    relations: list[Relation]
    legal_basis: str
    picture: ConsentPicture
    custody: Custody | None = None
    extra: dict[str, object] = field(default_factory=dict)

    def has_relation(self, name: str) -> bool:
        return any(relation.name == name for relation in self.relations)


def refuse_404(access: ChildAccess, action: str, reason: str) -> NoReturn:
    """404 for someone who reached the child but may not do this (an action for the Child Contact or the
    plan keeper only): the refusal is audited with its reason, the answer says nothing."""
    audit.note_denied(
        access.actor.audit_actor(),
        action,
        child_id=access.child.id,
        object_type="child",
        object_id=access.child.public_id,
        detail={"reason": reason},
    )
    abort(404)


def staff_or_404(actor: Actor, child_public_id: str, action: str) -> Actor:
    """The actor, when they are staff acting for an agency: a child's page only staff may open (the
    family reach it through the policy "child"). Anyone else gets 404, audited with the child's id from
    the address (``not_staff``)."""
    if actor.kind != STAFF or actor.acting_agency is None:
        audit.note_denied(
            actor.audit_actor(),
            action,
            object_type="child",
            object_id=(child_public_id or "")[:64],
            detail={"reason": "not_staff"},
        )
        abort(404)
    return actor


def get_child_as_child_contact_or_404(actor: Actor, public_id: str, action: str) -> ChildAccess:
    """The child, for its current Child Contact acting for the assignment's agency; anyone else: 404."""
    access = get_child_or_404(actor, public_id, action=action)
    if not access.has_relation("child_contact"):
        refuse_404(access, action, "not_child_contact")
    return access


def decide_child(actor: Actor, child: Child) -> Decision:
    """May the actor open this child at all? (Every child page starts here.)"""
    if actor.kind == STAFF:
        relations = relations_to(actor, child.id)
        if relations:
            return Decision(True, relations[0].name, relations[0].legal_basis)
        return Decision(False, "no_relation")
    if actor.kind in (GUARDIAN, YOUNG_PERSON):
        allowed = db.session.scalar(select(literal(True)).where(literal(child.id).in_(related_child_ids(actor))))
        basis = "custody" if actor.kind == GUARDIAN else "young_person"
        return Decision(True, basis, basis) if allowed else Decision(False, "no_family_link")
    return Decision(False, "no_child_data_for_this_role")


def get_child_or_404(actor: Actor, public_id: str, action: str = "view_child") -> ChildAccess:
    """The one way a view reaches a child: 404 when unknown or out of scope, audited either way."""
    child = db.session.scalar(select(Child).where(Child.public_id == public_id[:64])) if public_id else None
    if child is None:
        # What was typed is kept for the record, but a run of digits (an identity number typed into the
        # address) is masked: it must not be stored in clear.
        audit.note_denied(actor.audit_actor(), action, object_type="child", object_id=mask_digits(public_id[:64]))
        abort(404)
    if actor.kind == STAFF:
        relations = relations_to(actor, child.id)
        if not relations:
            audit.note_denied(
                actor.audit_actor(),
                action,
                child_id=child.id,
                object_type="child",
                object_id=child.public_id,
                detail={"reason": "no_relation"},
            )
            abort(404)
        basis = relations[0].legal_basis
    else:
        decision = decide_child(actor, child)
        if not decision:
            audit.note_denied(
                actor.audit_actor(),
                action,
                child_id=child.id,
                object_type="child",
                object_id=child.public_id,
                detail={"reason": decision.reason},
            )
            abort(404)
        relations = []
        basis = decision.legal_basis or "custody"
    audit.note_read(
        actor.audit_actor(),
        action,
        child_id=child.id,
        object_type="child",
        object_id=child.public_id,
        legal_basis=basis,
    )
    return ChildAccess(child=child, actor=actor, relations=relations, legal_basis=basis, picture=consent_picture(child))


# -- who decides a pending link (RULES.md §5) --------------------------------------------------------
# A pending link (a unit asks to be linked to a child; registration.py) is decided by:
#   1. the child's current Child Contact (acting for the agency of the assignment); otherwise
#   2. an agency admin of an agency where the child is CURRENTLY enrolled (never the requesting agency
#      just because it asked); otherwise, when the child has no current enrolment at all (e.g. a child
#      this very registration created),
#   3. an agency admin of the requesting unit's agency — also when no agency where the child is enrolled
#      has an agency admin who may decide (one other than the requester: the preschools and BVC in the
#      demo have none), so that the request is not left with nobody to approve it. RULES.md §5 names
#      only "the enrolling unit's agency admin"; it is silent on an agency without one, and this is the
#      nearest reading that keeps a second person deciding. An agency with no such admin at all is
#      listed to the platform admin (``registration.access.agencies_without_link_approver``).
# An agency admin never decides a request they made themselves. The decider's legal basis is the Child
# Contact relation or agency administration. Everything below reads these rules from here.
CHILD_CONTACT_DECIDES = "relation_child_contact"
AGENCY_ADMIN_DECIDES = "agency_administration"


# -- the plan keeper: the child's current Support Coordinator, otherwise the Child Contact --------------
KEEPER_BASES = {"support_coordinator": "relation_support_coordinator", "child_contact": "relation_child_contact"}


def plan_keeper(child_id: int) -> RoleAssignment | None:
    """The child's current Support Coordinator, otherwise the Child Contact (one statement)."""
    rows = db.session.scalars(
        select(RoleAssignment).where(
            RoleAssignment.child_id == child_id,
            RoleAssignment.ended_at.is_(None),
            RoleAssignment.role.in_(tuple(KEEPER_BASES)),
        )
    ).all()
    return next((r for r in rows if r.role == "support_coordinator"), None) or next(
        (r for r in rows if r.role == "child_contact"), None
    )


def is_keeper(actor: Actor | SystemActor | None, keeper: RoleAssignment | None) -> bool:
    """Whether the actor is the plan keeper: the keeper's own person, acting for the keeper's agency."""
    return (
        keeper is not None
        and isinstance(actor, Actor)
        and actor.kind == "staff"
        and actor.acting_agency is not None
        and keeper.staff_person_id == actor.account.staff_person_id
        and keeper.agency_id == actor.acting_agency.id
    )


def current_child_contact(child_id: int) -> RoleAssignment | None:
    return db.session.scalar(
        select(RoleAssignment).where(
            RoleAssignment.child_id == child_id,
            RoleAssignment.role == "child_contact",
            RoleAssignment.ended_at.is_(None),
        )
    )


def _is_the_child_contact(actor: Actor, contact: RoleAssignment) -> bool:
    assert actor.acting_agency is not None
    return contact.staff_person_id == actor.account.staff_person_id and contact.agency_id == actor.acting_agency.id


def _is_deciding_admin(actor: Actor) -> bool:
    return actor.kind == STAFF and actor.acting_agency is not None and actor.is_agency_admin


def _admin_decides_link(actor: Actor) -> ColumnElement[bool]:
    """A condition on ``PendingLink`` (its state aside): the actor, an agency admin, decides it.

    Units are aliased in every subquery so that they never correlate with a query that joins ``Unit``."""
    if not _is_deciding_admin(actor):
        return false()
    assert actor.acting_agency is not None
    agency_id = actor.acting_agency.id
    enrolled_unit = aliased(Unit)
    requesting_unit = aliased(Unit)
    has_child_contact = exists().where(
        RoleAssignment.child_id == PendingLink.child_id,
        RoleAssignment.role == "child_contact",
        RoleAssignment.ended_at.is_(None),
    )
    enrolled_here = exists().where(
        Enrolment.child_id == PendingLink.child_id,
        Enrolment.ended_on.is_(None),
        Enrolment.unit_id == enrolled_unit.id,
        enrolled_unit.agency_id == agency_id,
    )
    requested_from_here = exists().where(
        requesting_unit.id == PendingLink.unit_id, requesting_unit.agency_id == agency_id
    )
    # Rule 3 applies when no agency where the child is enrolled has an active agency admin other than the
    # requester (enrolled nowhere included).
    admin_unit, admin_membership, admin_person = aliased(Unit), aliased(Membership), aliased(StaffPerson)
    enrolled_where_an_admin_decides = exists().where(
        Enrolment.child_id == PendingLink.child_id,
        Enrolment.ended_on.is_(None),
        Enrolment.unit_id == admin_unit.id,
        admin_membership.agency_id == admin_unit.agency_id,
        admin_membership.is_agency_admin.is_(True),
        admin_membership.ended_at.is_(None),
        admin_membership.staff_person_id != PendingLink.requested_by_id,
        admin_person.id == admin_membership.staff_person_id,
        admin_person.is_active.is_(True),
    )
    return and_(
        PendingLink.requested_by_id != actor.account.staff_person_id,
        ~has_child_contact,
        or_(enrolled_here, and_(~enrolled_where_an_admin_decides, requested_from_here)),
    )


def link_decision_basis(actor: Actor, link: PendingLink) -> str | None:
    """The legal basis on which the actor decides this link, or None when they may not (see above).

    The link's state is not looked at: whoever could decide it is told "already decided" by the
    operation, anyone else gets 404."""
    if actor.kind != STAFF or actor.acting_agency is None:
        return None
    contact = current_child_contact(link.child_id)
    if contact is not None:
        return CHILD_CONTACT_DECIDES if _is_the_child_contact(actor, contact) else None
    if not _is_deciding_admin(actor):
        return None
    decides = db.session.scalar(select(PendingLink.id).where(PendingLink.id == link.id, _admin_decides_link(actor)))
    return AGENCY_ADMIN_DECIDES if decides is not None else None


def pending_links_to_decide_statement(actor: Actor, child_id: int) -> Select[tuple[PendingLink]]:
    """The pending links of one child that the actor decides, oldest first (one statement to find the
    Child Contact here; the caller runs the returned one)."""
    statement = (
        select(PendingLink)
        .where(PendingLink.child_id == child_id, PendingLink.state == "pending")
        .order_by(PendingLink.requested_at, PendingLink.id)
    )
    if actor.kind != STAFF or actor.acting_agency is None:
        return statement.where(false())
    contact = current_child_contact(child_id)
    if contact is not None:
        return statement if _is_the_child_contact(actor, contact) else statement.where(false())
    return statement.where(_admin_decides_link(actor))


def links_awaiting_agency_admin_statement(actor: Actor) -> Select[tuple[PendingLink]]:
    """Every pending link the acting agency admin decides (the agency admin's queue), oldest first."""
    statement = select(PendingLink).where(PendingLink.state == "pending")
    if not _is_deciding_admin(actor):
        return statement.where(false())
    return statement.where(_admin_decides_link(actor)).order_by(PendingLink.requested_at, PendingLink.id)


def admin_decides_for(actor: Actor, child_id: int) -> bool:
    """An agency admin may open the links page of a child they have no relation to only while a link of
    that child is PENDING and theirs to decide: they lose sight of the child once it is decided."""
    if not _is_deciding_admin(actor):
        return False
    pending = exists().where(
        PendingLink.child_id == child_id, PendingLink.state == "pending", _admin_decides_link(actor)
    )
    return bool(db.session.scalar(select(pending)))


def _no_consent(child_id: int) -> ConsentPicture:
    return ConsentPicture(
        child_id=child_id,
        effective={},
        consents=(),
        custodial_guardian_ids=frozenset(),
        mature_agency_ids=frozenset(),
    )


def get_child_for_links_or_404(actor: Actor, public_id: str, action: str) -> ChildAccess:
    """The child of the links pages: through ``access.get_child_or_404`` for anyone with a relation;
    besides, an agency admin who decides one of the child's pending links (``admin_decides_for``:
    no Child Contact, and the child enrolled at their agency or, enrolled nowhere, asked for by a unit
    of their agency; never their own request) reaches it on the basis "agency administration" — with no
    relation and no consent, so such an access opens the link requests and the child's name, nothing
    else, and only while such a link is pending."""
    if actor.kind == STAFF and actor.is_agency_admin and public_id:
        child = db.session.scalar(select(Child).where(Child.public_id == public_id[:64]))
        if child is not None and not relations_to(actor, child.id) and admin_decides_for(actor, child.id):
            audit.note_read(
                actor.audit_actor(),
                action,
                child_id=child.id,
                object_type="child",
                object_id=child.public_id,
                legal_basis=AGENCY_ADMIN_DECIDES,
            )
            return ChildAccess(
                child=child,
                actor=actor,
                relations=[],
                legal_basis=AGENCY_ADMIN_DECIDES,
                picture=_no_consent(child.id),
            )
    return get_child_or_404(actor, public_id, action)
