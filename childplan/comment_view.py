"""The family's comments on the Child's Plan and their acknowledgements of its published versions, as one
member of staff may see them (RULES.md §4, §7).

- A comment on an item (a need, an action) is free text that inherits the item's agency and Needs Compass
  areas: it is shown to a viewer who may see such an item now (``may_see_item`` for coordination, with the
  item's areas as ``PlanView`` computes them — an action's own areas and its need's).
- A plan-level comment goes to the plan keeper only (the Support Coordinator, otherwise the Child Contact,
  acting for that assignment's agency), and then as the plan-level texts are decided: the plan's agency's
  record in every area.
- The author is "a guardian" or "the young person"; a guardian's name only where protected details may be
  shown (RULES.md §7: not outside the team of a child with protected identity, nor of a guardian with a
  restriction), never their contact details.
- Who has read and agreed to each published version is for the plan keeper.

Everything here is computed for today (a withdrawn consent counts on the next request), in a fixed number
of statements however many comments there are, and held as plain values — never an ORM object."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Exists, Select, and_, exists, func, literal, or_, select, union_all

from childplan.compass import AREA_CODES
from childplan.models import Action, ActionArea, Need, NeedArea, Plan, PlanComment, PlanVersion, VersionAcknowledgement
from coordination.access import (
    KEEPER_BASES,
    STAFF,
    TEAM_RELATIONS,
    ChildAccess,
    Decision,
    is_keeper,
    may_see_item,
    plan_keeper,
    sees_protected_details,
)
from coordination.children.models import Custody, Guardian, RoleAssignment
from coordination.database import db

PURPOSE = "coordination"
ALL_AREAS: frozenset[str] = frozenset(AREA_CODES)
PLAN_LEVEL = "plan"
NEED = "need"
ACTION = "action"
GUARDIAN_AUTHOR = "guardian"
YOUNG_PERSON_AUTHOR = "young_person"
KEEPER_ONLY = "plan_keeper_only"

AUTHOR_LABELS = {GUARDIAN_AUTHOR: _l("A guardian"), YOUNG_PERSON_AUTHOR: _l("The young person")}


# -- deciding one comment ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CommentFacts:
    """What deciding one comment needs: whose record it inherits and the areas of its item now."""

    public_id: str
    child_id: int
    agency_id: int
    item_kind: str  # PLAN_LEVEL, NEED or ACTION
    areas: frozenset[str]


def may_see_comment(access: ChildAccess, facts: CommentFacts, *, keeps_the_plan: bool) -> Decision:
    """May this member of staff read the comment? An item's comment as the item itself; a plan-level one
    only the plan keeper, as the plan-level texts."""
    if facts.item_kind == PLAN_LEVEL:
        if not keeps_the_plan:
            return Decision(False, KEEPER_ONLY)
        return may_see_item(access, facts.agency_id, PURPOSE, ALL_AREAS)
    return may_see_item(access, facts.agency_id, PURPOSE, facts.areas)


def _item_kind(need_id: int | None, action_id: int | None) -> str:
    if need_id is not None:
        return NEED
    return ACTION if action_id is not None else PLAN_LEVEL


def item_areas(need_ids: Iterable[int], action_ids: Iterable[int]) -> tuple[dict[int, set[str]], dict[int, set[str]]]:
    """The Needs Compass areas of some needs and actions now — an action's own and those of the need it
    serves — in one statement (none when there are no items)."""
    needs, actions = sorted(set(need_ids)), sorted(set(action_ids))
    found_needs: dict[int, set[str]] = {need_id: set() for need_id in needs}
    found_actions: dict[int, set[str]] = {action_id: set() for action_id in actions}
    if not needs and not actions:
        return found_needs, found_actions
    parts: list[Select[tuple[str, int, str]]] = [
        select(literal(NEED).label("kind"), NeedArea.need_id.label("item_id"), NeedArea.area.label("area")).where(
            NeedArea.need_id.in_(needs)
        ),
        select(literal(ACTION), ActionArea.action_id, ActionArea.area).where(ActionArea.action_id.in_(actions)),
        select(literal(ACTION), Action.id, NeedArea.area)
        .join(NeedArea, NeedArea.need_id == Action.need_id)
        .where(Action.id.in_(actions)),
    ]
    combined = union_all(*parts).subquery()
    for kind, item_id, area in db.session.execute(select(combined.c.kind, combined.c.item_id, combined.c.area)):
        (found_needs if kind == NEED else found_actions).setdefault(item_id, set()).add(area)
    return found_needs, found_actions


def _areas_of(
    need_id: int | None, action_id: int | None, areas: tuple[dict[int, set[str]], dict[int, set[str]]]
) -> frozenset[str]:
    if need_id is not None:
        return frozenset(areas[0].get(need_id, ()))
    if action_id is not None:
        return frozenset(areas[1].get(action_id, ()))
    return ALL_AREAS


def comment_facts(public_ids: Iterable[str]) -> dict[str, CommentFacts]:
    """The facts of some comments by public id (the inbox decides its items with them): two statements."""
    wanted = sorted(set(public_ids))
    if not wanted:
        return {}
    rows = db.session.execute(
        select(
            PlanComment.public_id,
            PlanComment.need_id,
            PlanComment.action_id,
            func.coalesce(PlanComment.agency_id, Plan.agency_id),
            Plan.child_id,
        )
        .join(Plan, Plan.id == PlanComment.plan_id)
        .where(PlanComment.public_id.in_(wanted))
    ).all()
    areas = item_areas([row[1] for row in rows if row[1] is not None], [row[2] for row in rows if row[2] is not None])
    return {
        public_id: CommentFacts(
            public_id, child_id, agency_id, _item_kind(need_id, action_id), _areas_of(need_id, action_id, areas)
        )
        for public_id, need_id, action_id, agency_id, child_id in rows
    }


def keepers_of(child_ids: Iterable[int]) -> dict[int, RoleAssignment]:
    """The plan keeper of each child (the Support Coordinator, otherwise the Child Contact): one statement."""
    wanted = sorted(set(child_ids))
    if not wanted:
        return {}
    found: dict[int, RoleAssignment] = {}
    for assignment in db.session.scalars(
        select(RoleAssignment)
        .where(
            RoleAssignment.child_id.in_(wanted),
            RoleAssignment.ended_at.is_(None),
            RoleAssignment.role.in_(tuple(KEEPER_BASES)),
        )
        .order_by(RoleAssignment.id)
    ):
        current = found.get(assignment.child_id)
        if current is None or (current.role != "support_coordinator" and assignment.role == "support_coordinator"):
            found[assignment.child_id] = assignment
    return found


# -- the Plan tab --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CommentLine:
    public_id: str
    created_at: datetime
    author_kind: str  # GUARDIAN_AUTHOR or YOUNG_PERSON_AUTHOR
    author_name: str | None  # a guardian's name where the viewer may see it
    item_kind: str  # PLAN_LEVEL, NEED or ACTION
    item_text: str | None  # the need's description or the action's what
    areas: tuple[str, ...]
    version_number: int | None
    text: str

    @property
    def author_label(self) -> object:
        return AUTHOR_LABELS[self.author_kind]


@dataclass(frozen=True)
class ReaderLine:
    author_kind: str
    author_name: str | None
    has_agreed: bool
    read_at: datetime

    @property
    def author_label(self) -> object:
        return AUTHOR_LABELS[self.author_kind]


@dataclass(frozen=True)
class VersionReaders:
    """One published version and who in the family has read it, and whether they agreed."""

    public_id: str
    number: int
    published_at: datetime
    readers: tuple[ReaderLine, ...]


def _keeps_the_plan(access: ChildAccess, keeps_the_plan: bool | None) -> bool:
    if keeps_the_plan is not None:
        return keeps_the_plan
    return is_keeper(access.actor, plan_keeper(access.child.id))


def _restricted(plan: Plan) -> Exists:
    """SQL: the guardian of the row has a current custody of the plan's child with a restriction."""
    return exists().where(
        Custody.child_id == plan.child_id,
        Custody.guardian_id == Guardian.id,
        Custody.ended_at.is_(None),
        Custody.is_restricted.is_(True),
    )


