"""The Flemish school holidays: published calendars as the oracle, then the rules as properties.

No page of onderwijs.vlaanderen.be itself was at hand; each expected date below comes from a
page that republishes the official calendar, named in the comment above it.
"""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import holidays
import pytest
from dateutil.easter import easter
from hypothesis import given
from hypothesis import strategies as st

from learnnet.planning.schoolholidays import (
    AUTUMN,
    CHRISTMAS,
    EASTER,
    FIRST_SCHOOL_YEAR,
    KEYS,
    LAST_SCHOOL_YEAR,
    SPRING,
    SUMMER,
    Holiday,
    holiday_on,
    holidays_between,
    next_holiday,
    school_holidays,
    school_year_of,
)

D = date

PUBLISHED = {
    # 2022–2023: https://www.ptsmechelen.be/over-onze-school/vakanties-en-vrije-dagen.html
    # (herfst ma 31/10–zo 06/11/2022, kerst ma 26/12/2022–zo 08/01/2023, krokus
    # ma 20/02–zo 26/02/2023, paas ma 03/04–zo 16/04/2023, zomer za 01/07–do 31/08/2023);
    # the same on http://www.academiebeeldendekunstenvilvoorde.be/varia/vakantiekalender/
    2022: [
        (D(2022, 10, 31), D(2022, 11, 6)),
        (D(2022, 12, 26), D(2023, 1, 8)),
        (D(2023, 2, 20), D(2023, 2, 26)),
        (D(2023, 4, 3), D(2023, 4, 16)),
        (D(2023, 7, 1), D(2023, 8, 31)),
    ],
    # 2023–2024: https://pro.katholiekonderwijs.vlaanderen/schoolkalender ("Schooljaar
    # 2023-2024": herfst 30 oktober–5 november 2023, kerst 25 december 2023–7 januari 2024,
    # krokus 12–18 februari 2024, paas 1–14 april 2024 (paasmaandag 1 april), zomer
    # maandag 1 juli–zaterdag 31 augustus 2024); the same on ptsmechelen.be (above)
    2023: [
        (D(2023, 10, 30), D(2023, 11, 5)),
        (D(2023, 12, 25), D(2024, 1, 7)),
        (D(2024, 2, 12), D(2024, 2, 18)),
        (D(2024, 4, 1), D(2024, 4, 14)),
        (D(2024, 7, 1), D(2024, 8, 31)),
    ],
    # 2024–2025: https://pro.katholiekonderwijs.vlaanderen/schoolkalender ("Schooljaar
    # 2024-2025": herfst 28 oktober–3 november 2024, kerst 23 december 2024–5 januari 2025,
    # krokus 3–9 maart 2025, paas maandag 7 tot en met maandag 21 april 2025 (paasmaandag
    # 21 april)); zomer dinsdag 1 juli–zondag 31 augustus 2025 from
    # https://www.kunstacademie-eeklo.be/schoolvakanties
    2024: [
        (D(2024, 10, 28), D(2024, 11, 3)),
        (D(2024, 12, 23), D(2025, 1, 5)),
        (D(2025, 3, 3), D(2025, 3, 9)),
        (D(2025, 4, 7), D(2025, 4, 21)),
        (D(2025, 7, 1), D(2025, 8, 31)),
    ],
    # 2025–2026: https://www.staproeselare.be/info/vakanties-en-vrije-dagen (herfst
    # 27 oktober–2 november 2025, kerst 22 december 2025–4 januari 2026, krokus
    # 16–22 februari 2026, paas 6–19 april 2026); zomer wo 01/07/2026–ma 31/08/2026 from
    # https://www.akademiemeise.be/product/1465/vakantiedagen (which lists all five)
    2025: [
        (D(2025, 10, 27), D(2025, 11, 2)),
        (D(2025, 12, 22), D(2026, 1, 4)),
        (D(2026, 2, 16), D(2026, 2, 22)),
        (D(2026, 4, 6), D(2026, 4, 19)),
        (D(2026, 7, 1), D(2026, 8, 31)),
    ],
    # 2026–2027: no web page with this year was found; the OpenHolidays project's data set
    # of the Flemish calendar, github.com/openpotato/openholidaysapi.data,
    # src/be/holidays/holidays.school.nl.csv (Herfstvakantie 2026-11-02–2026-11-08,
    # Kerstvakantie 2026-12-21–2027-01-03, Krokusvakantie 2027-02-08–2027-02-14,
    # Paasvakantie 2027-03-29–2027-04-11, Zomervakantie 2027-07-01–2027-08-31)
    2026: [
        (D(2026, 11, 2), D(2026, 11, 8)),
        (D(2026, 12, 21), D(2027, 1, 3)),
        (D(2027, 2, 8), D(2027, 2, 14)),
        (D(2027, 3, 29), D(2027, 4, 11)),
        (D(2027, 7, 1), D(2027, 8, 31)),
    ],
    # 2027–2028: https://kampkompas.be/schoolvakanties-2027-2028-vlaanderen-belgie
    # (herfst ma 1–zo 7 november 2027, kerst ma 27 december 2027–zo 9 januari 2028, krokus
    # ma 28 februari–zo 5 maart 2028, paas ma 3–ma 17 april 2028, zomer za 1 juli–
    # do 31 augustus 2028); the same in the OpenHolidays data set (above)
    2027: [
        (D(2027, 11, 1), D(2027, 11, 7)),
        (D(2027, 12, 27), D(2028, 1, 9)),
        (D(2028, 2, 28), D(2028, 3, 5)),
        (D(2028, 4, 3), D(2028, 4, 17)),
        (D(2028, 7, 1), D(2028, 8, 31)),
    ],
    # 2028–2029: the OpenHolidays data set only (above): 2028-10-30–11-05, 2028-12-25–
    # 2029-01-07, 2029-02-12–02-18, 2029-04-02–04-15, 2029-07-01–08-31
    2028: [
        (D(2028, 10, 30), D(2028, 11, 5)),
        (D(2028, 12, 25), D(2029, 1, 7)),
        (D(2029, 2, 12), D(2029, 2, 18)),
        (D(2029, 4, 2), D(2029, 4, 15)),
        (D(2029, 7, 1), D(2029, 8, 31)),
    ],
}


