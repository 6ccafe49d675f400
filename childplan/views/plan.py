"""The Plan tab: the Child's Plan as the viewer may see it, and the plan keeper's forms.

``/children/<child_id>/plan`` shows ``PlanView.for_actor`` to staff with a relation to the child (others:
404, audited by ``get_child_or_404``). The plan keeper (acting for the assignment's agency) starts the
plan and, while it is active, adds needs, goals and actions, adopts a meeting's draft actions, publishes a
version and closes the plan: plain POST forms (no JavaScript needed), 422 with the error summary, the
message next to the field and the input kept; one commit per request. Anyone else reaching a keeper
form gets 404, with the refusal audited."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from sqlalchemy import select

from agencies.models import Agency, Membership, StaffPerson, Unit
from childplan.access import (
    WITHHELD_REASONS,
    ActionLine,
    NeedLine,
    PlanView,
    decision_of,
    draft_actions_to_adopt,
    get_active_plan_or_404,
    get_keeper_or_404,
    need_ids_of,
    need_of,
    plan_of,
    reviews_listed,
)
from childplan.comment_view import acknowledgements_for_actor, comments_for_actor
from childplan.forms import (
    ActionForm,
    ClosePlanForm,
    GoalForm,
    NeedForm,
    PlanTextsForm,
    PublishForm,
    StartPlanForm,
    WithholdForm,
)
from childplan.labels import CLOSED_STATUSES, STATUS_LABELS, chips
from childplan.models import Plan
from childplan.operations import (
    ActionData,
    GoalData,
    NeedData,
    PlanData,
    PlanTextsData,
    add_action,
    add_goal,
    add_need,
    adopt_decision,
    close_plan,
    mark_withheld_from_guardians,
    publish_version,
    start_plan,
    team_agency_ids,
    update_plan_texts,
)
from childplan.review_view import ReviewView
from childplan.views.blueprints import plan
from childplan.withholding_view import own_action, own_need, own_withheld_plan_reasons
from coordination import audit
from coordination.access import Actor, ChildAccess, get_child_or_404, is_keeper, plan_keeper, refuse_404
from coordination.children.models import RoleAssignment
from coordination.children.views import child_tabs
from coordination.clock import today
from coordination.consent.forms import apply_operation_error
from coordination.consent.view import ChildHeading
from coordination.database import db
from coordination.form_writes import write_and_commit
from coordination.policies import policy, signed_in_actor
from coordination.teams.models import MeetingDecision

VIEW_PLAN = "view_child_plan"
MAX_ID_LENGTH = 64
ACTION_REFRESH = "action-refresh"  # a post of the action form that only shows it again (see new_action)


@dataclass(frozen=True)
class DraftAction:
    """A meeting decision with an owner, not yet an action of the plan."""

    public_id: str
    text: str
    agency: str
    due_on: date | None


def _write(form: FlaskForm, write: Callable[[], object]) -> int | None:
    """One write, committed; or the status of the page shown again with nothing written (409 / 422)."""
    return write_and_commit(form, write, apply_operation_error)


def _plan_url(child_id: str) -> str:
    return url_for("plan.index", child_id=child_id)


# -- the keeper's choices (plain values, a fixed number of statements) --------------------------------------
@dataclass(frozen=True)
class Choices:
    agencies: list[tuple[int, str, str]]  # id, public id, name
    units: list[tuple[int, str, str]]
    people: list[tuple[int, str, str]]
    needs: list[tuple[int, str, str]]  # the needs the keeper sees
    drafts: list[DraftAction]
    # the agency of each unit, and the agencies of each person (public ids): the form offers only the
    # chosen agency's units and people
    unit_agency: dict[str, str] = field(default_factory=dict)
    person_agencies: dict[str, set[str]] = field(default_factory=dict)


def _draft(decision: MeetingDecision) -> DraftAction:
    assert decision.owner_agency is not None  # only decisions with an owner are offered
    return DraftAction(decision.public_id, decision.text, decision.owner_agency.name, decision.due_on)


def _choices(access: ChildAccess, keeper: RoleAssignment, the_plan: Plan, view: PlanView) -> Choices:
    agency_ids = team_agency_ids(access.child.id, keeper)
    agencies = [
        (row.id, row.public_id, row.name)
        for row in db.session.execute(
            select(Agency.id, Agency.public_id, Agency.name).where(Agency.id.in_(agency_ids)).order_by(Agency.name)
        )
    ]
    names = {agency_id: name for agency_id, _p, name in agencies}
    agency_keys = {agency_id: public_id for agency_id, public_id, _n in agencies}
    unit_rows = db.session.execute(
        select(Unit.id, Unit.public_id, Unit.name, Unit.agency_id)
        .where(Unit.agency_id.in_(agency_ids))
        .order_by(Unit.name, Unit.id)
    ).all()
    units = [(row.id, row.public_id, f"{names[row.agency_id]}: {row.name}") for row in unit_rows]
    unit_agency = {row.public_id: agency_keys[row.agency_id] for row in unit_rows}
    people_rows = db.session.execute(
        select(
            StaffPerson.id, StaffPerson.public_id, StaffPerson.given_name, StaffPerson.family_name, Membership.agency_id
        )
        .join(Membership, Membership.staff_person_id == StaffPerson.id)
        .where(
            Membership.agency_id.in_(agency_ids),
            Membership.is_practitioner.is_(True),
            Membership.ended_at.is_(None),
            StaffPerson.is_active.is_(True),
        )
        .order_by(StaffPerson.given_name, StaffPerson.family_name, StaffPerson.id)
    )
    people: list[tuple[int, str, str]] = []
    seen: set[int] = set()
    person_agencies: dict[str, set[str]] = {}
    for row in people_rows:
        person_agencies.setdefault(row.public_id, set()).add(agency_keys[row.agency_id])
        if row.id not in seen:
            seen.add(row.id)
            people.append((row.id, row.public_id, f"{row.given_name} {row.family_name} ({names[row.agency_id]})"))
    shown = {need.public_id: need.description for need in view.needs}
    needs = [
        (need_id, public_id, shown[public_id])
        for public_id, need_id in need_ids_of(the_plan).items()
        if public_id in shown
    ]
    drafts = [_draft(decision) for decision in draft_actions_to_adopt(access)]
    return Choices(agencies, units, people, needs, drafts, unit_agency, person_agencies)


def _set_action_choices(form: ActionForm, choices: Choices) -> None:
    """Units and people of the agency chosen on the form only (none before one is chosen); a posted unit
    or person of another agency is then not offered, and the form refuses it next to its field."""
    chosen = form.owner_agency.data or ""
    form.set_choices(
        [(public_id, name) for _i, public_id, name in choices.agencies],
        [(public_id, name) for _i, public_id, name in choices.units if choices.unit_agency.get(public_id) == chosen],
        [
            (public_id, name)
            for _i, public_id, name in choices.people
            if chosen in choices.person_agencies.get(public_id, ())
        ],
        [(public_id, text[:80]) for _i, public_id, text in choices.needs],
    )


# -- the Plan tab ------------------------------------------------------------------------------------------
def _page(
    actor: Actor,
    access: ChildAccess,
    *,
    start_form: StartPlanForm | None = None,
    need_form: NeedForm | None = None,
    goal_form: GoalForm | None = None,
    goal_need: str | None = None,
    action_form: ActionForm | None = None,
    adopt_errors: list[str] | None = None,
    texts_form: PlanTextsForm | None = None,
    withhold_form: WithholdForm | None = None,
    withhold_target: str | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    the_plan = plan_of(access)
    keeper = plan_keeper(access.child.id)
    keeps = is_keeper(actor, keeper)
    context: dict[str, object] = {
        "child": ChildHeading.of(access),
        "tabs": child_tabs(access.child.public_id, "plan"),
        "is_keeper": keeps,
        "status_labels": STATUS_LABELS,
        "chips": chips,
        "today": today(),
        "closed_statuses": CLOSED_STATUSES,
        "adopt_errors": adopt_errors or [],
        "withheld_reasons": WITHHELD_REASONS,
    }
    if the_plan is None:
        if keeps:
            context["start_form"] = start_form or StartPlanForm()
        return render_template("childplan/plan.html", plan=None, **context), status
    audit.note_read(
        actor.audit_actor(),
        VIEW_PLAN,
        child_id=access.child.id,
        object_type="plan",
        object_id=the_plan.public_id,
        legal_basis=access.legal_basis,
    )
    view = PlanView.for_actor(the_plan, access)
    _withholding_context(context, access, the_plan, view, withhold_form, withhold_target)
    # the family's comments this viewer may read, and (for the keeper) who has read and agreed to each version
    context["family_comments"] = comments_for_actor(access, the_plan, keeps_the_plan=keeps)
    context["family_readers"] = acknowledgements_for_actor(access, the_plan, keeps_the_plan=keeps)
    # the reviews (their ratings are decided one by one on the review page); a list for the plan's own
    # agency and the agencies that may know the others involved
    reviews = reviews_listed(access, the_plan)
    if reviews is not None:
        context["reviews"] = [{"public_id": public_id, "held_on": held_on} for public_id, held_on in reviews]
        # the compass wheel of the latest review and the trend across reviews, each rating decided for the viewer
        latest = ReviewView.for_actor(access, the_plan, reviews[0][0]) if reviews else None
        context["latest_review"] = latest
        if latest is not None:  # its ratings are shown here too: a read of the review
            audit.note_read(
                actor.audit_actor(),
                "view_plan_review",
                child_id=access.child.id,
                object_type="plan_review",
                object_id=latest.public_id,
                legal_basis=access.legal_basis,
            )
    context["may_review"] = keeps and the_plan.status == "active"
    if keeps and the_plan.status == "active":
        assert keeper is not None
        choices = _choices(access, keeper, the_plan, view)
        action_form = action_form or ActionForm(prefix="action-", formdata=None)
        _set_action_choices(action_form, choices)
        context.update(
            need_form=need_form or NeedForm(prefix="need-", formdata=None),
            goal_form=goal_form,
            goal_need=goal_need,
            new_goal_form=lambda need_id: GoalForm(prefix=f"goal-{need_id}-", formdata=None),
            action_form=action_form,
            texts_form=texts_form or _texts_form(the_plan),
            drafts=choices.drafts,
            may_publish=bool(view.needs or view.actions),
            publish_form=PublishForm(),
        )
    return render_template("childplan/plan.html", plan=view, **context), status


def _texts_form(the_plan: Plan) -> PlanTextsForm:
    """The plan-level texts as they stand, at the plan's current version."""
    return PlanTextsForm(
        prefix="texts-",
        formdata=None,
        data={
            "version": str(the_plan.version),
            "why": the_plan.why,
            "overall_responsibility": the_plan.overall_responsibility,
            "child_views": the_plan.child_views,
            "guardian_views": the_plan.guardian_views,
            "disagreements": the_plan.disagreements,
            "next_review_on": the_plan.next_review_on,
        },
    )


