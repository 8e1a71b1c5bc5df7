"""Pages that show several domains at once: the dashboard and the session page.

The highest room: it asks ``networks``, ``scheduling``, ``rsvp`` and ``mail`` for their
part and renders them together; nothing imports it.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("pages", __name__)

from learnnet.pages import views  # noqa: E402,F401
