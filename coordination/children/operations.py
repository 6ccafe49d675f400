"""Every write to the coordination domain's backbone: children, guardians, custody, enrolments,
sibling links, Child Contact assignments, accounts. ``verb_noun(actor, ..., data)``; they flush and
audit, the caller commits once. "Now" comes from the app clock."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date

from flask import current_app
from sqlalchemy import select

from agencies.models import Membership, StaffPerson, Unit
from coordination import events
from coordination.access import AnyActor
from coordination.audit import record_write, refusals_audited
from coordination.auth import hash_password
from coordination.children.models import (
    LANGUAGES,
    MISSING_NUMBER_REASONS,
    PROTECTION_LEVELS,
    Child,
    Custody,
    Enrolment,
    Guardian,
    RoleAssignment,
    SiblingLink,
)
from coordination.chronology.record import record_event
from coordination.clock import now, today
from coordination.database import db
from coordination.errors import OperationError
from coordination.identity_numbers import (
    IdentityNumber,
    encrypt_identity_number,
    hash_key_bytes,
    identity_number_hash,
)
from coordination.models import Account, Analyst, PlatformAdmin


def _keys() -> tuple[bytes, bytes]:
    config = current_app.config
    return str(config["IDENTITY_ENCRYPTION_KEY"]).encode(), hash_key_bytes(str(config["IDENTITY_HASH_KEY"]))


def protect_number(number: IdentityNumber) -> tuple[str, str]:
    """(ciphertext, keyed hash) for storing an identity number."""
    encryption_key, hash_key = _keys()
    return encrypt_identity_number(number, encryption_key), identity_number_hash(number, hash_key)


def number_hash(number: IdentityNumber) -> str:
    return identity_number_hash(number, _keys()[1])


def _reserve_number() -> str:
    return "R-" + secrets.token_hex(6).upper()


@dataclass(frozen=True)
class ChildData:
    given_name: str
    family_name: str
    birth_date: date | None
    identity_number: IdentityNumber | None = None
    missing_number_reason: str | None = None
    expected_birth_date: date | None = None
    protection_level: str = "none"


@refusals_audited("register_child")
def register_child(actor: AnyActor, data: ChildData, legal_basis: str = "relation_unit") -> Child:
    """Register a child; ``legal_basis`` is the staff member's (a unit registering the children it serves,
    by default; intake registering the child of a report of concern: the duty to report)."""
    if (data.identity_number is None) == (data.missing_number_reason is None):
        raise OperationError("Give the identity number, or the reason there is none", "identity_number")
    if data.missing_number_reason is not None and data.missing_number_reason not in MISSING_NUMBER_REASONS:
        raise OperationError("Unknown reason", "missing_number_reason")
    if data.protection_level not in PROTECTION_LEVELS:
        raise OperationError("Unknown protection level", "protection_level")
    birth_date = data.birth_date
    if data.identity_number is not None:
        birth_date = data.identity_number.birth_date
        if data.birth_date is not None and data.birth_date != birth_date:
            raise OperationError("The birth date does not match the identity number", "birth_date")
    if birth_date is None and data.missing_number_reason != "unborn":
        raise OperationError("Enter the birth date", "birth_date")
    if birth_date is not None and birth_date > today():
        raise OperationError("The birth date cannot be in the future", "birth_date")
    encrypted = hashed = None
    if data.identity_number is not None:
        encrypted, hashed = protect_number(data.identity_number)
        if db.session.scalar(select(Child.id).where(Child.identity_number_hash == hashed)) is not None:
            raise OperationError("A child with that identity number is already registered", "identity_number")
    child = Child(
        given_name=data.given_name.strip(),
        family_name=data.family_name.strip(),
        birth_date=birth_date,
        expected_birth_date=data.expected_birth_date,
        identity_number_encrypted=encrypted,
        identity_number_hash=hashed,
        identity_number_missing_reason=data.missing_number_reason,
        reserve_number=_reserve_number() if data.missing_number_reason else None,
        protection_level=data.protection_level,
        created_at=now(),
    )
    db.session.add(child)
    db.session.flush()
    record_write(
        actor.audit_actor(),
        "register_child",
        child_id=child.id,
        object_type="child",
        object_id=child.public_id,
        legal_basis=_basis(actor, legal_basis),
    )
    return child


def _basis(actor: AnyActor, staff_basis: str) -> str:
    return "platform_administration" if actor.kind == "system" else staff_basis


@dataclass(frozen=True)
class GuardianData:
    given_name: str
    family_name: str
    identity_number: IdentityNumber | None = None
    email: str | None = None
    phone: str | None = None
    preferred_language: str = "sv"
    needs_interpreter: bool = False
    interpreter_language: str | None = None


@refusals_audited("add_guardian")
def add_guardian(actor: AnyActor, data: GuardianData) -> Guardian:
    if data.preferred_language not in LANGUAGES:
        raise OperationError("Unknown language", "preferred_language")
    encrypted = hashed = None
    if data.identity_number is not None:
        encrypted, hashed = protect_number(data.identity_number)
        if db.session.scalar(select(Guardian.id).where(Guardian.identity_number_hash == hashed)) is not None:
            raise OperationError("A guardian with that identity number is already registered", "identity_number")
    guardian = Guardian(
        given_name=data.given_name.strip(),
        family_name=data.family_name.strip(),
        identity_number_encrypted=encrypted,
        identity_number_hash=hashed,
        email=data.email,
        phone=data.phone,
        preferred_language=data.preferred_language,
        needs_interpreter=data.needs_interpreter,
        interpreter_language=data.interpreter_language,
        created_at=now(),
    )
    db.session.add(guardian)
    db.session.flush()
    record_write(
        actor.audit_actor(),
        "add_guardian",
        object_type="guardian",
        object_id=guardian.public_id,
        legal_basis=_basis(actor, "relation_child_contact"),
    )
    return guardian


@refusals_audited("link_custody")
def link_custody(
    actor: AnyActor,
    child: Child,
    guardian: Guardian,
    *,
    restricted: bool = False,
    restriction_note: str | None = None,
) -> Custody:
    existing = db.session.scalar(
        select(Custody).where(Custody.child_id == child.id, Custody.guardian_id == guardian.id)
    )
    if existing is not None:
        raise OperationError("That guardian is already linked to the child", "guardian")
    custody = Custody(
        child=child, guardian=guardian, is_restricted=restricted, restriction_note=restriction_note, created_at=now()
    )
    db.session.add(custody)
    db.session.flush()
    record_write(
        actor.audit_actor(),
        "link_custody",
        child_id=child.id,
        object_type="custody",
        object_id=guardian.public_id,
        legal_basis=_basis(actor, "relation_child_contact"),
        detail={"restricted": restricted},
    )
    return custody


@refusals_audited("confirm_guardian_identity")
def confirm_guardian_identity(actor: AnyActor, custody: Custody, checked_by: StaffPerson) -> None:
    """The Child Contact confirms "identity checked" before a guardian's first login (RULES.md §6)."""
    if custody.identity_checked_at is not None:
        raise OperationError("The identity is already confirmed")
    custody.identity_checked_at = now()
    custody.identity_checked_by_id = checked_by.id
    db.session.flush()
    record_write(
        actor.audit_actor(),
        "confirm_guardian_identity",
        child_id=custody.child_id,
        object_type="custody",
        object_id=custody.guardian.public_id,
        legal_basis=_basis(actor, "relation_child_contact"),
    )


