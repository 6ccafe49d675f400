"""The Child's Plan's write operations (issue 5): starting a plan, needs and goals, actions (added,
adopted from a meeting's decision, changed by their owner), published versions, closing, and items
withheld from guardians. Negatives first: who may not write, and every bad input the issue lists, each
refused with a message for its field and nothing written. Then what the writes do."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, update

from childplan.models import PLAN_TEXT_MAX, Action, Goal, Need, Plan, PlanVersion
from childplan.operations import (
    ActionData,
    ActionUpdateData,
    GoalData,
    NeedData,
    PlanData,
    StaleAction,
    add_action,
    add_goal,
    add_need,
    adopt_decision,
    close_plan,
    mark_withheld_from_guardians,
    publish_version,
    start_plan,
    update_action,
)
from coordination.children.models import RoleAssignment
from coordination.clock import now, today
from coordination.database import db as database
from coordination.errors import OperationError
from coordination.models import AuditEvent
from coordination.teams.models import MeetingDecision, TeamMember
from tests.teams.support import (
    BUP,
    CLASS_4_6,
    POLICE,
    SCHOOL,
    SOCIAL,
    Family,
    agency,
    insert_meetings,
    make_family,
    membership,
    person,
    unit,
)

WRITES = (
    "start_plan",
    "add_plan_need",
    "add_plan_goal",
    "add_plan_action",
    "update_plan_action",
    "publish_plan_version",
    "close_plan",
    "withhold_plan_item",
)


def _actor_of(username: str):  # type: ignore[no-untyped-def]
    from agencies.models import Membership
    from coordination.access import Actor
    from coordination.models import Account

    account = database.session.scalar(select(Account).where(Account.username == username))
    assert account is not None
    memberships = tuple(
        database.session.scalars(
            select(Membership).where(
                Membership.staff_person_id == account.staff_person_id, Membership.ended_at.is_(None)
            )
        )
    )
    acting = memberships[0].agency
    return Actor(account, acting, tuple(m for m in memberships if m.agency_id == acting.id))


def _counts(child_id: int) -> tuple[int, ...]:
    """Everything the plan's writes can create or change for one child (the session's pending changes
    are flushed first, so a refusal that left something behind shows here)."""
    session = database.session

    def count(model: Any, *conditions: Any) -> int:
        return session.scalar(select(func.count()).select_from(model).where(*conditions)) or 0

    return (
        count(Plan, Plan.child_id == child_id),
        count(Need, Need.child_id == child_id),
        count(Goal, Goal.need_id.in_(select(Need.id).where(Need.child_id == child_id))),
        count(Action, Action.child_id == child_id),
        count(PlanVersion, PlanVersion.plan_id.in_(select(Plan.id).where(Plan.child_id == child_id))),
        count(
            AuditEvent,
            AuditEvent.child_id == child_id,
            AuditEvent.outcome == "allowed",
            AuditEvent.action.in_(WRITES),
        ),
        count(MeetingDecision, MeetingDecision.child_id == child_id, MeetingDecision.adopted_at.is_not(None)),
        count(Action, Action.child_id == child_id, Action.status != "planned"),
        count(Action, Action.child_id == child_id, Action.is_withheld_from_guardians.is_(True)),
        count(Plan, Plan.child_id == child_id, Plan.status == "closed"),
    )


def _refused(child_id: int, call: Any, field: str, error: type[OperationError] = OperationError) -> str:
    """The call is refused for ``field`` and nothing is written."""
    before = _counts(child_id)
    with pytest.raises(error) as refused:
        call()
    assert refused.value.field == field, (refused.value.field, refused.value.message)
    assert _counts(child_id) == before
    return refused.value.message


def _add_to_team(family: Family, given_name: str, agency_name: str) -> None:
    found = membership(given_name, agency_name)
    database.session.add(
        TeamMember(
            child_id=family.child_id,
            staff_person_id=found.staff_person_id,
            agency_id=found.agency_id,
            unit_id=found.unit_id,
            joined_at=now(),
        )
    )
    database.session.flush()


def _appoint_coordinator(family: Family, given_name: str, agency_name: str) -> None:
    found = membership(given_name, agency_name)
    database.session.add(
        RoleAssignment(
            child_id=family.child_id,
            role="support_coordinator",
            staff_person_id=found.staff_person_id,
            agency_id=found.agency_id,
            started_at=now(),
        )
    )
    database.session.flush()


def _school_action(**changes: Any) -> ActionData:
    values: dict[str, Any] = {
        "what": "Reading support twice a week",
        "owner_agency_id": agency(SCHOOL).id,
        "owner_unit_id": unit(CLASS_4_6).id,
        "owner_person_id": person("Lars").id,
        "starts_on": today(),
        "due_on": today() + timedelta(days=30),
        "areas": ["achieving"],
    }
    values.update(changes)
    return ActionData(**values)


def _bup_action(**changes: Any) -> ActionData:
    karin = membership("Karin", BUP)
    values: dict[str, Any] = {
        "what": "An assessment at BUP",
        "owner_agency_id": karin.agency_id,
        "owner_unit_id": karin.unit_id,
        "owner_person_id": karin.staff_person_id,
        "due_on": today() + timedelta(days=20),
        "areas": ["healthy"],
    }
    values.update(changes)
    return ActionData(**values)


@pytest.fixture()
def family(app: Flask, db: Any) -> Family:
    """A fresh child: maria (school) its Child Contact and so the plan keeper; karin (BUP) on its team."""
    made = make_family(app)
    with app.app_context():
        _add_to_team(made, "Karin", BUP)
        database.session.commit()
    return made


def _started(family: Family) -> Plan:
    return start_plan(_actor_of("maria"), family.child(), PlanData("Reading is hard", "Maria, the school"))


# -- who may write ------------------------------------------------------------------------------------------
def test_only_the_plan_keeper_starts_the_plan_and_adds_needs_goals_and_publishes(app: Flask, family: Family) -> None:
    with app.app_context():
        child = family.child()
        for username in ("lars", "karin", "erik", "johan"):
            _refused(family.child_id, lambda u=username: start_plan(_actor_of(u), child, PlanData("Why")), "form")
        plan = _started(family)
        need = add_need(_actor_of("maria"), plan, NeedData("Reading", ["achieving"]))
        for username in ("lars", "karin", "erik"):
            actor = _actor_of(username)
            _refused(family.child_id, lambda a=actor: add_need(a, plan, NeedData("Sleep", ["healthy"])), "form")
            _refused(family.child_id, lambda a=actor: add_goal(a, need, GoalData("Reads aloud")), "form")
            _refused(family.child_id, lambda a=actor: publish_version(a, plan), "form")
            _refused(family.child_id, lambda a=actor: close_plan(a, plan, "goals_met", None), "form")
            _refused(family.child_id, lambda a=actor: adopt_decision(a, plan, None), "form")  # type: ignore[arg-type]


def test_the_child_contact_is_not_the_keeper_once_there_is_a_support_coordinator(app: Flask, family: Family) -> None:
    with app.app_context():
        _appoint_coordinator(family, "Johan", SOCIAL)
        _refused(family.child_id, lambda: _started(family), "form")
        plan = start_plan(_actor_of("johan"), family.child(), PlanData("Johan keeps it"))
        assert plan.agency_id == agency(SOCIAL).id


def test_a_child_has_one_plan(app: Flask, family: Family) -> None:
    with app.app_context():
        _started(family)
        message = _refused(family.child_id, lambda: _started(family), "form")
        assert "already has a plan" in message


# -- bad input ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("case", "field"),
    [
        ("due_before_start", "due_on"),
        ("no_owner", "owner_agency"),
        ("no_what", "what"),
        ("unit_of_another_agency", "owner_unit"),
        ("person_of_another_agency", "owner_person"),
        ("no_need_and_no_area", "areas"),
        ("unknown_area", "areas"),
        ("what_too_long", "what"),
    ],
)
def test_a_bad_action_is_refused_for_its_field_and_nothing_is_written(
    app: Flask, family: Family, case: str, field: str
) -> None:
    with app.app_context():
        plan = _started(family)
        data = {
            "due_before_start": _school_action(starts_on=today(), due_on=today() - timedelta(days=1)),
            "no_owner": _school_action(owner_agency_id=None, owner_unit_id=None, owner_person_id=None),
            "no_what": _school_action(what="   "),
            "unit_of_another_agency": _school_action(owner_unit_id=membership("Karin", BUP).unit_id),
            "person_of_another_agency": _school_action(owner_person_id=person("Karin").id),
            "no_need_and_no_area": _school_action(areas=[]),
            "unknown_area": _school_action(areas=["achieving", "nonsense"]),
            "what_too_long": _school_action(what="x" * (PLAN_TEXT_MAX + 1)),
        }[case]
        _refused(family.child_id, lambda: add_action(_actor_of("maria"), plan, data), field)


def test_an_action_for_a_need_of_another_plan_is_refused(app: Flask, family: Family) -> None:
    other = make_family(app)
    with app.app_context():
        plan = _started(family)
        other_plan = _started(other)
        other_need = add_need(_actor_of("maria"), other_plan, NeedData("Sleep", ["healthy"]))
        data = _school_action(need_id=other_need.id, areas=[])
        _refused(family.child_id, lambda: add_action(_actor_of("maria"), plan, data), "need")


def test_an_owner_agency_not_on_the_team_is_refused_while_an_agency_adds_its_own_action(
    app: Flask, family: Family
) -> None:
    with app.app_context():
        _appoint_coordinator(family, "Johan", SOCIAL)  # the keeper is social services; the school is not on the team
        plan = start_plan(_actor_of("johan"), family.child(), PlanData("Johan keeps it"))
        johan = _actor_of("johan")
        erik = membership("Erik", POLICE)
        police = ActionData("Talk to the family", erik.agency_id, erik.unit_id, erik.staff_person_id, areas=["safe"])
        message = _refused(family.child_id, lambda: add_action(johan, plan, police), "owner_agency")
        assert "team" in message
        _refused(family.child_id, lambda: add_action(johan, plan, _school_action()), "owner_agency")
        # another agency's staff adds only actions their own agency owns
        _refused(family.child_id, lambda: add_action(_actor_of("karin"), plan, _school_action()), "owner_agency")
        # the police have no relation to the child: not even their own action
        _refused(family.child_id, lambda: add_action(_actor_of("erik"), plan, police), "form")

        own = add_action(_actor_of("lars"), plan, _school_action())  # the school owns its own action
        assert own.owner_agency_id == agency(SCHOOL).id
        bup = add_action(johan, plan, _bup_action())  # BUP is on the team
        mine = add_action(johan, plan, _school_action(**_social_owner()))  # the keeper's own agency
        assert {bup.owner_agency_id, mine.owner_agency_id} == {agency(BUP).id, agency(SOCIAL).id}
        bases = dict(
            database.session.execute(
                select(AuditEvent.object_id, AuditEvent.legal_basis).where(AuditEvent.action == "add_plan_action")
            ).all()
        )
        assert bases[own.public_id] == "relation_unit"
        assert bases[bup.public_id] == "relation_support_coordinator"


def _social_owner() -> dict[str, Any]:
    johan = membership("Johan", SOCIAL)
    return {
        "owner_agency_id": johan.agency_id,
        "owner_unit_id": johan.unit_id,
        "owner_person_id": johan.staff_person_id,
    }


@pytest.mark.parametrize(
    ("case", "field"),
    [
        ("why_missing", "why"),
        ("why_too_long", "why"),
        ("responsibility_too_long", "overall_responsibility"),
    ],
)
def test_a_bad_plan_is_refused(app: Flask, family: Family, case: str, field: str) -> None:
    with app.app_context():
        data = {
            "why_missing": PlanData(" "),
            "why_too_long": PlanData("x" * (PLAN_TEXT_MAX + 1)),
            "responsibility_too_long": PlanData("Why", "x" * (PLAN_TEXT_MAX + 1)),
        }[case]
        _refused(family.child_id, lambda: start_plan(_actor_of("maria"), family.child(), data), field)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (NeedData("", ["achieving"]), "description"),
        (NeedData("Reading", []), "areas"),
        (NeedData("Reading", ["nonsense"]), "areas"),
        (NeedData("x" * (PLAN_TEXT_MAX + 1), ["achieving"]), "description"),
        (NeedData("Reading", ["achieving"], strengths="x" * (PLAN_TEXT_MAX + 1)), "strengths"),
        (NeedData("Reading", ["achieving"], getting_in_the_way="x" * (PLAN_TEXT_MAX + 1)), "getting_in_the_way"),
    ],
)
def test_a_bad_need_is_refused(app: Flask, family: Family, data: NeedData, field: str) -> None:
    with app.app_context():
        plan = _started(family)
        _refused(family.child_id, lambda: add_need(_actor_of("maria"), plan, data), field)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (GoalData(None), "outcome"),
        (GoalData("x" * (PLAN_TEXT_MAX + 1)), "outcome"),
        (GoalData("Reads aloud", "x" * (PLAN_TEXT_MAX + 1)), "evidence"),
    ],
)
def test_a_bad_goal_is_refused(app: Flask, family: Family, data: GoalData, field: str) -> None:
    with app.app_context():
        plan = _started(family)
        need = add_need(_actor_of("maria"), plan, NeedData("Reading", ["achieving"]))
        _refused(family.child_id, lambda: add_goal(_actor_of("maria"), need, data), field)


def test_publishing_an_empty_plan_is_refused(app: Flask, family: Family) -> None:
    with app.app_context():
        plan = _started(family)
        _refused(family.child_id, lambda: publish_version(_actor_of("maria"), plan), "form")


def test_closing_needs_a_known_reason_and_other_needs_a_note(app: Flask, family: Family) -> None:
    with app.app_context():
        plan = _started(family)
        maria = _actor_of("maria")
        _refused(family.child_id, lambda: close_plan(maria, plan, None, "Done"), "reason")
        _refused(family.child_id, lambda: close_plan(maria, plan, "bored", "Done"), "reason")
        _refused(family.child_id, lambda: close_plan(maria, plan, "other", "  "), "note")
        _refused(family.child_id, lambda: close_plan(maria, plan, "other", "x" * (PLAN_TEXT_MAX + 1)), "note")
        assert plan.status == "active"


def test_a_closed_plan_refuses_every_edit(app: Flask, family: Family) -> None:
    with app.app_context():
        maria = _actor_of("maria")
        plan = _started(family)
        need = add_need(maria, plan, NeedData("Reading", ["achieving"]))
        action = add_action(maria, plan, _school_action())
        bup = add_action(maria, plan, _bup_action())
        close_plan(maria, plan, "goals_met", None)
        assert plan.status == "closed" and plan.closed_at is not None
        child_id = family.child_id
        _refused(child_id, lambda: add_need(maria, plan, NeedData("Sleep", ["healthy"])), "form")
        _refused(child_id, lambda: add_goal(maria, need, GoalData("Reads aloud")), "form")
        _refused(child_id, lambda: add_action(maria, plan, _school_action()), "form")
        _refused(child_id, lambda: add_action(_actor_of("lars"), plan, _school_action()), "form")
        _refused(
            child_id, lambda: update_action(maria, action, action.version, ActionUpdateData("in_progress")), "form"
        )
        _refused(child_id, lambda: publish_version(maria, plan), "form")
        _refused(child_id, lambda: close_plan(maria, plan, "goals_met", None), "form")
        _refused(child_id, lambda: mark_withheld_from_guardians(_actor_of("karin"), bup, "Noah asked"), "form")


# -- actions: changing them ---------------------------------------------------------------------------------
def test_only_the_owner_or_the_keeper_changes_an_action(app: Flask, family: Family) -> None:
    with app.app_context():
        plan = _started(family)
        bup = add_action(_actor_of("maria"), plan, _bup_action())
        for username in ("lars", "erik", "johan"):
            actor = _actor_of(username)
            _refused(
                family.child_id, lambda a=actor: update_action(a, bup, bup.version, ActionUpdateData("done")), "form"
            )
        update_action(_actor_of("karin"), bup, 1, ActionUpdateData("in_progress", progress_note="First visit booked"))
        update_action(_actor_of("maria"), bup, 2, ActionUpdateData("done"))
        assert (bup.status, bup.version) == ("done", 3)


def test_a_practitioner_of_the_owning_unit_changes_an_action_without_a_person(app: Flask, family: Family) -> None:
    with app.app_context():
        plan = _started(family)
        action = add_action(_actor_of("maria"), plan, _school_action(owner_person_id=None))
        update_action(_actor_of("lars"), action, action.version, ActionUpdateData("in_progress"))
        assert action.status == "in_progress"
        basis = database.session.scalar(
            select(AuditEvent.legal_basis).where(
                AuditEvent.action == "update_plan_action", AuditEvent.object_id == action.public_id
            )
        )
        assert basis == "relation_action_owner"


def test_a_stale_version_is_refused(app: Flask, family: Family) -> None:
    with app.app_context():
        plan = _started(family)
        action = add_action(_actor_of("maria"), plan, _school_action())
        update_action(_actor_of("lars"), action, 1, ActionUpdateData("in_progress"))
        message = _refused(
            family.child_id,
            lambda: update_action(_actor_of("maria"), action, 1, ActionUpdateData("done")),
            "form",
            StaleAction,
        )
        assert "changed" in message
        _refused(
            family.child_id,
            lambda: update_action(_actor_of("maria"), action, None, ActionUpdateData("done")),
            "form",
            StaleAction,
        )
        assert (action.status, action.version) == ("in_progress", 2)


def test_two_editors_of_the_same_version_cannot_both_win(app: Flask, family: Family) -> None:
    """The version check is the conditional UPDATE itself: another transaction's bump (not yet seen by this
    session's object) makes the claim fail."""
    with app.app_context():
        plan = _started(family)
        action = add_action(_actor_of("maria"), plan, _school_action())
        database.session.execute(update(Action.__table__).where(Action.__table__.c.id == action.id).values(version=2))
        assert action.version == 1  # this session still holds the version the form was shown with
        with pytest.raises(StaleAction):
            update_action(_actor_of("lars"), action, 1, ActionUpdateData("done"))


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (ActionUpdateData(None), "status"),
        (ActionUpdateData("finished"), "status"),
        (ActionUpdateData("stopped"), "stop_reason"),
        (ActionUpdateData("stopped", stop_reason="x" * 1001), "stop_reason"),
        (ActionUpdateData("in_progress", progress_note="x" * (PLAN_TEXT_MAX + 1)), "progress_note"),
    ],
)
def test_a_bad_action_change_is_refused(app: Flask, family: Family, data: ActionUpdateData, field: str) -> None:
    with app.app_context():
        plan = _started(family)
        action = add_action(_actor_of("maria"), plan, _school_action())
        _refused(family.child_id, lambda: update_action(_actor_of("lars"), action, 1, data), field)
        assert action.version == 1


