"""Forms of the Team tab and the meeting pages. Query-free: the view fills every choice that depends on
data with ``set_choices``; values are opaque public ids. Every text field has a maximum length (the
operations check again); times are entered as local date and time (the app's time zone)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    FieldList,
    FormField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError
from wtforms.widgets import HiddenInput

from childplan.compass import AREAS
from coordination.clock import current_clock
from coordination.errors import OperationError
from coordination.forms import MultiCheckboxField
from coordination.teams.models import TEAM_TEXT_MAX
from coordination.teams.operations import CANCEL_REASON_MAX, PLACE_MAX, ROLE_NOTE_MAX

MAX_KEY_LENGTH = 80
DECISION_BLOCKS = 3  # blank decision blocks offered on the outcome form (no JavaScript needed)
MAX_DECISION_BLOCKS = 20
REFRESH = "refresh"  # a post of the outcome form that only shows it again (the owner's units and people)
AREA_CHOICES = [SelectChoice(area.code, area.label) for area in AREAS]
TIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]


def _max(length: int) -> Length:
    return Length(max=length, message=_l("Write at most %(max)d characters"))


def _choices(pairs: Iterable[tuple[str, object]]) -> list[SelectChoice]:
    return [SelectChoice(str(value), label) for value, label in pairs]


def apply_operation_error(form: FlaskForm, error: OperationError) -> None:
    """An operation's refusal next to its field (``decisions-0-text`` reaches into a decision block), or at
    the top of the form."""
    name = error.field or ""
    target = form._fields.get(name)
    if target is None and name.startswith("decisions-") and "decisions" in form._fields:
        _prefix, index, sub = name.split("-", 2)
        entries = form.decisions.entries
        if index.isdecimal() and int(index) < len(entries):
            target = entries[int(index)].form._fields.get(sub)
    if target is not None and not isinstance(target, FieldList):
        target.errors = [*list(target.errors or ()), error.message]
    else:
        form.form_errors.append(error.message)


def aware(value: datetime | None) -> datetime | None:
    """A local date and time from the form as an aware datetime in the app's time zone."""
    if value is None:
        return None
    return value.replace(tzinfo=current_clock().zone)


def _local_field(label: object, message: object) -> DateTimeLocalField:
    return DateTimeLocalField(label, format=TIME_FORMATS, validators=[InputRequired(message)])


def _ends_after_start(form: FlaskForm, field: DateTimeLocalField) -> None:
    start = form.starts_at.data
    if start is not None and field.data is not None and field.data <= start:
        raise ValidationError(_l("The meeting must end after it starts"))


# -- members and family ------------------------------------------------------------------------------------
class AddMemberForm(FlaskForm):
    member = SelectField(_l("Member of staff"), choices=[], validators=[InputRequired(_l("Choose a member of staff"))])
    role_note = StringField(
        _l("Their part in the team (optional)"),
        validators=[Optional(), _max(ROLE_NOTE_MAX)],
        render_kw={"maxlength": ROLE_NOTE_MAX},
    )

    def set_choices(self, pairs: Iterable[tuple[str, object]]) -> None:
        self.member.choices = [SelectChoice("", _l("Choose a member of staff")), *_choices(pairs)]


class InviteFamilyForm(FlaskForm):
    invitee = SelectField(_l("Invite"), choices=[], validators=[InputRequired(_l("Choose whom to invite"))])

    def set_choices(self, pairs: Iterable[tuple[str, object]]) -> None:
        self.invitee.choices = [SelectChoice("", _l("Choose whom to invite")), *_choices(pairs)]


class ConfirmForm(FlaskForm):
    """Remove a member, or leave the team: a confirmation step."""

    confirm = BooleanField(_l("Yes, I am sure"), validators=[DataRequired(_l("Tick the box to confirm"))])


# -- meetings ---------------------------------------------------------------------------------------------
class MeetingForm(FlaskForm):
    starts_at = _local_field(_l("Starts"), _l("Enter when the meeting starts"))
    ends_at = DateTimeLocalField(
        _l("Ends"),
        format=TIME_FORMATS,
        validators=[InputRequired(_l("Enter when the meeting ends")), _ends_after_start],
    )
    place = StringField(
        _l("Place"),
        description=_l("Where the meeting is held. With a protected identity only the child's team sees it."),
        validators=[InputRequired(_l("Enter where the meeting is held")), _max(PLACE_MAX)],
        render_kw={"maxlength": PLACE_MAX},
    )
    areas = MultiCheckboxField(_l("Needs Compass areas on the agenda"), choices=AREA_CHOICES)
    agenda = TextAreaField(
        _l("Agenda"),
        validators=[Optional(), _max(TEAM_TEXT_MAX)],
        render_kw={"maxlength": TEAM_TEXT_MAX, "rows": 6},
    )


