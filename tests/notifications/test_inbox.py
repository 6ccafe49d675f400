"""The in-app inbox (RULES.md §8, §9): the listeners write one item per recipient in the sender's
transaction; items are rendered through the access core when read. Negatives first: nobody else sees my
items; a withdrawn consent hides an old item; signals, sibling requests and reports carry no content;
the badge's poll writes no audit row and does not extend the session. Then what each recipient gets,
opening an item, and the pinned statement count."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from coordination import events
from coordination.access import SYSTEM_ACTOR
from coordination.children.operations import GuardianData, add_guardian, link_custody
from coordination.clock import now, today
from coordination.concerns.models import Concern, ConcernArea, SiblingContactRequest
from coordination.consent.ledger import ConsentData, GiverData, record_consent, withdraw_consent
from coordination.database import db as database
from coordination.models import AuditEvent, LoginSession
from notifications.models import InboxItem
from tests.chronology.support import BVC, agency, fresh_child, person
from tests.helpers import csrf_token

PRESCHOOLS = "Ekby förskolor"
# /inbox for a member of staff: the session (2); the COUNT and the page of items (2); the concerns the
# page points at and their areas (2); the children, my relations to them (2); their consent pictures in
# one go (consents, custody, maturity: 3 — plus the consents' areas and givers when there are any); the
# audit rows of the reads (1). Thirty items about thirty children cost what one costs.
INBOX_STATEMENTS = 13  # with the settings' overrides (1: coordination.settings, once per request)


def make_concern(
    child,
    author: str,
    author_agency: str,
    routing: str,
    recipient: str | None,
    recipient_agency: str,
    areas=("achieving",),
):  # type: ignore[no-untyped-def]
    concern = Concern(
        child_id=child.id,
        author_person_id=person(author).id,
        author_agency_id=agency(author_agency).id,
        routing=routing,
        recipient_person_id=person(recipient).id if recipient else None,
        recipient_agency_id=agency(recipient_agency).id,
        observed_on=today(),
        observations="Talar lite i samlingen",
        urgency="soon",
        state="open",
        created_at=now(),
        areas=[ConcernArea(area=area) for area in areas],
    )
    database.session.add(concern)
    database.session.flush()
    events.concern_routed.send(None, concern=concern)
    return concern


def items_of(given_name: str) -> list[InboxItem]:
    return list(
        database.session.scalars(
            select(InboxItem).where(InboxItem.recipient_person_id == person(given_name).id).order_by(InboxItem.id)
        )
    )


def shown_items(html: str) -> list[str]:
    return re.findall(r'data-item="([^"]+)"', html)


def item_block(html: str, public_id: str) -> str:
    match = re.search(rf'data-item="{re.escape(public_id)}"(.*?)</li>', html, re.S)
    assert match, public_id
    return match.group(1)


def fixed_clock(clock: Any) -> None:
    clock.set(datetime.now(UTC))


# -- negatives ------------------------------------------------------------------------------------------------
def test_another_member_of_staff_never_sees_my_items(app: Flask, as_user) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        child = fresh_child(("Solrosen", "BVC Ekby"), child_contact=("Anna", BVC))
        concern = make_concern(child, "Anna", BVC, "same_agency", "Anna", BVC)
        (item,) = [i for i in items_of("Anna") if i.object_public_id == concern.public_id]
        item_id = item.public_id
        database.session.commit()
    for username in ("sara", "maria", "hanna"):
        browser = as_user(username)
        assert item_id not in browser.get("/inbox").get_data(as_text=True), username
        token = csrf_token(browser, "/inbox")
        assert browser.post(f"/inbox/{item_id}/open", data={"csrf_token": token}).status_code == 404
    with app.app_context():
        assert database.session.scalar(select(InboxItem.read_at).where(InboxItem.public_id == item_id)) is None
    assert item_id in as_user("anna").get("/inbox").get_data(as_text=True)


def test_an_item_whose_concerns_consent_was_withdrawn_is_no_longer_available(app: Flask, as_user) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        child = fresh_child(("Solrosen", "BVC Ekby"), child_contact=("Anna", BVC))
        guardian = add_guardian(SYSTEM_ACTOR, GuardianData("Vera", "Kronolog"))
        link_custody(SYSTEM_ACTOR, child, guardian)
        (consent,) = record_consent(
            SYSTEM_ACTOR,
            child,
            agency(BVC),
            ConsentData(
                purposes=["coordination"],
                areas=["achieving"],
                valid_from=today(),
                valid_until=today() + timedelta(days=200),
                givers=[GiverData(guardian.id, "in_person")],
                consent_text_version=1,
                recorded_by=person("Anna"),
            ),
        )
        concern = make_concern(child, "Sara", PRESCHOOLS, "shared", "Anna", BVC)
        (item,) = [i for i in items_of("Anna") if i.object_public_id == concern.public_id]
        item_id, name = item.public_id, child.full_name
        database.session.commit()
    anna = as_user("anna")
    block = item_block(anna.get("/inbox").get_data(as_text=True), item_id)
    assert name in block and 'data-area="achieving"' in block

    with app.app_context():
        withdraw_consent(SYSTEM_ACTOR, database.session.merge(consent), guardian.id, person("Anna"))
        database.session.commit()
    block = item_block(anna.get("/inbox").get_data(as_text=True), item_id)
    assert "This item is no longer available to you." in block
    assert name not in block and "achieving" not in block
    # The withdrawal ended BVC's coordination consent: the Child Contact is told the role needs one.
    with app.app_context():
        kinds = [i.kind for i in items_of("Anna") if i.child_id == child.id]
    assert "role_needs_consent" in kinds


def test_a_sibling_request_names_neither_child(app: Flask, as_user) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        younger = fresh_child(("Solrosen",), child_contact=("Anna", BVC))
        older = fresh_child(("Klass 1–3",), child_contact=("Maria", "Ekby skola"))
        request = SiblingContactRequest(
            from_child_id=younger.id,
            to_child_id=older.id,
            from_person_id=person("Anna").id,
            from_agency_id=agency(BVC).id,
            to_person_id=person("Maria").id,
            to_agency_id=agency("Ekby skola").id,
            created_at=now(),
        )
        database.session.add(request)
        database.session.flush()
        events.sibling_request_sent.send(None, request=request)
        (item,) = [i for i in items_of("Maria") if i.object_public_id == request.public_id]
        assert item.child_id is None
        item_id, names = item.public_id, (younger.full_name, older.full_name, younger.given_name, older.given_name)
        anna_phone = person("Anna").phone
        database.session.commit()
    html = as_user("maria").get("/inbox").get_data(as_text=True)
    block = item_block(html, item_id)
    assert "A colleague asks you to contact them about a family you both know." in block
    assert "Anna Berg" in block and (anna_phone is None or anna_phone in block)
    for name in names:
        assert name not in html
    assert "href" not in block, "no link to either child"


def test_a_signal_says_only_who_asks_to_be_contacted(app: Flask, as_user) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        child = fresh_child(("Solrosen", "BVC Ekby"), child_contact=("Anna", BVC))
        concern = make_concern(child, "Sara", PRESCHOOLS, "signal", "Anna", BVC)
        (item,) = [i for i in items_of("Anna") if i.object_public_id == concern.public_id]
        assert item.kind == "signal"
        item_id, name = item.public_id, child.full_name
        database.session.commit()
    block = item_block(as_user("anna").get("/inbox").get_data(as_text=True), item_id)
    assert "A practitioner at Preschool asks you to contact them." in block
    assert "Sara Lind" in block
    assert name not in block and "Talar lite" not in block and "achieving" not in block


def test_a_report_item_says_only_that_a_report_arrived(app: Flask, as_user) -> None:  # type: ignore[no-untyped-def]
    from coordination.reports.models import ReportOfConcern

    with app.app_context():
        report = ReportOfConcern(
            reference=f"T-{now().timestamp():.0f}"[-12:],
            reporter_person_id=person("Erik").id,
            reporter_agency_id=agency("Lokalpolisen Ekby").id,
            social_services_agency_id=agency("Socialtjänsten Ekby").id,
            given_name="Hemligt",
            family_name="Barnnamn",
            what_happened="Något allvarligt",
            state="received",
            created_at=now(),
        )
        database.session.add(report)
        database.session.flush()
        events.report_filed.send(None, report=report)
        events.report_filed.send(None, report=report)  # a repeated signal: still one item each
        ida_items = [i for i in items_of("Ida") if i.object_public_id == report.public_id]
        assert len(ida_items) == 1 and ida_items[0].child_id is None
        assert not [i for i in items_of("Johan") if i.object_public_id == report.public_id], "intake only"
        item_id = ida_items[0].public_id
        database.session.commit()
    html = as_user("ida").get("/inbox").get_data(as_text=True)
    block = item_block(html, item_id)
    assert "A new report of concern" in block
    assert "Hemligt" not in html and "Barnnamn" not in html and "allvarligt" not in html


def test_the_badge_poll_writes_no_audit_row_and_does_not_extend_the_session(app: Flask, as_user, clock) -> None:  # type: ignore[no-untyped-def]
    fixed_clock(clock)
    anna = as_user("anna")
    with app.app_context():
        child = fresh_child(("BVC Ekby",), child_contact=("Anna", BVC))
        make_concern(child, "Anna", BVC, "same_agency", "Anna", BVC)
        database.session.commit()
    clock.advance(timedelta(minutes=5))
    with app.app_context():
        seen_before = database.session.scalars(select(LoginSession.last_seen_at)).all()
        audit_before = database.session.scalar(select(func.count(AuditEvent.id)))
    response = anna.get("/inbox/count")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "<html" not in body and re.search(r'data-unread="[1-9]\d*"', body)
    with app.app_context():
        assert database.session.scalars(select(LoginSession.last_seen_at)).all() == seen_before
        assert database.session.scalar(select(func.count(AuditEvent.id))) == audit_before
    # An ordinary page does extend it (the poll is the exception).
    anna.get("/inbox")
    with app.app_context():
        assert database.session.scalars(select(LoginSession.last_seen_at)).all() != seen_before


def test_the_count_is_for_staff_only(app: Flask, as_user) -> None:  # type: ignore[no-untyped-def]
    assert as_user("lena").get("/inbox/count").status_code == 404
    assert as_user("admin").get("/inbox").status_code == 404
    assert app.test_client().get("/inbox/count").status_code == 302, "anonymous: to the login page"


# -- what is shown ---------------------------------------------------------------------------------------------
def test_opening_an_item_marks_it_read_with_a_post_only(app: Flask, as_user) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        child = fresh_child(("BVC Ekby",), child_contact=("Anna", BVC))
        concern = make_concern(child, "Anna", BVC, "same_agency", "Anna", BVC)
        (item,) = [i for i in items_of("Anna") if i.object_public_id == concern.public_id]
        item_id, child_id = item.public_id, child.public_id
        database.session.commit()
    anna = as_user("anna")
    assert anna.get(f"/inbox/{item_id}/open").status_code == 405
    assert anna.post(f"/inbox/{item_id}/open").status_code == 400, "CSRF"
    response = anna.post(f"/inbox/{item_id}/open", data={"csrf_token": csrf_token(anna, "/inbox")})
    assert response.status_code == 302
    assert child_id in response.headers["Location"]
    with app.app_context():
        assert database.session.scalar(select(InboxItem.read_at).where(InboxItem.public_id == item_id)) is not None
        assert database.session.scalar(
            select(func.count(AuditEvent.id)).where(
                AuditEvent.action == "read_inbox_item", AuditEvent.object_id == item_id
            )
        )
    assert 'data-read="yes"' in item_block(anna.get("/inbox").get_data(as_text=True), item_id)


def test_a_concern_for_a_child_without_child_contact_goes_to_the_agency_admins(app: Flask, as_user) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        child = fresh_child(("Klass 4–6",))
        concern = make_concern(child, "Anna", BVC, "agency_admin", None, "Ekby skola")
        admins = [i for i in items_of("Maria") if i.object_public_id == concern.public_id]
        assert [i.kind for i in admins] == ["concern_awaits_child_contact"]
        assert not [i for i in items_of("Lars") if i.object_public_id == concern.public_id]
        item_id, name = admins[0].public_id, child.full_name
        database.session.commit()
    block = item_block(as_user("maria").get("/inbox").get_data(as_text=True), item_id)
    assert name in block and "awaits a Child Contact" in block


def test_the_empty_inbox_says_what_happens_next(app: Flask, as_user) -> None:  # type: ignore[no-untyped-def]
    html = as_user("olle").get("/inbox").get_data(as_text=True)
    assert "Your inbox is empty" in html


def test_the_inbox_runs_the_same_statements_for_1_and_30_items(app: Flask, as_user, clock, count_queries) -> None:  # type: ignore[no-untyped-def]
    fixed_clock(clock)
    with app.app_context():
        child = fresh_child(("BVC Ekby",), child_contact=("Olle", "Primärvården Ekby"))
        make_concern(child, "Olle", "Primärvården Ekby", "same_agency", "Olle", "Primärvården Ekby")
        database.session.commit()
    olle = as_user("olle")  # no demo items: only what this test makes
    counts = []
    with count_queries() as counter:
        assert olle.get("/inbox").status_code == 200
    counts.append(counter.count)
    with app.app_context():
        for _number in range(29):
            other = fresh_child(("BVC Ekby",), child_contact=("Olle", "Primärvården Ekby"))
            make_concern(other, "Olle", "Primärvården Ekby", "same_agency", "Olle", "Primärvården Ekby")
        database.session.commit()
    with count_queries() as counter:
        html = olle.get("/inbox").get_data(as_text=True)
    counts.append(counter.count)
    assert len(shown_items(html)) == 20
    assert counts[0] == counts[1] == INBOX_STATEMENTS, counts


def test_the_nav_badge_polls_the_count_every_minute(app: Flask, as_user) -> None:  # type: ignore[no-untyped-def]
    html = as_user("anna").get("/").get_data(as_text=True)
    assert 'hx-get="/inbox/count"' in html and 'hx-trigger="load, every 60s"' in html


def test_a_pending_link_goes_to_whoever_decides_it(app: Flask, as_user) -> None:  # type: ignore[no-untyped-def]
    from coordination.registration.models import PendingLink
    from tests.chronology.support import unit

    with app.app_context():
        child = fresh_child(("BVC Ekby",), child_contact=("Anna", BVC))
        link = PendingLink(
            child_id=child.id, unit_id=unit("Solrosen").id, requested_by_id=person("Sara").id, requested_at=now()
        )
        database.session.add(link)
        database.session.flush()
        events.pending_link_requested.send(None, link=link)
        assert [i.kind for i in items_of("Anna") if i.object_public_id == link.public_id] == ["pending_link"]
        assert not [i for i in items_of("Sara") if i.object_public_id == link.public_id]
        item_id = next(i.public_id for i in items_of("Anna") if i.object_public_id == link.public_id)
        database.session.commit()
    block = item_block(as_user("anna").get("/inbox").get_data(as_text=True), item_id)
    assert "Solrosen asks to be linked to" in block and "approve or reject" in block
