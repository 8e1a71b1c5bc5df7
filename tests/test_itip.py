"""Reading iTIP REPLY mails and the per-contact reply address (learnnet.calendar.itip)."""

from __future__ import annotations

import base64
import email
import email.utils
import hashlib
import hmac
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from learnnet.calendar import itip
from learnnet.calendar.itip import (
    MAX_REPLIES,
    Reply,
    ReplyError,
    parse_tag,
    read_replies,
    reply_tag,
    tagged_address,
    verify_tag,
)

DATA = Path(__file__).parent / "data" / "itip"
UID = "session-uid-0001@learnnet"
ORGANIZER = "antwoord+7.abcdefghijklmnop@example.org"  # Reply.organizer is lowercased
BASE = "antwoord@example.org"
SECRET = "reply-secret-" + "s" * 32

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def fixture(name: str) -> bytes:
    return (DATA / name).read_bytes()


EVENT_STAMP = datetime(2027, 3, 2, 10, 0, tzinfo=UTC)  # event()'s DTSTAMP
SPOOFED_STAMP = datetime(2027, 3, 2, 10, 40, tzinfo=UTC)


def answer(
    partstat: str,
    sequence: int = 2,
    attendee: str = "ilse@example.org",
    dtstamp: datetime | None = EVENT_STAMP,
) -> Reply:
    return Reply(UID, attendee, partstat, sequence, ORGANIZER, None, dtstamp)


def stamp(text: str) -> datetime:
    return datetime.strptime(text, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


def reason(raw: bytes, **kwargs) -> str:
    with pytest.raises(ReplyError) as caught:
        read_replies(raw, **kwargs)
    return caught.value.reason


def calendar(*event_lines: str, method: str | None = "REPLY", events: int = 1) -> str:
    head = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//test//EN"]
    if method:
        head.append(f"METHOD:{method}")
    body = ["BEGIN:VEVENT", *event_lines, "END:VEVENT"] * events
    return "\r\n".join([*head, *body, "END:VCALENDAR"]) + "\r\n"


def event(
    partstat: str = "ACCEPTED", attendee: str = "mailto:ilse@example.org", uid: str = UID
) -> list[str]:
    return [
        f"UID:{uid}",
        "SEQUENCE:2",
        "DTSTAMP:20270302T100000Z",
        f"ORGANIZER:mailto:{ORGANIZER}",
        f"ATTENDEE;PARTSTAT={partstat}:{attendee}",
    ]


def mail(
    ics: str | bytes,
    content_type: str = "text/calendar; method=REPLY; charset=UTF-8",
    encoding: str = "8bit",
    extra_headers: str = "",
) -> bytes:
    """A single-part message carrying ``ics``."""
    body = ics.encode() if isinstance(ics, str) else ics
    if encoding == "base64":
        body = base64.encodebytes(body).replace(b"\n", b"\r\n")
    head = (
        "From: ilse@example.org\r\n"
        f"To: {ORGANIZER}\r\n"
        "Subject: Accepted\r\n"
        "MIME-Version: 1.0\r\n"
        f"Content-Type: {content_type}\r\n"
        f"Content-Transfer-Encoding: {encoding}\r\n"
        f"{extra_headers}"
        "\r\n"
    )
    return head.encode() + body


def multipart(*parts: bytes, subtype: str = "mixed", boundary: str = "b0undary") -> bytes:
    """A multipart message of already-built parts (each: headers, blank line, body)."""
    out = [
        b"From: ilse@example.org\r\nMIME-Version: 1.0\r\n",
        f'Content-Type: multipart/{subtype}; boundary="{boundary}"\r\n\r\n'.encode(),
    ]
    for part in parts:
        out += [f"--{boundary}\r\n".encode(), part, b"\r\n"]
    out.append(f"--{boundary}--\r\n".encode())
    return b"".join(out)


def part(content_type: str, body: str | bytes, *headers: str) -> bytes:
    data = body.encode() if isinstance(body, str) else body
    lines = [f"Content-Type: {content_type}", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + data


# --- the clients' own mails ---------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("outlook_accept.eml", [answer("ACCEPTED", dtstamp=stamp("20270302T081503Z"))]),
        ("gmail_decline.eml", [answer("DECLINED", dtstamp=stamp("20270302T091122Z"))]),
        ("apple_tentative.eml", [answer("TENTATIVE", dtstamp=stamp("20270302T083012Z"))]),
        ("thunderbird_accept.eml", [answer("ACCEPTED", dtstamp=stamp("20270302T084501Z"))]),
        (
            "spoofed_attendee.eml",
            [answer("ACCEPTED", attendee="someone-else@example.org", dtstamp=SPOOFED_STAMP)],
        ),
    ],
)
def test_each_client_reply_gives_one_answer(name, expected):
    assert read_replies(fixture(name)) == expected


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("not_a_reply.eml", "not_reply"),
        ("counter.eml", "not_reply"),
        ("no_uid.eml", "no_uid"),
        ("plain.eml", "no_calendar"),
    ],
)
def test_odd_mails_are_refused_with_a_reason(name, code):
    assert reason(fixture(name)) == code


