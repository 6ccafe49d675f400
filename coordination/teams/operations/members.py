"""The team's members and the family's invitations: the plan keeper adds and removes members (of agencies
whose consent for team meetings is in effect) and invites guardians with custody and, by age or maturity,
the child; a member may leave the team themself. Each write is audited on the plan keeper's relation and
lands in the chronology; adding a member sends ``events.team_member_added``."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from agencies.models import Membership, StaffPerson
from coordination import events
from coordination.access import KEEPER_BASES, Actor, consent_picture, plan_keeper
from coordination.audit import record_write, refusals_audited
from coordination.children.models import Child, Custody, age_in_years
from coordination.chronology.record import record_event
from coordination.clock import now, today
from coordination.consent.common import maturity_min_age
from coordination.consent.models import MaturityAssessment
from coordination.database import db
from coordination.errors import OperationError
from coordination.errors import refusal_message as _
from coordination.models import Account
from coordination.teams.models import TeamFamilyInvitation, TeamMember
from coordination.teams.operations.common import PURPOSE, clean_text, current_members, keeper_or_refuse

ROLE_NOTE_MAX = 200


@dataclass(frozen=True)
class MemberData:
    staff_person_id: int
    unit_id: int  # the unit the person is added from (and so their agency)
    role_note: str | None = None


@refusals_audited("add_team_member")
def add_team_member(actor: Actor, child: Child, data: MemberData) -> TeamMember:
    """Add a practitioner of an agency whose consent for team meetings is in effect. Refused (field
    "member"): no such current practitioner membership, a deactivated person, no consent for team
    meetings for their agency, someone already on the team."""
    keeper = keeper_or_refuse(actor, child)
    note = clean_text(data.role_note, "role_note", ROLE_NOTE_MAX)
    membership = db.session.scalar(
        select(Membership).where(
            Membership.staff_person_id == data.staff_person_id,
            Membership.unit_id == data.unit_id,
            Membership.ended_at.is_(None),
            Membership.is_practitioner.is_(True),
        )
    )
    if membership is None:
        raise OperationError(_("Choose a practitioner from the list"), "member")
    person = db.session.get(StaffPerson, data.staff_person_id)
    account_active = db.session.scalar(select(Account.is_active).where(Account.staff_person_id == data.staff_person_id))
    if person is None or not person.is_active or not account_active:
        raise OperationError(_("That person's account is deactivated: choose someone else"), "member")
    if not consent_picture(child).areas_for(membership.agency_id, PURPOSE):
        raise OperationError(
            _("That agency has no consent for team meetings: record the consent with the family first"), "member"
        )
    if any(m.staff_person_id == person.id for m in current_members(child.id)):
        raise OperationError(_("That person is already on the team"), "member")
    moment = now()
    member = TeamMember(
        child_id=child.id,
        staff_person_id=person.id,
        agency_id=membership.agency_id,
        unit_id=membership.unit_id,
        role_note=note,
        added_by_id=actor.account.staff_person_id,
        joined_at=moment,
    )
    db.session.add(member)
    db.session.flush()
    record_write(
        actor.audit_actor(),
        "add_team_member",
        child_id=child.id,
        object_type="team_member",
        object_id=member.public_id,
        legal_basis=KEEPER_BASES[keeper.role],
        detail={"agency_id": member.agency_id, "staff_person_id": person.id},
    )
    # No names in the summary: staff names are protected for a child with protected identity (RULES.md §7).
    record_event(
        child.id,
        "team_member_added",
        owner_agency_id=keeper.agency_id,
        audience="team",
        author_person_id=actor.account.staff_person_id,
        object_type="team_member",
        object_public_id=member.public_id,
    )
    events.team_member_added.send(None, member=member)
    return member


def join_team_as_support_coordinator(actor: Actor, child_id: int, membership: Membership) -> TeamMember | None:
    """The Support Coordinator who has just accepted joins the child's team from the membership she
    accepted with, in the caller's transaction (the role and the membership are one write). Idempotent:
    someone already a current member is left as they are (None). Audited on her consent for
    coordination (the acceptance checked it) and put in the chronology; no inbox item (she is the one who
    acted, so ``events.team_member_added`` is not sent)."""
    if any(m.staff_person_id == membership.staff_person_id for m in current_members(child_id)):
        return None
    member = TeamMember(
        child_id=child_id,
        staff_person_id=membership.staff_person_id,
        agency_id=membership.agency_id,
        unit_id=membership.unit_id,
        added_by_id=membership.staff_person_id,
        joined_at=now(),
    )
    db.session.add(member)
    db.session.flush()
    record_write(
        actor.audit_actor(),
        "add_team_member",
        child_id=child_id,
        object_type="team_member",
        object_id=member.public_id,
        legal_basis="consent",
        detail={
            "agency_id": member.agency_id,
            "staff_person_id": member.staff_person_id,
            "basis": "support_coordinator",
        },
    )
    record_event(
        child_id,
        "team_member_added",
        owner_agency_id=member.agency_id,
        audience="team",
        author_person_id=member.staff_person_id,
        object_type="team_member",
        object_public_id=member.public_id,
    )
    return member


def _end_member(actor: Actor, child: Child, member: TeamMember, reason: str, basis: str, owner_agency_id: int) -> None:
    if member.child_id != child.id:
        raise OperationError(_("That person is not on the team"), "member")
    if member.ended_at is not None:
        raise OperationError(_("That person has already left the team"), "member")
    member.ended_at = now()
    member.end_reason = reason
    member.ended_by_id = actor.account.staff_person_id
    db.session.flush()
    record_write(
        actor.audit_actor(),
        "remove_team_member" if reason == "removed" else "leave_team",
        child_id=child.id,
        object_type="team_member",
        object_id=member.public_id,
        legal_basis=basis,
        detail={"agency_id": member.agency_id, "reason": reason},
    )
    record_event(
        child.id,
        "team_member_left",
        owner_agency_id=owner_agency_id,
        audience="team",
        author_person_id=actor.account.staff_person_id,
        object_type="team_member",
        object_public_id=member.public_id,
    )


@refusals_audited("remove_team_member")
def remove_team_member(actor: Actor, child: Child, member: TeamMember) -> None:
    """The plan keeper removes a member: the relation ends, so the member loses access on the next request."""
    keeper = keeper_or_refuse(actor, child)
    _end_member(actor, child, member, "removed", KEEPER_BASES[keeper.role], keeper.agency_id)


@refusals_audited("leave_team")
def leave_team(actor: Actor, child: Child, member: TeamMember) -> None:
    """A member leaves the team themself (only their own membership, for the agency they act for)."""
    assert actor.acting_agency is not None  # staff act for an agency (the views reach the child only so)
    if member.staff_person_id != actor.account.staff_person_id or member.agency_id != actor.acting_agency.id:
        raise OperationError(_("You can only leave the team yourself"), "member")
    keeper = plan_keeper(child.id)
    _end_member(actor, child, member, "left", "relation_team", keeper.agency_id if keeper else member.agency_id)


# -- the family -------------------------------------------------------------------------------------------------
def child_may_be_invited(child: Child) -> bool:
    """The child from the configured maturity age, or whenever a maturity assessment exists."""
    age = age_in_years(child.birth_date, today())
    if age is not None and age >= maturity_min_age():
        return True
    return db.session.scalar(select(MaturityAssessment.id).where(MaturityAssessment.child_id == child.id)) is not None


@refusals_audited("invite_family")
def invite_family(actor: Actor, child: Child, guardian_id: int | None) -> TeamFamilyInvitation:
    """Invite a guardian with current custody (``guardian_id``), or the child (None) by age or maturity."""
    keeper = keeper_or_refuse(actor, child)
    if guardian_id is not None:
        custody = db.session.scalar(
            select(Custody.id).where(
                Custody.child_id == child.id, Custody.guardian_id == guardian_id, Custody.ended_at.is_(None)
            )
        )
        if custody is None:
            raise OperationError(_("Only a guardian with custody of the child can be invited"), "invitee")
        existing = db.session.scalar(
            select(TeamFamilyInvitation).where(
                TeamFamilyInvitation.child_id == child.id, TeamFamilyInvitation.guardian_id == guardian_id
            )
        )
    else:
        if not child_may_be_invited(child):
            raise OperationError(
                _(
                    "The child can be invited from the age of %(age)d, or when staff have recorded that they are "
                    "mature enough",
                    age=maturity_min_age(),
                ),
                "invitee",
            )
        existing = db.session.scalar(
            select(TeamFamilyInvitation).where(
                TeamFamilyInvitation.child_id == child.id, TeamFamilyInvitation.is_child.is_(True)
            )
        )
    if existing is not None and existing.ended_at is None:
        raise OperationError(_("Already invited"), "invitee")
    moment = now()
    if existing is not None:
        invitation = existing
        invitation.ended_at = None
        invitation.invited_at = moment
        invitation.invited_by_id = actor.account.staff_person_id
    else:
        invitation = TeamFamilyInvitation(
            child_id=child.id,
            guardian_id=guardian_id,
            is_child=guardian_id is None,
            invited_by_id=actor.account.staff_person_id,
            invited_at=moment,
        )
        db.session.add(invitation)
    db.session.flush()
    record_write(
        actor.audit_actor(),
        "invite_family",
        child_id=child.id,
        object_type="team_family_invitation",
        object_id=str(invitation.id),
        legal_basis=KEEPER_BASES[keeper.role],
        detail={"guardian_id": guardian_id, "child": guardian_id is None},
    )
    record_event(
        child.id,
        "family_invited",
        owner_agency_id=keeper.agency_id,
        audience="team",
        author_person_id=actor.account.staff_person_id,
    )
    return invitation
