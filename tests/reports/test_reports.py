"""Reports of concern (the duty to report, RULES.md §5) and the intake queue, over the demo data on both
databases. Negatives first: who gets 404 (the school, the Child Contact, another reporter, the reporter
beyond the receipt), every bad input (422, the message next to the field, the input kept, nothing
written), script rendered escaped. Then the same receipt for a known and an unknown number, the queue
for every intake member, acknowledgement on the receipt, matching (by number, by search, by
registering) and the relation it gives intake and an assigned unit, duplicates, and the pinned
statement count of the queue.

Each test files its own reports (and makes its own children where a child must be matched), so the
demo's own reports of concern, when they arrive, do not change what is asserted here."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from agencies.models import Agency, Unit
from agencies.operations import AgencyData, StaffData, add_membership, create_agency, create_staff_person, create_unit
from coordination.access import SYSTEM_ACTOR
from coordination.children.models import Child
from coordination.children.operations import ChildData, create_staff_account, number_hash, register_child
from coordination.chronology.models import ChronologyEntry
from coordination.database import db as database
from coordination.identity_numbers import IdentityNumber, make_identity_number
from coordination.models import AuditEvent
from coordination.reports.models import ReportOfConcern
from tests.helpers import csrf_token, login

OMAR_NUMBER = "201701012393"  # a demo child's number (a published test number)
PASSWORD = "a long staff password 42"
SOCIAL = "Socialtjänsten Ekby"
SCRIPT = '<script>alert("x")</script>'
ESCAPED = "&lt;script&gt;alert("
WRITE_ACTIONS = (
    "file_report",
    "acknowledge_report",
    "match_report",
    "register_child_for_report",
    "register_child",
    "mark_report_duplicate",
    "assign_report",
)


# -- helpers ------------------------------------------------------------------------------------------------
def new_number(serial: int = 871, birth: date = date(2015, 4, 9)) -> IdentityNumber:
    """A valid number the demo does not use (the demo's serials are 300–399 and 500–599)."""
    return make_identity_number(birth, serial)


def bad_check_digit(number: IdentityNumber) -> str:
    digits = number.digits
    return digits[:-1] + str((int(digits[-1]) + 1) % 10)


def logged_in(app: Flask, username: str, password: str = "demo") -> FlaskClient:
    client = app.test_client()
    response = login(client, username, password)
    assert response.status_code == 302, username
    # English pages: the assertions below read the English text (the Swedish comes with the lead's pass)
    client.post("/language", data={"language": "en", "csrf_token": csrf_token(client, "/")})
    return client


def file_report(client: FlaskClient, **fields: str):  # type: ignore[no-untyped-def]
    data = {"what_happened": "The child said she is afraid to go home.", **fields}
    data["csrf_token"] = csrf_token(client, "/reports/new")
    return client.post("/reports/new", data=data)


def filed(client: FlaskClient, **fields: str) -> str:
    """File a report and return its public id (from the receipt's address)."""
    response = file_report(client, **fields)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    match = re.search(r"/reports/([A-Za-z0-9_-]+)$", response.headers["Location"])
    assert match
    return match.group(1)


def post(client: FlaskClient, path: str, data: dict[str, str], token_from: str):  # type: ignore[no-untyped-def]
    payload = dict(data)
    payload["csrf_token"] = csrf_token(client, token_from)
    return client.post(path, data=payload)


def intake_post(client: FlaskClient, report_id: str, action: str, data: dict[str, str]):  # type: ignore[no-untyped-def]
    return post(client, f"/intake/{report_id}/{action}", data, f"/intake/{report_id}")


def report_row(app: Flask, public_id: str) -> ReportOfConcern:
    with app.app_context():
        report = database.session.scalar(select(ReportOfConcern).where(ReportOfConcern.public_id == public_id))
        assert report is not None
        database.session.expunge(report)
        return report


def counts(app: Flask) -> tuple[int, int, int]:
    """Reports, their write audit rows, and chronology entries of reports."""
    with app.app_context():
        session = database.session
        return (
            session.scalar(select(func.count(ReportOfConcern.id))) or 0,
            session.scalar(
                select(func.count(AuditEvent.id)).where(
                    AuditEvent.action.in_(WRITE_ACTIONS), AuditEvent.outcome == "allowed"
                )
            )
            or 0,
            session.scalar(
                select(func.count(ChronologyEntry.id)).where(ChronologyEntry.object_type == "report_of_concern")
            )
            or 0,
        )


def field_error(html: str, name: str) -> str | None:
    match = re.search(rf'data-field-error="{re.escape(name)}"[^>]*>([^<]*)<', html)
    return match.group(1).strip() if match else None


def make_staff(app: Flask, username: str, unit_name: str, *, intake: bool = False, practitioner: bool = True) -> None:
    with app.app_context():
        unit = database.session.scalar(select(Unit).where(Unit.name == unit_name))
        assert unit is not None, unit_name
        person = create_staff_person(SYSTEM_ACTOR, StaffData(username.title(), "Testsson", title="tester"))
        add_membership(SYSTEM_ACTOR, person, unit, practitioner=practitioner, intake=intake)
        create_staff_account(SYSTEM_ACTOR, person, username, PASSWORD)
        database.session.commit()


def make_unit(app: Flask, agency_name: str, unit_name: str) -> None:
    with app.app_context():
        agency = database.session.scalar(select(Agency).where(Agency.name == agency_name))
        create_unit(SYSTEM_ACTOR, agency, unit_name)
        database.session.commit()


def make_child(app: Flask, number: IdentityNumber, given: str = "Tilde", family: str = "Rapport") -> str:
    with app.app_context():
        child = register_child(SYSTEM_ACTOR, ChildData(given, family, None, identity_number=number))
        database.session.commit()
        return child.public_id


def child_public_id(app: Flask, given_name: str) -> str:
    with app.app_context():
        found = database.session.scalar(select(Child.public_id).where(Child.given_name == given_name))
    assert found is not None
    return found


def denials(app: Flask, action_like: str) -> list[AuditEvent]:
    with app.app_context():
        rows = list(
            database.session.scalars(
                select(AuditEvent).where(AuditEvent.outcome == "denied", AuditEvent.action.like(action_like))
            )
        )
        for row in rows:
            database.session.expunge(row)
        return rows


def normalise(html: str, *values: str) -> str:
    """A page with what legitimately differs between two receipts taken out: ids, references, tokens."""
    for value in values:
        html = html.replace(value, "ID")
    html = re.sub(r'value="[^"]{20,}"', 'value="TOKEN"', html)
    html = re.sub(r'"X-CSRFToken": "[^"]+"', '"X-CSRFToken": "TOKEN"', html)
    return html


def acknowledge(client: FlaskClient, report_id: str):  # type: ignore[no-untyped-def]
    return intake_post(client, report_id, "acknowledge", {"acknowledge_confirm": "y"})


# -- who may not see a report --------------------------------------------------------------------------------
@pytest.mark.parametrize("username", ["maria", "lars"])
def test_the_school_cannot_see_a_report_or_the_intake_pages(app: Flask, client: FlaskClient, username: str) -> None:
    erik = logged_in(app, "erik")
    report_id = filed(erik, identity_number=OMAR_NUMBER)
    school = logged_in(app, username)
    assert school.get("/intake").status_code == 404
    assert school.get(f"/intake/{report_id}").status_code == 404
    assert school.get(f"/reports/{report_id}").status_code == 404
    token = csrf_token(school, "/reports/new")
    refused = school.post(f"/intake/{report_id}/acknowledge", data={"csrf_token": token, "acknowledge_confirm": "y"})
    assert refused.status_code == 404
    assert report_row(app, report_id).state == "received"
    assert "Intake" not in re.sub(r"<main.*", "", school.get("/").get_data(as_text=True), flags=re.S)
    reasons = {(row.action, (row.detail or {}).get("reason")) for row in denials(app, "%")}
    assert ("view_intake_queue", "not_intake") in reasons
    assert ("view_report_receipt", "not_the_reporter") in reasons


def test_the_child_contact_cannot_see_a_report_about_their_child(app: Flask, client: FlaskClient) -> None:
    # maria is Omar's Child Contact; erik's report about Omar is matched by intake.
    erik = logged_in(app, "erik")
    report_id = filed(erik, identity_number=OMAR_NUMBER)
    ida = logged_in(app, "ida")
    omar = child_public_id(app, "Omar")
    assert intake_post(ida, report_id, "match", {"match_child": omar, "match_confirm": "y"}).status_code == 302
    maria = logged_in(app, "maria")
    assert maria.get(f"/intake/{report_id}").status_code == 404
    assert maria.get(f"/reports/{report_id}").status_code == 404
    page = maria.get(f"/children/{omar}").get_data(as_text=True)
    assert report_row(app, report_id).reference not in page


def test_erik_sees_only_his_receipt_never_the_child_or_the_intake_pages(app: Flask, client: FlaskClient) -> None:
    number = new_number(872)
    child_id = make_child(app, number)
    erik = logged_in(app, "erik")
    report_id = filed(erik, identity_number=number.digits, given_name="Tilde")
    assert erik.get("/intake").status_code == 404
    assert erik.get(f"/intake/{report_id}").status_code == 404
    assert erik.get(f"/children/{child_id}").status_code == 404
    ida = logged_in(app, "ida")
    assert intake_post(ida, report_id, "match", {"match_child": child_id, "match_confirm": "y"}).status_code == 302
    assert erik.get(f"/children/{child_id}").status_code == 404, "filing a report gives the reporter nothing"
    receipt = erik.get(f"/reports/{report_id}")
    assert receipt.status_code == 200
    html = receipt.get_data(as_text=True)
    for secret in ("Tilde", "Rapport", number.digits, number.digits[2:], "afraid to go home"):
        assert secret not in html


def test_another_reporter_and_intake_cannot_open_a_receipt(app: Flask, client: FlaskClient) -> None:
    erik = logged_in(app, "erik")
    report_id = filed(erik, given_name="Ebba")
    for username in ("anna", "ida", "johan"):
        other = logged_in(app, username)
        assert other.get(f"/reports/{report_id}").status_code == 404, username
        assert report_id not in other.get("/reports").get_data(as_text=True)
    assert erik.get("/reports/not-a-report").status_code == 404


def test_staff_outside_intake_get_404_on_the_intake_pages(app: Flask, client: FlaskClient) -> None:
    erik = logged_in(app, "erik")
    report_id = filed(erik, given_name="Ebba")
    johan = logged_in(app, "johan")  # social services, but not intake
    assert johan.get("/intake").status_code == 404
    assert johan.get(f"/intake/{report_id}").status_code == 404
    fia = logged_in(app, "fia")  # an analyst: not staff
    assert fia.get("/reports/new").status_code == 404
    assert fia.get("/intake").status_code == 404


def test_intake_of_another_social_services_agency_cannot_see_the_report(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        agency = create_agency(SYSTEM_ACTOR, AgencyData("Nordby social services", "social_services"))
        create_unit(SYSTEM_ACTOR, agency, "Nordby intake")
        database.session.commit()
    make_staff(app, "nils", "Nordby intake", intake=True)
    erik = logged_in(app, "erik")
    form = erik.get("/reports/new").get_data(as_text=True)
    assert "Nordby social services" in form, "with two agencies the reporter chooses"
    ekby = re.search(r'<option value="([^"]+)">Socialtjänsten Ekby</option>', form)
    assert ekby
    refused = file_report(erik, given_name="Ebba")
    assert refused.status_code == 422
    assert field_error(refused.get_data(as_text=True), "agency")
    report_id = filed(erik, given_name="Ebba", agency=ekby.group(1))
    nils = logged_in(app, "nils", PASSWORD)
    assert nils.get("/intake").status_code == 200
    assert report_row(app, report_id).reference not in nils.get("/intake").get_data(as_text=True)
    assert nils.get(f"/intake/{report_id}").status_code == 404
    assert intake_post(nils, report_id, "acknowledge", {"acknowledge_confirm": "y"}).status_code == 404


# -- bad input -----------------------------------------------------------------------------------------------
def test_a_bad_check_digit_is_422_next_to_the_field_with_the_input_kept_and_nothing_written(
    app: Flask, client: FlaskClient
) -> None:
    erik = logged_in(app, "erik")
    before = counts(app)
    wrong = bad_check_digit(new_number())
    response = file_report(erik, identity_number=wrong, given_name="Ebba", what_happened="Bruises on both arms.")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert field_error(html, "identity_number") == "Check the identity number: the last digit does not match."
    assert "There is a problem" in html
    assert 'value="Ebba"' in html and "Bruises on both arms." in html, "the input is kept"
    assert wrong not in html and wrong[2:] not in html, "the number is never written back"
    assert counts(app) == before


@pytest.mark.parametrize("typed", ["12345", "20150230-0000", "2015040987100", "abcdefghij"])
def test_a_malformed_number_is_422(app: Flask, client: FlaskClient, typed: str) -> None:
    erik = logged_in(app, "erik")
    before = counts(app)
    response = file_report(erik, identity_number=typed)
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "identity_number")
    assert counts(app) == before


def test_neither_number_nor_name_is_422(app: Flask, client: FlaskClient) -> None:
    erik = logged_in(app, "erik")
    before = counts(app)
    response = file_report(erik, birth_date="2015-04-09")
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "identity_number")
    assert counts(app) == before


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("what_happened", "x" * 8001),
        ("what_happened", ""),
        ("given_name", "E" * 101),
        ("family_name", "E" * 101),
        ("reporter_phone", "1" * 41),
        ("reporter_phone", "call me"),
        ("birth_date", "2015-02-30"),
        ("birth_date", "2999-01-01"),
    ],
)
def test_bad_or_over_long_fields_are_422_with_the_message_next_to_them(
    app: Flask, client: FlaskClient, field: str, value: str
) -> None:
    erik = logged_in(app, "erik")
    before = counts(app)
    data = {"given_name": "Ebba", field: value}
    response = file_report(erik, **data)
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), field), field
    assert counts(app) == before