@pytest.mark.parametrize(
    "name",
    ["outlook_accept.eml", "gmail_decline.eml", "apple_tentative.eml", "thunderbird_accept.eml"],
)
def test_client_mails_read_the_same_with_bare_newlines(name):
    raw = fixture(name)
    assert read_replies(raw.replace(b"\r\n", b"\n")) == read_replies(raw)


def _calendar_parts(raw: bytes) -> list[tuple[str, str, str, bytes]]:
    message = email.message_from_bytes(raw)
    return [
        (p.get_content_type(), p.get("Content-Transfer-Encoding", "").lower(),
         p.get("Content-Disposition", ""), p.get_payload(decode=True))
        for p in message.walk()
        if p.get_content_type() in ("text/calendar", "application/ics")
    ]  # fmt: skip


def test_fixtures_keep_the_shapes_the_clients_send():
    """Guards the fixtures themselves: an edit that loses a client's quirk fails here."""
    outlook = _calendar_parts(fixture("outlook_accept.eml"))
    assert [(t, cte) for t, cte, _, _ in outlook] == [("text/calendar", "base64")]
    assert email.message_from_bytes(fixture("outlook_accept.eml")).get_content_type() == (
        "multipart/alternative"
    )
    ics = outlook[0][3]
    assert b"PRODID:Microsoft Exchange Server 2010" in ics
    assert b"\r\nSEQUENCE:" not in ics and b"X-MICROSOFT-CDO-APPT-SEQUENCE:2" in ics

    gmail = _calendar_parts(fixture("gmail_decline.eml"))
    assert [(t, cte) for t, cte, _, _ in gmail] == [
        ("text/calendar", "quoted-printable"),
        ("application/ics", "base64"),
    ]
    assert gmail[0][3] == gmail[1][3]
    assert b"PRODID:-//Google Inc//Google Calendar 70.9054//EN" in gmail[0][3]

    apple = _calendar_parts(fixture("apple_tentative.eml"))
    assert len(apple) == 1 and apple[0][2].startswith("attachment")
    assert b"CALSCALE:GREGORIAN" in apple[0][3] and b"-//Apple Inc.//macOS 14" in apple[0][3]
    assert b"\r\n " in apple[0][3]  # folded lines

    thunderbird = _calendar_parts(fixture("thunderbird_accept.eml"))
    assert [t for t, _, _, _ in thunderbird] == ["text/calendar", "application/ics"]
    assert thunderbird[0][3] == thunderbird[1][3]
    assert b"Mozilla.org/NONSGML Mozilla Calendar V1.1" in thunderbird[0][3]


@pytest.mark.parametrize(
    "name",
    ["outlook_accept.eml", "gmail_decline.eml", "apple_tentative.eml", "thunderbird_accept.eml"],
)
def test_the_tag_reads_the_same_from_the_recipient_and_the_lowercased_organizer(name):
    message = email.message_from_bytes(fixture(name))
    ((_, recipient),) = email.utils.getaddresses([message["To"]])
    assert parse_tag(recipient, BASE) == (7, "abcdefghijklmnop")
    (reply,) = read_replies(fixture(name))
    assert parse_tag(reply.organizer, BASE) == (7, "abcdefghijklmnop")  # no longer the mac


