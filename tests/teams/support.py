"""Shared helpers for the team tests: a fresh child of their own (so the demo's later teams, meetings
and coordinators do not change what these tests see), consents, people and logged-in clients."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from agencies.models import Agency, Membership, StaffPerson, Unit
from childplan.compass import AREA_CODES
from coordination.access import SYSTEM_ACTOR
from coordination.children.models import Child, Guardian
from coordination.children.operations import (
    ChildData,
    GuardianData,
    add_guardian,
    assign_child_contact,
    enrol_child,
    link_custody,
)
from coordination.clock import today
from coordination.consent.ledger import ConsentData, GiverData, record_consent, withdraw_consent
from coordination.consent.models import Consent
from coordination.database import db as database
from coordination.models import AuditEvent
from coordination.teams.models import Meeting, MeetingDecision, TeamFamilyInvitation, TeamMember
from tests.helpers import csrf_token

SCHOOL, BUP, SOCIAL, POLICE = "Ekby skola", "BUP Ekby", "Socialtjänsten Ekby", "Lokalpolisen Ekby"
PRIMARY_CARE = "Primärvården Ekby (vårdcentral)"
CLASS_4_6 = "Klass 4–6"
ZONE = ZoneInfo("Europe/Stockholm")  # the app's TIME_ZONE


def agency(name: str) -> Agency:
    found = database.session.scalar(select(Agency).where(Agency.name == name))
    assert found is not None, name
    return found


def unit(name: str) -> Unit:
    found = database.session.scalar(select(Unit).where(Unit.name == name))
    assert found is not None, name
    return found


def person(given_name: str) -> StaffPerson:
    found = database.session.scalar(select(StaffPerson).where(StaffPerson.given_name == given_name))
    assert found is not None, given_name
    return found


def membership(given_name: str, agency_name: str, unit_name: str | None = None) -> Membership:
    statement = (
        select(Membership)
        .join(StaffPerson, StaffPerson.id == Membership.staff_person_id)
        .join(Agency, Agency.id == Membership.agency_id)
        .where(StaffPerson.given_name == given_name, Agency.name == agency_name, Membership.ended_at.is_(None))
        .order_by(Membership.id)
    )
    if unit_name is not None:
        statement = statement.join(Unit, Unit.id == Membership.unit_id).where(Unit.name == unit_name)
    found = database.session.scalar(statement)
    assert found is not None, (given_name, agency_name)
    return found


@dataclass
class Family:
    """A fresh child of the tests' own: enrolled in Klass 4–6 (lars has a unit relation), maria (school)
    its Child Contact, one guardian with custody; consents for team meetings as each test asks."""

    app: Flask
    child_id: int
    public_id: str
    guardian_id: int
    guardian_public_id: str

    def child(self) -> Child:
        found = database.session.get(Child, self.child_id)
        assert found is not None
        return found


def make_family(
    app: Flask, *, protected: bool = False, age: int = 10, consents: tuple[str, ...] = (SCHOOL, BUP)
) -> Family:
    with app.app_context():
        from coordination.children.operations import register_child

        born = today().replace(year=today().year - age) - timedelta(days=30)
        child = register_child(
            SYSTEM_ACTOR,
            ChildData(
                f"Teamtest{secrets.token_hex(3)}",
                "Lagsson",
                born,
                missing_number_reason="none",
                protection_level="protected_registration" if protected else "none",
            ),
        )
        enrol_child(SYSTEM_ACTOR, child, unit(CLASS_4_6), today() - timedelta(days=100))
        assign_child_contact(SYSTEM_ACTOR, child, membership("Maria", SCHOOL, CLASS_4_6))
        guardian = add_guardian(SYSTEM_ACTOR, GuardianData(f"Vera{secrets.token_hex(2)}", "Lagsson"))
        link_custody(SYSTEM_ACTOR, child, guardian)
        database.session.flush()
        family = Family(app, child.id, child.public_id, guardian.id, guardian.public_id)
        for name in consents:
            give_consent(family, name)
        database.session.commit()
        return family


def give_consent(
    family: Family, agency_name: str, purposes: tuple[str, ...] = ("coordination", "team_meetings")
) -> None:
    """A consent in effect today, given by the guardian (call inside an app context)."""
    day = today()
    record_consent(
        SYSTEM_ACTOR,
        family.child(),
        agency(agency_name),
        ConsentData(
            purposes=list(purposes),
            areas=list(AREA_CODES),
            valid_from=day,
            valid_until=day + timedelta(days=300),
            givers=[GiverData(family.guardian_id, "in_person")],
            consent_text_version=1,
            recorded_by=person("Maria"),
        ),
    )


def withdraw_team_consent(family: Family, agency_name: str) -> None:
    with family.app.app_context():
        consent = database.session.scalar(
            select(Consent).where(
                Consent.child_id == family.child_id,
                Consent.agency_id == agency(agency_name).id,
                Consent.purpose == "team_meetings",
                Consent.state == "recorded",
            )
        )
        assert consent is not None
        withdraw_consent(SYSTEM_ACTOR, consent, family.guardian_id, person("Maria"))
        database.session.commit()


def post(client: FlaskClient, path: str, data: dict[str, Any], token_from: str = "/"):  # type: ignore[no-untyped-def]
    payload = dict(data)
    payload["csrf_token"] = csrf_token(client, token_from)
    return client.post(path, data=payload)


def local(moment: datetime) -> str:
    """A datetime-local form value in the app's time zone."""
    return moment.astimezone(ZONE).strftime("%Y-%m-%dT%H:%M")


