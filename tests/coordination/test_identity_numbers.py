"""Tests for coordination.identity_numbers (personnummer / samordningsnummer)."""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import re
import traceback

import pytest
from cryptography.fernet import Fernet, InvalidToken

from coordination.identity_numbers import (
    IdentityNumber,
    InvalidIdentityNumber,
    check_digit,
    decrypt_identity_number,
    encrypt_identity_number,
    generate_encryption_key,
    generate_hash_key,
    hash_key_bytes,
    identity_number_hash,
    make_identity_number,
    parse_identity_number,
)

TODAY = datetime.date(2025, 6, 15)

# Skatteverket's published test number, born 2017-01-01.
TEST_NUMBER = "201701012393"

HASH_KEY = b"k" * 48
OTHER_HASH_KEY = b"o" * 48


def _digits_of(text: str) -> str:
    return "".join(character for character in text if character in "0123456789")


def _assert_reveals_nothing(exc: InvalidIdentityNumber, text: str) -> None:
    """No digit of any kind may appear in the message, args or traceback text."""
    assert not any(character.isdigit() for character in str(exc))
    assert not any(character.isdigit() for character in repr(exc))
    assert all(isinstance(arg, str) and not re.search(r"\d", arg) for arg in exc.args)
    rendered = "".join(traceback.format_exception(exc))
    digits = _digits_of(text)
    if len(digits) >= 6:
        assert digits not in rendered
        assert digits[:6] not in rendered
    if text.strip():
        assert text.strip() not in rendered


# ---------------------------------------------------------------------------
# Negative cases: format
# ---------------------------------------------------------------------------

FORMAT_ERRORS = [
    "",
    "   ",
    "abc",
    "abcdefghij",
    "81121A-9876",
    "811218-987X",
    "81121898761",  # 11 digits
    "811218987",  # 9 digits
    "8112189",
    "1981121898760",  # 13 digits
    "19811218987",  # 11 digits
    "811218--9876",
    "811218 9876",  # space inside
    "8112 18-9876",
    "811218/9876",
    "811218_9876",
    "-8112189876",
    "8112189876-",
    "81121-89876",  # separator in the wrong place
    "2017010-12393",
    "20170101+2393",  # "+" is not allowed on the 12-digit form
    "20170101-239",
    "+8112189876",
    "<script>alert(1)</script>",
    "<script>811218-9876</script>",
    "1" * 10000,
    " " * 5000 + "811218-9876" + "1" * 5000,
    "811218-9876\x00",
    "\u0668\u0661\u0661\u0662\u0661\u0668-\u0669\u0668\u0667\u0666",  # Arabic-Indic digits
    "\uff18\uff11\uff11\uff12\uff11\uff18\uff19\uff18\uff17\uff16",  # full-width digits
    "811218\u22129876",  # minus sign, not hyphen
    "811218-9876; DROP TABLE children",
]


@pytest.mark.parametrize("text", FORMAT_ERRORS)
def test_malformed_input_is_a_format_error(text: str) -> None:
    with pytest.raises(InvalidIdentityNumber) as caught:
        parse_identity_number(text, today=TODAY)
    assert caught.value.reason == "format"
    _assert_reveals_nothing(caught.value, text)


@pytest.mark.parametrize("value", [None, 8112189876, b"8112189876", ["8112189876"]])
def test_non_text_input_is_a_format_error(value: object) -> None:
    with pytest.raises(InvalidIdentityNumber) as caught:
        parse_identity_number(value, today=TODAY)  # type: ignore[arg-type]
    assert caught.value.reason == "format"


def test_format_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        parse_identity_number("not a number", today=TODAY)


# ---------------------------------------------------------------------------
# Negative cases: date
# ---------------------------------------------------------------------------

