"""The school holidays of the Flemish Community (Dutch-language schools), per school year.

Pure: a school year in, five breaks out; no Flask, no database. The names a person reads
are the web layer's job; this module only hands out stable keys.

A school year ``Y`` runs from 1 September ``Y`` to 31 August ``Y + 1`` (lessons end on
30 June ``Y + 1``, then the summer holiday). ``school_holidays(2026)`` is 2026–2027.

The rules
---------
Flanders did NOT reform its school calendar: the "7 weeks of lessons, 2 weeks off" reform
that took effect in 2022–2023 (two-week autumn and carnival breaks, a spring break moved to
May, a summer holiday from the first Saturday of July) is the French Community's (décret
du 31 mars 2022 relatif à l'adaptation des rythmes scolaires annuels; De Standaard,
14 March 2022: "Door de nieuwe kalender lopen de vakantieperiodes van het Franstalig
onderwijs niet langer synchroon met het Nederlandstalig onderwijs"; VRT NWS, 29 August
2022: Flanders and the German-speaking Community keep their calendar; The Bulletin,
1 September 2023: the Flemish minister of education, the Vlor and the SERV oppose a
change). There is no "2023 reform" in Flanders, so every school year here follows one set
of rules: the long-standing ones, which the published calendars of 2022–2023 to 2027–2028
follow to the day and which the ``holidays`` package (0.109) also implements (one-week
autumn and carnival breaks in every year; see tests/test_schoolholidays.py):

1. ``autumn`` (herfstvakantie), one week: from the Monday of the week in which 1 November
   falls; when 1 November is a Sunday, from Monday 2 November.
2. ``christmas`` (kerstvakantie), two weeks: from the Monday of the week in which
   25 December falls; when 25 December is a Saturday or a Sunday, from the Monday after.
   It always contains 1 January.
3. ``spring`` (krokusvakantie), one week: from the 7th Monday before Easter (carnival
   Monday, Easter Sunday - 48 days).
4. ``easter`` (paasvakantie), two weeks: from the first Monday of April; when Easter falls
   in March, from the Monday after Easter (Easter Monday); when Easter falls after 15 April,
   from the second Monday before Easter. Easter Monday is a day off of its own (art. 7, 6°
   below); when the two weeks end on Easter Sunday the break as published runs through
   Easter Monday (15 days: e.g. 7–21 April 2025, 3–17 April 2028).
5. ``summer`` (zomervakantie): 1 July to 31 August, whatever the weekdays.

Every break is given as published: first and last day off, inclusive (Monday to Sunday for
the one- and two-week breaks). Days off outside these breaks (11 November, Easter Monday
when it falls outside the Easter break, 1 May, Ascension Day and the day after, Whit Monday,
a school's own free days) are not breaks and are not returned.

Sources:

* Besluit van de Vlaamse Regering van 17 april 1991 betreffende de organisatie van het
  schooljaar in het basisonderwijs, and Besluit van de Vlaamse Regering van 31 augustus
  2001 houdende de organisatie van het schooljaar in het secundair onderwijs, art. 7
  (codex.vlaanderen.be), as quoted on http://www.2747.com/2747/law/administration/
  schoolholidays/2001/vlaanderen7.html and on Flemish school sites (e.g.
  https://www.sint-donaas.be/vakantiedagen/, which adds "in dat laatste geval wordt de
  schoolvakantie met één verlofdag verlengd: paasmaandag").
* Vlaamse overheid, "Schoolvakanties en vrije dagen op school" (vlaanderen.be): five
  breaks, one week, two weeks, one week, two weeks, 1 July to 31 August.
* VRT NWS, 25 September 2017: when Easter falls after 15 April the two weeks lie before
  Easter and Easter Monday is added (2019: 8 to 22 April).

Rule 4's "runs through Easter Monday" also covers Easter on 14 or 15 April (2047, 2058,
2063, 2069, 2074, 2085, 2096), when the first Monday of April is itself Easter - 13 days:
no calendar for such a year has been published yet; the ``holidays`` package reads it the
same way. (That package, from about 0.10x, has these breaks too, as single days per calendar
year: ``holidays.Belgium(subdiv="Flemish", categories="school")``; the tests check this
module against it day by day up to 2099.)

One-off deviations decided by a minister (the COVID years 2020–2021 and 2021–2022 had
some) are not rules and are not encoded, hence ``FIRST_SCHOOL_YEAR``. Should Flanders
reform its calendar after all, the rules here end where the reform starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from dateutil.easter import easter

AUTUMN = "autumn"
CHRISTMAS = "christmas"
SPRING = "spring"
EASTER = "easter"
SUMMER = "summer"
KEYS = (AUTUMN, CHRISTMAS, SPRING, EASTER, SUMMER)  # the order of a school year

FIRST_SCHOOL_YEAR = 2022  # the first year checked against a published calendar, no deviations
LAST_SCHOOL_YEAR = 4098  # dateutil's Gregorian Easter is valid up to 4099

MONDAY, SATURDAY, SUNDAY = 0, 5, 6
WEEK = timedelta(days=7)
DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Holiday:
    """One break: ``start`` and ``end`` are the first and last day off, both inclusive."""

    key: str
    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end


def _check_year(school_year: int) -> None:
    if isinstance(school_year, bool) or not isinstance(school_year, int):
        raise TypeError(f"school_year must be an int, not {type(school_year).__name__}")
    if not FIRST_SCHOOL_YEAR <= school_year <= LAST_SCHOOL_YEAR:
        raise ValueError(
            f"school year {school_year} is outside {FIRST_SCHOOL_YEAR}..{LAST_SCHOOL_YEAR}"
        )


def _monday_of_week(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _next_monday(day: date) -> date:
    """The first Monday strictly after ``day``."""
    return day + timedelta(days=7 - day.weekday())


def _autumn(year: int) -> Holiday:
    nov1 = date(year, 11, 1)
    start = nov1 + DAY if nov1.weekday() == SUNDAY else _monday_of_week(nov1)
    return Holiday(AUTUMN, start, start + WEEK - DAY)


def _christmas(year: int) -> Holiday:
    dec25 = date(year, 12, 25)
    start = _next_monday(dec25) if dec25.weekday() >= SATURDAY else _monday_of_week(dec25)
    return Holiday(CHRISTMAS, start, start + 2 * WEEK - DAY)


def _spring(year: int) -> Holiday:
    start = easter(year) - timedelta(days=48)  # the 7th Monday before Easter
    return Holiday(SPRING, start, start + WEEK - DAY)


def _easter(year: int) -> Holiday:
    sunday = easter(year)
    if sunday.month == 3:
        start = sunday + DAY
    elif sunday > date(year, 4, 15):
        start = sunday - timedelta(days=13)  # the second Monday before Easter
    else:
        april1 = date(year, 4, 1)
        start = april1 if april1.weekday() == MONDAY else _next_monday(april1)
    # Easter Monday is a day off of its own; two weeks that end on Easter Sunday run on
    # through it, as the published calendars show.
    end = max(start + 2 * WEEK - DAY, sunday + DAY)
    return Holiday(EASTER, start, end)


def _summer(year: int) -> Holiday:
    return Holiday(SUMMER, date(year, 7, 1), date(year, 8, 31))


def school_holidays(school_year: int) -> list[Holiday]:
    """The five breaks of the school year that starts on 1 September ``school_year``.

    In calendar order: autumn, christmas, spring, easter, summer.
    """
    _check_year(school_year)
    following = school_year + 1
    return [
        _autumn(school_year),
        _christmas(school_year),
        _spring(following),
        _easter(following),
        _summer(following),
    ]


def school_year_of(day: date) -> int:
    """The school year containing ``day`` (1 September to 31 August): 2026 for 2026–2027."""
    return day.year if day.month >= 9 else day.year - 1


def holiday_on(day: date) -> Holiday | None:
    """The break ``day`` falls in, or None on a school day (or a weekend between breaks)."""
    for holiday in school_holidays(school_year_of(day)):
        if day in holiday:
            return holiday
    return None


def holidays_between(first: date, last: date) -> list[Holiday]:
    """Every break that overlaps ``first``..``last`` (inclusive), in date order.

    School years outside ``FIRST_SCHOOL_YEAR``..``LAST_SCHOOL_YEAR`` have no breaks here.
    """
    low = max(school_year_of(first), FIRST_SCHOOL_YEAR)
    high = min(school_year_of(last), LAST_SCHOOL_YEAR)
    return [
        holiday
        for year in range(low, high + 1)
        for holiday in school_holidays(year)
        if holiday.start <= last and first <= holiday.end
    ]


def next_holiday(day: date) -> Holiday:
    """The break ``day`` falls in, else the first break that starts after it.

    Always one of the breaks of ``school_year_of(day)``: the summer holiday ends on
    31 August, the last day of every school year.
    """
    return next(h for h in school_holidays(school_year_of(day)) if h.end >= day)
