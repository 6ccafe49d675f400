"""The demo's fourth part (DEMO.md): the Child's Plan — plans for Elsa, Omar, Leo, Noah and Alva, with
their needs, goals, actions, published versions and reviews — put on the same timeline as the rest of
Ekby and replayed through the plan's operations, each as the persona who did it in the story.

- Elsa: hanna keeps the plan; actions for sara (preschool), anna (BVC: the hearing test, area healthy)
  and hanna (habilitation).
- Omar: johan keeps the plan; two published versions (before and after the meeting nine days ago, whose
  four decisions are adopted) and two reviews, so the diff and the trend have something to show; karin's
  actions 8 and 22 days overdue; actions for lars, nina and johan.
- Leo: a school action for lars, added before the school's consent was withdrawn (lars still sees it).
- Noah: maria keeps the plan; karin's BUP action, BUP's team membership and karin's review ratings are
  withheld from guardians, with karin's reason (Noah asked).
- Alva: one school action (protected identity: names never leave her team).
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import partial
from typing import TypedDict

from sqlalchemy import select

from childplan.models import Action, Need, Plan, Rating, Review
from childplan.operations import (
    ActionData,
    ActionUpdateData,
    GoalData,
    NeedData,
    PlanData,
    add_action,
    add_goal,
    add_need,
    adopt_decision,
    mark_withheld_from_guardians,
    publish_version,
    start_plan,
    update_action,
)
from childplan.operations.plan import PlanTextsData, update_plan_texts
from childplan.operations.reviews import RatingData, ReviewData, add_agency_ratings, record_review
from coordination.database import db
from coordination.demo.story import Ekby, local_time, persona
from coordination.teams.models import MeetingDecision, TeamMember

SCHOOL = "Ekby school"
PRESCHOOLS = "Ekby preschools"
BVC = "Ekby child health centre (BVC)"
HABILITATION = "Ekby habilitation"
BUP = "BUP Ekby"
PUPIL_HEALTH = "Ekby pupil health"
SOCIAL_SERVICES = "Ekby social services"
NOAH_WITHHELD_REASON = (
    "Noah asked that his mother is not told about his contact with BUP yet; heard at BUP, he understands "
    "what this means. To be looked at again at the next review."
)


def _day(ekby: Ekby, days: int) -> date:
    """A date ``days`` from the load date (negative: in the past)."""
    return ekby.today + timedelta(days=days)


def _plan(ekby: Ekby, child: str) -> Plan:
    plan = db.session.scalar(select(Plan).where(Plan.child_id == ekby.children[child].id))
    assert plan is not None
    return plan


def _need(plan: Plan, starts_with: str) -> Need:
    return next(need for need in plan.needs if need.description.startswith(starts_with))


def _action(plan: Plan, starts_with: str) -> Action:
    return next(action for action in plan.actions if action.what.startswith(starts_with))


class Owner(TypedDict):
    """Who owns an action, as ActionData's keyword arguments."""

    owner_agency_id: int | None
    owner_unit_id: int | None
    owner_person_id: int | None


def _owner(ekby: Ekby, agency: str, unit: str, person: str | None) -> Owner:
    return {
        "owner_agency_id": ekby.agencies[agency].id,
        "owner_unit_id": ekby.units[unit].id,
        "owner_person_id": ekby.staff[person].id if person is not None else None,
    }


def _start(ekby: Ekby, child: str, keeper: str, why: str, responsibility: str) -> None:
    start_plan(persona(ekby, keeper), ekby.children[child], PlanData(why, responsibility))


def _views(
    ekby: Ekby,
    child: str,
    keeper: str,
    *,
    child_views: str,
    guardian_views: str,
    next_review_in: int,
    disagreements: str | None = None,
) -> None:
    """The keeper records the child's and the guardians' views (and any disagreement) and the next review,
    keeping why there is a plan and who has overall responsibility."""
    plan = _plan(ekby, child)
    data = PlanTextsData(
        why=plan.why,
        overall_responsibility=plan.overall_responsibility,
        child_views=child_views,
        guardian_views=guardian_views,
        disagreements=disagreements,
        next_review_on=_day(ekby, next_review_in),
    )
    update_plan_texts(persona(ekby, keeper), plan, plan.version, data)


