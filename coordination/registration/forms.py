"""Forms for registering a child and deciding pending links (RULES.md §5).

Every check a person can fail is made here, with a translated message next to the field, before
anything is looked up or written: so a bad input never reaches the lookup by identity number, and the
answer never depends on whether the number is known. The identity number is never written back into
a page (RULES.md §10): after an error elsewhere the person types it again.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, Field, FieldList, Form, FormField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length

from agencies.models import Unit
from coordination.children.models import LANGUAGES, MISSING_NUMBER_REASONS
from coordination.children.operations import ChildData, GuardianData
from coordination.clock import today
from coordination.identity_numbers import IdentityNumber, InvalidIdentityNumber, parse_identity_number
from coordination.labels import LANGUAGE_LABELS
from coordination.registration.operations import (
    MAX_GUARDIANS,
    MAX_NAME_LENGTH,
    MAX_RESTRICTION_NOTE_LENGTH,
    GuardianEntry,
    RegistrationData,
)

MAX_NUMBER_INPUT = 20
MAX_PHONE_LENGTH = 40
MAX_EMAIL_LENGTH = 254
# An expected date of birth: at most a month overdue, at most ten months ahead.
EXPECTED_OVERDUE = timedelta(days=31)
EXPECTED_AHEAD = timedelta(days=310)

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_PHONE = re.compile(r"\+?[0-9 ()\-]{3,40}")
_EMAIL = re.compile(r"[^@\s<>\"']+@[^@\s<>\"']+\.[^@\s<>\"']+")

NUMBER_ERRORS = {
    "format": lambda: _("Enter 10 or 12 digits, for example YYYYMMDD-NNNN."),
    "date": lambda: _("Check the identity number: the date in it is not a possible birth date."),
    "check_digit": lambda: _("Check the identity number: the last digit does not match."),
}

REASON_LABELS = {
    "unborn": _l("Not born yet (give the expected date instead of the birth date)"),
    "newborn": _l("Newborn: the number is not assigned yet"),
    "none": _l("The child has no Swedish identity number"),
}


def _strip(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


def _name_field(label: object, too_long: object) -> StringField:
    """A name: trimmed, at most MAX_NAME_LENGTH characters, with the message next to the field."""
    return StringField(
        label,
        filters=[_strip],
        validators=[Length(max=MAX_NAME_LENGTH, message=too_long)],
        render_kw={"autocomplete": "off", "maxlength": MAX_NAME_LENGTH},
    )


class IdentityNumberField(StringField):
    """A text field that never writes its value back into the page (RULES.md §10)."""

    def _value(self) -> str:
        return ""


def _add_error(field: Field, message: object) -> None:
    field.errors = [*list(field.errors or ()), message]


def _parse_date(field: Field) -> date | None:
    """A date from an ``<input type=date>`` (YYYY-MM-DD); an error next to the field when it is not one."""
    text = (field.data or "").strip()
    if not text:
        return None
    if _ISO_DATE.fullmatch(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    _add_error(field, _("Enter a real date as YYYY-MM-DD, for example 2019-03-27."))
    return None


class GuardianForm(Form):
    """One guardian block. A plain ``Form``: the page's CSRF token belongs to the outer form."""

    given_name = _name_field(
        _l("Given name"), _l("The given name can be at most %(limit)s characters.", limit=MAX_NAME_LENGTH)
    )
    family_name = _name_field(
        _l("Family name"), _l("The family name can be at most %(limit)s characters.", limit=MAX_NAME_LENGTH)
    )
    phone = StringField(
        _l("Phone"),
        filters=[_strip],
        validators=[
            Length(
                max=MAX_PHONE_LENGTH,
                message=_l("The phone number can be at most %(limit)s characters.", limit=MAX_PHONE_LENGTH),
            )
        ],
        render_kw={"autocomplete": "off", "inputmode": "tel"},
    )
    email = StringField(
        _l("E-mail"),
        filters=[_strip],
        validators=[
            Length(
                max=MAX_EMAIL_LENGTH,
                message=_l("The e-mail address can be at most %(limit)s characters.", limit=MAX_EMAIL_LENGTH),
            )
        ],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    preferred_language = SelectField(
        _l("Preferred language"),
        choices=[SelectChoice(code, LANGUAGE_LABELS[code]) for code in LANGUAGES],
        default="sv",
        validate_choice=False,  # checked in RegistrationForm.validate, with our own message
    )
    needs_interpreter = BooleanField(_l("Needs an interpreter"))
    is_restricted = BooleanField(_l("Restricted: this guardian must not see protected details"))
    restriction_note = TextAreaField(
        _l("What the restriction is"),
        filters=[_strip],
        validators=[
            Length(
                max=MAX_RESTRICTION_NOTE_LENGTH,
                message=_l(
                    "The restriction note can be at most %(limit)s characters.", limit=MAX_RESTRICTION_NOTE_LENGTH
                ),
            )
        ],
        render_kw={"rows": 3},
    )

    def is_empty(self) -> bool:
        return not any(
            (
                self.given_name.data,
                self.family_name.data,
                self.phone.data,
                self.email.data,
                self.needs_interpreter.data,
                self.is_restricted.data,
                self.restriction_note.data,
            )
        )


class RegistrationForm(FlaskForm):
    unit = SelectField(_l("Unit"), validate_choice=False)  # choices: the actor's units, set by the view
    given_name = _name_field(
        _l("Given name"), _l("The given name can be at most %(limit)s characters.", limit=MAX_NAME_LENGTH)
    )
    family_name = _name_field(
        _l("Family name"), _l("The family name can be at most %(limit)s characters.", limit=MAX_NAME_LENGTH)
    )
    birth_date = StringField(_l("Birth date"), filters=[_strip])
    identity_number = IdentityNumberField(
        _l("Personal identity number or coordination number"),
        render_kw={"autocomplete": "off", "inputmode": "numeric", "spellcheck": "false"},
    )
    missing_number_reason = RadioField(
        _l("If the child has no identity number, why not?"),
        choices=[SelectChoice("", _l("The child has an identity number"))]
        + [SelectChoice(code, REASON_LABELS[code]) for code in MISSING_NUMBER_REASONS],
        default="",
        validate_choice=False,  # checked in validate, with our own message
    )
    expected_birth_date = StringField(_l("Expected date of birth"), filters=[_strip])
    guardians = FieldList(FormField(GuardianForm), min_entries=MAX_GUARDIANS, max_entries=MAX_GUARDIANS)
    # The buttons of the possible-duplicate warning: "register anyway" (the explicit confirmation) and
    # "this is the same child" (its opaque id).
    confirm_new = BooleanField()
    same_child = StringField(filters=[_strip], validators=[Length(max=64)])

    def __init__(self, *args: Any, units: list[Unit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._units = {unit.public_id: unit for unit in units}
        choices = [SelectChoice(unit.public_id, unit.name) for unit in units]
        if len(units) != 1:
            choices.insert(0, SelectChoice("", _l("Choose a unit")))
        self.unit.choices = choices
        if len(units) == 1 and not self.is_submitted():
            self.unit.data = units[0].public_id  # preselected when there is one
        self.identity_number_was_typed = bool((self.identity_number.data or "").strip())
        self._data: RegistrationData | None = None

    # -- checks --------------------------------------------------------------------------------------------
    def validate(self, extra_validators: Any = None) -> bool:
        super().validate(extra_validators)
        unit = self._check_unit()
        child = self._check_child()
        guardians = self._check_guardians()
        if self.has_errors() or unit is None or child is None or guardians is None:
            return False
        self._data = RegistrationData(
            unit=unit, child=child, guardians=guardians, confirmed_new_child=bool(self.confirm_new.data)
        )
        return True

    def _check_unit(self) -> Unit | None:
        unit = self._units.get(self.unit.data or "")
        if unit is None:
            _add_error(self.unit, _("Choose one of your units."))
        return unit

    def _check_child(self) -> ChildData | None:
        if not self.given_name.data and not self.given_name.errors:
            _add_error(self.given_name, _("Enter the child's given name."))
        if not self.family_name.data and not self.family_name.errors:
            _add_error(self.family_name, _("Enter the child's family name."))
        day = today()
        birth_date = _parse_date(self.birth_date)
        expected = _parse_date(self.expected_birth_date)
        reason = self.missing_number_reason.data or ""
        if reason and reason not in MISSING_NUMBER_REASONS:
            _add_error(self.missing_number_reason, _("Choose one of the reasons."))
            return None
        number = self._parse_number(day)
        typed_number = self.identity_number_was_typed
        if typed_number and reason:
            _add_error(
                self.missing_number_reason,
                _("Either enter the identity number or choose why there is none – not both."),
            )
        elif not typed_number and not reason:
            _add_error(self.identity_number, _("Enter the identity number, or choose why there is none."))
        if number is not None and birth_date is not None and birth_date != number.birth_date:
            _add_error(self.birth_date, _("The birth date does not match the identity number."))
        if reason == "unborn":
            if self.birth_date.data and not self.birth_date.errors:
                _add_error(self.birth_date, _("A child not born yet has no birth date: give the expected date."))
            if not self.expected_birth_date.data:
                _add_error(self.expected_birth_date, _("Enter the expected date of birth."))
            elif expected is not None and not (day - EXPECTED_OVERDUE <= expected <= day + EXPECTED_AHEAD):
                _add_error(self.expected_birth_date, _("The expected date must be within the coming ten months."))
        elif self.expected_birth_date.data and not self.expected_birth_date.errors:
            _add_error(self.expected_birth_date, _("Give an expected date only for a child not born yet."))
        if reason in ("newborn", "none") and not self.birth_date.data:
            _add_error(self.birth_date, _("Enter the birth date."))
        if birth_date is not None and birth_date > day:
            _add_error(self.birth_date, _("The birth date cannot be in the future."))
        if self.has_errors():
            return None
        return ChildData(
            given_name=self.given_name.data or "",
            family_name=self.family_name.data or "",
            birth_date=birth_date if number is None else number.birth_date,
            identity_number=number,
            missing_number_reason=reason or None,
            expected_birth_date=expected if reason == "unborn" else None,
        )

    def _parse_number(self, day: date) -> IdentityNumber | None:
        text = (self.identity_number.data or "").strip()
        if not text:
            return None
        if len(text) > MAX_NUMBER_INPUT:
            _add_error(self.identity_number, NUMBER_ERRORS["format"]())
            return None
        try:
            return parse_identity_number(text, today=day)
        except InvalidIdentityNumber as error:
            _add_error(self.identity_number, NUMBER_ERRORS[error.reason]())
            return None

    def _check_guardians(self) -> tuple[GuardianEntry, ...] | None:
        entries: list[GuardianEntry] = []
        blocks = [entry.form for entry in self.guardians.entries]
        if all(block.is_empty() for block in blocks):
            first = blocks[0] if blocks else None
            if first is not None:
                _add_error(first.given_name, _("Enter at least one guardian."))
            return None
        for block in blocks:
            if block.is_empty():
                continue
            if not block.given_name.data and not block.given_name.errors:
                _add_error(block.given_name, _("Enter the guardian's given name."))
            if not block.family_name.data and not block.family_name.errors:
                _add_error(block.family_name, _("Enter the guardian's family name."))
            if block.phone.data and not block.phone.errors and not _PHONE.fullmatch(block.phone.data):
                _add_error(block.phone, _("Enter a phone number with digits, spaces, + or -."))
            if block.email.data and not block.email.errors and not _EMAIL.fullmatch(block.email.data):
                _add_error(block.email, _("Enter an e-mail address like name@example.se."))
            if block.preferred_language.data not in LANGUAGES:
                _add_error(block.preferred_language, _("Choose one of the languages."))
            if block.is_restricted.data and not block.restriction_note.data and not block.restriction_note.errors:
                _add_error(block.restriction_note, _("Say briefly what the restriction is."))
            if not block.is_restricted.data and block.restriction_note.data and not block.restriction_note.errors:
                _add_error(block.restriction_note, _("Tick “Restricted”, or leave the note empty."))
            entries.append(
                GuardianEntry(
                    data=GuardianData(
                        given_name=block.given_name.data or "",
                        family_name=block.family_name.data or "",
                        email=block.email.data or None,
                        phone=block.phone.data or None,
                        preferred_language=block.preferred_language.data or "sv",
                        needs_interpreter=bool(block.needs_interpreter.data),
                    ),
                    restricted=bool(block.is_restricted.data),
                    restriction_note=block.restriction_note.data or None,
                )
            )
        return tuple(entries)

    # -- results -------------------------------------------------------------------------------------------
    @property
    def registration_data(self) -> RegistrationData:
        assert self._data is not None, "validate first"
        return self._data

    def error_fields(self) -> Iterator[object]:
        """Every field with an error, top to bottom (guardian blocks included), for the error summary."""
        for field in self:
            if field.type == "CSRFTokenField":
                continue
            if field.type == "FieldList":
                for entry in field.entries:
                    for subfield in entry.form:
                        if subfield.errors:
                            yield subfield
            elif field.errors:
                yield field

    def has_errors(self) -> bool:
        return any(True for _field in self.error_fields())

    def add_error(self, field_name: str | None, message: object) -> None:
        """An error next to the named field (a refusal from the operation: the form checks first)."""
        field = getattr(self, field_name or "", None)
        if field is None or field.type in ("FieldList", "CSRFTokenField"):
            field = self.guardians.entries[0].form.given_name if field_name == "guardians" else self.given_name
        _add_error(field, message)


class DecisionForm(FlaskForm):
    """Approve or reject a pending link: only the CSRF token; the link is in the URL."""
