"""Dates of a series and local times across summer time. Pure: no Flask, no database.

A series is "every N weeks on a weekday", "monthly on the nth weekday" (n = 1..4, or -1
for the last) or an explicit list of dates. Times are wall-clock times in the network's
zone: 19:00 stays 19:00 across the last Sunday of March and of October.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKLY = "weekly"
MONTHLY = "monthly"
DATES = "dates"
PATTERNS = (WEEKLY, MONTHLY, DATES)
MAX_SESSIONS = 100
HORIZON_DAYS = 3 * 366  # never scan further than three years ahead


@dataclass(frozen=True)
class Pattern:
    """How the dates of a series are generated."""

    kind: str
    start: date
    weekday: int = 1  # Monday = 0
    interval_weeks: int = 4
    nth: int = 2  # 1..4, or -1 for the last
    dates: tuple[date, ...] = field(default_factory=tuple)


def nth_weekday(year: int, month: int, weekday: int, nth: int) -> date | None:
    """The nth (or last, nth = -1) given weekday of a month; None when it does not exist."""
    days = [
        d
        for d in calendar.Calendar().itermonthdates(year, month)
        if d.month == month and d.weekday() == weekday
    ]
    if nth == -1:
        return days[-1]
    return days[nth - 1] if 1 <= nth <= len(days) else None


def candidate_dates(pattern: Pattern) -> Iterator[date]:
    """Dates of the pattern in order, from its start, up to the scanning horizon."""
    limit = pattern.start + timedelta(days=HORIZON_DAYS)
    if pattern.kind == DATES:
        # All of them: the planner gives a reason for each date it leaves out.
        yield from sorted(set(pattern.dates))
        return
    if pattern.kind == WEEKLY:
        step = timedelta(weeks=max(1, pattern.interval_weeks))
        day = pattern.start + timedelta(days=(pattern.weekday - pattern.start.weekday()) % 7)
        while day <= limit:
            yield day
            day += step
        return
    if pattern.kind == MONTHLY:
        year, month = pattern.start.year, pattern.start.month
        while True:
            day = nth_weekday(year, month, pattern.weekday, pattern.nth)
            if day is not None and day > limit:
                return
            if day is not None and day >= pattern.start:
                yield day
            month += 1
            if month == 13:
                year, month = year + 1, 1
    raise ValueError(f"unknown pattern {pattern.kind!r}")


def local_to_utc(day: date, at: time, tz: str) -> datetime:
    """The UTC moment of a wall-clock time on a day in a zone (DST-aware).

    A time that does not exist (skipped by the spring change) moves forward by the gap;
    an ambiguous one (autumn) takes the first occurrence.
    """
    # fold=0: a skipped time takes the offset from before the change (so 02:30 becomes
    # 03:30 summer time); a repeated time takes its first occurrence.
    return datetime.combine(day, at, tzinfo=ZoneInfo(tz)).astimezone(UTC)


def utc_to_local(moment: datetime, tz: str) -> datetime:
    """An aware moment as wall-clock time in the zone."""
    return moment.astimezone(ZoneInfo(tz))