def test_a_report_with_only_a_name_is_accepted(app: Flask, client: FlaskClient) -> None:
    erik = logged_in(app, "erik")
    report_id = filed(erik, given_name="Ebba")
    report = report_row(app, report_id)
    assert (report.given_name, report.family_name, report.identity_number_hash) == ("Ebba", None, None)
    assert report.child_id is None and report.state == "received"


def test_script_in_every_field_is_rendered_escaped(app: Flask, client: FlaskClient) -> None:
    erik = logged_in(app, "erik")
    refused = file_report(
        erik,
        given_name=SCRIPT,
        family_name=SCRIPT,
        what_happened=SCRIPT,
        reporter_phone=SCRIPT,
        identity_number=SCRIPT,
    )
    assert refused.status_code == 422
    assert SCRIPT not in refused.get_data(as_text=True)
    assert ESCAPED in refused.get_data(as_text=True)
    report_id = filed(erik, given_name=SCRIPT, family_name=SCRIPT, what_happened=SCRIPT)
    ida = logged_in(app, "ida")
    for path in ("/intake", f"/intake/{report_id}"):
        html = ida.get(path).get_data(as_text=True)
        assert SCRIPT not in html and ESCAPED in html, path
    searched = intake_post(ida, report_id, "search", {"search_name": SCRIPT})
    assert SCRIPT not in searched.get_data(as_text=True)
    duplicate = intake_post(ida, report_id, "duplicate", {"duplicate_reference": "<b>x", "duplicate_confirm": "y"})
    assert duplicate.status_code == 422 and "<b>x" not in duplicate.get_data(as_text=True)
    registered = intake_post(ida, report_id, "register", {"register_given_name": SCRIPT, "register_family_name": ""})
    assert registered.status_code == 422 and SCRIPT not in registered.get_data(as_text=True)


