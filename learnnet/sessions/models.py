"""Sessions of a network, its blackout periods and the facilities' unavailable periods."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time

from sqlalchemy import Date, ForeignKey, Integer, String, Text, Time
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learnnet.auth.models import User
from learnnet.extensions import db
from learnnet.models import TimestampMixin, UTCDateTime
from learnnet.networks.models import Contact, Facility, Network

PLANNED = "planned"
CONFIRMED = "confirmed"
CANCELLED = "cancelled"
HELD = "held"
STATUSES = (PLANNED, CONFIRMED, CANCELLED, HELD)


def new_uid() -> str:
    """A calendar UID for a new session: random, never reused, never changed."""
    return f"{uuid.uuid4()}@learnnet"


class Series(TimestampMixin, db.Model):
    """A season planned in one go: the pattern and details its sessions share.

    Kept so that the next plan starts from the same pattern, and so that a series saved
    by mistake can be deleted as a whole (while nobody has been told about it).
    """

    __tablename__ = "series"

    id: Mapped[int] = mapped_column(primary_key=True)
    network_id: Mapped[int] = mapped_column(
        ForeignKey("network.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    weekday: Mapped[int] = mapped_column(Integer, default=1)
    interval_weeks: Mapped[int] = mapped_column(Integer, default=4)
    nth: Mapped[int] = mapped_column(Integer, default=2)
    start_time: Mapped[time] = mapped_column(Time)
    duration_minutes: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(160))
    rsvp_days: Mapped[int | None] = mapped_column(Integer)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )

    network: Mapped[Network] = relationship()
    created_by: Mapped[User | None] = relationship()


class Session(TimestampMixin, db.Model):
    """One meeting of a network, hosted at a member facility.

    ``revision`` increases with every change that matters to a calendar (time, place,
    cancellation): it is the event's SEQUENCE (RFC 5546 §2.1.4). Agenda edits do not
    raise it: they are not announced as updates, and feeds show them anyway.
    """

    __tablename__ = "network_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The calendar UID: the same for the life of the session, whatever changes.
    uid: Mapped[str] = mapped_column(String(80), unique=True, default=new_uid)
    network_id: Mapped[int] = mapped_column(
        ForeignKey("network.id", ondelete="CASCADE"), index=True
    )
    host_facility_id: Mapped[int] = mapped_column(
        ForeignKey("facility.id", ondelete="RESTRICT"), index=True
    )
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    title: Mapped[str] = mapped_column(String(160))
    agenda: Mapped[str] = mapped_column(Text, default="")
    host_showcase: Mapped[str] = mapped_column(Text, default="")
    practical_info: Mapped[str] = mapped_column(Text, default="")
    capacity: Mapped[int | None] = mapped_column(Integer)
    rsvp_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(20), default=PLANNED)
    # Why the facilitator cancelled it (optional), for the cancellation mail.
    cancel_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    revision: Mapped[int] = mapped_column(Integer, default=0)
    host_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    host_confirmed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("contact.id", ondelete="SET NULL")
    )
    # The host's "no, we cannot": flags the session until another host is chosen.
    host_declined_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    host_declined_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("contact.id", ondelete="SET NULL")
    )
    host_declined_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    # When the facilitator sent the invitations: from then on, changes are announced.
    invited_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The series it was planned in (None for a session added on its own).
    series_id: Mapped[int | None] = mapped_column(
        ForeignKey("series.id", ondelete="SET NULL"), index=True
    )

    network: Mapped[Network] = relationship()
    series: Mapped[Series | None] = relationship()
    host: Mapped[Facility] = relationship()
    host_confirmed_by: Mapped[Contact | None] = relationship(foreign_keys=[host_confirmed_by_id])
    host_declined_by: Mapped[Contact | None] = relationship(foreign_keys=[host_declined_by_id])

    @property
    def is_cancelled(self) -> bool:
        """Cancelled sessions stay visible, marked as such."""
        return self.status == CANCELLED

    def display_status(self, now: datetime) -> str:
        """The status to show: a session that has ended and was not cancelled was held;
        one with attendance recorded before its end (check-in opens an hour before the
        start) is not "held" yet, but planned or confirmed."""
        if self.status == CANCELLED:
            return CANCELLED
        if self.ends_at <= now:
            return HELD
        if self.status == HELD:
            return CONFIRMED if self.host_confirmed_at else PLANNED
        return self.status

    def __repr__(self) -> str:
        return f"<Session {self.id} {self.starts_at:%Y-%m-%d}>"


class Blackout(TimestampMixin, db.Model):
    """A period without sessions for the whole network, e.g. the school holidays."""

    __tablename__ = "blackout"

    id: Mapped[int] = mapped_column(primary_key=True)
    network_id: Mapped[int] = mapped_column(
        ForeignKey("network.id", ondelete="CASCADE"), index=True
    )
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    label: Mapped[str] = mapped_column(String(120), default="")

    network: Mapped[Network] = relationship()


class Unavailability(TimestampMixin, db.Model):
    """Days a facility cannot host (closed, renovation, room in use)."""

    __tablename__ = "unavailability"

    id: Mapped[int] = mapped_column(primary_key=True)
    facility_id: Mapped[int] = mapped_column(
        ForeignKey("facility.id", ondelete="CASCADE"), index=True
    )
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(160), default="")

    facility: Mapped[Facility] = relationship()
