"""The demo municipality Ekby (DEMO.md), loaded through the project's own operations.

``load_demo`` puts the demo's facts on a timeline and replays them in date order with the app clock set
to each fact's moment, so back-dated facts are recorded as they would have been; it flushes, the caller
commits. Ages are relative to the load date. So far the skeleton: agencies, units, people, children,
guardians, custody, enrolments, a sibling link, Child Contacts; the access core: the consent texts,
consents (recorded, requested, withdrawn), a maturity assessment and Alva's protected identity; the
concerns issue (``demo_concerns``): concerns, a matching alert, a report of concern, Support
Coordinators, teams and meetings; the plan issue (``demo_plans``): plans, actions, published versions,
reviews and items withheld from guardians; later issues add their facts.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import partial

from sqlalchemy import select, text

from agencies.models import Membership
from agencies.operations import AgencyData, StaffData, add_membership, create_agency, create_staff_person, create_unit
from coordination.access import SYSTEM_ACTOR
from coordination.auth import hash_password
from coordination.children.operations import (
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
from coordination.clock import current_clock
from coordination.consent.common import CONSENT_TEXT_VERSION, YOUNG_PERSON
from coordination.consent.ledger import (
    ConsentData,
    GiverData,
    record_consent,
    record_maturity,
    request_consent,
    withdraw_consent,
)
from coordination.consent.texts import DEFAULT_CONSENT_TEXTS, ensure_consent_text
from coordination.database import db
from coordination.demo.concerns import concerns_and_teams
from coordination.demo.ekby import (
    AGENCIES,
    ANALYST,
    CONSENT_EVIDENCE,
    CONSENTS,
    IDENTITY_CHECKED,
    MATURITY,
    NAMED,
    PLATFORM_ADMIN,
    RESTRICTED_CUSTODY,
    SIBLINGS,
    STAFF,
    UNBORN_DUE_IN,
    UNBORN_REGISTERED_AGO,
    YOUNG_PEOPLE,
    ChildRow,
    ConsentRow,
    GuardianRow,
    _all_children,
)
from coordination.demo.plans import plans
from coordination.demo.story import Ekby
from coordination.identity_numbers import IdentityNumber, make_identity_number, parse_identity_number
from coordination.models import Setting

DEMO_PASSWORD = "demo"
DATASET_KEY = "dataset"
LOADED_AT_KEY = "demo_loaded_at"
SCHEMA_KEY = "demo_schema"  # the Alembic revision the demo was loaded under
STORY_KEY = "demo_story"  # which parts of the story (DEMO.md) the demo was loaded with
STORY = "skeleton, access core, concerns and teams, plans (2), Swedish (1)"  # change when the facts change


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
# -- the facts ----------------------------------------------------------------------------------------
def _organisation(ekby: Ekby) -> None:
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


def _register_child(ekby: Ekby, row: ChildRow, birth: date | None, number: IdentityNumber | None) -> None:
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
    if number is not None:
        ekby.numbers[row.given_name] = number


def _add_guardian(ekby: Ekby, row: GuardianRow, index: int, birth: date) -> None:
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


def _link_custody(ekby: Ekby, child: str, guardian: str) -> None:
    note = RESTRICTED_CUSTODY.get((child, guardian))
    ekby.custody[(child, guardian)] = link_custody(
        SYSTEM_ACTOR, ekby.children[child], ekby.guardians[guardian], restricted=note is not None, restriction_note=note
    )


def _enrol(ekby: Ekby, child: str, unit: str, started_on: date) -> None:
    enrol_child(SYSTEM_ACTOR, ekby.children[child], ekby.units[unit], started_on)


def _contact_membership(ekby: Ekby, row: ChildRow) -> Membership:
    for unit in row.units:
        if (row.contact, unit) in ekby.memberships:
            return ekby.memberships[(row.contact, unit)]
    return next(m for (username, _), m in ekby.memberships.items() if username == row.contact)


def _assign_contact(ekby: Ekby, row: ChildRow) -> None:
    assign_child_contact(
        SYSTEM_ACTOR, ekby.children[row.given_name], _contact_membership(ekby, row), assigned_by=ekby.staff[row.contact]
    )


def _check_identity(ekby: Ekby, child: str, guardian: str, checked_by: str) -> None:
    confirm_guardian_identity(SYSTEM_ACTOR, ekby.custody[(child, guardian)], ekby.staff[checked_by])


def _guardian_account(ekby: Ekby, guardian: str) -> None:
    create_guardian_account(
        SYSTEM_ACTOR, ekby.guardians[guardian], guardian, is_demo=True, password_hash=ekby.password_hash, language="sv"
    )
    ekby.accounts += 1


def _young_person_account(ekby: Ekby, username: str, child: str, granted_by: str) -> None:
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


def _link_siblings(ekby: Ekby, child: str, sibling: str, recorded_by: str) -> None:
    link_siblings(SYSTEM_ACTOR, ekby.children[child], ekby.children[sibling], ekby.staff[recorded_by])


def _started_on(ekby: Ekby, unit: str, birth: date | None) -> date:
    if birth is None:  # registered at the maternity clinic during the pregnancy
        return (ekby.load_time - UNBORN_REGISTERED_AGO).astimezone(ekby.clock.zone).date()
    if unit == "BVC Ekby":
        return birth
    if unit == "Solrosen":
        return max(ekby.school_start, _years_before(birth, -1))
    return ekby.school_start


def _skeleton(ekby: Ekby) -> dict[str, datetime]:
    """Puts the skeleton's facts on the timeline (nothing is written until the replay); returns when
    each child got its Child Contact."""
    ekby.add(ekby.setup, partial(_organisation, ekby))
    children, guardians = _all_children()
    return _roles(ekby, children, guardians, _families(ekby, children, guardians))


def _families(ekby: Ekby, children: tuple[ChildRow, ...], guardians: tuple[GuardianRow, ...]) -> dict[str, datetime]:
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
    ekby: Ekby, children: tuple[ChildRow, ...], guardians: tuple[GuardianRow, ...], registered: dict[str, datetime]
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


def _record_maturity(ekby: Ekby, child: str, agency: str, recorded_by: str, note: str) -> None:
    record_maturity(SYSTEM_ACTOR, ekby.children[child], ekby.agencies[agency], ekby.staff[recorded_by], note)


def _giver(ekby: Ekby, key: str) -> GiverData:
    guardian_id = None if key == YOUNG_PERSON else ekby.guardians[key].id
    return GiverData(guardian_id, "in_person", CONSENT_EVIDENCE)


def _record_consent(ekby: Ekby, row: ConsentRow, agency: str, recorded_by: str) -> None:
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


def _request_consent(ekby: Ekby, row: ConsentRow, agency: str, requested_by: str) -> None:
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


def _withdraw_consent(ekby: Ekby, row: ConsentRow, agency: str, recorded_by: str) -> None:
    assert row.withdrawn_by is not None
    guardian_id = None if row.withdrawn_by == YOUNG_PERSON else ekby.guardians[row.withdrawn_by].id
    for purpose in row.purposes:
        withdraw_consent(
            SYSTEM_ACTOR, ekby.consents[(row.child, agency, purpose)], guardian_id, ekby.staff[recorded_by]
        )


def _access_core(ekby: Ekby, contacts: dict[str, datetime]) -> None:
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
    ekby = Ekby(clock=clock, load_time=load_time, password_hash=hash_password(DEMO_PASSWORD))
    try:
        contacts = _skeleton(ekby)
        _access_core(ekby, contacts)
        concerns_and_teams(ekby, contacts)
        plans(ekby, contacts)
        ekby.replay()
    finally:
        clock.restore(state)
    db.session.merge(Setting(key=DATASET_KEY, value="demo"))
    db.session.merge(Setting(key=LOADED_AT_KEY, value=load_time.isoformat()))
    revision = db.session.execute(text("SELECT version_num FROM alembic_version")).scalar()
    db.session.merge(Setting(key=SCHEMA_KEY, value=str(revision)))
    db.session.merge(Setting(key=STORY_KEY, value=STORY))
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


def loaded_story() -> str | None:
    """The parts of the story the demo was loaded with (an older loader means facts are missing)."""
    return _setting(STORY_KEY)


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
