"""Forms of the Consent tab (RULES.md §3): record, request, add a giver, withdraw, record maturity.

Query-free: the view fills every choice that depends on data (agencies, the guardians in custody, the
consent texts, a consent's givers) with ``set_choices``. Values are opaque: agencies and guardians by
their public id, the young person as ``YOUNG_PERSON``. Purposes, areas and methods are fixed lists in
code and are filled here. Every text field has a maximum length; every message is translatable.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import HiddenInput

from childplan.compass import AREA_CODES, AREAS
from coordination.consent.common import MAX_NOTE_LENGTH
from coordination.consent.models import CONSENT_METHODS, CONSENT_PURPOSES
from coordination.errors import OperationError
from coordination.forms import MultiCheckboxField

MAX_KEY_LENGTH = 64  # public ids (32) and YOUNG_PERSON
MAX_GIVERS = 10  # giver blocks accepted from one post

PURPOSE_LABELS = {
    "coordination": _l("Coordination and the plan"),
    "team_meetings": _l("Team meetings"),
}
PURPOSE_HINTS = {
    "coordination": _l("Concerns, the plan with needs, goals and other agencies' actions, reviews, the chronology"),
    "team_meetings": _l("Being invited to the child's team: the team list, meetings, agendas and notes"),
}
METHOD_LABELS = {
    "in_person": _l("In person"),
    "phone": _l("By phone"),
    "written": _l("In writing"),
    "e_signed": _l("E-signed"),
}
assert set(PURPOSE_LABELS) == set(CONSENT_PURPOSES) and set(METHOD_LABELS) == set(CONSENT_METHODS)

PURPOSE_CHOICES = [SelectChoice(code, PURPOSE_LABELS[code]) for code in CONSENT_PURPOSES]
AREA_CHOICES = [SelectChoice(area.code, area.label) for area in AREAS]
METHOD_CHOICES = [SelectChoice(code, METHOD_LABELS[code]) for code in CONSENT_METHODS]

Choices = Iterable[tuple[str, object]]  # (value, label) pairs as the view builds them


def _choices(pairs: Choices) -> list[SelectChoice]:
    return [SelectChoice(str(value), label) for value, label in pairs]


def _period_is_ordered(form: FlaskForm, field: DateField) -> None:
    start = form.valid_from.data
    if start is not None and field.data is not None and field.data < start:
        raise ValidationError(_l("The end date must be the same as or after the start date"))


def _agency_field() -> SelectField:
    return SelectField(_l("Agency"), choices=[], validators=[InputRequired(_l("Choose the agency"))])


def _purposes_field() -> MultiCheckboxField:
    return MultiCheckboxField(
        _l("Purposes"), choices=PURPOSE_CHOICES, validators=[DataRequired(_l("Choose at least one purpose"))]
    )


def _areas_field() -> MultiCheckboxField:
    return MultiCheckboxField(
        _l("Needs Compass areas"),
        choices=AREA_CHOICES,
        default=list(AREA_CODES),
        validators=[DataRequired(_l("Choose at least one area"))],
    )


def _evidence_field() -> TextAreaField:
    return TextAreaField(
        _l("Evidence note"),
        description=_l("For example where and how the consent was given. Do not write identity numbers."),
        validators=[
            Optional(),
            Length(max=MAX_NOTE_LENGTH, message=_l("Write at most %(max)d characters")),
        ],
        render_kw={"maxlength": MAX_NOTE_LENGTH, "rows": 3},
    )


def apply_operation_error(form: FlaskForm, error: OperationError) -> None:
    """Show an operation's refusal next to its field, or at the top of the form when no plain field of
    that name exists (e.g. "givers", "recorded_by")."""
    field = form._fields.get(error.field) if error.field else None
    if field is not None and not isinstance(field, FieldList):
        field.errors = [*list(field.errors or ()), error.message]
    else:
        form.form_errors.append(error.message)


# -- record -----------------------------------------------------------------------------------------------
class GiverForm(FlaskForm):
    """One person's block: a guardian in custody, or the young person (only offered with a maturity
    assessment for the agency). ``giver`` is set by the view and checked against its offer."""

    class Meta:
        csrf = False  # a sub-form: the outer form carries the token

    giver = HiddenField(validators=[Length(max=MAX_KEY_LENGTH)])
    given = BooleanField(_l("Has given consent"))
    method = SelectField(_l("How"), choices=METHOD_CHOICES, default="in_person")
    given_on = DateField(_l("Date given"), validators=[Optional()])
    evidence_note = _evidence_field()


@dataclass(frozen=True)
class GivenBlock:
    """A ticked giver block, as posted: ``giver`` is a guardian's public id or YOUNG_PERSON."""

    giver: str
    method: str
    given_on: date | None
    evidence_note: str | None


