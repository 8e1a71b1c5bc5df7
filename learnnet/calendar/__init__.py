"""Calendar: feeds, single-event files, iMIP invitations and the replies to them.

The highest room but ``pages``: it reads sessions, answers and people, attaches its
invitations to the rsvp room's messages (``notify.part_providers``), keeps the feed
stamps current on every commit, and offers templates a ``calendar_subscription()``
helper so that lower rooms' pages can show subscription links. A renewed personal
link takes the contact's feed with it (``signals.personal_link_renewed``).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from learnnet import signals

bp = Blueprint("calendar", __name__)


@signals.personal_link_renewed.connect
def _on_personal_link_renewed(contact: Any, **_: Any) -> None:
    """The feed offered on the old link's page goes with the link; the new link's page
    offers a new one."""
    from learnnet.calendar import services
    from learnnet.calendar.models import CONTACT

    services.revoke_feed(CONTACT, contact.id)


from learnnet.calendar import views  # noqa: E402,F401
