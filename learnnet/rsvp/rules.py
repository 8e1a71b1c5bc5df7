"""The rules of answering, without Flask or a database.

- A personal link's token is ``base64url(HMAC-SHA256(secret, "personal-link:" + nonce))``
  cut to 32 characters (192 bits); the database keeps the nonce and SHA-256 of the token.
- An answer can be given or changed while the session is not cancelled, has not
  started, and its RSVP deadline (if any) has not passed.
- Seats: a "yes" gets a seat while confirmed "yes" answers are fewer than the capacity
  (no capacity: always). A "yes" that already has a seat keeps it. Otherwise it goes
  onto the waitlist, which is served first come, first served.
- Reminders: with reminder days [7, 1], the 7-day reminder is due from 7 days before
  the start until 1 day before; the 1-day reminder from then until the start. Only the
  window we are in counts, so a cron job that was down never sends two at once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import datetime, timedelta

TOKEN_LENGTH = 32
_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{32}")

CANCELLED = "cancelled"
STARTED = "started"
DEADLINE = "deadline"


def derive_token(secret: str, nonce: str, purpose: str = "personal-link") -> str:
    """The token for this nonce; ``purpose`` keeps personal links and feeds apart."""
    digest = hmac.new(secret.encode(), f"{purpose}:{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()[:TOKEN_LENGTH]


def token_hash(token: str) -> str:
    """What the database stores to find a token: its SHA-256, hex."""
    return hashlib.sha256(token.encode()).hexdigest()


def well_formed(token: str) -> bool:
    """Only 32 URL-safe characters can be a token; anything else is refused unread."""
    return bool(_TOKEN_RE.fullmatch(token))


def closed_reason(
    cancelled: bool, starts_at: datetime, deadline: datetime | None, now: datetime
) -> str | None:
    """Why answers are closed (a code), or None when one can answer."""
    if cancelled:
        return CANCELLED
    if starts_at <= now:
        return STARTED
    if deadline is not None and deadline < now:
        return DEADLINE
    return None


def gets_seat(capacity: int | None, confirmed: int, has_seat: bool) -> bool:
    """Whether a "yes" is confirmed (True) or waitlisted (False)."""
    if has_seat or capacity is None:
        return True
    return confirmed < capacity


def free_seats(capacity: int | None, confirmed: int) -> int | None:
    """Seats left (never negative); None without a capacity."""
    if capacity is None:
        return None
    return max(capacity - confirmed, 0)


def reminder_due(starts_at: datetime, days: list[int], now: datetime) -> int | None:
    """Which reminder (days before) is due now, or None."""
    if now >= starts_at:
        return None
    ordered = sorted({d for d in days if d > 0}, reverse=True)
    for i, d in enumerate(ordered):
        opens = starts_at - timedelta(days=d)
        closes = starts_at - timedelta(days=ordered[i + 1]) if i + 1 < len(ordered) else starts_at
        if opens <= now < closes:
            return d
    return None
