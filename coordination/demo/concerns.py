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

SOCIAL_SERVICES = "Ekby social services"
BVC = "Ekby child health centre (BVC)"
HABILITATION = "Ekby habilitation"

# (child, the Child Contact who asks, the nominee, the nominee's unit)
COORDINATORS: tuple[tuple[str, str, str, str], ...] = (
    ("Elsa", "anna", "hanna", "Child habilitation"),
    ("Omar", "maria", "johan", "Children and families"),
    ("Leo", "maria", "johan", "Children and families"),
)
# (child, the plan keeper who adds them, ((member, unit), ...))
TEAMS: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...] = (
    ("Elsa", "hanna", (("hanna", "Child habilitation"), ("anna", "BVC Ekby"), ("sara", "Solrosen"))),
    (
        "Omar",
        "johan",
        (
            ("johan", "Children and families"),
            ("maria", "Class 4–6"),
            ("lars", "Class 4–6"),
            ("nina", "Pupil health team"),
            ("karin", "BUP outpatient team"),
        ),
    ),
    ("Leo", "johan", (("johan", "Children and families"), ("maria", "Class 4–6"))),
    ("Noah", "maria", (("maria", "Class 7–9"), ("karin", "BUP outpatient team"))),
    ("Alva", "maria", (("maria", "Class 1–3"),)),
)
ALVA_MEETING_PLACE = "Ekby school, room 12 (entrance from the school yard)"


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
            "Over the last six weeks Elsa has used only single words at preschool, mostly with adults. "
            "She points instead of asking and leaves play when other children talk to her."
        ),
        strengths="Loves picture books and puzzles; calm and focused when playing with one friend.",
        already_done="More picture support in the group; a talk with Lena at pick-up.",
        child_said="“Elsa do puzzle.”",
        family_view="Lena has noticed the same at home and would like help.",
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
        observations="Liam has come to preschool hungry and tired on several mornings this week.",
        strengths="Liam is curious and plays well with the younger children.",
        urgency="soon",
    )
    _concern(ekby, "sara", "Liam", data)


def _liam_bvc_concern(ekby: Ekby) -> None:
    data = ConcernData(
        areas=("healthy",),
        observed_on=ekby.clock.today(),
        observations="At the four-year visit Liam's weight had dropped from his curve since the last visit.",
        strengths="Liam talked freely about his sister and his friends at preschool.",
        already_done="A new weighing booked in four weeks; dietary advice to Jonas.",
        urgency="routine",
    )
    _concern(ekby, "anna", "Liam", data)


def _request_coordinator(ekby: Ekby, child: str, contact: str, nominee: str, unit: str) -> None:
    unit_row = ekby.units[unit]
    message = "Would you take on the Support Coordinator role? The family has agreed to a team."
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
    agenda = "How things are going since last time; what each of us will do next; the family's questions."
    data = MeetingData(starts, starts + timedelta(minutes=90), place, agenda, areas)
    ekby.meetings[(child, starts)] = propose_meeting(persona(ekby, keeper), ekby.children[child], data)


def _omar_outcome(ekby: Ekby, starts: datetime) -> None:
    meeting: Meeting = ekby.meetings[("Omar", starts)]
    agency = {name: ekby.agencies[name].id for name in ekby.agencies}
    staff = ekby.staff
    met_on = starts.astimezone(ekby.clock.zone).date()
    decisions = [
        DecisionData(
            "A weekly check-in between Omar and his class teacher about how the week has gone.",
            ("achieving", "included"),
            agency["Ekby school"],
            ekby.units["Class 4–6"].id,
            staff["lars"].id,
            met_on + timedelta(days=30),
        ),
        DecisionData(
            "A health talk with Omar about sleep and what he eats for breakfast.",
            ("healthy",),
            agency["Ekby pupil health"],
            ekby.units["Pupil health team"].id,
            staff["nina"].id,
            met_on + timedelta(days=21),
        ),
        DecisionData(
            "An assessment at BUP of Omar's worries and sleep.",
            ("healthy", "nurtured"),
            agency["BUP Ekby"],
            ekby.units["BUP outpatient team"].id,
            staff["karin"].id,
            met_on + timedelta(days=14),
        ),
        DecisionData(
            "An offer of parenting support to Ahmed, with an Arabic interpreter.",
            ("nurtured",),
            agency[SOCIAL_SERVICES],
            ekby.units["Children and families"].id,
            staff["johan"].id,
            met_on + timedelta(days=28),
        ),
    ]
    outcome = OutcomeData(
        staff_person_ids=[staff[name].id for name in ("johan", "maria", "lars", "nina", "karin")],
        guardian_ids=[ekby.guardians["ahmed"].id],
        child_attended=False,
        child_views="Omar told Lars beforehand that he likes football at break and that mornings are hard.",
        family_views="Ahmed wants Omar to sleep better and would like help with routines at home.",
        disagreements="Ahmed is not sure BUP is needed; he agreed to one assessment first.",
        decisions=decisions,
    )
    record_meeting_outcome(persona(ekby, "johan"), ekby.children["Omar"], meeting, meeting.version, outcome)


def _invite(ekby: Ekby, child: str, keeper: str, guardian: str) -> None:

    invite_family(persona(ekby, keeper), ekby.children[child], ekby.guardians[guardian].id)


def _maja_report(ekby: Ekby) -> None:
    data = ReportData(
        social_services_agency=ekby.agencies[SOCIAL_SERVICES],
        what_happened=(
            "Maja (12) was found alone at the railway station late on a school night and said she did not "
            "want to go home. She was taken home to her mother Nora."
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
        partial(
            _propose, ekby, "Omar", "johan", past, "Ekby school, meeting room 2", ("achieving", "healthy", "nurtured")
        ),
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
            "Ekby school, meeting room 2",
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
