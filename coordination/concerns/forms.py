"""The concerns' forms: raising a concern (on a child's page, by identity number), registering the child
of an unmatched concern and asking a sibling's Child Contact; the concern page (acknowledge, conversation,
close) and requests to become Support Coordinator.

Query-free: the view fills the choices that depend on data (the guardians with custody, the agency's
units, the nominees) with ``set_*``. Every check a person can fail is made here, next to its field,
before anything is looked up or written. Every text has a maximum length (``TEXT_MAX``, checked again by
the operations); every message is translatable. The identity number is never written back into a page
(RULES.md §10).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, Field, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from childplan.compass import AREAS
from coordination.clock import today
from coordination.concerns.models import CONCERN_URGENCIES, TEXT_MAX
from coordination.concerns.operations.coordinators import DECLINE_REASON_MAX, MAX_NOMINEES, MESSAGE_MAX
from coordination.concerns.operations.raising import MAX_AGREEMENT_AGE_DAYS, ConcernData
from coordination.consent.forms import METHOD_LABELS
from coordination.consent.models import CONSENT_METHODS
from coordination.errors import OperationError
from coordination.forms import MultiCheckboxField
from coordination.identity_numbers import IdentityNumber, InvalidIdentityNumber, parse_identity_number

# What ``Form.validate`` takes: more validators (``validator(form, field)``), by field name.
ExtraValidators = Mapping[str, Sequence[Callable[[FlaskForm, Field], object]]]


def _at_most(limit: int) -> Length:
    return Length(max=limit, message=_l("Write at most %(max)d characters"))


def _not_in_the_future(_form: FlaskForm, field: DateField) -> None:
    if field.data is not None and field.data > today():
        raise ValidationError(_l("The date of the conversation cannot be in the future"))


WITH_WHOM_CHOICES = [
    SelectChoice("family", _l("The family")),
    SelectChoice("child", _l("The child")),
]
CLOSE_REASON_CHOICES = [
    SelectChoice("handled_within_agency", _l("Handled within my agency")),
    SelectChoice("no_further_action", _l("No further action")),
    SelectChoice("other", _l("Other")),
]


class AcknowledgeForm(FlaskForm):
    """Nothing but the CSRF token."""


class ConversationForm(FlaskForm):
    with_whom = MultiCheckboxField(
        _l("Who the conversation was with"),
        choices=WITH_WHOM_CHOICES,
        validators=[DataRequired(_l("Choose who the conversation was with"))],
    )
    held_on = DateField(
        _l("Date of the conversation"),
        validators=[InputRequired(_l("Enter the date of the conversation")), _not_in_the_future],
    )
    text = TextAreaField(
        _l("What was said"),
        description=_l("Facts and what was agreed. Do not write identity numbers."),
        validators=[DataRequired(_l("Write what was said")), _at_most(TEXT_MAX)],
        render_kw={"maxlength": TEXT_MAX, "rows": 6},
    )


class CloseConcernForm(FlaskForm):
    reason = RadioField(
        _l("Why the concern is closed"),
        choices=CLOSE_REASON_CHOICES,
        validators=[InputRequired(_l("Choose why the concern is closed"))],
    )
    note = TextAreaField(
        _l("Reason"),
        description=_l("What was done and why nothing more is needed from other agencies."),
        validators=[DataRequired(_l("Write the reason")), _at_most(TEXT_MAX)],
        render_kw={"maxlength": TEXT_MAX, "rows": 5},
    )
    confirm = BooleanField(
        _l("I understand that a closed concern cannot be reopened"),
        validators=[DataRequired(_l("Tick the box to confirm that closing cannot be undone"))],
    )


class CoordinatorRequestForm(FlaskForm):
    nominees = MultiCheckboxField(
        _l("Whom to ask"),
        choices=[],
        validate_choice=False,  # checked against the offer in ``validate``, with a clear message
        validators=[DataRequired(_l("Choose at least one person to ask"))],
    )
    message = TextAreaField(
        _l("Message (optional)"),
        description=_l("Shown to the people you ask. Do not write identity numbers."),
        validators=[Optional(), _at_most(MESSAGE_MAX)],
        render_kw={"maxlength": MESSAGE_MAX, "rows": 4},
    )

    def set_choices(self, nominees: Iterable[tuple[str, object]]) -> None:
        """(key, label): the offered nominees (``key`` is "<person public id>.<agency public id>")."""
        self.nominees.choices = [SelectChoice(key, label) for key, label in nominees]

    def validate(self, extra_validators: ExtraValidators | None = None) -> bool:
        valid = super().validate(extra_validators)
        chosen = list(self.nominees.data or ())
        if len(chosen) > MAX_NOMINEES:
            self.nominees.errors = [
                *list(self.nominees.errors or ()),
                _l("Ask at most %(max)d people at a time", max=MAX_NOMINEES),
            ]
            return False
        return valid


class AcceptForm(FlaskForm):
    """Nothing but the CSRF token."""


class DeclineForm(FlaskForm):
    reason = TextAreaField(
        _l("Why you decline"),
        description=_l("The Child Contact who asked you reads this."),
        validators=[DataRequired(_l("Write why you decline")), _at_most(DECLINE_REASON_MAX)],
        render_kw={"maxlength": DECLINE_REASON_MAX, "rows": 4},
    )


def apply_operation_error(form: FlaskForm, error: OperationError) -> None:
    """An operation's refusal next to its field, or at the top of the form."""
    field = form._fields.get(error.field) if error.field else None
    if field is not None:
        field.errors = [*list(field.errors or ()), error.message]
    else:
        form.form_errors.append(error.message)


