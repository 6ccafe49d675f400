"""The demo's five plans (coordination/demo_plans.py) against a hand-written expected-visibility table
(issue 5): every staff persona × Elsa, Omar, Leo, Noah and Alva on the Plan tab, the versions pages, the
worklist and the PDF; then the family viewers (lena, ahmed, petra, tomas, noah) through
``PlanView.for_family`` and the family PDF.

The tables below are written from RULES.md §2, §4, §6, §7 and DEMO.md, never computed from the code under
test: each row says why. Negatives first — who gets 404, and what must not appear — then what is seen.
The ``app`` fixture is a copy of the demo database, so the demo's own plans are what is read here.

Facts the rows rest on (DEMO.md, coordination/demo_data.py, coordination/demo_concerns.py):
- Elsa: keeper hanna (habilitation); team BVC (anna), preschools (sara), habilitation (hanna); consent for
  BVC, preschools and habilitation, coordination, all eight areas (Lena).
- Omar: keeper johan (social services); Child Contact maria; team school (maria, lars), pupil health (nina),
  BUP (karin), social services (johan); consent for all four agencies, all areas (BUP's expires in 20 days:
  still in force). bodil (BUP admin) is a practitioner of the BUP öppenvårdsmottagning, the unit that owns
  karin's actions: an action owner's unit is a relation (RULES.md §2).
- Leo: keeper johan (social services); Child Contact maria; consent for social services only — the school's
  was withdrawn 7 days ago, after lars's school action was added.
- Noah: keeper maria (Child Contact, school); team school and BUP (karin); the school's consent covers all
  areas (Petra), BUP's only healthy and nurtured (given by Noah). karin's BUP action (healthy, nurtured)
  is withheld from guardians.
- Alva: protected identity; keeper maria (the only one on her team); one school action.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from io import BytesIO
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy import select

from childplan.access import GUARDIAN_VIEWER, YOUNG_PERSON_VIEWER, PlanView
from childplan.models import Plan, PlanVersion
from childplan.operations import ActionUpdateData, publish_version, update_action
from childplan.pdf import family_plan_pdf
from coordination.children.models import Child
from coordination.database import db as database
from coordination.demo.ekby import STAFF
from coordination.models import Account
from tests.access.matrix import expectation
from tests.childplan.test_plan_operations import _actor_of
from tests.childplan.test_plan_page import login

PLAN_CHILDREN: tuple[str, ...] = ("Elsa", "Omar", "Leo", "Noah", "Alva")
STAFF_PERSONAS: tuple[str, ...] = tuple(row[0] for row in STAFF)

SCHOOL = "Ekby skola"
PRESCHOOLS = "Ekby förskolor"
BVC = "Barnavårdscentralen Ekby (BVC)"
HABILITATION = "Habiliteringen Ekby"
BUP = "BUP Ekby"
PUPIL_HEALTH = "Elevhälsan Ekby"
SOCIAL_SERVICES = "Socialtjänsten Ekby"

# -- the demo's actions: a short unique prefix of each one's "what" (no apostrophes: HTML escapes them) -----
ELSA_PRESCHOOL = "Bildstöd och en lugn hörna"  # sara, preschools, need: speech (achieving, included)
ELSA_HEARING = "Ett hörseltest på BVC"  # anna, BVC, healthy
ELSA_HABILITATION = "En tal- och språkbedömning"  # hanna, habilitation
OMAR_BUP_VISIT = "Ett första besök på BUP för Omar"  # karin, BUP, due 22 days ago
OMAR_SLEEP_DIARY = "Gå igenom Omar"  # karin, BUP, due 8 days ago ("Gå igenom Omars sömndagbok…")
OMAR_CHECK_IN = "En veckovis avstämning mellan Omar"  # lars, school (adopted decision, in progress)
OMAR_HEALTH_TALK = "Ett hälsosamtal med Omar"  # nina, pupil health (adopted decision, done)
OMAR_BUP_ASSESSMENT = "En bedömning på BUP av Omar"  # karin, BUP (adopted decision, due in 5 days)
OMAR_PARENTING = "Ett erbjudande om föräldrastöd"  # johan, social services (adopted decision)
LEO_TALK = "Ett kort samtal med Leo varje fredag"  # lars, school, serves social services' need
NOAH_CATCH_UP = "En plan för att komma ikapp i matematik och svenska"  # maria, school, need (achieving, included)
NOAH_BUP = "Samtal på BUP om Noah"  # karin, BUP, healthy + nurtured, withheld from guardians
ALVA_SCHEDULE = "Ett bildschema för dagen"  # maria, school, Klass 1–3

ACTIONS: dict[str, tuple[str, ...]] = {
    "Elsa": (ELSA_PRESCHOOL, ELSA_HEARING, ELSA_HABILITATION),
    "Omar": (
        OMAR_BUP_VISIT,
        OMAR_SLEEP_DIARY,
        OMAR_CHECK_IN,
        OMAR_HEALTH_TALK,
        OMAR_BUP_ASSESSMENT,
        OMAR_PARENTING,
    ),
    "Leo": (LEO_TALK,),
    "Noah": (NOAH_CATCH_UP, NOAH_BUP),
    "Alva": (ALVA_SCHEDULE,),
}
EVERY_ACTION: tuple[str, ...] = tuple(what for whats in ACTIONS.values() for what in whats)

# -- other texts of the plans that some viewers must not get ---------------------------------------------------
LEO_NEED = "Leo behöver lugn och någon att prata med"  # social services' need
LEO_WHY = "föräldrar håller på att separera"  # the plan's own text: social services' record
LEO_STRENGTHS = "Leo läser mycket"
LEO_RESPONSIBILITY = "Johan Dahl (socialtjänsten)"
NOAH_NEED = "Noah vill komma tillbaka till skolan på heltid"  # the school's need (achieving, included)
NOAH_WHY = "har varit frånvarande mycket"  # the plan's own text: the school's record
NOAH_CHILD_VIEWS = "vill börja med de lektioner han tycker om"
NOAH_WITHHELD_REASON = "hans mamma inte får veta"  # karin's recorded reason: BUP's own record
NOTICE_KEEPER_NEEDS_CONSENT = "needs a consented agency"
NOTICE_OWN_PART_ONLY = "Contact the plan keeper to coordinate"
WITHHELD_FLAG = "Withheld from guardians"


@dataclass(frozen=True)
class Row:
    """What one persona gets on one child's Plan tab."""

    status: int = 404
    actions: frozenset[str] = frozenset()  # exactly these of the child's actions are shown
    withheld: int = 0  # withheld lines ("Parts of the plan you cannot see")
    hidden: tuple[str, ...] = ()  # texts that must not appear anywhere on the page
    notice: str | None = None  # a part of the notice's words, when one is expected
    shows: tuple[str, ...] = ()  # other texts that must appear


