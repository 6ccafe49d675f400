"""``barnkompass agency|unit|staff …``: the same operations as the pages, as the system actor, one
commit, and a refusal is one clear line with nothing written (never a traceback).

Most tests run on the rollback fixture (the commands' commit releases a savepoint that the test rolls
back); one walks the whole setup on a committed database and logs the new person in.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from agencies.models import Agency, Membership, StaffPerson, Unit
from coordination.database import db as database
from coordination.models import Account, AuditEvent, LoginSession
from tests.helpers import login

PASSWORD = "a-long-enough-staff-password"


def run(app: Flask, *args: str, input: str | None = None) -> Any:
    return app.test_cli_runner().invoke(args=list(args), input=input)


def counts(app: Flask) -> tuple[int, ...]:
    with app.app_context():
        return tuple(
            database.session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Agency, Unit, StaffPerson, Account, Membership, AuditEvent)
        )


def refused(result: Any, message: str) -> None:
    assert result.exit_code != 0, result.output
    assert message in result.output, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)


@pytest.fixture()
def cli_app(app: Flask, db: Any, monkeypatch: pytest.MonkeyPatch) -> Flask:
    monkeypatch.setenv("BARNKOMPASS_STAFF_PASSWORD", PASSWORD)
    return app


# == refusals: nothing written ==============================================================================
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["agency", "create", "--name", "X", "--kind", "bakery", "--level", "region"], "Invalid value for '--kind'"),
        (["agency", "create", "--name", "X", "--kind", "school", "--level", "galaxy"], "Invalid value for '--level'"),
        (["agency", "create", "--name", "Ekby skola", "--kind", "school", "--level", "municipality"], "exists"),
        (["agency", "create", "--name", "   ", "--kind", "school", "--level", "municipality"], "cannot be empty"),
        (["agency", "create", "--name", "x" * 201, "--kind", "school", "--level", "municipality"], "at most 200"),
        (["agency", "create", "--name", "Tab\there", "--kind", "school", "--level", "region"], "control characters"),
        (
            ["agency", "create", "--name", "New", "--kind", "school", "--level", "region", "--phone", "1" * 41],
            "at most",
        ),
        (["unit", "create", "--agency", "Nowhere", "--name", "Class 1"], "No agency is called 'Nowhere'"),
        (["unit", "create", "--agency", "Ekby skola", "--name", "Klass 4–6"], "already has a unit with that name"),
        (["unit", "create", "--agency", "Ekby skola", "--name", ""], "cannot be empty"),
    ],
)
def test_agency_and_unit_commands_refuse_bad_input_and_write_nothing(
    cli_app: Flask, args: list[str], message: str
) -> None:
    before = counts(cli_app)
    refused(run(cli_app, *args), message)
    assert counts(cli_app) == before


STAFF = ["staff", "create", "--given-name", "Greta", "--family-name", "Ny", "--username", "greta"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--username", "maria"], "That username is taken"),
        (["--username", "  MARIA "], "That username is taken"),
        (["--username", "x" * 151], "at most 150"),
        (["--given-name", ""], "cannot be empty"),
        (["--family-name", "n" * 101], "at most 100"),
        (["--email", "not-an-address"], "not an e-mail address"),
        (["--employee-id", "EKBY-0003"], "Another person has that employee id"),
        (["--title", "<script>alert(1)</script>" + "x" * 100], "at most 100"),
    ],
)
def test_staff_create_refuses_bad_input_and_writes_nothing(cli_app: Flask, args: list[str], message: str) -> None:
    before = counts(cli_app)
    command = list(STAFF)
    for index in range(0, len(args), 2):  # the later option wins in click; replace it instead
        if args[index] in command:
            position = command.index(args[index])
            command[position + 1] = args[index + 1]
        else:
            command += args[index : index + 2]
    refused(run(cli_app, *command), message)
    assert counts(cli_app) == before


def test_staff_create_refuses_a_short_password_without_echoing_it(
    cli_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BARNKOMPASS_STAFF_PASSWORD", "elevenchars")
    before = counts(cli_app)
    result = run(cli_app, *STAFF)
    refused(result, "at least 12 characters")
    assert "elevenchars" not in result.output
    assert counts(cli_app) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--username", "lars", "--agency", "Ekby skola", "--unit", "Klass 1–3", "--intake"], "Only social services"),
        (["--username", "lars", "--agency", "Nowhere", "--unit", "Klass 1–3"], "No agency is called 'Nowhere'"),
        (["--username", "lars", "--agency", "Ekby skola", "--unit", "Intake"], "has no unit called 'Intake'"),
        (
            ["--username", "nobody", "--agency", "Ekby skola", "--unit", "Klass 1–3"],
            "No staff member has the username",
        ),
        (["--username", "lena", "--agency", "Ekby skola", "--unit", "Klass 1–3"], "No staff member has the username"),
        (["--username", "lars", "--agency", "Ekby skola", "--unit", "Klass 4–6"], "already a member of that unit"),
        (["--username", "lars", "--agency", "Ekby skola", "--unit", "Klass 1–3", "--no-practitioner"], "at least one"),
    ],
)
def test_add_membership_refuses_bad_input_and_writes_nothing(cli_app: Flask, args: list[str], message: str) -> None:
    before = counts(cli_app)
    refused(run(cli_app, "staff", "add-membership", *args), message)
    assert counts(cli_app) == before


def test_deactivating_twice_or_an_unknown_person_is_refused_and_writes_nothing(cli_app: Flask) -> None:
    before = counts(cli_app)
    refused(run(cli_app, "staff", "deactivate", "--username", "nobody"), "No staff member has the username")
    assert counts(cli_app) == before
    assert run(cli_app, "staff", "deactivate", "--username", "lars").exit_code == 0
    after_first = counts(cli_app)
    refused(run(cli_app, "staff", "deactivate", "--username", "lars"), "already deactivated")
    assert counts(cli_app) == after_first
    refused(
        run(cli_app, "staff", "add-membership", "--username", "lars", "--agency", "Ekby skola", "--unit", "Klass 1–3"),
        "deactivated",
    )
    assert counts(cli_app) == after_first


# == what works =============================================================================================
def test_agency_and_unit_create_and_list(cli_app: Flask) -> None:
    result = run(
        cli_app, "agency", "create", "--name", " Ekby dental care ", "--kind", "primary_care", "--level", "region"
    )
    assert result.exit_code == 0, result.output
    assert "Created the agency Ekby dental care." in result.output
    result = run(cli_app, "unit", "create", "--agency", "Ekby dental care", "--name", "Tandvården", "--phone", "031-1")
    assert result.exit_code == 0, result.output
    listing = run(cli_app, "agency", "list")
    assert listing.exit_code == 0
    assert "Ekby dental care (primary_care, region)" in listing.output
    assert "  - Tandvården (031-1)" in listing.output
    assert "Ekby skola (school, municipality" in listing.output and "  - Klass 4–6" in listing.output
    with cli_app.app_context():
        actions = database.session.scalars(
            select(AuditEvent.actor_kind + ":" + AuditEvent.action + ":" + AuditEvent.legal_basis).where(
                AuditEvent.action.in_(("create_agency", "create_unit"))
            )
        ).all()
        assert "system:create_agency:platform_administration" in actions
        assert "system:create_unit:platform_administration" in actions


def test_staff_create_add_membership_deactivate_and_list(cli_app: Flask) -> None:
    result = run(
        cli_app,
        *STAFF,
        "--title",
        "counsellor",
        "--email",
        "greta.ny@ekby.example",
        "--phone",
        "031-390 06 99",
        "--employee-id",
        "EKBY-0999",
    )
    assert result.exit_code == 0, result.output
    assert "Created Greta Ny with the username greta." in result.output
    assert PASSWORD not in result.output
    result = run(
        cli_app,
        "staff",
        "add-membership",
        "--username",
        "GRETA",
        "--agency",
        "Socialtjänsten Ekby",
        "--unit",
        "Mottagningen",
        "--intake",
        "--agency-admin",
    )
    assert result.exit_code == 0, result.output
    assert "Greta Ny is now a member of Mottagningen (Socialtjänsten Ekby) as practitioner, agency_admin, intake." in (
        result.output
    )
    with cli_app.app_context():
        account = database.session.scalar(select(Account).where(Account.username == "greta"))
        assert account is not None and account.kind == "staff" and not account.is_demo
        assert account.password_hash and PASSWORD not in account.password_hash
        person = account.staff_person
        assert person is not None and person.employee_id == "EKBY-0999" and person.title == "counsellor"
        (membership,) = person.memberships
        assert membership.is_intake and membership.is_agency_admin and membership.is_practitioner
    listing = run(cli_app, "staff", "list")
    assert "Greta Ny, counsellor – greta – active" in listing.output
    assert "  - Socialtjänsten Ekby / Mottagningen: practitioner, agency_admin, intake" in listing.output
    assert "Maria Holm, rektor – maria – active" in listing.output
    assert run(cli_app, "staff", "deactivate", "--username", "greta").exit_code == 0
    assert "Greta Ny, counsellor – greta – deactivated" in run(cli_app, "staff", "list").output


def test_staff_create_without_a_password_for_the_identity_provider(
    cli_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BARNKOMPASS_STAFF_PASSWORD")
    result = run(cli_app, *STAFF, "--no-password")
    assert result.exit_code == 0, result.output
    with cli_app.app_context():
        account = database.session.scalar(select(Account).where(Account.username == "greta"))
        assert account is not None and account.password_hash is None


def test_staff_create_prompts_for_the_password_twice(cli_app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BARNKOMPASS_STAFF_PASSWORD")
    answers = iter([PASSWORD, "something-else-entirely"])
    monkeypatch.setattr("agencies.cli.getpass.getpass", lambda prompt="": next(answers))
    before = counts(cli_app)
    refused(run(cli_app, *STAFF), "The passwords differ.")
    assert counts(cli_app) == before
    answers = iter([PASSWORD, PASSWORD])
    monkeypatch.setattr("agencies.cli.getpass.getpass", lambda prompt="": next(answers))
    assert run(cli_app, *STAFF).exit_code == 0


def test_deactivate_by_command_ends_the_persons_sessions(cli_app: Flask) -> None:
    client = cli_app.test_client()
    assert login(client, "lars").status_code == 302
    assert client.get("/").status_code == 200
    result = run(cli_app, "staff", "deactivate", "--username", "lars")
    assert result.exit_code == 0, result.output
    assert "Deactivated Lars Ek" in result.output
    after = client.get("/")
    assert after.status_code == 302 and after.headers["Location"].startswith("/login")
    with cli_app.app_context():
        lars = database.session.scalar(select(Account.id).where(Account.username == "lars"))
        assert database.session.scalar(select(func.count()).where(LoginSession.account_id == lars)) == 0


def test_a_new_agency_and_staff_member_set_up_by_commands_can_log_in(
    committed_db: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = committed_db("empty")
    monkeypatch.setenv("BARNKOMPASS_STAFF_PASSWORD", PASSWORD)
    steps = [
        ["agency", "create", "--name", "Norrby school", "--kind", "school", "--level", "municipality"],
        ["unit", "create", "--agency", "Norrby school", "--name", "Year 1"],
        ["staff", "create", "--given-name", "Ulla", "--family-name", "Lärare", "--username", "ulla"],
        ["staff", "add-membership", "--username", "ulla", "--agency", "Norrby school", "--unit", "Year 1"],
    ]
    for step in steps:
        result = run(app, *step)
        assert result.exit_code == 0, (step, result.output)
    client = app.test_client()
    assert login(client, "ulla", PASSWORD).status_code == 302
    home = client.get("/")
    assert home.status_code == 200
    assert "Norrby school" in home.get_data(as_text=True)
