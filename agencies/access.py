"""What administrators may reach (RULES.md §1, §2, §10): the platform admin's staff and agency lists
(no child data, never a child's name) and the agency admin's lists of its own agency's children.

Every list is a ``Select`` scoped in SQL to what the actor may see — the platform admin to staff and
agencies, the agency admin to the acting agency — and selects nothing for anyone else (deny by
default). Views page them with ``paginate`` and never build their own child queries. A single object
is reached with ``…_or_none`` through the same scoped query, so a view's 404 is the same answer for
"unknown" and "not yours".

Loader options live beside the queries (``*_LOADING``): a page's statement count must not grow with
its rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import abort
from sqlalchemy import ColumnElement, Exists, Select, exists, false, func, literal, or_, select
from sqlalchemy.orm import contains_eager, joinedload, selectinload
from sqlalchemy.orm.interfaces import ORMOption

from agencies.models import Agency, Membership, StaffPerson, Unit
from coordination import audit
from coordination.children.models import Child, Enrolment, RoleAssignment
from coordination.database import db
from coordination.models import Account
from coordination.paging import Page, page_number  # noqa: F401 (agencies.views pages through here)
from coordination.paging import paginate as shared_paginate

PAGE_SIZE = 25
MAX_SEARCH_LENGTH = 100
MAX_PUBLIC_ID_LENGTH = 64  # longer than any public id we make; anything longer is unknown
CHILD_CONTACT = "child_contact"
SUPPORT_COORDINATOR = "support_coordinator"

T = TypeVar("T")


# -- who is who -----------------------------------------------------------------------------------
def is_platform_admin(actor: Any) -> bool:
    return actor is not None and actor.kind == "platform_admin"


def is_agency_admin(actor: Any) -> bool:
    """Staff whose acting membership (in the acting agency) holds the agency admin role."""
    return (
        actor is not None
        and actor.kind == "staff"
        and actor.acting_agency is not None
        and any(membership.is_agency_admin and membership.ended_at is None for membership in actor.memberships)
    )


def _agency_id(actor: Any) -> int | None:
    return actor.acting_agency.id if is_agency_admin(actor) else None


def _usable_id(public_id: str | None) -> bool:
    return bool(public_id) and len(public_id or "") <= MAX_PUBLIC_ID_LENGTH and "\x00" not in (public_id or "")


# -- paging: the shared helper, with the agency pages' size ------------------------------------------
def paginate(
    statement: Select[tuple[T]], number: int, options: Sequence[ORMOption] = (), per_page: int = PAGE_SIZE
) -> Page[T]:
    return shared_paginate(statement, number, options, per_page)


def count(statement: Select[Any]) -> int:
    return db.session.scalar(select(func.count()).select_from(statement.order_by(None).subquery())) or 0


# -- platform admin: staff and agencies (no child data) -------------------------------------------
STAFF_LIST_LOADING: tuple[ORMOption, ...] = (
    selectinload(StaffPerson.memberships).options(joinedload(Membership.unit), joinedload(Membership.agency)),
)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def staff_people(actor: Any, search: str | None = None) -> Select[tuple[StaffPerson]]:
    """Every staff person, by family name then given name; ``search`` matches any part of the name
    (case-insensitive; SQLite folds only A–Z, so "åberg" finds "Åberg" only on PostgreSQL)."""
    statement = select(StaffPerson)
    if not is_platform_admin(actor):
        return statement.where(false())
    text = (search or "").strip()[:MAX_SEARCH_LENGTH]
    if text:
        pattern = f"%{_escape_like(text.lower())}%"
        full_name = StaffPerson.given_name + " " + StaffPerson.family_name
        statement = statement.where(
            or_(
                func.lower(full_name).like(pattern, escape="\\"), full_name.like(f"%{_escape_like(text)}%", escape="\\")
            )
        )
    return statement.order_by(func.lower(StaffPerson.family_name), func.lower(StaffPerson.given_name), StaffPerson.id)


def staff_person_or_none(actor: Any, public_id: str | None) -> StaffPerson | None:
    """One staff person with their memberships (units, agencies) and account, for the platform admin."""
    if not is_platform_admin(actor) or not _usable_id(public_id):
        return None
    return db.session.scalar(select(StaffPerson).where(StaffPerson.public_id == public_id).options(*STAFF_LIST_LOADING))


def get_staff_person_or_404(actor: Any, public_id: str) -> StaffPerson:
    """The staff person for the platform admin; anyone else, or an unknown id: 404, the refusal audited."""
    person = staff_person_or_none(actor, public_id)
    if person is None:
        audit.note_denied(
            actor.audit_actor(), "view_staff_person", object_type="staff_person", object_id=public_id[:64]
        )
        abort(404)
    return person


def staff_account(actor: Any, person: StaffPerson) -> Account | None:
    if not is_platform_admin(actor):
        return None
    return db.session.scalar(select(Account).where(Account.staff_person_id == person.id))


@dataclass(frozen=True)
class OpenRoles:
    """How many open roles a person holds for one agency: counts only, never which children."""

    agency_name: str
    child_contacts: int
    support_coordinators: int
    other_active_admins: int  # active agency admins of that agency other than the person


def open_roles_by_agency(actor: Any, person: StaffPerson) -> list[OpenRoles]:
    """What deactivating ``person`` leaves behind, per agency: counts of current Child Contact and
    Support Coordinator assignments, and whether someone else will see the "needs reassigning" list.
    Two statements; no child id leaves the database."""
    if not is_platform_admin(actor):
        return []
    rows = db.session.execute(
        select(Agency.id, Agency.name, RoleAssignment.role, func.count())
        .join(Agency, Agency.id == RoleAssignment.agency_id)
        .where(RoleAssignment.staff_person_id == person.id, RoleAssignment.ended_at.is_(None))
        .group_by(Agency.id, Agency.name, RoleAssignment.role)
        .order_by(Agency.name)
    ).all()
    if not rows:
        return []
    agency_ids = {row[0] for row in rows}
    admins: dict[int, int] = {
        agency_id: count
        for agency_id, count in db.session.execute(
            select(Membership.agency_id, func.count(func.distinct(Membership.staff_person_id)))
            .join(StaffPerson, StaffPerson.id == Membership.staff_person_id)
            .where(
                Membership.agency_id.in_(agency_ids),
                Membership.is_agency_admin.is_(True),
                Membership.ended_at.is_(None),
                StaffPerson.is_active.is_(True),
                StaffPerson.id != person.id,
            )
            .group_by(Membership.agency_id)
        )
    }
    result: dict[int, dict[str, Any]] = {}
    for agency_id, name, role, number in rows:
        entry = result.setdefault(agency_id, {"agency_name": name, CHILD_CONTACT: 0, SUPPORT_COORDINATOR: 0})
        entry[role] = number
    return [
        OpenRoles(
            agency_name=entry["agency_name"],
            child_contacts=entry[CHILD_CONTACT],
            support_coordinators=entry[SUPPORT_COORDINATOR],
            other_active_admins=admins.get(agency_id, 0),
        )
        for agency_id, entry in result.items()
    ]


def agencies_with_units(actor: Any) -> Select[tuple[Agency]]:
    """Every agency with its units, by name (for the platform admin: no child data)."""
    statement = select(Agency).options(selectinload(Agency.units)).order_by(func.lower(Agency.name), Agency.id)
    if not is_platform_admin(actor):
        return statement.where(false())
    return statement


# -- agency admin: the acting agency's children and Child Contact duties ----------------------------
def agency_child_ids(actor: Any) -> Select[tuple[int]]:
    """The children of the acting agency: a current enrolment at one of its units."""
    agency_id = _agency_id(actor)
    if agency_id is None:
        return select(Enrolment.child_id).where(false())
    return (
        select(Enrolment.child_id)
        .join(Unit, Unit.id == Enrolment.unit_id)
        .where(Unit.agency_id == agency_id, Enrolment.ended_on.is_(None))
    )


def _has_current_child_contact() -> Exists:
    return exists().where(
        RoleAssignment.child_id == Child.id,
        RoleAssignment.role == CHILD_CONTACT,
        RoleAssignment.ended_at.is_(None),
    )


def agency_children_without_child_contact(actor: Any) -> Select[tuple[Child]]:
    """The agency's children that have no current Child Contact (in any agency), by name.

    Only name and age may be shown of them (RULES.md §2): the rows are ``Child`` objects, but the
    page shows nothing else."""
    if _agency_id(actor) is None:
        return select(Child).where(false())
    return (
        select(Child)
        .where(Child.id.in_(agency_child_ids(actor)), ~_has_current_child_contact())
        .order_by(func.lower(Child.family_name), func.lower(Child.given_name), Child.id)
    )


def agency_child_without_child_contact_or_none(actor: Any, public_id: str | None) -> Child | None:
    if not _usable_id(public_id):
        return None
    return db.session.scalar(agency_children_without_child_contact(actor).where(Child.public_id == public_id))


def agency_child_or_none(actor: Any, public_id: str | None) -> Child | None:
    """A child of the acting agency (with or without a Child Contact)."""
    if _agency_id(actor) is None or not _usable_id(public_id):
        return None
    return db.session.scalar(select(Child).where(Child.public_id == public_id, Child.id.in_(agency_child_ids(actor))))


def _holder_has_left(agency_id: int) -> ColumnElement[bool]:
    """The holder is deactivated, or no longer a current member of the agency."""
    current_member = exists().where(
        Membership.staff_person_id == RoleAssignment.staff_person_id,
        Membership.agency_id == agency_id,
        Membership.ended_at.is_(None),
    )
    return or_(StaffPerson.is_active.is_(False), ~current_member)


DUTY_LOADING: tuple[ORMOption, ...] = (
    contains_eager(RoleAssignment.child),
    contains_eager(RoleAssignment.staff_person),
)


def _duties(agency_id: int | None) -> Select[tuple[RoleAssignment]]:
    statement = (
        select(RoleAssignment)
        .join(Child, Child.id == RoleAssignment.child_id)
        .join(StaffPerson, StaffPerson.id == RoleAssignment.staff_person_id)
    )
    if agency_id is None:
        return statement.where(false())
    return statement.where(
        RoleAssignment.role == CHILD_CONTACT,
        RoleAssignment.ended_at.is_(None),
        RoleAssignment.agency_id == agency_id,
    ).order_by(func.lower(Child.family_name), func.lower(Child.given_name), Child.id)


def child_contact_duties_needing_reassignment(actor: Any) -> Select[tuple[RoleAssignment]]:
    """Current Child Contact duties held for the acting agency by someone who is deactivated or has
    left the agency: the "needs reassigning" list (RULES.md §10). Page with ``DUTY_LOADING``."""
    agency_id = _agency_id(actor)
    statement = _duties(agency_id)
    if agency_id is None:
        return statement
    return statement.where(_holder_has_left(agency_id))


def agency_child_contact_duties(actor: Any) -> Select[tuple[RoleAssignment]]:
    """Every current Child Contact duty held for the acting agency. Page with ``DUTY_LOADING``."""
    return _duties(_agency_id(actor))


def agency_child_contact_duty_or_none(actor: Any, child_public_id: str | None) -> RoleAssignment | None:
    """The current Child Contact duty the acting agency holds for one child (reached through the child)."""
    if not _usable_id(child_public_id):
        return None
    return db.session.scalar(
        agency_child_contact_duties(actor).where(Child.public_id == child_public_id).options(*DUTY_LOADING)
    )


def agency_assignable_members(actor: Any) -> Select[tuple[Membership]]:
    """Who may take a Child Contact duty: current practitioner memberships of active staff in the
    acting agency, by person and then unit name (``one_per_person`` keeps each person's first)."""
    agency_id = _agency_id(actor)
    statement = (
        select(Membership)
        .join(StaffPerson, StaffPerson.id == Membership.staff_person_id)
        .join(Unit, Unit.id == Membership.unit_id)
        .options(contains_eager(Membership.staff_person), contains_eager(Membership.unit))
    )
    if agency_id is None:
        return statement.where(false())
    return statement.where(
        Membership.agency_id == agency_id,
        Membership.ended_at.is_(None),
        Membership.is_practitioner.is_(True),
        StaffPerson.is_active.is_(True),
    ).order_by(
        func.lower(StaffPerson.family_name),
        func.lower(StaffPerson.given_name),
        StaffPerson.id,
        Unit.name,
        Membership.id,
    )


def one_per_person(memberships: Sequence[Membership]) -> list[Membership]:
    seen: set[int] = set()
    kept: list[Membership] = []
    for membership in memberships:
        if membership.staff_person_id not in seen:
            seen.add(membership.staff_person_id)
            kept.append(membership)
    return kept


def agency_assignable_member_or_none(actor: Any, staff_public_id: str | None) -> Membership | None:
    if not _usable_id(staff_public_id):
        return None
    return db.session.scalars(
        agency_assignable_members(actor).where(StaffPerson.public_id == staff_public_id).limit(1)
    ).first()


# -- what an agency or a unit still carries (ending them: RULES.md §1, issue 16) ----------------------
@dataclass(frozen=True)
class Responsibilities:
    """Counts of what keeps an agency or a unit open; never which children. Ending is refused while any
    is above zero."""

    memberships: int = 0  # current memberships of staff
    roles: int = 0  # current Child Contact and Support Coordinator roles held for the agency
    enrolments: int = 0  # children currently enrolled at the unit(s)
    open_actions: int = 0  # plan actions planned or in progress, owned by the agency or unit
    pending_links: int = 0  # requests to link the unit(s) to a child, not yet decided
    team_members: int = 0  # current places in children's teams

    @property
    def any(self) -> bool:
        return any(
            (
                self.memberships,
                self.roles,
                self.enrolments,
                self.open_actions,
                self.pending_links,
                self.team_members,
            )
        )


def _table(name: str) -> Any:
    # The children's, plans', links' and teams' tables by name: the agencies package reads their counts
    # without importing those packages (which import this one's models).
    return Agency.metadata.tables[name]


def responsibilities(*, agency_id: int | None = None, unit_id: int | None = None) -> Responsibilities:
    """What the agency (every unit of it) or the one unit still carries: one statement of counts."""
    if (agency_id is None) == (unit_id is None):
        raise ValueError("an agency or a unit")
    enrolment, action, link, member, role = (
        _table("enrolment"),
        _table("plan_action"),
        _table("pending_link"),
        _table("team_member"),
        _table("role_assignment"),
    )
    units = select(Unit.id).where(Unit.agency_id == agency_id) if agency_id is not None else None

    def at_units(column: Any) -> Any:
        return column.in_(units) if units is not None else column == unit_id

    def counted(table: Any, *where: Any) -> Any:
        return select(func.count()).select_from(table).where(*where).scalar_subquery()

    memberships = counted(
        Membership.__table__,
        Membership.ended_at.is_(None),
        Membership.agency_id == agency_id if agency_id is not None else Membership.unit_id == unit_id,
    )
    roles = (
        counted(role, role.c.agency_id == agency_id, role.c.ended_at.is_(None))
        if agency_id is not None
        else select(literal(0)).scalar_subquery()
    )
    enrolments = counted(enrolment, at_units(enrolment.c.unit_id), enrolment.c.ended_on.is_(None))
    owner = action.c.owner_agency_id == agency_id if agency_id is not None else action.c.owner_unit_id == unit_id
    open_actions = counted(action, owner, action.c.status.in_(("planned", "in_progress")))
    pending_links = counted(link, at_units(link.c.unit_id), link.c.state == "pending")
    placed = member.c.agency_id == agency_id if agency_id is not None else member.c.unit_id == unit_id
    team_members = counted(member, placed, member.c.ended_at.is_(None))
    row = db.session.execute(select(memberships, roles, enrolments, open_actions, pending_links, team_members)).one()
    return Responsibilities(*(int(value or 0) for value in row))


# -- platform admin: one agency or unit; agencies nobody administers ---------------------------------
def agency_or_none(actor: Any, public_id: str | None) -> Agency | None:
    if not is_platform_admin(actor) or not _usable_id(public_id):
        return None
    return db.session.scalar(select(Agency).where(Agency.public_id == public_id).options(selectinload(Agency.units)))


def get_agency_or_404(actor: Any, public_id: str) -> Agency:
    """The agency for the platform admin; anyone else, or an unknown id: 404, the refusal audited."""
    agency = agency_or_none(actor, public_id)
    if agency is None:
        audit.note_denied(actor.audit_actor(), "view_agency", object_type="agency", object_id=public_id[:64])
        abort(404)
    return agency


def unit_or_none(actor: Any, public_id: str | None) -> Unit | None:
    """A unit: any unit for the platform admin; a unit of the acting agency for its agency admin."""
    if not _usable_id(public_id):
        return None
    statement = select(Unit).where(Unit.public_id == public_id).options(joinedload(Unit.agency))
    if is_platform_admin(actor):
        return db.session.scalar(statement)
    agency_id = _agency_id(actor)
    if agency_id is None:
        return None
    return db.session.scalar(statement.where(Unit.agency_id == agency_id))


def get_unit_or_404(actor: Any, public_id: str) -> Unit:
    """The unit, scoped as ``unit_or_none`` says: another agency's unit is 404 for an agency admin, audited."""
    unit = unit_or_none(actor, public_id)
    if unit is None:
        audit.note_denied(actor.audit_actor(), "view_unit", object_type="unit", object_id=public_id[:64])
        abort(404)
    return unit


def agencies_without_agency_admin(actor: Any) -> Select[tuple[Agency]]:
    """Agencies (not ended) without a current agency-admin membership of an active person: their pending
    links have nobody to approve them (RULES.md §5), so the platform admin is shown them."""
    if not is_platform_admin(actor):
        return select(Agency).where(false())
    has_admin = (
        exists()
        .where(
            Membership.agency_id == Agency.id,
            Membership.is_agency_admin.is_(True),
            Membership.ended_at.is_(None),
        )
        .where(StaffPerson.id == Membership.staff_person_id, StaffPerson.is_active.is_(True))
    )
    return select(Agency).where(Agency.ended_at.is_(None), ~has_admin).order_by(func.lower(Agency.name), Agency.id)


# -- agency admin: the acting agency's staff and units -------------------------------------------------
AGENCY_STAFF_LOADING: tuple[ORMOption, ...] = (
    selectinload(StaffPerson.memberships).options(joinedload(Membership.unit)),
)


def agency_units(actor: Any) -> Select[tuple[Unit]]:
    """The acting agency's units (current first, then ended), by name."""
    agency_id = _agency_id(actor)
    statement = select(Unit)
    if agency_id is None:
        return statement.where(false())
    return statement.where(Unit.agency_id == agency_id).order_by(
        Unit.ended_at.is_not(None), func.lower(Unit.name), Unit.id
    )


def agency_staff(actor: Any, search: str | None = None) -> Select[tuple[StaffPerson]]:
    """The acting agency's staff: people with a current membership in it, by name; ``search`` as for the
    platform admin's list. Show only the memberships in the acting agency (``memberships_here``)."""
    agency_id = _agency_id(actor)
    if agency_id is None:
        return select(StaffPerson).where(false())
    current_here = exists().where(
        Membership.staff_person_id == StaffPerson.id,
        Membership.agency_id == agency_id,
        Membership.ended_at.is_(None),
    )
    statement = select(StaffPerson).where(current_here)
    text = (search or "").strip()[:MAX_SEARCH_LENGTH]
    if text:
        pattern = f"%{_escape_like(text.lower())}%"
        full_name = StaffPerson.given_name + " " + StaffPerson.family_name
        statement = statement.where(
            or_(
                func.lower(full_name).like(pattern, escape="\\"), full_name.like(f"%{_escape_like(text)}%", escape="\\")
            )
        )
    return statement.order_by(func.lower(StaffPerson.family_name), func.lower(StaffPerson.given_name), StaffPerson.id)


def memberships_here(actor: Any, person: StaffPerson) -> list[Membership]:
    """The person's current memberships in the acting agency (the platform admin: every current one)."""
    agency_id = _agency_id(actor)
    return sorted(
        (
            m
            for m in person.memberships
            if m.ended_at is None and (is_platform_admin(actor) or m.agency_id == agency_id)
        ),
        key=lambda m: (m.unit.name, m.id),
    )


def agency_staff_person_or_none(actor: Any, public_id: str | None) -> StaffPerson | None:
    if not _usable_id(public_id):
        return None
    return db.session.scalar(
        agency_staff(actor).where(StaffPerson.public_id == public_id).options(*AGENCY_STAFF_LOADING)
    )


def get_agency_staff_person_or_404(actor: Any, public_id: str) -> StaffPerson:
    """A member of the acting agency's staff for its agency admin; another agency's person: 404, audited."""
    person = agency_staff_person_or_none(actor, public_id)
    if person is None:
        audit.note_denied(
            actor.audit_actor(), "view_staff_person", object_type="staff_person", object_id=public_id[:64]
        )
        abort(404)
    return person


def get_current_membership_or_404(actor: Any, person: StaffPerson, unit_public_id: str) -> Membership:
    """The person's current membership of one unit (reached through the person), scoped as the person was:
    a unit of another agency is 404 for an agency admin, audited."""
    found = next(
        (
            m
            for m in memberships_here(actor, person)
            if _usable_id(unit_public_id) and m.unit.public_id == unit_public_id
        ),
        None,
    )
    if found is None:
        audit.note_denied(
            actor.audit_actor(), "view_membership", object_type="staff_person", object_id=person.public_id
        )
        abort(404)
    return found


def unit_choices(actor: Any) -> list[Unit]:
    """The units a membership may be added to: current units of current agencies (the platform admin),
    of the acting agency (its agency admin)."""
    statement = select(Unit).join(Agency, Agency.id == Unit.agency_id).options(contains_eager(Unit.agency))
    statement = statement.where(Unit.ended_at.is_(None), Agency.ended_at.is_(None))
    if is_platform_admin(actor):
        pass
    elif (agency_id := _agency_id(actor)) is not None:
        statement = statement.where(Unit.agency_id == agency_id)
    else:
        return []
    return list(db.session.scalars(statement.order_by(func.lower(Agency.name), func.lower(Unit.name), Unit.id)))
