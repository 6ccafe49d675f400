"""The consent-scoped plan view (RULES.md §4, §6, §7): each need and action decided for the viewer, the
rest withheld with the reason; an agency without consent sees only its own part and how to reach the plan
keeper; families see everything except what is withheld from guardians; protected identity withholds
names. Plans are built here with the models, for demo children, and the tests assert only on what they
made (the demo gets plans of its own later)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.exceptions import NotFound

from agencies.models import Agency, StaffPerson, Unit
from childplan.access import (
    KEEPER_NEEDS_CONSENT,
    OWN_PART_ONLY,
    PROTECTED,
    PlanView,
)
from childplan.models import Action, ActionArea, Goal, Need, NeedArea, Plan
from coordination.access import WITHHELD_AREAS, WITHHELD_NO_CONSENT, ChildAccess, get_child_or_404
from coordination.auth import _load_actor
from coordination.children.models import Child, RoleAssignment
from coordination.clock import now
from coordination.database import db as database
from coordination.models import Account, LoginSession

SCHOOL = "Ekby skola"
BUP = "BUP Ekby"
SOCIAL = "Socialtjänsten Ekby"
PUPIL_HEALTH = "Elevhälsan Ekby"


# -- building plans -------------------------------------------------------------------------------------
def child(name: str) -> Child:
    found = database.session.scalar(select(Child).where(Child.given_name == name))
    assert found is not None
    return found


def agency(name: str) -> Agency:
    found = database.session.scalar(select(Agency).where(Agency.name == name))
    assert found is not None, name
    return found


def person(username: str) -> StaffPerson:
    account = database.session.scalar(select(Account).where(Account.username == username))
    assert account is not None and account.staff_person is not None
    return account.staff_person


def plan_for(kid: Child, keeper_agency: Agency) -> Plan:
    """The child's plan (the demo may already have one later: reuse it), kept by ``keeper_agency``."""
    plan = database.session.scalar(select(Plan).where(Plan.child_id == kid.id))
    if plan is None:
        moment = now()
        plan = Plan(
            child_id=kid.id,
            agency_id=keeper_agency.id,
            why="Why: school attendance has fallen",
            created_at=moment,
            changed_at=moment,
        )
        database.session.add(plan)
        database.session.flush()
    return plan


def add_need(plan: Plan, owner: Agency, description: str, areas: list[str], withheld: bool = False) -> Need:
    need = Need(
        plan_id=plan.id,
        child_id=plan.child_id,
        agency_id=owner.id,
        description=description,
        areas=[NeedArea(area=code) for code in areas],
        is_withheld_from_guardians=withheld,
        withheld_reason="The young person asked" if withheld else None,
        created_at=now(),
    )
    database.session.add(need)
    database.session.flush()
    database.session.add(Goal(need_id=need.id, outcome=f"Goal of {description}", created_at=now()))
    database.session.flush()
    return need


def add_action(
    plan: Plan,
    owner: Agency,
    what: str,
    areas: list[str],
    *,
    need: Need | None = None,
    username: str | None = None,
    withheld: bool = False,
) -> Action:
    owner_person = person(username) if username else None
    unit = None
    if owner_person is not None:
        unit = next(m.unit for m in owner_person.memberships if m.agency_id == owner.id and m.ended_at is None)
    moment = now()
    action = Action(
        plan_id=plan.id,
        child_id=plan.child_id,
        need_id=need.id if need else None,
        what=what,
        owner_agency_id=owner.id,
        owner_unit_id=unit.id if unit else None,
        owner_person_id=owner_person.id if owner_person else None,
        areas=[ActionArea(area=code) for code in areas],
        is_withheld_from_guardians=withheld,
        withheld_reason="Noah asked; recorded by karin" if withheld else None,
        created_at=moment,
        changed_at=moment,
    )
    database.session.add(action)
    database.session.flush()
    return action


def ensure_support_coordinator(kid: Child, username: str, agency_name: str) -> None:
    current = database.session.scalar(
        select(RoleAssignment).where(
            RoleAssignment.child_id == kid.id,
            RoleAssignment.role == "support_coordinator",
            RoleAssignment.ended_at.is_(None),
        )
    )
    if current is None:
        database.session.add(
            RoleAssignment(
                child_id=kid.id,
                role="support_coordinator",
                staff_person_id=person(username).id,
                agency_id=agency(agency_name).id,
                started_at=now(),
            )
        )
        database.session.flush()


