"""Issue 16, "Honest messages": every empty state says whether there is nothing or whether something is
withheld — and says "withheld" only where RULES.md lets the viewer know the thing exists (§4: another
agency's item is shown as withheld, with the reason; §7: a protected child's places, names and channels
never). Negatives first: the withheld content itself never appears."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from coordination.children.models import Child
from coordination.database import db as database
from coordination.demo.concerns import ALVA_MEETING_PLACE
from coordination.teams.access.team_view import build_team_view
from tests.childplan.test_plan_view import viewing
from tests.helpers import csrf_token, login

DOUBLE_COLON = re.compile(r"(visas inte|withheld): [^<.]*(visas inte|withheld):", re.I)


def child_id(app: Flask, name: str) -> str:
    with app.app_context():
        found = database.session.scalar(select(Child.public_id).where(Child.given_name == name))
    assert found is not None
    return found


def as_user(app: Flask, persona: str) -> FlaskClient:
    client = app.test_client()
    assert login(client, persona).status_code == 302, persona
    return client


def ida_on_alva(app: Flask) -> tuple[FlaskClient, str]:
    """erik reports a concern about Alva and ida (intake) matches it: ida now reaches Alva, outside her
    team, through the report (RULES.md §2), with no consent for her agency."""
    alva = child_id(app, "Alva")
    erik = as_user(app, "erik")
    filed = erik.post(
        "/reports/new",
        data={
            "what_happened": "Alva said something worrying.",
            "given_name": "Alva",
            "family_name": "Nilsson",
            "csrf_token": csrf_token(erik, "/reports/new"),
        },
    )
    assert filed.status_code == 302
    report_id = filed.headers["Location"].rsplit("/", 1)[1]
    ida = as_user(app, "ida")
    matched = ida.post(
        f"/intake/{report_id}/match",
        data={"match_child": alva, "match_confirm": "y", "csrf_token": csrf_token(ida, f"/intake/{report_id}")},
    )
    assert matched.status_code == 302
    return ida, alva


def section(html: str, name: str) -> str:
    match = re.search(rf'data-section="{name}"(.*?)</section>', html, re.S)
    assert match, name
    return match.group(1)


# -- a meeting exists but is withheld (Alva, as ida) --------------------------------------------------------
def test_ida_is_told_a_meeting_is_planned_but_never_when_or_where(app: Flask, client: FlaskClient) -> None:
    ida, alva = ida_on_alva(app)
    overview = ida.get(f"/children/{alva}").get_data(as_text=True)
    team = ida.get(f"/children/{alva}/team").get_data(as_text=True)
    for html in (overview, team):
        assert ALVA_MEETING_PLACE not in html and f"/children/{alva}/meetings/" not in html
        assert "Maria Holm" not in html, "protected identity: no staff names outside the team"
    upcoming = section(team, "meetings")
    assert "data-upcoming-withheld" in upcoming and "Inget möte är planerat" not in upcoming
    nxt = section(overview, "next")
    assert 'data-withheld="no_consent_for_your_agency"' in nxt and "data-meeting-withheld" in nxt
    assert "Ett teammöte är planerat; det visas inte" in nxt
    assert "Inget är planerat" not in nxt


def test_the_team_sees_the_meeting_itself_and_no_withheld_line(app: Flask, client: FlaskClient) -> None:
    alva = child_id(app, "Alva")
    maria = as_user(app, "maria")
    overview = maria.get(f"/children/{alva}").get_data(as_text=True)
    assert "data-meeting-withheld" not in overview and f"/children/{alva}/meetings/" in overview
    assert "data-upcoming-withheld" not in maria.get(f"/children/{alva}/team").get_data(as_text=True)


# -- the plan keeper's contact details are withheld --------------------------------------------------------
def test_ida_is_told_how_to_reach_the_withheld_plan_keeper(app: Flask, client: FlaskClient) -> None:
    ida, alva = ida_on_alva(app)
    plan = ida.get(f"/children/{alva}/plan").get_data(as_text=True)
    assert "Maria Holm" not in plan and "maria.holm@" not in plan
    assert "Kontakta den planansvarige för att samordna" not in plan, "she cannot: the details are withheld"
    assert "ring växeln och be att få tala med barnets planansvarige" in plan
    keeper = section(plan, "keeper")
    assert "data-switchboard" in keeper and app.config["SWITCHBOARD_PHONE"] in keeper


# -- needs exist but are withheld (Leo, as lars) ----------------------------------------------------------
def test_lars_is_told_other_needs_are_withheld_without_seeing_them(app: Flask, client: FlaskClient) -> None:
    leo = child_id(app, "Leo")
    johan_plan = as_user(app, "johan").get(f"/children/{leo}/plan").get_data(as_text=True)
    lars_plan = as_user(app, "lars").get(f"/children/{leo}/plan").get_data(as_text=True)
    johan_needs = re.findall(r'<h3 class="ds-heading" data-size="sm" id="need-[^"]+">([^<]+)</h3>', johan_plan)
    assert johan_needs, "Leo's plan has needs"
    for description in johan_needs:
        assert description not in lars_plan, description
    needs = section(lars_plan, "needs")
    assert 'data-needs-withheld="no_consent_for_your_agency"' in needs
    assert "Det finns inga behov som du kan se ännu" not in needs and "data-no-needs" not in needs
    assert 'data-section="withheld"' not in lars_plan, "still no withheld lines without consent"


def test_a_plan_with_nothing_withheld_says_nothing_is_withheld(app: Flask, client: FlaskClient) -> None:
    leo = child_id(app, "Leo")
    plan = as_user(app, "johan").get(f"/children/{leo}/plan").get_data(as_text=True)
    assert "data-needs-withheld" not in plan and "data-actions-withheld" not in plan


# -- no double colons ----------------------------------------------------------------------------------------
def test_withheld_labels_carry_one_colon(app: Flask, client: FlaskClient) -> None:
    ida, alva = ida_on_alva(app)
    leo = child_id(app, "Leo")
    lars = as_user(app, "lars")
    pages = {
        "ida overview": ida.get(f"/children/{alva}").get_data(as_text=True),
        "ida plan": ida.get(f"/children/{alva}/plan").get_data(as_text=True),
        "ida team": ida.get(f"/children/{alva}/team").get_data(as_text=True),
        "lars overview": lars.get(f"/children/{leo}").get_data(as_text=True),
        "lars plan": lars.get(f"/children/{leo}/plan").get_data(as_text=True),
        "lars chronology": lars.get(f"/children/{leo}/chronology").get_data(as_text=True),
    }
    for name, html in pages.items():
        text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html))
        assert not DOUBLE_COLON.search(text), (name, DOUBLE_COLON.search(text))
    assert "Andra verksamheter visas inte: din verksamhet har inget samtycke." in pages["lars overview"]


# -- the police reach their reports ------------------------------------------------------------------------
def test_the_police_have_a_navigation_link_to_their_reports(app: Flask, client: FlaskClient) -> None:
    home = as_user(app, "erik").get("/").get_data(as_text=True)
    nav = home.split('class="bk-nav"', 1)[1].split("</nav>", 1)[0]
    assert 'href="/reports"' in nav and "Orosanmälningar" in nav


# -- the Team tab offers the Support Coordinator only what she may do ---------------------------------------
def test_only_the_child_contact_is_sent_to_record_consent(app: Flask, client: FlaskClient) -> None:
    # johan keeps Leo's plan as Support Coordinator; only maria, the Child Contact, may record consent
    leo = child_id(app, "Leo")
    assert as_user(app, "johan").get(f"/children/{leo}/consent/record").status_code == 404
    assert f"/children/{leo}/consent/record" not in as_user(app, "johan").get(f"/children/{leo}/team").get_data(
        as_text=True
    )
    for persona, may in (("johan", False), ("maria", True)):
        with viewing(app, persona, "Leo") as access:
            assert build_team_view(access).may_record_consent is may, persona
