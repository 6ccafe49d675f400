"""Forms of the administration pages: the staff search, deactivation, choosing a Child Contact, the
settings, and creating and editing agencies, units, staff and memberships."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, Field, SelectField, StringField, ValidationError
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from agencies.access import MAX_SEARCH_LENGTH
from agencies.models import Membership, Unit
from agencies.operations import LIMITS
from coordination import settings


class StaffSearchForm(FlaskForm):
    """``GET /admin/staff?q=``: no CSRF token (it writes nothing)."""

    class Meta:
        csrf = False

    q = StringField(
        _l("Search by name"),
        validators=[
            Length(max=MAX_SEARCH_LENGTH, message=_l("Search with at most %(max)d characters", max=MAX_SEARCH_LENGTH))
        ],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )


class DeactivateForm(FlaskForm):
    """The confirmation: only a CSRF token; the person is in the URL."""


class ChildContactForm(FlaskForm):
    """Choose who takes a Child Contact duty: an active practitioner of the acting agency, sent as the
    person's opaque id."""

    staff = SelectField(
        _l("New Child Contact"),
        validators=[DataRequired(_l("Choose who will be the Child Contact"))],
        invalid_choice_message=_l("Choose a person from the list"),
    )

    def with_people(self, memberships: Sequence[Membership]) -> ChildContactForm:
        placeholder = SelectChoice("", str(_l("Choose a person")))
        self.staff.choices = [placeholder] + [
            SelectChoice(m.staff_person.public_id, _person_label(m)) for m in memberships
        ]
        return self


def _person_label(membership: Membership) -> str:
    person = membership.staff_person
    return f"{person.full_name}, {person.title}" if person.title else person.full_name


class SettingsForm(FlaskForm):
    """The platform admin's run-time settings. Text fields, so that what was typed is shown again with the
    message beside it; ``coordination.settings.validated`` decides (the configuration's bounds)."""

    match_window = StringField(
        _l("Matching window (days)"), render_kw={"inputmode": "numeric", "autocomplete": "off", "size": 6}
    )
    maturity_age = StringField(
        _l("Youngest age for a maturity assessment (years)"),
        render_kw={"inputmode": "numeric", "autocomplete": "off", "size": 6},
    )
    switchboard = StringField(_l("Switchboard number"), render_kw={"autocomplete": "off", "inputmode": "tel"})

    def fields_by_key(self) -> dict[str, StringField]:
        return {
            settings.MATCH_WINDOW: self.match_window,
            settings.MATURITY_AGE: self.maturity_age,
            settings.SWITCHBOARD: self.switchboard,
        }


# -- agencies, units, staff and memberships (the same rules as ``barnkompass agency|unit|staff``) -------
def _no_control_characters(_form: FlaskForm, field: Field) -> None:
    if any(ord(character) < 32 or ord(character) == 127 for character in field.data or ""):
        raise ValidationError(str(_l("Remove the control characters")))


def _e_mail(_form: FlaskForm, field: Field) -> None:
    email = field.data or ""
    if email and (email.count("@") != 1 or " " in email or email.startswith("@") or email.endswith("@")):
        raise ValidationError(str(_l("Give an e-mail address such as name@example.se")))


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


def _text(label: Any, limit: int, required: str | None = None, **render: Any) -> StringField:
    validators: list[Any] = [DataRequired(required)] if required else [Optional()]
    validators += [
        Length(max=limit, message=_l("Use at most %(max)d characters", max=limit)),
        _no_control_characters,
    ]
    return StringField(label, validators=validators, filters=[_strip], render_kw=render or None)


def or_none(value: str | None) -> str | None:
    return value or None


class AgencyForm(FlaskForm):
    name = _text(_l("Name"), LIMITS["name"], _l("Give the agency a name"), autocomplete="off")
    kind = SelectField(_l("Kind"), validators=[DataRequired(_l("Choose the kind of agency"))])
    level = SelectField(_l("Level"), validators=[DataRequired(_l("Choose the level"))])
    phone = _text(_l("Phone"), LIMITS["phone"], autocomplete="off", inputmode="tel")

    def with_choices(self, kinds: dict[str, Any], levels: dict[str, Any]) -> AgencyForm:
        self.kind.choices = [SelectChoice("", str(_l("Choose")))] + [
            SelectChoice(code, str(label)) for code, label in kinds.items()
        ]
        self.level.choices = [SelectChoice(code, str(label)) for code, label in levels.items()]
        self.kind.invalid_choice_message = str(_l("Choose a kind from the list"))
        self.level.invalid_choice_message = str(_l("Choose a level from the list"))
        return self


class UnitForm(FlaskForm):
    name = _text(_l("Name of the unit"), LIMITS["name"], _l("Give the unit a name"), autocomplete="off")
    phone = _text(_l("Phone"), LIMITS["phone"], autocomplete="off", inputmode="tel")


class StaffForm(FlaskForm):
    given_name = _text(_l("Given name"), LIMITS["given_name"], _l("Give the given name"), autocomplete="off")
    family_name = _text(_l("Family name"), LIMITS["family_name"], _l("Give the family name"), autocomplete="off")
    title = _text(_l("Title"), LIMITS["title"], autocomplete="off")
    email = StringField(
        _l("E-mail"),
        validators=[
            Optional(),
            Length(max=LIMITS["email"], message=_l("Use at most %(max)d characters", max=LIMITS["email"])),
            _no_control_characters,
            _e_mail,
        ],
        filters=[_strip],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    phone = _text(_l("Phone"), LIMITS["phone"], autocomplete="off", inputmode="tel")
    employee_id = _text(_l("Employee id (from the staff identity provider)"), LIMITS["employee_id"], autocomplete="off")


class NewStaffForm(StaffForm):
    username = _text(_l("Username"), LIMITS["username"], _l("Give a username"), autocomplete="off")


class RolesForm(FlaskForm):
    practitioner = BooleanField(_l("Practitioner"))
    agency_admin = BooleanField(_l("Agency admin (manages the agency's staff and units)"))
    intake = BooleanField(_l("Intake (social services only: receives reports of concern)"))


class MembershipForm(RolesForm):
    unit = SelectField(
        _l("Unit"),
        validators=[DataRequired(_l("Choose a unit"))],
        invalid_choice_message=_l("Choose a unit from the list"),
    )

    def with_units(self, units: Sequence[Unit], *, with_agency: bool) -> MembershipForm:
        self.unit.choices = [SelectChoice("", str(_l("Choose a unit")))] + [
            SelectChoice(unit.public_id, f"{unit.agency.name} – {unit.name}" if with_agency else unit.name)
            for unit in units
        ]
        return self
