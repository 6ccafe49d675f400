"""The demo municipality Ekby (DEMO.md), loaded through the project's own operations.

``load_demo`` puts the demo's facts on a timeline and replays them in date order with the app clock set
to each fact's moment, so back-dated facts are recorded as they would have been; it flushes, the caller
commits. Ages are relative to the load date. So far the skeleton: agencies, units, people, children,
guardians, custody, enrolments, a sibling link, Child Contacts; the access core: the consent texts,
consents (recorded, requested, withdrawn), a maturity assessment and Alva's protected identity; later
issues add their facts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import partial

from sqlalchemy import select, text

from agencies.models import Agency, Membership, StaffPerson, Unit
from agencies.operations import AgencyData, StaffData, add_membership, create_agency, create_staff_person, create_unit
from childplan.compass import AREA_CODES
from coordination.access import SYSTEM_ACTOR
from coordination.auth import hash_password
from coordination.clock import Clock, current_clock
from coordination.consent import (
    CONSENT_TEXT_VERSION,
    DEFAULT_CONSENT_TEXTS,
    YOUNG_PERSON,
    ConsentData,
    GiverData,
    ensure_consent_text,
    record_consent,
    record_maturity,
    request_consent,
    withdraw_consent,
)
from coordination.database import db
from coordination.identity_numbers import IdentityNumber, make_identity_number, parse_identity_number
from coordination.models import Child, Consent, Custody, Guardian, Setting
from coordination.operations import (
    ChildData,
    GuardianData,
    add_guardian,
    assign_child_contact,
    confirm_guardian_identity,
    create_analyst,
    create_guardian_account,
    create_platform_admin,
    create_staff_account,
    enrol_child,
    grant_young_person_account,
    link_custody,
    link_siblings,
    register_child,
)

DEMO_PASSWORD = "demo"
DATASET_KEY = "dataset"
LOADED_AT_KEY = "demo_loaded_at"
SCHEMA_KEY = "demo_schema"  # the Alembic revision the demo was loaded under

# -- the data -------------------------------------------------------------------------------------------
# (agency, kind, level, units)
AGENCIES: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("Ekby maternity clinic (MVC)", "maternity_clinic", "region", ("MVC Ekby",)),
    ("Ekby child health centre (BVC)", "child_health_centre", "region", ("BVC Ekby",)),
    ("Ekby preschools", "preschool", "municipality", ("Solrosen",)),
    ("Ekby school", "school", "municipality", ("Class 1–3", "Class 4–6", "Class 7–9")),
    ("Ekby pupil health", "pupil_health", "municipality", ("Pupil health team",)),
    ("Ekby social services", "social_services", "municipality", ("Intake", "Children and families")),
    ("Ekby local police", "police", "state", ("Local police area Ekby",)),
    ("Ekby primary care centre", "primary_care", "region", ("Vårdcentralen Ekby",)),
    ("BUP Ekby", "bup", "region", ("BUP outpatient team",)),
    ("Ekby habilitation", "habilitation", "region", ("Child habilitation",)),
)

PRACTITIONER: tuple[str, ...] = ("practitioner",)
ADMIN: tuple[str, ...] = ("practitioner", "agency_admin")
SCHOOL_CLASSES: tuple[str, ...] = ("Class 1–3", "Class 4–6", "Class 7–9")

# (username, given name, family name, title, ((unit, roles), ...))
STAFF: tuple[tuple[str, str, str, str, tuple[tuple[str, tuple[str, ...]], ...]], ...] = (
    ("anna", "Anna", "Berg", "nurse", (("BVC Ekby", PRACTITIONER),)),
    ("sara", "Sara", "Lind", "teacher", (("Solrosen", PRACTITIONER),)),
    ("maria", "Maria", "Holm", "head teacher", tuple((unit, ADMIN) for unit in SCHOOL_CLASSES)),
    ("lars", "Lars", "Ek", "class teacher", (("Class 4–6", PRACTITIONER),)),
    ("nina", "Nina", "Sjö", "school nurse", (("Pupil health team", PRACTITIONER),)),
    ("johan", "Johan", "Dahl", "social worker", (("Children and families", PRACTITIONER),)),
    ("ida", "Ida", "Ström", "intake officer", (("Intake", ("practitioner", "intake")),)),
    ("erik", "Erik", "Falk", "police officer", (("Local police area Ekby", PRACTITIONER),)),
    ("karin", "Karin", "Vik", "psychologist", (("BUP outpatient team", PRACTITIONER),)),
    ("bodil", "Bodil", "Ek", "unit head", (("BUP outpatient team", ADMIN),)),
    ("olle", "Olle", "Nord", "doctor", (("Vårdcentralen Ekby", PRACTITIONER),)),
    ("hanna", "Hanna", "Åberg", "speech therapist", (("Child habilitation", PRACTITIONER),)),
    ("mia", "Mia", "Rask", "midwife", (("MVC Ekby", PRACTITIONER),)),
)
PLATFORM_ADMIN = ("admin", "Platform administrator")
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
        ("Class 4–6", "Pupil health team"),
        "maria",
        ("ahmed",),
        identity_number="201701012393",
    ),
    ChildRow("Noah", "Svensson", False, 15, ("Class 7–9",), "maria", ("petra",)),
    ChildRow(
        "Alva",
        "Nilsson",
        True,
        6,
        ("Class 1–3",),
        "maria",
        ("tomas", "sofia"),
        protection_level="protected_registration",
    ),
    ChildRow("Leo", "Andersson", False, 10, ("Class 4–6",), "maria", ("karl", "eva")),
    ChildRow("Maja", "Johansson", True, 12, ("Class 7–9",), "maria", ("nora",)),
    ChildRow("Liam", "Persson", False, 4, ("BVC Ekby", "Solrosen"), "anna", ("jonas",)),
    ChildRow("Ella", "Persson", True, 7, ("Class 1–3",), "maria", ("jonas",)),
    ChildRow("Baby", "Lund", False, None, ("MVC Ekby",), "mia"),
)
UNBORN_DUE_IN = timedelta(days=60)
UNBORN_REGISTERED_AGO = timedelta(days=120)

RESTRICTED_CUSTODY: dict[tuple[str, str], str] = {
    ("Alva", "tomas"): "Protected identity: no address, meeting place, unit, staff name or the other "
    "guardian's contact details may reach this guardian.",
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


BVC, PRESCHOOLS, SCHOOL = "Ekby child health centre (BVC)", "Ekby preschools", "Ekby school"
PUPIL_HEALTH, SOCIAL_SERVICES, BUP, HABILITATION = (
    "Ekby pupil health",
    "Ekby social services",
    "BUP Ekby",
    "Ekby habilitation",
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
        "Noah asked to decide himself about BUP. Heard at a meeting; he understands what is shared and why.",
    ),
)
CONSENT_EVIDENCE = "Given in person at a meeting with the Child Contact; the consent text was read through together."

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
    return ("Pupil health team",), "nina"


def _all_children() -> tuple[tuple[ChildRow, ...], tuple[GuardianRow, ...]]:
    children, guardians = list(NAMED), list(FAMILY_GUARDIANS)
    for given, family, female, age, guardian_given, guardian_female in MORE_CHILDREN:
        key = f"{guardian_given}.{family}".lower()
        units, contact = _units_for_age(age)
        guardians.append(GuardianRow(key, guardian_given, family, guardian_female))
        children.append(ChildRow(given, family, female, age, units, contact, (key,)))
    return tuple(children), tuple(guardians)


# -- small helpers --------------------------------------------------------------------------------------
_ASCII = str.maketrans("åäöéÅÄÖÉ", "aaoeAAOE")


def _email(given: str, family: str, domain: str) -> str:
    return f"{given}.{family}@{domain}".lower().translate(_ASCII)


def _landline(n: int) -> str:
    """PTS's range for fictional numbers: 031-390 06 00 – 031-390 06 99."""
    return f"031-390 06 {n:02d}"


