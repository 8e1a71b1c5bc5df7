"""The season poll's tables: a poll per network, its candidate dates, the answers."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learnnet.auth.models import User
from learnnet.extensions import db
from learnnet.models import TimestampMixin, UTCDateTime, utcnow
from learnnet.networks.models import Contact, Network


class Poll(TimestampMixin, db.Model):
    """A poll of the members about the candidate dates of a season.

    Open until the facilitator closes it (``closed_at``); ``closes_on`` is the date the
    members are asked to answer by. Answers after closing are kept, marked late.
    """

    __tablename__ = "poll"

    id: Mapped[int] = mapped_column(primary_key=True)
    network_id: Mapped[int] = mapped_column(
        ForeignKey("network.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(Text, default="")
    closes_on: Mapped[date] = mapped_column(Date)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )

    network: Mapped[Network] = relationship()
    created_by: Mapped[User | None] = relationship()
    dates: Mapped[list[PollDate]] = relationship(
        back_populates="poll", order_by="PollDate.day", cascade="all, delete-orphan"
    )

    @property
    def is_open(self) -> bool:
        """Answers count until the facilitator closes the poll."""
        return self.closed_at is None


class PollDate(db.Model):
    """One candidate date of a poll."""

    __tablename__ = "poll_date"
    __table_args__ = (UniqueConstraint("poll_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("poll.id", ondelete="CASCADE"), index=True)
    day: Mapped[date] = mapped_column(Date)

    poll: Mapped[Poll] = relationship(back_populates="dates")


class PollAnswer(db.Model):
    """A contact's answer for one date: ``can``, ``cannot`` or ``rather_not``, and
    whether their facility can receive the network that day.

    ``late`` answers were given after the poll closed: one row per contact, date and
    lateness, so a late change never overwrites the answer the plan was made with.
    """

    __tablename__ = "poll_answer"
    __table_args__ = (UniqueConstraint("poll_date_id", "contact_id", "late"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_date_id: Mapped[int] = mapped_column(
        ForeignKey("poll_date.id", ondelete="CASCADE"), index=True
    )
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contact.id", ondelete="CASCADE"), index=True
    )
    answer: Mapped[str] = mapped_column(String(20))
    host: Mapped[bool] = mapped_column(Boolean, default=False)
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    poll_date: Mapped[PollDate] = relationship()
    contact: Mapped[Contact] = relationship()
