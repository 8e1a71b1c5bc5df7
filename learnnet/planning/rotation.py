"""The host rotation planner. Pure: plain data in, a plan out; no Flask, no database.

**Who takes turns.** A member *takes turns* on a date when it is a member that day, is
willing to host, has an active contact person (someone must confirm), and its room
holds the expected attendance (an unknown capacity counts as fitting).

**Rounds.** Hosting goes in rounds. A round ends the moment every member that takes
turns at that moment has hosted once in it — after a session, or on the day who takes
turns changes, between sessions (a member that had not hosted yet leaves: from the day
after its last day the round has ended) — and the next round starts. A member that joins
takes part in the round that is running on its first day: it is owed one turn in it, not
the turns of the rounds before it joined (a round that ended before it joined stays
ended). A member that leaves, or stops taking turns, is no longer waited for. Someone who
had to host twice in one round keeps that extra turn: it counts in the next round. Held
and planned sessions count, in date order.

**The queue** on a date orders the members that can host that day (willing, members,
free; or the host the facilitator fixed): the fewest turns in the running round first,
then the least recently hosted, then by name (ignoring case) and id (:func:`queue_key`).

Rules, for each new session:

* hard: a facility is never planned on a date it is unavailable, or when it is not a
  member or not willing. A facility that answered "kan niet" for a date in the season
  poll (``Request.cannot_come``) is unavailable that day, exactly like a closed day. A
  host the facilitator fixed on a date is kept when it is a member that day, with the
  break marked: UNAVAILABLE (closed, or cannot come, that day), NOT_WILLING (does not
  host);
* CONTACT: the host has an active contact person to confirm;
* CAPACITY: the host's room holds the expected attendance;
* CONSECUTIVE: the host differs from the host of the session just before it, and from a
  session already planned just after it;
* FAIRNESS: the host has hosted in this round already while a member that takes turns
  still has to (so never on a day nobody takes turns).

And one preference, weighed after every rule: NOT_OFFERED, the host did not offer to
host on this date ("wij kunnen ontvangen" in the poll, ``Request.offers``) while at least
one facility did. On a date nobody offered there is no preference. It is no rule: it is
never in :attr:`Assignment.broken` and does not make a plan incomplete;
:attr:`Assignment.offered` tells it per session (True: the host offered; False: another
facility did, not the host; None: nobody did).

**The best plan.** The planner searches the whole series for the plan that breaks the
rules least, in order of priority: first the fewest hosts nobody can confirm for, then
the fewest rooms too small, then the fewest hosts twice in a row, then the fewest turns
out of order (one room too small weighs more than any number of turns out of order;
the breaks of fixed hosts come first, but the search cannot change them), and then the
fewest hosts on a date they did not offer (NOT_OFFERED: one turn out of order weighs
more than any number of those; a fixed host that did not offer counts too). That is the
cost (:data:`COST_ORDER`, :attr:`Plan.cost`). Among equally good plans it follows the
queue date by date: after the cost, plans compare by each host's place in the queue on
its date (:attr:`Assignment.queue_position`), at the first date where two plans differ
(:attr:`Plan.order`). So exactly one plan is best, and the same input always gives the
same plan.

The search is a branch and bound over the dates in order, probing in limited-discrepancy
order (the queue's plan first, then plans that depart from it once, twice, …). Each
choice looks ahead: a host whose turn now leaves some of the next dates of this round
without a free member still owed a turn is tried after one that does not (a bipartite
matching), and among equally good ones, one that leaves the later dates of the round
the most hosts that offered first. A path is cut when it cannot beat the best plan
found: its cost so far plus a lower bound for the rest, the least each later date costs
whoever hosts it, plus, with offers, the dates of each round that distinct members owed
a turn cannot all cover with an offer (a matching; see ``_Search._offer_bound``).
Members that are interchangeable for the rest of the series (same turns, same free
dates, same offers, no planned sessions of their own ahead) are tried once. The search
stops at a plan that reaches the lower bound and that no plan as cheap precedes in the
queue, or when every option has been tried, which it does for small networks; large
ones stop after :data:`SEARCH_BUDGET` units of work (deterministic) with the best plan
found.

A date is skipped — with its reason — when it has passed, is too far ahead, was dropped
by the facilitator, is a public holiday, falls in a school holiday the request applies
(``school_holidays``: the caller decides which), falls in a blackout period, already has
a session, or no member is free (closed or unable to come, every one).
"""

from __future__ import annotations

import heapq
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, timedelta
from typing import Any

from learnnet.planning.recurrence import (
    DATES,
    HORIZON_DAYS,
    MAX_SESSIONS,
    Pattern,
    candidate_dates,
)

FAIRNESS = "fairness"
CONSECUTIVE = "consecutive"
CAPACITY = "capacity"
CONTACT = "contact"
# Only for a host the facilitator fixed: on a date it is not free, or while it does not host.
NOT_WILLING = "not_willing"
UNAVAILABLE = "unavailable"
# A preference, not a rule: the host did not offer to host on a date where some facility
# did (the season poll's "wij kunnen ontvangen"). Never in Assignment.broken.
NOT_OFFERED = "not_offered"
# The rules, most important first; plans compare rule by rule (one room too small weighs
# more than any number of turns out of order).
PRIORITY = (UNAVAILABLE, NOT_WILLING, CONTACT, CAPACITY, CONSECUTIVE, FAIRNESS)
# A plan's cost: the breaks of each rule in PRIORITY, then the hosts on a date they did
# not offer (one turn out of order weighs more than any number of those).
COST_ORDER = (*PRIORITY, NOT_OFFERED)
_RANK = {rule: i for i, rule in enumerate(COST_ORDER)}
NO_COST = (0,) * len(COST_ORDER)
Cost = tuple[int, ...]
DAY = timedelta(days=1)