@refusals_audited("enrol_child")
def enrol_child(actor: AnyActor, child: Child, unit: Unit, started_on: date) -> Enrolment:
    current = db.session.scalar(
        select(Enrolment.id).where(
            Enrolment.child_id == child.id, Enrolment.unit_id == unit.id, Enrolment.ended_on.is_(None)
        )
    )
    if current is not None:
        raise OperationError("The child is already enrolled at that unit", "unit")
    enrolment = Enrolment(child=child, unit=unit, started_on=started_on, created_at=now())
    db.session.add(enrolment)
    db.session.flush()
    record_write(
        actor.audit_actor(),
        "enrol_child",
        child_id=child.id,
        object_type="enrolment",
        object_id=unit.public_id,
        legal_basis=_basis(actor, "relation_unit"),
    )
    return enrolment


@refusals_audited("link_siblings")
def link_siblings(actor: AnyActor, child: Child, sibling: Child, recorded_by: StaffPerson | None) -> SiblingLink:
    if child.id == sibling.id:
        raise OperationError("A child cannot be their own sibling", "sibling")
    first, second = sorted((child.id, sibling.id))
    existing = db.session.scalar(
        select(SiblingLink.id).where(SiblingLink.child_id == first, SiblingLink.sibling_id == second)
    )
    if existing is not None:
        raise OperationError("The children are already linked as siblings", "sibling")
    link = SiblingLink(
        child_id=first, sibling_id=second, recorded_by_id=recorded_by.id if recorded_by else None, created_at=now()
    )
    db.session.add(link)
    db.session.flush()
    for child_id in (first, second):
        record_write(
            actor.audit_actor(),
            "link_siblings",
            child_id=child_id,
            object_type="sibling_link",
            legal_basis=_basis(actor, "relation_child_contact"),
        )
    return link


