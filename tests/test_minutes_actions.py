"""The carry-over rules of action points (learnnet.learning.actions), without an app:
property tests against a brute-force recomputation that states the rule another way."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from learnnet.learning import actions

START = datetime(2026, 9, 1, 18, tzinfo=UTC)


@st.composite
def networks(draw):
    """Sessions (some at the same moment, some cancelled) and points agreed at them, some
    done at moments between, on or after the sessions' starts."""
    count = draw(st.integers(min_value=1, max_value=9))
    days = draw(st.lists(st.integers(0, 60), min_size=count, max_size=count))
    ids = draw(st.permutations(list(range(1, count + 1))))
    cancelled = draw(st.lists(st.booleans(), min_size=count, max_size=count))
    sessions = [
        actions.Slot(i, START + timedelta(days=d), c)
        for i, d, c in zip(ids, days, cancelled, strict=True)
    ]
    points = []
    for n in range(draw(st.integers(0, 6))):
        origin = draw(st.sampled_from(sessions)).id
        done = draw(st.one_of(st.none(), st.integers(-2, 64)))
        done_at = None
        if done is not None:
            # Exactly on a start now and then: "done before the session" includes the start.
            done_at = START + timedelta(days=done, hours=draw(st.sampled_from([0, 0, -3, 5])))
        points.append(actions.Point(100 + n, origin, done_at))
    return sessions, points


def brute_force_shown(point, sessions):
    """A session shows the point when it is not cancelled, comes after the origin, and at
    every look-back before it (sessions not cancelled between the origin and it) the point
    was not done yet."""
    key = {s.id: (s.starts_at, s.id) for s in sessions}
    origin = key[point.origin_id]
    shown = []
    for s in sessions:
        if s.cancelled or key[s.id] <= origin:
            continue
        earlier = [u for u in sessions if not u.cancelled and origin < key[u.id] < key[s.id]]
        if all(point.done_at is None or point.done_at > u.starts_at for u in earlier):
            shown.append(s)
    return [s.id for s in sorted(shown, key=lambda s: key[s.id])]


@settings(max_examples=200, deadline=None)
@given(networks())
def test_shown_on_matches_the_brute_force(world):
    sessions, points = world
    for point in points:
        assert actions.shown_on(point, sessions) == brute_force_shown(point, sessions)


@settings(max_examples=150, deadline=None)
@given(networks())
def test_exactly_the_next_session_then_until_done(world):
    sessions, points = world
    ordered = sorted(sessions, key=lambda s: (s.starts_at, s.id))
    for point in points:
        shown = actions.shown_on(point, sessions)
        index = [s.id for s in ordered].index(point.origin_id)
        later = [s for s in ordered[index + 1 :] if not s.cancelled]
        nxt = actions.next_session(point.origin_id, sessions)
        # The first session not cancelled after the origin, whatever the point's state.
        assert (shown[0] if shown else None) == (nxt.id if nxt else None)
        assert nxt is None or nxt.id == later[0].id
        # Never on a cancelled session, never on the origin or before it.
        assert not any(s.cancelled for s in ordered if s.id in shown)
        assert point.origin_id not in shown
        if point.done_at is None:
            assert shown == [s.id for s in later]  # open: it keeps coming back
        else:
            # Done: shown up to the first session starting after it was done, no further.
            reported = next((s for s in later if point.done_at <= s.starts_at), None)
            expected = later if reported is None else later[: later.index(reported) + 1]
            assert shown == [s.id for s in expected]


@settings(max_examples=200, deadline=None)
@given(networks())
def test_a_look_back_lists_exactly_the_points_shown_on_it(world):
    sessions, points = world
    for session in sessions:
        listed = actions.lookback(session.id, points, sessions)
        assert listed == [p.id for p in points if session.id in brute_force_shown(p, sessions)]


def test_a_cancelled_next_session_passes_the_point_on():
    held = actions.Slot(1, START)
    cancelled = actions.Slot(2, START + timedelta(days=28), cancelled=True)
    after = actions.Slot(3, START + timedelta(days=56))
    point = actions.Point(10, origin_id=1)
    assert actions.shown_on(point, [after, cancelled, held]) == [3]


@given(st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 1, 1)), st.integers(-20, 20))
def test_the_reminder_window_is_the_week_before_the_date(due, offset):
    today = due + timedelta(days=offset)
    assert actions.reminder_due(due, today, done=False) == (-7 <= offset <= 0)
    assert actions.reminder_due(due, today, done=True) is False
