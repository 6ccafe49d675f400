"""Reassigning an action (issue 5 item 3): the agency admin of the action's owner agency, acting for it, moves an
open action to another unit and/or person of that agency from the agency view of the worklist — as a plain form
and with htmx. Negatives first: the owner, the plan keeper, an admin of another agency, the police and a guardian
get 404 (audited, nothing written); a unit or person of another agency, an unknown or deactivated person, or no
choice at all is 422 at the field with the choice kept; a stale version is 409 with the current owner shown."""

from __future__ import annotations

import re
import secrets
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from agencies.models import StaffPerson
from agencies.operations import StaffData, add_membership, create_staff_person, deactivate_staff_person
from childplan.models import Action
from childplan.operations import PlanData, start_plan
from childplan.operations.actions import reassign_action
from coordination.access import SYSTEM_ACTOR
from coordination.children.operations import create_staff_account
from coordination.chronology.models import ChronologyEntry
from coordination.clock import now
from coordination.database import db as database
from coordination.errors import OperationError
from coordination.models import AuditEvent
from coordination.teams.models import TeamMember
from tests.childplan.test_worklist import _actor_of, _add, _as, _bup, _school, _worklist
from tests.helpers import csrf_token
from tests.teams.support import BUP, CLASS_4_6, Family, make_family, membership, person, unit

CLASS_1_3, CLASS_7_9 = "Klass 1–3", "Klass 7–9"


@pytest.fixture()
def family(app: Flask, db: Any) -> Family:
    """A fresh child: maria (the school's agency admin) its Child Contact and plan keeper; karin (BUP) on its team."""
    return _with_plan(app, make_family(app))


def _with_plan(app: Flask, made: Family) -> Family:
    with app.app_context():
        karin = membership("Karin", BUP)
        database.session.add(
            TeamMember(
                child_id=made.child_id,
                staff_person_id=karin.staff_person_id,
                agency_id=karin.agency_id,
                unit_id=karin.unit_id,
                joined_at=now(),
            )
        )
        database.session.flush()
        start_plan(_actor_of("maria"), made.child(), PlanData("Reading is hard", "Maria, the school"))
        database.session.commit()
    return made


def _new_teacher(app: Flask, unit_name: str = CLASS_7_9, *, active: bool = True) -> tuple[str, str]:
    """A school practitioner of the test's own, with a login: (username, public id)."""
    with app.app_context():
        given = f"Greta{secrets.token_hex(2)}"
        teacher = create_staff_person(SYSTEM_ACTOR, StaffData(given, "Lärarsson", "teacher"))
        add_membership(SYSTEM_ACTOR, teacher, unit(unit_name))
        username = given.lower()
        create_staff_account(SYSTEM_ACTOR, teacher, username, "demo", is_demo=True)
        if not active:
            deactivate_staff_person(SYSTEM_ACTOR, teacher)
        database.session.commit()
        return username, teacher.public_id


def _ids(app: Flask, unit_name: str | None = None, given_name: str | None = None) -> dict[str, str]:
    """The form's values for a unit and a person of the demo (empty: none)."""
    with app.app_context():
        return {
            "owner_unit": unit(unit_name).public_id if unit_name else "",
            "owner_person": person(given_name).public_id if given_name else "",
        }


def _owner(app: Flask, public_id: str) -> tuple[int, int | None, int | None]:
    with app.app_context():
        action = database.session.scalar(select(Action).where(Action.public_id == public_id))
        assert action is not None
        return action.version, action.owner_unit_id, action.owner_person_id


def _reassign(  # type: ignore[no-untyped-def]
    client: FlaskClient, public_id: str, data: dict[str, str], htmx: bool = False, query: str = "?view=agency"
):
    payload = dict(data)
    payload.setdefault("version", "1")
    payload["csrf_token"] = csrf_token(client, "/")
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(f"/worklist/actions/{public_id}/reassign{query}", data=payload, headers=headers)


