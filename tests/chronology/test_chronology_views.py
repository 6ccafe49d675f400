"""The Chronology tab (RULES.md §4): negatives first — who gets 404, what never exists for another
agency, what is withheld and why — then what each viewer sees, the filters, paging, escaping, the audit
of every entry and the pinned statement count."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select

from coordination.chronology.models import CHRONOLOGY_KINDS, ChronologyEntry
from coordination.chronology.view import KIND_LABELS
from coordination.database import db as database
from coordination.models import AuditEvent
from tests.chronology.support import (
    BVC,
    SCHOOL,
    SOCIAL,
    agency,
    entry,
    fresh_child,
    give_coordination_consent,
    person,
)

# The Chronology tab for a member of staff: the session row with its account and person, the person's
# memberships (2); the child; my relations to it; the consent picture (consents, custody, maturity: 3 —
# plus the consents' areas and givers when there are any); the COUNT of entries, the page (2) and the
# page's areas (1); the audit rows (1: reads and denials in one INSERT).
CHRONOLOGY_STATEMENTS = 12  # the settings' overrides (1: coordination.settings, once per request)


def url(child_public_id: str, query: str = "") -> str:
    return f"/children/{child_public_id}/chronology{query}"


def entries_shown(html: str) -> list[str]:
    return re.findall(r'data-entry="([^"]+)"', html)


def withheld(html: str) -> dict[str, str]:
    return dict(re.findall(r'data-entry="([^"]+)" data-withheld="([^"]+)"', html))


def agency_options(html: str) -> list[str]:
    match = re.search(r"<select[^>]*data-agency-filter>(.*?)</select>", html, re.S)
    assert match
    return [name.strip() for name in re.findall(r"<option[^>]*>([^<]*)</option>", match.group(1))][1:]


def fixed_clock(clock: Any) -> None:
    clock.set(datetime.now(UTC))


# -- negatives ------------------------------------------------------------------------------------------------
def test_staff_without_a_relation_get_404_and_a_denial(app: Flask, as_user) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        child = fresh_child()
        entry(child, "concern_raised", BVC, "coordination", areas={"healthy"}, summary="Hörsel")
        public_id = child.public_id
        database.session.commit()
    for username in ("erik", "olle", "ida"):
        assert as_user(username).get(url(public_id)).status_code == 404, username
    assert as_user("lars").get(url("no-such-child")).status_code == 404
    with app.app_context():
        denied = database.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "view_child_chronology", AuditEvent.outcome == "denied")
        ).all()
    assert any(row.object_id == public_id for row in denied)


def test_the_school_never_learns_of_a_report_entry_not_even_as_withheld(app: Flask, as_user) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        child = fresh_child()
        report = entry(child, "report_filed", SOCIAL, "own_agency", areas={"safe"}, summary="Anmälan om oro")
        visible = entry(child, "concern_raised", SCHOOL, "coordination", areas={"achieving"}, summary="Läsning")
        public_id, report_id, visible_id = child.public_id, report.public_id, visible.public_id
        database.session.commit()
    for username in ("lars", "maria", "anna"):
        html = as_user(username).get(url(public_id)).get_data(as_text=True)
        assert report_id not in html, username
        assert "Anmälan om oro" not in html
        assert "Report of concern" not in html
    html = as_user("lars").get(url(public_id)).get_data(as_text=True)
    assert entries_shown(html) == [visible_id], "nothing hints at the report: the page counts one entry"
    assert "of 1" in html


def test_a_recipient_entry_exists_only_for_its_recipient_and_its_agency(app: Flask, as_user) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        child = fresh_child()
        signal = entry(
            child,
            "signal_received",
            BVC,
            "recipient",
            recipient_person_id=person("Maria").id,
            summary="Ring Anna",
        )
        public_id, signal_id = child.public_id, signal.public_id
        database.session.commit()
    assert signal_id not in as_user("lars").get(url(public_id)).get_data(as_text=True)
    assert signal_id in as_user("maria").get(url(public_id)).get_data(as_text=True)
    assert "Ring Anna" in as_user("anna").get(url(public_id)).get_data(as_text=True), "the owner agency"


def test_another_agencys_entry_is_withheld_with_the_reason_until_consent_covers_its_areas(app: Flask, as_user) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        child = fresh_child()
        worry = entry(
            child, "concern_raised", BVC, "coordination", areas={"healthy"}, tone="worry", summary="Hörselprov"
        )
        public_id, worry_id = child.public_id, worry.public_id
        database.session.commit()
    lars = as_user("lars")
    html = lars.get(url(public_id)).get_data(as_text=True)
    assert withheld(html) == {worry_id: "no_consent_for_your_agency"}
    assert "An entry you may not see: your agency has no consent for this." in html
    assert "Hörselprov" not in html and BVC not in html

    with app.app_context():
        give_coordination_consent(database.session.merge(child), SCHOOL, {"achieving"})
        database.session.commit()
    html = lars.get(url(public_id)).get_data(as_text=True)
    assert withheld(html)[worry_id] == "consent_does_not_cover_the_areas"
    assert "Hörselprov" not in html

    with app.app_context():
        give_coordination_consent(database.session.merge(child), SCHOOL, {"healthy"})
        database.session.commit()
    html = lars.get(url(public_id)).get_data(as_text=True)
    assert worry_id not in withheld(html)
    assert "Hörselprov" in html and BVC in html
    assert 'data-area="healthy"' in html


def test_the_agency_filter_offers_other_agencies_only_with_consent(app: Flask, as_user) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        child = fresh_child()
        bvc = entry(child, "concern_raised", BVC, "coordination", areas={"healthy"}, summary="BVC-anteckning")
        school = entry(child, "concern_raised", SCHOOL, "coordination", areas={"achieving"}, summary="Skolan")
        public_id, bvc_id, school_id = child.public_id, bvc.public_id, school.public_id
        bvc_agency = agency(BVC).public_id
        school_agency = agency(SCHOOL).public_id
        database.session.commit()
    lars = as_user("lars")
    html = lars.get(url(public_id)).get_data(as_text=True)
    assert agency_options(html) == [SCHOOL]
    assert 'data-withheld="no_consent_for_your_agency"' in html
    # Asking for another agency by its id does not filter by it (nor confirm it is involved).
    html = lars.get(url(public_id, f"?agency={bvc_agency}")).get_data(as_text=True)
    assert set(entries_shown(html)) == {bvc_id, school_id}
    html = lars.get(url(public_id, f"?agency={school_agency}")).get_data(as_text=True)
    assert entries_shown(html) == [school_id]

    with app.app_context():
        give_coordination_consent(database.session.merge(child), SCHOOL, {"healthy", "achieving"})
        database.session.commit()
    html = lars.get(url(public_id)).get_data(as_text=True)
    assert set(agency_options(html)) == {SCHOOL, BVC}
    html = lars.get(url(public_id, f"?agency={bvc_agency}")).get_data(as_text=True)
    assert entries_shown(html) == [bvc_id]


# -- what is shown ---------------------------------------------------------------------------------------------
def test_the_area_filter_keeps_the_entries_with_a_chosen_area(app: Flask, as_user) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        child = fresh_child()
        healthy = entry(child, "conversation", SCHOOL, "coordination", areas={"healthy", "safe"})
        achieving = entry(child, "conversation", SCHOOL, "coordination", areas={"achieving"})
        none = entry(child, "conversation", SCHOOL, "coordination")
        public_id = child.public_id
        ids = healthy.public_id, achieving.public_id, none.public_id
        database.session.commit()
    lars = as_user("lars")
    assert entries_shown(lars.get(url(public_id, "?area=healthy")).get_data(as_text=True)) == [ids[0]]
    both = lars.get(url(public_id, "?area=healthy&area=achieving")).get_data(as_text=True)
    assert set(entries_shown(both)) == {ids[0], ids[1]}
    assert set(entries_shown(lars.get(url(public_id, "?area=nonsense")).get_data(as_text=True))) == set(ids)
    empty = lars.get(url(public_id, "?area=active")).get_data(as_text=True)
    assert entries_shown(empty) == [] and "No entries match these filters" in empty


def test_script_in_a_summary_is_escaped(app: Flask, as_user) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        child = fresh_child()
        entry(child, "conversation", SCHOOL, "coordination", summary='<script>alert("x")</script>')
        public_id = child.public_id
        database.session.commit()
    html = as_user("lars").get(url(public_id)).get_data(as_text=True)
    assert '<script>alert("x")</script>' not in html
    assert "&lt;script&gt;" in html


def test_strengths_and_worries_are_marked_in_words_not_colour_alone(app: Flask, as_user) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        child = fresh_child()
        entry(child, "conversation", SCHOOL, "coordination", tone="strength", summary="Läser gärna")
        entry(child, "concern_raised", SCHOOL, "coordination", tone="worry", summary="Trött")
        public_id = child.public_id
        database.session.commit()
    html = as_user("lars").get(url(public_id)).get_data(as_text=True)
    assert re.search(r'data-tone-label="strength">[^<]*Strength', html)
    assert re.search(r'data-tone-label="worry">[^<]*Worry', html)
    assert "Conversation with the family" in html and "Concern raised" in html


def test_every_kind_has_a_label() -> None:
    assert set(KIND_LABELS) == set(CHRONOLOGY_KINDS)


def test_an_empty_chronology_says_what_to_do_next(app: Flask, as_user) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        public_id = fresh_child().public_id
        database.session.commit()
    html = as_user("lars").get(url(public_id)).get_data(as_text=True)
    assert "data-empty" in html and "raise a concern if you are worried" in html


def test_entries_are_newest_first_and_paged(app: Flask, as_user, clock) -> None:  # type: ignore[no-untyped-def]
    start = datetime(2025, 9, 1, 8, tzinfo=UTC)
    with app.app_context():
        child = fresh_child()
        made = [
            entry(child, "conversation", SCHOOL, "coordination", occurred_at=start + timedelta(days=number)).public_id
            for number in range(25)
        ]
        public_id = child.public_id
        database.session.commit()
    lars = as_user("lars")
    first = entries_shown(lars.get(url(public_id)).get_data(as_text=True))
    second = entries_shown(lars.get(url(public_id, "?page=2")).get_data(as_text=True))
    assert first == list(reversed(made))[:20]
    assert second == list(reversed(made))[20:]
    # Paging keeps every chosen area.
    with app.app_context():
        for _number in range(25):
            entry(child_by(public_id), "conversation", SCHOOL, "coordination", areas={"safe"})
        database.session.commit()
    html = lars.get(url(public_id, "?area=safe&area=active")).get_data(as_text=True)
    assert "area=safe" in html and "area=active" in html and 'rel="next"' in html


def child_by(public_id: str):  # type: ignore[no-untyped-def]
    from coordination.children.models import Child

    return database.session.scalar(select(Child).where(Child.public_id == public_id))


def test_every_entry_shown_or_withheld_is_audited(app: Flask, as_user) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        child = fresh_child()
        own = entry(child, "conversation", SCHOOL, "coordination")
        other = entry(child, "concern_raised", BVC, "coordination", areas={"healthy"})
        public_id, own_id, other_id = child.public_id, own.public_id, other.public_id
        database.session.commit()
    as_user("lars").get(url(public_id))
    with app.app_context():
        rows = {
            row.object_id: (row.outcome, row.legal_basis, (row.detail or {}).get("reason"))
            for row in database.session.scalars(select(AuditEvent).where(AuditEvent.action == "view_chronology_entry"))
        }
    assert rows[own_id] == ("allowed", "own_agency_record", None)
    assert rows[other_id] == ("denied", None, "no_consent_for_your_agency")


def test_consent_changes_land_in_the_chronology(app: Flask, as_user) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        child = fresh_child()
        (consent,) = give_coordination_consent(child, SCHOOL, {"safe", "healthy"})
        found = database.session.scalar(
            select(ChronologyEntry).where(
                ChronologyEntry.child_id == child.id, ChronologyEntry.kind == "consent_recorded"
            )
        )
        assert found is not None
        assert (found.owner_agency_id, found.audience, found.area_codes) == (
            agency(SCHOOL).id,
            "agencies",
            frozenset({"safe", "healthy"}),
        )
        assert found.object_public_id == consent.public_id


# -- statements --------------------------------------------------------------------------------------------
def test_the_chronology_runs_the_same_statements_for_3_and_60_entries(
    app: Flask, as_user, clock, count_queries
) -> None:  # type: ignore[no-untyped-def]
    fixed_clock(clock)
    with app.app_context():
        small, large = fresh_child(), fresh_child()
        for child, count in ((small, 3), (large, 60)):
            for number in range(count):
                owner = (SCHOOL, BVC)[number % 2]
                entry(
                    child, "conversation", owner, "coordination", areas={"healthy"}, author_person_id=person("Anna").id
                )
        ids = small.public_id, large.public_id
        database.session.commit()
    lars = as_user("lars")
    counts = []
    for public_id in ids:
        with count_queries() as counter:
            assert lars.get(url(public_id)).status_code == 200
        counts.append(counter.count)
    assert counts == [CHRONOLOGY_STATEMENTS, CHRONOLOGY_STATEMENTS], counts