NOT_REACHED = Row(404)  # no relation (RULES.md §2): 404, whatever the plan holds


def sees(
    *whats: str,
    withheld: int = 0,
    hidden: tuple[str, ...] = (),
    notice: str | None = None,
    shows: tuple[str, ...] = (),
) -> Row:
    return Row(200, frozenset(whats), withheld, hidden, notice, shows)


# The whole plan of a child whose every involved agency consents to coordination for all eight areas.
ELSA_ALL = sees(*ACTIONS["Elsa"])
OMAR_ALL = sees(*ACTIONS["Omar"])
# Noah, seen from BUP (karin, and bodil through the owning unit): BUP's consent (Noah's own) covers healthy
# and nurtured only. Its own action is its own record; the school's need (achieving, included), the school's
# action serving it and the plan's own texts (the school's record, all areas) are withheld — two withheld
# lines (the need, the action); the texts are not a line.
# BUP's own reason for withholding its action from guardians is BUP's record: shown to BUP's staff.
NOAH_FROM_BUP = sees(
    NOAH_BUP,
    withheld=2,
    hidden=(NOAH_CATCH_UP, NOAH_NEED, NOAH_WHY, NOAH_CHILD_VIEWS, "Petra vill att Noah kommer tillbaka"),
    shows=(NOAH_WITHHELD_REASON,),
)
# Leo, seen from the school (no consent since Eva withdrew it): only the school's own action; no withheld
# lines (nothing may tell the school what else the plan holds), nothing of social services — not its need,
# the plan's own texts, nor its name (RULES.md §4: the list of agencies involved is consent-scoped) — and
# how to reach the keeper (his name, not his agency).
LEO_KEEPER = "Johan Dahl"
LEO_FROM_SCHOOL_HIDDEN = (LEO_NEED, LEO_WHY, LEO_STRENGTHS, LEO_RESPONSIBILITY, SOCIAL_SERVICES)

