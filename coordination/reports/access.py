"""Who reaches a report of concern, and the view models the report pages show (RULES.md §2, §5, §9).

* The reporter reaches their own receipts only (``get_receipt_or_404``): a receipt carries the
  reference, the date, the status — nothing about the child, so that it is the same page whether the
  child is known or not.
* Intake (staff whose acting membership holds the intake role, in a social-services agency) reaches
  every report sent to its agency (``intake_actor_or_404``, ``get_intake_report_or_404``): a queue for
  every intake member, not one person. Every read is audited on the basis "duty to report".
* Everyone else gets 404, audited.

The child's name and birth date as registered are shown to intake only for matching (a registered
child with the report's number, or a search by name and birth date among all children), each audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask import abort, url_for
from sqlalchemy import Select, case, func, or_, select
from sqlalchemy.orm import joinedload

from agencies.models import Agency, StaffPerson, Unit
from coordination import audit
from coordination.access import STAFF, Actor, mask_digits
from coordination.children.models import Child
from coordination.database import db
from coordination.reports.models import ReportOfConcern
from coordination.reports.operations import LEGAL_BASIS

MAX_ID_LENGTH = 64
MAX_SEARCH_RESULTS = 20


# -- who ---------------------------------------------------------------------------------------------------
def is_staff(actor: Actor | None) -> bool:
    return actor is not None and actor.kind == STAFF and actor.acting_agency is not None


def is_intake(actor: Actor | None) -> bool:
    """Staff acting for a social-services agency through a membership that holds the intake role."""
    if not is_staff(actor):
        return False
    assert actor is not None and actor.acting_agency is not None
    return actor.acting_agency.kind == "social_services" and any(
        membership.is_intake and membership.ended_at is None for membership in actor.memberships
    )


def intake_actor_or_404(actor: Actor | None, action: str, object_id: str | None = None) -> Actor:
    """Intake pages: 404 for anyone else, with the refusal audited."""
    if actor is None:
        abort(404)
    if not is_intake(actor):
        audit.note_denied(
            actor.audit_actor(),
            action,
            object_type="report_of_concern" if object_id else None,
            object_id=mask_digits(object_id[:MAX_ID_LENGTH]) if object_id else None,
            detail={"reason": "not_intake"},
        )
        abort(404)
    return actor


def _denied(actor: Actor, action: str, public_id: str, report: ReportOfConcern | None, reason: str) -> None:
    audit.note_denied(
        actor.audit_actor(),
        action,
        child_id=report.child_id if report is not None else None,
        object_type="report_of_concern",
        object_id=mask_digits((public_id or "")[:MAX_ID_LENGTH]),
        detail={"reason": reason},
    )


def _report_by_public_id(public_id: str) -> ReportOfConcern | None:
    if not public_id:
        return None
    return db.session.scalar(select(ReportOfConcern).where(ReportOfConcern.public_id == public_id[:MAX_ID_LENGTH]))


def get_intake_report_or_404(actor: Actor, public_id: str, action: str) -> ReportOfConcern:
    """A report sent to the intake member's agency; otherwise 404 (audited)."""
    report = _report_by_public_id(public_id)
    assert actor.acting_agency is not None
    if report is None or report.social_services_agency_id != actor.acting_agency.id:
        _denied(actor, action, public_id, report, "unknown" if report is None else "other_agency")
        abort(404)
    audit.note_read(
        actor.audit_actor(),
        action,
        child_id=report.child_id,
        object_type="report_of_concern",
        object_id=report.public_id,
        legal_basis=LEGAL_BASIS,
    )
    return report


def get_receipt_or_404(actor: Actor, public_id: str, action: str = "view_report_receipt") -> ReportOfConcern:
    """The reporter's own report (as a receipt); anyone else — intake included — gets 404 (audited)."""
    report = _report_by_public_id(public_id)
    if report is None or report.reporter_person_id != actor.account.staff_person_id:
        _denied(actor, action, public_id, report, "unknown" if report is None else "not_the_reporter")
        abort(404)
    # The receipt shows nothing about the child: the read is of the reporter's own filing.
    audit.note_read(
        actor.audit_actor(),
        action,
        child_id=None,
        object_type="report_of_concern",
        object_id=report.public_id,
        legal_basis=LEGAL_BASIS,
    )
    return report


# -- the receipt -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReceiptView:
    """Everything a receipt shows: nothing about the child (no name, number or text)."""

    public_id: str
    reference: str
    filed_at: datetime
    state: str
    acknowledged_at: datetime | None
    child_in_danger_now: bool
    agency_name: str
    agency_phone: str | None

    @property
    def url(self) -> str:
        return url_for("reports.receipt", report_id=self.public_id)

    @classmethod
    def of(cls, report: ReportOfConcern) -> ReceiptView:
        agency = report.social_services_agency
        return cls(
            public_id=report.public_id,
            reference=report.reference,
            filed_at=report.created_at,
            state=report.state,
            acknowledged_at=report.acknowledged_at,
            child_in_danger_now=report.is_child_in_danger_now,
            agency_name=agency.name,
            agency_phone=agency.phone,
        )


