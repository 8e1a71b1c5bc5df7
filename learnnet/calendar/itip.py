"""Read iTIP REPLY mails (RFC 5546 over iMIP, RFC 6047) and make per-contact reply addresses.

Plain values in, plain values out: no Flask, no database. An invitation goes out with
``ORGANIZER:mailto:antwoord+<contact_id>.<mac>@example.org``; the member's mail client
answers that address with a ``METHOD:REPLY`` calendar, and :func:`read_replies` turns the
raw message into :class:`Reply` values. Who may answer for which session is the caller's
business: this module only reads what the mail claims (see ``tests/data/itip/README.md``
for the shapes real clients send).

A hostile message never raises anything but :class:`ReplyError`: the size is checked
before parsing, the MIME tree is walked without recursion and with limits, and the number
of replies returned is capped.
"""

from __future__ import annotations

import base64
import codecs
import email
import email.utils
import hashlib
import hmac
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.message import Message
from typing import Any
from urllib.parse import unquote

from icalendar import Calendar

ANSWERS = frozenset({"ACCEPTED", "TENTATIVE", "DECLINED"})
MAX_REPLIES = 50  # replies returned from one message, at most
MAX_MIME_PARTS = 500  # MIME parts looked at in one message
MAX_MIME_DEPTH = 20  # multipart nesting followed
MAX_CALENDAR_PARTS = 20  # calendar parts parsed in one message
MAX_UID_LENGTH = 1000
MAX_EMAIL_LENGTH = 254
MAX_SEQUENCE = 2**31 - 1
MAC_LENGTH = 16

CALENDAR_TYPES = frozenset({"text/calendar", "application/ics"})

