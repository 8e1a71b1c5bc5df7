"""Calendar: feeds, single-event files, iMIP invitations and the replies to them.

The highest room but ``pages``: it reads sessions, answers and people, attaches its
invitations to the rsvp room's messages (``notify.part_providers``), keeps the feed
stamps current on every commit, and offers templates a ``calendar_subscription()``
helper so that lower rooms' pages can show subscription links.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("calendar", __name__)

from learnnet.calendar import views  # noqa: E402,F401
