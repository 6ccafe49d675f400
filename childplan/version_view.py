"""The difference between two published versions of a Child's Plan, as one member of staff may see it.

Each side is the frozen ``PlanVersion.content`` (written by ``childplan.operations.plan.plan_content``),
filtered for the viewer with the Plan tab's rule (``coordination.access.may_see_item`` for the purpose
"coordination" and the item's areas; an action's areas already include its need's). An item the viewer may
not see on either side is left out of both sides, so the diff never shows it as added, removed or changed;
the viewer is told how many such items there are only while its agency holds coordination consent (as the
Plan tab shows withheld lines only then). Unit and staff names follow ``sees_protected_details``.

The plan's own texts (why, overall responsibility, the child's and the guardians' views, disagreements,
the next review) are the keeper agency's record covering every area, as on the Plan tab: compared only
when the viewer may see them on both sides, otherwise left out (and said so while its agency holds
coordination consent). Dates are ``datetime.date`` values for the template to show in the viewer's locale.

Computed on every call and holding plain values only; the page that shows it audits the read."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from agencies.models import Agency
from childplan.compass import AREA_CODES
from childplan.models import PlanVersion
from coordination.access import STAFF, ChildAccess, may_see_item, sees_protected_details
from coordination.database import db

PURPOSE = "coordination"
ADDED = "added"
REMOVED = "removed"
CHANGED = "changed"

NEED_FIELDS = {
    "description": _l("Description"),
    "areas": _l("Areas"),
}
GOAL_FIELDS = {
    "outcome": _l("Outcome"),
    "evidence": _l("How we will know"),
}
PLAN_FIELDS = {
    "why": _l("Why there is a plan"),
    "overall_responsibility": _l("Who has overall responsibility"),
    "child_views": _l("The child's views"),
    "guardian_views": _l("The guardians' views"),
    "disagreements": _l("Where views differ"),
    "next_review_on": _l("Next review"),
}
ACTION_FIELDS = {
    "what": _l("What"),
    "owner": _l("Owner"),
    "starts_on": _l("Starts"),
    "due_on": _l("Due"),
    "status": _l("Status"),
}
DATE_FIELDS = frozenset({"starts_on", "due_on", "next_review_on"})
ALL_AREAS = list(AREA_CODES)


@dataclass(frozen=True)
class FieldChange:
    """One field that differs: its label and the old and new values (plain text, None when empty)."""

    code: str
    label: object
    old: Any
    new: Any

    @property
    def is_date(self) -> bool:
        return self.code in DATE_FIELDS


@dataclass(frozen=True)
class GoalDiff:
    public_id: str
    change: str  # added, removed, changed
    outcome: str | None
    changes: tuple[FieldChange, ...] = ()


@dataclass(frozen=True)
class ItemDiff:
    """A need or an action that was added, removed or changed between the two versions."""

    public_id: str
    change: str  # added, removed, changed
    title: str | None  # the need's description or the action's "what" (the newer side's when changed)
    changes: tuple[FieldChange, ...] = ()
    goals: tuple[GoalDiff, ...] = ()
    fields: tuple[FieldChange, ...] = ()  # for an added or removed item: its values (old or new only)


@dataclass
class VersionDiff:
    from_number: int
    to_number: int
    needs: list[ItemDiff] = field(default_factory=list)
    actions: list[ItemDiff] = field(default_factory=list)
    texts: tuple[FieldChange, ...] = ()  # the plan's own texts that changed (when the viewer may see them)
    texts_withheld: bool = False  # the plan's own texts are left out (said only while the agency has consent)
    not_shown: int | None = None  # items the viewer may not see; None when its agency holds no consent

    @property
    def is_empty(self) -> bool:
        return not self.needs and not self.actions and not self.texts


def _agency_ids(contents: Iterable[dict[str, Any]]) -> dict[str, int]:
    public_ids: set[str] = set()
    for content in contents:
        if (content.get("plan") or {}).get("agency"):
            public_ids.add(content["plan"]["agency"]["public_id"])
        for need in content.get("needs", []):
            if need.get("agency"):
                public_ids.add(need["agency"]["public_id"])
        for action in content.get("actions", []):
            if action.get("owner_agency"):
                public_ids.add(action["owner_agency"]["public_id"])
    if not public_ids:
        return {}
    rows = db.session.execute(select(Agency.public_id, Agency.id).where(Agency.public_id.in_(public_ids)))
    return {row.public_id: row.id for row in rows}


def _visible(access: ChildAccess, agency: dict[str, str] | None, areas: list[str], ids: dict[str, int]) -> bool:
    """Deny by default: an item whose agency is unknown is not shown."""
    if not agency or agency.get("public_id") not in ids:
        return False
    return bool(may_see_item(access, ids[agency["public_id"]], PURPOSE, frozenset(areas or ())))


def _owner(action: dict[str, Any], names: bool) -> str:
    parts = [(action.get("owner_agency") or {}).get("name")]
    if names:
        parts.append((action.get("owner_unit") or {}).get("name"))
        parts.append((action.get("owner_person") or {}).get("name"))
    return ", ".join(part for part in parts if part)


def _day(value: Any) -> date | None:
    """A frozen ISO date as a date (for the viewer's locale); anything else unreadable as None."""
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        return None


def _plan_values(texts: dict[str, Any]) -> dict[str, Any]:
    values = {code: texts.get(code) for code in PLAN_FIELDS}
    values["next_review_on"] = _day(texts.get("next_review_on"))
    return values


def _need_values(need: dict[str, Any]) -> dict[str, Any]:
    return {"description": need.get("description"), "areas": tuple(need.get("areas") or ())}


def _action_values(action: dict[str, Any], names: bool) -> dict[str, Any]:
    return {
        "what": action.get("what"),
        "owner": _owner(action, names),
        "starts_on": _day(action.get("starts_on")),
        "due_on": _day(action.get("due_on")),
        "status": action.get("status"),
    }


def _compare(labels: dict[str, object], old: dict[str, Any], new: dict[str, Any]) -> tuple[FieldChange, ...]:
    return tuple(
        FieldChange(code, label, old.get(code), new.get(code))
        for code, label in labels.items()
        if old.get(code) != new.get(code)
    )


def _values(labels: dict[str, object], values: dict[str, Any], side: str) -> tuple[FieldChange, ...]:
    return tuple(
        FieldChange(
            code, label, values.get(code) if side == "old" else None, values.get(code) if side == "new" else None
        )
        for code, label in labels.items()
        if values.get(code) not in (None, "", ())
    )


def _goal_diffs(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> tuple[GoalDiff, ...]:
    before = {goal["public_id"]: goal for goal in old}
    after = {goal["public_id"]: goal for goal in new}
    diffs: list[GoalDiff] = []
    for public_id, goal in after.items():
        if public_id not in before:
            diffs.append(GoalDiff(public_id, ADDED, goal.get("outcome")))
        else:
            changes = _compare(GOAL_FIELDS, before[public_id], goal)
            if changes:
                diffs.append(GoalDiff(public_id, CHANGED, goal.get("outcome"), changes))
    for public_id, goal in before.items():
        if public_id not in after:
            diffs.append(GoalDiff(public_id, REMOVED, goal.get("outcome")))
    return tuple(diffs)


def build_diff(access: ChildAccess, older: PlanVersion, newer: PlanVersion) -> VersionDiff:
    """The readable difference from ``older`` to ``newer`` (two versions of the child's plan) for a member of
    staff who reached the child through ``get_child_or_404``."""
    actor = access.actor
    if actor.kind != STAFF or actor.acting_agency is None or not access.relations:
        raise ValueError("build_diff is for staff with a relation to the child")
    old_content, new_content = older.content or {}, newer.content or {}
    ids = _agency_ids((old_content, new_content))
    names = sees_protected_details(access)
    consented = bool(access.picture.areas_for(actor.acting_agency.id, PURPOSE))
    diff = VersionDiff(older.number, newer.number)
    hidden: set[tuple[str, str]] = set()

    def sides(kind: str, agency_key: str) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
        old_items = {item["public_id"]: item for item in old_content.get(kind, [])}
        new_items = {item["public_id"]: item for item in new_content.get(kind, [])}
        for items in (old_items, new_items):
            for public_id, item in items.items():
                if not _visible(access, item.get(agency_key), item.get("areas") or [], ids):
                    hidden.add((kind, public_id))
        left_out = {public_id for kind_, public_id in hidden if kind_ == kind}
        return (
            {key: value for key, value in old_items.items() if key not in left_out},
            {key: value for key, value in new_items.items() if key not in left_out},
        )

    old_needs, new_needs = sides("needs", "agency")
    for public_id, need in new_needs.items():
        if public_id not in old_needs:
            diff.needs.append(
                ItemDiff(
                    public_id,
                    ADDED,
                    need.get("description"),
                    fields=_values(NEED_FIELDS, _need_values(need), "new"),
                    goals=_goal_diffs([], need.get("goals") or []),
                )
            )
            continue
        before = old_needs[public_id]
        changes = _compare(NEED_FIELDS, _need_values(before), _need_values(need))
        goals = _goal_diffs(before.get("goals") or [], need.get("goals") or [])
        if changes or goals:
            diff.needs.append(ItemDiff(public_id, CHANGED, need.get("description"), changes, goals))
    for public_id, need in old_needs.items():
        if public_id not in new_needs:
            diff.needs.append(
                ItemDiff(
                    public_id,
                    REMOVED,
                    need.get("description"),
                    fields=_values(NEED_FIELDS, _need_values(need), "old"),
                    goals=_goal_diffs(need.get("goals") or [], []),
                )
            )

    old_actions, new_actions = sides("actions", "owner_agency")
    for public_id, action in new_actions.items():
        values = _action_values(action, names)
        if public_id not in old_actions:
            diff.actions.append(
                ItemDiff(public_id, ADDED, action.get("what"), fields=_values(ACTION_FIELDS, values, "new"))
            )
            continue
        changes = _compare(ACTION_FIELDS, _action_values(old_actions[public_id], names), values)
        if changes:
            diff.actions.append(ItemDiff(public_id, CHANGED, action.get("what"), changes))
    for public_id, action in old_actions.items():
        if public_id not in new_actions:
            values = _action_values(action, names)
            diff.actions.append(
                ItemDiff(public_id, REMOVED, action.get("what"), fields=_values(ACTION_FIELDS, values, "old"))
            )

    old_texts, new_texts = old_content.get("plan") or {}, new_content.get("plan") or {}
    if all(_visible(access, texts.get("agency"), ALL_AREAS, ids) for texts in (old_texts, new_texts)):
        diff.texts = _compare(PLAN_FIELDS, _plan_values(old_texts), _plan_values(new_texts))
    else:
        diff.texts_withheld = consented

    if consented:
        diff.not_shown = len(hidden)
    return diff


# -- one published version on its own page ------------------------------------------------------------------
@dataclass(frozen=True)
class VersionField:
    """One value of the frozen plan: its code, label and value (plain text, a tuple of areas or a date)."""

    code: str
    label: object
    value: Any

    @property
    def is_date(self) -> bool:
        return self.code in DATE_FIELDS


@dataclass(frozen=True)
class VersionGoal:
    public_id: str
    outcome: str | None
    evidence: str | None


@dataclass(frozen=True)
class VersionItem:
    """A need (with its goals) or an action as it stood in the version."""

    public_id: str
    title: str | None
    fields: tuple[VersionField, ...]
    goals: tuple[VersionGoal, ...] = ()


@dataclass
class VersionPage:
    public_id: str
    number: int
    published_at: Any
    texts: tuple[VersionField, ...] = ()
    texts_withheld: bool = False  # said only while the viewer's agency holds coordination consent
    needs: list[VersionItem] = field(default_factory=list)
    actions: list[VersionItem] = field(default_factory=list)
    not_shown: int | None = None  # items the viewer may not see; None when its agency holds no consent


def _fields(labels: dict[str, object], values: dict[str, Any]) -> tuple[VersionField, ...]:
    return tuple(VersionField(code, label, values.get(code)) for code, label in labels.items())


def build_version(access: ChildAccess, version: PlanVersion) -> VersionPage:
    """One published version as it was frozen, filtered for a member of staff who reached the child through
    ``get_child_or_404`` with the rule of the diff (and the Plan tab)."""
    actor = access.actor
    if actor.kind != STAFF or actor.acting_agency is None or not access.relations:
        raise ValueError("build_version is for staff with a relation to the child")
    content = version.content or {}
    ids = _agency_ids((content,))
    names = sees_protected_details(access)
    consented = bool(access.picture.areas_for(actor.acting_agency.id, PURPOSE))
    page = VersionPage(version.public_id, version.number, version.published_at)
    hidden = 0
    texts = content.get("plan") or {}
    if _visible(access, texts.get("agency"), ALL_AREAS, ids):
        page.texts = _fields(PLAN_FIELDS, _plan_values(texts))
    else:
        page.texts_withheld = consented
    for need in content.get("needs", []):
        if not _visible(access, need.get("agency"), need.get("areas") or [], ids):
            hidden += 1
            continue
        page.needs.append(
            VersionItem(
                need["public_id"],
                need.get("description"),
                _fields({"areas": NEED_FIELDS["areas"]}, _need_values(need)),
                tuple(
                    VersionGoal(goal["public_id"], goal.get("outcome"), goal.get("evidence"))
                    for goal in need.get("goals") or []
                ),
            )
        )
    for action in content.get("actions", []):
        if not _visible(access, action.get("owner_agency"), action.get("areas") or [], ids):
            hidden += 1
            continue
        values = _action_values(action, names) | {"areas": tuple(action.get("areas") or ())}
        labels = {code: label for code, label in ACTION_FIELDS.items() if code != "what"} | {
            "areas": NEED_FIELDS["areas"]
        }
        page.actions.append(VersionItem(action["public_id"], action.get("what"), _fields(labels, values)))
    if consented:
        page.not_shown = hidden
    return page
