"""The one decision function (RULES.md §4): an item of another agency is visible only while a consent
for the viewer's agency covers the purpose and every area of the item; the viewer's own agency's
items need no consent; roles do not override consent."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import select

from agencies.models import Agency
from coordination.access import (
    WITHHELD_AREAS,
    WITHHELD_NO_CONSENT,
    consent_picture,
    may_see_item,
    relations_to,
)
from coordination.auth import _load_actor
from coordination.database import db as database
from coordination.models import Account, Child, LoginSession


def actor_for(username: str) -> Any:
    account = database.session.scalar(select(Account).where(Account.username == username))
    assert account is not None
    return _load_actor(LoginSession(account=account, acting_membership_id=None))


def agency(name: str) -> Agency:
    found = database.session.scalar(select(Agency).where(Agency.name == name))
    assert found is not None
    return found


def child(name: str) -> Child:
    found = database.session.scalar(select(Child).where(Child.given_name == name))
    assert found is not None
    return found


ALL = {"safe", "healthy", "achieving", "nurtured", "active", "respected", "responsible", "included"}


def test_another_agencys_item_is_withheld_without_consent_for_the_viewers_agency(app: Flask, db: Any) -> None:
    with app.app_context():
        maria = actor_for("maria")
        leo = child("Leo")  # the school's consent was withdrawn by Eva
        decision = may_see_item(
            maria, consent_picture(leo.id), agency("Ekby social services").id, "coordination", {"safe"}
        )
        assert not decision and decision.reason == WITHHELD_NO_CONSENT and decision.legal_basis is None


def test_consent_must_cover_every_area_of_the_item(app: Flask, db: Any) -> None:
    with app.app_context():
        karin = actor_for("karin")
        noah = child("Noah")  # BUP holds consent for healthy and nurtured only, given by Noah
        picture = consent_picture(noah.id)
        school = agency("Ekby school").id
        assert may_see_item(karin, picture, school, "coordination", {"healthy"}).legal_basis == "consent"
        partly = may_see_item(karin, picture, school, "coordination", {"healthy", "safe"})
        assert not partly and partly.reason == WITHHELD_AREAS


def test_a_pending_consent_grants_nothing(app: Flask, db: Any) -> None:
    with app.app_context():
        anna = actor_for("anna")
        liam = child("Liam")  # BVC and preschools: requested, not given
        picture = consent_picture(liam.id)
        assert picture.areas_for(agency("Ekby child health centre (BVC)").id, "coordination") == frozenset()
        assert not may_see_item(anna, picture, agency("Ekby preschools").id, "coordination", {"safe"})


def test_the_viewers_own_agency_needs_no_consent(app: Flask, db: Any) -> None:
    with app.app_context():
        lars = actor_for("lars")
        leo = child("Leo")
        decision = may_see_item(lars, consent_picture(leo.id), agency("Ekby school").id, "coordination", ALL)
        assert decision and decision.legal_basis == "own_agency_record"


def test_a_role_does_not_override_consent(app: Flask, db: Any) -> None:
    with app.app_context():
        maria = actor_for("maria")
        leo = child("Leo")
        assert [relation.name for relation in relations_to(maria, leo.id)][:1] == ["child_contact"]
        assert not may_see_item(
            maria, consent_picture(leo.id), agency("Ekby social services").id, "coordination", {"safe"}
        )


def test_consent_with_every_area_opens_another_agencys_item(app: Flask, db: Any) -> None:
    with app.app_context():
        maria = actor_for("maria")
        omar = child("Omar")
        decision = may_see_item(maria, consent_picture(omar.id), agency("BUP Ekby").id, "coordination", ALL)
        assert decision and decision.reason == "consent" and decision.legal_basis == "consent"


def test_family_and_admins_get_no_staff_decision(app: Flask, db: Any) -> None:
    with app.app_context():
        omar = child("Omar")
        for username in ("admin", "fia", "ahmed"):
            assert not may_see_item(
                actor_for(username), consent_picture(omar.id), agency("Ekby school").id, "coordination", {"safe"}
            )
