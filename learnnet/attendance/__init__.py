"""Attendance: check-in, records, reports, certificates and the bridges between members.

Above ``rsvp`` (it compares who came with who answered) and below ``pages``.
"""

from __future__ import annotations

from learnnet.attendance import views  # noqa: F401  (its routes register on bp)
from learnnet.attendance.blueprint import bp as bp  # the app factory registers it
