"""RULES.md §7 for Alva (protected identity; DEMO.md), over every staff output of issue 4 that can mention her:
the Team tab, the meeting page, the chronology, the concern page, the Support Coordinator request page, the
inbox, and the child page — and, since the plan issue, the Plan tab, the plan's versions and the plan's PDF.
Her meeting place, her guardians' contact details (Sofia's, and tomas's: he is restricted), and the names and
contact channels of the staff and units around her are withheld from staff outside her team; her team (maria)
sees them. Each output is scanned as HTML (the PDF as its text) for the protected values.

The staff outside the team are made here: practitioners of Klass 1–3, where Alva is enrolled (a unit relation,
so they reach her pages, but are not in her team)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from agencies.models import Agency, StaffPerson, Unit
from coordination.children.models import Child, Guardian
from coordination.database import db as database
from coordination.demo.concerns import ALVA_MEETING_PLACE
from tests.access.object_fixtures import Session, demo_objects

PASSWORD = "a long staff password 42"
NEW_PLACE = "Ekby skola, the small library (back door)"
CLASS_1_3 = "Klass 1–3"


@dataclass
class Alva:
    objects: dict[str, str]
    secrets: dict[str, str]  # what is protected → the value, for the messages


def _practitioner_in_class_1_3(app: Flask, username: str, given_name: str) -> str:
    """A new teacher in Klass 1–3 (a unit relation to Alva, nothing more); returns their public id."""
    from agencies.operations import StaffData, add_membership, create_staff_person
    from coordination.access import SYSTEM_ACTOR
    from coordination.children.operations import create_staff_account

    with app.app_context():
        unit = database.session.scalar(select(Unit).where(Unit.name == CLASS_1_3))
        data = StaffData(given_name, "Grön", title="teacher", phone="070-555 01 99", email=f"{username}@ekby.test")
        person = create_staff_person(SYSTEM_ACTOR, data)
        add_membership(SYSTEM_ACTOR, person, unit)
        create_staff_account(SYSTEM_ACTOR, person, username, PASSWORD)
        public_id = person.public_id
        database.session.commit()
        return public_id


def _protected_values(app: Flask) -> dict[str, str]:
    with app.app_context():
        secrets: dict[str, str] = {"the meeting place": ALVA_MEETING_PLACE}
        for given_name in ("Sofia", "Tomas"):
            guardian = database.session.scalar(select(Guardian).where(Guardian.given_name == given_name))
            assert guardian is not None
            for what in ("phone", "email"):
                value = getattr(guardian, what)
                if value:
                    secrets[f"{given_name}'s {what}"] = value
        maria = database.session.scalar(select(StaffPerson).where(StaffPerson.given_name == "Maria"))
        assert maria is not None
        secrets["the team member's name"] = maria.full_name
        for what in ("phone", "email"):
            value = getattr(maria, what)
            if value:
                secrets[f"the team member's {what}"] = value
        assert any(key.startswith("Sofia") for key in secrets), "the demo gives Sofia contact details"
        return secrets


@pytest.fixture()
def alva(app: Flask, db: Any) -> Alva:
    """Alva's demo (team maria, a planned meeting at ALVA_MEETING_PLACE), plus: a concern maria raised about
    her, and greta (Klass 1–3, outside the team) asked by maria to become Support Coordinator."""
    objects = demo_objects(app)
    objects["greta"] = _practitioner_in_class_1_3(app, "greta", "Greta")
    with app.app_context():
        objects["school"] = database.session.scalar(select(Agency.public_id).where(Agency.name == "Ekby skola"))
        objects["class_1_3"] = database.session.scalar(select(Unit.public_id).where(Unit.name == CLASS_1_3))
    maria = Session(app, "maria")
    concern = maria.post(
        "/children/{Alva}/concerns/new".format(**objects),
        {
            "areas": ["included"],
            "observed_on": objects["today"],
            "observations": "Alva played alone at every break this week.",
            "strengths": "Draws very well.",
            "urgency": "routine",
        },
    )
    assert concern.status_code in (302, 303), concern.get_data(as_text=True)[:2000]
    asked = maria.post(
        "/children/{Alva}/coordinator-requests/new".format(**objects),
        {"nominees": "{greta}.{school}".format(**objects), "message": "Would you take this on?"},
    )
    assert asked.status_code in (302, 303), asked.get_data(as_text=True)[:2000]
    with app.app_context():
        from coordination.concerns.models import Concern, CoordinatorRequest

        child_id = database.session.scalar(select(Child.id).where(Child.public_id == objects["Alva"]))
        objects["alva_concern"] = database.session.scalar(
            select(Concern.public_id).where(Concern.child_id == child_id).order_by(Concern.id.desc())
        )
        objects["alva_request"] = database.session.scalar(
            select(CoordinatorRequest.public_id).where(CoordinatorRequest.child_id == child_id)
        )
    return Alva(objects, _protected_values(app))


PAGES: dict[str, str] = {
    "the child page": "/children/{Alva}",
    "the Team tab": "/children/{Alva}/team",
    "the meeting page": "/children/{Alva}/meetings/{alva_meeting}",
    "the chronology": "/children/{Alva}/chronology",
    "the concern page": "/children/{Alva}/concerns/{alva_concern}",
    "the Support Coordinator request": "/children/{Alva}/coordinator-requests/{alva_request}",
    "the inbox": "/inbox",
    # the Child's Plan (issue 5): Alva's plan has one school action, owned by maria in Klass 1–3
    "the Plan tab": "/children/{Alva}/plan",
    "the plan's versions": "/children/{Alva}/plan/versions",
}
# What is protected, by kind (the keys of Alva.secrets start with these words, the unit is looked for in <main>).
KINDS: dict[str, tuple[str, ...]] = {
    "the meeting place": ("the meeting place", "the new meeting place"),
    "the guardians' contact details": ("Sofia's", "Tomas's"),
    "staff names and contact channels": ("the team member's",),
    "unit names": (),
}
# Known leaks, each for the lead to fix (RULES.md §7: staff names and contact channels are withheld from staff
# outside a protected child's team, in every channel).
# Leaks found while this file was written, now fixed (access.sees_protected_details): none is known.
KNOWN: dict[tuple[str, str], str] = {}


def _main(html: str) -> str:
    return html[html.find("<main") : html.find("</main>")]


def _leaks(html: str, secrets: dict[str, str], kind: str) -> list[str]:
    if kind == "unit names":
        return ["the unit's name"] if CLASS_1_3 in _main(html) else []
    return [what for what, value in secrets.items() if what.startswith(KINDS[kind]) and value in html]


def _outside_cases() -> list[Any]:
    cases = []
    for page in PAGES:
        for kind in KINDS:
            reason = KNOWN.get((page, kind))
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            cases.append(pytest.param(page, kind, marks=marks, id=f"{page}-{kind}"))
    return cases


# -- (b) staff outside her team, with a relation --------------------------------------------------------------------
def test_staff_outside_the_team_reach_alva_through_their_unit(app: Flask, alva: Alva) -> None:
    greta = Session(app, "greta", PASSWORD)
    for name in ("the child page", "the chronology", "the Team tab", "the Support Coordinator request"):
        assert greta.get(PAGES[name].format(**alva.objects)).status_code == 200, name


@pytest.mark.parametrize(("page", "kind"), _outside_cases())
def test_staff_outside_the_team_are_not_shown(app: Flask, alva: Alva, page: str, kind: str) -> None:
    greta = Session(app, "greta", PASSWORD)
    response = greta.get(PAGES[page].format(**alva.objects))
    assert response.status_code in (200, 404)
    assert _leaks(response.get_data(as_text=True), alva.secrets, kind) == []


@pytest.mark.parametrize(("page", "kind"), _outside_cases())
def test_a_removed_team_member_is_not_shown(app: Flask, alva: Alva, page: str, kind: str) -> None:
    """greta in the team is told of a rescheduled meeting (a new place); removed, she is outside the team again
    at once: her inbox items and every page withhold both places, the people and the contact details."""
    objects = alva.objects
    maria = Session(app, "maria")
    member_value = "{greta}.{class_1_3}".format(**objects)
    added = maria.post("/children/{Alva}/team/members".format(**objects), {"member": member_value})
    assert added.status_code in (302, 303), added.get_data(as_text=True)[:2000]
    greta = Session(app, "greta", PASSWORD)
    in_team = greta.get("/children/{Alva}/meetings/{alva_meeting}".format(**objects))
    assert in_team.status_code == 200 and ALVA_MEETING_PLACE in in_team.get_data(as_text=True), "in the team: seen"
    with app.app_context():
        from coordination.teams.models import TeamMember

        member = database.session.scalar(
            select(TeamMember.public_id)
            .join(StaffPerson, StaffPerson.id == TeamMember.staff_person_id)
            .where(StaffPerson.public_id == objects["greta"], TeamMember.ended_at.is_(None))
        )
    moved = maria.post("/children/{Alva}/meetings/{alva_meeting}/reschedule".format(**objects), _moved(app, objects))
    assert moved.status_code in (302, 303), moved.get_data(as_text=True)[:2000]
    removed = maria.post(f"/children/{objects['Alva']}/team/members/{member}/remove", {"confirm": "y"})
    assert removed.status_code in (302, 303), removed.get_data(as_text=True)[:2000]

    response = greta.get(PAGES[page].format(**objects))
    assert response.status_code in (200, 404)
    secrets = {**alva.secrets, "the new meeting place": NEW_PLACE}
    assert _leaks(response.get_data(as_text=True), secrets, kind) == []


def _moved(app: Flask, objects: dict[str, str]) -> dict[str, str]:
    """The reschedule form for Alva's meeting: same times, a new place."""
    with app.app_context():
        from coordination.teams.models import Meeting

        meeting = database.session.scalar(select(Meeting).where(Meeting.public_id == objects["alva_meeting"]))
        zone = app.extensions["clock"].zone
        return {
            "version": str(meeting.version),
            "starts_at": meeting.starts_at.astimezone(zone).strftime("%Y-%m-%dT%H:%M"),
            "ends_at": meeting.ends_at.astimezone(zone).strftime("%Y-%m-%dT%H:%M"),
            "place": NEW_PLACE,
        }


