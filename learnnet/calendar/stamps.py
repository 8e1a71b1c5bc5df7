"""Keep the feed stamps: after every flush note what changed; at commit, move the stamps.

What a change touches:
- a session → its network's feeds (and so the personal and facilitator feeds of it);
- a network (name, zone, facilitators) → the network, and users added or removed;
- a facility (name, address) → every network it belongs to (it may host there);
- a membership → the network and the facility (its contacts' feeds gain or lose it);
- a contact → their personal feed; an answer → the contact and the session's network
  (the facilitator's feed shows counts).

The stamps are written last in the transaction, in a fixed order, so they never take
their row locks before the session lock of an answer: no deadlocks.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, event, inspect, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session as OrmSession

from learnnet.auth.models import User
from learnnet.calendar.models import CONTACT, FACILITY, NETWORK, USER, FeedStamp
from learnnet.models import utcnow
from learnnet.networks.models import Contact, Facility, Membership, Network
from learnnet.rsvp.models import Rsvp
from learnnet.sessions.models import Session

_KEY = "feed_stamps"
_SESSIONS = "feed_stamp_sessions"


def _note(session: OrmSession, kind: str, owner_id: int | None) -> None:
    if owner_id:
        session.info.setdefault(_KEY, set()).add((kind, int(owner_id)))


def _after_flush(session: OrmSession, flush_context: Any) -> None:
    for obj in [*session.new, *session.dirty, *session.deleted]:
        if isinstance(obj, Session):
            _note(session, NETWORK, obj.network_id)
        elif isinstance(obj, Rsvp):
            _note(session, CONTACT, obj.contact_id)
            session.info.setdefault(_SESSIONS, set()).add(obj.session_id)
        elif isinstance(obj, Membership):
            _note(session, NETWORK, obj.network_id)
            _note(session, FACILITY, obj.facility_id)
        elif isinstance(obj, Contact):
            _note(session, CONTACT, obj.id)
        elif isinstance(obj, User):
            _note(session, USER, obj.id)  # e.g. the language of their feed
        elif isinstance(obj, Facility):
            _note(session, FACILITY, obj.id)
            session.info.setdefault("feed_stamp_facilities", set()).add(obj.id)
        elif isinstance(obj, Network):
            _note(session, NETWORK, obj.id)
            history = inspect(obj).attrs.facilitators.history
            for user in [*(history.added or ()), *(history.deleted or ()), *obj.facilitators]:
                if isinstance(user, User):
                    _note(session, USER, user.id)


def _before_commit(session: OrmSession) -> None:
    if session.new or session.dirty or session.deleted:
        session.flush()  # commit flushes after this hook: note those changes now
    if not session.info.get(_KEY) and not session.info.get(_SESSIONS):
        return
    stamps: set[tuple[str, int]] = session.info.pop(_KEY, set())
    session_ids = session.info.pop(_SESSIONS, set())
    facility_ids = session.info.pop("feed_stamp_facilities", set())
    if session_ids:
        rows = session.execute(select(Session.network_id).where(Session.id.in_(session_ids)))
        stamps |= {(NETWORK, network_id) for (network_id,) in rows}
    if facility_ids:
        rows = session.execute(
            select(Membership.network_id).where(Membership.facility_id.in_(facility_ids))
        )
        stamps |= {(NETWORK, network_id) for (network_id,) in rows}
    if stamps:
        write(session, sorted(stamps))


def write(session: OrmSession, stamps: list[tuple[str, int]]) -> None:
    """Move these stamps to now (never backwards) and count one more version of each, in
    one statement."""
    now = utcnow()
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(FeedStamp).values(
        [
            {"kind": kind, "owner_id": owner, "changed_at": now, "version": 1}
            for kind, owner in stamps
        ]
    )
    statement = statement.on_conflict_do_update(
        index_elements=[FeedStamp.kind, FeedStamp.owner_id],
        set_={
            "changed_at": case(
                (
                    FeedStamp.changed_at < statement.excluded.changed_at,
                    statement.excluded.changed_at,
                ),
                else_=FeedStamp.changed_at,
            ),
            "version": FeedStamp.version + 1,
        },
    )
    session.execute(statement)


def _after_rollback(session: OrmSession) -> None:
    for key in (_KEY, _SESSIONS, "feed_stamp_facilities"):
        session.info.pop(key, None)


def register() -> None:
    """Listen on every ORM session (once per process)."""
    if not event.contains(OrmSession, "after_flush", _after_flush):
        event.listen(OrmSession, "after_flush", _after_flush)
        event.listen(OrmSession, "before_commit", _before_commit)
        event.listen(OrmSession, "after_soft_rollback", lambda s, t: _after_rollback(s))
