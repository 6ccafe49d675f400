"""The worklist's scoped queries and view model: the plan actions a staff member (or their unit) owns
across children, and for agency admins every action their agency owns — nothing of any other agency
(RULES.md §2).

"Mine" means: owned by the acting agency AND either assigned to me as the person, or owned by one of the
units I am a practitioner of — whoever the person on a unit's action is (no person set, or a colleague):
the unit's practitioners may change its actions (childplan.operations.update_action), so they see them.

Each list is a fixed number of SQL statements whatever its length: the count, one page of actions joined
to their child, and the areas (the action's and its need's) loaded in bulk; everything else raises.
Open actions (planned, in progress) come first — overdue (oldest due first), then due in the next
14 days, then the rest — and done / stopped actions only when the status filter asks for them.

The agency view also shows each action's unit and person and, for open actions, a form to reassign them
(childplan.operations.actions.reassign_action): the agency's units and active practitioners, the choices
of every row, are loaded once per page (``ReassignChoices``), so the page stays a fixed number of statements.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from flask import url_for
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext, ngettext
from sqlalchemy import Select, and_, case, exists, false, func, or_, select, union
from sqlalchemy.orm import raiseload, selectinload

from agencies.models import Membership, StaffPerson, Unit
from childplan.access import may_reassign
from childplan.compass import AREA_CODES, AREAS
from childplan.labels import STATUS_LABELS
from childplan.models import ACTION_STATUSES, Action, ActionArea, Need, NeedArea
from childplan.operations.actions import REASSIGNABLE_STATUSES
from coordination.access import RELATIONS, Actor
from coordination.children.models import Child, age_in_years
from coordination.clock import today
from coordination.consent.view import AreaChip, area_chips
from coordination.database import db
from coordination.paging import Page, paginate

OPEN_STATUSES: tuple[str, ...] = ("planned", "in_progress")
DUE_SOON_DAYS = 14
CHILD_SEARCH_MAX = 100

STATUS_FILTERS: dict[str, object] = {
    "open": _l("Open (planned or in progress)"),
    "planned": lazy_pgettext("action status", "Planned"),
    "in_progress": _l("In progress"),
    "done": _l("Done"),
    "stopped": _l("Stopped"),
    "all": _l("All"),
}
DUE_FILTERS: dict[str, object] = {
    "all": _l("Any due date"),
    "overdue": _l("Overdue"),
    "soon": _l("Due in the next 14 days"),
}
VIEWS = ("mine", "agency")
FILTER_KEYS = ("view", "status", "due", "child", "area")


@dataclass(frozen=True)
class Filters:
    view: str = "mine"
    status: str = "open"
    due: str = "all"
    child: str = ""
    area: str = ""

    @classmethod
    def from_args(cls, args: Mapping[str, str], may_see_agency: bool) -> Filters:
        """Unknown values fall back to the defaults (a filter never fails)."""
        view = args.get("view", "mine")
        status = args.get("status", "open")
        due = args.get("due", "all")
        area = args.get("area", "")
        return cls(
            view=view if view in VIEWS and (view == "mine" or may_see_agency) else "mine",
            status=status if status in STATUS_FILTERS else "open",
            due=due if due in DUE_FILTERS else "all",
            child=" ".join(args.get("child", "").split())[:CHILD_SEARCH_MAX],
            area=area if area in AREA_CODES else "",
        )

    def as_args(self) -> dict[str, str]:
        """The filters that differ from the defaults (for links that keep them)."""
        defaults = Filters()
        return {key: getattr(self, key) for key in FILTER_KEYS if getattr(self, key) != getattr(defaults, key)}


def _owned_by_me(actor: Actor) -> Any:
    assert actor.acting_agency is not None
    unit_ids = [m.unit_id for m in actor.memberships if m.is_practitioner]
    mine = Action.owner_person_id == actor.account.staff_person_id
    return and_(
        Action.owner_agency_id == actor.acting_agency.id,
        or_(mine, Action.owner_unit_id.in_(unit_ids)) if unit_ids else mine,
    )


def actions_statement(actor: Actor, filters: Filters) -> Select[tuple[Action]]:
    """The actor's worklist (or, for an agency admin asking for it, the agency's), filtered and ordered."""
    if actor.kind != "staff" or actor.acting_agency is None:
        return select(Action).where(false())
    if filters.view == "agency" and actor.is_agency_admin:
        scope = Action.owner_agency_id == actor.acting_agency.id
    else:
        scope = _owned_by_me(actor)
    day = today()
    soon = day + timedelta(days=DUE_SOON_DAYS)
    statement = select(Action).join(Child, Child.id == Action.child_id).where(scope)
    if filters.status == "open":
        statement = statement.where(Action.status.in_(OPEN_STATUSES))
    elif filters.status in ACTION_STATUSES:
        statement = statement.where(Action.status == filters.status)
    if filters.due == "overdue":
        statement = statement.where(Action.status.in_(OPEN_STATUSES), Action.due_on < day)
    elif filters.due == "soon":
        statement = statement.where(Action.status.in_(OPEN_STATUSES), Action.due_on >= day, Action.due_on <= soon)
    if filters.child:
        pattern = "%" + filters.child.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        full_name = func.lower(Child.given_name + " " + Child.family_name)
        statement = statement.where(full_name.like(pattern, escape="\\"))
    if filters.area and filters.view != "agency":
        own = exists().where(ActionArea.action_id == Action.id, ActionArea.area == filters.area)
        # the need's areas only when the need is the action's own agency's record (RULES.md §4)
        of_need = exists().where(
            NeedArea.need_id == Action.need_id,
            NeedArea.area == filters.area,
            Need.id == Action.need_id,
            Need.agency_id == Action.owner_agency_id,
        )
        statement = statement.where(or_(own, of_need))
    is_open = Action.status.in_(OPEN_STATUSES)
    bucket = case(
        (and_(is_open, Action.due_on < day), 0),
        (and_(is_open, Action.due_on <= soon), 1),
        (is_open, 2),
        else_=3,
    )
    return statement.order_by(bucket, Action.due_on.is_(None), Action.due_on, Child.family_name, Action.id)


def _load_options(with_areas: bool) -> list[Any]:
    options: list[Any] = []
    if with_areas:
        options += [selectinload(Action.areas), selectinload(Action.need).selectinload(Need.areas)]
    else:  # the agency view names each action's person (its unit comes from the page's ReassignChoices)
        options.append(selectinload(Action.owner_person))
    options.append(raiseload("*"))
    return options


@dataclass(frozen=True)
class OwnerChoice:
    """A unit or a person the agency admin may give an action to (addressed by its public id)."""

    id: int
    public_id: str
    label: str


@dataclass(frozen=True)
class ReassignChoices:
    """The acting agency's units and its active practitioners (each with their units), for every row's
    reassign form: two statements per page, whatever the number of rows."""

    units: tuple[OwnerChoice, ...]
    people: tuple[OwnerChoice, ...]

    def unit_name(self, unit_id: int | None) -> str | None:
        return next((unit.label for unit in self.units if unit.id == unit_id), None)

    def unit_public_id(self, unit_id: int | None) -> str:
        return next((unit.public_id for unit in self.units if unit.id == unit_id), "")

    def person_public_id(self, person_id: int | None) -> str:
        return next((person.public_id for person in self.people if person.id == person_id), "")


def reassign_choices(actor: Actor) -> ReassignChoices:
    if not actor.is_agency_admin or actor.acting_agency is None:
        return ReassignChoices(units=(), people=())
    agency_id = actor.acting_agency.id
    units = tuple(
        OwnerChoice(unit.id, unit.public_id, unit.name)
        for unit in db.session.scalars(select(Unit).where(Unit.agency_id == agency_id).order_by(Unit.name, Unit.id))
    )
    rows = db.session.execute(
        select(StaffPerson.id, StaffPerson.public_id, StaffPerson.given_name, StaffPerson.family_name, Unit.name)
        .join(Membership, Membership.staff_person_id == StaffPerson.id)
        .join(Unit, Unit.id == Membership.unit_id)
        .where(
            Membership.agency_id == agency_id,
            Membership.is_practitioner.is_(True),
            Membership.ended_at.is_(None),
            StaffPerson.is_active.is_(True),
        )
        .order_by(StaffPerson.family_name, StaffPerson.given_name, StaffPerson.id, Unit.name)
    ).all()
    people: dict[int, tuple[str, str, list[str]]] = {}
    for person_id, public_id, given_name, family_name, unit_name in rows:
        people.setdefault(person_id, (public_id, f"{given_name} {family_name}", []))[2].append(unit_name)
    return ReassignChoices(
        units=units,
        people=tuple(
            OwnerChoice(person_id, public_id, f"{name} ({', '.join(unit_names)})")
            for person_id, (public_id, name, unit_names) in people.items()
        ),
    )


def owner_ids(unit_public_id: str, person_public_id: str) -> tuple[int | None, int | None, dict[str, str]]:
    """The unit and person a reassign form names, by their public ids (empty: none). Any unit or person
    the platform knows is passed on, so the operation says why one of another agency cannot own the action;
    an unknown id is refused here ("owner_unit" / "owner_person" → its message)."""
    unit_id = person_id = None
    unknown: dict[str, str] = {}
    if unit_public_id:
        unit_id = db.session.scalar(select(Unit.id).where(Unit.public_id == unit_public_id[:64]))
        if unit_id is None:
            unknown["owner_unit"] = str(_l("Choose a unit from the list"))
    if person_public_id:
        person_id = db.session.scalar(select(StaffPerson.id).where(StaffPerson.public_id == person_public_id[:64]))
        if person_id is None:
            unknown["owner_person"] = str(_l("Choose a person from the list"))
    return unit_id, person_id, unknown


@dataclass(frozen=True)
class WorklistRow:
    """One action, as the worklist shows it to its owner (areas, progress note, the inline form) or to the
    agency admin (child, action, dates, status only)."""

    public_id: str
    version: int
    child_public_id: str
    child_name: str
    child_age: int | None
    what: str
    areas: tuple[AreaChip, ...]
    starts_on: date | None
    due_on: date | None
    due_words: str | None
    is_overdue: bool
    status: str
    status_label: object
    stop_reason: str | None
    progress_note: str | None
    is_owner_view: bool
    # the agency view: who owns the action inside the agency, and whether the admin may reassign it
    owner_unit_name: str | None = None
    owner_person_name: str | None = None
    owner_unit_public_id: str = ""
    owner_person_public_id: str = ""
    owner_withheld: bool = False  # a protected child, and the admin is not on its team
    may_reassign: bool = False
    child_id: int | None = None  # for the audit trail only; never shown

    @property
    def child_url(self) -> str:
        return url_for("children.overview", child_id=self.child_public_id)


def due_words(status: str, due_on: date | None, day: date) -> str | None:
    if due_on is None or status not in OPEN_STATUSES:
        return None
    days = (due_on - day).days
    if days < 0:
        return ngettext("%(num)s day overdue", "%(num)s days overdue", -days)
    if days == 0:
        return str(_l("due today"))
    return ngettext("due in %(num)s day", "due in %(num)s days", days)


def children_of(actions: Sequence[Action]) -> dict[int, Child]:
    """The actions' children in one statement (an action has no relationship to its child)."""
    ids = {action.child_id for action in actions}
    if not ids:
        return {}
    return {child.id: child for child in db.session.scalars(select(Child).where(Child.id.in_(ids)))}