def _publish(ekby: Ekby, child: str, keeper: str) -> None:
    publish_version(persona(ekby, keeper), _plan(ekby, child))


def _progress(ekby: Ekby, child: str, person: str, what: str, status: str, note: str) -> None:
    action = _action(_plan(ekby, child), what)
    update_action(persona(ekby, person), action, action.version, ActionUpdateData(status=status, progress_note=note))


# -- Elsa ----------------------------------------------------------------------------------------------------
def _elsa_plan(ekby: Ekby) -> None:
    actor = persona(ekby, "hanna")
    _start(
        ekby,
        "Elsa",
        "hanna",
        "Elsa speaks very little at preschool and at home, and her family and preschool want to help her "
        "talk and play with other children.",
        "Hanna Åberg (habilitation) coordinates the plan; each agency answers for its own actions.",
    )
    plan = _plan(ekby, "Elsa")
    speech = add_need(
        actor,
        plan,
        NeedData(
            "Speech and language: Elsa uses single words and points instead of asking.",
            ("achieving", "included"),
            strengths="Loves picture books and puzzles; calm and focused with one friend.",
            getting_in_the_way="Noisy play areas; not yet known whether she hears well.",
        ),
    )
    add_goal(
        actor,
        speech,
        GoalData(
            "Elsa asks for what she wants with two-word phrases.", "Noted by preschool staff and Lena each month."
        ),
    )
    hearing = add_need(
        actor,
        plan,
        NeedData("Find out whether Elsa hears well.", ("healthy",), strengths="Elsa likes visits to BVC."),
    )
    add_goal(actor, hearing, GoalData("We know how well Elsa hears.", "The hearing test's result is in the plan."))
    add_action(
        actor,
        plan,
        ActionData(
            "Picture support and a quiet corner for small-group play every day.",
            need_id=speech.id,
            starts_on=_day(ekby, -9),
            due_on=_day(ekby, 45),
            **_owner(ekby, PRESCHOOLS, "Solrosen", "sara"),
        ),
    )
    add_action(
        actor,
        plan,
        ActionData(
            "A hearing test at BVC.",
            need_id=hearing.id,
            areas=("healthy",),
            starts_on=_day(ekby, -9),
            due_on=_day(ekby, 12),
            **_owner(ekby, BVC, "BVC Ekby", "anna"),
        ),
    )
    add_action(
        actor,
        plan,
        ActionData(
            "A speech and language assessment, then advice to the preschool and to Lena.",
            need_id=speech.id,
            starts_on=_day(ekby, -9),
            due_on=_day(ekby, 30),
            **_owner(ekby, HABILITATION, "Child habilitation", "hanna"),
        ),
    )
    _views(
        ekby,
        "Elsa",
        "hanna",
        child_views="Elsa showed us the puzzle corner and her favourite picture book when we asked what she likes.",
        guardian_views="Lena sees the same at home and wants to know whether Elsa hears well.",
        next_review_in=35,
    )


def _elsa(ekby: Ekby, contacts: dict) -> None:
    start = contacts["Elsa"] + timedelta(days=4)
    ekby.add(start, partial(_elsa_plan, ekby))
    ekby.add(start + timedelta(hours=2), partial(_publish, ekby, "Elsa", "hanna"))
    ekby.add(
        ekby.days_ago(3, hour=14),
        partial(
            _progress,
            ekby,
            "Elsa",
            "sara",
            "Picture support",
            "in_progress",
            "Picture cards at lunch and in the reading corner; Elsa uses them to ask for puzzles.",
        ),
    )