SKIP_PAST = "past"
SKIP_DROPPED = "dropped"
SKIP_HOLIDAY = "holiday"
SKIP_SCHOOL_HOLIDAY = "school_holiday"
SKIP_BLACKOUT = "blackout"
SKIP_TAKEN = "taken"
SKIP_NO_HOST = "no_host"
SKIP_TOO_FAR = "too_far"

REASON_NEVER = "never_hosted"
REASON_LAST = "last_hosted"
REASON_CHOSEN = "chosen"
REASON_PLANNED_ONLY = "planned_only"  # has not hosted; its turns are all after this date

# Why a current member gets no turn in a plan (see :func:`passed_over`).
PASSED_NOT_WILLING = "not_willing"
PASSED_NO_CONTACT = "no_contact"
PASSED_TOO_SMALL = "too_small"
PASSED_CLOSED = "closed"
PASSED_HAD_TURN = "had_turn"  # hosted in this round already: nothing wrong
PASSED_LEAVES = "leaves"  # its membership ends before its turn: nothing wrong
PASSED_LATER = "later"  # its turn comes after this series: nothing wrong
PASSED_PROBLEMS = (PASSED_NOT_WILLING, PASSED_NO_CONTACT, PASSED_TOO_SMALL, PASSED_CLOSED)

# Problems of a planned session after a change (see :func:`conflicts`).
CONFLICT_UNAVAILABLE = "unavailable"
CONFLICT_BLACKOUT = "blackout"
CONFLICT_NOT_WILLING = "not_willing"
CONFLICT_NOT_MEMBER = "not_member"
CONFLICT_NO_CONTACT = "no_contact"
CONFLICT_TOO_SMALL = "too_small"
CONFLICT_DECLINED = "declined"  # the host said it cannot host this session

SEARCH_BUDGET = 150_000
LOOK_AHEAD_SLOTS = 12
LOOK_AHEAD_OPTIONS = 6


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
    has_contact: bool = True

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

    def takes_turns(self, expected: int | None) -> bool:
        """Willing, someone to confirm, and a room that fits: owed a turn in every round."""
        return self.willing and self.has_contact and self.fits(expected)


@dataclass(frozen=True)
class _Polled(Member):
    """A member with the dates it cannot come in the season poll: closed days to the planner."""

    closed_days: frozenset[date] = frozenset()

    def is_free_on(self, day: date) -> bool:
        """True when the member did not say it cannot come and is not closed on the day."""
        return day not in self.closed_days and super().is_free_on(day)


def _with_poll(request: Request) -> list[Member]:
    """The request's members, each with its "kan niet" dates of the poll as closed days."""
    out: list[Member] = []
    for m in request.members:
        closed = request.cannot_come.get(m.id)
        if closed:
            values = {f.name: getattr(m, f.name) for f in fields(Member)}
            m = _Polled(**values, closed_days=frozenset(closed))
        out.append(m)
    return out


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
    school_holidays: tuple[Period, ...] = ()  # applied ones; the label is the caller's key
    fixed_hosts: Mapping[date, int] = field(default_factory=dict)
    dropped: frozenset[date] = frozenset()
    extra_dates: tuple[date, ...] = ()
    # The season poll's answers, by facility id: the dates it cannot come ("kan niet": never
    # planned as host there, like a closed day) and the dates it offered to host.
    cannot_come: Mapping[int, frozenset[date]] = field(default_factory=dict)
    offers: Mapping[int, frozenset[date]] = field(default_factory=dict)


@dataclass(frozen=True)
class Reason:
    """Why a host was chosen: never hosted, hosted last on ``day`` (``count`` times), chosen."""

    code: str
    day: date | None = None
    count: int = 0


@dataclass(frozen=True)
class Assignment:
    """A planned session: its date, host, why, which rules it breaks, and the host's place
    in the queue on that date (0: first in line; see :func:`queue_key`).

    ``offered`` tells the poll's offers on the date: True when the host offered to host,
    False when some facility offered but not the host (the NOT_OFFERED preference, which
    is no broken rule), None when nobody offered.
    """

    day: date
    facility_id: int
    reason: Reason
    broken: tuple[str, ...] = ()
    fixed: bool = False
    queue_position: int = 0
    offered: bool | None = None


@dataclass(frozen=True)
class Skip:
    """A date of the pattern left out, and why (``detail``: holiday name, period label)."""

    day: date
    code: str
    detail: str = ""


@dataclass(frozen=True)
class PassedOver:
    """A current member without a turn in the plan, and why (see ``PASSED_*``)."""

    facility_id: int
    code: str

    @property
    def is_problem(self) -> bool:
        """True when the member cannot get a turn, as opposed to waiting for it."""
        return self.code in PASSED_PROBLEMS


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
        """Number of rule breaks over the whole plan (a session breaking two counts two)."""
        return sum(len(a.broken) for a in self.assignments)

    @property
    def cost(self) -> Cost:
        """The breaks of each rule, most important first, then the hosts on a date they
        did not offer (see :data:`COST_ORDER`)."""
        counts = list(_cost(a.broken for a in self.assignments))
        counts[_RANK[NOT_OFFERED]] = sum(1 for a in self.assignments if a.offered is False)
        return tuple(counts)

    @property
    def order(self) -> tuple[Cost, tuple[int, ...]]:
        """What the search minimises: the cost, then the queue positions date by date."""
        return self.cost, tuple(a.queue_position for a in self.assignments)

    @property
    def complete(self) -> bool:
        """True when every rule holds for every session (offers are a preference only)."""
        return self.broken_count == 0


def _cost(broken: Iterable[tuple[str, ...]]) -> Cost:
    counts = [0] * len(COST_ORDER)
    for rules in broken:
        for rule in rules:
            counts[_RANK[rule]] += 1
    return tuple(counts)


def _add(a: Cost, b: Cost) -> Cost:
    return tuple(x + y for x, y in zip(a, b, strict=True))


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


# --- rounds -----------------------------------------------------------------------------------