MAX_NUMBER_INPUT = 20
MAX_NAME_LENGTH = 100
MAX_KEY_LENGTH = 64

URGENCY_LABELS = {
    "routine": _l("Routine: within a few weeks"),
    "soon": _l("Soon: within a week"),
    "urgent": _l("Urgent: within a day or two"),
}
assert set(URGENCY_LABELS) == set(CONCERN_URGENCIES)

AREA_CHOICES = [SelectChoice(area.code, area.label) for area in AREAS]
URGENCY_CHOICES = [SelectChoice(code, URGENCY_LABELS[code]) for code in CONCERN_URGENCIES]
METHOD_CHOICES = [
    SelectChoice("", _l("Choose how")),
    *(SelectChoice(code, METHOD_LABELS[code]) for code in CONSENT_METHODS),
]

NUMBER_ERRORS = {
    "format": lambda: _("Enter 10 or 12 digits, for example YYYYMMDD-NNNN."),
    "date": lambda: _("Check the identity number: the date in it is not a possible birth date."),
    "check_digit": lambda: _("Check the identity number: the last digit does not match."),
}


def _strip(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


def _text(label: object, *, required: bool = False, description: object = None) -> TextAreaField:
    validators = [
        DataRequired(_l("Write what you observed")) if required else Optional(),
        Length(max=TEXT_MAX, message=_l("Write at most %(max)d characters")),
    ]
    return TextAreaField(
        label,
        description=description,
        filters=[_strip],
        validators=validators,
        render_kw={"maxlength": TEXT_MAX, "rows": 4},
    )


def _not_after_today(message: object) -> Callable[[FlaskForm, DateField], None]:
    def check(_form: FlaskForm, field: DateField) -> None:
        if field.data is not None and field.data > today():
            raise ValidationError(message)

    return check


class IdentityNumberField(StringField):
    """A text field that never writes its value back into the page (RULES.md §10)."""

    def _value(self) -> str:
        return ""


class ConcernFields(FlaskForm):
    """What every concern asks: areas, what was observed and when, the child's strengths, what was done,
    what the child said, the family's view, urgency, and how and when agreement was given."""

    areas = MultiCheckboxField(
        _l("Needs Compass areas"),
        choices=AREA_CHOICES,
        validators=[DataRequired(_l("Choose at least one Needs Compass area"))],
    )
    observed_on = DateField(
        _l("Observed on"),
        validators=[
            InputRequired(_l("Enter the date you observed it")),
            _not_after_today(_l("The date observed cannot be in the future")),
        ],
    )
    observations = _text(
        _l("What you observed"),
        required=True,
        description=_l("Dated facts: what you saw and heard, and when. Do not write identity numbers."),
    )
    strengths = _text(_l("The child's strengths"), description=_l("What goes well, and who and what helps."))
    already_done = _text(_l("What you have already done"))
    child_said = _text(_l("What the child said"), description=_l("In the child's own words, if you can."))
    family_view = _text(_l("The family's view"))
    urgency = RadioField(
        _l("How urgent is it?"),
        choices=URGENCY_CHOICES,
        default="routine",
        validators=[InputRequired(_l("Choose how urgent it is"))],
    )
    agreement_method = SelectField(_l("How they agreed"), choices=METHOD_CHOICES, default="", validate_choice=True)
    agreement_on = DateField(
        _l("Date they agreed"),
        validators=[Optional(), _not_after_today(_l("The date they agreed cannot be in the future"))],
    )

    def _agreement_given(self) -> bool:
        raise NotImplementedError

    def validate(self, extra_validators: ExtraValidators | None = None) -> bool:
        """How and when are required once someone agreed (checked here: an empty optional field stops its
        own validators)."""
        valid = super().validate(extra_validators)
        if not self._agreement_given():
            return valid
        if not self.agreement_method.data and not self.agreement_method.errors:
            self.agreement_method.errors = [_("Choose how they agreed")]
            valid = False
        on = self.agreement_on
        if not on.errors:
            if on.data is None:
                on.errors = [_("Enter the date they agreed")]
                valid = False
            elif on.data < today() - timedelta(days=MAX_AGREEMENT_AGE_DAYS):
                on.errors = [_("The agreement must be from the last 12 months")]
                valid = False
        return valid

    def concern_data(self, agreed_guardian_ids: Iterable[int] = (), young_person_agreed: bool = False) -> ConcernData:
        given = self._agreement_given()
        return ConcernData(
            areas=list(self.areas.data or ()),
            observed_on=self.observed_on.data,
            observations=self.observations.data or "",
            strengths=self.strengths.data,
            already_done=self.already_done.data,
            child_said=self.child_said.data,
            family_view=self.family_view.data,
            urgency=self.urgency.data or "routine",
            agreed_guardian_ids=tuple(agreed_guardian_ids),
            young_person_agreed=young_person_agreed,
            agreement_method=(self.agreement_method.data or None) if given else None,
            agreement_on=self.agreement_on.data if given else None,
        )

    def show_refusal(self, error: OperationError) -> None:
        """An operation's refusal next to its field, or at the top of the form."""
        field = self._fields.get(error.field) if error.field else None
        if field is not None:
            field.errors = [*list(field.errors or ()), error.message]
        else:
            self.form_errors.append(error.message)


class RaiseConcernForm(ConcernFields):
    """On the child's page: which guardians with custody agreed (a checkbox each, by name), or the young
    person where they decide for the Child Contact's agency."""

    agreed = MultiCheckboxField(_l("Who agreed that it is passed on"), choices=[], validate_choice=True)

    def set_agreement_choices(self, pairs: Iterable[tuple[str, object]]) -> RaiseConcernForm:
        self.agreed.choices = [SelectChoice(str(value), label) for value, label in pairs]
        return self

    def _agreement_given(self) -> bool:
        return bool(self.agreed.data)


class RaiseConcernByNumberForm(ConcernFields):
    """By identity number for a child the practitioner may not see: the number (POST only, never shown
    again), and whether every guardian with custody agreed."""

    identity_number = IdentityNumberField(
        _l("The child's identity number"),
        filters=[_strip],
        validators=[
            DataRequired(_l("Enter the child's identity number")),
            Length(max=MAX_NUMBER_INPUT, message=_l("Enter 10 or 12 digits, for example YYYYMMDD-NNNN.")),
        ],
        render_kw={"autocomplete": "off", "inputmode": "numeric", "maxlength": MAX_NUMBER_INPUT},
    )
    everyone_agreed = RadioField(
        _l("Did every guardian with custody agree that this is passed on?"),
        choices=[
            SelectChoice("yes", _l("Yes, every guardian with custody agreed")),
            SelectChoice("no", _l("No, or I do not know")),
        ],
        validators=[InputRequired(_l("Say whether every guardian with custody agreed"))],
    )

    number: IdentityNumber | None = None

    def validate_identity_number(self, field: IdentityNumberField) -> None:
        if field.errors:
            return
        try:
            self.number = parse_identity_number(field.data or "", today=today())
        except InvalidIdentityNumber as error:
            raise ValidationError(NUMBER_ERRORS[error.reason]()) from None

    def _agreement_given(self) -> bool:
        return self.everyone_agreed.data == "yes"


class RegisterUnmatchedForm(FlaskForm):
    """The agency admin registers the child of an unmatched concern with the stored number."""

    given_name = StringField(
        _l("Given name"),
        filters=[_strip],
        validators=[
            DataRequired(_l("Enter the given name")),
            Length(max=MAX_NAME_LENGTH, message=_l("Write at most %(max)d characters")),
        ],
        render_kw={"autocomplete": "off", "maxlength": MAX_NAME_LENGTH},
    )
    family_name = StringField(
        _l("Family name"),
        filters=[_strip],
        validators=[
            DataRequired(_l("Enter the family name")),
            Length(max=MAX_NAME_LENGTH, message=_l("Write at most %(max)d characters")),
        ],
        render_kw={"autocomplete": "off", "maxlength": MAX_NAME_LENGTH},
    )
    unit = SelectField(_l("Enrol at"), choices=[], validators=[InputRequired(_l("Choose a unit"))])

    def set_units(self, pairs: Iterable[tuple[str, object]]) -> RegisterUnmatchedForm:
        self.unit.choices = [SelectChoice("", _l("Choose a unit")), *(SelectChoice(v, label) for v, label in pairs)]
        return self

    def validate_unit(self, field: SelectField) -> None:
        if not field.data:
            raise ValidationError(_l("Choose a unit"))


class SiblingRequestForm(FlaskForm):
    """The confirmation of a content-free request to a sibling's Child Contact (the sibling by its number
    on the page, never an id)."""

    sibling = StringField(validators=[DataRequired(), Length(max=4)])
