"""No identity number in any log (RULES.md §10): after the whole suite has run, scan the application's
log and, on PostgreSQL, the server's log for personnummer and samordningsnummer.

Runs last (``runs_last``). Before scanning it provokes the paths that could leak a number: a login with a
number as the username, a number in a URL, a duplicate registration, and a unique violation in the
database. A finding names the file and line, never the number."""

from __future__ import annotations

import logging
import os
import re
import secrets
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from coordination.access import SYSTEM_ACTOR
from coordination.children.models import Child
from coordination.children.operations import ChildData, register_child
from coordination.errors import OperationError
from coordination.identity_numbers import (
    InvalidIdentityNumber,
    make_identity_number,
    parse_identity_number,
)
from tests.conftest import LOG_STATE
from tests.helpers import login, post_form

pytestmark = pytest.mark.runs_last

KNOWN_NUMBER = "201701012393"  # Omar's in the demo: a published test number
KNOWN_NUMBER_SHORT = "170101-2393"

# A 10- or 12-digit run, optionally with "-" or "+" before the last four digits, not part of a longer run.
_CANDIDATE = re.compile(r"(?<![0-9])(?:[0-9]{8}|[0-9]{6})[-+]?[0-9]{4}(?![0-9])")
# Opaque hex tokens that may hold long digit runs by chance: request ids ("[0123abcd…]", 16 hex) and
# SHA-256 hex digests (the keyed hash in a unique-violation DETAIL line). Neither can hold a number.
_OPAQUE = (re.compile(r"\[[0-9a-f]{16}\]"), re.compile(r"(?<![0-9A-Za-z])[0-9a-f]{64}(?![0-9A-Za-z])"))


def identity_numbers_in(line: str, today: date) -> int:
    """How many valid personnummer / samordningsnummer the line holds."""
    for pattern in _OPAQUE:
        line = pattern.sub(" ", line)
    found = 0
    for candidate in _CANDIDATE.findall(line):
        try:
            parse_identity_number(candidate, today=today)
        except InvalidIdentityNumber:
            continue
        found += 1
    return found


def scan_for_identity_numbers(path: str | Path, start: int = 0) -> list[str]:
    """``file:line`` of every line from byte ``start`` on that holds an identity number (never the number)."""
    today = date.today()
    findings: list[str] = []
    position = 0
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            line_start, position = position, position + len(raw)
            if line_start < start:
                continue
            if identity_numbers_in(raw.decode("utf-8", errors="replace"), today):
                findings.append(f"{path}:{number}")
    return findings


# -- the scanner is not vacuous ------------------------------------------------------------------------------
def test_the_scanner_finds_a_number_where_there_is_one(tmp_path: Path) -> None:
    coordination_number = make_identity_number(date(1970, 1, 1), 239, coordination=True)
    short = f"{coordination_number.digits[2:8]}-{coordination_number.digits[8:]}"
    log = tmp_path / "planted.log"
    lines = [
        "2026-11-23 02:33:50,618 INFO [0123456789abcdef] barnkompass.request: GET / 200 3.1ms",
        "2026-11-23 02:33:50,619 INFO [-] barnkompass.request: GET /children/<digits> 404 0.4ms",
        f"somebody typed {KNOWN_NUMBER} into a form",  # line 3
        "[2017010123930000] a 16-digit run, and 2017010123930 a 13-digit one, and 20170101239 an 11-digit one",
        f"samordningsnummer {short} in a message",  # line 5
        "a wrong check digit: 201701012394; an impossible date: 201713012393",
        "DETAIL:  Key (identity_number_hash)=(" + "a" * 8 + KNOWN_NUMBER + "f" * 44 + ") already exists.",
        f"at the end of a line {KNOWN_NUMBER_SHORT}",  # line 8
    ]
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    findings = scan_for_identity_numbers(log)
    assert findings == [f"{log}:3", f"{log}:5", f"{log}:8"]
    assert not any(KNOWN_NUMBER in finding or short in finding for finding in findings), "never the number"
    third_line_end = sum(len(line) + 1 for line in lines[:3])
    assert scan_for_identity_numbers(log, start=third_line_end) == [f"{log}:5", f"{log}:8"]


