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

SCHOOL = "Ekby skola"
PRESCHOOLS = "Ekby förskolor"
BVC = "Barnavårdscentralen Ekby (BVC)"
HABILITATION = "Habiliteringen Ekby"
BUP = "BUP Ekby"
PUPIL_HEALTH = "Elevhälsan Ekby"
SOCIAL_SERVICES = "Socialtjänsten Ekby"
NOAH_WITHHELD_REASON = (
    "Noah har bett att hans mamma inte får veta om hans kontakt med BUP ännu; hörd på BUP förstår han vad det innebär. "
    "Ses över igen vid nästa uppföljning."
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
        (
            "Elsa pratar mycket lite på förskolan och hemma, och hennes familj och förskolan vill hjälpa henne att "
            "prata och leka med andra barn."
        ),
        "Hanna Åberg (habiliteringen) samordnar planen; varje verksamhet ansvarar för sina egna insatser.",
    )
    plan = _plan(ekby, "Elsa")
    speech = add_need(
        actor,
        plan,
        NeedData(
            "Tal och språk: Elsa använder enstaka ord och pekar i stället för att fråga.",
            ("achieving", "included"),
            strengths="Älskar bilderböcker och pussel; lugn och fokuserad med en kompis.",
            getting_in_the_way="Stökiga lekmiljöer; vi vet ännu inte om hon hör bra.",
        ),
    )
    add_goal(
        actor,
        speech,
        GoalData("Elsa ber om det hon vill ha med tvåordsfraser.", "Förskolans personal och Lena noterar varje månad."),
    )
    hearing = add_need(
        actor,
        plan,
        NeedData("Ta reda på om Elsa hör bra.", ("healthy",), strengths="Elsa tycker om att gå till BVC."),
    )
    add_goal(actor, hearing, GoalData("Vi vet hur bra Elsa hör.", "Hörseltestets resultat finns i planen."))
    add_action(
        actor,
        plan,
        ActionData(
            "Bildstöd och en lugn hörna för lek i liten grupp varje dag.",
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
            "Ett hörseltest på BVC.",
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
            "En tal- och språkbedömning, sedan råd till förskolan och till Lena.",
            need_id=speech.id,
            starts_on=_day(ekby, -9),
            due_on=_day(ekby, 30),
            **_owner(ekby, HABILITATION, "Barnhabiliteringen", "hanna"),
        ),
    )
    _views(
        ekby,
        "Elsa",
        "hanna",
        child_views="Elsa visade oss pusselhörnan och sin favoritbilderbok när vi frågade vad hon tycker om.",
        guardian_views="Lena ser samma sak hemma och vill veta om Elsa hör bra.",
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
            "Bildstöd",
            "in_progress",
            "Bildkort vid lunchen och i läshörnan; Elsa använder dem för att be om pussel.",
        ),
    )