# -- the receipt ---------------------------------------------------------------------------------------------
def test_the_form_says_call_112(app: Flask, client: FlaskClient) -> None:
    erik = logged_in(app, "erik")
    html = erik.get("/reports/new").get_data(as_text=True)
    assert "If a child is in immediate danger, call 112." in html


def test_receipts_for_a_known_child_and_an_unknown_number_are_identical(
    app: Flask, client: FlaskClient, clock: Any
) -> None:
    clock.set(datetime(2025, 11, 3, 9, 30, tzinfo=UTC))
    erik = logged_in(app, "erik")
    known = filed(erik, identity_number=OMAR_NUMBER, is_child_in_danger_now="y")
    unknown = filed(erik, identity_number=new_number(873).digits, is_child_in_danger_now="y")
    pages = []
    for report_id in (known, unknown):
        response = erik.get(f"/reports/{report_id}")
        assert response.status_code == 200
        report = report_row(app, report_id)
        assert report.child_id is None, "filing never matches"
        pages.append(normalise(response.get_data(as_text=True), report_id, report.reference))
    assert pages[0] == pages[1]
    assert "call 112" in pages[0], "a child in danger: the receipt repeats it"
    assert "Omar" not in pages[0] and OMAR_NUMBER not in pages[0]


def test_filing_is_audited_without_a_child_and_never_logs_the_number(app: Flask, client: FlaskClient) -> None:
    erik = logged_in(app, "erik")
    report_id = filed(erik, identity_number=OMAR_NUMBER)
    with app.app_context():
        row = database.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "file_report", AuditEvent.object_id == report_id)
        )
        assert row is not None
        assert (row.child_id, row.legal_basis, row.outcome) == (None, "duty_to_report", "allowed")
        assert OMAR_NUMBER not in str(row.detail)
        report = database.session.scalar(select(ReportOfConcern).where(ReportOfConcern.public_id == report_id))
        assert report.identity_number_hash == number_hash(IdentityNumber(OMAR_NUMBER, False))
        assert OMAR_NUMBER not in (report.identity_number_encrypted or "")