# --- what a REPLY may look like -----------------------------------------------------


def test_mailto_in_any_case_and_quoted_parameters():
    ics = calendar(
        f"UID:{UID}",
        f"ORGANIZER;CN=learnnet:MAILTO:{ORGANIZER.upper()}",
        'ATTENDEE;CN="Vries, Ilse: de";PARTSTAT=accepted:MAILTO:ILSE@Example.ORG',
    )
    assert read_replies(mail(ics)) == [answer("ACCEPTED", sequence=0, dtstamp=None)]


def test_the_mime_method_stands_in_only_when_the_calendar_has_no_method():
    assert read_replies(mail(calendar(*event(), method=None))) == [answer("ACCEPTED")]
    plain_type = "text/calendar; charset=UTF-8"
    assert reason(mail(calendar(*event(), method=None), content_type=plain_type)) == "not_reply"
    assert reason(mail(calendar(*event(), method="REQUEST"))) == "not_reply"


@pytest.mark.parametrize(
    ("content_type", "headers"),
    [
        ("application/ics; name=invite.ics", ""),
        ("application/octet-stream; name=Antwoord.ICS", ""),
        ("application/octet-stream", "Content-Disposition: attachment; filename=reply.ics\r\n"),
        ("text/calendar", "Content-Disposition: inline\r\n"),
    ],
)
def test_calendar_parts_are_found_by_type_or_by_name(content_type, headers):
    raw = mail(calendar(*event()), content_type=content_type, extra_headers=headers)
    assert read_replies(raw) == [answer("ACCEPTED")]


def nested(inner: bytes, depth: int) -> bytes:
    """``inner`` (a part: headers, blank line, body) inside ``depth`` multipart/mixed levels."""
    for level in range(depth):
        boundary = f"level{level}"
        inner = (
            (
                f'Content-Type: multipart/mixed; boundary="{boundary}"\r\n\r\n--{boundary}\r\n'
            ).encode()
            + inner
            + f"\r\n--{boundary}--\r\n".encode()
        )
    return b"From: ilse@example.org\r\nMIME-Version: 1.0\r\n" + inner


def test_base64_inside_nested_multiparts():
    inner = part(
        "text/calendar; method=REPLY",
        base64.encodebytes(calendar(*event()).encode()),
        "Content-Transfer-Encoding: base64",
    )
    assert read_replies(nested(inner, 8)) == [answer("ACCEPTED")]
    assert reason(nested(inner, 40)) == "no_calendar"  # deeper than anyone nests


@pytest.mark.parametrize(
    ("charset", "codec"),
    [
        ("windows-1252", "cp1252"),
        ("iso-8859-15", "iso-8859-15"),
        ("utf-16", "utf-16"),
        ("x-no-such-charset", "utf-8"),
        ("rot13", "utf-8"),  # a Python codec, but not a text encoding
        ("utf-8", "cp1252"),  # lies about its charset
        ("utf-16", "utf-8"),  # lies, and the lie decodes
    ],
)
def test_any_charset_or_a_wrong_one(charset, codec):
    ics = calendar(*event(), "SUMMARY:Caf\u00e9 \u20ac").encode(codec)
    content_type = f"text/calendar; method=REPLY; charset={charset}"
    assert read_replies(mail(ics, content_type, "base64")) == [answer("ACCEPTED")]


def test_a_byte_order_mark_is_ignored():
    raw = mail(b"\xef\xbb\xbf" + calendar(*event()).encode())
    assert read_replies(raw) == [answer("ACCEPTED")]


def test_sequence_and_recurrence_id():
    ics = calendar(
        *event(),
        "RECURRENCE-ID;TZID=Europe/Amsterdam:20270315T193000",
    )
    (reply,) = read_replies(mail(ics.replace("SEQUENCE:2", "SEQUENCE:7")))
    assert reply.sequence == 7 and reply.recurrence_id == "20270315T183000Z"
    for recurrence, expected in [
        ("RECURRENCE-ID:20270315T183000Z", "20270315T183000Z"),
        ("RECURRENCE-ID;VALUE=DATE:20270315", "20270315"),
        ("RECURRENCE-ID:20270315T193000", "20270315T193000"),
        ("RECURRENCE-ID;TZID=Nowhere/Land:20270315T193000", "20270315T193000"),
        (  # Evolution's vendor-prefixed TZID: icalendar guesses it, with a warning
            "RECURRENCE-ID;TZID=/freeassociation.sourceforge.net/Europe/Amsterdam:20270315T193000",
            "20270315T183000Z",
        ),
    ]:
        (reply,) = read_replies(mail(calendar(*event(), recurrence)))
        assert reply.recurrence_id == expected


