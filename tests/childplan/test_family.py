"""The family and the plan (issue 5, item 2): a guardian or the young person marks a published version as
read and agreed, or comments; comments follow RULES.md §4 (free text inherits the item's agency and
areas; plan-level comments go to the plan keeper only) and §6 (an item withheld from guardians does not
exist for them). Negatives first: who may not acknowledge or comment, withheld items answered as unknown
ones, bad text, who may not read a comment. Then what the writes do: one row per reader and version,
the audit, the chronology, the keeper's content-free inbox item and the Plan tab."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from childplan.comment_view import acknowledgements_for_actor, comments_for_actor
from childplan.models import PLAN_TEXT_MAX, Plan, PlanComment, PlanVersion, VersionAcknowledgement
from childplan.operations import (
    ActionData,
    NeedData,
    PlanData,
    acknowledge_version,
    add_action,
    add_need,
    comment_on_plan,
    mark_withheld_from_guardians,
    publish_version,
    start_plan,
)
from coordination.access import Actor, ChildAccess, get_child_or_404
from coordination.children.models import Custody
from coordination.chronology.models import ChronologyEntry
from coordination.clock import now, today
from coordination.consent.ledger import ConsentData, GiverData, record_consent
from coordination.database import db as database
from coordination.errors import OperationError
from coordination.models import Account, AuditEvent
from notifications.inbox import render_items
from notifications.models import InboxItem
from tests.childplan.test_plan_operations import _actor_of, _add_to_team
from tests.childplan.test_plan_page import login
from tests.teams.support import BUP, CLASS_4_6, SCHOOL, Family, agency, make_family, membership, person, unit

FAMILY_WRITES = ("acknowledge_plan_version", "comment_on_plan")


@dataclass(frozen=True)
class Built:
    """The public ids of what the fixture's plan holds."""

    plan: str
    version: str
    reading_need: str  # the school's, "achieving"
    sleep_need: str  # the school's, "healthy"
    reading_action: str  # the school's, serving the reading need
    bup_action: str  # BUP's own (karin), "healthy"
    withheld_action: str  # BUP's, withheld from guardians
    withheld_need: str  # the school's, withheld from guardians
    action_of_withheld_need: str  # the school's, serving the withheld need


def _consent(family: Family, agency_name: str, areas: list[str]) -> None:
    day = today()
    record_consent(
        _actor_of("maria"),
        family.child(),
        agency(agency_name),
        ConsentData(
            purposes=["coordination", "team_meetings"],
            areas=areas,
            valid_from=day,
            valid_until=day + timedelta(days=300),
            givers=[GiverData(family.guardian_id, "in_person")],
            consent_text_version=1,
            recorded_by=person("Maria"),
        ),
    )


def _build(family: Family) -> Built:
    """maria (school) keeps the plan; karin (BUP) is on the team; BUP's consent covers "healthy" only."""
    maria = _actor_of("maria")
    plan = start_plan(maria, family.child(), PlanData("Reading is hard"))
    reading = add_need(maria, plan, NeedData("Reading", ["achieving"]))
    sleep = add_need(maria, plan, NeedData("Sleep", ["healthy"]))
    private = add_need(maria, plan, NeedData("A private matter", ["nurtured"]))
    school = agency(SCHOOL).id
    karin = membership("Karin", BUP)
    reading_action = add_action(
        maria, plan, ActionData("Reading support", school, unit(CLASS_4_6).id, need_id=reading.id)
    )
    bup_action = add_action(
        maria,
        plan,
        ActionData("Sleep assessment", karin.agency_id, karin.unit_id, karin.staff_person_id, areas=["healthy"]),
    )
    talks = add_action(
        maria,
        plan,
        ActionData("Talks at BUP", karin.agency_id, karin.unit_id, karin.staff_person_id, areas=["healthy"]),
    )
    serving = add_action(maria, plan, ActionData("A quiet room", school, need_id=private.id))
    mark_withheld_from_guardians(_actor_of("karin"), talks, "The young person asked")
    mark_withheld_from_guardians(maria, private, "The young person asked")
    version = publish_version(maria, plan)
    return Built(
        plan.public_id,
        version.public_id,
        reading.public_id,
        sleep.public_id,
        reading_action.public_id,
        bup_action.public_id,
        talks.public_id,
        private.public_id,
        serving.public_id,
    )


