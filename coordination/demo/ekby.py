"""The demo municipality Ekby as data (DEMO.md): agencies, units, people, children, guardians, custody,
consents. ``coordination.demo.loader`` replays it through the operations. Names stay stable across issues."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from childplan.compass import AREA_CODES
from coordination.consent.common import YOUNG_PERSON

# -- the data -------------------------------------------------------------------------------------------
# (agency, kind, level, units)
AGENCIES: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("Barnmorskemottagningen Ekby (MVC)", "maternity_clinic", "region", ("MVC Ekby",)),
    ("Barnavårdscentralen Ekby (BVC)", "child_health_centre", "region", ("BVC Ekby",)),
    ("Ekby förskolor", "preschool", "municipality", ("Solrosen",)),
    ("Ekby skola", "school", "municipality", ("Klass 1–3", "Klass 4–6", "Klass 7–9")),
    ("Elevhälsan Ekby", "pupil_health", "municipality", ("Elevhälsoteamet",)),
    ("Socialtjänsten Ekby", "social_services", "municipality", ("Mottagningen", "Barn och familj")),
    ("Lokalpolisen Ekby", "police", "state", ("Lokalpolisområde Ekby",)),
    ("Primärvården Ekby", "primary_care", "region", ("Vårdcentralen Ekby",)),
    ("BUP Ekby", "bup", "region", ("BUP öppenvårdsmottagning",)),
    ("Habiliteringen Ekby", "habilitation", "region", ("Barnhabiliteringen",)),
)

PRACTITIONER: tuple[str, ...] = ("practitioner",)
ADMIN: tuple[str, ...] = ("practitioner", "agency_admin")
SCHOOL_CLASSES: tuple[str, ...] = ("Klass 1–3", "Klass 4–6", "Klass 7–9")

# (username, given name, family name, title, ((unit, roles), ...))
STAFF: tuple[tuple[str, str, str, str, tuple[tuple[str, tuple[str, ...]], ...]], ...] = (
    ("anna", "Anna", "Berg", "sjuksköterska", (("BVC Ekby", PRACTITIONER),)),
    ("sara", "Sara", "Lind", "förskollärare", (("Solrosen", PRACTITIONER),)),
    ("maria", "Maria", "Holm", "rektor", tuple((unit, ADMIN) for unit in SCHOOL_CLASSES)),
    ("lars", "Lars", "Ek", "klasslärare", (("Klass 4–6", PRACTITIONER),)),
    ("nina", "Nina", "Sjö", "skolsköterska", (("Elevhälsoteamet", PRACTITIONER),)),
    ("johan", "Johan", "Dahl", "socialsekreterare", (("Barn och familj", PRACTITIONER),)),
    ("ida", "Ida", "Ström", "mottagningssekreterare", (("Mottagningen", ("practitioner", "intake")),)),
    ("erik", "Erik", "Falk", "polis", (("Lokalpolisområde Ekby", PRACTITIONER),)),
    ("karin", "Karin", "Vik", "psykolog", (("BUP öppenvårdsmottagning", PRACTITIONER),)),
    ("bodil", "Bodil", "Ek", "enhetschef", (("BUP öppenvårdsmottagning", ADMIN),)),
    ("olle", "Olle", "Nord", "läkare", (("Vårdcentralen Ekby", PRACTITIONER),)),
    ("hanna", "Hanna", "Åberg", "logoped", (("Barnhabiliteringen", PRACTITIONER),)),
    ("mia", "Mia", "Rask", "barnmorska", (("MVC Ekby", PRACTITIONER),)),
)
PLATFORM_ADMIN = ("admin", "Plattformsadministratör")
ANALYST = ("fia", "Fia Ros")


@dataclass(frozen=True)
class GuardianRow:
    key: str  # the username when the guardian logs in
    given_name: str
    family_name: str
    female: bool
    login: bool = False
    language: str = "sv"
    interpreter_language: str | None = None


@dataclass(frozen=True)
class ChildRow:
    given_name: str  # unique within the demo: the key of the child
    family_name: str
    female: bool
    age: int | None  # None: not born yet
    units: tuple[str, ...]  # where the child is enrolled or registered
    contact: str  # the Child Contact's username; their membership in one of ``units`` is used
    guardians: tuple[str, ...] = ()
    identity_number: str | None = None  # a published test number; otherwise generated from the birth date
    protection_level: str = "none"


FAMILY_GUARDIANS: tuple[GuardianRow, ...] = (
    GuardianRow("lena", "Lena", "Karlsson", True, login=True),
    GuardianRow("ahmed", "Ahmed", "Hassan", False, login=True, language="ar", interpreter_language="Arabic"),
    GuardianRow("petra", "Petra", "Svensson", True, login=True),
    GuardianRow("tomas", "Tomas", "Nilsson", False, login=True),
    GuardianRow("sofia", "Sofia", "Nilsson", True),
    GuardianRow("karl", "Karl", "Andersson", False),
    GuardianRow("eva", "Eva", "Andersson", True),
    GuardianRow("nora", "Nora", "Johansson", True),
    GuardianRow("jonas", "Jonas", "Persson", False),
)

NAMED: tuple[ChildRow, ...] = (
    ChildRow("Elsa", "Karlsson", True, 3, ("BVC Ekby", "Solrosen"), "anna", ("lena",)),
    ChildRow(
        "Omar",
        "Hassan",
        False,
        9,
        ("Klass 4–6", "Elevhälsoteamet"),
        "maria",
        ("ahmed",),
        identity_number="201701012393",
    ),
    ChildRow("Noah", "Svensson", False, 15, ("Klass 7–9",), "maria", ("petra",)),
    ChildRow(
        "Alva",
        "Nilsson",
        True,
        6,
        ("Klass 1–3",),
        "maria",
        ("tomas", "sofia"),
        protection_level="protected_registration",
    ),
    ChildRow("Leo", "Andersson", False, 10, ("Klass 4–6",), "maria", ("karl", "eva")),
    ChildRow("Maja", "Johansson", True, 12, ("Klass 7–9",), "maria", ("nora",)),
    ChildRow("Liam", "Persson", False, 4, ("BVC Ekby", "Solrosen"), "anna", ("jonas",)),
    ChildRow("Ella", "Persson", True, 7, ("Klass 1–3",), "maria", ("jonas",)),
    ChildRow("Baby", "Lund", False, None, ("MVC Ekby",), "mia"),
)
UNBORN_DUE_IN = timedelta(days=60)
UNBORN_REGISTERED_AGO = timedelta(days=120)

RESTRICTED_CUSTODY: dict[tuple[str, str], str] = {
    (
        "Alva",
        "tomas",
    ): (
        "Skyddad identitet: ingen adress, mötesplats, enhet, personalens namn eller den andra vårdnadshavarens "
        "kontaktuppgifter får nå den här vårdnadshavaren."
    ),
}
IDENTITY_CHECKED: tuple[str, ...] = ("lena", "ahmed", "petra", "tomas")
SIBLINGS: tuple[tuple[str, str, str], ...] = (("Liam", "Ella", "anna"),)  # (child, sibling, recorded by)
YOUNG_PEOPLE: tuple[tuple[str, str, str], ...] = (("noah", "Noah", "maria"),)  # (username, child, granted by)

# The children without a story: (given, family, female, age, guardian's given name, guardian female)
MORE_CHILDREN: tuple[tuple[str, str, bool, int, str, bool], ...] = (
    ("Saga", "Lindqvist", True, 0, "Johanna", True),
    ("Hugo", "Bergström", False, 0, "Mikael", False),
    ("Ebba", "Nyström", True, 1, "Sara", True),
    ("William", "Ekström", False, 1, "Daniel", False),
    ("Alice", "Holmberg", True, 2, "Emma", True),
    ("Oscar", "Sandberg", False, 3, "Fredrik", False),
    ("Wilma", "Lundgren", True, 4, "Malin", True),
    ("Lucas", "Forsberg", False, 5, "Andreas", False),
    ("Astrid", "Sundberg", True, 5, "Caroline", True),
    ("Elias", "Hedlund", False, 6, "Jenny", True),
    ("Freja", "Engström", True, 7, "Patrik", False),
    ("Adam", "Björk", False, 8, "Linda", True),
    ("Stella", "Wallin", True, 9, "Martin", False),
    ("Viktor", "Blom", False, 10, "Sofie", True),
    ("Ines", "Håkansson", True, 11, "Magnus", False),
    ("Melvin", "Lindholm", False, 11, "Therese", True),
    ("Selma", "Mattsson", True, 12, "Henrik", False),
    ("Isak", "Axelsson", False, 13, "Camilla", True),
    ("Klara", "Öberg", True, 14, "Stefan", False),
    ("Albin", "Eriksson", False, 15, "Maria", True),
    ("Tilda", "Olofsson", True, 16, "Peter", False),
    ("Anton", "Strand", False, 17, "Helena", True),
)


@dataclass(frozen=True)
class ConsentRow:
    """A line of DEMO.md's consent table: given in person, text version 1, recorded by the Child Contact
    a day after they took the child on, valid 12 months from then, unless the row says otherwise."""

    child: str
    agencies: tuple[str, ...]
    purposes: tuple[str, ...]
    areas: tuple[str, ...]
    givers: tuple[str, ...]  # guardian keys, or YOUNG_PERSON
    recorded_by: str | None = None  # a staff username; None: the child's Child Contact
    expires_in_days: int | None = None  # from the load date; None: 12 months from the recording
    withdrawn_by: str | None = None  # a guardian key
    withdrawn_days_ago: int = 7
    requested_only: bool = False  # asked for, not given (pending)


BVC, PRESCHOOLS, SCHOOL = "Barnavårdscentralen Ekby (BVC)", "Ekby förskolor", "Ekby skola"
PUPIL_HEALTH, SOCIAL_SERVICES, BUP, HABILITATION = (
    "Elevhälsan Ekby",
    "Socialtjänsten Ekby",
    "BUP Ekby",
    "Habiliteringen Ekby",
)
BOTH_PURPOSES: tuple[str, ...] = ("coordination", "team_meetings")
CONSENTS: tuple[ConsentRow, ...] = (
    ConsentRow("Elsa", (BVC, PRESCHOOLS, HABILITATION), BOTH_PURPOSES, AREA_CODES, ("lena",)),
    ConsentRow("Omar", (SCHOOL, PUPIL_HEALTH, SOCIAL_SERVICES), BOTH_PURPOSES, AREA_CODES, ("ahmed",)),
    ConsentRow("Omar", (BUP,), BOTH_PURPOSES, AREA_CODES, ("ahmed",), expires_in_days=20),
    ConsentRow("Noah", (SCHOOL,), BOTH_PURPOSES, AREA_CODES, ("petra",)),
    ConsentRow("Noah", (BUP,), BOTH_PURPOSES, ("healthy", "nurtured"), (YOUNG_PERSON,), recorded_by="maria"),
    ConsentRow("Alva", (SCHOOL,), BOTH_PURPOSES, AREA_CODES, ("tomas", "sofia")),
    ConsentRow("Leo", (SOCIAL_SERVICES,), BOTH_PURPOSES, AREA_CODES, ("karl", "eva")),
    ConsentRow("Leo", (SCHOOL,), BOTH_PURPOSES, AREA_CODES, ("karl", "eva"), withdrawn_by="eva"),
    ConsentRow("Liam", (BVC, PRESCHOOLS), ("coordination",), AREA_CODES, ("jonas",), requested_only=True),
)
# (child, agency, recorded by, note): recorded before the young person's own consent for that agency
MATURITY: tuple[tuple[str, str, str, str], ...] = (
    (
        "Noah",
        BUP,
        "maria",
        "Noah bad om att själv få bestämma om BUP. Hörd vid ett möte; han förstår vad som delas och varför.",
    ),
)
CONSENT_EVIDENCE = (
    "Lämnat personligen vid ett möte med barnets kontaktperson; vi läste igenom samtyckestexten tillsammans."
)

NAMED_CHILDREN: tuple[str, ...] = tuple(row.given_name for row in NAMED)
PERSONAS: tuple[str, ...] = (
    *(row[0] for row in STAFF),
    PLATFORM_ADMIN[0],
    ANALYST[0],
    *(row.key for row in FAMILY_GUARDIANS if row.login),
    *(row[0] for row in YOUNG_PEOPLE),
)


def _units_for_age(age: int) -> tuple[tuple[str, ...], str]:
    """Where a child without a story is enrolled, and who is their Child Contact."""
    if age == 0:
        return ("BVC Ekby",), "anna"
    if age <= 5:
        return ("BVC Ekby", "Solrosen"), "anna"
    if age <= 15:
        return (SCHOOL_CLASSES[0 if age <= 8 else 1 if age <= 11 else 2],), "maria"
    return ("Elevhälsoteamet",), "nina"


def _all_children() -> tuple[tuple[ChildRow, ...], tuple[GuardianRow, ...]]:
    children, guardians = list(NAMED), list(FAMILY_GUARDIANS)
    for given, family, female, age, guardian_given, guardian_female in MORE_CHILDREN:
        key = f"{guardian_given}.{family}".lower()
        units, contact = _units_for_age(age)
        guardians.append(GuardianRow(key, guardian_given, family, guardian_female))
        children.append(ChildRow(given, family, female, age, units, contact, (key,)))
    return tuple(children), tuple(guardians)