@refusals_audited("assign_child_contact")
def assign_child_contact(
    actor: AnyActor,
    child: Child,
    membership: Membership,
    assigned_by: StaffPerson | None = None,
    reason: str | None = None,
) -> RoleAssignment:
    assignment = _assign(actor, child, membership, "child_contact", assigned_by, reason)
    record_event(
        child.id,
        "child_contact_assigned",
        owner_agency_id=membership.agency_id,
        audience="agencies",
        author_person_id=assigned_by.id if assigned_by else None,
        occurred_at=assignment.started_at,
    )
    # Concerns that waited for a Child Contact ("agency_admin") are routed now (RULES.md §5): the concerns
    # package listens (coordination.concerns.operations.unmatched.connect_listeners).
    events.child_contact_assigned.send(None, actor=actor, child=child)
    return assignment


@refusals_audited("assign_support_coordinator")
def assign_support_coordinator(
    actor: AnyActor,
    child: Child,
    membership: Membership,
    assigned_by: StaffPerson | None = None,
    reason: str | None = None,
) -> RoleAssignment:
    return _assign(actor, child, membership, "support_coordinator", assigned_by, reason)


def _assign(
    actor: AnyActor,
    child: Child,
    membership: Membership,
    role: str,
    assigned_by: StaffPerson | None,
    reason: str | None,
) -> RoleAssignment:
    if not membership.staff_person.is_active or membership.ended_at is not None:
        raise OperationError("The person is not active in that agency", "staff_person")
    moment = now()
    current = db.session.scalar(
        select(RoleAssignment).where(
            RoleAssignment.child_id == child.id, RoleAssignment.role == role, RoleAssignment.ended_at.is_(None)
        )
    )
    if current is not None:
        if current.staff_person_id == membership.staff_person_id and current.agency_id == membership.agency_id:
            raise OperationError("That person already has the role", "staff_person")
        current.ended_at = moment
        current.end_reason = reason or "reassigned"
        db.session.flush()
    assignment = RoleAssignment(
        child=child,
        role=role,
        staff_person_id=membership.staff_person_id,
        agency_id=membership.agency_id,
        assigned_by_id=assigned_by.id if assigned_by else None,
        started_at=moment,
    )
    db.session.add(assignment)
    db.session.flush()
    record_write(
        actor.audit_actor(),
        f"assign_{role}",
        child_id=child.id,
        object_type="role_assignment",
        legal_basis=_basis(actor, "agency_administration"),
        detail={"agency_id": membership.agency_id},
    )
    return assignment