@pytest.mark.parametrize("school_year", sorted(PUBLISHED))
def test_matches_the_published_calendar(school_year):
    expected = [
        Holiday(key, s, e) for key, (s, e) in zip(KEYS, PUBLISHED[school_year], strict=True)
    ]
    assert school_holidays(school_year) == expected


def test_the_published_years_cover_every_branch_of_the_rules():
    """The oracle is only as good as the cases it exercises."""
    assert date(2026, 11, 1).weekday() == 6  # autumn: 1 November on a Sunday
    assert date(2022, 12, 25).weekday() == 6  # christmas: 25 December on a Sunday
    assert date(2027, 12, 25).weekday() == 5  # christmas: 25 December on a Saturday
    assert easter(2024).month == 3 and easter(2027).month == 3  # easter in March
    assert easter(2025) == date(2025, 4, 20)  # easter after 15 April
    assert easter(2028) == date(2028, 4, 16)  # ... by a single day
    assert easter(2026) == date(2026, 4, 5)  # easter in April up to the 15th


# --- the rules, for every school year 2022–2100 -------------------------------------------

YEARS = range(FIRST_SCHOOL_YEAR, 2101)
LENGTH = {AUTUMN: 7, CHRISTMAS: 14, SPRING: 7, SUMMER: 62}