@contextmanager
def viewing(app: Flask, username: str, child_name: str) -> Iterator[ChildAccess]:
    """``get_child_or_404`` for a demo persona, inside a request context (as a page would)."""
    with app.test_request_context():
        account = database.session.scalar(select(Account).where(Account.username == username))
        actor = _load_actor(LoginSession(account=account, acting_membership_id=None))
        yield get_child_or_404(actor, child(child_name).public_id)


def guardian_id(username: str) -> int:
    account = database.session.scalar(select(Account).where(Account.username == username))
    assert account is not None and account.guardian_id is not None
    return account.guardian_id


def whats(view: PlanView) -> set[str]:
    return {action.what for action in view.actions}


# -- an agency without consent ------------------------------------------------------------------------
def test_the_police_have_no_relation_to_omar_so_there_is_no_plan_view(app: Flask, db: Any) -> None:
    with pytest.raises(NotFound), viewing(app, "erik", "Omar"):
        pass


def test_an_agency_without_consent_sees_neither_another_agencys_action_nor_the_need_it_serves(
    app: Flask, db: Any
) -> None:
    with app.app_context():
        leo = child("Leo")
        ensure_support_coordinator(leo, "johan", SOCIAL)
        plan = plan_for(leo, agency(SOCIAL))
        social_need = add_need(plan, agency(SOCIAL), "Social need: safety at home", ["safe"])
        add_action(plan, agency(SOCIAL), "Social action: home visits", ["safe"], need=social_need, username="johan")
        school_need = add_need(plan, agency(SCHOOL), "School need: reading", ["achieving"])
        add_action(plan, agency(SCHOOL), "School action: reading support", ["achieving"], need=school_need)
        add_action(plan, agency(SCHOOL), "School action: a calm place", [], need=social_need, username="lars")
        plan_id = plan.id
        database.session.commit()
    with viewing(app, "lars", "Leo") as access:  # the school's consent was withdrawn by Eva
        view = PlanView.for_actor(database.session.get(Plan, plan_id), access)
        johan = person_contact("johan")
    assert "Social action: home visits" not in whats(view)
    assert "Social need: safety at home" not in {need.description for need in view.needs}
    calm = next(action for action in view.actions if action.what == "School action: a calm place")
    assert calm.need_public_id is None and calm.need_description is None, "the need it serves is social services'"
    assert "safe" not in calm.areas, "nor the areas of that need"
    assert view.withheld == [], "no withheld lines: nothing tells lars what else the plan holds"
    assert view.texts is None and view.texts_withheld_reason == WITHHELD_NO_CONSENT
    assert SOCIAL not in view.agencies
    assert view.notices == [OWN_PART_ONLY]
    # …but its own part, with the need it owns, and how to reach the plan keeper (the Support Coordinator)
    reading = next(action for action in view.actions if action.what == "School action: reading support")
    assert reading.need_description == "School need: reading" and reading.is_own_agency
    assert "School need: reading" in {need.description for need in view.needs}
    assert view.keeper is not None and view.keeper.role == "support_coordinator"
    assert view.keeper.name == "Johan Dahl" and view.keeper.agency is None
    assert (view.keeper.email, view.keeper.phone) == johan


def person_contact(username: str) -> tuple[str | None, str | None]:
    staff = person(username)
    return staff.email, staff.phone


def test_a_keeper_whose_agency_lost_consent_sees_its_own_items_and_a_notice(app: Flask, db: Any) -> None:
    with app.app_context():
        leo = child("Leo")
        plan = plan_for(leo, agency(SOCIAL))
        add_action(plan, agency(SOCIAL), "Social action: family talks", ["nurtured"], username="johan")
        add_action(plan, agency(SCHOOL), "School action: homework club", ["achieving"])
        plan_id = plan.id
        database.session.commit()
    with viewing(app, "maria", "Leo") as access:  # the Child Contact; the school's consent was withdrawn
        view = PlanView.for_actor(database.session.get(Plan, plan_id), access)
    assert "Social action: family talks" not in whats(view)
    assert view.notices == [KEEPER_NEEDS_CONSENT]
    assert "School action: homework club" in whats(view)