def _withhold_prefix(public_id: str) -> str:
    return f"withhold-{public_id}-"


def _withholding_context(
    context: dict[str, object],
    access: ChildAccess,
    the_plan: Plan,
    view: PlanView,
    withhold_form: WithholdForm | None,
    target: str | None,
) -> None:
    """The "Withhold from guardians" controls (the owning agency's staff, on an active plan) and the
    reasons beside the badge of the viewer's own agency's withheld items (read only when there are any)."""
    lines: list[NeedLine | ActionLine] = [*view.needs, *view.actions]
    own_withheld = any(line.is_own_agency and line.withheld_from_guardians for line in lines)
    context["own_withheld_reasons"] = own_withheld_plan_reasons(access, the_plan) if own_withheld else {}
    context["may_withhold"] = the_plan.status == "active"
    context["withhold_target"] = target

    def form_for(public_id: str) -> WithholdForm:
        if withhold_form is not None and target == public_id:
            return withhold_form
        return WithholdForm(prefix=_withhold_prefix(public_id), formdata=None)

    context["withhold_form_for"] = form_for


@plan.get("/children/<child_id>/plan")
@policy("staff")
def index(child_id: str) -> ResponseReturnValue:
    actor = signed_in_actor()
    access = get_child_or_404(actor, child_id, action=VIEW_PLAN)
    return _page(actor, access)


