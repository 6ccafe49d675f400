"""The coordination backbone's operations (children, Child Contacts, memberships, sibling links,
accounts) and the demo municipality they load. Refusals first; every refusal writes nothing."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import func, select

from agencies.models import Agency, Membership, StaffPerson, Unit
from agencies.operations import add_membership, deactivate_staff_person
from coordination.access import SYSTEM_ACTOR
from coordination.auth import hash_password
from coordination.children.models import Child, Custody, Guardian, RoleAssignment, SiblingLink
from coordination.children.operations import (
    ChildData,
    assign_child_contact,
    create_guardian_account,
    grant_young_person_account,
    link_siblings,
    register_child,
)
from coordination.database import db as shared_db
from coordination.demo.ekby import NAMED_CHILDREN, PERSONAS
from coordination.demo.loader import loaded_at
from coordination.errors import OperationError
from coordination.identity_numbers import (
    IdentityNumber,
    decrypt_identity_number,
    hash_key_bytes,
    identity_number_hash,
    make_identity_number,
    parse_identity_number,
)
from coordination.models import Account, AuditEvent

OMAR_NUMBER = "201701012393"  # a published test number; Omar's in the demo


# -- small helpers ----------------------------------------------------------------------------------------
def session() -> Any:
    return shared_db.session


def child(given_name: str) -> Child:
    found = session().scalar(select(Child).where(Child.given_name == given_name))
    assert found is not None, given_name
    return found


def staff(username: str) -> StaffPerson:
    person = session().scalar(
        select(StaffPerson).join(Account, Account.staff_person_id == StaffPerson.id).where(Account.username == username)
    )
    assert person is not None, username
    return person


def guardian_of_account(username: str) -> Guardian:
    found = session().scalar(
        select(Guardian).join(Account, Account.guardian_id == Guardian.id).where(Account.username == username)
    )
    assert found is not None, username
    return found


def guardian_named(given: str, family: str) -> Guardian:
    found = session().scalar(select(Guardian).where(Guardian.given_name == given, Guardian.family_name == family))
    assert found is not None, (given, family)
    return found


def membership(username: str, unit_name: str) -> Membership:
    found = session().scalar(
        select(Membership)
        .join(Unit, Membership.unit_id == Unit.id)
        .where(Membership.staff_person_id == staff(username).id, Unit.name == unit_name)
    )
    assert found is not None, (username, unit_name)
    return found


def unit(name: str) -> Unit:
    found = session().scalar(select(Unit).where(Unit.name == name))
    assert found is not None, name
    return found


def rows(model: Any) -> int:
    return session().scalar(select(func.count()).select_from(model)) or 0


def current_contacts(child_id: int) -> list[RoleAssignment]:
    return list(
        session().scalars(
            select(RoleAssignment).where(
                RoleAssignment.child_id == child_id,
                RoleAssignment.role == "child_contact",
                RoleAssignment.ended_at.is_(None),
            )
        )
    )


def age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def new_number(birth: date = date(2014, 6, 3), serial: int = 871) -> IdentityNumber:
    """A valid number the demo does not use (the demo's serials are 300–399 and 500–599)."""
    return make_identity_number(birth, serial)


def number_forms(number: IdentityNumber) -> tuple[str, ...]:
    digits = number.digits
    return digits, digits[2:], number.formatted(), f"{digits[2:8]}-{digits[8:]}"


# -- register_child -------------------------------------------------------------------------------------
def test_a_duplicate_identity_number_is_refused_and_nothing_is_written(app: Flask, db: Any, clock: Any) -> None:
    with app.app_context():
        before = (rows(Child), rows(AuditEvent))
        number = parse_identity_number(OMAR_NUMBER, today=clock.today())
        with pytest.raises(OperationError) as refused:
            register_child(SYSTEM_ACTOR, ChildData("Omar", "Dubblett", None, identity_number=number))
        assert refused.value.field == "identity_number"
        assert OMAR_NUMBER not in str(refused.value) and OMAR_NUMBER[2:] not in str(refused.value)
        assert (rows(Child), rows(AuditEvent)) == before


def test_a_child_without_a_number_needs_a_reason(app: Flask, db: Any) -> None:
    with app.app_context():
        before = rows(Child)
        with pytest.raises(OperationError) as refused:
            register_child(SYSTEM_ACTOR, ChildData("Utan", "Nummer", date(2020, 2, 2)))
        assert refused.value.field == "identity_number"
        with pytest.raises(OperationError) as both:
            register_child(
                SYSTEM_ACTOR, ChildData("Med", "Båda", None, identity_number=new_number(), missing_number_reason="none")
            )
        assert both.value.field == "identity_number"
        with pytest.raises(OperationError) as unknown:
            register_child(SYSTEM_ACTOR, ChildData("Okänd", "Orsak", date(2020, 2, 2), missing_number_reason="forgot"))
        assert unknown.value.field == "missing_number_reason"
        with pytest.raises(OperationError) as no_birth:
            register_child(SYSTEM_ACTOR, ChildData("Utan", "Datum", None, missing_number_reason="none"))
        assert no_birth.value.field == "birth_date"
        assert rows(Child) == before


def test_a_child_without_a_number_gets_a_reserve_number(app: Flask, db: Any, clock: Any) -> None:
    clock.set(datetime(2026, 3, 10, 12, 0, tzinfo=UTC))
    with app.app_context():
        newborn = register_child(
            SYSTEM_ACTOR, ChildData("Ny", "Född", date(2026, 3, 1), missing_number_reason="newborn")
        )
        other = register_child(SYSTEM_ACTOR, ChildData("Ny", "Född", date(2020, 1, 2), missing_number_reason="none"))
        for registered in (newborn, other):
            assert registered.identity_number_hash is None and registered.identity_number_encrypted is None
            assert registered.reserve_number and registered.reserve_number.startswith("R-")
        assert newborn.identity_number_missing_reason == "newborn"
        assert newborn.reserve_number != other.reserve_number


def test_the_birth_date_must_match_the_number(app: Flask, db: Any) -> None:
    number = new_number(date(2014, 6, 3))
    with app.app_context():
        before = rows(Child)
        with pytest.raises(OperationError) as refused:
            register_child(SYSTEM_ACTOR, ChildData("Fel", "Datum", date(2014, 6, 4), identity_number=number))
        assert refused.value.field == "birth_date"
        assert rows(Child) == before
        matching = register_child(SYSTEM_ACTOR, ChildData("Rätt", "Datum", date(2014, 6, 3), identity_number=number))
        assert matching.birth_date == date(2014, 6, 3)
        from_number = register_child(
            SYSTEM_ACTOR, ChildData("Från", "Numret", None, identity_number=new_number(date(2013, 3, 9), 873))
        )
        assert from_number.birth_date == date(2013, 3, 9), "the birth date comes from the number"


def test_a_birth_date_in_the_future_is_refused(app: Flask, db: Any, clock: Any) -> None:
    clock.set(datetime(2026, 3, 10, 12, 0, tzinfo=UTC))
    tomorrow = date(2026, 3, 11)
    with app.app_context():
        before = rows(Child)
        with pytest.raises(OperationError) as without_number:
            register_child(SYSTEM_ACTOR, ChildData("Snart", "Född", tomorrow, missing_number_reason="newborn"))
        assert without_number.value.field == "birth_date"
        with pytest.raises(OperationError) as with_number:
            register_child(
                SYSTEM_ACTOR, ChildData("Snart", "Född", None, identity_number=make_identity_number(tomorrow, 871))
            )
        assert with_number.value.field == "birth_date"
        assert rows(Child) == before
        today = register_child(
            SYSTEM_ACTOR, ChildData("Idag", "Född", date(2026, 3, 10), missing_number_reason="newborn")
        )
        assert today.birth_date == date(2026, 3, 10)


def test_a_registered_number_is_stored_only_as_ciphertext_and_keyed_hash(app: Flask, db: Any) -> None:
    number = new_number()
    with app.app_context():
        registered = register_child(SYSTEM_ACTOR, ChildData("Krypto", "Grafi", None, identity_number=number))
        raw = session().execute(select(Child.__table__).where(Child.__table__.c.id == registered.id)).mappings().one()
        texts = [str(value) for value in raw.values() if value is not None]
        for form in number_forms(number):
            assert not any(form in value for value in texts), "the row holds the number in plain text"
        keys = app.config
        assert raw["identity_number_hash"] == identity_number_hash(number, hash_key_bytes(keys["IDENTITY_HASH_KEY"]))
        decrypted = decrypt_identity_number(raw["identity_number_encrypted"], keys["IDENTITY_ENCRYPTION_KEY"].encode())
        assert decrypted.digits == number.digits
        audit_texts = [
            str(value)
            for event in session().execute(select(AuditEvent.__table__)).mappings()
            for value in event.values()
            if value is not None
        ]
        assert not any(form in value for value in audit_texts for form in number_forms(number))


def test_registering_a_child_is_audited_in_the_same_transaction(app: Flask, db: Any) -> None:
    with app.app_context():
        registered = register_child(SYSTEM_ACTOR, ChildData("Spår", "Bar", None, identity_number=new_number()))
        child_id = registered.id
        event = session().scalar(select(AuditEvent).where(AuditEvent.child_id == child_id))
        assert event is not None
        assert (event.action, event.outcome, event.actor_kind) == ("register_child", "allowed", "system")
        assert event.object_id == registered.public_id and event.legal_basis == "platform_administration"
        session().rollback()
        assert session().get(Child, child_id) is None
        assert session().scalar(select(AuditEvent.id).where(AuditEvent.child_id == child_id)) is None, (
            "rolling the write back takes its audit row with it"
        )


# -- assign_child_contact -----------------------------------------------------------------------------------
def test_a_deactivated_person_cannot_be_assigned(app: Flask, db: Any) -> None:
    with app.app_context():
        elsa = child("Elsa")
        before = [(a.id, a.staff_person_id) for a in current_contacts(elsa.id)]
        deactivate_staff_person(SYSTEM_ACTOR, staff("sara"))
        with pytest.raises(OperationError) as refused:
            assign_child_contact(SYSTEM_ACTOR, elsa, membership("sara", "Solrosen"))
        assert refused.value.field == "staff_person"
        assert [(a.id, a.staff_person_id) for a in current_contacts(elsa.id)] == before


def test_an_ended_membership_cannot_be_assigned(app: Flask, db: Any) -> None:
    with app.app_context():
        elsa = child("Elsa")
        ended = membership("sara", "Solrosen")
        ended.ended_at = datetime.now(UTC)
        session().flush()
        with pytest.raises(OperationError):
            assign_child_contact(SYSTEM_ACTOR, elsa, ended)
        assert [a.staff_person_id for a in current_contacts(elsa.id)] == [staff("anna").id]


def test_the_same_person_cannot_be_assigned_twice(app: Flask, db: Any) -> None:
    with app.app_context():
        with pytest.raises(OperationError):
            assign_child_contact(SYSTEM_ACTOR, child("Elsa"), membership("anna", "BVC Ekby"))


def test_reassigning_the_child_contact_ends_the_previous_one_and_keeps_the_history(app: Flask, db: Any) -> None:
    with app.app_context():
        elsa = child("Elsa")
        (previous,) = current_contacts(elsa.id)
        audited = (
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.child_id == elsa.id, AuditEvent.action == "assign_child_contact")
        )
        audited_before = session().scalar(audited)
        assert previous.staff_person_id == staff("anna").id
        new = assign_child_contact(
            SYSTEM_ACTOR, elsa, membership("sara", "Solrosen"), assigned_by=staff("anna"), reason="anna is on leave"
        )
        session().expire_all()
        assert [a.id for a in current_contacts(elsa.id)] == [new.id]
        assert new.staff_person_id == staff("sara").id and new.agency_id == unit("Solrosen").agency_id
        ended = session().get(RoleAssignment, previous.id)
        assert ended is not None and ended.ended_at is not None and ended.end_reason == "anna is on leave"
        assert ended.ended_at <= new.started_at
        history = (
            session()
            .scalars(
                select(RoleAssignment).where(RoleAssignment.child_id == elsa.id, RoleAssignment.role == "child_contact")
            )
            .all()
        )
        assert len(history) == 2
        assert session().scalar(audited) == audited_before + 1


