"""The worklist (issue 5 item 3): the actions I or my unit own across children, overdue first, filtered and
paged; agency admins also see their whole agency's actions; status and a progress note updated inline, as a
plain form and with htmx. Negatives first: other people's and other agencies' actions never appear, and
nobody but the owner or the plan keeper changes an action (404). Each test makes its own child and plan and
narrows the list to that child, so the demo's later plans do not change what it sees."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from childplan.models import PLAN_TEXT_MAX, Action, ActionArea
from childplan.operations import ActionData, NeedData, PlanData, add_action, add_need, start_plan
from coordination.chronology.models import ChronologyEntry
from coordination.clock import now, today
from coordination.database import db as database
from coordination.models import AuditEvent
from coordination.teams.models import TeamMember
from tests.helpers import csrf_token, login, logout
from tests.teams.support import BUP, CLASS_4_6, SCHOOL, Family, agency, make_family, membership, person, unit


def _actor_of(username: str):  # type: ignore[no-untyped-def]
    from agencies.models import Membership
    from coordination.access import Actor
    from coordination.models import Account

    account = database.session.scalar(select(Account).where(Account.username == username))
    assert account is not None
    memberships = tuple(
        database.session.scalars(
            select(Membership).where(
                Membership.staff_person_id == account.staff_person_id, Membership.ended_at.is_(None)
            )
        )
    )
    acting = memberships[0].agency
    return Actor(account, acting, tuple(m for m in memberships if m.agency_id == acting.id))


def _school(what: str, due_in: int | None = 30, **changes: Any) -> Callable[[], ActionData]:
    """A school action owned by lars in Klass 4–6 (made inside the app context, when added)."""
    return lambda: _school_now(what, due_in, **changes)


def _school_now(what: str, due_in: int | None, **changes: Any) -> ActionData:
    values: dict[str, Any] = {
        "what": what,
        "owner_agency_id": agency(SCHOOL).id,
        "owner_unit_id": unit(CLASS_4_6).id,
        "owner_person_id": person("Lars").id,
        "due_on": today() + timedelta(days=due_in) if due_in is not None else None,
        "areas": ["achieving"],
    }
    values.update(changes)
    return ActionData(**values)


def _bup(what: str) -> Callable[[], ActionData]:
    return lambda: _bup_now(what)


def _bup_now(what: str) -> ActionData:
    karin = membership("Karin", BUP)
    return ActionData(
        what,
        karin.agency_id,
        karin.unit_id,
        karin.staff_person_id,
        due_on=today() + timedelta(days=3),
        areas=["healthy"],
    )


@pytest.fixture()
def family(app: Flask, db: Any) -> Family:
    """A fresh child: maria (school) its Child Contact and the plan keeper; karin (BUP) on its team; a plan."""
    made = make_family(app)
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


def _plan(family: Family):  # type: ignore[no-untyped-def]
    from childplan.models import Plan

    return database.session.scalar(select(Plan).where(Plan.child_id == family.child_id))


def _add(app: Flask, family: Family, *actions: Callable[[], ActionData], by: str = "maria") -> list[str]:
    with app.app_context():
        plan = _plan(family)
        made = [add_action(_actor_of(by), plan, data()).public_id for data in actions]
        database.session.commit()
        return made


def _insert(app: Flask, family: Family, count: int, **owner: Any) -> None:
    """Many actions at once (for paging and statement counts), straight into the table."""
    with app.app_context():
        plan = _plan(family)
        values = {
            "owner_agency_id": agency(SCHOOL).id,
            "owner_unit_id": unit(CLASS_4_6).id,
            "owner_person_id": person("Lars").id,
        }
        values.update(owner)
        moment = now()
        for number in range(count):
            database.session.add(
                Action(
                    plan_id=plan.id,
                    child_id=family.child_id,
                    what=f"Bulk action {number:03d}",
                    starts_on=today() - timedelta(days=40),
                    due_on=today() + timedelta(days=number - 10),
                    status="planned",
                    is_withheld_from_guardians=False,
                    version=1,
                    created_at=moment,
                    changed_at=moment,
                    areas=[ActionArea(area="achieving")],
                    **values,
                )
            )
        database.session.commit()


def _as(client: FlaskClient, username: str) -> None:
    """Log in as someone else (logging out whoever is logged in), in English."""
    if client.get("/worklist").status_code != 302:
        logout(client)
    assert login(client, username).status_code == 302, username
    token = csrf_token(client, "/")
    assert client.post("/language", data={"language": "en", "next": "/", "csrf_token": token}).status_code == 302


def _worklist(client: FlaskClient, family: Family, **args: str) -> str:
    with client.application.app_context():
        given = family.child().given_name
    response = client.get("/worklist", query_string={"child": given, **args})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _order(html: str) -> list[str]:
    return re.findall(r"data-what>([^<]*)<", html)


def _version(app: Flask, public_id: str) -> tuple[int, str, str | None]:
    with app.app_context():
        action = database.session.scalar(select(Action).where(Action.public_id == public_id))
        assert action is not None
        return action.version, action.status, action.progress_note


def _post(client: FlaskClient, public_id: str, data: dict[str, str], htmx: bool = False, query: str = ""):  # type: ignore[no-untyped-def]
    payload = dict(data)
    payload["csrf_token"] = csrf_token(client, "/worklist")
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(f"/worklist/actions/{public_id}{query}", data=payload, headers=headers)


# -- who sees what ------------------------------------------------------------------------------------------
def test_another_persons_and_another_agencys_actions_never_appear(
    app: Flask, client: FlaskClient, family: Family
) -> None:
    with app.app_context():
        maria = membership("Maria", SCHOOL)
        other_unit = maria.unit_id if maria.unit_id != unit(CLASS_4_6).id else None
        maria_id = maria.staff_person_id
    _add(
        app,
        family,
        _school("Reading support"),
        _bup("BUP assessment"),
        *([_school("Maria's own talk", owner_unit_id=other_unit, owner_person_id=maria_id)] if other_unit else []),
    )
    _as(client, "lars")
    html = _worklist(client, family, status="all")
    assert _order(html) == ["Reading support"]
    assert "BUP assessment" not in html
    _as(client, "karin")
    html = _worklist(client, family, status="all")
    assert _order(html) == ["BUP assessment"]
    # the police own nothing here and see nothing
    _as(client, "erik")
    html = _worklist(client, family, status="all")
    assert _order(html) == []
    assert "data-empty" in html


def test_a_units_action_without_a_person_is_in_the_worklist_of_the_units_practitioners(
    app: Flask, client: FlaskClient, family: Family
) -> None:
    _add(app, family, _school("For the class", owner_person_id=None))
    _as(client, "karin")
    assert _order(_worklist(client, family)) == []
    _as(client, "lars")
    assert _order(_worklist(client, family)) == ["For the class"]


def test_the_agency_view_is_for_agency_admins_and_holds_only_their_agencys_actions(
    app: Flask, client: FlaskClient, family: Family
) -> None:
    _add(app, family, _school("Reading support"), _bup("BUP assessment"))
    _as(client, "lars")  # not an agency admin: asking for the agency view shows only his own
    html = _worklist(client, family, view="agency")
    assert "My agency&#39;s actions" not in html and "My agency's actions" not in html
    assert _order(html) == ["Reading support"]
    _as(client, "bodil")  # BUP's agency admin
    html = _worklist(client, family, view="agency")
    assert _order(html) == ["BUP assessment"]
    assert "Reading support" not in html
    assert 'data-section="agency-actions"' in html
    assert "update-action" not in html  # the agency view lists; it has no progress notes or forms
    _as(client, "maria")  # the school's admin
    html = _worklist(client, family, view="agency")
    assert _order(html) == ["Reading support"]
    assert "BUP assessment" not in html


# -- order, filters, paging ---------------------------------------------------------------------------------
def test_open_actions_come_first_overdue_oldest_first_then_due_soon_then_the_rest(
    app: Flask, client: FlaskClient, family: Family
) -> None:
    ids = _add(
        app,
        family,
        _school("Later", due_in=40),
        _school("Due soon", due_in=5),
        _school("No date", due_in=None),
        _school("Overdue 8", due_in=-8),
        _school("Overdue 22", due_in=-22),
        _school("Finished", due_in=-30),
    )
    with app.app_context():
        done = database.session.scalar(select(Action).where(Action.public_id == ids[-1]))
        assert done is not None
        done.status = "done"
        database.session.commit()
    _as(client, "lars")
    html = _worklist(client, family)
    assert _order(html) == ["Overdue 22", "Overdue 8", "Due soon", "Later", "No date"]
    assert "22 days overdue" in html and "8 days overdue" in html and "due in 5 days" in html
    assert _order(_worklist(client, family, status="all"))[-1] == "Finished"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"status": "done"}, ["Finished"]),
        ({"status": "in_progress"}, ["Started"]),
        ({"status": "planned"}, ["Overdue", "Soon", "Later"]),
        ({"due": "overdue"}, ["Overdue"]),
        ({"due": "soon"}, ["Started", "Soon"]),
        ({"area": "healthy"}, ["Later"]),
        ({"area": "active"}, []),
        ({"status": "nonsense", "due": "nonsense", "area": "nonsense"}, ["Overdue", "Started", "Soon", "Later"]),
    ],
)
def test_each_filter(
    app: Flask, client: FlaskClient, family: Family, args: dict[str, str], expected: list[str]
) -> None:
    ids = _add(
        app,
        family,
        _school("Overdue", due_in=-3),
        _school("Started", due_in=2),
        _school("Soon", due_in=10),
        _school("Later", due_in=60, areas=["healthy"]),
        _school("Finished", due_in=1),
    )
    with app.app_context():
        for public_id, status in ((ids[1], "in_progress"), (ids[4], "done")):
            action = database.session.scalar(select(Action).where(Action.public_id == public_id))
            assert action is not None
            action.status = status
        database.session.commit()
    _as(client, "lars")
    assert _order(_worklist(client, family, **args)) == expected


def test_the_need_s_areas_count_for_the_area_filter_and_show_as_chips(
    app: Flask, client: FlaskClient, family: Family
) -> None:
    with app.app_context():
        need = add_need(_actor_of("maria"), _plan(family), NeedData("Sleep", ["healthy"]))
        add_action(_actor_of("maria"), _plan(family), _school("Sleep diary", need_id=need.id, areas=[])())
        database.session.commit()
    _as(client, "lars")
    html = _worklist(client, family, area="healthy")
    assert _order(html) == ["Sleep diary"]
    assert 'data-area="healthy"' in html


def test_the_child_filter_searches_only_my_rows(app: Flask, client: FlaskClient, family: Family) -> None:
    other = make_family(app)
    with app.app_context():
        maria = _actor_of("maria")
        start_plan(maria, other.child(), PlanData("Another child"))
        database.session.commit()
    _add(app, family, _school("For the first child"))
    _add(app, other, _school("For the second child"))
    _as(client, "lars")
    assert _order(_worklist(client, family)) == ["For the first child"]
    assert _order(_worklist(client, other)) == ["For the second child"]
    response = client.get("/worklist", query_string={"child": "%"})
    assert response.status_code == 200  # a wildcard is a character, not a pattern
    assert "For the first child" not in response.get_data(as_text=True)


def test_paging_keeps_the_filters(app: Flask, client: FlaskClient, family: Family) -> None:
    _insert(app, family, 25)
    _as(client, "lars")
    first = _worklist(client, family, due="all")
    assert len(_order(first)) == 20
    assert _order(first)[0] == "Bulk action 000"  # the most overdue
    next_link = re.search(r'href="([^"]+)" rel="next"', first)
    assert next_link is not None
    href = next_link.group(1).replace("&amp;", "&")
    assert "child=" in href and "due=all" in href and "page=2" in href
    second = client.get(href).get_data(as_text=True)
    assert _order(second) == [f"Bulk action {n:03d}" for n in range(20, 25)]


def test_a_childs_name_is_escaped(app: Flask, client: FlaskClient, family: Family) -> None:
    _add(app, family, _school("<script>alert(1)</script>"))
    _as(client, "lars")
    html = _worklist(client, family)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


EXPECTED_STATEMENTS = 9  # pinned: the same for 10 and 100 actions (the last is the audit rows' one INSERT)


def test_the_worklist_runs_a_fixed_number_of_statements_for_10_and_100_actions(
    app: Flask, client: FlaskClient, family: Family, count_queries: Any
) -> None:
    other = make_family(app)
    with app.app_context():
        start_plan(_actor_of("maria"), other.child(), PlanData("Another child"))
        need = add_need(_actor_of("maria"), _plan(other), NeedData("Sleep", ["healthy"]))
        need_id = need.id
        database.session.commit()
    _as(client, "lars")
    counts = []
    for count in (5, 45):  # 10 actions in all, then 100
        _insert(app, family, count)
        _insert(app, other, count, need_id=need_id)
        client.get("/worklist")
        with count_queries() as counter:
            response = client.get("/worklist", query_string={"status": "all"})
        assert response.status_code == 200
        assert response.get_data(as_text=True).count('data-form="update-action"') >= 10
        counts.append(counter.count)
    assert counts[0] == counts[1] == EXPECTED_STATEMENTS, counts


def test_every_action_listed_is_an_audited_read_of_its_child(app: Flask, client: FlaskClient, family: Family) -> None:
    """The worklist shows children's names and their actions: one audit row per action shown, with the child."""
    _add(app, family, _school("Read with Leo"))
    _as(client, "lars")
    with app.app_context():
        before = database.session.scalar(select(func.max(AuditEvent.id))) or 0
    html = _worklist(client, family)
    assert "Read with Leo" in html
    with app.app_context():
        rows = database.session.execute(
            select(AuditEvent.action, AuditEvent.child_id, AuditEvent.legal_basis, AuditEvent.outcome).where(
                AuditEvent.id > before, AuditEvent.action == "view_worklist"
            )
        ).all()
    assert (("view_worklist", family.child_id, "relation_action_owner", "allowed")) in [tuple(r) for r in rows]


