"""Siblings (RULES.md §5): only the Child Contact opens ``/children/<child_id>/siblings`` (others 404);
it shows that a sibling is registered — a count, never the sibling's name, age or anything else — and
sends, after a confirmation, a content-free request to the sibling's Child Contact."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Flask
from sqlalchemy import select

from coordination import events
from coordination.access import SYSTEM_ACTOR
from coordination.children.models import Child
from coordination.children.operations import link_siblings
from coordination.chronology.models import ChronologyEntry
from coordination.concerns.models import SiblingContactRequest
from coordination.database import db as database
from tests.concerns.test_raising_support import (
    SCHOOL,
    Family,
    as_user,
    child_public_id,
    concern_form,
    counts,
    make_family,
    person_pk,
    post,
)


def siblings_pair(app: Flask) -> tuple[Family, Family]:
    """A fresh pair: the younger at Solrosen with anna (BVC), the elder at school with maria."""
    younger = make_family(app, given_name="Lillan", birth=date(2022, 3, 14))
    elder = make_family(
        app, given_name="Storan", units=("Klass 1–3",), contact=("Maria", SCHOOL), birth=date(2018, 6, 2)
    )
    with app.app_context():
        link_siblings(
            SYSTEM_ACTOR,
            database.session.get(Child, younger.child_id),
            database.session.get(Child, elder.child_id),
            None,
        )
        database.session.commit()
    return younger, elder


def url(family: Family) -> str:
    return f"/children/{family.public_id}/siblings"


def test_only_the_child_contact_opens_the_sibling_page(app: Flask, db: Any) -> None:
    younger, _elder = siblings_pair(app)
    for username in ("sara", "erik", "maria", "lars"):  # sara has a unit relation; the others none
        assert as_user(app, username).get(url(younger)).status_code == 404, username
    liam = child_public_id(app, "Liam")
    assert as_user(app, "sara").get(f"/children/{liam}/siblings").status_code == 404
    assert as_user(app, "anna").get(url(younger)).status_code == 200


def test_the_page_shows_a_count_and_nothing_about_the_sibling(app: Flask, db: Any) -> None:
    younger, elder = siblings_pair(app)
    html = as_user(app, "anna").get(url(younger)).get_data(as_text=True)
    assert 'data-sibling-count="1"' in html
    assert "Storan" not in html and elder.public_id not in html
    assert "2018" not in html and "Class 1" not in html and "Maria" not in html, "no age, unit or Child Contact"


def test_no_request_without_a_concern_and_none_without_the_confirmation(app: Flask, db: Any) -> None:
    younger, _elder = siblings_pair(app)
    anna = as_user(app, "anna")
    before = counts(app)
    response = post(anna, f"{url(younger)}/1/request", {"sibling": "1"}, token_from=url(younger))
    assert response.status_code == 422
    assert counts(app) == before
    # with a concern, a post without the confirmation's value is refused too
    new = f"/children/{younger.public_id}/concerns/new"
    assert post(anna, new, concern_form(), token_from=new).status_code == 303
    before = counts(app)
    assert post(anna, f"{url(younger)}/1/request", {}, token_from=url(younger)).status_code == 422
    assert post(anna, f"{url(younger)}/2/request", {"sibling": "2"}, token_from=url(younger)).status_code == 404
    assert post(anna, f"{url(younger)}/x/request", {"sibling": "x"}, token_from=url(younger)).status_code == 404
    assert counts(app) == before


def test_the_child_contact_sends_a_content_free_request_after_confirming(app: Flask, db: Any) -> None:
    younger, elder = siblings_pair(app)
    anna = as_user(app, "anna")
    new = f"/children/{younger.public_id}/concerns/new"
    assert post(anna, new, concern_form(), token_from=new).status_code == 303
    confirm = anna.get(f"{url(younger)}/1/request")
    assert confirm.status_code == 200 and "data-confirm-sibling" in confirm.get_data(as_text=True)
    sent: list[Any] = []

    def listener(_sender: Any, **payload: Any) -> None:
        sent.append(payload["request"].public_id)

    events.sibling_request_sent.connect(listener)
    try:
        response = post(anna, f"{url(younger)}/1/request", {"sibling": "1"}, token_from=url(younger))
    finally:
        events.sibling_request_sent.disconnect(listener)
    assert response.status_code == 303
    with app.app_context():
        (request,) = database.session.scalars(
            select(SiblingContactRequest).where(SiblingContactRequest.from_child_id == younger.child_id)
        ).all()
        assert request.to_child_id == elder.child_id
        assert request.from_person_id == person_pk(app, "Anna") and request.to_person_id == person_pk(app, "Maria")
        assert sent == [request.public_id]
        entry = database.session.scalar(
            select(ChronologyEntry).where(
                ChronologyEntry.child_id == younger.child_id, ChronologyEntry.kind == "sibling_request"
            )
        )
        assert entry is not None and entry.audience == "own_agency" and entry.summary is None
        on_elder = database.session.scalar(
            select(ChronologyEntry.id).where(
                ChronologyEntry.child_id == elder.child_id, ChronologyEntry.kind == "sibling_request"
            )
        )
        assert on_elder is None, "nothing lands on the other child's chronology"
    page = anna.get(url(younger)).get_data(as_text=True)
    assert "Storan" not in page


def test_every_page_of_raising_has_the_security_headers_and_no_inline_script_or_style(app: Flask, db: Any) -> None:
    from tests.concerns.test_raising_support import fresh_number
    from tests.coordination.test_security import assert_page_markup, assert_security_headers

    younger, _elder = siblings_pair(app)
    anna = as_user(app, "anna")
    lars = as_user(app, "lars")
    post(lars, "/concerns/new", concern_form(identity_number=fresh_number().digits, everyone_agreed="no"))
    maria = as_user(app, "maria")
    queue = maria.get("/agency/concerns").get_data(as_text=True)
    register = queue.split('href="/agency/concerns/', 1)[1].split('"', 1)[0]
    pages = {
        "form": anna.get(f"/children/{younger.public_id}/concerns/new"),
        "form, refused": post(
            anna,
            f"/children/{younger.public_id}/concerns/new",
            concern_form(areas=None),
            token_from=f"/children/{younger.public_id}/concerns/new",
        ),
        "by number": lars.get("/concerns/new"),
        "by number, refused": post(lars, "/concerns/new", concern_form(identity_number="123")),
        "delivered": lars.get("/concerns/delivered"),
        "siblings": anna.get(url(younger)),
        "queue": maria.get("/agency/concerns"),
        "register": maria.get(f"/agency/concerns/{register}"),
    }
    for name, response in pages.items():
        assert response.status_code in (200, 422), name
        assert_security_headers(response)
        # the shared child heading (children/_child_heading.html) is a second <header>, as on the Consent pages
        html = response.get_data(as_text=True).replace('<header class="bk-child-heading">', "<div>")
        assert_page_markup(html, logged_in=True)