def _shown_areas(action: Action) -> frozenset[str]:
    """The action's own areas, and its need's when the need is the owner agency's own record: another
    agency's need is not the owner's to see unless consent covers it (the Plan tab decides that)."""
    own = frozenset(area.area for area in action.areas)
    if action.need is not None and action.need.agency_id == action.owner_agency_id:
        own |= frozenset(area.area for area in action.need.areas)
    return own


def row_for(action: Action, child: Child, owner_view: bool) -> WorklistRow:
    day = today()
    return WorklistRow(
        child_id=child.id,
        public_id=action.public_id,
        version=action.version,
        child_public_id=child.public_id,
        child_name=child.full_name,
        child_age=age_in_years(child.birth_date, day),
        what=action.what,
        areas=area_chips(_shown_areas(action)) if owner_view else (),
        starts_on=action.starts_on,
        due_on=action.due_on,
        due_words=due_words(action.status, action.due_on, day),
        is_overdue=action.status in OPEN_STATUSES and action.due_on is not None and action.due_on < day,
        status=action.status,
        status_label=STATUS_LABELS[action.status],
        stop_reason=action.stop_reason if owner_view else None,
        progress_note=action.progress_note if owner_view else None,
        is_owner_view=owner_view,
    )


TEAM_RELATIONS = ("child_contact", "support_coordinator", "team_member")


