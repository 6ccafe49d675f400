"""The Child's Plan's write operations, ``verb_noun(actor, …, data)``: each checks who may write and the
input (``OperationError(message, field)``) before anything is written, flushes, audits the write with its
legal basis in the same transaction and records the event in the chronology. The caller commits."""

from childplan.operations.actions import (
    ActionData,
    ActionUpdateData,
    StaleAction,
    add_action,
    adopt_decision,
    team_agency_ids,
    update_action,
)
from childplan.operations.family import acknowledge_version, comment_on_plan
from childplan.operations.items import GoalData, NeedData, add_goal, add_need, mark_withheld_from_guardians
from childplan.operations.plan import (
    PlanData,
    PlanTextsData,
    StalePlan,
    close_plan,
    plan_content,
    publish_version,
    start_plan,
    update_plan_texts,
)

__all__ = [
    "ActionData",
    "ActionUpdateData",
    "GoalData",
    "NeedData",
    "PlanData",
    "PlanTextsData",
    "StaleAction",
    "StalePlan",
    "acknowledge_version",
    "add_action",
    "add_goal",
    "add_need",
    "adopt_decision",
    "close_plan",
    "comment_on_plan",
    "mark_withheld_from_guardians",
    "plan_content",
    "publish_version",
    "start_plan",
    "team_agency_ids",
    "update_action",
    "update_plan_texts",
]
