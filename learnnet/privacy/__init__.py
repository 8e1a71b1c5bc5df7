"""What learnnet holds about a person: export it, erase it (GDPR articles 15, 17 and 20).

The highest room beside ``pages``: it reads every other room's tables for one contact.
"""

from __future__ import annotations

from learnnet.privacy import views  # noqa: F401  (its routes register on bp)
from learnnet.privacy.blueprint import bp as bp  # the app factory registers it
