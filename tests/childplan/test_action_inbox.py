"""The person an action is given to is told in their inbox (RULES.md §8: content-free, decided when read):
when the keeper adds it, adopts it from a meeting, or the agency admin reassigns it — not when they give it
to themselves. The item names the child and links to the action on the Plan tab, never the action's text;
once the action is someone else's, the old item is no longer available."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from agencies.models import StaffPerson
from childplan.models import Action
from childplan.operations.actions import reassign_action
from coordination.database import db as database
from notifications.models import InboxItem
from tests.childplan.test_reassign import _new_teacher, _with_plan
from tests.childplan.test_worklist import _actor_of, _add, _as, _school
from tests.helpers import csrf_token
from tests.teams.support import CLASS_4_6, Family, make_family, person, unit


@pytest.fixture()
def family(app: Flask, db: Any) -> Family:
    return _with_plan(app, make_family(app))


def _items(app: Flask, given_name: str, public_id: str) -> list[InboxItem]:
    with app.app_context():
        return list(
            database.session.scalars(
                select(InboxItem).where(
                    InboxItem.kind == "plan_action",
                    InboxItem.object_public_id == public_id,
                    InboxItem.recipient_person_id == person(given_name).id,
                )
            )
        )


def test_giving_an_action_to_yourself_tells_nobody(app: Flask, family: Family) -> None:
    with app.app_context():
        maria = person("Maria").id
    (public_id,) = _add(app, family, _school("Maria's own action", owner_person_id=maria), by="maria")
    assert _items(app, "Maria", public_id) == []


def test_lars_is_told_of_the_action_the_keeper_gives_him_without_its_text(
    app: Flask, client: FlaskClient, family: Family
) -> None:
    (public_id,) = _add(app, family, _school("Read aloud with the class every Monday"), by="maria")
    assert len(_items(app, "Lars", public_id)) == 1
    _as(client, "lars")
    html = client.get("/inbox").get_data(as_text=True)
    with app.app_context():
        name = family.child().given_name
    assert f"An action in the plan for {name}" in html
    assert "Read aloud with the class" not in html, "the item holds no content"
    (item,) = _items(app, "Lars", public_id)
    opened = client.post(f"/inbox/{item.public_id}/open", data={"csrf_token": csrf_token(client, "/inbox")})
    assert opened.status_code == 302
    assert opened.headers["Location"].endswith(f"/children/{family.public_id}/plan#action-{public_id}")


def test_a_reassigned_action_tells_its_new_owner_and_the_old_item_goes(
    app: Flask, client: FlaskClient, family: Family
) -> None:
    (public_id,) = _add(app, family, _school("Reading support in small groups"), by="maria")
    username, teacher = _new_teacher(app, CLASS_4_6)
    with app.app_context():
        action = database.session.scalar(select(Action).where(Action.public_id == public_id))
        assert action is not None
        new_owner = database.session.scalar(select(StaffPerson.id).where(StaffPerson.public_id == teacher))
        reassign_action(_actor_of("maria"), action, action.version, unit(CLASS_4_6).id, new_owner)
        database.session.commit()
        told = database.session.scalar(
            select(InboxItem.id).where(
                InboxItem.kind == "plan_action",
                InboxItem.object_public_id == public_id,
                InboxItem.recipient_person_id == new_owner,
            )
        )
    assert told is not None, "the new owner is told"
    _as(client, username)
    assert "An action in the plan for" in client.get("/inbox").get_data(as_text=True)
    (lars_item,) = _items(app, "Lars", public_id)
    _as(client, "lars")
    html = client.get("/inbox").get_data(as_text=True)
    entry = html[html.index(f'data-item="{lars_item.public_id}"') :]
    entry = entry[: entry.index("</li>")]
    assert "data-unavailable" in entry, "no longer lars's: the item is no longer available"
