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
from datetime import date

from learnnet.scheduling.recurrence import MAX_SESSIONS, Pattern, candidate_dates

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

REASON_NEVER = "never_hosted"
REASON_LAST = "last_hosted"
REASON_CHOSEN = "chosen"


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
    """The outcome: assignments and skipped dates, both in date order."""

    assignments: list[Assignment]
    skipped: list[Skip]

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
    if request.count is None and request.until is None:
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
) -> tuple[str, ...]:
    """The soft rules hosting ``member`` on ``day`` would break, given the counts so far."""
    broken = []
    if counts.get(member.id, 0) > baseline:
        broken.append(FAIRNESS)
    if previous_host == member.id:
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
    last: dict[int, date] = {}
    for h in request.history:
        if h.facility_id not in last or h.day > last[h.facility_id]:
            last[h.facility_id] = h.day
    taken = {h.day for h in request.history}
    # Hosts in date order, to find the session just before a date.
    timeline = sorted((h.day, h.facility_id) for h in request.history)

    assignments: list[Assignment] = []
    skipped: list[Skip] = []
    for day in _dates(request):
        if request.until is not None and day > request.until:
            break
        if request.count is not None and len(assignments) >= request.count:
            break
        skip = _skip_reason(request, day, taken)
        if skip is not None:
            skipped.append(skip)
            continue
        previous_host = _previous_host(timeline, day)
        baseline = fairness_baseline(members, day, counts, request.expected_attendance)
        fixed_id = request.fixed_hosts.get(day)
        if fixed_id in by_id:
            chosen = by_id[fixed_id]
            broken = broken_rules(
                chosen, day, counts, baseline, previous_host, request.expected_attendance
            )
            reason = Reason(REASON_CHOSEN, last.get(chosen.id), counts[chosen.id])
            fixed = True
        else:
            candidates = [
                m for m in members if m.willing and m.is_member_on(day) and m.is_free_on(day)
            ]
            if not candidates:
                skipped.append(Skip(day, SKIP_NO_HOST))
                continue
            scored = [
                (
                    broken_rules(
                        m, day, counts, baseline, previous_host, request.expected_attendance
                    ),
                    m,
                )
                for m in candidates
            ]
            broken, chosen = min(
                scored,
                key=lambda item: (
                    len(item[0]),
                    sum(RULE_WEIGHT[r] for r in item[0]),
                    counts[item[1].id],
                    last.get(item[1].id, date.min),
                    item[1].name.casefold(),
                    item[1].id,
                ),
            )
            count = counts[chosen.id]
            reason = (
                Reason(REASON_NEVER) if count == 0 else Reason(REASON_LAST, last[chosen.id], count)
            )
            fixed = False
        assignments.append(Assignment(day, chosen.id, reason, broken, fixed))
        counts[chosen.id] += 1
        last[chosen.id] = max(day, last.get(chosen.id, day))
        taken.add(day)
        bisect.insort(timeline, (day, chosen.id))
    return Plan(assignments=assignments, skipped=skipped)


def _previous_host(timeline: list[tuple[date, int]], day: date) -> int | None:
    index = bisect.bisect_left(timeline, (day, -1))
    return timeline[index - 1][1] if index else None


def _skip_reason(request: Request, day: date, taken: set[date]) -> Skip | None:
    if day < request.today:
        return Skip(day, SKIP_PAST)
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