def own_reports_statement(actor: Actor) -> Select[tuple[ReportOfConcern]]:
    """The reporter's own reports, newest first."""
    return (
        select(ReportOfConcern)
        .where(ReportOfConcern.reporter_person_id == actor.account.staff_person_id)
        .order_by(ReportOfConcern.created_at.desc(), ReportOfConcern.id.desc())
    )


RECEIPT_LIST_OPTIONS = (joinedload(ReportOfConcern.social_services_agency),)


def social_services_agencies() -> list[Agency]:
    return list(db.session.scalars(select(Agency).where(Agency.kind == "social_services").order_by(Agency.name)))


# -- the intake queue --------------------------------------------------------------------------------------
def intake_queue_statement(actor: Actor, reference: str = "") -> Select[tuple[ReportOfConcern]]:
    """The reports sent to the actor's agency: not yet acknowledged first, then the others, newest first
    within each; optionally only those whose reference contains what was typed."""
    assert actor.acting_agency is not None
    statement = select(ReportOfConcern).where(ReportOfConcern.social_services_agency_id == actor.acting_agency.id)
    wanted = "".join(ch for ch in reference.upper() if ch.isalnum() or ch == "-")[:20]
    if wanted:
        statement = statement.where(func.upper(ReportOfConcern.reference).contains(wanted, autoescape=True))
    return statement.order_by(
        case((ReportOfConcern.state == "received", 0), else_=1),
        ReportOfConcern.created_at.desc(),
        ReportOfConcern.id.desc(),
    )


QUEUE_OPTIONS = (
    joinedload(ReportOfConcern.reporter_agency),
    joinedload(ReportOfConcern.assigned_unit),
    joinedload(ReportOfConcern.duplicate_of),
)


@dataclass(frozen=True)
class QueueRow:
    public_id: str
    reference: str
    filed_at: datetime
    state: str
    acknowledged_at: datetime | None
    child_in_danger_now: bool
    reporter_agency: str
    name_given: str | None
    has_number: bool
    is_matched: bool
    assigned_unit: str | None
    duplicate_of: str | None

    @property
    def url(self) -> str:
        return url_for("reports.intake_report", report_id=self.public_id)


def _name_given(report: ReportOfConcern) -> str | None:
    return " ".join(part for part in (report.given_name, report.family_name) if part) or None


def queue_rows(actor: Actor, reports: list[ReportOfConcern], action: str) -> list[QueueRow]:
    """The queue's rows; each report listed is a read on the duty-to-report basis (audited)."""
    rows = []
    for report in reports:
        audit.note_read(
            actor.audit_actor(),
            action,
            child_id=report.child_id,
            object_type="report_of_concern",
            object_id=report.public_id,
            legal_basis=LEGAL_BASIS,
        )
        rows.append(
            QueueRow(
                public_id=report.public_id,
                reference=report.reference,
                filed_at=report.created_at,
                state=report.state,
                acknowledged_at=report.acknowledged_at,
                child_in_danger_now=report.is_child_in_danger_now,
                reporter_agency=report.reporter_agency.name,
                name_given=_name_given(report),
                has_number=report.identity_number_hash is not None,
                is_matched=report.child_id is not None,
                assigned_unit=report.assigned_unit.name if report.assigned_unit else None,
                duplicate_of=report.duplicate_of.reference if report.duplicate_of else None,
            )
        )
    return rows


# -- one report, for intake --------------------------------------------------------------------------------
@dataclass(frozen=True)
class ChildCandidate:
    """A child intake may match a report to: the name and birth date only."""

    public_id: str
    name: str
    birth_date: date | None