# -- Omar ----------------------------------------------------------------------------------------------------
def _omar_plan(ekby: Ekby) -> None:
    actor = persona(ekby, "johan")
    _start(
        ekby,
        "Omar",
        "johan",
        "Omar is often tired and worried, and school has become hard. His father Ahmed, the school, pupil "
        "health, BUP and social services work on one plan with him.",
        "Johan Dahl (social services) is Omar's Support Coordinator and keeps the plan; each agency answers "
        "for its own actions.",
    )
    plan = _plan(ekby, "Omar")
    school = add_need(
        actor,
        plan,
        NeedData(
            "Omar finds it hard to keep up in class and to feel part of the group.",
            ("achieving", "included"),
            strengths="Good at maths; loves football at break.",
            getting_in_the_way="Tired in the mornings; misses lessons after bad nights.",
        ),
    )
    add_goal(
        actor,
        school,
        GoalData(
            "Omar is at school every day and keeps up in maths and Swedish.", "Attendance and his teacher's view."
        ),
    )
    sleep = add_need(
        actor,
        plan,
        NeedData(
            "Omar sleeps badly and worries a lot.",
            ("healthy", "nurtured"),
            strengths="Omar can say when he is worried; he trusts his father.",
            getting_in_the_way="Late evenings with screens; no set routine at home.",
        ),
    )
    add_goal(actor, sleep, GoalData("Omar sleeps through most nights.", "Omar's own sleep diary."))
    add_action(
        actor,
        plan,
        ActionData(
            "A first BUP visit for Omar and Ahmed, with an interpreter.",
            need_id=sleep.id,
            starts_on=_day(ekby, -30),
            due_on=_day(ekby, -22),
            **_owner(ekby, BUP, "BUP outpatient team", "karin"),
        ),
    )
    add_action(
        actor,
        plan,
        ActionData(
            "Go through Omar's sleep diary with him and Ahmed.",
            need_id=sleep.id,
            starts_on=_day(ekby, -15),
            due_on=_day(ekby, -8),
            **_owner(ekby, BUP, "BUP outpatient team", "karin"),
        ),
    )
    _views(
        ekby,
        "Omar",
        "johan",
        child_views="Omar says mornings are the hardest and that he likes football at break.",
        guardian_views="Ahmed wants help with routines at home and asks for an interpreter at meetings.",
        next_review_in=-2,
    )


def _adopt_omar_decisions(ekby: Ekby) -> None:
    actor = persona(ekby, "johan")
    plan = _plan(ekby, "Omar")
    decisions = db.session.scalars(
        select(MeetingDecision)
        .where(MeetingDecision.child_id == ekby.children["Omar"].id)
        .order_by(MeetingDecision.created_at, MeetingDecision.id)
    )
    for decision in list(decisions):
        adopt_decision(actor, plan, decision)
    _views(
        ekby,
        "Omar",
        "johan",
        child_views="Omar says mornings are the hardest and that he likes football at break.",
        guardian_views="Ahmed wants Omar to sleep better and would like help with routines at home.",
        disagreements="Ahmed is not sure BUP is needed; he agreed to one assessment first.",
        next_review_in=28,
    )


OMAR_RATINGS: dict[str, tuple[dict[str, int], dict[str, int], dict[str, int]]] = {
    # review → (professionals, Omar, Ahmed) per area
    "first": (
        {
            "safe": 4,
            "healthy": 2,
            "achieving": 2,
            "nurtured": 3,
            "active": 4,
            "respected": 3,
            "responsible": 3,
            "included": 2,
        },
        {"healthy": 2, "achieving": 3, "active": 5, "included": 3},
        {"safe": 4, "healthy": 2, "nurtured": 4, "achieving": 3},
    ),
    "second": (
        {
            "safe": 4,
            "healthy": 3,
            "achieving": 3,
            "nurtured": 3,
            "active": 4,
            "respected": 4,
            "responsible": 3,
            "included": 3,
        },
        {"healthy": 3, "achieving": 3, "active": 5, "included": 4},
        {"safe": 4, "healthy": 3, "nurtured": 4, "achieving": 3},
    ),
}


def _review(ekby: Ekby, child: str, keeper: str, held_on: date, note: str, which: str) -> None:
    professionals, child_voice, guardians = OMAR_RATINGS[which]
    ratings = [RatingData(area, "professionals", scale) for area, scale in professionals.items()]
    ratings += [RatingData(area, "child", scale) for area, scale in child_voice.items()]
    ratings += [RatingData(area, "guardians", scale) for area, scale in guardians.items()]
    record_review(persona(ekby, keeper), _plan(ekby, child), ReviewData(held_on, note, ratings))


