"""The demo's third part (DEMO.md): concerns, reports of concern, Support Coordinators, individual child
teams and meetings — put on the same timeline as the rest of Ekby and replayed through the operations,
each acting as the persona who did it in the story (staff actors, so every row is audited as theirs)."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial

from coordination.concerns.models import Concern, CoordinatorRequest
from coordination.concerns.operations.coordinators import (
    NomineeKey,
    accept_coordinator_request,
    request_support_coordinator,
)
from coordination.concerns.operations.handling import acknowledge_concern
from coordination.concerns.operations.raising import ConcernData, raise_concern
from coordination.demo.story import Ekby, local_time, persona
from coordination.reports.operations import ReportData, file_report
from coordination.teams.models import Meeting
from coordination.teams.operations import (
    DecisionData,
    MeetingData,
    MemberData,
    OutcomeData,
    add_team_member,
    current_members,
    invite_family,
    propose_meeting,
    record_meeting_outcome,
)

SOCIAL_SERVICES = "Socialtjänsten Ekby"
BVC = "Barnavårdscentralen Ekby (BVC)"
HABILITATION = "Habiliteringen Ekby"

# (child, the Child Contact who asks, the nominee, the nominee's unit)
COORDINATORS: tuple[tuple[str, str, str, str], ...] = (
    ("Elsa", "anna", "hanna", "Barnhabiliteringen"),
    ("Omar", "maria", "johan", "Barn och familj"),
    ("Leo", "maria", "johan", "Barn och familj"),
)
# (child, the plan keeper who adds them, ((member, unit), ...))
TEAMS: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...] = (
    ("Elsa", "hanna", (("hanna", "Barnhabiliteringen"), ("anna", "BVC Ekby"), ("sara", "Solrosen"))),
    (
        "Omar",
        "johan",
        (
            ("johan", "Barn och familj"),
            ("maria", "Klass 4–6"),
            ("lars", "Klass 4–6"),
            ("nina", "Elevhälsoteamet"),
            ("karin", "BUP öppenvårdsmottagning"),
        ),
    ),
    ("Leo", "johan", (("johan", "Barn och familj"), ("maria", "Klass 4–6"))),
    ("Noah", "maria", (("maria", "Klass 7–9"), ("karin", "BUP öppenvårdsmottagning"))),
    ("Alva", "maria", (("maria", "Klass 1–3"),)),
)
ALVA_MEETING_PLACE = "Ekby skola, sal 12 (ingång från skolgården)"


def _concern(ekby: Ekby, author: str, child: str, data: ConcernData, acknowledged_by: str | None = None) -> None:
    concern = raise_concern(persona(ekby, author), ekby.children[child], data)
    ekby.concerns.append(concern)
    if acknowledged_by is not None:
        ekby.add(ekby.clock.now() + timedelta(hours=3), partial(_acknowledge, ekby, acknowledged_by, concern))


def _acknowledge(ekby: Ekby, contact: str, concern: Concern) -> None:
    acknowledge_concern(persona(ekby, contact), concern)


def _elsa_concern(ekby: Ekby) -> None:
    lena = ekby.guardians["lena"]
    data = ConcernData(
        areas=("achieving",),
        observed_on=ekby.clock.today() - timedelta(days=3),
        observations=(
            "De senaste sex veckorna har Elsa bara använt enstaka ord på förskolan, mest med vuxna. Hon pekar i "
            "stället för att fråga och lämnar leken när andra barn pratar med henne."
        ),
        strengths="Älskar bilderböcker och pussel; lugn och fokuserad när hon leker med en kompis.",
        already_done="Mer bildstöd i gruppen; ett samtal med Lena vid hämtningen.",
        child_said="”Elsa göra pussel.”",
        family_view="Lena har märkt samma sak hemma och vill gärna ha hjälp.",
        urgency="soon",
        agreed_guardian_ids=(lena.id,),
        agreement_method="in_person",
        agreement_on=ekby.clock.today(),
    )
    _concern(ekby, "sara", "Elsa", data, acknowledged_by="anna")


def _liam_preschool_signal(ekby: Ekby) -> None:
    """Jonas has not (yet) agreed that it is passed on: BVC gets only a content-free signal."""
    data = ConcernData(
        areas=("nurtured", "healthy"),
        observed_on=ekby.clock.today() - timedelta(days=1),
        observations="Liam har kommit hungrig och trött till förskolan flera morgnar den här veckan.",
        strengths="Liam är nyfiken och leker fint med de yngre barnen.",
        urgency="soon",
    )
    _concern(ekby, "sara", "Liam", data)


def _liam_bvc_concern(ekby: Ekby) -> None:
    data = ConcernData(
        areas=("healthy",),
        observed_on=ekby.clock.today(),
        observations="Vid fyraårsbesöket hade Liams vikt gått ner från hans kurva sedan förra besöket.",
        strengths="Liam berättade gärna om sin syster och sina kompisar på förskolan.",
        already_done="Ny vägning bokad om fyra veckor; kostråd till Jonas.",
        urgency="routine",
    )
    _concern(ekby, "anna", "Liam", data)


def _request_coordinator(ekby: Ekby, child: str, contact: str, nominee: str, unit: str) -> None:
    unit_row = ekby.units[unit]
    message = "Vill du ta rollen som stödsamordnare? Familjen har sagt ja till ett team."
    requests = request_support_coordinator(
        persona(ekby, contact), ekby.children[child], [NomineeKey(ekby.staff[nominee].id, unit_row.agency_id)], message
    )
    ekby.add(ekby.clock.now() + timedelta(hours=4), partial(_accept, ekby, nominee, unit, requests[0]))


def _accept(ekby: Ekby, nominee: str, unit: str, request: CoordinatorRequest) -> None:
    accept_coordinator_request(persona(ekby, nominee, unit), request)


def _add_members(ekby: Ekby, child: str, keeper: str, members: tuple[tuple[str, str], ...]) -> None:
    actor = persona(ekby, keeper)
    # the Support Coordinator joined the team when she accepted (accept_coordinator_request)
    on_team = {member.staff_person_id for member in current_members(ekby.children[child].id)}
    for username, unit in members:
        if ekby.staff[username].id in on_team:
            continue
        add_team_member(actor, ekby.children[child], MemberData(ekby.staff[username].id, ekby.units[unit].id))


def _propose(ekby: Ekby, child: str, keeper: str, starts: datetime, place: str, areas: tuple[str, ...]) -> None:
    agenda = "Hur det har gått sedan sist; vad var och en av oss gör härnäst; familjens frågor."
    data = MeetingData(starts, starts + timedelta(minutes=90), place, agenda, areas)
    ekby.meetings[(child, starts)] = propose_meeting(persona(ekby, keeper), ekby.children[child], data)


def _omar_outcome(ekby: Ekby, starts: datetime) -> None:
    meeting: Meeting = ekby.meetings[("Omar", starts)]
    agency = {name: ekby.agencies[name].id for name in ekby.agencies}
    staff = ekby.staff
    met_on = starts.astimezone(ekby.clock.zone).date()
    decisions = [
        DecisionData(
            "En veckovis avstämning mellan Omar och hans klasslärare om hur veckan har gått.",
            ("achieving", "included"),
            agency["Ekby skola"],
            ekby.units["Klass 4–6"].id,
            staff["lars"].id,
            met_on + timedelta(days=30),
        ),
        DecisionData(
            "Ett hälsosamtal med Omar om sömn och vad han äter till frukost.",
            ("healthy",),
            agency["Elevhälsan Ekby"],
            ekby.units["Elevhälsoteamet"].id,
            staff["nina"].id,
            met_on + timedelta(days=21),
        ),
        DecisionData(
            "En bedömning på BUP av Omars oro och sömn.",
            ("healthy", "nurtured"),
            agency["BUP Ekby"],
            ekby.units["BUP öppenvårdsmottagning"].id,
            staff["karin"].id,
            met_on + timedelta(days=14),
        ),
        DecisionData(
            "Ett erbjudande om föräldrastöd till Ahmed, med arabisk tolk.",
            ("nurtured",),
            agency[SOCIAL_SERVICES],
            ekby.units["Barn och familj"].id,
            staff["johan"].id,
            met_on + timedelta(days=28),
        ),
    ]
    outcome = OutcomeData(
        staff_person_ids=[staff[name].id for name in ("johan", "maria", "lars", "nina", "karin")],
        guardian_ids=[ekby.guardians["ahmed"].id],
        child_attended=False,
        child_views=(
            "Omar berättade för Lars före mötet att han gillar fotboll på rasterna och att morgnarna är jobbiga."
        ),
        family_views="Ahmed vill att Omar ska sova bättre och vill gärna ha hjälp med rutiner hemma.",
        disagreements="Ahmed är inte säker på att BUP behövs; han gick med på en bedömning först.",
        decisions=decisions,
    )
    record_meeting_outcome(persona(ekby, "johan"), ekby.children["Omar"], meeting, meeting.version, outcome)


def _invite(ekby: Ekby, child: str, keeper: str, guardian: str) -> None:

    invite_family(persona(ekby, keeper), ekby.children[child], ekby.guardians[guardian].id)


def _maja_report(ekby: Ekby) -> None:
    data = ReportData(
        social_services_agency=ekby.agencies[SOCIAL_SERVICES],
        what_happened=(
            "Maja (12) hittades ensam på järnvägsstationen sent en kväll före skoldag och sa att hon inte ville gå "
            "hem. Hon kördes hem till sin mamma Nora."
        ),
        identity_number=ekby.numbers["Maja"],
        is_child_in_danger_now=False,
        reporter_phone="114 14",
    )
    file_report(persona(ekby, "erik"), data)


def concerns_and_teams(ekby: Ekby, contacts: dict[str, datetime]) -> None:
    """Puts the third part's facts on the timeline: each after the consents its story needs."""
    elsa = contacts["Elsa"]
    ekby.add(elsa + timedelta(days=1, hours=3), partial(_elsa_concern, ekby))
    for child, contact, nominee, unit in COORDINATORS:
        ekby.add(
            contacts[child] + timedelta(days=2), partial(_request_coordinator, ekby, child, contact, nominee, unit)
        )
    for child, keeper, members in TEAMS:
        # after the coordinator accepted; Noah's after the BUP consent Noah gave himself
        when = contacts[child] + timedelta(days=5 if child == "Noah" else 3)
        ekby.add(when, partial(_add_members, ekby, child, keeper, members))
    ekby.add(contacts["Elsa"] + timedelta(days=3, hours=1), partial(_invite, ekby, "Elsa", "hanna", "lena"))
    ekby.add(contacts["Omar"] + timedelta(days=3, hours=1), partial(_invite, ekby, "Omar", "johan", "ahmed"))
    # Omar: a meeting nine days ago with its decisions, and the next one in ten days
    past = local_time(ekby, -9, 13)
    ekby.add(
        contacts["Omar"] + timedelta(days=3, hours=2),
        partial(_propose, ekby, "Omar", "johan", past, "Ekby skola, mötesrum 2", ("achieving", "healthy", "nurtured")),
    )
    ekby.add(past + timedelta(hours=3), partial(_omar_outcome, ekby, past))
    ekby.add(
        past + timedelta(hours=4),
        partial(
            _propose,
            ekby,
            "Omar",
            "johan",
            local_time(ekby, 10, 13),
            "Ekby skola, mötesrum 2",
            ("achieving", "healthy"),
        ),
    )
    # Alva: a meeting at the school in five days; the place is protected (RULES.md §7)
    ekby.add(
        contacts["Alva"] + timedelta(days=3),
        partial(
            _propose, ekby, "Alva", "maria", local_time(ekby, 5, 10), ALVA_MEETING_PLACE, ("achieving", "included")
        ),
    )
    # Liam: the preschool's signal and BVC's own concern in the same week → a matching alert to anna
    ekby.add(ekby.days_ago(5, hour=15), partial(_liam_preschool_signal, ekby))
    ekby.add(ekby.days_ago(3, hour=11), partial(_liam_bvc_concern, ekby))
    # Maja: erik's report of concern, waiting in the intake queue
    ekby.add(ekby.days_ago(2, hour=23), partial(_maja_report, ekby))
