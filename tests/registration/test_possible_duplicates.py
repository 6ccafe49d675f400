"""A child registered without an identity number whose name and birth date match a registered child
(issue 16 "no silent duplicate"; RULES.md §5).

Negatives first: a match the registering person may NOT see changes nothing in what they see (the same
redirect and receipt as no match) and becomes a pending link that the child's own decider sees; the
registering person never decides it. Then a match they may see: shown, with nothing written, and a
choice — the same child (open it / ask to link it) or, after an explicit confirmation that keeps what
was typed, a new child. Units are found through the personas' memberships, not by demo names."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from coordination.children.models import Child
from coordination.database import db as shared_db
from coordination.models import AuditEvent
from coordination.registration.models import PendingLink
from tests.registration.test_link_approvers import persona_unit
from tests.registration.test_registration import (
    _end_child_contact,
    account_id,
    as_user,
    counts,
    decide,
    form,
    html,
    links_of,
    register,
    without_tokens,
)


def born(app: Flask, given_name: str) -> date:
    with app.app_context():
        found = shared_db.session.scalar(select(Child.birth_date).where(Child.given_name == given_name))
    assert found is not None, given_name
    return found


def public_id(app: Flask, given_name: str) -> str:
    with app.app_context():
        found = shared_db.session.scalar(select(Child.public_id).where(Child.given_name == given_name))
    assert found is not None
    return found


def same_as(app: Flask, unit: str, given_name: str, family_name: str, **extra: str) -> dict[str, str]:
    """A registration without a number, typed with a demo child's name (any case) and birth date."""
    return form(
        unit,
        given_name=given_name,
        family_name=family_name,
        missing_number_reason="none",
        birth_date=born(app, given_name.capitalize()).isoformat(),
        **extra,
    )


def children_named(app: Flask, given_name: str) -> int:
    with app.app_context():
        return (
            shared_db.session.scalar(select(func.count()).select_from(Child).where(Child.given_name == given_name)) or 0
        )


# -- a match the registering person may not see ----------------------------------------------------------
def test_a_match_out_of_scope_answers_exactly_like_no_match_and_shows_nothing_of_it(app: Flask, db: Any) -> None:
    _unit, unit, _agency, _name = persona_unit(app, "olle")  # no demo children
    olle = as_user(app, "olle")
    omar = public_id(app, "Omar")
    unknown = register(olle, form(unit, missing_number_reason="none", birth_date=born(app, "Omar").isoformat()))
    known = register(olle, same_as(app, unit, "Omar", "Hassan"))
    assert unknown.status_code == known.status_code == 302
    assert known.headers["Location"].rsplit("/", 1)[0] == unknown.headers["Location"].rsplit("/", 1)[0]
    first, second = (olle.get(response.headers["Location"]) for response in (unknown, known))
    assert first.status_code == second.status_code == 200
    token_a, token_b = (r.headers["Location"].rsplit("/", 1)[1] for r in (unknown, known))
    assert without_tokens(html(first), token_a).replace("Tindra Ekholm", "NAME") == without_tokens(
        html(second), token_b
    ).replace("Omar Hassan", "NAME")
    for page in (html(known), html(second)):
        assert omar not in page and "possible-duplicate" not in page
    assert olle.get(f"/children/{omar}").status_code == 404
    assert children_named(app, "Omar") == 1, "no second record"
    ((_u, state, _by, link),) = links_of(app, "Omar")
    assert state == "pending"
    with app.app_context():
        request = shared_db.session.scalar(
            select(AuditEvent)
            .where(AuditEvent.action == "request_child_link", AuditEvent.actor_account_id == account_id(app, "olle"))
            .order_by(AuditEvent.id.desc())
        )
    assert request is not None and request.detail.get("possible_duplicate") is True
    # The child's Child Contact sees and decides it; the registering person cannot.
    for verb in ("approve", "reject"):
        assert decide(olle, omar, link, verb).status_code == 404
    maria = as_user(app, "maria")
    assert link in html(maria.get(f"/children/{omar}/links"))


def test_the_registering_agency_admin_never_approves_the_link_a_possible_duplicate_made(
    app: Flask, db: Any, clock: Any
) -> None:
    # Wilma without a Child Contact, enrolled only where there is no agency admin: the requesting agency's
    # admin would decide — but bodil asked herself, so she may not.
    _end_child_contact(app, "Wilma", clock)
    _unit, unit, _agency, _name = persona_unit(app, "bodil")
    bodil = as_user(app, "bodil")
    assert register(bodil, same_as(app, unit, "wilma", "LUNDGREN")).status_code == 302
    assert children_named(app, "Wilma") == 1
    ((_u, _state, _by, link),) = links_of(app, "Wilma")
    wilma = public_id(app, "Wilma")
    assert bodil.get(f"/children/{wilma}/links").status_code == 404
    for verb in ("approve", "reject"):
        assert decide(bodil, wilma, link, verb).status_code == 404
    assert wilma not in html(bodil.get("/agency/links"))