# -- the inline update --------------------------------------------------------------------------------------
def _changes(app: Flask, public_id: str) -> int:
    with app.app_context():
        return (
            database.session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(
                    AuditEvent.object_id == public_id,
                    AuditEvent.action == "update_plan_action",
                    AuditEvent.outcome == "allowed",
                )
            )
            or 0
        )


def test_the_police_and_other_agencies_get_404_on_updating_and_it_is_audited(
    app: Flask, client: FlaskClient, family: Family
) -> None:
    (public_id,) = _add(app, family, _school("Reading support"))
    for username in ("erik", "karin", "bodil"):
        _as(client, username)
        response = _post(client, public_id, {"status": "done", "version": "1"})
        assert response.status_code == 404, username
        response = _post(client, public_id, {"status": "done", "version": "1"}, htmx=True)
        assert response.status_code == 404, username
    assert _version(app, public_id) == (1, "planned", None)
    _as(client, "lars")
    assert _post(client, "no-such-action", {"status": "done", "version": "1"}).status_code == 404
    with app.app_context():
        denied = database.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "update_plan_action", AuditEvent.outcome == "denied")
            .where(AuditEvent.object_id.in_((public_id, "no-such-action")))
        )
        assert denied == 7


def test_the_owner_updates_an_action_with_a_plain_form(app: Flask, client: FlaskClient, family: Family) -> None:
    (public_id,) = _add(app, family, _school("Reading support"))
    _as(client, "lars")
    response = _post(
        client,
        public_id,
        {"status": "in_progress", "progress_note": "Twice a week now", "version": "1"},
        query="?due=all&page=1",
    )
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/worklist?")
    assert "due=all" in response.headers["Location"]
    assert _version(app, public_id) == (2, "in_progress", "Twice a week now")
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "The action is saved." in html
    html = _worklist(client, family)
    assert "Twice a week now" in html and 'data-status="in_progress"' in html
    with app.app_context():
        assert database.session.scalar(
            select(func.count())
            .select_from(ChronologyEntry)
            .where(ChronologyEntry.child_id == family.child_id, ChronologyEntry.kind == "plan_action_changed")
        )


