"""Who was at a session (present, absent, excused), every change to it, check-in settings.

An attendance row keeps the person's and the facility's names as they were, so the
record outlives a contact who leaves, a facility that leaves or is removed, and later
edits of the session.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learnnet.auth.models import User
from learnnet.extensions import db
from learnnet.models import TimestampMixin, UTCDateTime, utcnow
from learnnet.networks.models import Contact, Facility
from learnnet.sessions.models import Session

PRESENT = "present"
ABSENT = "absent"
EXCUSED = "excused"
STATUSES = (PRESENT, ABSENT, EXCUSED)

BY_FACILITATOR = "facilitator"
BY_HOST = "host"
BY_SELF = "self"  # the member scanned the session's QR code


class Attendance(TimestampMixin, db.Model):
    """One person's attendance of one session: a contact, or a guest who is none."""

    __tablename__ = "attendance"
    __table_args__ = (
        Index(
            "uq_attendance_contact",
            "session_id",
            "contact_id",
            unique=True,
            sqlite_where=text("contact_id IS NOT NULL"),
            postgresql_where=text("contact_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("network_session.id", ondelete="CASCADE"), index=True
    )
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contact.id", ondelete="SET NULL"), index=True
    )
    facility_id: Mapped[int | None] = mapped_column(
        ForeignKey("facility.id", ondelete="SET NULL"), index=True
    )
    # Names as they were when recorded: history survives people and facilities leaving.
    person_name: Mapped[str] = mapped_column(String(120))
    facility_name: Mapped[str] = mapped_column(String(160), default="")
    status: Mapped[str] = mapped_column(String(10))
    walk_in: Mapped[bool] = mapped_column(Boolean, default=False)

    session: Mapped[Session] = relationship()
    contact: Mapped[Contact | None] = relationship()
    facility: Mapped[Facility | None] = relationship()

    @property
    def is_guest(self) -> bool:
        """A walk-in who is not a contact of a facility."""
        return self.contact_id is None


class AttendanceChange(db.Model):
    """One change to an attendance: who, when, how, from what to what."""

    __tablename__ = "attendance_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    attendance_id: Mapped[int] = mapped_column(
        ForeignKey("attendance.id", ondelete="CASCADE"), index=True
    )
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    by_contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id", ondelete="SET NULL"))
    via: Mapped[str] = mapped_column(String(12))
    old_status: Mapped[str | None] = mapped_column(String(10))
    new_status: Mapped[str] = mapped_column(String(10))

    attendance: Mapped[Attendance] = relationship()
    by_user: Mapped[User | None] = relationship()
    by_contact: Mapped[Contact | None] = relationship(foreign_keys=[by_contact_id])


class CheckinSetting(db.Model):
    """Per session: the code behind its self check-in QR, and whether the host may check in."""

    __tablename__ = "checkin_setting"

    session_id: Mapped[int] = mapped_column(
        ForeignKey("network_session.id", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[str | None] = mapped_column(String(40), unique=True)
    host_may_check_in: Mapped[bool] = mapped_column(Boolean, default=False)

    session: Mapped[Session] = relationship()