def test_a_stopped_action_keeps_its_reason_and_a_restarted_one_drops_it(app: Flask, family: Family) -> None:
    with app.app_context():
        plan = _started(family)
        action = add_action(_actor_of("maria"), plan, _school_action())
        update_action(_actor_of("lars"), action, 1, ActionUpdateData("stopped", stop_reason="The family moved"))
        assert (action.status, action.stop_reason) == ("stopped", "The family moved")
        update_action(_actor_of("lars"), action, 2, ActionUpdateData("in_progress", stop_reason="ignored"))
        assert (action.status, action.stop_reason) == ("in_progress", None)


# -- adopting a meeting's decision --------------------------------------------------------------------------
def test_a_decision_is_adopted_once_as_an_action_with_its_owner_and_due_date(app: Flask, family: Family) -> None:
    insert_meetings(app, family, 1, decisions=2, held=True)
    with app.app_context():
        plan = _started(family)
        maria = _actor_of("maria")
        decision = database.session.scalar(
            select(MeetingDecision).where(MeetingDecision.child_id == family.child_id).order_by(MeetingDecision.id)
        )
        assert decision is not None
        action = adopt_decision(maria, plan, decision)
        assert action.decision_id == decision.id and decision.adopted_at is not None
        assert (action.what, action.owner_agency_id, action.owner_unit_id, action.owner_person_id, action.due_on) == (
            decision.text,
            decision.owner_agency_id,
            decision.owner_unit_id,
            decision.owner_person_id,
            decision.due_on,
        )
        assert action.area_codes == frozenset(area.area for area in decision.areas)
        message = _refused(family.child_id, lambda: adopt_decision(maria, plan, decision), "form")
        assert "already" in message


