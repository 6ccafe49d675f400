"""The SQL statements per page are pinned, and they do not grow with the number of children or
relations (My children, search, the child page)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from agencies.models import Unit
from coordination.access import SYSTEM_ACTOR
from coordination.children.models import Child
from coordination.children.operations import ChildData, enrol_child, register_child
from coordination.database import db as database
from tests.helpers import login

# My children for a member of staff:
#   1 the session row with its account and person; 2 the person's memberships with units and agencies;
#   3 COUNT of the children I may see; 4 the page of children; 5 my relations to the children on the
#   page; 6 the audit rows of what was listed (one executemany).
MY_CHILDREN_STATEMENTS = 6
# The child page: session (2), the child, my relations to it, the consent picture (consents, their
# areas, their givers, custody, maturity: 5), role assignments, enrolments, guardians, the pending
# links I may decide (the current Child Contact, the links: 2), the team's members, the open concerns (and
# their areas when there are any), the planned meetings and their areas (2), audit; and the Child's Plan in
# brief (childplan/overview.py): the plan, its reviews listed, the latest review, its ratings, the agencies'
# names (5; Omar has a plan with reviews).
CHILD_PAGE_STATEMENTS = 25  # with the settings' overrides (1: coordination.settings, once per request)


def add_children(app: Flask, count: int, unit_name: str = "Klass 4–6") -> None:
    with app.app_context():
        unit = database.session.scalar(select(Unit).where(Unit.name == unit_name))
        for number in range(count):
            child = register_child(
                SYSTEM_ACTOR,
                ChildData(f"Testbarn{number:03d}", "Räkning", date(2016, 1, 1), missing_number_reason="none"),
            )
            enrol_child(SYSTEM_ACTOR, child, unit, date(2025, 8, 18))
        database.session.commit()


def statements_for(client: FlaskClient, count_queries: Any, path: str) -> list[str]:
    with count_queries() as counter:
        response = client.get(path)
    assert response.status_code == 200, path
    return counter.statements


def fixed_clock(clock: Any) -> None:
    clock.set(datetime.now(UTC))  # no "last seen" update inside the touch interval


def test_my_children_does_not_grow_from_10_to_100_children(
    app: Flask, client: FlaskClient, clock, count_queries
) -> None:  # type: ignore[no-untyped-def]
    fixed_clock(clock)
    add_children(app, 10)
    login(client, "lars")
    few = statements_for(client, count_queries, "/")
    add_children(app, 90)
    many = statements_for(client, count_queries, "/")
    second_page = statements_for(client, count_queries, "/?page=4")
    assert len(few) == len(many) == len(second_page) == MY_CHILDREN_STATEMENTS, many


def test_search_by_name_does_not_grow_with_the_results(app: Flask, client: FlaskClient, clock, count_queries) -> None:  # type: ignore[no-untyped-def]
    fixed_clock(clock)
    add_children(app, 10)
    login(client, "lars")
    few = statements_for(client, count_queries, "/search?q=Testbarn")
    add_children(app, 90)
    many = statements_for(client, count_queries, "/search?q=Testbarn")
    assert len(few) == len(many) == MY_CHILDREN_STATEMENTS, many


def test_the_child_page_does_not_grow_with_the_children_around_it(
    app: Flask, client: FlaskClient, clock, count_queries
) -> None:  # type: ignore[no-untyped-def]
    fixed_clock(clock)
    login(client, "maria")
    with app.app_context():
        omar = database.session.scalar(select(Child).where(Child.given_name == "Omar")).public_id
    few = statements_for(client, count_queries, f"/children/{omar}")
    add_children(app, 100)
    many = statements_for(client, count_queries, f"/children/{omar}")
    assert len(few) == len(many) == CHILD_PAGE_STATEMENTS, "\n".join(re.sub(r"\s+", " ", s)[:90] for s in many)
