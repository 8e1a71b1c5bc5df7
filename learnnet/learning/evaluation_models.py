"""The evaluation's tables: the questions a network asks, and the answers given."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learnnet.extensions import db
from learnnet.learning import evaluation as rules
from learnnet.models import TimestampMixin, UTCDateTime, utcnow
from learnnet.networks.models import Network
from learnnet.sessions.models import Session


class EvaluationSetting(TimestampMixin, db.Model):
    """A network's evaluation: on or off, and the chosen questions in order (their keys,
    comma-separated). A network without a row asks the default questions."""

    __tablename__ = "evaluation_setting"

    id: Mapped[int] = mapped_column(primary_key=True)
    network_id: Mapped[int] = mapped_column(
        ForeignKey("network.id", ondelete="CASCADE"), unique=True
    )
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    questions: Mapped[str] = mapped_column(String(200), default=",".join(rules.DEFAULT))

    network: Mapped[Network] = relationship()

    @property
    def chosen(self) -> tuple[str, ...]:
        """The chosen question keys, in order."""
        return rules.parse_choice(self.questions)


class EvaluationResponse(db.Model):
    """One contact's evaluation of one session: at most one (the unique constraint
    decides, also for two submits at once).

    ``facility_id`` is the contact's facility when they answered, for the facility's
    yearly record. Erasing the contact keeps the scores (``contact_id`` empty) and drops
    the texts.
    """

    __tablename__ = "evaluation_response"
    __table_args__ = (UniqueConstraint("session_id", "contact_id"),)

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
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    session: Mapped[Session] = relationship()
    answers: Mapped[list[EvaluationAnswer]] = relationship(
        back_populates="response", cascade="all, delete-orphan", order_by="EvaluationAnswer.id"
    )


class EvaluationAnswer(db.Model):
    """One question of a response: a score 1–5 or a text, and whether the text may be
    quoted in the facility's yearly record (``share``)."""

    __tablename__ = "evaluation_answer"
    __table_args__ = (UniqueConstraint("response_id", "question"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(
        ForeignKey("evaluation_response.id", ondelete="CASCADE"), index=True
    )
    question: Mapped[str] = mapped_column(String(30))
    score: Mapped[int | None] = mapped_column(SmallInteger)
    text: Mapped[str] = mapped_column(Text, default="")
    share: Mapped[bool] = mapped_column(Boolean, default=False)

    response: Mapped[EvaluationResponse] = relationship(back_populates="answers")