def test_the_owner_updates_an_action_with_htmx_and_gets_the_row_back(
    app: Flask, client: FlaskClient, family: Family
) -> None:
    (public_id,) = _add(app, family, _school("Reading support"))
    _as(client, "lars")
    response = _post(client, public_id, {"status": "stopped", "stop_reason": "Moved class", "version": "1"}, htmx=True)
    assert response.status_code == 200
    html = response.get_data(as_text=True).strip()
    assert html.startswith(f'<li class="bk-stack bk-worklist-row" id="row-{public_id}"')
    assert html.endswith("</li>")
    assert "<html" not in html
    assert "Stopped" in html and "Moved class" in html
    assert _version(app, public_id) == (2, "stopped", None)


def test_the_plan_keeper_may_update_another_agencys_action(app: Flask, client: FlaskClient, family: Family) -> None:
    (public_id,) = _add(app, family, _bup("BUP assessment"))
    _as(client, "maria")
    response = _post(client, public_id, {"status": "done", "version": "1"})
    assert response.status_code == 302
    assert _version(app, public_id)[1] == "done"


def test_a_stale_version_answers_409_with_the_current_state_and_the_users_text_kept(
    app: Flask, client: FlaskClient, family: Family
) -> None:
    (public_id,) = _add(app, family, _school("Reading support"))
    _as(client, "lars")
    assert (
        _post(client, public_id, {"status": "in_progress", "progress_note": "First", "version": "1"}).status_code == 302
    )
    for htmx in (False, True):
        response = _post(
            client, public_id, {"status": "done", "progress_note": "My late words", "version": "1"}, htmx=htmx
        )
        assert response.status_code == 409
        html = response.get_data(as_text=True)
        assert "Someone changed this action" in html
        assert ">My late words</textarea>" in html  # the user's text kept
        assert "Progress note: First" in html  # the current state shown
        assert re.search(r'name="version"[^>]*value="2"', html)  # saving again replaces what is shown now
        assert _version(app, public_id) == (2, "in_progress", "First")


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"status": "stopped", "stop_reason": " "}, "stop_reason"),
        ({"status": "finished"}, "status"),
        ({"status": ""}, "status"),
        ({"status": "in_progress", "progress_note": "x" * (PLAN_TEXT_MAX + 1)}, "progress_note"),
        ({"status": "stopped", "stop_reason": "x" * 1001}, "stop_reason"),
    ],
)
@pytest.mark.parametrize("htmx", [False, True])
def test_bad_input_answers_422_in_the_row_and_nothing_is_written(
    app: Flask, client: FlaskClient, family: Family, data: dict[str, str], field: str, htmx: bool
) -> None:
    (public_id,) = _add(app, family, _school("Reading support"))
    _as(client, "lars")
    response = _post(client, public_id, {**data, "version": "1"}, htmx=htmx)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'data-field-error="{field}"' in html
    assert f'id="row-{public_id}"' in html
    assert ("<html" in html) is not htmx
    assert _version(app, public_id) == (1, "planned", None)
    assert _changes(app, public_id) == 0


