"""Logging in and out (RULES.md §1, §10): server-side sessions that logout and deactivation end at once,
no remember-me, idle and absolute timeouts, login back-off in the database, demo safety, families never
with a password outside demo and test mode, CSRF, the language switch and bad input on the login form.

Negatives first in every group. Swedish is the default language, so the messages asserted are Swedish.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from agencies.models import StaffPerson, Unit
from agencies.operations import (
    StaffData,
    add_membership,
    create_staff_person,
    deactivate_staff_person,
)
from coordination.access import SYSTEM_ACTOR
from coordination.children.operations import create_staff_account
from coordination.database import db as database
from coordination.demo.ekby import AGENCIES, ANALYST, FAMILY_GUARDIANS, PERSONAS, PLATFORM_ADMIN, STAFF, YOUNG_PEOPLE
from coordination.errors import OperationError
from coordination.models import Account, AuditEvent, LoginSession, LoginThrottle
from tests.helpers import csrf_token, login, logout, post_form

WRONG = "Användarnamnet eller lösenordet är fel."
TOO_MANY = "För många försök"
INACTIVE = "Du loggades ut eftersom du varit inaktiv en stund"
LOGIN_HEADING_SV = "Logga in i Barnkompass"
LOGIN_HEADING_EN = "Log in to Barnkompass"
PERSONA_PICKER = "Prova en demoperson"
DEMO_BANNER = "demokommunen Ekby"
CSRF_MESSAGE = "Inget sparades"
SCRIPT = "<script>alert(1)</script>"
ESCAPED_SCRIPT = "&lt;script&gt;alert(1)&lt;/script&gt;"


# -- small helpers ---------------------------------------------------------------------------------------
def page(response: Any) -> str:
    return response.get_data(as_text=True)


def assert_sent_to_login(response: Any) -> None:
    assert response.status_code == 302, response.status_code
    assert response.headers["Location"].startswith("/login"), response.headers["Location"]


def assert_logged_in(client: FlaskClient) -> str:
    response = client.get("/")
    assert response.status_code == 200, response.status_code
    return page(response)


def count(app: Flask, model: type, *where: Any) -> int:
    with app.app_context():
        return database.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def writes_audited(app: Flask) -> int:
    """Audit rows of writes (reads such as listing My children are audited too, but are not writes)."""
    return count(app, AuditEvent, AuditEvent.outcome == "allowed", AuditEvent.action.notin_(READ_ACTIONS))


READ_ACTIONS = ("list_child", "view_child_overview", "view_child_consent")


def account_id(app: Flask, username: str) -> int:
    with app.app_context():
        found = database.session.scalar(select(Account.id).where(Account.username == username))
        assert found is not None, username
        return found


def sessions_of(app: Flask, username: str) -> int:
    return count(app, LoginSession, LoginSession.account_id == account_id(app, username))


def throttle_rows(app: Flask, username: str | None = None) -> int:
    if username is None:
        return count(app, LoginThrottle)
    from coordination.auth import _username_key

    with app.app_context():
        key = _username_key(username)
    return count(app, LoginThrottle, LoginThrottle.username_key == key)


def csrf_value(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"', html)
    assert match
    return match.group(1) or match.group(2)


def session_cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie("bk_session")
    assert cookie is not None, "no session cookie"
    return cookie.value


def session_token(app: Flask, client: FlaskClient) -> str | None:
    """The opaque server-side session token the signed Flask session cookie carries."""
    data = app.session_interface.get_signing_serializer(app).loads(session_cookie(client))  # type: ignore[attr-defined]
    return data.get("_user_id")


def fresh_client_with(app: Flask, cookies: dict[str, str]) -> FlaskClient:
    other = app.test_client()
    for name, value in cookies.items():
        other.set_cookie(name, value)
    return other


def fix_clock(clock: Any) -> datetime:
    moment = datetime.now(UTC).replace(microsecond=0)
    clock.set(moment)
    return moment


def staff_person(username: str) -> StaffPerson:
    """Inside an app context: the staff person behind a username."""
    person = database.session.scalar(
        select(StaffPerson).join(Account, Account.staff_person_id == StaffPerson.id).where(Account.username == username)
    )
    assert person is not None, username
    return person


# -- 1. login ------------------------------------------------------------------------------------------
def test_a_wrong_password_is_refused_with_a_clear_message_keeping_the_username(app: Flask, client: FlaskClient) -> None:
    sessions_before = count(app, LoginSession)
    logins_before = count(app, AuditEvent, AuditEvent.action == "login")

    response = login(client, "anna", "not-the-password-9f3")

    assert response.status_code == 422
    html = page(response)
    assert WRONG in html
    assert 'value="anna"' in html, "the username is kept in the form"
    assert "not-the-password-9f3" not in html, "the password is never echoed"
    assert count(app, LoginSession) == sessions_before
    assert count(app, AuditEvent, AuditEvent.action == "login") == logins_before
    assert_sent_to_login(client.get("/"))


def test_an_unknown_user_gets_exactly_the_same_answer_as_a_wrong_password(app: Flask, client: FlaskClient) -> None:
    sessions_before = count(app, LoginSession)

    unknown = login(client, "nobody-at-all", "demo")
    wrong = login(app.test_client(), "anna", "wrong")

    assert unknown.status_code == wrong.status_code == 422
    assert WRONG in page(unknown) and WRONG in page(wrong)
    assert 'value="nobody-at-all"' in page(unknown)
    assert page(unknown).replace("nobody-at-all", "anna") == page(wrong).replace(
        csrf_value(page(wrong)), csrf_value(page(unknown))
    ), "nothing tells a known user from an unknown one"
    assert count(app, LoginSession) == sessions_before


def test_an_empty_form_asks_for_username_and_password_and_writes_nothing(app: Flask, client: FlaskClient) -> None:
    token = csrf_token(client, "/login")
    response = client.post("/login", data={"username": "", "password": "", "csrf_token": token})

    assert response.status_code == 422
    assert "Skriv ditt användarnamn" in page(response)
    assert throttle_rows(app) == 0 and count(app, LoginSession, LoginSession.account_id == account_id(app, "anna")) == 0


def test_a_correct_login_lands_on_home_showing_name_agency_units_and_roles(app: Flask, client: FlaskClient) -> None:
    maria = account_id(app, "maria")
    logins_before = count(app, AuditEvent, AuditEvent.action == "login", AuditEvent.actor_account_id == maria)

    response = login(client, "maria")

    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    html = assert_logged_in(client)
    assert "Maria Holm" in html
    assert "Ekby skola" in html and "Agerar för" in html
    assert "Klass 1–3, Klass 4–6, Klass 7–9" in html
    assert "Medarbetare" in html and "Verksamhetsadministratör" in html
    assert sessions_of(app, "maria") == 1
    assert (
        count(app, AuditEvent, AuditEvent.action == "login", AuditEvent.actor_account_id == maria) == logins_before + 1
    )


def test_the_login_audit_row_names_the_acting_agency(app: Flask, client: FlaskClient) -> None:
    from agencies.models import Agency

    login(client, "ida")

    with app.app_context():
        event = database.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "login").order_by(AuditEvent.id.desc())
        ).first()
        social_services = database.session.scalar(select(Agency.id).where(Agency.name == "Socialtjänsten Ekby"))
        assert event is not None
        assert event.actor_kind == "staff"
        assert event.actor_account_id == account_id(app, "ida")
        assert event.acting_agency_id == social_services
        assert event.outcome == "allowed"
    html = assert_logged_in(client)
    assert "Ida Ström" in html and "Mottagningen" in html and html.count("Mottagning") >= 2


# -- 2. every persona ------------------------------------------------------------------------------------
_AGENCY_OF_UNIT = {unit: name for name, _kind, _level, units in AGENCIES for unit in units}


def _expected_home(username: str) -> tuple[list[str], list[str]]:
    """What the persona's home page must say, and what it must not (from the demo data, not the DB)."""
    staff = {row[0]: row for row in STAFF}
    if username in staff:
        _user, given, family, _title, memberships = staff[username]
        agency = _AGENCY_OF_UNIT[memberships[0][0]]
        must = ['<h1 class="ds-heading" data-size="lg">Mina barn</h1>', f"{given} {family}", "Agerar för", agency]
        if any("agency_admin" in roles for _unit, roles in memberships):
            must.append("Administration av verksamheten")
        return must, ["Plattformsadministration", "Uppföljningsstatistik"]
    if username == PLATFORM_ADMIN[0]:
        return ["Plattformsadministration", PLATFORM_ADMIN[1]], ["Agerar för", "Uppföljningsstatistik"]
    if username == ANALYST[0]:
        return ["Uppföljningsstatistik", ANALYST[1]], ["Agerar för", "Plattformsadministration"]
    guardians = {row.key: row for row in FAMILY_GUARDIANS}
    if username in guardians:
        row = guardians[username]
        return [f"Välkommen, {row.given_name}", f"{row.given_name} {row.family_name}"], ["Agerar för", "Hej "]
    young = {row[0]: row for row in YOUNG_PEOPLE}
    assert username in young, f"{username} is a persona this test does not know"
    return [f"Hej {young[username][1]}"], ["Agerar för", "Välkommen,"]


