"""Personal links, answers (RSVPs) and the history of every change to an answer."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learnnet.auth.models import User
from learnnet.extensions import db
from learnnet.mail.models import OutboxMessage
from learnnet.models import TimestampMixin, UTCDateTime, utcnow
from learnnet.networks.models import Contact
from learnnet.sessions.models import Session

YES = "yes"
MAYBE = "maybe"
NO = "no"
WITHDRAWN = "withdrawn"  # the facility or the person left the network
ANSWERS = (YES, MAYBE, NO)


class PersonalLink(db.Model):
    """A contact's personal link: only a hash of its token is stored.

    The token is derived from the app's secret key and a random nonce
    (:func:`learnnet.rsvp.rules.derive_token`), so the facilitator can show the link
    again, while a copy of the database alone reveals no working link.
    """

    __tablename__ = "personal_link"
    __table_args__ = (
        Index(
            "uq_personal_link_current",
            "contact_id",
            unique=True,
            sqlite_where=text("revoked_at IS NULL"),
            postgresql_where=text("revoked_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contact.id", ondelete="CASCADE"), index=True
    )
    nonce: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    contact: Mapped[Contact] = relationship()


class Rsvp(TimestampMixin, db.Model):
    """A contact's answer for a session; a "yes" beyond capacity waits on the waitlist."""

    __tablename__ = "rsvp"
    __table_args__ = (UniqueConstraint("session_id", "contact_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("network_session.id", ondelete="CASCADE"), index=True
    )
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contact.id", ondelete="CASCADE"), index=True
    )
    answer: Mapped[str] = mapped_column(String(10))
    waitlisted: Mapped[bool] = mapped_column(Boolean, default=False)
    # When the "yes" joined the waitlist: the waitlist is served in this order.
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    note: Mapped[str] = mapped_column(String(500), default="")

    session: Mapped[Session] = relationship()
    contact: Mapped[Contact] = relationship()

    @property
    def confirmed(self) -> bool:
        """A "yes" with a seat."""
        return self.answer == YES and not self.waitlisted


class RsvpChange(db.Model):
    """One change to an answer: who made it, when, and from what to what."""

    __tablename__ = "rsvp_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    rsvp_id: Mapped[int] = mapped_column(ForeignKey("rsvp.id", ondelete="CASCADE"), index=True)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Exactly one of these says who: the contact through a personal link, a facilitator,
    # or learnnet itself ("promoted", "left").
    by_contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id", ondelete="SET NULL"))
    by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    by_system: Mapped[str] = mapped_column(String(20), default="")
    old_answer: Mapped[str | None] = mapped_column(String(10))
    new_answer: Mapped[str] = mapped_column(String(10))
    old_waitlisted: Mapped[bool | None] = mapped_column(Boolean)
    new_waitlisted: Mapped[bool] = mapped_column(Boolean, default=False)
    old_note: Mapped[str | None] = mapped_column(Text)
    new_note: Mapped[str] = mapped_column(Text, default="")

    rsvp: Mapped[Rsvp] = relationship()
    by_contact: Mapped[Contact | None] = relationship(foreign_keys=[by_contact_id])
    by_user: Mapped[User | None] = relationship()


class MemberMessage(db.Model):
    """A short message from a member to the network's facilitators about a session
    ("I come later", "can I still come?"): shown on the session page and mailed to the
    facilitators with the member's address as Reply-To."""

    __tablename__ = "member_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("network_session.id", ondelete="CASCADE"), index=True
    )
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contact.id", ondelete="CASCADE"), index=True
    )
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    session: Mapped[Session] = relationship()
    contact: Mapped[Contact] = relationship()


class Invitation(db.Model):
    """A session an invitation mail invited the contact to: one mail can invite to several
    sessions (one send, one mail per person), each remembered here for "who was invited"
    (changes, reminders, CANCELs go to them)."""

    __tablename__ = "invitation"
    __table_args__ = (
        UniqueConstraint("message_id", "session_id"),
        Index("ix_invitation_session_contact", "session_id", "contact_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("outbox_message.id", ondelete="CASCADE"))
    session_id: Mapped[int] = mapped_column(ForeignKey("network_session.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contact.id", ondelete="CASCADE"), index=True
    )

    message: Mapped[OutboxMessage] = relationship()