def _mobile(n: int) -> str:
    """PTS's range for fictional mobile numbers: 070-174 06 05 – 070-174 06 99."""
    return f"070-174 06 {5 + n:02d}"


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _serial(index: int, female: bool, base: int) -> int:
    """Serials by index; the last serial digit is even for girls and women, odd for boys and men."""
    return base + 2 * index + (0 if female else 1)


# -- the timeline -------------------------------------------------------------------------------------
@dataclass
class _Ekby:
    """What has been created so far, by demo key, plus the dates the facts hang on."""

    clock: Clock
    load_time: datetime
    password_hash: str
    facts: list[tuple[datetime, int, Callable[[], None]]] = field(default_factory=list)
    agencies: dict[str, Agency] = field(default_factory=dict)
    units: dict[str, Unit] = field(default_factory=dict)
    staff: dict[str, StaffPerson] = field(default_factory=dict)
    memberships: dict[tuple[str, str], Membership] = field(default_factory=dict)
    guardians: dict[str, Guardian] = field(default_factory=dict)
    children: dict[str, Child] = field(default_factory=dict)
    custody: dict[tuple[str, str], Custody] = field(default_factory=dict)
    consents: dict[tuple[str, str, str], Consent] = field(default_factory=dict)  # (child, agency, purpose)
    accounts: int = 0

    @property
    def today(self) -> date:
        return self.load_time.astimezone(self.clock.zone).date()

    @property
    def setup(self) -> datetime:
        """When Ekby was set up (agencies, staff, accounts); the families were entered the next day."""
        day = self.today - timedelta(days=400)
        return datetime.combine(day, time(8), tzinfo=self.clock.zone).astimezone(UTC)

    @property
    def school_start(self) -> date:
        start = date(self.today.year, 8, 17)
        return start if start <= self.today else date(self.today.year - 1, 8, 17)

    def at_day(self, day: date, hour: int = 9) -> datetime:
        """A local working hour on ``day``, never before go-live (the day after setup) nor after the load."""
        moment = datetime.combine(day, time(hour), tzinfo=self.clock.zone).astimezone(UTC)
        return min(max(moment, self.setup + timedelta(days=1)), self.load_time)

    def days_ago(self, days: int, hour: int = 10) -> datetime:
        return self.at_day(self.today - timedelta(days=days), hour)

    def add(self, moment: datetime, action: Callable[[], None]) -> None:
        """A fact; equal moments keep the order they were added in (dependencies first)."""
        self.facts.append((min(moment, self.load_time), len(self.facts), action))

    def replay(self) -> None:
        for moment, _, action in sorted(self.facts, key=lambda fact: (fact[0], fact[1])):
            self.clock.set(moment)
            action()