# -- add_membership -------------------------------------------------------------------------------------------
def test_the_intake_role_exists_only_in_social_services(app: Flask, db: Any) -> None:
    with app.app_context():
        before = rows(Membership)
        with pytest.raises(OperationError) as refused:
            add_membership(SYSTEM_ACTOR, staff("anna"), unit("Solrosen"), practitioner=True, intake=True)
        assert refused.value.field == "roles"
        assert rows(Membership) == before
        added = add_membership(SYSTEM_ACTOR, staff("johan"), unit("Mottagningen"), practitioner=False, intake=True)
        assert added.roles == ("intake",)
        assert session().get(Agency, added.agency_id).kind == "social_services"  # type: ignore[union-attr]


def test_a_membership_needs_at_least_one_role(app: Flask, db: Any) -> None:
    with app.app_context():
        before = rows(Membership)
        with pytest.raises(OperationError) as refused:
            add_membership(SYSTEM_ACTOR, staff("anna"), unit("Solrosen"), practitioner=False)
        assert refused.value.field == "roles"
        assert rows(Membership) == before
        assert add_membership(
            SYSTEM_ACTOR, staff("anna"), unit("Solrosen"), practitioner=False, agency_admin=True
        ).roles == ("agency_admin",)


# -- link_siblings -------------------------------------------------------------------------------------------
def test_a_child_cannot_be_its_own_sibling(app: Flask, db: Any) -> None:
    with app.app_context():
        before = rows(SiblingLink)
        with pytest.raises(OperationError) as refused:
            link_siblings(SYSTEM_ACTOR, child("Noah"), child("Noah"), staff("maria"))
        assert refused.value.field == "sibling"
        assert rows(SiblingLink) == before


