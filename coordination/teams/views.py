"""The individual child team (Barnets eget team) and its meetings: the Team tab
(``/children/<child_id>/team``), the plan keeper's actions on it (add and remove members, invite the
family), leaving the team, and the meeting pages (propose, see, reschedule, cancel, record the outcome).

Every page reaches the child through ``access.get_child_or_404`` (audited; out of scope is 404), and a
meeting or member through the child. The plan keeper's actions answer 404 to anyone else, with the
refusal audited. Forms work without JavaScript: the error summary, the message next to the field, the
input kept, 422 on a refusal, 409 when the meeting changed since the form was shown; one commit per
request. GET never writes: each form page's POST is its own route.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from sqlalchemy import select

from agencies.models import StaffPerson, Unit
from childplan.forms import WithholdForm
from childplan.operations import mark_withheld_from_guardians
from childplan.withholding_view import own_withheld_member_reasons
from coordination import audit
from coordination.access import STAFF, Actor, ChildAccess, get_child_or_404, is_keeper, plan_keeper, refuse_404
from coordination.children.models import Guardian
from coordination.children.views import child_tabs
from coordination.clock import current_clock, now
from coordination.consent.view import ChildHeading
from coordination.database import db
from coordination.errors import OperationError
from coordination.form_writes import write_and_commit
from coordination.policies import current_actor, policy
from coordination.teams.access import (
    CHILD_KEY,
    STATE_LABELS,
    WITHHELD_REASONS,
    OutcomeChoices,
    agenda_text,
    build_meeting_view,
    build_team_view,
    family_invitees,
    get_own_team_member_or_404,
    get_team_member_or_404,
    in_team,
    meeting_or_404,
    open_concern_areas,
    outcome_choices,
)
from coordination.teams.forms import (
    REFRESH,
    AddMemberForm,
    CancelForm,
    ConfirmForm,
    InviteFamilyForm,
    MeetingForm,
    OutcomeForm,
    RescheduleForm,
    apply_operation_error,
    aware,
)
from coordination.teams.models import Meeting, TeamMember
from coordination.teams.operations import (
    DecisionData,
    MeetingData,
    MemberData,
    OutcomeData,
    add_team_member,
    cancel_meeting,
    invite_family,
    leave_team,
    propose_meeting,
    record_meeting_outcome,
    remove_team_member,
    reschedule_meeting,
)

teams = Blueprint("teams", __name__)

VIEW_TEAM = "view_child_team"
VIEW_MEETING = "view_meeting"
MAX_ID_LENGTH = 64


# -- reaching the child ------------------------------------------------------------------------------------
def _child(child_id: str, action: str) -> tuple[Actor, ChildAccess]:
    actor = current_actor()
    if actor is None or actor.kind != STAFF or actor.acting_agency is None:
        abort(404)  # the policy has already refused (and audited) anyone but staff
    return actor, get_child_or_404(actor, child_id, action=action)


def _keeper_access(child_id: str, action: str) -> tuple[Actor, ChildAccess]:
    """The plan keeper only (acting for the assignment's agency); anyone else: 404, audited."""
    actor, access = _child(child_id, action)
    if not is_keeper(actor, plan_keeper(access.child.id)):
        refuse_404(access, action, "not_plan_keeper")
    return actor, access


def _write(form: FlaskForm, write: Callable[[], object]) -> int | None:
    """One write, committed; or the status of the page shown again with nothing written: 422 with the
    refusal next to its field (decision blocks included), 409 when the meeting changed meanwhile."""
    return write_and_commit(form, write, apply_operation_error)


def _team_url(child_id: str) -> str:
    return url_for("teams.index", child_id=child_id)


# -- the Team tab ------------------------------------------------------------------------------------------
def _team_page(
    access: ChildAccess,
    *,
    member_form: AddMemberForm | None = None,
    invite_form: InviteFamilyForm | None = None,
    withhold_form: WithholdForm | None = None,
    withhold_target: str | None = None,
    status: int = 200,
) -> tuple[str, int]:
    view = build_team_view(access)
    # the own agency's memberships: the "Withhold from guardians" control, and the reasons beside the badge
    # (read only when the viewer's agency has a member on the team)
    own_members = any(member.is_own_agency for member in view.members)
    withheld_members = own_withheld_member_reasons(access) if own_members else {}

    def withhold_form_for(member_id: str) -> WithholdForm:
        if withhold_form is not None and withhold_target == member_id:
            return withhold_form
        return WithholdForm(prefix=_withhold_prefix(member_id), formdata=None)

    if member_form is None:
        member_form = AddMemberForm()
    if invite_form is None:
        invite_form = InviteFamilyForm()
    member_form.set_choices((c.value, c.label) for c in view.candidates)
    invite_form.set_choices((c.value, c.label) for c in view.invitees)
    return (
        render_template(
            "teams/index.html",
            team=view,
            child=view.child,
            tabs=child_tabs(view.child.public_id, "team"),
            member_form=member_form,
            invite_form=invite_form,
            withheld_reasons=WITHHELD_REASONS,
            withheld_members=withheld_members,
            withhold_form_for=withhold_form_for,
        ),
        status,
    )


def _withhold_prefix(member_id: str) -> str:
    return f"withhold-{member_id}-"


@teams.get("/children/<child_id>/team")
@policy("staff")
def index(child_id: str) -> ResponseReturnValue:
    _actor, access = _child(child_id, VIEW_TEAM)
    return _team_page(access)


@teams.post("/children/<child_id>/team/members")
@policy("staff")
def add_member(child_id: str) -> ResponseReturnValue:
    actor, access = _keeper_access(child_id, "open_add_team_member")
    child = access.child
    view = build_team_view(access)
    form = AddMemberForm()
    form.set_choices((c.value, c.label) for c in view.candidates)
    if not form.validate_on_submit():
        return _team_page(access, member_form=form, status=422)
    person_key, _dot, unit_key = (form.member.data or "").partition(".")
    person_id = db.session.scalar(select(StaffPerson.id).where(StaffPerson.public_id == person_key[:MAX_ID_LENGTH]))
    unit_id = db.session.scalar(select(Unit.id).where(Unit.public_id == unit_key[:MAX_ID_LENGTH]))
    if person_id is None or unit_id is None:
        form.member.errors = [_("Choose a member of staff")]
        return _team_page(access, member_form=form, status=422)
    data = MemberData(staff_person_id=person_id, unit_id=unit_id, role_note=form.role_note.data)
    status = _write(form, lambda: add_team_member(actor, child, data))
    if status:
        return _team_page(access, member_form=form, status=status)
    flash(_("Added to the team. They can open the child's pages from now on."))
    return redirect(_team_url(child_id))


def _confirm_page(
    access: ChildAccess, form: ConfirmForm, *, mode: str, name: str | None, status: int = 200
) -> tuple[str, int]:
    return (
        render_template(
            "teams/confirm.html",
            child=ChildHeading.of(access),
            form=form,
            mode=mode,
            name=name,
            action_url=request.path,
            team_url=_team_url(access.child.public_id),
        ),
        status,
    )


def _member_name(member: TeamMember, access: ChildAccess) -> str | None:
    if access.child.has_protected_identity and not in_team(access):
        return None
    return member.staff_person.full_name


@teams.get("/children/<child_id>/team/members/<member_id>/remove")
@policy("staff")
def remove_member_page(child_id: str, member_id: str) -> ResponseReturnValue:
    actor, access = _keeper_access(child_id, "open_remove_team_member_page")
    member = get_team_member_or_404(actor, access, member_id, "open_remove_team_member_page")
    return _confirm_page(access, ConfirmForm(), mode="remove", name=_member_name(member, access))


@teams.post("/children/<child_id>/team/members/<member_id>/remove")
@policy("staff")
def remove_member(child_id: str, member_id: str) -> ResponseReturnValue:
    actor, access = _keeper_access(child_id, "open_remove_team_member")
    member = get_team_member_or_404(actor, access, member_id, "open_remove_team_member")
    name = _member_name(member, access)
    form = ConfirmForm()
    if not form.validate_on_submit():
        return _confirm_page(access, form, mode="remove", name=name, status=422)
    status = _write(form, lambda: remove_team_member(actor, access.child, member))
    if status:
        return _confirm_page(access, form, mode="remove", name=name, status=status)
    flash(_("Removed from the team. Their access through the team ends now."))
    return redirect(_team_url(child_id))


def _my_membership(actor: Actor, access: ChildAccess, action: str) -> TeamMember:
    assert actor.acting_agency is not None
    member = db.session.scalar(
        select(TeamMember).where(
            TeamMember.child_id == access.child.id,
            TeamMember.staff_person_id == actor.account.staff_person_id,
            TeamMember.agency_id == actor.acting_agency.id,
            TeamMember.ended_at.is_(None),
        )
    )
    if member is None:
        audit.note_denied(
            actor.audit_actor(),
            action,
            child_id=access.child.id,
            object_type="team_member",
            detail={"reason": "not_a_member"},
        )
        abort(404)
    return member


@teams.get("/children/<child_id>/team/leave")
@policy("staff")
def leave_page(child_id: str) -> ResponseReturnValue:
    actor, access = _child(child_id, "open_leave_team_page")
    _my_membership(actor, access, "open_leave_team_page")
    return _confirm_page(access, ConfirmForm(), mode="leave", name=None)


@teams.post("/children/<child_id>/team/leave")
@policy("staff")
def leave(child_id: str) -> ResponseReturnValue:
    actor, access = _child(child_id, "open_leave_team")
    member = _my_membership(actor, access, "open_leave_team")
    form = ConfirmForm()
    if not form.validate_on_submit():
        return _confirm_page(access, form, mode="leave", name=None, status=422)
    status = _write(form, lambda: leave_team(actor, access.child, member))
    if status:
        return _confirm_page(access, form, mode="leave", name=None, status=status)
    flash(_("You have left the team."))
    return redirect(url_for("children.home"))


@teams.post("/children/<child_id>/team/family")
@policy("staff")
def invite(child_id: str) -> ResponseReturnValue:
    actor, access = _keeper_access(child_id, "open_invite_family")
    form = InviteFamilyForm()
    form.set_choices((c.value, c.label) for c in family_invitees(access))
    if not form.validate_on_submit():
        return _team_page(access, invite_form=form, status=422)
    guardian_id = None
    if form.invitee.data != CHILD_KEY:
        guardian_id = db.session.scalar(
            select(Guardian.id).where(Guardian.public_id == (form.invitee.data or "")[:MAX_ID_LENGTH])
        )
        if guardian_id is None:
            form.invitee.errors = [_("Choose whom to invite")]
            return _team_page(access, invite_form=form, status=422)
    status = _write(form, lambda: invite_family(actor, access.child, guardian_id))
    if status:
        return _team_page(access, invite_form=form, status=status)
    flash(_("Invited to the team."))
    return redirect(_team_url(child_id))


# -- proposing a meeting -----------------------------------------------------------------------------------
def _new_meeting_page(access: ChildAccess, form: MeetingForm, status: int = 200) -> tuple[str, int]:
    return (
        render_template(
            "teams/new_meeting.html",
            child=ChildHeading.of(access),
            form=form,
            team_url=_team_url(access.child.public_id),
        ),
        status,
    )


@teams.get("/children/<child_id>/meetings/new")
@policy("staff")
def new_meeting(child_id: str) -> ResponseReturnValue:
    _actor, access = _keeper_access(child_id, "open_new_meeting_page")
    form = MeetingForm(formdata=None)
    areas = open_concern_areas(access)
    chosen = [code for code in request.args.getlist("area")[:8] if code in {c for c, _label in form.areas.choices}]
    form.areas.data = list(dict.fromkeys([*areas, *chosen]))
    form.agenda.data = agenda_text(areas)
    start = (now() + timedelta(days=7)).astimezone(aware_zone()).replace(minute=0, second=0, microsecond=0, tzinfo=None)
    form.starts_at.data = start
    form.ends_at.data = start + timedelta(hours=1)
    return _new_meeting_page(access, form)


def aware_zone() -> ZoneInfo:
    return current_clock().zone


@teams.post("/children/<child_id>/meetings/new")
@policy("staff")
def propose(child_id: str) -> ResponseReturnValue:
    actor, access = _keeper_access(child_id, "open_propose_meeting")
    form = MeetingForm()
    if not form.validate_on_submit():
        return _new_meeting_page(access, form, 422)
    data = MeetingData(
        starts_at=aware(form.starts_at.data),
        ends_at=aware(form.ends_at.data),
        place=form.place.data,
        agenda=form.agenda.data,
        areas=list(form.areas.data or ()),
    )
    created: list[Meeting] = []
    status = _write(form, lambda: created.append(propose_meeting(actor, access.child, data)))
    if status:
        return _new_meeting_page(access, form, status)
    flash(_("Meeting proposed. The team is told."))
    return redirect(url_for("teams.meeting", child_id=child_id, meeting_id=created[0].public_id))


# -- one meeting -------------------------------------------------------------------------------------------
def _outcome_form(
    access: ChildAccess, meeting_id: str, form: OutcomeForm | None = None
) -> tuple[OutcomeForm, OutcomeChoices]:
    choices = outcome_choices(access)
    if form is None:
        form = OutcomeForm(formdata=None)
    form.set_choices(
        ((c.value, c.label) for c in choices.attendees),
        ((c.value, c.label) for c in choices.agencies),
        {key: [(c.value, c.label) for c in found] for key, found in choices.units_by_agency.items()},
        {key: [(c.value, c.label) for c in found] for key, found in choices.persons_by_agency.items()},
        refresh_url=url_for("teams.record_outcome", child_id=access.child.public_id, meeting_id=meeting_id),
    )
    return form, choices


def _set_version(form: RescheduleForm | OutcomeForm | CancelForm, version: int) -> None:
    """The form carries the meeting's current version (after a 409 too: the user may then send it again)."""
    form.version.data = version
    form.version.raw_data = [str(version)]


def _meeting_page(
    access: ChildAccess,
    meeting: Meeting,
    *,
    reschedule_form: RescheduleForm | None = None,
    outcome_form: OutcomeForm | None = None,
    status: int = 200,
) -> tuple[str, int]:
    """The meeting page; a posted form is shown again (with its messages) even when the meeting's state no
    longer offers it, so the refusal is seen next to what was typed."""
    view = build_meeting_view(access, meeting)
    if reschedule_form is None and view.may_reschedule:
        reschedule_form = RescheduleForm(formdata=None)
        reschedule_form.starts_at.data = meeting.starts_at.astimezone(aware_zone()).replace(tzinfo=None)
        reschedule_form.ends_at.data = meeting.ends_at.astimezone(aware_zone()).replace(tzinfo=None)
        reschedule_form.place.data = meeting.place
    if outcome_form is None and view.may_record:
        outcome_form, _choices = _outcome_form(access, meeting.public_id)
    for form in (reschedule_form, outcome_form):
        if form is not None:
            _set_version(form, view.version)
    return (
        render_template(
            "teams/meeting.html",
            meeting=view,
            child=view.child,
            tabs=child_tabs(view.child.public_id, "team"),
            reschedule_form=reschedule_form if view.is_keeper else None,
            outcome_form=outcome_form if view.is_keeper else None,
            withheld_reasons=WITHHELD_REASONS,
            team_url=_team_url(view.child.public_id),
            state_labels=STATE_LABELS,
        ),
        status,
    )


@teams.get("/children/<child_id>/meetings/<meeting_id>")
@policy("staff")
def meeting(child_id: str, meeting_id: str) -> ResponseReturnValue:
    _actor, access = _child(child_id, VIEW_MEETING)
    found = meeting_or_404(access, meeting_id, VIEW_MEETING)
    return _meeting_page(access, found)


def _keeper_meeting(child_id: str, meeting_id: str, action: str) -> tuple[Actor, ChildAccess, Meeting]:
    """The plan keeper's actions on a meeting: the child, then the keeper, then the meeting (404 each)."""
    actor, access = _keeper_access(child_id, action)
    return actor, access, meeting_or_404(access, meeting_id, action)


@teams.post("/children/<child_id>/meetings/<meeting_id>/reschedule")
@policy("staff")
def reschedule(child_id: str, meeting_id: str) -> ResponseReturnValue:
    actor, access, found = _keeper_meeting(child_id, meeting_id, "open_reschedule_meeting")
    form = RescheduleForm()
    if not form.validate_on_submit():
        return _meeting_page(access, found, reschedule_form=form, status=422)
    data = MeetingData(starts_at=aware(form.starts_at.data), ends_at=aware(form.ends_at.data), place=form.place.data)
    status = _write(form, lambda: reschedule_meeting(actor, access.child, found, form.version.data, data))
    if status:
        return _meeting_page(access, found, reschedule_form=form, status=status)
    flash(_("Meeting rescheduled. The team is told."))
    return redirect(url_for("teams.meeting", child_id=child_id, meeting_id=meeting_id))


def _cancel_page(access: ChildAccess, found: Meeting, form: CancelForm, status: int = 200) -> tuple[str, int]:
    view = build_meeting_view(access, found)
    _set_version(form, view.version)
    return (
        render_template(
            "teams/cancel.html",
            meeting=view,
            child=view.child,
            form=form,
            action_url=request.path,
            meeting_url=url_for("teams.meeting", child_id=view.child.public_id, meeting_id=view.public_id),
            withheld_reasons=WITHHELD_REASONS,
        ),
        status,
    )


@teams.get("/children/<child_id>/meetings/<meeting_id>/cancel")
@policy("staff")
def cancel_page(child_id: str, meeting_id: str) -> ResponseReturnValue:
    _actor, access, found = _keeper_meeting(child_id, meeting_id, "open_cancel_meeting_page")
    return _cancel_page(access, found, CancelForm(formdata=None))


@teams.post("/children/<child_id>/meetings/<meeting_id>/cancel")
@policy("staff")
def cancel(child_id: str, meeting_id: str) -> ResponseReturnValue:
    actor, access, found = _keeper_meeting(child_id, meeting_id, "open_cancel_meeting")
    form = CancelForm()
    if not form.validate_on_submit():
        return _cancel_page(access, found, form, 422)
    status = _write(form, lambda: cancel_meeting(actor, access.child, found, form.version.data, form.reason.data))
    if status:
        return _cancel_page(access, found, form, status)
    flash(_("Meeting cancelled. The team is told."))
    return redirect(url_for("teams.meeting", child_id=child_id, meeting_id=meeting_id))


@teams.post("/children/<child_id>/meetings/<meeting_id>/outcome")
@policy("staff")
def record_outcome(child_id: str, meeting_id: str) -> ResponseReturnValue:
    actor, access, found = _keeper_meeting(child_id, meeting_id, "open_record_meeting_outcome")
    form, choices = _outcome_form(access, found.public_id, OutcomeForm())
    if REFRESH in request.form:
        # "Show the agency's units and people" (or htmx on choosing an agency): the form again, as typed,
        # with each block's units and people of its chosen agency; nothing is validated or written
        return _meeting_page(access, found, outcome_form=form)
    if not form.validate_on_submit():
        return _meeting_page(access, found, outcome_form=form, status=422)
    picked = set(form.attendees.data or ())
    decisions: list[DecisionData] = []
    for entry in form.decisions.entries:
        block = entry.form
        if block.is_blank():
            continue
        decisions.append(
            DecisionData(
                text=block.text.data,
                areas=list(block.areas.data or ()),
                owner_agency_id=choices.agency_ids.get(block.owner_agency.data or ""),
                owner_unit_id=choices.unit_ids.get(block.owner_unit.data or ""),
                owner_person_id=choices.person_ids.get(block.owner_person.data or ""),
                due_on=block.due_on.data,
            )
        )
    data = OutcomeData(
        staff_person_ids=[choices.staff_ids[k] for k in picked if k in choices.staff_ids],
        guardian_ids=[choices.guardian_ids[k] for k in picked if k in choices.guardian_ids],
        child_attended=CHILD_KEY in picked,
        child_views=form.child_views.data,
        family_views=form.family_views.data,
        disagreements=form.disagreements.data,
        notes=form.notes.data,
        decisions=decisions,
    )
    # Blank blocks are skipped: the n-th decision is the n-th filled block, for messages next to it.
    filled = [i for i, entry in enumerate(form.decisions.entries) if not entry.form.is_blank()]

    def write() -> None:
        try:
            record_meeting_outcome(actor, access.child, found, form.version.data, data)
        except OperationError as error:
            if error.field and error.field.startswith("decisions-"):
                _prefix, index, sub = error.field.split("-", 2)
                error.field = f"decisions-{filled[int(index)]}-{sub}"
            raise

    status = _write(form, write)
    if status:
        return _meeting_page(access, found, outcome_form=form, status=status)
    flash(_("The outcome is recorded. Decisions with an owner are draft actions for the Child's Plan."))
    return redirect(url_for("teams.meeting", child_id=child_id, meeting_id=meeting_id))


@teams.post("/children/<child_id>/team/members/<member_id>/withhold")
@policy("staff")
def withhold_member(child_id: str, member_id: str) -> ResponseReturnValue:
    """Staff of the member's agency withhold the agency's team membership from guardians, with a reason
    (RULES.md §6); another agency's membership, or none: 404, audited."""
    action = "withhold_team_member"
    actor, access = _child(child_id, action)
    member = get_own_team_member_or_404(actor, access, member_id, action)
    form = WithholdForm(prefix=_withhold_prefix(member.public_id))
    target = member.public_id
    if not form.validate_on_submit():
        return _team_page(access, withhold_form=form, withhold_target=target, status=422)
    status = _write(form, lambda: mark_withheld_from_guardians(actor, member, form.reason.data))
    if status:
        return _team_page(access, withhold_form=form, withhold_target=target, status=status)
    flash(_("Withheld from guardians. They will not see it in any channel."))
    return redirect(_team_url(child_id))