EXPECTED: dict[str, dict[str, Row]] = {
    "anna": {
        "Elsa": ELSA_ALL,  # Child Contact, BVC; consent for BVC covers every area
        "Omar": NOT_REACHED,
        "Leo": NOT_REACHED,
        "Noah": NOT_REACHED,
        "Alva": NOT_REACHED,
    },
    "sara": {
        "Elsa": ELSA_ALL,  # enrolled at her unit Solrosen, on the team, owns the preschool action; consent
        "Omar": NOT_REACHED,
        "Leo": NOT_REACHED,
        "Noah": NOT_REACHED,
        "Alva": NOT_REACHED,
    },
    "maria": {
        "Elsa": NOT_REACHED,  # the school has nothing to do with a three-year-old at preschool
        "Omar": OMAR_ALL,  # Child Contact and on the team; the school's consent covers every area
        # Child Contact, but the school's consent was withdrawn: own part only, and told the role needs consent
        "Leo": sees(LEO_TALK, hidden=LEO_FROM_SCHOOL_HIDDEN, notice=NOTICE_KEEPER_NEEDS_CONSENT, shows=(LEO_KEEPER,)),
        # keeper; the school's consent (Petra, all eight areas) covers BUP's action (healthy, nurtured), so
        # she sees it, flagged as withheld from guardians — but not BUP's recorded reason (BUP's record)
        "Noah": sees(NOAH_CATCH_UP, NOAH_BUP, hidden=(NOAH_WITHHELD_REASON,), shows=(WITHHELD_FLAG,)),
        "Alva": sees(ALVA_SCHEDULE),  # keeper, Child Contact, the whole team
    },
    "lars": {
        "Elsa": NOT_REACHED,
        "Omar": OMAR_ALL,  # Klass 4–6 and on the team; the school's consent covers every area
        # Klass 4–6 and the owner of the school's action; no consent: his action only, and the keeper's contact
        "Leo": sees(LEO_TALK, hidden=LEO_FROM_SCHOOL_HIDDEN, notice=NOTICE_OWN_PART_ONLY, shows=(LEO_KEEPER,)),
        "Noah": NOT_REACHED,  # Noah is in Klass 7–9, lars teaches 4–6
        "Alva": NOT_REACHED,  # Klass 1–3
    },
    "nina": {
        "Elsa": NOT_REACHED,
        "Omar": OMAR_ALL,  # pupil health team (enrolled) and on the team; consent for every area
        "Leo": NOT_REACHED,
        "Noah": NOT_REACHED,
        "Alva": NOT_REACHED,
    },
    "johan": {
        "Elsa": NOT_REACHED,
        "Omar": OMAR_ALL,  # Support Coordinator, keeper; consent for every area
        # keeper; social services' consent covers every area, so the school's action is visible
        "Leo": sees(LEO_TALK, hidden=(NOTICE_KEEPER_NEEDS_CONSENT, NOTICE_OWN_PART_ONLY)),
        "Noah": NOT_REACHED,
        "Alva": NOT_REACHED,
    },
    "ida": dict.fromkeys(PLAN_CHILDREN, NOT_REACHED),  # intake: no report about these children
    "erik": dict.fromkeys(PLAN_CHILDREN, NOT_REACHED),  # police: his report (Maja) is not matched
    "karin": {
        "Elsa": NOT_REACHED,
        "Omar": OMAR_ALL,  # on the team, owns three actions; BUP's consent (Ahmed) covers every area
        "Leo": NOT_REACHED,
        "Noah": NOAH_FROM_BUP,  # on the team, owns the BUP action
        "Alva": NOT_REACHED,
    },
    "bodil": {
        "Elsa": NOT_REACHED,
        # a practitioner of the unit that owns karin's actions: the owner-unit relation, with BUP's consent
        "Omar": OMAR_ALL,
        "Leo": NOT_REACHED,
        "Noah": NOAH_FROM_BUP,  # the same relation, the same consent as karin
        "Alva": NOT_REACHED,
    },
    "olle": dict.fromkeys(PLAN_CHILDREN, NOT_REACHED),  # primary care: no demo children
    "hanna": {
        "Elsa": ELSA_ALL,  # Support Coordinator and keeper; habilitation's consent covers every area
        "Omar": NOT_REACHED,
        "Leo": NOT_REACHED,
        "Noah": NOT_REACHED,
        "Alva": NOT_REACHED,
    },
    "mia": dict.fromkeys(PLAN_CHILDREN, NOT_REACHED),  # MVC: only Baby Lund
}