def test_a_sibling_link_is_refused_twice_in_either_order(app: Flask, db: Any) -> None:
    with app.app_context():
        before = rows(SiblingLink)
        for first, second in (("Liam", "Ella"), ("Ella", "Liam")):
            with pytest.raises(OperationError) as refused:
                link_siblings(SYSTEM_ACTOR, child(first), child(second), staff("anna"))
            assert refused.value.field == "sibling"
        assert rows(SiblingLink) == before


def test_sibling_links_do_not_depend_on_the_order(app: Flask, db: Any) -> None:
    with app.app_context():
        older, younger = sorted((child("Noah"), child("Maja")), key=lambda c: c.id)
        link = link_siblings(SYSTEM_ACTOR, younger, older, staff("maria"))  # the larger id first
        assert (link.child_id, link.sibling_id) == (older.id, younger.id)
        with pytest.raises(OperationError):
            link_siblings(SYSTEM_ACTOR, older, younger, staff("maria"))
        audited = session().scalars(
            select(AuditEvent.child_id).where(
                AuditEvent.action == "link_siblings", AuditEvent.child_id.in_((older.id, younger.id))
            )
        )
        assert sorted(audited) == sorted((older.id, younger.id)), "both children's trails show the link"


# -- accounts --------------------------------------------------------------------------------------------------
def test_a_guardian_account_with_a_real_password_is_refused(app: Flask, db: Any) -> None:
    with app.app_context():
        sofia = guardian_named("Sofia", "Nilsson")
        before = rows(Account)
        with pytest.raises(OperationError, match="Families log in through the family identity provider"):
            create_guardian_account(SYSTEM_ACTOR, sofia, "sofia", password_hash=hash_password("a-real-password!"))
        with pytest.raises(OperationError, match="Families log in through the family identity provider"):
            grant_young_person_account(
                SYSTEM_ACTOR, child("Maja"), "maja", staff("maria"), password_hash=hash_password("a-real-password!")
            )
        assert rows(Account) == before
        # Without a password (the family identity provider) it is fine.
        account = create_guardian_account(SYSTEM_ACTOR, sofia, "sofia")
        assert account.password_hash is None and account.kind == "guardian" and not account.is_demo


