"""Swedish identity numbers (personnummer and samordningsnummer).

This is a leaf module: it imports only the standard library and
``cryptography``.

Identity numbers are sensitive personal data. Nothing in this module ever
puts a number into an exception message or a ``repr``:

* :class:`InvalidIdentityNumber` carries only a fixed message and a
  ``reason`` ("format", "date" or "check_digit").
* :class:`IdentityNumber` shows itself as ``IdentityNumber(<hidden>)``; call
  :meth:`IdentityNumber.formatted` where a page really has to show it.

At rest a number is stored twice, never in plain text:

* :func:`identity_number_hash` -- a keyed HMAC-SHA256, for lookup and
  uniqueness;
* :func:`encrypt_identity_number` -- Fernet encryption, so that the number
  can be shown again to those allowed to see it.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Literal

from cryptography.fernet import Fernet, InvalidToken

__all__ = [
    "InvalidIdentityNumber",
    "InvalidReason",
    "IdentityNumber",
    "parse_identity_number",
    "check_digit",
    "make_identity_number",
    "identity_number_hash",
    "encrypt_identity_number",
    "decrypt_identity_number",
    "generate_encryption_key",
    "generate_hash_key",
    "hash_key_bytes",
]

InvalidReason = Literal["format", "date", "check_digit"]

_MESSAGES: dict[str, str] = {
    "format": "The identity number is not in a recognised format.",
    "date": "The identity number does not contain a valid date of birth.",
    "check_digit": "The identity number has an incorrect check digit.",
}

# In a samordningsnummer the day of month is increased by 60.
COORDINATION_DAY_OFFSET = 60

# Longest accepted input after stripping: "YYYYMMDD-NNNC".
_MAX_LENGTH = 13

# ASCII digits only: ``\d`` would also accept e.g. Arabic-Indic digits.
_NUMBER_PATTERN = re.compile(r"(?P<date>[0-9]{6}|[0-9]{8})(?P<separator>[-+]?)(?P<serial>[0-9]{4})")
_TWELVE_DIGITS = re.compile(r"[0-9]{12}")
_NINE_DIGITS = re.compile(r"[0-9]{9}")

_MIN_HASH_KEY_LENGTH = 32


class InvalidIdentityNumber(ValueError):
    """Raised when a text is not a valid identity number.

    The message never contains the number; ``reason`` says what was wrong.
    """

    reason: InvalidReason

    def __init__(self, reason: InvalidReason) -> None:
        if reason not in _MESSAGES:
            raise ValueError(f"unknown reason {reason!r}")
        super().__init__(_MESSAGES[reason])
        self.reason = reason


@dataclass(frozen=True, repr=False)
class IdentityNumber:
    """A valid Swedish personnummer or samordningsnummer.

    ``digits`` is always the normalised 12-digit form YYYYMMDDNNNC. For a
    samordningsnummer the day (DD) is the day of birth plus 60. Creating an
    instance checks the format, the date and the check digit (but not whether
    the date is in the future; :func:`parse_identity_number` does that).
    """

    digits: str
    is_coordination_number: bool

    def __post_init__(self) -> None:
        _validate_twelve_digits(self.digits, self.is_coordination_number)

    @property
    def birth_date(self) -> datetime.date:
        return _birth_date(self.digits)

    def formatted(self) -> str:
        """Return "YYYYMMDD-NNNC", for pages that explicitly show the number."""
        return f"{self.digits[:8]}-{self.digits[8:]}"

    def __repr__(self) -> str:
        return "IdentityNumber(<hidden>)"

    def __str__(self) -> str:
        return "IdentityNumber(<hidden>)"


def _number_from_digits(digits: str) -> IdentityNumber:
    """Validate 12 digits; the day of month tells whether it is a samordningsnummer."""
    if not _TWELVE_DIGITS.fullmatch(digits):
        raise InvalidIdentityNumber("format")
    return IdentityNumber(
        digits=digits,
        is_coordination_number=int(digits[6:8]) > COORDINATION_DAY_OFFSET,
    )


def _birth_date(digits: str) -> datetime.date:
    """Birth date from 12 digits; raises ValueError if the date does not exist."""
    day = int(digits[6:8])
    if day > COORDINATION_DAY_OFFSET:
        day -= COORDINATION_DAY_OFFSET
    return datetime.date(int(digits[0:4]), int(digits[4:6]), day)


def _validate_twelve_digits(digits: object, is_coordination_number: object) -> None:
    if not isinstance(digits, str) or not _TWELVE_DIGITS.fullmatch(digits):
        raise InvalidIdentityNumber("format")
    if not isinstance(is_coordination_number, bool):
        raise InvalidIdentityNumber("format")

    day = int(digits[6:8])
    if day > COORDINATION_DAY_OFFSET + 31:
        raise InvalidIdentityNumber("date")
    if is_coordination_number != (day > COORDINATION_DAY_OFFSET):
        raise InvalidIdentityNumber("format")
    try:
        _birth_date(digits)
    except ValueError:
        raise InvalidIdentityNumber("date") from None

    if check_digit(digits[2:11]) != digits[11]:
        raise InvalidIdentityNumber("check_digit")


def check_digit(first_nine: str) -> str:
    """Luhn check digit for the nine digits YYMMDDNNN.

    Weights 2, 1, 2, 1, ... from the left; two-digit products are replaced by
    the sum of their digits.
    """
    if not isinstance(first_nine, str) or not _NINE_DIGITS.fullmatch(first_nine):
        raise InvalidIdentityNumber("format")
    total = 0
    for position, character in enumerate(first_nine):
        weight = 2 if position % 2 == 0 else 1
        product = int(character) * weight
        total += product // 10 + product % 10
    return str((10 - total % 10) % 10)


def _full_year(two_digit_year: int, month: int, day: int, today: datetime.date, *, centenarian: bool) -> int:
    """Choose the century for a 10-digit number.

    Without "+" the person is 0-99 years old on ``today``; with "+" the person
    is 100-199 years old.
    """
    year = today.year - (today.year - two_digit_year) % 100
    if year == today.year and (month, day) > (today.month, today.day):
        year -= 100
    if centenarian:
        year -= 100
    return year


def parse_identity_number(text: str, *, today: datetime.date) -> IdentityNumber:
    """Parse a personnummer or samordningsnummer.

    Accepts YYMMDDNNNC, YYMMDD-NNNC, YYMMDD+NNNC, YYYYMMDDNNNC and
    YYYYMMDD-NNNC, with surrounding whitespace. Raises
    :class:`InvalidIdentityNumber` (and nothing else) for invalid input.
    """
    if isinstance(today, datetime.datetime):
        today = today.date()
    if not isinstance(text, str):
        raise InvalidIdentityNumber("format")
    stripped = text.strip()
    if len(stripped) > _MAX_LENGTH:
        raise InvalidIdentityNumber("format")
    match = _NUMBER_PATTERN.fullmatch(stripped)
    if match is None:
        raise InvalidIdentityNumber("format")

    date_part = match["date"]
    separator = match["separator"]
    serial = match["serial"]

    if len(date_part) == 8:
        if separator == "+":
            raise InvalidIdentityNumber("format")
        digits = date_part + serial
    else:
        month = int(date_part[2:4])
        day = int(date_part[4:6])
        if day > COORDINATION_DAY_OFFSET:
            day -= COORDINATION_DAY_OFFSET
        year = _full_year(int(date_part[0:2]), month, day, today, centenarian=separator == "+")
        if year < 1:
            raise InvalidIdentityNumber("date")
        digits = f"{year:04d}" + date_part[2:] + serial

    number = _number_from_digits(digits)
    if number.birth_date > today:
        raise InvalidIdentityNumber("date")
    return number


def make_identity_number(birth_date: datetime.date, serial: int, *, coordination: bool = False) -> IdentityNumber:
    """Build a valid number from a birth date and a serial 0-999.

    The check digit is computed. With ``coordination=True`` the result is a
    samordningsnummer (day of month + 60).
    """
    if isinstance(birth_date, datetime.datetime):
        birth_date = birth_date.date()
    if isinstance(serial, bool) or not 0 <= serial <= 999:
        raise ValueError("serial must be an integer from 0 to 999")
    day = birth_date.day + (COORDINATION_DAY_OFFSET if coordination else 0)
    first_eleven = f"{birth_date.year:04d}{birth_date.month:02d}{day:02d}{serial:03d}"
    digits = first_eleven + check_digit(first_eleven[2:])
    return IdentityNumber(digits=digits, is_coordination_number=coordination)


def identity_number_hash(number: IdentityNumber, key: bytes) -> str:
    """Keyed HMAC-SHA256 of the 12 digits, as hex; for lookup and uniqueness."""
    if not key:
        raise ValueError("the identity number hash key must not be empty")
    return hmac.new(key, number.digits.encode("ascii"), hashlib.sha256).hexdigest()


def encrypt_identity_number(number: IdentityNumber, key: bytes) -> str:
    """Encrypt the 12 digits with Fernet; ``key`` is a Fernet key."""
    return Fernet(key).encrypt(number.digits.encode("ascii")).decode("ascii")


def decrypt_identity_number(token: str, key: bytes) -> IdentityNumber:
    """Decrypt a token from :func:`encrypt_identity_number`.

    Raises ``cryptography.fernet.InvalidToken`` for a wrong key or a damaged
    token.
    """
    if not isinstance(token, str) or not token.isascii():
        raise InvalidToken
    plaintext = Fernet(key).decrypt(token)
    return _number_from_digits(plaintext.decode("ascii", errors="replace"))


def generate_encryption_key() -> str:
    """A new Fernet key as text, for the configuration file."""
    return Fernet.generate_key().decode("ascii")


def generate_hash_key() -> str:
    """A new random HMAC key as text, for the configuration file."""
    return secrets.token_urlsafe(48)


def hash_key_bytes(text: str) -> bytes:
    """Turn a configured hash key into bytes for :func:`identity_number_hash`.

    Surrounding whitespace is ignored. Keys shorter than 32 characters are
    rejected so that a missing or placeholder key is noticed.
    """
    key = text.strip()
    if len(key) < _MIN_HASH_KEY_LENGTH:
        raise ValueError(f"the identity number hash key must be at least {_MIN_HASH_KEY_LENGTH} characters")
    return key.encode("utf-8")