def _audit(app: Flask, public_id: str, outcome: str) -> list[AuditEvent]:
    with app.app_context():
        return list(
            database.session.scalars(
                select(AuditEvent).where(
                    AuditEvent.object_id == public_id,
                    AuditEvent.action == "reassign_plan_action",
                    AuditEvent.outcome == outcome,
                )
            )
        )


def _changed_entries(app: Flask, family: Family) -> int:
    with app.app_context():
        return (
            database.session.scalar(
                select(func.count())
                .select_from(ChronologyEntry)
                .where(ChronologyEntry.child_id == family.child_id, ChronologyEntry.kind == "plan_action_changed")
            )
            or 0
        )


def _selected(html: str, name: str) -> str | None:
    """The value of the option selected in the select called ``name`` (None when none is marked)."""
    select_html = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert select_html is not None, name
    chosen = re.search(r'<option value="([^"]*)" selected>', select_html.group(1))
    return chosen.group(1) if chosen else None


# -- who may not ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("username", "which"),
    [
        ("lars", "school"),  # the owner (a practitioner of the owning unit, and the person)
        ("karin", "bup"),  # the owner of BUP's action
        ("maria", "bup"),  # the plan keeper (and the school's admin): not BUP's admin
        ("bodil", "school"),  # BUP's agency admin: not the school's
        ("erik", "school"),  # the police
    ],
)
@pytest.mark.parametrize("htmx", [False, True])
def test_only_the_owner_agencys_admin_may_reassign_everyone_else_gets_404_and_nothing_is_written(
    app: Flask, client: FlaskClient, family: Family, username: str, which: str, htmx: bool
) -> None:
    school_action, bup_action = _add(app, family, _school("Reading support"), _bup("BUP assessment"))
    public_id = school_action if which == "school" else bup_action
    before = _owner(app, public_id)
    entries = _changed_entries(app, family)
    target = _ids(app, CLASS_7_9) if which == "school" else _ids(app, "BUP öppenvårdsmottagning", "Bodil")
    _as(client, username)
    response = _reassign(client, public_id, target, htmx=htmx)
    assert response.status_code == 404
    assert "Reading support" not in response.get_data(as_text=True)
    assert _owner(app, public_id) == before
    assert _changed_entries(app, family) == entries
    assert not _audit(app, public_id, "allowed")
    denied = _audit(app, public_id, "denied")
    assert denied and denied[-1].detail == {"reason": "not_agency_admin"}


def test_a_guardian_and_an_unknown_action_get_404_and_it_is_audited(
    app: Flask, client: FlaskClient, family: Family
) -> None:
    (public_id,) = _add(app, family, _school("Reading support"))
    before = _owner(app, public_id)
    _as(client, "petra")
    assert _reassign(client, public_id, _ids(app, CLASS_7_9)).status_code == 404
    assert _owner(app, public_id) == before
    with app.app_context():
        assert database.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "open:worklist.reassign_action", AuditEvent.outcome == "denied")
        )
    _as(client, "maria")
    assert _reassign(client, "no-such-action", _ids(app, CLASS_7_9)).status_code == 404
    assert _audit(app, "no-such-action", "denied")[-1].detail == {"reason": "unknown"}


def test_the_plan_keeper_cannot_reassign_through_the_operation_either(app: Flask, family: Family) -> None:
    (public_id,) = _add(app, family, _bup("BUP assessment"))
    with app.app_context():
        action = database.session.scalar(select(Action).where(Action.public_id == public_id))
        assert action is not None
        bodil = membership("Bodil", BUP)
        with pytest.raises(OperationError):
            reassign_action(_actor_of("maria"), action, 1, bodil.unit_id, bodil.staff_person_id)
        database.session.rollback()
    assert _owner(app, public_id)[0] == 1