# -- the demo -----------------------------------------------------------------------------------------------
def test_every_demo_persona_has_an_active_demo_account(app: Flask, db: Any) -> None:
    with app.app_context():
        accounts = {a.username: a for a in session().scalars(select(Account).where(Account.username.in_(PERSONAS)))}
        assert set(accounts) == set(PERSONAS)
        assert all(a.is_demo and a.is_active and a.password_hash for a in accounts.values())
        assert {"anna", "maria", "admin", "fia", "lena", "noah"} <= set(PERSONAS)
        kinds = Counter(a.kind for a in accounts.values())
        assert kinds["platform_admin"] == 1 and kinds["analyst"] == 1 and kinds["young_person"] == 1
        assert kinds["guardian"] == 4


def test_the_named_children_have_their_ages_on_the_load_date(app: Flask, db: Any) -> None:
    with app.app_context():
        moment = loaded_at()
        assert moment is not None
        load_day = moment.astimezone(ZoneInfo(app.config["TIME_ZONE"])).date()
        expected = {"Elsa": 3, "Noah": 15, "Alva": 6, "Leo": 10, "Maja": 12, "Liam": 4, "Ella": 7}
        ages = {name: age_on(child(name).birth_date, load_day) for name in expected}  # type: ignore[arg-type]
        assert ages == expected
        omar = child("Omar")
        # Omar's age comes from his published test number, not from DEMO.md's table: born 2017-01-01, he is
        # 9 for a load in 2026 and one year older each new year.
        assert omar.birth_date == date(2017, 1, 1)
        assert age_on(omar.birth_date, load_day) == load_day.year - 2017
        key = app.config["IDENTITY_ENCRYPTION_KEY"].encode()
        assert decrypt_identity_number(omar.identity_number_encrypted, key).digits == OMAR_NUMBER  # type: ignore[arg-type]
        assert set(NAMED_CHILDREN) <= set(session().scalars(select(Child.given_name)))


