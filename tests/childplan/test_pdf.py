"""The Child's Plan as a PDF (childplan/pdf.py, childplan/pdf_views.py), read back with pypdf.

An Omar-like child of the tests' own (the demo's plans are not relied on): maria (school) the Child
Contact and so the plan keeper, karin (BUP) on the team with a consent for the healthy area only, a
guardian; needs and actions of the school, BUP and social services, a BUP action withheld from
guardians, and a review. Rendering takes about half a second, so each variant is rendered once for the
module and the tests read the texts. Negatives first: what a viewer may not see is not in the text;
then the headings in each language, the route's headers and audit row, and 404 for everyone without a
relation (the whole demo cast)."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from io import BytesIO
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale
from pypdf import PdfReader
from sqlalchemy import func, select

from agencies.models import Agency, StaffPerson
from childplan import wheel
from childplan.access import GUARDIAN_VIEWER
from childplan.compass import AREA_CODES
from childplan.models import Action, ActionArea, Goal, Need, NeedArea, Plan, Rating, Review
from childplan.pdf import ChildFacts, family_plan_pdf, pdf_filename, staff_plan_pdf
from coordination.access import SYSTEM_ACTOR, ChildAccess, get_child_or_404
from coordination.auth import _load_actor
from coordination.children.models import Child
from coordination.children.operations import (
    ChildData,
    GuardianData,
    add_guardian,
    assign_child_contact,
    enrol_child,
    link_custody,
    register_child,
)
from coordination.clock import now, today
from coordination.consent.ledger import ConsentData, GiverData, record_consent
from coordination.database import db as database
from coordination.demo.ekby import NAMED_CHILDREN, PERSONAS
from coordination.identity_numbers import make_identity_number
from coordination.models import Account, AuditEvent, LoginSession
from tests.access.matrix import expectation
from tests.childplan.test_plan_operations import _add_to_team
from tests.helpers import login
from tests.teams.support import BUP, CLASS_4_6, SCHOOL, SOCIAL, Family, agency, make_family, membership, unit

DOWNLOAD = "download_plan_pdf"

SCHOOL_ACTION = "Reading support three times a week"
BUP_ACTION = "Talks about worry at BUP every other week"
BUP_WITHHELD_ACTION = "Individual sessions about what happened at home"
SOCIAL_ACTION = "Family support at home on Tuesdays"
SCHOOL_NEED = "Reading and writing at his own level"
BUP_NEED = "Sleep and worry"
BUP_GOAL = "Falls asleep before ten most nights"
BUP_EVIDENCE = "His sleep diary, looked at together"
WITHHELD_COMMENT = "Sleeps badly after the sessions"


# -- building the child and the plan (inside an app context) ------------------------------------------------------
def _person(username: str) -> StaffPerson:
    account = database.session.scalar(select(Account).where(Account.username == username))
    assert account is not None and account.staff_person is not None
    return account.staff_person


def _consent(family: Family, agency_name: str, areas: list[str]) -> None:
    record_consent(
        SYSTEM_ACTOR,
        family.child(),
        agency(agency_name),
        ConsentData(
            purposes=["coordination", "team_meetings"],
            areas=areas,
            valid_from=today(),
            valid_until=today() + timedelta(days=300),
            givers=[GiverData(family.guardian_id, "in_person")],
            consent_text_version=1,
            recorded_by=_person("maria"),
        ),
    )


def _omar_like(app: Flask) -> tuple[Family, str]:
    """A boy with an identity number (returned: its twelve digits) and an accented first name: Klass 4–6
    (lars's unit), maria his Child Contact, one guardian; the school consents for every area, BUP (karin,
    on the team) for healthy only."""
    born = today().replace(year=today().year - 10) - timedelta(days=40)
    number = make_identity_number(born, secrets.randbelow(900) + 50)
    child = register_child(SYSTEM_ACTOR, ChildData("Örn", "Haddad", born, identity_number=number))
    enrol_child(SYSTEM_ACTOR, child, unit(CLASS_4_6), today() - timedelta(days=100))
    assign_child_contact(SYSTEM_ACTOR, child, membership("Maria", SCHOOL, CLASS_4_6))
    guardian = add_guardian(SYSTEM_ACTOR, GuardianData(f"Amal{secrets.token_hex(2)}", "Haddad"))
    link_custody(SYSTEM_ACTOR, child, guardian)
    database.session.flush()
    family = Family(app, child.id, child.public_id, guardian.id, guardian.public_id)
    _consent(family, SCHOOL, list(AREA_CODES))
    _consent(family, BUP, ["healthy"])
    _add_to_team(family, "Karin", BUP)
    return family, number.digits


def _need(plan: Plan, owner: Agency, description: str, areas: list[str], goal: str, evidence: str | None) -> Need:
    need = Need(
        plan_id=plan.id,
        child_id=plan.child_id,
        agency_id=owner.id,
        description=description,
        strengths="Curious and kind",
        areas=[NeedArea(area=code) for code in areas],
        created_at=now(),
    )
    database.session.add(need)
    database.session.flush()
    database.session.add(Goal(need_id=need.id, outcome=goal, evidence=evidence, created_at=now()))
    return need


def _action(
    plan: Plan,
    owner: Agency,
    what: str,
    areas: list[str],
    *,
    username: str | None = None,
    need: Need | None = None,
    due_in_days: int = 30,
    withheld: bool = False,
) -> Action:
    owner_person = _person(username) if username else None
    owner_unit = None
    if owner_person is not None:
        owner_unit = next(m.unit for m in owner_person.memberships if m.agency_id == owner.id and m.ended_at is None)
    moment = now()
    action = Action(
        plan_id=plan.id,
        child_id=plan.child_id,
        need_id=need.id if need else None,
        what=what,
        owner_agency_id=owner.id,
        owner_unit_id=owner_unit.id if owner_unit else None,
        owner_person_id=owner_person.id if owner_person else None,
        starts_on=today() - timedelta(days=20),
        due_on=today() + timedelta(days=due_in_days),
        status="in_progress",
        areas=[ActionArea(area=code) for code in areas],
        is_withheld_from_guardians=withheld,
        withheld_reason="He asked that his parents are not told yet" if withheld else None,
        created_at=moment,
        changed_at=moment,
    )
    database.session.add(action)
    database.session.flush()
    return action


def _plan(child: Child, keeper_agency: Agency) -> Plan:
    moment = now()
    plan = Plan(
        child_id=child.id,
        agency_id=keeper_agency.id,
        why="School attendance has fallen and he sleeps badly",
        overall_responsibility="Maria at the school keeps the plan together",
        child_views="He wants to play football again",
        guardian_views="They want help with mornings",
        next_review_on=today() + timedelta(days=60),
        created_at=moment,
        changed_at=moment,
    )
    database.session.add(plan)
    database.session.flush()
    return plan


def _build_plan(family: Family) -> Plan:
    school, bup, social = agency(SCHOOL), agency(BUP), agency(SOCIAL)
    plan = _plan(family.child(), school)
    reading = _need(plan, school, SCHOOL_NEED, ["achieving"], "Reads a chapter book on his own", None)
    sleep = _need(plan, bup, BUP_NEED, ["healthy"], BUP_GOAL, BUP_EVIDENCE)
    _action(plan, school, SCHOOL_ACTION, ["achieving"], username="lars", need=reading, due_in_days=-8)
    _action(plan, bup, BUP_ACTION, ["healthy"], username="karin", need=sleep)
    _action(plan, bup, BUP_WITHHELD_ACTION, ["healthy"], username="karin", withheld=True)
    _action(plan, social, SOCIAL_ACTION, ["nurtured"])
    review = Review(
        plan_id=plan.id,
        child_id=plan.child_id,
        held_on=today() - timedelta(days=10),
        recorded_by_id=_person("maria").id,
        agency_id=school.id,
        created_at=now(),
        ratings=[
            Rating(area="achieving", voice="professionals", scale=2, agency_id=school.id),
            Rating(area="healthy", voice="professionals", scale=3, agency_id=bup.id),
            Rating(area="respected", voice="child", scale=4),
            Rating(
                area="safe",
                voice="professionals",
                scale=1,
                agency_id=bup.id,
                comment=WITHHELD_COMMENT,
                is_withheld_from_guardians=True,
                withheld_reason="He asked that his parents are not told yet",
            ),
        ],
    )
    database.session.add(review)
    database.session.flush()
    return plan


def _access(username: str, child_public_id: str) -> ChildAccess:
    account = database.session.scalar(select(Account).where(Account.username == username))
    actor = _load_actor(LoginSession(account=account, acting_membership_id=None))
    return get_child_or_404(actor, child_public_id)


def _text(document: bytes) -> str:
    reader = PdfReader(BytesIO(document))
    return " ".join(" ".join(page.extract_text() or "" for page in reader.pages).split())


# -- every variant rendered once -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Printed:
    texts: dict[str, str]
    raw: dict[str, bytes]
    ids: set[str]  # every public id of the child, the plan and what they hold
    names: dict[str, str]  # what protected identity withholds: staff and unit names
    words: dict[str, str]
    identity_digits: str  # the twelve digits of the boy's identity number
    reserve_number: str | None


@pytest.fixture(scope="module")
def printed(app: Flask) -> Printed:
    """Builds both children and renders every variant in one transaction of its own, rolled back before the
    tests read the results (so it never holds the connection the ``db`` fixture binds)."""
    bound = app.extensions["database"]
    connection = bound.engine.connect()
    transaction = connection.begin()
    bound.bind_to_connection(connection)
    try:
        with app.app_context():
            family, identity_digits = _omar_like(app)
            plan = _build_plan(family)
            protected = make_family(app, protected=True)
            _add_to_team(protected, "Karin", BUP)
            protected_plan = _plan(protected.child(), agency(SCHOOL))
            _action(protected_plan, agency(SCHOOL), SCHOOL_ACTION, ["achieving"], username="maria")
            _action(protected_plan, agency(BUP), BUP_ACTION, ["healthy"], username="karin")
            database.session.commit()
            child = family.child()
            ids = {child.public_id, plan.public_id, family.guardian_public_id}
            ids |= set(database.session.scalars(select(Need.public_id).where(Need.plan_id == plan.id)))
            ids |= set(database.session.scalars(select(Action.public_id).where(Action.plan_id == plan.id)))
            ids |= set(database.session.scalars(select(Review.public_id).where(Review.plan_id == plan.id)))
            ids |= {agency(name).public_id for name in (SCHOOL, BUP, SOCIAL)}
            ids |= {_person(name).public_id for name in ("maria", "lars", "karin")}
            names = {
                "maria": _person("maria").full_name,
                "karin": _person("karin").full_name,
                "class": CLASS_4_6,
                "bup unit": membership("Karin", BUP).unit.name,
                "maria phone": _person("maria").phone or "",
            }
            reserve = child.reserve_number
            plan_id, protected_plan_id = plan.id, protected_plan.id
            child_public_id, protected_public_id = family.public_id, protected.public_id
            guardian_id, protected_guardian_id = family.guardian_id, protected.guardian_id

        def staff(username: str, child_public_id: str, plan_id: int, locale: str) -> bytes:
            with app.test_request_context():  # a request of its own, as the download is
                return staff_plan_pdf(_access(username, child_public_id), database.session.get(Plan, plan_id), locale)

        def guardian(plan_id: int, guardian_id: int, locale: str) -> bytes:
            with app.test_request_context():
                the_plan = database.session.get(Plan, plan_id)
                return family_plan_pdf(the_plan, the_plan.child, GUARDIAN_VIEWER, guardian_id, locale)

        raw = {"maria_sv": staff("maria", child_public_id, plan_id, "sv")}
        raw["maria_en"] = staff("maria", child_public_id, plan_id, "en")
        raw["karin"] = staff("karin", child_public_id, plan_id, "en")
        raw["guardian"] = guardian(plan_id, guardian_id, "en")
        raw["lars_protected"] = staff("lars", protected_public_id, protected_plan_id, "en")
        raw["guardian_protected"] = guardian(protected_plan_id, protected_guardian_id, "sv")
        words: dict[str, str] = {}
        with app.test_request_context():
            for language in ("sv", "en"):
                with force_locale(language):
                    words[f"serious_{language}"] = str(wheel.RATING_WORDS[1])
                    words[f"going_well_{language}"] = str(wheel.RATING_WORDS[4])
        switchboard = app.config["SWITCHBOARD_PHONE"]
    finally:
        bound.bind_to_connection(None)
        transaction.rollback()
        connection.close()
        app.extensions["clock"].reset()
    return Printed(
        texts={key: _text(value) for key, value in raw.items()},
        raw=raw,
        ids=ids,
        names=names | {"switchboard": switchboard},
        words=words,
        identity_digits=identity_digits,
        reserve_number=reserve,
    )


# -- what a viewer may not see is not in the text ----------------------------------------------------------------
def test_a_guardian_gets_neither_the_action_nor_the_rating_withheld_from_guardians(printed: Printed) -> None:
    text = printed.texts["guardian"]
    assert BUP_WITHHELD_ACTION not in text
    assert WITHHELD_COMMENT not in text and printed.words["serious_en"] not in text
    assert "withheld from guardians" not in text.lower(), "not even a flag or a warning says there is one"
    # …but everything else of the plan, the compass wheel included
    for what in (SCHOOL_ACTION, BUP_ACTION, SOCIAL_ACTION, SCHOOL_NEED, BUP_GOAL, BUP_EVIDENCE):
        assert what in text
    assert printed.words["going_well_en"] in text, "the child's own rating, in the wheel's table"


def test_an_agency_whose_consent_covers_only_healthy_sees_neither_the_schools_nor_social_services_part(
    printed: Printed,
) -> None:
    text = printed.texts["karin"]
    for hidden in (SCHOOL_ACTION, SCHOOL_NEED, SOCIAL_ACTION, "School attendance has fallen", "play football"):
        assert hidden not in text, hidden
    # her agency's own actions, the withheld one included (she is staff), and the withheld lines with the reason
    assert BUP_ACTION in text and BUP_WITHHELD_ACTION in text
    assert "Parts of the plan you cannot see" in text
    assert "is withheld: your agency's consent does not cover its areas" in text


def test_no_internal_id_and_no_identity_number_in_any_print(printed: Printed) -> None:
    assert printed.ids and all(len(public_id) >= 8 for public_id in printed.ids)
    for key, text in printed.texts.items():
        for public_id in printed.ids:
            assert public_id not in text, key
            assert public_id.encode() not in printed.raw[key], key
        assert not re.search(r"\b\d{6}(\d{2})?[-+]?\d{4}\b", text), f"{key}: something written like an identity number"
        assert printed.identity_digits[2:] not in text.replace("-", ""), key
        assert printed.identity_digits[:8] not in text.replace("-", ""), f"{key}: not even the birth date"
        if printed.reserve_number:
            assert printed.reserve_number not in text, key


def test_a_protected_child_prints_no_unit_or_staff_names_for_a_viewer_outside_the_team(printed: Printed) -> None:
    names = printed.names
    for key in ("lars_protected", "guardian_protected"):
        text = printed.texts[key]
        for name in (names["maria"], names["karin"], names["class"], names["bup unit"]):
            assert name not in text, f"{key}: {name}"
        if names["maria phone"]:
            assert names["maria phone"] not in text, key
    assert SCHOOL_ACTION in printed.texts["lars_protected"], "the action itself is his to see"
    assert names["switchboard"] in printed.texts["guardian_protected"], "the family gets the switchboard instead"


# -- what the print holds ------------------------------------------------------------------------------------------
def test_the_keepers_print_holds_every_action_the_wheel_and_a_warning_before_it_reaches_the_family(
    printed: Printed,
) -> None:
    text = printed.texts["maria_en"]
    for what in (SCHOOL_ACTION, BUP_ACTION, BUP_WITHHELD_ACTION, SOCIAL_ACTION, SCHOOL_NEED, BUP_NEED, BUP_GOAL):
        assert what in text
    assert names_in(text, printed.names["karin"], CLASS_4_6), "unit and person for a viewer in the team"
    assert "This print-out holds items withheld from guardians. Do not give it to the family." in text
    assert WITHHELD_COMMENT in text and printed.words["serious_en"] in text
    assert "Overdue" in text, "the school's action is eight days late"
    assert "Örn · printed" in text and printed.names["maria"] in text, "the footer: first name, date, viewer"
    first_page = PdfReader(BytesIO(printed.raw["maria_en"])).pages[0].extract_text()
    first_page = " ".join(first_page.split())
    assert SCHOOL_ACTION in first_page and "Plan keeper" in first_page and "Page 1 of" in first_page
    assert "Why there is a plan" not in first_page, "page 1 is who does what, and when"


def names_in(text: str, *names: str) -> bool:
    return all(name in text for name in names)


@pytest.mark.parametrize(
    ("key", "headings", "not_headings"),
    [
        (
            "maria_sv",
            ("BARNETS PLAN", "Planansvarig", "Nästa uppföljning", "Behov och mål", "Varför det finns en plan"),
            ("THE CHILD'S PLAN", "Plan keeper", "Next review", "Needs and goals", "Why there is a plan"),
        ),
        (
            "maria_en",
            ("THE CHILD'S PLAN", "Who does what, and when", "Plan keeper", "Needs and goals", "Page 1 of"),
            ("BARNETS PLAN", "Planansvarig", "Nästa uppföljning", "Behov och mål"),
        ),
    ],
)
def test_the_print_speaks_the_viewers_language(
    printed: Printed, key: str, headings: tuple[str, ...], not_headings: tuple[str, ...]
) -> None:
    text = printed.texts[key]
    for heading in headings:
        assert heading in text, heading
    for heading in not_headings:
        assert heading not in text, heading


def test_the_file_name_is_plain_ascii_without_any_number_but_the_date() -> None:
    facts = ChildFacts("Örn-Åke", "Örn-Åke Haddad", 10)
    day = date(2026, 3, 9)
    assert pdf_filename(facts, day) == f"plan-Orn-Ake-{day.isoformat()}.pdf"
    assert pdf_filename(ChildFacts("李", "李 王", 3), day) == f"plan-child-{day.isoformat()}.pdf"


# -- the download ---------------------------------------------------------------------------------------------------
def _pdf_downloads(app: Flask, child_id: int, outcome: str) -> int:
    with app.app_context():
        return (
            database.session.scalar(
                select(func.count(AuditEvent.id)).where(
                    AuditEvent.child_id == child_id, AuditEvent.action == DOWNLOAD, AuditEvent.outcome == outcome
                )
            )
            or 0
        )


@pytest.mark.parametrize("username", ["erik", "olle", "petra"])
def test_staff_without_a_relation_and_families_get_404_and_a_denial_in_the_audit(
    app: Flask, client: FlaskClient, username: str
) -> None:
    family = make_family(app)
    with app.app_context():
        _plan(family.child(), agency(SCHOOL))
        database.session.commit()
    login(client, username)
    response = client.get(f"/children/{family.public_id}/plan.pdf")
    assert response.status_code == 404 and response.mimetype != "application/pdf"
    with app.app_context():
        denied = database.session.scalar(
            select(func.count(AuditEvent.id)).where(
                AuditEvent.outcome == "denied",
                AuditEvent.action.in_((DOWNLOAD, "open:plan.plan_pdf")),
                AuditEvent.object_id == family.public_id,
            )
        )
    assert denied, "the refusal is in the audit trail"
    assert _pdf_downloads(app, family.child_id, "allowed") == 0


def test_without_a_plan_the_download_is_404_and_the_refusal_audited(app: Flask, client: FlaskClient) -> None:
    family = make_family(app)
    login(client, "maria")
    assert client.get(f"/children/{family.public_id}/plan.pdf").status_code == 404
    assert _pdf_downloads(app, family.child_id, "denied") == 1


def test_the_keeper_downloads_the_pdf_as_an_attachment_and_the_download_is_audited(
    app: Flask, client: FlaskClient
) -> None:
    with app.app_context():
        family, _digits = _omar_like(app)
        _build_plan(family)
        database.session.commit()
        day, keeper = today(), _person("maria").full_name
    login(client, "maria")
    page = client.get(f"/children/{family.public_id}/plan").get_data(as_text=True)
    assert f'href="/children/{family.public_id}/plan.pdf"' in page
    response = client.get(f"/children/{family.public_id}/plan.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf" and response.data.startswith(b"%PDF-")
    disposition = response.headers["Content-Disposition"]
    assert disposition == f'attachment; filename="plan-Orn-{day.isoformat()}.pdf"'
    assert "no-store" in response.headers["Cache-Control"]
    text = _text(response.data)
    assert SCHOOL_ACTION in text and SOCIAL_ACTION in text and keeper in text
    with app.app_context():
        row = database.session.scalars(
            select(AuditEvent).where(
                AuditEvent.child_id == family.child_id,
                AuditEvent.action == DOWNLOAD,
                AuditEvent.outcome == "allowed",
                AuditEvent.object_type == "plan",
            )
        ).one()
        assert row.acting_agency_id == agency(SCHOOL).id and row.legal_basis


def test_every_persona_without_access_to_a_demo_child_gets_404_on_its_pdf(app: Flask, db: Any) -> None:
    with app.app_context():
        rows = database.session.execute(
            select(Child.given_name, Child.public_id).where(Child.given_name.in_(NAMED_CHILDREN))
        )
        ids = {name: public_id for name, public_id in rows}
    problems = []
    for persona in PERSONAS:
        client = app.test_client()
        assert login(client, persona).status_code == 302
        for name in NAMED_CHILDREN:
            if expectation(persona, name).status == 200:
                continue
            status = client.get(f"/children/{ids[name]}/plan.pdf").status_code
            if status != 404:
                problems.append(f"{persona} → {name}: {status}")
    assert not problems, "\n" + "\n".join(problems)
