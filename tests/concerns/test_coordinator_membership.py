"""The Support Coordinator who accepts is a member of the child's team (issue 16): in the acceptance's
transaction, audited, in the chronology, idempotent. Negatives first: a decline, a late acceptance
("taken") and a refused acceptance add nobody to the team."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from agencies.models import StaffPerson
from coordination.clock import now
from coordination.models import AuditEvent
from coordination.teams.models import TeamMember
from tests.concerns.test_concern_page import (
    BVC,
    HABILITATION,
    PRESCHOOLS,
    World,
    chronology,
    client_maker,
    give_consent,
    make_child,
    membership_of,
    post,
    session,
    withdraw,
)
from tests.concerns.test_coordinators import ask, request_url, requests_of


@pytest.fixture()
def as_user(app: Flask, db: Any) -> Callable[[str], FlaskClient]:
    return client_maker(app)


def members(app: Flask, world: World) -> list[tuple[str, int]]:
    """(given name, agency id) of the child's current team members."""
    with app.app_context():
        rows = session().execute(
            select(StaffPerson.given_name, TeamMember.agency_id)
            .join(StaffPerson, StaffPerson.id == TeamMember.staff_person_id)
            .where(TeamMember.child_id == world.child_pk, TeamMember.ended_at.is_(None))
            .order_by(TeamMember.id)
        )
        return [(name, agency_id) for name, agency_id in rows]


def member_audits(app: Flask, world: World) -> list[dict[str, Any]]:
    with app.app_context():
        return [
            dict(row.detail or {})
            for row in session().scalars(
                select(AuditEvent).where(
                    AuditEvent.child_id == world.child_pk,
                    AuditEvent.action == "add_team_member",
                    AuditEvent.outcome == "allowed",
                )
            )
        ]


def test_a_decline_adds_nobody_to_the_team(app: Flask, as_user: Any) -> None:
    world = make_child(app)
    ask(app, as_user("anna"), world, ("hanna", HABILITATION))
    hannas, _state = requests_of(app, world)["Hanna"]
    assert post(as_user("hanna"), request_url(world, hannas, "/decline"), {"reason": "Not now"}).status_code == 302
    assert members(app, world) == [] and member_audits(app, world) == []


def test_the_nominee_who_accepts_late_is_not_added_only_the_winner(app: Flask, as_user: Any) -> None:
    world = make_child(app)
    ask(app, as_user("anna"), world, ("hanna", HABILITATION), ("sara", PRESCHOOLS))
    requests = requests_of(app, world)
    assert post(as_user("hanna"), request_url(world, requests["Hanna"][0], "/accept"), {}).status_code == 302
    late = post(as_user("sara"), request_url(world, requests["Sara"][0], "/accept"), {})
    assert late.status_code == 422
    with app.app_context():
        habilitation = membership_of("hanna", HABILITATION).agency_id
    assert members(app, world) == [("Hanna", habilitation)]


def test_a_refused_acceptance_adds_nobody(app: Flask, as_user: Any) -> None:
    world = make_child(app, consents=(BVC, PRESCHOOLS))
    habilitation = give_consent(app, world, HABILITATION)
    ask(app, as_user("anna"), world, ("hanna", HABILITATION))
    hannas, _state = requests_of(app, world)["Hanna"]
    withdraw(app, world, habilitation)
    response = post(as_user("hanna"), request_url(world, hannas, "/accept"), {})
    assert response.status_code in (404, 422)
    assert members(app, world) == [] and member_audits(app, world) == []


def test_accepting_makes_her_a_member_of_the_team_audited_and_in_the_chronology(app: Flask, as_user: Any) -> None:
    world = make_child(app)
    ask(app, as_user("anna"), world, ("hanna", HABILITATION))
    hannas, _state = requests_of(app, world)["Hanna"]
    hanna = as_user("hanna")
    assert post(hanna, request_url(world, hannas, "/accept"), {}).status_code == 302
    with app.app_context():
        mine = membership_of("hanna", HABILITATION)
        member = session().scalar(select(TeamMember).where(TeamMember.child_id == world.child_pk))
        assert member is not None
        assert (member.staff_person_id, member.agency_id, member.unit_id) == (
            mine.staff_person_id,
            mine.agency_id,
            mine.unit_id,
        )
        assert member.joined_at <= now()
    [audit] = member_audits(app, world)
    assert audit["basis"] == "support_coordinator" and audit["agency_id"] == mine.agency_id
    [entry] = chronology(app, world, "team_member_added")
    assert entry["owner"] == HABILITATION and entry["audience"] == "team"
    page = hanna.get(f"/children/{world.child}/team").get_data(as_text=True)
    assert f'data-member="{member.public_id}"' in page


def test_accepting_when_already_on_the_team_adds_no_second_membership(app: Flask, as_user: Any) -> None:
    world = make_child(app)
    with app.app_context():
        mine = membership_of("hanna", HABILITATION)
        session().add(
            TeamMember(
                child_id=world.child_pk,
                staff_person_id=mine.staff_person_id,
                agency_id=mine.agency_id,
                unit_id=mine.unit_id,
                joined_at=now(),
            )
        )
        session().commit()
    ask(app, as_user("anna"), world, ("hanna", HABILITATION))
    hannas, _state = requests_of(app, world)["Hanna"]
    assert post(as_user("hanna"), request_url(world, hannas, "/accept"), {}).status_code == 302
    assert len(members(app, world)) == 1 and member_audits(app, world) == []
    with app.app_context():
        count = session().scalar(select(func.count(TeamMember.id)).where(TeamMember.child_id == world.child_pk))
        assert count == 1