def turn_takers(members: Iterable[Member], day: date, expected: int | None) -> frozenset[int]:
    """Ids of the members owed a turn in a round running on ``day``.

    When no member takes turns (every room too small, say), rounds run among the willing
    members, so that fairness still means something.
    """
    members = list(members)
    takers = frozenset(m.id for m in members if m.is_member_on(day) and m.takes_turns(expected))
    return takers or frozenset(m.id for m in members if m.is_member_on(day) and m.willing)


def takers_by_day(members: list[Member], expected: int | None) -> Callable[[date], frozenset[int]]:
    """``turn_takers`` for many days of one network, worked out once per membership period.

    Who is a member changes only on a joining day and the day after a leaving day: two
    days with as many of each before them have the same members, so the same takers. A
    history of hundreds of sessions then costs a look-up per session, not a pass over
    every member.
    """
    joined = sorted(m.joined_on for m in members if m.joined_on is not None)
    left = sorted(m.left_on for m in members if m.left_on is not None)
    found: dict[tuple[int, int], frozenset[int]] = {}

    def takers(day: date) -> frozenset[int]:
        period = (bisect_right(joined, day), bisect_left(left, day))
        known = found.get(period)
        if known is None:
            known = found[period] = turn_takers(members, day, expected)
        return known

    return takers


def _close_rounds(turns: dict[int, int], takers: frozenset[int]) -> int:
    """End the round while everyone owed a turn has had it; returns how many rounds ended."""
    closed = 0
    # Turns are never negative, so "at least one" is "truthy" (a missing key gives None):
    # map() runs in C, a generator was most of a timeline's rotation time.
    while takers and all(map(turns.get, takers)):
        for key, value in turns.items():
            if value:
                turns[key] = value - 1
        closed += 1
    return closed


def change_days(members: Iterable[Member]) -> list[date]:
    """The days on which who is a member changes: joining days, the day after a leaving day."""
    days = {m.joined_on for m in members if m.joined_on is not None}
    days |= {m.left_on + DAY for m in members if m.left_on is not None and m.left_on < date.max}
    return sorted(days)


@dataclass
class _State:
    """The rotation while it is replayed: turns in the running round, last hosting days,
    the previous host, the day reached and the rounds completed."""

    turns: dict[int, int]
    last: dict[int, date]
    previous: int | None
    day: date | None = None
    completed: int = 0

    def copy(self) -> _State:
        return _State(dict(self.turns), dict(self.last), self.previous, self.day, self.completed)


class _Clock:
    """Moves a rotation state through time, ending rounds the moment they end.

    A round ends as soon as everyone taking turns has hosted in it: after a session, and
    also on a day when who takes turns changes (a member leaves, say) between sessions.
    """

    def __init__(self, members: list[Member], expected: int | None) -> None:
        self.takers = takers_by_day(members, expected)
        self.changes = change_days(members)

    def advance(self, state: _State, day: date) -> None:
        """Bring the state to ``day``: the rounds ended on every change of members since."""
        if state.day == day:
            return
        changes = self.changes
        low = 0 if state.day is None else bisect_right(changes, state.day)
        for change in changes[low : bisect_right(changes, day)]:
            state.completed += _close_rounds(state.turns, self.takers(change))
        state.completed += _close_rounds(state.turns, self.takers(day))
        state.day = day

    def host(self, state: _State, facility_id: int, day: date) -> None:
        """Record a hosting on ``day`` (rounds end before and after it)."""
        self.advance(state, day)
        state.turns[facility_id] = state.turns.get(facility_id, 0) + 1
        state.last[facility_id] = day
        state.previous = facility_id
        state.completed += _close_rounds(state.turns, self.takers(day))


@dataclass
class Rounds:
    """Where the rotation stands on a day: turns taken in the running round, rounds done."""

    turns: dict[int, int]
    completed: int
    takers: frozenset[int]
    last: dict[int, date]

    @property
    def to_come(self) -> frozenset[int]:
        """Members still owed a turn in the running round."""
        return frozenset(i for i in self.takers if self.turns.get(i, 0) == 0)

    @property
    def hosted(self) -> frozenset[int]:
        """Members that had their turn in the running round."""
        return frozenset(i for i in self.takers if self.turns.get(i, 0) > 0)


def rounds_on(
    members: Iterable[Member], history: Iterable[Hosting], day: date, expected: int | None
) -> Rounds:
    """The rotation's state on ``day``, counting the sessions before it (and on it)."""
    members = list(members)
    clock = _Clock(members, expected)
    state = _State({}, {}, None)
    for hosting in sorted(history, key=lambda h: (h.day, h.facility_id)):
        if hosting.day > day:
            break
        clock.host(state, hosting.facility_id, hosting.day)
    clock.advance(state, day)
    return Rounds(state.turns, state.completed, clock.takers(day), state.last)


def queue_key(
    member: Member, turns: Mapping[int, int], last: Mapping[int, date]
) -> tuple[int, date, str, int]:
    """A member's place in the queue: fewest turns this round, least recently hosted, then
    by name (ignoring case) and id."""
    return (
        turns.get(member.id, 0),
        last.get(member.id, date.min),
        member.name.casefold(),
        member.id,
    )


def next_in_line(
    members: Iterable[Member], history: Iterable[Hosting], day: date, expected: int | None = None
) -> list[Member]:
    """Willing members in the order the planner would pick them on ``day`` (ignoring breaks):
    members that take turns first, then the queue (see :func:`queue_key`)."""
    members = list(members)
    state = rounds_on(members, history, day, expected)
    eligible = [m for m in members if m.willing and m.is_member_on(day)]
    return sorted(
        eligible,
        key=lambda m: (not m.takes_turns(expected), *queue_key(m, state.turns, state.last)),
    )


# --- planning ---------------------------------------------------------------------------------