# -- consent that does not cover the areas -------------------------------------------------------------
def test_a_need_outside_the_areas_of_the_viewers_consent_is_withheld_with_the_reason(app: Flask, db: Any) -> None:
    with app.app_context():
        noah = child("Noah")
        plan = plan_for(noah, agency(SCHOOL))
        school_need = add_need(plan, agency(SCHOOL), "School need: maths", ["achieving"])
        add_action(plan, agency(SCHOOL), "School action: maths tutor", [], need=school_need)
        health_need = add_need(plan, agency(SCHOOL), "School need: sleep", ["healthy"])
        add_action(plan, agency(BUP), "BUP action: sleep assessment", ["healthy"], need=health_need, username="karin")
        plan_id, school_need_id = plan.id, school_need.public_id
        database.session.commit()
    with viewing(app, "karin", "Noah") as access:  # BUP's consent: healthy and nurtured only (Noah's own)
        view = PlanView.for_actor(database.session.get(Plan, plan_id), access)
    assert "School need: maths" not in {need.description for need in view.needs}
    assert "School action: maths tutor" not in whats(view)
    assert school_need_id not in {need.public_id for need in view.needs}
    reasons = {(line.kind, line.reason) for line in view.withheld}
    assert ("need", WITHHELD_AREAS) in reasons and ("action", WITHHELD_AREAS) in reasons
    assert all(line.agency == SCHOOL for line in view.withheld)
    assert view.texts is None and view.texts_withheld_reason == WITHHELD_AREAS, "the plan texts cover every area"
    assert {str(line.reason_text) for line in view.withheld} == {
        "Withheld: your agency's consent does not cover the areas of this item"
    }
    # …while the school need in "healthy" and BUP's own action are shown
    sleep = next(action for action in view.actions if action.what == "BUP action: sleep assessment")
    assert sleep.need_description == "School need: sleep" and sleep.person == "Karin Vik"
    assert view.notices == []


def test_a_consented_team_agency_sees_another_agencys_action(app: Flask, db: Any) -> None:
    with app.app_context():
        omar = child("Omar")
        plan = plan_for(omar, agency(SCHOOL))
        need = add_need(plan, agency(BUP), "BUP need: anxiety", ["healthy"])
        add_action(plan, agency(BUP), "BUP action: CBT sessions", ["healthy"], need=need, username="karin")
        plan_id = plan.id
        database.session.commit()
    with viewing(app, "lars", "Omar") as access:  # every agency consented, all areas
        view = PlanView.for_actor(database.session.get(Plan, plan_id), access)
    cbt = next(action for action in view.actions if action.what == "BUP action: CBT sessions")
    assert cbt.agency == BUP and cbt.person == "Karin Vik" and not cbt.is_own_agency
    assert cbt.need_description == "BUP need: anxiety" and cbt.areas == ("healthy",)
    need_line = next(line for line in view.needs if line.description == "BUP need: anxiety")
    assert need_line.goals[0].outcome == "Goal of BUP need: anxiety"
    assert view.texts is not None and view.texts.why is not None
    assert not [line for line in view.withheld if line.agency == BUP]


# -- protected identity --------------------------------------------------------------------------------
def test_staff_outside_a_protected_childs_team_get_no_names(app: Flask, db: Any) -> None:
    with app.app_context():
        alva = child("Alva")
        plan = plan_for(alva, agency(SCHOOL))
        add_action(plan, agency(BUP), "BUP action: assessment for Alva", ["healthy"], username="karin")
        plan_id = plan.id
        database.session.commit()
    with viewing(app, "karin", "Alva") as access:  # an action owner, not on the team
        view = PlanView.for_actor(database.session.get(Plan, plan_id), access)
    action = next(line for line in view.actions if line.what == "BUP action: assessment for Alva")
    assert action.person is None and action.unit is None
    assert view.keeper is not None and view.keeper.name is None and view.keeper.phone is None
    assert view.keeper.email is None and view.keeper.withheld_reason == PROTECTED
    with viewing(app, "maria", "Alva") as access:  # the Child Contact sees the names
        view = PlanView.for_actor(database.session.get(Plan, plan_id), access)
    action = next(line for line in view.actions if line.what == "BUP action: assessment for Alva")
    assert action.person == "Karin Vik" and action.unit is not None


