"""Build a MIME message from plain values; no Flask, no database.

Layout: ``multipart/mixed`` holding a ``multipart/alternative`` of text, HTML and any
inline parts (an iMIP ``text/calendar; method=…`` part, RFC 6047 §2.4), followed by
the attachments. Without attachments the alternative part is the whole message.

Headers are built by the email library's ``default`` policy (RFC 2047 encoded words,
display names quoted by :class:`~email.headerregistry.Address`). A header value that is
not one line (:mod:`learnnet.names`: a CR, LF, U+2028, NUL … in a name written before the
rule) raises :class:`Unbuildable`: the sender marks that one message failed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from learnnet.names import describe, refused_characters


class Unbuildable(ValueError):
    """The message cannot be built from these values (retrying cannot help)."""


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


def _address(name: str, email: str) -> Address:
    local, _, domain = email.rpartition("@")
    if not local or not domain:
        raise Unbuildable(f"the recipient address {email!r} has no local part or domain")
    return Address(display_name=name, username=local, domain=domain)


def _one_line(header: str, value: str) -> str:
    refused = refused_characters(value)
    if refused:
        raise Unbuildable(f"the {header} holds control characters ({describe(refused)})")
    return value


def sender_domain(sender: str) -> str:
    """The domain of the sender's address, for Message-IDs."""
    return sender.rpartition("@")[2].rstrip(">").strip() or "learnnet.local"


def stable_message_id(key: str, sender: str) -> str:
    """A Message-ID that is the same on every attempt to send one outbox row, so that a
    copy sent again after a crash carries the ID of the first (mailboxes that dedupe on
    Message-ID show it once). ``key`` names the row uniquely, creation time included."""
    return f"<{key}@{sender_domain(sender)}>"


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
    """The MIME message for ``mail``; raises :class:`Unbuildable` when that cannot be."""
    msg = EmailMessage()
    msg["From"] = _one_line("sender", mail.sender)
    msg["To"] = _address(
        _one_line("recipient's name", mail.recipient_name),
        _one_line("recipient's address", mail.recipient),
    )
    msg["Subject"] = _one_line("subject", mail.subject)
    if mail.reply_to:
        msg["Reply-To"] = _one_line("reply-to address", mail.reply_to)
    if mail.date:
        msg["Date"] = format_datetime(mail.date)
    msg["Message-ID"] = mail.message_id or make_msgid(domain=sender_domain(mail.sender))
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