def broken_rules(
    member: Member,
    day: date,
    turns: Mapping[int, int],
    takers: Iterable[int],
    previous_host: int | None,
    expected: int | None,
    next_host: int | None = None,
) -> tuple[str, ...]:
    """The rules hosting ``member`` on ``day`` breaks, given the turns of the running round.

    ``previous_host`` hosts the session just before the day, ``next_host`` an already
    planned session just after it (None when a new session of this plan comes first).
    """
    return _broken(
        member,
        day,
        _unfair(member.id, turns, takers),
        member.id in (previous_host, next_host),
        expected,
    )


def _unfair(member_id: int, turns: Mapping[int, int], takers: Iterable[int]) -> bool:
    """True when the member hosted in this round while someone taking turns still has to."""
    mine = turns.get(member_id, 0)
    return any(turns.get(i, 0) < mine for i in takers)


@dataclass
class _Slot:
    """A date to plan, with what is known about it before the search."""

    day: date
    candidates: list[Member]
    takers: frozenset[int]
    fixed: bool
    history_before: list[Hosting]  # already planned sessions between the previous slot and this
    next_history_host: int | None  # an already planned session right after (no new one between)


def plan(request: Request) -> Plan:
    """Plan the series; see the module docstring for the rules and the search."""
    validate(request)
    members = sorted(_with_poll(request), key=lambda m: (m.name.casefold(), m.id))
    by_id = {m.id: m for m in members}
    expected = request.expected_attendance
    history = sorted(request.history, key=lambda h: (h.day, h.facility_id))
    taken = {h.day for h in history}
    limit = min(request.count or MAX_SESSIONS, MAX_SESSIONS)

    days: list[date] = []
    fixed_on: dict[date, Member] = {}
    skipped: list[Skip] = []
    truncated = False
    for day in _dates(request):
        if request.until is not None and day > request.until:
            break
        if len(days) >= limit:
            truncated = request.count is None
            break
        skip = _skip_reason(request, day, taken)
        if skip is not None:
            skipped.append(skip)
            continue
        fixed = by_id.get(request.fixed_hosts.get(day, -1))
        if fixed is not None and fixed.is_member_on(day):
            fixed_on[day] = fixed
        elif not any(m.willing and m.is_member_on(day) and m.is_free_on(day) for m in members):
            skipped.append(Skip(day, SKIP_NO_HOST))
            continue
        days.append(day)

    clock = _Clock(members, expected)
    slots = _slots(days, members, history, fixed_on, clock)
    start = _State({}, {}, None)
    for hosting in _before(history, days[0] if days else None):
        clock.host(start, hosting.facility_id, hosting.day)
    offers = _Offers(request.offers)
    search = _Search(slots, members, expected, history, clock, offers)
    chosen = search.run(start)
    assignments = _assignments(slots, chosen, members, history, expected, clock, offers)
    return Plan(assignments=assignments, skipped=skipped, truncated=truncated)


class _Offers:
    """The poll's offers to host: who offered on which date, and the dates with an offer."""

    def __init__(self, offers: Mapping[int, Iterable[date]]) -> None:
        self.by_member = {i: frozenset(days) for i, days in offers.items() if days}
        self.days = frozenset(d for days in self.by_member.values() for d in days)

    def offered(self, facility_id: int, day: date) -> bool | None:
        """True: offered on the day; False: someone else did; None: nobody did."""
        if day not in self.days:
            return None
        return day in self.by_member.get(facility_id, ())


def _before(history: list[Hosting], first: date | None) -> list[Hosting]:
    if first is None:
        return []
    return [h for h in history if h.day < first]


def _slots(
    days: list[date],
    members: list[Member],
    history: list[Hosting],
    fixed_on: Mapping[date, Member],
    clock: _Clock,
) -> list[_Slot]:
    slots = []
    cursor = 0
    while cursor < len(history) and days and history[cursor].day < days[0]:
        cursor += 1
    for index, day in enumerate(days):
        between = []
        while cursor < len(history) and history[cursor].day < day:
            between.append(history[cursor])
            cursor += 1
        if index == 0:
            between = []  # applied before the search starts
        following = history[cursor] if cursor < len(history) else None
        next_day = days[index + 1] if index + 1 < len(days) else None
        next_history_host = (
            following.facility_id
            if following is not None and (next_day is None or following.day < next_day)
            else None
        )
        fixed = day in fixed_on
        candidates = (
            [fixed_on[day]]
            if fixed
            else [m for m in members if m.willing and m.is_member_on(day) and m.is_free_on(day)]
        )
        slots.append(
            _Slot(
                day=day,
                candidates=candidates,
                takers=clock.takers(day),
                fixed=fixed,
                history_before=between,
                next_history_host=next_history_host,
            )
        )
    return slots


def _positions(
    candidates: list[Member], turns: Mapping[int, int], last: Mapping[int, date]
) -> dict[int, int]:
    """Each candidate's place in the queue on a date (0: first in line)."""
    ordered = sorted(candidates, key=lambda m: queue_key(m, turns, last))
    return {m.id: position for position, m in enumerate(ordered)}


_WORST: tuple[Cost, list[int]] = ((1 << 30, *NO_COST[1:]), [])


