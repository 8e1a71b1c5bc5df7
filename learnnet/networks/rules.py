"""Plain rules about names, slugs and yes/no values: no Flask, no database."""

from __future__ import annotations

import functools
import re
import unicodedata
from zoneinfo import available_timezones

_SPACES = re.compile(r"\s+")
_NON_SLUG = re.compile(r"[^a-z0-9]+")

YES = frozenset({"ja", "j", "yes", "y", "1", "true", "waar", "x"})
NO = frozenset({"nee", "n", "no", "0", "false", "onwaar", ""})


def collapse_spaces(value: str) -> str:
    """Trim and collapse runs of whitespace to one space."""
    return _SPACES.sub(" ", value).strip()


NAME_KEY_LENGTH = 160

# The longest value each field takes, the same for the forms and the CSV import.
LIMITS = {
    "facility_name": 160,
    "street": 160,
    "city": 120,
    "phone": 40,
    "email": 254,
    "website": 255,
    "accessibility": 2000,
    "parking": 2000,
    "contact_name": 120,
    "contact_phone": 40,
    "contact_function": 120,
}
CAPACITY_RANGE = (1, 1000)


def complete_web_address(value: str) -> str:
    """``www.example.org`` becomes ``https://www.example.org``: people type addresses the
    way they say them. Anything with a scheme (``ftp:``, ``javascript:``…) is left as it is,
    for :func:`is_web_address` to judge."""
    value = value.strip()
    if not value or ":" in value.split("/", 1)[0] or value.startswith("/"):
        return value
    return "https://" + value


def is_web_address(value: str) -> bool:
    """A full http:// or https:// address with a host name (never javascript: or data:).

    The one rule for a website, used by the facility form and by the CSV import alike.
    """
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(value)
        host = parts.hostname or ""
    except ValueError:
        return False
    return (
        parts.scheme in ("http", "https")
        and "." in host
        and not any(c.isspace() for c in value)
        and all(label for label in host.split("."))
    )


def name_key(name: str) -> str:
    """The comparison key of a facility name: case, accents and spacing ignored.

    Case folding can lengthen a name ("ß" becomes "ss"); the key is cut to the column's
    length so that it always fits.
    """
    decomposed = unicodedata.normalize("NFKD", collapse_spaces(name).casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))[:NAME_KEY_LENGTH]


def is_ascii_number(value: str) -> bool:
    """Only the digits 0-9 (str.isdigit also accepts '²' and other scripts' digits)."""
    return value.isascii() and value.isdigit()


def parse_id(raw: str | None) -> int | None:
    """A database id from a form field: ASCII digits that fit an integer column, else None.

    Hidden fields come from the browser: "٣", "1e9" or 30 digits are refused, not a 500.
    """
    raw = (raw or "").strip()
    return int(raw) if is_ascii_number(raw) and len(raw) < 10 else None


def is_belgian_postcode(value: str) -> bool:
    """Four ASCII digits, 1000-9999."""
    return len(value) == 4 and is_ascii_number(value) and value[0] != "0"


def slugify(text: str, max_length: int = 60) -> str:
    """'Lerend netwerk Gent — baby's' -> 'lerend-netwerk-gent-baby-s'."""
    slug = _NON_SLUG.sub("-", name_key(text)).strip("-")
    return slug[:max_length].rstrip("-") or "netwerk"


def unique_slug(base: str, taken: set[str]) -> str:
    """``base``, or ``base-2``, ``base-3``… the first not in ``taken``."""
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def parse_yes_no(value: str, default: bool) -> bool | None:
    """'ja'/'nee'/'yes'/'no'/'1'/'0' to a bool; empty gives the default; None when unclear."""
    key = value.strip().casefold()
    if not key:
        return default
    if key in YES:
        return True
    if key in NO:
        return False
    return None


def is_valid_timezone(name: str) -> bool:
    """True for an IANA zone name such as Europe/Brussels."""
    return name in _zones()


@functools.cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())
