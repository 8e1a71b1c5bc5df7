"""The learning room's pure rules, without an app: werkjaar, minutes, goals, order, groups."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from learnnet.attendance.rules import werkjaar_of
from learnnet.learning import rules


def test_werkjaar_start_agrees_with_the_attendance_rooms_werkjaar_on_every_day():
    """An independent oracle: attendance's werkjaar_of, over four years day by day."""
    day = date(2024, 1, 1)
    while day < date(2028, 1, 1):
        first, last = werkjaar_of(day)
        start = rules.werkjaar_start(day)
        assert first == date(start, 9, 1) and last == date(start + 1, 8, 31), day
        assert rules.werkjaar_bounds(start) == (first, last)
        day += timedelta(days=1)


def test_werkjaar_label_names_both_years():
    assert rules.werkjaar_label(2026) == "2026–2027"


@pytest.mark.parametrize(
    ("typed", "minutes"),
    [("20", 20), (" 45 ", 45), ("20 min", 20), ("90 minuten", 90), ("5'", 5), ("", None)],
)
def test_minutes_are_read_as_people_type_them(typed, minutes):
    assert rules.parse_minutes(typed) == minutes


@pytest.mark.parametrize("typed", ["abc", "0", "-5", "2.5", "twintig", "601", "١٢", "1e3", "20x"])
def test_minutes_that_are_not_a_whole_number_in_range_are_refused(typed):
    with pytest.raises(rules.BadMinutes):
        rules.parse_minutes(typed)


def test_goals_one_per_line_without_marks_empty_lines_or_doubles():
    typed = "- Taal stimuleren\n\n2. Ouders betrekken  \n• taal  stimuleren\n* Observeren"
    assert rules.parse_goals(typed) == ["Taal stimuleren", "Ouders betrekken", "Observeren"]
    assert rules.goal_problems(rules.parse_goals(typed)) == []


def test_too_many_or_too_long_goals_are_named():
    many = [f"Doel {n}" for n in range(rules.GOALS_MAX + 1)]
    assert rules.goal_problems(many) == ["too_many"]
    assert rules.goal_problems(["x" * (rules.GOAL_MAX + 1)]) == ["too_long"]


def test_moving_an_item_matches_a_brute_force_swap():
    """Random orders and moves against the plain definition: swap with the neighbour."""
    rng = random.Random(23)
    for _ in range(500):
        ids = rng.sample(range(1, 100), rng.randint(1, 8))
        item = rng.choice(ids)
        direction = rng.choice([rules.UP, rules.DOWN])
        result = rules.moved(ids, item, direction)
        i = ids.index(item)
        j = i - 1 if direction == rules.UP else i + 1
        expected = list(ids)
        if 0 <= j < len(ids):
            expected[i], expected[j] = expected[j], expected[i]
        assert result == expected
        assert sorted(result) == sorted(ids)


def test_moving_an_item_of_another_session_or_sideways_is_refused():
    with pytest.raises(ValueError):
        rules.moved([1, 2, 3], 9, rules.UP)
    with pytest.raises(ValueError):
        rules.moved([1, 2, 3], 2, "left")


def test_grouping_keeps_every_item_once_in_order_under_sorted_keys():
    items = [("b", 1), ("A", 2), ("b", 3), ("c", 4), ("a", 5)]
    groups = rules.group_by(items, lambda pair: pair[0])
    assert [k for k, _ in groups] == ["A", "a", "b", "c"]
    assert dict(groups)["b"] == [("b", 1), ("b", 3)]
    assert sum(len(v) for _, v in groups) == len(items)


def test_total_minutes_counts_only_named_durations():
    assert rules.total_minutes([20, None, 45, 0]) == 65