class _Search:
    """Branch and bound over the slots, in limited-discrepancy order.

    Plans compare by their cost, then by the queue date by date (the queue positions of
    their hosts, compared at the first date where they differ). The first probe follows
    the option order (estimated cost, then the queue). Later probes allow 1, 2, …
    departures from the first option, anywhere in the series, so an early choice that
    causes a late break is revisited as soon as a late one. A path is cut as soon as it
    cannot beat the best plan found: its cost so far, plus the least each later date
    costs whoever hosts it (its *floor*: the cheapest candidate's breaks that do not
    depend on the path, and its offer), is higher, or as high with a host later in the
    queue at the first date where it differs. Members that are interchangeable for the
    rest of the series (same turns, same free dates, same offers, no role of their own
    later) are tried once. With offers, the bound adds the hosts that cannot have offered
    round by round (:meth:`_offer_bound`). The search ends at a plan no other can beat —
    it costs no more than the floors and takes, on every date, the first in the queue
    among the candidates at the floor, or :meth:`_proven` shows it reaches the lower bound
    with no host earlier in the queue able to — when every option has been tried, or after
    :data:`SEARCH_BUDGET` units of work (deterministic: the same input, the same plan).
    """

    def __init__(
        self,
        slots: list[_Slot],
        members: list[Member],
        expected: int | None,
        history: list[Hosting],
        clock: _Clock,
        offers: _Offers,
    ) -> None:
        self.slots = slots
        self.members = members
        self.expected = expected
        self.clock = clock
        self.best: list[int] | None = None
        self.best_order: tuple[Cost, list[int]] = _WORST
        self.best_detours = 0
        self.work = 0
        self.cut_by_discrepancy = False
        # Members with a role of their own later on (an already planned session, a fixed
        # date) are never treated as interchangeable with others.
        special = {h.facility_id for h in history if slots and h.day > slots[0].day}
        special |= {s.candidates[0].id for s in slots if s.fixed}
        free_mask: dict[int, int] = {}
        member_mask: dict[int, int] = {}
        offer_mask: dict[int, int] = {}
        for m in members:
            free = member = offer = 0
            for i, slot in enumerate(slots):
                if m.is_member_on(slot.day):
                    member |= 1 << i
                    if m.willing and m.is_free_on(slot.day):
                        free |= 1 << i
                        if offers.offered(m.id, slot.day):
                            offer |= 1 << i
            free_mask[m.id], member_mask[m.id], offer_mask[m.id] = free, member, offer
        self.free_mask = free_mask
        # Per slot and candidate, what does not depend on the path: the rules it breaks
        # whatever happens and its offer, and its signature for the rest of the series.
        self.prepared: list[list[tuple[Member, str, Cost, tuple[object, ...]]]] = []
        floors: list[Cost] = []
        not_offered = _RANK[NOT_OFFERED]
        for i, slot in enumerate(slots):
            rows = []
            for m in slot.candidates:
                static = _cost((_broken(m, slot.day, False, False, expected),))
                if offers.offered(m.id, slot.day) is False:
                    static = tuple(n + (k == not_offered) for k, n in enumerate(static))
                signature = (
                    free_mask[m.id] >> (i + 1),
                    member_mask[m.id] >> (i + 1),
                    offer_mask[m.id] >> (i + 1),
                    static,
                    m.id if m.id in special else None,
                )
                rows.append((m, m.name.casefold(), static, signature))
            self.prepared.append(rows)
            floors.append(min((row[2] for row in rows), default=NO_COST))
        self.floors = floors
        # rest[i]: the least the slots from i on cost, whatever the path (None: nothing).
        self.rest: list[Cost | None] = [None] * (len(slots) + 1)
        total = NO_COST
        for i in range(len(slots) - 1, -1, -1):
            total = _add(total, floors[i])
            self.rest[i] = total if any(total) else None
        self._prepare_offer_bound(offers, clock)

    def _prepare_offer_bound(self, offers: _Offers, clock: _Clock) -> None:
        """What :meth:`_offer_bound` needs, per slot: the candidates that break nothing and
        offered (none on a slot whose floor breaks a rule, or that is fixed), and where the
        stretch of such slots from it ends (``stretch``): the same members take turns on
        all of them, with no planned session or change of members between."""
        slots = self.slots
        count = len(slots)
        self.offering: list[frozenset[int]] = [frozenset()] * count
        self.stretch = list(range(count))
        self.offering_anywhere = bool(offers.days)
        if not offers.days:
            return
        rules = len(PRIORITY)
        plain = [
            not any(f[:rules]) and not s.fixed for f, s in zip(self.floors, slots, strict=True)
        ]
        for i, slot in enumerate(slots):
            if plain[i]:
                self.offering[i] = frozenset(
                    m.id
                    for m, _name, static, _signature in self.prepared[i]
                    if not any(static) and offers.offered(m.id, slot.day)
                )
        changes = clock.changes
        end = count
        for i in range(count - 1, -1, -1):
            if not plain[i]:
                end = i
            elif i + 1 < count and plain[i + 1]:
                later = slots[i + 1]
                if (
                    later.history_before
                    or later.takers != slots[i].takers
                    or bisect_right(changes, later.day) != bisect_right(changes, slots[i].day)
                ):
                    end = i + 1
            self.stretch[i] = end if plain[i] else i

    def _offer_bound(self, index: int, state: _State) -> int:
        """At least how many more hosts than the floors count will not have offered, in a
        plan from here that breaks no more rules than the floors.

        Such a plan takes on a stretch of slots at the floor only members that take turns,
        never one that hosted in the running round while another has not (fairness), so
        each round of the stretch goes to distinct members owed a turn in it: the round's
        slots where someone offered, minus a maximum matching between those slots and the
        members of the round that offered there, go to a host that did not. A plan that
        breaks more rules costs more whatever its offers, so this is a lower bound.
        """
        end = self.stretch[index]
        if end == index:
            return 0
        takers = self.slots[index].takers
        turns = {i: state.turns.get(i, 0) for i in takers}
        extra = 0
        start = index
        while start < end:
            owed = {i for i, n in turns.items() if n == 0}
            if not owed:
                break
            stop = min(start + len(owed), end)
            wanted = [j for j in range(start, stop) if self.offering[j]]
            if wanted:
                extra += len(wanted) - _matching([self.offering[j] & owed for j in wanted])
            self.work += len(turns) + 2
            for i in owed:
                turns[i] += 1
            while all(n >= 1 for n in turns.values()):
                for i in turns:
                    turns[i] -= 1
            start = stop
        return extra

    @property
    def best_cost(self) -> Cost:
        return self.best_order[0]

    def _perfect(self) -> bool:
        """True when no plan can beat the best one: it costs only the floors, and on every
        date its host is the first in the queue among the candidates at the floor (a plan
        as cheap takes only candidates at the floor, so it is behind in the queue at the
        first date where it differs); or :meth:`_proven` found so."""
        return self.proven or (
            self.best is not None
            and self.best_order[0] == (self.rest[0] or NO_COST)
            and not self.best_detours
        )

    def _enter(self, index: int, state: _State) -> None:
        """Bring the state to slot ``index``: the planned sessions since the slot before."""
        if index:
            for hosting in self.slots[index].history_before:
                self.clock.host(state, hosting.facility_id, hosting.day)
        self.clock.advance(state, self.slots[index].day)

    def _bound_after(self, index: int, state: _State, member_id: int) -> int:
        """The offer bound (see :meth:`_offer_bound`) once ``member_id`` hosts slot ``index``."""
        if index + 1 == len(self.slots):
            return 0
        child = state.copy()
        self.clock.host(child, member_id, self.slots[index].day)
        self._enter(index + 1, child)
        return self._offer_bound(index + 1, child)

    def _proven(self, start: _State, hosts: list[int]) -> bool:
        """True when the plan costs the lower bound of every plan (:attr:`target`) and on
        every date no host earlier in the queue could still reach that bound: then every
        other plan costs more, or as much and is behind in the queue where it differs."""
        if self.best_order[0] != self.target:
            return False
        state = start.copy()
        cost = NO_COST
        for index, host in enumerate(hosts):
            slot = self.slots[index]
            self._enter(index, state)
            rest = self.rest[index + 1] or NO_COST
            statics = {m.id: static for m, _n, static, _s in self.prepared[index]}
            positions = _positions(slot.candidates, state.turns, state.last)
            self.work += len(positions) + 10
            for other, position in positions.items():
                if position >= positions[host]:
                    continue
                bound = _add(_add(cost, self._step(index, state, other, statics[other])), rest)
                if bound > self.target:
                    continue
                extra = self._bound_after(index, state, other)
                if (*bound[:-1], bound[-1] + extra) <= self.target:
                    return False
            cost = _add(cost, self._step(index, state, host, statics[host]))
            self.clock.host(state, host, slot.day)
        return True

    def _step(self, index: int, state: _State, member_id: int, static: Cost) -> Cost:
        """The cost of ``member_id`` hosting slot ``index`` from ``state``."""
        slot = self.slots[index]
        mine = state.turns.get(member_id, 0)
        unfair = any(state.turns.get(i, 0) < mine for i in slot.takers)
        consecutive = member_id in (state.previous, slot.next_history_host)
        if not unfair and not consecutive:
            return static
        counts = list(static)
        counts[_RANK[FAIRNESS]] += unfair
        counts[_RANK[CONSECUTIVE]] += consecutive
        return tuple(counts)

    def run(self, start: _State) -> list[int]:
        """The best plan found, as host ids per slot."""
        self.start = start
        self.proven = False
        self.target = self.rest[0] or NO_COST
        if self.slots:
            first = start.copy()
            self.clock.advance(first, self.slots[0].day)
            extra = self._offer_bound(0, first)
            self.target = (*self.target[:-1], self.target[-1] + extra)
        for allowance in range(len(self.slots) + 1):
            self.cut_by_discrepancy = False
            self._visit(0, start, NO_COST, [], [], 0, allowance)
            if self._perfect() or not self.cut_by_discrepancy or self.work > SEARCH_BUDGET:
                break
        return self.best or []

    def _options(self, index: int, state: _State) -> list[tuple[Cost, int, Member, bool]]:
        """The choices on a slot, best first: (cost of the step, queue position, member,
        whether it is the first in the queue among the candidates at the slot's floor)."""
        slot = self.slots[index]
        turns = state.turns
        floor = min((turns.get(i, 0) for i in slot.takers), default=None)
        previous, following = state.previous, slot.next_history_host
        seen: set[tuple[object, ...]] = set()
        scored = []
        last = state.last
        to_come = [i for i in slot.takers if turns.get(i, 0) == floor]
        for m, name, static, signature in self.prepared[index]:
            mine = turns.get(m.id, 0)
            cost = static
            unfair = floor is not None and mine > floor
            if unfair or m.id == previous or m.id == following:
                counts = list(static)
                if unfair:
                    counts[_RANK[FAIRNESS]] += 1
                if m.id == previous or m.id == following:
                    counts[_RANK[CONSECUTIVE]] += 1
                cost = tuple(counts)
            profile = (cost, mine, m.id == previous, signature)
            row = [cost, mine, last.get(m.id, date.min), name, m.id, m, 0, profile, 0, static]
            scored.append(row)
        self.work += len(self.prepared[index]) + 10
        # The queue: fewest turns, least recently hosted, name, id (see queue_key).
        scored.sort(key=lambda row: row[1:5])
        lowest = self.floors[index]
        ideal = None
        for position, row in enumerate(scored):
            row[8] = position
            if ideal is None and row[9] == lowest:
                ideal = position
        # One member per profile: the one first in the queue.
        scored.sort(key=lambda row: row[:5])
        unique = []
        for row in scored:
            if row[7] not in seen:
                seen.add(row[7])
                unique.append(row)
        scored = unique
        if len(scored) > 1 and len(to_come) > 1:
            self._look_ahead(index, scored, to_come)
        # Estimated breaks (now, plus turns of this round that no longer fit), then the queue.
        scored.sort(key=lambda row: (_estimate(row[0], row[6]), *row[:5]))
        if len(scored) > 1 and self.stretch[index] > index + 1:
            self._offer_look_ahead(index, scored, state)
        return [(row[0], row[8], row[5], row[8] == ideal) for row in scored]

    def _offer_look_ahead(self, index: int, scored: list[list[Any]], state: _State) -> None:
        """Among the first few options as good as the first, put first the one that leaves
        the later slots of its stretch the most hosts that offered (see _offer_bound)."""
        first = _estimate(scored[0][0], scored[0][6])
        found = []
        for row in scored[:LOOK_AHEAD_OPTIONS]:
            estimate = _estimate(row[0], row[6])
            if estimate[: len(PRIORITY)] != first[: len(PRIORITY)]:
                break
            found.append((estimate[-1] + self._bound_after(index, state, row[4]), row))
        if len(found) > 1:
            found.sort(key=lambda pair: pair[0])  # stable: the queue decides between equals
            scored[: len(found)] = [row for _extra, row in found]

    def _look_ahead(self, index: int, scored: list[list[Any]], to_come: list[int]) -> None:
        """Set each option's shortfall: turns of this round it leaves without a date.

        Only the first few options of the cheapest kind, in queue order, are examined
        (until one leaves no shortfall); the others are assumed as good as the best of
        those, so that the queue decides between them.
        """
        cheapest = scored[0][0]
        found = []
        for row in scored[:LOOK_AHEAD_OPTIONS]:
            if row[0] != cheapest:
                break
            row[6] = self._shortfall(index, [i for i in to_come if i != row[4]])
            found.append(row[6])
            if not row[6]:
                break
        best = min(found)
        for row in scored[len(found) :]:
            row[6] = best

    def _shortfall(self, index: int, to_come: list[int]) -> int:
        """How many of the next slots cannot go to distinct members still owed a turn.

        A maximum bipartite matching (augmenting paths) between the next few slots and the
        members still to come in this round: each slot it cannot fill will break a rule.
        """
        first = index + 1
        count = min(len(to_come), len(self.slots) - first, LOOK_AHEAD_SLOTS)
        if count <= 0:
            return 0
        masks = self.free_mask
        options = [[i for i in to_come if masks[i] >> j & 1] for j in range(first, first + count)]
        self.work += len(to_come) * count // 8 + count
        return count - _matching(options)

    def _visit(
        self,
        index: int,
        state: _State,
        cost: Cost,
        path: list[int],
        positions: list[int],
        detours: int,
        allowance: int,
    ) -> bool:
        """Explore from slot ``index``; False when the search must stop. ``detours``
        counts the dates of the path whose host is not the first in the queue among the
        candidates at the floor."""
        if index == len(self.slots):
            if (cost, positions) < self.best_order:
                self.best_order = (cost, list(positions))
                self.best = list(path)
                self.best_detours = detours
                if cost == self.target and self.offering_anywhere:
                    self.proven = self._proven(self.start, self.best)
            return not self._perfect()
        slot = self.slots[index]
        self._enter(index, state)
        best_cost, best_positions = self.best_order
        extra = self._offer_bound(index, state)
        if extra:
            floor = _add(cost, self.rest[index] or NO_COST)
            bound = (*floor[:-1], floor[-1] + extra)
            if bound > best_cost or (bound == best_cost and positions > best_positions[:index]):
                return True
        options = list(enumerate(self._options(index, state)))
        if allowance and len(options) > 1:
            # Departures from the queue first: the earliest departure is tried soonest.
            options = options[1:] + options[:1]
        rest = self.rest[index + 1]
        for rank, (step, position, member, ideal) in options:
            total = _add(cost, step)
            bound = total if rest is None else _add(total, rest)
            if bound > best_cost:
                continue
            if bound == best_cost and [*positions, position] > best_positions[: index + 1]:
                continue
            if rank and not allowance:
                self.cut_by_discrepancy = True
                break
            if self.best is not None and self.work > SEARCH_BUDGET:
                return False
            child = state.copy()
            self.clock.host(child, member.id, slot.day)
            path.append(member.id)
            positions.append(position)
            going = self._visit(
                index + 1,
                child,
                total,
                path,
                positions,
                detours + (0 if ideal else 1),
                allowance - (1 if rank else 0),
            )
            path.pop()
            positions.pop()
            if not going:
                return False
            best_cost, best_positions = self.best_order
        return True