def test_a_decision_of_another_child_or_without_an_owner_is_not_adopted(app: Flask, family: Family) -> None:
    other = make_family(app)
    insert_meetings(app, other, 1, decisions=1, held=True)
    insert_meetings(app, family, 1, decisions=1, held=True)
    with app.app_context():
        plan = _started(family)
        maria = _actor_of("maria")
        foreign = database.session.scalar(select(MeetingDecision).where(MeetingDecision.child_id == other.child_id))
        _refused(family.child_id, lambda: adopt_decision(maria, plan, foreign), "form")
        ownerless = database.session.scalar(select(MeetingDecision).where(MeetingDecision.child_id == family.child_id))
        assert ownerless is not None
        ownerless.owner_agency_id = ownerless.owner_unit_id = ownerless.owner_person_id = None
        database.session.flush()
        _refused(family.child_id, lambda: adopt_decision(maria, plan, ownerless), "form")


# -- withheld from guardians --------------------------------------------------------------------------------
def test_only_staff_of_the_owning_agency_withhold_an_item_with_a_reason(app: Flask, family: Family) -> None:
    with app.app_context():
        plan = _started(family)
        bup = add_action(_actor_of("maria"), plan, _bup_action())
        need = add_need(_actor_of("maria"), plan, NeedData("Reading", ["achieving"]))
        for username in ("maria", "lars", "erik"):  # the keeper too: it is BUP's record
            _refused(
                family.child_id, lambda u=username: mark_withheld_from_guardians(_actor_of(u), bup, "Asked"), "form"
            )
        _refused(family.child_id, lambda: mark_withheld_from_guardians(_actor_of("karin"), need, "Asked"), "form")
        _refused(family.child_id, lambda: mark_withheld_from_guardians(_actor_of("karin"), bup, "  "), "reason")
        _refused(family.child_id, lambda: mark_withheld_from_guardians(_actor_of("karin"), bup, "x" * 1001), "reason")
        mark_withheld_from_guardians(_actor_of("karin"), bup, "The young person asked")
        mark_withheld_from_guardians(_actor_of("maria"), need, "Ongoing assessment")
        assert (bup.is_withheld_from_guardians, bup.withheld_reason) == (True, "The young person asked")
        assert need.is_withheld_from_guardians
        bases = database.session.scalars(
            select(AuditEvent.legal_basis).where(
                AuditEvent.action == "withhold_plan_item", AuditEvent.child_id == family.child_id
            )
        ).all()
        assert bases == ["own_agency_record", "own_agency_record"]


