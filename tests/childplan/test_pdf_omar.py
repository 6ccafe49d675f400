"""Issue 5's "done when": the PDF of Omar's demo plan renders in Swedish and in English, and its text read
back with pypdf holds every action of the plan and nothing withheld — for the plan keeper (johan, through the
download) and for Omar's guardian (ahmed, through the family's renderer; his pages come with the portal).
Omar's plan withholds nothing from guardians, so both hold all six actions."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from childplan.access import GUARDIAN_VIEWER
from childplan.models import Plan
from childplan.pdf import family_plan_pdf
from coordination.children.models import Child
from coordination.database import db as database
from coordination.models import Account
from tests.childplan.test_visibility_table import pdf_text
from tests.helpers import login, post_form

OMARS_ACTIONS = (
    "Ett första besök på BUP för Omar och Ahmed",
    "Gå igenom Omars sömndagbok",
    "En veckovis avstämning mellan Omar och hans klasslärare",
    "Ett hälsosamtal med Omar om sömn",
    "En bedömning på BUP av Omars oro och sömn",
    "Ett erbjudande om föräldrastöd till Ahmed",
)
HEADINGS = {
    "sv": ("Vem gör vad, och när", "Barnets plan"),
    "en": ("Who does what, and when", "The Child's Plan"),
}
WITHHELD_WORDS = ("Withheld", "Undanhåll", "withheld from guardians", "undanhållen")


def _omar(app: Flask) -> tuple[Child, Plan]:
    child = database.session.scalar(select(Child).where(Child.given_name == "Omar"))
    assert child is not None
    plan = database.session.scalar(select(Plan).where(Plan.child_id == child.id))
    assert plan is not None
    return child, plan


def _check(text: str, language: str, who: str) -> None:
    other = "en" if language == "sv" else "sv"
    for heading in HEADINGS[language]:
        assert heading.casefold() in text.casefold(), f"{who}, {language}: {heading!r} missing"
    assert HEADINGS[other][0] not in text, f"{who}, {language}: the other language's heading"
    for what in OMARS_ACTIONS:
        assert what in text, f"{who}, {language}: {what!r} missing"
    for word in WITHHELD_WORDS:
        assert word not in text, f"{who}, {language}: {word!r} — Omar's plan withholds nothing"
    assert "Omar" in text and "Hassan" in text


@pytest.mark.parametrize("language", ["sv", "en"])
def test_the_keepers_pdf_of_omars_plan_holds_every_action_in_the_viewers_language(
    app: Flask, client: FlaskClient, db: object, language: str
) -> None:
    with app.app_context():
        child, _plan = _omar(app)
        omar = child.public_id
    login(client, "johan")
    assert post_form(client, "/language", {"language": language, "next": "/"}).status_code == 302
    answer = client.get(f"/children/{omar}/plan.pdf")
    assert answer.status_code == 200
    assert answer.mimetype == "application/pdf"
    _check(pdf_text(answer.data), language, "johan")


@pytest.mark.parametrize("language", ["sv", "en"])
def test_ahmeds_pdf_of_omars_plan_holds_every_action_in_his_language(app: Flask, db: object, language: str) -> None:
    with app.test_request_context():
        child, plan = _omar(app)
        ahmed = database.session.scalar(select(Account.guardian_id).where(Account.username == "ahmed"))
        assert ahmed is not None
        text = pdf_text(family_plan_pdf(plan, child, GUARDIAN_VIEWER, ahmed, locale=language))
    _check(text, language, "ahmed")
    assert "Johan Dahl" in text, "ahmed is not restricted: the plan keeper's name and contact are printed"