def _omar(ekby: Ekby, contacts: dict) -> None:
    team = contacts["Omar"] + timedelta(days=3)
    ekby.add(team + timedelta(hours=5), partial(_omar_plan, ekby))
    ekby.add(team + timedelta(hours=6), partial(_publish, ekby, "Omar", "johan"))
    ekby.add(
        ekby.days_ago(14, hour=15),
        partial(
            _review, ekby, "Omar", "johan", _day(ekby, -14), "First review with Omar and Ahmed at school.", "first"
        ),
    )
    # after the meeting nine days ago: its four decisions become actions, and version 2 is published
    after_meeting = local_time(ekby, -8, 9)
    ekby.add(after_meeting, partial(_adopt_omar_decisions, ekby))
    ekby.add(after_meeting + timedelta(hours=1), partial(_publish, ekby, "Omar", "johan"))
    ekby.add(
        ekby.days_ago(4, hour=11),
        partial(
            _progress,
            ekby,
            "Omar",
            "lars",
            "A weekly check-in",
            "in_progress",
            "Two check-ins so far; Omar chose Monday mornings.",
        ),
    )
    ekby.add(
        ekby.days_ago(3, hour=13),
        partial(_progress, ekby, "Omar", "nina", "A health talk", "done", "Talked about sleep and breakfast."),
    )
    ekby.add(
        ekby.days_ago(2, hour=15),
        partial(_review, ekby, "Omar", "johan", _day(ekby, -2), "Second review: sleep a little better.", "second"),
    )


# -- Leo -----------------------------------------------------------------------------------------------------
def _leo_plan(ekby: Ekby) -> None:
    actor = persona(ekby, "johan")
    _start(
        ekby,
        "Leo",
        "johan",
        "Leo's parents are separating and Leo has found school hard this term.",
        "Johan Dahl (social services) keeps the plan.",
    )
    plan = _plan(ekby, "Leo")
    need = add_need(
        actor,
        plan,
        NeedData(
            "Leo needs calm and someone to talk to at school.",
            ("nurtured", "achieving"),
            strengths="Leo reads a lot and helps younger pupils.",
        ),
    )
    add_action(
        actor,
        plan,
        ActionData(
            "A short talk with Leo every Friday about his week.",
            need_id=need.id,
            starts_on=_day(ekby, -28),
            due_on=_day(ekby, 20),
            **_owner(ekby, SCHOOL, "Class 4–6", "lars"),
        ),
    )
    _views(
        ekby,
        "Leo",
        "johan",
        child_views="Leo says Fridays are good days and that he wants to keep his reading corner.",
        guardian_views="Karl and Eva want Leo to have one adult at school he can talk to.",
        next_review_in=14,
    )


# -- Noah ----------------------------------------------------------------------------------------------------
def _noah_plan(ekby: Ekby) -> None:
    actor = persona(ekby, "maria", "Class 7–9")
    _start(
        ekby,
        "Noah",
        "maria",
        "Noah has been absent from school a lot this term and wants help to get back.",
        "Maria Holm (school) keeps the plan as Noah's Child Contact.",
    )
    plan = _plan(ekby, "Noah")
    need = add_need(
        actor,
        plan,
        NeedData(
            "Noah wants to get back to school full time.",
            ("achieving", "included"),
            strengths="Noah is good at music and has two close friends in class.",
            getting_in_the_way="Mornings; worries about catching up.",
        ),
    )
    add_goal(actor, need, GoalData("Noah is at school every morning.", "Attendance, and what Noah says."))
    add_action(
        actor,
        plan,
        ActionData(
            "A catch-up plan for maths and Swedish, with a study hour on Tuesdays.",
            need_id=need.id,
            starts_on=_day(ekby, -17),
            due_on=_day(ekby, 25),
            **_owner(ekby, SCHOOL, "Class 7–9", "maria"),
        ),
    )
    _views(
        ekby,
        "Noah",
        "maria",
        child_views="Noah wants to start with the lessons he likes and to sit with his friends.",
        guardian_views="Petra wants Noah back at school and asks for weekly news from his class teacher.",
        next_review_in=21,
    )