@pytest.mark.parametrize("username", PERSONAS)
def test_every_demo_persona_logs_in_and_lands_on_their_own_home_page(
    app: Flask, client: FlaskClient, username: str
) -> None:
    must, must_not = _expected_home(username)

    response = login(client, username)

    assert response.status_code == 302 and response.headers["Location"] == "/"
    html = assert_logged_in(client)
    for text in must:
        assert text in html, f"{username}: {text!r} missing"
    for text in must_not:
        assert text not in html, f"{username}: {text!r} should not be there"


# -- 3. logout -------------------------------------------------------------------------------------------
def test_logout_by_get_is_not_allowed_and_changes_nothing(app: Flask, client: FlaskClient) -> None:
    login(client, "anna")

    response = client.get("/logout")

    assert response.status_code == 405
    assert sessions_of(app, "anna") == 1
    assert_logged_in(client)


def test_logout_without_a_csrf_token_is_refused_and_keeps_the_session(app: Flask, client: FlaskClient) -> None:
    login(client, "anna")

    response = client.post("/logout", data={})

    assert response.status_code == 400
    assert sessions_of(app, "anna") == 1


def test_logout_ends_the_server_side_session_and_the_old_cookie_is_worthless(app: Flask, client: FlaskClient) -> None:
    login(client, "anna")
    old_cookie = session_cookie(client)
    assert sessions_of(app, "anna") == 1

    response = logout(client)

    assert_sent_to_login(response)
    assert "Du är utloggad." in page(client.get("/login"))
    assert sessions_of(app, "anna") == 0
    assert_sent_to_login(client.get("/"))
    replay = fresh_client_with(app, {"bk_session": old_cookie})
    assert_sent_to_login(replay.get("/"))


