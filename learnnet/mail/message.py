"""Build a MIME message from plain values; no Flask, no database.

Layout: ``multipart/mixed`` holding a ``multipart/alternative`` of text, HTML and any
inline parts (an iMIP ``text/calendar; method=…`` part, RFC 6047 §2.4), followed by
the attachments. Without attachments the alternative part is the whole message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid


@dataclass(frozen=True)
class Part:
    """An inline alternative part or an attachment."""

    filename: str
    content_type: str  # with parameters, e.g. "text/calendar; method=REQUEST"
    data: bytes
    inline: bool = False


@dataclass(frozen=True)
class Mail:
    """Everything a message needs, as plain values."""

    sender: str  # "learnnet <noreply@example.org>" or a bare address
    recipient: str
    recipient_name: str
    subject: str
    text: str
    html: str = ""
    parts: tuple[Part, ...] = field(default_factory=tuple)
    date: datetime | None = None
    message_id: str | None = None
    reply_to: str | None = None


def _address(name: str, email: str) -> str:
    local, _, domain = email.rpartition("@")
    return str(Address(display_name=name, username=local, domain=domain))


def _maintype_subtype(content_type: str) -> tuple[str, str, dict[str, str]]:
    main, *params = [p.strip() for p in content_type.split(";")]
    maintype, _, subtype = main.partition("/")
    parsed = {}
    for p in params:
        key, _, value = p.partition("=")
        if key:
            parsed[key.strip().lower()] = value.strip().strip('"')
    return maintype, subtype, parsed


def build(mail: Mail) -> EmailMessage:
    """The MIME message for ``mail``."""
    msg = EmailMessage()
    msg["From"] = mail.sender
    msg["To"] = _address(mail.recipient_name, mail.recipient)
    msg["Subject"] = mail.subject
    if mail.reply_to:
        msg["Reply-To"] = mail.reply_to
    if mail.date:
        msg["Date"] = format_datetime(mail.date)
    domain = mail.sender.rpartition("@")[2].rstrip(">").strip() or "learnnet.local"
    msg["Message-ID"] = mail.message_id or make_msgid(domain=domain)
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(mail.text, charset="utf-8")
    if mail.html:
        msg.add_alternative(mail.html, subtype="html", charset="utf-8")
    for part in (p for p in mail.parts if p.inline):
        maintype, subtype, params = _maintype_subtype(part.content_type)
        if maintype == "text":
            msg.add_alternative(
                part.data.decode("utf-8"), subtype=subtype, charset="utf-8", params=params
            )
        else:
            msg.add_alternative(part.data, maintype=maintype, subtype=subtype, params=params)
    for part in (p for p in mail.parts if not p.inline):
        maintype, subtype, params = _maintype_subtype(part.content_type)
        msg.add_attachment(
            part.data, maintype=maintype, subtype=subtype, filename=part.filename, params=params
        )
    return msg