# -- the worklist: "mine" is the actions of the acting agency owned by me or by a unit I practise in ---------
# Open actions only by default (planned, in progress), overdue first (oldest first), then due within 14
# days, then the rest by due date. Listed in the order they must appear.
WORKLIST: dict[str, tuple[str, ...]] = {
    "anna": (ELSA_HEARING,),
    "sara": (ELSA_PRESCHOOL,),
    # maria practises in all three classes: every school action of the demo (due in 20, 21, 25, 30 days)
    "maria": (LEO_TALK, OMAR_CHECK_IN, NOAH_CATCH_UP, ALVA_SCHEDULE),
    "lars": (LEO_TALK, OMAR_CHECK_IN),  # Klass 4–6; Leo's stays his though the consent was withdrawn
    "nina": (),  # her one action (the health talk) is done
    "johan": (OMAR_PARENTING,),
    "ida": (),
    "erik": (),
    # 22 and 8 days overdue first, then the assessment due in 5 days, then Noah's (40 days)
    "karin": (OMAR_BUP_VISIT, OMAR_SLEEP_DIARY, OMAR_BUP_ASSESSMENT, NOAH_BUP),
    "bodil": (OMAR_BUP_VISIT, OMAR_SLEEP_DIARY, OMAR_BUP_ASSESSMENT, NOAH_BUP),  # the unit's actions
    "olle": (),
    "hanna": (ELSA_HABILITATION,),
    "mia": (),
}
DONE: dict[str, tuple[str, ...]] = {"nina": (OMAR_HEALTH_TALK,)}  # shown with ?status=all
OVERDUE: frozenset[str] = frozenset({OMAR_BUP_VISIT, OMAR_SLEEP_DIARY})
# The agency view (agency admins only): every action their agency owns — nothing of another agency.
AGENCY_VIEW: dict[str, tuple[str, ...]] = {
    "maria": (LEO_TALK, OMAR_CHECK_IN, NOAH_CATCH_UP, ALVA_SCHEDULE),
    "bodil": (OMAR_BUP_VISIT, OMAR_SLEEP_DIARY, OMAR_BUP_ASSESSMENT, NOAH_BUP),
}


# -- helpers ------------------------------------------------------------------------------------------------------
def child_ids(app: Flask) -> dict[str, str]:
    with app.app_context():
        rows = database.session.execute(
            select(Child.given_name, Child.public_id).where(Child.given_name.in_(PLAN_CHILDREN))
        ).all()
    found = {name: public_id for name, public_id in rows}
    assert set(found) == set(PLAN_CHILDREN)
    return found


def omar_versions(app: Flask) -> tuple[str, str]:
    with app.app_context():
        rows = database.session.execute(
            select(PlanVersion.number, PlanVersion.public_id)
            .join(Plan, Plan.id == PlanVersion.plan_id)
            .join(Child, Child.id == Plan.child_id)
            .where(Child.given_name == "Omar")
            .order_by(PlanVersion.number)
        ).all()
    assert [number for number, _ in rows] == [1, 2], "the demo publishes two versions of Omar's plan"
    return rows[0][1], rows[1][1]


def section(html: str, name: str) -> str:
    """The inside of ``<section data-section="name">`` (empty when there is none)."""
    marker = f'data-section="{name}"'
    if marker not in html:
        return ""
    return html.split(marker, 1)[1].split("</section>", 1)[0]


def pdf_text(document: bytes) -> str:
    reader = PdfReader(BytesIO(document))
    return " ".join(" ".join(page.extract_text() or "" for page in reader.pages).split())