# -- the facts ----------------------------------------------------------------------------------------
def _organisation(ekby: _Ekby) -> None:
    actor = SYSTEM_ACTOR
    for phone, (name, kind, level, _units) in enumerate(AGENCIES):
        ekby.agencies[name] = create_agency(actor, AgencyData(name, kind, level, _landline(phone)))
    phone = len(AGENCIES)
    for name, _kind, _level, unit_names in AGENCIES:
        for unit_name in unit_names:
            ekby.units[unit_name] = create_unit(actor, ekby.agencies[name], unit_name, _landline(phone))
            phone += 1
    for number, (username, given, family, title, places) in enumerate(STAFF, start=1):
        person = create_staff_person(
            actor,
            StaffData(
                given_name=given,
                family_name=family,
                title=title,
                email=_email(given, family, "ekby.example"),
                phone=_landline(30 + number),
                employee_id=f"EKBY-{number:04d}",
            ),
        )
        ekby.staff[username] = person
        for unit_name, roles in places:
            ekby.memberships[(username, unit_name)] = add_membership(
                actor,
                person,
                ekby.units[unit_name],
                practitioner="practitioner" in roles,
                agency_admin="agency_admin" in roles,
                intake="intake" in roles,
            )
        create_staff_account(actor, person, username, None, is_demo=True, password_hash=ekby.password_hash)
    create_platform_admin(
        actor,
        PLATFORM_ADMIN[1],
        PLATFORM_ADMIN[0],
        None,
        email="admin@ekby.example",
        is_demo=True,
        password_hash=ekby.password_hash,
    )
    create_analyst(
        actor,
        ANALYST[1],
        ANALYST[0],
        None,
        email=_email("fia", "ros", "ekby.example"),
        is_demo=True,
        password_hash=ekby.password_hash,
    )
    ekby.accounts += len(STAFF) + 2


def _register_child(ekby: _Ekby, row: ChildRow, birth: date | None, number: IdentityNumber | None) -> None:
    data = ChildData(
        given_name=row.given_name,
        family_name=row.family_name,
        birth_date=birth,
        identity_number=number,
        missing_number_reason=None if number else "unborn",
        expected_birth_date=None if birth else ekby.today + UNBORN_DUE_IN,
        protection_level=row.protection_level,
    )
    ekby.children[row.given_name] = register_child(SYSTEM_ACTOR, data)


