"""Dates and times the Flemish way ("di 12 jan. 2027, 19:00"), without Flask.

Babel's current CLDR data writes Dutch abbreviated months without the full stop
("12 jan 2027"); Flemish usage, and what our users expect in print, keeps it. We take
weekday names from Babel and add the dotted month abbreviations ourselves.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel.dates import format_date as babel_format_date

NL_MONTHS = (
    "jan.",
    "feb.",
    "mrt.",
    "apr.",
    "mei",
    "jun.",
    "jul.",
    "aug.",
    "sep.",
    "okt.",
    "nov.",
    "dec.",
)


def to_local(moment: datetime, tz: str) -> datetime:
    """Convert an aware moment (naive means UTC) to the given IANA time zone."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(ZoneInfo(tz))


def local_date(moment: datetime, tz: str) -> date:
    """The calendar day of a moment in the given time zone."""
    return to_local(moment, tz).date()


@lru_cache(maxsize=32)
def _names(locale: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A locale's abbreviated weekdays (Monday first) and months, asked of Babel once.

    Babel parses the locale and the pattern on every call; a list page shows hundreds
    of dates.
    """
    monday = date(2024, 1, 1)
    weekdays = tuple(
        babel_format_date(monday + timedelta(days=n), "EEE", locale=locale) for n in range(7)
    )
    if locale.startswith("nl"):
        return weekdays, NL_MONTHS
    months = tuple(babel_format_date(date(2024, m, 1), "MMM", locale=locale) for m in range(1, 13))
    return weekdays, months


def format_day(day: date, locale: str = "nl") -> str:
    """'di 12 jan. 2027' in Dutch, 'Tue 12 Jan 2027' in English."""
    weekdays, months = _names(str(locale))
    return f"{weekdays[day.weekday()]} {day.day} {months[day.month - 1]} {day.year}"


def format_span(
    start: datetime, end: datetime, tz: str = "Europe/Brussels", locale: str = "nl"
) -> str:
    """'di 12 jan. 2027, 19:00–21:30' (the end's date too when it is another day)."""
    local_end = to_local(end, tz)
    if to_local(start, tz).date() == local_end.date():
        return f"{format_moment(start, tz, locale)}–{local_end:%H:%M}"
    return f"{format_moment(start, tz, locale)} – {format_moment(end, tz, locale)}"


def format_moment(moment: datetime, tz: str = "Europe/Brussels", locale: str = "nl") -> str:
    """'di 12 jan. 2027, 19:00' in the given time zone."""
    local = to_local(moment, tz)
    return f"{format_day(local.date(), locale)}, {local:%H:%M}"


def local_today(tz: str | None = None, now: datetime | None = None) -> date:
    """Today in the organisation's zone (the app's DEFAULT_TIMEZONE), not the server's.

    Between 22:00 and midnight UTC it is already tomorrow in Brussels; forms, defaults and
    the planner must agree on which day that is.
    """
    if tz is None:
        from flask import current_app, has_app_context

        tz = (
            current_app.config.get("DEFAULT_TIMEZONE", "Europe/Brussels")
            if has_app_context()
            else "Europe/Brussels"
        )
    return (now or datetime.now(UTC)).astimezone(ZoneInfo(tz)).date()