@pytest.mark.parametrize("value", ["abc", "-1", "99999999999999999999", "2.5", ""])
def test_a_sequence_that_is_no_sequence_counts_as_0(value):
    ics = calendar(*event()).replace("SEQUENCE:2", f"SEQUENCE:{value}")
    assert [r.sequence for r in read_replies(mail(ics))] == [0]


def test_without_sequence_exchange_own_copy_counts():
    ics = calendar(*event()).replace("SEQUENCE:2", "X-MICROSOFT-CDO-APPT-SEQUENCE:5")
    assert [r.sequence for r in read_replies(mail(ics))] == [5]
    both = calendar(*event(), "X-MICROSOFT-CDO-APPT-SEQUENCE:5")
    assert [r.sequence for r in read_replies(mail(both))] == [2]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("DTSTAMP:20270302T100000Z", datetime(2027, 3, 2, 10, 0, tzinfo=UTC)),
        ("DTSTAMP:20270302T100000", datetime(2027, 3, 2, 10, 0, tzinfo=UTC)),  # floating: UTC
        ("DTSTAMP;VALUE=DATE:20270302", None),
        ("DTSTAMP:gisteren", None),
    ],
)
def test_dtstamp_is_read_as_utc_or_left_out(line, expected):
    lines = [x for x in event() if not x.startswith("DTSTAMP")] + [line]
    [found] = read_replies(mail(calendar(*lines)))
    assert found.dtstamp == expected


NOW = datetime(2027, 3, 2, 10, 0, 30, 500000, tzinfo=UTC)


@pytest.mark.parametrize(
    ("sequence", "dtstamp", "current", "last_answer", "expected"),
    [
        (1, None, 1, None, None),
        (2, None, 1, None, None),  # a higher SEQUENCE than ours: not out of date
        (0, None, 1, None, itip.OUTDATED),
        (0, NOW, 1, None, itip.OUTDATED),
        (1, datetime(2027, 3, 2, 10, 0, 29, tzinfo=UTC), 1, NOW, itip.SUPERSEDED),
        (1, datetime(2027, 3, 2, 10, 0, 30, tzinfo=UTC), 1, NOW, None),  # the same second
        (1, datetime(2027, 3, 2, 10, 1, tzinfo=UTC), 1, NOW, None),
        (1, None, 1, NOW, None),  # without DTSTAMP: the SEQUENCE alone decides
    ],
)
def test_stale_reason(sequence, dtstamp, current, last_answer, expected):
    reply = Reply(UID, "ilse@example.org", "ACCEPTED", sequence, ORGANIZER, None, dtstamp)
    assert itip.stale_reason(reply, current, last_answer) == expected


def test_the_email_parameter_stands_in_for_a_non_mailto_address():
    attendee_value = "urn:uuid:6f1c2d3e-0000-4000-8000-000000000001"
    ics = calendar(
        f"UID:{UID}",
        f"ATTENDEE;EMAIL=Ilse@example.org;PARTSTAT=DECLINED:{attendee_value}",
    )
    (reply,) = read_replies(mail(ics))
    assert reply.attendee == "ilse@example.org" and reply.organizer == ""


def test_each_attendee_with_an_answer_is_a_reply_and_the_rest_are_skipped():
    ics = calendar(
        f"UID:{UID}",
        "ATTENDEE;PARTSTAT=ACCEPTED:mailto:a@example.org",
        "ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:b@example.org",
        "ATTENDEE;PARTSTAT=DELEGATED:mailto:c@example.org",
        "ATTENDEE:mailto:d@example.org",
        "ATTENDEE;PARTSTAT=DECLINED:mailto:not an address",
        "ATTENDEE;PARTSTAT=TENTATIVE:mailto:e@example.org",
    )
    assert [(r.attendee, r.partstat) for r in read_replies(mail(ics))] == [
        ("a@example.org", "ACCEPTED"),
        ("e@example.org", "TENTATIVE"),
    ]