def _add_guardian(ekby: _Ekby, row: GuardianRow, index: int, birth: date) -> None:
    data = GuardianData(
        given_name=row.given_name,
        family_name=row.family_name,
        identity_number=make_identity_number(birth, _serial(index, row.female, 500)),
        email=_email(row.given_name, row.family_name, "mail.example"),
        phone=_mobile(index),
        preferred_language=row.language,
        needs_interpreter=row.interpreter_language is not None,
        interpreter_language=row.interpreter_language,
    )
    ekby.guardians[row.key] = add_guardian(SYSTEM_ACTOR, data)


def _link_custody(ekby: _Ekby, child: str, guardian: str) -> None:
    note = RESTRICTED_CUSTODY.get((child, guardian))
    ekby.custody[(child, guardian)] = link_custody(
        SYSTEM_ACTOR, ekby.children[child], ekby.guardians[guardian], restricted=note is not None, restriction_note=note
    )


def _enrol(ekby: _Ekby, child: str, unit: str, started_on: date) -> None:
    enrol_child(SYSTEM_ACTOR, ekby.children[child], ekby.units[unit], started_on)


def _contact_membership(ekby: _Ekby, row: ChildRow) -> Membership:
    for unit in row.units:
        if (row.contact, unit) in ekby.memberships:
            return ekby.memberships[(row.contact, unit)]
    return next(m for (username, _), m in ekby.memberships.items() if username == row.contact)


def _assign_contact(ekby: _Ekby, row: ChildRow) -> None:
    assign_child_contact(
        SYSTEM_ACTOR, ekby.children[row.given_name], _contact_membership(ekby, row), assigned_by=ekby.staff[row.contact]
    )


def _check_identity(ekby: _Ekby, child: str, guardian: str, checked_by: str) -> None:
    confirm_guardian_identity(SYSTEM_ACTOR, ekby.custody[(child, guardian)], ekby.staff[checked_by])


def _guardian_account(ekby: _Ekby, guardian: str) -> None:
    create_guardian_account(
        SYSTEM_ACTOR, ekby.guardians[guardian], guardian, is_demo=True, password_hash=ekby.password_hash, language="sv"
    )
    ekby.accounts += 1


def _young_person_account(ekby: _Ekby, username: str, child: str, granted_by: str) -> None:
    grant_young_person_account(
        SYSTEM_ACTOR,
        ekby.children[child],
        username,
        ekby.staff[granted_by],
        is_demo=True,
        password_hash=ekby.password_hash,
        language="sv",
    )
    ekby.accounts += 1


def _link_siblings(ekby: _Ekby, child: str, sibling: str, recorded_by: str) -> None:
    link_siblings(SYSTEM_ACTOR, ekby.children[child], ekby.children[sibling], ekby.staff[recorded_by])


def _started_on(ekby: _Ekby, unit: str, birth: date | None) -> date:
    if birth is None:  # registered at the maternity clinic during the pregnancy
        return (ekby.load_time - UNBORN_REGISTERED_AGO).astimezone(ekby.clock.zone).date()
    if unit == "BVC Ekby":
        return birth
    if unit == "Solrosen":
        return max(ekby.school_start, _years_before(birth, -1))
    return ekby.school_start


def _skeleton(ekby: _Ekby) -> dict[str, datetime]:
    """Puts the skeleton's facts on the timeline (nothing is written until the replay); returns when
    each child got its Child Contact."""
    ekby.add(ekby.setup, partial(_organisation, ekby))
    children, guardians = _all_children()
    return _roles(ekby, children, guardians, _families(ekby, children, guardians))


