"""Rules of the learning room, with no Flask and no database: the werkjaar of a day,
the limits on what people type, parsing minutes and goals, moving an agenda item, and
grouping learning questions by facility.

Tested without an app (tests/test_learning_rules.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date
from typing import TypeVar

T = TypeVar("T")

THEME_TITLE_MAX = 160
THEME_DESCRIPTION_MAX = 2000
GOAL_MAX = 300
GOALS_MAX = 8  # "a short list": more is a plan, not a set of goals
ITEM_TITLE_MAX = 200
ITEM_MINUTES_MAX = 600  # ten hours: a session is never longer
ITEMS_MAX = 30
PREPARE_MAX = 2000
SHOWCASE_MAX = 5000  # as the session form and the host's form have it
QUESTION_MAX = 600  # a question, not a letter
QUESTION_MIN = 3

UP = "up"
DOWN = "down"


def werkjaar_start(day: date) -> int:
    """The start year of the werkjaar (1 September – 31 August) that holds ``day``."""
    return day.year if day.month >= 9 else day.year - 1


def werkjaar_label(start_year: int) -> str:
    """'2026–2027' (with an en dash, as people write it)."""
    return f"{start_year}\u2013{start_year + 1}"


def werkjaar_bounds(start_year: int) -> tuple[date, date]:
    """First and last day of the werkjaar that starts in ``start_year``."""
    return date(start_year, 9, 1), date(start_year + 1, 8, 31)


class BadMinutes(ValueError):
    """The minutes of an agenda item are not a whole number from 1 to ITEM_MINUTES_MAX."""


def parse_minutes(text: str | None) -> int | None:
    """'20', ' 20 ', '20 min' → 20; '' → None (no duration given).

    Raises :class:`BadMinutes` for anything else (letters, 0, negative, decimals, too
    many), so the form can say so next to the field.
    """
    value = (text or "").strip().lower()
    for suffix in ("minuten", "minutes", "min.", "min", "'"):
        if value.endswith(suffix):
            value = value[: -len(suffix)].strip()
            break
    if not value:
        return None
    if not value.isascii() or not value.isdigit():
        raise BadMinutes(text)
    minutes = int(value)
    if not 1 <= minutes <= ITEM_MINUTES_MAX:
        raise BadMinutes(text)
    return minutes


def parse_goals(text: str | None) -> list[str]:
    """Goals typed one per line: trimmed, empty lines and list marks ('-', '*', '•',
    '1.') dropped, duplicates (ignoring case) kept once, in the order typed."""
    goals: list[str] = []
    seen: set[str] = set()
    for line in (text or "").splitlines():
        goal = line.strip()
        goal = goal.lstrip("-*•·").strip()
        head, dot, rest = goal.partition(".")
        if dot and head.isdigit() and len(head) <= 2:
            goal = rest.strip()
        key = " ".join(goal.split()).casefold()
        if goal and key not in seen:
            seen.add(key)
            goals.append(" ".join(goal.split()))
    return goals


def goal_problems(goals: Sequence[str]) -> list[str]:
    """What is wrong with a list of goals: keys 'too_many', 'too_long' (empty: fine)."""
    problems = []
    if len(goals) > GOALS_MAX:
        problems.append("too_many")
    if any(len(g) > GOAL_MAX for g in goals):
        problems.append("too_long")
    return problems


def moved(ids: Sequence[int], item_id: int, direction: str) -> list[int]:
    """The order ``ids`` with ``item_id`` one place up or down (unchanged at the edge).

    Raises ValueError when ``item_id`` is not in ``ids`` (an item of another session)
    or the direction is neither UP nor DOWN.
    """
    if direction not in (UP, DOWN):
        raise ValueError(direction)
    order = list(ids)
    index = order.index(item_id)  # ValueError when it is not there
    other = index - 1 if direction == UP else index + 1
    if 0 <= other < len(order):
        order[index], order[other] = order[other], order[index]
    return order


def total_minutes(minutes: Iterable[int | None]) -> int:
    """The programme's length: the sum of the items that name their minutes."""
    return sum(m for m in minutes if m)


def group_by(items: Iterable[T], key: Callable[[T], str]) -> list[tuple[str, list[T]]]:
    """Items grouped under their key, groups sorted by key (ignoring case), the items of
    a group in the order given (the facilitator reads leervragen per facility)."""
    groups: dict[str, list[T]] = {}
    for item in items:
        groups.setdefault(key(item), []).append(item)
    return sorted(groups.items(), key=lambda pair: pair[0].casefold())