@plan.post("/children/<child_id>/plan")
@policy("staff")
def start(child_id: str) -> ResponseReturnValue:
    actor = signed_in_actor()
    access = get_child_or_404(actor, child_id, action="start_plan")
    get_keeper_or_404(access, "start_plan")
    if plan_of(access) is not None:
        refuse_404(access, "start_plan", "plan_exists")
    form = StartPlanForm()
    if not form.validate_on_submit():
        return _page(actor, access, start_form=form, status=422)
    data = PlanData(form.why.data, form.overall_responsibility.data)
    status = _write(form, lambda: start_plan(actor, access.child, data))
    if status:
        return _page(actor, access, start_form=form, status=status)
    flash(_("The plan is started. Add the child's needs and the actions."))
    return redirect(_plan_url(child_id))


@plan.post("/children/<child_id>/plan/needs")
@policy("staff")
def new_need(child_id: str) -> ResponseReturnValue:
    actor = signed_in_actor()
    access = get_child_or_404(actor, child_id, action="add_plan_need")
    get_keeper_or_404(access, "add_plan_need")
    the_plan = get_active_plan_or_404(access, "add_plan_need")
    form = NeedForm(prefix="need-")
    if not form.validate_on_submit():
        return _page(actor, access, need_form=form, status=422)
    data = NeedData(
        form.description.data, list(form.areas.data or ()), form.strengths.data, form.getting_in_the_way.data
    )
    status = _write(form, lambda: add_need(actor, the_plan, data))
    if status:
        return _page(actor, access, need_form=form, status=status)
    flash(_("The need is added."))
    return redirect(_plan_url(child_id))