@pytest.fixture()
def family(app: Flask, db: Any) -> Family:
    made = make_family(app, consents=(SCHOOL,))
    with app.app_context():
        _consent(made, BUP, ["healthy"])
        _add_to_team(made, "Karin", BUP)
        database.session.commit()
    return made


@pytest.fixture()
def built(app: Flask, family: Family) -> Built:
    with app.app_context():
        made = _build(family)
        database.session.commit()
        return made


# -- family actors ------------------------------------------------------------------------------------------
def _account(kind: str, **link: int) -> Account:
    account = Account(username=f"{kind}-{secrets.token_hex(4)}", kind=kind, created_at=now(), **link)
    database.session.add(account)
    database.session.flush()
    return account


def guardian_of(family: Family, *, checked: bool = True) -> Actor:
    """The family's guardian with a login (identity checked by the Child Contact, as RULES.md §6 asks)."""
    account = database.session.scalar(select(Account).where(Account.guardian_id == family.guardian_id))
    if account is None:
        account = _account("guardian", guardian_id=family.guardian_id)
    if checked:
        database.session.execute(
            update(Custody)
            .where(Custody.child_id == family.child_id, Custody.guardian_id == family.guardian_id)
            .values(identity_checked_at=now(), identity_checked_by_id=person("Maria").id)
        )
    return Actor(account, None, ())


def young_person_of(family: Family) -> Actor:
    account = database.session.scalar(select(Account).where(Account.child_id == family.child_id))
    return Actor(account or _account("young_person", child_id=family.child_id), None, ())


def _plan(built: Built) -> Plan:
    found = database.session.scalar(select(Plan).where(Plan.public_id == built.plan))
    assert found is not None
    return found


def _version(built: Built) -> PlanVersion:
    found = database.session.scalar(select(PlanVersion).where(PlanVersion.public_id == built.version))
    assert found is not None
    return found


def _counts(family: Family) -> tuple[int, ...]:
    session = database.session
    session.flush()
    plan_ids = select(Plan.id).where(Plan.child_id == family.child_id)

    def count(model: Any, *conditions: Any) -> int:
        return session.scalar(select(func.count()).select_from(model).where(*conditions)) or 0

    return (
        count(PlanComment, PlanComment.plan_id.in_(plan_ids)),
        count(
            VersionAcknowledgement,
            VersionAcknowledgement.version_id.in_(select(PlanVersion.id).where(PlanVersion.plan_id.in_(plan_ids))),
        ),
        count(AuditEvent, AuditEvent.child_id == family.child_id, AuditEvent.action.in_(FAMILY_WRITES)),
        count(InboxItem, InboxItem.child_id == family.child_id, InboxItem.kind == "plan_comment"),
        count(
            ChronologyEntry,
            ChronologyEntry.child_id == family.child_id,
            ChronologyEntry.kind.in_(("plan_version_agreed", "plan_version_read")),
        ),
    )


def _refused(family: Family, call: Any, field: str) -> str:
    before = _counts(family)
    with pytest.raises(OperationError) as refused:
        call()
    assert refused.value.field == field, (refused.value.field, refused.value.message)
    assert _counts(family) == before, "nothing written"
    return refused.value.message


def _both_refused(family: Family, built: Built, actor: Any) -> None:
    plan, version = _plan(built), _version(built)
    _refused(family, lambda: acknowledge_version(actor, version, True), "form")
    _refused(family, lambda: comment_on_plan(actor, plan, "We agree"), "form")
    _refused(family, lambda: comment_on_plan(actor, plan, "About reading", need=built.reading_need), "form")


# -- who may not --------------------------------------------------------------------------------------------
def test_a_guardian_whose_custody_ended_cannot_acknowledge_or_comment(app: Flask, family: Family, built: Built) -> None:
    with app.app_context():
        actor = guardian_of(family)
        database.session.execute(
            update(Custody).where(Custody.child_id == family.child_id).values(ended_at=now() - timedelta(days=1))
        )
        _both_refused(family, built, actor)


def test_a_guardian_whose_identity_is_not_checked_yet_cannot_acknowledge_or_comment(
    app: Flask, family: Family, built: Built
) -> None:
    with app.app_context():
        _both_refused(family, built, guardian_of(family, checked=False))


