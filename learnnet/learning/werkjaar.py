"""A network's werkjaar at a glance: its sessions, the goals they served, who came, and
how many of the agreements made were done.

Pure: plain values in, plain values out; no Flask, no database.

Rules
-----
* A werkjaar runs from 1 September of ``start_year`` to 31 August of the next year
  (:func:`learnnet.attendance.rules.werkjaar_of`); a session belongs to the werkjaar
  of its local day.
* A **cancelled** session is listed (the facilitator wants to see the whole year) but
  counts nowhere: not in the goals served, not in the attendance sums.
* A session is **held** when it is not cancelled and its attendance was recorded or
  it has ended (the attendance room's definition). Only held sessions have an
  attendance figure; the others are still to come (or wait for their recording).
* A goal is **served** by every session (not cancelled) that names it, held or to
  come; a goal no session names is listed as not served yet.
* **Attendance of a held session**: the people recorded present (guests included, as
  the attendance report counts them), and the member facilities with at least one of
  them present, out of the facilities that were members on that day.
* The **share of agreements done** is done / all agreements made at the werkjaar's
  sessions (published minutes only); ``None`` when there is no minutes data at all, so
  that a page never shows a number it does not have.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from learnnet.attendance.rules import werkjaar_of

_YEAR = re.compile(r"([0-9]{4})(?:-([0-9]{4}))?")

FIRST_YEAR = 2000
LAST_YEAR = 2100


def start_year_of(day: date) -> int:
    """The year in which the werkjaar holding ``day`` began (September–August)."""
    return werkjaar_of(day)[0].year


def bounds(start_year: int) -> tuple[date, date]:
    """First and last day of the werkjaar that starts in September of ``start_year``."""
    return date(start_year, 9, 1), date(start_year + 1, 8, 31)


def label(start_year: int) -> str:
    """'2026–2027', with an en dash, as pages show it."""
    return f"{start_year}–{start_year + 1}"


def parse_year(raw: str | None, default: int) -> int:
    """The werkjaar a ``?jaar=`` value names: '2026' or '2026-2027' (its start year);
    anything else, or a year outside 2000–2100, is ``default``."""
    found = _YEAR.fullmatch((raw or "").strip())
    if found is None:
        return default
    year = int(found.group(1))
    if found.group(2) and int(found.group(2)) != year + 1:
        return default
    return year if FIRST_YEAR <= year <= LAST_YEAR else default


def year_choices(known: Iterable[int], current: int) -> list[int]:
    """The werkjaren to offer, newest first: those with sessions or a theme, and the
    current one."""
    return sorted({*(y for y in known if FIRST_YEAR <= y <= LAST_YEAR), current}, reverse=True)


@dataclass(frozen=True)
class Goal:
    """A learning goal of the werkjaar's theme, in its order."""

    id: int
    text: str


@dataclass(frozen=True)
class YearSession:
    """One session of the werkjaar as the summary needs it.

    ``present_people``: people recorded present; ``present_facility_ids``: facilities
    with someone present; ``member_ids``: the facilities that were members that day.
    """

    id: int
    day: date
    host_name: str
    cancelled: bool
    held: bool
    goal_ids: tuple[int, ...] = ()
    present_people: int = 0
    present_facility_ids: frozenset[int] = frozenset()
    member_ids: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Agreement:
    """An action point agreed at a session of the werkjaar, done or not."""

    session_id: int
    done: bool


@dataclass(frozen=True)
class SessionLine:
    """A session's line in the werkjaar view."""

    session: YearSession
    goals: tuple[Goal, ...]
    facilities_present: int  # member facilities with someone present (held only)
    facilities_of: int  # member facilities that day
    agreements: int
    agreements_done: int


@dataclass(frozen=True)
class GoalLine:
    """A goal and the sessions (not cancelled) that serve it, in date order."""

    goal: Goal
    session_ids: tuple[int, ...]


@dataclass(frozen=True)
class Share:
    """Agreements done out of all agreements."""

    done: int
    total: int

    @property
    def percent(self) -> int | None:
        """Rounded percentage; None without agreements."""
        return round(100 * self.done / self.total) if self.total else None


@dataclass(frozen=True)
class YearSummary:
    """Everything the werkjaar view shows; see the module docstring."""

    lines: tuple[SessionLine, ...]
    goals: tuple[GoalLine, ...]
    held: int
    people: int  # people present over the held sessions
    without_goal: int  # sessions (not cancelled) that name no goal
    agreements: Share | None = None

    @property
    def average_people(self) -> float | None:
        """People present per held session; None before the first."""
        return self.people / self.held if self.held else None


def summarise(
    sessions: Sequence[YearSession],
    goals: Sequence[Goal],
    agreements: Sequence[Agreement] | None = None,
) -> YearSummary:
    """The werkjaar view's figures from its sessions, its goals and (when the minutes
    exist at all) the agreements made at its sessions."""
    by_id = {g.id: g for g in goals}
    ordered = sorted(sessions, key=lambda s: (s.day, s.id))
    made: dict[int, int] = {}
    done: dict[int, int] = {}
    for a in agreements or ():
        made[a.session_id] = made.get(a.session_id, 0) + 1
        done[a.session_id] = done.get(a.session_id, 0) + int(a.done)
    lines = []
    served: dict[int, list[int]] = {g.id: [] for g in goals}
    for s in ordered:
        named = tuple(by_id[g] for g in s.goal_ids if g in by_id)
        if not s.cancelled:
            for g in named:
                served[g.id].append(s.id)
        counted = s.held and not s.cancelled
        lines.append(
            SessionLine(
                session=s,
                goals=named,
                facilities_present=len(s.present_facility_ids & s.member_ids) if counted else 0,
                facilities_of=len(s.member_ids),
                agreements=made.get(s.id, 0),
                agreements_done=done.get(s.id, 0),
            )
        )
    held = [s for s in ordered if s.held and not s.cancelled]
    share = None
    if agreements is not None:
        share = Share(done=sum(int(a.done) for a in agreements), total=len(agreements))
    return YearSummary(
        lines=tuple(lines),
        goals=tuple(GoalLine(g, tuple(served[g.id])) for g in goals),
        held=len(held),
        people=sum(s.present_people for s in held),
        without_goal=sum(
            1 for s in ordered if not s.cancelled and not any(g in by_id for g in s.goal_ids)
        ),
        agreements=share,
    )