@plan.post("/children/<child_id>/plan/needs/<need_id>/goals")
@policy("staff")
def new_goal(child_id: str, need_id: str) -> ResponseReturnValue:
    actor = signed_in_actor()
    access = get_child_or_404(actor, child_id, action="add_plan_goal")
    get_keeper_or_404(access, "add_plan_goal")
    the_plan = get_active_plan_or_404(access, "add_plan_goal")
    wanted = (need_id or "")[:MAX_ID_LENGTH]
    need = need_of(access, the_plan, wanted)
    if need is None:
        refuse_404(access, "add_plan_goal", "not_a_need_of_this_plan")
    form = GoalForm(prefix=f"goal-{need.public_id}-")
    if not form.validate_on_submit():
        return _page(actor, access, goal_form=form, goal_need=need.public_id, status=422)
    data = GoalData(form.outcome.data, form.evidence.data)
    status = _write(form, lambda: add_goal(actor, need, data))
    if status:
        return _page(actor, access, goal_form=form, goal_need=wanted, status=status)
    flash(_("The goal is added."))
    return redirect(_plan_url(child_id))


@plan.post("/children/<child_id>/plan/actions")
@policy("staff")
def new_action(child_id: str) -> ResponseReturnValue:
    actor = signed_in_actor()
    access = get_child_or_404(actor, child_id, action="add_plan_action")
    keeper = get_keeper_or_404(access, "add_plan_action")
    the_plan = get_active_plan_or_404(access, "add_plan_action")
    view = PlanView.for_actor(the_plan, access)
    choices = _choices(access, keeper, the_plan, view)
    form = ActionForm(prefix="action-")
    _set_action_choices(form, choices)
    if ACTION_REFRESH in request.form:
        # "Show the agency's units and people" (or htmx on choosing the agency): the form again as typed,
        # with the chosen agency's units and people; nothing is validated or written
        return _page(actor, access, action_form=form)
    if not form.validate_on_submit():
        return _page(actor, access, action_form=form, status=422)

    def pick(rows: list[tuple[int, str, str]], public_id: str | None) -> int | None:
        return next((row[0] for row in rows if public_id and row[1] == public_id), None)

    data = ActionData(
        what=form.what.data,
        owner_agency_id=pick(choices.agencies, form.owner_agency.data),
        owner_unit_id=pick(choices.units, form.owner_unit.data),
        owner_person_id=pick(choices.people, form.owner_person.data),
        starts_on=form.starts_on.data,
        due_on=form.due_on.data,
        need_id=pick(choices.needs, form.need.data),
        areas=list(form.areas.data or ()),
    )
    status = _write(form, lambda: add_action(actor, the_plan, data))
    if status:
        return _page(actor, access, action_form=form, status=status)
    flash(_("The action is added."))
    return redirect(_plan_url(child_id))