# -- bad input ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("choice", "field", "message"),
    [
        ((CLASS_4_6, None), "owner_unit", "Choose a unit of the owning agency"),  # the school's unit
        (("BUP öppenvårdsmottagning", "Lars"), "owner_person", "Choose an active practitioner"),  # the school's teacher
        ((None, None), "owner_unit", "Choose a unit or a person"),  # nothing chosen
    ],
)
@pytest.mark.parametrize("htmx", [False, True])
def test_a_unit_or_person_of_another_agency_is_422_at_the_field_and_nothing_is_written(
    app: Flask,
    client: FlaskClient,
    family: Family,
    choice: tuple[str | None, str | None],
    field: str,
    message: str,
    htmx: bool,
) -> None:
    (public_id,) = _add(app, family, _bup("BUP assessment"))
    before = _owner(app, public_id)
    _as(client, "bodil")
    response = _reassign(client, public_id, _ids(app, *choice), htmx=htmx)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'data-field-error="{field}"' in html and message in html
    assert f'id="agency-row-{public_id}"' in html
    assert ("<html" in html) is not htmx
    assert _owner(app, public_id) == before
    assert not _audit(app, public_id, "allowed")
    with app.app_context():
        refused = database.session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "reassign_plan_action",
                AuditEvent.outcome == "denied",
                AuditEvent.child_id == family.child_id,
            )
        ).all()
        assert [row.detail for row in refused] == [{"refused": field}], "the refused attempt is audited"


@pytest.mark.parametrize("htmx", [False, True])
def test_an_unknown_or_deactivated_person_and_a_person_outside_the_unit_are_422_with_the_choice_kept(
    app: Flask, client: FlaskClient, family: Family, htmx: bool
) -> None:
    (public_id,) = _add(app, family, _school("Reading support"))
    before = _owner(app, public_id)
    _username, gone = _new_teacher(app, active=False)
    class_7_9 = _ids(app, CLASS_7_9)["owner_unit"]
    lars = _ids(app, None, "Lars")["owner_person"]
    _as(client, "maria")
    for data, text in (
        ({"owner_unit": class_7_9, "owner_person": "no-such-person"}, "Choose a person from the list"),
        ({"owner_unit": "no-such-unit", "owner_person": ""}, "Choose a unit from the list"),
        ({"owner_unit": class_7_9, "owner_person": gone}, "Choose an active practitioner"),
        (_ids(app, CLASS_7_9, "Lars"), "Choose an active practitioner"),  # lars teaches Klass 4–6, not 7–9
    ):
        response = _reassign(client, public_id, data, htmx=htmx)
        assert response.status_code == 422, data
        html = response.get_data(as_text=True)
        assert text in html, data
        if data["owner_unit"] == class_7_9:
            assert _selected(html, "owner_unit") == class_7_9, "the choice is kept"
        if data["owner_person"] == lars:
            assert _selected(html, "owner_person") == lars, "the choice is kept"
    assert _owner(app, public_id) == before
    assert not _audit(app, public_id, "allowed")


def test_a_deactivated_person_is_not_offered(app: Flask, client: FlaskClient, family: Family) -> None:
    _add(app, family, _school("Reading support"))
    _username, gone = _new_teacher(app, active=False)
    _username, here = _new_teacher(app)
    _as(client, "maria")
    html = _worklist(client, family, view="agency")
    assert f'value="{here}"' in html
    assert f'value="{gone}"' not in html
    with app.app_context():
        bup_unit = unit("BUP öppenvårdsmottagning").public_id
        karin = person("Karin").public_id
    assert bup_unit not in html and karin not in html, "only the school's units and people"


def test_a_stale_version_answers_409_with_the_current_owner_and_the_choice_kept(
    app: Flask, client: FlaskClient, family: Family
) -> None:
    (public_id,) = _add(app, family, _school("Reading support"))
    _as(client, "maria")
    assert _reassign(client, public_id, _ids(app, CLASS_7_9)).status_code == 302
    moved = _owner(app, public_id)
    class_1_3 = _ids(app, CLASS_1_3, "Maria")
    for htmx in (False, True):
        response = _reassign(client, public_id, {**class_1_3, "version": "1"}, htmx=htmx)
        assert response.status_code == 409
        html = response.get_data(as_text=True)
        assert "Someone changed this action" in html
        assert re.search(r"data-owner-unit>Klass 7–9<", html), "the current owner is shown"
        assert _selected(html, "owner_unit") == class_1_3["owner_unit"], "the admin's choice is kept"
        assert _selected(html, "owner_person") == class_1_3["owner_person"]
        assert re.search(r'name="version"[^>]*value="2"', html), "reassigning again replaces what is shown now"
        assert _owner(app, public_id) == moved


