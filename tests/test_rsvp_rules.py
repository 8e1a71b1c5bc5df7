"""The pure rules of answering: tokens, when answers close, seats, reminder windows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from learnnet.rsvp import rules

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)


def test_token_is_derived_from_secret_and_nonce():
    a = rules.derive_token("secret-one", "nonce")
    assert a == rules.derive_token("secret-one", "nonce")
    assert a != rules.derive_token("secret-two", "nonce")
    assert a != rules.derive_token("secret-one", "other")
    assert len(a) == 32 and rules.well_formed(a)
    assert rules.token_hash(a) != a and len(rules.token_hash(a)) == 64


@pytest.mark.parametrize(
    "token",
    [
        "",
        "x" * 31,
        "x" * 33,
        "x" * 10_000,
        "a" * 31 + "/",
        "a" * 31 + "=",
        "é" * 32,
        "a" * 31 + "\x00",
    ],
)
def test_malformed_tokens_are_refused_unread(token):
    assert not rules.well_formed(token)


def test_answers_close_when_cancelled_started_or_past_the_deadline():
    later = NOW + timedelta(days=3)
    assert rules.closed_reason(False, later, None, NOW) is None
    assert rules.closed_reason(False, later, NOW + timedelta(hours=1), NOW) is None
    assert rules.closed_reason(True, later, None, NOW) == rules.CANCELLED
    assert rules.closed_reason(False, NOW, None, NOW) == rules.STARTED
    assert rules.closed_reason(False, later, NOW - timedelta(seconds=1), NOW) == rules.DEADLINE


def test_seats():
    assert rules.gets_seat(None, 500, False)
    assert rules.gets_seat(3, 2, False)
    assert not rules.gets_seat(3, 3, False)
    assert rules.gets_seat(3, 5, True)  # a seat once given is kept when capacity drops
    assert rules.free_seats(3, 5) == 0 and rules.free_seats(None, 5) is None


def test_reminder_windows_with_seven_and_one_day():
    start = NOW + timedelta(days=10)
    due = lambda days_before: rules.reminder_due(start, [7, 1], start - days_before)  # noqa: E731
    assert due(timedelta(days=8)) is None
    assert due(timedelta(days=7)) == 7
    assert due(timedelta(days=2)) == 7
    assert due(timedelta(days=1)) == 1
    assert due(timedelta(minutes=1)) == 1
    assert rules.reminder_due(start, [7, 1], start) is None
    assert rules.reminder_due(start, [], NOW) is None


@given(
    st.lists(st.integers(min_value=1, max_value=30), min_size=1, max_size=4),
    st.integers(0, 40 * 24),
)
def test_at_most_one_reminder_window_applies_and_it_is_a_configured_one(days, hours_before):
    start = NOW + timedelta(days=60)
    moment = start - timedelta(hours=hours_before)
    found = rules.reminder_due(start, days, moment)
    # Brute force: the smallest configured day count whose window has opened.
    opened = [d for d in days if moment >= start - timedelta(days=d)]
    expected = min(opened) if opened and moment < start else None
    assert found == expected