def test_a_guardian_of_another_child_cannot_acknowledge_or_comment(app: Flask, family: Family, built: Built) -> None:
    other = make_family(app)
    with app.app_context():
        _both_refused(family, built, guardian_of(other))


@pytest.mark.parametrize("username", ["maria", "lars", "karin"])
def test_staff_cannot_acknowledge_or_comment_as_the_family(
    app: Flask, family: Family, built: Built, username: str
) -> None:
    with app.app_context():
        _both_refused(family, built, _actor_of(username))


def test_a_guardian_cannot_acknowledge_or_comment_once_the_child_is_18(app: Flask, db: Any) -> None:
    adult = make_family(app, age=18, consents=())
    with app.app_context():
        maria = _actor_of("maria")
        plan = start_plan(maria, adult.child(), PlanData("Moving on"))
        add_need(maria, plan, NeedData("Work", ["achieving"]))
        version = publish_version(maria, plan)
        guardian = guardian_of(adult)
        _refused(adult, lambda: acknowledge_version(guardian, version, True), "form")
        _refused(adult, lambda: comment_on_plan(guardian, plan, "We agree"), "form")
        # …while the young person, now an adult, still can
        acknowledge_version(young_person_of(adult), version, True)


def test_a_guardian_cannot_comment_on_what_is_withheld_from_guardians_and_is_answered_as_for_an_unknown_item(
    app: Flask, family: Family, built: Built
) -> None:
    other = make_family(app)
    with app.app_context():
        maria = _actor_of("maria")
        other_plan = start_plan(maria, other.child(), PlanData("Other"))
        other_need = add_need(maria, other_plan, NeedData("Other need", ["safe"])).public_id
        guardian = guardian_of(family)
        plan = _plan(built)
        unknown = _refused(family, lambda: comment_on_plan(guardian, plan, "Hello", need="no-such-need"), "item")
        answers = {
            _refused(family, lambda: comment_on_plan(guardian, plan, "Hello", action="no-such-action"), "item"),
            _refused(family, lambda: comment_on_plan(guardian, plan, "Hello", need=other_need), "item"),
            _refused(family, lambda: comment_on_plan(guardian, plan, "Hello", action=built.withheld_action), "item"),
            _refused(family, lambda: comment_on_plan(guardian, plan, "Hello", need=built.withheld_need), "item"),
            _refused(
                family, lambda: comment_on_plan(guardian, plan, "Hello", action=built.action_of_withheld_need), "item"
            ),
        }
        assert answers == {unknown}, "a withheld item is answered exactly as one that does not exist"
        # the young person sees those items and may comment on them
        comment = comment_on_plan(young_person_of(family), plan, "I want these talks", action=built.withheld_action)
        assert comment.is_young_person and comment.guardian_id is None


@pytest.mark.parametrize(
    ("text", "field"), [("", "text"), ("   ", "text"), (None, "text"), ("x" * (PLAN_TEXT_MAX + 1), "text")]
)
def test_an_empty_or_over_long_comment_is_refused_for_its_field(
    app: Flask, family: Family, built: Built, text: str | None, field: str
) -> None:
    with app.app_context():
        guardian = guardian_of(family)
        message = _refused(family, lambda: comment_on_plan(guardian, _plan(built), text), field)
        assert message


def test_a_comment_on_a_need_and_an_action_at_once_or_on_a_version_of_another_plan_is_refused(
    app: Flask, family: Family, built: Built
) -> None:
    with app.app_context():
        guardian, plan = guardian_of(family), _plan(built)
        _refused(
            family,
            lambda: comment_on_plan(guardian, plan, "Hi", need=built.reading_need, action=built.reading_action),
            "item",
        )
        _refused(family, lambda: comment_on_plan(guardian, plan, "Hi", version="no-such-version"), "version")


# -- who may read a comment ---------------------------------------------------------------------------------
@contextmanager
def seen_by(app: Flask, username: str, family: Family) -> Iterator[ChildAccess]:
    with app.test_request_context():
        yield get_child_or_404(_actor_of(username), family.public_id)