def check_shown(where: str, text: str, child: str, shown: frozenset[str] | set[str]) -> None:
    for what in ACTIONS[child]:
        if what in shown:
            assert what in text, f"{where}: {what!r} must be shown"
        else:
            assert what not in text, f"{where}: {what!r} must not be shown"
    for what in EVERY_ACTION:
        if what not in ACTIONS[child]:
            assert what not in text, f"{where}: {what!r} is another child's"


# -- the table itself -----------------------------------------------------------------------------------------------
def test_the_table_has_a_row_for_every_staff_persona_and_plan_child_and_agrees_with_the_access_matrix() -> None:
    assert set(EXPECTED) == set(STAFF_PERSONAS) == set(WORKLIST)
    for persona, rows in EXPECTED.items():
        assert set(rows) == set(PLAN_CHILDREN), persona
        for child, row in rows.items():
            assert row.status == expectation(persona, child).status, (persona, child)


# -- the Plan tab ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("persona", STAFF_PERSONAS)
def test_the_plan_tab_shows_each_persona_exactly_its_row_of_the_table(
    app: Flask, client: FlaskClient, persona: str
) -> None:
    ids = child_ids(app)
    login(client, persona)
    for child in PLAN_CHILDREN:
        row = EXPECTED[persona][child]
        answer = client.get(f"/children/{ids[child]}/plan")
        assert answer.status_code == row.status, (persona, child)
        html = answer.get_data(as_text=True)
        if row.status == 404:
            for what in ACTIONS[child]:
                assert what not in html, (persona, child, what)
            continue
        where = f"{persona} on {child}'s Plan tab"
        for text in row.hidden:
            assert text not in html, f"{where}: {text!r} must not appear"
        for text in row.shows:
            assert text in html, f"{where}: {text!r} must appear"
        check_shown(where, html, child, row.actions)
        assert html.count(' data-action="') == len(row.actions), where
        assert section(html, "withheld").count("<li") == row.withheld, where
        if row.notice:
            assert row.notice in html, where
        else:
            assert "data-notice" not in html, where


# -- the versions pages --------------------------------------------------------------------------------------------
# Omar's version 1 holds karin's two first actions; version 2 adds the meeting's four decisions (lars's,
# nina's, karin's assessment and johan's). Every agency that reaches Omar consents for every area, so the
# diff is the four added actions for each of them; karin's first two did not change and are not in it.
OMAR_ADDED = frozenset({OMAR_CHECK_IN, OMAR_HEALTH_TALK, OMAR_BUP_ASSESSMENT, OMAR_PARENTING})


@pytest.mark.parametrize("persona", STAFF_PERSONAS)
def test_omars_versions_and_the_diff_from_version_1_to_2_for_each_persona(
    app: Flask, client: FlaskClient, persona: str
) -> None:
    ids = child_ids(app)
    first, second = omar_versions(app)
    base = f"/children/{ids['Omar']}/plan/versions"
    row = EXPECTED[persona]["Omar"]
    login(client, persona)
    listing = client.get(base)
    diff = client.get(f"{base}/{first}...{second}")
    assert listing.status_code == diff.status_code == row.status, persona
    if row.status == 404:
        return
    html = listing.get_data(as_text=True)
    assert f'data-version="{first}"' in html and f'data-version="{second}"' in html
    assert f"/plan/versions/{first}...{second}" in html
    html = diff.get_data(as_text=True)
    check_shown(f"{persona} on Omar's diff", html, "Omar", OMAR_ADDED & row.actions)
    assert html.count('data-change="added"') == len(OMAR_ADDED & row.actions)
    assert 'data-change="removed"' not in html and 'data-change="changed"' not in html
    assert "data-not-shown" not in html  # nothing of Omar's plan is withheld from any of them


@pytest.fixture()
def noah_version_2(app: Flask, db: Any) -> tuple[str, str]:
    """Noah's plan, version 2: karin has started her BUP action and maria the school's, and maria (the
    keeper) publishes. Returns the public ids of versions 1 and 2."""
    with app.app_context():
        plan = database.session.scalar(select(Plan).join(Child).where(Child.given_name == "Noah"))
        assert plan is not None
        bup = next(action for action in plan.actions if action.what.startswith(NOAH_BUP))
        school = next(action for action in plan.actions if action.what.startswith(NOAH_CATCH_UP))
        update_action(_actor_of("karin"), bup, bup.version, ActionUpdateData("in_progress", progress_note="Seen twice"))
        update_action(_actor_of("maria"), school, school.version, ActionUpdateData("in_progress"))
        second = publish_version(_actor_of("maria"), plan)
        first = database.session.scalar(
            select(PlanVersion.public_id).where(PlanVersion.plan_id == plan.id, PlanVersion.number == 1)
        )
        database.session.commit()
        assert first is not None and second.number == 2
        return first, second.public_id


