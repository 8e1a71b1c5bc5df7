"""Calendar: feeds, single-event files, iMIP invitations and the replies to them.

The highest room but ``pages``: it reads sessions, answers and people, attaches its
invitations to the rsvp room's messages (``notify.part_providers``), keeps the feed
stamps current on every commit, and offers templates a ``calendar_subscription()``
helper so that lower rooms' pages can show subscription links. A renewed personal
link takes the contact's feed with it (``signals.personal_link_renewed``). A contact
taken off the sessions still to come (their facility leaves the network, they leave the
facility) gets a CANCEL for each one they were invited to; a host's new name or address
is a new LOCATION, announced with a new SEQUENCE (``sessions.services.host_relocated``).
"""

from __future__ import annotations

from typing import Any

from learnnet import signals
from learnnet.calendar.blueprint import bp as bp  # the app factory registers it


@signals.personal_link_renewed.connect
def _on_personal_link_renewed(contact: Any, **_: Any) -> None:
    """The feed offered on the old link's page goes with the link; the new link's page
    offers a new one."""
    from learnnet.calendar import services
    from learnnet.calendar.models import CONTACT

    services.revoke_feed(CONTACT, contact.id)


@signals.membership_ended.connect
def _on_membership_ended(membership: Any, **_: Any) -> None:
    from learnnet.calendar import imip

    imip.uninvite_after_membership(membership)


@signals.contact_left.connect
def _on_contact_left(contact: Any, **_: Any) -> None:
    from learnnet.calendar import imip

    imip.uninvite_contact(contact)


@signals.facility_updated.connect
def _on_facility_updated(facility: Any, changed: frozenset[str] = frozenset(), **_: Any) -> None:
    from learnnet.sessions import services

    services.host_relocated(facility, changed)


from learnnet.calendar import views  # noqa: E402,F401