def _families(ekby: _Ekby, children: tuple[ChildRow, ...], guardians: tuple[GuardianRow, ...]) -> dict[str, datetime]:
    """Children, guardians, custody and enrolments; returns when each child was registered."""
    registered: dict[str, datetime] = {}
    births: dict[str, date | None] = {}
    enrolments: list[tuple[datetime, str, str, date]] = []
    for index, row in enumerate(children):
        number: IdentityNumber | None = None
        birth: date | None = None
        if row.identity_number is not None:
            number = parse_identity_number(row.identity_number, today=ekby.today)
            birth = number.birth_date
        elif row.age is not None:
            birth = _years_before(ekby.today, row.age) - timedelta(days=20 + (37 * (index + 1)) % 320)
            number = make_identity_number(birth, _serial(index, row.female, 300))
        starts = {unit: _started_on(ekby, unit, birth) for unit in row.units}
        births[row.given_name] = birth
        registered[row.given_name] = ekby.at_day(min(starts.values()))
        ekby.add(registered[row.given_name], partial(_register_child, ekby, row, birth, number))
        enrolments += [(ekby.at_day(day, 10), row.given_name, unit, day) for unit, day in starts.items()]
    for index, guardian in enumerate(guardians):
        their_children = [row for row in children if guardian.key in row.guardians]
        first = min(their_children, key=lambda row: registered[row.given_name])
        eldest = min(births[row.given_name] or ekby.today for row in their_children)
        birth = _years_before(eldest, 27 + index % 9) - timedelta(days=(53 * index) % 300)
        ekby.add(registered[first.given_name], partial(_add_guardian, ekby, guardian, index, birth))
    for row in children:
        for guardian_key in row.guardians:
            ekby.add(registered[row.given_name], partial(_link_custody, ekby, row.given_name, guardian_key))
    for moment, child, unit, day in enrolments:
        ekby.add(moment, partial(_enrol, ekby, child, unit, day))
    return registered


def _roles(
    ekby: _Ekby, children: tuple[ChildRow, ...], guardians: tuple[GuardianRow, ...], registered: dict[str, datetime]
) -> dict[str, datetime]:
    """Child Contacts, "identity checked", family accounts and the sibling link: a few weeks ago.
    Returns when each child got its Child Contact."""
    contacts: dict[str, datetime] = {}
    for index, row in enumerate(children):  # Child Contacts: two to six weeks ago
        contacts[row.given_name] = max(
            ekby.days_ago(14 + (index * 5) % 28), registered[row.given_name] + timedelta(days=1)
        )
        ekby.add(contacts[row.given_name], partial(_assign_contact, ekby, row))
    first_login: dict[str, datetime] = {}  # a guardian logs in once their identity is checked
    for row in children:
        for guardian_key in row.guardians:
            if guardian_key in IDENTITY_CHECKED:
                checked = contacts[row.given_name] + timedelta(days=2, hours=4)
                ekby.add(checked, partial(_check_identity, ekby, row.given_name, guardian_key, row.contact))
                first_login[guardian_key] = min(first_login.get(guardian_key, checked), checked)
    for guardian in guardians:
        if guardian.login:
            ekby.add(first_login[guardian.key] + timedelta(hours=1), partial(_guardian_account, ekby, guardian.key))
    for username, child, granted_by in YOUNG_PEOPLE:
        ekby.add(contacts[child] + timedelta(days=3), partial(_young_person_account, ekby, username, child, granted_by))
    for child, sibling, recorded_by in SIBLINGS:
        moment = max(contacts[child], contacts[sibling]) + timedelta(days=1)
        ekby.add(moment, partial(_link_siblings, ekby, child, sibling, recorded_by))
    return contacts


# -- the access core: consent texts, consents, maturity, protected identity --------------------------
def _consent_texts() -> None:
    for language, body in DEFAULT_CONSENT_TEXTS.items():
        ensure_consent_text(CONSENT_TEXT_VERSION, language, body, actor=SYSTEM_ACTOR)


def _record_maturity(ekby: _Ekby, child: str, agency: str, recorded_by: str, note: str) -> None:
    record_maturity(SYSTEM_ACTOR, ekby.children[child], ekby.agencies[agency], ekby.staff[recorded_by], note)


def _giver(ekby: _Ekby, key: str) -> GiverData:
    guardian_id = None if key == YOUNG_PERSON else ekby.guardians[key].id
    return GiverData(guardian_id, "in_person", CONSENT_EVIDENCE)


def _record_consent(ekby: _Ekby, row: ConsentRow, agency: str, recorded_by: str) -> None:
    valid_from = ekby.clock.today()
    until = ekby.today + timedelta(days=row.expires_in_days) if row.expires_in_days else _years_before(valid_from, -1)
    data = ConsentData(
        purposes=row.purposes,
        areas=row.areas,
        valid_from=valid_from,
        valid_until=until,
        givers=[_giver(ekby, key) for key in row.givers],
        consent_text_version=CONSENT_TEXT_VERSION,
        recorded_by=ekby.staff[recorded_by],
    )
    for consent in record_consent(SYSTEM_ACTOR, ekby.children[row.child], ekby.agencies[agency], data):
        ekby.consents[(row.child, agency, consent.purpose)] = consent


