"""Form helpers shared by every domain."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms.validators import ValidationError


def strip_filter(value: Any) -> Any:
    """Trim surrounding whitespace from text input."""
    return value.strip() if isinstance(value, str) else value


class BelgianPostcode:
    """Four digits, 1000–9999."""

    def __call__(self, form: Any, field: Any) -> None:
        value = (field.data or "").strip()
        if value and not (len(value) == 4 and value.isdigit() and value[0] != "0"):
            raise ValidationError(_l("Enter a Belgian postcode of four digits, e.g. 9000."))
