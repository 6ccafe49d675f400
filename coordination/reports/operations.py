"""Every write to reports of concern (the duty to report, RULES.md §5): filing one, and what intake does
with it — acknowledge, match to a child (or register one), link a duplicate, assign to a unit.

``verb_noun(actor, ..., data)``: each flushes, audits in the same transaction (legal basis "duty to
report"), writes the chronology where the report is about a known child, and sends the domain's
signals after the flush; the caller commits once. "Now" comes from the app clock.

Filing never looks the number up: the reporter's answer is the same receipt whether the child is
known or not, and the report is matched to a child by intake only. A report about an unknown child
therefore has no chronology until it is matched; matching writes the entries of what happened before
(filed, acknowledged, assigned) at the time each happened. Every chronology entry of a report has the
audience "own_agency" (the social-services agency): nobody outside social services learns of it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime

from flask import current_app
from sqlalchemy import select

from agencies.models import Agency, Unit
from coordination import events
from coordination.access import Actor
from coordination.audit import record_write, refusals_audited
from coordination.children.models import Child
from coordination.children.operations import ChildData, protect_number, register_child
from coordination.chronology.record import record_event
from coordination.clock import now, today
from coordination.database import db
from coordination.errors import OperationError
from coordination.errors import refusal_message as _
from coordination.identity_numbers import IdentityNumber, decrypt_identity_number
from coordination.reports.models import REPORT_TEXT_MAX, ReportOfConcern

LEGAL_BASIS = "duty_to_report"
NAME_MAX = 100
PHONE_MAX = 40
# A reference the reporter can read out on the phone: no 0/O or 1/I, not a sequence.
REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
REFERENCE_PREFIX = "RC"
MAX_DUPLICATE_CHAIN = 50


# -- filing ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReportData:
    """What the reporter sends. An identity number, or a name (a birth date helps), and what happened."""

    social_services_agency: Agency
    what_happened: str
    identity_number: IdentityNumber | None = None
    given_name: str | None = None
    family_name: str | None = None
    birth_date: date | None = None
    is_child_in_danger_now: bool = False
    reporter_phone: str | None = None


def _clean(text: str | None) -> str | None:
    text = (text or "").strip()
    return text or None


def new_reference() -> str:
    """A short unique reference such as ``RC-7KQ2-M9XD``."""
    for _attempt in range(20):
        body = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))
        reference = f"{REFERENCE_PREFIX}-{body[:4]}-{body[4:]}"
        if db.session.scalar(select(ReportOfConcern.id).where(ReportOfConcern.reference == reference)) is None:
            return reference
    raise RuntimeError("could not find a free report reference")  # 32^8 references: not in practice


def _staff_acting(actor: Actor) -> tuple[int, Agency]:
    """The staff person's id and the agency they act for; refused for anyone else."""
    person_id = actor.account.staff_person_id
    agency = actor.acting_agency
    if actor.kind != "staff" or person_id is None or agency is None:
        raise OperationError(_("Only staff acting for an agency can do this"))
    return int(person_id), agency


