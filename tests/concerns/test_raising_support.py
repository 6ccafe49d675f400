"""Shared helpers for the concern-raising tests (no tests here): fresh children made through the
operations, so the tests do not depend on the demo's later concerns, teams and reports."""

from __future__ import annotations

import itertools
import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from agencies.models import Agency, Membership, StaffPerson, Unit
from coordination.access import SYSTEM_ACTOR
from coordination.children.models import Child
from coordination.children.operations import (
    ChildData,
    GuardianData,
    _keys,
    add_guardian,
    assign_child_contact,
    enrol_child,
    link_custody,
    register_child,
)
from coordination.chronology.models import ChronologyEntry
from coordination.clock import today
from coordination.concerns.models import Concern, ConcernAgreement, MatchingAlert, SiblingContactRequest
from coordination.consent.models import Consent
from coordination.database import db as database
from coordination.identity_numbers import IdentityNumber, decrypt_identity_number, make_identity_number
from coordination.models import AuditEvent
from tests.helpers import csrf_token, login

BVC, PRESCHOOLS, SCHOOL, POLICE, BUP = (
    "Barnavårdscentralen Ekby (BVC)",
    "Ekby förskolor",
    "Ekby skola",
    "Lokalpolisen Ekby",
    "BUP Ekby",
)
WRITE_ACTIONS = (
    "raise_concern",
    "route_concern",
    "raise_matching_alert",
    "record_consent",
    "send_sibling_request",
    "register_child",
    "match_unmatched_concern",
)
_serials = itertools.count(900 + secrets.randbelow(40))


def fresh_number(birth: date | None = None) -> IdentityNumber:
    """A valid identity number no demo child has (serials from 900 up; the demo uses 300 and 500 up)."""
    return make_identity_number(birth or local_today() - timedelta(days=4 * 365 + 17), next(_serials))


@dataclass(frozen=True)
class Family:
    child_id: int
    public_id: str
    guardian_ids: tuple[int, ...]
    guardian_public_ids: tuple[str, ...]


def staff_membership(name: str, agency: str) -> Membership:
    session = database.session
    membership = session.scalar(
        select(Membership)
        .join(StaffPerson, StaffPerson.id == Membership.staff_person_id)
        .join(Agency, Agency.id == Membership.agency_id)
        .where(StaffPerson.given_name == name, Agency.name == agency, Membership.ended_at.is_(None))
        .order_by(Membership.id)
    )
    assert membership is not None, (name, agency)
    return membership


def make_family(
    app: Flask,
    *,
    guardians: int = 1,
    units: tuple[str, ...] = ("Solrosen",),
    contact: tuple[str, str] | None = ("Anna", BVC),
    given_name: str = "Testa",
    birth: date | None = None,
) -> Family:
    """A fresh child with guardians in custody, enrolled at ``units``, with ``contact`` (given name of the
    staff person, agency) as Child Contact; committed into the test's transaction."""
    with app.app_context():
        session = database.session
        number = fresh_number(birth)
        child = register_child(
            SYSTEM_ACTOR,
            ChildData(given_name=given_name, family_name="Provsson", birth_date=None, identity_number=number),
        )
        found = []
        for index in range(guardians):
            guardian = add_guardian(SYSTEM_ACTOR, GuardianData(given_name=f"Vårdnad{index}", family_name="Provsson"))
            link_custody(SYSTEM_ACTOR, child, guardian)
            found.append(guardian)
        for name in units:
            unit = session.scalar(select(Unit).where(Unit.name == name))
            assert unit is not None, name
            enrol_child(SYSTEM_ACTOR, child, unit, today())
        if contact is not None:
            assign_child_contact(SYSTEM_ACTOR, child, staff_membership(*contact))
        session.commit()
        return Family(child.id, child.public_id, tuple(g.id for g in found), tuple(g.public_id for g in found))


def number_of(app: Flask, given_name: str) -> str:
    """A demo child's identity number (12 digits), for a POST body only."""
    with app.app_context():
        encrypted = database.session.scalar(
            select(Child.identity_number_encrypted).where(Child.given_name == given_name)
        )
        assert encrypted is not None
        return decrypt_identity_number(encrypted, _keys()[0]).digits


def number_of_child(app: Flask, child_id: int) -> str:
    with app.app_context():
        encrypted = database.session.scalar(select(Child.identity_number_encrypted).where(Child.id == child_id))
        assert encrypted is not None
        return decrypt_identity_number(encrypted, _keys()[0]).digits


def child_public_id(app: Flask, given_name: str) -> str:
    with app.app_context():
        found = database.session.scalar(select(Child.public_id).where(Child.given_name == given_name))
    assert found is not None
    return found


def agency_pk(app: Flask, name: str) -> int:
    with app.app_context():
        found = database.session.scalar(select(Agency.id).where(Agency.name == name))
    assert found is not None
    return found


def person_pk(app: Flask, given_name: str) -> int:
    with app.app_context():
        found = database.session.scalar(select(StaffPerson.id).where(StaffPerson.given_name == given_name))
    assert found is not None
    return found


def counts(app: Flask) -> dict[str, int]:
    """Everything raising a concern can write."""
    with app.app_context():
        session = database.session

        def count(column: Any, *where: Any) -> int:
            return session.scalar(select(func.count(column)).where(*where)) or 0

        return {
            "concerns": count(Concern.id),
            "agreements": count(ConcernAgreement.id),
            "alerts": count(MatchingAlert.id),
            "sibling_requests": count(SiblingContactRequest.id),
            "chronology": count(ChronologyEntry.id),
            "consents": count(Consent.id),
            "children": count(Child.id),
            "writes": count(AuditEvent.id, AuditEvent.action.in_(WRITE_ACTIONS), AuditEvent.outcome == "allowed"),
        }


def concerns_of(app: Flask, child_id: int | None = None) -> list[Concern]:
    with app.app_context():
        statement = select(Concern).order_by(Concern.id)
        if child_id is not None:
            statement = statement.where(Concern.child_id == child_id)
        rows = database.session.scalars(statement).all()
        for row in rows:
            _ = (row.area_codes, [a.guardian_id for a in row.agreements])  # loaded while the session is open
        database.session.expunge_all()
        return list(rows)


def as_user(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    assert login(client, username).status_code == 302, username
    return client


def post(client: FlaskClient, path: str, data: dict[str, Any], token_from: str = "/concerns/new") -> Any:
    payload = dict(data)
    payload["csrf_token"] = csrf_token(client, token_from)
    return client.post(path, data=payload)


def local_today() -> date:
    """Today on the app clock when it is not set (tests that move the clock pass their own dates)."""
    return datetime.now(ZoneInfo("Europe/Stockholm")).date()


def concern_form(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "areas": ["achieving", "healthy"],
        "observed_on": (local_today() - timedelta(days=2)).isoformat(),
        "observations": "2 Nov: Testa says few words and points instead.",
        "strengths": "Loves to sing.",
        "already_done": "Talked with the parent at pick-up.",
        "child_said": "Testa said: I want to play.",
        "family_view": "The parent is also worried.",
        "urgency": "soon",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


CSRF_VALUE = re.compile(r'(name="csrf_token"[^>]*value=")[^"]+|("X-CSRFToken": ")[^"]+')


def without_tokens(html: str) -> str:
    return CSRF_VALUE.sub(lambda m: (m.group(1) or m.group(2)) + "TOKEN", html)