@dataclass(frozen=True)
class IntakeReportView:
    public_id: str
    reference: str
    filed_at: datetime
    state: str
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    child_in_danger_now: bool
    what_happened: str
    given_name: str | None
    family_name: str | None
    name_given: str | None
    birth_date: date | None
    has_number: bool
    reporter_name: str
    reporter_title: str | None
    reporter_agency: str
    reporter_phone: str | None
    reporter_email: str | None
    matched_child: ChildCandidate | None
    matched_child_url: str | None
    matched_at: datetime | None
    assigned_unit: str | None
    assigned_unit_public_id: str | None
    assigned_at: datetime | None
    duplicate_of: str | None
    duplicate_of_url: str | None

    @classmethod
    def of(cls, report: ReportOfConcern) -> IntakeReportView:
        reporter = report.reporter
        child = report.child
        acknowledged_by = None
        if report.acknowledged_by_id is not None:
            person = db.session.get(StaffPerson, report.acknowledged_by_id)
            acknowledged_by = person.full_name if person else None
        return cls(
            public_id=report.public_id,
            reference=report.reference,
            filed_at=report.created_at,
            state=report.state,
            acknowledged_at=report.acknowledged_at,
            acknowledged_by=acknowledged_by,
            child_in_danger_now=report.is_child_in_danger_now,
            what_happened=report.what_happened,
            given_name=report.given_name,
            family_name=report.family_name,
            name_given=_name_given(report),
            birth_date=report.birth_date,
            has_number=report.identity_number_hash is not None,
            reporter_name=reporter.full_name,
            reporter_title=reporter.title,
            reporter_agency=report.reporter_agency.name,
            reporter_phone=report.reporter_phone or reporter.phone,
            reporter_email=reporter.email,
            matched_child=_candidate(child) if child is not None else None,
            matched_child_url=url_for("children.overview", child_id=child.public_id) if child is not None else None,
            matched_at=report.matched_at,
            assigned_unit=report.assigned_unit.name if report.assigned_unit else None,
            assigned_unit_public_id=report.assigned_unit.public_id if report.assigned_unit else None,
            assigned_at=report.assigned_at,
            duplicate_of=report.duplicate_of.reference if report.duplicate_of else None,
            duplicate_of_url=(
                url_for("reports.intake_report", report_id=report.duplicate_of.public_id)
                if report.duplicate_of
                else None
            ),
        )


def _candidate(child: Child) -> ChildCandidate:
    return ChildCandidate(child.public_id, f"{child.given_name} {child.family_name}", child.birth_date)


def _note_candidate(actor: Actor, report: ReportOfConcern, child: Child, action: str) -> None:
    audit.note_read(
        actor.audit_actor(),
        action,
        child_id=child.id,
        object_type="child",
        object_id=child.public_id,
        legal_basis=LEGAL_BASIS,
        detail={"report": report.public_id},
    )


def registered_child_with_number(actor: Actor, report: ReportOfConcern) -> Child | None:
    """The registered child with the report's number (for "match to the registered child with this
    number"), read on the duty-to-report basis and audited; None when the number is unknown or the
    report has none or is already matched."""
    if report.identity_number_hash is None or report.child_id is not None:
        return None
    child = db.session.scalar(select(Child).where(Child.identity_number_hash == report.identity_number_hash))
    if child is not None:
        _note_candidate(actor, report, child, "report_match_candidate")
    return child


def search_children(actor: Actor, report: ReportOfConcern, name: str, birth_date: date | None) -> list[Child]:
    """Children by name (every word in the given or the family name) and, if given, birth date, among
    all children (intake's duty-to-report basis); each one shown is audited."""
    words = [word.replace("%", "").replace("_", "") for word in name.split()[:5]]
    words = [word for word in words if word]
    if not words and birth_date is None:
        return []
    statement = select(Child)
    for word in words:
        pattern = f"%{word}%"
        statement = statement.where(or_(Child.given_name.ilike(pattern), Child.family_name.ilike(pattern)))
    if birth_date is not None:
        statement = statement.where(Child.birth_date == birth_date)
    statement = statement.order_by(Child.family_name, Child.given_name, Child.id).limit(MAX_SEARCH_RESULTS)
    found = list(db.session.scalars(statement))
    for child in found:
        _note_candidate(actor, report, child, "report_match_search")
    return found


def candidates(children: list[Child]) -> list[ChildCandidate]:
    return [_candidate(child) for child in children]


def child_to_match(actor: Actor, report: ReportOfConcern, public_id: str) -> Child | None:
    """The child intake picked (a registered child's public id from the matching choices)."""
    if not public_id:
        return None
    child = db.session.scalar(select(Child).where(Child.public_id == public_id[:MAX_ID_LENGTH]))
    if child is not None:
        _note_candidate(actor, report, child, "match_report")
    return child


def agency_units(agency_id: int) -> list[Unit]:
    return list(db.session.scalars(select(Unit).where(Unit.agency_id == agency_id).order_by(Unit.name, Unit.id)))


def report_by_reference(agency_id: int, reference: str) -> ReportOfConcern | None:
    """A report of the same agency by its reference (for linking a duplicate)."""
    wanted = reference.strip().upper()[:20]
    if not wanted:
        return None
    return db.session.scalar(
        select(ReportOfConcern).where(
            ReportOfConcern.social_services_agency_id == agency_id, func.upper(ReportOfConcern.reference) == wanted
        )
    )