# All of these have a correct Luhn check digit, so only the date is wrong.
DATE_ERRORS = [
    "0202301230",  # 30 February (10 digits)
    "20200230-1238",  # 30 February 2020
    "0213011232",  # month 13
    "20021301-1232",
    "0200011237",  # month 00
    "0201001237",  # day 00
    "0201921236",  # day 92
    "20020192-1236",
    "0211321237",  # day 32
    "0201601234",  # day 60 (samordningsnummer for day 0)
    "0202911236",  # samordningsnummer for 31 February
    "2302291238",  # 29 February 2023, not a leap year
    "19000229-1235",  # 1900 was not a leap year
    "000229+1235",  # "+" makes this 29 February 1900
    "20300101-1232",  # born in the future
    "20250616-1237",  # born tomorrow
    "20250676-1234",  # samordningsnummer, born tomorrow
]


@pytest.mark.parametrize("text", DATE_ERRORS)
def test_impossible_or_future_date_is_a_date_error(text: str) -> None:
    digits = _digits_of(text)
    assert check_digit(digits[-10:-1]) == digits[-1]
    with pytest.raises(InvalidIdentityNumber) as caught:
        parse_identity_number(text, today=TODAY)
    assert caught.value.reason == "date"
    _assert_reveals_nothing(caught.value, text)


# ---------------------------------------------------------------------------
# Negative cases: check digit
# ---------------------------------------------------------------------------

CHECK_DIGIT_ERRORS = [
    "201701012394",
    "201701012390",
    "20170101-2392",
    "1701012394",
    "170101-2394",
    "811218-9875",
    "8112189870",
    "19811218-9877",
    "811218+9875",
    "7010634562",  # samordningsnummer with a wrong check digit
    "1701012339",  # two digits swapped
]


@pytest.mark.parametrize("text", CHECK_DIGIT_ERRORS)
def test_wrong_check_digit_is_a_check_digit_error(text: str) -> None:
    with pytest.raises(InvalidIdentityNumber) as caught:
        parse_identity_number(text, today=TODAY)
    assert caught.value.reason == "check_digit"
    _assert_reveals_nothing(caught.value, text)


@pytest.mark.parametrize("reason", ["format", "date", "check_digit"])
def test_exception_keeps_its_reason(reason: str) -> None:
    exc = InvalidIdentityNumber(reason)  # type: ignore[arg-type]
    assert exc.reason == reason
    assert str(exc)


def test_exception_rejects_unknown_reason() -> None:
    with pytest.raises(ValueError):
        InvalidIdentityNumber("something else")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------
# Negative cases: constructing IdentityNumber and helpers directly
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("digits", "is_coordination", "reason"),
    [
        ("1701012393", False, "format"),  # 10 digits are not normalised
        ("20170101-2393", False, "format"),
        ("20170101239X", False, "format"),
        (TEST_NUMBER, True, "format"),  # flag does not match the day
        ("197010634561", False, "format"),
        ("202002301238", False, "date"),
        ("201701012394", False, "check_digit"),
    ],
)
def test_identity_number_cannot_be_built_invalid(digits: str, is_coordination: bool, reason: str) -> None:
    with pytest.raises(InvalidIdentityNumber) as caught:
        IdentityNumber(digits=digits, is_coordination_number=is_coordination)
    assert caught.value.reason == reason
    _assert_reveals_nothing(caught.value, digits)


@pytest.mark.parametrize("text", ["", "12345678", "1234567890", "12345678a", "١٢٣٤٥٦٧٨٩"])
def test_check_digit_rejects_anything_but_nine_digits(text: str) -> None:
    with pytest.raises(InvalidIdentityNumber) as caught:
        check_digit(text)
    assert caught.value.reason == "format"


@pytest.mark.parametrize("serial", [-1, 1000, 12345])
def test_make_identity_number_rejects_serial_out_of_range(serial: int) -> None:
    with pytest.raises(ValueError):
        make_identity_number(datetime.date(2017, 1, 1), serial)


def test_identity_number_is_immutable() -> None:
    number = parse_identity_number(TEST_NUMBER, today=TODAY)
    with pytest.raises(AttributeError):
        number.digits = "201701012393"  # type: ignore[misc]