def test_my_reports_lists_only_my_receipts_newest_first(app: Flask, client: FlaskClient, clock: Any) -> None:
    clock.set(datetime(2025, 11, 3, 9, 30, tzinfo=UTC))
    erik = logged_in(app, "erik")
    first = filed(erik, given_name="Ebba")
    clock.set(datetime(2025, 11, 3, 9, 40, tzinfo=UTC))  # within the idle timeout
    second = filed(erik, given_name="Frida")
    anna = logged_in(app, "anna")
    mine = filed(anna, given_name="Greta")
    html = erik.get("/reports").get_data(as_text=True)
    references = re.findall(r'data-report="([^"]+)"', html)
    expected = [report_row(app, second).reference, report_row(app, first).reference]
    assert [reference for reference in references if reference in expected] == expected  # (and the demo's)
    assert report_row(app, mine).reference not in references
    assert "Ebba" not in html and "Frida" not in html


# -- the intake queue ----------------------------------------------------------------------------------------
def test_every_intake_member_sees_the_report_in_the_queue(app: Flask, client: FlaskClient) -> None:
    make_staff(app, "ines", "Mottagningen", intake=True, practitioner=False)
    erik = logged_in(app, "erik")
    report_id = filed(erik, given_name="Ebba")
    reference = report_row(app, report_id).reference
    for username, password in (("ida", "demo"), ("ines", PASSWORD)):
        member = logged_in(app, username, password)
        queue = member.get("/intake")
        assert queue.status_code == 200
        assert reference in queue.get_data(as_text=True), username
        assert member.get(f"/intake/{report_id}").status_code == 200
        assert 'href="/intake"' in member.get("/").get_data(as_text=True), "the top navigation shows Intake"


