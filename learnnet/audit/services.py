"""Reading the trail, and undoing a change to a facility or a contact."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from learnnet.audit.models import AuditEvent
from learnnet.extensions import db

UNDOABLE = {"facility", "contact"}


def for_facility(facility_id: int, with_people: bool, limit: int = 50) -> list[AuditEvent]:
    """Changes to a facility, its memberships and hosted sessions, and (when the reader
    may see them) its people, newest first."""
    query = select(AuditEvent).where(AuditEvent.facility_id == facility_id)
    if not with_people:
        query = query.where(AuditEvent.entity.in_(("facility", "membership", "session")))
    return list(
        db.session.scalars(query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit))
    )


def for_session(session_id: int, limit: int = 30) -> list[AuditEvent]:
    """Changes to one session (by the facilitator, or by its host through their personal
    link: what it will show, practical information, its "no"), newest first."""
    query = select(AuditEvent).where(
        AuditEvent.entity == "session", AuditEvent.entity_id == session_id
    )
    return list(
        db.session.scalars(query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit))
    )


def recent(entity: str | None = None, limit: int = 200) -> list[AuditEvent]:
    """The whole trail for admins, newest first, optionally of one kind."""
    query = select(AuditEvent)
    if entity:
        query = query.where(AuditEvent.entity == entity)
    return list(
        db.session.scalars(query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit))
    )


class CannotUndo(Exception):
    """The change cannot be undone (not an update, or changed again since)."""


def undo(event: AuditEvent, model: Any) -> None:
    """Put back the old values of an update, if nothing has changed them since; commits."""
    if event.action != "update" or event.entity not in UNDOABLE:
        raise CannotUndo("kind")
    obj = db.session.get(model, event.entity_id)
    if obj is None:
        raise CannotUndo("gone")
    for key, (_old, new) in event.changes.items():
        current = getattr(obj, key, None)
        if (current.isoformat() if hasattr(current, "isoformat") else current) != new:
            raise CannotUndo("changed")
    for key, (old, _new) in event.changes.items():
        setattr(obj, key, old)
    db.session.commit()