def _request_consent(ekby: _Ekby, row: ConsentRow, agency: str, requested_by: str) -> None:
    valid_from = ekby.clock.today()
    requested = request_consent(
        SYSTEM_ACTOR,
        ekby.children[row.child],
        ekby.agencies[agency],
        set(row.purposes),
        set(row.areas),
        valid_from,
        _years_before(valid_from, -1),
        requested_by=ekby.staff[requested_by],
    )
    for consent in requested:
        ekby.consents[(row.child, agency, consent.purpose)] = consent


def _withdraw_consent(ekby: _Ekby, row: ConsentRow, agency: str, recorded_by: str) -> None:
    assert row.withdrawn_by is not None
    guardian_id = None if row.withdrawn_by == YOUNG_PERSON else ekby.guardians[row.withdrawn_by].id
    for purpose in row.purposes:
        withdraw_consent(
            SYSTEM_ACTOR, ekby.consents[(row.child, agency, purpose)], guardian_id, ekby.staff[recorded_by]
        )


def _access_core(ekby: _Ekby, contacts: dict[str, datetime]) -> None:
    """The consent texts at go-live; maturity a few days after the young person's account; each consent
    the day after the Child Contact took the child on; Leo's school consent withdrawn last week.
    (Alva's protected identity is on her ``ChildRow``: it is part of her registration.)"""
    ekby.add(ekby.setup, _consent_texts)
    contact_of = {row.given_name: row.contact for row in NAMED}
    for child, agency, recorded_by, note in MATURITY:
        ekby.add(contacts[child] + timedelta(days=4), partial(_record_maturity, ekby, child, agency, recorded_by, note))
    for row in CONSENTS:
        recorded_by = row.recorded_by or contact_of[row.child]
        moment = contacts[row.child] + timedelta(days=1)
        if YOUNG_PERSON in row.givers:  # after the maturity assessment
            moment = contacts[row.child] + timedelta(days=4, hours=1)
        for agency in row.agencies:
            if row.requested_only:
                ekby.add(moment, partial(_request_consent, ekby, row, agency, recorded_by))
                continue
            ekby.add(moment, partial(_record_consent, ekby, row, agency, recorded_by))
            if row.withdrawn_by is not None:
                withdrawn = ekby.days_ago(row.withdrawn_days_ago, hour=14)
                ekby.add(withdrawn, partial(_withdraw_consent, ekby, row, agency, contact_of[row.child]))


# -- the public interface ---------------------------------------------------------------------------
def load_demo() -> str:
    """Load the demo into the current session (flushed, not committed); returns a short summary."""
    clock = current_clock()
    state = clock.snapshot()
    load_time = clock.now()
    ekby = _Ekby(clock=clock, load_time=load_time, password_hash=hash_password(DEMO_PASSWORD))
    try:
        contacts = _skeleton(ekby)
        _access_core(ekby, contacts)
        ekby.replay()
    finally:
        clock.restore(state)
    db.session.merge(Setting(key=DATASET_KEY, value="demo"))
    db.session.merge(Setting(key=LOADED_AT_KEY, value=load_time.isoformat()))
    revision = db.session.execute(text("SELECT version_num FROM alembic_version")).scalar()
    db.session.merge(Setting(key=SCHEMA_KEY, value=str(revision)))
    db.session.flush()
    return (
        f"{len(ekby.agencies)} agencies, {len(ekby.units)} units, {len(ekby.staff)} staff, "
        f"{ekby.accounts} accounts, {len(ekby.guardians)} guardians, {len(ekby.children)} children, "
        f"{len(ekby.consents)} consents"
    )


def _setting(key: str) -> str | None:
    return db.session.scalar(select(Setting.value).where(Setting.key == key))


def loaded_schema() -> str | None:
    """The schema revision the demo was loaded under (a newer one means new facts to load)."""
    return _setting(SCHEMA_KEY)


def loaded_at() -> datetime | None:
    """When the demo was loaded (aware UTC), or None when this is not a demo database."""
    value = _setting(LOADED_AT_KEY)
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def is_demo_database() -> bool:
    return _setting(DATASET_KEY) == "demo"
