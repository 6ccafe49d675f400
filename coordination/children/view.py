"""View models for a child: built for one viewer, holding only what that viewer may see, with a
visible note (and its reason) for everything withheld. Templates never get a raw Child."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from agencies.models import Agency, Unit
from coordination import settings
from coordination.access import (
    STAFF,
    WITHHELD_NO_CONSENT,
    ChildAccess,
    Relation,
    may_know_other_agencies,
)
from coordination.children.models import Child, Custody, Enrolment, Guardian, RoleAssignment, age_in_years
from coordination.clock import today
from coordination.database import db
from coordination.labels import AGENCY_KIND_LABELS
from coordination.teams.models import TeamMember

WITHHELD_REASONS = {
    WITHHELD_NO_CONSENT: _l("withheld: no consent for your agency"),
    "protected_identity": _l("withheld: the child has protected identity"),
    "restricted": _l("withheld: a guardian's details are restricted to the child's team"),
}
# The same reasons, as the end of a sentence that names what is withheld ("Other agencies are withheld:
# …"): a label followed by WITHHELD_REASONS would read "Other agencies: withheld: …" (issue 16).
WITHHELD_BECAUSE = {
    WITHHELD_NO_CONSENT: _l("your agency has no consent"),
    "protected_identity": _l("the child has protected identity"),
    "restricted": _l("a guardian's details are restricted to the child's team"),
}
RELATION_LABELS = {
    "child_contact": _l("Child Contact"),
    "support_coordinator": _l("Support Coordinator"),
    "unit": _l("Enrolled at your unit"),
    "team_member": _l("On the child's team"),
    "intake": _l("Intake (a report of concern)"),
    "investigating_unit": _l("Your unit was assigned a report of concern"),
    "action_owner": _l("Owner of an action in the plan"),
}
ROLE_LABELS = {"child_contact": _l("Child Contact"), "support_coordinator": _l("Support Coordinator")}
TEAM_LABEL = _l("On the child's team")


@dataclass(frozen=True)
class ChildSummary:
    """One row of a list (My children, search): name, age and how I relate to the child."""

    public_id: str
    name: str
    age: int | None
    expected_birth_date: date | None
    relations: tuple[str, ...]

    @property
    def url(self) -> str:
        return url_for("children.overview", child_id=self.public_id)

    @property
    def relation_labels(self) -> list[object]:
        return [RELATION_LABELS.get(name, name) for name in self.relations]


def summarise(children: Sequence[Child], relations: dict[int, list[Relation]]) -> list[ChildSummary]:
    day = today()
    return [
        ChildSummary(
            public_id=child.public_id,
            name=child.full_name,
            age=age_in_years(child.birth_date, day),
            expected_birth_date=child.expected_birth_date,
            relations=tuple(relation.name for relation in relations.get(child.id, [])),
        )
        for child in children
    ]


@dataclass(frozen=True)
class PersonContact:
    role: object
    name: str
    agency: str
    phone: str | None
    email: str | None


@dataclass(frozen=True)
class AgencyInvolvement:
    name: str
    kind: object
    how: tuple[object, ...]  # "Child Contact", "Enrolled: Class 4–6", ...
    is_own: bool


@dataclass(frozen=True)
class GuardianContact:
    name: str
    phone: str | None
    email: str | None
    language: str
    needs_interpreter: bool


@dataclass
class ChildView:
    """The child page's Overview, for one viewer."""

    public_id: str
    name: str
    age: int | None
    birth_date: date | None
    expected_birth_date: date | None
    has_protected_identity: bool
    my_relations: list[object]
    contacts: list[PersonContact]
    contacts_withheld: str | None  # a reason code of WITHHELD_REASONS, shown with its words
    agencies: list[AgencyInvolvement]
    agencies_withheld: str | None
    guardians: list[GuardianContact]
    guardians_withheld: str | None
    notices: list[object] = field(default_factory=list)
    next_steps: list[object] = field(default_factory=list)
    switchboard: str | None = None
    has_support_coordinator: bool = False

    @classmethod
    def for_actor(cls, access: ChildAccess) -> ChildView:
        actor, child = access.actor, access.child
        assignments = list(
            db.session.scalars(
                select(RoleAssignment)
                .where(RoleAssignment.child_id == child.id, RoleAssignment.ended_at.is_(None))
                .options(joinedload(RoleAssignment.staff_person), joinedload(RoleAssignment.agency))
                .order_by(RoleAssignment.role)
            )
        )
        enrolments = list(
            db.session.scalars(
                select(Enrolment)
                .where(Enrolment.child_id == child.id, Enrolment.ended_on.is_(None))
                .options(joinedload(Enrolment.unit).joinedload(Unit.agency))
            )
        )
        team = list(
            db.session.scalars(
                select(TeamMember)
                .where(TeamMember.child_id == child.id, TeamMember.ended_at.is_(None))
                .options(joinedload(TeamMember.agency))
            )
        )
        own_agency_id = actor.acting_agency.id if actor.acting_agency else None
        in_team = any(access.has_relation(name) for name in ("child_contact", "support_coordinator", "team_member"))
        may_know_agencies = bool(may_know_other_agencies(access))
        protected = child.has_protected_identity and not in_team

        # Who to reach: the Child Contact and the Support Coordinator. A role holder of another agency
        # reveals that agency's involvement, so it is shown only as far as consent allows — except the
        # plan keeper's means of contact, which everyone with a relation needs (RULES.md §4), shown
        # without their agency.
        contacts: list[PersonContact] = []
        contacts_withheld: str | None = None
        if protected:
            contacts_withheld = "protected_identity"
        else:
            keeper = next((a for a in assignments if a.role == "support_coordinator"), None) or next(
                (a for a in assignments if a.role == "child_contact"), None
            )
            for assignment in assignments:
                person = assignment.staff_person
                if assignment.agency_id == own_agency_id or may_know_agencies:
                    role, agency = ROLE_LABELS[assignment.role], assignment.agency.name
                elif assignment is keeper:
                    role, agency = _l("How to reach the plan keeper"), ""
                else:
                    contacts_withheld = WITHHELD_NO_CONSENT
                    continue
                contacts.append(
                    PersonContact(
                        role=role, name=person.full_name, agency=agency, phone=person.phone, email=person.email
                    )
                )

        # Agencies involved: cross-agency information, shown only as far as consent allows.
        involvements: dict[int, tuple[Agency, list[object]]] = {}
        for assignment in assignments:
            involvements.setdefault(assignment.agency_id, (assignment.agency, []))[1].append(
                ROLE_LABELS[assignment.role]
            )
        for enrolment in enrolments:
            unit_agency = enrolment.unit.agency
            how = involvements.setdefault(unit_agency.id, (unit_agency, []))[1]
            if not protected:  # unit names of a protected child stay within the team (RULES.md §7)
                how.append(enrolment.unit.name)
        for agency_id, team_agency in sorted({m.agency_id: m.agency for m in team}.items()):
            involvements.setdefault(agency_id, (team_agency, []))[1].append(TEAM_LABEL)
        agencies: list[AgencyInvolvement] = []
        agencies_withheld: str | None = None
        for agency_id, (involved, how) in sorted(involvements.items(), key=lambda item: item[1][0].name):
            is_own = agency_id == own_agency_id
            if is_own or (may_know_agencies and not protected):
                agencies.append(AgencyInvolvement(involved.name, AGENCY_KIND_LABELS[involved.kind], tuple(how), is_own))
            else:
                agencies_withheld = "protected_identity" if protected else WITHHELD_NO_CONSENT

        # Guardians: contact details for staff with a relation; protected identity hides them outside
        # the team (RULES.md §7).
        guardians: list[GuardianContact] = []
        guardians_withheld: str | None = None
        if actor.kind == STAFF:
            links = list(
                db.session.scalars(
                    select(Custody)
                    .where(Custody.child_id == child.id, Custody.ended_at.is_(None))
                    .options(joinedload(Custody.guardian))
                    .join(Guardian, Guardian.id == Custody.guardian_id)
                    .order_by(Guardian.family_name, Guardian.given_name)
                )
            )
            if protected:
                guardians_withheld = "protected_identity"
            elif any(link.is_restricted for link in links) and not in_team:
                # A restricted guardian: contact details stay within the child's team (RULES.md §7).
                guardians_withheld = "restricted"
            else:
                for link in links:
                    guardian = link.guardian
                    guardians.append(
                        GuardianContact(
                            name=guardian.full_name,
                            phone=guardian.phone,
                            email=guardian.email,
                            language=guardian.preferred_language,
                            needs_interpreter=guardian.needs_interpreter,
                        )
                    )

        notices = role_notices(access, assignments)
        next_steps: list[object] = []
        if not any(a.role == "child_contact" for a in assignments):
            next_steps.append(_l("The child has no Child Contact yet. The agency admin assigns one."))
        return cls(
            public_id=child.public_id,
            name=child.full_name,
            age=age_in_years(child.birth_date, today()),
            birth_date=child.birth_date,
            expected_birth_date=child.expected_birth_date,
            has_protected_identity=child.has_protected_identity,
            my_relations=[RELATION_LABELS.get(r.name, r.name) for r in access.relations],
            contacts=contacts,
            contacts_withheld=contacts_withheld,
            agencies=agencies,
            agencies_withheld=agencies_withheld,
            guardians=guardians,
            guardians_withheld=guardians_withheld,
            notices=notices,
            next_steps=next_steps,
            switchboard=settings.switchboard_phone() if protected else None,
            has_support_coordinator=any(a.role == "support_coordinator" for a in assignments),
        )