def _names_shown(access: ChildAccess) -> tuple[bool, bool]:
    """(names at all, names of a restricted guardian): RULES.md §7, protected details stay in the team."""
    in_team = any(access.has_relation(name) for name in TEAM_RELATIONS)
    return sees_protected_details(access), in_team


def _guardian_name(given: str | None, family: str | None, restricted: bool, names: tuple[bool, bool]) -> str | None:
    shown, in_team = names
    if given is None or not shown or (restricted and not in_team):
        return None
    return f"{given} {family}"


def _ordered(codes: frozenset[str]) -> tuple[str, ...]:
    return tuple(code for code in AREA_CODES if code in codes)


def comments_for_actor(access: ChildAccess, plan: Plan, *, keeps_the_plan: bool | None = None) -> list[CommentLine]:
    """The family's comments on the plan that this member of staff may read now, newest first: two
    statements (three when the caller does not say whether the viewer keeps the plan)."""
    actor = access.actor
    if actor.kind != STAFF or actor.acting_agency is None or not access.relations or plan.child_id != access.child.id:
        return []
    keeps = _keeps_the_plan(access, keeps_the_plan)
    rows = db.session.execute(
        select(
            PlanComment.public_id,
            PlanComment.created_at,
            PlanComment.text,
            PlanComment.need_id,
            PlanComment.action_id,
            func.coalesce(PlanComment.agency_id, Plan.agency_id),
            PlanComment.is_young_person,
            Guardian.given_name,
            Guardian.family_name,
            _restricted(plan),
            Need.description,
            Action.what,
            PlanVersion.number,
        )
        .join(Plan, Plan.id == PlanComment.plan_id)
        .outerjoin(Guardian, Guardian.id == PlanComment.guardian_id)
        .outerjoin(Need, Need.id == PlanComment.need_id)
        .outerjoin(Action, Action.id == PlanComment.action_id)
        .outerjoin(PlanVersion, PlanVersion.id == PlanComment.version_id)
        .where(
            PlanComment.plan_id == plan.id,
            or_(PlanComment.guardian_id.is_not(None), PlanComment.is_young_person.is_(True)),
        )
        .order_by(PlanComment.created_at.desc(), PlanComment.id.desc())
    ).all()
    if not rows:
        return []
    areas = item_areas([row[3] for row in rows if row[3] is not None], [row[4] for row in rows if row[4] is not None])
    names = _names_shown(access)
    lines = []
    for (
        public_id,
        created_at,
        text,
        need_id,
        action_id,
        agency_id,
        is_young_person,
        given,
        family,
        restricted,
        description,
        what,
        number,
    ) in rows:
        facts = CommentFacts(
            public_id, plan.child_id, agency_id, _item_kind(need_id, action_id), _areas_of(need_id, action_id, areas)
        )
        if not may_see_comment(access, facts, keeps_the_plan=keeps):
            continue
        lines.append(
            CommentLine(
                public_id=public_id,
                created_at=created_at,
                author_kind=YOUNG_PERSON_AUTHOR if is_young_person else GUARDIAN_AUTHOR,
                author_name=None if is_young_person else _guardian_name(given, family, bool(restricted), names),
                item_kind=facts.item_kind,
                item_text=description if need_id is not None else what,
                areas=() if facts.item_kind == PLAN_LEVEL else _ordered(facts.areas),
                version_number=number,
                text=text,
            )
        )
    return lines


