"""Swedish throughout (issue 16): the demo's staff and family pages, in Swedish, carry no English — not in the
demo's names (agencies, units, titles), its texts (plans, meetings, concerns), nor what the system writes
(evidence notes, language names). A short list of the English actually found on these pages, kept as a
tripwire: a page fails when its visible text (tags stripped, scripts and anything marked as another language
left out) contains one of them."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from coordination.labels import agency_with_kind, language_name, system_note, unit_with_agency
from tests.helpers import login

# English found on the demo's Swedish pages before issue 16 (and words that would say it is back).
ENGLISH = (
    " the ",
    "child health",
    "health centre",
    "nurse",
    "teacher",
    "preschool",
    "school",
    "Class ",
    "social services",
    "pupil health",
    "habilitation",
    "Children and families",
    "outpatient",
    "Intake",
    "police",
    "Agreed when",
    "shown in",
    "English",
    " and ",
    " with ",
    " at ",
)
# A language's name capitalised inside a Swedish sentence ("visad på Svenska", "på Engelska").
CAPITALISED_LANGUAGE = re.compile(r"\b(?:på|in) (?:Svenska|Engelska|English|Swedish)\b")
# An agency's name doubled in parentheses ("Barnavårdscentralen Ekby (BVC) (Barnavårdscentral (BVC))").
DOUBLED = re.compile(r"\([^()]*\([^()]*\)\)")


class _VisibleText(HTMLParser):
    """The text a reader sees: no tags, scripts or styles, nothing inside an element in another language
    (the language switch offers "English" in English, on purpose)."""

    VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"})

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.stack: list[bool] = []  # per open element: is its content hidden from this check

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.VOID:
            return
        language = dict(attrs).get("lang")
        hidden = (
            tag in ("script", "style", "template")
            or (language is not None and not language.startswith("sv"))
            or bool(self.stack and self.stack[-1])
        )
        self.stack.append(hidden)

    def handle_endtag(self, tag: str) -> None:
        if tag not in self.VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if not (self.stack and self.stack[-1]):
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _VisibleText()
    parser.feed(html)
    return re.sub(r"\s+", " ", " ".join(parser.parts))


def english_in(text: str) -> list[str]:
    found = [word for word in ENGLISH if word in text]
    found += CAPITALISED_LANGUAGE.findall(text)
    found += DOUBLED.findall(text)
    return found


def _child(app: Flask, given_name: str) -> str:
    from coordination.children.models import Child
    from coordination.database import db

    with app.app_context():
        public_id = db.session.scalar(select(Child.public_id).where(Child.given_name == given_name).order_by(Child.id))
    assert public_id is not None, given_name
    return str(public_id)


def _child_pages(child: str, *tabs: str) -> list[str]:
    return [f"/children/{child}" + ("" if tab == "overview" else f"/{tab}") for tab in tabs]


STAFF_TABS = ("overview", "plan", "team", "consent", "chronology")
# (persona, the children whose pages they open, the tabs, their own pages)
PERSONAS: tuple[tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...]], ...] = (
    ("sara", ("Elsa",), STAFF_TABS, ("/", "/worklist", "/inbox")),
    ("anna", ("Elsa", "Liam"), STAFF_TABS, ("/", "/worklist", "/inbox")),
    ("hanna", ("Elsa",), STAFF_TABS, ("/", "/worklist", "/inbox")),  # Elsa's Support Coordinator
    ("johan", ("Omar", "Leo"), STAFF_TABS, ("/", "/worklist", "/inbox")),  # Omar's and Leo's
    ("karin", ("Omar", "Noah"), STAFF_TABS, ("/", "/worklist", "/inbox")),
    ("lars", ("Omar", "Leo"), ("overview", "plan", "team", "chronology"), ("/", "/worklist", "/inbox")),
    ("maria", ("Alva", "Noah"), STAFF_TABS, ("/", "/worklist", "/inbox")),
    ("ida", (), (), ("/", "/intake", "/inbox")),
    ("erik", (), (), ("/", "/reports", "/inbox")),
    ("lena", (), (), ("/",)),  # the family home: the children, plans and meetings
    ("petra", (), (), ("/",)),
    ("noah", (), (), ("/",)),
)


@pytest.mark.parametrize(("username", "children", "tabs", "pages"), PERSONAS, ids=[row[0] for row in PERSONAS])
def test_the_demo_pages_in_swedish_carry_no_english(
    app: Flask,
    client: FlaskClient,
    username: str,
    children: tuple[str, ...],
    tabs: tuple[str, ...],
    pages: tuple[str, ...],
) -> None:
    assert login(client, username).status_code == 302
    paths = list(pages)
    for given_name in children:
        paths += _child_pages(_child(app, given_name), *tabs)
    found: dict[str, list[str]] = {}
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, (username, path, response.status_code)
        html = response.get_data(as_text=True)
        assert '<html lang="sv"' in html, (username, path)
        english = english_in(visible_text(html))
        if english:
            found[path] = english
    assert found == {}, (username, found)


def test_the_login_page_describes_every_persona_in_swedish(committed_db: Any) -> None:
    text = visible_text(committed_db(DEMO_MODE=True).test_client().get("/login").get_data(as_text=True))
    assert "Anna Berg, sjuksköterska – Barnavårdscentralen Ekby (BVC)" in text
    assert "Lars Ek, klasslärare – Ekby skola" in text and "Lena Karlsson – Vårdnadshavare" in text
    assert english_in(text) == [], english_in(text)


def test_the_word_list_catches_what_issue_16_found() -> None:
    """The tripwire works: each thing the issue found is caught."""
    for seen in (
        "Ekby child health centre (BVC) (Ekby child health centre (BVC))",
        "Anna Berg, nurse",
        "version 1, visad på Svenska",
        "Läs samtyckestexten på English",
        "Underlag: Agreed when the concern was raised",
    ):
        assert english_in(seen), seen
    assert english_in("Barnavårdscentralen Ekby (BVC) – Anna Berg, sjuksköterska, visad på svenska") == []


def test_names_are_composed_without_doubling(app: Flask) -> None:
    assert agency_with_kind("Barnavårdscentralen Ekby (BVC)", "Barnavårdscentral (BVC)") == (
        "Barnavårdscentralen Ekby (BVC)"
    )
    assert agency_with_kind("Ekby förskolor", "Förskola") == "Ekby förskolor"
    assert agency_with_kind("BUP Ekby", "Barn- och ungdomspsykiatri (BUP)") == "BUP Ekby"
    assert agency_with_kind("Primärvården Ekby", "Vårdcentral") == "Primärvården Ekby (Vårdcentral)"
    assert unit_with_agency("Vårdcentralen Ekby", "Vårdcentralen Ekby") == "Vårdcentralen Ekby"
    assert unit_with_agency("Klass 4–6", "Ekby skola") == "Klass 4–6 (Ekby skola)"
    assert unit_with_agency("BVC Ekby", "Barnavårdscentralen Ekby (BVC)") == "BVC Ekby – Barnavårdscentralen Ekby (BVC)"


def test_language_names_and_system_notes_follow_the_reader(app: Flask) -> None:
    from flask_babel import force_locale

    from coordination.concerns.operations.routing import AGREED_NOTE

    with app.test_request_context():
        with force_locale("sv"):
            assert [language_name(code) for code in ("sv", "en", "ar")] == ["svenska", "engelska", "arabiska"]
            assert system_note(AGREED_NOTE) == "Samtycke gavs när oron lyftes"
            assert system_note("Lämnat personligen") == "Lämnat personligen", "a person's note stays as written"
        with force_locale("en"):
            assert [language_name(code) for code in ("sv", "en")] == ["Swedish", "English"]
            assert system_note(AGREED_NOTE) == "Agreed when the concern was raised"
