"""The materials' tables: a file shared with a network (for a session or a werkjaar), and
the bytes of files kept in the database."""

from __future__ import annotations

import secrets
from datetime import date

from sqlalchemy import Boolean, Date, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learnnet.auth.models import User
from learnnet.extensions import db
from learnnet.models import TimestampMixin
from learnnet.networks.models import Contact, Network
from learnnet.sessions.models import Session


def new_public_id() -> str:
    """The id in a material's URL: random, so that no URL can be guessed from another."""
    return secrets.token_urlsafe(24)


def new_storage_key() -> str:
    """Where the bytes are kept (hex: safe as a file name on every system)."""
    return secrets.token_hex(20)


class Material(TimestampMixin, db.Model):
    """A file shared with a network's members and facilitators.

    It belongs to a session (``session_id``) or, without one, to the network's werkjaar
    (``werkjaar``: the year it starts, 1 September); a session's material also carries
    its session's werkjaar, and stays with the werkjaar when the session is deleted.
    ``kind`` is what the content is (:mod:`learnnet.learning.materials`), ``name`` the
    cleaned file name. It is deleted after ``keep_until`` (``flask purge-materials``).
    """

    __tablename__ = "material"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True, default=new_public_id)
    network_id: Mapped[int] = mapped_column(
        ForeignKey("network.id", ondelete="CASCADE"), index=True
    )
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("network_session.id", ondelete="SET NULL"), index=True
    )
    werkjaar: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(10))
    size: Mapped[int] = mapped_column(Integer)
    storage_key: Mapped[str] = mapped_column(String(64), unique=True, default=new_storage_key)
    # A photo: the uploader confirmed that no child can be recognised, or consent is on file.
    photo_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    keep_until: Mapped[date] = mapped_column(Date, index=True)
    uploaded_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    uploaded_by_contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contact.id", ondelete="SET NULL"), index=True
    )

    network: Mapped[Network] = relationship()
    session: Mapped[Session | None] = relationship()
    uploaded_by_user: Mapped[User | None] = relationship()
    uploaded_by_contact: Mapped[Contact | None] = relationship()

    @property
    def uploader_name(self) -> str:
        person = self.uploaded_by_user or self.uploaded_by_contact
        return person.name if person is not None else ""


class MaterialBlob(db.Model):
    """The bytes of a material kept in the database (the default store): every app
    server sees them, and they are written in the same transaction as the material."""

    __tablename__ = "material_blob"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