# ---------------------------------------------------------------------------
# repr / str never reveal the number
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("text", [TEST_NUMBER, "811218-9876", "701063-4561"])
def test_repr_and_str_hide_the_number(text: str) -> None:
    number = parse_identity_number(text, today=TODAY)
    logged = "%s" % number  # noqa: UP031 -- logging formats with %
    for shown in (
        repr(number),
        str(number),
        f"{number}",
        f"{number!r}",
        logged,
        repr([number]),
        repr({"child": number}),
    ):
        assert not any(character.isdigit() for character in shown)
    assert repr(number) == "IdentityNumber(<hidden>)"
    assert str(number) == "IdentityNumber(<hidden>)"


# ---------------------------------------------------------------------------
# Valid numbers
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "digits", "birth_date"),
    [
        ("201701012393", "201701012393", datetime.date(2017, 1, 1)),
        ("20170101-2393", "201701012393", datetime.date(2017, 1, 1)),
        ("1701012393", "201701012393", datetime.date(2017, 1, 1)),
        ("170101-2393", "201701012393", datetime.date(2017, 1, 1)),
        ("  170101-2393\n", "201701012393", datetime.date(2017, 1, 1)),
        ("\t201701012393 ", "201701012393", datetime.date(2017, 1, 1)),
        ("8112189876", "198112189876", datetime.date(1981, 12, 18)),
        ("811218-9876", "198112189876", datetime.date(1981, 12, 18)),
        ("19811218-9876", "198112189876", datetime.date(1981, 12, 18)),
        ("850709-1232", "198507091232", datetime.date(1985, 7, 9)),
        ("8507091232", "198507091232", datetime.date(1985, 7, 9)),
        ("000229-1235", "200002291235", datetime.date(2000, 2, 29)),  # leap year
        ("20000229-1235", "200002291235", datetime.date(2000, 2, 29)),
        ("250615-1238", "202506151238", datetime.date(2025, 6, 15)),  # born today
        ("250616-1237", "192506161237", datetime.date(1925, 6, 16)),  # turns 100 tomorrow
    ],
)
def test_valid_personnummer(text: str, digits: str, birth_date: datetime.date) -> None:
    number = parse_identity_number(text, today=TODAY)
    assert number.digits == digits
    assert number.birth_date == birth_date
    assert number.is_coordination_number is False
    assert number.formatted() == f"{digits[:8]}-{digits[8:]}"


def test_published_test_number() -> None:
    number = parse_identity_number("201701012393", today=TODAY)
    assert number.birth_date == datetime.date(2017, 1, 1)
    assert number.formatted() == "20170101-2393"
    assert number == parse_identity_number("170101-2393", today=TODAY)


@pytest.mark.parametrize(
    ("text", "birth_date"),
    [
        ("170101+2393", datetime.date(1917, 1, 1)),
        ("811218+9876", datetime.date(1881, 12, 18)),
        ("250615+1238", datetime.date(1925, 6, 15)),  # 100 today
        ("250616+1237", datetime.date(1825, 6, 16)),
    ],
)
def test_plus_sign_means_a_hundred_or_older(text: str, birth_date: datetime.date) -> None:
    number = parse_identity_number(text, today=TODAY)
    assert number.birth_date == birth_date
    without_plus = parse_identity_number(text.replace("+", "-"), today=TODAY)
    assert without_plus.birth_date.year - number.birth_date.year == 100
    assert number.digits[2:] == without_plus.digits[2:]


@pytest.mark.parametrize(
    ("text", "today", "year"),
    [
        ("850709-1232", TODAY, 1985),
        ("170101-2393", TODAY, 2017),
        ("170101-2393", datetime.date(2017, 1, 1), 2017),
        ("170101-2393", datetime.date(2016, 12, 31), 1917),
        ("850709-1232", datetime.date(2084, 12, 31), 1985),  # 99 years old
        ("850709-1232", datetime.date(2085, 7, 9), 2085),  # would be 100: needs "+"
    ],
)
def test_ten_digit_century_follows_today(text: str, today: datetime.date, year: int) -> None:
    assert parse_identity_number(text, today=today).birth_date.year == year


def test_today_may_be_a_datetime() -> None:
    now = datetime.datetime(2025, 6, 15, 12, 0)
    assert parse_identity_number("250615-1238", today=now).birth_date == TODAY