def test_the_queue_shows_unacknowledged_first_and_searches_by_reference(
    app: Flask, client: FlaskClient, clock: Any
) -> None:
    clock.set(datetime(2025, 11, 3, 9, 0, tzinfo=UTC))
    erik = logged_in(app, "erik")
    old = filed(erik, given_name="Ebba")
    clock.set(datetime(2025, 11, 3, 9, 10, tzinfo=UTC))  # minutes apart: within the idle timeout
    acknowledged = filed(erik, given_name="Frida")
    clock.set(datetime(2025, 11, 3, 9, 20, tzinfo=UTC))
    ida = logged_in(app, "ida")
    assert acknowledge(ida, acknowledged).status_code == 302
    clock.set(datetime(2025, 11, 3, 9, 30, tzinfo=UTC))
    newest = filed(erik, given_name="Greta")
    refs = {key: report_row(app, key).reference for key in (old, acknowledged, newest)}
    listed = re.findall(r'data-report="([^"]+)"', ida.get("/intake").get_data(as_text=True))
    mine = [ref for ref in listed if ref in refs.values()]
    assert mine == [refs[newest], refs[old], refs[acknowledged]]
    found = re.findall(r'data-report="([^"]+)"', ida.get(f"/intake?reference={refs[old][-4:]}").get_data(as_text=True))
    assert refs[old] in found and refs[newest] not in found


def test_acknowledgement_shows_on_the_receipt(app: Flask, client: FlaskClient) -> None:
    erik = logged_in(app, "erik")
    report_id = filed(erik, given_name="Ebba")
    assert 'data-report-status="received"' in erik.get(f"/reports/{report_id}").get_data(as_text=True)
    ida = logged_in(app, "ida")
    before = counts(app)
    unconfirmed = intake_post(ida, report_id, "acknowledge", {})
    assert unconfirmed.status_code == 422
    assert field_error(unconfirmed.get_data(as_text=True), "acknowledge_confirm")
    assert counts(app) == before and report_row(app, report_id).state == "received"
    assert acknowledge(ida, report_id).status_code == 302
    receipt = erik.get(f"/reports/{report_id}").get_data(as_text=True)
    assert 'data-report-status="acknowledged"' in receipt
    assert "Acknowledged by social services on" in receipt
    again = acknowledge(ida, report_id)
    assert again.status_code == 422, "an acknowledged report is not acknowledged twice"
    with app.app_context():
        assert (
            database.session.scalar(
                select(func.count(AuditEvent.id)).where(
                    AuditEvent.action == "acknowledge_report", AuditEvent.object_id == report_id
                )
            )
            == 1
        )


