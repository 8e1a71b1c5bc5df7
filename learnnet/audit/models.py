"""One recorded change."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from learnnet.extensions import db
from learnnet.models import UTCDateTime, utcnow


class AuditEvent(db.Model):
    """A create, update or delete of a tracked row, with the values before and after."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    # Who: an account, or a contact through their personal link; neither for the system.
    user_id: Mapped[int | None] = mapped_column(Integer, index=True)
    contact_id: Mapped[int | None] = mapped_column(Integer)
    actor_name: Mapped[str] = mapped_column(String(120), default="")
    entity: Mapped[str] = mapped_column(String(40), index=True)
    entity_id: Mapped[int] = mapped_column(Integer, index=True)
    action: Mapped[str] = mapped_column(String(10))  # create, update, delete
    # {"field": [old, new]}; values as JSON-friendly text or numbers.
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # For the facility page: which facility the row belongs to (a contact's, a membership's).
    facility_id: Mapped[int | None] = mapped_column(Integer, index=True)