def test_after_the_decider_rejected_a_possible_duplicate_the_child_can_be_registered(app: Flask, db: Any) -> None:
    _unit, unit, _agency, _name = persona_unit(app, "olle")
    olle = as_user(app, "olle")
    assert register(olle, same_as(app, unit, "Omar", "Hassan")).status_code == 302
    ((_u, _state, _by, link),) = links_of(app, "Omar")
    maria = as_user(app, "maria")
    assert decide(maria, public_id(app, "Omar"), link, "reject").status_code == 302
    assert register(olle, same_as(app, unit, "Omar", "Hassan")).status_code == 302
    assert children_named(app, "Omar") == 2, "another child of the same name and birth date"
    assert [row[1] for row in links_of(app, "Omar")] == ["rejected", "pending"]


# -- a match the registering person may see ----------------------------------------------------------------
def test_a_match_she_may_see_is_shown_nothing_is_written_and_what_she_typed_is_kept(app: Flask, db: Any) -> None:
    _unit, unit, _agency, _name = persona_unit(app, "sara")  # Wilma is enrolled at sara's unit
    sara = as_user(app, "sara")
    wilma = public_id(app, "Wilma")
    before = counts(app)
    response = register(sara, same_as(app, unit, "Wilma", "Lundgren"))
    assert response.status_code == 200
    page = html(response)
    assert "Is this a child who is already registered?" in page
    assert f'data-child="{wilma}"' in page and f'href="/children/{wilma}"' in page
    assert "Already linked to the unit you chose." in page
    assert 'name="confirm_new"' in page
    assert 'value="Greta"' in page and 'value="greta.ekholm@mail.example"' in page, "typed values kept"
    assert counts(app) == before, "nothing written"
    assert children_named(app, "Wilma") == 1
    with app.app_context():
        shown = shared_db.session.scalar(
            select(AuditEvent).where(
                AuditEvent.action == "registration_possible_duplicate",
                AuditEvent.actor_account_id == account_id(app, "sara"),
            )
        )
    assert shown is not None and shown.outcome == "allowed" and shown.object_id == wilma


def test_registering_anyway_needs_the_explicit_confirmation(app: Flask, db: Any) -> None:
    _unit, unit, _agency, _name = persona_unit(app, "sara")
    sara = as_user(app, "sara")
    again = register(sara, same_as(app, unit, "Wilma", "Lundgren"))
    assert again.status_code == 200 and children_named(app, "Wilma") == 1
    confirmed = register(sara, same_as(app, unit, "Wilma", "Lundgren", confirm_new="y"))
    assert confirmed.status_code == 302 and "/children/registered/" in confirmed.headers["Location"]
    assert children_named(app, "Wilma") == 2
    with app.app_context():
        new = shared_db.session.scalar(select(Child).where(Child.given_name == "Wilma").order_by(Child.id.desc()))
        assert new is not None
        assert shared_db.session.scalar(select(PendingLink.state).where(PendingLink.child_id == new.id)) == "pending"


def test_the_same_child_asks_for_a_link_to_the_chosen_unit_and_registers_nothing(app: Flask, db: Any) -> None:
    # maria sees Omar (his Child Contact), who is not enrolled at her first class.
    maria_units = [persona_unit(app, "maria")]
    _unit, unit, _agency, _name = maria_units[0]
    maria = as_user(app, "maria")
    omar = public_id(app, "Omar")
    shown = html(register(maria, same_as(app, unit, "Omar", "Hassan")))
    if "Already linked to the unit you chose." in shown:  # the first class may be his: nothing to ask
        return
    assert f'name="same_child" value="{omar}"' in shown
    before = counts(app)
    chosen = register(maria, same_as(app, unit, "Omar", "Hassan", same_child=omar))
    assert chosen.status_code == 302 and chosen.headers["Location"] == f"/children/{omar}"
    after = counts(app)
    assert after["Child"] == before["Child"] and after["PendingLink"] == before["PendingLink"] + 1


def test_the_same_child_button_refuses_a_child_that_was_not_shown(app: Flask, db: Any) -> None:
    _unit, unit, _agency, _name = persona_unit(app, "sara")
    sara = as_user(app, "sara")
    before = counts(app)
    for other in (public_id(app, "Omar"), public_id(app, "Elsa"), "no-such-child"):
        response = register(sara, same_as(app, unit, "Wilma", "Lundgren", same_child=other))
        assert response.status_code == 422
        assert other not in html(response) or other == "no-such-child"
    assert counts(app) == before
