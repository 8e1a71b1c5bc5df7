"""What a session was before a change, so that its change mail can say what changed.

A change notice that only says "see the new date, time or place below" leaves the member
comparing it with an older mail. Where a session is moved, its host swapped or its host's
address changed, the sessions room takes a :class:`Before` of it first and sends it
along with ``signals.session_changed``; the message shows old and new side by side,
:func:`compare` marking what differs. Pure: no Flask, no database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from learnnet.timefmt import format_day, to_local

#: The facts a change mail compares, in the order it shows them.
DATE = "date"
TIME = "time"
HOST = "host"
ADDRESS = "address"
FACTS = (DATE, TIME, HOST, ADDRESS)


@dataclass(frozen=True)
class Before:
    """A session's time and place as they were (UTC moments, the network's zone)."""

    starts_at: datetime
    ends_at: datetime
    tz: str
    host_name: str
    host_address: str


def snapshot(session: Any) -> Before:
    """A session's time and place now (anything with ``starts_at``, ``ends_at``,
    ``network.timezone`` and a ``host`` with ``name`` and ``address``)."""
    host = session.host
    return Before(
        session.starts_at, session.ends_at, session.network.timezone, host.name, host.address
    )


@dataclass(frozen=True)
class Fact:
    """One line of the comparison: ``old`` and ``new`` in words, and whether it changed."""

    name: str
    old: str
    new: str

    @property
    def changed(self) -> bool:
        """True when the member has to note something new on this line."""
        return self.old != self.new


def _words(moment_start: datetime, moment_end: datetime, tz: str, locale: str) -> tuple[str, str]:
    start, end = to_local(moment_start, tz), to_local(moment_end, tz)
    day = format_day(start.date(), locale)
    if end.date() != start.date():
        return day, f"{start:%H:%M} – {format_day(end.date(), locale)}, {end:%H:%M}"
    return day, f"{start:%H:%M}–{end:%H:%M}"


def compare(before: Before, after: Before, locale: str) -> list[Fact]:
    """Date, time, host and address before and after, worded in ``locale``."""
    old_day, old_time = _words(before.starts_at, before.ends_at, before.tz, locale)
    new_day, new_time = _words(after.starts_at, after.ends_at, after.tz, locale)
    return [
        Fact(DATE, old_day, new_day),
        Fact(TIME, old_time, new_time),
        Fact(HOST, before.host_name, after.host_name),
        Fact(ADDRESS, before.host_address, after.host_address),
    ]
