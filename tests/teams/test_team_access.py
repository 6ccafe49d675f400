"""Who reaches a child's team and its meetings (RULES.md §2–§4, §7, §9), on a fresh child of the tests'
own (maria, the school, is its Child Contact and so the plan keeper; lars has a unit relation). Negatives
first: the police and unrelated staff get 404 everywhere; staff with a relation who are not the plan
keeper get 404 on the keeper's actions; a removed or departed member loses access on the next request;
protected identity keeps the meeting place, unit and staff names from staff outside the team; a
withdrawn team-meeting consent hides other agencies' team information at once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from coordination.clock import now
from coordination.database import db as database
from coordination.models import AuditEvent
from tests.teams.support import (
    BUP,
    SCHOOL,
    add_member,
    counts,
    make_family,
    member_value,
    post,
    proposed_meeting,
    withdraw_team_consent,
)

PLACE = "Room 12, Ekby skola building B"


def _start(app: Flask, days: int = 3):  # type: ignore[no-untyped-def]
    with app.app_context():
        return now() + timedelta(days=days)


def _every_route(family_id: str, meeting_id: str, member_id: str) -> list[tuple[str, str, dict[str, Any]]]:
    child = f"/children/{family_id}"
    meeting = f"{child}/meetings/{meeting_id}"
    return [
        ("GET", f"{child}/team", {}),
        ("GET", meeting, {}),
        ("GET", f"{child}/meetings/new", {}),
        (
            "POST",
            f"{child}/meetings/new",
            {"starts_at": "2030-01-01T10:00", "ends_at": "2030-01-01T11:00", "place": "x"},
        ),
        ("POST", f"{child}/team/members", {"member": "x.y"}),
        ("POST", f"{child}/team/family", {"invitee": "child"}),
        ("GET", f"{child}/team/members/{member_id}/remove", {}),
        ("POST", f"{child}/team/members/{member_id}/remove", {"confirm": "y"}),
        ("GET", f"{child}/team/leave", {}),
        ("POST", f"{child}/team/leave", {"confirm": "y"}),
        (
            "POST",
            f"{meeting}/reschedule",
            {"version": "1", "starts_at": "2030-01-01T10:00", "ends_at": "2030-01-01T11:00", "place": "x"},
        ),
        ("GET", f"{meeting}/cancel", {}),
        ("POST", f"{meeting}/cancel", {"version": "1", "reason": "x", "confirm": "y"}),
        ("POST", f"{meeting}/outcome", {"version": "1"}),
    ]


def _team_with_meeting(app: Flask, as_user, protected: bool = False):  # type: ignore[no-untyped-def]
    family = make_family(app, protected=protected)
    maria = as_user("maria")
    assert add_member(maria, family, "Karin", BUP).status_code == 302
    meeting_id = proposed_meeting(maria, family, _start(app), PLACE)
    from coordination.teams.models import TeamMember

    with app.app_context():
        member_id = database.session.scalar(select(TeamMember.public_id).where(TeamMember.child_id == family.child_id))
    return family, maria, meeting_id, member_id


# -- nobody outside -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("username", ["erik", "olle", "ida"])
def test_the_police_and_unrelated_staff_get_404_on_the_team_the_meeting_and_every_action(
    app: Flask, db: Any, as_user, username: str
) -> None:  # type: ignore[no-untyped-def]
    family, _maria, meeting_id, member_id = _team_with_meeting(app, as_user)
    before = counts(app, family.child_id)
    outsider = as_user(username)
    for method, path, data in _every_route(family.public_id, meeting_id, member_id):
        response = outsider.get(path) if method == "GET" else post(outsider, path, data)
        assert response.status_code == 404, (method, path)
        assert PLACE not in response.get_data(as_text=True)
    assert counts(app, family.child_id) == before
    with app.app_context():
        denied = database.session.scalars(
            select(AuditEvent).where(AuditEvent.child_id == family.child_id, AuditEvent.outcome == "denied")
        ).all()
    assert len(denied) >= len(_every_route(family.public_id, meeting_id, member_id))


def test_staff_with_a_relation_but_not_the_plan_keeper_get_404_on_the_keepers_actions(
    app: Flask, db: Any, as_user
) -> None:  # type: ignore[no-untyped-def]
    family, _maria, meeting_id, member_id = _team_with_meeting(app, as_user)
    before = counts(app, family.child_id)
    for username in ("lars", "karin"):  # a unit relation; a team member
        client = as_user(username)
        assert client.get(f"/children/{family.public_id}/team").status_code == 200
        for method, path, data in _every_route(family.public_id, meeting_id, member_id):
            if path.endswith(("/team", meeting_id)) or "/leave" in path:
                continue
            response = client.get(path) if method == "GET" else post(client, path, data)
            assert response.status_code == 404, (username, method, path)
        assert "Add a member" not in client.get(f"/children/{family.public_id}/team").get_data(as_text=True)
    assert counts(app, family.child_id) == before
    with app.app_context():
        reasons = {
            (row.detail or {}).get("reason")
            for row in database.session.scalars(
                select(AuditEvent).where(AuditEvent.child_id == family.child_id, AuditEvent.outcome == "denied")
            )
        }
    assert "not_plan_keeper" in reasons


def test_the_support_coordinator_keeps_the_plan_once_appointed_and_the_child_contact_no_longer_does(
    app: Flask, db: Any, as_user
) -> None:  # type: ignore[no-untyped-def]
    from coordination.access import SYSTEM_ACTOR
    from coordination.children.operations import assign_support_coordinator
    from tests.teams.support import SOCIAL, give_consent, membership

    family = make_family(app)
    with app.app_context():
        give_consent(family, SOCIAL)
        assign_support_coordinator(SYSTEM_ACTOR, family.child(), membership("Johan", SOCIAL))
        database.session.commit()
    maria, johan = as_user("maria"), as_user("johan")
    assert add_member(maria, family, "Karin", BUP).status_code == 404
    assert add_member(johan, family, "Karin", BUP).status_code == 302
    assert "You are the plan keeper" in johan.get(f"/children/{family.public_id}/team").get_data(as_text=True)


# -- leaving the team ------------------------------------------------------------------------------------------
def test_a_removed_team_member_gets_404_at_once(app: Flask, db: Any, as_user) -> None:  # type: ignore[no-untyped-def]
    family, maria, meeting_id, member_id = _team_with_meeting(app, as_user)
    karin = as_user("karin")
    assert karin.get(f"/children/{family.public_id}").status_code == 200
    assert karin.get(f"/children/{family.public_id}/meetings/{meeting_id}").status_code == 200
    remove = f"/children/{family.public_id}/team/members/{member_id}/remove"
    assert maria.get(remove).status_code == 200
    # the confirmation step: without it, nothing happens
    response = post(maria, remove, {})
    assert response.status_code == 422
    assert karin.get(f"/children/{family.public_id}").status_code == 200
    assert post(maria, remove, {"confirm": "y"}).status_code == 302
    assert karin.get(f"/children/{family.public_id}").status_code == 404
    assert karin.get(f"/children/{family.public_id}/team").status_code == 404
    assert karin.get(f"/children/{family.public_id}/meetings/{meeting_id}").status_code == 404
    # removing twice: the member is no longer current
    assert post(maria, remove, {"confirm": "y"}).status_code == 404


def test_a_member_can_leave_the_team_and_loses_access_at_once(app: Flask, db: Any, as_user) -> None:  # type: ignore[no-untyped-def]
    family, _maria, _meeting_id, _member_id = _team_with_meeting(app, as_user)
    karin = as_user("karin")
    assert "Leave the team" in karin.get(f"/children/{family.public_id}/team").get_data(as_text=True)
    assert karin.get(f"/children/{family.public_id}/team/leave").status_code == 200
    assert post(karin, f"/children/{family.public_id}/team/leave", {"confirm": "y"}).status_code == 302
    assert karin.get(f"/children/{family.public_id}").status_code == 404
    from coordination.teams.models import TeamMember

    with app.app_context():
        ended = database.session.scalar(select(TeamMember).where(TeamMember.child_id == family.child_id))
        assert ended is not None and ended.end_reason == "left"


# -- protected identity --------------------------------------------------------------------------------------
def test_staff_outside_a_protected_childs_team_never_see_the_meeting_place_or_staff_names(
    app: Flask, db: Any, as_user
) -> None:  # type: ignore[no-untyped-def]
    family, maria, meeting_id, _member_id = _team_with_meeting(app, as_user, protected=True)
    team_url = f"/children/{family.public_id}/team"
    meeting_url = f"/children/{family.public_id}/meetings/{meeting_id}"
    # lars: a unit relation only (Klass 4–6), the same agency as the meeting — outside the child's team
    lars = as_user("lars")
    for url in (team_url, meeting_url):
        html = lars.get(url).get_data(as_text=True)
        assert PLACE not in html
        assert "Karin" not in html and "Maria Holm" not in html
        assert "BUP öppenvårdsmottagning" not in html
        assert "withheld: protected identity" in html
    # the police never get there at all
    erik = as_user("erik")
    assert erik.get(team_url).status_code == 404 and erik.get(meeting_url).status_code == 404
    # the team sees it: the keeper and a member
    for client in (maria, as_user("karin")):
        for url in (team_url, meeting_url):
            html = client.get(url).get_data(as_text=True)
            assert PLACE in html
    assert "Karin Vik" in maria.get(team_url).get_data(as_text=True)


def test_a_protected_childs_meeting_place_stays_out_of_the_chronology(app: Flask, db: Any, as_user) -> None:  # type: ignore[no-untyped-def]
    from coordination.chronology.models import ChronologyEntry

    family, _maria, _meeting_id, _member_id = _team_with_meeting(app, as_user, protected=True)
    with app.app_context():
        entries = database.session.scalars(
            select(ChronologyEntry).where(ChronologyEntry.child_id == family.child_id)
        ).all()
        kinds = {entry.kind for entry in entries}
        assert {"team_member_added", "meeting_proposed"} <= kinds
        assert all(PLACE not in (entry.summary or "") and "Room 12" not in (entry.summary or "") for entry in entries)
        proposed = next(entry for entry in entries if entry.kind == "meeting_proposed")
        assert proposed.audience == "team"
        assert {area.area for area in proposed.areas} == {"safe", "achieving"}


# -- consent -------------------------------------------------------------------------------------------------
def test_a_member_whose_agency_loses_team_meeting_consent_no_longer_sees_other_agencies_team_information(
    app: Flask, db: Any, as_user
) -> None:  # type: ignore[no-untyped-def]
    family, maria, meeting_id, _member_id = _team_with_meeting(app, as_user)
    karin = as_user("karin")
    html = karin.get(f"/children/{family.public_id}/team").get_data(as_text=True)
    assert meeting_id in html and PLACE in html
    withdraw_team_consent(family, BUP)
    response = karin.get(f"/children/{family.public_id}/team")
    assert response.status_code == 200  # still a member: her own agency's part stays
    html = response.get_data(as_text=True)
    assert meeting_id not in html and PLACE not in html
    # how to reach the plan keeper stays (RULES.md §4), without the keeper's agency
    keeper = html.split('data-section="keeper"', 1)[1].split("</section>", 1)[0]
    assert "Maria Holm" in keeper and SCHOOL not in keeper
    # the planned meeting is said to be withheld, not "no meeting is planned" (issue 16)
    assert "A meeting is planned; it is withheld: your agency has no consent for team meetings." in html
    assert "No meeting is planned" not in html
    assert karin.get(f"/children/{family.public_id}/meetings/{meeting_id}").status_code == 404
    # the keeper's own agency still sees its own meeting
    assert meeting_id in maria.get(f"/children/{family.public_id}/team").get_data(as_text=True)


def test_the_picker_offers_only_agencies_with_team_meeting_consent_and_says_why_others_are_not(
    app: Flask, db: Any, as_user
) -> None:  # type: ignore[no-untyped-def]
    family = make_family(app)
    maria = as_user("maria")
    html = maria.get(f"/children/{family.public_id}/team").get_data(as_text=True)
    assert member_value(app, "Karin", BUP) in html
    assert member_value(app, "Johan", "Socialtjänsten Ekby") not in html
    assert "Not offered (no consent for team meetings)" in html and "Socialtjänsten Ekby" in html
    assert SCHOOL in html


def test_a_meeting_is_reached_only_through_its_own_child(app: Flask, db: Any, as_user) -> None:  # type: ignore[no-untyped-def]
    family, maria, meeting_id, _member_id = _team_with_meeting(app, as_user)
    other = make_family(app)
    assert maria.get(f"/children/{other.public_id}/meetings/{meeting_id}").status_code == 404
    assert maria.get(f"/children/{other.public_id}/meetings/{meeting_id}/cancel").status_code == 404
    assert maria.get(f"/children/{family.public_id}/meetings/nonsense").status_code == 404


def test_staff_outside_alvas_team_never_see_her_meeting_place_while_her_team_does(app: Flask, db: Any, as_user) -> None:  # type: ignore[no-untyped-def]
    """Alva (DEMO.md) has protected identity; maria is her Child Contact. A colleague of maria's in Alva's
    class (a unit relation, outside the team) never sees the place; a member added to the team does."""
    from agencies.operations import StaffData, add_membership, create_staff_person
    from coordination.access import SYSTEM_ACTOR
    from coordination.children.models import Child
    from coordination.children.operations import create_staff_account
    from tests.teams.support import Family, unit

    with app.app_context():
        alva = database.session.scalar(select(Child).where(Child.given_name == "Alva"))
        assert alva is not None and alva.has_protected_identity
        colleague = create_staff_person(SYSTEM_ACTOR, StaffData("Greta", "Kollega", title="teacher"))
        add_membership(SYSTEM_ACTOR, colleague, unit("Klass 1–3"))
        create_staff_account(SYSTEM_ACTOR, colleague, "greta.kollega", "a long test password 1")
        database.session.commit()
        family = Family(app, alva.id, alva.public_id, 0, "")
    maria = as_user("maria")
    place = "Room 4, Ekby skola, the quiet corridor"
    meeting_id = proposed_meeting(maria, family, _start(app), place)
    greta = app.test_client()
    from tests.helpers import login

    assert login(greta, "greta.kollega", "a long test password 1").status_code == 302
    for url in (f"/children/{alva.public_id}/team", f"/children/{alva.public_id}/meetings/{meeting_id}"):
        response = greta.get(url)
        assert response.status_code == 200
        assert place not in response.get_data(as_text=True)
        assert maria.get(url).status_code == 200 and place in maria.get(url).get_data(as_text=True)
    assert as_user("erik").get(f"/children/{alva.public_id}/team").status_code == 404
    # once on the team, the colleague sees it
    assert add_member(maria, family, "Greta", SCHOOL).status_code == 302
    assert place in greta.get(f"/children/{alva.public_id}/meetings/{meeting_id}").get_data(as_text=True)