def test_matching_by_number_gives_intake_the_child_page_and_writes_the_chronology(
    app: Flask, client: FlaskClient, clock: Any
) -> None:
    clock.set(datetime(2025, 11, 3, 9, 0, tzinfo=UTC))
    number = new_number(874)
    child_id = make_child(app, number)
    erik = logged_in(app, "erik")
    report_id = filed(erik, identity_number=number.digits)
    ida = logged_in(app, "ida")
    assert ida.get(f"/children/{child_id}").status_code == 404, "no relation before the match"
    page = ida.get(f"/intake/{report_id}").get_data(as_text=True)
    assert f'data-candidate="{child_id}"' in page and "The registered child with this number" in page
    assert number.digits not in page
    clock.set(datetime(2025, 11, 3, 9, 10, tzinfo=UTC))
    unconfirmed = intake_post(ida, report_id, "match", {"match_child": child_id})
    assert unconfirmed.status_code == 422 and field_error(unconfirmed.get_data(as_text=True), "match_confirm")
    assert report_row(app, report_id).child_id is None
    assert intake_post(ida, report_id, "match", {"match_child": child_id, "match_confirm": "y"}).status_code == 302
    assert ida.get(f"/children/{child_id}").status_code == 200
    assert 'data-matched="yes"' in ida.get(f"/intake/{report_id}").get_data(as_text=True)
    with app.app_context():
        entries = list(
            database.session.scalars(
                select(ChronologyEntry)
                .where(ChronologyEntry.object_public_id == report_id)
                .order_by(ChronologyEntry.occurred_at)
            )
        )
        social = database.session.scalar(select(Agency.id).where(Agency.name == SOCIAL))
        assert [entry.kind for entry in entries] == ["report_filed", "report_matched"]
        assert entries[0].occurred_at == datetime(2025, 11, 3, 9, 0, tzinfo=UTC), "when the report was filed"
        assert {(entry.audience, entry.owner_agency_id, entry.tone) for entry in entries} == {
            ("own_agency", social, "worry")
        }
        assert entries[0].author_person_id is None, "the reporter is not an author: they see no chronology"
    again = intake_post(ida, report_id, "match", {"match_child": child_id, "match_confirm": "y"})
    assert again.status_code == 422


def test_a_report_about_an_unknown_child_has_no_chronology_until_matched(app: Flask, client: FlaskClient) -> None:
    erik = logged_in(app, "erik")
    before = counts(app)
    filed(erik, identity_number=new_number(875).digits)
    after = counts(app)
    assert after[0] == before[0] + 1 and after[2] == before[2]


def test_searching_by_name_and_birth_date_and_matching(app: Flask, client: FlaskClient) -> None:
    number = new_number(876, date(2016, 2, 11))
    child_id = make_child(app, number, "Signe", "Sökbar")
    erik = logged_in(app, "erik")
    report_id = filed(erik, given_name="Signe", family_name="Sökbar")
    ida = logged_in(app, "ida")
    before = counts(app)
    missing = intake_post(ida, report_id, "search", {})
    assert missing.status_code == 422 and field_error(missing.get_data(as_text=True), "search_name")
    found = intake_post(ida, report_id, "search", {"search_name": "Sökbar", "search_birth_date": "2016-02-11"})
    assert found.status_code == 200
    assert f'data-candidate="{child_id}"' in found.get_data(as_text=True)
    assert counts(app) == before, "a search writes nothing"
    with app.app_context():
        read = database.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "report_match_search", AuditEvent.object_id == child_id)
        )
        assert read is not None and read.legal_basis == "duty_to_report"
    nobody = intake_post(ida, report_id, "search", {"search_name": "Sökbar", "search_birth_date": "2016-02-12"})
    assert "data-no-results" in nobody.get_data(as_text=True)
    assert intake_post(ida, report_id, "match", {"match_child": child_id, "match_confirm": "y"}).status_code == 302
    assert report_row(app, report_id).child_id is not None


