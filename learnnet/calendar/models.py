"""Feed tokens and the change stamps that make conditional GETs cheap."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from learnnet.extensions import db
from learnnet.models import UTCDateTime, utcnow

NETWORK = "network"
CONTACT = "contact"
USER = "user"
FACILITY = "facility"  # stamps only: a facility's memberships changed
FEED_KINDS = (NETWORK, CONTACT, USER)


class CalendarFeed(db.Model):
    """A subscription URL behind its own secret token (stored as a hash, like personal links).

    Exactly one owner column is set, matching ``kind``.
    """

    __tablename__ = "calendar_feed"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    network_id: Mapped[int | None] = mapped_column(
        ForeignKey("network.id", ondelete="CASCADE"), index=True
    )
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contact.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    nonce: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def owner_id(self) -> int:
        """The id of the network, contact or user the feed belongs to."""
        return int(self.network_id or self.contact_id or self.user_id or 0)


class FeedStamp(db.Model):
    """When the data behind a network's, contact's, facility's or user's feed last changed,
    and how many times it did.

    ``changed_at`` only ever moves forward: it is the feeds' Last-Modified. ``version``
    goes up by one with every write, also when a transaction's clock was behind the
    stamp (two at once): with ``changed_at`` it makes the feeds' ETag. Both are read in
    one small query, so a calendar client's revalidation costs no rebuild.
    """

    __tablename__ = "feed_stamp"

    kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    owner_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(BigInteger, default=1, server_default="1")