def test_a_finished_action_keeps_its_owner(app: Flask, client: FlaskClient, family: Family) -> None:
    (public_id,) = _add(app, family, _school("Reading support"))
    with app.app_context():
        action = database.session.scalar(select(Action).where(Action.public_id == public_id))
        assert action is not None
        action.status = "done"
        database.session.commit()
    _as(client, "maria")
    html = _worklist(client, family, view="agency", status="all")
    assert "Reading support" in html and 'data-form="reassign-action"' not in html
    response = _reassign(client, public_id, _ids(app, CLASS_7_9))
    assert response.status_code == 422
    assert "keeps its owner" in response.get_data(as_text=True)
    assert _owner(app, public_id)[0] == 1


def test_giving_the_action_to_whom_it_already_has_is_recorded_like_any_reassignment(
    app: Flask, client: FlaskClient, family: Family
) -> None:
    """The answer must not tell an admin who cannot see the owner (a protected child) whether the guess was the
    owner: a new version, an audit row and a chronology entry, as for any other reassignment."""
    (public_id,) = _add(app, family, _bup("BUP assessment"))
    before = _owner(app, public_id)
    entries = _changed_entries(app, family)
    _as(client, "bodil")
    response = _reassign(client, public_id, _ids(app, "BUP öppenvårdsmottagning", "Karin"), htmx=True)
    assert response.status_code == 200
    assert "data-owner-person>Karin Vik<" in response.get_data(as_text=True)
    after = _owner(app, public_id)
    assert after[1:] == before[1:] and after[0] == before[0] + 1, "the same owner, a new version"
    assert _audit(app, public_id, "allowed")
    assert _changed_entries(app, family) == entries + 1


def test_for_a_protected_child_an_admin_outside_the_team_sees_no_unit_or_person_but_may_reassign(
    app: Flask, client: FlaskClient, db: Any
) -> None:
    """RULES.md §7: unit and staff names are withheld from staff outside a protected child's team. bodil (BUP's
    admin) is not on the team; karin is."""
    protected = _with_plan(app, make_family(app, protected=True))
    (public_id,) = _add(app, protected, _bup("BUP assessment"))
    _as(client, "bodil")
    html = _worklist(client, protected, view="agency")
    assert "BUP assessment" in html and "withheld: protected identity" in html
    assert "data-owner-withheld" in html
    assert "data-owner-unit>" not in html and "data-owner-person>" not in html, "the row names no unit or person"
    assert _selected(html, "owner_unit") == "" and _selected(html, "owner_person") == "", "nothing chosen beforehand"
    response = _reassign(client, public_id, _ids(app, "BUP öppenvårdsmottagning", "Bodil"), htmx=True)
    assert response.status_code == 200
    assert "data-owner-person>" not in response.get_data(as_text=True), "not after the reassign either"
    with app.app_context():
        bodil = membership("Bodil", BUP)
        assert _owner(app, public_id) == (2, bodil.unit_id, bodil.staff_person_id)
    _as(client, "maria")  # the Child Contact is on the team, and the school's admin: BUP's action is not hers
    assert "BUP assessment" not in _worklist(client, protected, view="agency")


