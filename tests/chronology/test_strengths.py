"""Strengths as well as worries: a concern's strengths become their own chronology entry, under the
concern's rules (its agency, its areas) — on the demo (DEMO.md)."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from coordination.children.models import Child
from coordination.database import db as database
from tests.helpers import login

LIAM_STRENGTHS = "Liam är nyfiken och leker fint med de yngre barnen."
ELSA_STRENGTHS = "Älskar bilderböcker och pussel"


def chronology(app: Flask, persona: str, child: str) -> str:
    with app.app_context():
        public_id = database.session.scalar(select(Child.public_id).where(Child.given_name == child))
    client = app.test_client()
    login(client, persona)
    return client.get(f"/children/{public_id}/chronology").get_data(as_text=True)


def test_a_signals_strengths_do_not_reach_the_child_contact(app: Flask, db) -> None:  # type: ignore[no-untyped-def]
    # sara's concern about Liam went as a signal (Jonas has not agreed): anna may not read its text.
    assert LIAM_STRENGTHS not in chronology(app, "anna", "Liam")
    assert LIAM_STRENGTHS in chronology(app, "sara", "Liam"), "the author's agency keeps its own record"


def test_a_shared_concerns_strengths_reach_the_consented_agencies(app: Flask, db) -> None:  # type: ignore[no-untyped-def]
    for persona in ("sara", "anna", "hanna"):
        html = chronology(app, persona, "Elsa")
        assert ELSA_STRENGTHS in html and 'data-kind="strength_noted" data-tone="strength"' in html, persona