@refusals_audited("file_report")
def file_report(actor: Actor, data: ReportData) -> ReportOfConcern:
    """File a report of concern with a social-services agency. The number, if any, is stored encrypted
    with its keyed hash and is NOT looked up: intake matches the report to a child."""
    person_id, acting_agency = _staff_acting(actor)
    if data.social_services_agency.kind != "social_services":
        raise OperationError(_("Choose a social services agency"), "agency")
    what_happened = (data.what_happened or "").strip()
    if not what_happened:
        raise OperationError(_("Describe what has happened"), "what_happened")
    if len(what_happened) > REPORT_TEXT_MAX:
        raise OperationError(_("The description is too long"), "what_happened")
    given_name, family_name = _clean(data.given_name), _clean(data.family_name)
    if data.identity_number is None and not (given_name or family_name):
        raise OperationError(_("Give the child's identity number or name"), "identity_number")
    if any(len(name) > NAME_MAX for name in (given_name, family_name) if name):
        raise OperationError(_("The name is too long"), "given_name")
    phone = _clean(data.reporter_phone)
    if phone is not None and len(phone) > PHONE_MAX:
        raise OperationError(_("The phone number is too long"), "reporter_phone")
    if data.birth_date is not None and data.birth_date > today():
        raise OperationError(_("The birth date cannot be in the future"), "birth_date")
    encrypted = hashed = None
    if data.identity_number is not None:
        encrypted, hashed = protect_number(data.identity_number)
    report = ReportOfConcern(
        reference=new_reference(),
        reporter_person_id=person_id,
        reporter_agency_id=acting_agency.id,
        reporter_phone=phone,
        social_services_agency_id=data.social_services_agency.id,
        identity_number_encrypted=encrypted,
        identity_number_hash=hashed,
        given_name=given_name,
        family_name=family_name,
        birth_date=data.birth_date,
        what_happened=what_happened,
        is_child_in_danger_now=bool(data.is_child_in_danger_now),
        state="received",
        created_at=now(),
    )
    db.session.add(report)
    db.session.flush()
    record_write(
        actor.audit_actor(),
        "file_report",
        child_id=None,  # never matched when filed: intake matches
        object_type="report_of_concern",
        object_id=report.public_id,
        legal_basis=LEGAL_BASIS,
        detail={"social_services_agency_id": report.social_services_agency_id},
    )
    events.report_filed.send(None, report=report)
    return report


# -- intake ------------------------------------------------------------------------------------------------
def _check_intake(actor: Actor, report: ReportOfConcern) -> int:
    """A backstop for the views' check: the actor is an intake member of the report's agency."""
    person_id, acting_agency = _staff_acting(actor)
    if acting_agency.id != report.social_services_agency_id or not any(
        membership.is_intake and membership.ended_at is None for membership in actor.memberships
    ):
        raise OperationError(_("Only intake at the agency the report was sent to can do this"))
    return person_id


def _audit(actor: Actor, action: str, report: ReportOfConcern, detail: dict[str, object] | None = None) -> None:
    record_write(
        actor.audit_actor(),
        action,
        child_id=report.child_id,
        object_type="report_of_concern",
        object_id=report.public_id,
        legal_basis=LEGAL_BASIS,
        detail=detail,
    )


def _chronology(
    report: ReportOfConcern, kind: str, *, author_person_id: int | None, occurred_at: datetime | None = None
) -> None:
    assert report.child_id is not None
    record_event(
        report.child_id,
        kind,
        owner_agency_id=report.social_services_agency_id,
        audience="own_agency",
        tone="worry",
        author_person_id=author_person_id,
        object_type="report_of_concern",
        object_public_id=report.public_id,
        occurred_at=occurred_at,
    )


@refusals_audited("acknowledge_report")
def acknowledge_report(actor: Actor, report: ReportOfConcern) -> None:
    """Tell the reporter that social services has received the report (irreversible)."""
    person_id = _check_intake(actor, report)
    if report.state == "acknowledged":
        raise OperationError(_("The report is already acknowledged"), "acknowledge_confirm")
    report.state = "acknowledged"
    report.acknowledged_at = now()
    report.acknowledged_by_id = person_id
    db.session.flush()
    if report.child_id is not None:
        _chronology(report, "report_acknowledged", author_person_id=person_id)
    _audit(actor, "acknowledge_report", report)
    db.session.flush()
    events.report_acknowledged.send(None, report=report)


@refusals_audited("match_report")
def match_report(actor: Actor, report: ReportOfConcern, child: Child) -> None:
    """Match the report to a child: intake (and an assigned unit) gain their relation to the child, and
    the report's history enters the child's chronology, each entry at the time it happened."""
    person_id = _check_intake(actor, report)
    if report.child_id is not None:
        raise OperationError(_("The report is already matched to a child"), "match_confirm")
    report.child_id = child.id
    report.matched_at = now()
    report.matched_by_id = person_id
    db.session.flush()
    _chronology(report, "report_filed", author_person_id=None, occurred_at=report.created_at)
    if report.acknowledged_at is not None:
        _chronology(
            report,
            "report_acknowledged",
            author_person_id=report.acknowledged_by_id,
            occurred_at=report.acknowledged_at,
        )
    if report.assigned_at is not None:
        _chronology(report, "report_assigned", author_person_id=None, occurred_at=report.assigned_at)
    _chronology(report, "report_matched", author_person_id=person_id)
    _audit(actor, "match_report", report)
    db.session.flush()


