"""What learnnet holds about a person: export it, erase it (GDPR articles 15, 17 and 20).

The highest room beside ``pages``: it reads every other room's tables for one contact.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("privacy", __name__)

from learnnet.privacy import views  # noqa: E402,F401