class RescheduleForm(FlaskForm):
    version = IntegerField(widget=HiddenInput(), validators=[InputRequired()])
    starts_at = _local_field(_l("New start"), _l("Enter when the meeting starts"))
    ends_at = DateTimeLocalField(
        _l("New end"),
        format=TIME_FORMATS,
        validators=[InputRequired(_l("Enter when the meeting ends")), _ends_after_start],
    )
    place = StringField(
        _l("Place"),
        validators=[InputRequired(_l("Enter where the meeting is held")), _max(PLACE_MAX)],
        render_kw={"maxlength": PLACE_MAX},
    )


class CancelForm(FlaskForm):
    version = IntegerField(widget=HiddenInput(), validators=[InputRequired()])
    reason = TextAreaField(
        _l("Why is the meeting cancelled?"),
        validators=[InputRequired(_l("Say why the meeting is cancelled")), _max(CANCEL_REASON_MAX)],
        render_kw={"maxlength": CANCEL_REASON_MAX, "rows": 3},
    )
    confirm = BooleanField(_l("Yes, cancel the meeting"), validators=[DataRequired(_l("Tick the box to confirm"))])


class DecisionForm(FlaskForm):
    """One decision block; a block left without text is ignored unless something else in it is filled."""

    class Meta:
        csrf = False  # a sub-form: the outer form carries the token

    text = TextAreaField(_l("Decision"), validators=[Optional(), _max(TEAM_TEXT_MAX)], render_kw={"rows": 2})
    areas = MultiCheckboxField(_l("Areas"), choices=AREA_CHOICES)
    owner_agency = SelectField(_l("Owner agency (makes it a draft action)"), choices=[], default="")
    # Offered: only the chosen owner agency's units and people (``OutcomeForm.set_choices``). Not checked
    # against that list here: a unit or person of another agency is refused by the operation, with its
    # message next to the field (record_meeting_outcome checks that the owner belongs to the agency).
    owner_unit = SelectField(_l("Unit"), choices=[], default="", validate_choice=False)
    owner_person = SelectField(_l("Person"), choices=[], default="", validate_choice=False)
    due_on = DateField(_l("Due date"), validators=[Optional()])

    def is_blank(self) -> bool:
        return not (
            (self.text.data or "").strip()
            or self.areas.data
            or self.owner_agency.data
            or self.owner_unit.data
            or self.owner_person.data
            or self.due_on.data
        )


class OutcomeForm(FlaskForm):
    version = IntegerField(widget=HiddenInput(), validators=[InputRequired()])
    attendees = MultiCheckboxField(_l("Who attended"), choices=[])
    child_views = TextAreaField(
        _l("The child's views"), validators=[Optional(), _max(TEAM_TEXT_MAX)], render_kw={"rows": 3}
    )
    family_views = TextAreaField(
        _l("The family's views"), validators=[Optional(), _max(TEAM_TEXT_MAX)], render_kw={"rows": 3}
    )
    disagreements = TextAreaField(
        _l("Disagreements"), validators=[Optional(), _max(TEAM_TEXT_MAX)], render_kw={"rows": 3}
    )
    notes = TextAreaField(_l("Notes"), validators=[Optional(), _max(TEAM_TEXT_MAX)], render_kw={"rows": 4})
    decisions = FieldList(FormField(DecisionForm), min_entries=DECISION_BLOCKS, max_entries=MAX_DECISION_BLOCKS)

    def set_choices(
        self,
        attendees: Iterable[tuple[str, object]],
        agencies: Iterable[tuple[str, object]],
        units_by_agency: Mapping[str, Iterable[tuple[str, object]]],
        persons_by_agency: Mapping[str, Iterable[tuple[str, object]]],
        refresh_url: str | None = None,
    ) -> None:
        """Each decision block offers the units and people of the agency chosen in it (none before an
        agency is chosen). With ``refresh_url`` choosing an agency re-renders the block through htmx (a
        POST with ``refresh``: nothing is written); without JavaScript the block's "Show the agency's units
        and people" button does the same for the whole form, keeping what was typed."""
        self.attendees.choices = _choices(attendees)
        none = SelectChoice("", _l("None"))
        agency_choices = [none, *_choices(agencies)]
        units = {key: [none, *_choices(pairs)] for key, pairs in units_by_agency.items()}
        persons = {key: [none, *_choices(pairs)] for key, pairs in persons_by_agency.items()}
        for index, entry in enumerate(self.decisions.entries):
            block = entry.form
            chosen = block.owner_agency.data or ""
            block.owner_agency.choices = agency_choices
            block.owner_unit.choices = units.get(chosen, [none])
            block.owner_person.choices = persons.get(chosen, [none])
            if refresh_url is not None:
                block.owner_agency.render_kw = {
                    "hx-post": refresh_url,
                    "hx-trigger": "change",
                    "hx-include": "closest form",
                    "hx-vals": json.dumps({REFRESH: str(index)}),
                    "hx-select": f'[data-decision-block="{index}"]',
                    "hx-target": "closest fieldset",
                    "hx-swap": "outerHTML",
                }