@plan.post("/children/<child_id>/plan/decisions/<decision_id>/adopt")
@policy("staff")
def adopt(child_id: str, decision_id: str) -> ResponseReturnValue:
    actor = signed_in_actor()
    access = get_child_or_404(actor, child_id, action="adopt_meeting_decision")
    get_keeper_or_404(access, "adopt_meeting_decision")
    the_plan = get_active_plan_or_404(access, "adopt_meeting_decision")
    wanted = (decision_id or "")[:MAX_ID_LENGTH]
    decision = decision_of(access, wanted)
    if decision is None:
        refuse_404(access, "adopt_meeting_decision", "not_a_decision_of_this_child")
    form = PublishForm()  # the token only
    if not form.validate_on_submit():
        abort(400)
    status = _write(form, lambda: adopt_decision(actor, the_plan, decision))
    if status:
        return _page(actor, access, adopt_errors=[str(message) for message in form.form_errors], status=status)
    flash(_("The decision is now an action in the plan."))
    return redirect(_plan_url(child_id))


# -- confirmation steps: publish a version, close the plan ----------------------------------------------------
def _confirm_page(
    access: ChildAccess, mode: str, form: PublishForm | ClosePlanForm, status: int = 200
) -> ResponseReturnValue:
    return (
        render_template(
            "childplan/_plan_confirm.html",
            child=ChildHeading.of(access),
            mode=mode,
            form=form,
            action_url=request.path,
            plan_url=_plan_url(access.child.public_id),
        ),
        status,
    )


@plan.get("/children/<child_id>/plan/publish")
@policy("staff")
def publish_page(child_id: str) -> ResponseReturnValue:
    actor = signed_in_actor()
    access = get_child_or_404(actor, child_id, action="open_publish_plan_version")
    get_keeper_or_404(access, "open_publish_plan_version")
    get_active_plan_or_404(access, "open_publish_plan_version")
    return _confirm_page(access, "publish", PublishForm())


@plan.post("/children/<child_id>/plan/publish")
@policy("staff")
def publish(child_id: str) -> ResponseReturnValue:
    actor = signed_in_actor()
    access = get_child_or_404(actor, child_id, action="publish_plan_version")
    get_keeper_or_404(access, "publish_plan_version")
    the_plan = get_active_plan_or_404(access, "publish_plan_version")
    form = PublishForm()
    if not form.validate_on_submit():
        return _confirm_page(access, "publish", form, status=422)
    status = _write(form, lambda: publish_version(actor, the_plan))
    if status:
        return _confirm_page(access, "publish", form, status=status)
    flash(_("A new version of the plan is published."))
    return redirect(_plan_url(child_id))


@plan.get("/children/<child_id>/plan/close")
@policy("staff")
def close_page(child_id: str) -> ResponseReturnValue:
    actor = signed_in_actor()
    access = get_child_or_404(actor, child_id, action="open_close_plan")
    get_keeper_or_404(access, "open_close_plan")
    get_active_plan_or_404(access, "open_close_plan")
    return _confirm_page(access, "close", ClosePlanForm())


