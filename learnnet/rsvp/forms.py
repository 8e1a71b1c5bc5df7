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
    # After "Is this Emma Wouters?": "same" uses that contact, "other" adds a new one.
    decision = HiddenField()


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


REASON_MAX = 500
HOST_TEXT_MAX = 2000


class HostDeclineForm(FlaskForm):
    """The host's "no, we cannot" with an optional reason for the facilitator."""

    reason = TextAreaField(
        _l("Reason (optional)"),
        validators=[
            Optional(),
            Length(max=REASON_MAX, message=_l("At most %(max)d characters.", max=REASON_MAX)),
        ],
        description=_l("E.g. “our room is being renovated”. The facilitator reads it."),
        render_kw={"rows": 2},
    )


class HostDetailsForm(FlaskForm):
    """What the host fills in itself: what it will show, and how to get in."""

    host_showcase = TextAreaField(
        _l("What we will show"),
        validators=[
            Optional(),
            Length(max=HOST_TEXT_MAX, message=_l("At most %(max)d characters.", max=HOST_TEXT_MAX)),
        ],
        description=_l("E.g. our outdoor play area, how we work with baby signs."),
        render_kw={"rows": 3},
    )
    practical_info = TextAreaField(
        _l("Practical information"),
        validators=[
            Optional(),
            Length(max=HOST_TEXT_MAX, message=_l("At most %(max)d characters.", max=HOST_TEXT_MAX)),
        ],
        description=_l("Parking, entrance, bell, what to bring."),
        render_kw={"rows": 3},
    )


MESSAGE_MAX = 1000


class MessageForm(FlaskForm):
    """A member's short message to the facilitators about one of their sessions."""

    session = SelectField(_l("About"), coerce=str, validate_choice=False)
    body = TextAreaField(
        _l("Your message"),
        validators=[
            DataRequired(_l("Write a message.")),
            Length(max=MESSAGE_MAX, message=_l("At most %(max)d characters.", max=MESSAGE_MAX)),
        ],
        description=_l("E.g. “I come half an hour later”, “Can I still come?”."),
        render_kw={"rows": 3},
    )


class LostLinkForm(FlaskForm):
    """ "I lost my link": the address the invitations came to."""

    email = EmailField(
        _l("Email address"),
        validators=[
            DataRequired(_l("Enter your email address.")),
            Email(_l("This is not a valid email address.")),
            Length(max=254, message=_l("At most %(max)d characters.", max=254)),
        ],
        render_kw={"autocomplete": "email", "inputmode": "email"},
    )


class ReopenForm(FlaskForm):
    """Answers for a session closed: reopen them until a new day (then invite), or not."""

    rsvp_deadline = DateField(
        _l("Answers possible until"),
        validators=[Optional()],
        description=_l("Answers close at the end of that day."),
    )
    action = HiddenField()
