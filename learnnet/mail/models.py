"""The outbox: messages waiting for delivery, delivered, or given up on."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, LargeBinary, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learnnet.extensions import db
from learnnet.models import UTCDateTime, utcnow

QUEUED = "queued"
# Handed to the mail server, outcome not yet recorded. A row still "sending" after its
# claim ran out is in doubt (its sender died mid-send): it is sent again (at least once).
SENDING = "sending"
SENT = "sent"
FAILED = "failed"  # given up after MAIL_MAX_ATTEMPTS, refused for good, or unbuildable

# Senders take due messages lowest priority first, then oldest first: a change or a
# cancellation never waits behind a batch of invitations.
URGENT = 0  # changes, cancellations, a seat that came free, account mail
NORMAL = 5
BULK = 9  # invitations, reminders, nudges


class OutboxMessage(db.Model):
    """One email to one recipient, rendered when it was queued."""

    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_message_due", "status", "priority", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    kind: Mapped[str] = mapped_column(String(40))
    # A message with a key is queued at most once (e.g. "reminder:12:34:7:…").
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    recipient: Mapped[str] = mapped_column(String(254))
    recipient_name: Mapped[str] = mapped_column(String(120), default="")
    # Where a reply goes when not to the default (a member's message to the facilitator).
    reply_to: Mapped[str | None] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default=QUEUED, index=True)
    priority: Mapped[int] = mapped_column(SmallInteger, default=NORMAL, server_default="5")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    # A sender claims a row (status "sending") before handing it to the mail server, so
    # two live senders never send it twice; the claim outlasts one delivery attempt.
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # What the message is about, for "who was invited" and the facilitator's overview.
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contact.id", ondelete="SET NULL"), index=True
    )
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("network_session.id", ondelete="SET NULL"), index=True
    )

    attachments: Mapped[list[OutboxAttachment]] = relationship(
        back_populates="message", cascade="all, delete-orphan", order_by="OutboxAttachment.id"
    )


class OutboxAttachment(db.Model):
    """A file or an inline part (e.g. text/calendar for an iMIP invitation) of a message."""

    __tablename__ = "outbox_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("outbox_message.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(200))
    # Full content type with parameters, e.g. "text/calendar; method=REQUEST".
    content_type: Mapped[str] = mapped_column(String(200))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    # Inline: an alternative body part beside text and HTML (iMIP); else an attachment.
    inline: Mapped[bool] = mapped_column(Boolean, default=False)

    message: Mapped[OutboxMessage] = relationship(back_populates="attachments")