# -- what the writes do -------------------------------------------------------------------------------------
def test_the_keeper_builds_a_plan_and_every_write_is_audited_on_the_keepers_relation(
    app: Flask, family: Family
) -> None:
    with app.app_context():
        maria = _actor_of("maria")
        plan = _started(family)
        assert (plan.agency_id, plan.why, plan.overall_responsibility, plan.status) == (
            agency(SCHOOL).id,
            "Reading is hard",
            "Maria, the school",
            "active",
        )
        need = add_need(maria, plan, NeedData(" Reading ", ["safe", "achieving"], "Loves stories", "Noise"))
        assert (need.description, need.area_codes, need.agency_id) == (
            "Reading",
            frozenset({"safe", "achieving"}),
            agency(SCHOOL).id,
        )
        goal = add_goal(maria, need, GoalData("Reads a chapter book", "The teacher hears him read"))
        action = add_action(maria, plan, _school_action(need_id=need.id, areas=[]))
        assert action.area_codes == need.area_codes and goal.need_id == need.id
        rows = database.session.execute(
            select(AuditEvent.action, AuditEvent.legal_basis).where(
                AuditEvent.child_id == family.child_id, AuditEvent.action.in_(WRITES)
            )
        ).all()
        assert sorted(rows) == sorted(
            [
                ("start_plan", "relation_child_contact"),
                ("add_plan_need", "relation_child_contact"),
                ("add_plan_goal", "relation_child_contact"),
                ("add_plan_action", "relation_child_contact"),
            ]
        )


