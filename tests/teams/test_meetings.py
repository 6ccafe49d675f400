"""Proposing, rescheduling, cancelling and recording a meeting, adding members and inviting the family
(issue 4, item 6). Negatives first: every bad input the issue lists is refused with a clear message next
to its field, the input kept, nothing written, never a 500; script renders escaped; a stale form is 409.
Then what the writes do: the audit rows, the chronology, the signals."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from coordination import events
from coordination.clock import now, today
from coordination.database import db as database
from coordination.errors import OperationError
from coordination.teams.models import Meeting, MeetingDecision, TeamMember
from tests.teams.support import (
    BUP,
    CLASS_4_6,
    SCHOOL,
    SOCIAL,
    add_member,
    counts,
    field_error,
    form_error,
    local,
    make_family,
    meeting_version,
    post,
    proposed_meeting,
)

SCRIPT = "<script>alert(1)</script>"


def _now(app: Flask):  # type: ignore[no-untyped-def]
    with app.app_context():
        return now()


# -- proposing: bad input ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("case", "field"),
    [
        ("in_the_past", "starts_at"),
        ("end_before_start", "ends_at"),
        ("no_place", "place"),
        ("place_too_long", "place"),
        ("agenda_too_long", "agenda"),
        ("unknown_area", "areas"),
    ],
)
def test_a_bad_meeting_proposal_is_refused_with_the_input_kept_and_nothing_written(
    app: Flask, db: Any, as_user, case: str, field: str
) -> None:  # type: ignore[no-untyped-def]
    family = make_family(app)
    maria = as_user("maria")
    start = _now(app) + timedelta(days=2)
    data: dict[str, Any] = {
        "starts_at": local(start),
        "ends_at": local(start + timedelta(hours=1)),
        "place": f"Room 7 {SCRIPT}",
        "agenda": f"Talk about reading {SCRIPT}",
        "areas": ["safe"],
    }
    if case == "in_the_past":
        data["starts_at"] = local(start - timedelta(days=4))
        data["ends_at"] = local(start - timedelta(days=4) + timedelta(hours=1))
    elif case == "end_before_start":
        data["ends_at"] = local(start - timedelta(hours=1))
    elif case == "no_place":
        data["place"] = "   "
    elif case == "place_too_long":
        data["place"] = "x" * 301
    elif case == "agenda_too_long":
        data["agenda"] = "x" * 4001
    elif case == "unknown_area":
        data["areas"] = ["safe", "nonsense"]
    before = counts(app, family.child_id)
    response = post(maria, f"/children/{family.public_id}/meetings/new", data)
    assert response.status_code == 422, case
    html = response.get_data(as_text=True)
    assert field_error(html, field), (case, field)
    assert "There is a problem" in html
    assert SCRIPT not in html
    if case not in ("no_place", "place_too_long"):
        assert "Room 7 &lt;script&gt;alert(1)&lt;/script&gt;" in html  # the input kept, escaped
    assert counts(app, family.child_id) == before


def test_script_in_every_meeting_field_is_stored_as_text_and_rendered_escaped(app: Flask, db: Any, as_user) -> None:  # type: ignore[no-untyped-def]
    family = make_family(app)
    maria = as_user("maria")
    meeting_id = proposed_meeting(maria, family, _now(app) + timedelta(days=2), place=f"Room {SCRIPT}")
    html = maria.get(f"/children/{family.public_id}/meetings/{meeting_id}").get_data(as_text=True)
    assert SCRIPT not in html and "Room &lt;script&gt;" in html
    html = maria.get(f"/children/{family.public_id}/team").get_data(as_text=True)
    assert SCRIPT not in html and "Room &lt;script&gt;" in html


def test_the_new_meeting_form_prefills_the_agenda_from_open_concerns_the_keeper_may_see(
    app: Flask, db: Any, as_user
) -> None:  # type: ignore[no-untyped-def]
    from coordination.concerns.models import Concern, ConcernArea
    from tests.teams.support import agency, give_consent, person

    family = make_family(app, consents=(BUP,))  # the school: team meetings only, no coordination consent
    with app.app_context():
        give_consent(family, SCHOOL, purposes=("team_meetings",))
        moment = now()
        for author, agency_name, area, state in (
            ("Lars", SCHOOL, "achieving", "open"),
            ("Lars", SCHOOL, "active", "closed"),
            ("Johan", SOCIAL, "safe", "open"),  # another agency's: no coordination consent for the school
        ):
            database.session.add(
                Concern(
                    child_id=family.child_id,
                    author_person_id=person(author).id,
                    author_agency_id=agency(agency_name).id,
                    routing="same_agency",
                    observed_on=today(),
                    observations="Seen",
                    state=state,
                    closed_at=moment if state == "closed" else None,
                    created_at=moment,
                    areas=[ConcernArea(area=area)],
                )
            )
        database.session.commit()
    html = as_user("maria").get(f"/children/{family.public_id}/meetings/new").get_data(as_text=True)
    agenda = html.split('id="agenda"', 1)[1].split("</textarea>", 1)[0]
    assert "Achieving" in agenda
    assert "Active" not in agenda and "Safe" not in agenda
    assert 'value="achieving" checked' in html or 'checked id="areas-2"' in html or "achieving" in html


# -- the outcome: bad input -------------------------------------------------------------------------------------
@pytest.fixture()
def held_meeting(app: Flask, db: Any, as_user, clock):  # type: ignore[no-untyped-def]
    """A meeting proposed for in two days, with karin (BUP) on the team; the clock is then moved past
    its start, so the outcome can be recorded."""
    family = make_family(app)
    maria = as_user("maria")
    assert add_member(maria, family, "Karin", BUP).status_code == 302
    start = _now(app) + timedelta(days=2)
    meeting_id = proposed_meeting(maria, family, start)
    return family, maria, meeting_id, start


def _outcome_data(app: Flask, family, version: int, **overrides: Any) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    from agencies.models import Agency, StaffPerson, Unit

    with app.app_context():
        school = database.session.scalar(select(Agency.public_id).where(Agency.name == SCHOOL))
        unit = database.session.scalar(select(Unit.public_id).where(Unit.name == CLASS_4_6))
        lars = database.session.scalar(select(StaffPerson.public_id).where(StaffPerson.given_name == "Lars"))
        karin = database.session.scalar(select(StaffPerson.public_id).where(StaffPerson.given_name == "Karin"))
    data: dict[str, Any] = {
        "version": str(version),
        "attendees": [f"s.{karin}", "child"],
        "child_views": f"Likes maths {SCRIPT}",
        "family_views": f"Worried about mornings {SCRIPT}",
        "disagreements": f"None {SCRIPT}",
        "notes": f"Good meeting {SCRIPT}",
        "decisions-0-text": f"Reading support twice a week {SCRIPT}",
        "decisions-0-areas": ["achieving"],
        "decisions-0-owner_agency": school,
        "decisions-0-owner_unit": unit,
        "decisions-0-owner_person": lars,
        "decisions-0-due_on": (today_in(app) + timedelta(days=30)).isoformat(),
        "decisions-1-text": "",
        "decisions-2-text": "",
    }
    data.update(overrides)
    return data


def today_in(app: Flask):  # type: ignore[no-untyped-def]
    with app.app_context():
        return today()


def test_recording_a_meeting_that_has_not_started_is_refused(app: Flask, db: Any, held_meeting) -> None:  # type: ignore[no-untyped-def]
    family, maria, meeting_id, _start = held_meeting
    before = counts(app, family.child_id)
    path = f"/children/{family.public_id}/meetings/{meeting_id}/outcome"
    response = post(maria, path, _outcome_data(app, family, 1))
    assert response.status_code == 422
    assert form_error(response.get_data(as_text=True))
    assert counts(app, family.child_id) == before


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ("owner_not_on_team", "decisions-0-owner_agency"),
        ("due_before_meeting", "decisions-0-due_on"),
        ("notes_too_long", "notes"),
        ("decision_too_long", "decisions-0-text"),
        ("decision_without_text", "decisions-0-text"),
        ("unknown_attendee", "attendees"),
    ],
)
def test_a_bad_outcome_is_refused_with_the_input_kept_and_nothing_written(
    app: Flask, db: Any, as_user, held_meeting, clock, override: str, field: str
) -> None:  # type: ignore[no-untyped-def]
    from agencies.models import Agency

    family, _maria, meeting_id, start = held_meeting
    clock.advance(timedelta(days=2, hours=2))
    maria = as_user("maria")  # the clock moved past the session's lifetime
    data = _outcome_data(app, family, 1)
    if override == "owner_not_on_team":
        with app.app_context():
            data["decisions-0-owner_agency"] = database.session.scalar(
                select(Agency.public_id).where(Agency.name == SOCIAL)
            )
        data.pop("decisions-0-owner_unit")
        data.pop("decisions-0-owner_person")
    elif override == "due_before_meeting":
        data["decisions-0-due_on"] = (start - timedelta(days=1)).date().isoformat()
    elif override == "notes_too_long":
        data["notes"] = "x" * 4001
    elif override == "decision_too_long":
        data["decisions-0-text"] = "x" * 4001
    elif override == "decision_without_text":
        data["decisions-0-text"] = "  "
    elif override == "unknown_attendee":
        data["attendees"] = ["s.nobody"]
    before = counts(app, family.child_id)
    response = post(maria, f"/children/{family.public_id}/meetings/{meeting_id}/outcome", data)
    assert response.status_code == 422, override
    html = response.get_data(as_text=True)
    assert field_error(html, field), (override, field, html[html.find("There is a problem") :][:600])
    assert SCRIPT not in html
    if override != "notes_too_long":
        assert "Good meeting &lt;script&gt;" in html  # the input kept, escaped
    assert counts(app, family.child_id) == before


def test_the_operation_refuses_a_decision_owner_agency_not_on_the_team(
    app: Flask, db: Any, held_meeting, clock
) -> None:  # type: ignore[no-untyped-def]
    from coordination.teams.operations import DecisionData, OutcomeData, record_meeting_outcome
    from tests.teams.support import agency

    family, _maria, meeting_id, _start = held_meeting
    clock.advance(timedelta(days=3))
    with app.test_request_context():
        actor = _actor_of("maria")
        meeting = database.session.scalar(select(Meeting).where(Meeting.public_id == meeting_id))
        data = OutcomeData(decisions=[DecisionData("Help", owner_agency_id=agency(SOCIAL).id)])
        with pytest.raises(OperationError) as refused:
            record_meeting_outcome(actor, family.child(), meeting, meeting.version, data)
        assert refused.value.field == "decisions-0-owner_agency"
        database.session.rollback()


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
    agency = memberships[0].agency
    return Actor(account, agency, tuple(m for m in memberships if m.agency_id == agency.id))


def test_recording_the_outcome_writes_attendance_views_and_decisions_as_draft_actions(
    app: Flask, db: Any, as_user, held_meeting, clock
) -> None:  # type: ignore[no-untyped-def]
    from coordination.chronology.models import ChronologyEntry

    family, _maria, meeting_id, _start = held_meeting
    clock.advance(timedelta(days=2, hours=2))
    maria = as_user("maria")  # the clock moved past the session's lifetime
    response = post(maria, f"/children/{family.public_id}/meetings/{meeting_id}/outcome", _outcome_data(app, family, 1))
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    html = maria.get(f"/children/{family.public_id}/meetings/{meeting_id}").get_data(as_text=True)
    assert SCRIPT not in html
    assert "Reading support twice a week &lt;script&gt;" in html
    assert (
        "Draft action for the Child's Plan: Ekby skola, Klass 4–6, Lars Ek" in html
        and "Lars Ek" in html
        and "Karin Vik" in html
    )
    with app.app_context():
        meeting = database.session.scalar(select(Meeting).where(Meeting.public_id == meeting_id))
        assert meeting is not None and meeting.state == "held" and meeting.version == 2
        assert {(a.staff_person_id is not None, a.is_child) for a in meeting.attendees} == {
            (True, False),
            (False, True),
        }
        (decision,) = database.session.scalars(
            select(MeetingDecision).where(MeetingDecision.meeting_id == meeting.id)
        ).all()
        assert decision.is_draft_action and decision.area_codes == {"achieving"}
        kinds = {
            (e.kind, e.audience)
            for e in database.session.scalars(
                select(ChronologyEntry).where(ChronologyEntry.child_id == family.child_id)
            )
        }
        assert {("meeting_held", "team"), ("decision_recorded", "team")} <= kinds
    # recorded once: a second recording is refused
    again = post(maria, f"/children/{family.public_id}/meetings/{meeting_id}/outcome", _outcome_data(app, family, 2))
    assert again.status_code == 422


# -- reschedule, cancel, stale versions --------------------------------------------------------------------------
def test_a_stale_reschedule_is_409_showing_the_current_state_with_the_users_text_kept(
    app: Flask, db: Any, as_user
) -> None:  # type: ignore[no-untyped-def]
    family = make_family(app)
    maria = as_user("maria")
    start = _now(app) + timedelta(days=5)
    meeting_id = proposed_meeting(maria, family, start)
    path = f"/children/{family.public_id}/meetings/{meeting_id}/reschedule"
    first = {
        "version": "1",
        "starts_at": local(start + timedelta(days=1)),
        "ends_at": local(start + timedelta(days=1, hours=1)),
        "place": "The library",
    }
    assert post(maria, path, first).status_code == 302
    assert meeting_version(app, meeting_id) == 2
    stale = dict(
        first,
        place="The gym hall",
        starts_at=local(start + timedelta(days=2)),
        ends_at=local(start + timedelta(days=2, hours=1)),
    )
    before = counts(app, family.child_id)
    response = post(maria, path, stale)
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "The gym hall" in html  # the user's text kept
    assert "data-place>The library<" in html  # the current state shown
    assert re.search(r'name="version" type="hidden" value="2"|value="2"[^>]*name="version"', html)
    assert counts(app, family.child_id) == before


def test_rescheduling_into_the_past_or_with_the_end_first_is_refused(app: Flask, db: Any, as_user) -> None:  # type: ignore[no-untyped-def]
    family = make_family(app)
    maria = as_user("maria")
    start = _now(app) + timedelta(days=5)
    meeting_id = proposed_meeting(maria, family, start)
    path = f"/children/{family.public_id}/meetings/{meeting_id}/reschedule"
    before = counts(app, family.child_id)
    past = start - timedelta(days=10)
    response = post(
        maria,
        path,
        {"version": "1", "starts_at": local(past), "ends_at": local(past + timedelta(hours=1)), "place": "x"},
    )
    assert response.status_code == 422 and field_error(response.get_data(as_text=True), "starts_at")
    response = post(
        maria,
        path,
        {"version": "1", "starts_at": local(start), "ends_at": local(start - timedelta(hours=1)), "place": "x"},
    )
    assert response.status_code == 422 and field_error(response.get_data(as_text=True), "ends_at")
    assert counts(app, family.child_id) == before and meeting_version(app, meeting_id) == 1


def test_cancelling_needs_a_reason_and_confirmation_and_tells_the_team(app: Flask, db: Any, as_user) -> None:  # type: ignore[no-untyped-def]
    family = make_family(app)
    maria = as_user("maria")
    meeting_id = proposed_meeting(maria, family, _now(app) + timedelta(days=5))
    path = f"/children/{family.public_id}/meetings/{meeting_id}/cancel"
    assert maria.get(path).status_code == 200
    before = counts(app, family.child_id)
    response = post(maria, path, {"version": "1", "reason": "  ", "confirm": "y"})
    assert response.status_code == 422 and field_error(response.get_data(as_text=True), "reason")
    response = post(maria, path, {"version": "1", "reason": f"Ill {SCRIPT}"})
    assert response.status_code == 422 and field_error(response.get_data(as_text=True), "confirm")
    assert SCRIPT not in response.get_data(as_text=True)
    response = post(maria, path, {"version": "1", "reason": "x" * 1001, "confirm": "y"})
    assert response.status_code == 422 and field_error(response.get_data(as_text=True), "reason")
    assert counts(app, family.child_id) == before
    changes: list[str] = []

    def listen(_sender, meeting, change):  # type: ignore[no-untyped-def]
        changes.append(change)

    events.meeting_changed.connect(listen)
    try:
        assert post(maria, path, {"version": "1", "reason": f"Ill {SCRIPT}", "confirm": "y"}).status_code == 302
    finally:
        events.meeting_changed.disconnect(listen)
    assert changes == ["cancelled"]
    html = maria.get(f"/children/{family.public_id}/meetings/{meeting_id}").get_data(as_text=True)
    assert "Cancelled" in html and "Ill &lt;script&gt;" in html and SCRIPT not in html


# -- members and family -----------------------------------------------------------------------------------------
def test_adding_a_member_without_consent_a_deactivated_person_or_someone_already_on_the_team_is_refused(
    app: Flask, db: Any, as_user
) -> None:  # type: ignore[no-untyped-def]
    from agencies.operations import StaffData, add_membership, create_staff_person, deactivate_staff_person
    from coordination.access import SYSTEM_ACTOR
    from coordination.teams.operations import MemberData, add_team_member
    from tests.teams.support import membership, unit

    family = make_family(app)
    maria = as_user("maria")
    before = counts(app, family.child_id)
    # through the page: social services (no consent for team meetings) is not offered
    from tests.teams.support import member_value

    response = post(maria, f"/children/{family.public_id}/team/members", {"member": member_value(app, "Johan", SOCIAL)})
    assert response.status_code == 422 and field_error(response.get_data(as_text=True), "member")
    assert counts(app, family.child_id) == before
    from flask_babel import force_locale

    with app.test_request_context(), force_locale("en"):  # the refusals are matched in English
        actor = _actor_of("maria")
        child = family.child()
        johan = membership("Johan", SOCIAL)
        with pytest.raises(OperationError, match="no consent for team meetings"):
            add_team_member(actor, child, MemberData(johan.staff_person_id, johan.unit_id))
        gone = create_staff_person(SYSTEM_ACTOR, StaffData("Gone", "Person"))
        gone_membership = add_membership(SYSTEM_ACTOR, gone, unit("BUP öppenvårdsmottagning"))
        deactivate_staff_person(SYSTEM_ACTOR, gone)
        database.session.flush()
        with pytest.raises(OperationError):
            add_team_member(actor, child, MemberData(gone.id, gone_membership.unit_id))
        karin = membership("Karin", BUP)
        add_team_member(actor, child, MemberData(karin.staff_person_id, karin.unit_id))
        with pytest.raises(OperationError, match="already on the team"):
            add_team_member(actor, child, MemberData(karin.staff_person_id, karin.unit_id))
        database.session.rollback()


def test_adding_a_member_writes_the_audit_the_chronology_and_the_signal(app: Flask, db: Any, as_user) -> None:  # type: ignore[no-untyped-def]
    from coordination.chronology.models import ChronologyEntry
    from coordination.models import AuditEvent

    family = make_family(app)
    maria = as_user("maria")
    added: list[TeamMember] = []

    def listen(_sender, member):  # type: ignore[no-untyped-def]
        added.append(member.public_id)

    events.team_member_added.connect(listen)
    try:
        assert add_member(maria, family, "Karin", BUP).status_code == 302
    finally:
        events.team_member_added.disconnect(listen)
    assert len(added) == 1
    with app.app_context():
        row = database.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "add_team_member", AuditEvent.child_id == family.child_id)
        )
        assert row is not None and row.legal_basis == "relation_child_contact" and row.object_id == added[0]
        entry = database.session.scalar(
            select(ChronologyEntry).where(
                ChronologyEntry.child_id == family.child_id, ChronologyEntry.kind == "team_member_added"
            )
        )
        assert entry is not None and entry.audience == "team" and not entry.summary


def test_the_family_can_be_invited_and_the_child_only_by_age_or_maturity(app: Flask, db: Any, as_user) -> None:  # type: ignore[no-untyped-def]
    from tests.teams.support import guardian_name

    young = make_family(app, age=8)
    maria = as_user("maria")
    path = f"/children/{young.public_id}/team/family"
    before = counts(app, young.child_id)
    response = post(maria, path, {"invitee": "child"})  # too young: not offered
    assert response.status_code == 422 and field_error(response.get_data(as_text=True), "invitee")
    assert counts(app, young.child_id) == before
    assert post(maria, path, {"invitee": young.guardian_public_id}).status_code == 302
    html = maria.get(f"/children/{young.public_id}/team").get_data(as_text=True)
    assert guardian_name(app, young.guardian_id) in html.split('data-section="family"', 1)[1]
    older = make_family(app, age=13)
    assert post(maria, f"/children/{older.public_id}/team/family", {"invitee": "child"}).status_code == 302
    assert (
        "(the child)"
        not in maria.get(f"/children/{older.public_id}/team")
        .get_data(as_text=True)
        .split('data-form="invite-family"', 1)[-1]
        .split("</form>", 1)[0]
    )


def test_a_members_role_note_is_limited_and_rendered_escaped(app: Flask, db: Any, as_user) -> None:  # type: ignore[no-untyped-def]
    from tests.teams.support import member_value

    family = make_family(app)
    maria = as_user("maria")
    path = f"/children/{family.public_id}/team/members"
    before = counts(app, family.child_id)
    response = post(maria, path, {"member": member_value(app, "Karin", BUP), "role_note": "x" * 201})
    assert response.status_code == 422 and field_error(response.get_data(as_text=True), "role_note")
    response = post(maria, path, {"member": "", "role_note": f"Psychologist {SCRIPT}"})
    assert response.status_code == 422 and field_error(response.get_data(as_text=True), "member")
    assert SCRIPT not in response.get_data(as_text=True)
    assert "Psychologist &lt;script&gt;" in response.get_data(as_text=True)
    assert counts(app, family.child_id) == before
    assert (
        post(maria, path, {"member": member_value(app, "Karin", BUP), "role_note": f"Psy {SCRIPT}"}).status_code == 302
    )
    html = maria.get(f"/children/{family.public_id}/team").get_data(as_text=True)
    assert SCRIPT not in html and "Psy &lt;script&gt;" in html
