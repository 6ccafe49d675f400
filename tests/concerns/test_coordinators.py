"""Requests to become Support Coordinator (issue 4, item 5; RULES.md §2, §4, §10). Negatives first: who
gets 404 on the picker and on a nominee's page (audited); a request to a deactivated person or to an
agency without consent for coordination is refused with nothing written; a decline needs a reason; two
nominees accepting at once give exactly one coordinator — one after the other on both databases, and
truly at once on PostgreSQL. Then the picker, the requests, the answers and what they leave behind."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from agencies.models import Agency, StaffPerson
from agencies.operations import deactivate_staff_person
from coordination import events
from coordination.access import SYSTEM_ACTOR
from coordination.children.models import Child, RoleAssignment
from coordination.children.operations import assign_support_coordinator
from coordination.concerns.models import CoordinatorRequest
from coordination.concerns.operations.coordinators import MESSAGE_MAX
from coordination.database import db as database
from tests.concerns.test_concern_page import (
    BVC,
    HABILITATION,
    PRESCHOOLS,
    SCHOOL,
    World,
    audit_rows,
    chronology,
    client_maker,
    field_error,
    give_consent,
    make_child,
    make_concern,
    membership_of,
    post,
    session,
    staff,
    withdraw,
    write_counts,
)
from tests.helpers import csrf_token, login

SCRIPT = "<script>alert('x')</script>"
ESCAPED = "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"


@pytest.fixture()
def as_user(app: Flask, db: Any) -> Callable[[str], FlaskClient]:
    return client_maker(app)


def new_url(world: World) -> str:
    return f"/children/{world.child}/coordinator-requests/new"


def request_url(world: World, request_id: str, suffix: str = "") -> str:
    return f"/children/{world.child}/coordinator-requests/{request_id}{suffix}"


def key(app: Flask, username: str, agency_name: str) -> str:
    with app.app_context():
        person = staff(username)
        agency = session().scalar(select(Agency).where(Agency.name == agency_name))
        return f"{person.public_id}.{agency.public_id}"


def offered(html: str) -> list[str]:
    return re.findall(r'name="nominees" value="([^"]+)"', html)


def requests_of(app: Flask, world: World) -> dict[str, tuple[str, str]]:
    """username-less view: nominee given name → (request public id, state)."""
    with app.app_context():
        rows = session().execute(
            select(StaffPerson.given_name, CoordinatorRequest.public_id, CoordinatorRequest.state)
            .join(StaffPerson, StaffPerson.id == CoordinatorRequest.nominee_person_id)
            .where(CoordinatorRequest.child_id == world.child_pk)
        )
        return {given: (public_id, state) for given, public_id, state in rows}


def coordinators_of(app: Flask, world: World) -> list[str]:
    with app.app_context():
        return list(
            session().scalars(
                select(StaffPerson.given_name)
                .join(RoleAssignment, RoleAssignment.staff_person_id == StaffPerson.id)
                .where(
                    RoleAssignment.child_id == world.child_pk,
                    RoleAssignment.role == "support_coordinator",
                    RoleAssignment.ended_at.is_(None),
                )
            )
        )


def ask(app: Flask, client: Any, world: World, *nominees: tuple[str, str], message: str = "") -> Any:
    return post(
        client, new_url(world), {"nominees": [key(app, user, agency) for user, agency in nominees], "message": message}
    )


# -- who gets 404 ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("username", ["erik", "hanna", "sara"])
def test_only_the_child_contact_reaches_the_picker(app: Flask, as_user: Any, username: str) -> None:
    world = make_child(app)
    before = write_counts(app, world)
    client = as_user(username)  # the police; habilitation (no relation); the preschool (a relation)
    assert client.get(new_url(world)).status_code == 404
    response = ask(app, client, world, ("hanna", HABILITATION))
    assert response.status_code == 404
    assert write_counts(app, world) == before
    reasons = {row[2] for row in audit_rows(app, world, "denied")}
    assert reasons & {"no_relation", "not_child_contact"}


def test_only_the_nominee_reaches_the_request_and_everyone_else_gets_404(app: Flask, as_user: Any) -> None:
    world = make_child(app)
    assert ask(app, as_user("anna"), world, ("hanna", HABILITATION), ("sara", PRESCHOOLS)).status_code == 302
    hannas, _state = requests_of(app, world)["Hanna"]
    for username in ("anna", "sara", "erik", "karin"):
        client = as_user(username)
        assert client.get(request_url(world, hannas)).status_code == 404, username
        assert post(client, request_url(world, hannas, "/accept"), {}).status_code == 404, username
        assert post(client, request_url(world, hannas, "/decline"), {"reason": "No"}).status_code == 404, username
    assert requests_of(app, world)["Hanna"][1] == "pending"
    denied = [row for row in audit_rows(app, world, "denied") if row[2] == "not_the_nominee"]
    assert len(denied) == 12
    other = make_child(app, given_name="Annan")
    assert as_user("hanna").get(request_url(other, hannas)).status_code == 404, "looked up through its child"
    assert as_user("hanna").get(request_url(world, hannas)).status_code == 200


# -- bad input ---------------------------------------------------------------------------------------------
def test_a_request_to_a_deactivated_person_is_refused_and_nothing_is_written(app: Flask, as_user: Any) -> None:
    world = make_child(app)
    anna = as_user("anna")
    with app.app_context():
        deactivate_staff_person(SYSTEM_ACTOR, staff("hanna"))
        session().commit()
    page = anna.get(new_url(world)).get_data(as_text=True)
    assert key(app, "hanna", HABILITATION) not in offered(page), "a deactivated person is not offered"
    assert key(app, "sara", PRESCHOOLS) in offered(page)
    before = write_counts(app, world)
    response = ask(app, anna, world, ("sara", PRESCHOOLS), ("hanna", HABILITATION), message="Please")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert field_error(html, "nominees") == "Hanna Åberg cannot be asked: they are no longer active in that agency"
    assert "Please" in html
    assert write_counts(app, world) == before


def test_a_request_outside_a_consented_agency_is_refused(app: Flask, as_user: Any) -> None:
    world = make_child(app)  # BVC, preschools, habilitation: not the school
    anna = as_user("anna")
    page = anna.get(new_url(world)).get_data(as_text=True)
    assert key(app, "maria", SCHOOL) not in offered(page)
    assert 'data-not-offered-agency="Ekby skola"' in page and "no consent for coordination" in page
    before = write_counts(app, world)
    response = ask(app, anna, world, ("maria", SCHOOL))
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "nominees") == (
        "Maria Holm cannot be asked: that agency has no consent for coordination"
    )
    assert write_counts(app, world) == before


def test_without_its_own_consent_the_child_contact_is_offered_nobody_and_told_why(app: Flask, as_user: Any) -> None:
    world = make_child(app, consents=(PRESCHOOLS, HABILITATION))  # not BVC, anna's agency
    anna = as_user("anna")
    page = anna.get(new_url(world)).get_data(as_text=True)
    assert offered(page) == [] and 'data-no-picker="no_consent_for_your_agency"' in page
    assert "Habiliteringen Ekby" not in page, "other agencies' consents stay unknown to her"
    before = write_counts(app, world)
    response = ask(app, anna, world, ("hanna", HABILITATION))
    assert response.status_code == 422
    assert write_counts(app, world) == before


def test_bad_input_on_the_picker_is_refused_with_the_input_kept(app: Flask, as_user: Any) -> None:
    world = make_child(app)
    anna = as_user("anna")
    before = write_counts(app, world)
    response = post(anna, new_url(world), {"message": SCRIPT})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert field_error(html, "nominees") == "Choose at least one person to ask"
    assert ESCAPED in html and "<script>alert" not in html
    response = ask(app, anna, world, ("hanna", HABILITATION), message="m" * (MESSAGE_MAX + 1))
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "message") == f"Write at most {MESSAGE_MAX} characters"
    response = post(anna, new_url(world), {"nominees": [SCRIPT, "nonsense.value"]})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and field_error(html, "nominees") == "Choose among the people offered"
    assert "<script>alert" not in html
    ask(app, anna, world, ("hanna", HABILITATION))
    response = ask(app, anna, world, ("hanna", HABILITATION))
    assert response.status_code == 422, "asked twice while the first is pending"
    assert write_counts(app, world)[1] == before[1] + 1


def test_a_decline_without_a_reason_is_refused(app: Flask, as_user: Any) -> None:
    world = make_child(app)
    ask(app, as_user("anna"), world, ("hanna", HABILITATION))
    hannas, _state = requests_of(app, world)["Hanna"]
    hanna = as_user("hanna")
    before = write_counts(app, world)
    response = post(hanna, request_url(world, hannas, "/decline"), {"reason": "  "})
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "reason") == "Write why you decline"
    response = post(hanna, request_url(world, hannas, "/decline"), {"reason": "r" * 1001})
    assert response.status_code == 422
    assert write_counts(app, world) == before
    assert requests_of(app, world)["Hanna"][1] == "pending"


# -- one coordinator -------------------------------------------------------------------------------------------
def test_two_nominees_accepting_one_after_the_other_give_one_coordinator(app: Flask, as_user: Any) -> None:
    world = make_child(app)
    concern_id = make_concern(app, world)
    answered: list[str] = []

    def listen(_sender: object, request: Any, **_extra: Any) -> None:
        answered.append(request.state)

    ask_response = post(
        as_user("anna"),
        new_url(world),
        {
            "nominees": [key(app, "hanna", HABILITATION), key(app, "sara", PRESCHOOLS)],
            "message": "Can you coordinate?",
            "concern": concern_id,
        },
    )
    assert ask_response.status_code == 302 and concern_id in ask_response.headers["Location"]
    requests = requests_of(app, world)
    with events.coordinator_request_answered.connected_to(listen):
        hanna = as_user("hanna")
        page = hanna.get(request_url(world, requests["Hanna"][0])).get_data(as_text=True)
        assert "Testa Orolig" in page and "Anna Berg" in page and "Can you coordinate?" in page
        response = post(hanna, request_url(world, requests["Hanna"][0], "/accept"), {})
        assert response.status_code == 302 and response.headers["Location"].endswith(f"/children/{world.child}")
        assert hanna.get(f"/children/{world.child}").status_code == 200, "the support_coordinator relation"
        sara = as_user("sara")
        late = post(sara, request_url(world, requests["Sara"][0], "/accept"), {})
    assert late.status_code == 422 and "Someone else has already accepted" in late.get_data(as_text=True)
    assert coordinators_of(app, world) == ["Hanna"]
    assert {name: state for name, (_id, state) in requests_of(app, world).items()} == {
        "Hanna": "accepted",
        "Sara": "taken",
    }
    assert sorted(answered) == ["accepted", "taken"]
    [appointed] = chronology(app, world, "coordinator_appointed")
    assert appointed["owner"] == HABILITATION and appointed["audience"] == "coordination"
    assert len(chronology(app, world, "coordinator_requested")) == 2


def test_accepting_when_a_coordinator_already_exists_marks_the_request_taken(app: Flask, as_user: Any) -> None:
    world = make_child(app)
    ask(app, as_user("anna"), world, ("hanna", HABILITATION))
    hannas, _state = requests_of(app, world)["Hanna"]
    with app.app_context():
        child = session().get(Child, world.child_pk)
        assign_support_coordinator(SYSTEM_ACTOR, child, membership_of("sara", PRESCHOOLS))
        session().commit()
    response = post(as_user("hanna"), request_url(world, hannas, "/accept"), {})
    assert response.status_code == 409
    assert "Someone else has already accepted" in response.get_data(as_text=True)
    assert requests_of(app, world)["Hanna"][1] == "taken"
    assert coordinators_of(app, world) == ["Sara"]


def test_a_decline_carries_its_reason_to_the_one_who_asked(app: Flask, as_user: Any) -> None:
    world = make_child(app)
    ask(app, as_user("anna"), world, ("hanna", HABILITATION))
    hannas, _state = requests_of(app, world)["Hanna"]
    response = post(as_user("hanna"), request_url(world, hannas, "/decline"), {"reason": SCRIPT})
    assert response.status_code == 302
    assert requests_of(app, world)["Hanna"][1] == "declined"
    [entry] = chronology(app, world, "coordinator_declined")
    assert entry["summary"] == SCRIPT and entry["audience"] == "recipient" and entry["owner"] == HABILITATION
    with app.app_context():
        assert entry["recipient_person_id"] == staff("anna").id
    page = as_user("hanna").get(request_url(world, hannas)).get_data(as_text=True)
    assert 'data-answered="declined"' in page and ESCAPED in page and "<script>alert" not in page


def test_a_request_is_only_open_while_the_nominees_agency_holds_consent(app: Flask, as_user: Any) -> None:
    world = make_child(app, consents=(BVC, PRESCHOOLS))
    habilitation = give_consent(app, world, HABILITATION)
    ask(app, as_user("anna"), world, ("hanna", HABILITATION))
    hannas, _state = requests_of(app, world)["Hanna"]
    withdraw(app, world, habilitation)
    assert as_user("hanna").get(request_url(world, hannas)).status_code == 404
    assert ("view_coordinator_request", "denied", "no_consent_for_your_agency") in audit_rows(app, world, "denied")


def test_requests_land_in_the_chronology_and_are_sent_as_signals(app: Flask, as_user: Any) -> None:
    world = make_child(app)
    sent: list[str] = []
    with events.coordinator_requested.connected_to(lambda _s, request, **_e: sent.append(request.public_id)):
        response = ask(app, as_user("anna"), world, ("hanna", HABILITATION), ("sara", PRESCHOOLS), message=SCRIPT)
    assert response.status_code == 302
    requests = requests_of(app, world)
    assert sorted(sent) == sorted(public_id for public_id, _state in requests.values())
    entries = chronology(app, world, "coordinator_requested")
    assert len(entries) == 2 and {entry["owner"] for entry in entries} == {BVC}
    assert all(entry["summary"] is None for entry in entries), "the message is for the nominees only"
    page = as_user("anna").get(new_url(world)).get_data(as_text=True)
    assert "data-already-asked" in page and offered(page) == []


def test_deactivating_the_support_coordinator_vacates_the_role_back_to_the_child_contact(
    app: Flask, as_user: Any
) -> None:
    world = make_child(app)
    with app.app_context():
        child = session().get(Child, world.child_pk)
        assign_support_coordinator(SYSTEM_ACTOR, child, membership_of("hanna", HABILITATION))
        session().commit()
    vacated: list[tuple[int, int]] = []
    with events.coordinator_vacated.connected_to(
        lambda _s, child, agency_id, person_id, **_e: vacated.append((child.id, person_id))
    ):
        with app.app_context():
            hanna = staff("hanna")
            deactivate_staff_person(SYSTEM_ACTOR, hanna)
            hanna_id = hanna.id
            session().commit()
    assert (world.child_pk, hanna_id) in vacated
    [entry] = chronology(app, world, "coordinator_vacated")
    assert entry["owner"] == HABILITATION and entry["audience"] == "coordination"
    assert coordinators_of(app, world) == []
    page = as_user("anna").get(new_url(world)).get_data(as_text=True)
    assert key(app, "sara", PRESCHOOLS) in offered(page), "the Child Contact asks for a new one"


# -- truly at once (PostgreSQL) -----------------------------------------------------------------------------
def in_parallel(jobs: list[Callable[[], int]]) -> list[int]:
    results: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(len(jobs))

    def run(job: Callable[[], int]) -> None:
        start.wait()
        status = job()
        with lock:
            results.append(status)

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


@pytest.mark.postgresql_only
def test_two_nominees_accepting_at_the_same_moment_give_exactly_one_coordinator(
    committed_db: Callable[..., Flask],
) -> None:
    app = committed_db()
    world = make_child(app)
    anna = app.test_client()
    assert login(anna, "anna").status_code == 302
    assert ask(app, anna, world, ("hanna", HABILITATION), ("sara", PRESCHOOLS)).status_code == 302
    requests = requests_of(app, world)
    clients = {}
    for username, given in (("hanna", "Hanna"), ("sara", "Sara")):
        client = app.test_client()
        assert login(client, username).status_code == 302
        path = request_url(world, requests[given][0], "/accept")
        clients[given] = (client, path, csrf_token(client, "/"))

    def accept(given: str) -> Callable[[], int]:
        client, path, token = clients[given]
        return lambda: client.post(path, data={"csrf_token": token}).status_code

    statuses = sorted(in_parallel([accept("Hanna"), accept("Sara")]))
    assert statuses[0] == 302 and statuses[1] in (409, 422), statuses
    coordinators = coordinators_of(app, world)
    assert len(coordinators) == 1
    states = {name: state for name, (_id, state) in requests_of(app, world).items()}
    assert states == {coordinators[0]: "accepted", ({"Hanna", "Sara"} - set(coordinators)).pop(): "taken"}
    with app.app_context():
        assert (
            database.session.scalar(
                select(func.count(RoleAssignment.id)).where(
                    RoleAssignment.child_id == world.child_pk, RoleAssignment.role == "support_coordinator"
                )
            )
            == 1
        )


def test_the_loser_of_a_race_is_stopped_by_the_database_and_its_request_marked_taken(
    app: Flask, as_user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race as the loser sees it: its check found no coordinator (the winner had not committed yet),
    so the insert itself must fail on the unique index, inside the SAVEPOINT, and the request close as
    "taken" in the same transaction — not a 500, not a second coordinator."""
    from coordination.concerns.operations import coordinators

    world = make_child(app)
    ask(app, as_user("anna"), world, ("hanna", HABILITATION))
    hannas, _state = requests_of(app, world)["Hanna"]
    with app.app_context():
        child = session().get(Child, world.child_pk)
        assign_support_coordinator(SYSTEM_ACTOR, child, membership_of("sara", PRESCHOOLS))
        session().commit()
    monkeypatch.setattr(coordinators, "current_support_coordinator", lambda _child_id: None)
    response = post(as_user("hanna"), request_url(world, hannas, "/accept"), {})
    assert response.status_code == 409
    assert "Someone else has already accepted" in response.get_data(as_text=True)
    assert requests_of(app, world)["Hanna"][1] == "taken"
    assert coordinators_of(app, world) == ["Sara"]