def test_a_published_version_is_frozen_and_numbered(app: Flask, family: Family) -> None:
    with app.app_context():
        maria = _actor_of("maria")
        plan = _started(family)
        need = add_need(maria, plan, NeedData("Reading", ["achieving"]))
        add_goal(maria, need, GoalData("Reads aloud"))
        action = add_action(maria, plan, _school_action(need_id=need.id))
        first = publish_version(maria, plan)
        assert first.number == 1
        frozen = first.content
        assert frozen["needs"][0]["goals"][0]["outcome"] == "Reads aloud"
        published_action = frozen["actions"][0]
        assert published_action["owner_agency"]["name"] == SCHOOL
        assert published_action["owner_person"]["name"] == person("Lars").full_name
        assert published_action["status"] == "planned" and published_action["need"] == need.public_id
        assert "id" not in published_action and "owner_agency_id" not in published_action
        snapshot = repr(frozen)

        update_action(_actor_of("lars"), action, 1, ActionUpdateData("done", progress_note="Reads well"))
        add_need(maria, plan, NeedData("Sleep", ["healthy"]))
        second = publish_version(maria, plan)
        database.session.flush()
        database.session.expire_all()
        first_again = database.session.get(PlanVersion, first.id)
        assert first_again is not None and repr(first_again.content) == snapshot
        assert second.number == 2
        assert len(second.content["needs"]) == 2 and second.content["actions"][0]["status"] == "done"