def _comment_texts(app: Flask, username: str, family: Family, built: Built) -> set[str]:
    with seen_by(app, username, family) as access:
        return {line.text for line in comments_for_actor(access, _plan(built))}


def _comment_all(app: Flask, family: Family, built: Built) -> None:
    with app.app_context():
        guardian, plan = guardian_of(family), _plan(built)
        comment_on_plan(guardian, plan, "On the whole plan")
        comment_on_plan(guardian, plan, "On reading support", action=built.reading_action)
        comment_on_plan(guardian, plan, "On the sleep need", need=built.sleep_need)
        comment_on_plan(guardian, plan, "On the sleep assessment", action=built.bup_action, version=built.version)
        database.session.commit()


def test_another_agency_whose_consent_does_not_cover_the_actions_areas_does_not_see_the_comment_on_it(
    app: Flask, family: Family, built: Built
) -> None:
    _comment_all(app, family, built)
    seen = _comment_texts(app, "karin", family, built)  # BUP on the team; consent for "healthy" only
    assert "On reading support" not in seen, "the school's action in 'achieving'"
    assert "On the whole plan" not in seen, "plan-level: the plan keeper only"
    # a team member whose consent covers the areas sees an item's comment; its own agency's item always
    assert {"On the sleep need", "On the sleep assessment"} <= seen


def test_a_plan_level_comment_is_for_the_plan_keeper_only(app: Flask, family: Family, built: Built) -> None:
    _comment_all(app, family, built)
    assert "On the whole plan" not in _comment_texts(app, "lars", family, built)  # the school, not the keeper
    keeper_sees = _comment_texts(app, "maria", family, built)
    assert keeper_sees == {"On the whole plan", "On reading support", "On the sleep need", "On the sleep assessment"}
    with seen_by(app, "maria", family) as access:
        lines = {line.text: line for line in comments_for_actor(access, _plan(built))}
    assert lines["On the sleep assessment"].version_number == 1
    assert lines["On reading support"].item_text == "Reading support" and lines["On reading support"].areas == (
        "achieving",
    ), "the action's areas are its need's"
    guardian_name = lines["On the whole plan"].author_name
    assert guardian_name is not None and guardian_name.endswith("Lagsson")


def test_outside_a_protected_childs_team_a_guardians_name_is_not_shown(app: Flask, db: Any) -> None:
    protected = make_family(app, protected=True, consents=(SCHOOL,))
    with app.app_context():
        maria = _actor_of("maria")
        plan = start_plan(maria, protected.child(), PlanData("Quietly"))
        need = add_need(maria, plan, NeedData("Reading", ["achieving"]))
        comment_on_plan(guardian_of(protected), plan, "Thank you", need=need)
        database.session.commit()
        plan_id = plan.id
    for username, named in (("lars", False), ("maria", True)):  # lars: the unit, not the team
        with seen_by(app, username, protected) as access:
            (line,) = comments_for_actor(access, database.session.get(Plan, plan_id))
        assert (line.author_name is not None) is named, username
        assert line.author_kind == "guardian" and line.text == "Thank you"


def test_outside_the_team_a_restricted_guardians_name_is_not_shown(app: Flask, family: Family, built: Built) -> None:
    with app.app_context():
        comment_on_plan(guardian_of(family), _plan(built), "On the reading", need=built.reading_need)
        acknowledge_version(guardian_of(family), _version(built), True)
        database.session.execute(update(Custody).where(Custody.child_id == family.child_id).values(is_restricted=True))
        database.session.commit()
    for username, named in (("lars", False), ("maria", True)):
        with seen_by(app, username, family) as access:
            (line,) = comments_for_actor(access, _plan(built))
        assert (line.author_name is not None) is named, username
    with seen_by(app, "maria", family) as access:
        (version,) = acknowledgements_for_actor(access, _plan(built)) or []
    assert version.readers[0].author_name is not None, "the keeper is on the team"


def test_who_has_read_each_version_is_for_the_plan_keeper(app: Flask, family: Family, built: Built) -> None:
    with app.app_context():
        acknowledge_version(guardian_of(family), _version(built), True)
        database.session.commit()
    for username in ("karin", "lars"):
        with seen_by(app, username, family) as access:
            assert acknowledgements_for_actor(access, _plan(built)) is None, username
    with seen_by(app, "maria", family) as access:
        (version,) = acknowledgements_for_actor(access, _plan(built)) or []
    assert version.number == 1 and len(version.readers) == 1
    assert version.readers[0].has_agreed and version.readers[0].author_kind == "guardian"


