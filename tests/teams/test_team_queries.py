"""The Team tab and the meeting page send a fixed number of SQL statements, however many members,
meetings and decisions there are (pinned, so that a change that makes them grow is seen)."""

from __future__ import annotations

from typing import Any

from flask import Flask

from tests.teams.support import BUP, add_member, insert_meetings, make_family

# The Team tab for the plan keeper: the session row with its account and person, the person's memberships
# (2); the child; my relations; the consent picture (5); the Child Contact / Support Coordinator; the
# members; the family's invitations; the meetings, their areas and their decisions' ids (3); the member
# picker (agencies, staff: 2) and the family invitees (invitations, guardians, maturity: 3); the audit
# rows of the read (1).
TEAM_TAB_STATEMENTS = 22  # with the settings' overrides (1: coordination.settings, once per request)
# The meeting page for the plan keeper: session and memberships (2); the child; my relations; the consent
# picture (5); the meeting and its areas (2); the Child Contact / Support Coordinator; the attendees; the
# decisions and their areas (2); the meeting's agency; the audit rows (1).
MEETING_PAGE_STATEMENTS = 17  # with the settings' overrides (1: coordination.settings)


def _count(client, count_queries, url: str) -> int:  # type: ignore[no-untyped-def]
    with count_queries() as counter:
        response = client.get(url)
    assert response.status_code == 200
    return counter.count


def test_the_team_tab_sends_the_same_statements_for_1_and_for_10_meetings(
    app: Flask, db: Any, as_user, count_queries
) -> None:  # type: ignore[no-untyped-def]
    maria = as_user("maria")
    counted = []
    for number in (1, 10):
        family = make_family(app)
        assert add_member(maria, family, "Karin", BUP).status_code == 302
        insert_meetings(app, family, number, decisions=2)
        insert_meetings(app, family, number, decisions=2, held=True)
        url = f"/children/{family.public_id}/team"
        maria.get(url)  # warm the session's housekeeping
        counted.append(_count(maria, count_queries, url))
    assert counted == [TEAM_TAB_STATEMENTS, TEAM_TAB_STATEMENTS]


def test_the_meeting_page_sends_the_same_statements_for_1_and_for_10_decisions(
    app: Flask, db: Any, as_user, count_queries
) -> None:  # type: ignore[no-untyped-def]
    maria = as_user("maria")
    counted = []
    for number in (1, 10):
        family = make_family(app)
        assert add_member(maria, family, "Karin", BUP).status_code == 302
        (meeting_id,) = insert_meetings(app, family, 1, decisions=number, held=True)
        url = f"/children/{family.public_id}/meetings/{meeting_id}"
        maria.get(url)
        counted.append(_count(maria, count_queries, url))
    assert counted == [MEETING_PAGE_STATEMENTS, MEETING_PAGE_STATEMENTS]
