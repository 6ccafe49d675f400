"""Every form of the Child's Plan: the Plan tab's (start the plan, add a need, a goal, an action, publish,
close, the plan's texts, withhold an item from guardians), the reviews' (record a review, another agency's
ratings) and the worklist's (update an action, reassign it).

Query-free: the view fills every choice that depends on data (agencies, units, people, needs) with
``set_choices``; values are public ids. Areas, close reasons are fixed lists in code. Every text field
has a maximum length; every message is translatable."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, ValidationError
from wtforms.widgets import HiddenInput

from childplan import wheel
from childplan.compass import AREAS
from childplan.labels import STATUS_LABELS
from childplan.models import ACTION_STATUSES, PLAN_CLOSE_REASONS, PLAN_TEXT_MAX
from childplan.operations.common import REASON_MAX
from childplan.operations.reviews import COMMENT_MAX, NOTE_MAX, comment_field, rating_field
from childplan.wheel import PROFESSIONALS
from coordination.forms import MultiCheckboxField

MAX_KEY_LENGTH = 64
AREA_CHOICES = [SelectChoice(area.code, area.label) for area in AREAS]
CLOSE_REASON_LABELS = {
    "goals_met": _l("The goals are met"),
    "moved_away": _l("The child has moved away"),
    "turned_18": _l("The young person has turned 18"),
    "other": _l("Another reason"),
}
assert set(CLOSE_REASON_LABELS) == set(PLAN_CLOSE_REASONS)
TOO_LONG = _l("Use at most %(max)d characters")


def _required_text(label: object, message: object) -> TextAreaField:
    return TextAreaField(
        label,
        validators=[
            InputRequired(message=message),
            Length(max=PLAN_TEXT_MAX, message=TOO_LONG),
        ],
    )


def _optional_text(label: object) -> TextAreaField:
    return TextAreaField(
        label,
        validators=[
            Optional(),
            Length(max=PLAN_TEXT_MAX, message=TOO_LONG),
        ],
    )


def _choices(pairs: Iterable[tuple[str, object]]) -> list[SelectChoice]:
    return [SelectChoice(str(value), label) for value, label in pairs]


class StartPlanForm(FlaskForm):
    why = _required_text(_l("Why there is a plan"), _l("Say why there is a plan"))
    overall_responsibility = _optional_text(_l("Who has overall responsibility"))


class NeedForm(FlaskForm):
    description = _required_text(_l("The need"), _l("Describe the need"))
    areas = MultiCheckboxField(_l("Needs Compass areas"), choices=AREA_CHOICES, validate_choice=True)
    strengths = _optional_text(_l("Strengths"))
    getting_in_the_way = _optional_text(_l("What gets in the way"))

    def validate_areas(self, field: MultiCheckboxField) -> None:
        if not field.data:
            raise ValidationError(_l("Choose at least one area"))


class GoalForm(FlaskForm):
    outcome = _required_text(_l("The outcome you want"), _l("Describe the outcome you want"))
    evidence = _optional_text(_l("How you will see it is reached"))


class ActionForm(FlaskForm):
    """``owner_agency``, ``owner_unit``, ``owner_person`` and ``need`` hold public ids offered by the view."""

    what = _required_text(_l("What will be done"), _l("Say what will be done"))
    owner_agency = SelectField(_l("Owning agency"), validators=[Length(max=MAX_KEY_LENGTH)], validate_choice=False)
    owner_unit = SelectField(_l("Unit (optional)"), validators=[Length(max=MAX_KEY_LENGTH)], validate_choice=False)
    owner_person = SelectField(_l("Person (optional)"), validators=[Length(max=MAX_KEY_LENGTH)], validate_choice=False)
    starts_on = DateField(_l("Start date (optional)"), validators=[Optional()])
    due_on = DateField(_l("Due date (optional)"), validators=[Optional()])
    need = SelectField(
        _l("The need it serves (optional)"), validators=[Length(max=MAX_KEY_LENGTH)], validate_choice=False
    )
    areas = MultiCheckboxField(
        _l("Needs Compass areas (when it serves no need)"), choices=AREA_CHOICES, validate_choice=True
    )

    def set_choices(
        self,
        agencies: Iterable[tuple[str, object]],
        units: Iterable[tuple[str, object]],
        people: Iterable[tuple[str, object]],
        needs: Iterable[tuple[str, object]],
    ) -> None:
        self.owner_agency.choices = _choices([("", _l("Choose the agency")), *agencies])
        self.owner_unit.choices = _choices([("", _l("No unit")), *units])
        self.owner_person.choices = _choices([("", _l("No one named")), *people])
        self.need.choices = _choices([("", _l("No need: choose areas below")), *needs])

    def _offered(self, field: SelectField, message: object, required: bool = False) -> None:
        offered = {choice[0] for choice in field.iter_choices()} if field.choices else set()
        value = field.data or ""
        if (required and not value) or (value and value not in offered):
            field.errors = [*list(field.errors or ()), str(message)]

    def validate(self, extra_validators: Mapping[str, Sequence[Any]] | None = None) -> bool:
        valid = super().validate(extra_validators)
        self._offered(self.owner_agency, _l("Choose the agency that owns the action"), required=True)
        self._offered(self.owner_unit, _l("Choose a unit of the owning agency"))
        self._offered(self.owner_person, _l("Choose an active practitioner of the owning agency (and unit)"))
        self._offered(self.need, _l("Choose a need of this plan"))
        if not self.need.data and not self.areas.data and not self.areas.errors:
            self.areas.errors = [*list(self.areas.errors or ()), str(_l("Choose a need, or at least one area"))]
        start, due = self.starts_on.data, self.due_on.data
        if start is not None and due is not None and due < start:
            self.due_on.errors = [
                *list(self.due_on.errors or ()),
                str(_l("The due date cannot be before the start date")),
            ]
        return valid and not any(
            f.errors
            for f in (self.owner_agency, self.owner_unit, self.owner_person, self.need, self.areas, self.due_on)
        )


class PublishForm(FlaskForm):
    """The confirmation step of publishing a version: only the token."""


class ClosePlanForm(FlaskForm):
    reason = SelectField(
        _l("Why the plan is closed"),
        choices=_choices([("", _l("Choose a reason")), *CLOSE_REASON_LABELS.items()]),
        validate_choice=False,
    )
    note = TextAreaField(
        _l("Note (say what the reason is, if you chose Another reason)"),
        validators=[Length(max=PLAN_TEXT_MAX, message=TOO_LONG)],
    )

    def validate_reason(self, field: SelectField) -> None:
        if field.data not in CLOSE_REASON_LABELS:
            raise ValidationError(_l("Choose why the plan is closed"))

    def validate_note(self, field: TextAreaField) -> None:
        if self.reason.data == "other" and not (field.data or "").strip():
            raise ValidationError(_l("Say why the plan is closed"))


class PlanTextsForm(FlaskForm):
    """The plan keeper's plan-level texts. ``version`` is the plan's version the form was shown at
    (optimistic locking: a stale one is answered 409 with the current texts and this text kept)."""

    version = HiddenField()
    why = _required_text(_l("Why there is a plan"), _l("Say why there is a plan"))
    overall_responsibility = _optional_text(_l("Who has overall responsibility"))
    child_views = _optional_text(_l("The child's views"))
    guardian_views = _optional_text(_l("The guardians' views"))
    disagreements = _optional_text(_l("Where views differ"))
    next_review_on = DateField(_l("Next review (optional)"), validators=[Optional()])

    def version_number(self) -> int | None:
        raw = (self.version.data or "").strip()
        return int(raw) if raw.isdecimal() and len(raw) < 10 else None


class WithholdForm(FlaskForm):
    """Withhold an item from guardians: the reason is required and recorded."""

    reason = TextAreaField(
        _l("Why it is withheld from guardians"),
        validators=[
            InputRequired(message=_l("Say why this is withheld from guardians")),
            Length(max=REASON_MAX, message=TOO_LONG),
        ],
    )

    def validate_reason(self, field: TextAreaField) -> None:
        if not (field.data or "").strip():
            raise ValidationError(_l("Say why this is withheld from guardians"))


# -- reviews ----------------------------------------------------------------------------------------------
def rating_choices() -> list[tuple[str, object]]:
    return [("", _l("Not rated")), *((str(scale), f"{scale} – {wheel.RATING_WORDS[scale]}") for scale in wheel.SCALE)]


class ReviewForm(FlaskForm):
    """When the review was held, a note, and per area and voice a rating (1–5 or not rated) and a comment.
    The rating fields are added below, one per area and voice; the choice is checked by the operation
    (so a value outside 1–5 is refused next to its field)."""

    held_on = DateField(_l("Date of the review"), validators=[InputRequired(_l("Enter the date of the review"))])
    note = TextAreaField(
        _l("Note"),
        validators=[Optional(), Length(max=NOTE_MAX, message=_l("Write at most %(max)d characters"))],
    )


for _area in AREAS:
    for _voice in wheel.VOICES:
        setattr(
            ReviewForm,
            rating_field(_area.code, _voice),
            SelectField(
                _l("%(area)s: %(voice)s", area=_area.label, voice=wheel.VOICE_LABELS[_voice]),
                choices=[],
                validate_choice=False,
                default="",
            ),
        )
        setattr(
            ReviewForm,
            comment_field(_area.code, _voice),
            TextAreaField(
                _l("Comment"),
                validators=[Optional(), Length(max=COMMENT_MAX, message=_l("Write at most %(max)d characters"))],
            ),
        )


class AgencyRatingsForm(FlaskForm):
    """Another agency's professional ratings at a review: per area a rating (1–5 or not rated) and a
    comment; the fields are added below, one pair per area."""


for _area in AREAS:
    setattr(
        AgencyRatingsForm,
        rating_field(_area.code, PROFESSIONALS),
        SelectField(_area.label, choices=[], validate_choice=False, default=""),
    )
    setattr(
        AgencyRatingsForm,
        comment_field(_area.code, PROFESSIONALS),
        TextAreaField(
            _l("Comment"),
            validators=[Optional(), Length(max=COMMENT_MAX, message=_l("Write at most %(max)d characters"))],
        ),
    )


def agency_ratings_form(from_request: bool = True) -> AgencyRatingsForm:
    """The form with its rating choices: filled from the request, or empty (``from_request=False``)."""
    form = AgencyRatingsForm() if from_request else AgencyRatingsForm(formdata=None)
    choices = rating_choices()
    for area in AREAS:
        form[rating_field(area.code, PROFESSIONALS)].choices = choices
    return form


def review_form() -> ReviewForm:
    """The form, filled from the request, with its rating choices."""
    form = ReviewForm()
    choices = rating_choices()
    for area in AREAS:
        for voice in wheel.VOICES:
            form[rating_field(area.code, voice)].choices = choices
    return form


# -- the worklist ---------------------------------------------------------------------------------------------
class ActionUpdateForm(FlaskForm):
    """Status, progress note and (when stopped) why; the version the row was shown with."""

    status = SelectField(
        _l("Status"),
        choices=[SelectChoice(code, STATUS_LABELS[code]) for code in ACTION_STATUSES],
        validators=[InputRequired(_l("Choose a status"))],
        validate_choice=True,
    )
    progress_note = TextAreaField(
        _l("Progress note"),
        validators=[Optional(), Length(max=PLAN_TEXT_MAX, message=_l("Write at most %(max)d characters"))],
    )
    stop_reason = StringField(
        _l("Why it stopped"),
        validators=[Optional(), Length(max=REASON_MAX, message=_l("Write at most %(max)d characters"))],
    )
    version = IntegerField(widget=HiddenInput(), validators=[Optional()])

    def validate_on_submit(self, extra_validators: Mapping[str, Sequence[Any]] | None = None) -> bool:
        valid = super().validate_on_submit(extra_validators)
        if self.status.data == "stopped" and not (self.stop_reason.data or "").strip():
            self.stop_reason.errors = [*self.stop_reason.errors, _("Say why the action is stopped")]
            return False
        return valid


class ReassignForm(FlaskForm):
    """The unit and person to give the action to (public ids; empty: none), and the version the row was
    shown with. The choices are the page's (``ReassignChoices``); the operation decides what is allowed."""

    owner_unit = SelectField(_l("Unit (optional)"), validate_choice=False)
    owner_person = SelectField(_l("Person (optional)"), validate_choice=False)
    version = IntegerField(widget=HiddenInput(), validators=[Optional()])
