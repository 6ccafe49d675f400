"""Every object URL of issue 4 (concerns, Support Coordinator requests, meetings, the team's confirmation pages,
siblings, reports of concern and intake, the unmatched-concern register page, chronology and team tabs), as
tables like tests/access/matrix.py: who gets what. Deny by default: a persona not listed for a URL gets 404,
the refusal leaves a denied audit row, and a refused POST writes nothing.

Ids are random per database: the tables name objects (``{elsa_concern}``, ``{Omar}``), resolved from the demo
by tests/access/object_fixtures.py. The demo's issue-4 facts are DEMO.md's and coordination/demo_concerns.py's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask

from coordination.demo.ekby import PERSONAS
from tests.access.matrix import expectation
from tests.access.object_fixtures import (
    UNKNOWN_ID,
    Session,
    audit_since,
    changed_tables,
    demo_objects,
    denied_since,
    domain_tables,
    last_audit_id,
    raise_unmatched_concern,
    snapshot,
)

OMAR_TEAM = frozenset({"johan", "maria", "lars", "nina", "karin"})
ELSA_TEAM = frozenset({"anna", "sara", "hanna"})

# -- GET: the object pages, and who may open each (everyone else: 404) -------------------------------------------
GET_URLS: dict[str, str] = {
    # a concern: its author, the Child Contact it reached, and staff whose agency's consent covers its areas
    "elsa_concern": "/children/{Elsa}/concerns/{elsa_concern}",
    "elsa_concern_close": "/children/{Elsa}/concerns/{elsa_concern}/close",
    "liam_signal": "/children/{Liam}/concerns/{liam_signal}",
    "liam_bvc_concern": "/children/{Liam}/concerns/{liam_bvc_concern}",
    # requests to become Support Coordinator: the nominee's page; the Child Contact's picker
    "elsa_coordinator_request": "/children/{Elsa}/coordinator-requests/{elsa_request}",
    "omar_coordinator_request": "/children/{Omar}/coordinator-requests/{omar_request}",
    "elsa_ask_for_coordinator": "/children/{Elsa}/coordinator-requests/new",
    "omar_ask_for_coordinator": "/children/{Omar}/coordinator-requests/new",
    # meetings and the plan keeper's pages
    "omar_held_meeting": "/children/{Omar}/meetings/{omar_held_meeting}",
    "omar_next_meeting": "/children/{Omar}/meetings/{omar_next_meeting}",
    "alva_meeting": "/children/{Alva}/meetings/{alva_meeting}",
    "omar_cancel_next_meeting": "/children/{Omar}/meetings/{omar_next_meeting}/cancel",
    "alva_cancel_meeting": "/children/{Alva}/meetings/{alva_meeting}/cancel",
    "omar_new_meeting": "/children/{Omar}/meetings/new",
    "elsa_new_meeting": "/children/{Elsa}/meetings/new",
    "alva_new_meeting": "/children/{Alva}/meetings/new",
    # the team's confirmation pages
    "omar_remove_karin": "/children/{Omar}/team/members/{omar_member_karin}/remove",
    "elsa_remove_sara": "/children/{Elsa}/team/members/{elsa_member_sara}/remove",
    "omar_leave": "/children/{Omar}/team/leave",
    "elsa_leave": "/children/{Elsa}/team/leave",
    "alva_leave": "/children/{Alva}/team/leave",
    # siblings (the Child Contact of each child only)
    "liam_siblings": "/children/{Liam}/siblings",
    "ella_siblings": "/children/{Ella}/siblings",
    "liam_sibling_request": "/children/{Liam}/siblings/1/request",
    "ella_sibling_request": "/children/{Ella}/siblings/1/request",
    # reports of concern: the reporter's receipt; intake's queue and page
    "maja_receipt": "/reports/{maja_report}",
    "maja_intake": "/intake/{maja_report}",
    "intake_queue": "/intake",
    # an unmatched concern in the school's agency admin's queue (made by the test: lars, unknown number)
    "unmatched_register": "/agency/concerns/{unmatched}/register",
    # the child's tabs and pages of issue 4: as the authorization matrix says for the child
    "elsa_chronology": "/children/{Elsa}/chronology",
    "omar_chronology": "/children/{Omar}/chronology",
    "alva_chronology": "/children/{Alva}/chronology",
    "maja_chronology": "/children/{Maja}/chronology",
    "elsa_team": "/children/{Elsa}/team",
    "omar_team": "/children/{Omar}/team",
    "alva_team": "/children/{Alva}/team",
    "elsa_raise_concern": "/children/{Elsa}/concerns/new",
    "maja_raise_concern": "/children/{Maja}/concerns/new",
    # one published version of Omar's plan (issue 16): as the child's Plan tab, staff with a relation only
    "omar_plan_version": "/children/{Omar}/plan/versions/{omar_plan_version}",
}

# Who gets 200. Everyone else gets 404 (deny by default).
GET_ALLOWED: dict[str, frozenset[str]] = {
    # sara wrote it, anna is the Child Contact it reached, hanna's agency (habilitation) holds Lena's consent
    "elsa_concern": ELSA_TEAM,
    "elsa_concern_close": frozenset({"anna"}),  # the Child Contact's action
    "liam_signal": frozenset({"anna", "sara"}),  # the recipient of the signal, and its author
    "liam_bvc_concern": frozenset({"anna"}),  # BVC's own concern; the preschool's consent is only pending
    "elsa_coordinator_request": frozenset({"hanna"}),  # the nominee only
    "omar_coordinator_request": frozenset({"johan"}),
    "elsa_ask_for_coordinator": frozenset({"anna"}),  # the Child Contact only
    "omar_ask_for_coordinator": frozenset({"maria"}),
    # the team, and bodil: a practitioner of the BUP unit that owns karin's actions in Omar's plan (a relation),
    # whose agency's team-meetings consent covers the meeting's areas (RULES.md §4)
    "omar_held_meeting": OMAR_TEAM | {"bodil"},
    "omar_next_meeting": OMAR_TEAM | {"bodil"},
    "alva_meeting": frozenset({"maria"}),
    "omar_cancel_next_meeting": frozenset({"johan"}),  # the plan keeper (Support Coordinator)
    "alva_cancel_meeting": frozenset({"maria"}),  # no Support Coordinator: the Child Contact keeps the plan
    "omar_new_meeting": frozenset({"johan"}),
    "elsa_new_meeting": frozenset({"hanna"}),
    "alva_new_meeting": frozenset({"maria"}),
    "omar_remove_karin": frozenset({"johan"}),
    "elsa_remove_sara": frozenset({"hanna"}),
    "omar_leave": OMAR_TEAM,
    "elsa_leave": ELSA_TEAM,
    "alva_leave": frozenset({"maria"}),
    "liam_siblings": frozenset({"anna"}),
    "ella_siblings": frozenset({"maria"}),
    "liam_sibling_request": frozenset({"anna"}),
    "ella_sibling_request": frozenset({"maria"}),
    "maja_receipt": frozenset({"erik"}),  # the reporter only: not intake, not the school
    "maja_intake": frozenset({"ida"}),  # every intake member (ida is the demo's one)
    "intake_queue": frozenset({"ida"}),
    "unmatched_register": frozenset({"maria"}),  # the author's agency admin only
}
# The child's tabs follow the authorization matrix (tests/access/matrix.py) for the child.
CHILD_PAGES: dict[str, str] = {
    "elsa_chronology": "Elsa",
    "omar_chronology": "Omar",
    "alva_chronology": "Alva",
    "maja_chronology": "Maja",
    "elsa_team": "Elsa",
    "omar_team": "Omar",
    "alva_team": "Alva",
    "elsa_raise_concern": "Elsa",
    "maja_raise_concern": "Maja",
    "omar_plan_version": "Omar",
}


def expected_get(persona: str, key: str) -> int:
    if key in CHILD_PAGES:
        return expectation(persona, CHILD_PAGES[key]).status
    return 200 if persona in GET_ALLOWED.get(key, frozenset()) else 404


def get_cases() -> list[tuple[str, str]]:
    return [(persona, key) for persona in PERSONAS for key in GET_URLS]


# -- POST: every action on those objects; who may act (with the status their request gets) ----------------------
@dataclass(frozen=True)
class PostRoute:
    url: str
    body: Callable[[dict[str, str]], dict[str, Any]]
    tables: tuple[str, ...]  # what the action writes: untouched by a refusal
    allowed: dict[str, int] = field(default_factory=dict)  # persona → status of a rightful request


def _concern_fields(o: dict[str, str]) -> dict[str, Any]:
    return {
        "areas": ["achieving"],
        "observed_on": o["today"],
        "observations": "Elsa sat alone at every meal this week.",
        "strengths": "Helps the younger children.",
        "urgency": "routine",
    }


POSTS: dict[str, PostRoute] = {
    "liam_acknowledge": PostRoute(
        "/children/{Liam}/concerns/{liam_signal}/acknowledge",
        lambda o: {},
        ("concern", "chronology_entry"),
        {"anna": 302},
    ),
    "liam_conversation": PostRoute(
        "/children/{Liam}/concerns/{liam_signal}/conversations",
        lambda o: {"with_whom": "family", "held_on": o["today"], "text": "Talked with Jonas at pick-up."},
        ("chronology_entry",),
        {"anna": 302},
    ),
    "liam_close": PostRoute(
        "/children/{Liam}/concerns/{liam_signal}/close",
        lambda o: {"reason": "handled_within_agency", "note": "Handled at BVC.", "confirm": "y"},
        ("concern", "chronology_entry"),
        {"anna": 302},
    ),
    "elsa_ask_for_coordinator": PostRoute(
        "/children/{Elsa}/coordinator-requests/new",
        lambda o: {"message": "Would you take it on?"},  # nobody chosen: the form refuses (422)
        ("coordinator_request",),
        {"anna": 422},
    ),
    "omar_accept_request": PostRoute(
        "/children/{Omar}/coordinator-requests/{omar_request}/accept",
        lambda o: {},
        ("coordinator_request", "role_assignment"),
        {"johan": 422},  # already accepted: "This request has already been answered"
    ),
    "omar_decline_request": PostRoute(
        "/children/{Omar}/coordinator-requests/{omar_request}/decline",
        lambda o: {"reason": "No time this term."},
        ("coordinator_request", "role_assignment"),
        {"johan": 422},  # already accepted
    ),
    "omar_propose_meeting": PostRoute(
        "/children/{Omar}/meetings/new",
        lambda o: {
            "starts_at": o["in_20_days"],
            "ends_at": o["in_20_days_end"],
            "place": "Ekby skola, room 3",
            "agenda": "Follow-up.",
            "areas": ["healthy"],
        },
        ("meeting", "meeting_area", "chronology_entry", "inbox_item"),
        {"johan": 302},
    ),
    "omar_reschedule": PostRoute(
        "/children/{Omar}/meetings/{omar_next_meeting}/reschedule",
        lambda o: {
            "version": o["omar_next_meeting_version"],
            "starts_at": o["in_20_days"],
            "ends_at": o["in_20_days_end"],
            "place": "Ekby skola, room 3",
        },
        ("meeting", "chronology_entry"),
        {"johan": 302},
    ),
    "omar_cancel": PostRoute(
        "/children/{Omar}/meetings/{omar_next_meeting}/cancel",
        lambda o: {"version": o["omar_next_meeting_version"], "reason": "Johan is ill.", "confirm": "y"},
        ("meeting", "chronology_entry"),
        {"johan": 302},
    ),
    "omar_record_outcome": PostRoute(
        "/children/{Omar}/meetings/{omar_held_meeting}/outcome",
        lambda o: {"version": o["omar_held_meeting_version"], "child_views": "Omar likes football."},
        ("meeting", "meeting_attendee", "meeting_decision"),
        {"johan": 422},  # already recorded
    ),
    "omar_add_member": PostRoute(
        "/children/{Omar}/team/members",
        lambda o: {"member": "nobody"},
        ("team_member",),
        {"johan": 422},
    ),
    "omar_invite_family": PostRoute(
        "/children/{Omar}/team/family",
        lambda o: {"invitee": o["ahmed"]},
        ("team_family_invitation",),
        {"johan": 422},  # Ahmed is invited already
    ),
    "omar_remove_karin": PostRoute(
        "/children/{Omar}/team/members/{omar_member_karin}/remove",
        lambda o: {"confirm": "y"},
        ("team_member", "chronology_entry"),
        {"johan": 302},
    ),
    "omar_withhold_karin": PostRoute(
        "/children/{Omar}/team/members/{omar_member_karin}/withhold",
        lambda o: {f"withhold-{o['omar_member_karin']}-reason": ""},  # no reason: the form refuses (422)
        ("team_member", "chronology_entry"),
        {"karin": 422, "bodil": 422},  # staff of the member's own agency (BUP) with a relation only
    ),
    "omar_leave": PostRoute(
        "/children/{Omar}/team/leave",
        lambda o: {"confirm": "y"},
        ("team_member", "chronology_entry"),
        {"lars": 302, "nina": 302, "karin": 302, "maria": 302, "johan": 302},
    ),
    "liam_sibling_request": PostRoute(
        "/children/{Liam}/siblings/1/request",
        lambda o: {"sibling": "1"},
        ("sibling_contact_request", "inbox_item"),
        {"anna": 303},
    ),
    "elsa_raise_concern": PostRoute(
        "/children/{Elsa}/concerns/new",
        _concern_fields,
        ("concern", "concern_area", "chronology_entry"),
        {"anna": 303, "sara": 303, "hanna": 303},
    ),
    "maja_intake_acknowledge": PostRoute(
        "/intake/{maja_report}/acknowledge",
        lambda o: {"acknowledge_confirm": "y"},
        ("report_of_concern",),
        {"ida": 302},
    ),
    "maja_intake_search": PostRoute(
        "/intake/{maja_report}/search", lambda o: {"search_name": "Maja"}, ("report_of_concern",), {"ida": 200}
    ),
    "maja_intake_match": PostRoute(
        "/intake/{maja_report}/match",
        lambda o: {"match_child": o["Maja"], "match_confirm": "y"},
        ("report_of_concern",),
        {"ida": 302},
    ),
    "maja_intake_register": PostRoute(
        "/intake/{maja_report}/register",
        lambda o: {"register_given_name": "Maja", "register_family_name": "Johansson"},
        ("report_of_concern", "child"),
        {"ida": 422},  # the number is registered already: match instead
    ),
    "maja_intake_duplicate": PostRoute(
        "/intake/{maja_report}/duplicate",
        lambda o: {"duplicate_reference": "NO-SUCH-REF"},
        ("report_of_concern",),
        {"ida": 422},
    ),
    "maja_intake_assign": PostRoute(
        "/intake/{maja_report}/assign",
        lambda o: {"unit": o["children_and_families"]},
        ("report_of_concern",),
        {"ida": 302},
    ),
    "unmatched_register": PostRoute(
        "/agency/concerns/{unmatched}/register",
        lambda o: {"given_name": "Okänd", "family_name": "Barnsson", "unit": o["class_1_3"]},
        ("child", "concern", "enrolment"),
        {"maria": 303},
    ),
    "open_annas_inbox_item": PostRoute(
        "/inbox/{anna_inbox_elsa_concern}/open", lambda o: {}, ("inbox_item",), {"anna": 302}
    ),
}

# A nested object asked for through the WRONG child is 404, even for someone who may see both children.
WRONG_CHILD_GETS: list[tuple[str, str]] = [
    ("karin", "/children/{Noah}/meetings/{omar_held_meeting}"),
    ("maria", "/children/{Noah}/meetings/{omar_next_meeting}"),
    ("maria", "/children/{Noah}/meetings/{omar_next_meeting}/cancel"),  # maria keeps Noah's plan
    ("johan", "/children/{Leo}/meetings/{omar_next_meeting}"),
    ("johan", "/children/{Leo}/meetings/{omar_next_meeting}/cancel"),  # johan keeps Omar's and Leo's plans
    ("maria", "/children/{Omar}/meetings/{alva_meeting}"),
    ("johan", "/children/{Leo}/coordinator-requests/{omar_request}"),
    ("johan", "/children/{Leo}/team/members/{omar_member_karin}/remove"),
    ("maria", "/children/{Noah}/team/members/{omar_member_karin}/remove"),
    ("anna", "/children/{Liam}/concerns/{elsa_concern}"),
    ("anna", "/children/{Elsa}/concerns/{liam_bvc_concern}"),
    ("anna", "/children/{Liam}/concerns/{elsa_concern}/close"),
]
WRONG_CHILD_POSTS: list[tuple[str, str, str]] = [
    # (persona, URL, the POST route whose body and tables are used)
    ("johan", "/children/{Leo}/meetings/{omar_next_meeting}/cancel", "omar_cancel"),
    ("johan", "/children/{Leo}/meetings/{omar_next_meeting}/reschedule", "omar_reschedule"),
    ("johan", "/children/{Leo}/meetings/{omar_held_meeting}/outcome", "omar_record_outcome"),
    ("johan", "/children/{Leo}/team/members/{omar_member_karin}/remove", "omar_remove_karin"),
    ("maria", "/children/{Noah}/team/members/{omar_member_karin}/remove", "omar_remove_karin"),
    ("johan", "/children/{Leo}/coordinator-requests/{omar_request}/accept", "omar_accept_request"),
    ("anna", "/children/{Elsa}/concerns/{liam_signal}/acknowledge", "liam_acknowledge"),
    ("anna", "/children/{Elsa}/concerns/{liam_signal}/close", "liam_close"),
]
# An unknown id under a URL its rightful viewer may otherwise open: 404 (audited).
UNKNOWN_IDS: list[tuple[str, str]] = [
    ("anna", "/children/{Elsa}/concerns/" + UNKNOWN_ID),
    ("anna", "/children/{Elsa}/concerns/" + UNKNOWN_ID + "/close"),
    ("hanna", "/children/{Elsa}/coordinator-requests/" + UNKNOWN_ID),
    ("johan", "/children/{Omar}/meetings/" + UNKNOWN_ID),
    ("johan", "/children/{Omar}/meetings/" + UNKNOWN_ID + "/cancel"),
    ("johan", "/children/{Omar}/team/members/" + UNKNOWN_ID + "/remove"),
    ("erik", "/reports/" + UNKNOWN_ID),
    ("ida", "/intake/" + UNKNOWN_ID),
    ("maria", "/agency/concerns/" + UNKNOWN_ID + "/register"),
    ("johan", "/children/" + UNKNOWN_ID + "/meetings/{omar_next_meeting}"),
    ("anna", "/children/" + UNKNOWN_ID + "/concerns/{elsa_concern}"),
    ("erik", "/children/" + UNKNOWN_ID + "/chronology"),
]


def post_cases() -> list[tuple[str, str]]:
    return [(key, persona) for key, route in POSTS.items() for persona in route.allowed]


def objects_with_unmatched(app: Flask) -> dict[str, str]:
    objects = demo_objects(app)
    objects["unmatched"] = raise_unmatched_concern(app)
    return objects


# -- the tables themselves ----------------------------------------------------------------------------------------
def test_the_tables_name_real_personas_urls_and_routes() -> None:
    for key, personas in GET_ALLOWED.items():
        assert key in GET_URLS, key
        assert personas <= set(PERSONAS), key
    for key, route in POSTS.items():
        assert set(route.allowed) <= set(PERSONAS), key
        assert route.tables, key
    assert set(GET_URLS) == set(GET_ALLOWED) | set(CHILD_PAGES)
    assert {key for _persona, key in get_cases()} == set(GET_URLS)


def test_every_object_route_of_issue_4_is_in_a_table(app: Flask) -> None:
    """A new route under the blueprints of issue 4 fails here until a table lists it (GET and POST apart)."""
    import re

    def shape(url: str) -> str:
        return re.sub(r"\{[^}]+\}", "<>", url).replace("/siblings/1/", "/siblings/<>/")

    listed = {("GET", shape(url)) for url in GET_URLS.values()} | {("POST", shape(r.url)) for r in POSTS.values()}
    blueprints = ("concern.", "concerns.", "teams.", "reports.", "chronology.", "inbox.")
    # lists and forms that are not about one object (the reporter's own list, the inbox, the forms by number)
    not_object_urls = {"/concerns/new", "/concerns/delivered", "/agency/concerns", "/reports/new", "/reports"}
    not_object_urls |= {"/inbox", "/inbox/count"}
    missing = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith(blueprints) or rule.rule in not_object_urls:
            continue
        for method in sorted((rule.methods or set()) & {"GET", "POST"}):
            if (method, re.sub(r"<[^>]+>", "<>", rule.rule)) not in listed:
                missing.append(f"{method} {rule.rule}")
    assert not missing, "routes of issue 4 not in the tables:\n" + "\n".join(sorted(missing))


# -- GET ------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("persona", PERSONAS)
def test_object_pages(app: Flask, db: Any, persona: str) -> None:
    """Every object page for this persona: negatives first; every 404 leaves a denied audit row."""
    objects = objects_with_unmatched(app)
    session = Session(app, persona)
    keys = sorted(GET_URLS, key=lambda key: expected_get(persona, key) == 200)  # the 404s first
    problems: list[str] = []
    for key in keys:
        expected = expected_get(persona, key)
        before = last_audit_id(app)
        status = session.get(GET_URLS[key].format(**objects)).status_code
        if status != expected:
            problems.append(f"{persona} GET {key}: {status}, expected {expected}")
            continue
        if status == 404 and not denied_since(app, before, session.account_id):
            problems.append(f"{persona} GET {key}: 404 without a denied audit row")
    assert not problems, "\n" + "\n".join(problems)


def test_the_police_get_404_on_everything_of_elsa_and_omar(app: Flask, db: Any) -> None:
    objects = objects_with_unmatched(app)
    erik = Session(app, "erik")
    for key, url in GET_URLS.items():
        if "{Elsa}" in url or "{Omar}" in url:
            assert erik.get(url.format(**objects)).status_code == 404, key
    for key, route in POSTS.items():
        if "{Elsa}" in route.url or "{Omar}" in route.url:
            assert erik.post(route.url.format(**objects), route.body(objects)).status_code == 404, key


@pytest.mark.parametrize("persona", ["maria", "lars"])
def test_the_school_gets_404_on_the_receipt_and_the_intake_pages(app: Flask, db: Any, persona: str) -> None:
    objects = demo_objects(app)
    school = Session(app, persona)
    for url in ("/reports/{maja_report}", "/intake/{maja_report}", "/intake"):
        assert school.get(url.format(**objects)).status_code == 404, url
    mine = school.get("/reports").get_data(as_text=True)
    assert objects["maja_report"] not in mine, "erik's report is not in the school's own list"


def test_karin_and_ida_get_404_on_elsas_concern_and_team(app: Flask, db: Any) -> None:
    objects = demo_objects(app)
    karin = Session(app, "karin")
    assert karin.get("/children/{Elsa}/concerns/{elsa_concern}".format(**objects)).status_code == 404
    ida = Session(app, "ida")
    for url in ("/children/{Elsa}/concerns/{elsa_concern}", "/children/{Elsa}/team"):
        assert ida.get(url.format(**objects)).status_code == 404, url


def test_erik_sees_only_his_own_receipt(app: Flask, db: Any) -> None:
    objects = demo_objects(app)
    erik = Session(app, "erik")
    assert erik.get("/intake/{maja_report}".format(**objects)).status_code == 404
    assert erik.get("/intake").status_code == 404
    receipt = erik.get("/reports/{maja_report}".format(**objects))
    assert receipt.status_code == 200
    html = receipt.get_data(as_text=True)
    for secret in ("Maja", "Johansson", "järnvägsstationen", "Nora"):
        assert secret not in html, f"the receipt shows nothing about the child: {secret}"


@pytest.mark.parametrize(("persona", "url"), WRONG_CHILD_GETS)
def test_a_nested_object_through_the_wrong_child_is_404(app: Flask, db: Any, persona: str, url: str) -> None:
    objects = demo_objects(app)
    session = Session(app, persona)
    before = last_audit_id(app)
    assert session.get(url.format(**objects)).status_code == 404
    assert denied_since(app, before, session.account_id), "the refusal is audited"


@pytest.mark.parametrize(("persona", "url", "route"), WRONG_CHILD_POSTS)
def test_a_post_through_the_wrong_child_is_404_and_writes_nothing(
    app: Flask, db: Any, persona: str, url: str, route: str
) -> None:
    objects = demo_objects(app)
    session = Session(app, persona)
    tables = domain_tables()
    before_rows = snapshot(app, tables)
    before = last_audit_id(app)
    assert session.post(url.format(**objects), POSTS[route].body(objects)).status_code == 404
    assert denied_since(app, before, session.account_id), "the refusal is audited"
    assert changed_tables(before_rows, snapshot(app, tables)) == []


@pytest.mark.parametrize(("persona", "url"), UNKNOWN_IDS)
def test_an_unknown_id_is_404_and_audited(app: Flask, db: Any, persona: str, url: str) -> None:
    objects = demo_objects(app)
    session = Session(app, persona)
    before = last_audit_id(app)
    assert session.get(url.format(**objects)).status_code == 404
    assert denied_since(app, before, session.account_id), "the refusal is audited"


# -- POST -----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("persona", PERSONAS)
def test_refused_posts_are_404_audited_and_write_nothing(app: Flask, db: Any, persona: str) -> None:
    """Every action this persona may not take: 404, a denied audit row, and the affected tables unchanged
    (and, over the whole run, every table of the domain)."""
    objects = objects_with_unmatched(app)
    session = Session(app, persona)
    everything = domain_tables()
    whole_before = snapshot(app, everything)
    problems: list[str] = []
    for key, route in POSTS.items():
        if persona in route.allowed:
            continue
        rows_before = snapshot(app, route.tables)
        before = last_audit_id(app)
        status = session.post(route.url.format(**objects), route.body(objects)).status_code
        if status != 404:
            problems.append(f"{persona} POST {key}: {status}, expected 404")
        elif not denied_since(app, before, session.account_id):
            problems.append(f"{persona} POST {key}: 404 without a denied audit row")
        changed = changed_tables(rows_before, snapshot(app, route.tables))
        if changed:
            problems.append(f"{persona} POST {key}: wrote to {changed}")
    changed = changed_tables(whole_before, snapshot(app, everything))
    if changed:
        problems.append(f"{persona}: the refused POSTs changed {changed}")
    assert not problems, "\n" + "\n".join(problems)


@pytest.mark.parametrize(("key", "persona"), post_cases())
def test_the_rightful_post_reaches_the_action(app: Flask, db: Any, key: str, persona: str) -> None:
    """The persona the table allows gets past access (the status their request earns, never 404)."""
    objects = objects_with_unmatched(app)
    route = POSTS[key]
    session = Session(app, persona)
    before = last_audit_id(app)
    response = session.post(route.url.format(**objects), route.body(objects))
    assert response.status_code == route.allowed[persona], response.get_data(as_text=True)[:3000]
    refusals = [row for row in denied_since(app, before, session.account_id) if "refused" not in (row.detail or {})]
    assert not refusals, "no access refusal on the rightful path (an operation's own refusal is audited apart)"


# -- the rightful viewers see their page -----------------------------------------------------------------------------
def test_anna_sees_elsas_concern(app: Flask, db: Any) -> None:
    objects = demo_objects(app)
    before = last_audit_id(app)
    anna = Session(app, "anna")
    response = anna.get("/children/{Elsa}/concerns/{elsa_concern}".format(**objects))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "enstaka ord på förskolan" in html and "Älskar bilderböcker" in html
    reads = [r for r in audit_since(app, before) if r.object_type == "concern" and r.outcome == "allowed"]
    assert reads and reads[-1].object_id == objects["elsa_concern"], "the read of the concern is audited"


@pytest.mark.parametrize("persona", ["johan", "karin"])
def test_omars_team_sees_his_meeting(app: Flask, db: Any, persona: str) -> None:
    objects = demo_objects(app)
    session = Session(app, persona)
    held = session.get("/children/{Omar}/meetings/{omar_held_meeting}".format(**objects))
    assert held.status_code == 200
    html = held.get_data(as_text=True)
    assert "Ekby skola, mötesrum 2" in html
    assert "En bedömning på BUP av Omar" in html, "BUP's own decision"
    assert session.get("/children/{Omar}/meetings/{omar_next_meeting}".format(**objects)).status_code == 200


def test_erik_sees_his_receipt_and_ida_the_intake_report(app: Flask, db: Any) -> None:
    objects = demo_objects(app)
    erik = Session(app, "erik")
    receipt = erik.get("/reports/{maja_report}".format(**objects))
    assert receipt.status_code == 200
    ida = Session(app, "ida")
    report = ida.get("/intake/{maja_report}".format(**objects))
    assert report.status_code == 200
    assert "järnvägsstationen" in report.get_data(as_text=True)
    assert objects["maja_report"] in ida.get("/intake").get_data(as_text=True)


def test_anna_sees_the_siblings_page_about_liam_and_nothing_of_ella(app: Flask, db: Any) -> None:
    objects = demo_objects(app)
    anna = Session(app, "anna")
    response = anna.get("/children/{Liam}/siblings".format(**objects))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "/children/{Liam}/siblings/1/request".format(**objects) in html
    for secret in ("Ella", objects["Ella"], "Maria Holm", "Klass 1–3"):
        assert secret not in html, secret
    assert anna.get("/children/{Liam}/siblings/1/request".format(**objects)).status_code == 200


def test_maria_sees_the_unmatched_concerns_register_page(app: Flask, db: Any) -> None:
    objects = objects_with_unmatched(app)
    maria = Session(app, "maria")
    response = maria.get("/agency/concerns/{unmatched}/register".format(**objects))
    assert response.status_code == 200
    assert "bruise" not in response.get_data(as_text=True), "the agency admin sees name and age, never the concern"


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_an_unknown_sibling_number_is_404_and_audited(app: Flask, db: Any, method: str) -> None:
    objects = demo_objects(app)
    anna = Session(app, "anna")
    url = "/children/{Liam}/siblings/9/request".format(**objects)
    before = last_audit_id(app)
    response = anna.get(url) if method == "GET" else anna.post(url, {"sibling": "9"})
    assert response.status_code == 404
    assert denied_since(app, before, anna.account_id), "the refusal is audited"


# An identity number typed into the address where an object id belongs is 404, and it is not stored in clear in
# the audit trail (RULES.md §10; access.get_child_or_404 masks digit runs the same way).
NUMBER = "201701012393"  # Omar's (a published test number)


NUMBER_AS_ID: list[Any] = [
    ("anna", "/children/{Elsa}/concerns/" + NUMBER),
    ("hanna", "/children/{Elsa}/coordinator-requests/" + NUMBER),
    ("johan", "/children/{Omar}/meetings/" + NUMBER),
    ("johan", "/children/{Omar}/team/members/" + NUMBER + "/remove"),
    ("erik", "/reports/" + NUMBER),
    ("ida", "/intake/" + NUMBER),
    ("maria", "/agency/concerns/" + NUMBER + "/register"),
    ("erik", "/children/" + NUMBER + "/chronology"),
    ("anna", "POST /inbox/" + NUMBER + "/open"),
    ("lars", "POST /intake/" + NUMBER + "/acknowledge"),
]


@pytest.mark.parametrize(("persona", "url"), NUMBER_AS_ID)
def test_an_identity_number_as_an_object_id_is_404_and_masked_in_the_audit(
    app: Flask, db: Any, persona: str, url: str
) -> None:
    objects = demo_objects(app)
    session = Session(app, persona)
    before = last_audit_id(app)
    if url.startswith("POST "):
        response = session.post(url.removeprefix("POST ").format(**objects))
    else:
        response = session.get(url.format(**objects))
    assert response.status_code == 404
    rows = denied_since(app, before, session.account_id)
    assert rows, "the refusal is audited"
    for row in audit_since(app, before):
        assert NUMBER[2:] not in f"{row.object_id} {row.detail}", (row.action, row.object_type, row.object_id)


# -- access ends on the next request ----------------------------------------------------------------------------
def test_a_removed_team_member_gets_404_on_the_next_request(app: Flask, db: Any) -> None:
    from sqlalchemy import select, update

    from agencies.models import Agency
    from childplan.models import Action
    from coordination.children.models import Child
    from coordination.database import db as database

    objects = demo_objects(app)
    with app.app_context():
        # karin's actions in Omar's plan go back to BUP without a named unit or person: the team is then her
        # only relation to Omar (an action's owner person or unit is one too, RULES.md §2)
        omar = database.session.scalar(select(Child.id).where(Child.public_id == objects["Omar"]))
        bup = database.session.scalar(select(Agency.id).where(Agency.name == "BUP Ekby"))
        database.session.execute(
            update(Action)
            .where(Action.child_id == omar, Action.owner_agency_id == bup)
            .values(owner_unit_id=None, owner_person_id=None)
        )
        database.session.commit()
    karin = Session(app, "karin")
    meeting = "/children/{Omar}/meetings/{omar_held_meeting}".format(**objects)
    assert karin.get(meeting).status_code == 200
    johan = Session(app, "johan")
    removed = johan.post("/children/{Omar}/team/members/{omar_member_karin}/remove".format(**objects), {"confirm": "y"})
    assert removed.status_code == 302
    before = last_audit_id(app)
    for url in (meeting, "/children/{Omar}/team".format(**objects), "/children/{Omar}/chronology".format(**objects)):
        assert karin.get(url).status_code == 404, url
    assert denied_since(app, before, karin.account_id)


def test_a_withdrawn_consent_closes_elsas_concern_to_another_agency_on_the_next_request(app: Flask, db: Any) -> None:
    """hanna (habilitation) sees sara's concern through Lena's consent; withdrawn, the concern is 404 for her while
    its author and the Child Contact it reached still see it."""
    from sqlalchemy import select

    from agencies.models import Agency, StaffPerson
    from coordination.access import SYSTEM_ACTOR
    from coordination.children.models import Child, Guardian
    from coordination.consent.ledger import withdraw_consent
    from coordination.consent.models import Consent
    from coordination.database import db as database

    objects = demo_objects(app)
    url = "/children/{Elsa}/concerns/{elsa_concern}".format(**objects)
    hanna = Session(app, "hanna")
    assert hanna.get(url).status_code == 200
    with app.app_context():
        elsa = database.session.scalar(select(Child.id).where(Child.public_id == objects["Elsa"]))
        habilitation = database.session.scalar(select(Agency.id).where(Agency.name == "Habiliteringen Ekby"))
        lena = database.session.scalar(select(Guardian.id).where(Guardian.given_name == "Lena"))
        anna = database.session.scalar(select(StaffPerson).where(StaffPerson.given_name == "Anna"))
        consents = database.session.scalars(
            select(Consent).where(
                Consent.child_id == elsa, Consent.agency_id == habilitation, Consent.state != "withdrawn"
            )
        ).all()
        assert consents
        for consent in consents:
            withdraw_consent(SYSTEM_ACTOR, consent, lena, anna)
        database.session.commit()
    assert hanna.get(url).status_code == 404
    for persona in ("sara", "anna"):
        assert Session(app, persona).get(url).status_code == 200, persona