def test_tomas_and_other_families_reach_none_of_the_staff_pages(app: Flask, alva: Alva) -> None:
    tomas = Session(app, "tomas")
    for name, url in PAGES.items():
        assert tomas.get(url.format(**alva.objects)).status_code == 404, name
    home = tomas.get("/").get_data(as_text=True)
    for kind in ("the meeting place", "staff names and contact channels"):
        assert _leaks(home, alva.secrets, kind) == [], kind
    sofia = {what: value for what, value in alva.secrets.items() if what.startswith("Sofia")}
    assert not [value for value in sofia.values() if value in home], "a restricted guardian sees no co-guardian contact"


# -- (a) her team ---------------------------------------------------------------------------------------------------
def test_her_team_sees_the_place_the_people_and_the_guardians_contacts(app: Flask, alva: Alva) -> None:
    maria = Session(app, "maria")
    meeting = maria.get("/children/{Alva}/meetings/{alva_meeting}".format(**alva.objects))
    assert meeting.status_code == 200
    assert ALVA_MEETING_PLACE in meeting.get_data(as_text=True)
    team = maria.get("/children/{Alva}/team".format(**alva.objects)).get_data(as_text=True)
    assert alva.secrets["the team member's name"] in team
    overview = maria.get("/children/{Alva}".format(**alva.objects)).get_data(as_text=True)
    assert any(value in overview for what, value in alva.secrets.items() if what.startswith("Sofia"))
    for name, url in PAGES.items():
        expected = 404 if name == "the Support Coordinator request" else 200  # greta's request: hers alone
        assert maria.get(url.format(**alva.objects)).status_code == expected, name