def check_rules(school_year: int) -> None:
    breaks = school_holidays(school_year)
    by_key = {h.key: h for h in breaks}
    first, last = date(school_year, 9, 1), date(school_year + 1, 8, 31)

    assert [h.key for h in breaks] == list(KEYS)
    for h in breaks:
        assert first <= h.start <= h.end <= last
    for earlier, later in itertools.pairwise(breaks):
        assert earlier.end < later.start - timedelta(days=1)  # apart, with school between

    for h in breaks[:-1]:
        assert h.start.weekday() == 0  # a Monday ...
    for key in (AUTUMN, CHRISTMAS, SPRING):
        assert by_key[key].end.weekday() == 6  # ... to a Sunday
        assert by_key[key].days == LENGTH[key]
    assert by_key[SUMMER] == Holiday(SUMMER, date(school_year + 1, 7, 1), last)

    nov1 = date(school_year, 11, 1)
    if nov1.weekday() == 6:
        assert by_key[AUTUMN].start == nov1 + timedelta(days=1)
    else:
        assert nov1 in by_key[AUTUMN]

    dec25 = date(school_year, 12, 25)
    christmas = by_key[CHRISTMAS]
    if dec25.weekday() >= 5:
        assert christmas.start == dec25 + timedelta(days=7 - dec25.weekday())
    else:
        assert dec25 in christmas
    assert date(school_year + 1, 1, 1) in christmas

    sunday = easter(school_year + 1)
    # The 7th Monday before Easter: the 1st is 6 days before, each next one a week earlier.
    assert by_key[SPRING].start == sunday - timedelta(days=6) - 6 * timedelta(weeks=1)

    paas = by_key[EASTER]
    assert sunday + timedelta(days=1) in paas  # Easter Monday, always
    if sunday.month == 3:
        assert paas.start == sunday + timedelta(days=1)
    elif sunday.day > 15:
        assert paas.start == sunday - timedelta(days=13)
    else:
        assert paas.start.month == 4 and paas.start.day <= 7  # the first Monday of April
    # Two weeks, plus Easter Monday when the two weeks end on Easter Sunday.
    assert paas.days == (15 if paas.start == sunday - timedelta(days=13) else 14)
    assert paas.end.weekday() == (0 if paas.days == 15 else 6)


@pytest.mark.parametrize("school_year", YEARS)
def test_rules_hold_for_every_year_to_2100(school_year):
    check_rules(school_year)


@given(st.integers(min_value=FIRST_SCHOOL_YEAR, max_value=LAST_SCHOOL_YEAR))
def test_rules_hold_far_ahead(school_year):
    check_rules(school_year)


def test_easter_on_14_or_15_april_runs_through_easter_monday():
    """The one reading no published calendar settles yet (first case: Easter 14 April 2047)."""
    assert easter(2047) == date(2047, 4, 14)
    assert school_holidays(2046)[3] == Holiday(EASTER, date(2047, 4, 1), date(2047, 4, 15))
    assert easter(2058) == date(2058, 4, 14)
    assert easter(2063) == date(2063, 4, 15)
    assert school_holidays(2062)[3] == Holiday(EASTER, date(2063, 4, 2), date(2063, 4, 16))


# --- an independent implementation: the `holidays` package ---------------------------------

HOLIDAYS_NAMES = {
    "Autumn Break": AUTUMN,
    "Christmas Break": CHRISTMAS,
    "Carnival Break": SPRING,
    "Easter Break": EASTER,
    "Summer Break": SUMMER,
}
HAS_FLEMISH_SCHOOL = "school" in getattr(
    holidays.Belgium, "supported_categories", ()
) and "Flemish" in getattr(holidays.Belgium, "subdivisions", ())


@pytest.mark.skipif(
    not HAS_FLEMISH_SCHOOL, reason="this holidays version has no Flemish school breaks"
)
def test_agrees_with_the_holidays_package_to_2100():
    # The package computes calendar years up to its end_year (2100): school years to 2099.
    last_year = min(getattr(holidays.Belgium, "end_year", 2100), 2100)
    calendar = holidays.Belgium(
        years=range(FIRST_SCHOOL_YEAR, last_year + 1),
        subdiv="Flemish",
        categories=("school",),
        language="en_US",
    )
    for school_year in range(FIRST_SCHOOL_YEAR, last_year):
        first, last = date(school_year, 9, 1), date(school_year + 1, 8, 31)
        theirs: dict[str, list[date]] = {key: [] for key in KEYS}
        day = first
        while day <= last:
            for name in calendar.get_list(day):
                if name in HOLIDAYS_NAMES:
                    theirs[HOLIDAYS_NAMES[name]].append(day)
            day += timedelta(days=1)
        ours = {h.key: h for h in school_holidays(school_year)}
        for key in KEYS:
            h = ours[key]
            assert theirs[key] == [h.start + timedelta(days=i) for i in range(h.days)], (
                school_year,
                key,
            )