def _matching(options: Sequence[Collection[int]]) -> int:
    """The size of a maximum matching (augmenting paths) between positions and the members
    each position may take."""
    owner: dict[int, int] = {}  # member id -> position

    def place(position: int, visited: set[int]) -> bool:
        for member_id in options[position]:
            if member_id not in visited:
                visited.add(member_id)
                holder = owner.get(member_id)
                if holder is None or place(holder, visited):
                    owner[member_id] = position
                    return True
        return False

    return sum(1 for position in range(len(options)) if place(position, set()))


def _estimate(cost: Cost, shortfall: int) -> Cost:
    """A cost plus the turns out of order that a shortfall in this round will cause."""
    if not shortfall:
        return cost
    rank = _RANK[FAIRNESS]
    return (*cost[:rank], cost[rank] + shortfall, *cost[rank + 1 :])


def _broken(
    member: Member, day: date, unfair: bool, consecutive: bool, expected: int | None
) -> tuple[str, ...]:
    broken = []
    if unfair:
        broken.append(FAIRNESS)
    if consecutive:
        broken.append(CONSECUTIVE)
    if not member.fits(expected):
        broken.append(CAPACITY)
    if not member.has_contact:
        broken.append(CONTACT)
    if not member.willing:
        broken.append(NOT_WILLING)
    if not member.is_free_on(day):
        broken.append(UNAVAILABLE)
    return tuple(broken)