def test_a_broken_event_does_not_spoil_the_others():
    ics = calendar(*event(uid=""), events=1).replace(
        "END:VEVENT\r\n",
        "END:VEVENT\r\nBEGIN:VEVENT\r\n" + "\r\n".join(event()) + "\r\nEND:VEVENT\r\n",
    )
    assert read_replies(mail(ics)) == [answer("ACCEPTED")]


@pytest.mark.parametrize(
    ("ics", "code"),
    [
        (
            calendar("UID:x", "ATTENDEE;PARTSTAT=ACCEPTED:mailto:a@b.c").replace("VEVENT", "VTODO"),
            "no_event",
        ),
        (calendar("ATTENDEE;PARTSTAT=ACCEPTED:mailto:a@b.c"), "no_uid"),
        (calendar("UID:ab\x01c", "ATTENDEE;PARTSTAT=ACCEPTED:mailto:a@b.c"), "no_uid"),
        (calendar("UID:" + "u" * 1001, "ATTENDEE;PARTSTAT=ACCEPTED:mailto:a@b.c"), "no_uid"),
        (calendar("UID:a", "UID:b", "ATTENDEE;PARTSTAT=ACCEPTED:mailto:a@b.c"), "no_uid"),
        (calendar("UID:x"), "no_attendee"),
        (calendar("UID:x", "ATTENDEE;PARTSTAT=ACCEPTED:mailto:nobody"), "no_attendee"),
        (calendar("UID:x", "ATTENDEE;PARTSTAT=ACCEPTED:mailto:a@b@c"), "no_attendee"),
        (calendar("UID:x", "ATTENDEE;PARTSTAT=ACCEPTED:tel:+31301234567"), "no_attendee"),
        (calendar("UID:x", "ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:a@b.c"), "unknown_partstat"),
        (calendar("UID:x", "ATTENDEE:mailto:a@b.c"), "unknown_partstat"),
        ("this is not iCalendar", "bad_calendar"),
        ("BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\n\x00\x01;;::\r\n", "bad_calendar"),
        ("", "bad_calendar"),
    ],
)
def test_why_a_reply_gives_nothing(ics, code):
    assert reason(mail(ics)) == code


def test_the_reasons_for_a_message_without_a_reply():
    assert reason(b"") == "not_email"
    assert reason(b"\r\n\r\n   \r\n") == "not_email"
    assert reason(b"\x00\xff\xfe binary junk without headers") == "not_email"
    assert reason(b"Subject: hello\r\n\r\nJust text.\r\n") == "no_calendar"


def test_an_attached_message_is_not_read():
    reply = mail(calendar(*event()))
    raw = multipart(part("text/plain", "Zie bijlage."), part("message/rfc822", reply))
    assert reason(raw) == "no_calendar"


def test_absurd_nesting_is_an_error_not_a_crash():
    levels = 5000
    raw = b"".join(
        b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i)
        for i in range(levels)
    )
    assert reason(raw, max_bytes=len(raw)) in {"not_email", "no_calendar"}


def test_bytes_like_input_only():
    raw = fixture("apple_tentative.eml")
    assert read_replies(bytearray(raw)) == read_replies(memoryview(raw)) == read_replies(raw)
    with pytest.raises(TypeError):
        read_replies(raw.decode())  # type: ignore[arg-type]


# --- size and count limits ------------------------------------------------------------


def test_a_5_mb_message_is_refused_before_parsing(monkeypatch):
    attachment = base64.encodebytes(b"\x89PNG" + b"\x00" * (4 * 1024 * 1024))
    raw = multipart(
        fixture("gmail_decline.eml"),
        part("image/png; name=foto.png", attachment, "Content-Transfer-Encoding: base64"),
    )
    assert len(raw) > 5_000_000

    def no_parsing(*args, **kwargs):
        raise AssertionError("parsed a message that is too large")

    monkeypatch.setattr(itip, "_parse_message", no_parsing)
    monkeypatch.setattr(itip.email, "message_from_bytes", no_parsing)
    started = time.perf_counter()
    assert reason(raw) == "too_large"
    assert time.perf_counter() - started < 0.5


