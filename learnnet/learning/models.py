"""The learning side of a network: theme and goals per werkjaar, a programme per session,
and the learning questions (leervragen) members bring."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learnnet.extensions import db
from learnnet.models import TimestampMixin
from learnnet.networks.models import Contact, Facility, Network
from learnnet.sessions.models import Session

# Who leads an agenda item.
LEAD_FACILITATOR = "facilitator"
LEAD_HOST = "host"
LEAD_FACILITY = "facility"
LEAD_KINDS = (LEAD_FACILITATOR, LEAD_HOST, LEAD_FACILITY)

session_goal = Table(
    "session_goal",
    db.metadata,
    Column(
        "session_id",
        Integer,
        ForeignKey("network_session.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "goal_id",
        Integer,
        ForeignKey("learning_goal.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
)


class WerkjaarTheme(TimestampMixin, db.Model):
    """A network's theme for one werkjaar (1 September ``start_year`` – 31 August
    ``start_year + 1``), with its short list of learning goals."""

    __tablename__ = "werkjaar_theme"
    __table_args__ = (UniqueConstraint("network_id", "start_year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    network_id: Mapped[int] = mapped_column(
        ForeignKey("network.id", ondelete="CASCADE"), index=True
    )
    start_year: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(160))
    description: Mapped[str] = mapped_column(Text, default="")

    network: Mapped[Network] = relationship()
    goals: Mapped[list[LearningGoal]] = relationship(
        back_populates="theme",
        order_by="LearningGoal.position",
        cascade="all, delete-orphan",
    )


class LearningGoal(db.Model):
    """One learning goal (leerdoel) of a werkjaar's theme, in the order shown."""

    __tablename__ = "learning_goal"

    id: Mapped[int] = mapped_column(primary_key=True)
    theme_id: Mapped[int] = mapped_column(
        ForeignKey("werkjaar_theme.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    text: Mapped[str] = mapped_column(String(300))

    theme: Mapped[WerkjaarTheme] = relationship(back_populates="goals")
    sessions: Mapped[list[Session]] = relationship(secondary=session_goal)


class AgendaItem(db.Model):
    """One item of a session's programme, in order: what, how long, who leads it.

    ``lead_kind`` is "facilitator", "host" (whoever hosts the session, also after a host
    change) or "facility" (``lead_facility_id``, a member facility).
    """

    __tablename__ = "agenda_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("network_session.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str] = mapped_column(String(200))
    minutes: Mapped[int | None] = mapped_column(Integer)
    lead_kind: Mapped[str] = mapped_column(String(20), default=LEAD_FACILITATOR)
    lead_facility_id: Mapped[int | None] = mapped_column(
        ForeignKey("facility.id", ondelete="SET NULL")
    )

    session: Mapped[Session] = relationship()
    lead_facility: Mapped[Facility | None] = relationship()


class SessionProgramme(TimestampMixin, db.Model):
    """The parts of a session's programme that are not agenda items: the question the
    members prepare. (What the host will show stays ``Session.host_showcase``, which the
    host fills in from the personal link; the programme shows and edits it.)"""

    __tablename__ = "session_programme"

    session_id: Mapped[int] = mapped_column(
        ForeignKey("network_session.id", ondelete="CASCADE"), primary_key=True
    )
    prepare_question: Mapped[str] = mapped_column(Text, default="")

    session: Mapped[Session] = relationship()

    @property
    def id(self) -> int:
        """The session's id: the audit trail names a programme by its session."""
        return self.session_id


class LearningQuestion(TimestampMixin, db.Model):
    """A contact's own learning question (leervraag), for one session or, with
    ``session_id`` empty, for the werkjaar ``start_year`` of that network."""

    __tablename__ = "learning_question"

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contact.id", ondelete="CASCADE"), index=True
    )
    network_id: Mapped[int] = mapped_column(
        ForeignKey("network.id", ondelete="CASCADE"), index=True
    )
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("network_session.id", ondelete="CASCADE"), index=True
    )
    start_year: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)

    contact: Mapped[Contact] = relationship()
    network: Mapped[Network] = relationship()
    session: Mapped[Session | None] = relationship()
