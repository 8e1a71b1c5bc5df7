"""Personal check-in codes, without Flask or a database: a member's ticket for one session,
scanned (or typed) by the facilitator or the host at the door.

Rules:
- A code is an HMAC-SHA256 of the session and the contact under the app's secret, like a
  pretix ticket: nobody makes one for a colleague without the secret, and a code of one
  session checks nobody in at another.
- It holds no personal-link token: a photo of the QR opens nobody's page.
- The QR carries the long form, ``<contact id>.<26 characters>`` (130 bits of signature),
  inside a link to the session's check-in page; scanners may hand us that whole link.
- The short form, typed by hand when the camera fails: the first 6 characters of the same
  signature, shown as ``K7Q-4MX``. The check-in page of the session finds whose it is
  among the people it expects. Typing is forgiving: case, spaces and dashes do not
  matter, and O, I and L read as 0, 1 and 1 (Crockford's base32 has no look-alikes).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable
from urllib.parse import parse_qs, urlsplit

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base32: no I, L, O, U
SHORT_LENGTH = 6
LONG_LENGTH = 26
MAX_TYPED = 300  # a scanned link with its query; anything longer is no code of ours

_LONG = re.compile(rf"([0-9]{{1,10}})\.([0-9A-Z]{{{LONG_LENGTH}}})")
_LOOK_ALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})


def _signature(secret: bytes, session_id: int, contact_id: int) -> str:
    """The HMAC of (session, contact) in Crockford's base32 (51 characters)."""
    digest = hmac.new(
        secret, f"learnnet-checkin:{session_id}:{contact_id}".encode(), hashlib.sha256
    ).digest()
    number = int.from_bytes(digest, "big")
    chars = []
    for _ in range(51):  # 51 × 5 bits ≤ 256
        number, rest = divmod(number, 32)
        chars.append(ALPHABET[rest])
    return "".join(chars)


def long_code(secret: bytes, session_id: int, contact_id: int) -> str:
    """The code in the QR: the contact's id and the signature."""
    return f"{contact_id}.{_signature(secret, session_id, contact_id)[:LONG_LENGTH]}"


def short_code(secret: bytes, session_id: int, contact_id: int) -> str:
    """The few characters to type when the camera fails."""
    return _signature(secret, session_id, contact_id)[:SHORT_LENGTH]


def shown(short: str) -> str:
    """A short code as people read it: ``K7Q-4MX``."""
    half = len(short) // 2
    return f"{short[:half]}-{short[half:]}"


def from_scanned(text: str) -> str:
    """What a scanner or a person gave us, reduced to the code: the ``code`` parameter of a
    scanned link, else the text itself; upper case, without spaces and dashes, look-alike
    letters read as digits (a long code keeps its dot)."""
    text = (text or "").strip()[:MAX_TYPED]
    if "code=" in text:
        values = parse_qs(urlsplit(text).query).get("code")
        text = values[0] if values else ""
    cleaned = re.sub(r"[\s\-]", "", text).upper()
    return cleaned.translate(_LOOK_ALIKES)


def contact_of(secret: bytes, session_id: int, text: str, candidates: Iterable[int]) -> int | None:
    """Whose code this is among ``candidates`` (the contact ids the session expects), or
    None: a wrong, foreign or altered code, or a short code two people share."""
    code = from_scanned(text)
    expected = set(candidates)
    if match := _LONG.fullmatch(code):
        contact_id = int(match.group(1))
        if contact_id in expected and hmac.compare_digest(
            code, long_code(secret, session_id, contact_id)
        ):
            return contact_id
        return None
    if len(code) != SHORT_LENGTH:
        return None
    found = [
        contact_id
        for contact_id in expected
        if hmac.compare_digest(code, short_code(secret, session_id, contact_id))
    ]
    return found[0] if len(found) == 1 else None