# -- what the writes do -------------------------------------------------------------------------------------
def test_acknowledging_twice_updates_one_row(app: Flask, family: Family, built: Built) -> None:
    with app.app_context():
        guardian, version = guardian_of(family), _version(built)
        first = acknowledge_version(guardian, version, False)
        read_first = first.read_at
        second = acknowledge_version(guardian, version, True)
        rows = database.session.scalars(
            select(VersionAcknowledgement).where(VersionAcknowledgement.version_id == version.id)
        ).all()
        assert [row.id for row in rows] == [first.id] and second.id == first.id
        assert rows[0].has_agreed and rows[0].guardian_id == family.guardian_id and not rows[0].is_young_person
        assert rows[0].read_at >= read_first


def test_the_young_person_acknowledges_once_per_version_and_the_database_holds_it(
    app: Flask, family: Family, built: Built
) -> None:
    with app.app_context():
        young, version = young_person_of(family), _version(built)
        acknowledge_version(young, version, True)
        acknowledge_version(young, version, False)
        rows = database.session.scalars(
            select(VersionAcknowledgement).where(VersionAcknowledgement.version_id == version.id)
        ).all()
        assert len(rows) == 1 and rows[0].is_young_person and rows[0].guardian_id is None and not rows[0].has_agreed
        # guardian_id is NULL for the young person: the partial unique index, not the (version, guardian)
        # constraint, keeps a second row out — on SQLite and PostgreSQL alike
        nested = database.session.begin_nested()
        database.session.add(
            VersionAcknowledgement(
                version_id=version.id, guardian_id=None, is_young_person=True, has_agreed=True, read_at=now()
            )
        )
        with pytest.raises(IntegrityError):
            database.session.flush()
        nested.rollback()


def test_the_family_writes_are_audited_and_the_acknowledgement_chronicled_without_content(
    app: Flask, family: Family, built: Built
) -> None:
    with app.app_context():
        version = _version(built)
        acknowledge_version(guardian_of(family), version, True)
        acknowledge_version(young_person_of(family), version, False)
        comment = comment_on_plan(
            guardian_of(family), _plan(built), "<script>alert('x')</script> We agree", need=built.reading_need
        )
        assert comment.text == "<script>alert('x')</script> We agree", "stored as written; templates escape it"
        audits = database.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.child_id == family.child_id, AuditEvent.action.in_(FAMILY_WRITES))
            .order_by(AuditEvent.id)
        ).all()
        assert [(a.action, a.outcome, a.legal_basis, a.actor_kind) for a in audits] == [
            ("acknowledge_plan_version", "allowed", "custody", "guardian"),
            ("acknowledge_plan_version", "allowed", "young_person", "young_person"),
            ("comment_on_plan", "allowed", "custody", "guardian"),
        ]
        assert audits[2].object_id == comment.public_id and "We agree" not in str(audits[2].detail)
        entries = database.session.scalars(
            select(ChronologyEntry)
            .where(ChronologyEntry.child_id == family.child_id, ChronologyEntry.object_public_id == version.public_id)
            .order_by(ChronologyEntry.id)
        ).all()
        assert [(e.kind, e.summary, e.author_person_id) for e in entries] == [
            ("plan_version_published", None, person("Maria").id),
            ("plan_version_agreed", None, None),
            ("plan_version_read", None, None),
        ]
        assert entries[1].owner_agency_id == agency(SCHOOL).id and entries[1].audience == "own_agency"


