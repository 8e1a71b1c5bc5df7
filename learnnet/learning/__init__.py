"""Learning: the werkjaar's theme and goals, the programme of a session, learning questions.

Above ``planning``, ``sessions`` and ``attendance`` (it reads their sessions and werkjaar), below
``pages``: it may import those rooms, they never import it.
"""

from __future__ import annotations

from learnnet.learning import models, views  # noqa: F401  (its routes register on bp)
from learnnet.learning.blueprint import bp as bp  # the app factory registers it