def test_the_size_limit_is_inclusive_and_adjustable():
    raw = fixture("thunderbird_accept.eml")
    expected = answer("ACCEPTED", dtstamp=stamp("20270302T084501Z"))
    assert read_replies(raw, max_bytes=len(raw)) == [expected]
    assert reason(raw, max_bytes=len(raw) - 1) == "too_large"


def test_ten_thousand_events_are_capped():
    body = "".join(
        f"BEGIN:VEVENT\r\nUID:u{n}\r\nATTENDEE;PARTSTAT=ACCEPTED:mailto:a@b.c\r\nEND:VEVENT\r\n"
        for n in range(10_000)
    )
    raw = mail(f"BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\n{body}END:VCALENDAR\r\n")
    assert len(raw) < 1_000_000
    replies = read_replies(raw)
    assert [r.uid for r in replies] == [f"u{n}" for n in range(MAX_REPLIES)]


def test_identical_replies_are_returned_once():
    ics = calendar(*event(), events=3)
    raw = multipart(part("text/calendar; method=REPLY", ics), part("application/ics", ics))
    assert read_replies(raw) == [answer("ACCEPTED")]


# --- the reply address ----------------------------------------------------------------


def test_reply_tag_is_the_documented_hmac():
    digest = hmac.new(SECRET.encode(), b"reply:1234:n0nce", hashlib.sha256).digest()
    mac = base64.b32encode(digest).decode().lower()[:16]
    assert reply_tag(SECRET, 1234, "n0nce") == f"1234.{mac}"
    assert len(mac) == 16


def test_tagged_address():
    assert tagged_address(BASE, "7.ABCDEFGHIJKLMNOP") == ORGANIZER.replace(
        "abcdefghijklmnop", "ABCDEFGHIJKLMNOP"
    )
    assert tagged_address("antwoord+old@example.org", "7.ABCDEFGHIJKLMNOP") == (
        "antwoord+7.ABCDEFGHIJKLMNOP@example.org"
    )
    for bad_base in ["antwoord", "@example.org", "+x@example.org", "antwoord@"]:
        with pytest.raises(ValueError):
            tagged_address(bad_base, "7.ABCDEFGHIJKLMNOP")
    for bad_tag in ["7", "7.short", "x.ABCDEFGHIJKLMNOP", "7.ABCDEFGHIJKLMNOP\r\nBcc: x@y.z"]:
        with pytest.raises(ValueError):
            tagged_address(BASE, bad_tag)


def test_tag_round_trip():
    tag = reply_tag(SECRET, 1234, "n0nce")
    address = tagged_address(BASE, tag)
    contact_id, mac = parse_tag(address, BASE)
    assert contact_id == 1234 and verify_tag(SECRET, contact_id, "n0nce", mac)


def test_a_tag_from_another_secret_nonce_or_contact_fails():
    contact_id, mac = parse_tag(tagged_address(BASE, reply_tag(SECRET, 1234, "n0nce")), BASE)
    assert not verify_tag(SECRET + "x", contact_id, "n0nce", mac)
    assert not verify_tag(SECRET, contact_id, "other", mac)
    assert not verify_tag(SECRET, 1235, "n0nce", mac)
    moved = parse_tag(tagged_address(BASE, f"1235.{mac}"), BASE)
    assert moved == (1235, mac) and not verify_tag(SECRET, 1235, "n0nce", mac)
    flipped = mac[:-1] + ("a" if mac[-1] != "a" else "b")
    assert not verify_tag(SECRET, contact_id, "n0nce", flipped)
    # Case does not matter: mail systems may lowercase (or uppercase) an address.
    assert verify_tag(SECRET, contact_id, "n0nce", mac.upper())
    assert not verify_tag(SECRET, contact_id, "n0nce", mac[:15])
    assert not verify_tag(SECRET, contact_id, "n0nce", "é" * 16)
    assert not verify_tag(SECRET, contact_id, "n0nce", None)  # type: ignore[arg-type]