def acknowledgements_for_actor(
    access: ChildAccess, plan: Plan, *, keeps_the_plan: bool | None = None
) -> list[VersionReaders] | None:
    """For the plan keeper (who may see the plan-level texts): each published version, newest first, with
    who in the family has read it and whether they agreed — one statement. None for anyone else."""
    actor = access.actor
    if actor.kind != STAFF or actor.acting_agency is None or not access.relations or plan.child_id != access.child.id:
        return None
    if not _keeps_the_plan(access, keeps_the_plan) or not may_see_item(access, plan.agency_id, PURPOSE, ALL_AREAS):
        return None
    rows = db.session.execute(
        select(
            PlanVersion.public_id,
            PlanVersion.number,
            PlanVersion.published_at,
            VersionAcknowledgement.id,
            VersionAcknowledgement.is_young_person,
            VersionAcknowledgement.has_agreed,
            VersionAcknowledgement.read_at,
            Guardian.given_name,
            Guardian.family_name,
            and_(VersionAcknowledgement.guardian_id.is_not(None), _restricted(plan)),
        )
        .outerjoin(VersionAcknowledgement, VersionAcknowledgement.version_id == PlanVersion.id)
        .outerjoin(Guardian, Guardian.id == VersionAcknowledgement.guardian_id)
        .where(PlanVersion.plan_id == plan.id)
        .order_by(PlanVersion.number.desc(), VersionAcknowledgement.read_at, VersionAcknowledgement.id)
    ).all()
    names = _names_shown(access)
    versions: dict[str, tuple[int, datetime, list[ReaderLine]]] = {}
    for public_id, number, published_at, ack_id, young, agreed, read_at, given, family, restricted in rows:
        _number, _published, readers = versions.setdefault(public_id, (number, published_at, []))
        if ack_id is None:
            continue
        readers.append(
            ReaderLine(
                author_kind=YOUNG_PERSON_AUTHOR if young else GUARDIAN_AUTHOR,
                author_name=None if young else _guardian_name(given, family, bool(restricted), names),
                has_agreed=bool(agreed),
                read_at=read_at,
            )
        )
    return [
        VersionReaders(public_id, number, published_at, tuple(readers))
        for public_id, (number, published_at, readers) in versions.items()
    ]
