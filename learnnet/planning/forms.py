"""Forms for planning a season: the recurrence pattern, the dates and the plan's details."""

from __future__ import annotations

from datetime import date, time
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, NumberRange, Optional, ValidationError

from learnnet.forms import EARLIEST, LATEST, Length, PlausibleDate, strip_filter
from learnnet.planning.recurrence import DATES, MAX_SESSIONS, MONTHLY, WEEKLY
from learnnet.timefmt import local_today

TRIM = [strip_filter]


def weekday_choices() -> list[tuple[str, str]]:
    """Monday first, as Belgian calendars show it."""
    names = [
        _l("Monday"),
        _l("Tuesday"),
        _l("Wednesday"),
        _l("Thursday"),
        _l("Friday"),
        _l("Saturday"),
        _l("Sunday"),
    ]
    return [(str(i), str(n)) for i, n in enumerate(names)]


def nth_choices() -> list[tuple[str, str]]:
    """Which weekday of the month."""
    return [
        ("1", str(_l("first"))),
        ("2", str(_l("second"))),
        ("3", str(_l("third"))),
        ("4", str(_l("fourth"))),
        ("-1", str(_l("last"))),
    ]


def pattern_choices() -> list[tuple[str, str]]:
    """The three kinds of series."""
    return [
        (MONTHLY, str(_l("Monthly, on a weekday (e.g. the second Tuesday)"))),
        (WEEKLY, str(_l("Every few weeks on a weekday"))),
        (DATES, str(_l("On dates I choose"))),
    ]


def parse_dates(text: str) -> list[date]:
    """Dates one per line (or comma-separated), as 2027-01-12 or 12/01/2027 or 12-01-2027."""
    found = []
    for raw in text.replace(",", "\n").replace(";", "\n").split():
        raw = raw.strip()
        if not raw:
            continue
        try:
            if len(raw) == 10 and raw[4] == "-":
                parsed = date.fromisoformat(raw)
            else:
                day, month, year = raw.replace("-", "/").replace(".", "/").split("/")
                parsed = date(int(year), int(month), int(day))
        except (ValueError, OverflowError) as exc:
            raise ValueError(raw) from exc
        if not EARLIEST <= parsed <= LATEST:
            raise ValueError(raw)
        found.append(parsed)
    return found


class PlanForm(FlaskForm):
    """The pattern of a new season."""

    pattern = RadioField(_l("Sessions take place"), choices=pattern_choices, default=MONTHLY)
    nth = SelectField(_l("Which week of the month"), choices=nth_choices, default="2")
    weekday = SelectField(_l("Weekday"), choices=weekday_choices, default="1")
    interval_weeks = IntegerField(
        _l("Weeks between two sessions"),
        default=4,
        validators=[Optional(), NumberRange(1, 12, _l("Enter a number from 1 to 12."))],
    )
    dates = TextAreaField(
        _l("Dates"),
        description=_l("One date per line, e.g. 12/01/2027."),
        validators=[Length(max=2000)],
    )
    start_on = DateField(
        _l("First possible date"),
        validators=[DataRequired(_l("Enter a date.")), PlausibleDate()],
        default=local_today,
    )
    count = IntegerField(
        _l("Number of sessions"),
        default=10,
        validators=[
            Optional(),
            NumberRange(
                1,
                MAX_SESSIONS,
                _l("Plan between 1 and %(max)d sessions at a time.", max=MAX_SESSIONS),
            ),
        ],
    )
    until = DateField(
        _l("Or: last possible date"),
        validators=[Optional(), PlausibleDate()],
        description=_l("Leave empty to plan the number of sessions above."),
    )
    start_time = TimeField(
        _l("Starts at"), default=time(19, 0), validators=[DataRequired(_l("Enter a time."))]
    )
    duration = IntegerField(
        _l("Duration in minutes"),
        default=150,
        validators=[
            DataRequired(_l("Enter the duration in minutes.")),
            NumberRange(15, 720, _l("A session lasts between 15 and 720 minutes.")),
        ],
    )
    title = StringField(
        _l("Title"), filters=TRIM, default=_l("Network session"), validators=[Length(max=160)]
    )
    expected = IntegerField(
        _l("Expected attendance"),
        description=_l("Hosts need a room for this many people."),
        validators=[Optional(), NumberRange(1, 500, _l("Enter a number from 1 to 500."))],
    )
    rsvp_days = IntegerField(
        _l("Answers close (days before the session)"),
        default=7,
        validators=[Optional(), NumberRange(0, 60, _l("Enter a number from 0 to 60."))],
    )

    def validate_dates(self, field: Any) -> None:
        """Explicit dates must parse when that pattern is chosen."""
        if self.pattern.data != DATES:
            return
        try:
            parsed = parse_dates(field.data or "")
        except ValueError as exc:
            raise ValidationError(
                _l("“%(value)s” is not a date; write e.g. 12/01/2027.", value=str(exc))
            ) from exc
        if not parsed:
            raise ValidationError(_l("Enter at least one date."))

    def validate_until(self, field: Any) -> None:
        """The end must come after the start."""
        if field.data and self.start_on.data and field.data < self.start_on.data:
            raise ValidationError(_l("The last date is before the first."))

    def validate(self, extra_validators: Any = None) -> bool:
        """Field checks, plus: a weekly or monthly series needs a number or a last date."""
        valid = super().validate(extra_validators)
        if self.pattern.data != DATES and not self.count.data and not self.until.data:
            if not self.count.errors and not self.until.errors:
                self.until.errors = [
                    *self.until.errors,
                    _l("Enter a number of sessions or a last date."),
                ]
            return False
        return valid

    def validate_duration(self, field: Any) -> None:
        """A session ends on the day it starts (moving it keeps one date)."""
        start = self.start_time.data
        if start and field.data and start.hour * 60 + start.minute + field.data > 24 * 60:
            raise ValidationError(
                _l("The session would end after midnight; start earlier or shorten it.")
            )

    def validate_start_on(self, field: Any) -> None:
        """No planning in the past."""
        if field.data and field.data < local_today():
            raise ValidationError(_l("This date has passed."))