def test_the_plan_keeper_gets_a_content_free_inbox_item_rendered_through_the_access_core(
    app: Flask, family: Family, built: Built
) -> None:
    with app.app_context():
        comment = comment_on_plan(guardian_of(family), _plan(built), "Our secret worry", action=built.reading_action)
        public_id = comment.public_id
        database.session.commit()
        items = database.session.scalars(
            select(InboxItem).where(InboxItem.child_id == family.child_id, InboxItem.kind == "plan_comment")
        ).all()
        assert [(item.recipient_person_id, item.object_public_id) for item in items] == [
            (person("Maria").id, public_id)
        ]
        assert "secret" not in " ".join(str(value) for value in vars(items[0]).values())
    with app.test_request_context():
        (entry,) = render_items(_actor_of("maria"), list(items))
        assert entry.available and "secret" not in str(entry.title)
        assert entry.target_url == f"/children/{family.public_id}/plan"
        assert [chip.code for chip in entry.areas] == ["achieving"]
    # the keeper whose agency's consent no longer covers the item: "no longer available"
    with app.app_context():
        item = database.session.scalar(select(InboxItem).where(InboxItem.object_public_id == public_id))
        assert item is not None
        item.recipient_person_id = person("Karin").id
        item.recipient_agency_id = agency(BUP).id
        database.session.commit()
    with app.test_request_context():
        (entry,) = render_items(_actor_of("karin"), [item])
        assert not entry.available


# -- the Plan tab -------------------------------------------------------------------------------------------
def test_the_plan_tab_shows_the_keeper_the_comments_escaped_and_who_has_read(
    app: Flask, client: FlaskClient, family: Family, built: Built
) -> None:
    with app.app_context():
        acknowledge_version(guardian_of(family), _version(built), True)
        comment_on_plan(guardian_of(family), _plan(built), "<script>alert(1)</script>On the whole plan")
        database.session.commit()
    login(client, "maria")
    html = client.get(f"/children/{family.public_id}/plan").get_data(as_text=True)
    assert 'data-section="family"' in html and "The family's comments and acknowledgements" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;On the whole plan" in html and "<script>alert(1)" not in html
    assert 'data-agreed="yes"' in html and "for the plan keeper only" in html


def test_the_plan_tab_hides_a_plan_level_comment_from_others(
    app: Flask, client: FlaskClient, family: Family, built: Built
) -> None:
    _comment_all(app, family, built)
    login(client, "karin")
    html = client.get(f"/children/{family.public_id}/plan").get_data(as_text=True)
    assert "On the sleep need" in html
    assert "On the whole plan" not in html and "On reading support" not in html
    assert "data-family-readers" not in html


@pytest.mark.parametrize("username", ["maria", "karin"])
def test_the_plan_tab_sends_the_same_number_of_statements_for_1_and_20_comments(
    app: Flask, client: FlaskClient, count_queries: Any, username: str
) -> None:
    statements = []
    login(client, username)
    for size in (1, 20):
        made = make_family(app, consents=(SCHOOL, BUP))
        with app.app_context():
            _add_to_team(made, "Karin", BUP)
            database.session.commit()
            built = _build(made)
            guardian, plan = guardian_of(made), _plan(built)
            acknowledge_version(guardian, _version(built), True)
            for index in range(size):
                item = [
                    {"action": built.reading_action},
                    {"need": built.sleep_need},
                    {},
                    {"action": built.bup_action},
                ][index % 4]
                comment_on_plan(guardian, plan, f"Comment {index}", **item)
            database.session.commit()
        client.get(f"/children/{made.public_id}/plan")  # warm up
        with count_queries() as counter:
            answer = client.get(f"/children/{made.public_id}/plan")
        assert answer.status_code == 200
        assert answer.get_data(as_text=True).count("data-comment=") == (
            size if username == "maria" else len([index for index in range(size) if index % 4 != 2])
        )
        statements.append(len(counter.statements))
    assert statements[0] == statements[1], statements


def test_whether_the_family_agreed_stays_with_the_keepers_agency_in_the_chronology(
    app: Flask, client: FlaskClient, family: Family, built: Built
) -> None:
    """karin (BUP, consent for "healthy" only) must not learn from the chronology that the family did not
    agree to the plan; maria (the keeper's agency) sees the entry."""
    with app.app_context():
        version = database.session.scalar(select(PlanVersion).where(PlanVersion.public_id == built.version))
        assert version is not None
        acknowledge_version(guardian_of(family), version, False)
        database.session.commit()
    login(client, "karin")
    assert "did not agree" not in client.get(f"/children/{family.public_id}/chronology").get_data(as_text=True)
    keeper = app.test_client()
    login(keeper, "maria")
    assert "did not agree" in keeper.get(f"/children/{family.public_id}/chronology").get_data(as_text=True)
