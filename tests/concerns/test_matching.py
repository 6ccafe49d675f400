"""Concern matching (RULES.md §5): concerns or signals about one child from two agencies within the
window (CONCERN_MATCH_WINDOW_DAYS, default 14) raise one alert per pair to the Child Contact — never for
one agency's own concerns, never outside the window, never twice for a pair."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from coordination import events
from coordination.access import SYSTEM_ACTOR
from coordination.chronology.models import ChronologyEntry
from coordination.concerns.models import Concern, MatchingAlert
from coordination.concerns.operations.matching import match_concern
from coordination.config import DEFAULTS, ConfigError
from coordination.database import db as database
from tests.concerns.test_raising_support import (
    BVC,
    Family,
    agency_pk,
    as_user,
    concern_form,
    make_family,
    person_pk,
    post,
)


def raise_as(app: Flask, username: str, family: Family, **overrides: Any) -> None:
    client = as_user(app, username)
    url = f"/children/{family.public_id}/concerns/new"
    assert post(client, url, concern_form(**overrides), token_from=url).status_code == 303


def alerts(app: Flask, child_id: int) -> list[tuple[int, int, int | None]]:
    with app.app_context():
        rows = database.session.scalars(
            select(MatchingAlert).where(MatchingAlert.child_id == child_id).order_by(MatchingAlert.id)
        ).all()
        return [(row.first_concern_id, row.second_concern_id, row.recipient_person_id) for row in rows]


def concern_ids(app: Flask, child_id: int) -> list[int]:
    with app.app_context():
        return list(
            database.session.scalars(select(Concern.id).where(Concern.child_id == child_id).order_by(Concern.id))
        )


@pytest.fixture()
def raised_alerts() -> Any:
    received: list[Any] = []

    def listener(_sender: Any, **payload: Any) -> None:
        received.append(payload["alert"].public_id)

    events.matching_alert_raised.connect(listener)
    yield received
    events.matching_alert_raised.disconnect(listener)


def test_one_agencys_own_concerns_do_not_match(app: Flask, db: Any, raised_alerts: list[str]) -> None:
    family = make_family(app, units=("Solrosen", "BVC Ekby"))
    raise_as(app, "sara", family)
    raise_as(app, "sara", family)
    assert alerts(app, family.child_id) == [] and raised_alerts == []


def test_concerns_outside_the_window_do_not_match(app: Flask, db: Any, clock: Any, raised_alerts: list[str]) -> None:
    family = make_family(app, units=("Solrosen", "BVC Ekby"))
    raise_as(app, "sara", family)
    clock.advance(timedelta(days=DEFAULTS["CONCERN_MATCH_WINDOW_DAYS"] + 1))
    raise_as(app, "anna", family)  # a fresh login: the clock moved past the session
    assert alerts(app, family.child_id) == [] and raised_alerts == []


def test_a_second_agencys_concern_within_the_window_alerts_the_child_contact_once(
    app: Flask, db: Any, clock: Any, raised_alerts: list[str]
) -> None:
    family = make_family(app, units=("Solrosen", "BVC Ekby"))  # Child Contact anna at BVC
    raise_as(app, "sara", family)  # the preschool: a signal to anna
    clock.advance(timedelta(days=DEFAULTS["CONCERN_MATCH_WINDOW_DAYS"] - 1))
    raise_as(app, "anna", family)  # BVC, within the window
    first, second = concern_ids(app, family.child_id)
    anna = person_pk(app, "Anna")
    assert alerts(app, family.child_id) == [(first, second, anna)]
    assert len(raised_alerts) == 1
    with app.app_context():
        entry = database.session.scalar(
            select(ChronologyEntry).where(
                ChronologyEntry.child_id == family.child_id, ChronologyEntry.kind == "matching_alert"
            )
        )
        assert entry is not None and entry.audience == "recipient" and entry.recipient_person_id == anna
        assert entry.owner_agency_id == agency_pk(app, BVC) and entry.summary is None
        # matching the same concern again makes no second alert for the pair
        match_concern(SYSTEM_ACTOR, database.session.get(Concern, second))
        database.session.commit()
    assert len(alerts(app, family.child_id)) == 1
    # a third concern (the preschool again) pairs with BVC's only: the first pair is not repeated
    raise_as(app, "sara", family)
    third = concern_ids(app, family.child_id)[-1]
    assert alerts(app, family.child_id) == [(first, second, anna), (second, third, anna)]
    assert len(raised_alerts) == 2


def test_the_window_is_configuration_and_must_be_positive(app: Flask) -> None:
    from coordination.config import validate

    config = {**app.config, "CONCERN_MATCH_WINDOW_DAYS": 0}
    with pytest.raises(ConfigError):
        validate(config)
    config["CONCERN_MATCH_WINDOW_DAYS"] = "ten"
    with pytest.raises(ConfigError):
        validate(config)
    assert DEFAULTS["CONCERN_MATCH_WINDOW_DAYS"] == 14


def test_the_platform_can_raise_concerns_for_named_authors_and_they_match(app: Flask, db: Any) -> None:
    """The demo loader raises concerns with SYSTEM_ACTOR and the author's membership (Liam's two concerns)."""
    from coordination.children.models import Child
    from coordination.concerns.operations.raising import ConcernData, raise_concern
    from tests.concerns.test_raising_support import PRESCHOOLS, local_today, staff_membership

    family = make_family(app, units=("Solrosen", "BVC Ekby"))
    with app.app_context():
        child = database.session.get(Child, family.child_id)
        assert child is not None
        day = local_today() - timedelta(days=3)
        preschool = raise_concern(
            SYSTEM_ACTOR,
            child,
            ConcernData(["achieving"], day, "Few words.", author=staff_membership("Sara", PRESCHOOLS)),
        )
        bvc = raise_concern(
            SYSTEM_ACTOR, child, ConcernData(["healthy"], day, "Hearing?", author=staff_membership("Anna", BVC))
        )
        database.session.commit()
        assert (preschool.routing, bvc.routing) == ("signal", "same_agency")
    assert alerts(app, family.child_id) == [(preschool.id, bvc.id, person_pk(app, "Anna"))]