def role_notices(access: ChildAccess, assignments: list[RoleAssignment]) -> list[object]:
    """RULES.md §4: when the consent for coordination of the Child Contact's (or Support
    Coordinator's) agency lapses — withdrawn or expired, with none in effect — the role holder, the
    plan keeper and the role holder's agency admin are told that the role needs a consented agency."""
    actor, picture = access.actor, access.picture
    if actor.kind != STAFF or actor.acting_agency is None:
        return []
    notices: list[object] = []
    keeper = next((a for a in assignments if a.role == "support_coordinator"), None) or next(
        (a for a in assignments if a.role == "child_contact"), None
    )
    for assignment in assignments:
        if picture.areas_for(assignment.agency_id, "coordination"):
            continue
        once_given = any(
            consent.agency_id == assignment.agency_id
            and consent.purpose == "coordination"
            and consent.recorded_at is not None
            for consent in picture.consents
        )
        if not once_given:
            continue  # never consented: the role works within its own agency; nothing has lapsed
        told = (
            assignment.staff_person_id == actor.account.staff_person_id
            or (keeper is not None and keeper.staff_person_id == actor.account.staff_person_id)
            or (actor.is_agency_admin and actor.acting_agency.id == assignment.agency_id)
        )
        if told:
            if assignment.role == "child_contact":
                notices.append(
                    _l(
                        "The Child Contact role needs a consented agency: %(agency)s has no consent for "
                        "coordination. Record consent with the family, or let the agency admin reassign the role.",
                        agency=assignment.agency.name,
                    )
                )
            else:
                notices.append(
                    _l(
                        "The Support Coordinator role needs a consented agency: %(agency)s has no consent for "
                        "coordination.",
                        agency=assignment.agency.name,
                    )
                )
    return notices
