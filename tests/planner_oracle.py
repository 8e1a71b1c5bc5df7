"""An independent reading of the planner's rules, for the tests: no code shared with rotation.py.

``evaluate`` marks the rules each new session breaks over the final timeline (history and
plan together), walking the rounds as docs/planning.md defines them; ``queue_positions`` says
where each new host stood in the queue on its date. ``best_plan`` tries every choice of
host for every date and returns the one the rules prefer: the fewest breaks, rule by rule,
then the fewest hosts on a date they did not offer (the season poll), then the queue date
by date; ``brute_force`` returns that plan's cost.

The poll (issue 22): a facility that said it cannot come on a date is closed that day; on
a date where at least one facility offered to host, a host that did not offer counts once
in the cost's last element, after every rule (it is a preference, not a broken rule).
"""

from __future__ import annotations

import itertools
from datetime import date, timedelta

# Most important first: plans compare rule by rule, then by the hosts that did not offer.
PRIORITY = ("unavailable", "not_willing", "contact", "capacity", "consecutive", "fairness")


def _in_network(member, day: date) -> bool:
    return (member.joined_on is None or member.joined_on <= day) and (
        member.left_on is None or day <= member.left_on
    )


def _closed(request, member, day: date) -> bool:
    """Closed that day, or said "kan niet" for the date in the poll."""
    if day in request.cannot_come.get(member.id, frozenset()):
        return True
    return any(p.start <= day <= p.end for p in member.unavailable)


def _takes_turns(member, day: date, expected: int | None) -> bool:
    fits = expected is None or member.capacity is None or member.capacity >= expected
    return _in_network(member, day) and member.willing and member.has_contact and fits


def _owed(members, day: date, expected: int | None) -> set[int]:
    owed = {m.id for m in members if _takes_turns(m, day, expected)}
    if owed:
        return owed
    return {m.id for m in members if m.willing and _in_network(m, day)}


def _moments(members) -> list[date]:
    """Days on which the members taking turns may change: someone joins, or the day after
    someone leaves. A round can end on such a day without a session."""
    found = set()
    for m in members:
        if m.joined_on is not None:
            found.add(m.joined_on)
        if m.left_on is not None:
            found.add(m.left_on + timedelta(days=1))
    return sorted(found)


def _walk(request, plan: list[tuple[date, int]]):
    """Walk the timeline; yield, for each new session, its index in the plan, its day and
    host, the turns of the running round, the members owed a turn, the last hosting days,
    and the sessions just before and after it."""
    expected = request.expected_attendance
    timeline = sorted(
        [(h.day, h.facility_id, None) for h in request.history]
        + [(d, f, i) for i, (d, f) in enumerate(plan)],
        key=lambda row: row[0],
    )
    moments = _moments(request.members)
    hosted_this_round: dict[int, int] = {}
    last: dict[int, date] = {}

    def end_rounds(day: date) -> set[int]:
        owed = _owed(request.members, day, expected)
        while owed and all(hosted_this_round.get(i, 0) > 0 for i in owed):
            for key in hosted_this_round:
                hosted_this_round[key] = max(0, hosted_this_round[key] - 1)
        return owed

    previous_day = None
    for index, (day, host, position) in enumerate(timeline):
        for moment in moments:
            if (previous_day is None or previous_day < moment) and moment <= day:
                end_rounds(moment)
        owed = end_rounds(day)
        if position is not None:
            before = timeline[index - 1] if index else None
            after = timeline[index + 1] if index + 1 < len(timeline) else None
            yield position, day, host, dict(hosted_this_round), owed, dict(last), before, after
        hosted_this_round[host] = hosted_this_round.get(host, 0) + 1
        last[host] = day
        end_rounds(day)
        previous_day = day


