"""Rules of attendance, without Flask or a database.

- Attendance can be recorded from an hour before a session starts (people arrive early)
  and corrected at any time afterwards, also days later from the paper sheet; never for
  a cancelled session.
- Members check themselves in with the session's QR code only from an hour before the
  start until an hour after the end: a photo of the code shared later does nothing.
- A session's learning hours are its length, rounded to a quarter of an hour.
- A werkjaar (working year) runs from 1 September to 31 August.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

OPENS_BEFORE = timedelta(hours=1)
SELF_CLOSES_AFTER = timedelta(hours=1)

CANCELLED = "cancelled"
NOT_STARTED = "not_started"
STALE = "stale"


def closed_reason(
    cancelled: bool, starts_at: datetime, ends_at: datetime, now: datetime, by_self: bool = False
) -> str | None:
    """Why attendance cannot be recorded now (a code), or None."""
    if cancelled:
        return CANCELLED
    if now < starts_at - OPENS_BEFORE:
        return NOT_STARTED
    if by_self and now > ends_at + SELF_CLOSES_AFTER:
        return STALE
    return None


def hours(starts_at: datetime, ends_at: datetime) -> float:
    """Learning hours of a session: its length, to the nearest quarter of an hour."""
    quarters = round((ends_at - starts_at).total_seconds() / 900)
    return max(quarters, 0) / 4


def werkjaar_of(day: date) -> tuple[date, date]:
    """First and last day of the werkjaar (September–August) that holds ``day``."""
    start_year = day.year if day.month >= 9 else day.year - 1
    return date(start_year, 9, 1), date(start_year + 1, 8, 31)


_WERKJAAR = re.compile(r"(\d{4})-(\d{4})")
_YEAR = re.compile(r"(\d{4})")


def period(value: str) -> tuple[date, date] | None:
    """'2026-2027' is a werkjaar, '2027' a calendar year; anything else None."""
    value = (value or "").strip()
    if m := _WERKJAAR.fullmatch(value):
        first, second = int(m.group(1)), int(m.group(2))
        if second == first + 1 and 2000 <= first <= 2100:
            return date(first, 9, 1), date(second, 8, 31)
        return None
    if m := _YEAR.fullmatch(value):
        year = int(m.group(1))
        if 2000 <= year <= 2100:
            return date(year, 1, 1), date(year, 12, 31)
    return None