def _assignments(
    slots: list[_Slot],
    hosts: list[int],
    members: list[Member],
    history: list[Hosting],
    expected: int | None,
    clock: _Clock,
    offers: _Offers,
) -> list[Assignment]:
    """Replay the chosen hosts through the rules, with the reasons to show."""
    by_id = {m.id: m for m in members}
    state = _State({}, {}, None)
    first = slots[0].day if slots else None
    for hosting in _before(history, first):
        clock.host(state, hosting.facility_id, hosting.day)
    counts = Counter(h.facility_id for h in _before(history, first))
    planned_later = Counter(h.facility_id for h in history)
    out = []
    for index, (slot, host_id) in enumerate(zip(slots, hosts, strict=True)):
        if index:
            for hosting in slot.history_before:
                clock.host(state, hosting.facility_id, hosting.day)
                counts[hosting.facility_id] += 1
        clock.advance(state, slot.day)
        member = by_id[host_id]
        broken = _broken(
            member,
            slot.day,
            _unfair(host_id, state.turns, slot.takers),
            host_id in (state.previous, slot.next_history_host),
            expected,
        )
        if slot.fixed:
            reason = Reason(REASON_CHOSEN, state.last.get(host_id), counts[host_id])
        elif counts[host_id]:
            reason = Reason(REASON_LAST, state.last.get(host_id), counts[host_id])
        elif planned_later[host_id]:
            later = [h.day for h in history if h.facility_id == host_id and h.day > slot.day]
            reason = Reason(REASON_PLANNED_ONLY, min(later, default=None), planned_later[host_id])
        else:
            reason = Reason(REASON_NEVER)
        position = _positions(slot.candidates, state.turns, state.last)[host_id]
        out.append(
            Assignment(
                slot.day,
                host_id,
                reason,
                broken,
                slot.fixed,
                position,
                offers.offered(host_id, slot.day),
            )
        )
        clock.host(state, host_id, slot.day)
        counts[host_id] += 1
    return out