# -- the chronology never holds a place -------------------------------------------------------------------------
def test_no_chronology_summary_of_any_child_holds_a_meeting_place(app: Flask, alva: Alva) -> None:
    """Over the whole demo, and after Alva's meeting was moved to a new place."""
    maria = Session(app, "maria")
    moved = maria.post(
        "/children/{Alva}/meetings/{alva_meeting}/reschedule".format(**alva.objects), _moved(app, alva.objects)
    )
    assert moved.status_code in (302, 303)
    with app.app_context():
        from coordination.chronology.models import ChronologyEntry
        from coordination.teams.models import Meeting

        places = {place for place in database.session.scalars(select(Meeting.place)) if place}
        places |= {ALVA_MEETING_PLACE}
        assert NEW_PLACE in places
        summaries = [s for s in database.session.scalars(select(ChronologyEntry.summary)) if s]
    assert summaries, "the chronology has summaries to look at"
    holding = [(place, summary[:80]) for summary in summaries for place in places if place in summary]
    assert not holding, holding


def test_the_plan_pdf_holds_no_protected_value_for_staff_outside_the_team(app: Flask, alva: Alva) -> None:
    """The PDF of Alva's plan, downloaded by greta (Klass 1–3, not on her team), read back as text."""
    from io import BytesIO

    from pypdf import PdfReader

    greta = Session(app, "greta", PASSWORD)
    response = greta.get("/children/{Alva}/plan.pdf".format(**alva.objects))
    assert response.status_code == 200
    text = " ".join(" ".join(page.extract_text() or "" for page in PdfReader(BytesIO(response.data)).pages).split())
    assert "Ett bildschema för dagen" in text, "the action itself is shown"
    leaks = [what for what, value in alva.secrets.items() if value in text]
    assert leaks == [] and CLASS_1_3 not in text and "Maria Holm" not in text, leaks