# -- 4. session renewal at login -------------------------------------------------------------------------
def test_a_cookie_planted_before_login_does_not_carry_over(app: Flask, client: FlaskClient) -> None:
    client.get("/login")
    with client.session_transaction() as planted:
        planted["_user_id"] = "attacker-chosen-token"
        planted["planted"] = "by an attacker"
    before_login = session_cookie(client)
    assert_sent_to_login(client.get("/"))  # a made-up token is nobody

    login(client, "anna")

    assert_logged_in(client)
    token = session_token(app, client)
    assert token and token != "attacker-chosen-token"
    with client.session_transaction() as renewed:
        assert "planted" not in renewed
    assert_sent_to_login(fresh_client_with(app, {"bk_session": before_login}).get("/"))


def test_every_login_gets_a_new_session_token(app: Flask, client: FlaskClient) -> None:
    login(client, "anna")
    first = session_token(app, client)
    logout(client)
    login(client, "anna")
    second = session_token(app, client)
    other = app.test_client()
    login(other, "anna")
    third = session_token(app, other)

    assert first and second and third
    assert len({first, second, third}) == 3
    assert sessions_of(app, "anna") == 2, "the logged-out session is gone; two live ones remain"


# -- 5. deactivation ends sessions at once ----------------------------------------------------------------
def test_a_deactivated_teacher_is_logged_out_on_the_very_next_request(app: Flask, client: FlaskClient) -> None:
    login(client, "lars")
    assert_logged_in(client)
    old_cookie = session_cookie(client)

    with app.app_context():
        deactivate_staff_person(SYSTEM_ACTOR, staff_person("lars"))
        database.session.commit()

    assert sessions_of(app, "lars") == 0
    assert_sent_to_login(client.get("/"))
    assert_sent_to_login(fresh_client_with(app, {"bk_session": old_cookie}).get("/"))
    again = login(app.test_client(), "lars")
    assert again.status_code == 422 and WRONG in page(again)
    assert sessions_of(app, "lars") == 0


