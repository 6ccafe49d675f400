"""Forms of the app shell: login and language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, SelectMultipleField, StringField
from wtforms.validators import AnyOf, DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from coordination.auth import MAX_PASSWORD_LENGTH, MAX_USERNAME_LENGTH


class LoginForm(FlaskForm):
    username = StringField(
        _l("Username"),
        validators=[
            DataRequired(_l("Enter your username")),
            Length(max=MAX_USERNAME_LENGTH, message=_l("The username is too long")),
        ],
        render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[
            DataRequired(_l("Enter your password")),
            Length(max=MAX_PASSWORD_LENGTH, message=_l("The password is too long")),
        ],
        render_kw={"autocomplete": "current-password"},
    )
    next = HiddenField()


class LanguageForm(FlaskForm):
    # The page offers the other language as one button; the value must be one we speak.
    language = StringField(
        _l("Language"),
        validators=[DataRequired(_l("Choose a language")), AnyOf(("sv", "en"), message=_l("Choose a language"))],
    )
    next = HiddenField()


class DemoLoginForm(FlaskForm):
    """The demo persona picker: only a CSRF token; the persona is in the URL."""


class MultiCheckboxField(SelectMultipleField):
    """A list of checkboxes (one per choice) instead of a multiple select."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()
