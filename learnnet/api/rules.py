"""The API's rules, without Flask or a database.

- A token is ``lnt_`` followed by 43 URL-safe characters (256 random bits); the database
  keeps SHA-256 of the whole token and its first 12 characters to tell tokens apart.
- A token works while it is neither revoked nor past its expiry, and its owner's account
  is active. Its last use is written at most once a minute, so a busy CRM does not turn
  every read into a write.
- A list is read in pages ordered by id; the cursor is an opaque string (six URL-safe
  characters) that holds the last id of the page (keyset pagination: every page costs
  the same statements, whatever its number, and rows added meanwhile are not skipped
  or repeated).
- Errors are RFC 9457 problem details: ``type``, ``title``, ``status``, ``detail`` and,
  for bad input, ``errors``: one message per field.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import secrets
from datetime import datetime, timedelta
from typing import Any

TOKEN_PREFIX = "lnt_"  # noqa: S105  # nosec B105 - marks a token, is none
_TOKEN_RE = re.compile(r"lnt_[A-Za-z0-9_-]{43}")
SHOWN_PREFIX_LENGTH = 12
LAST_USE_GRANULARITY = timedelta(minutes=1)
MAX_DAYS = 366  # a token lives at most a year: renewing it is a moment to check who has it
PAGE_SIZE = 50
MAX_ID = 2**31 - 1
MAX_PAGE_SIZE = 200

# The writes that concern people (contacts and their answers): only for tokens that may
# see people. Endpoint names, checked before the view runs.
PEOPLE_WRITES = frozenset({"api.contact_create", "api.contact_update", "api.answer_create"})


def new_token() -> str:
    """A fresh random token."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What the database stores to find a token: its SHA-256, hex."""
    return hashlib.sha256(token.encode()).hexdigest()


def well_formed(token: str) -> bool:
    """Only ``lnt_`` and 43 URL-safe characters can be a token; anything else is refused
    without a database lookup."""
    return bool(_TOKEN_RE.fullmatch(token))


def bearer(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None."""
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def usable(revoked_at: datetime | None, expires_at: datetime, active: bool, now: datetime) -> bool:
    """Whether a stored token may be used now."""
    return revoked_at is None and expires_at > now and active


def touch_due(last_used_at: datetime | None, now: datetime) -> bool:
    """Whether the last use is worth writing again (see the module docstring)."""
    return last_used_at is None or now - last_used_at >= LAST_USE_GRANULARITY


def expiry_error(expires_on: Any, today: Any) -> str | None:
    """Why a chosen expiry date cannot be used (a code), or None."""
    if expires_on <= today:
        return "past"
    if (expires_on - today).days > MAX_DAYS:
        return "too_far"
    return None


CURSOR_PATTERN = r"^[A-Za-z0-9_-]{6}$"


def encode_cursor(last_id: int) -> str:
    """The opaque cursor of the page after the row with ``last_id``: six URL-safe
    characters (the id's four bytes in base64url). Every string of that form is a
    cursor, so a client can only get it wrong in form, never in content."""
    return base64.urlsafe_b64encode(last_id.to_bytes(4, "big")).decode().rstrip("=")


class BadCursor(ValueError):
    """The cursor does not have the form :func:`encode_cursor` gives."""


def decode_cursor(cursor: str) -> int:
    """The id after which the page starts; :class:`BadCursor` for anything else."""
    if not re.fullmatch(CURSOR_PATTERN, cursor):
        raise BadCursor(cursor)
    try:
        raw = base64.urlsafe_b64decode(cursor + "==")
    except (ValueError, binascii.Error) as error:  # pragma: no cover - the pattern
        raise BadCursor(cursor) from error
    # Six characters hold up to 2**32 - 1; past the largest database id nothing follows
    # (and PostgreSQL refuses to compare an integer column with a larger number).
    return min(int.from_bytes(raw[:4], "big"), MAX_ID)


def page(rows: list[Any], size: int, key: Any = lambda row: row.id) -> tuple[list[Any], str | None]:
    """Split ``size + 1`` fetched rows into the page and the next cursor (None at the end)."""
    if len(rows) <= size:
        return rows, None
    shown = rows[:size]
    return shown, encode_cursor(key(shown[-1]))


def problem(
    status: int, title: str, detail: str = "", errors: dict[str, list[str]] | None = None
) -> dict[str, Any]:
    """An RFC 9457 problem document (``type`` "about:blank": the status says what it is)."""
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = errors
    return body


def flatten_errors(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """webargs/marshmallow's nested messages ({"query": {"field": [...]}}) as one message
    list per field name; the location level is dropped."""
    found: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            if not prefix and key in ("query", "json", "path", "headers", "form", "view_args"):
                sub = flatten_errors(value, "")
            else:
                sub = flatten_errors(value, f"{prefix}.{key}" if prefix else str(key))
            for field, texts in sub.items():
                found.setdefault(field, []).extend(texts)
    elif isinstance(messages, list | tuple):
        for value in messages:
            for field, texts in flatten_errors(value, prefix).items():
                found.setdefault(field, []).extend(texts)
    else:
        found.setdefault(prefix or "_", []).append(str(messages))
    return found
