"""Forms for finding children."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length


class IdentityNumberSearchForm(FlaskForm):
    identity_number = StringField(
        _l("Personal identity number or coordination number"),
        validators=[
            DataRequired(_l("Enter a personal identity number")),
            Length(max=20, message=_l("Enter 10 or 12 digits: YYYYMMDD-NNNN")),
        ],
        render_kw={"autocomplete": "off", "inputmode": "numeric", "spellcheck": "false"},
    )