@dataclass(frozen=True)
class IntakeChildData:
    """The child intake registers for a report: the names, and a birth date when the report has no number
    (with a number, the birth date comes from it)."""

    given_name: str
    family_name: str
    birth_date: date | None = None


def _report_number(report: ReportOfConcern) -> IdentityNumber | None:
    if report.identity_number_encrypted is None:
        return None
    return decrypt_identity_number(
        report.identity_number_encrypted, str(current_app.config["IDENTITY_ENCRYPTION_KEY"]).encode()
    )


@refusals_audited("register_child_for_report")
def register_child_for_report(actor: Actor, report: ReportOfConcern, data: IntakeChildData) -> Child:
    """Register the child a report is about (with the report's number, or without one: missing reason
    "none") and match the report to it."""
    _check_intake(actor, report)
    if report.child_id is not None:
        raise OperationError(_("The report is already matched to a child"), "register_confirm")
    given_name, family_name = _clean(data.given_name), _clean(data.family_name)
    if not given_name:
        raise OperationError(_("Enter the child's given name"), "register_given_name")
    if not family_name:
        raise OperationError(_("Enter the child's family name"), "register_family_name")
    number = _report_number(report)
    if number is not None:
        if db.session.scalar(select(Child.id).where(Child.identity_number_hash == report.identity_number_hash)):
            raise OperationError(
                _("A child with this number is registered: match the report to it"), "register_confirm"
            )
        child_data = ChildData(given_name=given_name, family_name=family_name, birth_date=None, identity_number=number)
    else:
        if data.birth_date is None:
            raise OperationError(_("Enter the birth date"), "register_birth_date")
        if data.birth_date > today():
            raise OperationError(_("The birth date cannot be in the future"), "register_birth_date")
        child_data = ChildData(
            given_name=given_name, family_name=family_name, birth_date=data.birth_date, missing_number_reason="none"
        )
    child = register_child(actor, child_data, legal_basis=LEGAL_BASIS)
    record_write(
        actor.audit_actor(),
        "register_child_for_report",
        child_id=child.id,
        object_type="report_of_concern",
        object_id=report.public_id,
        legal_basis=LEGAL_BASIS,
    )
    match_report(actor, report, child)
    return child


@refusals_audited("mark_report_duplicate")
def mark_report_duplicate(actor: Actor, report: ReportOfConcern, original: ReportOfConcern) -> None:
    """Link a report as a duplicate of another report to the same agency (no cycles)."""
    _check_intake(actor, report)
    if original.social_services_agency_id != report.social_services_agency_id:
        raise OperationError(_("No report with that reference was sent to your agency"), "duplicate_reference")
    if original.id == report.id:
        raise OperationError(_("A report cannot be a duplicate of itself"), "duplicate_reference")
    if report.duplicate_of_id == original.id:
        raise OperationError(_("The report is already linked to that one"), "duplicate_reference")
    step: ReportOfConcern | None = original
    for _hop in range(MAX_DUPLICATE_CHAIN):
        if step is None:
            break
        if step.id == report.id:
            raise OperationError(_("That report is already linked as a duplicate of this one"), "duplicate_reference")
        step = step.duplicate_of
    report.duplicate_of_id = original.id
    db.session.flush()
    _audit(actor, "mark_report_duplicate", report, {"duplicate_of": original.public_id})


@refusals_audited("assign_report")
def assign_report(actor: Actor, report: ReportOfConcern, unit: Unit) -> None:
    """Assign the report to a unit of the same social-services agency: its practitioners gain the
    "investigating unit" relation to the child once the report is matched."""
    person_id = _check_intake(actor, report)
    if unit.agency_id != report.social_services_agency_id:
        raise OperationError(_("Choose a unit of your agency"), "unit")
    if report.assigned_unit_id == unit.id:
        raise OperationError(_("The report is already assigned to that unit"), "unit")
    report.assigned_unit_id = unit.id
    report.assigned_at = now()
    db.session.flush()
    if report.child_id is not None:
        _chronology(report, "report_assigned", author_person_id=person_id)
    _audit(actor, "assign_report", report, {"unit": unit.public_id})
    db.session.flush()