# -- provoke what could leak -----------------------------------------------------------------------------
@pytest.fixture()
def provoked(app: Flask, client: FlaskClient, db: Any, clock: Any) -> None:
    """Walk the paths that could put an identity number in a log (all rolled back afterwards)."""
    # A login with a valid number as the username.
    for username in (KNOWN_NUMBER, KNOWN_NUMBER_SHORT):
        assert login(client, username, "not-the-password").status_code == 422
    # A number in a URL (and in a query string), from a logged-in member of staff (an anonymous
    # caller is sent to the login page first), and a lookup by number in the search form.
    assert login(client, "maria").status_code == 302
    assert post_form(client, "/search", {"identity_number": KNOWN_NUMBER}, token_from="/search").status_code == 200
    for path in (
        f"/children/{KNOWN_NUMBER}",
        f"/children/{KNOWN_NUMBER_SHORT}",
        f"/children/{KNOWN_NUMBER}?personnummer={KNOWN_NUMBER}",
    ):
        assert client.get(path).status_code == 404
    with app.app_context():
        session = db.session
        # A duplicate registration.
        number = parse_identity_number(KNOWN_NUMBER, today=clock.today())
        with pytest.raises(OperationError):
            register_child(SYSTEM_ACTOR, ChildData("Omar", "Dubblett", None, identity_number=number))
        # A unique violation at the database, logged the way the app logs an unexpected error.
        omar = session.scalar(select(Child).where(Child.given_name == "Omar"))
        assert omar is not None
        with pytest.raises(IntegrityError) as violation:
            with session.begin_nested():
                session.execute(
                    insert(Child.__table__).values(
                        public_id=secrets.token_urlsafe(16),
                        given_name="Omar",
                        family_name="Dubblett",
                        birth_date=omar.birth_date,
                        identity_number_encrypted=omar.identity_number_encrypted,
                        identity_number_hash=omar.identity_number_hash,
                        protection_level="none",
                        created_at=datetime.now(UTC),
                    )
                )
        assert "hide_parameters" in str(violation.value), "the engine hides bound parameters in errors"
        logging.getLogger("barnkompass.app").error(
            "unhandled error: %s", type(violation.value).__name__, exc_info=violation.value
        )


# -- the scans -----------------------------------------------------------------------------------------------
def test_the_application_log_of_the_suite_holds_no_identity_number(provoked: None) -> None:
    path = Path(LOG_STATE["app_log"])
    text = path.read_text(encoding="utf-8")
    assert "GET /children/<digits> 404" in text, "the scan reads the live application log"
    assert "IntegrityError" in text, "the provoked database error reached the log"
    findings = scan_for_identity_numbers(path)
    assert findings == [], f"identity numbers in the application log at {', '.join(findings)}"


@pytest.mark.postgresql_only
def test_the_postgresql_server_log_holds_no_identity_number(provoked: None) -> None:
    offsets: dict[str, int] = LOG_STATE.get("pg_log_offsets") or {}
    assert offsets, (
        "no PostgreSQL server log found at the start of the session (set "
        "BARNKOMPASS_TEST_POSTGRESQL_LOG to its path or glob)"
    )
    unreadable = [path for path in offsets if not os.access(path, os.R_OK)]
    if unreadable and os.environ.get("CI") != "true":
        pytest.skip(f"cannot read {', '.join(unreadable)} (run as root or in the adm group to scan it)")
    findings: list[str] = []
    seen_violation = False
    for path, offset in offsets.items():
        size = Path(path).stat().st_size
        start = offset if size >= offset else 0  # rotated meanwhile: scan the new file whole
        with open(path, "rb") as handle:
            handle.seek(start)
            seen_violation |= b"duplicate key value violates unique constraint" in handle.read()
        findings += scan_for_identity_numbers(path, start=start)
    assert seen_violation, "the provoked unique violation reached the server log (the scan reads the right file)"
    assert findings == [], f"identity numbers in the PostgreSQL server log at {', '.join(findings)}"