def test_registering_the_child_without_a_number(app: Flask, client: FlaskClient) -> None:
    erik = logged_in(app, "erik")
    report_id = filed(erik, given_name="Vera", birth_date="2018-05-06")
    ida = logged_in(app, "ida")
    before = counts(app)
    missing = intake_post(ida, report_id, "register", {"register_given_name": "Vera", "register_confirm": "y"})
    assert missing.status_code == 422
    assert field_error(missing.get_data(as_text=True), "register_family_name")
    assert counts(app) == before
    response = intake_post(
        ida,
        report_id,
        "register",
        {
            "register_given_name": "Vera",
            "register_family_name": "Ny",
            "register_birth_date": "2018-05-06",
            "register_confirm": "y",
        },
    )
    assert response.status_code == 302
    report = report_row(app, report_id)
    with app.app_context():
        child = database.session.get(Child, report.child_id)
        assert (child.given_name, child.family_name, child.birth_date) == ("Vera", "Ny", date(2018, 5, 6))
        assert child.identity_number_missing_reason == "none" and child.reserve_number
        child_id = child.public_id
    assert ida.get(f"/children/{child_id}").status_code == 200


def test_registering_the_child_with_the_reports_number(app: Flask, client: FlaskClient) -> None:
    number = new_number(877, date(2013, 8, 20))
    erik = logged_in(app, "erik")
    report_id = filed(erik, identity_number=number.digits)
    ida = logged_in(app, "ida")
    page = ida.get(f"/intake/{report_id}").get_data(as_text=True)
    assert "data-number-unknown" in page
    response = intake_post(
        ida,
        report_id,
        "register",
        {"register_given_name": "Olga", "register_family_name": "Nummer", "register_confirm": "y"},
    )
    assert response.status_code == 302
    report = report_row(app, report_id)
    with app.app_context():
        child = database.session.get(Child, report.child_id)
        assert child.identity_number_hash == report.identity_number_hash
        assert child.birth_date == date(2013, 8, 20)


def test_assigning_gives_the_units_practitioner_the_child_page_and_not_another_units(
    app: Flask, client: FlaskClient
) -> None:
    make_unit(app, SOCIAL, "Family support")
    make_staff(app, "frans", "Family support")
    number = new_number(878)
    child_id = make_child(app, number)
    erik = logged_in(app, "erik")
    report_id = filed(erik, identity_number=number.digits)
    ida = logged_in(app, "ida")
    page = ida.get(f"/intake/{report_id}").get_data(as_text=True)
    units = dict(re.findall(r'<option value="([^"]+)">([^<]+)</option>', page))
    by_name = {name: public_id for public_id, name in units.items()}
    assert {"Mottagningen", "Barn och familj", "Family support"} <= set(by_name)
    unchosen = intake_post(ida, report_id, "assign", {"unit": ""})
    assert unchosen.status_code == 422 and field_error(unchosen.get_data(as_text=True), "unit")
    assert intake_post(ida, report_id, "assign", {"unit": by_name["Barn och familj"]}).status_code == 302
    johan = logged_in(app, "johan")
    assert johan.get(f"/children/{child_id}").status_code == 404, "no relation until the report is matched"
    assert intake_post(ida, report_id, "match", {"match_child": child_id, "match_confirm": "y"}).status_code == 302
    assert johan.get(f"/children/{child_id}").status_code == 200
    frans = logged_in(app, "frans", PASSWORD)
    assert frans.get(f"/children/{child_id}").status_code == 404, "another unit's practitioner"
    with app.app_context():
        kinds = set(
            database.session.scalars(select(ChronologyEntry.kind).where(ChronologyEntry.object_public_id == report_id))
        )
        assert kinds == {"report_filed", "report_assigned", "report_matched"}


def test_a_report_from_another_agency_cannot_be_assigned_to_a_unit_outside_social_services(
    app: Flask, client: FlaskClient
) -> None:
    erik = logged_in(app, "erik")
    report_id = filed(erik, given_name="Ebba")
    with app.app_context():
        police_unit = database.session.scalar(select(Unit.public_id).where(Unit.name == "Lokalpolisområde Ekby"))
    ida = logged_in(app, "ida")
    before = counts(app)
    response = intake_post(ida, report_id, "assign", {"unit": police_unit})
    assert response.status_code == 422
    assert counts(app) == before


