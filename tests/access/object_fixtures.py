"""The objects of issue 4 in the demo (DEMO.md, coordination/demo_concerns.py), found by what they are rather
than by id (ids are random per database), and small helpers for the object-URL tests: logging in once per
persona, posting with the session's CSRF token, the audit rows a request left, and snapshots of tables that a
refused POST must leave untouched."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, text

from agencies.models import Agency, StaffPerson, Unit
from childplan.models import Plan, PlanVersion
from coordination.children.models import Child, Guardian
from coordination.database import db as database
from coordination.demo.ekby import NAMED_CHILDREN
from coordination.models import Account, AuditEvent
from tests.helpers import csrf_token, login

# Anything that looks like an id of our own making but exists nowhere.
UNKNOWN_ID = "no-such-object-xYz123"

_TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


class Session:
    """A logged-in test client with its CSRF token (one token serves the whole session)."""

    def __init__(self, app: Flask, username: str, password: str = "demo") -> None:
        self.username = username
        self.client: FlaskClient = app.test_client()
        response = login(self.client, username, password)
        assert response.status_code == 302, username
        self.token = csrf_token(self.client, "/")
        # in English, so that a failure reads in the language of the tables
        self.client.post("/language", data={"language": "en", "next": "/", "csrf_token": self.token})
        with app.app_context():
            self.account_id = database.session.scalar(select(Account.id).where(Account.username == username))

    def get(self, path: str) -> Any:
        return self.client.get(path)

    def post(self, path: str, data: dict[str, Any] | None = None) -> Any:
        payload = dict(data or {})
        payload["csrf_token"] = self.token
        return self.client.post(path, data=payload)


def _one(statement: Any) -> Any:
    found = database.session.scalar(statement)
    assert found is not None, str(statement)
    return found


def _person_id(given_name: str) -> int:
    return _one(select(StaffPerson.id).where(StaffPerson.given_name == given_name))


def _child_pk(given_name: str) -> int:
    return _one(select(Child.id).where(Child.given_name == given_name))


def demo_objects(app: Flask) -> dict[str, str]:
    """Symbolic name → public id (or other URL part) of every object of issue 4 the demo holds."""
    from coordination.concerns.models import Concern, CoordinatorRequest
    from coordination.reports.models import ReportOfConcern
    from coordination.teams.models import Meeting, TeamMember
    from notifications.models import InboxItem

    with app.app_context():
        session = database.session
        ids: dict[str, str] = {
            name: public_id
            for name, public_id in session.execute(
                select(Child.given_name, Child.public_id).where(Child.given_name.in_(NAMED_CHILDREN))
            )
        }
        elsa, omar, liam, alva = (_child_pk(name) for name in ("Elsa", "Omar", "Liam", "Alva"))
        anna, sara, johan, hanna, karin = (_person_id(n) for n in ("Anna", "Sara", "Johan", "Hanna", "Karin"))

        def concern(child: int, author: int, routing: str) -> str:
            return _one(
                select(Concern.public_id).where(
                    Concern.child_id == child, Concern.author_person_id == author, Concern.routing == routing
                )
            )

        ids["elsa_concern"] = concern(elsa, sara, "shared")
        ids["liam_signal"] = concern(liam, sara, "signal")
        ids["liam_bvc_concern"] = concern(liam, anna, "same_agency")

        def coordinator_request(child: int, nominee: int) -> str:
            return _one(
                select(CoordinatorRequest.public_id).where(
                    CoordinatorRequest.child_id == child, CoordinatorRequest.nominee_person_id == nominee
                )
            )

        ids["elsa_request"] = coordinator_request(elsa, hanna)
        ids["omar_request"] = coordinator_request(omar, johan)

        def meeting(child: int, state: str) -> str:
            return _one(select(Meeting.public_id).where(Meeting.child_id == child, Meeting.state == state))

        ids["omar_held_meeting"] = meeting(omar, "held")
        ids["omar_next_meeting"] = meeting(omar, "planned")
        ids["alva_meeting"] = meeting(alva, "planned")

        def member(child: int, person: int) -> str:
            return _one(
                select(TeamMember.public_id).where(
                    TeamMember.child_id == child, TeamMember.staff_person_id == person, TeamMember.ended_at.is_(None)
                )
            )

        ids["omar_member_karin"] = member(omar, karin)
        ids["omar_plan_version"] = _one(
            select(PlanVersion.public_id)
            .join(Plan, Plan.id == PlanVersion.plan_id)
            .where(Plan.child_id == omar, PlanVersion.number == 1)
        )
        ids["elsa_member_sara"] = member(elsa, sara)
        ids["maja_report"] = _one(
            select(ReportOfConcern.public_id).where(ReportOfConcern.reporter_person_id == _person_id("Erik"))
        )
        ids["anna_inbox_elsa_concern"] = _one(
            select(InboxItem.public_id).where(
                InboxItem.recipient_person_id == anna,
                InboxItem.object_type == "concern",
                InboxItem.object_public_id == ids["elsa_concern"],
            )
        )
        ids["ahmed"] = _one(select(Guardian.public_id).where(Guardian.given_name == "Ahmed"))
        ids["class_1_3"] = _one(select(Unit.public_id).where(Unit.name == "Klass 1–3"))
        ids["children_and_families"] = _one(select(Unit.public_id).where(Unit.name == "Barn och familj"))
        ids["omar_next_meeting_version"] = str(
            _one(select(Meeting.version).where(Meeting.public_id == ids["omar_next_meeting"]))
        )
        ids["omar_held_meeting_version"] = str(
            _one(select(Meeting.version).where(Meeting.public_id == ids["omar_held_meeting"]))
        )
        ids["today"] = app.extensions["clock"].today().isoformat()
        clock = app.extensions["clock"]
        start = (clock.now() + timedelta(days=20)).astimezone(clock.zone).replace(hour=9, minute=0, second=0)
        ids["in_20_days"] = start.strftime("%Y-%m-%dT%H:%M")
        ids["in_20_days_end"] = (start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
        return ids


def raise_unmatched_concern(app: Flask, username: str = "lars") -> str:
    """A concern by an identity number nobody has registered: it waits in the author's agency admin's queue
    (the school's: maria). Returns its public id."""
    from agencies.models import Membership
    from coordination.access import Actor
    from coordination.concerns.operations.raising import ConcernByNumberData, ConcernData, raise_concern_by_number
    from coordination.identity_numbers import make_identity_number

    with app.app_context():
        clock = app.extensions["clock"]
        account = _one(select(Account).where(Account.username == username))
        memberships = tuple(
            database.session.scalars(
                select(Membership)
                .where(Membership.staff_person_id == account.staff_person_id, Membership.ended_at.is_(None))
                .order_by(Membership.id)
            )
        )
        agency = memberships[0].agency
        actor = Actor(account, agency, tuple(m for m in memberships if m.agency_id == agency.id))
        born = clock.today().replace(year=clock.today().year - 11) - timedelta(days=123)
        number = make_identity_number(born, 973)
        data = ConcernByNumberData(
            number=number,
            concern=ConcernData(
                areas=("safe",),
                observed_on=clock.today() - timedelta(days=1),
                observations="Came to school with a bruise on the arm and would not say why.",
                urgency="soon",
            ),
        )
        concern = raise_concern_by_number(actor, data)
        assert concern.routing == "unmatched", concern.routing
        public_id = concern.public_id
        database.session.commit()
        return public_id


# -- the audit trail --------------------------------------------------------------------------------------------
def last_audit_id(app: Flask) -> int:
    with app.app_context():
        return database.session.scalar(select(func.coalesce(func.max(AuditEvent.id), 0))) or 0


def audit_since(app: Flask, after_id: int) -> list[AuditEvent]:
    with app.app_context():
        rows = list(database.session.scalars(select(AuditEvent).where(AuditEvent.id > after_id)))
        database.session.expunge_all()
        return rows


def denied_since(app: Flask, after_id: int, account_id: int | None) -> list[AuditEvent]:
    return [
        row
        for row in audit_since(app, after_id)
        if row.outcome == "denied" and (account_id is None or row.actor_account_id == account_id)
    ]


# -- "nothing written" -------------------------------------------------------------------------------------------
# Every table of the domain; not the audit trail (refusals are recorded there) nor the login tables.
NOT_DOMAIN = frozenset({"audit_event", "login_session", "login_throttle", "account"})


def domain_tables() -> list[str]:
    from coordination.model_base import Base

    return sorted(name for name in Base.metadata.tables if name not in NOT_DOMAIN)


def snapshot(app: Flask, tables: list[str] | tuple[str, ...]) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of each table, in id order (the tables of the demo are small)."""
    with app.app_context():
        return {
            table: [tuple(row) for row in database.session.execute(text(f"SELECT * FROM {table} ORDER BY 1"))]
            for table in tables
        }


def changed_tables(before: dict[str, list[tuple[Any, ...]]], after: dict[str, list[tuple[Any, ...]]]) -> list[str]:
    return [table for table in before if before[table] != after[table]]


def agency_pk(name: str) -> int:
    return _one(select(Agency.id).where(Agency.name == name))
