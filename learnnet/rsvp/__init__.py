"""Answering: personal links, RSVPs with capacity and waitlist, invitations and reminders.

Sits above ``networks``, ``planning``, ``sessions`` and ``mail``; listens to their signals so that
a moved or cancelled session, a facility that leaves or a person who leaves is handled
in the same transaction as the change itself.
"""

from __future__ import annotations

from typing import Any

from flask import flash, has_request_context
from flask_babel import ngettext

from learnnet import signals
from learnnet.rsvp import notify, services
from learnnet.rsvp.blueprint import bp as bp  # the app factory registers it


@signals.session_changed.connect
def _on_session_changed(
    session: Any, changes: frozenset[str] = frozenset(), before: Any = None, **_: Any
) -> None:
    if "capacity" in changes:
        promoted = services.promote_waitlist(session)
        if promoted and has_request_context():
            # The facilitator who raised the capacity reads who moved up and was told.
            names = ", ".join(r.contact.name for r in promoted)
            flash(
                ngettext(
                    "%(names)s moves up from the waitlist and has been told by mail.",
                    "%(names)s move up from the waitlist and have been told by mail.",
                    len(promoted),
                    names=names,
                ),
                "success",
            )
    notify.announce_change(session, changes, before)


@signals.answer_changed.connect
def _on_answer_changed(rsvp: Any, by: str = "", **_: Any) -> None:
    # A seat came free and the waitlist moved up (an answer, a raised capacity, someone
    # who left): the promoted are told in the same transaction as their promotion.
    if by == "promoted":
        notify.promoted(rsvp)


@signals.membership_ended.connect
def _on_membership_ended(membership: Any, **_: Any) -> None:
    services.withdraw_for_membership(membership)


@signals.contact_left.connect
def _on_contact_left(contact: Any, **_: Any) -> None:
    services.withdraw_for_contact(contact)


@signals.membership_requested.connect
def _on_membership_requested(request: Any, **_: Any) -> None:
    notify.membership_request(request)


@signals.poll_mail_requested.connect
def _on_poll_mail_requested(poll: Any, **kw: Any) -> int:
    return notify.poll_mails(poll, kw["contacts"], kw["kind"] == "reminder", kw["today"])


from learnnet.rsvp import views  # noqa: E402, F401  (routes register on bp)