def evaluate(request, plan: list[tuple[date, int]]) -> list[tuple[str, ...]]:
    """The rules each planned session breaks, in plan order."""
    by_id = {m.id: m for m in request.members}
    expected = request.expected_attendance
    marks: dict[int, tuple[str, ...]] = {}
    for position, day, host, hosted, owed, _last, before, after in _walk(request, plan):
        member = by_id[host]
        broken = []
        # Hosted in this round already while someone taking turns has not.
        if hosted.get(host, 0) > 0 and any(hosted.get(i, 0) == 0 for i in owed):
            broken.append("fairness")
        if (before is not None and before[1] == host) or (
            after is not None and after[2] is None and after[1] == host
        ):
            broken.append("consecutive")
        if not (expected is None or member.capacity is None or member.capacity >= expected):
            broken.append("capacity")
        if not member.has_contact:
            broken.append("contact")
        if not member.willing:
            broken.append("not_willing")
        if _closed(request, member, day):
            broken.append("unavailable")
        marks[position] = tuple(broken)
    return [marks[i] for i in range(len(plan))]


def offered(request, plan: list[tuple[date, int]]) -> list[bool | None]:
    """Per planned session: None when no facility offered to host on its date, else
    whether its host is one of those that did."""
    found = []
    for day, host in plan:
        offering = {i for i, days in request.offers.items() if day in days}
        found.append(host in offering if offering else None)
    return found


def queue_positions(request, plan: list[tuple[date, int]]) -> list[int]:
    """Where each new host stood in the queue on its date, among those who could host:
    fewest turns this round, least recently hosted, then by name and id."""
    by_id = {m.id: m for m in request.members}
    found: dict[int, int] = {}
    for position, day, host, hosted, _owed_now, last, _b, _a in _walk(request, plan):
        queue = sorted(
            candidates(request, day),
            key=lambda i: (
                hosted.get(i, 0),
                last.get(i, date.min),
                by_id[i].name.casefold(),
                i,
            ),
        )
        found[position] = queue.index(host)
    return [found[i] for i in range(len(plan))]


def cost(marks: list[tuple[str, ...]], offers: list[bool | None]) -> tuple[int, ...]:
    """Breaks of each rule, most important first, then the hosts on a date they did not
    offer while another facility did: what the planner minimises."""
    rules = tuple(sum(rule in m for m in marks) for rule in PRIORITY)
    return (*rules, sum(1 for o in offers if o is False))


def plan_cost(request, plan: list[tuple[date, int]]) -> tuple[int, ...]:
    """The cost of a plan given as (date, host) pairs."""
    return cost(evaluate(request, plan), offered(request, plan))


def candidates(request, day: date) -> list[int]:
    """Who may host on a date: the facilitator's fixed host, else free willing members."""
    by_id = {m.id: m for m in request.members}
    fixed = by_id.get(request.fixed_hosts.get(day, -1))
    if fixed is not None and _in_network(fixed, day):
        return [fixed.id]
    return [
        m.id
        for m in request.members
        if m.willing and _in_network(m, day) and not _closed(request, m, day)
    ]


def best_plan(request, days: list[date]) -> list[int]:
    """The hosts of the best plan over every possible choice of hosts for the given dates:
    the lowest cost, then, among plans as good, the one whose host is earlier in the queue
    at the first date where they differ."""
    options = [candidates(request, d) for d in days]
    best = None
    for hosts in itertools.product(*options):
        plan = list(zip(days, hosts, strict=True))
        key = (plan_cost(request, plan), queue_positions(request, plan))
        if best is None or key < best[0]:
            best = (key, list(hosts))
    return best[1] if best is not None else []


def brute_force(request, days: list[date]) -> tuple[int, ...]:
    """The lowest cost over every possible choice of hosts for the given dates."""
    options = [candidates(request, d) for d in days]
    best = None
    for hosts in itertools.product(*options):
        found = plan_cost(request, list(zip(days, hosts, strict=True)))
        if best is None or found < best:
            best = found
            if not any(best):
                break
    return best if best is not None else (0,) * (len(PRIORITY) + 1)