def test_the_case_of_the_address_does_not_matter():
    mac = reply_tag(SECRET, 7, "n").partition(".")[2]
    for address in [
        f"antwoord+7.{mac}@example.org",
        f"antwoord+7.{mac}@EXAMPLE.ORG",
        f"Antwoord+7.{mac}@Example.Org",
        f"mailto:antwoord+7.{mac}@example.org",
        f"MAILTO:antwoord+7.{mac}@example.org",
        f"<antwoord+7.{mac}@example.org>",
        f"  antwoord+7.{mac}@example.org  ",
    ]:
        assert parse_tag(address, BASE) == (7, mac), address
        assert parse_tag(address, "Antwoord@Example.org") == (7, mac), address
    assert parse_tag(f"antwoord+7.{mac}@example.org", "antwoord+x@example.org") == (7, mac)


@pytest.mark.parametrize(
    "address",
    [
        "antwoord+7.ABCDEFGHIJKLMNOP@example.org.evil.test",
        "antwoord+7.ABCDEFGHIJKLMNOP@evil-example.org",
        "antwoord+7.ABCDEFGHIJKLMNOP@examp1e.org",
        "antwoord+7.ABCDEFGHIJKLMNOP@ex\u0430mple.org",  # Cyrillic a
        "antwoord+7.ABCDEFGHIJKLMNOP@example.org.",
        "antwoord+7.ABCDEFGHIJKLMNOP@sub.example.org",
        "antwoord+7.ABCDEFGHIJKLMNOP@example.org@evil.test",
        "antwoord+7.ABCDEFGHIJKLMNOP@evil.test@example.org",
        "xantwoord+7.ABCDEFGHIJKLMNOP@example.org",
        "antwoord2+7.ABCDEFGHIJKLMNOP@example.org",
        "antwoord-7.ABCDEFGHIJKLMNOP@example.org",
        "antwoord@example.org",
        "antwoord+@example.org",
        "antwoord+7@example.org",
        "antwoord+7.@example.org",
        "antwoord+7.ABCDEFGHIJKLMNO@example.org",
        "antwoord+7.ABCDEFGHIJKLMNOPQ@example.org",
        "antwoord+7.ABCDEFGHIJKLMNO=@example.org",
        "antwoord+7.ABCDEFGH JKLMNOP@example.org",
        "antwoord+007.ABCDEFGHIJKLMNOP@example.org",
        "antwoord+-7.ABCDEFGHIJKLMNOP@example.org",
        "antwoord+\u0667.ABCDEFGHIJKLMNOP@example.org",  # Arabic-Indic seven
        "antwoord+1234567890123456789.ABCDEFGHIJKLMNOP@example.org",
        "antwoord+7.ABCDEFGHIJKLMNOP+x@example.org",
        "antwoord+7.ABCDEFGHIJKLMNOP\n@example.org",
        "Ilse <antwoord+7.ABCDEFGHIJKLMNOP@example.org>",
        "",
    ],
)
def test_lookalike_and_malformed_addresses_give_no_tag(address):
    assert parse_tag(address, BASE) is None


def test_reply_tag_refuses_what_would_make_a_weak_or_odd_tag():
    with pytest.raises(ValueError):
        reply_tag("", 7, "n")
    for contact_id in (-1, True, 7.0):
        with pytest.raises(ValueError):
            reply_tag(SECRET, contact_id, "n")  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=10**17), st.text(max_size=40))
def test_every_tag_round_trips(contact_id, nonce):
    tag = reply_tag(SECRET, contact_id, nonce)
    parsed = parse_tag(tagged_address(BASE, tag), BASE)
    assert parsed is not None and parsed[0] == contact_id
    assert verify_tag(SECRET, contact_id, nonce, parsed[1])
    assert not verify_tag(SECRET, contact_id, nonce + "x", parsed[1])


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_parse_tag_never_raises(address):
    result = parse_tag(address, BASE)
    assert result is None or (isinstance(result[0], int) and len(result[1]) == 16)


# --- fuzzing: a hostile mail raises ReplyError and nothing else -----------------------