@pytest.mark.parametrize(
    ("text", "digits", "birth_date"),
    [
        ("701063-4561", "197010634561", datetime.date(1970, 10, 3)),
        ("7010634561", "197010634561", datetime.date(1970, 10, 3)),
        ("19701063-4561", "197010634561", datetime.date(1970, 10, 3)),
        ("000289-1232", "200002891232", datetime.date(2000, 2, 29)),  # leap day + 60
        ("010891-1231", "200108911231", datetime.date(2001, 8, 31)),  # day 91
        ("010961-1236", "200109611236", datetime.date(2001, 9, 1)),  # day 61
    ],
)
def test_valid_samordningsnummer(text: str, digits: str, birth_date: datetime.date) -> None:
    number = parse_identity_number(text, today=TODAY)
    assert number.is_coordination_number is True
    assert number.digits == digits
    assert number.birth_date == birth_date


@pytest.mark.parametrize(
    ("first_nine", "expected"),
    [("170101239", "3"), ("811218987", "6"), ("701063456", "1"), ("000000000", "0")],
)
def test_check_digit(first_nine: str, expected: str) -> None:
    assert check_digit(first_nine) == expected


def test_make_identity_number() -> None:
    number = make_identity_number(datetime.date(2017, 1, 1), 239)
    assert number.digits == TEST_NUMBER
    assert number.is_coordination_number is False

    coordination = make_identity_number(datetime.date(1970, 10, 3), 456, coordination=True)
    assert coordination.digits == "197010634561"
    assert coordination.is_coordination_number is True
    assert coordination.birth_date == datetime.date(1970, 10, 3)

    assert make_identity_number(datetime.date(2001, 2, 3), 7).digits[8:11] == "007"


def _ten_digit_form(number: IdentityNumber, today: datetime.date) -> str:
    born = number.birth_date
    age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    separator = "+" if age >= 100 else "-"
    return number.digits[2:8] + separator + number.digits[8:]


def test_make_identity_number_round_trips_through_parse() -> None:
    start = datetime.date(1900, 1, 1)
    checked = 0
    for index in range(200):
        birth_date = start + datetime.timedelta(days=index * 229)
        assert birth_date <= TODAY
        for serial in (index * 37 % 1000, 0, 999):
            for coordination in (False, True):
                number = make_identity_number(birth_date, serial, coordination=coordination)
                assert number.birth_date == birth_date
                assert number.is_coordination_number is coordination
                assert int(number.digits[8:11]) == serial

                assert parse_identity_number(number.digits, today=TODAY) == number
                assert parse_identity_number(number.formatted(), today=TODAY) == number
                short = _ten_digit_form(number, TODAY)
                assert parse_identity_number(short, today=TODAY) == number
                if "-" in short:
                    without_separator = short.replace("-", "")
                    assert parse_identity_number(without_separator, today=TODAY) == number
                checked += 1
    assert checked == 200 * 3 * 2


def test_make_identity_number_covers_leap_days() -> None:
    for year in (1904, 1960, 2000, 2016, 2024):
        number = make_identity_number(datetime.date(year, 2, 29), 123)
        assert parse_identity_number(number.digits, today=TODAY).birth_date.day == 29


# ---------------------------------------------------------------------------
# Keyed hash
# ---------------------------------------------------------------------------


def test_hash_rejects_empty_key() -> None:
    number = parse_identity_number(TEST_NUMBER, today=TODAY)
    with pytest.raises(ValueError):
        identity_number_hash(number, b"")


@pytest.mark.parametrize("text", ["", "   ", "short", "x" * 31, " " + "x" * 20 + " "])
def test_hash_key_bytes_rejects_short_keys(text: str) -> None:
    with pytest.raises(ValueError):
        hash_key_bytes(text)


def test_hash_is_stable_for_the_same_key() -> None:
    number = parse_identity_number(TEST_NUMBER, today=TODAY)
    first = identity_number_hash(number, HASH_KEY)
    assert first == identity_number_hash(number, HASH_KEY)
    assert re.fullmatch(r"[0-9a-f]{64}", first)
    expected = hmac.new(HASH_KEY, TEST_NUMBER.encode(), hashlib.sha256).hexdigest()
    assert first == expected


