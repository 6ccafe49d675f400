"""Forms of the administration pages: the staff search, deactivation and choosing a Child Contact."""

from __future__ import annotations

from collections.abc import Sequence

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from agencies.access import MAX_SEARCH_LENGTH
from agencies.models import Membership


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
