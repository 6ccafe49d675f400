"""Every write to agencies, units, staff and memberships: ``verb_noun(actor, ..., data)``.

Operations flush and audit; the caller (a view, the CLI, the demo loader) commits once. Who may call
them is decided by the caller through the access core (platform administration for now)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from agencies.access import responsibilities
from agencies.models import AGENCY_KINDS, AGENCY_LEVELS, Agency, Membership, StaffPerson, Unit
from coordination import events
from coordination.access import AnyActor
from coordination.audit import record_write, refusals_audited
from coordination.auth import end_all_sessions
from coordination.children.models import RoleAssignment
from coordination.chronology.record import record_event
from coordination.clock import now
from coordination.database import db
from coordination.errors import OperationError
from coordination.models import Account

# The columns' lengths: the CLI and the forms check them, so that a long value is a clear message, not a
# database error.
LIMITS = {
    "name": 200,
    "given_name": 100,
    "family_name": 100,
    "title": 100,
    "email": 254,
    "phone": 40,
    "employee_id": 100,
    "username": 150,
}
PLATFORM_BASIS = "platform_administration"
AGENCY_BASIS = "agency_administration"


def _basis(actor: AnyActor) -> str:
    """An agency admin manages their own agency (its basis); the platform admin and the CLI everything."""
    return AGENCY_BASIS if getattr(actor, "kind", None) == "staff" else PLATFORM_BASIS


@dataclass(frozen=True)
class AgencyData:
    name: str
    kind: str
    level: str = "municipality"
    phone: str | None = None


def create_agency(actor: AnyActor, data: AgencyData) -> Agency:
    if data.kind not in AGENCY_KINDS:
        raise OperationError("Unknown kind of agency", "kind")
    if data.level not in AGENCY_LEVELS:
        raise OperationError("Unknown level", "level")
    if db.session.scalar(select(Agency.id).where(Agency.name == data.name)) is not None:
        raise OperationError("An agency with that name exists", "name")
    agency = Agency(name=data.name, kind=data.kind, level=data.level, phone=data.phone, created_at=now())
    db.session.add(agency)
    db.session.flush()
    record_write(
        actor.audit_actor(),
        "create_agency",
        object_type="agency",
        object_id=agency.public_id,
        legal_basis="platform_administration",
    )
    return agency


def create_unit(actor: AnyActor, agency: Agency, name: str, phone: str | None = None) -> Unit:
    if agency.ended_at is not None:
        raise OperationError("The agency has ended", "agency")
    if db.session.scalar(select(Unit.id).where(Unit.agency_id == agency.id, Unit.name == name)) is not None:
        raise OperationError("The agency already has a unit with that name", "name")
    unit = Unit(agency=agency, name=name, phone=phone, created_at=now())
    db.session.add(unit)
    db.session.flush()
    record_write(
        actor.audit_actor(),
        "create_unit",
        object_type="unit",
        object_id=unit.public_id,
        legal_basis=_basis(actor),
    )
    return unit


@dataclass(frozen=True)
class StaffData:
    given_name: str
    family_name: str
    title: str | None = None
    email: str | None = None
    phone: str | None = None
    employee_id: str | None = None


def create_staff_person(actor: AnyActor, data: StaffData) -> StaffPerson:
    if (
        data.employee_id
        and db.session.scalar(select(StaffPerson.id).where(StaffPerson.employee_id == data.employee_id)) is not None
    ):
        raise OperationError("Another person has that employee id", "employee_id")
    person = StaffPerson(
        given_name=data.given_name,
        family_name=data.family_name,
        title=data.title,
        email=data.email,
        phone=data.phone,
        employee_id=data.employee_id,
        created_at=now(),
    )
    db.session.add(person)
    db.session.flush()
    record_write(
        actor.audit_actor(),
        "create_staff_person",
        object_type="staff_person",
        object_id=person.public_id,
        legal_basis=_basis(actor),
    )
    return person


@refusals_audited("add_membership")
def add_membership(
    actor: AnyActor,
    person: StaffPerson,
    unit: Unit,
    *,
    practitioner: bool = True,
    agency_admin: bool = False,
    intake: bool = False,
) -> Membership:
    if not (practitioner or agency_admin or intake):
        raise OperationError("Choose at least one role", "roles")
    if not person.is_active:
        raise OperationError("The person is deactivated", "staff")
    if unit.ended_at is not None or unit.agency.ended_at is not None:
        raise OperationError("The unit has ended", "unit")
    if intake and unit.agency.kind != "social_services":
        raise OperationError("Only social services staff can have the intake role", "roles")
    existing = db.session.scalar(
        select(Membership).where(
            Membership.staff_person_id == person.id, Membership.unit_id == unit.id, Membership.ended_at.is_(None)
        )
    )
    if existing is not None:
        raise OperationError("The person is already a member of that unit", "unit")
    membership = Membership(
        staff_person=person,
        agency_id=unit.agency_id,
        unit_id=unit.id,
        is_practitioner=practitioner,
        is_agency_admin=agency_admin,
        is_intake=intake,
        created_at=now(),
    )
    db.session.add(membership)
    db.session.flush()
    record_write(
        actor.audit_actor(),
        "add_membership",
        object_type="staff_person",
        object_id=person.public_id,
        legal_basis=_basis(actor),
        detail={"unit": unit.public_id, "roles": list(membership.roles)},
    )
    return membership


@refusals_audited("deactivate_staff_person")
def deactivate_staff_person(actor: AnyActor, person: StaffPerson) -> None:
    """Deactivation takes effect at once: the person's sessions end and their account is closed. Their
    Child Contact duties stay current, so they land on the agency admin's "needs reassigning" list;
    a Support Coordinator role they held ends, and goes back to the Child Contact, who keeps the plan
    and requests a new coordinator (RULES.md §10)."""

    if not person.is_active:
        raise OperationError("The person is already deactivated")
    moment = now()
    person.is_active = False
    person.deactivated_at = moment
    account = db.session.scalar(select(Account).where(Account.staff_person_id == person.id))
    if account is not None:
        account.is_active = False
        account.deactivated_at = moment
        end_all_sessions(account.id)
    vacated = db.session.scalars(
        select(RoleAssignment).where(
            RoleAssignment.staff_person_id == person.id,
            RoleAssignment.role == "support_coordinator",
            RoleAssignment.ended_at.is_(None),
        )
    ).all()
    for assignment in vacated:
        assignment.ended_at = moment
        assignment.end_reason = "holder deactivated; the role went back to the Child Contact"
        record_write(
            actor.audit_actor(),
            "end_support_coordinator",
            child_id=assignment.child_id,
            object_type="role_assignment",
            legal_basis="platform_administration",
        )
    db.session.flush()
    if vacated:
        # The role goes back to the Child Contact, who is told and requests a new one (RULES.md §10).

        for assignment in vacated:
            record_event(
                assignment.child_id,
                "coordinator_vacated",
                owner_agency_id=assignment.agency_id,
                audience="coordination",
                tone="neutral",
                object_type="role_assignment",
                occurred_at=moment,
            )
        db.session.flush()
        for assignment in vacated:
            events.coordinator_vacated.send(
                None, child=assignment.child, agency_id=assignment.agency_id, person_id=person.id
            )
    record_write(
        actor.audit_actor(),
        "deactivate_staff_person",
        object_type="staff_person",
        object_id=person.public_id,
        legal_basis="platform_administration",
    )


# -- editing and ending (issue 16: administration in the browser) ------------------------------------
def _changed(obj: object, values: dict[str, object]) -> list[str]:
    """Set the values that differ; the names of the fields changed (the audit's detail: no values)."""
    changed = [name for name, value in values.items() if getattr(obj, name) != value]
    for name in changed:
        setattr(obj, name, values[name])
    return changed


def update_agency(actor: AnyActor, agency: Agency, data: AgencyData) -> list[str]:
    if agency.ended_at is not None:
        raise OperationError("The agency has ended", "name")
    if data.kind not in AGENCY_KINDS:
        raise OperationError("Unknown kind of agency", "kind")
    if data.level not in AGENCY_LEVELS:
        raise OperationError("Unknown level", "level")
    taken = db.session.scalar(select(Agency.id).where(Agency.name == data.name, Agency.id != agency.id))
    if taken is not None:
        raise OperationError("An agency with that name exists", "name")
    changed = _changed(agency, {"name": data.name, "kind": data.kind, "level": data.level, "phone": data.phone})
    if changed:
        db.session.flush()
        record_write(
            actor.audit_actor(),
            "update_agency",
            object_type="agency",
            object_id=agency.public_id,
            legal_basis=_basis(actor),
            detail={"changed": changed},
        )
    return changed


def update_unit(actor: AnyActor, unit: Unit, name: str, phone: str | None) -> list[str]:
    if unit.ended_at is not None:
        raise OperationError("The unit has ended", "name")
    taken = db.session.scalar(
        select(Unit.id).where(Unit.agency_id == unit.agency_id, Unit.name == name, Unit.id != unit.id)
    )
    if taken is not None:
        raise OperationError("The agency already has a unit with that name", "name")
    changed = _changed(unit, {"name": name, "phone": phone})
    if changed:
        db.session.flush()
        record_write(
            actor.audit_actor(),
            "update_unit",
            object_type="unit",
            object_id=unit.public_id,
            legal_basis=_basis(actor),
            detail={"changed": changed},
        )
    return changed


def update_staff_person(actor: AnyActor, person: StaffPerson, data: StaffData) -> list[str]:
    if (
        data.employee_id
        and db.session.scalar(
            select(StaffPerson.id).where(StaffPerson.employee_id == data.employee_id, StaffPerson.id != person.id)
        )
        is not None
    ):
        raise OperationError("Another person has that employee id", "employee_id")
    changed = _changed(
        person,
        {
            "given_name": data.given_name,
            "family_name": data.family_name,
            "title": data.title,
            "email": data.email,
            "phone": data.phone,
            "employee_id": data.employee_id,
        },
    )
    if changed:
        db.session.flush()
        record_write(
            actor.audit_actor(),
            "update_staff_person",
            object_type="staff_person",
            object_id=person.public_id,
            legal_basis=_basis(actor),
            detail={"changed": changed},
        )
    return changed


@refusals_audited("change_roles")
def change_roles(
    actor: AnyActor, membership: Membership, *, practitioner: bool, agency_admin: bool, intake: bool
) -> bool:
    """The roles of a current membership. False when they were already so (nothing written)."""
    if membership.ended_at is not None:
        raise OperationError("The membership has ended", "roles")
    if not (practitioner or agency_admin or intake):
        raise OperationError("Choose at least one role", "roles")
    if intake and membership.agency.kind != "social_services":
        raise OperationError("Only social services staff can have the intake role", "roles")
    before = list(membership.roles)
    changed = _changed(
        membership, {"is_practitioner": practitioner, "is_agency_admin": agency_admin, "is_intake": intake}
    )
    if not changed:
        return False
    db.session.flush()
    record_write(
        actor.audit_actor(),
        "change_roles",
        object_type="staff_person",
        object_id=membership.staff_person.public_id,
        legal_basis=_basis(actor),
        detail={"unit": membership.unit.public_id, "old": before, "new": list(membership.roles)},
    )
    return True


@refusals_audited("end_membership")
def end_membership(actor: AnyActor, membership: Membership) -> None:
    """The person leaves the unit; the record stays. Child Contact duties they hold for the agency land on
    its agency admin's "needs reassigning" list once they have no current membership left there."""
    if membership.ended_at is not None:
        raise OperationError("The membership has ended already", "unit")
    membership.ended_at = now()
    db.session.flush()
    record_write(
        actor.audit_actor(),
        "end_membership",
        object_type="staff_person",
        object_id=membership.staff_person.public_id,
        legal_basis=_basis(actor),
        detail={"unit": membership.unit.public_id},
    )


@refusals_audited("end_unit")
def end_unit(actor: AnyActor, unit: Unit) -> None:
    """A unit is ended only when it carries nothing: no current memberships, enrolments, open actions,
    pending links or team places; and an agency keeps at least one current unit."""
    if unit.ended_at is not None:
        raise OperationError("The unit has ended already", "unit")
    if responsibilities(unit_id=unit.id).any:
        raise OperationError("The unit still has members or open responsibilities", "unit")
    others = db.session.scalar(
        select(func.count()).where(Unit.agency_id == unit.agency_id, Unit.id != unit.id, Unit.ended_at.is_(None))
    )
    if not others:
        raise OperationError("An agency keeps at least one unit", "unit")
    unit.ended_at = now()
    db.session.flush()
    record_write(
        actor.audit_actor(),
        "end_unit",
        object_type="unit",
        object_id=unit.public_id,
        legal_basis=_basis(actor),
    )


@refusals_audited("end_agency")
def end_agency(actor: AnyActor, agency: Agency) -> None:
    """An agency is ended (with its units) only when it carries nothing (``responsibilities``)."""
    if agency.ended_at is not None:
        raise OperationError("The agency has ended already", "agency")
    if responsibilities(agency_id=agency.id).any:
        raise OperationError("The agency still has members or open responsibilities", "agency")
    moment = now()
    agency.ended_at = moment
    for unit in agency.units:
        if unit.ended_at is None:
            unit.ended_at = moment
    db.session.flush()
    record_write(
        actor.audit_actor(),
        "end_agency",
        object_type="agency",
        object_id=agency.public_id,
        legal_basis=PLATFORM_BASIS,
    )
