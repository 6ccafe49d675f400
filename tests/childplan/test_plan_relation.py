"""The Child's Plan's first rule in the access core: owning one of a child's actions is a relation (RULES.md
§2) — for the owner person or the owning unit's practitioners, acting for the owning agency only."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from sqlalchemy import select

from agencies.models import Agency, Unit
from childplan.models import Action, Plan
from coordination.children.models import Child
from coordination.clock import now, today
from coordination.database import db as database
from tests.helpers import login


def _give_action(app: Flask, child_name: str, agency_name: str, unit_name: str | None) -> str:
    with app.app_context():
        session = database.session
        child = session.scalar(select(Child).where(Child.given_name == child_name))
        agency = session.scalar(select(Agency).where(Agency.name == agency_name))
        unit = session.scalar(select(Unit).where(Unit.name == unit_name)) if unit_name else None
        moment = now()
        plan = Plan(child_id=child.id, agency_id=agency.id, created_at=moment, changed_at=moment)
        session.add(plan)
        session.flush()
        session.add(
            Action(
                plan_id=plan.id,
                child_id=child.id,
                what="An assessment",
                owner_agency_id=agency.id,
                owner_unit_id=unit.id if unit else None,
                due_on=today() + timedelta(days=14),
                created_at=moment,
                changed_at=moment,
            )
        )
        session.commit()
        return child.public_id


def test_no_action_no_relation_and_an_action_of_the_unit_opens_the_child(app: Flask, db) -> None:  # type: ignore[no-untyped-def]
    olle = app.test_client()
    login(olle, "olle")
    with app.app_context():
        maja = database.session.scalar(select(Child.public_id).where(Child.given_name == "Maja"))
    assert olle.get(f"/children/{maja}").status_code == 404, "primary care has no relation to Maja"
    maja = _give_action(app, "Maja", "Primärvården Ekby", "Vårdcentralen Ekby")
    assert olle.get(f"/children/{maja}").status_code == 200, "a practitioner of the owning unit"
    erik = app.test_client()
    login(erik, "erik")
    assert erik.get(f"/children/{maja}").status_code == 404, "another agency's action gives nothing"