def test_script_in_the_progress_note_is_escaped(app: Flask, client: FlaskClient, family: Family) -> None:
    (public_id,) = _add(app, family, _school("Reading support"))
    _as(client, "lars")
    note = '<script>alert("x")</script>'
    response = _post(client, public_id, {"status": "in_progress", "progress_note": note, "version": "1"}, htmx=True)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert note not in html and "&lt;script&gt;" in html
    assert note not in _worklist(client, family)


def test_without_a_csrf_token_nothing_is_written(app: Flask, client: FlaskClient, family: Family) -> None:
    (public_id,) = _add(app, family, _school("Reading support"))
    _as(client, "lars")
    response = client.post(f"/worklist/actions/{public_id}", data={"status": "done", "version": "1"})
    assert response.status_code in (400, 422)
    assert _version(app, public_id) == (1, "planned", None)


# pinned: the same for 10 and 100 actions — the session, the memberships, the count, the page, the owners' names,
# the children, the protected ones whose team the admin is in (RULES.md §7), and the agency's units and active
# practitioners (the reassign forms' choices, once per page)
EXPECTED_AGENCY_STATEMENTS = 10  # ... and the audit rows' one INSERT


def test_the_agency_view_runs_a_fixed_number_of_statements_for_10_and_100_actions(
    app: Flask, client: FlaskClient, family: Family, count_queries: Any
) -> None:
    """The agency view with its reassign forms: the units and people to choose from are loaded once per page."""
    other = make_family(app)
    with app.app_context():
        start_plan(_actor_of("maria"), other.child(), PlanData("Another child"))
        database.session.commit()
    _as(client, "maria")
    counts = []
    for count in (5, 45):  # 10 actions in all, then 100
        _insert(app, family, count)
        _insert(app, other, count, owner_unit_id=None)
        client.get("/worklist", query_string={"view": "agency"})
        with count_queries() as counter:
            response = client.get("/worklist", query_string={"view": "agency", "status": "all"})
        assert response.status_code == 200
        assert response.get_data(as_text=True).count('data-form="reassign-action"') >= 10
        counts.append(counter.count)
    assert counts[0] == counts[1] == EXPECTED_AGENCY_STATEMENTS, counts
