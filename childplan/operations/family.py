"""The family and the plan: a guardian (with current custody, identity checked, of a child under 18 — the
access core's rule for guardians) or the young person marks a published version as read, agreed or not,
and comments on the plan or on one of its items (RULES.md §4, §6).

- A comment on an item inherits that item's agency and Needs Compass areas (``agency_id``: the need's
  agency, the action's owner agency; the areas are the item's, read when the comment is shown); a
  plan-level comment is the plan's agency's record and goes to the plan keeper only.
- An item withheld from guardians (and an action serving a need withheld from guardians) does not exist for
  a guardian: commenting on it is refused exactly as commenting on an item that does not exist. The young
  person sees such items and may comment on them.
- The text is kept as written (templates escape it); the audit and the chronology hold no text, and the
  plan keeper's inbox item points at the comment, rendered through the access core when read."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from childplan.models import PLAN_STATUSES, Action, Need, Plan, PlanComment, PlanVersion, VersionAcknowledgement
from childplan.operations.common import PLAN_TEXT_MAX, audit_write, chronicle, clean_text
from coordination import events
from coordination.access import GUARDIAN, YOUNG_PERSON, Actor, decide_child
from coordination.audit import refusals_audited
from coordination.children.models import Child
from coordination.clock import now
from coordination.database import db
from coordination.errors import OperationError
from coordination.errors import refusal_message as _

MAX_ID_LENGTH = 64


@dataclass(frozen=True)
class FamilyViewer:
    """Who in the family acts: a guardian (``guardian_id``) or the young person, and the legal basis."""

    legal_basis: str
    guardian_id: int | None

    @property
    def is_guardian(self) -> bool:
        return self.guardian_id is not None


def _refused() -> OperationError:
    return OperationError(_("Only the child's guardians and the young person can do this"), "form")


def _no_such_item() -> OperationError:
    # One answer for an item that does not exist, belongs to another plan or is withheld from guardians.
    return OperationError(_("There is no such part of the plan"), "item")


def family_viewer_or_refuse(actor: Actor, child_id: int) -> FamilyViewer:
    """The guardian or the young person, while the access core lets them open the child (custody now,
    identity checked, the child under 18; the young person's own login); anyone else is refused."""
    kind = getattr(actor, "kind", None)
    if kind not in (GUARDIAN, YOUNG_PERSON):
        raise _refused()
    child = db.session.get(Child, child_id)
    if child is None or not decide_child(actor, child):
        raise _refused()
    if kind == GUARDIAN:
        return FamilyViewer("custody", actor.account.guardian_id)
    return FamilyViewer("young_person", None)


def _plan_shown_to_the_family_or_refuse(plan: Plan) -> None:
    if plan.status not in PLAN_STATUSES:
        raise OperationError(_("The plan is not available"), "form")


@refusals_audited("acknowledge_plan_version")
def acknowledge_version(actor: Actor, version: PlanVersion, has_agreed: bool) -> VersionAcknowledgement:
    """Mark a published version as read, agreed or not. One row per guardian (and one for the young
    person) per version: marking again updates it."""
    plan = db.session.get(Plan, version.plan_id)
    if plan is None:
        raise OperationError(_("The plan is not available"), "form")
    viewer = family_viewer_or_refuse(actor, plan.child_id)
    _plan_shown_to_the_family_or_refuse(plan)
    agreed = bool(has_agreed)
    statement = select(VersionAcknowledgement).where(VersionAcknowledgement.version_id == version.id)
    if viewer.is_guardian:
        statement = statement.where(VersionAcknowledgement.guardian_id == viewer.guardian_id)
    else:
        statement = statement.where(VersionAcknowledgement.is_young_person.is_(True))
    acknowledgement = db.session.scalar(statement)
    moment = now()
    if acknowledgement is None:
        acknowledgement = VersionAcknowledgement(
            version_id=version.id,
            guardian_id=viewer.guardian_id,
            is_young_person=not viewer.is_guardian,
            has_agreed=agreed,
            read_at=moment,
        )
        db.session.add(acknowledgement)
    else:
        acknowledgement.has_agreed = agreed
        acknowledgement.read_at = moment
    db.session.flush()
    audit_write(
        actor,
        "acknowledge_plan_version",
        plan.child_id,
        "plan_version",
        version.public_id,
        viewer.legal_basis,
        number=version.number,
        agreed=agreed,
    )
    # Content-free: "the family read version N (and agreed)"; the entry points at the version. Whether the
    # family agreed is for the plan keeper (RULES.md §4): the keeper's agency's record, within that agency.
    chronicle(
        actor,
        plan.child_id,
        "plan_version_agreed" if agreed else "plan_version_read",
        owner_agency_id=plan.agency_id,
        object_type="plan_version",
        public_id=version.public_id,
        audience="own_agency",
    )
    return acknowledgement


def _public_id(item: object) -> str:
    value = item if isinstance(item, str) else getattr(item, "public_id", "")
    return (value or "")[:MAX_ID_LENGTH]


def _need_for(plan: Plan, item: Need | str, viewer: FamilyViewer) -> Need:
    need = db.session.scalar(select(Need).where(Need.public_id == _public_id(item), Need.plan_id == plan.id))
    if need is None or (viewer.is_guardian and need.is_withheld_from_guardians):
        raise _no_such_item()
    return need


def _action_for(plan: Plan, item: Action | str, viewer: FamilyViewer) -> Action:
    action = db.session.scalar(select(Action).where(Action.public_id == _public_id(item), Action.plan_id == plan.id))
    if action is None:
        raise _no_such_item()
    if viewer.is_guardian:
        # an action serving a need withheld from guardians is withheld with it (childplan/access.py)
        served = db.session.get(Need, action.need_id) if action.need_id is not None else None
        if action.is_withheld_from_guardians or (served is not None and served.is_withheld_from_guardians):
            raise _no_such_item()
    return action


def _version_for(plan: Plan, item: PlanVersion | str) -> PlanVersion:
    version = db.session.scalar(
        select(PlanVersion).where(PlanVersion.public_id == _public_id(item), PlanVersion.plan_id == plan.id)
    )
    if version is None:
        raise OperationError(_("There is no such version of the plan"), "version")
    return version


@refusals_audited("comment_on_plan")
def comment_on_plan(
    actor: Actor,
    plan: Plan,
    text: str | None,
    need: Need | str | None = None,
    action: Action | str | None = None,
    version: PlanVersion | str | None = None,
) -> PlanComment:
    """A guardian or the young person comments on the plan, or on one need or action of it (given as the
    object or its public id, looked up through the plan), optionally about a published version."""
    viewer = family_viewer_or_refuse(actor, plan.child_id)
    _plan_shown_to_the_family_or_refuse(plan)
    if need is not None and action is not None:
        raise OperationError(_("Comment on one part of the plan at a time"), "item")
    cleaned = clean_text(text, "text", PLAN_TEXT_MAX, required=True, message=_("Write your comment"))
    assert cleaned is not None
    need_row = _need_for(plan, need, viewer) if need is not None else None
    action_row = _action_for(plan, action, viewer) if action is not None else None
    version_row = _version_for(plan, version) if version is not None else None
    if need_row is not None:
        agency_id, item = need_row.agency_id, "need"
    elif action_row is not None:
        agency_id, item = action_row.owner_agency_id, "action"
    else:
        agency_id, item = plan.agency_id, "plan"
    comment = PlanComment(
        plan_id=plan.id,
        version_id=version_row.id if version_row is not None else None,
        need_id=need_row.id if need_row is not None else None,
        action_id=action_row.id if action_row is not None else None,
        agency_id=agency_id,
        guardian_id=viewer.guardian_id,
        is_young_person=not viewer.is_guardian,
        text=cleaned,
        created_at=now(),
    )
    db.session.add(comment)
    db.session.flush()
    audit_write(actor, "comment_on_plan", plan.child_id, "plan_comment", comment.public_id, viewer.legal_basis, on=item)
    events.plan_comment_added.send(None, comment=comment, child_id=plan.child_id)
    return comment
