"""Turn the client-shaped REPLY fixtures (tests/data/itip) into replies to a real invitation.

The calendar text inside each fixture is decoded, unfolded, given the invitation's UID,
ORGANIZER and ATTENDEE (and optionally another PARTSTAT), and encoded again the way the
fixture was (base64, quoted-printable or 8bit), so the MIME shape of each client stays.
"""

from __future__ import annotations

import base64
import quopri
import re
from email import message_from_bytes, policy
from pathlib import Path

FIXTURES = Path(__file__).parent / "data" / "itip"
OLD_UID = "session-uid-0001@learnnet"
OLD_ORGANIZER = re.compile(r"antwoord\+7\.ABCDEFGHIJKLMNOP@example\.org", re.IGNORECASE)
OLD_ATTENDEE = re.compile(r"ilse@example\.org", re.IGNORECASE)
SHAPES = {
    "outlook_accept.eml": "ACCEPTED",
    "gmail_decline.eml": "DECLINED",
    "apple_tentative.eml": "TENTATIVE",
    "thunderbird_accept.eml": "ACCEPTED",
}


def _is_calendar(part) -> bool:
    filename = part.get_filename() or ""
    return part.get_content_type() in ("text/calendar", "application/ics") or filename.endswith(
        ".ics"
    )


def reply(
    shape: str,
    uid: str,
    organizer: str,
    attendee: str,
    partstat: str | None = None,
    *,
    sequence: int | None = None,
    dtstamp: str | None = None,
) -> bytes:
    """The fixture ``shape`` as a reply to this invitation.

    ``sequence`` replaces the SEQUENCE the client wrote (Outlook's
    X-MICROSOFT-CDO-APPT-SEQUENCE, as it writes no SEQUENCE; ``-1`` removes both, as a
    client that writes neither); ``dtstamp`` ("20270302T081503Z") replaces DTSTAMP.
    """
    message = message_from_bytes((FIXTURES / shape).read_bytes(), policy=policy.compat32)
    for part in message.walk():
        if part.is_multipart() or not _is_calendar(part):
            continue
        text = part.get_payload(decode=True).decode("utf-8")
        text = re.sub(r"\r?\n[ \t]", "", text)  # unfold
        text = text.replace(OLD_UID, uid)
        text = OLD_ORGANIZER.sub(organizer, text)
        text = OLD_ATTENDEE.sub(attendee, text)
        if partstat:
            text = re.sub(r"PARTSTAT=[A-Z-]+", f"PARTSTAT={partstat}", text)
        if sequence is not None:
            for name in ("SEQUENCE", "X-MICROSOFT-CDO-APPT-SEQUENCE"):
                if sequence < 0:
                    text = re.sub(rf"(?m)^{name}:[^\r\n]*\r?\n", "", text)
                else:
                    text = re.sub(rf"(?m)^{name}:[^\r\n]*", f"{name}:{sequence}", text)
        if dtstamp is not None:
            text = re.sub(r"(?m)^DTSTAMP:[^\r\n]*", f"DTSTAMP:{dtstamp}", text)
        data = text.encode("utf-8")
        encoding = (part.get("Content-Transfer-Encoding") or "").lower()
        if encoding == "base64":
            part.set_payload(base64.encodebytes(data).decode("ascii"))
        elif encoding == "quoted-printable":
            part.set_payload(quopri.encodestring(data).decode("ascii"))
        else:  # 8bit: the generator writes surrogate-escaped bytes back as they were
            part.set_payload(data.decode("ascii", "surrogateescape"))
    del message["To"]
    message["To"] = organizer
    return message.as_bytes()