# maria (school, consent for every area) sees both changes. karin and bodil (BUP, healthy + nurtured) see
# their own action's; the school's need and action are left out of both sides and only counted (2).
NOAH_DIFF: dict[str, tuple[frozenset[str], int | None]] = {
    "maria": (frozenset({NOAH_CATCH_UP, NOAH_BUP}), None),
    "karin": (frozenset({NOAH_BUP}), 2),
    "bodil": (frozenset({NOAH_BUP}), 2),
}


@pytest.mark.parametrize("persona", [*NOAH_DIFF, "lars", "erik"])
def test_noahs_diff_shows_each_persona_only_what_its_consent_covers(
    app: Flask, client: FlaskClient, noah_version_2: tuple[str, str], persona: str
) -> None:
    first, second = noah_version_2
    ids = child_ids(app)
    login(client, persona)
    answer = client.get(f"/children/{ids['Noah']}/plan/versions/{first}...{second}")
    if persona not in NOAH_DIFF:
        assert answer.status_code == 404
        return
    shown, not_shown = NOAH_DIFF[persona]
    assert answer.status_code == 200
    html = answer.get_data(as_text=True)
    check_shown(f"{persona} on Noah's diff", html, "Noah", shown)
    assert html.count('data-change="changed"') == len(shown)
    if not_shown is None:
        assert "data-not-shown" not in html
    else:
        assert f'data-not-shown="{not_shown}"' in html
        for text in (NOAH_NEED, NOAH_WHY, NOAH_CATCH_UP):
            assert text not in html


# -- the worklist ------------------------------------------------------------------------------------------------
def _whats_in_order(html: str, section_name: str) -> list[str]:
    """The demo actions a worklist section shows, in the order shown."""
    part = section(html, section_name) if section_name else html
    found = [(part.index(what), what) for what in EVERY_ACTION if what in part]
    return [what for _position, what in sorted(found)]


@pytest.mark.parametrize("persona", STAFF_PERSONAS)
def test_the_worklist_holds_exactly_the_actions_the_persona_or_their_unit_owns_overdue_first(
    app: Flask, client: FlaskClient, persona: str
) -> None:
    login(client, persona)
    html = client.get("/worklist").get_data(as_text=True)
    assert _whats_in_order(html, "") == list(WORKLIST[persona]), persona
    assert html.count('data-action="') == len(WORKLIST[persona])
    assert html.count("data-overdue") == len(OVERDUE & set(WORKLIST[persona]))
    everything = client.get("/worklist?status=all").get_data(as_text=True)
    assert set(_whats_in_order(everything, "")) == set(WORKLIST[persona]) | set(DONE.get(persona, ()))
    agency = client.get("/worklist?view=agency").get_data(as_text=True)
    if persona not in AGENCY_VIEW:  # not an agency admin: the agency view is not offered, "mine" is shown
        assert 'data-section="worklist-switch"' not in agency
        assert _whats_in_order(agency, "") == list(WORKLIST[persona])
        return
    assert 'data-section="worklist-switch"' in agency
    assert _whats_in_order(agency, "") == list(AGENCY_VIEW[persona]), persona
    others = set(EVERY_ACTION) - set(AGENCY_VIEW[persona])
    assert not [what for what in others if what in agency], "nothing of another agency"


# -- the PDF (GET /children/<id>/plan.pdf), read back ---------------------------------------------------------------
PDF_CHILDREN = ("Omar", "Noah", "Leo")
PDF_PERSONAS = [persona for persona in STAFF_PERSONAS if any(EXPECTED[persona][c].status == 200 for c in PDF_CHILDREN)]


