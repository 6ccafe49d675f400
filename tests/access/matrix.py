"""The authorization matrix as data: persona × child × route → expected status and what the page
shows or withholds. Everything not listed is 404: deny by default. It grows with every issue."""

from __future__ import annotations

from dataclasses import dataclass, field

from coordination.demo.ekby import NAMED_CHILDREN, PERSONAS

# The routes of a child (UX.md): the tabs.
ROUTES: dict[str, str] = {
    "overview": "/children/{child}",
    "chronology": "/children/{child}/chronology",
    "team": "/children/{child}/team",
    "plan": "/children/{child}/plan",
    "consent": "/children/{child}/consent",
}


@dataclass(frozen=True)
class Expect:
    status: int = 404
    # Sections of the Overview and what they withhold (data-withheld codes), for a 200.
    agencies_withheld: str | None = None  # "no_consent_for_your_agency", "protected_identity" or None
    role_notice: bool = False  # "the Child Contact role needs a consented agency"
    guardians_withheld: str | None = None
    sees_agencies: frozenset[str] = field(default_factory=frozenset)  # agency names that must be listed
    hides_agencies: frozenset[str] = field(default_factory=frozenset)  # agency names that must not be


SCHOOL = "Ekby skola"
BVC = "Barnavårdscentralen Ekby (BVC)"
PRESCHOOLS = "Ekby förskolor"
PUPIL_HEALTH = "Elevhälsan Ekby"
MVC = "Barnmorskemottagningen Ekby (MVC)"
SOCIAL_SERVICES = "Socialtjänsten Ekby"
BUP = "BUP Ekby"
HABILITATION = "Habiliteringen Ekby"

ALLOWED: dict[tuple[str, str], Expect] = {
    # Elsa: Child Contact anna (BVC); enrolled at Solrosen and BVC; consent for BVC, preschools,
    # habilitation (coordination, all areas).
    # Support Coordinator hanna (habilitation); team BVC, preschools, habilitation.
    ("anna", "Elsa"): Expect(200, sees_agencies=frozenset({BVC, PRESCHOOLS, HABILITATION})),
    ("sara", "Elsa"): Expect(200, sees_agencies=frozenset({BVC, PRESCHOOLS, HABILITATION})),
    ("hanna", "Elsa"): Expect(200, sees_agencies=frozenset({BVC, PRESCHOOLS, HABILITATION})),
    # Liam: Child Contact anna; Solrosen and BVC; consents only requested — pending grants nothing.
    ("anna", "Liam"): Expect(
        200, agencies_withheld="no_consent_for_your_agency", hides_agencies=frozenset({PRESCHOOLS})
    ),
    ("sara", "Liam"): Expect(200, agencies_withheld="no_consent_for_your_agency", hides_agencies=frozenset({BVC})),
    # Omar: Child Contact maria; Klass 4–6 and the pupil health team; consent for school, pupil health,
    # BUP, social services; Support Coordinator johan; team school, pupil health, BUP, social services.
    ("maria", "Omar"): Expect(200, sees_agencies=frozenset({SCHOOL, PUPIL_HEALTH, SOCIAL_SERVICES})),
    ("lars", "Omar"): Expect(200, sees_agencies=frozenset({SCHOOL, PUPIL_HEALTH, SOCIAL_SERVICES})),
    ("nina", "Omar"): Expect(200, sees_agencies=frozenset({SCHOOL, PUPIL_HEALTH, SOCIAL_SERVICES})),
    ("johan", "Omar"): Expect(200, sees_agencies=frozenset({SCHOOL, PUPIL_HEALTH, SOCIAL_SERVICES})),
    ("karin", "Omar"): Expect(200, sees_agencies=frozenset({SCHOOL, SOCIAL_SERVICES})),
    # bodil is a practitioner of the BUP öppenvårdsmottagning, the unit that owns karin's actions in Omar's and
    # Noah's plans: an action's owner unit is a relation to the child (RULES.md §2), with BUP's consent.
    ("bodil", "Omar"): Expect(200, sees_agencies=frozenset({SCHOOL, SOCIAL_SERVICES})),
    # Leo: Child Contact maria; Klass 4–6; the school's consent withdrawn by Eva last week.
    # Social services holds consent for Leo, but the school does not: nothing of it reaches school staff —
    # not even that social services (johan, the Support Coordinator) is involved.
    ("maria", "Leo"): Expect(
        200,
        role_notice=True,
        agencies_withheld="no_consent_for_your_agency",
        hides_agencies=frozenset({SOCIAL_SERVICES}),
    ),
    ("lars", "Leo"): Expect(
        200, agencies_withheld="no_consent_for_your_agency", hides_agencies=frozenset({SOCIAL_SERVICES})
    ),
    # johan is the plan keeper: he is told the Child Contact role needs a consented agency (RULES.md §4).
    ("johan", "Leo"): Expect(200, role_notice=True, sees_agencies=frozenset({SCHOOL, SOCIAL_SERVICES})),
    # Noah: Child Contact maria; Klass 7–9.
    # Team school and BUP (karin); BUP's consent was given by Noah himself, for healthy and nurtured.
    ("maria", "Noah"): Expect(200, sees_agencies=frozenset({SCHOOL, BUP})),
    ("karin", "Noah"): Expect(200, sees_agencies=frozenset({SCHOOL, BUP})),
    ("bodil", "Noah"): Expect(200, sees_agencies=frozenset({SCHOOL, BUP})),
    # Alva: protected identity; Child Contact maria (in her team: sees contacts and guardians).
    ("maria", "Alva"): Expect(200, sees_agencies=frozenset({SCHOOL})),
    # Maja: Child Contact maria; Klass 7–9. erik's report waits in the intake queue, not yet matched: it
    # gives nobody a relation, and it never gives the school (or erik) anything.
    ("maria", "Maja"): Expect(200, sees_agencies=frozenset({SCHOOL})),
    # Ella: Child Contact maria; Klass 1–3; sibling of Liam (anna sees nothing of her).
    ("maria", "Ella"): Expect(200, sees_agencies=frozenset({SCHOOL})),
    # Baby Lund: registered by mia at MVC without a number (unborn); Child Contact mia.
    ("mia", "Baby"): Expect(200, sees_agencies=frozenset({MVC})),
}


def expectation(persona: str, child: str) -> Expect:
    return ALLOWED.get((persona, child), Expect(404))


def cases() -> list[tuple[str, str, str]]:
    """Every (persona, child, route): the whole cross product, so anything not allowed is checked as 404."""
    return [(persona, child, route) for persona in PERSONAS for child in NAMED_CHILDREN for route in ROUTES]
