"""The Child's Plan as one viewer may see it (RULES.md §4, §6, §7): ``PlanView.for_actor`` for staff and
``PlanView.for_family`` for a guardian or the young person. Built from the access core's primitives only
(``may_see_item``, ``may_know_other_agencies``, ``sees_protected_details``, the relations), computed on
every call (a withdrawn consent takes effect on the next request), and holding plain values — never an ORM
object a template could leak from.

- Every need (with its goals) and every action is decided on its own: the viewer's own agency's items
  always; another agency's only while the viewer's agency's coordination consent covers every area of the
  item (an action serving a need also carries the need's areas). The plan keeper is no exception: a keeper
  whose agency's consent lapsed sees its own agency's items and a notice that the role needs consent.
- A viewer whose agency holds coordination consent sees each item it may not see as a withheld line with
  the reason; a viewer whose agency holds none sees only its own part of the plan and how to reach the
  plan keeper (no withheld lines, so nothing tells it what else the plan holds).
- An action shows the need it serves only when the viewer may see that need.
- The plan-level texts (why, overall responsibility, views, disagreements, the next review) are the keeper
  agency's record, treated as covering every Needs Compass area.
- Protected identity (RULES.md §7): outside the child's team, no unit or staff names or contact channels.
- Families: everything except what is withheld from guardians (for a guardian; the young person sees it),
  and no agency involved only through withheld items; for a protected child or a restricted guardian no
  unit or staff names, the switchboard number instead.

The view model does not audit: the page that shows it reads the plan through ``get_child_or_404`` and
notes the read of the plan itself."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from flask import abort
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload, raiseload, selectinload

from agencies.models import Agency, StaffPerson, Unit
from childplan.compass import AREA_CODES
from childplan.models import Action, Need, Plan, PlanVersion, Review
from childplan.review_view import ReviewView
from coordination import audit, settings
from coordination.access import (
    AGENCY_ADMIN_DECIDES,
    KEEPER_BASES,
    STAFF,
    WITHHELD_AREAS,
    WITHHELD_NO_CONSENT,
    Actor,
    ChildAccess,
    is_keeper,
    may_know_other_agencies,
    may_see_item,
    plan_keeper,
    refuse_404,
    sees_protected_details,
)
from coordination.children.models import Child, Custody, RoleAssignment
from coordination.database import db
from coordination.teams.models import MeetingDecision, TeamMember

PURPOSE = "coordination"
ALL_AREAS: frozenset[str] = frozenset(AREA_CODES)
GUARDIAN_VIEWER = "guardian"
YOUNG_PERSON_VIEWER = "young_person"
PROTECTED = "protected_identity"
KEEPER_NEEDS_CONSENT = "keeper_needs_consent"
OWN_PART_ONLY = "own_part_only"

WITHHELD_REASONS = {
    WITHHELD_NO_CONSENT: _l("Withheld: your agency has no consent for coordination"),
    WITHHELD_AREAS: _l("Withheld: your agency's consent does not cover the areas of this item"),
    PROTECTED: _l("Withheld: protected identity"),
}
# The same reasons as the end of a sentence that names what is withheld ("A need is withheld: …"); a
# label before WITHHELD_REASONS would read "A need: Withheld: …" (issue 16).
WITHHELD_BECAUSE = {
    WITHHELD_NO_CONSENT: _l("your agency has no consent for coordination"),
    WITHHELD_AREAS: _l("your agency's consent does not cover its areas"),
    PROTECTED: _l("the child has protected identity"),
}
OWN_PART_ONLY_KEEPER_WITHHELD = "own_part_only_keeper_withheld"
NOTICES = {
    KEEPER_NEEDS_CONSENT: _l(
        "Your agency has no consent for coordination for this child: you see only your agency's own part of "
        "the plan. The plan keeper's role needs a consented agency."
    ),
    OWN_PART_ONLY: _l(
        "You see your agency's own part of the plan: your agency has no consent for coordination for this "
        "child. Contact the plan keeper to coordinate."
    ),
    # the plan keeper's name and channels are withheld (protected identity, RULES.md §7): "contact the plan
    # keeper" alone would send the viewer nowhere, so the notice says how (the keeper section has the number)
    OWN_PART_ONLY_KEEPER_WITHHELD: _l(
        "You see your agency's own part of the plan: your agency has no consent for coordination for this "
        "child. The plan keeper's contact details are withheld because the child has protected identity: call "
        "the switchboard and ask for the child's plan keeper."
    ),
}
KEEPER_ROLES = {"support_coordinator": _l("Support Coordinator"), "child_contact": _l("Child Contact")}


@dataclass(frozen=True)
class GoalLine:
    outcome: str
    evidence: str | None


@dataclass(frozen=True)
class NeedLine:
    public_id: str
    agency: str | None
    areas: tuple[str, ...]
    description: str
    strengths: str | None
    getting_in_the_way: str | None
    goals: tuple[GoalLine, ...]
    is_own_agency: bool
    withheld_from_guardians: bool  # staff and the young person only; always False for a guardian


@dataclass(frozen=True)
class ActionLine:
    public_id: str
    what: str
    agency: str
    unit: str | None  # None: none set, or withheld (protected identity)
    person: str | None
    starts_on: date | None
    due_on: date | None
    status: str
    stop_reason: str | None
    progress_note: str | None
    areas: tuple[str, ...]
    need_public_id: str | None  # None: no need, or a need the viewer may not see
    need_description: str | None
    is_own_agency: bool
    withheld_from_guardians: bool


@dataclass(frozen=True)
class WithheldLine:
    """An item the viewer may not see: what kind of item, whose, and why (a code and its words)."""

    kind: str  # "need" or "action"
    agency: str | None
    reason: str

    @property
    def reason_text(self) -> object:
        return WITHHELD_REASONS[self.reason]

    @property
    def because_text(self) -> object:
        return WITHHELD_BECAUSE[self.reason]


@dataclass(frozen=True)
class PlanTexts:
    why: str | None
    overall_responsibility: str | None
    child_views: str | None
    guardian_views: str | None
    disagreements: str | None
    next_review_on: date | None
    status: str
    close_reason: str | None


@dataclass(frozen=True)
class KeeperContact:
    """How to reach the plan keeper; name and channels None when withheld (protected identity), and then
    ``switchboard`` for family viewers."""

    role: str  # support_coordinator / child_contact
    name: str | None
    phone: str | None
    email: str | None
    agency: str | None
    switchboard: str | None = None
    withheld_reason: str | None = None

    @property
    def role_label(self) -> object:
        return KEEPER_ROLES[self.role]


@dataclass
class PlanView:
    child_public_id: str
    plan_public_id: str
    texts: PlanTexts | None
    texts_withheld_reason: str | None
    needs: list[NeedLine] = field(default_factory=list)
    actions: list[ActionLine] = field(default_factory=list)
    withheld: list[WithheldLine] = field(default_factory=list)
    keeper: KeeperContact | None = None
    notices: list[str] = field(default_factory=list)
    is_keeper: bool = False
    # Whether a need of the plan is withheld from this viewer, and why (the first one's reason): so an empty
    # list says "withheld", not "none yet", also where no withheld lines are shown (issue 16; RULES.md §4:
    # another agency's item is shown as withheld, with the reason — never to families, RULES.md §6)
    needs_withheld: str | None = None
    actions_withheld: str | None = None  # the same for the actions

    @property
    def agencies(self) -> list[str]:
        """The agencies this viewer sees involved (through the items shown), in order of appearance."""
        seen: list[str] = []
        for name in [need.agency for need in self.needs] + [action.agency for action in self.actions]:
            if name and name not in seen:
                seen.append(name)
        return seen

    @property
    def notice_texts(self) -> list[object]:
        return [NOTICES[code] for code in self.notices]

    @property
    def texts_withheld_because(self) -> object | None:
        return WITHHELD_BECAUSE[self.texts_withheld_reason] if self.texts_withheld_reason else None

    @property
    def needs_withheld_because(self) -> object | None:
        return WITHHELD_BECAUSE[self.needs_withheld] if self.needs_withheld else None

    @property
    def actions_withheld_because(self) -> object | None:
        return WITHHELD_BECAUSE[self.actions_withheld] if self.actions_withheld else None

    # -- builders ------------------------------------------------------------------------------------
    @classmethod
    def for_actor(cls, plan: Plan, access: ChildAccess) -> PlanView:
        """The plan for a member of staff who reached the child through ``get_child_or_404``."""
        actor = access.actor
        if actor.kind != STAFF or actor.acting_agency is None or not access.relations:
            raise ValueError("PlanView.for_actor is for staff with a relation to the child")
        if plan.child_id != access.child.id:
            raise ValueError("the plan is not this child's")
        loaded = _load(plan.id)
        own = actor.acting_agency.id
        consented = bool(access.picture.areas_for(own, PURPOSE))
        knows_agencies = bool(may_know_other_agencies(access))
        protected_ok = sees_protected_details(access)
        keeper = _keeper(access.child.id)
        is_keeper = (
            keeper is not None and keeper.staff_person_id == actor.account.staff_person_id and keeper.agency_id == own
        )

        needs_by_id = {need.id: need for need in loaded.plan.needs}
        need_shown: dict[int, bool] = {}
        view = cls(
            child_public_id=access.child.public_id,
            plan_public_id=loaded.plan.public_id,
            texts=None,
            texts_withheld_reason=None,
            is_keeper=is_keeper,
        )
        texts_decision = may_see_item(access, loaded.plan.agency_id, PURPOSE, ALL_AREAS)
        if texts_decision:
            view.texts = _texts(loaded.plan)
        else:
            view.texts_withheld_reason = texts_decision.reason

        for need in loaded.plan.needs:
            decision = may_see_item(access, need.agency_id, PURPOSE, _need_areas(need))
            need_shown[need.id] = bool(decision)
            if decision:
                view.needs.append(_need_line(need, loaded.agencies, own_agency_id=own, show_withheld_flag=True))
            elif view.needs_withheld is None:
                view.needs_withheld = decision.reason
            if not decision and consented:
                view.withheld.append(
                    WithheldLine(
                        "need", loaded.agencies.get(need.agency_id) if knows_agencies else None, decision.reason
                    )
                )

        for action in loaded.plan.actions:
            served = needs_by_id.get(action.need_id) if action.need_id is not None else None
            decision = may_see_item(access, action.owner_agency_id, PURPOSE, _action_areas(action, served))
            if decision:
                shown_need = served if served is not None and need_shown.get(served.id) else None
                view.actions.append(
                    _action_line(
                        loaded,
                        action,
                        shown_need,
                        served,
                        own_agency_id=own,
                        names=protected_ok,
                        show_withheld_flag=True,
                    )
                )
            else:
                view.actions_withheld = view.actions_withheld or decision.reason
            if not decision and consented:
                view.withheld.append(
                    WithheldLine(
                        "action",
                        loaded.agencies.get(action.owner_agency_id) if knows_agencies else None,
                        decision.reason,
                    )
                )

        if not consented:
            holds_role = is_keeper or access.has_relation("child_contact") or access.has_relation("support_coordinator")
            if holds_role:
                view.notices.append(KEEPER_NEEDS_CONSENT)
            else:
                keeper_withheld = keeper is not None and not protected_ok
                view.notices.append(OWN_PART_ONLY_KEEPER_WITHHELD if keeper_withheld else OWN_PART_ONLY)
        if keeper is not None:
            # outside the team of a protected child the keeper's name and channels are withheld: the neutral
            # switchboard number instead, as on the Overview (RULES.md §4, §7)
            view.keeper = _keeper_contact(
                keeper,
                names=protected_ok,
                show_agency=knows_agencies or keeper.agency_id == own,
                switchboard=None if protected_ok else settings.switchboard_phone(),
            )
        return view

    @classmethod
    def for_family(cls, plan: Plan, child: Child, viewer_kind: str, guardian_id: int | None = None) -> PlanView:
        """The plan for a guardian (``guardian_id``) or the young person, whose access the caller has
        established (custody / the young person's own login)."""
        if viewer_kind not in (GUARDIAN_VIEWER, YOUNG_PERSON_VIEWER):
            raise ValueError("viewer_kind is guardian or young_person")
        if viewer_kind == GUARDIAN_VIEWER and guardian_id is None:
            raise ValueError("a guardian viewer needs guardian_id")
        if plan.child_id != child.id:
            raise ValueError("the plan is not this child's")
        loaded = _load(plan.id)
        is_guardian = viewer_kind == GUARDIAN_VIEWER
        hidden = child.has_protected_identity
        if is_guardian:
            custody = db.session.scalar(
                select(Custody.is_restricted).where(
                    Custody.child_id == child.id, Custody.guardian_id == guardian_id, Custody.ended_at.is_(None)
                )
            )
            hidden = hidden or custody is None or bool(custody)
        switchboard = settings.switchboard_phone() if hidden else None

        view = cls(
            child_public_id=child.public_id,
            plan_public_id=loaded.plan.public_id,
            texts=_texts(loaded.plan),
            texts_withheld_reason=None,
        )
        withheld_need_ids = {need.id for need in loaded.plan.needs if need.is_withheld_from_guardians}
        needs_by_id = {need.id: need for need in loaded.plan.needs}
        for need in loaded.plan.needs:
            if is_guardian and need.id in withheld_need_ids:
                continue
            view.needs.append(_need_line(need, loaded.agencies, own_agency_id=None, show_withheld_flag=not is_guardian))
        for action in loaded.plan.actions:
            # An action serving a need withheld from guardians is withheld with it (its text speaks of it).
            if is_guardian and (action.is_withheld_from_guardians or action.need_id in withheld_need_ids):
                continue
            served = needs_by_id.get(action.need_id) if action.need_id is not None else None
            view.actions.append(
                _action_line(
                    loaded,
                    action,
                    served,
                    served,
                    own_agency_id=None,
                    names=not hidden,
                    show_withheld_flag=not is_guardian,
                )
            )
        keeper = _keeper(child.id)
        if keeper is not None:
            view.keeper = _keeper_contact(keeper, names=not hidden, show_agency=True, switchboard=switchboard)
        return view


# -- loading: a fixed number of statements, whatever the plan holds ----------------------------------
@dataclass(frozen=True)
class _Loaded:
    plan: Plan
    agencies: dict[int, str]  # agency id → name: the plan's, its needs' and its actions' owners
    units: dict[int, str]  # unit id → name: its actions' owner units
    people: dict[int, str]  # staff person id → full name: its actions' owner persons


def _load(plan_id: int) -> _Loaded:
    """The plan with its needs (with their areas joined, then their goals) and actions (with their areas
    joined): four statements, plus one each for the names of the agencies, units and people the items name.
    The areas are joined rather than loaded "select in" by id, which SQLAlchemy sends in batches of 500 ids
    (a plan of 1000 actions would send one statement more). Anything not named here raises instead of
    loading lazily. The names are read as plain columns, never as Agency / Unit / StaffPerson objects:
    ``populate_existing`` with ``raiseload`` would otherwise reach the session's copy of the viewer's own
    staff person or agency (the page header reads their memberships)."""
    statement = (
        select(Plan)
        .where(Plan.id == plan_id)
        .options(
            selectinload(Plan.needs).options(
                joinedload(Need.areas).raiseload("*"), selectinload(Need.goals).raiseload("*"), raiseload("*")
            ),
            selectinload(Plan.actions).options(joinedload(Action.areas).raiseload("*"), raiseload("*")),
            raiseload("*"),
        )
        .execution_options(populate_existing=True)
    )
    plan = db.session.scalars(statement).one()
    agency_ids = {need.agency_id for need in plan.needs} | {plan.agency_id}
    agency_ids |= {action.owner_agency_id for action in plan.actions}
    unit_ids = {action.owner_unit_id for action in plan.actions if action.owner_unit_id is not None}
    person_ids = {action.owner_person_id for action in plan.actions if action.owner_person_id is not None}
    agencies = dict(db.session.execute(select(Agency.id, Agency.name).where(Agency.id.in_(agency_ids))).tuples().all())
    units = (
        dict(db.session.execute(select(Unit.id, Unit.name).where(Unit.id.in_(unit_ids))).tuples().all())
        if unit_ids
        else {}
    )
    people = (
        {
            person_id: f"{given} {family}"
            for person_id, given, family in db.session.execute(
                select(StaffPerson.id, StaffPerson.given_name, StaffPerson.family_name).where(
                    StaffPerson.id.in_(person_ids)
                )
            )
        }
        if person_ids
        else {}
    )
    return _Loaded(plan=plan, agencies=agencies, units=units, people=people)


def _keeper(child_id: int) -> RoleAssignment | None:
    """The plan keeper's assignment: the Support Coordinator, otherwise the Child Contact (one statement)."""
    rows = list(
        db.session.scalars(
            select(RoleAssignment)
            .where(
                RoleAssignment.child_id == child_id,
                RoleAssignment.ended_at.is_(None),
                RoleAssignment.role.in_(tuple(KEEPER_ROLES)),
            )
            .options(joinedload(RoleAssignment.staff_person), joinedload(RoleAssignment.agency), raiseload("*"))
        )
    )
    return next((r for r in rows if r.role == "support_coordinator"), None) or next(
        (r for r in rows if r.role == "child_contact"), None
    )


# -- lines ---------------------------------------------------------------------------------------------
def _ordered(codes: frozenset[str] | set[str]) -> tuple[str, ...]:
    return tuple(code for code in AREA_CODES if code in codes)


def _need_areas(need: Need) -> frozenset[str]:
    return frozenset(area.area for area in need.areas)


def _action_areas(action: Action, need: Need | None) -> frozenset[str]:
    """The action's own areas and, when it serves a need, the need's (as ``Action.area_codes``)."""
    own = frozenset(area.area for area in action.areas)
    return own | (_need_areas(need) if need is not None else frozenset())


def _texts(plan: Plan) -> PlanTexts:
    return PlanTexts(
        why=plan.why,
        overall_responsibility=plan.overall_responsibility,
        child_views=plan.child_views,
        guardian_views=plan.guardian_views,
        disagreements=plan.disagreements,
        next_review_on=plan.next_review_on,
        status=plan.status,
        close_reason=plan.close_reason,
    )


def _need_line(
    need: Need, agencies: dict[int, str], *, own_agency_id: int | None, show_withheld_flag: bool
) -> NeedLine:
    return NeedLine(
        public_id=need.public_id,
        agency=agencies.get(need.agency_id),
        areas=_ordered(_need_areas(need)),
        description=need.description,
        strengths=need.strengths,
        getting_in_the_way=need.getting_in_the_way,
        goals=tuple(GoalLine(goal.outcome, goal.evidence) for goal in need.goals),
        is_own_agency=need.agency_id == own_agency_id,
        withheld_from_guardians=show_withheld_flag and need.is_withheld_from_guardians,
    )


def _action_line(
    loaded: _Loaded,
    action: Action,
    shown_need: Need | None,
    need: Need | None,
    *,
    own_agency_id: int | None,
    names: bool,
    show_withheld_flag: bool,
) -> ActionLine:
    return ActionLine(
        public_id=action.public_id,
        what=action.what,
        agency=loaded.agencies.get(action.owner_agency_id, ""),
        unit=loaded.units.get(action.owner_unit_id) if names and action.owner_unit_id is not None else None,
        person=loaded.people.get(action.owner_person_id) if names and action.owner_person_id is not None else None,
        starts_on=action.starts_on,
        due_on=action.due_on,
        status=action.status,
        stop_reason=action.stop_reason,
        progress_note=action.progress_note,
        areas=_ordered(_action_areas(action, need))
        if shown_need is not None
        else _ordered(_action_areas(action, None)),
        need_public_id=shown_need.public_id if shown_need is not None else None,
        need_description=shown_need.description if shown_need is not None else None,
        is_own_agency=action.owner_agency_id == own_agency_id,
        withheld_from_guardians=show_withheld_flag and action.is_withheld_from_guardians,
    )


def _keeper_contact(
    keeper: RoleAssignment, *, names: bool, show_agency: bool, switchboard: str | None
) -> KeeperContact:
    agency = keeper.agency.name if show_agency else None
    if not names:
        return KeeperContact(keeper.role, None, None, None, agency, switchboard=switchboard, withheld_reason=PROTECTED)
    person = keeper.staff_person
    return KeeperContact(keeper.role, person.full_name, person.phone, person.email, agency)


# -- scoped queries for the Plan tab (the view reaches the child's plan data only through these) -----------
def plan_of(access: ChildAccess) -> Plan | None:
    """The child's plan (one per child), for a viewer who reached the child through the access core."""
    return db.session.scalar(select(Plan).where(Plan.child_id == access.child.id))


def get_plan_or_404(access: ChildAccess, action: str, reason: str = "no_plan") -> Plan:
    """The child's plan; none is 404 with the refusal audited (``reason``)."""
    found = plan_of(access)
    if found is None:
        refuse_404(access, action, reason)
    return found


def get_active_plan_or_404(access: ChildAccess, action: str) -> Plan:
    """The child's plan while it is active; none, or a closed plan, is 404 with the refusal audited."""
    found = plan_of(access)
    if found is None or found.status != "active":
        refuse_404(access, action, "no_active_plan")
    return found


def get_keeper_or_404(access: ChildAccess, action: str) -> RoleAssignment:
    """The plan keeper's assignment when the actor who reached the child keeps the plan (acting for the
    assignment's agency); anyone else: 404, audited."""
    keeper = plan_keeper(access.child.id)
    if keeper is None or not is_keeper(access.actor, keeper):
        refuse_404(access, action, "not_plan_keeper")
    return keeper


def draft_actions_to_adopt(access: ChildAccess) -> list[MeetingDecision]:
    """The child's meeting decisions with an owner that no action of the plan has adopted yet (for the keeper,
    who may see the team's decisions), oldest first, with their owner agency loaded."""
    adopted = select(Action.decision_id).where(Action.decision_id.is_not(None), Action.child_id == access.child.id)
    return list(
        db.session.scalars(
            select(MeetingDecision)
            .where(
                MeetingDecision.child_id == access.child.id,
                MeetingDecision.owner_agency_id.is_not(None),
                MeetingDecision.adopted_at.is_(None),
                MeetingDecision.id.not_in(adopted),
            )
            .options(joinedload(MeetingDecision.owner_agency), raiseload("*"))
            .order_by(MeetingDecision.created_at, MeetingDecision.id)
        )
    )


def need_ids_of(plan: Plan) -> dict[str, int]:
    """The plan's needs, public id → id (the form offers only those the viewer's PlanView shows)."""
    rows = db.session.execute(select(Need.public_id, Need.id).where(Need.plan_id == plan.id))
    return {public_id: need_id for public_id, need_id in rows}


def need_of(access: ChildAccess, plan: Plan, public_id: str) -> Need | None:
    """A need looked up through its plan and child (nested objects always through their parent)."""
    return db.session.scalar(
        select(Need).where(Need.public_id == public_id, Need.plan_id == plan.id, Need.child_id == access.child.id)
    )


def decision_of(access: ChildAccess, public_id: str) -> MeetingDecision | None:
    """A meeting decision of this child, looked up through the child."""
    return db.session.scalar(
        select(MeetingDecision).where(
            MeetingDecision.public_id == public_id, MeetingDecision.child_id == access.child.id
        )
    )


def may_see_reviews(access: ChildAccess, plan: Plan) -> bool:
    """The plan's own agency, and the agencies that may know the others involved: an agency without consent
    sees only its own part of the plan, and a review (its dates, its trend) would tell it what else there is."""
    actor = access.actor
    own = actor.acting_agency is not None and plan.agency_id == actor.acting_agency.id
    return bool(own or may_know_other_agencies(access))


def reviews_listed(access: ChildAccess, plan: Plan) -> list[tuple[str, date]] | None:
    """The plan's reviews (public id, date), newest first, for the viewers ``may_see_reviews`` lets see them
    (each rating is decided on the review page); None for anyone else."""
    if not may_see_reviews(access, plan):
        return None

    rows = db.session.execute(
        select(Review.public_id, Review.held_on)
        .where(Review.plan_id == plan.id)
        .order_by(Review.held_on.desc(), Review.id.desc())
    )
    return [(public_id, held_on) for public_id, held_on in rows]


def agency_on_team(child_id: int, agency_id: int) -> bool:
    """Does the agency have a current member on the child's team? (one statement)"""
    return (
        db.session.scalar(
            select(TeamMember.id)
            .where(TeamMember.child_id == child_id, TeamMember.agency_id == agency_id, TeamMember.ended_at.is_(None))
            .limit(1)
        )
        is not None
    )


# -- who may change or reassign an action ----------------------------------------------------------------
ACTION_OWNER_BASIS = "relation_action_owner"
MAX_ID_LENGTH = 64


def action_change_basis(actor: Actor, action: Action) -> str | None:
    """The legal basis on which the actor may change the action (its status and progress), or None: the
    owner — the person, or a practitioner of the owning unit — acting for the owning agency
    (``ACTION_OWNER_BASIS``), or the plan keeper (the keeper's basis). The one place this is decided: the
    worklist lists and offers what it allows, the update route reaches the action through it and the
    operation takes the basis it gives."""
    acting = actor.acting_agency
    if actor.kind == STAFF and acting is not None and acting.id == action.owner_agency_id:
        units = {m.unit_id for m in actor.memberships if m.is_practitioner}
        if action.owner_person_id == actor.account.staff_person_id or action.owner_unit_id in units:
            return ACTION_OWNER_BASIS
    keeper = plan_keeper(action.child_id)
    if keeper is not None and is_keeper(actor, keeper):
        return KEEPER_BASES[keeper.role]
    return None


def may_reassign(actor: Actor, action: Action) -> bool:
    """An agency admin of the action's owner agency, acting for it (RULES.md §1: the agency admin reassigns its
    actions) — nobody else: neither the owner nor the plan keeper, who change the action itself."""
    acting = actor.acting_agency
    return (
        actor.kind == STAFF
        and acting is not None
        and acting.id == action.owner_agency_id
        and any(m.is_agency_admin and m.ended_at is None for m in actor.memberships)
    )


def load_action(public_id: str) -> Action | None:
    """One action by its public id, with what the worklist's row and the update need (no access check: the
    caller has reached it through ``get_action_or_404``)."""
    statement = (
        select(Action)
        .where(Action.public_id == public_id[:MAX_ID_LENGTH])
        .options(
            selectinload(Action.areas),
            selectinload(Action.need).selectinload(Need.areas),
            selectinload(Action.plan),
            selectinload(Action.owner_person),
        )
    )
    return db.session.scalar(statement)


def get_action_or_404(actor: Actor, public_id: str, to: Literal["change", "reassign"]) -> tuple[Action, str]:
    """The action, and the legal basis on which this actor may change it (``action_change_basis``) or
    reassign it (``may_reassign``: the agency admin's basis). Anything else — no such action, or one this
    actor may not change or reassign — is 404, with the refusal audited (the id as given, cut to length;
    the reason only in the audit)."""
    action = load_action(public_id or "")
    if to == "change":
        audit_action, reason = "update_plan_action", "not_owner_or_keeper"
        basis = action_change_basis(actor, action) if action is not None else None
    else:
        audit_action, reason = "reassign_plan_action", "not_agency_admin"
        basis = AGENCY_ADMIN_DECIDES if action is not None and may_reassign(actor, action) else None
    if action is None or basis is None:
        audit.note_denied(
            actor.audit_actor(),
            audit_action,
            child_id=action.child_id if action is not None else None,
            object_type="plan_action",
            object_id=(public_id or "")[:MAX_ID_LENGTH],
            detail={"reason": "unknown" if action is None else reason},
        )
        abort(404)
    return action, basis


# -- reviews ------------------------------------------------------------------------------------------------
def get_review_or_404(access: ChildAccess, review_id: str, action: str) -> tuple[Plan, ReviewView]:
    """The child's plan and one of its reviews as this member of staff may see it, looked up by its public
    id among the plan's reviews; 404 (audited) when the child has no plan, the viewer may not see the plan's
    reviews (the Plan tab does not list them to it either) or the plan has no such review."""
    plan = get_plan_or_404(access, action)
    if not may_see_reviews(access, plan):
        refuse_404(access, action, "reviews_not_for_this_agency")
    view = ReviewView.for_actor(access, plan, review_id[:MAX_ID_LENGTH])
    if view is None:
        audit.note_denied(
            access.actor.audit_actor(),
            action,
            child_id=access.child.id,
            object_type="plan_review",
            object_id=review_id[:MAX_ID_LENGTH],
            detail={"reason": "not_found"},
        )
        abort(404)
    return plan, view


def may_add_ratings(access: ChildAccess, plan: Plan) -> bool:
    """Staff with a relation, of an agency with a current member on the child's team, on an active plan."""
    acting = access.actor.acting_agency
    return (
        plan.status == "active"
        and bool(access.relations)
        and acting is not None
        and agency_on_team(access.child.id, acting.id)
    )


# -- published versions -----------------------------------------------------------------------------------
def get_versions_or_404(access: ChildAccess, from_id: str, to_id: str, action: str) -> tuple[PlanVersion, PlanVersion]:
    """Two published versions of the child's plan, by their public ids AND the plan (one statement); no
    plan, or either id not a version of it, is 404 with the refusal audited."""
    the_plan = plan_of(access)
    if the_plan is None or len(from_id) > MAX_ID_LENGTH or len(to_id) > MAX_ID_LENGTH:
        refuse_404(access, action, "no_such_version")
    found = {
        version.public_id: version
        for version in db.session.scalars(
            select(PlanVersion).where(PlanVersion.plan_id == the_plan.id, PlanVersion.public_id.in_({from_id, to_id}))
        )
    }
    if from_id not in found or to_id not in found:
        refuse_404(access, action, "no_such_version")
    return found[from_id], found[to_id]


def get_version_or_404(access: ChildAccess, version_id: str, action: str) -> PlanVersion:
    """One published version of the child's plan, by its public id AND the plan (one statement); no plan, or
    an id that is not a version of it, is 404 with the refusal audited (as ``get_versions_or_404``)."""
    the_plan = plan_of(access)
    if the_plan is None or len(version_id) > MAX_ID_LENGTH:
        refuse_404(access, action, "no_such_version")
    version = db.session.scalar(
        select(PlanVersion).where(PlanVersion.plan_id == the_plan.id, PlanVersion.public_id == version_id)
    )
    if version is None:
        refuse_404(access, action, "no_such_version")
    return version