def test_the_plans_events_land_in_the_chronology_in_the_items_areas(app: Flask, family: Family) -> None:
    from coordination.chronology.models import ChronologyEntry

    with app.app_context():
        maria = _actor_of("maria")
        plan = _started(family)
        need = add_need(maria, plan, NeedData("Reading", ["achieving"]))
        action = add_action(maria, plan, _school_action(need_id=need.id))
        update_action(maria, action, action.version, ActionUpdateData("in_progress", progress_note="Started"))
        publish_version(maria, plan)
        close_plan(maria, plan, "goals_met", None)
        entries = database.session.scalars(
            select(ChronologyEntry)
            .where(ChronologyEntry.child_id == family.child_id, ChronologyEntry.kind.like("plan_%"))
            .order_by(ChronologyEntry.id)
        ).all()
        kinds = [entry.kind for entry in entries]
        assert kinds == [
            "plan_started",
            "plan_need_added",
            "plan_action_added",
            "plan_action_changed",
            "plan_version_published",
            "plan_closed",
        ]
        by_kind = {entry.kind: entry for entry in entries}
        assert by_kind["plan_need_added"].area_codes == {"achieving"}
        assert {entry.audience for entry in entries} == {"coordination"}


def test_a_published_version_cannot_be_changed_or_deleted(app: Flask, family: Family) -> None:
    """Editing a frozen version: no page offers it, and the model
    refuses an UPDATE or DELETE of a published version before it reaches the database."""
    from childplan.models import FrozenVersionError

    with app.app_context():
        maria = _actor_of("maria")
        plan = _started(family)
        add_need(maria, plan, NeedData("Reading", ["achieving"]))
        version = publish_version(maria, plan)
        database.session.commit()
        version.content = {**version.content, "why": "Rewritten history"}
        with pytest.raises(FrozenVersionError):
            database.session.flush()
        database.session.rollback()
        database.session.delete(database.session.get(PlanVersion, version.id))
        with pytest.raises(FrozenVersionError):
            database.session.flush()
        database.session.rollback()
        assert database.session.get(PlanVersion, version.id).content.get("why") != "Rewritten history"