def test_every_demo_child_with_a_number_has_a_valid_one_matching_the_birth_date(app: Flask, db: Any) -> None:
    with app.app_context():
        key = app.config["IDENTITY_ENCRYPTION_KEY"].encode()
        for registered in session().scalars(select(Child).where(Child.identity_number_encrypted.is_not(None))):
            number = decrypt_identity_number(registered.identity_number_encrypted, key)  # type: ignore[arg-type]
            assert number.birth_date == registered.birth_date, registered.given_name


def test_baby_lund_is_registered_without_a_number(app: Flask, db: Any) -> None:
    with app.app_context():
        baby = session().scalar(select(Child).where(Child.given_name == "Baby", Child.family_name == "Lund"))
        assert baby is not None
        assert baby.identity_number_hash is None and baby.identity_number_encrypted is None
        assert baby.identity_number_missing_reason == "unborn"
        assert baby.reserve_number and baby.reserve_number.startswith("R-")
        assert baby.birth_date is None
        moment = loaded_at()
        assert moment is not None and baby.expected_birth_date is not None
        assert baby.expected_birth_date > moment.date()


def test_the_demo_has_at_least_29_children_each_with_exactly_one_current_child_contact(app: Flask, db: Any) -> None:
    with app.app_context():
        children = session().scalars(select(Child.id)).all()
        assert len(children) >= 29
        current = Counter(
            session().scalars(
                select(RoleAssignment.child_id).where(
                    RoleAssignment.role == "child_contact", RoleAssignment.ended_at.is_(None)
                )
            )
        )
        assert {child_id: current.get(child_id, 0) for child_id in children} == {child_id: 1 for child_id in children}


