"""Where an action point (afspraak) comes back: the carry-over rules, with no Flask and no
database.

An action point is agreed at a session (its minutes' session, the *origin*). It shows in
the look-back (terugblik) of later sessions of the same network:

- Sessions are taken in time order (start, then id, so two at the same moment keep one
  order); a cancelled session shows nothing and passes its look-back on to the next one.
- The point shows on **exactly the next** session that is not cancelled after its origin,
  done or not (so the facilitator hears how it went).
- It shows again on each later session as long as it was still open when the one before
  started: a point done before session *T* starts is shown on *T* as done, and on no session
  after *T*. An open point keeps coming back.

A reminder goes to the owner a week before the point's date, while it is open
(:func:`reminder_due`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

REMINDER_DAYS = 7


@dataclass(frozen=True)
class Slot:
    """A session of the network as the rules see it."""

    id: int
    starts_at: datetime
    cancelled: bool = False


@dataclass(frozen=True)
class Point:
    """An action point as the rules see it: the session it was agreed at, when it was done."""

    id: int
    origin_id: int
    done_at: datetime | None = None


def in_order(sessions: Iterable[Slot]) -> list[Slot]:
    """The sessions in time order (start, then id)."""
    return sorted(sessions, key=lambda s: (s.starts_at, s.id))


def held_after(origin_id: int, sessions: Iterable[Slot]) -> list[Slot]:
    """The sessions after the origin that are not cancelled, in order ([] when the origin
    is not among them)."""
    ordered = in_order(sessions)
    index = next((i for i, s in enumerate(ordered) if s.id == origin_id), None)
    if index is None:
        return []
    return [s for s in ordered[index + 1 :] if not s.cancelled]


def next_session(origin_id: int, sessions: Iterable[Slot]) -> Slot | None:
    """The first session after the origin that is not cancelled, or None."""
    after = held_after(origin_id, sessions)
    return after[0] if after else None


def shown_on(point: Point, sessions: Iterable[Slot]) -> list[int]:
    """The ids of the sessions whose look-back shows the point, in order."""
    shown: list[int] = []
    for slot in held_after(point.origin_id, sessions):
        shown.append(slot.id)
        if point.done_at is not None and point.done_at <= slot.starts_at:
            break  # reported done here; not carried further
    return shown


def lookback(session_id: int, points: Iterable[Point], sessions: Iterable[Slot]) -> list[int]:
    """The ids of the points the session's look-back shows, in the order given."""
    slots = list(sessions)
    return [p.id for p in points if session_id in shown_on(p, slots)]


def reminder_due(due_on: date, today: date, done: bool, days: int = REMINDER_DAYS) -> bool:
    """Whether the owner gets the reminder today: open, and within ``days`` before the
    date (up to the date itself, so a run that missed a day still sends it)."""
    return not done and due_on - timedelta(days=days) <= today <= due_on
