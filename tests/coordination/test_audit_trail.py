"""RULES.md §9 at the edges: a refused write rolls back everything the request did, yet leaves its
attempt in the audit trail; a 404 leaves its denial (see tests/access/test_matrix.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from flask import Flask
from sqlalchemy import func, select

from agencies.models import Agency, StaffPerson
from coordination.access import SYSTEM_ACTOR
from coordination.children.models import Child
from coordination.children.operations import ChildData, register_child
from coordination.consent.ledger import withdraw_consent
from coordination.consent.models import Consent
from coordination.database import db
from coordination.errors import OperationError
from coordination.models import AuditEvent


def test_a_refused_write_rolls_back_and_leaves_its_attempt(committed_db: Callable[..., Flask]) -> None:
    app = committed_db()

    def attempt():  # type: ignore[no-untyped-def]
        register_child(SYSTEM_ACTOR, ChildData("Rullad", "Tillbaka", date(2020, 2, 2), missing_number_reason="none"))
        leo = db.session.scalar(select(Child).where(Child.given_name == "Leo"))
        school = db.session.scalar(select(Agency).where(Agency.name == "Ekby skola"))
        withdrawn = db.session.scalar(
            select(Consent).where(
                Consent.child_id == leo.id, Consent.agency_id == school.id, Consent.state == "withdrawn"
            )
        )
        maria = db.session.scalar(select(StaffPerson).where(StaffPerson.given_name == "Maria"))
        try:
            withdraw_consent(SYSTEM_ACTOR, withdrawn, withdrawn.givers[0].guardian_id, maria)
        except OperationError:
            return "refused", 409  # no commit: the whole request is rolled back
        db.session.commit()
        return "done", 200

    app.add_url_rule("/attempt", "attempt", attempt)
    with app.app_context():
        leo_id = db.session.scalar(select(Child.id).where(Child.given_name == "Leo"))
        before = db.session.scalar(select(func.count(AuditEvent.id)))

    assert app.test_client().get("/attempt").status_code == 409

    with app.app_context():
        assert db.session.scalar(select(Child.id).where(Child.given_name == "Rullad")) is None, "rolled back"
        new = db.session.scalars(select(AuditEvent).where(AuditEvent.id > 0).order_by(AuditEvent.id)).all()[before:]
        assert [(event.action, event.outcome, event.child_id) for event in new] == [
            ("withdraw_consent", "denied", leo_id)
        ], "the rolled-back registration left no write row; the refused withdrawal left its attempt"
        assert new[0].request_id and new[0].detail == {"refused": "giver"}


def test_the_reads_and_denials_of_a_request_are_written_in_one_insert(app: Flask, db, count_queries) -> None:  # type: ignore[no-untyped-def]
    """Rows that differ in which columns are empty still go out as one statement, so the statements a
    page sends do not depend on the mix of what it read and refused (query-count pins stay fixed)."""
    from coordination import audit
    from coordination.audit import AuditActor

    actor = AuditActor(kind="staff", account_id=None)
    with app.test_request_context():
        audit.note_read(actor, "view_test", child_id=None, object_type="child", object_id="a", legal_basis="consent")
        audit.note_denied(actor, "view_test", object_type="child", object_id="b", detail={"reason": "test"})
        audit.note_read(actor, "view_test", child_id=None, object_type="concern", object_id="c")
        with count_queries() as counter:
            audit.flush_pending()
    inserts = [statement for statement in counter.statements if statement.startswith("INSERT INTO audit_event")]
    assert len(inserts) == 1, inserts
    with app.app_context():
        written = db.session.scalars(select(AuditEvent.object_id).where(AuditEvent.action == "view_test")).all()
    assert sorted(written) == ["a", "b", "c"]