@plan.post("/children/<child_id>/plan/close")
@policy("staff")
def close(child_id: str) -> ResponseReturnValue:
    actor = signed_in_actor()
    access = get_child_or_404(actor, child_id, action="close_plan")
    get_keeper_or_404(access, "close_plan")
    the_plan = get_active_plan_or_404(access, "close_plan")
    form = ClosePlanForm()
    if not form.validate_on_submit():
        return _confirm_page(access, "close", form, status=422)
    status = _write(form, lambda: close_plan(actor, the_plan, form.reason.data, form.note.data))
    if status:
        return _confirm_page(access, "close", form, status=status)
    flash(_("The plan is closed."))
    return redirect(_plan_url(child_id))


# -- the plan-level texts (the keeper) ------------------------------------------------------------------------
@plan.post("/children/<child_id>/plan/texts")
@policy("staff")
def texts(child_id: str) -> ResponseReturnValue:
    """Why, overall responsibility, the views, disagreements and the next review: the plan keeper of an
    active plan. A stale version answers 409 with the current texts shown and the keeper's text kept
    (the form then carries the current version, so sending it again overwrites on purpose)."""
    actor = signed_in_actor()
    access = get_child_or_404(actor, child_id, action="update_plan_texts")
    get_keeper_or_404(access, "update_plan_texts")
    the_plan = get_active_plan_or_404(access, "update_plan_texts")
    form = PlanTextsForm(prefix="texts-")
    if not form.validate_on_submit():
        return _page(actor, access, texts_form=form, status=422)
    data = PlanTextsData(
        why=form.why.data,
        overall_responsibility=form.overall_responsibility.data,
        child_views=form.child_views.data,
        guardian_views=form.guardian_views.data,
        disagreements=form.disagreements.data,
        next_review_on=form.next_review_on.data,
    )
    status = _write(form, lambda: update_plan_texts(actor, the_plan, form.version_number(), data))
    if status:
        if status == 409:
            form.version.data = str(the_plan.version)
        return _page(actor, access, texts_form=form, status=status)
    flash(_("The plan's texts are saved."))
    return redirect(_plan_url(child_id))


# -- withholding a need or an action from guardians (the owning agency's staff) ------------------------------
def _withhold(child_id: str, item_id: str, kind: str) -> ResponseReturnValue:
    action = f"withhold_plan_{kind}"
    actor = signed_in_actor()
    access = get_child_or_404(actor, child_id, action=action)
    the_plan = get_active_plan_or_404(access, action)
    wanted = (item_id or "")[:MAX_ID_LENGTH]
    item = own_need(access, the_plan, wanted) if kind == "need" else own_action(access, the_plan, wanted)
    if item is None:
        audit.note_denied(
            actor.audit_actor(),
            action,
            child_id=access.child.id,
            object_type=f"plan_{kind}",
            object_id=wanted,
            detail={"reason": "not_an_item_of_your_agency"},
        )
        abort(404)
    public_id = item.public_id
    form = WithholdForm(prefix=_withhold_prefix(public_id))
    if not form.validate_on_submit():
        return _page(actor, access, withhold_form=form, withhold_target=public_id, status=422)
    status = _write(form, lambda: mark_withheld_from_guardians(actor, item, form.reason.data))
    if status:
        return _page(actor, access, withhold_form=form, withhold_target=public_id, status=status)
    flash(_("Withheld from guardians. They will not see it in any channel."))
    return redirect(_plan_url(child_id))


@plan.post("/children/<child_id>/plan/needs/<need_id>/withhold")
@policy("staff")
def withhold_need(child_id: str, need_id: str) -> ResponseReturnValue:
    return _withhold(child_id, need_id, "need")


@plan.post("/children/<child_id>/plan/actions/<action_id>/withhold")
@policy("staff")
def withhold_action(child_id: str, action_id: str) -> ResponseReturnValue:
    return _withhold(child_id, action_id, "action")