def _withheld_lines(text: str) -> int:
    heading = "Parts of the plan you cannot see"
    if heading not in text:
        return 0
    part = text.split(heading, 1)[1]
    return len(re.findall(r"\bA need\b", part)) + len(re.findall(r"\bAn action\b", part))


@pytest.mark.parametrize("persona", PDF_PERSONAS)
def test_the_pdf_holds_each_personas_row_of_the_table(app: Flask, client: FlaskClient, persona: str) -> None:
    ids = child_ids(app)
    login(client, persona)
    for child in PDF_CHILDREN:
        row = EXPECTED[persona][child]
        answer = client.get(f"/children/{ids[child]}/plan.pdf")
        assert answer.status_code == row.status, (persona, child)
        if row.status == 404:
            continue
        assert answer.mimetype == "application/pdf"
        text = pdf_text(answer.data)
        where = f"{persona}'s PDF of {child}'s plan"
        assert "Who does what, and when" in text, where  # read in the viewer's language (English here)
        check_shown(where, text, child, row.actions)
        for hidden in row.hidden:
            assert hidden not in text, f"{where}: {hidden!r} must not appear"
        assert _withheld_lines(text) == row.withheld, where
        # staff see the flag on what is withheld from guardians (and a warning not to hand the print over)
        flagged = NOAH_BUP in row.actions
        assert (WITHHELD_FLAG in text) == flagged, where
        assert ("Do not give it to the family" in text) == flagged, where


# -- family viewers ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FamilyRow:
    """What a family viewer gets of a child's plan (``PlanView.for_family``)."""

    child: str
    viewer_kind: str
    actions: frozenset[str]
    agencies: frozenset[str]
    flagged: frozenset[str] = frozenset()  # actions shown with "withheld from guardians" (the young person)
    names: bool = True  # unit and staff names shown
    switchboard: bool = False  # the switchboard number instead of the keeper's name and channels
    hidden: tuple[str, ...] = ()  # texts that appear nowhere in the view or the PDF
    pdf_shows: tuple[str, ...] = ()  # texts the PDF must hold


FAMILY: dict[str, FamilyRow] = {
    # Elsa's guardian (sole custody): the whole plan, every agency and every name
    "lena": FamilyRow(
        "Elsa",
        GUARDIAN_VIEWER,
        frozenset(ACTIONS["Elsa"]),
        frozenset({PRESCHOOLS, BVC, HABILITATION}),
        pdf_shows=("Anna Berg", "Sara Lind", "Hanna Åberg"),
    ),
    # Omar's guardian: nothing of Omar's plan is withheld from guardians
    "ahmed": FamilyRow(
        "Omar",
        GUARDIAN_VIEWER,
        frozenset(ACTIONS["Omar"]),
        frozenset({BUP, SCHOOL, PUPIL_HEALTH, SOCIAL_SERVICES}),
        pdf_shows=("Karin Vik", "Johan Dahl"),
    ),
    # Noah's mother: BUP's action is withheld from guardians, and BUP is involved only through withheld
    # items (its action, its team membership, its ratings): neither it, nor BUP, nor karin exists for her
    # (RULES.md §6), nor a flag or warning saying something is withheld
    "petra": FamilyRow(
        "Noah",
        GUARDIAN_VIEWER,
        frozenset({NOAH_CATCH_UP}),
        frozenset({SCHOOL}),
        hidden=(NOAH_BUP, "BUP", "Karin", "Vik", "low mood", NOAH_WITHHELD_REASON, WITHHELD_FLAG),
        pdf_shows=("Maria Holm",),
    ),
    # Noah himself: he sees BUP's action, marked as withheld from guardians
    "noah": FamilyRow(
        "Noah",
        YOUNG_PERSON_VIEWER,
        frozenset(ACTIONS["Noah"]),
        frozenset({SCHOOL, BUP}),
        flagged=frozenset({NOAH_BUP}),
        pdf_shows=("Karin Vik", WITHHELD_FLAG),
    ),
    # Alva's father: a restricted guardian of a protected child — no unit or staff names or channels
    # (RULES.md §7), the switchboard number instead; the agency itself may be named
    "tomas": FamilyRow(
        "Alva",
        GUARDIAN_VIEWER,
        frozenset({ALVA_SCHEDULE}),
        frozenset({SCHOOL}),
        names=False,
        switchboard=True,
        hidden=("Klass 1–3", "ekby.example", "Maria Holm", "Maria"),
    ),
}


