"""Networks, their member facilities, memberships and the contacts at each facility."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learnnet.auth.models import User
from learnnet.extensions import db
from learnnet.models import TimestampMixin, UTCDateTime

NETWORK_ACTIVE = "active"
NETWORK_ARCHIVED = "archived"
NETWORK_STATUSES = (NETWORK_ACTIVE, NETWORK_ARCHIVED)

network_facilitator = Table(
    "network_facilitator",
    db.Model.metadata,
    Column("network_id", ForeignKey("network.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True),
)


class Network(TimestampMixin, db.Model):
    """A learning network: member facilities that meet around a theme, led by facilitators."""

    __tablename__ = "network"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(160))
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    region: Mapped[str] = mapped_column(String(120), default="")
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Brussels")
    status: Mapped[str] = mapped_column(String(20), default=NETWORK_ACTIVE)
    # "We are usually about 14": the attendance the planner checks rooms against.
    # None: estimated from the members' contacts (see planning.planning.expected_attendance).
    expected_attendance: Mapped[int | None] = mapped_column(Integer)

    facilitators: Mapped[list[User]] = relationship(
        secondary=network_facilitator, order_by=User.name
    )
    memberships: Mapped[list[Membership]] = relationship(
        back_populates="network", cascade="all, delete-orphan"
    )

    @property
    def is_archived(self) -> bool:
        """Archived networks are kept for history but no longer planned."""
        return self.status == NETWORK_ARCHIVED

    def __repr__(self) -> str:
        return f"<Network {self.slug}>"


class Facility(TimestampMixin, db.Model):
    """A member organisation (childcare centre, family day-care service) with a room to host."""

    __tablename__ = "facility"
    __table_args__ = (UniqueConstraint("name_key", "postcode"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(160))
    # Lower-cased, whitespace-collapsed name: with the postcode it identifies a facility.
    name_key: Mapped[str] = mapped_column(String(160), index=True)
    street: Mapped[str] = mapped_column(String(160), default="")
    postcode: Mapped[str] = mapped_column(String(10), default="")
    city: Mapped[str] = mapped_column(String(120), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    website: Mapped[str] = mapped_column(String(255), default="")
    room_capacity: Mapped[int | None] = mapped_column(Integer)
    accessibility_notes: Mapped[str] = mapped_column(Text, default="")
    parking_notes: Mapped[str] = mapped_column(Text, default="")
    willing_to_host: Mapped[bool] = mapped_column(Boolean, default=True)

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="facility", cascade="all, delete-orphan"
    )
    contacts: Mapped[list[Contact]] = relationship(
        back_populates="facility", cascade="all, delete-orphan", order_by="Contact.name"
    )

    def __repr__(self) -> str:
        return f"<Facility {self.name} {self.postcode}>"

    @property
    def address(self) -> str:
        """Street, postcode and municipality, without a dangling comma when a part is missing."""
        return ", ".join(p for p in (self.street, f"{self.postcode} {self.city}".strip()) if p)

    @property
    def short_address(self) -> str:
        """Street and municipality (for a line that already names the facility)."""
        return ", ".join(p for p in (self.street, self.city) if p)


class Membership(TimestampMixin, db.Model):
    """A facility's membership of one network; leaving sets left_on and keeps the row."""

    __tablename__ = "membership"
    __table_args__ = (
        # At most one current membership of a facility in a network.
        Index(
            "uq_membership_current",
            "network_id",
            "facility_id",
            unique=True,
            sqlite_where=text("left_on IS NULL"),
            postgresql_where=text("left_on IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    network_id: Mapped[int] = mapped_column(
        ForeignKey("network.id", ondelete="CASCADE"), index=True
    )
    facility_id: Mapped[int] = mapped_column(
        ForeignKey("facility.id", ondelete="CASCADE"), index=True
    )
    joined_on: Mapped[date] = mapped_column(Date)
    left_on: Mapped[date | None] = mapped_column(Date)

    network: Mapped[Network] = relationship(back_populates="memberships")
    facility: Mapped[Facility] = relationship(back_populates="memberships")

    @property
    def is_current(self) -> bool:
        """True while the facility has not left."""
        return self.left_on is None


REQUEST_PENDING = "pending"
REQUEST_ACCEPTED = "accepted"
REQUEST_DECLINED = "declined"
REQUEST_WITHDRAWN = "withdrawn"
REQUEST_STATUSES = (REQUEST_PENDING, REQUEST_ACCEPTED, REQUEST_DECLINED, REQUEST_WITHDRAWN)


class MembershipRequest(TimestampMixin, db.Model):
    """A network asks a facility of another network to join (see
    :func:`learnnet.access.joins_at_once`). It is no membership: it shows no people.
    A contact of the facility (through their personal link) or an admin accepts it,
    which starts the membership; a contact declines it; the facilitator withdraws it.
    The row stays after the decision, as the record of who agreed."""

    __tablename__ = "membership_request"
    __table_args__ = (
        # At most one open request of a facility to a network.
        Index(
            "uq_membership_request_pending",
            "network_id",
            "facility_id",
            unique=True,
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    network_id: Mapped[int] = mapped_column(
        ForeignKey("network.id", ondelete="CASCADE"), index=True
    )
    facility_id: Mapped[int] = mapped_column(
        ForeignKey("facility.id", ondelete="CASCADE"), index=True
    )
    # The joining date the facilitator asked for; accepting later starts it that day.
    joined_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default=REQUEST_PENDING)
    requested_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    decided_by_contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contact.id", ondelete="SET NULL")
    )

    network: Mapped[Network] = relationship()
    facility: Mapped[Facility] = relationship()
    requested_by: Mapped[User | None] = relationship(foreign_keys=[requested_by_id])

    @property
    def is_pending(self) -> bool:
        """True until accepted, declined or withdrawn."""
        return self.status == REQUEST_PENDING


class Contact(TimestampMixin, db.Model):
    """A person working at a facility: receives invitations, answers, attends."""

    __tablename__ = "contact"
    __table_args__ = (UniqueConstraint("facility_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    facility_id: Mapped[int] = mapped_column(
        ForeignKey("facility.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(120))
    # Lower-cased; NULL when unknown (NULLs do not collide in the unique constraint).
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str] = mapped_column(String(40), default="")
    function: Mapped[str] = mapped_column(String(120), default="")
    preferred_language: Mapped[str] = mapped_column(String(5), default="nl")
    # Opt-in: only then are name, email and phone shown in the network's directory.
    share_details: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The member's choice: a confirmation mail (with the event) after answering on the web.
    confirm_by_mail: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    facility: Mapped[Facility] = relationship(back_populates="contacts")

    def __repr__(self) -> str:
        return f"<Contact {self.name}>"
