"""Forms of the minutes: the facilitator's editor with its action points, and the owner's
line on how it went."""

from __future__ import annotations

import re
from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    StringField,
    TextAreaField,
)
from wtforms.widgets import DateInput

from learnnet.forms import EARLIEST, LATEST, Length, strip_filter
from learnnet.learning.minutes_services import MAX_NOTE, MAX_TEXT, MAX_WHAT

EMPTY_ROWS = 2
_DAY = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$")


def parse_day(raw: str) -> date | None:
    """A date as a date field sends it (2027-01-12) or as typed (12/01/2027, 12-1-2027,
    12.01.2027); None when it is no date."""
    raw = (raw or "").strip()
    try:
        return date.fromisoformat(raw)
    except ValueError:
        pass
    match = _DAY.match(raw)
    if not match:
        return None
    day, month, year = (int(part) for part in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        return None


class ActionRowForm(Form):
    """One action point of the editor: what, who, by when (or remove it)."""

    action_id = HiddenField()
    what = TextAreaField(_l("What"), filters=[strip_filter], render_kw={"rows": 2})
    owner = StringField(_l("Who"), filters=[strip_filter])
    due_on = StringField(_l("By when"), widget=DateInput(), filters=[strip_filter])
    remove = BooleanField(_l("Remove this agreement"))

    def is_blank(self) -> bool:
        """A new row left empty: ignored."""
        return not (self.action_id.data or self.what.data or self.owner.data or self.due_on.data)

    def check(self, owners: set[str]) -> bool:
        """Every field filled in and sensible; errors beside the fields. True when good."""
        self.parsed_due: date | None = None
        if self.remove.data and self.action_id.data:
            return True
        good = True
        if not self.what.data:
            self.what.errors = [_l("Write what was agreed.")]
            good = False
        elif len(self.what.data) > MAX_WHAT:
            self.what.errors = [_l("At most %(max)d characters, please.", max=MAX_WHAT)]
            good = False
        if self.owner.data not in owners:
            self.owner.errors = [_l("Choose a member facility or one of its contact persons.")]
            good = False
        day = parse_day(self.due_on.data or "")
        if day is None:
            self.due_on.errors = [_l("That is no date; write e.g. 12/01/2027.")]
            good = False
        elif not EARLIEST <= day <= LATEST:
            self.due_on.errors = [_l("Enter a date between 2000 and 2100.")]
            good = False
        self.parsed_due = day
        return good


class MinutesForm(FlaskForm):
    """The minutes of a session: the general text, the action points (the texts per
    agenda item are read by name, one per item)."""

    general_text = TextAreaField(
        _l("General"), filters=[strip_filter], validators=[Length(max=MAX_TEXT)]
    )
    actions = FieldList(FormField(ActionRowForm), min_entries=0)


class NoteForm(FlaskForm):
    """The owner's line on how it went (and, with the button, done)."""

    text = TextAreaField(
        _l("How did it go?"),
        filters=[strip_filter],
        validators=[Length(max=MAX_NOTE)],
        render_kw={"rows": 3},
    )
