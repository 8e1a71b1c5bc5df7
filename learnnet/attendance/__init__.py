"""Attendance: check-in, records, reports, certificates and the bridges between members.

Above ``rsvp`` (it compares who came with who answered) and below ``pages``.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("attendance", __name__)

from learnnet.attendance import views  # noqa: E402,F401
