"""Forms for changing sessions after planning: time and host, details, cancel, swap, periods."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, NumberRange, Optional, ValidationError

from learnnet.forms import Length, PlausibleDate, strip_filter

TRIM = [strip_filter]


class SessionTimeForm(FlaskForm):
    """Move a session, or add one: date, times, host."""

    day = DateField(_l("Date"), validators=[DataRequired(_l("Enter a date.")), PlausibleDate()])
    start_time = TimeField(_l("Starts at"), validators=[DataRequired(_l("Enter a time."))])
    end_time = TimeField(_l("Ends at"), validators=[DataRequired(_l("Enter a time."))])
    host_id = SelectField(_l("Host"), coerce=int, validators=[DataRequired(_l("Choose a host."))])
    title = StringField(_l("Title"), filters=TRIM, validators=[Length(max=160)])


class SessionDetailsForm(FlaskForm):
    """What members need to know about a session. (What the host will show is part of
    the programme: learning.views.programme_texts.)"""

    title = StringField(
        _l("Title"), filters=TRIM, validators=[DataRequired(_l("Enter a title.")), Length(max=160)]
    )
    agenda = TextAreaField(_l("Agenda"), filters=TRIM, validators=[Length(max=5000)])
    practical_info = TextAreaField(
        _l("Practical information"),
        description=_l("Address, room, parking, public transport, accessibility."),
        filters=TRIM,
        validators=[Length(max=5000)],
    )
    capacity = IntegerField(
        _l("Maximum number of participants"),
        validators=[Optional(), NumberRange(1, 500, _l("Enter a number from 1 to 500."))],
    )
    rsvp_deadline = DateField(
        _l("Answers possible until"), validators=[Optional(), PlausibleDate()]
    )


class CancelForm(FlaskForm):
    """Cancel a session, optionally saying why (the reason goes into the cancellation mail)."""

    reason = TextAreaField(
        _l("Reason (optional)"),
        description=_l("Everyone who was invited reads it in the cancellation message."),
        filters=TRIM,
        validators=[Length(max=1000)],
    )


class SwapForm(FlaskForm):
    """Swap hosts with another session."""

    other_id = SelectField(
        _l("Swap the host with"), coerce=int, validators=[DataRequired(_l("Choose a session."))]
    )


class PeriodForm(FlaskForm):
    """A blackout period of the network, or days a facility cannot host."""

    starts_on = DateField(
        _l("From"), validators=[DataRequired(_l("Enter a date.")), PlausibleDate()]
    )
    ends_on = DateField(
        _l("Until"), validators=[DataRequired(_l("Enter a date.")), PlausibleDate()]
    )
    label = StringField(
        _l("Description"),
        filters=TRIM,
        validators=[Length(max=120)],
        description=_l("E.g. Christmas holidays."),
    )

    def for_facility(self) -> PeriodForm:
        """The same form for a facility's closed days: a hint that fits them."""
        self.label.description = _l("E.g. renovation, closing days.")
        return self

    def validate_ends_on(self, field: Any) -> None:
        """The end date may equal but not precede the start."""
        if field.data and self.starts_on.data and field.data < self.starts_on.data:
            raise ValidationError(_l("The end date is before the start date."))