# -- accounts ------------------------------------------------------------------------------------------
def _new_account(
    actor: AnyActor,
    username: str,
    password: str | None,
    kind: str,
    *,
    is_demo: bool,
    language: str = "sv",
    password_hash: str | None = None,
    **person: object,
) -> Account:
    username = username.strip().lower()
    if not username or len(username) > 150:
        raise OperationError("Enter a username of at most 150 characters", "username")
    if db.session.scalar(select(Account.id).where(Account.username == username)) is not None:
        raise OperationError("That username is taken", "username")
    if kind in ("guardian", "young_person") and (password or password_hash) and not is_demo:
        raise OperationError("Families log in through the family identity provider, never with a password")
    account = Account(
        username=username,
        kind=kind,
        is_demo=is_demo,
        language=language,
        created_at=now(),
        password_hash=password_hash or (hash_password(password) if password else None),
        **person,
    )
    db.session.add(account)
    db.session.flush()
    record_write(
        actor.audit_actor(),
        "create_account",
        object_type="account",
        object_id=account.public_id,
        legal_basis="platform_administration",
        detail={"kind": kind},
    )
    return account


def create_staff_account(
    actor: AnyActor,
    person: StaffPerson,
    username: str,
    password: str | None,
    *,
    is_demo: bool = False,
    password_hash: str | None = None,
    language: str = "sv",
) -> Account:
    return _new_account(
        actor,
        username,
        password,
        "staff",
        is_demo=is_demo,
        password_hash=password_hash,
        language=language,
        staff_person_id=person.id,
    )


def create_platform_admin(
    actor: AnyActor,
    name: str,
    username: str,
    password: str | None,
    *,
    email: str | None = None,
    is_demo: bool = False,
    password_hash: str | None = None,
) -> Account:
    admin = PlatformAdmin(name=name, email=email, created_at=now())
    db.session.add(admin)
    db.session.flush()
    return _new_account(
        actor,
        username,
        password,
        "platform_admin",
        is_demo=is_demo,
        password_hash=password_hash,
        platform_admin_id=admin.id,
    )


def create_analyst(
    actor: AnyActor,
    name: str,
    username: str,
    password: str | None,
    *,
    email: str | None = None,
    is_demo: bool = False,
    password_hash: str | None = None,
) -> Account:
    analyst = Analyst(name=name, email=email, created_at=now())
    db.session.add(analyst)
    db.session.flush()
    return _new_account(
        actor, username, password, "analyst", is_demo=is_demo, password_hash=password_hash, analyst_id=analyst.id
    )


def create_guardian_account(
    actor: AnyActor,
    guardian: Guardian,
    username: str,
    *,
    is_demo: bool = False,
    password_hash: str | None = None,
    language: str = "sv",
) -> Account:
    return _new_account(
        actor,
        username,
        None,
        "guardian",
        is_demo=is_demo,
        password_hash=password_hash,
        language=language,
        guardian_id=guardian.id,
    )


def grant_young_person_account(
    actor: AnyActor,
    child: Child,
    username: str,
    granted_by: StaffPerson | None,
    *,
    is_demo: bool = False,
    password_hash: str | None = None,
    language: str = "sv",
) -> Account:
    account = _new_account(
        actor,
        username,
        None,
        "young_person",
        is_demo=is_demo,
        password_hash=password_hash,
        language=language,
        child_id=child.id,
        young_person_granted_by_id=granted_by.id if granted_by else None,
    )
    record_write(
        actor.audit_actor(),
        "grant_young_person_account",
        child_id=child.id,
        object_type="account",
        object_id=account.public_id,
        legal_basis=_basis(actor, "relation_child_contact"),
    )
    return account
