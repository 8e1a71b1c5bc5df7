"""Forms of the personal-link page and of the facilitator's answer panel."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, EmailField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, Email, Optional

from learnnet.forms import Length, OneLine
from learnnet.rsvp.models import ANSWERS

NOTE_MAX = 500


class AnswerForm(FlaskForm):
    """Yes / maybe / no with an optional note; ``contact`` names a colleague (checked)."""

    answer = HiddenField(validators=[AnyOf(ANSWERS, message=_l("Choose an answer."))])
    note = TextAreaField(
        _l("Note (optional)"),
        validators=[
            Optional(),
            Length(max=NOTE_MAX, message=_l("At most %(max)d characters.", max=NOTE_MAX)),
        ],
        description=_l("E.g. diet, accessibility, “I come a bit later”."),
    )
    contact = HiddenField()


class ColleagueForm(FlaskForm):
    """Add a colleague of the member's own facility."""

    name = StringField(
        _l("Name"),
        validators=[
            DataRequired(_l("Enter a name.")),
            Length(max=120, message=_l("At most %(max)d characters.", max=120)),
            OneLine(),
        ],
        render_kw={"autocomplete": "name"},
    )
    email = EmailField(
        _l("Email address (optional)"),
        validators=[
            Optional(),
            Email(_l("This is not a valid email address.")),
            Length(max=254, message=_l("At most %(max)d characters.", max=254)),
        ],
        render_kw={"autocomplete": "email", "inputmode": "email"},
    )


def answer_choices() -> list[tuple[str, str]]:
    """The three answers, as the facilitator's select shows them."""
    return [("yes", _l("Coming")), ("maybe", _l("Maybe")), ("no", _l("Not coming"))]


class OnBehalfForm(FlaskForm):
    """The facilitator sets someone's answer (after a phone call)."""

    contact = HiddenField()
    answer = SelectField(_l("Answer"), choices=answer_choices)
    note = StringField(
        _l("Note"),
        validators=[
            Optional(),
            Length(max=NOTE_MAX, message=_l("At most %(max)d characters.", max=NOTE_MAX)),
        ],
    )


class ReopenForm(FlaskForm):
    """Answers for a session closed: reopen them until a new day (then invite), or not."""

    rsvp_deadline = DateField(
        _l("Answers possible until"),
        validators=[Optional()],
        description=_l("Answers close at the end of that day."),
    )
    action = HiddenField()