# --- the date helpers ---------------------------------------------------------------------

DAYS = st.dates(
    min_value=date(FIRST_SCHOOL_YEAR, 9, 1), max_value=date(LAST_SCHOOL_YEAR + 1, 8, 31)
)


def test_school_year_of_turns_on_1_september():
    assert school_year_of(date(2027, 8, 31)) == 2026
    assert school_year_of(date(2027, 9, 1)) == 2027
    assert school_year_of(date(2027, 1, 1)) == 2026


@given(DAYS)
def test_school_year_of_contains_the_day(day):
    year = school_year_of(day)
    assert date(year, 9, 1) <= day <= date(year + 1, 8, 31)


@given(DAYS)
def test_holiday_on_and_next_holiday(day):
    breaks = school_holidays(school_year_of(day))
    containing = [h for h in breaks if day in h]
    assert holiday_on(day) == (containing[0] if containing else None)
    upcoming = next_holiday(day)
    assert upcoming in breaks and upcoming.end >= day
    assert all(h.end < day for h in breaks if h.start < upcoming.start)


def test_helpers_on_known_days():
    assert holiday_on(date(2027, 4, 1)) == Holiday(EASTER, date(2027, 3, 29), date(2027, 4, 11))
    assert holiday_on(date(2027, 4, 12)) is None
    assert next_holiday(date(2027, 4, 12)).key == SUMMER
    assert next_holiday(date(2026, 9, 1)) == Holiday(AUTUMN, date(2026, 11, 2), date(2026, 11, 8))
    assert next_holiday(date(2027, 8, 31)).key == SUMMER


def test_holiday_value_object():
    h = Holiday(AUTUMN, date(2026, 11, 2), date(2026, 11, 8))
    assert h.days == 7
    assert date(2026, 11, 8) in h and date(2026, 11, 9) not in h
    assert "2026-11-05" not in h
    with pytest.raises(AttributeError):
        h.start = date(2026, 11, 1)  # type: ignore[misc]


@pytest.mark.parametrize("bad", [FIRST_SCHOOL_YEAR - 1, LAST_SCHOOL_YEAR + 1])
def test_years_outside_the_rules_are_refused(bad):
    with pytest.raises(ValueError):
        school_holidays(bad)


@pytest.mark.parametrize("bad", [2026.0, "2026", True])
def test_school_year_must_be_an_int(bad):
    with pytest.raises(TypeError):
        school_holidays(bad)


def test_holidays_between_gives_every_break_overlapping_the_range_in_any_school_year():
    # A plan for 2027–2028 reaching into the next school year: the breaks the planner skips.
    found = holidays_between(date(2028, 3, 14), date(2028, 11, 2))
    assert [(h.key, h.start, h.end) for h in found] == [
        (EASTER, date(2028, 4, 3), date(2028, 4, 17)),
        (SUMMER, date(2028, 7, 1), date(2028, 8, 31)),
        (AUTUMN, date(2028, 10, 30), date(2028, 11, 5)),
    ]
    # Touching a break on its first or last day is enough; a range inside one gives it.
    assert [h.key for h in holidays_between(date(2028, 4, 17), date(2028, 4, 17))] == [EASTER]
    assert holidays_between(date(2028, 4, 18), date(2028, 6, 30)) == []
    # Before the first school year with rules here: nothing, and no error.
    assert holidays_between(date(2020, 1, 1), date(2022, 8, 31)) == []


@given(st.dates(date(2022, 9, 1), date(2090, 1, 1)), st.integers(0, 800))
def test_holidays_between_agrees_with_the_school_years(first, length):
    last = first + timedelta(days=length)
    years = range(school_year_of(first), school_year_of(last) + 1)
    expected = [h for y in years for h in school_holidays(y) if h.start <= last and first <= h.end]
    assert holidays_between(first, last) == expected
