"""Rules of webhooks (issue 26, part 4), without Flask or a database. The outbox and its
sender are in :mod:`learnnet.api.webhooks`, the event sources in :mod:`learnnet.api.events`.

- Signing follows the Standard Webhooks specification: the headers ``webhook-id`` (the
  event's id, the same on every retry, so a receiver drops duplicates),
  ``webhook-timestamp`` (Unix seconds of this attempt) and ``webhook-signature``:
  ``v1,`` + base64 HMAC-SHA256 over ``"{id}.{timestamp}.{body}"`` with the endpoint's
  secret, which is ``whsec_`` + base64 of 32 random bytes.
- Retries back off as the specification suggests: at once, then after 5 s, 5 min,
  30 min, 2 h, 5 h, 10 h and 10 h; after that the delivery is given up (the log keeps it
  and a "send again" button queues it anew).
- In production an endpoint must be https and every address its host resolves to must
  be a public one: no loopback, private, link-local, shared (CGNAT), multicast or
  reserved address, IPv4 or IPv6 (mapped IPv4 included) — learnnet must not become a
  way to reach its own network. The check runs on the resolved addresses both when the
  endpoint is saved and right before each delivery (a name can change its address).

DESIGN (built: the outbox, its sender, the event sources and the admin page):
  ``webhook_endpoint`` (url, secret, events, active, created_by) — admins only;
  ``webhook_delivery`` (event id = webhook-id, endpoint, event type, JSON body rendered
  when queued, status queued/sending/delivered/failed, attempts, next_attempt_at,
  claimed_until, last status code, last error, delivered_at), one row per endpoint and
  event, written in the same transaction as the change (the rooms announce changes with
  blinker signals in ``learnnet.signals``; the API room, which is above them, listens and
  queues), delivered like mail: claimed rows (``claimed_until``) so two workers never
  send at once, at least once, never twice per event id to a receiver that answered 2xx.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import secrets
from datetime import datetime, timedelta
from urllib.parse import urlsplit

SECRET_PREFIX = "whsec_"  # noqa: S105  # nosec B105 - marks a secret, is none

EVENTS = (
    "session.planned",
    "session.changed",
    "session.cancelled",
    "session.held",
    "answer.changed",
    "waitlist.promoted",
    "attendance.recorded",
    "membership.started",
    "membership.ended",
    "contact.erased",
)

# Seconds before each retry (the first attempt is at once).
RETRY_AFTER = (5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600)


def new_secret() -> str:
    """A fresh endpoint secret, as the specification writes it."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def _key(secret: str) -> bytes:
    raw = secret.removeprefix(SECRET_PREFIX)
    return base64.b64decode(raw + "=" * (-len(raw) % 4))


def signature(secret: str, event_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value (one signature, version 1)."""
    signed = f"{event_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(secret: str, event_id: str, moment: datetime, body: bytes) -> dict[str, str]:
    """The three headers of one delivery attempt."""
    timestamp = int(moment.timestamp())
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secret, event_id, timestamp, body),
        "content-type": "application/json",
    }


def next_attempt(attempts: int, now: datetime) -> datetime | None:
    """When to try again after ``attempts`` failed attempts; None: give up."""
    if attempts < 1 or attempts > len(RETRY_AFTER):
        return None
    return now + timedelta(seconds=RETRY_AFTER[attempts - 1])


def address_allowed(address: str) -> bool:
    """Whether learnnet may deliver to this IP address in production: public ones only."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def url_problem(url: str, production: bool, addresses: list[str]) -> str | None:
    """Why an endpoint URL cannot be used (a code), or None. ``addresses`` are what its
    host resolves to now (the caller resolves: this module does no network)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        return "malformed"
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return "malformed"
    if parts.username or parts.password:
        return "credentials"
    if not production:
        return None
    if parts.scheme != "https":
        return "not_https"
    if not addresses:
        return "unresolved"
    if not all(address_allowed(a) for a in addresses):
        return "private_address"
    return None


def secret_problem(secret: str) -> str | None:
    """Why a secret an admin typed cannot be used (a code), or None: ``whsec_`` and
    base64 of 24 to 64 bytes, as the specification asks."""
    if not secret.startswith(SECRET_PREFIX):
        return "prefix"
    try:
        key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except ValueError:
        return "base64"
    if not 24 <= len(key) <= 64:
        return "length"
    return None
