"""Form helpers shared by every domain."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms.validators import Length as _WTFormsLength
from wtforms.validators import ValidationError

from learnnet.names import is_one_line


def strip_filter(value: Any) -> Any:
    """Trim surrounding whitespace from text input."""
    return value.strip() if isinstance(value, str) else value


EARLIEST = date(2000, 1, 1)
LATEST = date(2100, 12, 31)


class PlausibleDate:
    """Dates between 2000 and 2100: typos such as 0202 or 20266 get a message, not a crash."""

    def __call__(self, form: Any, field: Any) -> None:
        value = field.data
        if isinstance(value, date) and not EARLIEST <= value <= LATEST:
            raise ValidationError(_l("Enter a date between 2000 and 2100."))


class Length(_WTFormsLength):
    """WTForms' Length without the ``maxlength`` attribute: a browser silently cuts what
    is typed or pasted at that length; the server names the limit beside the field instead."""

    def __init__(self, min: int = -1, max: int = -1, message: str | None = None) -> None:
        super().__init__(
            min,
            max,
            message
            or (_l("At most %(max)d characters, please (now %(length)d).") if min < 0 else None),
        )
        self.field_flags = {k: v for k, v in self.field_flags.items() if k != "maxlength"}


class OneLine:
    """One line of text (names, address lines): no line break, no other control character.

    The rule of :mod:`learnnet.names`, shared with the CSV import and the mail builder:
    such a name would break the ``To:`` or ``Subject:`` header of every mail it reaches.
    """

    def __call__(self, form: Any, field: Any) -> None:
        if isinstance(field.data, str) and not is_one_line(field.data):
            raise ValidationError(
                _l("Use one line of text, without line breaks or other control characters.")
            )