# -- Omar ----------------------------------------------------------------------------------------------------
def _omar_plan(ekby: Ekby) -> None:
    actor = persona(ekby, "johan")
    _start(
        ekby,
        "Omar",
        "johan",
        (
            "Omar är ofta trött och orolig, och skolan har blivit svår. Hans pappa Ahmed, skolan, elevhälsan, BUP och "
            "socialtjänsten arbetar med en gemensam plan tillsammans med honom."
        ),
        (
            "Johan Dahl (socialtjänsten) är Omars stödsamordnare och håller i planen; varje verksamhet ansvarar för "
            "sina egna insatser."
        ),
    )
    plan = _plan(ekby, "Omar")
    school = add_need(
        actor,
        plan,
        NeedData(
            "Omar har svårt att hänga med i klassen och att känna sig som en del av gruppen.",
            ("achieving", "included"),
            strengths="Duktig i matematik; älskar fotboll på rasterna.",
            getting_in_the_way="Trött på morgnarna; missar lektioner efter dåliga nätter.",
        ),
    )
    add_goal(
        actor,
        school,
        GoalData(
            "Omar är i skolan varje dag och hänger med i matematik och svenska.",
            "Närvaron och klasslärarens bedömning.",
        ),
    )
    sleep = add_need(
        actor,
        plan,
        NeedData(
            "Omar sover dåligt och oroar sig mycket.",
            ("healthy", "nurtured"),
            strengths="Omar kan säga när han är orolig; han litar på sin pappa.",
            getting_in_the_way="Sena kvällar med skärmar; inga fasta rutiner hemma.",
        ),
    )
    add_goal(actor, sleep, GoalData("Omar sover hela natten de flesta nätter.", "Omars egen sömndagbok."))
    add_action(
        actor,
        plan,
        ActionData(
            "Ett första besök på BUP för Omar och Ahmed, med tolk.",
            need_id=sleep.id,
            starts_on=_day(ekby, -30),
            due_on=_day(ekby, -22),
            **_owner(ekby, BUP, "BUP öppenvårdsmottagning", "karin"),
        ),
    )
    add_action(
        actor,
        plan,
        ActionData(
            "Gå igenom Omars sömndagbok med honom och Ahmed.",
            need_id=sleep.id,
            starts_on=_day(ekby, -15),
            due_on=_day(ekby, -8),
            **_owner(ekby, BUP, "BUP öppenvårdsmottagning", "karin"),
        ),
    )
    _views(
        ekby,
        "Omar",
        "johan",
        child_views="Omar säger att morgnarna är svårast och att han gillar fotboll på rasterna.",
        guardian_views="Ahmed vill ha hjälp med rutiner hemma och ber om tolk vid möten.",
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
        child_views="Omar säger att morgnarna är svårast och att han gillar fotboll på rasterna.",
        guardian_views="Ahmed vill att Omar ska sova bättre och vill gärna ha hjälp med rutiner hemma.",
        disagreements="Ahmed är inte säker på att BUP behövs; han gick med på en bedömning först.",
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
            _review,
            ekby,
            "Omar",
            "johan",
            _day(ekby, -14),
            "Första uppföljningen med Omar och Ahmed på skolan.",
            "first",
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
            "En veckovis avstämning",
            "in_progress",
            "Två avstämningar hittills; Omar valde måndagsmorgnar.",
        ),
    )
    ekby.add(
        ekby.days_ago(3, hour=13),
        partial(_progress, ekby, "Omar", "nina", "Ett hälsosamtal", "done", "Pratade om sömn och frukost."),
    )
    ekby.add(
        ekby.days_ago(2, hour=15),
        partial(_review, ekby, "Omar", "johan", _day(ekby, -2), "Andra uppföljningen: sover lite bättre.", "second"),
    )


# -- Leo -----------------------------------------------------------------------------------------------------
def _leo_plan(ekby: Ekby) -> None:
    actor = persona(ekby, "johan")
    _start(
        ekby,
        "Leo",
        "johan",
        "Leos föräldrar håller på att separera och Leo har haft det svårt i skolan den här terminen.",
        "Johan Dahl (socialtjänsten) håller i planen.",
    )
    plan = _plan(ekby, "Leo")
    need = add_need(
        actor,
        plan,
        NeedData(
            "Leo behöver lugn och någon att prata med i skolan.",
            ("nurtured", "achieving"),
            strengths="Leo läser mycket och hjälper yngre elever.",
        ),
    )
    add_action(
        actor,
        plan,
        ActionData(
            "Ett kort samtal med Leo varje fredag om hans vecka.",
            need_id=need.id,
            starts_on=_day(ekby, -28),
            due_on=_day(ekby, 20),
            **_owner(ekby, SCHOOL, "Klass 4–6", "lars"),
        ),
    )
    _views(
        ekby,
        "Leo",
        "johan",
        child_views="Leo säger att fredagar är bra dagar och att han vill ha kvar sin läshörna.",
        guardian_views="Karl och Eva vill att Leo ska ha en vuxen i skolan som han kan prata med.",
        next_review_in=14,
    )


