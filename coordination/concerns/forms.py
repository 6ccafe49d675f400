"""Forms of a concern's page and of requests to become Support Coordinator.

Query-free: the view fills the nominees with ``set_choices``. Every text field has a maximum length
(checked here and again by the operations); every message is translatable.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, RadioField, SelectMultipleField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from coordination.clock import today
from coordination.concerns.models import TEXT_MAX
from coordination.concerns.operations.coordinators import DECLINE_REASON_MAX, MAX_NOMINEES, MESSAGE_MAX
from coordination.errors import OperationError


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _at_most(limit: int) -> Length:
    return Length(max=limit, message=_l("Write at most %(max)d characters"))


def _not_in_the_future(_form: FlaskForm, field: DateField) -> None:
    if field.data is not None and field.data > today():
        raise ValidationError(_l("The date of the conversation cannot be in the future"))


WITH_WHOM_CHOICES = [
    SelectChoice("family", _l("The family")),  # type: ignore[arg-type]
    SelectChoice("child", _l("The child")),  # type: ignore[arg-type]
]
CLOSE_REASON_CHOICES = [
    SelectChoice("handled_within_agency", _l("Handled within my agency")),  # type: ignore[arg-type]
    SelectChoice("no_further_action", _l("No further action")),  # type: ignore[arg-type]
    SelectChoice("other", _l("Other")),  # type: ignore[arg-type]
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
        self.nominees.choices = [SelectChoice(key, label) for key, label in nominees]  # type: ignore[arg-type]

    def validate(self, extra_validators=None) -> bool:  # type: ignore[no-untyped-def]
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