def _skip_reason(request: Request, day: date, taken: set[date]) -> Skip | None:
    if day < request.today:
        return Skip(day, SKIP_PAST)
    if day > request.today + timedelta(days=HORIZON_DAYS):
        return Skip(day, SKIP_TOO_FAR)
    if day in request.dropped:
        return Skip(day, SKIP_DROPPED)
    if day in request.holidays:
        return Skip(day, SKIP_HOLIDAY, request.holidays[day])
    for period in request.school_holidays:
        if day in period:
            return Skip(day, SKIP_SCHOOL_HOLIDAY, period.label)
    for period in request.blackouts:
        if day in period:
            return Skip(day, SKIP_BLACKOUT, period.label)
    if day in taken:
        return Skip(day, SKIP_TAKEN)
    return None


# --- what the preview tells about the plan ----------------------------------------------------


def passed_over(request: Request, result: Plan) -> list[PassedOver]:
    """Every current member without a turn in the plan, with the reason.

    Problems first (does not host, no contact person, room too small, closed or unable to
    come (the poll's "kan niet") on every date), then members with nothing wrong: they
    had their turn this round, their membership ends before the series does (so before
    their turn), or their turn comes after this series.
    """
    hosting = {a.facility_id for a in result.assignments}
    days = [a.day for a in result.assignments]
    expected = request.expected_attendance
    state = rounds_on(request.members, request.history, request.today, expected)
    out = []
    for m in sorted(_with_poll(request), key=lambda m: (m.name.casefold(), m.id)):
        if not m.is_member_on(request.today) or m.id in hosting:
            continue
        member_days = [d for d in days if m.is_member_on(d)]
        if not m.willing:
            code = PASSED_NOT_WILLING
        elif not m.has_contact:
            code = PASSED_NO_CONTACT
        elif not m.fits(expected):
            code = PASSED_TOO_SMALL
        elif member_days and not any(m.is_free_on(d) for d in member_days):
            code = PASSED_CLOSED
        elif state.turns.get(m.id, 0) > 0:
            code = PASSED_HAD_TURN
        elif days and m.left_on is not None and m.left_on <= days[-1]:
            code = PASSED_LEAVES  # its membership ends before the series does
        else:
            code = PASSED_LATER
        out.append(PassedOver(m.id, code))
    problems = [p for p in out if p.is_problem]
    return problems + [p for p in out if not p.is_problem]


def too_small(members: Iterable[Member], day: date, expected: int | None) -> list[Member]:
    """Willing current members whose room is too small for the expected attendance."""
    return sorted(
        (m for m in members if m.willing and m.is_member_on(day) and not m.fits(expected)),
        key=lambda m: (m.name.casefold(), m.id),
    )


# --- conflicts after a change -----------------------------------------------------------------


@dataclass(frozen=True)
class Booking:
    """A planned session as the conflict check sees it: which facility hosts on which day."""

    session_id: int
    day: date
    facility_id: int
    declined: bool = False  # the host answered "no, we cannot" for this session


def conflicts(
    bookings: Iterable[Booking],
    members: Mapping[int, Member],
    blackouts: Iterable[Period],
    expected: int | None,
) -> dict[int, tuple[str, ...]]:
    """Planned sessions whose host is no longer a valid choice, with what is wrong.

    ``members`` holds the network's members by facility id (former ones included); a
    host missing from it is no member. Only the facts the host can change are checked:
    closed or a blackout on the date, no longer hosting, membership ended, no active
    contact person, a room too small for the expected attendance, and the host's own
    "no, we cannot" for the session.
    """
    blackouts = list(blackouts)
    found: dict[int, tuple[str, ...]] = {}
    for booking in bookings:
        problems = []
        member = members.get(booking.facility_id)
        if member is None or not member.is_member_on(booking.day):
            problems.append(CONFLICT_NOT_MEMBER)
        if member is not None:
            if not member.is_free_on(booking.day):
                problems.append(CONFLICT_UNAVAILABLE)
            if not member.willing:
                problems.append(CONFLICT_NOT_WILLING)
            if not member.has_contact:
                problems.append(CONFLICT_NO_CONTACT)
            if not member.fits(expected):
                problems.append(CONFLICT_TOO_SMALL)
        if any(booking.day in period for period in blackouts):
            problems.append(CONFLICT_BLACKOUT)
        if booking.declined:
            problems.append(CONFLICT_DECLINED)
        if problems:
            found[booking.session_id] = tuple(problems)
    return found