def test_deactivating_twice_is_refused_and_writes_nothing(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        deactivate_staff_person(SYSTEM_ACTOR, staff_person("lars"))
        database.session.commit()
    audit_before = writes_audited(app)
    with app.app_context():
        first_deactivated_at = staff_person("lars").deactivated_at

    with app.app_context():
        with pytest.raises(OperationError):
            deactivate_staff_person(SYSTEM_ACTOR, staff_person("lars"))
        database.session.commit()

    assert writes_audited(app) == audit_before
    with app.app_context():
        person = staff_person("lars")
        assert person.deactivated_at == first_deactivated_at and not person.is_active


# -- 6. no remember-me --------------------------------------------------------------------------------------
def test_login_sets_no_remember_me_cookie(app: Flask, client: FlaskClient) -> None:
    login(client, "anna")

    assert_logged_in(client)
    assert client.get_cookie("remember_token") is None
    cookie = client.get_cookie("bk_session")
    assert cookie is not None and cookie.http_only
    assert cookie.expires is None, "the session cookie is not persistent"


@pytest.mark.parametrize("kind", ["signed old session token", "garbage"])
def test_a_remember_me_cookie_of_a_deactivated_user_gets_the_login_page(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    from flask_login.utils import encode_cookie

    login(client, "lars")
    old_token = session_token(app, client)
    old_cookie = session_cookie(client)
    with app.app_context():
        deactivate_staff_person(SYSTEM_ACTOR, staff_person("lars"))
        database.session.commit()
        forged = encode_cookie(str(old_token)) if kind != "garbage" else "lars|0123456789abcdef"

    remembered = fresh_client_with(app, {"remember_token": forged})
    assert_sent_to_login(remembered.get("/"))
    login_page = remembered.get("/login")
    assert login_page.status_code == 200 and LOGIN_HEADING_SV in page(login_page)
    both = fresh_client_with(app, {"remember_token": forged, "bk_session": old_cookie})
    assert_sent_to_login(both.get("/"))
    assert sessions_of(app, "lars") == 0


# -- 7. idle timeout and absolute lifetime ----------------------------------------------------------------
def test_idle_for_31_minutes_is_logged_out_with_a_notice(app: Flask, client: FlaskClient, clock: Any) -> None:
    fix_clock(clock)
    login(client, "anna")

    clock.advance(timedelta(minutes=31))
    response = client.get("/")

    assert_sent_to_login(response)
    assert INACTIVE in page(client.get(response.headers["Location"]))
    assert sessions_of(app, "anna") == 0


def test_idle_for_29_minutes_is_still_logged_in(app: Flask, client: FlaskClient, clock: Any) -> None:
    fix_clock(clock)
    login(client, "anna")

    clock.advance(timedelta(minutes=29))

    assert "Anna Berg" in assert_logged_in(client)
    clock.advance(timedelta(minutes=29))
    assert "Anna Berg" in assert_logged_in(client), "activity renews the idle timer"


def test_activity_every_20_minutes_holds_the_session_until_12_hours_but_not_beyond(
    app: Flask, client: FlaskClient, clock: Any
) -> None:
    fix_clock(clock)
    login(client, "anna")
    elapsed = timedelta(0)
    while elapsed + timedelta(minutes=20) <= timedelta(hours=11, minutes=50):
        clock.advance(timedelta(minutes=20))
        elapsed += timedelta(minutes=20)
        assert_logged_in(client)
    clock.advance(timedelta(hours=11, minutes=50) - elapsed)
    assert "Anna Berg" in assert_logged_in(client)

    clock.advance(timedelta(minutes=20))  # 12 h 10 min after login, 20 minutes after the last request

    assert_sent_to_login(client.get("/"))
    assert sessions_of(app, "anna") == 0


# -- 8. login back-off ---------------------------------------------------------------------------------------
def _attempts(client: FlaskClient, username: str, password: str, times: int) -> list[Any]:
    return [login(client, username, password) for _ in range(times)]


def test_after_five_wrong_passwords_even_the_right_one_is_held_back_until_the_delay_passes(
    app: Flask, client: FlaskClient, clock: Any
) -> None:
    fix_clock(clock)

    for response in _attempts(client, "anna", "wrong", 5):
        assert response.status_code == 422 and WRONG in page(response)
    blocked = login(client, "anna", "demo")
    assert blocked.status_code == 422
    assert TOO_MANY in page(blocked) and WRONG not in page(blocked)
    still_blocked = login(client, "anna", "demo")
    assert TOO_MANY in page(still_blocked)
    assert sessions_of(app, "anna") == 0
    assert throttle_rows(app, "anna") == 1
    assert_sent_to_login(client.get("/"))

    clock.advance(timedelta(seconds=5))
    response = login(client, "anna", "demo")

    assert response.status_code == 302
    assert_logged_in(client)
    assert throttle_rows(app, "anna") == 0, "a successful login clears the back-off"


def test_the_back_off_grows_with_further_failures_and_is_keyed_case_insensitively(
    app: Flask, client: FlaskClient, clock: Any
) -> None:
    fix_clock(clock)
    _attempts(client, "anna", "wrong", 5)
    clock.advance(timedelta(seconds=2))
    assert WRONG in page(login(client, "ANNA", "wrong"))  # sixth failure: blocked for 2 s
    clock.advance(timedelta(seconds=1))
    assert TOO_MANY in page(login(client, " Anna ", "demo"))
    clock.advance(timedelta(seconds=2))
    assert login(client, "anna", "demo").status_code == 302
    with app.app_context():
        assert database.session.scalar(select(func.count()).select_from(LoginThrottle)) == 0


def test_an_unknown_username_backs_off_the_same_way(app: Flask, client: FlaskClient, clock: Any) -> None:
    fix_clock(clock)

    for response in _attempts(client, "no-such-person", "demo", 5):
        assert response.status_code == 422 and WRONG in page(response)
    blocked = login(client, "no-such-person", "demo")

    assert blocked.status_code == 422 and TOO_MANY in page(blocked)
    assert throttle_rows(app, "no-such-person") == 1
    clock.advance(timedelta(seconds=5))
    after = login(client, "no-such-person", "demo")
    assert after.status_code == 422 and WRONG in page(after)


def test_the_back_off_of_one_username_does_not_block_another(app: Flask, client: FlaskClient, clock: Any) -> None:
    fix_clock(clock)
    _attempts(client, "anna", "wrong", 6)

    response = login(app.test_client(), "sara", "demo")

    assert response.status_code == 302
    assert throttle_rows(app, "anna") == 1 and throttle_rows(app, "sara") == 0


# -- 9. demo safety --------------------------------------------------------------------------------------
def test_demo_personas_cannot_log_in_when_demo_logins_are_off(committed_db: Any) -> None:
    strict = committed_db(ALLOW_DEMO_LOGINS_IN_TEST=False)
    client = strict.test_client()

    response = login(client, "anna", "demo")

    assert response.status_code == 422 and WRONG in page(response)
    assert sessions_of(strict, "anna") == 0
    assert_sent_to_login(client.get("/"))


def test_outside_demo_mode_there_is_no_persona_picker_and_no_demo_route(app: Flask, client: FlaskClient) -> None:
    login_page = page(client.get("/login"))
    assert PERSONA_PICKER not in login_page and "/demo/login/" not in login_page
    assert DEMO_BANNER not in login_page

    token = csrf_token(client, "/login")
    response = client.post("/demo/login/anna", data={"csrf_token": token})

    assert response.status_code == 404
    assert sessions_of(app, "anna") == 0


def test_demo_mode_shows_the_picker_logs_in_with_one_click_and_shows_the_banner(committed_db: Any) -> None:
    demo = committed_db(DEMO_MODE=True)
    client = demo.test_client()

    login_page = page(client.get("/login"))
    assert PERSONA_PICKER in login_page and 'action="/demo/login/anna"' in login_page
    assert DEMO_BANNER in login_page

    no_token = client.post("/demo/login/anna", data={})
    assert no_token.status_code == 400
    assert sessions_of(demo, "anna") == 0

    response = client.post("/demo/login/anna", data={"csrf_token": csrf_token(client, "/login")})

    assert response.status_code == 302 and response.headers["Location"] == "/"
    html = assert_logged_in(client)
    assert "Anna Berg" in html and DEMO_BANNER in html
    assert sessions_of(demo, "anna") == 1


def test_demo_mode_refuses_an_unknown_persona_and_a_non_demo_account(committed_db: Any) -> None:
    demo = committed_db(DEMO_MODE=True)
    with demo.app_context():
        person = create_staff_person(SYSTEM_ACTOR, StaffData("Stina", "Strand"))
        add_membership(SYSTEM_ACTOR, person, database.session.scalar(select(Unit).where(Unit.name == "Klass 4–6")))
        create_staff_account(SYSTEM_ACTOR, person, "stina", "a long staff password 42")
        database.session.commit()
    client = demo.test_client()
    token = csrf_token(client, "/login")

    for persona in ("nobody", "stina", "a" * 500):
        assert client.post(f"/demo/login/{persona}", data={"csrf_token": token}).status_code == 404, persona
    assert client.post("/demo/login/anna%00", data={"csrf_token": token}).status_code == 400
    assert_sent_to_login(client.get("/"))
    assert sessions_of(demo, "stina") == 0


def test_demo_mode_serves_only_this_machine(committed_db: Any) -> None:
    demo = committed_db(DEMO_MODE=True)
    client = demo.test_client()

    token = csrf_token(client, "/login")  # taken on this machine, replayed from another
    remote = client.get("/login", environ_base={"REMOTE_ADDR": "10.1.2.3"})
    remote_post = client.post("/demo/login/anna", data={"csrf_token": token}, environ_base={"REMOTE_ADDR": "10.1.2.3"})

    assert remote.status_code == 403
    assert remote_post.status_code == 403
    assert sessions_of(demo, "anna") == 0
    assert client.get("/login", environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code == 200


# -- 10. families never log in with a password outside demo and test mode -----------------------------------
def test_outside_demo_and_test_mode_a_guardian_password_is_refused_while_staff_log_in(committed_db: Any) -> None:
    from coordination.auth import (
        account_may_log_in,
        family_passwords_allowed,
        hash_password,
    )
    from coordination.children.operations import (
        GuardianData,
        add_guardian,
        create_guardian_account,
    )

    real = committed_db()
    with real.app_context():
        # A non-demo staff member with a password, and a non-demo guardian account. The operations refuse
        # a family password outright, so the guardian's hash is put on the row directly: the login check
        # must refuse it even if one ever got there.
        person = create_staff_person(SYSTEM_ACTOR, StaffData("Stina", "Strand", title="teacher"))
        unit = database.session.scalar(select(Unit).where(Unit.name == "Klass 4–6"))
        add_membership(SYSTEM_ACTOR, person, unit)
        create_staff_account(SYSTEM_ACTOR, person, "stina", "a long staff password 42")
        guardian = add_guardian(SYSTEM_ACTOR, GuardianData("Gun", "Gran"))
        with pytest.raises(OperationError):
            create_guardian_account(
                SYSTEM_ACTOR, guardian, "gun-with-password", password_hash=hash_password("a long family password 42")
            )
        account = create_guardian_account(SYSTEM_ACTOR, guardian, "gun")
        account.password_hash = hash_password("a long family password 42")
        database.session.commit()

    with real.app_context():
        # The test configuration allows family passwords (for browser journeys) ...
        assert family_passwords_allowed()
        gun = database.session.scalar(select(Account).where(Account.username == "gun"))
        assert gun is not None and account_may_log_in(gun)

    real.config["ENVIRONMENT"] = "development"  # this app is ours alone

    with real.app_context():
        assert not family_passwords_allowed()
        gun = database.session.scalar(select(Account).where(Account.username == "gun"))
        stina = database.session.scalar(select(Account).where(Account.username == "stina"))
        lena = database.session.scalar(select(Account).where(Account.username == "lena"))
        assert gun is not None and stina is not None and lena is not None
        assert not account_may_log_in(gun)
        assert not account_may_log_in(lena), "a demo guardian: neither a family password nor a demo login"
        assert account_may_log_in(stina)

    for username, password in (("gun", "a long family password 42"), ("lena", "demo"), ("noah", "demo")):
        client = real.test_client()
        refused = login(client, username, password)
        assert refused.status_code == 422 and WRONG in page(refused), username
        assert sessions_of(real, username) == 0
    staff_client = real.test_client()
    assert login(staff_client, "stina", "a long staff password 42").status_code == 302
    assert "Stina Strand" in assert_logged_in(staff_client)


# -- 11. CSRF ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("token", [None, "wrong-token", ""])
def test_a_login_without_a_valid_csrf_token_is_refused_with_a_friendly_message(
    app: Flask, client: FlaskClient, token: str | None
) -> None:
    client.get("/login")
    data = {"username": "anna", "password": "demo"}
    if token is not None:
        data["csrf_token"] = token

    response = client.post("/login", data=data)

    assert response.status_code == 400
    assert CSRF_MESSAGE in page(response)
    assert sessions_of(app, "anna") == 0
    assert throttle_rows(app) == 0
    assert_sent_to_login(client.get("/"))


def test_a_language_change_without_a_csrf_token_is_refused(app: Flask, client: FlaskClient) -> None:
    client.get("/login")

    response = client.post("/language", data={"language": "en", "next": "/login"})

    assert response.status_code == 400
    assert CSRF_MESSAGE in page(response)
    assert LOGIN_HEADING_SV in page(client.get("/login"))


# -- 12. language -----------------------------------------------------------------------------------------
def test_switching_to_english_changes_the_login_page(app: Flask, client: FlaskClient) -> None:
    assert LOGIN_HEADING_SV in page(client.get("/login"))

    response = post_form(client, "/language", {"language": "en", "next": "/login"}, token_from="/login")

    assert response.status_code == 302 and response.headers["Location"] == "/login"
    html = page(client.get("/login"))
    assert LOGIN_HEADING_EN in html and '<html lang="en">' in html
    failed = login(client, "anna", "wrong")
    assert "The username or password is wrong." in page(failed)


def test_a_logged_in_language_choice_is_kept_on_the_account_across_logins(app: Flask, client: FlaskClient) -> None:
    login(client, "anna")

    response = post_form(client, "/language", {"language": "en", "next": "/"})

    assert response.status_code == 302
    assert "You are logged in as" in assert_logged_in(client)
    with app.app_context():
        assert database.session.scalar(select(Account.language).where(Account.username == "anna")) == "en"
    logout(client)
    other = app.test_client()
    login(other, "anna")
    assert "You are logged in as" in assert_logged_in(other)


@pytest.mark.parametrize("language", ["xx", SCRIPT, "x" * 10_000, "", "EN"])
def test_an_invalid_language_changes_nothing_and_never_fails(app: Flask, client: FlaskClient, language: str) -> None:
    login(client, "anna")
    audit_before = writes_audited(app)

    response = post_form(client, "/language", {"language": language, "next": "/"})

    assert response.status_code == 302 and response.headers["Location"] == "/"
    html = assert_logged_in(client)
    assert "Välj svenska eller engelska." in html
    assert "Du är inloggad som" in html
    assert SCRIPT not in html
    with app.app_context():
        assert database.session.scalar(select(Account.language).where(Account.username == "anna")) == "sv"
    assert writes_audited(app) == audit_before
    with client.session_transaction() as stored:
        assert "language" not in stored


def test_an_invalid_language_before_login_keeps_the_current_language(app: Flask, client: FlaskClient) -> None:
    post_form(client, "/language", {"language": "en", "next": "/login"}, token_from="/login")

    response = post_form(client, "/language", {"language": "xx", "next": "/login"}, token_from="/login")

    assert response.status_code == 302
    assert LOGIN_HEADING_EN in page(client.get("/login"))


OFF_SITE = [
    "https://evil.example/",
    "//evil.example",
    "/\\evil.example",
    "https:evil.example",
    "\\\\evil.example",
    "javascript:alert(1)",
]


@pytest.mark.parametrize("target", OFF_SITE)
def test_the_language_switch_never_redirects_off_site(app: Flask, client: FlaskClient, target: str) -> None:
    response = post_form(client, "/language", {"language": "en", "next": target}, token_from="/login")

    assert response.status_code == 302
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("target", OFF_SITE)
def test_login_never_redirects_off_site(app: Flask, client: FlaskClient, target: str) -> None:
    token = csrf_token(client, "/login")

    response = client.post("/login", data={"username": "anna", "password": "demo", "next": target, "csrf_token": token})

    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_a_local_next_is_followed_after_login_and_language_change(app: Flask, client: FlaskClient) -> None:
    """The positive control for the open-redirect tests: a local path is kept."""
    response = post_form(client, "/language", {"language": "sv", "next": "/login?x=1"}, token_from="/login")
    assert response.headers["Location"] == "/login?x=1"

    first = client.get("/")
    assert_sent_to_login(first)
    next_page = page(client.get(first.headers["Location"]))
    assert 'name="next" type="hidden" value="/"' in next_page

    token = csrf_token(client, "/login")
    logged_in = client.post(
        "/login", data={"username": "anna", "password": "demo", "next": "/healthz", "csrf_token": token}
    )
    assert logged_in.headers["Location"] == "/healthz"


def test_an_off_site_next_on_the_login_page_is_dropped(app: Flask, client: FlaskClient) -> None:
    html = page(client.get("/login?next=https://evil.example/"))

    login_form = html.split('action="/login"', 1)[1].split("</form>", 1)[0]
    assert 'name="next" type="hidden" value=""' in login_form
    assert "evil.example" not in login_form


# -- 13. bad input -------------------------------------------------------------------------------------------
def test_an_over_long_username_gets_a_clear_message_and_writes_nothing(app: Flask, client: FlaskClient) -> None:
    token = csrf_token(client, "/login")

    response = client.post("/login", data={"username": "a" * 10_000, "password": "demo", "csrf_token": token})

    assert response.status_code == 422
    assert "Användarnamnet är för långt" in page(response)
    assert throttle_rows(app) == 0
    assert count(app, LoginSession) == 0


def test_an_over_long_password_gets_a_clear_message_and_is_not_echoed(app: Flask, client: FlaskClient) -> None:
    token = csrf_token(client, "/login")
    password = "p" * 100_000

    response = client.post("/login", data={"username": "anna", "password": password, "csrf_token": token})

    assert response.status_code == 422
    html = page(response)
    assert "Lösenordet är för långt" in html
    assert "p" * 100 not in html
    assert throttle_rows(app) == 0
    assert sessions_of(app, "anna") == 0


def test_a_script_in_the_username_is_escaped_and_only_the_back_off_is_written(app: Flask, client: FlaskClient) -> None:
    audit_before = writes_audited(app)

    response = login(client, SCRIPT, "demo")

    assert response.status_code == 422
    html = page(response)
    assert WRONG in html
    assert SCRIPT not in html
    assert ESCAPED_SCRIPT in html
    assert throttle_rows(app, SCRIPT) == 1 and throttle_rows(app) == 1
    assert count(app, LoginSession) == 0
    assert writes_audited(app) == audit_before


@pytest.mark.parametrize("username", ["\u202eanna", "anna' OR '1'='1", "ånna" * 30])
def test_odd_usernames_are_answered_wrong_never_500(app: Flask, client: FlaskClient, username: str) -> None:
    response = login(client, username, "demo")

    assert response.status_code == 422
    assert WRONG in page(response)
    assert count(app, LoginSession) == 0


@pytest.mark.parametrize("path", ["/no-such-page", "/childrens/12345", "/login/extra", "/static/nothing.css"])
def test_an_unknown_url_gets_the_friendly_not_found_page(app: Flask, client: FlaskClient, path: str) -> None:
    response = client.get(path)

    assert response.status_code == 404
    if not path.startswith("/static/"):
        assert "Sidan finns inte" in page(response)


@pytest.mark.parametrize("password", ["demo ", " demo", "DEMO", "dem"])
def test_only_the_exact_password_logs_in(app: Flask, client: FlaskClient, password: str) -> None:
    response = login(client, "anna", password)

    assert response.status_code == 422 and WRONG in page(response)
    assert sessions_of(app, "anna") == 0


@pytest.mark.parametrize(("path", "field"), [("/login", "username"), ("/login", "password"), ("/language", "language")])
def test_a_nul_byte_in_any_form_field_is_refused_and_nothing_is_written(
    app: Flask, client: FlaskClient, path: str, field: str
) -> None:
    data = {"username": "anna", "password": "demo", "language": "en", "next": "/login"}
    data[field] = data[field] + "\x00"
    audit_before = writes_audited(app)

    response = post_form(client, path, data, token_from="/login")

    assert response.status_code == 400
    assert "Något var fel med förfrågan" in page(response)
    assert count(app, LoginSession) == 0
    assert throttle_rows(app) == 0
    assert writes_audited(app) == audit_before


def test_a_nul_byte_in_the_address_is_refused(client: FlaskClient) -> None:
    assert client.get("/login?next=%00").status_code == 400
    assert client.get("/%00").status_code in (400, 404)


def test_staff_whose_membership_ended_cannot_log_in_and_get_no_500(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        person = database.session.scalar(select(StaffPerson).where(StaffPerson.given_name == "Olle"))
        assert person is not None
        for membership in person.memberships:
            membership.ended_at = datetime.now(UTC)
        database.session.commit()

    response = login(client, "olle")

    assert response.status_code == 422 and WRONG in page(response)
    assert sessions_of(app, "olle") == 0


def test_a_session_whose_acting_membership_ended_ends_instead_of_switching_agency(
    app: Flask, client: FlaskClient
) -> None:
    login(client, "lars")
    with app.app_context():
        person = database.session.scalar(select(StaffPerson).where(StaffPerson.given_name == "Lars"))
        assert person is not None
        for membership in person.memberships:
            membership.ended_at = datetime.now(UTC)
        database.session.commit()

    assert_sent_to_login(client.get("/"))
    assert sessions_of(app, "lars") == 0


def test_a_person_can_rejoin_a_unit_after_their_membership_ended(app: Flask, db: Any) -> None:
    with app.app_context():
        person = database.session.scalar(select(StaffPerson).where(StaffPerson.given_name == "Lars"))
        assert person is not None
        membership = person.memberships[0]
        unit = database.session.get(Unit, membership.unit_id)
        membership.ended_at = datetime.now(UTC)
        database.session.flush()
        again = add_membership(SYSTEM_ACTOR, person, unit)
        database.session.flush()
        assert again.id != membership.id and again.ended_at is None
        with pytest.raises(OperationError):
            add_membership(SYSTEM_ACTOR, person, unit)