def test_hash_differs_for_another_key() -> None:
    number = parse_identity_number(TEST_NUMBER, today=TODAY)
    assert identity_number_hash(number, HASH_KEY) != identity_number_hash(number, OTHER_HASH_KEY)


def test_hash_differs_for_another_number() -> None:
    one = parse_identity_number(TEST_NUMBER, today=TODAY)
    other = parse_identity_number("811218-9876", today=TODAY)
    assert identity_number_hash(one, HASH_KEY) != identity_number_hash(other, HASH_KEY)


@pytest.mark.parametrize("text", ["1701012393", "170101-2393", "20170101-2393", " 201701012393 "])
def test_hash_is_the_same_for_every_written_form(text: str) -> None:
    reference = identity_number_hash(parse_identity_number(TEST_NUMBER, today=TODAY), HASH_KEY)
    assert identity_number_hash(parse_identity_number(text, today=TODAY), HASH_KEY) == reference


def test_generated_hash_key_is_usable() -> None:
    text = generate_hash_key()
    assert isinstance(text, str)
    assert text == text.strip() and "\n" not in text
    key = hash_key_bytes(text)
    assert key == text.encode()
    assert hash_key_bytes(f"  {text}\n") == key
    assert generate_hash_key() != text
    number = parse_identity_number(TEST_NUMBER, today=TODAY)
    assert len(identity_number_hash(number, key)) == 64


# ---------------------------------------------------------------------------
# Encryption
# ---------------------------------------------------------------------------


def test_decrypting_with_a_wrong_key_raises() -> None:
    number = parse_identity_number(TEST_NUMBER, today=TODAY)
    token = encrypt_identity_number(number, generate_encryption_key().encode())
    with pytest.raises(InvalidToken):
        decrypt_identity_number(token, generate_encryption_key().encode())


@pytest.mark.parametrize("token", ["", "not a token", "åäö", "gAAAAA"])
def test_decrypting_garbage_raises(token: str) -> None:
    with pytest.raises(InvalidToken):
        decrypt_identity_number(token, generate_encryption_key().encode())


def test_decrypting_a_tampered_token_raises() -> None:
    key = generate_encryption_key().encode()
    token = encrypt_identity_number(parse_identity_number(TEST_NUMBER, today=TODAY), key)
    raw = bytearray(base64.urlsafe_b64decode(token))
    raw[-40] ^= 1
    with pytest.raises(InvalidToken):
        decrypt_identity_number(base64.urlsafe_b64encode(bytes(raw)).decode(), key)


def test_decrypting_something_that_is_not_a_number_raises() -> None:
    key = generate_encryption_key().encode()
    token = Fernet(key).encrypt(b"201701012394").decode()
    with pytest.raises(InvalidIdentityNumber):
        decrypt_identity_number(token, key)


@pytest.mark.parametrize("text", [TEST_NUMBER, "811218-9876", "701063-4561", "811218+9876"])
def test_encryption_round_trips(text: str) -> None:
    key = generate_encryption_key().encode()
    number = parse_identity_number(text, today=TODAY)
    token = encrypt_identity_number(number, key)
    assert isinstance(token, str)
    decrypted = decrypt_identity_number(token, key)
    assert decrypted == number
    assert decrypted.is_coordination_number == number.is_coordination_number

    assert number.digits not in token
    assert number.digits[2:] not in token
    raw = base64.urlsafe_b64decode(token)
    assert number.digits.encode() not in raw
    assert number.digits[2:].encode() not in raw


def test_encryption_is_randomised() -> None:
    key = generate_encryption_key().encode()
    number = parse_identity_number(TEST_NUMBER, today=TODAY)
    assert encrypt_identity_number(number, key) != encrypt_identity_number(number, key)


def test_generated_encryption_key_is_a_fernet_key() -> None:
    text = generate_encryption_key()
    assert isinstance(text, str)
    assert len(base64.urlsafe_b64decode(text)) == 32
    assert generate_encryption_key() != text
    Fernet(text.encode())
