"""Learning: the werkjaar's theme and goals, the programme of a session, learning questions.

Above ``scheduling`` and ``attendance`` (it reads their sessions and werkjaar), below
``pages``: it may import those rooms, they never import it.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("learning", __name__)

from learnnet.learning import models, views  # noqa: E402,F401
