"""The minutes (verslag) of a held session and its action points (afspraken).

Minutes are a draft until the facilitator publishes them; only then do members see them,
get the one mail, and do their action points come back in later look-backs
(:mod:`learnnet.learning.actions`).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learnnet.auth.models import User
from learnnet.extensions import db
from learnnet.learning.models import AgendaItem
from learnnet.models import TimestampMixin, UTCDateTime, utcnow
from learnnet.networks.models import Contact, Facility
from learnnet.sessions.models import Session

DRAFT = "draft"
PUBLISHED = "published"


class Minutes(TimestampMixin, db.Model):
    """The minutes of one session: a text per agenda item (:class:`MinutesSection`), a
    general text, and action points; a draft until ``published_at``."""

    __tablename__ = "minutes"

    session_id: Mapped[int] = mapped_column(
        ForeignKey("network_session.id", ondelete="CASCADE"), primary_key=True
    )
    general_text: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default=DRAFT)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    published_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )

    session: Mapped[Session] = relationship()
    published_by: Mapped[User | None] = relationship()
    sections: Mapped[list[MinutesSection]] = relationship(
        back_populates="minutes", order_by="MinutesSection.position", cascade="all, delete-orphan"
    )
    actions: Mapped[list[ActionPoint]] = relationship(
        back_populates="minutes", order_by="ActionPoint.position", cascade="all, delete-orphan"
    )

    @property
    def id(self) -> int:
        """The session's id: the minutes' key (the audit trail names rows by ``id``)."""
        return self.session_id

    @property
    def is_published(self) -> bool:
        """Members see the minutes (and their action points) only once published."""
        return self.status == PUBLISHED


class MinutesSection(db.Model):
    """What was said about one agenda item; the title is kept if the item goes later."""

    __tablename__ = "minutes_section"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("minutes.session_id", ondelete="CASCADE"), index=True
    )
    agenda_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("agenda_item.id", ondelete="SET NULL"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text, default="")

    minutes: Mapped[Minutes] = relationship(back_populates="sections")
    agenda_item: Mapped[AgendaItem | None] = relationship()


class ActionPoint(TimestampMixin, db.Model):
    """An agreement: what, who (a member facility, or one of its contacts: then
    ``owner_facility_id`` is her facility), by when; open until ``done_at``."""

    __tablename__ = "action_point"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("minutes.session_id", ondelete="CASCADE"), index=True
    )
    network_id: Mapped[int] = mapped_column(
        ForeignKey("network.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    what: Mapped[str] = mapped_column(Text)
    owner_facility_id: Mapped[int] = mapped_column(
        ForeignKey("facility.id", ondelete="CASCADE"), index=True
    )
    owner_contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contact.id", ondelete="SET NULL"), index=True
    )
    due_on: Mapped[date] = mapped_column(Date)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    done_by_contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contact.id", ondelete="SET NULL")
    )
    done_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )

    minutes: Mapped[Minutes] = relationship(back_populates="actions")
    owner_facility: Mapped[Facility] = relationship()
    owner_contact: Mapped[Contact | None] = relationship(foreign_keys=[owner_contact_id])
    done_by_contact: Mapped[Contact | None] = relationship(foreign_keys=[done_by_contact_id])
    notes: Mapped[list[ActionNote]] = relationship(
        back_populates="action", order_by="ActionNote.id", cascade="all, delete-orphan"
    )

    @property
    def is_done(self) -> bool:
        """Done once the owner (or the facilitator) said so."""
        return self.done_at is not None

    @property
    def is_late(self) -> bool:
        """Open after its date (the network's day)."""
        from learnnet.timefmt import local_today

        return not self.is_done and self.due_on < local_today()


class ActionNote(db.Model):
    """A line on how it went, written by a contact of the owner through her link."""

    __tablename__ = "action_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(
        ForeignKey("action_point.id", ondelete="CASCADE"), index=True
    )
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contact.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    action: Mapped[ActionPoint] = relationship(back_populates="notes")
    contact: Mapped[Contact | None] = relationship()
