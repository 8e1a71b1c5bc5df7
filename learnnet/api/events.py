"""Webhook event sources (issue 26): the API room listens to the rooms' signals and
queues a webhook delivery in the same transaction as the change (the receivers run
before the room commits, so the change and its deliveries land together or not at all).

Payloads carry ids, dates and states, never personal data (no names, e-mail addresses,
phone numbers or notes): a receiver that wants to know who, asks the API with a token
that may see people. So an erased contact leaves nothing behind in queued or logged
deliveries, and ``contact.erased`` itself only says which contact id to forget.
"""

from __future__ import annotations

from typing import Any

from learnnet import signals
from learnnet.api import webhooks
from learnnet.extensions import db


def _when(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def session_data(session: Any) -> dict[str, Any]:
    """What a session event says about the session."""
    return {
        "session_id": session.id,
        "network_id": session.network_id,
        "host_facility_id": session.host_facility_id,
        "title": session.title,
        "starts_at": _when(session.starts_at),
        "ends_at": _when(session.ends_at),
        "status": session.status,
    }


def _membership_data(membership: Any) -> dict[str, Any]:
    return {
        "membership_id": membership.id,
        "network_id": membership.network_id,
        "facility_id": membership.facility_id,
        "joined_on": _when(membership.joined_on),
        "left_on": _when(membership.left_on),
    }


@signals.sessions_planned.connect
def _on_sessions_planned(sessions: tuple[Any, ...], **_: Any) -> None:
    webhooks.queue_many("session.planned", [session_data(s) for s in sessions])


@signals.session_changed.connect
def _on_session_changed(session: Any, changes: frozenset[str] = frozenset(), **_: Any) -> None:
    if "cancelled" in changes:
        webhooks.queue("session.cancelled", session_data(session))
    else:
        data = session_data(session) | {"changes": sorted(changes)}
        webhooks.queue("session.changed", data)


@signals.session_held.connect
def _on_session_held(session: Any, **_: Any) -> None:
    webhooks.queue("session.held", session_data(session))


@signals.answer_changed.connect
def _on_answer_changed(rsvp: Any, by: str = "", **_: Any) -> None:
    if rsvp.id is None:
        db.session.flush()
    data = {
        "answer_id": rsvp.id,
        "session_id": rsvp.session_id,
        "contact_id": rsvp.contact_id,
        "answer": rsvp.answer,
        "waitlisted": bool(rsvp.waitlisted),
    }
    if by == "promoted":
        webhooks.queue("waitlist.promoted", data)
    else:
        webhooks.queue("answer.changed", data | {"by": by})


@signals.attendance_recorded.connect
def _on_attendance_recorded(attendance: Any, **_: Any) -> None:
    webhooks.queue(
        "attendance.recorded",
        {
            "attendance_id": attendance.id,
            "session_id": attendance.session_id,
            "contact_id": attendance.contact_id,  # None for a guest
            "facility_id": attendance.facility_id,
            "status": attendance.status,
            "walk_in": bool(attendance.walk_in),
        },
    )


@signals.membership_started.connect
def _on_membership_started(memberships: tuple[Any, ...], **_: Any) -> None:
    webhooks.queue_many("membership.started", [_membership_data(m) for m in memberships])


@signals.membership_ended.connect
def _on_membership_ended(membership: Any, **_: Any) -> None:
    webhooks.queue("membership.ended", _membership_data(membership))


@signals.contact_erased.connect
def _on_contact_erased(contact: Any, **_: Any) -> None:
    webhooks.queue("contact.erased", {"contact_id": contact.id, "facility_id": contact.facility_id})