@dataclass(frozen=True)
class FamilySeen:
    """What one family viewer got: the view model (and everything it carries, as one string) and the PDF's
    text."""

    view: PlanView
    everything: str
    pdf: str
    switchboard: str


def _family_seen(app: Flask, persona: str) -> FamilySeen:
    row = FAMILY[persona]
    with app.test_request_context():
        child = database.session.scalar(select(Child).where(Child.given_name == row.child))
        assert child is not None
        plan = database.session.scalar(select(Plan).where(Plan.child_id == child.id))
        assert plan is not None
        guardian_id = None
        if row.viewer_kind == GUARDIAN_VIEWER:
            guardian_id = database.session.scalar(select(Account.guardian_id).where(Account.username == persona))
            assert guardian_id is not None
        view = PlanView.for_family(plan, child, row.viewer_kind, guardian_id)
        pdf = pdf_text(family_plan_pdf(plan, child, row.viewer_kind, guardian_id, locale="en"))
        return FamilySeen(view, repr(dataclasses.asdict(view)), pdf, app.config["SWITCHBOARD_PHONE"])


@pytest.fixture(scope="module")
def family_seen(app: Flask) -> dict[str, FamilySeen]:
    """Each family viewer's view and PDF, built once for the module (a PDF takes about half a second) in a
    transaction of its own that is rolled back before the tests read them (the ``db`` fixture's pattern)."""
    bound = app.extensions["database"]
    connection = bound.engine.connect()
    transaction = connection.begin()
    bound.bind_to_connection(connection)
    try:
        return {persona: _family_seen(app, persona) for persona in FAMILY}
    finally:
        bound.bind_to_connection(None)
        transaction.rollback()
        connection.close()


@pytest.mark.parametrize("persona", FAMILY)
def test_nothing_the_family_viewer_may_not_have_reaches_its_view_or_its_pdf(
    family_seen: dict[str, FamilySeen], persona: str
) -> None:
    seen, row = family_seen[persona], FAMILY[persona]
    for text in row.hidden:
        assert text not in seen.everything, f"{persona}: {text!r} must not reach the family (view)"
        assert text not in seen.pdf, f"{persona}: {text!r} must not reach the family (PDF)"


@pytest.mark.parametrize("persona", list(FAMILY))
def test_plan_view_for_family_holds_each_family_viewers_row(family_seen: dict[str, FamilySeen], persona: str) -> None:
    seen, row = family_seen[persona], FAMILY[persona]
    view = seen.view
    shown = {what for what in ACTIONS[row.child] if any(line.what.startswith(what) for line in view.actions)}
    assert shown == row.actions and len(view.actions) == len(row.actions), persona
    assert set(view.agencies) == row.agencies, persona
    flagged = {
        what
        for what in ACTIONS[row.child]
        for line in view.actions
        if line.what.startswith(what) and line.withheld_from_guardians
    }
    assert flagged == row.flagged, persona
    assert not view.withheld and not view.notices  # families get no withheld lines, no staff notices
    assert view.keeper is not None
    if row.names:
        assert all(line.person for line in view.actions), persona
        assert view.keeper.name is not None and view.keeper.switchboard is None
    else:
        assert all(line.unit is None and line.person is None for line in view.actions)
        assert view.keeper.name is None and view.keeper.phone is None and view.keeper.email is None
        assert view.keeper.switchboard == seen.switchboard


@pytest.mark.parametrize("persona", list(FAMILY))
def test_the_family_pdf_holds_each_family_viewers_row(family_seen: dict[str, FamilySeen], persona: str) -> None:
    seen, row = family_seen[persona], FAMILY[persona]
    where = f"{persona}'s PDF"
    check_shown(where, seen.pdf, row.child, row.actions)
    for shown in row.pdf_shows:
        assert shown in seen.pdf, f"{where}: {shown!r} must appear"
    for agency in row.agencies:
        assert agency in seen.pdf, where
    assert "Parts of the plan you cannot see" not in seen.pdf
    assert (seen.switchboard in seen.pdf) == row.switchboard, where
    assert (WITHHELD_FLAG in seen.pdf) == bool(row.flagged), where