def team_child_ids(actor: Actor, children: Mapping[int, Child]) -> set[int]:
    """Of these children, the protected ones whose team (RULES.md §7: the Child Contact, the Support
    Coordinator, the current members) the actor is in, acting for this agency: one statement per page."""
    if not children:
        return set()
    protected = [child_id for child_id, child in children.items() if child.has_protected_identity]
    team = union(*(relation.child_ids(actor) for relation in RELATIONS if relation.name in TEAM_RELATIONS)).subquery()
    child_id = team.c[0]
    return set(db.session.scalars(select(child_id).where(child_id.in_(protected))))


def agency_row_for(
    actor: Actor, action: Action, child: Child, choices: ReassignChoices, in_team: bool = False
) -> WorklistRow:
    """A row of the agency view: child, action, dates and status (RULES.md §2), with the action's unit and
    person inside the agency and whether the admin may reassign it. For a protected child the unit and the
    person are withheld from an admin outside the child's team (RULES.md §7): the row says so and the
    reassign form chooses nothing beforehand; the admin may still give the action to someone."""
    withheld = child.has_protected_identity and not in_team
    person = action.owner_person
    return replace(
        row_for(action, child, owner_view=False),
        owner_withheld=withheld,
        owner_unit_name=None if withheld else choices.unit_name(action.owner_unit_id),
        owner_person_name=None if withheld or person is None else person.full_name,
        owner_unit_public_id="" if withheld else choices.unit_public_id(action.owner_unit_id),
        owner_person_public_id="" if withheld else choices.person_public_id(action.owner_person_id),
        may_reassign=action.status in REASSIGNABLE_STATUSES and may_reassign(actor, action),
    )


@dataclass(frozen=True)
class Worklist:
    filters: Filters
    page: Page[Any]
    rows: tuple[WorklistRow, ...]
    may_see_agency: bool
    choices: ReassignChoices

    @property
    def is_agency_view(self) -> bool:
        return self.filters.view == "agency"

    @property
    def areas(self) -> tuple[Any, ...]:
        return AREAS


def build_worklist(actor: Actor, args: Mapping[str, str], page_number: int) -> Worklist:
    may_see_agency = actor.is_agency_admin
    filters = Filters.from_args(args, may_see_agency)
    owner_view = filters.view == "mine"
    page = paginate(actions_statement(actor, filters), page_number, options=_load_options(owner_view))
    children = children_of(page.items)
    if owner_view:
        choices = ReassignChoices(units=(), people=())
        rows = tuple(row_for(action, children[action.child_id], owner_view) for action in page.items)
    else:
        choices = reassign_choices(actor)
        in_team = team_child_ids(actor, children)
        rows = tuple(
            agency_row_for(actor, action, children[action.child_id], choices, action.child_id in in_team)
            for action in page.items
        )
    return Worklist(filters=filters, page=page, rows=rows, may_see_agency=may_see_agency, choices=choices)