# -- Noah ----------------------------------------------------------------------------------------------------
def _noah_plan(ekby: Ekby) -> None:
    actor = persona(ekby, "maria", "Klass 7–9")
    _start(
        ekby,
        "Noah",
        "maria",
        "Noah har varit frånvarande mycket den här terminen och vill ha hjälp att komma tillbaka.",
        "Maria Holm (skolan) håller i planen som Noahs kontaktperson.",
    )
    plan = _plan(ekby, "Noah")
    need = add_need(
        actor,
        plan,
        NeedData(
            "Noah vill komma tillbaka till skolan på heltid.",
            ("achieving", "included"),
            strengths="Noah är duktig på musik och har två nära vänner i klassen.",
            getting_in_the_way="Morgnarna; oro för att inte komma ikapp.",
        ),
    )
    add_goal(actor, need, GoalData("Noah är i skolan varje morgon.", "Närvaron, och vad Noah säger."))
    add_action(
        actor,
        plan,
        ActionData(
            "En plan för att komma ikapp i matematik och svenska, med studietimme på tisdagar.",
            need_id=need.id,
            starts_on=_day(ekby, -17),
            due_on=_day(ekby, 25),
            **_owner(ekby, SCHOOL, "Klass 7–9", "maria"),
        ),
    )
    _views(
        ekby,
        "Noah",
        "maria",
        child_views="Noah vill börja med de lektioner han tycker om och sitta med sina kompisar.",
        guardian_views=(
            "Petra vill att Noah kommer tillbaka till skolan och ber om besked varje vecka från hans klasslärare."
        ),
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
            "Samtal på BUP om Noahs nedstämdhet, varannan vecka.",
            areas=("healthy", "nurtured"),
            starts_on=_day(ekby, -16),
            due_on=_day(ekby, 40),
            **_owner(ekby, BUP, "BUP öppenvårdsmottagning", "karin"),
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
        RatingData("achieving", "professionals", 2, "Många missade lektioner; klarar sig bra när han är där."),
        RatingData("included", "professionals", 3),
        RatingData("achieving", "child", 2, "”Jag vill komma ikapp.”"),
        RatingData("included", "child", 4),
    ]
    record_review(
        persona(ekby, "maria", "Klass 7–9"),
        plan,
        ReviewData(_day(ekby, -5), "Uppföljning med Noah på skolan.", ratings),
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
            RatingData("healthy", "professionals", 2, "Nedstämd de flesta dagar; sover bättre."),
            RatingData("nurtured", "professionals", 3),
        ],
    )
    for rating in added:
        mark_withheld_from_guardians(karin, rating, NOAH_WITHHELD_REASON)
    assert all(isinstance(rating, Rating) for rating in added)


# -- Alva ----------------------------------------------------------------------------------------------------
def _alva_plan(ekby: Ekby) -> None:
    actor = persona(ekby, "maria", "Klass 1–3")
    _start(
        ekby,
        "Alva",
        "maria",
        "Alva har börjat i förskoleklass och behöver en lugn start med vuxna hon litar på.",
        # protected identity: the plan's own texts name no staff or unit (they reach her family and staff outside
        # her team unchanged)
        "Skolan håller i planen; det är Alvas kontaktperson man frågar.",
    )
    plan = _plan(ekby, "Alva")
    need = add_need(
        actor,
        plan,
        NeedData(
            "Alva behöver en trygg och förutsägbar skoldag.",
            ("safe", "included"),
            strengths="Alva älskar att rita och är snäll mot de andra barnen.",
        ),
    )
    add_action(
        actor,
        plan,
        ActionData(
            "Ett bildschema för dagen och samma vuxen vid lämningen.",
            need_id=need.id,
            starts_on=_day(ekby, -20),
            due_on=_day(ekby, 30),
            **_owner(ekby, SCHOOL, "Klass 1–3", "maria"),
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