def _noah_bup(ekby: Ekby) -> None:
    """karin adds BUP's own action (her agency's record) and withholds it, and BUP's team membership, from
    guardians: Noah asked, and karin records why."""
    karin = persona(ekby, "karin")
    plan = _plan(ekby, "Noah")
    action = add_action(
        karin,
        plan,
        ActionData(
            "Talks at BUP about Noah's low mood, every other week.",
            areas=("healthy", "nurtured"),
            starts_on=_day(ekby, -16),
            due_on=_day(ekby, 40),
            **_owner(ekby, BUP, "BUP outpatient team", "karin"),
        ),
    )
    mark_withheld_from_guardians(karin, action, NOAH_WITHHELD_REASON)
    member = db.session.scalar(
        select(TeamMember).where(
            TeamMember.child_id == ekby.children["Noah"].id,
            TeamMember.agency_id == ekby.agencies[BUP].id,
            TeamMember.ended_at.is_(None),
        )
    )
    assert member is not None
    mark_withheld_from_guardians(karin, member, NOAH_WITHHELD_REASON)


def _noah_review(ekby: Ekby) -> None:
    plan = _plan(ekby, "Noah")
    ratings = [
        RatingData("achieving", "professionals", 2, "Many lessons missed; doing well when there."),
        RatingData("included", "professionals", 3),
        RatingData("achieving", "child", 2, "“I want to catch up.”"),
        RatingData("included", "child", 4),
    ]
    record_review(
        persona(ekby, "maria", "Class 7–9"), plan, ReviewData(_day(ekby, -5), "Review with Noah at school.", ratings)
    )


def _noah_bup_ratings(ekby: Ekby) -> None:
    karin = persona(ekby, "karin")
    plan = _plan(ekby, "Noah")
    review = db.session.scalar(select(Review).where(Review.plan_id == plan.id))
    assert review is not None
    added = add_agency_ratings(
        karin,
        plan,
        review,
        [
            RatingData("healthy", "professionals", 2, "Low mood most days; sleeping better."),
            RatingData("nurtured", "professionals", 3),
        ],
    )
    for rating in added:
        mark_withheld_from_guardians(karin, rating, NOAH_WITHHELD_REASON)
    assert all(isinstance(rating, Rating) for rating in added)


# -- Alva ----------------------------------------------------------------------------------------------------
def _alva_plan(ekby: Ekby) -> None:
    actor = persona(ekby, "maria", "Class 1–3")
    _start(
        ekby,
        "Alva",
        "maria",
        "Alva has started in the preschool class and needs a calm start with adults she trusts.",
        # protected identity: the plan's own texts name no staff or unit (they reach her family and staff outside
        # her team unchanged)
        "The school keeps the plan; Alva's Child Contact is the one to ask.",
    )
    plan = _plan(ekby, "Alva")
    need = add_need(
        actor,
        plan,
        NeedData(
            "Alva needs a safe, predictable school day.",
            ("safe", "included"),
            strengths="Alva loves drawing and is kind to the other children.",
        ),
    )
    add_action(
        actor,
        plan,
        ActionData(
            "A picture schedule for the day and the same adult at drop-off.",
            need_id=need.id,
            starts_on=_day(ekby, -20),
            due_on=_day(ekby, 30),
            **_owner(ekby, SCHOOL, "Class 1–3", "maria"),
        ),
    )


def plans(ekby: Ekby, contacts: dict) -> None:
    """Puts the fourth part's facts on the timeline: each plan after its team (and coordinator) exists."""
    _elsa(ekby, contacts)
    _omar(ekby, contacts)
    ekby.add(contacts["Leo"] + timedelta(days=4), partial(_leo_plan, ekby))  # before the withdrawal 7 days ago
    noah = contacts["Noah"] + timedelta(days=6)  # after the team (day 5, with BUP after Noah's own consent)
    ekby.add(noah, partial(_noah_plan, ekby))
    ekby.add(noah + timedelta(hours=3), partial(_noah_bup, ekby))
    ekby.add(noah + timedelta(hours=4), partial(_publish, ekby, "Noah", "maria"))
    ekby.add(ekby.days_ago(5, hour=14), partial(_noah_review, ekby))
    ekby.add(ekby.days_ago(5, hour=16), partial(_noah_bup_ratings, ekby))
    ekby.add(contacts["Alva"] + timedelta(days=4), partial(_alva_plan, ekby))