FIXTURES = sorted(p.name for p in DATA.glob("*.eml"))


def _check(raw: bytes) -> None:
    try:
        replies = read_replies(raw)
    except ReplyError as exc:
        assert exc.reason != "unreadable", f"unforeseen failure: {exc}"
        return
    assert 1 <= len(replies) <= MAX_REPLIES
    assert len(set(replies)) == len(replies)
    for reply in replies:
        assert reply.partstat in {"ACCEPTED", "TENTATIVE", "DECLINED"}
        assert reply.uid and reply.uid == reply.uid.strip()
        assert "@" in reply.attendee and reply.attendee == reply.attendee.lower()
        assert not reply.attendee.startswith("mailto:")
        assert reply.organizer == reply.organizer.lower()
        assert 0 <= reply.sequence <= 2**31 - 1


@FUZZ
@given(st.binary(max_size=4096))
def test_fuzz_random_bytes(raw):
    _check(raw)


@FUZZ
@given(st.binary(max_size=4096))
def test_fuzz_random_calendar_body(body):
    _check(mail(b"BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\n" + body))


CONTENT_LINES = [
    "BEGIN:VCALENDAR", "END:VCALENDAR", "BEGIN:VEVENT", "END:VEVENT", "METHOD:REPLY",
    "METHOD:REQUEST", f"UID:{UID}", "UID:", "SEQUENCE:2", "SEQUENCE:-5", "SEQUENCE:x",
    "ATTENDEE;PARTSTAT=ACCEPTED:mailto:ilse@example.org", "ATTENDEE;PARTSTAT=:mailto:",
    'ATTENDEE;CN="unterminated:mailto:a@b.c', "ATTENDEE;PARTSTAT=DECLINED,ACCEPTED:mailto:a@b.c",
    f"ORGANIZER:mailto:{ORGANIZER}", "ORGANIZER:", "RECURRENCE-ID:20270315T183000Z",
    "RECURRENCE-ID;TZID=Europe/Amsterdam:99999999T999999", "RECURRENCE-ID;VALUE=DATE:00000000",
    "RECURRENCE-ID;TZID=X:20270315T193000", "BEGIN:VTIMEZONE", "TZID:X", "END:VTIMEZONE",
    "BEGIN:STANDARD", "TZOFFSETFROM:+9999", "TZOFFSETTO:-2400", "DTSTART:00010101T000000",
    "END:STANDARD", " folded", ";;;", ":", "X-MICROSOFT-CDO-APPT-SEQUENCE:99999999999",
]  # fmt: skip


@FUZZ
@given(st.lists(st.sampled_from(CONTENT_LINES) | st.text(max_size=30), max_size=60))
def test_fuzz_calendar_structure(lines):
    _check(mail("\r\n".join(lines)))


SNIPPETS = [b"\r\n", b"\r\n\r\n", b"--", b"=", b"=\r\n", b";", b":", b'"', b"\x00", b"\r\n "]
SNIPPETS += [b"\r\nBEGIN:VEVENT\r\n", b"\r\nEND:VCALENDAR\r\n", b"\r\nMETHOD:REPLY\r\n"]


@st.composite
def mutated_fixtures(draw) -> bytes:
    raw = bytearray(fixture(draw(st.sampled_from(FIXTURES))))
    for _ in range(draw(st.integers(min_value=1, max_value=8))):
        kind = draw(st.sampled_from(["flip", "delete", "insert", "truncate", "duplicate"]))
        at = draw(st.integers(min_value=0, max_value=max(len(raw) - 1, 0)))
        if kind == "flip" and raw:
            raw[at] = draw(st.integers(min_value=0, max_value=255))
        elif kind == "delete":
            del raw[at : at + draw(st.integers(min_value=1, max_value=200))]
        elif kind == "insert":
            raw[at:at] = draw(st.binary(max_size=40) | st.sampled_from(SNIPPETS))
        elif kind == "truncate":
            del raw[at:]
        else:
            end = at + draw(st.integers(min_value=1, max_value=400))
            raw[at:at] = raw[at:end]
    return bytes(raw)


@FUZZ
@given(mutated_fixtures())
def test_fuzz_mutated_fixtures(raw):
    _check(raw)