class RecordConsentForm(FlaskForm):
    agency = _agency_field()
    purposes = _purposes_field()
    areas = _areas_field()
    valid_from = DateField(_l("Valid from"), validators=[InputRequired(_l("Enter the date the consent applies from"))])
    valid_until = DateField(
        _l("Valid until"),
        description=_l("The last day the consent applies. At most three years."),
        validators=[InputRequired(_l("Enter the last day the consent applies")), _period_is_ordered],
    )
    givers = FieldList(FormField(GiverForm), min_entries=0, max_entries=MAX_GIVERS)
    consent_text_version = IntegerField(
        widget=HiddenInput(), validators=[InputRequired(_l("The consent text is missing")), NumberRange(min=1)]
    )
    consent_text_language = SelectField(
        _l("Language of the consent text shown"),
        choices=[],
        validators=[InputRequired(_l("Choose the language the consent text was shown in"))],
    )
    text_shown = BooleanField(
        _l("The family has been shown the consent text"),
        validators=[DataRequired(_l("Show the family the consent text before recording their consent"))],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.offered_givers: dict[str, object] = {}

    def set_choices(self, agencies: Choices, givers: Choices, text_languages: Choices) -> None:
        """``agencies``: (public id, name); ``givers``: (guardian public id or YOUNG_PERSON, label) —
        the guardians with current custody, and the young person when a maturity assessment exists;
        ``text_languages``: (language code, label) of the current consent text."""
        self.agency.choices = _choices(agencies)
        self.consent_text_language.choices = _choices(text_languages)
        self.offered_givers = {str(key): label for key, label in givers}

    def add_giver_blocks(self) -> None:
        """On first display: one block per offered giver (call after ``set_choices``)."""
        if not self.givers.entries:
            for key in self.offered_givers:
                self.givers.append_entry({"giver": key, "method": "in_person"})

    def giver_label(self, block: GiverForm) -> object:
        return self.offered_givers.get(block.giver.data or "", "")

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        offered = self.offered_givers
        seen: set[str] = set()
        ticked = 0
        for entry in self.givers.entries:
            block: GiverForm = entry.form
            key = block.giver.data or ""
            if key not in offered or key in seen:
                self.form_errors.append(_l("The form has changed: reload the page and try again"))
                return False
            seen.add(key)
            if block.given.data:
                ticked += 1
                if block.given_on.data is None:
                    block.given_on.errors = [*list(block.given_on.errors or ()), _l("Enter the date it was given")]
                    valid = False
        if ticked == 0:
            self.form_errors.append(_l("Tick who has given consent"))
            valid = False
        return valid

    def given_blocks(self) -> list[GivenBlock]:
        """The ticked blocks, for building the operation's givers."""
        return [
            GivenBlock(
                giver=entry.form.giver.data,
                method=entry.form.method.data,
                given_on=entry.form.given_on.data,
                evidence_note=(entry.form.evidence_note.data or "").strip() or None,
            )
            for entry in self.givers.entries
            if entry.form.given.data
        ]


# -- request ----------------------------------------------------------------------------------------------
class RequestConsentForm(FlaskForm):
    """Ask for consent: it stays "requested" (and grants nothing) until it is recorded."""

    agency = _agency_field()
    purposes = _purposes_field()
    areas = _areas_field()
    valid_from = DateField(_l("Valid from"), validators=[InputRequired(_l("Enter the date the consent applies from"))])
    valid_until = DateField(
        _l("Valid until"),
        description=_l("The last day the consent applies. At most three years."),
        validators=[InputRequired(_l("Enter the last day the consent applies")), _period_is_ordered],
    )

    def set_choices(self, agencies: Choices) -> None:
        self.agency.choices = _choices(agencies)


# -- add a giver to a recorded consent (the second guardian in joint custody) ------------------------------
class AddConsentGiverForm(FlaskForm):
    giver = SelectField(_l("Who"), choices=[], validators=[InputRequired(_l("Choose who gave consent"))])
    method = SelectField(_l("How"), choices=METHOD_CHOICES, default="in_person")
    given_on = DateField(_l("Date given"), validators=[InputRequired(_l("Enter the date it was given"))])
    evidence_note = _evidence_field()

    def set_choices(self, givers: Choices) -> None:
        """(guardian public id or YOUNG_PERSON, label): the people who may still give this consent."""
        self.giver.choices = _choices(givers)


# -- withdraw ---------------------------------------------------------------------------------------------
class WithdrawConsentForm(FlaskForm):
    """Any one withdrawal ends the consent at once. For a requested consent the view offers one choice,
    ``CANCEL_REQUEST``: withdrawing a request cancels it."""

    giver = SelectField(_l("Who withdraws the consent"), choices=[], validators=[InputRequired(_l("Choose who"))])
    confirm = BooleanField(
        _l("I understand this takes effect at once"),
        validators=[DataRequired(_l("Tick the box to confirm that the withdrawal takes effect at once"))],
    )

    def set_choices(self, givers: Choices) -> None:
        """(guardian public id or YOUNG_PERSON, label) of the consent's givers, or CANCEL_REQUEST."""
        self.giver.choices = _choices(givers)


CANCEL_REQUEST = "request"


class WithdrawAreaForm(FlaskForm):
    """Withdraw one area of a consent: the consent goes on for its other areas (one giver is enough)."""

    area = SelectField(_l("Which area"), choices=[], validators=[InputRequired(_l("Choose the area"))])
    giver = SelectField(_l("Who withdraws it"), choices=[], validators=[InputRequired(_l("Choose who"))])
    confirm = BooleanField(
        _l("I understand this takes effect at once and cannot be undone"),
        validators=[DataRequired(_l("Tick the box to confirm that the withdrawal takes effect at once"))],
    )

    def set_choices(self, areas: Choices, givers: Choices) -> None:
        """(area code, label) of the areas the consent still covers; (guardian public id or YOUNG_PERSON,
        label) of the givers who have not withdrawn."""
        self.area.choices = _choices(areas)
        self.giver.choices = _choices(givers)


# -- maturity ---------------------------------------------------------------------------------------------
class MaturityForm(FlaskForm):
    """Record that the young person is mature enough to decide about consent for one agency."""

    agency = _agency_field()
    note = TextAreaField(
        _l("Why"),
        description=_l("How you heard the young person and why you judge them mature enough to decide."),
        validators=[
            DataRequired(_l("Write how you came to this judgement")),
            Length(max=MAX_NOTE_LENGTH, message=_l("Write at most %(max)d characters")),
        ],
        render_kw={"maxlength": MAX_NOTE_LENGTH, "rows": 4},
    )
    confirm = BooleanField(
        _l("From now on the young person decides about consent for this agency"),
        validators=[DataRequired(_l("Tick the box to confirm"))],
    )

    def set_choices(self, agencies: Choices) -> None:
        self.agency.choices = _choices(agencies)
