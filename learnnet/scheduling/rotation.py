"""The host rotation planner. Pure: plain data in, a plan out; no Flask, no database.

Rules, among the network's members that are willing to host and members on the date:

* hard: a facility is never planned on a date it is unavailable (closed, no room);
* FAIRNESS: nobody hosts again while an eligible member (willing, room fits) has hosted
  fewer times — counted over the network's whole history, not only this series;
* CONSECUTIVE: no facility hosts two sessions in a row;
* CAPACITY: the host's room holds the expected attendance (unknown capacity fits);
* among equals: least recently hosted first (never hosted before anyone), then by name
  and id, so the same input always gives the same plan.

When no free member satisfies every rule, the planner takes the one that breaks the
fewest rules (ties: fairness before consecutive before capacity) and marks what it
broke. A date is skipped — with its reason — when it is a public holiday, in a blackout
period, already has a session, was dropped by the facilitator, or no member is free.
"""

from __future__ import annotations

import bisect
import heapq
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from learnnet.scheduling.recurrence import (
    DATES,
    HORIZON_DAYS,
    MAX_SESSIONS,
    Pattern,
    candidate_dates,
)

FAIRNESS = "fairness"
CONSECUTIVE = "consecutive"
CAPACITY = "capacity"
UNAVAILABLE = "unavailable"  # only for a host the facilitator fixed on a date it is not free
RULE_WEIGHT = {FAIRNESS: 1, CONSECUTIVE: 2, CAPACITY: 3, UNAVAILABLE: 10}

SKIP_PAST = "past"
SKIP_DROPPED = "dropped"
SKIP_HOLIDAY = "holiday"
SKIP_BLACKOUT = "blackout"
SKIP_TAKEN = "taken"
SKIP_NO_HOST = "no_host"
SKIP_TOO_FAR = "too_far"

REASON_NEVER = "never_hosted"
REASON_LAST = "last_hosted"
REASON_CHOSEN = "chosen"
REASON_PLANNED_ONLY = "planned_only"  # has turns, but all of them after this date


class PlanningError(ValueError):
    """The request itself is invalid; ``code`` names what (the web layer words it)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Period:
    """An inclusive range of days, e.g. a school holiday or a closed week."""

    start: date
    end: date
    label: str = ""

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end


@dataclass(frozen=True)
class Member:
    """A member facility as the planner sees it."""

    id: int
    name: str
    capacity: int | None = None
    willing: bool = True
    joined_on: date | None = None
    left_on: date | None = None
    unavailable: tuple[Period, ...] = ()

    def is_member_on(self, day: date) -> bool:
        """True when the membership covers the day."""
        if self.joined_on is not None and day < self.joined_on:
            return False
        return self.left_on is None or day <= self.left_on

    def is_free_on(self, day: date) -> bool:
        """True when no unavailability period covers the day."""
        return not any(day in period for period in self.unavailable)

    def fits(self, expected: int | None) -> bool:
        """True when the room holds the expected attendance (unknown counts as fitting)."""
        return expected is None or self.capacity is None or self.capacity >= expected


@dataclass(frozen=True)
class Hosting:
    """A session already in the network's history (held, planned or confirmed)."""

    facility_id: int
    day: date


@dataclass(frozen=True)
class Request:
    """Everything the planner needs."""

    members: tuple[Member, ...]
    pattern: Pattern
    today: date
    count: int | None = None
    until: date | None = None
    history: tuple[Hosting, ...] = ()
    expected_attendance: int | None = None
    holidays: Mapping[date, str] = field(default_factory=dict)
    blackouts: tuple[Period, ...] = ()
    fixed_hosts: Mapping[date, int] = field(default_factory=dict)
    dropped: frozenset[date] = frozenset()
    extra_dates: tuple[date, ...] = ()


@dataclass(frozen=True)
class Reason:
    """Why a host was chosen: never hosted, hosted last on ``day`` (``count`` times), chosen."""

    code: str
    day: date | None = None
    count: int = 0


