"""API tokens: a facilitator's or admin's key for a CRM or website, stored as a hash."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learnnet.auth.models import User
from learnnet.extensions import db
from learnnet.models import TimestampMixin, UTCDateTime, utcnow
from learnnet.networks.models import Network

READ = "read"
READ_WRITE = "read_write"
SCOPES = (READ, READ_WRITE)

api_token_network = Table(
    "api_token_network",
    db.Model.metadata,
    Column("api_token_id", ForeignKey("api_token.id", ondelete="CASCADE"), primary_key=True),
    Column("network_id", ForeignKey("network.id", ondelete="CASCADE"), primary_key=True),
)


class ApiToken(db.Model):
    """A bearer token for ``/api/v1/``: only SHA-256 of the secret is kept.

    Unlike a personal link, the token is random and shown once: nobody can show it again.
    It sees at most the networks listed here, and of those only the ones its owner still
    facilitates (an admin: all of them), so a facilitator who hands a network over takes
    the token's view of it along.
    """

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(80))
    # The first characters of the token, to tell tokens apart on the account page.
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scope: Mapped[str] = mapped_column(String(12), default=READ)
    # Contacts, answers and attendance are personal data: only when the owner chose so.
    may_see_people: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()
    networks: Mapped[list[Network]] = relationship(
        secondary=api_token_network, order_by=Network.name
    )

    @property
    def can_write(self) -> bool:
        """Read/write tokens may write (part 2 of issue 26); read tokens never."""
        return self.scope == READ_WRITE


# ---- webhooks (issue 26, part 4: the outbox; events in events.py, admin page) ------------

QUEUED = "queued"
SENDING = "sending"  # claimed by a sender; in doubt once its claim ran out (sent again)
DELIVERED = "delivered"
FAILED = "failed"


class WebhookEndpoint(TimestampMixin, db.Model):
    """A receiver an admin registered: its URL, the events it wants and its secret.

    The secret is kept as it is (signing needs it, unlike a token, which only needs to
    be recognised); it is shown to the admin who registers the endpoint.
    """

    __tablename__ = "webhook_endpoint"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(String(80))
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )


class WebhookDelivery(db.Model):
    """One event for one endpoint: queued in the transaction of the change, delivered
    (and retried) by a sender, with the last response code kept as the delivery log."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        UniqueConstraint("endpoint_id", "event_id"),
        Index("ix_webhook_delivery_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_endpoint.id", ondelete="CASCADE"), index=True
    )
    # The webhook-id header: the same on every attempt, so a receiver drops duplicates.
    event_id: Mapped[str] = mapped_column(String(40))
    event: Mapped[str] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(Text)  # the JSON as it was when queued
    status: Mapped[str] = mapped_column(String(10), default=QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    endpoint: Mapped[WebhookEndpoint] = relationship()


# ---- deletions (issue 26: what ``updated_since`` cannot show) ------------------------------


class ApiDeletion(db.Model):
    """A tombstone: a row of the API's resources that was deleted, or a contact that was
    erased, so a syncing CRM learns what to remove. Written in the transaction of the
    delete (:mod:`learnnet.api.deletions`). Only ids and a moment: never a name."""

    __tablename__ = "api_deletion"
    __table_args__ = (Index("ix_api_deletion_deleted_at", "deleted_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entity: Mapped[str] = mapped_column(String(20))  # session, membership, contact, answer…
    entity_id: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(12), default="deleted")  # or "erased"
    # Which token may learn of it: one of its networks, or (a contact) its facility's.
    network_id: Mapped[int | None] = mapped_column(Integer, index=True)
    facility_id: Mapped[int | None] = mapped_column(Integer)
    deleted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
