"""Record changes of tracked rows on every flush (see the package docstring)."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from flask import g, has_request_context
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session as OrmSession

from learnnet.audit.models import AuditEvent

# Attributes never written to the trail (secrets, noise).
SKIP = {
    "password_hash",
    "auth_token",
    "token_hash",  # an API token's: a hash, yet no business of the trail's readers
    "last_used_at",  # an API token's last use is shown on the account page, not logged
    "updated_at",
    "created_at",
    "last_login_at",
    "name_key",
    "public_id",  # a material's URL id and where its bytes are: not for the trail
    "storage_key",
    "secret",  # a webhook endpoint's signing secret
    "note",  # an answer's note stays in the answer's own history, which erasure empties
}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


_TRACKED: dict[type, str] = {}


def track(model: type, entity: str) -> None:
    """Record changes of ``model`` under the name ``entity`` (the app factory calls this)."""
    _TRACKED[model] = entity


def _facility_of(obj: Any, entity: str) -> int | None:
    if entity == "facility":
        return obj.id
    if entity in ("contact", "membership", "membership_request"):
        return obj.facility_id
    if entity == "session":
        return obj.host_facility_id
    if entity == "attendance":
        return obj.facility_id
    return None


def set_actor(user: Any = None, contact: Any = None) -> None:
    """The web layer names who acts in this request (read by the flush listener)."""
    if has_request_context():
        g.audit_actor = (user, contact)


def _actor() -> tuple[int | None, int | None, str]:
    if not has_request_context():
        return None, None, ""
    if "audit_actor" in g:
        user, contact = g.audit_actor
    else:
        from flask_login import current_user

        user, contact = current_user, None
    if user is not None and getattr(user, "is_authenticated", False):
        # Through the API, the token's name: "which key (of whom) did this" is what counts.
        return user.id, None, g.get("audit_actor_name") or user.name
    if contact is not None:
        return None, contact.id, contact.name
    return None, None, ""


def _changes(obj: Any, action: str) -> dict[str, list[Any]]:
    state = inspect(obj)
    found: dict[str, list[Any]] = {}
    for attr in state.mapper.column_attrs:
        key = attr.key
        if key in SKIP:
            continue
        history = state.attrs[key].history
        if action == "update":
            if not history.has_changes():
                continue
            old = history.deleted[0] if history.deleted else None
            new = history.added[0] if history.added else None
            if old != new:
                found[key] = [_plain(old), _plain(new)]
        elif action == "create":
            value = getattr(obj, key)
            if value not in (None, "", False) and key != "id":
                found[key] = [None, _plain(value)]
        else:
            found[key] = [_plain(getattr(obj, key)), None]
    return found


def _after_flush(session: OrmSession, flush_context: Any) -> None:
    tracked = _TRACKED
    user_id, contact_id, name = _actor()
    events = []
    for action, objects in (
        ("create", session.new),
        ("update", session.dirty),
        ("delete", session.deleted),
    ):
        for obj in objects:
            entity = tracked.get(type(obj))
            if entity is None or (action == "update" and not session.is_modified(obj)):
                continue
            changes = _changes(obj, action)
            if action == "update" and not changes:
                continue
            events.append(
                {
                    "user_id": user_id,
                    "contact_id": contact_id,
                    "actor_name": name,
                    "entity": entity,
                    "entity_id": obj.id,
                    "action": action,
                    "changes": changes,
                    "facility_id": _facility_of(obj, entity),
                }
            )
    if events:
        session.execute(AuditEvent.__table__.insert(), events)


def created(model: type, values: Mapping[str, Any]) -> dict[str, list[Any]]:
    """The changes the listener records for a new ``model`` row holding ``values``.

    For rows written with a bulk INSERT (the flush listener does not see those);
    ``values`` should hold every column the listener would read after the flush.
    """
    found: dict[str, list[Any]] = {}
    for key in _recorded_keys(model):
        value = values.get(key)
        if value not in (None, "", False):
            found[key] = [None, _plain(value)]
    return found


@functools.cache
def _recorded_keys(model: type) -> tuple[str, ...]:
    """The column attributes a create event of ``model`` may hold, in mapper order."""
    keys = (attr.key for attr in inspect(model).column_attrs)
    return tuple(k for k in keys if k not in SKIP and k != "id")


def record(
    session: OrmSession,
    model: type,
    action: str,
    rows: Iterable[tuple[int, dict[str, list[Any]], int | None]],
) -> None:
    """Write the events of rows changed by bulk statements, as the flush listener would.

    ``rows`` holds (row id, changes, facility id); the actor is this request's.
    """
    entity = _TRACKED.get(model)
    if entity is None:
        return
    user_id, contact_id, name = _actor()
    events = [
        {
            "user_id": user_id,
            "contact_id": contact_id,
            "actor_name": name,
            "entity": entity,
            "entity_id": row_id,
            "action": action,
            "changes": changes,
            "facility_id": facility_id,
        }
        for row_id, changes, facility_id in rows
        if changes or action != "update"
    ]
    if events:
        session.execute(AuditEvent.__table__.insert(), events)


def register() -> None:
    """Listen on every ORM session (once per process)."""
    if not event.contains(OrmSession, "after_flush", _after_flush):
        event.listen(OrmSession, "after_flush", _after_flush)