# Deliberately loose (mail clients disagree on much), but never whitespace, controls,
# brackets or a second "@": the caller compares the result with addresses it knows.
_EMAIL = re.compile(r"[^\s@<>()\[\],;:\"\\\x00-\x1f\x7f]+@[^\s@<>()\[\],;:\"\\\x00-\x1f\x7f]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# The mac is lowercase base32: mail systems (Google's among them) may lowercase an
# address, so the tag must mean the same in any case.
_TAG = re.compile(rf"(0|[1-9][0-9]{{0,17}})\.([A-Za-z2-7]{{{MAC_LENGTH}}})", re.ASCII)


@dataclass(frozen=True)
class Reply:
    """One attendee's answer to one event (or one occurrence of it)."""

    uid: str
    attendee: str  # lowercased email, without mailto:
    partstat: str  # "ACCEPTED" | "TENTATIVE" | "DECLINED"
    sequence: int  # 0 when absent (Exchange's X-MICROSOFT-CDO-APPT-SEQUENCE stands in)
    organizer: str  # lowercased email without mailto:, "" when absent
    recurrence_id: str | None  # "20270315T183000Z", "20270315T193000" (floating), "20270315"
    dtstamp: datetime | None = None  # UTC, when the attendee's client wrote the answer


class ReplyError(ValueError):
    """The message holds no usable REPLY; ``reason`` is a short code for logs and tests.

    Codes: ``too_large``, ``not_email``, ``no_calendar``, ``bad_calendar`` (calendar parts
    that do not parse), ``not_reply``, ``no_event``, ``no_uid``, ``no_attendee``,
    ``unknown_partstat``; ``unreadable`` is the safety net for a failure nobody foresaw
    (the tests treat it as a bug).
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


# Why the VEVENTs of the REPLY calendars gave nothing: the furthest stage any of them
# reached decides the reason reported.
_STAGES = ("no_event", "no_uid", "no_attendee", "unknown_partstat")


def read_replies(raw: bytes, max_bytes: int = 1_000_000) -> list[Reply]:
    """Every REPLY VEVENT in a MIME message.

    Reads text/calendar parts (inline or attached, any multipart nesting, base64 or
    quoted-printable, any charset), application/ics parts and ``.ics`` attachments; an
    attached message (message/rfc822) is someone else's mail and is not looked into.
    Raises :class:`ReplyError` when the message is too large (checked before parsing), is
    not a parseable email, has no calendar part, or none of its calendars is
    ``METHOD:REPLY``. A VEVENT without UID or ATTENDEE, or with a PARTSTAT other than
    ACCEPTED/TENTATIVE/DECLINED, is skipped; when every VEVENT is skipped the error says
    why. An ATTENDEE line per answer: a VEVENT with several gives several replies (RFC 5546
    wants exactly one; the caller keeps only the contact's own). Identical replies (the
    inline part and its ``invite.ics`` copy) are returned once, at most
    :data:`MAX_REPLIES` of them.
    """
    if not isinstance(raw, bytes | bytearray | memoryview):
        raise TypeError("read_replies wants the raw message as bytes")
    size = raw.nbytes if isinstance(raw, memoryview) else len(raw)
    if size > max_bytes:
        raise ReplyError("too_large", f"{size} bytes")
    try:
        return _read(bytes(raw))
    except ReplyError:
        raise
    except Exception as exc:  # a hostile mail gets a ReplyError, whatever went wrong
        raise ReplyError("unreadable", type(exc).__name__) from None


def _read(raw: bytes) -> list[Reply]:
    message = _parse_message(raw)

    found_part = False
    calendars: list[tuple[Any, str]] = []
    for data, charset, mime_method in _calendar_parts(message):
        found_part = True
        for text in _decodings(data, charset):
            if "BEGIN:VCALENDAR" in text.upper():  # else the charset was wrong: try the next
                calendars.extend((cal, mime_method) for cal in _parse_calendars(text))
                break
    if not found_part:
        raise ReplyError("no_calendar")
    if not calendars:
        raise ReplyError("bad_calendar")

    replies: dict[Reply, None] = {}  # ordered set
    stage = -1
    for cal, mime_method in calendars:
        if _method(cal, mime_method) != "REPLY":
            continue
        stage = max(stage, 0)
        for component in cal.subcomponents:
            if getattr(component, "name", None) != "VEVENT":
                continue
            found, reached = _event_replies(component)
            stage = max(stage, reached)
            for reply in found:
                replies.setdefault(reply, None)
                if len(replies) >= MAX_REPLIES:
                    return list(replies)
    if stage < 0:
        raise ReplyError("not_reply")
    if not replies:
        raise ReplyError(_STAGES[stage])
    return list(replies)


OUTDATED = "outdated"  # the REPLY answers an older version of the invitation
SUPERSEDED = "superseded"  # the member answered again after the calendar wrote the REPLY


def stale_reason(reply: Reply, sequence: int, last_answer_at: datetime | None) -> str | None:
    """Why a REPLY is out of date (a code), or None when it may be applied.

    RFC 5546 §2.1.5: a REPLY whose SEQUENCE is lower than the event's current SEQUENCE
    answers an invitation that has changed since (a REPLY without SEQUENCE counts as 0,
    as the RFC says; Exchange's own copy of it stands in). And an answer the member
    gave elsewhere (their page, a facilitator on the phone) after the calendar app
    stamped the REPLY (DTSTAMP, whole seconds) is the newer one: the REPLY gives way.
    A REPLY without DTSTAMP is judged by its SEQUENCE alone.
    """
    if reply.sequence < sequence:
        return OUTDATED
    if (
        reply.dtstamp is not None
        and last_answer_at is not None
        and reply.dtstamp < last_answer_at.astimezone(UTC).replace(microsecond=0)
    ):
        return SUPERSEDED
    return None


def reply_tag(secret: str, contact_id: int, nonce: str) -> str:
    """The plus-address tag for a contact: ``f"{contact_id}.{mac}"``.

    ``mac`` is the first 16 characters of lowercase base32(HMAC-SHA256(secret,
    f"reply:{contact_id}:{nonce}")): 80 bits, the same whatever case a mail system
    gives the address.
    """
    if not secret:
        raise ValueError("reply_tag needs a secret")
    if isinstance(contact_id, bool) or not isinstance(contact_id, int) or contact_id < 0:
        raise ValueError("contact_id must be a non-negative int")
    digest = hmac.new(
        secret.encode(), f"reply:{contact_id}:{nonce}".encode(), hashlib.sha256
    ).digest()
    mac = base64.b32encode(digest).decode("ascii").lower()[:MAC_LENGTH]
    return f"{contact_id}.{mac}"


def tagged_address(base: str, tag: str) -> str:
    """``'antwoord@example.org'`` + tag -> ``'antwoord+<tag>@example.org'``.

    A ``+`` already in ``base`` is replaced with what follows it.
    """
    local, domain = _split_base(base)
    if not _TAG.fullmatch(tag):
        raise ValueError(f"not a reply tag: {tag!r}")
    return f"{local}+{tag}@{domain}"


def parse_tag(address: str, base: str) -> tuple[int, str] | None:
    """``(contact_id, mac)`` for ``<base-local>+<contact_id>.<mac>@<base-domain>``, else None.

    The whole address compares case-insensitively (the mac is returned lowercased and
    checked by :func:`verify_tag`). A ``mailto:`` prefix and surrounding angle
    brackets are allowed; a lookalike domain, a second ``@``, leading zeros or non-ASCII
    digits in the contact id are not.
    """
    if not isinstance(address, str):
        return None
    base_local, base_domain = _split_base(base)
    value = address.strip()
    if value[:7].lower() == "mailto:":
        value = value[7:]
    if value.startswith("<") and value.endswith(">"):
        value = value[1:-1]
    if value.count("@") != 1:
        return None
    local, domain = value.split("@")
    if domain.lower() != base_domain.lower():
        return None
    prefix, plus, tag = local.partition("+")
    if not plus or prefix.lower() != base_local.lower():
        return None
    match = _TAG.fullmatch(tag)
    if not match:
        return None
    return int(match.group(1)), match.group(2).lower()


def verify_tag(secret: str, contact_id: int, nonce: str, mac: str) -> bool:
    """Whether ``mac`` is the one :func:`reply_tag` gives for this contact and nonce."""
    if not isinstance(mac, str):
        return False
    expected = reply_tag(secret, contact_id, nonce).partition(".")[2]
    return hmac.compare_digest(expected.encode(), mac.lower().encode("utf-8", "surrogatepass"))


# --- MIME -----------------------------------------------------------------------------


def _parse_message(raw: bytes) -> Message:
    if not raw.strip():
        raise ReplyError("not_email", "empty")
    try:
        # compat32: lenient, and it leaves header values alone until asked.
        message = email.message_from_bytes(raw)
    except Exception as exc:  # RecursionError on absurd nesting, anything else hostile
        raise ReplyError("not_email", type(exc).__name__) from None
    if not message.keys():
        raise ReplyError("not_email", "no headers")
    return message


def _calendar_parts(message: Message) -> Iterator[tuple[bytes, str | None, str]]:
    """(payload, charset, method parameter) of each calendar part, in message order."""
    stack: list[tuple[Message, int]] = [(message, 0)]
    seen = calendars = 0
    while stack and seen < MAX_MIME_PARTS and calendars < MAX_CALENDAR_PARTS:
        part, depth = stack.pop()
        seen += 1
        if part.is_multipart():
            payload = part.get_payload()
            if (
                _maintype(part) == "multipart"
                and depth < MAX_MIME_DEPTH
                and isinstance(payload, list)
            ):
                stack.extend((sub, depth + 1) for sub in reversed(payload))
            continue  # message/rfc822 and the like: someone else's mail
        found = _calendar_part(part)
        if found is not None:
            calendars += 1
            yield found


def _maintype(part: Message) -> str:
    try:
        return part.get_content_maintype()
    except Exception:  # a Content-Type the email package chokes on
        return ""


def _calendar_part(part: Message) -> tuple[bytes, str | None, str] | None:
    try:
        if not _is_calendar(part):
            return None
        data = part.get_payload(decode=True)
        charset = part.get_content_charset()
        method = _param(part, "method")
    except Exception:  # a header or payload the email package chokes on: skip the part
        return None
    if not isinstance(data, bytes):
        return None
    return data, charset, method.upper()


def _is_calendar(part: Message) -> bool:
    if part.get_content_type() in CALENDAR_TYPES:
        return True
    name = _filename(part)
    return name.lower().endswith(".ics")


def _filename(part: Message) -> str:
    name = part.get_filename() or _param(part, "name")
    return str(name).strip() if name else ""


def _param(part: Message, name: str) -> str:
    value = part.get_param(name)
    if isinstance(value, tuple):  # RFC 2231: (charset, language, value)
        value = email.utils.collapse_rfc2231_value(value)
    return str(value).strip() if value else ""


def _decodings(data: bytes, charset: str | None) -> Iterator[str]:
    """The part as text: in its declared charset, else UTF-8, else Latin-1 (never fails).

    A charset may be unknown, not a text encoding ("rot13"), or a lie (Windows-1252 bytes
    labelled UTF-8, ASCII labelled UTF-16): the caller takes the first text that looks like
    iCalendar.
    """
    if data.startswith(codecs.BOM_UTF8):
        data, charset = data[len(codecs.BOM_UTF8) :], "utf-8"
    tried = set()
    for candidate in (charset, "utf-8", "latin-1"):
        if not candidate or candidate in tried:
            continue
        tried.add(candidate)
        text = _try_decode(data, candidate)
        if text is not None:
            yield text


def _try_decode(data: bytes, charset: str) -> str | None:
    try:
        return data.decode(charset)
    except (LookupError, ValueError, TypeError):  # unknown or non-text codec, bad bytes
        return None


# --- iCalendar ------------------------------------------------------------------------


def _parse_calendars(text: str) -> list[Any]:
    # icalendar warns, e.g. when it guesses a vendor-prefixed TZID
    # ("/freeassociation.sourceforge.net/Europe/Amsterdam", Evolution's): not our problem.
    # (catch_warnings touches process-wide state: fine for a mail-reading job.)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            components = Calendar.from_ical(text, multiple=True)
        except Exception:  # icalendar raises ValueError mostly, but this is hostile input
            return []
    return [c for c in components if getattr(c, "name", None) == "VCALENDAR"]


def _method(cal: Any, mime_method: str) -> str:
    """The calendar's METHOD; the MIME ``method=`` parameter only when the calendar has none."""
    value = cal.get("METHOD")
    if value is None:
        return mime_method
    if isinstance(value, list):
        return ""
    return str(value).strip().upper()


def _event_replies(event: Any) -> tuple[list[Reply], int]:
    """The replies in one VEVENT, and how far it got (an index into ``_STAGES``)."""
    uid = _uid(event.get("UID"))
    if uid is None:
        return [], 1
    attendees = event.get("ATTENDEE")
    if attendees is None:
        return [], 2
    if not isinstance(attendees, list):
        attendees = [attendees]
    sequence = _sequence(event.get("SEQUENCE"), event.get("X-MICROSOFT-CDO-APPT-SEQUENCE"))
    organizer = _single_address(event.get("ORGANIZER"))
    recurrence_id = _recurrence_id(event.get("RECURRENCE-ID"))
    dtstamp = _dtstamp(event.get("DTSTAMP"))
    stage = 2
    replies = []
    for attendee in attendees:
        address = _address(attendee)
        if not address:
            continue
        stage = 3
        partstat = _param_value(attendee, "PARTSTAT").upper()
        if partstat not in ANSWERS:
            continue
        replies.append(Reply(uid, address, partstat, sequence, organizer, recurrence_id, dtstamp))
    return replies, stage


def _uid(value: Any) -> str | None:
    if value is None or isinstance(value, list):  # absent, or two UIDs: which one?
        return None
    uid = str(value).strip()
    if not uid or len(uid) > MAX_UID_LENGTH or _CONTROL.search(uid):
        return None
    return uid


def _sequence(value: Any, microsoft: Any) -> int:
    """SEQUENCE; without one, Exchange's X-MICROSOFT-CDO-APPT-SEQUENCE; else 0.

    Exchange sometimes leaves SEQUENCE out of a REPLY but keeps its own copy of it.
    icalendar gives SEQUENCE as an int subclass (vBroken for "abc" or out-of-range
    numbers), an X- property as text.
    """
    if value is None:
        value = microsoft
        if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
            value = int(value.strip()[:12])
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_SEQUENCE:
        return int(value)
    return 0


def _dtstamp(value: Any) -> datetime | None:
    """DTSTAMP as an aware UTC moment; None when absent, doubled or not a date-time.

    RFC 5545 wants it in UTC; a floating value is taken as UTC.
    """
    if value is None or isinstance(value, list):
        return None
    try:
        moment = getattr(value, "dt", None)
    except Exception:  # icalendar's broken property raises on reading its value
        return None
    if not isinstance(moment, datetime):
        return None
    if moment.tzinfo is None or moment.utcoffset() is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _single_address(value: Any) -> str:
    if value is None or isinstance(value, list):
        return ""
    return _address(value)


def _address(prop: Any) -> str:
    """The lowercased email of an ATTENDEE/ORGANIZER value (``mailto:`` in any case), or ""."""
    value = str(prop).strip()
    if value[:7].lower() == "mailto:":
        value = unquote(value[7:].strip())
    elif ":" in value:  # urn:uuid:…, tel:…: fall back on the RFC 7986 EMAIL parameter
        value = _param_value(prop, "EMAIL")
    value = value.strip()
    if len(value) > MAX_EMAIL_LENGTH or not _EMAIL.fullmatch(value):
        return ""
    return value.lower()


def _param_value(prop: Any, name: str) -> str:
    params = getattr(prop, "params", None)
    if params is None:
        return ""
    try:
        value = params.get(name)
    except Exception:  # a parameters object icalendar could not build sensibly
        return ""
    if isinstance(value, list | tuple):
        value = value[0] if len(value) == 1 else ""
    return str(value).strip() if value else ""


def _recurrence_id(value: Any) -> str | None:
    if value is None or isinstance(value, list):
        return None
    moment = getattr(value, "dt", None)
    if isinstance(moment, datetime):
        if moment.tzinfo is not None and moment.utcoffset() is not None:
            return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
        return moment.strftime("%Y%m%dT%H%M%S")  # floating, or a TZID nobody defined
    if isinstance(moment, date):
        return moment.strftime("%Y%m%d")
    text = str(value).strip()
    if not text or len(text) > 64 or _CONTROL.search(text):
        return None
    return text


def _split_base(base: str) -> tuple[str, str]:
    local, at, domain = base.strip().rpartition("@")
    local = local.partition("+")[0]
    if not at or not local or not domain or "@" in local:
        raise ValueError(f"not a base address: {base!r}")
    return local, domain
