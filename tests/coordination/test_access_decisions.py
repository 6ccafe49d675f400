"""The one decision function (RULES.md §4): an item of another agency is visible only while a consent
for the viewer's agency covers the purpose and every area of the item; the viewer's own agency's
items need no consent; roles do not override consent; the list of other agencies is itself
consent-scoped. Decisions are made on a ChildAccess, so a relation is established first."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.exceptions import NotFound

from agencies.models import Agency
from coordination.access import (
    WITHHELD_AREAS,
    WITHHELD_NO_CONSENT,
    ChildAccess,
    get_child_or_404,
    may_know_other_agencies,
    may_see_item,
)
from coordination.auth import _load_actor
from coordination.children.models import Child
from coordination.consent.models import Consent
from coordination.database import db as database
from coordination.models import Account, LoginSession

ALL = {"safe", "healthy", "achieving", "nurtured", "active", "respected", "responsible", "included"}


@contextmanager
def viewing(app: Flask, username: str, child_name: str) -> Iterator[ChildAccess]:
    with app.test_request_context():
        account = database.session.scalar(select(Account).where(Account.username == username))
        actor = _load_actor(LoginSession(account=account, acting_membership_id=None))
        child = database.session.scalar(select(Child).where(Child.given_name == child_name))
        yield get_child_or_404(actor, child.public_id)


def agency(name: str) -> int:
    found = database.session.scalar(select(Agency.id).where(Agency.name == name))
    assert found is not None
    return found


def test_without_a_relation_there_is_no_decision_at_all(app: Flask, db: Any) -> None:
    # Social services holds consent for Omar, but ida (intake) has no relation to him: out of scope (404).
    with pytest.raises(NotFound), viewing(app, "ida", "Omar"):
        pass


def test_another_agencys_item_is_withheld_without_consent_for_the_viewers_agency(app: Flask, db: Any) -> None:
    with viewing(app, "lars", "Leo") as access:  # the school's consent was withdrawn by Eva
        decision = may_see_item(access, agency("Socialtjänsten Ekby"), "coordination", {"safe"})
        assert not decision and decision.reason == WITHHELD_NO_CONSENT and decision.legal_basis is None
        assert not may_know_other_agencies(access)


def test_consent_must_cover_every_area_of_the_item(app: Flask, db: Any) -> None:
    with viewing(app, "maria", "Noah") as access:
        # The school holds consent for all eight areas for Noah: a BUP item in any area is visible.
        assert may_see_item(access, agency("BUP Ekby"), "coordination", ALL).legal_basis == "consent"
    with viewing(app, "maria", "Omar") as access:
        bup = agency("BUP Ekby")
        school_consent = database.session.scalar(
            select(Consent).where(
                Consent.child_id == access.child.id,
                Consent.agency_id == agency("Ekby skola"),
                Consent.purpose == "coordination",
            )
        )
        school_consent.areas = [area for area in school_consent.areas if area.area in {"healthy", "nurtured"}]
        database.session.flush()
        from coordination.access import consent_picture

        access.picture = consent_picture(access.child.id)
        assert may_see_item(access, bup, "coordination", {"healthy"})
        partly = may_see_item(access, bup, "coordination", {"healthy", "safe"})
        assert not partly and partly.reason == WITHHELD_AREAS


def test_a_team_meetings_consent_does_not_open_coordination_items(app: Flask, db: Any) -> None:
    with viewing(app, "maria", "Omar") as access:
        consent = database.session.scalar(
            select(Consent).where(
                Consent.child_id == access.child.id,
                Consent.agency_id == agency("Ekby skola"),
                Consent.purpose == "coordination",
            )
        )
        database.session.delete(consent)
        database.session.flush()
        from coordination.access import consent_picture

        access.picture = consent_picture(access.child.id)
        assert access.picture.areas_for(agency("Ekby skola"), "team_meetings") == frozenset(ALL)
        assert not may_see_item(access, agency("BUP Ekby"), "coordination", {"safe"})
        assert may_see_item(access, agency("BUP Ekby"), "team_meetings", {"safe"})


def test_a_pending_consent_grants_nothing(app: Flask, db: Any) -> None:
    with viewing(app, "anna", "Liam") as access:  # BVC and preschools: requested, not given
        assert access.picture.areas_for(agency("Barnavårdscentralen Ekby (BVC)"), "coordination") == frozenset()
        assert not may_see_item(access, agency("Ekby förskolor"), "coordination", {"safe"})
        assert not may_know_other_agencies(access)


def test_an_expired_consent_grants_nothing_from_the_day_after(app: Flask, db: Any, clock: Any) -> None:
    with viewing(app, "maria", "Omar") as access:
        bup_consent = database.session.scalar(
            select(Consent).where(
                Consent.child_id == access.child.id,
                Consent.agency_id == agency("BUP Ekby"),
                Consent.purpose == "coordination",
            )
        )
        until = bup_consent.valid_until
        child_id = access.child.id
    from coordination.access import consent_picture

    clock.set(clock.now() + (until - clock.today()) * 1)  # the last valid day
    with app.test_request_context():
        assert consent_picture(child_id).areas_for(agency("BUP Ekby"), "coordination") == frozenset(ALL)
    clock.advance(timedelta(days=1))
    with app.test_request_context():
        assert consent_picture(child_id).areas_for(agency("BUP Ekby"), "coordination") == frozenset()


def test_the_viewers_own_agency_needs_no_consent(app: Flask, db: Any) -> None:
    with viewing(app, "lars", "Leo") as access:
        decision = may_see_item(access, agency("Ekby skola"), "coordination", ALL)
        assert decision and decision.legal_basis == "own_agency_record"


def test_a_role_does_not_override_consent(app: Flask, db: Any) -> None:
    with viewing(app, "maria", "Leo") as access:
        assert [relation.name for relation in access.relations][:1] == ["child_contact"]
        assert not may_see_item(access, agency("Socialtjänsten Ekby"), "coordination", {"safe"})


def test_consent_with_every_area_opens_another_agencys_item(app: Flask, db: Any) -> None:
    with viewing(app, "maria", "Omar") as access:
        decision = may_see_item(access, agency("BUP Ekby"), "coordination", ALL)
        assert decision and decision.reason == "consent" and decision.legal_basis == "consent"
        assert may_know_other_agencies(access)