def test_custody_restrictions_and_identity_checks_in_the_demo(app: Flask, db: Any) -> None:
    with app.app_context():
        alva = child("Alva")
        links = {
            c.guardian.given_name: c for c in session().scalars(select(Custody).where(Custody.child_id == alva.id))
        }
        assert set(links) == {"Tomas", "Sofia"}
        assert links["Tomas"].is_restricted and links["Tomas"].restriction_note
        assert not links["Sofia"].is_restricted
        checked_guardians = {"lena", "ahmed", "petra", "tomas"}
        for username in checked_guardians:
            custody_links = (
                session().scalars(select(Custody).where(Custody.guardian_id == guardian_of_account(username).id)).all()
            )
            assert custody_links and all(c.identity_checked_at and c.identity_checked_by_id for c in custody_links), (
                username
            )
        unchecked = session().scalars(select(Custody).where(Custody.identity_checked_at.is_not(None))).all()
        checked_ids = {guardian_of_account(username).id for username in checked_guardians}
        assert {c.guardian_id for c in unchecked} == checked_ids, "nobody else is marked identity checked"


def test_siblings_and_roles_in_the_demo(app: Flask, db: Any) -> None:
    with app.app_context():
        liam, ella = child("Liam"), child("Ella")
        pairs = set(session().execute(select(SiblingLink.child_id, SiblingLink.sibling_id)).tuples())
        assert (min(liam.id, ella.id), max(liam.id, ella.id)) in pairs

        def agencies_where(username: str, flag: Any) -> set[str]:
            return set(
                session().scalars(
                    select(Agency.name)
                    .join(Membership, Membership.agency_id == Agency.id)
                    .where(Membership.staff_person_id == staff(username).id, flag)
                )
            )

        assert agencies_where("maria", Membership.is_agency_admin.is_(True)) == {"Ekby skola"}
        assert agencies_where("bodil", Membership.is_agency_admin.is_(True)) == {"BUP Ekby"}
        assert agencies_where("anna", Membership.is_agency_admin.is_(True)) == set()
        assert agencies_where("ida", Membership.is_intake.is_(True)) == {"Socialtjänsten Ekby"}
        intake_kinds = set(
            session().scalars(
                select(Agency.kind)
                .join(Membership, Membership.agency_id == Agency.id)
                .where(Membership.is_intake.is_(True))
            )
        )
        assert intake_kinds == {"social_services"}


def test_deactivating_a_support_coordinator_hands_the_role_back_to_the_child_contact(app, db) -> None:  # type: ignore[no-untyped-def]
    from agencies.models import Membership, StaffPerson
    from agencies.operations import deactivate_staff_person
    from coordination.access import SYSTEM_ACTOR
    from coordination.children.models import Child, RoleAssignment
    from coordination.children.operations import assign_support_coordinator
    from coordination.database import db as database

    with app.app_context():
        session = database.session
        johan = session.scalar(select(StaffPerson).where(StaffPerson.given_name == "Johan"))
        omar = session.scalar(select(Child).where(Child.given_name == "Omar"))
        # In the demo johan already is Omar's Support Coordinator (he accepted the Child Contact's request).
        if not session.scalar(
            select(RoleAssignment.id).where(
                RoleAssignment.child_id == omar.id,
                RoleAssignment.role == "support_coordinator",
                RoleAssignment.staff_person_id == johan.id,
                RoleAssignment.ended_at.is_(None),
            )
        ):
            membership = session.scalar(select(Membership).where(Membership.staff_person_id == johan.id))
            assign_support_coordinator(SYSTEM_ACTOR, omar, membership)
        deactivate_staff_person(SYSTEM_ACTOR, johan)
        current = session.scalars(
            select(RoleAssignment.role).where(RoleAssignment.child_id == omar.id, RoleAssignment.ended_at.is_(None))
        ).all()
        assert current == ["child_contact"], "the Child Contact keeps the plan; no Support Coordinator is current"
        ended = session.scalar(
            select(RoleAssignment).where(
                RoleAssignment.child_id == omar.id, RoleAssignment.role == "support_coordinator"
            )
        )
        assert ended.ended_at is not None and "Child Contact" in ended.end_reason
