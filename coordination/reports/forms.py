"""Forms of the report pages: filing a report of concern, and intake's actions.

Every check a person can fail is made here, with a translated message next to the field, before
anything is written. A report accepts any valid identity number, or none: only a malformed number (a
wrong check digit, an impossible date, not 10 or 12 digits) is an error. The number is never written
back into a page (``IdentityNumberField``). Query-free: the view fills choices that depend on data.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, Field, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import Length

from coordination.clock import today
from coordination.identity_numbers import IdentityNumber, InvalidIdentityNumber, parse_identity_number
from coordination.registration.forms import MAX_NUMBER_INPUT, NUMBER_ERRORS, IdentityNumberField
from coordination.reports.models import REPORT_TEXT_MAX
from coordination.reports.operations import NAME_MAX, PHONE_MAX

MAX_REFERENCE_INPUT = 20
MAX_KEY_LENGTH = 64
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_PHONE = re.compile(r"\+?[0-9 ()\-]{3,40}")


def _strip(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


def _add_error(field: Field, message: object) -> None:
    field.errors = [*list(field.errors or ()), message]


def _parse_date(field: Field) -> date | None:
    """A date from an ``<input type=date>``; an error next to the field when it is not one or is in the
    future (a birth date)."""
    text = (field.data or "").strip()
    if not text:
        return None
    if _ISO_DATE.fullmatch(text):
        try:
            day = date.fromisoformat(text)
        except ValueError:
            pass
        else:
            if day > today():
                _add_error(field, _("The birth date cannot be in the future."))
                return None
            return day
    _add_error(field, _("Enter a real date as YYYY-MM-DD, for example 2019-03-27."))
    return None


def _name(label: object, message: object) -> StringField:
    return StringField(
        label,
        filters=[_strip],
        validators=[Length(max=NAME_MAX, message=message)],
        render_kw={"autocomplete": "off", "maxlength": NAME_MAX},
    )


def _csrf_failed(form: FlaskForm) -> bool:
    token = getattr(form, "csrf_token", None)
    return bool(token is not None and token.errors)


def _confirm(label: object) -> BooleanField:
    return BooleanField(label)


class ReportForm(FlaskForm):
    """A report of concern: the child's number, or a name (and birth date); what has happened."""

    identity_number = IdentityNumberField(
        _l("Personal identity number or coordination number"),
        render_kw={"autocomplete": "off", "inputmode": "numeric", "spellcheck": "false"},
    )
    given_name = _name(_l("Given name"), _l("The given name can be at most %(limit)s characters.", limit=NAME_MAX))
    family_name = _name(_l("Family name"), _l("The family name can be at most %(limit)s characters.", limit=NAME_MAX))
    birth_date = StringField(_l("Birth date"), filters=[_strip])
    what_happened = TextAreaField(
        _l("What has happened"),
        filters=[_strip],
        validators=[
            Length(
                max=REPORT_TEXT_MAX,
                message=_l("Write at most %(limit)s characters.", limit=REPORT_TEXT_MAX),
            )
        ],
        render_kw={"rows": 10, "maxlength": REPORT_TEXT_MAX},
    )
    is_child_in_danger_now = BooleanField(_l("The child is in danger now"))
    reporter_phone = StringField(
        _l("Your phone number"),
        filters=[_strip],
        validators=[
            Length(max=PHONE_MAX, message=_l("The phone number can be at most %(limit)s characters.", limit=PHONE_MAX))
        ],
        render_kw={"autocomplete": "tel", "inputmode": "tel", "maxlength": PHONE_MAX},
    )
    agency = SelectField(_l("Social services agency"), validate_choice=False)

    def __init__(self, *args: Any, agencies: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._agency_ids = [public_id for public_id, _name in agencies]
        choices = list(agencies)
        if len(agencies) > 1:
            choices.insert(0, ("", _("Choose the agency")))
        elif agencies and not self.is_submitted():
            self.agency.data = agencies[0][0]
        self.agency.choices = choices
        self.identity_number_was_typed = bool((self.identity_number.data or "").strip())
        self.number: IdentityNumber | None = None
        self.parsed_birth_date: date | None = None

    @property
    def offers_agency_choice(self) -> bool:
        return len(self._agency_ids) > 1

    def validate(self, extra_validators: Mapping[str, Sequence[Any]] | None = None) -> bool:
        super().validate(extra_validators)
        if len(self._agency_ids) == 1:
            self.agency.data = self._agency_ids[0]
        elif (self.agency.data or "") not in self._agency_ids:
            _add_error(self.agency, _("Choose the social services agency."))
        self.number = self._parse_number()
        self.parsed_birth_date = _parse_date(self.birth_date)
        if (
            not self.identity_number_was_typed
            and not self.given_name.data
            and not self.family_name.data
            and not self.given_name.errors
            and not self.family_name.errors
        ):
            _add_error(
                self.identity_number,
                _("Enter the child's identity number, or the child's name if you do not know the number."),
            )
        if not self.what_happened.data and not self.what_happened.errors:
            _add_error(self.what_happened, _("Describe what has happened."))
        if (
            self.reporter_phone.data
            and not self.reporter_phone.errors
            and not _PHONE.fullmatch(self.reporter_phone.data)
        ):
            _add_error(self.reporter_phone, _("Enter a phone number with digits, spaces, + or -."))
        return not _csrf_failed(self) and not self.has_errors()

    def _parse_number(self) -> IdentityNumber | None:
        text = (self.identity_number.data or "").strip()
        if not text:
            return None
        if len(text) > MAX_NUMBER_INPUT:
            _add_error(self.identity_number, NUMBER_ERRORS["format"]())
            return None
        try:
            return parse_identity_number(text, today=today())
        except InvalidIdentityNumber as error:
            _add_error(self.identity_number, NUMBER_ERRORS[error.reason]())
            return None

    def has_errors(self) -> bool:
        return any(field.errors for field in self if field.type != "CSRFTokenField") or bool(self.form_errors)


# -- intake's actions (field names are unique across the report page's forms) ---------------------------
class AcknowledgeForm(FlaskForm):
    acknowledge_confirm = _confirm(_l("I confirm that social services has received this report"))

    def validate(self, extra_validators: Mapping[str, Sequence[Any]] | None = None) -> bool:
        ok = super().validate(extra_validators)
        if not self.acknowledge_confirm.data:
            _add_error(self.acknowledge_confirm, _("Tick the box to confirm the acknowledgement."))
            return False
        return ok


class MatchForm(FlaskForm):
    """Match to a registered child: the one with the report's number, or one found by name and birth date."""

    match_child = RadioField(_l("The child"), choices=[], validate_choice=False)
    match_confirm = _confirm(_l("I have checked that this is the child the report is about"))

    def validate(self, extra_validators: Mapping[str, Sequence[Any]] | None = None) -> bool:
        super().validate(extra_validators)
        if not (self.match_child.data or "").strip() or len(self.match_child.data or "") > MAX_KEY_LENGTH:
            _add_error(self.match_child, _("Choose the child the report is about."))
        if not self.match_confirm.data:
            _add_error(self.match_confirm, _("Tick the box to confirm the match."))
        return not _csrf_failed(self) and not (self.match_child.errors or self.match_confirm.errors)


class SearchChildForm(FlaskForm):
    """Find a registered child by name and birth date (a POST: names stay out of addresses and logs)."""

    search_name = _name(_l("Name"), _l("The name can be at most %(limit)s characters.", limit=NAME_MAX))
    search_birth_date = StringField(_l("Birth date"), filters=[_strip])

    def validate(self, extra_validators: Mapping[str, Sequence[Any]] | None = None) -> bool:
        ok = super().validate(extra_validators)
        self.parsed_birth_date = _parse_date(self.search_birth_date)
        if not self.search_name.data and not self.search_birth_date.data:
            _add_error(self.search_name, _("Enter a name, a birth date, or both."))
        return ok and not (self.search_name.errors or self.search_birth_date.errors)


class RegisterChildForm(FlaskForm):
    """Register the child the report is about (with the report's number, or with a birth date)."""

    register_given_name = _name(
        _l("Given name"), _l("The given name can be at most %(limit)s characters.", limit=NAME_MAX)
    )
    register_family_name = _name(
        _l("Family name"), _l("The family name can be at most %(limit)s characters.", limit=NAME_MAX)
    )
    register_birth_date = StringField(_l("Birth date"), filters=[_strip])
    register_confirm = _confirm(_l("I have checked that this child is not registered already"))

    def __init__(self, *args: Any, needs_birth_date: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.needs_birth_date = needs_birth_date
        self.parsed_birth_date: date | None = None

    def validate(self, extra_validators: Mapping[str, Sequence[Any]] | None = None) -> bool:
        super().validate(extra_validators)
        if not self.register_given_name.data and not self.register_given_name.errors:
            _add_error(self.register_given_name, _("Enter the child's given name."))
        if not self.register_family_name.data and not self.register_family_name.errors:
            _add_error(self.register_family_name, _("Enter the child's family name."))
        if self.needs_birth_date:
            self.parsed_birth_date = _parse_date(self.register_birth_date)
            if not self.register_birth_date.data:
                _add_error(self.register_birth_date, _("Enter the birth date."))
        if not self.register_confirm.data:
            _add_error(self.register_confirm, _("Tick the box to confirm."))
        return not _csrf_failed(self) and not any(field.errors for field in self if field.type != "CSRFTokenField")


class DuplicateForm(FlaskForm):
    duplicate_reference = StringField(
        _l("Reference of the other report"),
        filters=[_strip],
        validators=[
            Length(
                max=MAX_REFERENCE_INPUT,
                message=_l("A reference has at most %(limit)s characters.", limit=MAX_REFERENCE_INPUT),
            )
        ],
        render_kw={"autocomplete": "off", "maxlength": MAX_REFERENCE_INPUT, "spellcheck": "false"},
    )
    duplicate_confirm = _confirm(_l("I confirm that both reports are about the same event"))

    def validate(self, extra_validators: Mapping[str, Sequence[Any]] | None = None) -> bool:
        super().validate(extra_validators)
        if not self.duplicate_reference.data and not self.duplicate_reference.errors:
            _add_error(self.duplicate_reference, _("Enter the reference of the other report."))
        if not self.duplicate_confirm.data:
            _add_error(self.duplicate_confirm, _("Tick the box to confirm."))
        return not _csrf_failed(self) and not (self.duplicate_reference.errors or self.duplicate_confirm.errors)


class AssignForm(FlaskForm):
    unit = SelectField(_l("Unit"), validate_choice=False)

    def __init__(self, *args: Any, units: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._unit_ids = [public_id for public_id, _name in units]
        self.unit.choices = [("", _("Choose the unit")), *units]

    def validate(self, extra_validators: Mapping[str, Sequence[Any]] | None = None) -> bool:
        super().validate(extra_validators)
        if (self.unit.data or "") not in self._unit_ids:
            _add_error(self.unit, _("Choose one of your agency's units."))
        return not _csrf_failed(self) and not self.unit.errors
