"""``barnkompass agency|unit|staff …``: the platform admin's tools for agencies, units, staff and
memberships from the command line, beside the admin pages (``/admin/agencies``, ``/admin/staff``).

Every command calls the same operations as the pages would, as the system actor (audited as
"system" with the platform-administration basis), checks its input first, commits once, and answers a
refusal with one clear line and a non-zero exit (never a traceback) — with nothing written.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Iterator
from contextlib import contextmanager

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from agencies.models import AGENCY_KINDS, AGENCY_LEVELS, Agency, Membership, StaffPerson, Unit
from agencies.operations import (
    LIMITS,
    AgencyData,
    StaffData,
    add_membership,
    create_agency,
    create_staff_person,
    create_unit,
    deactivate_staff_person,
)
from coordination.errors import OperationError

PASSWORD_VARIABLE = "BARNKOMPASS_STAFF_PASSWORD"
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024


# -- input ------------------------------------------------------------------------------------------
def _text(value: str | None, option: str, limit_key: str, *, required: bool = True) -> str | None:
    """Trimmed text within the column's length, without control characters; None when optional and
    empty."""
    text = (value or "").strip()
    if not text:
        if required:
            raise click.ClickException(f"--{option} cannot be empty.")
        return None
    if any(ord(character) < 32 or ord(character) == 127 for character in text):
        raise click.ClickException(f"--{option} cannot contain control characters.")
    limit = LIMITS[limit_key]
    if len(text) > limit:
        raise click.ClickException(f"--{option} can be at most {limit} characters.")
    return text


def _email(value: str | None) -> str | None:
    email = _text(value, "email", "email", required=False)
    if email is not None and (email.count("@") != 1 or " " in email or email.startswith("@") or email.endswith("@")):
        raise click.ClickException("--email is not an e-mail address.")
    return email


@contextmanager
def _one_transaction() -> Iterator[None]:
    """Commit once at the end; on a refusal roll everything back and say why in one line."""
    from coordination.database import db

    try:
        yield
    except OperationError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from error
    except click.ClickException:
        db.session.rollback()
        raise
    db.session.commit()


def _agency(name: str) -> Agency:
    from coordination.database import db

    agency = db.session.scalar(select(Agency).where(Agency.name == name.strip()))
    if agency is None:
        raise click.ClickException(f"No agency is called {name.strip()!r}. See: barnkompass agency list")
    return agency


def _unit(agency: Agency, name: str) -> Unit:
    from coordination.database import db

    unit = db.session.scalar(select(Unit).where(Unit.agency_id == agency.id, Unit.name == name.strip()))
    if unit is None:
        units = ", ".join(unit.name for unit in agency.units) or "none yet"
        raise click.ClickException(f"{agency.name} has no unit called {name.strip()!r} (its units: {units}).")
    return unit


def _staff_person(username: str) -> StaffPerson:
    from coordination.database import db
    from coordination.models import Account

    account = db.session.scalar(
        select(Account).where(Account.username == username.strip().lower()[: LIMITS["username"]])
    )
    if account is None or account.staff_person is None:
        raise click.ClickException(f"No staff member has the username {username.strip()!r}.")
    return account.staff_person


def _password(no_password: bool) -> str | None:
    if no_password:
        return None
    password = os.environ.get(PASSWORD_VARIABLE)
    if not password:
        password = getpass.getpass("Password: ")
        if password != getpass.getpass("Repeat the password: "):
            raise click.ClickException("The passwords differ.")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise click.ClickException(f"Use a password of at least {MIN_PASSWORD_LENGTH} characters.")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise click.ClickException(f"Use a password of at most {MAX_PASSWORD_LENGTH} characters.")
    return password


# -- barnkompass agency -------------------------------------------------------------------------------
@click.group("agency", help="Agencies (create, list).")
def agency_group() -> None:
    pass


@agency_group.command("create")
@click.option("--name", required=True)
@click.option("--kind", required=True, type=click.Choice(AGENCY_KINDS))
@click.option("--level", required=True, type=click.Choice(AGENCY_LEVELS))
@click.option("--phone", default=None)
@with_appcontext
def agency_create(name: str, kind: str, level: str, phone: str | None) -> None:
    """Create an agency. Give it at least one unit next (barnkompass unit create)."""
    from coordination.access import SYSTEM_ACTOR

    data = AgencyData(
        name=_text(name, "name", "name") or "",
        kind=kind,
        level=level,
        phone=_text(phone, "phone", "phone", required=False),
    )
    with _one_transaction():
        agency = create_agency(SYSTEM_ACTOR, data)
    click.echo(
        f"Created the agency {agency.name}. Add its first unit: barnkompass unit create --agency {agency.name!r}"
    )


@agency_group.command("list")
@with_appcontext
def agency_list() -> None:
    """Every agency with its kind, level and units."""
    from coordination.database import db

    agencies = db.session.scalars(
        select(Agency).options(selectinload(Agency.units)).order_by(func.lower(Agency.name), Agency.id)
    ).all()
    if not agencies:
        click.echo("No agencies yet. Create one: barnkompass agency create --name … --kind … --level …")
        return
    for agency in agencies:
        phone = f", {agency.phone}" if agency.phone else ""
        click.echo(f"{agency.name} ({agency.kind}, {agency.level}{phone})")
        for unit in agency.units:
            click.echo(f"  - {unit.name}{f' ({unit.phone})' if unit.phone else ''}")
        if not agency.units:
            click.echo("  (no units yet)")


# -- barnkompass unit ---------------------------------------------------------------------------------
@click.group("unit", help="Units inside an agency (create).")
def unit_group() -> None:
    pass


@unit_group.command("create")
@click.option("--agency", "agency_name", required=True, help="The agency's name, as in barnkompass agency list.")
@click.option("--name", required=True)
@click.option("--phone", default=None)
@with_appcontext
def unit_create(agency_name: str, name: str, phone: str | None) -> None:
    """Create a unit in an agency."""
    from coordination.access import SYSTEM_ACTOR

    unit_name = _text(name, "name", "name") or ""
    unit_phone = _text(phone, "phone", "phone", required=False)
    with _one_transaction():
        agency = _agency(agency_name)
        unit = create_unit(SYSTEM_ACTOR, agency, unit_name, unit_phone)
    click.echo(f"Created the unit {unit.name} in {agency.name}.")


# -- barnkompass staff --------------------------------------------------------------------------------
@click.group("staff", help="Staff, their logins and memberships (create, add-membership, deactivate, list).")
def staff_group() -> None:
    pass


@staff_group.command("create")
@click.option("--given-name", required=True)
@click.option("--family-name", required=True)
@click.option("--title", default=None)
@click.option("--email", default=None)
@click.option("--phone", default=None)
@click.option("--employee-id", default=None, help="The staff identity provider's immutable employee-id claim.")
@click.option("--username", required=True)
@click.option(
    "--no-password",
    is_flag=True,
    help=f"Log in only through the staff identity provider (otherwise the password comes from "
    f"{PASSWORD_VARIABLE} or a prompt).",
)
@with_appcontext
def staff_create(
    given_name: str,
    family_name: str,
    title: str | None,
    email: str | None,
    phone: str | None,
    employee_id: str | None,
    username: str,
    no_password: bool,
) -> None:
    """Create a staff member and their login. Then add a membership (barnkompass staff add-membership)."""
    from coordination.access import SYSTEM_ACTOR
    from coordination.children.operations import create_staff_account

    data = StaffData(
        given_name=_text(given_name, "given-name", "given_name") or "",
        family_name=_text(family_name, "family-name", "family_name") or "",
        title=_text(title, "title", "title", required=False),
        email=_email(email),
        phone=_text(phone, "phone", "phone", required=False),
        employee_id=_text(employee_id, "employee-id", "employee_id", required=False),
    )
    login = _text(username, "username", "username") or ""
    password = _password(no_password)
    with _one_transaction():
        person = create_staff_person(SYSTEM_ACTOR, data)
        account = create_staff_account(SYSTEM_ACTOR, person, login, password)
    click.echo(
        f"Created {person.full_name} with the username {account.username}. "
        f"Add a membership: barnkompass staff add-membership --username {account.username} --agency … --unit …"
    )


@staff_group.command("add-membership")
@click.option("--username", required=True)
@click.option("--agency", "agency_name", required=True)
@click.option("--unit", "unit_name", required=True)
@click.option("--agency-admin", is_flag=True, help="Manages the agency's staff and reassigns its duties.")
@click.option("--intake", is_flag=True, help="Social services only: receives reports of concern.")
@click.option("--no-practitioner", is_flag=True, help="Without the practitioner role (e.g. an admin only).")
@with_appcontext
def staff_add_membership(
    username: str, agency_name: str, unit_name: str, agency_admin: bool, intake: bool, no_practitioner: bool
) -> None:
    """Make a staff member a member of a unit, with roles (practitioner unless --no-practitioner)."""
    from coordination.access import SYSTEM_ACTOR

    with _one_transaction():
        person = _staff_person(username)
        if not person.is_active:
            raise click.ClickException(f"{person.full_name} is deactivated.")
        agency = _agency(agency_name)
        unit = _unit(agency, unit_name)
        membership = add_membership(
            SYSTEM_ACTOR, person, unit, practitioner=not no_practitioner, agency_admin=agency_admin, intake=intake
        )
        roles = ", ".join(membership.roles)
    click.echo(f"{person.full_name} is now a member of {unit.name} ({agency.name}) as {roles}.")


@staff_group.command("deactivate")
@click.option("--username", required=True)
@with_appcontext
def staff_deactivate(username: str) -> None:
    """Deactivate a staff member at once: their sessions end and their Child Contact duties go to
    their agency admin's "needs reassigning" list."""
    from coordination.access import SYSTEM_ACTOR

    with _one_transaction():
        person = _staff_person(username)
        deactivate_staff_person(SYSTEM_ACTOR, person)
    click.echo(f"Deactivated {person.full_name}; they are logged out everywhere.")


@staff_group.command("list")
@with_appcontext
def staff_list() -> None:
    """Every staff member with their username, status and current memberships."""
    from coordination.database import db
    from coordination.models import Account

    people = db.session.scalars(
        select(StaffPerson)
        .options(
            selectinload(StaffPerson.memberships).options(joinedload(Membership.unit), joinedload(Membership.agency))
        )
        .order_by(func.lower(StaffPerson.family_name), func.lower(StaffPerson.given_name), StaffPerson.id)
    ).all()
    usernames = dict(
        db.session.execute(
            select(Account.staff_person_id, Account.username).where(Account.staff_person_id.is_not(None))
        )
        .tuples()
        .all()
    )
    if not people:
        click.echo("No staff yet. Create someone: barnkompass staff create …")
        return
    for person in people:
        status = "active" if person.is_active else "deactivated"
        title = f", {person.title}" if person.title else ""
        click.echo(f"{person.full_name}{title} – {usernames.get(person.id, '(no login)')} – {status}")
        for membership in sorted(person.memberships, key=lambda m: (m.agency.name, m.unit.name)):
            if membership.ended_at is None:
                click.echo(f"  - {membership.agency.name} / {membership.unit.name}: {', '.join(membership.roles)}")