def member_value(app: Flask, given_name: str, agency_name: str) -> str:
    with app.app_context():
        found = membership(given_name, agency_name)
        return f"{found.staff_person.public_id}.{database.session.get(Unit, found.unit_id).public_id}"  # type: ignore[union-attr]


def counts(app: Flask, child_id: int) -> tuple[int, int, int, int, int]:
    """What the team's writes can create for one child: members (current), invitations, meetings,
    decisions, and write audit rows about the child."""
    with app.app_context():
        session = database.session
        return (
            session.scalar(
                select(func.count(TeamMember.id)).where(TeamMember.child_id == child_id, TeamMember.ended_at.is_(None))
            )
            or 0,
            session.scalar(select(func.count(TeamFamilyInvitation.id)).where(TeamFamilyInvitation.child_id == child_id))
            or 0,
            session.scalar(select(func.count(Meeting.id)).where(Meeting.child_id == child_id)) or 0,
            session.scalar(select(func.count(MeetingDecision.id)).where(MeetingDecision.child_id == child_id)) or 0,
            session.scalar(
                select(func.count(AuditEvent.id)).where(
                    AuditEvent.child_id == child_id,
                    AuditEvent.outcome == "allowed",
                    AuditEvent.action.in_(
                        (
                            "add_team_member",
                            "remove_team_member",
                            "leave_team",
                            "invite_family",
                            "propose_meeting",
                            "reschedule_meeting",
                            "cancel_meeting",
                            "record_meeting_outcome",
                            "record_meeting_decision",
                        )
                    ),
                )
            )
            or 0,
        )


def field_error(html: str, name: str) -> str | None:
    match = re.search(rf'data-field-error="{re.escape(name)}"[^>]*>([^<]*)<', html)
    return match.group(1).strip() if match else None


def form_error(html: str) -> str | None:
    return field_error(html, "form")


def guardian_name(app: Flask, guardian_id: int) -> str:
    with app.app_context():
        found = database.session.get(Guardian, guardian_id)
        assert found is not None
        return found.full_name


def add_member(client: FlaskClient, family: Family, given_name: str, agency_name: str):  # type: ignore[no-untyped-def]
    return post(
        client,
        f"/children/{family.public_id}/team/members",
        {"member": member_value(family.app, given_name, agency_name)},
    )


def propose(  # type: ignore[no-untyped-def]
    client: FlaskClient, family: Family, start: datetime, place: str = "Room 12, the school", **extra: Any
):
    data: dict[str, Any] = {
        "starts_at": local(start),
        "ends_at": local(start + timedelta(hours=1)),
        "place": place,
        "areas": ["safe", "achieving"],
        "agenda": "What helps at school",
    }
    data.update(extra)
    return post(client, f"/children/{family.public_id}/meetings/new", data)


def proposed_meeting(client: FlaskClient, family: Family, start: datetime, place: str = "Room 12, the school") -> str:
    response = propose(client, family, start, place)
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"].rsplit("/", 1)[1]


def meeting_version(app: Flask, meeting_public_id: str) -> int:
    with app.app_context():
        found = database.session.scalar(select(Meeting.version).where(Meeting.public_id == meeting_public_id))
        assert found is not None
        return found


def insert_meetings(app: Flask, family: Family, count: int, *, decisions: int = 0, held: bool = False) -> list[str]:
    """Meetings written straight to the database (for the statement counts)."""
    from coordination.clock import now
    from coordination.teams.models import DecisionArea, MeetingArea

    with app.app_context():
        moment = now()
        maria, school = person("Maria"), agency(SCHOOL)
        made = []
        for index in range(count):
            start = moment + timedelta(days=(-30 if held else 5) + index)
            meeting = Meeting(
                child_id=family.child_id,
                agency_id=school.id,
                proposed_by_id=maria.id,
                starts_at=start,
                ends_at=start + timedelta(hours=1),
                place=f"Room {index}",
                state="held" if held else "planned",
                recorded_at=moment if held else None,
                recorded_by_id=maria.id if held else None,
                version=1,
                created_at=moment,
                changed_at=moment,
                areas=[MeetingArea(area="safe"), MeetingArea(area="healthy")],
                decisions=[
                    MeetingDecision(
                        child_id=family.child_id,
                        text=f"Decision {number}",
                        owner_agency_id=school.id,
                        owner_unit_id=unit(CLASS_4_6).id,
                        owner_person_id=person("Lars").id,
                        due_on=today() + timedelta(days=30),
                        created_at=moment,
                        areas=[DecisionArea(area="achieving")],
                    )
                    for number in range(decisions)
                ],
            )
            database.session.add(meeting)
            database.session.flush()
            made.append(meeting.public_id)
        database.session.commit()
        return made
