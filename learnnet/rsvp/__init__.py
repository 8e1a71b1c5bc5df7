"""Answering: personal links, RSVPs with capacity and waitlist, invitations and reminders.

Sits above ``networks``, ``scheduling`` and ``mail``; listens to their signals so that
a moved or cancelled session, a facility that leaves or a person who leaves is handled
in the same transaction as the change itself.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from learnnet import signals
from learnnet.rsvp import notify, services

bp = Blueprint("rsvp", __name__)


@signals.session_changed.connect
def _on_session_changed(session: Any, changes: frozenset[str] = frozenset(), **_: Any) -> None:
    if "capacity" in changes:
        services.promote_waitlist(session)
    notify.announce_change(session, changes)


@signals.membership_ended.connect
def _on_membership_ended(membership: Any, **_: Any) -> None:
    services.withdraw_for_membership(membership)


@signals.contact_left.connect
def _on_contact_left(contact: Any, **_: Any) -> None:
    services.withdraw_for_contact(contact)


from learnnet.rsvp import views  # noqa: E402, F401  (routes register on bp)