@dataclass(frozen=True)
class Assignment:
    """A planned session: its date, host, why, and which rules it breaks."""

    day: date
    facility_id: int
    reason: Reason
    broken: tuple[str, ...] = ()
    fixed: bool = False


@dataclass(frozen=True)
class Skip:
    """A date of the pattern left out, and why (``detail``: holiday name, period label)."""

    day: date
    code: str
    detail: str = ""


@dataclass
class Plan:
    """The outcome: assignments and skipped dates, both in date order.

    ``truncated`` is set when a last date (or a list of dates) asked for more than
    MAX_SESSIONS sessions: only the first MAX_SESSIONS are planned.
    """

    assignments: list[Assignment]
    skipped: list[Skip]
    truncated: bool = False

    @property
    def broken_count(self) -> int:
        """Number of rule breaks over the whole plan."""
        return sum(len(a.broken) for a in self.assignments)

    @property
    def complete(self) -> bool:
        """True when every rule holds for every session."""
        return self.broken_count == 0


def validate(request: Request) -> None:
    """Refuse requests that cannot give a sensible plan."""
    if request.count is None and request.until is None and request.pattern.kind != DATES:
        raise PlanningError("no_limit")
    if request.count is not None and not 1 <= request.count <= MAX_SESSIONS:
        raise PlanningError("count_range")
    if request.until is not None and request.until < request.pattern.start:
        raise PlanningError("until_before_start")
    if request.pattern.start < request.today:
        raise PlanningError("start_in_past")
    if not any(m.willing for m in request.members):
        raise PlanningError("no_host")


def _dates(request: Request) -> Iterator[date]:
    extras = sorted(set(request.extra_dates))
    previous = None
    for day in heapq.merge(candidate_dates(request.pattern), extras):
        if day != previous:
            yield day
        previous = day


def broken_rules(
    member: Member,
    day: date,
    counts: Mapping[int, int],
    baseline: int,
    previous_host: int | None,
    expected: int | None,
    next_host: int | None = None,
) -> tuple[str, ...]:
    """The soft rules hosting ``member`` on ``day`` would break, given the counts so far.

    ``previous_host`` and ``next_host`` host the sessions just before and just after the
    day (a new season may be planned between sessions that are already planned).
    """
    broken = []
    if counts.get(member.id, 0) > baseline:
        broken.append(FAIRNESS)
    if member.id in (previous_host, next_host):
        broken.append(CONSECUTIVE)
    if not member.fits(expected):
        broken.append(CAPACITY)
    if not member.is_free_on(day):
        broken.append(UNAVAILABLE)
    return tuple(broken)


def fairness_baseline(
    members: Iterable[Member], day: date, counts: Mapping[int, int], expected: int | None
) -> int:
    """The fewest times any eligible member (willing, member on the day, room fits) hosted."""
    eligible = [
        counts.get(m.id, 0)
        for m in members
        if m.willing and m.is_member_on(day) and m.fits(expected)
    ]
    if not eligible:  # nobody fits: compare among all willing members
        eligible = [counts.get(m.id, 0) for m in members if m.willing and m.is_member_on(day)]
    return min(eligible, default=0)


