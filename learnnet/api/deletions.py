"""Tombstones for the API's deletions list (issue 26): ``updated_since`` shows what changed,
not what is gone, so a syncing CRM also asks ``/api/v1/deletions``.

Written in the transaction of the delete, whoever deletes: a listener adds one
:class:`~learnnet.api.models.ApiDeletion` per session, membership, contact, answer or
attendance row deleted through the ORM (today: a session nobody was told about, a
series, a merged duplicate's answers and attendance), and the ``contact_erased`` signal
adds one for an erased contact (its row stays, anonymised: "forget this id"). A
tombstone holds the type, the id, the network or facility that decides who may see it,
and the moment; never a name.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session as OrmSession

from learnnet import signals
from learnnet.api.models import ApiDeletion
from learnnet.attendance.models import Attendance
from learnnet.extensions import db
from learnnet.models import utcnow
from learnnet.networks.models import Contact, Membership
from learnnet.rsvp.models import Rsvp
from learnnet.sessions.models import Session

_ENTITIES: dict[type, str] = {
    Session: "session",
    Membership: "membership",
    Contact: "contact",
    Rsvp: "answer",
    Attendance: "attendance",
}


def _before_flush(session: OrmSession, flush_context: Any, instances: Any) -> None:
    gone = [obj for obj in session.deleted if type(obj) in _ENTITIES and obj.id is not None]
    if not gone:
        return
    now = utcnow()
    # Answers and attendance belong to a network through their session (read before the
    # session itself may go in this same flush).
    session_ids = {obj.session_id for obj in gone if isinstance(obj, Rsvp | Attendance)}
    network_of: dict[int, int] = {}
    if session_ids:
        with session.no_autoflush:
            network_of = dict(
                session.execute(
                    select(Session.id, Session.network_id).where(Session.id.in_(session_ids))
                ).all()
            )
    for obj in gone:
        entity = _ENTITIES[type(obj)]
        if isinstance(obj, Session | Membership):
            network_id, facility_id = obj.network_id, None
        elif isinstance(obj, Contact):
            network_id, facility_id = None, obj.facility_id
        else:
            network_id, facility_id = network_of.get(obj.session_id), None
        session.add(
            ApiDeletion(
                entity=entity,
                entity_id=obj.id,
                network_id=network_id,
                facility_id=facility_id,
                deleted_at=now,
            )
        )


@signals.contact_erased.connect
def _on_contact_erased(contact: Any, **_: Any) -> None:
    db.session.add(
        ApiDeletion(
            entity="contact",
            entity_id=contact.id,
            reason="erased",
            facility_id=contact.facility_id,
            deleted_at=utcnow(),
        )
    )


def register() -> None:
    """Listen on every ORM session (once per process)."""
    if not event.contains(OrmSession, "before_flush", _before_flush):
        event.listen(OrmSession, "before_flush", _before_flush)
