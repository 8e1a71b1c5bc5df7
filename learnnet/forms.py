"""Form helpers shared by every domain."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms.validators import ValidationError


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