def plan(request: Request) -> Plan:
    """Plan the series; see the module docstring for the rules."""
    validate(request)
    members = sorted(request.members, key=lambda m: (m.name.casefold(), m.id))
    by_id = {m.id: m for m in members}
    counts: Counter[int] = Counter(h.facility_id for h in request.history)
    # Per facility, the days it hosts (held or planned), sorted.
    days_of: dict[int, list[date]] = {}
    for h in sorted(request.history, key=lambda h: h.day):
        days_of.setdefault(h.facility_id, []).append(h.day)
    taken = {h.day for h in request.history}
    # Hosts in date order, to find the sessions just before and after a date.
    timeline = sorted((h.day, h.facility_id) for h in request.history)
    limit = min(request.count or MAX_SESSIONS, MAX_SESSIONS)

    def last_before(facility_id: int, day: date) -> date | None:
        days = days_of.get(facility_id, [])
        index = bisect.bisect_left(days, day)
        return days[index - 1] if index else None

    assignments: list[Assignment] = []
    skipped: list[Skip] = []
    truncated = False
    for day in _dates(request):
        if request.until is not None and day > request.until:
            break
        if len(assignments) >= limit:
            truncated = request.count is None
            break
        skip = _skip_reason(request, day, taken)
        if skip is not None:
            skipped.append(skip)
            continue
        previous_host, next_host = _neighbours(timeline, day)
        expected = request.expected_attendance
        baseline = fairness_baseline(members, day, counts, expected)
        fixed = by_id.get(request.fixed_hosts.get(day, -1))
        if fixed is not None and fixed.is_member_on(day):
            chosen = fixed
            broken = broken_rules(chosen, day, counts, baseline, previous_host, expected, next_host)
            reason = Reason(REASON_CHOSEN, last_before(chosen.id, day), counts[chosen.id])
            is_fixed = True
        else:
            candidates = [
                m for m in members if m.willing and m.is_member_on(day) and m.is_free_on(day)
            ]
            if not candidates:
                skipped.append(Skip(day, SKIP_NO_HOST))
                continue
            scored = [
                (broken_rules(m, day, counts, baseline, previous_host, expected, next_host), m)
                for m in candidates
            ]
            broken, chosen = min(
                scored,
                key=lambda item: (
                    len(item[0]),
                    sum(RULE_WEIGHT[r] for r in item[0]),
                    counts[item[1].id],
                    last_before(item[1].id, day) or date.min,
                    item[1].name.casefold(),
                    item[1].id,
                ),
            )
            reason = _reason(counts[chosen.id], last_before(chosen.id, day))
            is_fixed = False
        assignments.append(Assignment(day, chosen.id, reason, broken, is_fixed))
        counts[chosen.id] += 1
        bisect.insort(days_of.setdefault(chosen.id, []), day)
        taken.add(day)
        bisect.insort(timeline, (day, chosen.id))
    return Plan(assignments=assignments, skipped=skipped, truncated=truncated)


def _reason(count: int, last: date | None) -> Reason:
    if count == 0:
        return Reason(REASON_NEVER)
    if last is None:
        return Reason(REASON_PLANNED_ONLY, None, count)
    return Reason(REASON_LAST, last, count)


def _neighbours(timeline: list[tuple[date, int]], day: date) -> tuple[int | None, int | None]:
    """Hosts of the sessions just before and just after ``day``."""
    before = bisect.bisect_left(timeline, (day, -1))
    after = bisect.bisect_right(timeline, (day, 2**63))
    return (
        timeline[before - 1][1] if before else None,
        timeline[after][1] if after < len(timeline) else None,
    )


def _skip_reason(request: Request, day: date, taken: set[date]) -> Skip | None:
    if day < request.today:
        return Skip(day, SKIP_PAST)
    if day > request.today + timedelta(days=HORIZON_DAYS):
        return Skip(day, SKIP_TOO_FAR)
    if day in request.dropped:
        return Skip(day, SKIP_DROPPED)
    if day in request.holidays:
        return Skip(day, SKIP_HOLIDAY, request.holidays[day])
    for period in request.blackouts:
        if day in period:
            return Skip(day, SKIP_BLACKOUT, period.label)
    if day in taken:
        return Skip(day, SKIP_TAKEN)
    return None


def next_in_line(
    members: Iterable[Member], history: Iterable[Hosting], day: date, expected: int | None = None
) -> list[Member]:
    """Willing members in the order the planner would pick them on ``day`` (ignoring breaks)."""
    history = list(history)
    counts = Counter(h.facility_id for h in history)
    last: dict[int, date] = {}
    for h in history:
        last[h.facility_id] = max(h.day, last.get(h.facility_id, h.day))
    eligible = [m for m in members if m.willing and m.is_member_on(day)]
    return sorted(
        eligible,
        key=lambda m: (
            not m.fits(expected),
            counts[m.id],
            last.get(m.id, date.min),
            m.name.casefold(),
            m.id,
        ),
    )