def test_linking_a_duplicate(app: Flask, client: FlaskClient) -> None:
    erik = logged_in(app, "erik")
    first = filed(erik, given_name="Ebba")
    second = filed(erik, given_name="Ebba")
    first_ref = report_row(app, first).reference
    second_ref = report_row(app, second).reference
    ida = logged_in(app, "ida")
    before = counts(app)
    for data, field in (
        ({"duplicate_reference": "RC-NONE-NONE", "duplicate_confirm": "y"}, "duplicate_reference"),
        ({"duplicate_reference": second_ref, "duplicate_confirm": "y"}, "duplicate_reference"),  # itself
        ({"duplicate_reference": first_ref}, "duplicate_confirm"),
        ({"duplicate_reference": "x" * 21, "duplicate_confirm": "y"}, "duplicate_reference"),
    ):
        response = intake_post(ida, second, "duplicate", data)
        assert response.status_code == 422, data
        assert field_error(response.get_data(as_text=True), field), data
    assert counts(app) == before
    linked = intake_post(ida, second, "duplicate", {"duplicate_reference": first_ref.lower(), "duplicate_confirm": "y"})
    assert linked.status_code == 302
    assert report_row(app, second).duplicate_of_id == report_row(app, first).id
    cycle = intake_post(ida, first, "duplicate", {"duplicate_reference": second_ref, "duplicate_confirm": "y"})
    assert cycle.status_code == 422, "no cycles"
    assert f"duplicate of {first_ref}" in ida.get("/intake").get_data(as_text=True)


# -- statements --------------------------------------------------------------------------------------------
# The queue: the session row with its account and person, the person's memberships (2); the count and
# the page of reports with their reporting agency, unit and duplicate joined (2); the audit rows of the
# reads (1).
INTAKE_STATEMENTS = 5


def test_the_intake_queue_statement_count_does_not_grow(app: Flask, client: FlaskClient, count_queries: Any) -> None:
    erik = logged_in(app, "erik")
    filed(erik, given_name="Ebba")
    ida = logged_in(app, "ida")
    ida.get("/intake")  # warm up
    with count_queries() as one:
        assert ida.get("/intake").status_code == 200
    for index in range(20):
        filed(erik, given_name=f"Barn {index}")
    with count_queries() as twenty:
        response = ida.get("/intake")
    assert response.status_code == 200
    assert len(re.findall(r'data-report="', response.get_data(as_text=True))) == 20, "a full page"
    assert one.count == twenty.count == INTAKE_STATEMENTS, twenty.statements


def test_steps_after_the_match_enter_the_chronology_as_they_happen(app: Flask, client: FlaskClient) -> None:
    number = new_number(879)
    child_id = make_child(app, number)
    erik = logged_in(app, "erik")
    report_id = filed(erik, identity_number=number.digits)
    ida = logged_in(app, "ida")
    assert intake_post(ida, report_id, "match", {"match_child": child_id, "match_confirm": "y"}).status_code == 302
    assert acknowledge(ida, report_id).status_code == 302
    with app.app_context():
        unit = database.session.scalar(select(Unit.public_id).where(Unit.name == "Barn och familj"))
    assert intake_post(ida, report_id, "assign", {"unit": unit}).status_code == 302
    with app.app_context():
        kinds = list(
            database.session.scalars(
                select(ChronologyEntry.kind)
                .where(ChronologyEntry.object_public_id == report_id)
                .order_by(ChronologyEntry.id)
            )
        )
    assert kinds == ["report_filed", "report_matched", "report_acknowledged", "report_assigned"]


def test_filing_and_acknowledging_send_the_domains_signals(app: Flask, client: FlaskClient) -> None:
    from coordination import events

    received: list[tuple[str, str]] = []

    def on_filed(_sender: object, report: ReportOfConcern) -> None:
        received.append(("filed", report.public_id))

    def on_acknowledged(_sender: object, report: ReportOfConcern) -> None:
        received.append(("acknowledged", report.public_id))

    events.report_filed.connect(on_filed)
    events.report_acknowledged.connect(on_acknowledged)
    try:
        erik = logged_in(app, "erik")
        report_id = filed(erik, given_name="Ebba")
        ida = logged_in(app, "ida")
        assert acknowledge(ida, report_id).status_code == 302
    finally:
        events.report_filed.disconnect(on_filed)
        events.report_acknowledged.disconnect(on_acknowledged)
    assert received == [("filed", report_id), ("acknowledged", report_id)]
