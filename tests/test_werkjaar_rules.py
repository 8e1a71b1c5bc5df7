"""The werkjaar view's rules (learnnet/learning/werkjaar.py), without an app."""

from __future__ import annotations

from datetime import date

import pytest

from learnnet.learning.werkjaar import (
    Agreement,
    Goal,
    YearSession,
    bounds,
    label,
    parse_year,
    start_year_of,
    summarise,
    year_choices,
)


@pytest.mark.parametrize(
    ("day", "year"),
    [(date(2026, 9, 1), 2026), (date(2026, 8, 31), 2025), (date(2027, 1, 1), 2026)],
)
def test_a_werkjaar_runs_from_september_to_august(day, year):
    assert start_year_of(day) == year
    first, last = bounds(year)
    assert first <= day <= last and label(year) == f"{year}–{year + 1}"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2025", 2025),
        ("2025-2026", 2025),
        (" 2024 ", 2024),
        ("2025-2027", 9),
        ("1999", 9),
        ("2101", 9),
        ("", 9),
        (None, 9),
        ("abcd", 9),
        ("20251", 9),
        ("2025-", 9),
        ("-2025", 9),
        ("٢٠٢٥", 9),  # digits of another script are no year
    ],
)
def test_parse_year(raw, expected):
    assert parse_year(raw, 9) == expected


def test_year_choices_newest_first_with_the_current_one():
    assert year_choices([2024, 2026, 2024, 1900], 2025) == [2026, 2025, 2024]


def test_summary_goals_attendance_and_agreements():
    goals = [Goal(1, "Buiten spelen"), Goal(2, "Ouders betrekken"), Goal(3, "Rust")]
    sessions = [
        YearSession(
            12,
            date(2027, 1, 5),
            "B",
            False,
            True,
            (2, 99),
            7,
            frozenset({1, 2, 9}),
            frozenset({1, 2, 3}),
        ),
        YearSession(
            11, date(2026, 10, 5), "A", False, True, (1, 2), 5, frozenset({1}), frozenset({1, 2})
        ),
        YearSession(
            13, date(2027, 2, 5), "C", True, False, (3,), 0, frozenset(), frozenset({1, 2, 3})
        ),
        YearSession(
            14, date(2027, 4, 5), "A", False, False, (), 0, frozenset(), frozenset({1, 2, 3})
        ),
    ]
    summary = summarise(
        sessions, goals, [Agreement(11, True), Agreement(11, False), Agreement(12, True)]
    )
    assert [line.session.id for line in summary.lines] == [11, 12, 13, 14]
    assert [line.goals for line in summary.lines][:2] == [(goals[0], goals[1]), (goals[1],)]
    # Cancelled sessions serve no goal; a goal nobody serves is listed empty.
    assert [(g.goal.id, g.session_ids) for g in summary.goals] == [
        (1, (11,)),
        (2, (11, 12)),
        (3, ()),
    ]
    assert summary.held == 2 and summary.people == 12 and summary.average_people == 6
    # Facility 9 was no member that day: only members count.
    assert [(line.facilities_present, line.facilities_of) for line in summary.lines] == [
        (1, 2),
        (2, 3),
        (0, 3),
        (0, 3),
    ]
    assert summary.without_goal == 1  # session 14 (13 is cancelled)
    assert summary.agreements.done == 2 and summary.agreements.total == 3
    assert summary.agreements.percent == 67
    assert (summary.lines[0].agreements, summary.lines[0].agreements_done) == (2, 1)


def test_no_minutes_data_means_no_share_not_zero():
    assert summarise([], []).agreements is None
    empty = summarise([], [], [])
    assert empty.agreements.total == 0 and empty.agreements.percent is None
    assert empty.average_people is None