# -- families ------------------------------------------------------------------------------------------
def test_a_guardian_never_sees_what_is_withheld_from_guardians_nor_an_agency_involved_only_through_it(
    app: Flask, db: Any
) -> None:
    with app.test_request_context():
        noah = child("Noah")
        plan = plan_for(noah, agency(SCHOOL))
        add_action(plan, agency(SCHOOL), "School action: study plan", ["achieving"], username="lars")
        add_action(plan, agency(BUP), "BUP action: talks with Noah", ["healthy"], username="karin", withheld=True)
        hidden_need = add_need(plan, agency(SCHOOL), "School need: private matter", ["nurtured"], withheld=True)
        add_action(plan, agency(SCHOOL), "School action: serving the private need", [], need=hidden_need)
        petra_view = PlanView.for_family(plan, noah, "guardian", guardian_id("petra"))
        noah_view = PlanView.for_family(plan, noah, "young_person")
    assert "BUP action: talks with Noah" not in whats(petra_view)
    assert BUP not in petra_view.agencies
    assert "School need: private matter" not in {need.description for need in petra_view.needs}
    assert "School action: serving the private need" not in whats(petra_view)
    assert not any(line.withheld_from_guardians for line in petra_view.actions + petra_view.needs)  # type: ignore[operator]
    assert "School action: study plan" in whats(petra_view)
    assert petra_view.keeper is not None and petra_view.keeper.name == "Maria Holm"
    # the young person sees them, marked
    talks = next(action for action in noah_view.actions if action.what == "BUP action: talks with Noah")
    assert talks.withheld_from_guardians and BUP in noah_view.agencies
    assert "School need: private matter" in {need.description for need in noah_view.needs}


def test_a_restricted_guardian_of_a_protected_child_gets_the_switchboard_not_names(app: Flask, db: Any) -> None:
    with app.test_request_context():
        alva = child("Alva")
        plan = plan_for(alva, agency(SCHOOL))
        add_action(plan, agency(SCHOOL), "School action: a quiet start", ["achieving"], username="maria")
        view = PlanView.for_family(plan, alva, "guardian", guardian_id("tomas"))
        switchboard = app.config["SWITCHBOARD_PHONE"]
    action = next(line for line in view.actions if line.what == "School action: a quiet start")
    assert action.person is None and action.unit is None
    assert view.keeper is not None and view.keeper.name is None and view.keeper.email is None
    assert view.keeper.phone is None and view.keeper.switchboard == switchboard
    assert action.agency == SCHOOL


# -- statements ----------------------------------------------------------------------------------------
def _count_for(app: Flask, count_queries: Any, plan_id: int) -> int:
    with viewing(app, "maria", "Omar") as access:
        plan = database.session.get(Plan, plan_id)
        with count_queries() as counter:
            view = PlanView.for_actor(plan, access)
        assert view.actions
        return counter.count


def test_the_plan_view_runs_a_fixed_number_of_statements(app: Flask, db: Any, count_queries: Any) -> None:
    with app.app_context():
        omar = child("Omar")
        plan = plan_for(omar, agency(SCHOOL))
        units = {unit.agency_id: unit for unit in database.session.scalars(select(Unit))}
        owners = [agency(SCHOOL), agency(BUP), agency(SOCIAL), agency(PUPIL_HEALTH)]

        def add(count: int) -> None:
            for number in range(count):
                owner = owners[number % len(owners)]
                need = add_need(plan, owner, f"Need {number}", ["healthy", "safe"])
                action = add_action(plan, owner, f"Action {number}", ["achieving"], need=need)
                action.owner_unit_id = units[owner.id].id
            database.session.flush()

        add(10)
        plan_id = plan.id
        database.session.commit()
    ten = _count_for(app, count_queries, plan_id)
    with app.app_context():
        plan = database.session.get(Plan, plan_id)
        add(90)
        database.session.commit()
    hundred = _count_for(app, count_queries, plan_id)
    # the plan, its needs with their areas, their goals, its actions with their areas, the names of the
    # agencies, units and people the items name, the plan keeper
    assert ten == hundred == 8
