"""Pages that show several domains at once: the dashboard and the session page.

The highest room: it asks ``networks``, ``planning``, ``sessions``, ``rsvp`` and ``mail`` for their
part and renders them together; nothing imports it.
"""

from __future__ import annotations

from learnnet.pages import views  # noqa: F401  (its routes register on bp)
from learnnet.pages.blueprint import bp as bp  # the app factory registers it