# -- the agency admin reassigns ---------------------------------------------------------------------------------------
def test_the_admin_reassigns_with_a_plain_form(app: Flask, client: FlaskClient, family: Family) -> None:
    (public_id,) = _add(app, family, _school("Reading support"))
    username, greta = _new_teacher(app)
    entries = _changed_entries(app, family)
    _as(client, "lars")
    assert "Reading support" in _worklist(client, family)
    _as(client, "maria")
    html = _worklist(client, family, view="agency")
    assert 'data-form="reassign-action"' in html
    assert _selected(html, "owner_person") == _ids(app, None, "Lars")["owner_person"], "the current person is chosen"
    response = _reassign(
        client,
        public_id,
        {"owner_unit": _ids(app, CLASS_7_9)["owner_unit"], "owner_person": greta},
        query="?view=agency&due=all",
    )
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("/worklist?") and "view=agency" in location and "due=all" in location
    html = client.get(location).get_data(as_text=True)
    assert "The action is reassigned." in html
    row = re.search(rf'<tr id="agency-row-{public_id}".*?</tr>', _worklist(client, family, view="agency"), re.S)
    assert row is not None
    assert "data-owner-unit>Klass 7–9<" in row.group(0) and "Lärarsson" in row.group(0)
    with app.app_context():
        teacher = database.session.scalar(select(StaffPerson).where(StaffPerson.public_id == greta))
        assert teacher is not None
        assert _owner(app, public_id) == (2, unit(CLASS_7_9).id, teacher.id)
    # the new person sees it in their worklist; the old one no longer does
    _as(client, username)
    assert "Reading support" in _worklist(client, family)
    _as(client, "lars")
    assert "Reading support" not in _worklist(client, family)
    # audited on the agency admin's basis, and in the chronology (so the plan and the chronology show it)
    (written,) = _audit(app, public_id, "allowed")
    assert written.legal_basis == "agency_administration"
    assert written.detail is not None and written.detail["person"] == greta
    assert written.detail["previous_person"] == _ids(app, None, "Lars")["owner_person"]
    assert _changed_entries(app, family) == entries + 1


def test_the_admin_reassigns_with_htmx_and_gets_the_row_back(app: Flask, client: FlaskClient, family: Family) -> None:
    (public_id,) = _add(app, family, _bup("BUP assessment"))
    entries = _changed_entries(app, family)
    _as(client, "bodil")
    response = _reassign(client, public_id, _ids(app, "BUP öppenvårdsmottagning", "Bodil"), htmx=True)
    assert response.status_code == 200
    html = response.get_data(as_text=True).strip()
    assert html.startswith(f'<tr id="agency-row-{public_id}"') and html.endswith("</tr>")
    assert "<html" not in html
    assert "data-owner-person>Bodil Ek<" in html and "data-saved" in html
    assert re.search(r'name="version"[^>]*value="2"', html), "the next reassign carries the new version"
    with app.app_context():
        bodil = membership("Bodil", BUP)
        assert _owner(app, public_id) == (2, bodil.unit_id, bodil.staff_person_id)
    assert _audit(app, public_id, "allowed")
    assert _changed_entries(app, family) == entries + 1
    # a unit without a person: every practitioner of the unit owns it
    response = _reassign(client, public_id, {**_ids(app, "BUP öppenvårdsmottagning"), "version": "2"}, htmx=True)
    assert response.status_code == 200
    assert "data-owner-person>No one named<" in response.get_data(as_text=True)
    _as(client, "karin")
    assert "BUP assessment" in _worklist(client, family)


def test_the_row_is_escaped(app: Flask, client: FlaskClient, family: Family) -> None:
    (public_id,) = _add(app, family, _school("<script>alert(1)</script>"))
    _as(client, "maria")
    response = _reassign(client, public_id, _ids(app, CLASS_7_9), htmx=True)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html


def test_without_a_csrf_token_nothing_is_written(app: Flask, client: FlaskClient, family: Family) -> None:
    (public_id,) = _add(app, family, _school("Reading support"))
    _as(client, "maria")
    response = client.post(f"/worklist/actions/{public_id}/reassign", data={**_ids(app, CLASS_7_9), "version": "1"})
    assert response.status_code in (400, 422)
    assert _owner(app, public_id)[0] == 1
