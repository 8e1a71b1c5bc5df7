"""The field rules for a facility and a contact, as plain functions: no Flask, no database.

One set of rules for every way in: the forms (their validators call these), the CSV
import (:mod:`learnnet.networks.csvio`) and the API (:mod:`learnnet.api.writes`).
Each check returns a *code* for what is wrong, or None; each caller words the code in
its own place (beside the field, in the CSV preview's line, in a problem document).
``tests/test_form_csv_agree.py`` feeds the same random values to all three.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

from email_validator import EmailNotValidError, validate_email

from learnnet.names import is_one_line
from learnnet.networks.rules import (
    CAPACITY_RANGE,
    LIMITS,
    complete_web_address,
    is_ascii_number,
    is_belgian_postcode,
    is_web_address,
)

# What a facility and a contact hold that people may change, in every way in (the forms
# name their fields after these; the API's PATCH starts from them).
FACILITY_FIELDS = (
    "name",
    "street",
    "postcode",
    "city",
    "phone",
    "email",
    "website",
    "room_capacity",
    "accessibility_notes",
    "parking_notes",
    "willing_to_host",
)
CONTACT_FIELDS = (
    "name",
    "email",
    "phone",
    "function",
    "preferred_language",
    "share_details",
    "active",
)

# Codes: what is wrong with a value.
REQUIRED = "required"
TOO_LONG = "too_long"
ONE_LINE = "one_line"
POSTCODE = "postcode"
EMAIL = "email"
WEBSITE = "website"
CAPACITY = "capacity"
LANGUAGE = "language"
UNSTORABLE = "unstorable"  # NUL or a lone surrogate: no database stores it

LANGUAGES = ("nl", "en")

# Field -> (limit key in LIMITS, one line, required), for the text fields.
FACILITY_TEXT: dict[str, tuple[str, bool, bool]] = {
    "name": ("facility_name", True, True),
    "street": ("street", True, False),
    "city": ("city", True, False),
    "phone": ("phone", True, False),
    "accessibility_notes": ("accessibility", False, False),
    "parking_notes": ("parking", False, False),
}
CONTACT_TEXT: dict[str, tuple[str, bool, bool]] = {
    "name": ("contact_name", True, True),
    "phone": ("contact_phone", True, False),
    "function": ("contact_function", True, False),
}
REQUIRED_FACILITY = ("name", "postcode", "city")

# A plain ASCII dot-atom before the @-sign: email_validator takes it as it is.
_PLAIN_LOCAL = re.compile(r"[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*\Z")


@functools.lru_cache(maxsize=1024)
def _plain_domain(domain: str) -> bool:
    """Whether email_validator accepts ``domain`` and normalises it to its lower case.

    Checking the domain is most of the cost of an address, and a member list repeats a
    few domains: 5,000 addresses cost a few dozen checks instead of 5,000.
    """
    try:
        result = validate_email("x@" + domain, check_deliverability=False)
    except EmailNotValidError:
        return False
    return bool(result.domain == domain.lower())


def email(value: str) -> tuple[str | None, str | None]:
    """(the address as stored, or None when empty; the error code, or None).

    The one e-mail rule (email_validator, no DNS lookup); stored lower-case, so the same
    address typed twice is found as one.
    """
    value = value.strip()
    if not value:
        return None, None
    local, _at, domain = value.rpartition("@")
    if (
        len(value) <= LIMITS["email"]
        and len(local) <= 64
        and _PLAIN_LOCAL.match(local)
        and domain.isascii()
        and _plain_domain(domain)
    ):
        # What validate_email(value) would return, without checking the domain again.
        return value.lower(), None
    try:
        result = validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        return None, EMAIL
    return result.normalized.lower(), None


def storable(value: str) -> bool:
    """No NUL and no lone surrogate: what no database column stores."""
    return "\x00" not in value and not any("\ud800" <= c <= "\udfff" for c in value)


def text(value: str, limit_key: str, one_line: bool, required: bool) -> str | None:
    """The code of what is wrong with a (trimmed) text value, or None."""
    if not storable(value):
        return UNSTORABLE
    if not value:
        return REQUIRED if required else None
    if one_line and not is_one_line(value):
        return ONE_LINE
    if len(value) > LIMITS[limit_key]:
        return TOO_LONG
    return None


def postcode(value: str) -> str | None:
    """Four digits, 1000–9999 (required)."""
    if not value:
        return REQUIRED
    return None if is_belgian_postcode(value) else POSTCODE


def website(value: str) -> tuple[str, str | None]:
    """(the address as stored, completed with https:// when typed without; the code)."""
    value = complete_web_address(value)
    if not value:
        return "", None
    if not storable(value):
        return value, UNSTORABLE
    if not is_web_address(value):
        return value, WEBSITE
    if len(value) > LIMITS["website"]:
        return value, TOO_LONG
    return value, None


def capacity(value: Any) -> tuple[int | None, str | None]:
    """A room capacity from text ("12", ASCII digits only) or a number; empty is None."""
    if value is None or value == "":
        return None, None
    if isinstance(value, bool):
        return None, CAPACITY
    if isinstance(value, str):
        if not is_ascii_number(value.strip()):
            return None, CAPACITY
        value = int(value.strip())
    if not isinstance(value, int) or not CAPACITY_RANGE[0] <= value <= CAPACITY_RANGE[1]:
        return None, CAPACITY
    return value, None


def _trimmed(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def facility(values: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """A facility's values as stored, and the code of what is wrong per field.

    ``values`` holds the fields of :data:`FACILITY_TEXT`, ``postcode``, ``email``,
    ``website``, ``room_capacity`` and ``willing_to_host``; missing text is empty.
    """
    clean: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, (limit, one_line, required) in FACILITY_TEXT.items():
        clean[name] = _trimmed(values.get(name) or "")
        problem = text(clean[name], limit, one_line, required or name in REQUIRED_FACILITY)
        if problem:
            errors[name] = problem
    clean["postcode"] = _trimmed(values.get("postcode") or "")
    problem = postcode(clean["postcode"]) if storable(clean["postcode"]) else UNSTORABLE
    if problem:
        errors["postcode"] = problem
    raw_email = _trimmed(values.get("email") or "")
    stored, problem = email(raw_email) if storable(raw_email) else (None, UNSTORABLE)
    clean["email"] = stored or ""
    if problem:
        errors["email"] = problem
    clean["website"], problem = website(_trimmed(values.get("website") or ""))
    if problem:
        errors["website"] = problem
    clean["room_capacity"], problem = capacity(_trimmed(values.get("room_capacity")))
    if problem:
        errors["room_capacity"] = problem
    clean["willing_to_host"] = bool(values.get("willing_to_host", True))
    return clean, errors


def contact(values: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """A contact's values as stored, and the code of what is wrong per field.

    ``values`` holds the fields of :data:`CONTACT_TEXT`, ``email``,
    ``preferred_language``, ``share_details`` and ``active``.
    """
    clean: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, (limit, one_line, required) in CONTACT_TEXT.items():
        clean[name] = _trimmed(values.get(name) or "")
        problem = text(clean[name], limit, one_line, required)
        if problem:
            errors[name] = problem
    raw_email = _trimmed(values.get("email") or "")
    clean["email"], problem = email(raw_email) if storable(raw_email) else (None, UNSTORABLE)
    if problem:
        errors["email"] = problem
    language = _trimmed(values.get("preferred_language") or "nl")
    clean["preferred_language"] = language.lower() if isinstance(language, str) else language
    if clean["preferred_language"] not in LANGUAGES:
        errors["preferred_language"] = LANGUAGE
    clean["share_details"] = bool(values.get("share_details", False))
    clean["active"] = bool(values.get("active", True))
    return clean, errors
