"""Forms of check-in: a walk-in, the settings."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, SelectField, StringField
from wtforms.validators import DataRequired, Email, Optional

from learnnet.forms import Length, OneLine


class WalkInForm(FlaskForm):
    """Someone who came without being on the list."""

    name = StringField(
        _l("Name"),
        validators=[
            DataRequired(_l("Enter a name.")),
            Length(max=120, message=_l("At most %(max)d characters.", max=120)),
            OneLine(),
        ],
        render_kw={"autocomplete": "off"},
    )
    facility_id = SelectField(_l("Facility"), coerce=int, validate_choice=False)
    organisation = StringField(
        _l("Organisation (for a guest)"),
        validators=[
            Optional(),
            Length(max=160, message=_l("At most %(max)d characters.", max=160)),
        ],
    )
    email = EmailField(
        _l("Email address (optional)"),
        validators=[
            Optional(),
            Email(_l("This is not a valid email address.")),
            Length(max=254, message=_l("At most %(max)d characters.", max=254)),
        ],
    )
